//! The bounds: the count is brought within `[min_tasks, max_tasks]`. What comes out
//! is the tick's recommendation, the figure stabilization remembers.

use crate::config::PolicySettings;
use crate::policy::rules::Wanted;

pub(crate) fn apply(policy: &PolicySettings, wanted: &mut Wanted) -> u32 {
    let (min, max) = (u64::from(policy.min_tasks), u64::from(policy.max_tasks));
    let bounded = wanted.count.clamp(min, max);
    if bounded != wanted.count {
        wanted.set(bounded, format!(", bounded to [{min}, {max}]"));
    }
    // The clamp keeps `bounded` within u32 because both bounds are u32.
    u32::try_from(bounded).unwrap_or(policy.max_tasks)
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn current_outside_bounds_is_brought_back() {
        let policy = step(5, 20, 100.0, 10.0, 0.01, 0.5);
        assert_eq!(recommend(&policy, Ok(&visible(50)), 40).new_desired, 20);
        assert_eq!(recommend(&policy, Ok(&visible(50)), 0).new_desired, 5);
    }
}
