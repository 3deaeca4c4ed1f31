//! Which targets' desired and running counts a tick reads, when its budget
//! cannot read them all.
//!
//! A quiet tick needs a target's counts only to see that nothing must change,
//! and its own changes it knows already. So when the tick's describe allowance
//! (ECS `DescribeServices`, Auto Scaling `DescribeAutoScalingGroups`) cannot
//! cover the fleet, it reads the targets it has no view of first, then those
//! whose view is oldest, and decides the rest on the view it kept, at most
//! [`MAX_VIEW_AGE_MS`] old. A change is never made on a kept view: the target
//! is read again first (see the worker's engine). Within the allowance every
//! target is read every tick, as without a budget.

/// The oldest kept view a target is decided on; older, it waits to be read.
pub const MAX_VIEW_AGE_MS: u64 = 60_000;

/// The targets to read with at most `calls` describe calls, each of up to
/// `batch` targets of one scope: indices into `targets`, given as (scope, age
/// of the view kept, `None` for none). Unread first, then the oldest; ties keep
/// the configuration's order.
pub fn to_describe(targets: &[(&str, Option<u64>)], calls: u32, batch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..targets.len()).collect();
    // No view sorts as older than any view.
    order.sort_by_key(|&i| std::cmp::Reverse(targets[i].1.map_or(u64::MAX, |age| age)));
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut chosen = Vec::new();
    for i in order {
        let scope = targets[i].0;
        let room = open
            .iter()
            .position(|(s, n)| *s == scope && *n < batch.max(1));
        match room {
            Some(call) => open[call].1 += 1,
            None if open.len() < calls as usize => open.push((scope, 1)),
            None => continue,
        }
        chosen.push(i);
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_allowance_every_service_is_read() {
        let services: Vec<(&str, Option<u64>)> = (0..25)
            .map(|i| (if i < 12 { "a" } else { "b" }, Some(i)))
            .collect();
        // a: 12 services (2 calls), b: 13 (2 calls).
        assert_eq!(to_describe(&services, 4, 10).len(), 25);
    }

    #[test]
    fn beyond_it_the_unread_and_the_oldest_first() {
        let mut services: Vec<(&str, Option<u64>)> = (0..30).map(|i| ("a", Some(i))).collect();
        services[3].1 = None;
        services[17].1 = None;
        let chosen = to_describe(&services, 1, 10);
        assert_eq!(chosen.len(), 10);
        assert!(chosen.contains(&3) && chosen.contains(&17));
        // Then the eight oldest: ages 29 down to 22.
        assert!((22..30).all(|i| chosen.contains(&i)), "{chosen:?}");
    }

    #[test]
    fn a_call_describes_one_cluster() {
        let services = [("a", None), ("b", None), ("a", None), ("c", None)];
        assert_eq!(to_describe(&services, 2, 10), [0, 1, 2]);
        assert!(to_describe(&services, 0, 10).is_empty());
    }
}
