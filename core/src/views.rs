//! Which services' desired and running counts a tick reads from ECS, when its
//! budget cannot read them all.
//!
//! A quiet tick needs a service's counts only to see that nothing must change,
//! and its own changes it knows already. So when the tick's `DescribeServices`
//! allowance cannot cover the fleet, it reads the services it has no view of
//! first, then those whose view is oldest, and decides the rest on the view it
//! kept, at most [`MAX_VIEW_AGE_MS`] old. A change is never made on a kept view:
//! the service is read again first (see the worker's engine). Within the
//! allowance every service is read every tick, as without a budget.

/// The oldest kept view a service is decided on; older, it waits to be read.
pub const MAX_VIEW_AGE_MS: u64 = 60_000;

/// Services per DescribeServices call.
pub const DESCRIBE_BATCH: usize = 10;

/// The services to read with at most `calls` DescribeServices calls, each of up
/// to [`DESCRIBE_BATCH`] services of one cluster: indices into `services`, given
/// as (cluster, age of the view kept, `None` for none). Unread first, then the
/// oldest; ties keep the configuration's order.
pub fn to_describe(services: &[(&str, Option<u64>)], calls: u32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..services.len()).collect();
    // No view sorts as older than any view.
    order.sort_by_key(|&i| std::cmp::Reverse(services[i].1.map_or(u64::MAX, |age| age)));
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut chosen = Vec::new();
    for i in order {
        let cluster = services[i].0;
        let room = open
            .iter()
            .position(|(c, n)| *c == cluster && *n < DESCRIBE_BATCH);
        match room {
            Some(call) => open[call].1 += 1,
            None if open.len() < calls as usize => open.push((cluster, 1)),
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
        assert_eq!(to_describe(&services, 4).len(), 25);
    }

    #[test]
    fn beyond_it_the_unread_and_the_oldest_first() {
        let mut services: Vec<(&str, Option<u64>)> = (0..30).map(|i| ("a", Some(i))).collect();
        services[3].1 = None;
        services[17].1 = None;
        let chosen = to_describe(&services, 1);
        assert_eq!(chosen.len(), 10);
        assert!(chosen.contains(&3) && chosen.contains(&17));
        // Then the eight oldest: ages 29 down to 22.
        assert!((22..30).all(|i| chosen.contains(&i)), "{chosen:?}");
    }

    #[test]
    fn a_call_describes_one_cluster() {
        let services = [("a", None), ("b", None), ("a", None), ("c", None)];
        assert_eq!(to_describe(&services, 2), [0, 1, 2]);
        assert!(to_describe(&services, 0).is_empty());
    }
}
