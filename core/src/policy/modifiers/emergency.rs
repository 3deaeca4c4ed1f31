//! The emergency tier: at or above `emergency_backlog`, go straight to the count the
//! backlog needs, skipping the scale-out cooldown and step limit.

use crate::policy::reading::Reading;
use crate::policy::rules::{tasks_for_backlog, Wanted};
use crate::settings::PolicySettings;

pub(crate) fn apply(policy: &PolicySettings, reading: &Reading<'_>, wanted: &mut Wanted) {
    let total = reading.total;
    let Some(critical) = policy.emergency_backlog.filter(|c| total >= *c) else {
        return;
    };
    let needed = tasks_for_backlog(policy, reading);
    let to = needed.max(wanted.count);
    if to > u64::from(reading.current) {
        wanted.emergency = true;
        wanted.set(
            to,
            format!("; emergency tier: backlog {total} ≥ {critical}, straight to {to}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn scale_out_waits_for_its_cooldown_unless_it_is_an_emergency() {
        let mut policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let now = 1_000_000;
        let just_scaled = History::Known {
            last_action_ms: Some(now - 30_000),
            last_scale_out_ms: Some(now - 30_000),
        };
        let proposed = recommend(&policy, Ok(&visible(500)), 10);
        let d = apply_cooldown(&policy, proposed, just_scaled, now, 10);
        assert_eq!(d.action, Action::None, "{}", d.reason);
        assert!(
            d.reason.contains("scale-out waits for cooldown (90s"),
            "{}",
            d.reason
        );

        policy.emergency_backlog = Some(5_000);
        let proposed = recommend(&policy, Ok(&visible(6_000)), 10);
        assert!(proposed.emergency, "{}", proposed.reason);
        // The larger of the step rule (10 + 60) and the backlog's need (6000 × 0.01).
        assert_eq!(proposed.new_desired, 70, "{}", proposed.reason);
        let d = apply_cooldown(&policy, proposed, just_scaled, now, 10);
        assert_eq!(d.action, Action::ScaleOut, "{}", d.reason);
        assert!(d.reason.contains("emergency tier"), "{}", d.reason);
        // Below the critical backlog it is an ordinary scale-out.
        assert!(!recommend(&policy, Ok(&visible(4_999)), 10).emergency);
    }

    #[test]
    fn the_emergency_tier_sizes_with_the_measured_throughput() {
        // Configured at 1 msg/s per task; 4 msg/s was measured earlier and kept.
        let policy = PolicySettings {
            emergency_backlog: Some(1_000),
            ..predictive_policy()
        };
        let memory = Memory {
            throughput_micro: Some(4_000_000),
            ..Memory::default()
        };
        let reading = counted(6_000, 0);
        let (d, _) = recommend_with_memory(&policy, &at(&reading, 5, 5, 0), &memory);
        // 6000 / (4/s × 60 s) = 25 tasks, where the configured 1/s would jump to 100.
        assert_eq!(d.new_desired, 25, "{}", d.reason);
        assert!(
            d.emergency && d.reason.contains("emergency tier"),
            "{}",
            d.reason
        );

        // With nothing measured, the configured throughput sizes it.
        let (d, _) = recommend_with_memory(&policy, &at(&reading, 5, 5, 0), &Memory::default());
        assert_eq!(d.new_desired, 100, "{}", d.reason);
    }
}
