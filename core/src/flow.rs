//! The decision protocol: policy → state → cooldown, pure.
//!
//! Every driver decides through this module, so there is one chain and the
//! simulator's figures are about the product:
//!
//! 1. [`propose`]: the policy's recommendation from the reading, with the memory
//!    kept in the state (when the state was read for it). Most ticks end here, as
//!    [`Step::Done`].
//! 2. [`Pending::settle`]: only for a proposed change, or a policy that keeps
//!    history ([`Step::NeedsState`]), the state decides: a tick already evaluated
//!    stays, another worker's claim in progress makes this one stand down, the
//!    cooldowns apply, and the [`Effect`] says what to write before anything is
//!    done.
//!
//! In the sans-IO style: time comes in as an argument ([`At`], the observation's
//! `now_ms`), and effects go out as values ([`Effect`]). The I/O (reading the
//! state, the conditional write, UpdateService) stays in the caller: the worker
//! does it against S3 and ECS. A caller whose state is already in memory (the
//! simulator, the CLI's `decide`) runs the whole protocol with [`decide`].

use crate::pause::Pause;
use crate::policy::{self, Decision, Memory, Observation};
use crate::settings::PolicySettings;
use crate::state::{ActionRecord, ServiceState, Stored};
use crate::target::TargetId;

/// What [`propose`] answers.
// Short-lived (one per service and tick): boxing would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Step<'p> {
    /// Decided without the state: nothing is written, nothing is done.
    Done(Decision),
    /// The state decides: read it (unless it was passed to [`propose`]), then
    /// [`Pending::settle`].
    NeedsState(Pending<'p>),
}

/// A proposal that waits for the service's state.
#[derive(Debug, Clone)]
pub struct Pending<'p> {
    policy: &'p PolicySettings,
    proposal: Decision,
    /// The memory to keep, if the policy keeps history.
    memory: Memory,
}

/// Step 1. `stored` is the state when it was read already (policies with history
/// read it on every tick); `None` otherwise.
pub fn propose<'p>(
    policy: &'p PolicySettings,
    observed: &Observation<'_>,
    stored: Option<&Stored>,
    tick_due_ms: u64,
) -> Step<'p> {
    let memory = stored.map(Stored::memory).unwrap_or_default();
    let now_ms = observed.now_ms;
    let pause = stored.and_then(|s| s.active_pause(now_ms));
    if let Some(seen) = stored.and_then(|s| already_evaluated(s, tick_due_ms)) {
        return Step::Done(noted(pause, Decision::stay(observed.current, seen), now_ms));
    }
    let (decision, memory) = policy::recommend_with_memory(policy, observed, &memory);
    // A pause overrides the policy (and its cooldowns), but the policy still runs:
    // its proposal goes in the reason and its memory keeps learning.
    let decision = match pause {
        Some(pause) => pause.apply(decision, observed.current, now_ms),
        None => decision,
    };
    // Nothing, not even an operator's count, leaves the target's own limits.
    let decision = observed.limits.bound(decision, observed.current);
    // A quiet tick of a policy without history stops here and costs no state access.
    if !decision.action.changes_count() && !policy.needs_memory() {
        return Step::Done(decision);
    }
    Step::NeedsState(Pending {
        policy,
        proposal: decision,
        memory,
    })
}

/// The whole protocol, for a caller whose state is at hand: the simulator keeps
/// it in memory, the CLI's `decide` has none ([`Stored::Missing`]). As the
/// worker, which reads every state on every tick, it proposes with the state.
pub fn decide(
    policy: &PolicySettings,
    observed: &Observation<'_>,
    stored: &Stored,
    at: At<'_>,
) -> Settled {
    match propose(policy, observed, Some(stored), at.tick_due_ms) {
        Step::Done(decision) => Settled {
            decision,
            effect: Effect::None,
        },
        Step::NeedsState(pending) => pending.settle(stored, at),
    }
}

/// What the caller writes to the state before acting.
// Short-lived (one per service and tick): boxing the state would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// A policy with history: keep its memory and the tick it saw. Losing this
    /// write to another worker is fine: the memory is a hint, never a claim.
    Remember(ServiceState),
    /// The state was unreadable: replace it, so scale-in resumes one cooldown later.
    Repair(ServiceState),
    /// Claim the action with a conditional write; only the claimant then sets
    /// desiredCount.
    Claim(ServiceState),
}

/// The settled decision and what to write for it.
#[derive(Debug, Clone)]
pub struct Settled {
    pub decision: Decision,
    pub effect: Effect,
}

/// Who and when, for the state written by [`Pending::settle`].
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub target: &'a TargetId,
    pub now_ms: u64,
    pub tick_due_ms: u64,
    /// desiredCount now.
    pub current: u32,
    /// How long a claim written now is held: the claimant's tick deadline plus a
    /// margin for a call still in flight (see [`crate::state`]).
    pub lease_ms: u64,
}

impl Pending<'_> {
    /// What was proposed, before the state decides: a caller that cannot read
    /// the state holds and says what it would have done.
    pub fn proposed(&self) -> &Decision {
        &self.proposal
    }

    /// Step 2, with the service's state.
    pub fn settle(self, stored: &Stored, at: At<'_>) -> Settled {
        let Pending {
            policy,
            proposal,
            memory,
        } = self;
        let done = |decision| Settled {
            decision,
            effect: Effect::None,
        };
        let pause = stored.active_pause(at.now_ms);
        if let Some(seen) = already_evaluated(stored, at.tick_due_ms) {
            return done(noted(pause, Decision::stay(at.current, seen), at.now_ms));
        }
        if let Some(claim) = stored.claim_in_progress(at.current, at.now_ms) {
            let reason = format!(
                "{}; {}",
                proposal.reason,
                claim.in_progress_reason(at.now_ms)
            );
            let paused = proposal.paused;
            return done(Decision {
                paused,
                ..Decision::stay(at.current, reason)
            });
        }
        let decision = if proposal.paused {
            proposal
        } else {
            policy::apply_cooldown(
                policy,
                proposal,
                stored.history(at.current, at.now_ms),
                at.now_ms,
                at.current,
            )
        };
        let next = stored.base(at.target);
        if !decision.action.changes_count() {
            let effect = unchanged_effect(policy, stored, next, memory, &at);
            return Settled { decision, effect };
        }
        let claim = claim(&next, &decision, memory, &at);
        Settled {
            decision,
            effect: Effect::Claim(claim),
        }
    }
}

/// The state that claims `decision`'s change: its action record, leased for
/// `at.lease_ms`, and the policy's `memory`.
fn claim(next: &ServiceState, decision: &Decision, memory: Memory, at: &At<'_>) -> ServiceState {
    let record = ActionRecord {
        action: decision.action,
        from: at.current,
        to: decision.new_desired,
        at_ms: at.now_ms,
        tick_due_ms: at.tick_due_ms,
        reason: decision.reason.clone(),
        lease_until_ms: Some(at.now_ms.saturating_add(at.lease_ms)),
    };
    // A pause's count is the operator's change: claimed, but no cooldown.
    let mut claim = if decision.paused {
        next.with_operator_action(record)
    } else {
        next.with_action(record)
    };
    claim.memory = memory;
    claim
}

impl Settled {
    /// This settled change not made this tick, `why` said after what was
    /// proposed: the count stays, the state is left as it was (so the next tick
    /// decides the change again), and only a policy with history keeps this
    /// tick's memory.
    pub fn deferred(
        self,
        policy: &PolicySettings,
        stored: &Stored,
        at: At<'_>,
        why: &str,
    ) -> Settled {
        let memory = match &self.effect {
            Effect::Claim(state) | Effect::Remember(state) => state.memory.clone(),
            _ => stored.memory(),
        };
        let next = stored.base(at.target);
        Settled {
            decision: self
                .decision
                .withheld(at.current, crate::policy::Action::None, why),
            effect: unchanged_effect(policy, stored, next, memory, &at),
        }
    }
}

/// What a tick that keeps the count writes: a repaired state over a corrupt
/// one, this tick's memory for policies with history, else nothing.
fn unchanged_effect(
    policy: &PolicySettings,
    stored: &Stored,
    mut next: ServiceState,
    memory: Memory,
    at: &At<'_>,
) -> Effect {
    if matches!(stored, Stored::Corrupt { .. }) {
        Effect::Repair(ServiceState::repaired(at.target, at.now_ms, at.tick_due_ms))
    } else if policy.needs_memory() {
        next.memory = memory;
        next.last_tick_due_ms = Some(at.tick_due_ms.max(next.last_tick_due_ms.unwrap_or(0)));
        Effect::Remember(next)
    } else {
        Effect::None
    }
}

/// `decision`, marked and explained as paused when a pause holds.
fn noted(pause: Option<&Pause>, decision: Decision, now_ms: u64) -> Decision {
    match pause {
        Some(pause) => pause.annotate(decision, now_ms),
        None => decision,
    }
}

/// Why a tick must not act: the state already records a tick due at or after it
/// (a duplicate delivery, or a late tick overtaken by a newer one).
fn already_evaluated(stored: &Stored, tick_due_ms: u64) -> Option<String> {
    stored
        .last_tick_due_ms()
        .filter(|seen| *seen >= tick_due_ms)
        .map(|seen| format!("stood down: a tick due at {seen} ms was already evaluated for this service; this one is duplicate or late"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::QueueMetrics;
    use crate::policy::Action;
    use crate::settings::PolicyKind;
    use crate::target::TargetLimits;

    fn target() -> PolicySettings {
        PolicySettings {
            min_tasks: 1,
            max_tasks: 50,
            scale_out_cooldown_s: 0,
            scale_in_cooldown_s: 0,
            kind: PolicyKind::Target {
                messages_per_task: 10.0,
            },
            ..PolicySettings::default()
        }
    }

    fn at(now_ms: u64, current: u32) -> At<'static> {
        static CS: std::sync::LazyLock<TargetId> =
            std::sync::LazyLock::new(|| TargetId::ecs_service("c", "s"));
        At {
            target: &CS,
            now_ms,
            tick_due_ms: now_ms,
            current,
            lease_ms: 10_000,
        }
    }

    /// The state after another worker claimed 2 → 5 at `at_ms`, holding it 10 s.
    fn claimed(at_ms: u64) -> Stored {
        let state = ServiceState::new(&TargetId::ecs_service("c", "s")).with_action(ActionRecord {
            action: Action::ScaleOut,
            from: 2,
            to: 5,
            at_ms,
            tick_due_ms: at_ms,
            reason: "surge".into(),
            lease_until_ms: Some(at_ms + 10_000),
        });
        Stored::Found {
            state,
            etag: "e".into(),
        }
    }

    fn settle_at(stored: &Stored, now_ms: u64, current: u32) -> Settled {
        let metrics = QueueMetrics {
            visible: 50,
            in_flight: 0,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        };
        let observed = Observation {
            metrics: Ok(&metrics),
            current,
            running: current,
            now_ms,
            forecast: None,
            limits: TargetLimits::default(),
        };
        let policy = target();
        match propose(&policy, &observed, Some(stored), now_ms) {
            Step::Done(decision) => Settled {
                decision,
                effect: Effect::None,
            },
            Step::NeedsState(pending) => pending.settle(stored, at(now_ms, current)),
        }
    }

    #[test]
    fn a_claim_in_progress_makes_another_worker_stand_down_and_say_why() {
        let stored = claimed(100_000);
        // 50 messages at 10 per task want 5; ECS still shows the claim's `from`.
        let settled = settle_at(&stored, 103_000, 2);
        assert_eq!(settled.effect, Effect::None);
        assert_eq!(
            (settled.decision.action, settled.decision.new_desired),
            (Action::None, 2)
        );
        assert!(
            settled.decision.reason.contains("stood down")
                && settled.decision.reason.contains("2 → 5"),
            "{}",
            settled.decision.reason
        );
        // Once the lease has expired, the claim is taken over: the same count, with
        // a lease of this worker's own.
        let settled = settle_at(&stored, 110_000, 2);
        assert_eq!(settled.decision.action, Action::ScaleOut);
        assert_eq!(settled.decision.new_desired, 5);
        let Effect::Claim(state) = settled.effect else {
            panic!("a claim is written: {:?}", settled.effect)
        };
        let claim = state.last_action.expect("claimed");
        assert_eq!(
            (claim.from, claim.to, claim.lease_until_ms),
            (2, 5, Some(120_000))
        );
        // ECS no longer shows the claim's `from` (it changed since): the claim is
        // not in progress, and the policy decides as usual.
        let settled = settle_at(&stored, 103_000, 4);
        assert_eq!(
            (settled.decision.action, settled.decision.new_desired),
            (Action::ScaleOut, 5),
            "{}",
            settled.decision.reason
        );
    }

    /// The state of a service an operator paused at 100 s for an hour.
    fn paused(at: Option<u32>) -> Stored {
        let mut state = ServiceState::new(&TargetId::ecs_service("c", "s"));
        state.last_scale_in_ms = Some(99_000);
        state.pause = Some(Pause {
            since_ms: 100_000,
            until_ms: 3_700_000,
            at,
            note: "by ops".into(),
        });
        Stored::Found {
            state,
            etag: "e".into(),
        }
    }

    #[test]
    fn a_pause_overrides_the_policy_and_its_cooldowns_until_it_expires() {
        // 50 messages at 10 per task want 5; paused, the count stays at 2 and the
        // reason says so, with what the policy wanted.
        let settled = settle_at(&paused(None), 200_000, 2);
        let decision = &settled.decision;
        assert_eq!((decision.action, decision.new_desired), (Action::None, 2));
        assert!(decision.paused);
        assert!(
            decision.reason.starts_with("paused until")
                && decision.reason.contains("would scale_out to 5"),
            "{}",
            decision.reason
        );
        // Paused at 1: a scale-in, claimed like any action.
        let settled = settle_at(&paused(Some(1)), 200_000, 2);
        assert_eq!(
            (settled.decision.action, settled.decision.new_desired),
            (Action::ScaleIn, 1)
        );
        let Effect::Claim(state) = settled.effect else {
            panic!(
                "a pause at a count is claimed like any action: {:?}",
                settled.effect
            )
        };
        assert!(state.pause.is_some(), "the claim keeps the pause");
        // Expired: the policy decides again.
        let settled = settle_at(&paused(None), 3_700_000, 2);
        assert_eq!(
            (settled.decision.action, settled.decision.new_desired),
            (Action::ScaleOut, 5)
        );
        assert!(!settled.decision.paused);
    }

    #[test]
    fn a_pauses_own_count_starts_no_cooldown() {
        // Paused at 5 from 2, with one-minute cooldowns: the worker claims 2 → 5.
        let policy = PolicySettings {
            scale_out_cooldown_s: 60,
            scale_in_cooldown_s: 60,
            ..target()
        };
        let metrics = |visible| QueueMetrics {
            visible,
            ..QueueMetrics::default()
        };
        let decide = |stored: &Stored, now_ms: u64, current: u32, visible: u64| {
            let reading = metrics(visible);
            let observed = Observation {
                metrics: Ok(&reading),
                current,
                running: current,
                now_ms,
                forecast: None,
                limits: TargetLimits::default(),
            };
            decide(&policy, &observed, stored, at(now_ms, current))
        };
        let settled = decide(&paused(Some(5)), 200_000, 2, 50);
        let Effect::Claim(mut state) = settled.effect else {
            panic!("the paused count is claimed: {:?}", settled.effect)
        };
        assert_eq!(state.last_scale_out_ms, None, "the operator's change");
        // Resumed 10 s later, with 100 messages that want 10 tasks: the policy
        // scales out at once, with no cooldown from the pause's change.
        state.pause = None;
        let resumed = Stored::Found {
            state,
            etag: "e".into(),
        };
        let settled = decide(&resumed, 210_000, 5, 100);
        assert_eq!(
            (settled.decision.action, settled.decision.new_desired),
            (Action::ScaleOut, 10),
            "{}",
            settled.decision.reason
        );
    }

    #[test]
    fn a_deferred_change_leaves_the_state_and_keeps_only_memory() {
        let policy = target();
        let reading = QueueMetrics {
            visible: 50,
            ..QueueMetrics::default()
        };
        let observed = Observation {
            metrics: Ok(&reading),
            current: 2,
            running: 2,
            now_ms: 100_000,
            forecast: None,
            limits: TargetLimits::default(),
        };
        let settled = decide(&policy, &observed, &Stored::Missing, at(100_000, 2));
        assert!(matches!(settled.effect, Effect::Claim(_)));
        let deferred = settled.deferred(&policy, &Stored::Missing, at(100_000, 2), "waiting");
        assert_eq!(
            (deferred.decision.action, deferred.decision.new_desired),
            (Action::None, 2)
        );
        assert!(
            deferred.decision.reason.ends_with("; waiting"),
            "{}",
            deferred.decision.reason
        );
        assert_eq!(deferred.effect, Effect::None, "no history: nothing written");
        // A policy with history keeps its samples, and records no action.
        let history = PolicySettings {
            scale_in_stabilization_s: 60,
            ..target()
        };
        let settled = decide(&history, &observed, &Stored::Missing, at(100_000, 2));
        let deferred = settled.deferred(&history, &Stored::Missing, at(100_000, 2), "waiting");
        let Effect::Remember(state) = deferred.effect else {
            panic!("the memory is kept: {:?}", deferred.effect)
        };
        assert_eq!((state.last_action, state.last_scale_out_ms), (None, None));
        assert_eq!(state.memory.samples.len(), 1);
    }
}
