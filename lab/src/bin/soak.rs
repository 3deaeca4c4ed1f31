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

use fast_autoscaler_worker::core::target::TargetId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use fast_autoscaler_core::policy::Action;
use fast_autoscaler_core::state::ServiceState;
use fast_autoscaler_lab::{arg, emulator_or_exit, share_arg};
use fast_autoscaler_tests::faults::{FaultPlan, KINDS};
use fast_autoscaler_tests::{take_messages, tick_now, Emulator};
use fast_autoscaler_worker::record::DecisionRecord;
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

impl Figures {
    /// Every wrong action seen: each is a failure of the soak.
    fn wrong(&self) -> usize {
        self.out_of_bounds
            + self.scale_in_on_failed_metrics
            + self.inside_cooldown
            + self.holds_without_cause
    }
}

/// Per service: the recorded time of the last applied scale-out and of the
/// last applied action, to check cooldowns by what the state says.
type LastApplied = HashMap<String, (Option<u64>, Option<u64>)>;

/// Empties a queue.
async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str) {
    while take_messages(sqs, queue, 10).await > 0 {}
}

/// The policies of the four services: two step-rule, one target, one
/// predictive with stabilization.
fn policies() -> [serde_json::Value; 4] {
    [
        json!({"scaling_policy": "step", "scale_up_threshold": 50, "scale_down_threshold": 10, "tasks_per_message": 0.02}),
        json!({"scaling_policy": "step", "scale_up_threshold": 20, "scale_down_threshold": 5, "tasks_per_message": 0.05, "max_scale_down_factor": 0.5}),
        json!({"scaling_policy": "target", "target_messages_per_task": 20}),
        json!({"scaling_policy": "predictive", "task_throughput": 5, "task_startup_seconds": 5, "target_drain_seconds": 10, "scale_in_stabilization": 3}),
    ]
}

/// Creates each service's queue and ECS service; answers the worker's
/// configuration document and the queues.
async fn create_services(emulator: &Emulator) -> (serde_json::Value, Vec<String>) {
    let mut services = Vec::new();
    let mut queues = Vec::new();
    for (i, kind) in policies().iter().enumerate() {
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
    (document, queues)
}

/// Surges every queue at the start of one phase, drains them at the next.
async fn next_phase(
    emulator: &Emulator,
    sqs: &aws_sdk_sqs::Client,
    queues: &[String],
    tick: usize,
) {
    if !tick.is_multiple_of(PHASE_TICKS) {
        return;
    }
    let surge = (tick / PHASE_TICKS).is_multiple_of(2);
    for queue in queues {
        if surge {
            emulator.send_messages(queue, 400).await;
        } else {
            drain(sqs, queue).await;
        }
    }
}

/// Every service's desired count now, by name.
async fn desired_counts(emulator: &Emulator) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for i in 0..policies().len() {
        let name = format!("svc-{i}");
        let count = emulator.desired_count(CLUSTER, &name).await as u32;
        counts.insert(name, count);
    }
    counts
}

/// Checks one service's evaluation of a tick: bounds, holds, scale-in on
/// failed metrics, the state object, and cooldowns between applied actions.
async fn check(
    emulator: &Emulator,
    record: &DecisionRecord,
    before: &HashMap<String, u32>,
    last_applied: &mut LastApplied,
    figures: &mut Figures,
) {
    figures.evaluations += 1;
    let name = record
        .service
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let after = emulator.desired_count(CLUSTER, &name).await as u32;
    let was = before.get(&name).copied().unwrap_or(after);
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
        .state_object(
            BUCKET,
            &StateStore::key(&TargetId::ecs_service(CLUSTER, &name)),
        )
        .await;
    let parsed = state.as_deref().map(ServiceState::parse);
    if let Some(Err(problem)) = &parsed {
        figures.corrupt_states += 1;
        eprintln!("CORRUPT: {name}: {problem}");
    }
    if after == was {
        return;
    }
    figures.actions += 1;
    let at = parsed
        .and_then(Result::ok)
        .and_then(|s| s.last_action)
        .filter(|a| a.to == after)
        .map(|a| a.at_ms);
    if let Some(at) = at {
        check_cooldown(
            &name,
            (was, after, at),
            last_applied.entry(name.clone()).or_default(),
            figures,
        );
    }
}

/// Whether an action applied at `at` ms (from `was` to `after`) came inside
/// the cooldown of the service's last one; records it as the last.
fn check_cooldown(
    name: &str,
    (was, after, at): (u32, u32, u64),
    last: &mut (Option<u64>, Option<u64>),
    figures: &mut Figures,
) {
    let (cooldown_s, since) = if after > was {
        (SCALE_OUT_COOLDOWN_S, last.0)
    } else {
        (SCALE_IN_COOLDOWN_S, last.1)
    };
    if since.is_some_and(|s| at < s + cooldown_s * 1000) {
        figures.inside_cooldown += 1;
        eprintln!("WRONG: {name} acted at {at} ms, inside the {cooldown_s} s cooldown of its action at {since:?} ms");
    }
    if after > was {
        last.0 = Some(at);
    }
    last.1 = Some(at);
}

/// One labelled figure of the report.
fn line(label: impl std::fmt::Display, value: impl std::fmt::Display) {
    println!("{:<40} {:>10}", label.to_string(), value);
}

/// The figures, with the faults injected by kind and by operation.
fn report(figures: &Figures, plan: &FaultPlan, elapsed_s: f64) {
    println!();
    line("ticks", figures.ticks);
    line("service evaluations", figures.evaluations);
    line("AWS requests by the autoscaler", plan.requests());
    let injected = plan.injected();
    for (kind, n) in KINDS.iter().zip(injected) {
        line(format!("faults injected: {kind}"), n);
    }
    for (operation, requests, faults) in plan.by_operation() {
        let label = format!("faults in {operation}");
        println!("{label:<40} {faults:>10} of {requests}");
    }
    let total_faults: u64 = injected.iter().sum();
    let share = 100.0 * total_faults as f64 / plan.requests().max(1) as f64;
    println!(
        "{:<40} {total_faults:>10} ({share:.1}% of requests)",
        "faults injected: total"
    );
    line("actions taken (desiredCount changed)", figures.actions);
    line("holds (each logged with its cause)", figures.holds);
    line("wrong: outside bounds", figures.out_of_bounds);
    line(
        "wrong: scale-in on failed metrics",
        figures.scale_in_on_failed_metrics,
    );
    line(
        "wrong: two actions inside one cooldown",
        figures.inside_cooldown,
    );
    line("wrong: hold without a cause", figures.holds_without_cause);
    line("wrong actions (must be 0)", figures.wrong());
    line("state corruptions (must be 0)", figures.corrupt_states);
    println!("{:<40} {elapsed_s:>10.1}", "seconds");
}

#[tokio::main]
async fn main() {
    let ticks: usize = arg("--ticks", 1000);
    let rate = share_arg("--fault-rate", 0.2);
    let emulator = emulator_or_exit("the soak", "reliability").await;
    emulator.create_bucket(BUCKET).await;
    let (document, queues) = create_services(&emulator).await;

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
        queues.len(),
        rate * 100.0,
        KINDS.join(", ")
    );
    let sqs = aws_sdk_sqs::Client::new(&emulator.aws);
    let started = Instant::now();
    let mut figures = Figures::default();
    let mut last_applied = LastApplied::new();
    for tick_number in 0..ticks {
        next_phase(&emulator, &sqs, &queues, tick_number).await;
        if tick_number > 0 && tick_number % 100 == 0 {
            eprintln!(
                "{tick_number} ticks, {:.0} s, {} actions, {} wrong",
                started.elapsed().as_secs_f64(),
                figures.actions,
                figures.wrong()
            );
        }
        let before = desired_counts(&emulator).await;
        let records = autoscaler
            .evaluate(&tick_now(), EvaluateOptions::default())
            .await;
        figures.ticks += 1;
        for record in &records {
            check(&emulator, record, &before, &mut last_applied, &mut figures).await;
        }
    }
    report(&figures, &plan, started.elapsed().as_secs_f64());
    if figures.wrong() > 0 || figures.corrupt_states > 0 {
        std::process::exit(1);
    }
}
