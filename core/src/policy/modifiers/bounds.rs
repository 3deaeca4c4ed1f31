//! The bounds: the count is brought within `[min_tasks, max_tasks]`, and no
//! higher than the queue lets tasks consume at once (a Kinesis stream's open
//! shards), though never below `min_tasks`. What comes out is the tick's
//! recommendation, the figure stabilization remembers.

use crate::metrics::QueueMetrics;

use crate::policy::rules::Wanted;
use crate::settings::PolicySettings;

pub(crate) fn apply(policy: &PolicySettings, metrics: &QueueMetrics, wanted: &mut Wanted) -> u32 {
    let (min, max) = (u64::from(policy.min_tasks), u64::from(policy.max_tasks));
    let bounded = wanted.count.clamp(min, max);
    if bounded != wanted.count {
        wanted.set(bounded, format!(", bounded to [{min}, {max}]"));
    }
    if let Some(consumers) = metrics.max_consumers {
        // Tasks the queue cannot feed would only cost money.
        let useful = consumers.max(min);
        if wanted.count > useful {
            wanted.set(
                useful,
                format!(
                    ", capped at {useful}: the queue feeds at most {consumers} consumers at once"
                ),
            );
        }
    }
    // Both bounds are u32, and `useful` is within them.
    u32::try_from(wanted.count).unwrap_or(policy.max_tasks)
}

#[cfg(test)]
mod tests {
    use crate::metrics::QueueMetrics;
    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn current_outside_bounds_is_brought_back() {
        let policy = step(5, 20, 100.0, 10.0, 0.01, 0.5);
        assert_eq!(recommend(&policy, Ok(&visible(50)), 40).new_desired, 20);
        assert_eq!(recommend(&policy, Ok(&visible(50)), 0).new_desired, 5);
    }

    #[test]
    fn no_more_tasks_than_the_queue_can_feed_but_never_below_min_tasks() {
        let policy = step(2, 50, 100.0, 10.0, 0.1, 0.5);
        let sharded = |consumers| QueueMetrics {
            max_consumers: Some(consumers),
            busiest: None,
            ..visible(5_000)
        };
        let capped = recommend(&policy, Ok(&sharded(8)), 4);
        assert_eq!(capped.new_desired, 8, "{}", capped.reason);
        assert!(
            capped.reason.contains("at most 8 consumers"),
            "{}",
            capped.reason
        );
        assert_eq!(recommend(&policy, Ok(&sharded(1)), 4).new_desired, 2);
        // Already above what the queue can feed: brought down to it.
        assert_eq!(recommend(&policy, Ok(&sharded(8)), 30).new_desired, 8);
    }
}
