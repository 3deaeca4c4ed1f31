//! `make demo`: the original step rule and Fast Autoscaler's recommended policy,
//! side by side on the same surge, against a local AWS emulator.
//!
//! It starts moto on 127.0.0.1 and provisions two job queues, two ECS services
//! and a state bucket. The real scheduler handler sends one minute of ticks to a
//! tick queue, to show the pipeline's first half. Then eight minutes of traffic
//! run on a virtual clock, so they take about half a minute: the same messages go
//! to both queues, and every tick is evaluated by the real worker engine against
//! the emulator's queues, services and S3 state. The original's rule is evaluated
//! once a minute, as the original ran; the recommended policy every 10 seconds.
//!
//! ECS in the emulator runs no tasks, so the demo plays them ([`fleet`]): a task
//! works 45 seconds after it was asked for, then takes one message a second off
//! its queue (receive and delete), and the wait of every message is measured.
//!
//! The table is printed alone; the worker's decision lines (its log, also
//! CloudWatch metrics) go to `target/demo/decisions.jsonl`, or with `--verbose`
//! to stderr as well.

mod fleet;
mod traffic;

use std::io::Write;
use std::sync::Arc;

use fast_autoscaler_scheduler::{handle_schedule_event, SchedulerConfig};
use fast_autoscaler_tests::{config_from, workspace_root, Emulator};
use fast_autoscaler_worker::{emf, Autoscaler, EvaluateOptions, ManualClock, Tick};
use serde_json::{json, Value};

use fleet::Fleet;
use traffic::{arrival_rate, SURGE_AT_S, SURGE_BURST, SURGE_END_S, SURGE_RATE};

const CLUSTER: &str = "demo";
const BUCKET: &str = "fast-autoscaler-demo";
const STARTUP_S: u64 = 45;
const MU: f64 = 1.0;
const MAX_TASKS: u32 = 50;
/// Virtual seconds simulated, and how often the table prints a row.
const END_S: u64 = 480;
const ROW_EVERY_S: u64 = 30;

/// One autoscaler, its service, its queue and its tasks, and what was seen.
struct Side {
    label: &'static str,
    service: &'static str,
    queue: String,
    tick_s: u64,
    autoscaler: Autoscaler,
    fleet: Fleet,
    sent: usize,
    taken: usize,
    /// Receipt handles of the messages the tasks are processing (in flight).
    in_process: Vec<String>,
    waits_ms: Vec<u64>,
    first_scale_out_s: Option<u64>,
    peak: (u32, u64),
    cleared_s: Option<u64>,
}

fn original(queue: &str) -> Value {
    json!({
        "cluster": CLUSTER, "service": "original", "provider": {"type": "sqs", "queue_url": queue},
        "min_tasks": 1, "max_tasks": MAX_TASKS, "scaling_policy": "step",
        "scale_up_threshold": 100, "scale_down_threshold": 10, "tasks_per_message": 0.01,
        "max_scale_down_factor": 0.5, "scale_out_cooldown": 120, "scale_in_cooldown": 120,
    })
}

fn recommended(queue: &str) -> Value {
    json!({
        "cluster": CLUSTER, "service": "recommended", "provider": {"type": "sqs", "queue_url": queue},
        "min_tasks": 1, "max_tasks": MAX_TASKS, "scaling_policy": "predictive",
        "task_throughput": MU, "task_startup_seconds": STARTUP_S, "target_drain_seconds": STARTUP_S,
        "scale_in_stabilization": STARTUP_S, "scale_in_release": "gradual",
        "scale_in_cooldown": 0, "scale_out_cooldown": 0,
    })
}

async fn side(
    emulator: &Emulator,
    clock: &Arc<ManualClock>,
    (label, service, tick_s): (&'static str, &'static str, u64),
    settings: fn(&str) -> Value,
) -> Side {
    let queue = emulator.create_queue(&format!("jobs-{service}")).await;
    emulator.create_service(CLUSTER, service, 1).await;
    let document = json!({
        "state_bucket": BUCKET, "tick_interval_seconds": tick_s, "services": [settings(&queue)],
    });
    let autoscaler = Autoscaler::new(config_from(&document), &emulator.aws)
        .expect("the providers build")
        .with_clock(clock.clone());
    Side {
        label,
        service,
        queue,
        tick_s,
        autoscaler,
        fleet: Fleet::new(1, STARTUP_S * 1000, MU),
        sent: 0,
        taken: 0,
        in_process: Vec::new(),
        waits_ms: Vec::new(),
        first_scale_out_s: None,
        peak: (1, 0),
        cleared_s: None,
    }
}

#[tokio::main]
async fn main() {
    let verbose = std::env::args().any(|a| a == "--verbose" || a == "-v");
    let Some(emulator) = Emulator::start().await else {
        eprintln!(
            "the demo needs the moto emulator: run `make demo`, which installs it into .venv"
        );
        std::process::exit(1);
    };
    println!(
        "Fast Autoscaler demo, against the AWS emulator (moto) at {}\n",
        emulator.endpoint
    );
    emulator.create_bucket(BUCKET).await;
    scheduler_minute(&emulator).await;

    let start_ms = fast_autoscaler_worker::now_ms();
    let clock = Arc::new(ManualClock::at(start_ms));
    let mut sides = [
        side(
            &emulator,
            &clock,
            ("original step rule, every 60 s", "original", 60),
            original,
        )
        .await,
        side(
            &emulator,
            &clock,
            ("recommended policy, every 10 s", "recommended", 10),
            recommended,
        )
        .await,
    ];
    let log_path = workspace_root().join("target/demo/decisions.jsonl");
    std::fs::create_dir_all(log_path.parent().expect("a folder")).expect("target/demo");
    let mut log = std::fs::File::create(&log_path).expect("the decision log");
    println!(
        "Traffic: {} msg/s, then at {SURGE_AT_S}s a dump of {SURGE_BURST} messages and {SURGE_RATE} msg/s until {SURGE_END_S}s, \
         then {} msg/s again; the same messages reach both services' queues.",
        traffic::BASELINE_RATE,
        traffic::BASELINE_RATE
    );
    println!(
        "Tasks: ready {STARTUP_S}s after they are asked for (Fargate), 1 msg/s each; 1 task at the start, at most {MAX_TASKS}.\n"
    );
    header(&sides);

    let sqs = emulator.sqs();
    let mut arrivals = 0.0;
    for t in 0..=END_S {
        let now = start_ms + t * 1000;
        clock.set(now);
        arrivals += arrival_rate(t);
        let mut count = arrivals.floor() as usize;
        arrivals -= count as f64;
        if t == SURGE_AT_S {
            count += SURGE_BURST;
        }
        for side in sides.iter_mut() {
            traffic::send(&sqs, &side.queue, count, now).await;
            side.sent += count;
            work(&sqs, side, t, now).await;
            if t % side.tick_s == 0 {
                evaluate(&emulator, side, t, now, &mut log, verbose).await;
            }
        }
        if t % ROW_EVERY_S == 0 {
            row(t, &sides, now);
        }
    }
    println!(
        "\nThe worker's decision lines (its log, and CloudWatch metrics): {}",
        log_path.display()
    );
    summary(&sides, &emulator).await;
}

/// The pipeline's first half, for real: one EventBridge minute of ticks.
async fn scheduler_minute(emulator: &Emulator) {
    let tick_queue = emulator.create_queue("fast-autoscaler-ticks").await;
    let scheduler = SchedulerConfig {
        tick_queue_url: tick_queue.clone(),
        interval_s: 10,
        shards: 1,
    };
    let event =
        lambda_runtime::LambdaEvent::new(Default::default(), lambda_runtime::Context::default());
    let report = handle_schedule_event(
        &emulator.sqs(),
        &scheduler,
        &fast_autoscaler_worker::SystemClock,
        event,
    )
    .await
    .expect("scheduler handler");
    println!(
        "Scheduler Lambda (real handler): one EventBridge minute became {} ticks due every 10 s \
         (SQS DelaySeconds 0-50), sent in {} SendMessageBatch call(s).",
        report.ticks_sent, report.batches
    );
    println!(
        "Below, eight minutes run on a virtual clock: each tick goes through the real worker engine \
         against the emulator's SQS queues, ECS services and S3 state.\n"
    );
    emulator.purge(&tick_queue).await;
}

/// The side's running tasks finish last second's messages and take what they can
/// this second; what they hold is in flight, as with real consumers.
async fn work(sqs: &aws_sdk_sqs::Client, side: &mut Side, t: u64, now: u64) {
    traffic::finish(sqs, &side.queue, std::mem::take(&mut side.in_process)).await;
    let capacity = side.fleet.work(now, 1000);
    if capacity > 0 {
        let (waits, handles) = traffic::take(sqs, &side.queue, capacity, now).await;
        if waits.len() < capacity {
            side.fleet.idle();
        }
        side.taken += waits.len();
        side.waits_ms.extend(waits);
        side.in_process = handles;
    }
    if t > SURGE_END_S && side.cleared_s.is_none() && side.sent == side.taken {
        side.cleared_s = Some(t);
    }
}

/// One tick of the side's autoscaler; ECS (the fleet) follows what it applied.
async fn evaluate(
    emulator: &Emulator,
    side: &mut Side,
    t: u64,
    now: u64,
    log: &mut std::fs::File,
    verbose: bool,
) {
    emulator.set_running(CLUSTER, side.service, side.fleet.running(now));
    let tick = Tick::new(now, side.tick_s as u32, 0);
    for record in side
        .autoscaler
        .evaluate(&tick, EvaluateOptions::default())
        .await
    {
        let line = emf::decision_line(&record, side.autoscaler.clock().now_ms());
        writeln!(log, "{line}").expect("writing the decision log");
        if verbose {
            eprintln!("{line}");
        }
        if let (true, Some(new)) = (record.applied, record.new_desired) {
            side.fleet.set_desired(new, now);
            if new > side.peak.0 {
                side.peak = (new, t);
            }
            if t >= SURGE_AT_S
                && side.first_scale_out_s.is_none()
                && record.action.as_str() == "scale_out"
            {
                side.first_scale_out_s = Some(t - SURGE_AT_S);
            }
        }
    }
}

fn header(sides: &[Side]) {
    println!(
        "{:>6}  {:>6}  │ {:^31} │ {:^31}",
        "", "", sides[0].label, sides[1].label
    );
    println!(
        "{:>6}  {:>6}  │ {:>9}  {:>9}  {:>9} │ {:>9}  {:>9}  {:>9}",
        "t", "msg/s", "waiting", "tasks", "running", "waiting", "tasks", "running"
    );
}

fn row(t: u64, sides: &[Side], now: u64) {
    let cells: Vec<String> = sides
        .iter()
        .map(|s| {
            format!(
                "{:>9}  {:>9}  {:>9}",
                s.sent - s.taken,
                s.fleet.desired(),
                s.fleet.running(now)
            )
        })
        .collect();
    println!(
        "{:>6}  {:>6}  │ {} │ {}",
        clock_text(t),
        arrival_rate(t),
        cells[0],
        cells[1]
    );
}

fn clock_text(t: u64) -> String {
    format!("{}:{:02}", t / 60, t % 60)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

async fn summary(sides: &[Side], emulator: &Emulator) {
    println!();
    println!(
        "{:<34} {:>24} {:>24}",
        "", sides[0].service, sides[1].service
    );
    let both = |f: &dyn Fn(&Side) -> String| (f(&sides[0]), f(&sides[1]));
    let line = |label: &str, (a, b): (String, String)| println!("{label:<34} {a:>24} {b:>24}");
    line(
        "first scale-out after the surge",
        both(&|s| {
            s.first_scale_out_s
                .map_or("never".into(), |d| format!("+{d} s"))
        }),
    );
    line(
        "most tasks, reached at",
        both(&|s| format!("{} at {}", s.peak.0, clock_text(s.peak.1))),
    );
    line(
        "backlog cleared at",
        both(&|s| s.cleared_s.map_or("not yet".into(), clock_text)),
    );
    let waits = |s: &Side| {
        let mut w = s.waits_ms.clone();
        w.sort_unstable();
        (
            percentile(&w, 0.5),
            percentile(&w, 0.99),
            percentile(&w, 1.0),
        )
    };
    line(
        "message wait p50 / p99 / max",
        both(&|s| {
            let (p50, p99, max) = waits(s);
            format!("{p50:.0} / {p99:.0} / {max:.0} s")
        }),
    );
    line(
        "task-minutes paid",
        both(&|s| format!("{:.0}", s.fleet.paid_ms as f64 / 60_000.0)),
    );
    let (a, b) = (waits(&sides[0]), waits(&sides[1]));
    let cost = sides[1].fleet.paid_ms as f64 / sides[0].fleet.paid_ms.max(1) as f64;
    println!(
        "\nrecommended against original: p99 wait {:.2}×, task-minutes {cost:.2}×",
        b.1 / a.1.max(0.001)
    );
    let mut ok = true;
    for s in sides {
        let final_count = emulator.desired_count(CLUSTER, s.service).await;
        println!("{}: final desiredCount {final_count}", s.service);
        ok &= s.first_scale_out_s.is_some() && final_count < s.peak.0 as i32;
    }
    if !ok {
        eprintln!(
            "a service did not scale out on the surge, or not back in after it: something is wrong"
        );
        std::process::exit(1);
    }
}
