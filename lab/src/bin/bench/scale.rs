//! Throughput at scale, against the zero-latency AWS stand-in
//! (`fast_autoscaler_tests::stand_in`), so the figures are the autoscaler's own:
//!
//! 1. **Own cost**: a quiet tick at 10, 100, 1,000 and 5,000 services, with no
//!    latency and no limits. The worker runs on a thread of its own (a
//!    current-thread runtime, as every task of the tick is driven there), and that
//!    thread's CPU time is the cost; the stand-in runs on other threads.
//! 2. **AWS-like**: every call answered after 20 ms, with the ECS rate limits as
//!    token buckets refilled by one tick interval between ticks: how many services
//!    one worker decides within its tick deadline.

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use fast_autoscaler_core::policy::Action;
use fast_autoscaler_tests::sdk_config;
use fast_autoscaler_tests::stand_in::{RateLimit, StandIn, StandInOptions};
use fast_autoscaler_worker::{Autoscaler, AutoscalerConfig, EvaluateOptions, Tick};
use serde_json::{json, Value};

use crate::percentile;

/// Services per ECS cluster in the generated configurations.
const CLUSTER_SIZE: usize = 1000;
/// The goal: CPU per service per quiet tick.
const CPU_GOAL_US: f64 = 200.0;
/// The tick interval the configurations use (the deadline is 4/5 of it).
const INTERVAL_S: u32 = 10;

/// The ECS quotas the AWS-like run enforces. Service read actions
/// (DescribeServices) are documented at 20 calls a second sustained; the burst
/// and the service modify (UpdateService) figures are this benchmark's
/// assumptions, at the order the ECS throttling page gives, and an account's own
/// Service Quotas are what count.
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

/// `n` services on step rules over queues on the stand-in: a backlog of 50 is
/// between the thresholds (quiet), 1,000 is above (every service scales out).
fn document(endpoint: &str, n: usize) -> Value {
    let services: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "cluster": format!("bench-{}", i / CLUSTER_SIZE), "service": format!("svc-{i:05}"),
                "provider": {"type": "sqs", "queue_url": format!("{endpoint}/123456789012/q-{i:05}")},
                "min_tasks": 1, "max_tasks": 100000,
                "scale_up_threshold": 100, "scale_down_threshold": 0,
                "tasks_per_message": 0.01, "scale_out_cooldown": 0,
            })
        })
        .collect();
    json!({"state_bucket": "bench-state", "tick_interval_seconds": INTERVAL_S, "services": services})
}

/// One tick's figures.
struct TickFigures {
    wall_ms: f64,
    cpu_ms: f64,
    decided: usize,
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
                    let document = document(&stand_in.endpoint, n).to_string();
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
        decided: records.len() - held,
        held,
    }
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    percentile(&values, 50.0)
}

/// The worker's own CPU per quiet tick, against answers that take no time.
fn own_cost() {
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

/// Services decided within the deadline at 20 ms a call and the ECS rate limits.
fn aws_like() {
    let deadline_ms = f64::from(INTERVAL_S) * 800.0;
    println!(
        "AWS-like: 20 ms per call; ECS limits DescribeServices {}/s (burst {}), UpdateService {}/s (burst {}); \
         buckets refilled by one {INTERVAL_S} s interval between ticks; deadline {deadline_ms:.0} ms\n",
        ECS_LIMITS[0].per_second, ECS_LIMITS[0].burst, ECS_LIMITS[1].per_second, ECS_LIMITS[1].burst
    );
    println!(
        "{:>8}  {:<8}  {:>5}  {:>11}  {:>11}  {:>10}  {:>9}  {:>8}",
        "services",
        "scenario",
        "ticks",
        "wall p50 ms",
        "wall max ms",
        "decided",
        "throttled",
        "goal"
    );
    for (n, scenario, visible, ticks) in [
        (100, "quiet", 50, 5),
        (1000, "quiet", 50, 5),
        (5000, "quiet", 50, 3),
        (100, "scaling", 1000, 3),
        (1000, "scaling", 1000, 3),
    ] {
        let stand_in = StandIn::start(StandInOptions {
            latency: Duration::from_millis(20),
            limits: ECS_LIMITS.to_vec(),
            visible,
            desired: 5,
        });
        let measured = measure(&stand_in, n, ticks, || {
            stand_in.refill(f64::from(INTERVAL_S))
        });
        let wall = median(measured.ticks.iter().map(|t| t.wall_ms));
        let max = measured.ticks.iter().map(|t| t.wall_ms).fold(0.0, f64::max);
        let decided = measured.ticks.iter().map(|t| t.decided).min().unwrap_or(0);
        let goal = if n == 1000 && scenario == "quiet" {
            if decided == n {
                "met"
            } else {
                "missed"
            }
        } else {
            "-"
        };
        println!(
            "{n:>8}  {scenario:<8}  {ticks:>5}  {wall:>11.0}  {max:>11.0}  {:>10}  {:>9}  {goal:>8}",
            format!("{decided}/{n}"),
            stand_in.throttled()
        );
    }
    println!("\ndecided = services not held in the worst tick; goal: 1,000 services decided within the deadline\n");
}

pub async fn throughput() {
    // The measurements run on threads of their own; keep this runtime idle.
    tokio::task::spawn_blocking(|| {
        own_cost();
        aws_like();
    })
    .await
    .expect("throughput benchmark");
}
