//! A target kind's API budget: how many calls of each kind one tick may make,
//! so that the autoscaler's calls stay within a share of the account's quotas.
//!
//! AWS throttles per account and Region with token buckets: a bucket of `burst`
//! tokens, refilled at `per_second`. ECS has two that matter: `UpdateService`
//! shares the "service modify" bucket with `CreateService` and `DeleteService`,
//! so an autoscaler that spends it on a surge starves the team's own
//! deployments at that very moment; `DescribeServices` shares the "service
//! read" bucket with every deploy pipeline's waits. EC2 Auto Scaling has one
//! bucket for all its calls. The autoscaler therefore keeps to a `share` of
//! each bucket, as if it owned one `share` times the size, refilled `share`
//! times as fast.
//!
//! Each shard's tick comes `interval / shards` after the previous shard's, so one
//! tick may spend what refills in that time, and never more than its share of the
//! burst: `min(share × burst, share × per_second × interval / shards)` calls.
//! Spent at the start of its tick and refilled by the next, the bucket never
//! runs dry, and no call is sent that the budget says would be throttled.
//!
//! Each target kind gives its own quotas and how many targets one describe
//! call reads (see the `fast-autoscaler-target` crate); the core plans a tick
//! with them, whatever the kind.

use serde::Serialize;

/// One token bucket, as AWS documents it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quota {
    /// Tokens refilled each second: the sustained rate.
    pub per_second: f64,
    /// Tokens the bucket holds: the most calls in one second.
    pub burst: f64,
}

/// A target kind's API quotas, the share of them the autoscaler may use, and
/// how many targets one describe call reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ApiBudget {
    /// The API, as a reason names it: "ECS", "EC2 Auto Scaling".
    pub api: &'static str,
    /// The share of each quota the autoscaler may use (the rest is left for
    /// deployments and people), above 0 and at most 1.
    pub share: f64,
    /// The bucket describe calls draw from (ECS: service reads).
    pub read: Quota,
    /// The bucket changes draw from (ECS: service modifies).
    pub modify: Quota,
    /// Reads and changes draw from one bucket, `read` (EC2 Auto Scaling): a
    /// tick's calls split it, half for changes.
    pub shared_bucket: bool,
    /// Targets one describe call reads, all of one scope (ECS: 10 services of
    /// a cluster).
    pub describe_batch: usize,
}

/// ECS's budget: half of AWS's documented default quotas, service reads 20 a
/// second with a burst of 100 and service modifies 5 a second with a burst of
/// 50, ten services of a cluster a DescribeServices call. The ECS target
/// registers it (the deployment's ECS settings change it), and the simulator
/// runs its fleets under it.
pub const ECS_BUDGET: ApiBudget = ApiBudget {
    api: "ECS",
    share: 0.5,
    read: Quota {
        per_second: 20.0,
        burst: 100.0,
    },
    modify: Quota {
        per_second: 5.0,
        burst: 50.0,
    },
    shared_bucket: false,
    describe_batch: 10,
};

/// What one tick of one shard may spend on one target kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TickAllowance {
    /// Describe calls (each reads up to `describe_batch` targets of a scope).
    pub describe_calls: u32,
    /// Calls that change a count.
    pub updates: u32,
}

impl ApiBudget {
    /// The calls one tick of one of `shards` shards may make, ticks `interval_s`
    /// apart per shard. At least one of each, so a tiny share still moves.
    pub fn allowance(&self, interval_s: u32, shards: u32) -> TickAllowance {
        let spacing_s = f64::from(interval_s) / f64::from(shards.max(1));
        let calls = |quota: Quota| {
            let refilled = self.share * quota.per_second * spacing_s;
            let burst = self.share * quota.burst;
            (refilled.min(burst).floor() as u32).max(1)
        };
        if self.shared_bucket {
            let all = calls(self.read);
            let updates = (all / 2).max(1);
            return TickAllowance {
                describe_calls: all.saturating_sub(updates).max(1),
                updates,
            };
        }
        TickAllowance {
            describe_calls: calls(self.read),
            updates: calls(self.modify),
        }
    }

    /// Describe calls to read targets of these scopes (a call reads one scope).
    pub fn describe_calls_for<'a>(&self, scopes: impl Iterator<Item = &'a str>) -> u32 {
        let mut per_scope: Vec<(&str, usize)> = Vec::new();
        for scope in scopes {
            match per_scope.iter_mut().find(|(s, _)| *s == scope) {
                Some((_, n)) => *n += 1,
                None => per_scope.push((scope, 1)),
            }
        }
        let batch = self.describe_batch.max(1);
        per_scope
            .iter()
            .map(|(_, n)| n.div_ceil(batch) as u32)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecs() -> ApiBudget {
        ECS_BUDGET
    }

    #[test]
    fn a_tick_spends_its_share_of_what_refills_and_never_more_than_of_the_burst() {
        let budget = ecs();
        // One shard, ticks 10 s apart: half of min(burst, 10 s of refill).
        assert_eq!(
            budget.allowance(10, 1),
            TickAllowance {
                describe_calls: 50,
                updates: 25
            }
        );
        // Five shards: each tick 2 s after the last, so 2 s of refill each.
        assert_eq!(
            budget.allowance(10, 5),
            TickAllowance {
                describe_calls: 20,
                updates: 5
            }
        );
        // A one-second interval: 1 s of refill.
        assert_eq!(
            budget.allowance(1, 1),
            TickAllowance {
                describe_calls: 10,
                updates: 2
            }
        );
        // A minute: the burst share binds.
        assert_eq!(budget.allowance(60, 1).updates, 25);
        // A tiny share still allows one call.
        let tiny = ApiBudget {
            share: 0.01,
            ..budget
        };
        assert_eq!(tiny.allowance(10, 5).updates, 1);
    }

    #[test]
    fn the_allowance_keeps_the_account_bucket_from_running_dry() {
        // Spend each shard tick's allowance at once against a bucket of the
        // budget's share, refilled between ticks: it never goes below zero.
        for (interval_s, shards) in [(10, 1), (10, 3), (10, 5), (1, 1), (60, 6), (30, 30)] {
            let budget = ecs();
            let quota = budget.modify;
            let (capacity, rate) = (budget.share * quota.burst, budget.share * quota.per_second);
            let spend = f64::from(budget.allowance(interval_s, shards).updates);
            let spacing = f64::from(interval_s) / f64::from(shards);
            let mut tokens = capacity;
            for _ in 0..1000 {
                tokens -= spend;
                assert!(tokens >= -1e-9, "{interval_s} s, {shards} shards: {tokens}");
                tokens = (tokens + rate * spacing).min(capacity);
            }
        }
    }
}

#[cfg(test)]
mod shared_tests {
    use super::*;

    #[test]
    fn one_bucket_for_reads_and_changes_is_split_between_them() {
        let budget = ApiBudget {
            api: "EC2 Auto Scaling",
            share: 0.5,
            read: Quota {
                per_second: 10.0,
                burst: 20.0,
            },
            modify: Quota {
                per_second: 10.0,
                burst: 20.0,
            },
            shared_bucket: true,
            describe_batch: 50,
        };
        // Half of a burst of 20: 10 calls a tick, 5 each.
        assert_eq!(
            budget.allowance(10, 1),
            TickAllowance {
                describe_calls: 5,
                updates: 5
            }
        );
        // A tiny share still reads and changes.
        let tiny = ApiBudget {
            share: 0.01,
            ..budget
        };
        assert_eq!(
            tiny.allowance(10, 5),
            TickAllowance {
                describe_calls: 1,
                updates: 1
            }
        );
        // 120 groups in one scope: 3 calls of 50.
        let scopes = std::iter::repeat_n("", 120);
        assert_eq!(budget.describe_calls_for(scopes), 3);
    }
}
