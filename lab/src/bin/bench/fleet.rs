//! Fleets within the account's ECS quotas, against the stand-in at AWS-like
//! latency (20 ms a call) with the ECS rate limits as token buckets:
//!
//! 1. **Quiet fleets**: 100 to 5,000 services whose queues need no change, in
//!    one shard and in five, each shard's tick after the refill its spacing
//!    gives; after a minute of warm-up, how many are decided each round, and
//!    how many calls were throttled.
//! 2. **A fleet-wide surge**: 100 and 1,000 services, quiet for a minute, then
//!    all wanting to scale out at once, each by its own backlog: the ticks it
//!    takes to apply every change at the budget's rate, the throttled calls, and
//!    whether each tick's changes were more urgent (more backlog per task) than
//!    every later tick's.
//!
//! The worker keeps within half of each quota (`ecs_quota_share`, default 0.5).

use std::time::Instant;

use fast_autoscaler_core::policy::Action;
use fast_autoscaler_tests::sdk_config;
use fast_autoscaler_tests::stand_in::{RateLimit, StandIn, StandInOptions};
use fast_autoscaler_worker::{Autoscaler, AutoscalerConfig, EvaluateOptions, Tick};
use serde_json::{json, Value};

use crate::scale::{document, services_document, INTERVAL_S};

/// The ECS quotas the stand-in enforces. Service read actions (DescribeServices)
/// are documented at 20 calls a second sustained; the burst and the service
/// modify (UpdateService) figures are this benchmark's assumptions, at the
/// order the ECS throttling page gives, and the worker's defaults. An account's
/// own Service Quotas are what count.
const ECS_LIMITS: [RateLimit; 2] = [
    RateLimit {
        operation: "ecs:DescribeServices",
        burst: 100.0,
        per_second: 20.0,
    },
    RateLimit {
        operation: "ecs:UpdateService",
        burst: 50.0,
        per_second: 5.0,
    },
];

/// Ticks of warm-up before a quiet fleet is measured: a minute, in which every
/// service has been read once.
const WARM_UP_TICKS: usize = 6;

pub fn within_quotas() {
    println!(
        "Within the ECS quotas: 20 ms per call; DescribeServices {}/s (burst {}), UpdateService {}/s (burst {}); \
         the worker keeps to half of each; {INTERVAL_S} s ticks\n",
        ECS_LIMITS[0].per_second, ECS_LIMITS[0].burst, ECS_LIMITS[1].per_second, ECS_LIMITS[1].burst
    );
    quiet_fleets();
    fleet_wide_surges();
}

/// The stand-in, at AWS-like latency and limits.
fn stand_in(visible: u64, backlogs: Vec<u64>) -> StandIn {
    StandIn::start(StandInOptions {
        latency: std::time::Duration::from_millis(20),
        limits: ECS_LIMITS.to_vec(),
        visible,
        backlogs,
        desired: 5,
    })
}

/// `future` on a runtime of its own, on this thread.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

async fn autoscaler(stand_in: &StandIn, document: &Value) -> Autoscaler {
    let aws = sdk_config(&stand_in.endpoint).await;
    let config = AutoscalerConfig::from_document(&document.to_string(), &|_| None)
        .unwrap_or_else(|e| panic!("benchmark configuration rejected: {e}"));
    Autoscaler::new(config, &aws).expect("the providers build")
}

/// One round of `shards` ticks, each after the refill of its share of the
/// interval: how many services were decided (not held) and the slowest tick.
async fn round(autoscaler: &Autoscaler, stand_in: &StandIn, shards: u32) -> (usize, f64) {
    let (mut decided, mut slowest) = (0, 0.0f64);
    for shard in 0..shards {
        stand_in.refill(f64::from(INTERVAL_S) / f64::from(shards));
        let tick =
            Tick::new(fast_autoscaler_worker::now_ms(), INTERVAL_S, 0).for_shard(shard, shards);
        let started = Instant::now();
        let records = autoscaler.evaluate(&tick, EvaluateOptions::default()).await;
        slowest = slowest.max(started.elapsed().as_secs_f64() * 1000.0);
        decided += records.iter().filter(|r| r.action != Action::Hold).count();
    }
    (decided, slowest)
}

fn quiet_fleets() {
    println!(
        "{:>8}  {:>6}  {:>6}  {:>12}  {:>10}  {:>16}  {:>9}  {:>6}",
        "services",
        "shards",
        "rounds",
        "slowest ms",
        "decided",
        "describes/round",
        "throttled",
        "goal"
    );
    for (n, shards, rounds) in [(100, 1, 3), (1000, 1, 3), (5000, 1, 3), (5000, 5, 3)] {
        let stand_in = stand_in(50, Vec::new());
        let (decided, slowest, describes) = block_on(async {
            let autoscaler = autoscaler(&stand_in, &document(&stand_in.endpoint, n)).await;
            for _ in 0..WARM_UP_TICKS {
                round(&autoscaler, &stand_in, shards).await;
            }
            stand_in.reset_calls();
            let (mut worst, mut slowest) = (usize::MAX, 0.0f64);
            for _ in 0..rounds {
                let (decided, ms) = round(&autoscaler, &stand_in, shards).await;
                worst = worst.min(decided);
                slowest = slowest.max(ms);
            }
            let describes = stand_in
                .calls()
                .get("ecs:DescribeServices")
                .copied()
                .unwrap_or(0);
            (worst, slowest, describes / rounds as u64)
        });
        let goal = match (n, shards) {
            (5000, 5) | (1000, 1) if decided == n && stand_in.throttled() == 0 => "met",
            (5000, 5) | (1000, 1) => "missed",
            _ => "-",
        };
        println!(
            "{n:>8}  {shards:>6}  {rounds:>6}  {slowest:>12.0}  {:>10}  {describes:>16}  {:>9}  {goal:>6}",
            format!("{decided}/{n}"),
            stand_in.throttled()
        );
    }
    println!(
        "\ndecided = services not held in the worst round after {WARM_UP_TICKS} rounds of warm-up; \
         goals: 1,000 services in one shard, and 5,000 in five, all decided, none throttled\n"
    );
}

/// `n` services on the target rule (10 messages per task), service i's queue
/// holding `backlogs[i]` messages at 5 tasks: every one wants to scale out.
fn surge_document(endpoint: &str, n: usize) -> Value {
    let target = json!({"scaling_policy": "target", "target_messages_per_task": 10,
        "scale_out_cooldown": 0, "scale_in_cooldown": 0});
    services_document(endpoint, n, &target)
}

/// Distinct backlogs from 1,000 to 50,000 messages, in no order.
fn backlogs(n: usize) -> Vec<u64> {
    (0..n as u64)
        .map(|i| 1_000 + (i * 7_919) % 49_000)
        .collect()
}

/// Warms `n` quiet services up, lands the surge of `backlogs` on them, and
/// ticks until every one is applied (or 200 ticks): the ticks it took, the
/// most changes one tick applied, and each tick's changes.
async fn apply_surge(
    stand_in: &StandIn,
    n: usize,
    backlogs: &[u64],
) -> (usize, usize, Vec<Vec<(String, u32)>>) {
    let autoscaler = autoscaler(stand_in, &surge_document(&stand_in.endpoint, n)).await;
    for _ in 0..WARM_UP_TICKS {
        round(&autoscaler, stand_in, 1).await;
    }
    stand_in.reset_calls();
    stand_in.set_backlogs(backlogs.to_vec());
    let (mut ticks, mut per_tick, mut groups) = (0, 0, Vec::new());
    while stand_in.updates().len() < n && ticks < 200 {
        let before = stand_in.updates().len();
        round(&autoscaler, stand_in, 1).await;
        let applied = stand_in.updates();
        per_tick = per_tick.max(applied.len() - before);
        groups.push(applied[before..].to_vec());
        ticks += 1;
    }
    (ticks, per_tick, groups)
}

/// Whether each tick's changes were at least as urgent as every later
/// tick's: backlog per task, at 5 tasks each.
fn most_urgent_first(groups: &[Vec<(String, u32)>], backlogs: &[u64]) -> bool {
    let urgency = |group: &Vec<(String, u32)>| -> Vec<u64> {
        group
            .iter()
            .filter_map(|(service, _)| service.rsplit('-').next()?.parse::<usize>().ok())
            .filter_map(|i| backlogs.get(i).copied())
            .collect()
    };
    let bounds: Vec<(u64, u64)> = groups
        .iter()
        .map(urgency)
        .filter(|u| !u.is_empty())
        .map(|u| {
            (
                u.iter().copied().min().unwrap_or(0),
                u.iter().copied().max().unwrap_or(0),
            )
        })
        .collect();
    bounds.windows(2).all(|w| w[0].0 >= w[1].1)
}

fn fleet_wide_surges() {
    println!(
        "{:>8}  {:>14}  {:>16}  {:>10}  {:>9}  {:>24}  {:>6}",
        "services",
        "changes/tick",
        "ticks to apply",
        "applied",
        "throttled",
        "the most urgent first",
        "goal"
    );
    for n in [100, 1000] {
        let backlogs = backlogs(n);
        // 50 messages at 5 tasks of 10 each: quiet, until the surge.
        let stand_in = stand_in(50, Vec::new());
        let (ticks, per_tick, groups) = block_on(apply_surge(&stand_in, n, &backlogs));
        let updates = stand_in.updates();
        let in_order = most_urgent_first(&groups, &backlogs);
        let goal = if n == 1000 {
            if updates.len() == n && stand_in.throttled() == 0 && in_order {
                "met"
            } else {
                "missed"
            }
        } else {
            "-"
        };
        println!(
            "{n:>8}  {per_tick:>14}  {ticks:>16}  {:>10}  {:>9}  {:>24}  {goal:>6}",
            format!("{}/{n}", updates.len()),
            stand_in.throttled(),
            if in_order { "yes" } else { "no" }
        );
    }
    println!(
        "\nat {INTERVAL_S} s a tick and half of 5 UpdateService a second: 25 changes a tick, 1,000 in {} s; \
         goal: 1,000 simultaneous scale-outs all applied, the most urgent first, none throttled\n",
        1000 / 25 * INTERVAL_S
    );
}
