//! Throughput at scale, against the zero-latency AWS stand-in
//! (`fast_autoscaler_tests::stand_in`), so the figures are the autoscaler's own:
//!
//! 1. **Own cost**: a quiet tick at 10, 100, 1,000 and 5,000 services, with no
//!    latency and no limits. The worker runs on a thread of its own (a
//!    current-thread runtime, as every task of the tick is driven there), and that
//!    thread's CPU time is the cost; the stand-in runs on other threads.
//! 2. **AWS-like** (see [`crate::fleet`]): every call answered after 20 ms, with
//!    the ECS rate limits as token buckets: what a fleet costs within the quotas.

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use fast_autoscaler_core::policy::Action;
use fast_autoscaler_tests::sdk_config;
use fast_autoscaler_tests::stand_in::{StandIn, StandInOptions};
use fast_autoscaler_worker::{Autoscaler, AutoscalerConfig, EvaluateOptions, Tick};
use serde_json::{json, Value};

use crate::percentile;

/// Services per ECS cluster in the generated configurations.
pub(crate) const CLUSTER_SIZE: usize = 1000;
/// The goal: CPU per service per quiet tick.
const CPU_GOAL_US: f64 = 200.0;
/// The tick interval the configurations use (the deadline is 4/5 of it).
pub(crate) const INTERVAL_S: u32 = 10;

/// `n` services over queues on the stand-in (service i reads queue `q-{i}`),
/// each with `policy`'s settings, 1 to 100,000 tasks.
pub(crate) fn services_document(endpoint: &str, n: usize, policy: &Value) -> Value {
    let services: Vec<Value> = (0..n)
        .map(|i| {
            let mut service = json!({
                "cluster": format!("bench-{}", i / CLUSTER_SIZE), "service": format!("svc-{i:05}"),
                "provider": {"type": "sqs", "queue_url": format!("{endpoint}/123456789012/q-{i:05}")},
                "min_tasks": 1, "max_tasks": 100000,
            });
            if let (Some(service), Some(policy)) = (service.as_object_mut(), policy.as_object()) {
                service.extend(policy.clone());
            }
            service
        })
        .collect();
    json!({"state_bucket": "bench-state", "tick_interval_seconds": INTERVAL_S, "services": services})
}

/// `n` services on step rules: a backlog of 50 is between the thresholds
/// (quiet), 1,000 is above (every service scales out).
pub(crate) fn document(endpoint: &str, n: usize) -> Value {
    let step = json!({"scale_up_threshold": 100, "scale_down_threshold": 0,
        "tasks_per_message": 0.01, "scale_out_cooldown": 0});
    services_document(endpoint, n, &step)
}

/// One tick's figures.
struct TickFigures {
    wall_ms: f64,
    cpu_ms: f64,
    held: usize,
}

/// What `ticks` ticks of `n` services cost, measured on a thread of their own.
struct Measured {
    cold_start_ms: f64,
    ticks: Vec<TickFigures>,
}

/// Builds the worker for `n` services on its own thread and runtime and evaluates
/// `ticks` ticks (after one warm-up), calling `between` before each.
fn measure(stand_in: &StandIn, n: usize, ticks: usize, between: impl Fn() + Sync) -> Measured {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let aws = sdk_config(&stand_in.endpoint).await;
                    // The stand-in has no quotas here: a budget as large as the
                    // worker allows, so every service is described every tick and
                    // the cost measured is the worker's own.
                    let mut document = document(&stand_in.endpoint, n);
                    document["ecs_quota_share"] = json!(1);
                    document["ecs_service_reads_per_second"] = json!(10_000);
                    document["ecs_service_read_burst"] = json!(100_000);
                    let document = document.to_string();
                    let started = Instant::now();
                    let config = AutoscalerConfig::from_document(&document, &|_| None)
                        .unwrap_or_else(|e| panic!("benchmark configuration rejected: {e}"));
                    let autoscaler = Autoscaler::new(config, &aws).expect("the providers build");
                    let cold_start_ms = started.elapsed().as_secs_f64() * 1000.0;
                    between();
                    tick(&autoscaler).await;
                    let mut figures = Vec::with_capacity(ticks);
                    for _ in 0..ticks {
                        between();
                        figures.push(tick(&autoscaler).await);
                    }
                    Measured {
                        cold_start_ms,
                        ticks: figures,
                    }
                })
            })
            .join()
            .expect("measuring thread")
    })
}

async fn tick(autoscaler: &Autoscaler) -> TickFigures {
    let tick = Tick::new(fast_autoscaler_worker::now_ms(), INTERVAL_S, 0);
    let (wall, cpu) = (Instant::now(), ThreadTime::now());
    let records = autoscaler.evaluate(&tick, EvaluateOptions::default()).await;
    let held = records.iter().filter(|r| r.action == Action::Hold).count();
    TickFigures {
        wall_ms: wall.elapsed().as_secs_f64() * 1000.0,
        cpu_ms: cpu.elapsed().as_secs_f64() * 1000.0,
        held,
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    percentile(&values, 50.0)
}

/// The worker's own CPU per quiet tick, against answers that take no time.
pub fn own_cost() {
    println!("Worker's own cost per quiet tick (zero-latency AWS stand-in, one runtime thread)\n");
    println!(
        "{:>8}  {:>5}  {:>13}  {:>11}  {:>12}  {:>15}  {:>9}  {:>5}",
        "services",
        "ticks",
        "cold start ms",
        "wall p50 ms",
        "CPU p50 ms",
        "CPU/service µs",
        "goal µs",
        "ratio"
    );
    for (n, ticks) in [(10, 50), (100, 30), (1000, 10), (5000, 5)] {
        let stand_in = StandIn::start(StandInOptions {
            latency: Duration::ZERO,
            limits: Vec::new(),
            visible: 50,
            backlogs: Vec::new(),
            desired: 5,
        });
        let measured = measure(&stand_in, n, ticks, || {});
        let wall = median(measured.ticks.iter().map(|t| t.wall_ms));
        let cpu = median(measured.ticks.iter().map(|t| t.cpu_ms));
        let held: usize = measured.ticks.iter().map(|t| t.held).sum();
        assert_eq!(held, 0, "a quiet tick against the stand-in held a service");
        let per_service_us = cpu * 1000.0 / n as f64;
        println!(
            "{n:>8}  {ticks:>5}  {:>13.1}  {wall:>11.1}  {cpu:>12.2}  {per_service_us:>15.1}  {CPU_GOAL_US:>9.0}  {:>5.2}",
            measured.cold_start_ms,
            per_service_us / CPU_GOAL_US
        );
    }
    println!();
}
