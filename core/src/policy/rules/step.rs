//! The original autoscaler's step rule: above `scale_up_threshold` add
//! `backlog × tasks_per_message` tasks (at least one); below `scale_down_threshold`
//! go to `backlog × tasks_per_message`, but keep at least `current ×
//! max_scale_down_factor`; in between, stay.

use super::Wanted;
use crate::policy::reading::{tasks, tasks_ceil, Reading};
#[cfg(doc)]
use crate::settings::PolicyKind;
use crate::settings::PolicySettings;

/// The step rule's settings (see [`PolicyKind::Step`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub scale_up_threshold: f64,
    pub scale_down_threshold: f64,
    pub tasks_per_message: f64,
    pub max_scale_down_factor: f64,
}

pub(crate) fn wanted(policy: &PolicySettings, reading: &Reading<'_>, rule: Step) -> Wanted {
    let Step {
        scale_up_threshold,
        scale_down_threshold,
        tasks_per_message,
        max_scale_down_factor,
    } = rule;
    let (label, total) = (reading.label, reading.total);
    let min = u64::from(policy.min_tasks);
    let cur = u64::from(reading.current);
    let total_f = total as f64;
    if total_f > scale_up_threshold {
        let mut add = tasks(total_f * tasks_per_message);
        if add == 0 && total > 0 {
            add = 1;
        }
        // The bounds modifier applies the original's min(MAX_TASKS, current + add).
        Wanted::new(
            cur.saturating_add(add),
            format!("{label} {total} > scale_up_threshold {scale_up_threshold}: add {add} task(s)"),
        )
    } else if total_f < scale_down_threshold {
        let target = min.max(tasks(total_f * tasks_per_message));
        let floor = tasks(cur as f64 * max_scale_down_factor);
        Wanted::new(
            target.max(floor),
            format!(
                "{label} {total} < scale_down_threshold {scale_down_threshold}: \
                 target {target}, scale-down floor {floor} ({cur} × {max_scale_down_factor})"
            ),
        )
    } else {
        Wanted::new(
            cur,
            format!(
                "{label} {total} within thresholds [{scale_down_threshold}, {scale_up_threshold}]"
            ),
        )
    }
}

/// The tasks a backlog needs at `tasks_per_message`.
pub(crate) fn tasks_for_backlog(tasks_per_message: f64, total: u64) -> u64 {
    tasks_ceil(total as f64 * tasks_per_message)
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;

    /// The original autoscaler's documented cases.
    #[test]
    fn step_matches_the_original() {
        let known = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let cases = [
            (10, 50, 10, Action::None),
            (10, 200, 12, Action::ScaleOut),
            (10, 5, 5, Action::ScaleIn),
            (90, 5000, 100, Action::ScaleOut),
        ];
        for (current, total, expected, action) in cases {
            let d = recommend(&known, Ok(&visible(total)), current);
            assert_eq!(
                (d.new_desired, d.action),
                (expected, action),
                "current {current}, total {total}: {}",
                d.reason
            );
        }
        let min3 = step(3, 100, 100.0, 10.0, 0.01, 0.5);
        assert_eq!(recommend(&min3, Ok(&visible(1)), 5).new_desired, 3);
    }

    #[test]
    fn step_adds_at_least_one_task_above_threshold() {
        let policy = step(1, 100, 100.0, 10.0, 0.001, 0.5);
        let d = recommend(&policy, Ok(&visible(150)), 4);
        assert_eq!(d.new_desired, 5, "{}", d.reason);
    }
}
