//! Activation and scale to zero, for services whose minimum is 0 tasks.
//!
//! - Activation: a service at zero starts only for a backlog above
//!   `activation_backlog`, and then with at least one task.
//! - Scale to zero: a service goes from one task to zero only after the queue
//!   (in-flight included) has been empty for `scale_to_zero_after`.

use crate::policy::reading::Reading;
use crate::policy::rules::Wanted;
use crate::settings::PolicySettings;

pub(crate) fn apply(policy: &PolicySettings, reading: &Reading<'_>, wanted: &mut Wanted) {
    activate(policy, reading, wanted);
    keep_one_until_idle(policy, reading, wanted);
}

fn activate(policy: &PolicySettings, reading: &Reading<'_>, wanted: &mut Wanted) {
    if reading.current != 0 || policy.min_tasks != 0 {
        return;
    }
    let total = reading.total;
    if total <= policy.activation_backlog {
        if wanted.count > 0 {
            wanted.why.push_str(&format!(
                "; at 0 tasks and backlog {total} ≤ activation_backlog {}: stay at 0",
                policy.activation_backlog
            ));
        }
        wanted.count = 0;
    } else {
        wanted.count = wanted.count.max(1);
    }
}

fn keep_one_until_idle(policy: &PolicySettings, reading: &Reading<'_>, wanted: &mut Wanted) {
    let Some(after_s) = policy.scale_to_zero_after_s else {
        return;
    };
    if wanted.count != 0 || reading.current == 0 {
        return;
    }
    let empty_for_ms = reading.empty_since_ms.map(|since| reading.now_ms - since);
    if empty_for_ms.is_none_or(|ms| ms < after_s.saturating_mul(1000)) {
        wanted.set(
            1,
            format!(
                "; keeping 1 task until the queue has been empty for {after_s}s (empty for {}s)",
                empty_for_ms.unwrap_or(0) / 1000
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::QueueMetrics;

    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn scale_to_zero_needs_activation_and_a_quiet_period() {
        let mut policy = target(0, 10, 10.0);
        policy.activation_backlog = 5;
        policy.scale_to_zero_after_s = Some(300);
        let empty = Memory::default();
        // At zero, a backlog at the activation threshold starts nothing; above it, one task or more.
        let (d, _) = recommend_with_memory(&policy, &at(&visible(5), 0, 0, 0), &empty);
        assert_eq!((d.action, d.new_desired), (Action::None, 0), "{}", d.reason);
        let (d, _) = recommend_with_memory(&policy, &at(&visible(6), 0, 0, 0), &empty);
        assert_eq!(d.new_desired, 1, "{}", d.reason);
        // An empty queue keeps one task until it has been empty for 300 s, in-flight included.
        let busy = QueueMetrics {
            visible: 0,
            in_flight: 2,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        };
        let (d, memory) = recommend_with_memory(&policy, &at(&busy, 2, 2, 0), &empty);
        assert_eq!(d.new_desired, 1, "{}", d.reason);
        assert_eq!(memory.empty_since_ms, None);
        let (_, memory) = recommend_with_memory(&policy, &at(&visible(0), 1, 1, 10_000), &memory);
        assert_eq!(memory.empty_since_ms, Some(10_000));
        let (d, memory) = recommend_with_memory(&policy, &at(&visible(0), 1, 1, 309_000), &memory);
        assert_eq!(d.new_desired, 1, "{}", d.reason);
        let (d, _) = recommend_with_memory(&policy, &at(&visible(0), 1, 1, 310_000), &memory);
        assert_eq!(
            (d.action, d.new_desired),
            (Action::ScaleIn, 0),
            "{}",
            d.reason
        );
    }
}
