//! Per-service scaling state, kept as one JSON object in S3.
//!
//! # Why conditional writes
//!
//! SQS delivers at least once and several worker instances may run at once, so two
//! workers can decide the same action at the same moment. The state object is the
//! lock: a worker first *claims* the action by writing the state with
//! `If-Match: <etag it read>` (or `If-None-Match: *` when creating), and only calls
//! UpdateService when the claim succeeds. A 412 means another worker claimed first;
//! the loser re-reads and never acts twice.
//!
//! Writing the intent before acting also covers a crash between the write and
//! UpdateService: the next tick sees the cooldown already recorded and re-derives
//! the count from ECS, so it neither double-scales nor loses the cooldown.
//!
//! # Leases
//!
//! A claim ECS has not seen yet (desiredCount is still its `from`) is either in
//! progress, its UpdateService on the way, or left by a worker that crashed. The
//! claim carries a lease, the claimant's tick deadline plus a margin for a call
//! still in flight: until it expires, other workers stand down and say so; after
//! it, they take the claim over and redo it. A claimant whose UpdateService failed
//! releases its lease at once, so the next tick redoes the change.
//!
//! Everything here is pure: the worker's `store` module is the thin S3 adapter
//! that reads and conditionally writes these objects, and the simulator keeps
//! them in memory.

use serde::{Deserialize, Serialize};

use crate::pause::Pause;
use crate::policy::{Action, History, Memory};
use crate::target::TargetId;

/// The state format version this build writes and reads.
pub const STATE_VERSION: u32 = 1;

/// How far in the future a recorded time may be before the state is distrusted.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// What the autoscaler remembers about one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    pub version: u32,
    /// Which target: an ECS service as `cluster` and `service`, as every
    /// release wrote it (see [`crate::target`]).
    #[serde(flatten)]
    pub target: TargetId,
    pub last_scale_out_ms: Option<u64>,
    pub last_scale_in_ms: Option<u64>,
    pub scale_out_count: u64,
    pub scale_in_count: u64,
    /// Due time of the newest tick that considered an action for this service.
    pub last_tick_due_ms: Option<u64>,
    /// When an unreadable state was replaced by this one. It counts as an action
    /// for the cooldown, so scale-in resumes one cooldown after the repair.
    #[serde(default)]
    pub repaired_ms: Option<u64>,
    pub last_action: Option<ActionRecord>,
    /// What history-keeping policies remember between ticks.
    #[serde(default)]
    pub memory: Memory,
    /// An operator's pause (see [`crate::pause`]); an expired one is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
}

/// The last scaling action claimed for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub action: Action,
    pub from: u32,
    pub to: u32,
    pub at_ms: u64,
    pub tick_due_ms: u64,
    pub reason: String,
    /// Until when the claimant may still be applying it (see the module docs).
    /// Claims written before leases existed have none and count as expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until_ms: Option<u64>,
}

/// An unapplied claim, as another worker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unapplied<'a> {
    /// Its claimant may still be applying it: stand down.
    InProgress(&'a ActionRecord),
    /// Its lease has expired: the claimant crashed or gave up; redo it.
    Abandoned(&'a ActionRecord),
}

impl ActionRecord {
    /// Why another worker stands down while this claim is in progress.
    pub fn in_progress_reason(&self, now_ms: u64) -> String {
        format!(
            "stood down: another worker claimed {} {} → {} {} ms ago and holds it for {} ms more (its UpdateService may still be on the way)",
            self.action,
            self.from,
            self.to,
            now_ms.saturating_sub(self.at_ms),
            self.lease_until_ms.unwrap_or(0).saturating_sub(now_ms),
        )
    }
}

impl ServiceState {
    /// A state with no history.
    pub fn new(target: &TargetId) -> Self {
        ServiceState {
            version: STATE_VERSION,
            target: target.clone(),
            last_scale_out_ms: None,
            last_scale_in_ms: None,
            scale_out_count: 0,
            scale_in_count: 0,
            last_tick_due_ms: None,
            repaired_ms: None,
            last_action: None,
            memory: Memory::default(),
            pause: None,
        }
    }

    /// Parses a stored object; any problem is described, never panicked on.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let state: ServiceState =
            serde_json::from_slice(bytes).map_err(|e| format!("not a state object: {e}"))?;
        if state.version != STATE_VERSION {
            return Err(format!(
                "version {} (this build reads version {STATE_VERSION})",
                state.version
            ));
        }
        Ok(state)
    }

    /// The time of the last action in either direction (or of the last repair).
    pub fn last_action_ms(&self) -> Option<u64> {
        self.last_scale_out_ms
            .max(self.last_scale_in_ms)
            .max(self.repaired_ms)
    }

    /// A fresh state replacing an unreadable one at `now_ms`.
    pub fn repaired(target: &TargetId, now_ms: u64, tick_due_ms: u64) -> Self {
        ServiceState {
            repaired_ms: Some(now_ms),
            last_tick_due_ms: Some(tick_due_ms),
            ..ServiceState::new(target)
        }
    }

    /// A problem with timestamps from the future, which would stretch a cooldown
    /// indefinitely (clock skew, or an object written by hand).
    pub fn future_timestamp(&self, now_ms: u64) -> Option<String> {
        self.last_action_ms()
            .filter(|t| *t > now_ms.saturating_add(MAX_CLOCK_SKEW_MS))
            .map(|t| format!("its last action at {t} ms is more than {MAX_CLOCK_SKEW_MS} ms in the future (now {now_ms} ms)"))
    }

    /// The last claimed action, if ECS shows it was never applied (desiredCount is
    /// still the count it started from), and whether its lease still holds at `now_ms`.
    pub fn unapplied_action(&self, current_desired: u32, now_ms: u64) -> Option<Unapplied<'_>> {
        let claim = self
            .last_action
            .as_ref()
            .filter(|a| a.action.changes_count() && a.from != a.to && a.from == current_desired)?;
        Some(match claim.lease_until_ms {
            Some(until) if until > now_ms => Unapplied::InProgress(claim),
            _ => Unapplied::Abandoned(claim),
        })
    }

    /// This state with its claim's lease released at `now_ms`: the claimant knows
    /// its UpdateService failed, so the next tick need not wait to redo it.
    pub fn with_lease_released(&self, now_ms: u64) -> Self {
        let mut next = self.clone();
        if let Some(claim) = next.last_action.as_mut() {
            claim.lease_until_ms = Some(now_ms);
        }
        next
    }

    /// This state with an operator's change claimed (a pause that sets a count):
    /// the claim and its lease, so one worker of many applies it, but no cooldown
    /// starts. The autoscaler did not decide it, so once the pause ends the
    /// policy decides at once, as if the count had been set by hand.
    pub fn with_operator_action(&self, record: ActionRecord) -> Self {
        let mut next = self.clone();
        next.version = STATE_VERSION;
        next.last_tick_due_ms = Some(record.tick_due_ms.max(self.last_tick_due_ms.unwrap_or(0)));
        next.last_action = Some(record);
        next
    }

    /// This state with an action recorded.
    pub fn with_action(&self, record: ActionRecord) -> Self {
        let mut next = self.clone();
        next.version = STATE_VERSION;
        match record.action {
            Action::ScaleOut => {
                next.last_scale_out_ms = Some(record.at_ms);
                next.scale_out_count += 1;
            }
            Action::ScaleIn => {
                next.last_scale_in_ms = Some(record.at_ms);
                next.scale_in_count += 1;
            }
            Action::None | Action::Hold => {}
        }
        next.last_tick_due_ms = Some(record.tick_due_ms.max(self.last_tick_due_ms.unwrap_or(0)));
        next.last_action = Some(record);
        next
    }
}

/// What a conditional write of a state object came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written; the object's new tag, for a later conditional write.
    Written { etag: String },
    /// Another writer changed the object since it was read.
    Conflict,
}

/// What reading a service's state object found.
// Short-lived (one per service and tick): boxing the state would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Stored {
    /// No object yet.
    Missing,
    Found {
        state: ServiceState,
        etag: String,
    },
    /// An object that does not parse, or whose times lie in the future. Scale-in is
    /// denied and the worker replaces it (see [`ServiceState::repaired`]).
    Corrupt {
        etag: String,
        problem: String,
    },
}

impl Stored {
    /// A claim another worker is applying right now, at `now_ms`, given the
    /// service's desiredCount: while its lease holds, this worker stands down.
    pub fn claim_in_progress(&self, current_desired: u32, now_ms: u64) -> Option<&ActionRecord> {
        match self {
            Stored::Found { state, .. } => match state.unapplied_action(current_desired, now_ms) {
                Some(Unapplied::InProgress(claim)) => Some(claim),
                _ => None,
            },
            _ => None,
        }
    }

    /// The history the cooldown check needs, given the service's desiredCount now.
    ///
    /// A worker claims an action in the state before calling UpdateService. If it
    /// crashed (or UpdateService failed) in between, the state records an action
    /// ECS never saw: desiredCount is still the action's `from`. Once the claim's
    /// lease has expired, that action's time is left out, so the next tick can make
    /// the decision again instead of waiting a cooldown for a change that never
    /// happened. Counts are absolute, so redoing it can never double-scale.
    pub fn history(&self, current_desired: u32, now_ms: u64) -> History {
        match self {
            Stored::Missing => History::Fresh,
            Stored::Found { state, .. } => {
                let (mut last_out, mut last_in) = (state.last_scale_out_ms, state.last_scale_in_ms);
                if let Some(Unapplied::Abandoned(claimed)) =
                    state.unapplied_action(current_desired, now_ms)
                {
                    match claimed.action {
                        Action::ScaleOut if last_out == Some(claimed.at_ms) => last_out = None,
                        Action::ScaleIn if last_in == Some(claimed.at_ms) => last_in = None,
                        _ => {}
                    }
                }
                History::Known {
                    last_action_ms: last_out.max(last_in).max(state.repaired_ms),
                    last_scale_out_ms: last_out,
                }
            }
            Stored::Corrupt { .. } => History::Unreadable,
        }
    }

    /// The operator's pause, if one holds at `now_ms`.
    pub fn active_pause(&self, now_ms: u64) -> Option<&Pause> {
        match self {
            Stored::Found { state, .. } => state.pause.as_ref().filter(|p| p.is_active(now_ms)),
            _ => None,
        }
    }

    /// The policy memory kept in the state (empty when missing or corrupt).
    pub fn memory(&self) -> Memory {
        match self {
            Stored::Found { state, .. } => state.memory.clone(),
            _ => Memory::default(),
        }
    }

    /// The newest tick already evaluated for the service, if the state records one.
    pub fn last_tick_due_ms(&self) -> Option<u64> {
        match self {
            Stored::Found { state, .. } => state.last_tick_due_ms,
            _ => None,
        }
    }

    /// The state to build the next one on (a corrupt one starts afresh).
    pub fn base(&self, target: &TargetId) -> ServiceState {
        match self {
            Stored::Found { state, .. } => state.clone(),
            _ => ServiceState::new(target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs() -> TargetId {
        TargetId::ecs_service("c", "s")
    }

    /// A state object exactly as the release before targets wrote it: read
    /// with its cooldowns, claim, lease and pause, and written back in the
    /// same form, so a rollback reads it too.
    #[test]
    fn a_state_written_before_targets_is_read_whole_and_written_back_alike() {
        let old = r#"{"version":1,"cluster":"prod","service":"workers","last_scale_out_ms":1000,"last_scale_in_ms":null,"scale_out_count":3,"scale_in_count":0,"last_tick_due_ms":900,"repaired_ms":null,"last_action":{"action":"scale_out","from":2,"to":5,"at_ms":1000,"tick_due_ms":900,"reason":"surge","lease_until_ms":9000},"memory":{"samples":[]},"pause":{"since_ms":500,"until_ms":99000,"at":4,"note":"by ops"}}"#;
        let state = ServiceState::parse(old.as_bytes()).expect("an old state parses");
        assert_eq!(state.target, TargetId::ecs_service("prod", "workers"));
        assert_eq!(state.last_scale_out_ms, Some(1000));
        assert_eq!(
            state.last_action.as_ref().and_then(|a| a.lease_until_ms),
            Some(9000)
        );
        assert_eq!(state.pause.as_ref().and_then(|p| p.at), Some(4));
        let written: serde_json::Value = serde_json::to_value(&state).unwrap();
        assert_eq!(written["cluster"], "prod");
        assert_eq!(written["service"], "workers");
        assert!(written.get("target_type").is_none(), "{written}");
    }

    #[test]
    fn state_round_trips_and_bad_objects_are_described() {
        let state = ServiceState::new(&cs()).with_action(ActionRecord {
            action: Action::ScaleOut,
            from: 2,
            to: 4,
            at_ms: 1_000,
            tick_due_ms: 900,
            reason: "surge".into(),
            lease_until_ms: None,
        });
        assert_eq!(state.scale_out_count, 1);
        assert_eq!(state.last_action_ms(), Some(1_000));
        let bytes = serde_json::to_vec(&state).unwrap();
        assert_eq!(ServiceState::parse(&bytes).unwrap(), state);
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"version\": 2}",
            &bytes[..bytes.len() / 2],
        ] {
            assert!(
                ServiceState::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut future = state.clone();
        future.version = 7;
        let err = ServiceState::parse(&serde_json::to_vec(&future).unwrap()).unwrap_err();
        assert!(err.contains("version 7"), "{err}");

        // Times from the future are distrusted beyond the allowed skew.
        let last_in_at = |ms| ServiceState {
            last_scale_in_ms: Some(ms),
            ..ServiceState::new(&cs())
        };
        let now = 1_000_000;
        assert_eq!(last_in_at(now).future_timestamp(now), None);
        assert_eq!(
            last_in_at(now + MAX_CLOCK_SKEW_MS).future_timestamp(now),
            None
        );
        let problem = last_in_at(now + MAX_CLOCK_SKEW_MS + 1).future_timestamp(now);
        assert!(problem.is_some_and(|p| p.contains("future")));

        // A repair counts as the last action, so the cooldown runs from it.
        let repaired = ServiceState::repaired(&cs(), 7_000, 6_000);
        assert_eq!(
            (repaired.last_action_ms(), repaired.scale_out_count),
            (Some(7_000), 0)
        );
    }

    #[test]
    fn a_claimed_action_ecs_never_saw_waits_for_its_lease_then_starts_no_cooldown() {
        let before = ServiceState {
            last_scale_in_ms: Some(1_000),
            ..ServiceState::new(&cs())
        };
        let claimed = before.with_action(ActionRecord {
            action: Action::ScaleOut,
            from: 4,
            to: 9,
            at_ms: 50_000,
            tick_due_ms: 49_000,
            reason: "surge".into(),
            lease_until_ms: Some(60_000),
        });
        let stored = Stored::Found {
            state: claimed.clone(),
            etag: "e".into(),
        };
        // ECS still at 4 within the lease: the claimant may be applying it.
        let claim = stored.claim_in_progress(4, 55_000).expect("in progress");
        let reason = claim.in_progress_reason(55_000);
        assert!(
            reason.starts_with("stood down")
                && reason.contains("4 → 9")
                && reason.contains("5000 ms ago")
                && reason.contains("5000 ms more"),
            "{reason}"
        );
        // After the lease: the worker crashed before UpdateService; redo, no cooldown.
        assert_eq!(stored.claim_in_progress(4, 60_000), None);
        assert_eq!(
            stored.history(4, 60_000),
            History::Known {
                last_action_ms: Some(1_000),
                last_scale_out_ms: None
            }
        );
        // ECS at 9: the action landed and its cooldown runs, lease or not.
        assert_eq!(stored.claim_in_progress(9, 55_000), None);
        assert_eq!(
            stored.history(9, 55_000),
            History::Known {
                last_action_ms: Some(50_000),
                last_scale_out_ms: Some(50_000)
            }
        );
        // A claim from before leases counts as expired.
        let mut legacy = claimed.clone();
        if let Some(claim) = legacy.last_action.as_mut() {
            claim.lease_until_ms = None;
        }
        let legacy = Stored::Found {
            state: legacy,
            etag: "e".into(),
        };
        assert_eq!(legacy.claim_in_progress(4, 50_001), None);
        // A released lease (the claimant saw its UpdateService fail) ends at once.
        let released = Stored::Found {
            state: claimed.with_lease_released(51_000),
            etag: "e".into(),
        };
        assert_eq!(released.claim_in_progress(4, 51_000), None);
    }
}
