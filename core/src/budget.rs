//! The ECS API budget: how many calls of each kind one tick may make, so that
//! the autoscaler's calls stay within a share of the account's quotas.
//!
//! ECS throttles per account and Region with token buckets: a bucket of `burst`
//! tokens, refilled at `per_second`. `UpdateService` shares the "service modify"
//! bucket with `CreateService` and `DeleteService`, so an autoscaler that spends
//! it on a surge starves the team's own deployments at that very moment;
//! `DescribeServices` shares the "service read" bucket with every deploy
//! pipeline's waits. The autoscaler therefore keeps to a `share` of each bucket,
//! as if it owned one `share` times the size, refilled `share` times as fast.
//!
//! Each shard's tick comes `interval / shards` after the previous shard's, so one
//! tick may spend what refills in that time, and never more than its share of the
//! burst: `min(share × burst, share × per_second × interval / shards)` calls.
//! Spent at the start of its tick and refilled by the next, the bucket never
//! runs dry, and no call is sent that the budget says would be throttled.

use serde::Serialize;

/// One ECS token bucket, as AWS documents it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quota {
    /// Tokens refilled each second: the sustained rate.
    pub per_second: f64,
    /// Tokens the bucket holds: the most calls in one second.
    pub burst: f64,
}

/// The quotas the autoscaler keeps within, and its share of them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EcsBudget {
    /// The share of each quota the autoscaler may use (the rest is left for
    /// deployments and people), above 0 and at most 1.
    pub share: f64,
    /// Service read actions: DescribeServices.
    pub service_read: Quota,
    /// Service modify actions: UpdateService (and CreateService, DeleteService).
    pub service_modify: Quota,
}

impl Default for EcsBudget {
    /// Half of the documented default quotas: service reads 20 a second with a
    /// burst of 100, service modifies 5 a second with a burst of 50.
    fn default() -> Self {
        EcsBudget {
            share: 0.5,
            service_read: Quota {
                per_second: 20.0,
                burst: 100.0,
            },
            service_modify: Quota {
                per_second: 5.0,
                burst: 50.0,
            },
        }
    }
}

/// What one tick of one shard may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TickAllowance {
    /// DescribeServices calls (each describes up to 10 services of a cluster).
    pub describe_calls: u32,
    /// UpdateService calls.
    pub updates: u32,
}

impl EcsBudget {
    /// The calls one tick of one of `shards` shards may make, ticks `interval_s`
    /// apart per shard. At least one of each, so a tiny share still moves.
    pub fn allowance(&self, interval_s: u32, shards: u32) -> TickAllowance {
        let spacing_s = f64::from(interval_s) / f64::from(shards.max(1));
        let calls = |quota: Quota| {
            let refilled = self.share * quota.per_second * spacing_s;
            let burst = self.share * quota.burst;
            (refilled.min(burst).floor() as u32).max(1)
        };
        TickAllowance {
            describe_calls: calls(self.service_read),
            updates: calls(self.service_modify),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_spends_its_share_of_what_refills_and_never_more_than_of_the_burst() {
        let budget = EcsBudget::default();
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
        let tiny = EcsBudget {
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
            let budget = EcsBudget::default();
            let quota = budget.service_modify;
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
