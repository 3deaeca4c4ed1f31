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
//! A third side runs the recommended policy with `anticipation: on`. Its queue
//! comes with a week of history in the emulator's CloudWatch ([`history`]): the
//! same surge at the same minute of every hour. The real worker learns that from
//! `GetMetricData` and has tasks working when the surge lands, where the
//! reactive rule waits one tick and one start-up.
//!
//! The table is printed alone; the worker's decision lines (its log, also
//! CloudWatch metrics) go to `target/demo/decisions.jsonl`, or with `--verbose`
//! to stderr as well.

mod fleet;
mod history;
mod traffic;

use std::io::Write;
use std::sync::Arc;

use fast_autoscaler_lab::emulator_or_exit;
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
    /// The first scale-out for the surge, in seconds from it: negative when the
    /// tasks were ordered before it landed.
    first_scale_out_s: Option<i64>,
    /// Tasks working when the surge landed.
    running_at_surge: u32,
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

fn anticipating(queue: &str) -> Value {
    let mut settings = recommended(queue);
    settings["service"] = json!("anticipating");
    settings["anticipation"] = json!("on");
    settings
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
        running_at_surge: 0,
        peak: (1, 0),
        cleared_s: None,
    }
}

#[tokio::main]
async fn main() {
    let verbose = std::env::args().any(|a| a == "--verbose" || a == "-v");
    let emulator = emulator_or_exit("the demo", "demo").await;
    println!(
        "Fast Autoscaler demo, against the AWS emulator (moto) at {}\n",
        emulator.endpoint
    );
    emulator.create_bucket(BUCKET).await;
    scheduler_minute(&emulator).await;

    // The surge lands at the start of a minute, as a cron job's would.
    let surge_ms = (fast_autoscaler_worker::now_ms() + SURGE_AT_S * 1000).div_ceil(60_000) * 60_000;
    let start_ms = surge_ms - SURGE_AT_S * 1000;
    let clock = Arc::new(ManualClock::at(start_ms));
    let mut sides = three_sides(&emulator, &clock, surge_ms).await;
    let log_path = workspace_root().join("target/demo/decisions.jsonl");
    std::fs::create_dir_all(log_path.parent().expect("a folder")).expect("target/demo");
    let mut log = std::fs::File::create(&log_path).expect("the decision log");
    println!(
        "Traffic: {} msg/s, then at {SURGE_AT_S}s a dump of {SURGE_BURST} messages and {SURGE_RATE} msg/s until {SURGE_END_S}s, \
         then {} msg/s again; the same messages reach every service's queue.",
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
        if t == SURGE_AT_S {
            for side in sides.iter_mut() {
                side.running_at_surge = side.fleet.running(now);
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

/// The three sides, and the week of history the anticipating one learns from.
async fn three_sides(emulator: &Emulator, clock: &Arc<ManualClock>, surge_ms: u64) -> [Side; 3] {
    let sides = [
        side(
            emulator,
            clock,
            ("original step rule, every 60 s", "original", 60),
            original,
        )
        .await,
        side(
            emulator,
            clock,
            ("recommended policy, every 10 s", "recommended", 10),
            recommended,
        )
        .await,
        side(
            emulator,
            clock,
            ("recommended + anticipation", "anticipating", 10),
            anticipating,
        )
        .await,
    ];
    let points = history::load_week(
        &aws_sdk_cloudwatch::Client::new(&emulator.aws),
        "jobs-anticipating",
        surge_ms,
    )
    .await;
    println!(
        "History: {points} one-minute datapoints of the anticipating queue's NumberOfMessagesSent in \
         CloudWatch, the last week, with this surge at this minute of every hour."
    );
    sides
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
            // From one start-up and one tick before the surge: an order for it.
            if t + STARTUP_S + side.tick_s >= SURGE_AT_S
                && side.first_scale_out_s.is_none()
                && record.action.as_str() == "scale_out"
            {
                side.first_scale_out_s = Some(t as i64 - SURGE_AT_S as i64);
            }
        }
    }
}

fn header(sides: &[Side]) {
    let labels: Vec<String> = sides.iter().map(|s| format!("{:^31}", s.label)).collect();
    println!("{:>6}  {:>6}  │ {}", "", "", labels.join(" │ "));
    let columns = format!("{:>9}  {:>9}  {:>9}", "waiting", "tasks", "running");
    let columns = vec![columns; sides.len()].join(" │ ");
    println!("{:>6}  {:>6}  │ {columns}", "t", "msg/s");
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
        "{:>6}  {:>6}  │ {}",
        clock_text(t),
        arrival_rate(t),
        cells.join(" │ ")
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
    let names: Vec<String> = sides.iter().map(|s| format!("{:>24}", s.service)).collect();
    println!("{:<34} {}", "", names.join(" "));
    let line = |label: &str, cell: &dyn Fn(&Side) -> String| {
        let cells: Vec<String> = sides.iter().map(|s| format!("{:>24}", cell(s))).collect();
        println!("{label:<34} {}", cells.join(" "));
    };
    line("first scale-out for the surge", &|s| {
        s.first_scale_out_s
            .map_or("never".into(), |d| format!("{d:+} s"))
    });
    line("tasks working when it landed", &|s| {
        s.running_at_surge.to_string()
    });
    line("most tasks, reached at", &|s| {
        format!("{} at {}", s.peak.0, clock_text(s.peak.1))
    });
    line("backlog cleared at", &|s| {
        s.cleared_s.map_or("not yet".into(), clock_text)
    });
    line("message wait p50 / p99 / max", &|s| {
        let (p50, p99, max) = waits(s);
        format!("{p50:.0} / {p99:.0} / {max:.0} s")
    });
    line("task-minutes paid", &|s| {
        format!("{:.0}", s.fleet.paid_ms as f64 / 60_000.0)
    });
    println!();
    for s in &sides[1..] {
        let cost = s.fleet.paid_ms as f64 / sides[0].fleet.paid_ms.max(1) as f64;
        println!(
            "{} against original: p99 wait {:.2}×, task-minutes {cost:.2}×",
            s.service,
            waits(s).1 / waits(&sides[0]).1.max(0.001)
        );
    }
    let mut ok = true;
    for s in sides {
        let final_count = emulator.desired_count(CLUSTER, s.service).await;
        println!("{}: final desiredCount {final_count}", s.service);
        ok &= s.first_scale_out_s.is_some() && final_count < s.peak.0 as i32;
    }
    let (reactive, anticipating) = (&sides[1], &sides[2]);
    if anticipating.running_at_surge <= reactive.running_at_surge {
        eprintln!("the anticipating side had no more tasks working when the surge landed than the reactive one: something is wrong");
        ok = false;
    }
    if !ok {
        eprintln!(
            "a service did not scale out on the surge, or not back in after it: something is wrong"
        );
        std::process::exit(1);
    }
}

/// p50, p99 and the longest of a side's waits, in seconds.
fn waits(side: &Side) -> (f64, f64, f64) {
    let mut w = side.waits_ms.clone();
    w.sort_unstable();
    (
        percentile(&w, 0.5),
        percentile(&w, 0.99),
        percentile(&w, 1.0),
    )
}
