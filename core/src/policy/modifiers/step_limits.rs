//! Step limits: at most `max_scale_out_step` tasks added (except in an emergency)
//! and at most `max_scale_in_step` removed by one decision.

use crate::policy::reading::Reading;
use crate::policy::rules::Wanted;
use crate::settings::PolicySettings;

pub(crate) fn apply(policy: &PolicySettings, reading: &Reading<'_>, wanted: &mut Wanted) {
    let cur = u64::from(reading.current);
    if !wanted.emergency {
        if let Some(step) = policy.max_scale_out_step.map(u64::from) {
            if wanted.count > cur.saturating_add(step) {
                wanted.set(
                    cur + step,
                    format!("; limited to +{step} by max_scale_out_step"),
                );
            }
        }
    }
    if let Some(step) = policy.max_scale_in_step.map(u64::from) {
        if wanted.count.saturating_add(step) < cur {
            wanted.set(
                cur - step,
                format!("; limited to -{step} by max_scale_in_step"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn step_limits_bound_each_change_but_not_an_emergency() {
        let mut policy = target(1, 100, 10.0);
        policy.max_scale_out_step = Some(5);
        policy.max_scale_in_step = Some(3);
        assert_eq!(recommend(&policy, Ok(&visible(500)), 10).new_desired, 15);
        assert_eq!(recommend(&policy, Ok(&visible(0)), 10).new_desired, 7);
        policy.emergency_backlog = Some(400);
        assert_eq!(recommend(&policy, Ok(&visible(500)), 10).new_desired, 50);
    }
}
