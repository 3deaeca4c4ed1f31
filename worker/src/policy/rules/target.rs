//! Backlog per task: `desired = ceil(backlog / messages_per_task)`.

use super::Wanted;
use crate::config::PolicySettings;
use crate::policy::reading::{tasks_ceil, Reading};

pub(crate) fn wanted(
    policy: &PolicySettings,
    reading: &Reading<'_>,
    messages_per_task: f64,
) -> Wanted {
    let (label, total) = (reading.label, reading.total);
    let needed = (total as f64 / messages_per_task).ceil();
    let wanted = if needed.is_finite() {
        needed as u64
    } else {
        u64::from(policy.max_tasks)
    };
    let why = format!("{label} {total} / {messages_per_task} messages per task = {wanted} task(s)");
    match policy.max_wait_s {
        None => Wanted::new(wanted, why),
        Some(goal) => with_wait_goal(goal, reading, wanted, why),
    }
}

/// The wait goal beside the count goal: while the oldest message has waited
/// longer than `goal`, the tasks grow in proportion (a wait shrinks as the
/// tasks draining the queue grow), by at least one; the larger need wins.
fn with_wait_goal(goal: u64, reading: &Reading<'_>, by_count: u64, why: String) -> Wanted {
    let Some(oldest) = reading.metrics.oldest_message else {
        return Wanted::new(
            by_count,
            format!("{why}; oldest message age unknown, the count goal decides"),
        );
    };
    let age = format!(
        "oldest message {} s old (measured {} s ago)",
        oldest.age_s, oldest.measured_ago_s
    );
    if oldest.age_s <= goal {
        return Wanted::new(
            by_count,
            format!("{why}; {age}, within max_wait_seconds {goal}"),
        );
    }
    let current = u64::from(reading.current);
    let by_age = tasks_ceil(current as f64 * oldest.age_s as f64 / goal as f64).max(current + 1);
    let wanted = by_count.max(by_age);
    Wanted::new(
        wanted,
        format!("{why}; {age} > max_wait_seconds {goal}: {by_age} task(s) by wait"),
    )
}

/// The tasks a backlog needs at `messages_per_task`.
pub(crate) fn tasks_for_backlog(messages_per_task: f64, total: u64) -> u64 {
    tasks_ceil(total as f64 / messages_per_task)
}

#[cfg(test)]
mod tests {
    use crate::config::PolicyKind;
    use crate::policy::test_support::*;
    use crate::policy::*;
    use fast_autoscaler_providers::QueueMetrics;

    #[test]
    fn the_wait_goal_scales_out_in_proportion_and_never_below_the_count_goal() {
        use fast_autoscaler_providers::MessageAge;
        let mut policy = step(1, 50, 0.0, 0.0, 1.0, 1.0);
        policy.kind = PolicyKind::Target {
            messages_per_task: 100.0,
        };
        policy.max_wait_s = Some(60);
        let aged = |visible_count: u64, age_s: u64| QueueMetrics {
            oldest_message: Some(MessageAge {
                age_s,
                measured_ago_s: 50,
            }),
            ..visible(visible_count)
        };
        // 300 messages want 3 by count; waiting 180 s against 60 s wants 4 × 3 = 12.
        let late = recommend(&policy, Ok(&aged(300, 180)), 4);
        assert_eq!(late.new_desired, 12, "{}", late.reason);
        assert!(
            late.reason
                .contains("oldest message 180 s old (measured 50 s ago) > max_wait_seconds 60"),
            "{}",
            late.reason
        );
        // Barely late: at least one more task.
        assert_eq!(recommend(&policy, Ok(&aged(0, 61)), 4).new_desired, 5);
        // In time: the count goal alone, which may scale in.
        assert_eq!(recommend(&policy, Ok(&aged(300, 30)), 4).new_desired, 3);
        // No age: the count goal, and the reason says so.
        let unknown = recommend(&policy, Ok(&visible(300)), 4);
        assert_eq!(unknown.new_desired, 3);
        assert!(unknown.reason.contains("age unknown"), "{}", unknown.reason);
    }

    #[test]
    fn target_policy() {
        let mut policy = step(1, 50, 0.0, 0.0, 1.0, 1.0);
        policy.kind = PolicyKind::Target {
            messages_per_task: 100.0,
        };
        assert_eq!(recommend(&policy, Ok(&visible(1001)), 3).new_desired, 11);
        assert_eq!(recommend(&policy, Ok(&visible(0)), 3).new_desired, 1);
        assert_eq!(
            recommend(&policy, Ok(&visible(1_000_000)), 3).new_desired,
            50
        );
        assert_eq!(
            recommend(&policy, Ok(&visible(300)), 3).action,
            Action::None
        );
    }
}
