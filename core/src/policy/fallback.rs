//! A failed metrics reading: `hold`, or after `fallback.after_failures` consecutive
//! failures a scale-out to the fallback count (KEDA's fallback). Never a scale-in:
//! nothing is lowered on a reading nobody could make.

use super::decision::{Action, Decision, Observation};
use super::memory::Memory;
use crate::settings::PolicySettings;

pub(crate) fn on_failed_reading(
    policy: &PolicySettings,
    observed: &Observation<'_>,
    memory: &Memory,
    why: &str,
) -> (Decision, Memory) {
    let current = observed.current;
    let mut next = memory.clone();
    next.metric_failures = next.metric_failures.saturating_add(1);
    let failures = next.metric_failures;
    let decision = match policy.fallback {
        Some(fallback) if failures >= fallback.after_failures && fallback.tasks > current => {
            let to = fallback.tasks.min(policy.max_tasks).max(current);
            Decision {
                action: Action::between(current, to),
                new_desired: to,
                reason: format!(
                    "metrics unavailable ({why}) {failures} time(s) in a row: fallback to {} task(s); {current} → {to}",
                    fallback.tasks
                ),
                cooldown_remaining_s: 0,
                emergency: false,
                applied: false,
                paused: false,
                prewarm: None,
            }
        }
        _ => Decision::hold(current, format_args!("metrics unavailable ({why})")),
    };
    (decision, next)
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;
    use crate::settings::Fallback;
    use crate::target::TargetLimits;

    #[test]
    fn metrics_failure_holds() {
        let policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let d = recommend(&policy, Err("throttled"), 40);
        assert_eq!((d.action, d.new_desired), (Action::Hold, 40));
        assert!(d.reason.contains("throttled"), "{}", d.reason);
    }

    #[test]
    fn fallback_raises_after_consecutive_failures_and_never_lowers() {
        let mut policy = target(1, 50, 10.0);
        policy.fallback = Some(Fallback {
            tasks: 8,
            after_failures: 3,
        });
        let failed = Observation {
            metrics: Err("timeout"),
            current: 4,
            running: 4,
            now_ms: 0,
            forecast: None,
            limits: TargetLimits::default(),
        };
        let mut memory = Memory::default();
        for n in 1..=3 {
            let (d, next) = recommend_with_memory(&policy, &failed, &memory);
            memory = next;
            assert_eq!(memory.metric_failures, n);
            if n < 3 {
                assert_eq!(d.action, Action::Hold, "{}", d.reason);
            } else {
                assert_eq!(
                    (d.action, d.new_desired),
                    (Action::ScaleOut, 8),
                    "{}",
                    d.reason
                );
            }
        }
        // Above the fallback count, failures hold: never a scale-in.
        let (d, _) = recommend_with_memory(
            &policy,
            &Observation {
                current: 20,
                ..failed
            },
            &memory,
        );
        assert_eq!((d.action, d.new_desired), (Action::Hold, 20));
        // A good reading resets the count.
        let (_, memory) = recommend_with_memory(&policy, &at(&visible(40), 4, 4, 0), &memory);
        assert_eq!(memory.metric_failures, 0);
    }
}
