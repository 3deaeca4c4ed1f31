//! Backlog per task: `desired = ceil(backlog / messages_per_task)`, with an
//! optional second goal on the oldest message's age (`max_wait_seconds`).
//!
//! The age comes late: CloudWatch publishes it once a minute, a minute or more
//! after it was measured, so the same figure is read on several ticks in a row.
//! Growing *today's* count by `age / max_wait` on each of them would compound
//! one late reading into a runaway. So the wait goal scales the tasks that were
//! running when the age was measured (from the samples the policy keeps): every
//! tick that reads the same figure asks for the same count, and tasks ordered
//! since then are not multiplied again. And the age lags: it keeps growing
//! until that message is served, long after enough tasks run. So the late
//! figure is brought to now by the backlog (Little's law: at the same
//! throughput a wait grows and shrinks with the backlog), which is fresh: a
//! backlog half what it was when the age was measured means half the wait.

use super::Wanted;
use crate::metrics::MessageAge;
use crate::policy::memory::Memory;
use crate::policy::reading::{tasks_ceil, Reading};
use crate::settings::PolicySettings;

pub(crate) fn wanted(
    policy: &PolicySettings,
    reading: &Reading<'_>,
    memory: &Memory,
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
        Some(goal) => with_wait_goal(goal, reading, memory, wanted, why),
    }
}

/// The wait goal beside the count goal: while the oldest message has waited
/// longer than `goal`, the tasks running when that age was measured grow in
/// proportion to the wait now (a wait shrinks as the tasks draining the queue
/// grow), by at least one while that is still over the goal, and none is
/// released; the larger need wins.
fn with_wait_goal(
    goal: u64,
    reading: &Reading<'_>,
    memory: &Memory,
    by_count: u64,
    why: String,
) -> Wanted {
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
    let (then, backlog_then) = when_measured(memory, reading, oldest);
    // Little's law: at the same throughput a wait grows and shrinks with the
    // backlog, so the fresh backlog tells what the late figure has become.
    let now_s = if backlog_then > 0 {
        oldest.age_s as f64 * reading.total as f64 / backlog_then as f64
    } else {
        oldest.age_s as f64
    };
    // Growing by at least one while the wait now is still over the goal.
    let floor = if now_s > goal as f64 { then + 1 } else { 0 };
    let by_age = tasks_ceil(then as f64 * now_s / goal as f64).max(floor);
    let wanted = by_count.max(by_age).max(u64::from(reading.current));
    Wanted::new(
        wanted,
        format!(
            "{why}; {age} > max_wait_seconds {goal}: ≈ {now_s:.0} s now by the backlog \
             ({} now, {backlog_then} then), {by_age} task(s) by wait ({then} running then)",
            reading.total
        ),
    )
}

/// The tasks running and the backlog while the age was measured: at the last
/// sample no later than the end of the datapoint's minute (it is stamped with
/// the minute's start). Older than every sample kept: the oldest one. No sample
/// yet (a new state object): now's, for this one tick; samples answer from the
/// next.
fn when_measured(memory: &Memory, reading: &Reading<'_>, oldest: MessageAge) -> (u64, u64) {
    let minute_end_ms = reading
        .now_ms
        .saturating_sub(oldest.measured_ago_s.saturating_mul(1000))
        .saturating_add(60_000);
    let sample = memory
        .samples
        .iter()
        .rev()
        .find(|s| s.at_ms <= minute_end_ms)
        .or(memory.samples.first());
    sample.map_or((u64::from(reading.current), reading.total), |s| {
        (u64::from(s.running), s.backlog)
    })
}

/// The tasks a backlog needs at `messages_per_task`.
pub(crate) fn tasks_for_backlog(messages_per_task: f64, total: u64) -> u64 {
    tasks_ceil(total as f64 / messages_per_task)
}

#[cfg(test)]
mod tests {
    use crate::metrics::QueueMetrics;
    use crate::policy::test_support::*;
    use crate::policy::*;
    use crate::settings::PolicyKind;

    #[test]
    fn the_wait_goal_scales_out_in_proportion_and_never_below_the_count_goal() {
        use crate::metrics::MessageAge;
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
    fn a_late_age_read_on_several_ticks_asks_for_the_same_tasks() {
        use crate::metrics::MessageAge;
        use crate::policy::memory::Memory;
        let mut policy = target(1, 500, 100.0);
        policy.max_wait_s = Some(60);
        assert!(policy.needs_memory());
        let mut memory = Memory::default();
        // Four tasks run through minute 0; its age, 180 s, is read from 120 s on.
        for t in (0..120).step_by(10) {
            memory = recommend_with_memory(&policy, &at(&visible(300), 4, 4, t * 1000), &memory).1;
        }
        let mut current = 4;
        for t in (120..180).step_by(10) {
            let metrics = QueueMetrics {
                oldest_message: Some(MessageAge {
                    age_s: 180,
                    measured_ago_s: t,
                }),
                ..visible(300)
            };
            // The tasks ordered are still starting: 4 running.
            let (decision, next) =
                recommend_with_memory(&policy, &at(&metrics, current, 4, t * 1000), &memory);
            memory = next;
            // 4 × 180 / 60 on every tick, not 12, 36, 108, ...
            assert_eq!(decision.new_desired, 12, "at {t} s: {}", decision.reason);
            assert!(
                decision.reason.contains("(4 running then)"),
                "{}",
                decision.reason
            );
            current = decision.new_desired;
        }
        // While the oldest message is late, no task is released, even when the
        // figure would ask for fewer than are there.
        let metrics = QueueMetrics {
            oldest_message: Some(MessageAge {
                age_s: 70,
                measured_ago_s: 180,
            }),
            ..visible(0)
        };
        let (decision, _) = recommend_with_memory(&policy, &at(&metrics, 12, 4, 180_000), &memory);
        assert_eq!(decision.new_desired, 12, "{}", decision.reason);
    }

    #[test]
    fn a_late_age_is_brought_to_now_by_the_backlog() {
        use crate::metrics::MessageAge;
        use crate::policy::memory::Memory;
        let mut policy = target(1, 500, 100.0);
        policy.max_wait_s = Some(60);
        let mut memory = Memory::default();
        // 300 messages and four tasks through minute 0, whose age was 180 s.
        for t in (0..120).step_by(10) {
            memory = recommend_with_memory(&policy, &at(&visible(300), 4, 4, t * 1000), &memory).1;
        }
        let late = |backlog: u64| QueueMetrics {
            oldest_message: Some(MessageAge {
                age_s: 180,
                measured_ago_s: 130,
            }),
            ..visible(backlog)
        };
        // Half the backlog since: about 90 s now, 4 × 90 / 60 = 6 tasks.
        let (halved, _) = recommend_with_memory(&policy, &at(&late(150), 4, 4, 130_000), &memory);
        assert_eq!(halved.new_desired, 6, "{}", halved.reason);
        assert!(
            halved
                .reason
                .contains("≈ 90 s now by the backlog (150 now, 300 then)"),
            "{}",
            halved.reason
        );
        // A fifth of it: 36 s now, within the goal; nothing is released while the
        // figure read still says late.
        let (drained, _) = recommend_with_memory(&policy, &at(&late(60), 4, 4, 130_000), &memory);
        assert_eq!(drained.new_desired, 4, "{}", drained.reason);
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
