//! `make reliability`: a soak of the real worker against moto with faults injected
//! into a share of its AWS calls, checking every tick that nothing wrong happened.
//!
//! Four services (two step-rule, one target, one predictive with stabilization, so
//! the S3 state is read and written on every tick) see their queues move between
//! surges and idle. Each AWS call of the autoscaler goes through
//! [`fast_autoscaler_tests::faults`]; the checks read ECS and S3 through clean
//! clients. After every tick:
//!
//! - every desiredCount is within its bounds;
//! - no count went down on a tick whose metrics failed;
//! - no two applied actions of a service fall inside one cooldown (by the action
//!   times the state records);
//! - every state object parses;
//! - every `hold` carries its cause.
//!
//! Usage: `reliability [--ticks N] [--fault-rate R]` (defaults 1000 and 0.2). Exits
//! 1 if any wrong action or corrupt state was seen.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fast_autoscaler_core::policy::Action;
use fast_autoscaler_core::state::ServiceState;
use fast_autoscaler_lab::arg;
use fast_autoscaler_tests::faults::{FaultPlan, KINDS};
use fast_autoscaler_tests::{take_messages, tick_now, Emulator};
use fast_autoscaler_worker::store::StateStore;
use fast_autoscaler_worker::{Autoscaler, AutoscalerConfig, EvaluateOptions};
use serde_json::json;

const BUCKET: &str = "soak-state";
const CLUSTER: &str = "soak";
/// Ticks per phase: surge, then idle, and so on.
const PHASE_TICKS: usize = 20;
const MIN_TASKS: u32 = 1;
const MAX_TASKS: u32 = 20;
const SCALE_IN_COOLDOWN_S: u64 = 2;
const SCALE_OUT_COOLDOWN_S: u64 = 1;

#[derive(Default)]
struct Figures {
    ticks: usize,
    evaluations: usize,
    actions: usize,
    holds: usize,
    holds_without_cause: usize,
    out_of_bounds: usize,
    scale_in_on_failed_metrics: usize,
    inside_cooldown: usize,
    corrupt_states: usize,
}

/// Empties a queue.
async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str) {
    while take_messages(sqs, queue, 10).await > 0 {}
}

#[tokio::main]
async fn main() {
    let ticks: usize = arg("--ticks", 1000);
    let rate: f64 = arg("--fault-rate", 0.2);
    if !(0.0..=1.0).contains(&rate) {
        eprintln!("--fault-rate {rate}: expected a share from 0 to 1");
        std::process::exit(2);
    }
    let Some(emulator) = Emulator::start().await else {
        eprintln!("the soak needs the moto emulator: run `make reliability`, which installs it into .venv");
        std::process::exit(1);
    };
    emulator.create_bucket(BUCKET).await;
    let kinds = [
        json!({"scaling_policy": "step", "scale_up_threshold": 50, "scale_down_threshold": 10, "tasks_per_message": 0.02}),
        json!({"scaling_policy": "step", "scale_up_threshold": 20, "scale_down_threshold": 5, "tasks_per_message": 0.05, "max_scale_down_factor": 0.5}),
        json!({"scaling_policy": "target", "target_messages_per_task": 20}),
        json!({"scaling_policy": "predictive", "task_throughput": 5, "task_startup_seconds": 5, "target_drain_seconds": 10, "scale_in_stabilization": 3}),
    ];
    let mut services = Vec::new();
    let mut queues = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let name = format!("svc-{i}");
        let queue = emulator.create_queue(&format!("soak-{i}")).await;
        emulator.create_service(CLUSTER, &name, 2).await;
        let mut service = json!({
            "cluster": CLUSTER, "service": name,
            "provider": {"type": "sqs", "queue_url": queue},
            "min_tasks": MIN_TASKS, "max_tasks": MAX_TASKS,
            "scale_in_cooldown": SCALE_IN_COOLDOWN_S, "scale_out_cooldown": SCALE_OUT_COOLDOWN_S,
        });
        if let (Some(s), Some(k)) = (service.as_object_mut(), kind.as_object()) {
            s.extend(k.clone());
        }
        services.push(service);
        queues.push(queue);
    }
    let document =
        json!({"state_bucket": BUCKET, "tick_interval_seconds": 10, "services": services});

    // Faults go into every call the autoscaler makes, providers included; slow ones
    // outlast the SDK's attempt time-out.
    let plan = FaultPlan::new(
        rate,
        fast_autoscaler_worker::common::aws::AWS_ATTEMPT_TIMEOUT + Duration::from_millis(200),
        0x5eed,
    );
    let faulty = emulator.aws.to_builder().http_client(plan.client()).build();
    let config = AutoscalerConfig::from_document(&document.to_string(), &|_| None)
        .unwrap_or_else(|e| panic!("soak configuration rejected: {e}"));
    let autoscaler = Autoscaler::new(config, &faulty).expect("the providers build");

    println!(
        "soak: {ticks} ticks over {} services, {:.0}% of the autoscaler's AWS calls faulted ({})",
        kinds.len(),
        rate * 100.0,
        KINDS.join(", ")
    );
    let sqs = aws_sdk_sqs::Client::new(&emulator.aws);
    let started = Instant::now();
    let mut figures = Figures::default();
    // Per service: the recorded time of the last applied scale-out and of the last applied action.
    let mut last_applied: HashMap<String, (Option<u64>, Option<u64>)> = HashMap::new();
    for tick_number in 0..ticks {
        if tick_number % PHASE_TICKS == 0 {
            let surge = (tick_number / PHASE_TICKS).is_multiple_of(2);
            for queue in &queues {
                if surge {
                    emulator.send_messages(queue, 400).await;
                } else {
                    drain(&sqs, queue).await;
                }
            }
        }
        if tick_number > 0 && tick_number % 100 == 0 {
            eprintln!(
                "{tick_number} ticks, {:.0} s, {} actions, {} wrong",
                started.elapsed().as_secs_f64(),
                figures.actions,
                figures.out_of_bounds
                    + figures.scale_in_on_failed_metrics
                    + figures.inside_cooldown
            );
        }
        let mut before = HashMap::new();
        for i in 0..kinds.len() {
            let name = format!("svc-{i}");
            before.insert(
                name.clone(),
                emulator.desired_count(CLUSTER, &name).await as u32,
            );
        }
        let records = autoscaler
            .evaluate(&tick_now(), EvaluateOptions::default())
            .await;
        figures.ticks += 1;
        for record in &records {
            figures.evaluations += 1;
            let name = record
                .service
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let after = emulator.desired_count(CLUSTER, &name).await as u32;
            let was = before[&name];
            if !(MIN_TASKS..=MAX_TASKS).contains(&after) {
                figures.out_of_bounds += 1;
                eprintln!("WRONG: {name} at {after}, outside [{MIN_TASKS}, {MAX_TASKS}]");
            }
            if record.action == Action::Hold {
                figures.holds += 1;
                if record.reason.trim().is_empty() {
                    figures.holds_without_cause += 1;
                }
            }
            if after < was && record.visible.is_none() {
                figures.scale_in_on_failed_metrics += 1;
                eprintln!(
                    "WRONG: {name} scaled in {was} → {after} with failed metrics: {}",
                    record.reason
                );
            }
            let state = emulator
                .state_object(BUCKET, &StateStore::key(CLUSTER, &name))
                .await;
            let parsed = state.as_deref().map(ServiceState::parse);
            if let Some(Err(problem)) = &parsed {
                figures.corrupt_states += 1;
                eprintln!("CORRUPT: {name}: {problem}");
            }
            if after != was {
                figures.actions += 1;
                let at = parsed
                    .and_then(Result::ok)
                    .and_then(|s| s.last_action)
                    .filter(|a| a.to == after)
                    .map(|a| a.at_ms);
                let entry = last_applied.entry(name.clone()).or_default();
                if let Some(at) = at {
                    let (cooldown_s, since) = if after > was {
                        (SCALE_OUT_COOLDOWN_S, entry.0)
                    } else {
                        (SCALE_IN_COOLDOWN_S, entry.1)
                    };
                    if since.is_some_and(|s| at < s + cooldown_s * 1000) {
                        figures.inside_cooldown += 1;
                        eprintln!("WRONG: {name} acted at {at} ms, inside the {cooldown_s} s cooldown of its action at {since:?} ms");
                    }
                    if after > was {
                        entry.0 = Some(at);
                    }
                    entry.1 = Some(at);
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let injected = plan.injected();
    let wrong = figures.out_of_bounds
        + figures.scale_in_on_failed_metrics
        + figures.inside_cooldown
        + figures.holds_without_cause;
    println!("\n{:<40} {:>10}", "ticks", figures.ticks);
    println!("{:<40} {:>10}", "service evaluations", figures.evaluations);
    println!(
        "{:<40} {:>10}",
        "AWS requests by the autoscaler",
        plan.requests()
    );
    for (kind, n) in KINDS.iter().zip(injected) {
        println!("{:<40} {:>10}", format!("faults injected: {kind}"), n);
    }
    for (operation, requests, faults) in plan.by_operation() {
        println!(
            "{:<40} {:>10} of {requests}",
            format!("faults in {operation}"),
            faults
        );
    }
    let total_faults: u64 = injected.iter().sum();
    println!(
        "{:<40} {:>10} ({:.1}% of requests)",
        "faults injected: total",
        total_faults,
        100.0 * total_faults as f64 / plan.requests().max(1) as f64
    );
    println!(
        "{:<40} {:>10}",
        "actions taken (desiredCount changed)", figures.actions
    );
    println!(
        "{:<40} {:>10}",
        "holds (each logged with its cause)", figures.holds
    );
    println!(
        "{:<40} {:>10}",
        "wrong: outside bounds", figures.out_of_bounds
    );
    println!(
        "{:<40} {:>10}",
        "wrong: scale-in on failed metrics", figures.scale_in_on_failed_metrics
    );
    println!(
        "{:<40} {:>10}",
        "wrong: two actions inside one cooldown", figures.inside_cooldown
    );
    println!(
        "{:<40} {:>10}",
        "wrong: hold without a cause", figures.holds_without_cause
    );
    println!("{:<40} {:>10}", "wrong actions (must be 0)", wrong);
    println!(
        "{:<40} {:>10}",
        "state corruptions (must be 0)", figures.corrupt_states
    );
    println!("{:<40} {:>10.1}", "seconds", elapsed);
    if wrong > 0 || figures.corrupt_states > 0 {
        std::process::exit(1);
    }
}
