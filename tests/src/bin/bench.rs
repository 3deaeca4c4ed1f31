//! `make bench`: scaling quality from the simulator, then the worker's tick latency
//! and AWS calls per tick for 1, 10 and 100 services against the moto emulator on
//! loopback.
//!
//! Scaling quality: every built-in trace through `simulate`'s strategies (the
//! original step rule at 60 s is the baseline; the recommended policy at 10 s is
//! the product), with the ratios the goals are stated in, then the simulator's own
//! speed on 30 days of one-second trace.
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

use fast_autoscaler::{Autoscaler, EvaluateOptions};
use fast_autoscaler_simulator::{self as simulator, Outcome, Trace, Workload};
use fast_autoscaler_tests::{config_from, tick_now, Emulator};
use serde_json::{json, Value};

const SIZES: [(usize, usize, usize); 3] = [(1, 50, 20), (10, 30, 10), (100, 10, 5)];

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_ms.len() as f64).ceil() as usize;
    sorted_ms[rank.clamp(1, sorted_ms.len()) - 1]
}

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

fn scaling_quality() {
    let workload = Workload {
        mu: 1.0,
        startup_s: 45,
        consumption_counter: false,
    };
    let policy = simulator::example_policy();
    println!("Scaling quality (simulator; tasks process 1 msg/s and start after 45 s)\n");
    let mut summary = Vec::new();
    for name in simulator::BUILT_IN_TRACES {
        let hours = if name == "diurnal" { 24 } else { 2 };
        let Ok(trace) = Trace::built_in(name, hours * 3600) else {
            continue;
        };
        let outcomes: Vec<Outcome> = simulator::example_strategies(workload, 10)
            .iter()
            .map(|s| simulator::run(&trace, workload, &policy, s))
            .collect();
        println!("trace {name} ({hours} h)");
        print!("{}", simulator::comparison_table(&outcomes));
        println!();
        summary.extend(simulator::goal_results(name, &outcomes, "recommended 10s"));
    }
    println!("{}", simulator::goal_summary(&summary));

    // The simulator's own speed: 30 days of one-second trace, four strategies.
    let Ok(month) = Trace::built_in("bursty", 30 * 86_400) else {
        return;
    };
    let started = Instant::now();
    for strategy in simulator::standard_strategies(&policy, 10) {
        simulator::run(&month, workload, &policy, &strategy);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "simulator: 30 days of 1-second trace × 4 strategies in {secs:.2} s (goal < 10 s, ratio {:.2})\n",
        secs / 10.0
    );
}

#[tokio::main]
async fn main() {
    scaling_quality();
    println!("Fast Autoscaler worker benchmark against moto on 127.0.0.1 (release build)\n");
    println!(
        "{:>8}  {:<8}  {:>5}  {:>8}  {:>8}  {:>10}  {:>10}  {:>6}  calls per tick by operation",
        "services", "scenario", "ticks", "p50 ms", "p99 ms", "calls/tick", "expected", "ratio"
    );
    for (n, quiet_ticks, scaling_ticks) in SIZES {
        let Some(emulator) = Emulator::start().await else {
            eprintln!("the benchmark needs the moto emulator: run `make bench`, which installs it into .venv");
            std::process::exit(1);
        };
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
        let quiet = Autoscaler::new(
            config_from(&emulator, &services(&queues, 100)),
            &emulator.aws,
        );
        let scaling = Autoscaler::new(config_from(&emulator, &services(&queues, 0)), &emulator.aws);
        // Steady state: one provider call per service and ceil(N/10) DescribeServices.
        // Scaling: plus GetObject, PutObject and UpdateService per service.
        for (name, autoscaler, ticks, expected) in [
            ("quiet", &quiet, quiet_ticks, n + describes),
            ("scaling", &scaling, scaling_ticks, 4 * n + describes),
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
    println!("\nexpected = N GetQueueAttributes + ceil(N/10) DescribeServices (+ 3N when every service scales)");
}
