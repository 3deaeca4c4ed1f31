//! Which shard of the fleet a target belongs to.
//!
//! A large fleet is split into `K` shards, each evaluated by its own tick (the
//! scheduler spreads the shards' ticks over the interval). A target's shard is a
//! pure function of its label and `K`, so every invocation, however many run at
//! once, agrees on it without asking anyone: FNV-1a of the label
//! (`cluster/service` for an ECS service, as before targets existed, so an
//! upgrade moves nothing), then jump consistent hashing (Lamping and Veach,
//! 2014), which moves only the targets a new shard needs (about 1/K of them)
//! when `K` grows, and keeps the rest where they were.

use crate::target::TargetId;

/// The shard (0 ..= `shards` − 1) of `target`; 0 when `shards` is 0 or 1.
pub fn shard_of(target: &TargetId, shards: u32) -> u32 {
    if shards <= 1 {
        return 0;
    }
    jump(fnv1a(&target.label()), shards)
}

/// FNV-1a, 64 bits, of `label`: stable across builds and platforms.
fn fnv1a(label: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    label.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Jump consistent hash: the bucket of `key` among `buckets`.
fn jump(mut key: u64, buckets: u32) -> u32 {
    let (mut bucket, mut next) = (-1i64, 0i64);
    while next < i64::from(buckets) {
        bucket = next;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        next = ((bucket + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    bucket as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("svc-{i:05}")).collect()
    }

    fn shard_of(cluster: &str, service: &str, shards: u32) -> u32 {
        super::shard_of(&TargetId::ecs_service(cluster, service), shards)
    }

    #[test]
    fn every_service_is_in_one_shard_and_the_shards_are_even() {
        let services = names(10_000);
        for shards in [2u32, 5, 7] {
            let mut counts = vec![0usize; shards as usize];
            for s in &services {
                let shard = shard_of("prod", s, shards);
                assert!(shard < shards);
                counts[shard as usize] += 1;
            }
            let fair = services.len() / shards as usize;
            for count in counts {
                assert!(
                    count.abs_diff(fair) < fair / 10,
                    "{shards}: {count} vs {fair}"
                );
            }
        }
        assert_eq!(shard_of("prod", "svc", 1), 0);
        assert_eq!(shard_of("prod", "svc", 0), 0);
    }

    #[test]
    fn a_new_shard_moves_only_the_services_it_takes() {
        let services = names(10_000);
        let moved = services
            .iter()
            .filter(|s| shard_of("prod", s, 4) != shard_of("prod", s, 5))
            .count();
        // A fifth shard takes about a fifth; nothing else moves.
        assert!((1_700..2_300).contains(&moved), "{moved}");
        for s in &services {
            let (before, after) = (shard_of("prod", s, 4), shard_of("prod", s, 5));
            assert!(after == before || after == 4, "{s}: {before} -> {after}");
        }
    }

    #[test]
    fn the_assignment_is_stable_across_builds() {
        // Pinned: a change here would move services between deployed shards.
        assert_eq!(fnv1a("prod/workers"), fnv1a("prod/workers"));
        assert_eq!(
            [
                shard_of("prod", "workers", 5),
                shard_of("prod", "mailer", 5),
                shard_of("bench-0", "svc-00042", 5)
            ],
            PINNED
        );
    }

    const PINNED: [u32; 3] = [2, 1, 2];
}
