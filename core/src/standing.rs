//! Where a target stands, as its state says it now: what `fast-autoscaler
//! status` shows of it, beside its counts. Pure: the state, the policy and the
//! time in, plain data out.

use serde::Serialize;

use crate::pause::Pause;
use crate::policy::cooldown::remaining_ms;
use crate::policy::Action;
use crate::settings::PolicySettings;
use crate::state::Stored;

/// What a target's state says of it at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// The last action claimed for it, with its reason and how long ago.
    pub last_action: Option<LastAction>,
    /// Seconds until a scale-in may happen (0: now).
    pub scale_in_in_s: u64,
    /// Seconds until a scale-out may happen (0: now; an emergency never waits).
    pub scale_out_in_s: u64,
    /// An operator's pause that holds now.
    pub pause: Option<Pause>,
    /// Another worker's claim being applied now, said as a worker standing
    /// down says it.
    pub claim_in_progress: Option<String>,
    /// Why the state cannot be trusted (then scale-in is denied until the
    /// worker replaces it).
    pub problem: Option<String>,
}

/// The last claimed action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastAction {
    pub action: Action,
    pub from: u32,
    pub to: u32,
    pub age_s: u64,
    pub reason: String,
}

/// Where the target of `stored` stands at `now_ms`, under `policy`, its
/// desired count `desired` where it was read (a claim is in progress only
/// while the target still shows the count it started from).
pub fn standing(
    stored: &Stored,
    policy: &PolicySettings,
    desired: Option<u32>,
    now_ms: u64,
) -> Standing {
    let current = desired.unwrap_or(u32::MAX);
    let (in_ms, out_ms) = remaining_ms(policy, stored.history(current, now_ms), now_ms);
    let (last_action, problem) = match stored {
        Stored::Found { state, .. } => (state.last_action.as_ref(), None),
        Stored::Corrupt { problem, .. } => (None, Some(problem.clone())),
        Stored::Missing => (None, None),
    };
    Standing {
        last_action: last_action.map(|a| LastAction {
            action: a.action,
            from: a.from,
            to: a.to,
            age_s: now_ms.saturating_sub(a.at_ms) / 1000,
            reason: a.reason.clone(),
        }),
        scale_in_in_s: in_ms.div_ceil(1000),
        scale_out_in_s: out_ms.div_ceil(1000),
        pause: stored.active_pause(now_ms).cloned(),
        claim_in_progress: desired
            .and_then(|d| stored.claim_in_progress(d, now_ms))
            .map(|claim| claim.in_progress_reason(now_ms)),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{ActionRecord, ServiceState};
    use crate::target::TargetId;

    fn policy() -> PolicySettings {
        PolicySettings {
            scale_in_cooldown_s: 120,
            scale_out_cooldown_s: 60,
            ..PolicySettings::default()
        }
    }

    #[test]
    fn a_targets_standing_from_its_state() {
        let state =
            ServiceState::new(&TargetId::new("ec2_asg", "", "gpu")).with_action(ActionRecord {
                action: Action::ScaleOut,
                from: 2,
                to: 5,
                at_ms: 100_000,
                tick_due_ms: 100_000,
                reason: "surge".into(),
                lease_until_ms: Some(110_000),
            });
        let stored = Stored::Found {
            state,
            etag: "e".into(),
        };
        // 30 s after the scale-out, the target at 5: cooldowns running, no claim.
        let now = 130_000;
        let s = standing(&stored, &policy(), Some(5), now);
        let last = s.last_action.as_ref().expect("an action");
        assert_eq!((last.from, last.to, last.age_s), (2, 5, 30));
        assert_eq!((s.scale_in_in_s, s.scale_out_in_s), (90, 30));
        assert_eq!(
            (s.pause, s.claim_in_progress, s.problem),
            (None, None, None)
        );
        // 5 s after it, the target still at 2: the claim is being applied.
        let s = standing(&stored, &policy(), Some(2), 105_000);
        assert!(s.claim_in_progress.is_some_and(|c| c.contains("2 → 5")));
        // Never scaled: nothing waits.
        let fresh = standing(&Stored::Missing, &policy(), Some(3), now);
        assert_eq!((fresh.last_action, fresh.scale_in_in_s), (None, 0));
        // A state that cannot be trusted denies scale-in and says why.
        let corrupt = Stored::Corrupt {
            etag: "e".into(),
            problem: "not a state object".into(),
        };
        let s = standing(&corrupt, &policy(), Some(3), now);
        assert_eq!(s.scale_in_in_s, 120);
        assert_eq!(s.problem.as_deref(), Some("not a state object"));
    }
}
