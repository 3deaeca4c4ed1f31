//! The scheduler, and the Lambda binaries under cargo-lambda's runtime emulator.

use std::time::{Duration, Instant};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_sqs::types::QueueAttributeName;
use fast_autoscaler_scheduler::{handle_schedule_event, plan_minute, SchedulerConfig};
use fast_autoscaler_tests::{emulator_or_skip, workspace_binary, Emulator, LambdaEmulator};
use fast_autoscaler_worker::{now_ms, SystemClock, Tick};
use serde_json::{json, Value};

async fn queue_counts(emulator: &Emulator, queue: &str) -> (u64, u64) {
    let answer = emulator
        .sqs()
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .expect("GetQueueAttributes");
    let attributes = answer.attributes().expect("attributes");
    let read = |name: QueueAttributeName| attributes[&name].parse::<u64>().expect("count");
    (
        read(QueueAttributeName::ApproximateNumberOfMessages),
        read(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
    )
}

/// Receives (and deletes) every tick receivable now.
async fn receive_ticks(emulator: &Emulator, queue: &str) -> Vec<Tick> {
    let answer = emulator
        .sqs()
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("ReceiveMessage");
    let mut ticks = Vec::new();
    for message in answer.messages() {
        ticks.push(Tick::parse(message.body().expect("body")).expect("a valid tick"));
        emulator
            .sqs()
            .delete_message()
            .queue_url(queue)
            .receipt_handle(message.receipt_handle().expect("handle"))
            .send()
            .await
            .expect("DeleteMessage");
    }
    ticks
}

fn schedule_event() -> lambda_runtime::LambdaEvent<EventBridgeEvent> {
    let mut event = EventBridgeEvent::default();
    event.detail_type = "Scheduled Event".into();
    event.source = "aws.events".into();
    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default())
}

#[tokio::test]
async fn scheduler_ticks_become_receivable_at_their_delays() {
    let emulator = emulator_or_skip!();
    let queue = emulator.create_queue("ticks").await;
    let config = SchedulerConfig {
        tick_queue_url: queue.clone(),
        interval_s: 10,
        shards: 1,
    };
    let sent_at = Instant::now();
    let report = handle_schedule_event(&emulator.sqs(), &config, &SystemClock, schedule_event())
        .await
        .expect("scheduled");
    assert_eq!(
        (report.ticks_sent, report.batches, report.entries_retried),
        (6, 1, 0)
    );

    // At 0 s only tick 0 is receivable; the five others are delayed.
    assert_eq!(queue_counts(&emulator, &queue).await, (1, 5));
    let first = receive_ticks(&emulator, &queue).await;
    assert_eq!(first.iter().map(|t| t.seq).collect::<Vec<_>>(), [0]);

    // Tick k becomes receivable k × 10 s later, not before.
    for k in 1..=2u32 {
        let due = Duration::from_secs(u64::from(k) * 10);
        tokio::time::sleep(
            due.saturating_sub(sent_at.elapsed())
                .saturating_sub(Duration::from_millis(1_500)),
        )
        .await;
        assert!(
            receive_ticks(&emulator, &queue).await.is_empty(),
            "tick {k} arrived early"
        );
        tokio::time::sleep(due.saturating_sub(sent_at.elapsed()) + Duration::from_millis(1_500))
            .await;
        let ticks = receive_ticks(&emulator, &queue).await;
        assert_eq!(ticks.iter().map(|t| t.seq).collect::<Vec<_>>(), [k]);
        assert_eq!(ticks[0].due_ms, first[0].due_ms + u64::from(k) * 10_000);
    }
    assert_eq!(queue_counts(&emulator, &queue).await, (0, 3));
}

#[tokio::test]
async fn one_second_ticks_go_out_in_batches_of_ten() {
    let emulator = emulator_or_skip!();
    let queue = emulator.create_queue("ticks").await;
    let config = SchedulerConfig {
        tick_queue_url: queue.clone(),
        interval_s: 1,
        shards: 1,
    };
    let report = handle_schedule_event(&emulator.sqs(), &config, &SystemClock, schedule_event())
        .await
        .expect("scheduled");
    assert_eq!((report.ticks_sent, report.batches), (60, 6));
    let (visible, delayed) = queue_counts(&emulator, &queue).await;
    assert_eq!(visible + delayed, 60);
    assert!(
        delayed >= 58,
        "delays are k × 1 s: {visible} visible, {delayed} delayed"
    );
}

#[tokio::test]
async fn lambda_binaries_run_under_the_cargo_lambda_runtime_emulator() {
    let emulator = emulator_or_skip!();
    let ticks = emulator.create_queue("ticks").await;
    let jobs = emulator.create_queue("jobs").await;
    emulator
        .create_service("lambda-cluster", "workers", 2)
        .await;
    emulator.create_bucket("lambda-state").await;
    emulator.send_messages(&jobs, 400).await;

    // Scheduler: one EventBridge invocation sends the minute's six ticks.
    let mut env = emulator.env();
    env.push(("TICK_QUEUE_URL".into(), ticks.clone()));
    let Some(scheduler) = LambdaEmulator::start(&workspace_binary("scheduler"), &env) else {
        return;
    };
    let event = json!({
        "version": "0", "id": "tick", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-23T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {}
    });
    let report = scheduler.invoke(&event);
    assert_eq!(report["ticks_sent"], json!(6), "{report}");
    drop(scheduler);
    assert_eq!(queue_counts(&emulator, &ticks).await, (1, 5));

    // Worker: an SQS event with that tick scales the service out.
    let tick = receive_ticks(&emulator, &ticks).await.remove(0);
    let mut env = emulator.env();
    env.extend(
        [
            ("ECS_CLUSTER", "lambda-cluster"),
            ("SERVICE_NAME", "workers"),
            ("S3_CONFIG_BUCKET", "lambda-state"),
            ("SQS_QUEUE_URL", jobs.as_str()),
            ("MIN_TASKS", "1"),
            ("MAX_TASKS", "20"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let Some(worker) = LambdaEmulator::start(&workspace_binary("worker"), &env) else {
        return;
    };
    let sqs_event = json!({"Records": [
        {"messageId": "1", "body": tick.to_body(), "eventSource": "aws:sqs"},
        {"messageId": "2", "body": "{not a tick", "eventSource": "aws:sqs"},
    ]});
    let outcome = worker.invoke(&sqs_event);
    assert_eq!(
        outcome["evaluated_tick_due_ms"],
        json!(tick.due_ms),
        "{outcome}"
    );
    assert_eq!(outcome["malformed"], json!(1), "{outcome}");
    assert_eq!(
        outcome["decisions"][0]["action"],
        json!("scale_out"),
        "{outcome}"
    );
    assert_eq!(emulator.desired_count("lambda-cluster", "workers").await, 6);

    // The decision is one JSON log line with the documented fields, which is also
    // a CloudWatch EMF document.
    let logs = worker.stop();
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let decision = lines
        .iter()
        .find(|v| v["message"] == "decision")
        .unwrap_or_else(|| panic!("no decision line in:\n{logs}"));
    assert_eq!(decision["action"], "scale_out", "{decision}");
    assert_eq!(
        (decision["visible"].clone(), decision["new_desired"].clone()),
        (json!(400), json!(6))
    );
    for field in [
        "service",
        "provider",
        "in_flight",
        "delayed",
        "current_desired",
        "running",
        "reason",
        "cooldown_remaining_s",
        "tick_lag_ms",
        "duration_ms",
    ] {
        assert!(!decision[field].is_null(), "missing {field} in {decision}");
    }
    let directive = &decision["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(
        (
            directive["Namespace"].clone(),
            directive["Dimensions"].clone()
        ),
        (json!("FastAutoscaler"), json!([["Service"]]))
    );
    assert_eq!(
        (
            decision["Service"].clone(),
            decision["ScalingActions"].clone()
        ),
        (json!("lambda-cluster/workers"), json!(1.0))
    );
    let tick_line = lines
        .iter()
        .find(|v| v["message"] == "tick")
        .unwrap_or_else(|| panic!("no tick line in:\n{logs}"));
    assert_eq!(
        (
            tick_line["TicksEvaluated"].clone(),
            tick_line["TicksDropped"].clone()
        ),
        (json!(1.0), json!(1.0))
    );
    // The malformed tick was logged through tracing (JSON, as AWS_LAMBDA_LOG_FORMAT asks).
    assert!(
        lines
            .iter()
            .any(|v| v["fields"]["message"] == "dropping malformed tick"),
        "{logs}"
    );
}

#[test]
fn the_tick_plan_is_shared_by_scheduler_and_worker() {
    // The worker parses exactly what the scheduler writes (one type, one crate).
    let now = now_ms();
    for (tick, _) in plan_minute(now, 10, 1) {
        assert_eq!(
            fast_autoscaler_worker::Tick::parse(&tick.to_body()).expect("parses"),
            tick
        );
    }
}
