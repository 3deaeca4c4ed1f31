//! The worker's tick latency and AWS calls per tick for 1, 10 and 100 services
//! against the moto emulator on loopback.
//!
//! Two scenarios per size, each through the real `Autoscaler::evaluate`:
//! - quiet: every queue sits between the thresholds, so no action is considered;
//! - scaling: every service scales out on every tick (state read, claim, UpdateService).
//!
//! Calls are counted by the emulator itself (every request it serves), so retries
//! and hidden calls would show. Latency here is the emulator's: moto is a Python
//! process serving one request at a time per core, far slower than AWS; the call
//! counts are what carries over to production.

use std::time::Instant;

use fast_autoscaler_core::budget::ECS_BUDGET;
use fast_autoscaler_lab::emulator_or_exit;
use fast_autoscaler_tests::{config_from, tick_now, Emulator};
use fast_autoscaler_worker::{Autoscaler, EvaluateOptions};
use serde_json::{json, Value};

use crate::percentile;

const SIZES: [(usize, usize, usize); 3] = [(1, 50, 20), (10, 30, 10), (100, 10, 5)];

struct Run {
    p50_ms: f64,
    p99_ms: f64,
    calls_per_tick: f64,
    breakdown: String,
}

async fn measure(emulator: &Emulator, autoscaler: &Autoscaler, ticks: usize) -> Run {
    let mut latencies = Vec::with_capacity(ticks);
    emulator.reset_calls();
    for _ in 0..ticks {
        let started = Instant::now();
        autoscaler
            .evaluate(&tick_now(), EvaluateOptions::default())
            .await;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let calls = emulator.calls();
    latencies.sort_by(f64::total_cmp);
    let total: u64 = calls.values().sum();
    let breakdown = calls
        .iter()
        .map(|(op, n)| format!("{op} {:.1}", *n as f64 / ticks as f64))
        .collect::<Vec<_>>()
        .join(", ");
    Run {
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        calls_per_tick: total as f64 / ticks as f64,
        breakdown,
    }
}

fn services(queues: &[String], scale_up_threshold: u64) -> Value {
    let list: Vec<Value> = queues
        .iter()
        .enumerate()
        .map(|(i, queue)| {
            json!({
                "cluster": "bench", "service": format!("svc-{i:03}"),
                "provider": {"type": "sqs", "queue_url": queue},
                "min_tasks": 1, "max_tasks": 10000,
                "scale_up_threshold": scale_up_threshold, "scale_down_threshold": 0,
                "tasks_per_message": 0.01, "scale_out_cooldown": 0,
            })
        })
        .collect();
    json!({"state_bucket": "bench-state", "services": list})
}

pub async fn latency_against_moto() {
    println!("Fast Autoscaler worker benchmark against moto on 127.0.0.1 (release build)\n");
    println!(
        "{:>8}  {:<8}  {:>5}  {:>8}  {:>8}  {:>10}  {:>10}  {:>6}  calls per tick by operation",
        "services", "scenario", "ticks", "p50 ms", "p99 ms", "calls/tick", "expected", "ratio"
    );
    for (n, quiet_ticks, scaling_ticks) in SIZES {
        let emulator = emulator_or_exit("the benchmark", "bench").await;
        emulator.create_bucket("bench-state").await;
        let mut queues = Vec::with_capacity(n);
        for i in 0..n {
            let queue = emulator.create_queue(&format!("q-{i:03}")).await;
            // One message each: between the quiet thresholds, above the scaling one.
            emulator.send_messages(&queue, 1).await;
            emulator
                .create_service("bench", &format!("svc-{i:03}"), 1)
                .await;
            queues.push(queue);
        }
        let describes = n.div_ceil(10);
        let quiet = Autoscaler::new(config_from(&services(&queues, 100)), &emulator.aws)
            .expect("the providers build");
        let scaling = Autoscaler::new(config_from(&services(&queues, 0)), &emulator.aws)
            .expect("the providers build");
        // Steady state: one provider call per service, ceil(N/10) DescribeServices and
        // one listing of the state objects. Scaling: plus GetObject of each changed
        // state, PutObject and UpdateService, for as many changes as the ECS
        // budget allows a tick (25 at 10-second ticks); the others wait.
        let changes = n.min(ECS_BUDGET.allowance(10, 1).updates as usize);
        for (name, autoscaler, ticks, expected) in [
            ("quiet", &quiet, quiet_ticks, n + describes + 1),
            (
                "scaling",
                &scaling,
                scaling_ticks,
                n + 3 * changes + describes + 1,
            ),
        ] {
            let run = measure(&emulator, autoscaler, ticks).await;
            println!(
                "{n:>8}  {name:<8}  {ticks:>5}  {:>8.1}  {:>8.1}  {:>10.1}  {expected:>10}  {:>6.2}  {}",
                run.p50_ms,
                run.p99_ms,
                run.calls_per_tick,
                run.calls_per_tick / expected as f64,
                run.breakdown
            );
        }
    }
    println!("\nexpected = N GetQueueAttributes + ceil(N/10) DescribeServices + 1 ListObjectsV2 (+ 3 × min(N, 25) when every service scales: the ECS budget's changes a tick)");
}
