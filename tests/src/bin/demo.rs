//! `make demo`: one minute of Fast Autoscaler against a local AWS emulator.
//!
//! It starts moto on 127.0.0.1, provisions a job queue, an ECS cluster and service
//! and a state bucket, then runs the real scheduler handler once (one EventBridge
//! minute, 5-second ticks) and feeds every tick it sends through the tick queue to
//! the real worker handler. A surge of messages arrives after a few quiet ticks, the
//! consumers drain it later, and the table shows each tick's decision: scale-out
//! on the first tick after the surge, scale-in once the cooldown allows.

use std::time::{Duration, Instant};

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use fast_autoscaler::handler::handle_tick_event;
use fast_autoscaler::policy::Action;
use fast_autoscaler::Autoscaler;
use fast_autoscaler_scheduler::{handle_schedule_event, SchedulerConfig};
use fast_autoscaler_tests::{config_from, send_messages, Emulator};
use serde_json::json;

const CLUSTER: &str = "demo";
const SERVICE: &str = "queue-workers";
const BUCKET: &str = "fast-autoscaler-demo";
const INTERVAL_S: u32 = 5;
const COOLDOWN_S: u64 = 15;
/// When the surge lands and when the consumers have drained it, in seconds from the start.
const SURGE_AT_S: u64 = 12;
const SURGE_MESSAGES: usize = 500;
const DRAINED_AT_S: u64 = 27;

#[tokio::main]
async fn main() {
    let Some(emulator) = Emulator::start().await else {
        eprintln!(
            "the demo needs the moto emulator: run `make demo`, which installs it into .venv"
        );
        std::process::exit(1);
    };
    println!(
        "Fast Autoscaler demo: AWS emulator (moto) at {}",
        emulator.endpoint
    );

    let tick_queue = emulator.create_queue("fast-autoscaler-ticks").await;
    let jobs = emulator.create_queue("jobs").await;
    emulator.create_service(CLUSTER, SERVICE, 1).await;
    emulator.create_bucket(BUCKET).await;
    let document = json!({
        "state_bucket": BUCKET,
        "tick_interval_seconds": INTERVAL_S,
        "services": [{
            "cluster": CLUSTER, "service": SERVICE,
            "provider": {"type": "sqs", "queue_url": jobs},
            "min_tasks": 1, "max_tasks": 20,
            "scale_up_threshold": 100, "scale_down_threshold": 10,
            "tasks_per_message": 0.01, "max_scale_down_factor": 0.5,
            "scale_in_cooldown": COOLDOWN_S,
        }]
    });
    let autoscaler = Autoscaler::new(config_from(&emulator, &document), &emulator.aws);
    println!(
        "service {CLUSTER}/{SERVICE}: min 1, max 20, +1 task per 100 messages above 100, \
         scale-in cooldown {COOLDOWN_S}s, ticks every {INTERVAL_S}s"
    );
    println!(
        "timeline: {SURGE_MESSAGES} messages arrive at {SURGE_AT_S}s; consumers have drained them at {DRAINED_AT_S}s\n"
    );

    // One EventBridge minute: the real scheduler handler sends 60/5 = 12 delayed ticks.
    let sqs = emulator.sqs();
    let scheduler = SchedulerConfig {
        tick_queue_url: tick_queue.clone(),
        interval_s: INTERVAL_S,
    };
    let event =
        lambda_runtime::LambdaEvent::new(Default::default(), lambda_runtime::Context::default());
    let start = Instant::now();
    let start_ms = fast_autoscaler::now_ms();
    let report = handle_schedule_event(&sqs, &scheduler, &fast_autoscaler::SystemClock, event)
        .await
        .expect("scheduler handler");
    println!(
        "scheduler: sent {} ticks in {} SendMessageBatch call(s)\n",
        report.ticks_sent, report.batches
    );

    println!(
        "{:>5}  {:>4}  {:>7}  {:>7}  {:>7}  {:>9}  {:<9}  reason",
        "t(s)", "tick", "lag ms", "visible", "desired", "→ new", "action"
    );
    let (mut surged, mut drained, mut evaluated) = (false, false, 0);
    let mut first_scale_out_after_surge: Option<f64> = None;
    let mut scaled_in = false;
    let mut surge_started_s = 0.0;
    while evaluated < report.ticks_sent && start.elapsed() < Duration::from_secs(75) {
        let elapsed = start.elapsed().as_secs();
        if !surged && elapsed >= SURGE_AT_S {
            // Sent in the background: producers do not wait for the autoscaler.
            let (sqs, jobs) = (emulator.sqs(), jobs.clone());
            tokio::spawn(async move { send_messages(&sqs, &jobs, SURGE_MESSAGES).await });
            surged = true;
            surge_started_s = start.elapsed().as_secs_f64();
            println!(
                "{:>5.1}  ----  surge: {SURGE_MESSAGES} messages arrive",
                start.elapsed().as_secs_f64()
            );
        }
        if !drained && elapsed >= DRAINED_AT_S {
            emulator.purge(&jobs).await;
            drained = true;
            println!(
                "{:>5.1}  ----  consumers have drained the queue",
                start.elapsed().as_secs_f64()
            );
        }
        // Short long-poll so the surge and drain above happen on time.
        let received = sqs
            .receive_message()
            .queue_url(&tick_queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("ReceiveMessage");
        if received.messages().is_empty() {
            continue;
        }
        let mut event = SqsEvent::default();
        for message in received.messages() {
            let mut record = SqsMessage::default();
            record.message_id = message.message_id().map(str::to_string);
            record.body = message.body().map(str::to_string);
            event.records.push(record);
        }
        let outcome = handle_tick_event(
            &autoscaler,
            lambda_runtime::LambdaEvent::new(event, Default::default()),
        )
        .await
        .expect("worker handler");
        for message in received.messages() {
            if let Some(handle) = message.receipt_handle() {
                sqs.delete_message()
                    .queue_url(&tick_queue)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
        evaluated += outcome.received;
        let now = start.elapsed().as_secs_f64();
        for d in &outcome.decisions {
            if d.action == Action::ScaleOut && surged && first_scale_out_after_surge.is_none() {
                // Measured on the tick's due time: when the decision was scheduled to be made.
                let due_s = d.tick_due_ms.saturating_sub(start_ms) as f64 / 1000.0;
                first_scale_out_after_surge = Some(due_s - surge_started_s);
            }
            scaled_in |= d.action == Action::ScaleIn && drained;
            println!(
                "{now:>5.1}  {:>4}  {:>7}  {:>7}  {:>7}  {:>9}  {:<9}  {}",
                evaluated,
                d.tick_lag_ms,
                d.visible.map_or("-".into(), |v| v.to_string()),
                d.current_desired.map_or("-".into(), |v| v.to_string()),
                d.new_desired.map_or("-".into(), |v| v.to_string()),
                d.action.as_str(),
                d.reason
            );
        }
    }

    println!();
    match first_scale_out_after_surge {
        Some(s) => println!("first scale-out: on the tick due {s:.1}s after the surge began (tick interval {INTERVAL_S}s)"),
        None => println!("no scale-out after the surge: something is wrong"),
    }
    println!(
        "scale-in after the drain: {}",
        if scaled_in {
            "yes, once the cooldown had passed"
        } else {
            "no"
        }
    );
    println!(
        "final desiredCount: {}",
        emulator.desired_count(CLUSTER, SERVICE).await
    );
    if first_scale_out_after_surge.is_none() || !scaled_in {
        std::process::exit(1);
    }
}
