//! The worker's evaluation against the moto AWS emulator, through the real SDK clients.

use fast_autoscaler_core::policy::Action;
use fast_autoscaler_core::state::ServiceState;
use fast_autoscaler_worker::core::target::TargetId;
use fast_autoscaler_worker::record::AnticipationRecord;
use fast_autoscaler_worker::store::StateStore;
use std::sync::Arc;

use futures::StreamExt;

use fast_autoscaler_tests::{
    assert_one_clean_line, build_provider, config_from, emulator_or_skip, read_queue, tick_now,
    Emulator,
};
use fast_autoscaler_worker::{
    Autoscaler, Clock, DecisionRecord, EvaluateOptions, ManualClock, Tick,
};
use serde_json::{json, Value};

const CLUSTER: &str = "test-cluster";
const SERVICE: &str = "queue-workers";
const BUCKET: &str = "scaling-state";

/// A queue, a service at `desired` tasks and the state bucket; answers the queue URL.
async fn provision(emulator: &Emulator, desired: i32) -> String {
    let queue = emulator.create_queue("jobs").await;
    emulator.create_service(CLUSTER, SERVICE, desired).await;
    emulator.create_bucket(BUCKET).await;
    queue
}

/// One service: min 1, max 10, +1 task per 100 messages above 100, scale-in cooldown `cooldown` s.
fn document(queue: &str, cooldown: u64) -> Value {
    json!({
        "state_bucket": BUCKET,
        "services": [{
            "cluster": CLUSTER,
            "service": SERVICE,
            "provider": {"type": "sqs", "queue_url": queue},
            "min_tasks": 1,
            "max_tasks": 10,
            "scale_up_threshold": 100,
            "scale_down_threshold": 10,
            "tasks_per_message": 0.01,
            "max_scale_down_factor": 0.5,
            "scale_in_cooldown": cooldown,
            // The scale-out cooldown has its own unit and property tests; here every
            // tick may add tasks.
            "scale_out_cooldown": 0,
        }]
    })
}

async fn evaluate_once(autoscaler: &Autoscaler) -> DecisionRecord {
    let mut records = autoscaler
        .evaluate(&tick_now(), EvaluateOptions::default())
        .await;
    assert_eq!(records.len(), 1);
    records.remove(0)
}

async fn state(emulator: &Emulator) -> Option<ServiceState> {
    let bytes = emulator
        .state_object(
            BUCKET,
            &StateStore::key(&TargetId::ecs_service(CLUSTER, SERVICE)),
        )
        .await?;
    Some(ServiceState::parse(&bytes).expect("state object parses"))
}

#[tokio::test]
async fn scales_out_on_a_surge_honours_cooldown_then_scales_in_within_bounds() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    let autoscaler = Autoscaler::new(config_from(&document(&queue, 3)), &emulator.aws)
        .expect("the providers build");

    // Quiet queue at 2 tasks wants 1, and with no history the scale-in may happen.
    let first = evaluate_once(&autoscaler).await;
    assert_eq!(
        (first.action, first.new_desired),
        (Action::ScaleIn, Some(1)),
        "{}",
        first.reason
    );

    // A surge of 500 visible messages: +5 tasks on the very next tick, no cooldown wait.
    emulator.send_messages(&queue, 500).await;
    let surge = evaluate_once(&autoscaler).await;
    assert_eq!(
        (surge.action, surge.visible, surge.new_desired),
        (Action::ScaleOut, Some(500), Some(6)),
        "{}",
        surge.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 6);

    // Still 500: the next tick adds 5 more, bounded by max_tasks 10.
    let capped = evaluate_once(&autoscaler).await;
    assert_eq!(
        (capped.action, capped.new_desired),
        (Action::ScaleOut, Some(10)),
        "{}",
        capped.reason
    );
    assert!(
        capped.reason.contains("bounded to [1, 10]"),
        "{}",
        capped.reason
    );
    let at_max = evaluate_once(&autoscaler).await;
    assert_eq!(
        (at_max.action, at_max.new_desired),
        (Action::None, Some(10)),
        "{}",
        at_max.reason
    );

    // Queue drained: scale-in waits for the cooldown since the last scale-out.
    emulator.purge(&queue).await;
    let waiting = evaluate_once(&autoscaler).await;
    assert_eq!(
        (waiting.action, waiting.new_desired),
        (Action::None, Some(10)),
        "{}",
        waiting.reason
    );
    assert!(
        waiting.cooldown_remaining_s > 0 && waiting.reason.contains("cooldown"),
        "{waiting:?}"
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 10);

    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let scaled_in = evaluate_once(&autoscaler).await;
    // At most half the tasks go in one step (max_scale_down_factor 0.5).
    assert_eq!(
        (scaled_in.action, scaled_in.new_desired),
        (Action::ScaleIn, Some(5)),
        "{}",
        scaled_in.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);

    let state = state(&emulator).await.expect("state written");
    assert_eq!((state.scale_out_count, state.scale_in_count), (2, 2));
    assert_eq!(state.last_action.map(|a| (a.from, a.to)), Some((10, 5)));
}

#[tokio::test]
async fn dry_run_decides_but_changes_nothing() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    emulator.send_messages(&queue, 300).await;
    let autoscaler = Autoscaler::new(config_from(&document(&queue, 3)), &emulator.aws)
        .expect("the providers build");
    let records = autoscaler
        .evaluate(&tick_now(), EvaluateOptions { dry_run: true })
        .await;
    assert_eq!(
        (records[0].action, records[0].new_desired),
        (Action::ScaleOut, Some(5)),
        "{}",
        records[0].reason
    );
    assert!(records[0].dry_run && records[0].reason.contains("dry run"));
    assert_eq!(
        emulator.desired_count(CLUSTER, SERVICE).await,
        2,
        "dry run must not call UpdateService"
    );
    assert!(
        state(&emulator).await.is_none(),
        "dry run must not write state"
    );
}

#[tokio::test]
async fn two_workers_on_the_same_tick_act_once() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    emulator.send_messages(&queue, 200).await;
    let doc = {
        let mut d = document(&queue, 3);
        d["services"][0]["max_tasks"] = json!(100);
        d
    };
    let first = Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build");
    let second = Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build");
    let mut expected = 2;
    for round in 0..5 {
        // Both workers receive the same tick at the same moment (an SQS duplicate).
        let tick = tick_now();
        let (a, b) = tokio::join!(
            first.evaluate(&tick, EvaluateOptions::default()),
            second.evaluate(&tick, EvaluateOptions::default())
        );
        let actions: Vec<Action> = [&a[0], &b[0]].iter().map(|r| r.action).collect();
        let scaled = actions.iter().filter(|a| **a == Action::ScaleOut).count();
        assert_eq!(
            scaled, 1,
            "round {round}: {:?} / {:?}",
            a[0].reason, b[0].reason
        );
        expected += 2;
        assert_eq!(
            emulator.desired_count(CLUSTER, SERVICE).await,
            expected,
            "round {round}"
        );
    }
    let state = state(&emulator).await.expect("state");
    assert_eq!(state.scale_out_count, 5);
}

#[tokio::test]
async fn a_duplicate_or_late_tick_after_an_action_does_not_act_again() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    emulator.send_messages(&queue, 200).await;
    let autoscaler = Autoscaler::new(config_from(&document(&queue, 3)), &emulator.aws)
        .expect("the providers build");
    let tick = tick_now();
    let acted = autoscaler.evaluate(&tick, EvaluateOptions::default()).await;
    assert_eq!(acted[0].action, Action::ScaleOut);
    let again = autoscaler.evaluate(&tick, EvaluateOptions::default()).await;
    assert_eq!(again[0].action, Action::None, "{}", again[0].reason);
    assert!(
        again[0].reason.contains("already evaluated"),
        "{}",
        again[0].reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 4);
}

#[tokio::test]
async fn corrupt_state_denies_scale_in_allows_scale_out_and_is_repaired() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 6).await;
    let key = StateStore::key(&TargetId::ecs_service(CLUSTER, SERVICE));
    emulator
        .put_object(BUCKET, &key, b"{\"version\": 1, \"cluster\": \"trunc")
        .await;
    let autoscaler = Autoscaler::new(config_from(&document(&queue, 0)), &emulator.aws)
        .expect("the providers build");

    let denied = evaluate_once(&autoscaler).await;
    assert_eq!(
        (denied.action, denied.new_desired),
        (Action::Hold, Some(6)),
        "{}",
        denied.reason
    );
    assert!(denied.reason.contains("unreadable"), "{}", denied.reason);
    assert!(denied.reason.contains("was replaced"), "{}", denied.reason);
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 6);
    // The replacement parses, and its repair time starts the cooldown.
    let replaced = state(&emulator).await.expect("state replaced");
    assert!(
        replaced.repaired_ms.is_some() && replaced.scale_in_count == 0,
        "{replaced:?}"
    );

    emulator.send_messages(&queue, 200).await;
    let out = evaluate_once(&autoscaler).await;
    assert_eq!(
        (out.action, out.new_desired),
        (Action::ScaleOut, Some(8)),
        "{}",
        out.reason
    );
    let repaired = state(&emulator).await.expect("state repaired");
    assert_eq!(repaired.scale_out_count, 1);
}

#[tokio::test]
async fn state_from_the_future_is_distrusted_and_replaced() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 6).await;
    let key = StateStore::key(&TargetId::ecs_service(CLUSTER, SERVICE));
    // A scale-out "in a year" would otherwise hold the scale-in cooldown for a year.
    let mut future = ServiceState::new(&TargetId::ecs_service(CLUSTER, SERVICE));
    future.last_scale_out_ms = Some(fast_autoscaler_worker::now_ms() + 365 * 86_400_000);
    emulator
        .put_object(BUCKET, &key, &serde_json::to_vec(&future).expect("json"))
        .await;
    let autoscaler = Autoscaler::new(config_from(&document(&queue, 1)), &emulator.aws)
        .expect("the providers build");

    let denied = evaluate_once(&autoscaler).await;
    assert_eq!(denied.action, Action::Hold, "{}", denied.reason);
    assert!(denied.reason.contains("was replaced"), "{}", denied.reason);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let scaled_in = evaluate_once(&autoscaler).await;
    assert_eq!(
        (scaled_in.action, scaled_in.new_desired),
        (Action::ScaleIn, Some(3)),
        "{}",
        scaled_in.reason
    );
}

#[tokio::test]
async fn a_missing_ecs_service_is_a_clear_hold() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    let mut doc = document(&queue, 3);
    doc["services"][0]["service"] = json!("no-such-service");
    let autoscaler =
        Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build");
    let record = evaluate_once(&autoscaler).await;
    assert_eq!(record.action, Action::Hold);
    assert!(
        record
            .reason
            .contains("\"no-such-service\" not found in cluster \"test-cluster\""),
        "{}",
        record.reason
    );
    assert!(record.reason.contains("MISSING"), "{}", record.reason);
    assert_eq!(record.new_desired, None);
    // No count was read: the reason says so, and the line reports none (it
    // never says a service that keeps its count is at 0).
    assert!(
        record.reason.ends_with("; holding, its count unknown"),
        "{}",
        record.reason
    );
    let line = fast_autoscaler_worker::emf::decision_line(&record, 0);
    for metric in ["DesiredCount", "NewDesiredCount", "RunningCount"] {
        assert!(line.get(metric).is_none(), "{metric} in {line}");
    }
}

/// A queue that answers after the tick's deadline is named in the hold, by its
/// provider and its URL, as every other read error is.
#[tokio::test]
async fn a_queue_read_cut_short_by_the_deadline_is_named() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    let mut doc = document(&queue, 0);
    // One-second ticks: a 1 s deadline, which a 1.5 s answer misses.
    doc["tick_interval_seconds"] = json!(1);
    let autoscaler =
        Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build");
    emulator.delay_calls(&[("sqs:GetQueueAttributes", 1_500)]);
    let record = evaluate_once(&autoscaler).await;
    emulator.delay_calls(&[]);
    assert_eq!(record.action, Action::Hold, "{}", record.reason);
    assert!(
        record
            .reason
            .contains(&format!("provider sqs: could not read metrics of {queue}"))
            && record
                .reason
                .contains("tick deadline of 1000 ms reached while reading the queue"),
        "{}",
        record.reason
    );
}

#[tokio::test]
async fn unreadable_metrics_never_scale_down() {
    let emulator = emulator_or_skip!();
    provision(&emulator, 8).await;
    // A well-formed URL of a queue that does not exist: every reading fails.
    let missing_queue = format!("{}/123456789012/no-such-queue", emulator.endpoint);
    let autoscaler = Autoscaler::new(config_from(&document(&missing_queue, 0)), &emulator.aws)
        .expect("the providers build");
    for _ in 0..3 {
        let record = evaluate_once(&autoscaler).await;
        assert_eq!(
            (record.action, record.new_desired),
            (Action::Hold, Some(8)),
            "{}",
            record.reason
        );
        assert!(
            record.reason.contains("metrics unavailable"),
            "{}",
            record.reason
        );
        assert_eq!(record.visible, None);
    }
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 8);
}

#[tokio::test]
async fn services_are_independent_and_steady_state_reads_no_state() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 3).await;
    let mut doc = document(&queue, 3);
    let healthy = doc["services"][0].clone();
    let mut broken = healthy.clone();
    broken["service"] = json!("ghost");
    let mut steady = healthy.clone();
    steady["service"] = json!("steady");
    // 50 messages sit between the thresholds for every service: no action considered.
    steady["scale_down_threshold"] = json!(10);
    doc["services"] = json!([broken, healthy, steady]);
    emulator.create_service(CLUSTER, "steady", 3).await;
    emulator.send_messages(&queue, 50).await;
    let autoscaler =
        Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build");
    let records = autoscaler
        .evaluate(&tick_now(), EvaluateOptions::default())
        .await;
    let actions: Vec<(String, Action)> = records
        .iter()
        .map(|r| (r.service.clone(), r.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("test-cluster/ghost".to_string(), Action::Hold),
            ("test-cluster/queue-workers".to_string(), Action::None),
            ("test-cluster/steady".to_string(), Action::None),
        ]
    );
    assert!(
        state(&emulator).await.is_none(),
        "no action considered, so no state read or written"
    );
}

#[tokio::test]
async fn a_quiet_tick_costs_one_provider_call_per_service_one_describe_per_ten_and_one_listing() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 3).await;
    emulator.send_messages(&queue, 50).await;
    let template = document(&queue, 3)["services"][0].clone();
    let mut services = Vec::new();
    for i in 0..12 {
        let name = format!("svc-{i:02}");
        emulator.create_service(CLUSTER, &name, 3).await;
        let mut service = template.clone();
        service["service"] = json!(name);
        services.push(service);
    }
    let doc = json!({"state_bucket": BUCKET, "services": services});
    let autoscaler =
        Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build");
    emulator.reset_calls();
    let records = autoscaler
        .evaluate(&tick_now(), EvaluateOptions::default())
        .await;
    assert!(
        records.iter().all(|r| r.action == Action::None),
        "{records:?}"
    );
    let calls = emulator.calls();
    let expected: std::collections::BTreeMap<String, u64> = [
        ("sqs:GetQueueAttributes".to_string(), 12),
        ("ecs:DescribeServices".to_string(), 2),
        // The pause check: one listing of the state objects; none exists yet,
        // so none is read, and nothing is written.
        ("s3:GET bucket".to_string(), 1),
    ]
    .into();
    assert_eq!(
        calls, expected,
        "12 services in one cluster: 12 provider calls, ceil(12/10) = 2 DescribeServices, one ListObjectsV2, no state read or write"
    );
}

#[tokio::test]
async fn scheduled_bounds_hold_inside_their_window_in_its_time_zone_only() {
    let emulator = emulator_or_skip!();
    let queue = provision(&emulator, 2).await;
    let mut doc = document(&queue, 0);
    // Business hours in New York raise the floor to 6; at night the service's own
    // bounds (1..=10) apply again.
    doc["services"][0]["scheduled_bounds"] = json!([
        {"days": "mon-fri", "from": "09:00", "to": "17:00", "timezone": "America/New_York", "min_tasks": 6}
    ]);
    // Monday 2026-11-30 15:00 UTC is 10:00 in New York (UTC-5).
    let inside = 1_796_050_800_000;
    let clock = Arc::new(ManualClock::at(inside));
    let autoscaler = Autoscaler::new(config_from(&doc), &emulator.aws)
        .expect("the providers build")
        .with_clock(clock.clone());
    let decide = || async {
        let tick = Tick::new(clock.now_ms(), 10, 0);
        autoscaler
            .evaluate(&tick, EvaluateOptions::default())
            .await
            .remove(0)
    };
    let raised = decide().await;
    assert_eq!(
        (raised.action, raised.new_desired, raised.applied),
        (Action::ScaleOut, Some(6), true),
        "{}",
        raised.reason
    );
    assert!(
        raised
            .reason
            .contains("scheduled bounds 6..=10 (mon-fri 09:00–17:00 America/New_York)"),
        "{}",
        raised.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 6);

    // 23:00 in New York (04:00 UTC Tuesday): the window has closed, and the idle
    // service goes back down towards its own minimum of 1.
    clock.set(inside + 13 * 3_600_000);
    let lowered = decide().await;
    assert_eq!(lowered.action, Action::ScaleIn, "{}", lowered.reason);
    assert!(lowered.new_desired < Some(6));
    assert!(
        !lowered.reason.contains("scheduled bounds"),
        "{}",
        lowered.reason
    );
}

#[tokio::test]
async fn several_queues_read_as_one_by_prefix_sum_or_max_and_a_failing_one_holds() {
    let emulator = emulator_or_skip!();
    emulator.create_service(CLUSTER, SERVICE, 5).await;
    emulator.create_bucket(BUCKET).await;
    let eu = emulator.create_queue("orders-eu").await;
    let us = emulator.create_queue("orders-us").await;
    let other = emulator.create_queue("other").await;
    emulator.send_messages(&eu, 150).await;
    emulator.send_messages(&us, 250).await;
    emulator.send_messages(&other, 999).await;
    let read = |providers: Value| {
        let mut doc = document(&eu, 0);
        let service = doc["services"][0].as_object_mut().expect("a service");
        service.remove("provider");
        service.extend(providers.as_object().expect("keys").clone());
        config_from(&doc)
    };

    // Every queue named orders-*, summed; not the other one.
    let by_prefix = read(json!({"provider": {"type": "sqs", "queue_name_prefix": "orders-"}}));
    let reading = read_queue(&emulator, &by_prefix.services[0])
        .await
        .expect("a reading");
    assert_eq!(reading.visible, 400);
    // Two providers, the busiest one.
    let busiest = read(json!({"combine": "max", "providers": [
        {"type": "sqs", "queue_url": eu}, {"type": "sqs", "queue_url": us}]}));
    let reading = read_queue(&emulator, &busiest.services[0])
        .await
        .expect("a reading");
    assert_eq!(reading.visible, 250);
    assert_eq!(reading.busiest.as_deref(), Some(us.as_str()), "named");

    // One queue of three fails: the whole reading fails, and the service, which
    // the empty queues alone would scale in, holds at 5.
    emulator.purge(&eu).await;
    emulator.purge(&us).await;
    let missing = eu.replace("orders-eu", "orders-gone");
    let partial = read(json!({"providers": [
        {"type": "sqs", "queue_url": eu}, {"type": "sqs", "queue_url": missing}, {"type": "sqs", "queue_url": us}]}));
    let autoscaler = Autoscaler::new(partial, &emulator.aws).expect("the providers build");
    let held = evaluate_once(&autoscaler).await;
    assert_eq!(
        (held.action, held.new_desired),
        (Action::Hold, Some(5)),
        "{}",
        held.reason
    );
    assert!(
        held.reason.contains("orders-gone") && held.reason.contains("partial reading"),
        "{}",
        held.reason
    );
    // The cause on one line, said once: the queue, the AWS error code and its
    // message, not the SDK's rendering of the response.
    assert_one_clean_line(&held.reason);
    assert_eq!(
        held.reason.matches("could not read metrics").count(),
        1,
        "{}",
        held.reason
    );
    assert!(
        held.reason
            .contains("GetQueueAttributes: AWS.SimpleQueueService.NonExistentQueue")
            || held
                .reason
                .contains("GetQueueAttributes: QueueDoesNotExist"),
        "{}",
        held.reason
    );
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);
}

#[tokio::test]
async fn a_prefix_lists_every_page_of_queues_once() {
    let emulator = emulator_or_skip!();
    // ListQueues answers at most 1,000 queues a page.
    let names: Vec<String> = (0..1_003).map(|i| format!("page-{i:04}")).collect();
    let urls: Vec<String> = futures::stream::iter(names.iter().map(|n| emulator.create_queue(n)))
        .buffer_unordered(16)
        .collect()
        .await;
    let last = urls
        .iter()
        .find(|u| u.ends_with("page-1002"))
        .expect("the last queue");
    emulator.send_messages(last, 7).await;
    let mut doc = document(last, 0);
    doc["services"][0]["provider"] = json!({"type": "sqs", "queue_name_prefix": "page-"});
    let config = config_from(&doc);
    let provider = build_provider(&emulator, &config.services[0]);
    emulator.reset_calls();
    for _ in 0..2 {
        let reading = provider.metrics().await.expect("a reading");
        assert_eq!(reading.visible, 7, "the queue on the second page is read");
    }
    let calls = emulator.calls();
    assert_eq!(
        calls.get("sqs:ListQueues"),
        Some(&2),
        "two pages, listed once: {calls:?}"
    );
    assert_eq!(
        calls.get("sqs:GetQueueAttributes"),
        Some(&2_006),
        "{calls:?}"
    );
}

/// The test service (min 1, max 10, step rule), reading its queue through `provider`.
fn with_provider(provider: Value) -> fast_autoscaler_worker::AutoscalerConfig {
    let mut doc = document("https://sqs.us-east-1.amazonaws.com/123456789012/unused", 0);
    doc["services"][0]["provider"] = provider;
    config_from(&doc)
}

/// The test service reading `server` over TLS with the password in `secret`, and
/// `source`'s settings (a key, or a stream and its group).
fn redis_service(
    server: &fast_autoscaler_tests::redis::RedisServer,
    secret: &str,
    source: Value,
) -> fast_autoscaler_worker::AutoscalerConfig {
    let mut provider = json!({"type": "redis", "url": server.url(), "secret_arn": secret, "ca_bundle": server.pki.ca_pem});
    provider
        .as_object_mut()
        .expect("an object")
        .extend(source.as_object().expect("keys").clone());
    with_provider(provider)
}

/// A Secrets Manager secret on the emulator holding `value`; answers its ARN.
async fn store_secret(emulator: &Emulator, name: &str, value: Value) -> String {
    let secret = aws_sdk_secretsmanager::Client::new(&emulator.aws)
        .create_secret()
        .name(name)
        .secret_string(value.to_string())
        .send()
        .await
        .expect("CreateSecret");
    secret.arn().expect("an ARN").to_string()
}

/// A service reading a broker decides while the broker is up, holds once `stop`
/// has stopped it, and never shows `password` in its reason.
async fn holds_once_stopped(autoscaler: &Autoscaler, stop: impl FnOnce(), password: &str) {
    let up = evaluate_once(autoscaler).await;
    assert_ne!(up.action, Action::Hold, "{}", up.reason);
    stop();
    let down = evaluate_once(autoscaler).await;
    assert_eq!(down.action, Action::Hold, "{}", down.reason);
    assert!(!down.reason.contains(password), "{}", down.reason);
}

/// Datapoints of `namespace` `metric` with one dimension, put into the
/// emulator's CloudWatch: `(seconds ago, value)`.
async fn put_metric(
    emulator: &Emulator,
    namespace: &str,
    metric: &str,
    (dimension, value_of): (&str, &str),
    points: &[(u64, f64)],
) {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let now = std::time::SystemTime::now();
    let data = points.iter().map(|(ago, value)| {
        MetricDatum::builder()
            .metric_name(metric)
            .dimensions(Dimension::builder().name(dimension).value(value_of).build())
            .timestamp(DateTime::from(now - std::time::Duration::from_secs(*ago)))
            .value(*value)
            .build()
    });
    aws_sdk_cloudwatch::Client::new(&emulator.aws)
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data.collect()))
        .send()
        .await
        .expect("PutMetricData on the emulator");
}

/// One datapoint of `Custom/Queues` `Backlog` for `queue`, `ago` seconds ago.
async fn publish_backlog(emulator: &Emulator, queue: &str, value: f64, ago: u64) {
    put_metric(
        emulator,
        "Custom/Queues",
        "Backlog",
        ("Queue", queue),
        &[(ago, value)],
    )
    .await;
}

/// The `cloudwatch` provider through the real aws-sdk-cloudwatch client against
/// moto: a metric, an expression over named metrics (moto evaluates only an
/// expression that names one metric, so that is the one tested), and the service
/// holding when the newest datapoint is too old or is not a count.
#[tokio::test]
async fn any_cloudwatch_metric_is_a_backlog_and_a_stale_or_bad_one_holds() {
    let emulator = emulator_or_skip!();
    emulator.create_service(CLUSTER, SERVICE, 5).await;
    emulator.create_bucket(BUCKET).await;
    publish_backlog(&emulator, "fresh", 321.0, 30).await;
    publish_backlog(&emulator, "stale", 40.0, 20 * 60).await;
    publish_backlog(&emulator, "broken", -5.0, 30).await;
    let metric = |queue: &str| json!({"namespace": "Custom/Queues", "metric_name": "Backlog", "dimensions": {"Queue": queue}});
    let with = |provider: Value| with_provider(provider);

    let mut one = metric("fresh");
    one["type"] = json!("cloudwatch");
    let reading = read_queue(&emulator, &with(one).services[0])
        .await
        .expect("a reading");
    assert_eq!((reading.visible, reading.in_flight), (321, 0));
    let expression =
        json!({"type": "cloudwatch", "expression": "m1", "metrics": {"m1": metric("fresh")}});
    let reading = read_queue(&emulator, &with(expression).services[0])
        .await
        .expect("a reading");
    assert_eq!(reading.visible, 321);

    for (queue, expected) in [
        ("stale", "no datapoint in the last 300 s"),
        ("broken", "-5"),
    ] {
        let mut provider = metric(queue);
        provider["type"] = json!("cloudwatch");
        let autoscaler =
            Autoscaler::new(with(provider), &emulator.aws).expect("the providers build");
        let held = evaluate_once(&autoscaler).await;
        assert_eq!(
            (held.action, held.new_desired),
            (Action::Hold, Some(5)),
            "{}",
            held.reason
        );
        assert!(
            held.reason.contains("provider cloudwatch") && held.reason.contains(expected),
            "{}",
            held.reason
        );
        assert_one_clean_line(&held.reason);
    }
    assert_eq!(emulator.desired_count(CLUSTER, SERVICE).await, 5);
}

/// The `nats` provider against a real nats-server with JetStream, over TLS with a
/// private CA and a user whose password lives in Secrets Manager (moto): pending
/// and ack-pending counts, errors that name the consumer, and the service holding
/// when the server stops. The password appears in no output.
#[tokio::test]
async fn a_jetstream_consumer_is_read_over_tls_with_credentials_from_secrets_manager() {
    use async_nats::jetstream::{self, consumer::pull, stream};
    use futures::StreamExt;
    let emulator = emulator_or_skip!();
    let Some(mut server) = fast_autoscaler_tests::nats::NatsServer::start() else {
        return;
    };
    emulator.create_service(CLUSTER, SERVICE, 5).await;
    emulator.create_bucket(BUCKET).await;

    // The application's side: a stream, a durable consumer, 25 messages, and 5
    // delivered but not acknowledged yet.
    let context = jetstream::new(server.client().await);
    let orders = context
        .create_stream(stream::Config {
            name: "ORDERS".into(),
            subjects: vec!["orders.>".into()],
            ..Default::default()
        })
        .await
        .expect("the stream");
    let consumer = orders
        .create_consumer(pull::Config {
            durable_name: Some("workers".into()),
            ..Default::default()
        })
        .await
        .expect("the consumer");
    for n in 0..25 {
        context
            .publish("orders.new", format!("order {n}").into())
            .await
            .expect("publish")
            .await
            .expect("stored");
    }
    let mut held = consumer
        .fetch()
        .max_messages(5)
        .messages()
        .await
        .expect("a fetch");
    let mut unacknowledged = Vec::new();
    while let Some(message) = held.next().await {
        unacknowledged.push(message.expect("a message"));
    }
    assert_eq!(unacknowledged.len(), 5);

    let secret = store_secret(
        &emulator,
        "nats/autoscaler",
        json!({"username": server.username, "password": server.password}),
    )
    .await;
    let config = |consumer: &str| {
        let provider = json!({"type": "nats", "url": server.url(), "stream": "ORDERS", "consumer": consumer,
            "secret_arn": secret, "ca_bundle": server.pki.ca_pem});
        with_provider(provider)
    };

    let reading = read_queue(&emulator, &config("workers").services[0])
        .await
        .expect("a reading");
    assert_eq!((reading.visible, reading.in_flight), (20, 5));
    let described = config("workers").services[0]
        .provider
        .describe()
        .to_string();
    assert!(!described.contains(&server.password), "{described}");

    // A consumer that does not exist: an error naming it, and the service holds.
    let autoscaler = Autoscaler::new(config("nobody"), &emulator.aws).expect("the providers build");
    let missing = evaluate_once(&autoscaler).await;
    assert_eq!(
        (missing.action, missing.new_desired),
        (Action::Hold, Some(5)),
        "{}",
        missing.reason
    );
    assert!(
        missing.reason.contains("provider nats") && missing.reason.contains("consumer nobody"),
        "{}",
        missing.reason
    );
    assert_one_clean_line(&missing.reason);

    // The server stops: the kept connection's request fails, and the service holds.
    let autoscaler =
        Autoscaler::new(config("workers"), &emulator.aws).expect("the providers build");
    let password = server.password.clone();
    holds_once_stopped(&autoscaler, || server.stop(), &password).await;
}

/// The `redis` provider against a real redis-server, TLS only with a private CA
/// and a password kept in Secrets Manager (moto): a list's length, a stream
/// group's lag and pending entries, errors that name the group, and the service
/// holding when the server stops. The password appears in no output.
#[tokio::test]
async fn redis_lists_and_stream_groups_are_read_over_tls_with_a_password_from_secrets_manager() {
    let emulator = emulator_or_skip!();
    let Some(mut server) = fast_autoscaler_tests::redis::RedisServer::start() else {
        return;
    };
    emulator.create_service(CLUSTER, SERVICE, 5).await;
    emulator.create_bucket(BUCKET).await;

    // The application's side: 12 jobs in a list; 30 stream entries, of which the
    // group has been delivered 8 and acknowledged 3.
    let mut app = server.connection().await;
    let run = |cmd: &mut redis::Cmd| cmd.clone();
    for n in 0..12 {
        let _: i64 = run(redis::cmd("RPUSH").arg("jobs").arg(n))
            .query_async(&mut app)
            .await
            .expect("RPUSH");
    }
    let _: () = run(redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("events")
        .arg("workers")
        .arg("$")
        .arg("MKSTREAM"))
    .query_async(&mut app)
    .await
    .expect("XGROUP CREATE");
    for n in 0..30 {
        let _: String = run(redis::cmd("XADD").arg("events").arg("*").arg("n").arg(n))
            .query_async(&mut app)
            .await
            .expect("XADD");
    }
    let read: redis::Value = run(redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("workers")
        .arg("w1")
        .arg("COUNT")
        .arg(8)
        .arg("STREAMS")
        .arg("events")
        .arg(">"))
    .query_async(&mut app)
    .await
    .expect("XREADGROUP");
    let ids: Vec<String> = format!("{read:?}")
        .split('"')
        .filter(|s| s.contains('-') && s.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(String::from)
        .collect();
    assert_eq!(ids.len(), 8, "{read:?}");
    let _: i64 = run(redis::cmd("XACK")
        .arg("events")
        .arg("workers")
        .arg(&ids[..3]))
    .query_async(&mut app)
    .await
    .expect("XACK");

    let secret = store_secret(
        &emulator,
        "redis/autoscaler",
        json!({"password": server.password}),
    )
    .await;
    let config = |source: Value| redis_service(&server, &secret, source);

    let list = read_queue(&emulator, &config(json!({"key": "jobs"})).services[0])
        .await
        .expect("a reading");
    assert_eq!((list.visible, list.in_flight), (12, 0));
    let group = read_queue(
        &emulator,
        &config(json!({"stream": "events", "group": "workers"})).services[0],
    )
    .await
    .expect("a reading");
    assert_eq!(
        (group.visible, group.in_flight),
        (22, 5),
        "lag 30 - 8 delivered, 8 - 3 acknowledged pending"
    );
    let described = config(json!({"key": "jobs"})).services[0]
        .provider
        .describe()
        .to_string();
    assert!(!described.contains(&server.password), "{described}");

    // A group that does not exist: an error naming it and the ones there are.
    let autoscaler = Autoscaler::new(
        config(json!({"stream": "events", "group": "nobody"})),
        &emulator.aws,
    )
    .expect("the providers build");
    let missing = evaluate_once(&autoscaler).await;
    assert_eq!(
        (missing.action, missing.new_desired),
        (Action::Hold, Some(5)),
        "{}",
        missing.reason
    );
    assert!(
        missing.reason.contains("provider redis")
            && missing.reason.contains("\"nobody\"")
            && missing.reason.contains("[workers]"),
        "{}",
        missing.reason
    );
    assert_one_clean_line(&missing.reason);

    // The server stops: the kept connection fails, and the service holds.
    let autoscaler = Autoscaler::new(config(json!({"key": "jobs"})), &emulator.aws)
        .expect("the providers build");
    let password = server.password.clone();
    holds_once_stopped(&autoscaler, || server.stop(), &password).await;
}

/// Redis deletes an emptied list, so a missing key is an empty queue or a typo:
/// an error (the service holds) until the key has held a list once, then an
/// empty queue; `missing_key_is_empty` trusts it from the start. A key of
/// another type, and a secret that does not exist, are one clean line each.
#[tokio::test]
async fn a_missing_redis_key_reads_as_empty_only_once_seen_or_when_trusted() {
    let emulator = emulator_or_skip!();
    let Some(server) = fast_autoscaler_tests::redis::RedisServer::start() else {
        return;
    };
    emulator.create_service(CLUSTER, SERVICE, 5).await;
    emulator.create_bucket(BUCKET).await;
    let secret = store_secret(
        &emulator,
        "redis/missing-keys",
        json!({"password": server.password}),
    )
    .await;
    let list = |source: Value| redis_service(&server, &secret, source);
    let mut app = server.connection().await;

    // A typo: an error naming the key, and the service holds at 5.
    let typo = list(json!({"key": "jbos"}));
    let error = read_queue(&emulator, &typo.services[0])
        .await
        .expect_err("a missing key is not an empty queue");
    assert_one_clean_line(&error.to_string());
    assert!(
        error.to_string().contains("key jbos does not exist"),
        "{error}"
    );
    let autoscaler = Autoscaler::new(typo, &emulator.aws).expect("the providers build");
    let held = evaluate_once(&autoscaler).await;
    assert_eq!(
        (held.action, held.new_desired),
        (Action::Hold, Some(5)),
        "{}",
        held.reason
    );

    // Trusted: the same missing key reads as an empty queue.
    let trusted = list(json!({"key": "jbos", "missing_key_is_empty": true}));
    let reading = read_queue(&emulator, &trusted.services[0])
        .await
        .expect("an empty queue");
    assert_eq!(reading.visible, 0);

    // Seen once: a list that empties (and so is deleted) reads as empty after.
    let drained = list(json!({"key": "drained"}));
    let provider = build_provider(&emulator, &drained.services[0]);
    fast_autoscaler_tests::redis::RedisServer::push(&mut app, "drained", "job").await;
    assert_eq!(provider.metrics().await.expect("a list").visible, 1);
    let _: Option<String> = redis::cmd("LPOP")
        .arg("drained")
        .query_async(&mut app)
        .await
        .expect("LPOP");
    assert_eq!(provider.metrics().await.expect("emptied").visible, 0);

    // Another type: named.
    let _: () = redis::cmd("SET")
        .arg("config")
        .arg("x")
        .query_async(&mut app)
        .await
        .expect("SET");
    let error = read_queue(&emulator, &list(json!({"key": "config"})).services[0])
        .await
        .expect_err("a string is not a list");
    assert!(
        error
            .to_string()
            .contains("key config holds a string, not a list"),
        "{error}"
    );

    // A password the server rejects: the secret it came from is named.
    let wrong = store_secret(&emulator, "redis/wrong", json!({"password": "not-it"})).await;
    let mut settings = json!({"type": "redis", "url": server.url(), "key": "jobs", "ca_bundle": server.pki.ca_pem});
    settings["secret_arn"] = json!(wrong);
    let error = read_queue(&emulator, &with_provider(settings).services[0])
        .await
        .expect_err("a wrong password");
    assert_one_clean_line(&error.to_string());
    assert!(
        error
            .to_string()
            .contains(&format!("with the password of secret {wrong}")),
        "{error}"
    );

    // A secret that does not exist: the ARN, the AWS error code, one line.
    let mut settings = json!({"type": "redis", "url": server.url(), "key": "jobs", "ca_bundle": server.pki.ca_pem});
    settings["secret_arn"] = json!(secret.replace("missing-keys", "gone"));
    let error = read_queue(&emulator, &with_provider(settings).services[0])
        .await
        .expect_err("no secret");
    assert_one_clean_line(&error.to_string());
    assert!(
        error
            .to_string()
            .contains("GetSecretValue: ResourceNotFoundException"),
        "{error}"
    );
}

/// SQS's oldest message age, from `AWS/SQS ApproximateAgeOfOldestMessage` on
/// moto: one GetMetricData call per tick for every queue that asks, and the
/// target rule's `max_wait_seconds` scaling out the service whose oldest message
/// is late while the other keeps its count goal.
#[tokio::test]
async fn the_oldest_message_age_is_read_once_per_tick_and_the_wait_goal_scales_out() {
    let emulator = emulator_or_skip!();
    emulator.create_bucket(BUCKET).await;
    let mut services = Vec::new();
    for (name, age) in [("late", 240.0), ("on-time", 20.0)] {
        let queue = emulator.create_queue(&format!("age-{name}")).await;
        emulator.send_messages(&queue, 30).await;
        emulator.create_service(CLUSTER, name, 4).await;
        let queue_name = format!("age-{name}");
        put_metric(
            &emulator,
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            ("QueueName", &queue_name),
            &[(40, age)],
        )
        .await;
        services.push(json!({
            "cluster": CLUSTER, "service": name, "min_tasks": 1, "max_tasks": 50,
            "scaling_policy": "target", "target_messages_per_task": 10, "max_wait_seconds": 60,
            "scale_out_cooldown": 0, "scale_in_cooldown": 0,
            "provider": {"type": "sqs", "queue_url": queue, "oldest_message_age": true},
        }));
    }
    let doc = json!({"state_bucket": BUCKET, "services": services});
    let autoscaler =
        Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build");
    emulator.reset_calls();
    let records = autoscaler
        .evaluate(&tick_now(), EvaluateOptions::default())
        .await;
    let calls = emulator.calls();
    assert_eq!(
        calls.get("monitoring:GetMetricData"),
        Some(&1),
        "one call for both queues: {calls:?}"
    );

    // 30 messages at 10 a task want 3; the late queue's 240 s against 60 s wants 4 × 4 = 16.
    let late = &records[0];
    assert_eq!(
        (late.action, late.new_desired, late.oldest_message_age_s),
        (Action::ScaleOut, Some(16), Some(240)),
        "{}",
        late.reason
    );
    assert!(
        late.reason.contains("> max_wait_seconds 60") && late.reason.contains("measured"),
        "{}",
        late.reason
    );
    let on_time = &records[1];
    assert_eq!(
        (on_time.action, on_time.new_desired),
        (Action::ScaleIn, Some(3)),
        "{}",
        on_time.reason
    );
    assert!(
        on_time.reason.contains("within max_wait_seconds 60"),
        "{}",
        on_time.reason
    );
}

/// Datapoints of an `AWS/Kinesis` metric of `stream`: `(seconds ago, value)`.
async fn publish_stream_metric(
    emulator: &Emulator,
    stream: &str,
    metric: &str,
    points: &[(u64, f64)],
) {
    put_metric(
        emulator,
        "AWS/Kinesis",
        metric,
        ("StreamName", stream),
        points,
    )
    .await;
}

/// The `kinesis` provider against moto: a stream of 3 shards whose consumers are
/// 90 s behind while 10 records a second arrive is about 900 records behind,
/// the lag is the oldest record's age, and the tasks are capped at the shards;
/// one GetMetricData and one DescribeStreamSummary serve several readings; a
/// stream nobody reads counts everything written since; a missing stream holds.
#[tokio::test]
async fn a_kinesis_stream_is_records_behind_from_its_lag_capped_at_its_shards() {
    let emulator = emulator_or_skip!();
    emulator.create_service(CLUSTER, SERVICE, 2).await;
    emulator.create_bucket(BUCKET).await;
    let kinesis = aws_sdk_kinesis::Client::new(&emulator.aws);
    for (stream, shards) in [("clicks", 3), ("unread", 2)] {
        kinesis
            .create_stream()
            .stream_name(stream)
            .shard_count(shards)
            .send()
            .await
            .expect("CreateStream on the emulator");
        // 600 records written in each of the last ten minutes.
        let written: Vec<_> = (0..10).map(|m| (30 + 60 * m, 600.0)).collect();
        publish_stream_metric(&emulator, stream, "IncomingRecords", &written).await;
    }
    publish_stream_metric(
        &emulator,
        "clicks",
        "GetRecords.IteratorAgeMilliseconds",
        &[(150, 20_000.0), (90, 90_000.0)],
    )
    .await;
    let service = |provider: Value, per_task: u64, max: u64| {
        let mut doc = document("https://sqs.us-east-1.amazonaws.com/123456789012/unused", 0);
        let settings = &mut doc["services"][0];
        settings["provider"] = provider;
        for (key, value) in [
            ("scaling_policy", json!("target")),
            ("target_messages_per_task", json!(per_task)),
            ("max_tasks", json!(max)),
            ("scale_in_cooldown", json!(0)),
        ] {
            settings[key] = value;
        }
        for key in [
            "scale_up_threshold",
            "scale_down_threshold",
            "tasks_per_message",
            "max_scale_down_factor",
        ] {
            settings.as_object_mut().expect("an object").remove(key);
        }
        Autoscaler::new(config_from(&doc), &emulator.aws).expect("the providers build")
    };

    // Lag 90 s at 10 records/s: about 900 behind, which wants 9 at 100 a task,
    // capped at the 3 shards.
    let clicks = service(json!({"type": "kinesis", "stream_name": "clicks"}), 100, 50);
    emulator.reset_calls();
    let capped = evaluate_once(&clicks).await;
    let behind = capped.visible.expect("a reading");
    assert!(
        (800..=1_000).contains(&behind),
        "{behind}: {}",
        capped.reason
    );
    assert_eq!(capped.oldest_message_age_s, Some(90), "{}", capped.reason);
    assert_eq!(
        (capped.action, capped.new_desired),
        (Action::ScaleOut, Some(3)),
        "{}",
        capped.reason
    );
    assert!(
        capped.reason.contains("at most 3 consumers"),
        "{}",
        capped.reason
    );
    let again = evaluate_once(&clicks).await;
    assert_eq!(again.visible, Some(behind), "{}", again.reason);
    let calls = emulator.calls();
    assert_eq!(
        (
            calls.get("monitoring:GetMetricData"),
            calls.get("kinesis:DescribeStreamSummary")
        ),
        (Some(&1), Some(&1)),
        "two readings, one call each while fresh: {calls:?}"
    );

    // Four tasks per shard: 9 fit under 3 × 4.
    let wider = service(
        json!({"type": "kinesis", "stream_name": "clicks", "tasks_per_shard": 4}),
        100,
        50,
    );
    let uncapped = evaluate_once(&wider).await;
    assert!(
        uncapped.new_desired.is_some_and(|n| (8..=10).contains(&n)),
        "{}",
        uncapped.reason
    );

    // Nobody reads "unread": all 6,000 records of the hour are behind.
    let unread = service(
        json!({"type": "kinesis", "stream_name": "unread"}),
        1_000,
        50,
    );
    let reading = evaluate_once(&unread).await;
    assert_eq!(
        (reading.visible, reading.oldest_message_age_s),
        (Some(6_000), None),
        "{}",
        reading.reason
    );

    let missing = service(
        json!({"type": "kinesis", "stream_name": "nowhere"}),
        100,
        50,
    );
    let held = evaluate_once(&missing).await;
    assert_eq!(held.action, Action::Hold, "{}", held.reason);
    assert!(
        held.reason.contains("provider kinesis")
            && held.reason.contains("stream nowhere")
            && held.reason.contains("no such stream"),
        "{}",
        held.reason
    );
    assert_one_clean_line(&held.reason);
}

/// `n` services of one cluster on the target rule (10 messages per task, 1 to
/// 100 tasks), each reading its own queue (`depths` messages in the first ones),
/// under an ECS budget of `share`: the document and the queues' URLs.
async fn fleet(
    emulator: &Emulator,
    n: usize,
    share: f64,
    depths: &[usize],
) -> (Value, Vec<String>) {
    emulator.create_bucket(BUCKET).await;
    let (mut services, mut queues) = (Vec::new(), Vec::new());
    for i in 0..n {
        let queue = emulator.create_queue(&format!("fleet-{i}")).await;
        queues.push(queue.clone());
        if let Some(&depth) = depths.get(i) {
            emulator.send_messages(&queue, depth).await;
        }
        let name = format!("fleet-{i:02}");
        emulator.create_service(CLUSTER, &name, 1).await;
        services.push(json!({
            "cluster": CLUSTER, "service": name,
            "provider": {"type": "sqs", "queue_url": queue},
            "min_tasks": 1, "max_tasks": 100,
            "scaling_policy": "target", "target_messages_per_task": 10,
            "scale_out_cooldown": 0, "scale_in_cooldown": 0,
        }));
    }
    let doc = json!({"state_bucket": BUCKET, "ecs_quota_share": share, "services": services});
    (doc, queues)
}

/// The ECS budget: with one UpdateService a tick (a 2 % share of 5 a second, 50
/// burst, at 10-second ticks), the change with the most backlog per task is made
/// first, the others wait and say where they stand, and each is made on a later
/// tick: one call a tick, nothing lost.
#[tokio::test]
async fn the_ecs_budget_makes_the_most_urgent_change_first_and_loses_none() {
    let emulator = emulator_or_skip!();
    // 100, 500 and 300 messages at one task each: 10, 50 and 30 tasks wanted.
    let (doc, _) = fleet(&emulator, 3, 0.02, &[100, 500, 300]).await;
    let clock = Arc::new(ManualClock::at(fast_autoscaler_worker::now_ms()));
    let autoscaler = Autoscaler::new(config_from(&doc), &emulator.aws)
        .expect("the providers build")
        .with_clock(clock.clone());
    let mut applied_in_order = Vec::new();
    for round in 0..3 {
        emulator.reset_calls();
        let tick = Tick::new(clock.now_ms(), 10, 0);
        let records = autoscaler.evaluate(&tick, EvaluateOptions::default()).await;
        let applied: Vec<&DecisionRecord> = records.iter().filter(|r| r.applied).collect();
        assert_eq!(applied.len(), 1, "round {round}: {records:#?}");
        applied_in_order.push(applied[0].service.clone());
        let waiting: Vec<&str> = records
            .iter()
            .filter(|r| r.reason.contains("waiting for the ECS budget"))
            .map(|r| r.reason.as_str())
            .collect();
        assert_eq!(waiting.len(), 2 - round, "{records:#?}");
        for place in ["2nd", "3rd"].iter().take(2 - round) {
            let expected = format!(
                "waiting for the ECS budget: {place} of {} in line",
                3 - round
            );
            assert_eq!(
                waiting.iter().filter(|r| r.contains(&expected)).count(),
                1,
                "{expected}: {waiting:#?}"
            );
        }
        assert_eq!(emulator.calls().get("ecs:UpdateService"), Some(&1));
        clock.advance(10_000);
    }
    let name = |i: usize| format!("{CLUSTER}/fleet-{i:02}");
    assert_eq!(applied_in_order, [name(1), name(2), name(0)]);
    for (i, wanted) in [(0, 10), (1, 50), (2, 30)] {
        let service = format!("fleet-{i:02}");
        assert_eq!(emulator.desired_count(CLUSTER, &service).await, wanted);
    }
}

/// With two DescribeServices calls a tick (20 services) for 25 services, a tick
/// reads the services it has no counts of first, keeping one call to read again
/// a change found on kept counts; the others hold until a later tick reads them.
/// Once all have been read, each tick reads the oldest and decides the rest on
/// the counts it kept, within a minute's age. A change found on kept counts is
/// read again before it is made, within the same tick.
#[tokio::test]
async fn a_fleet_beyond_the_read_budget_is_decided_on_kept_counts() {
    let emulator = emulator_or_skip!();
    // A 2 % share: two DescribeServices calls and one UpdateService a tick.
    let (doc, queues) = fleet(&emulator, 25, 0.02, &[]).await;
    let clock = Arc::new(ManualClock::at(fast_autoscaler_worker::now_ms()));
    let autoscaler = Autoscaler::new(config_from(&doc), &emulator.aws)
        .expect("the providers build")
        .with_clock(clock.clone());
    let evaluate = || async {
        clock.advance(10_000);
        emulator.reset_calls();
        let tick = Tick::new(clock.now_ms(), 10, 0);
        let records = autoscaler.evaluate(&tick, EvaluateOptions::default()).await;
        let describes = emulator.calls().get("ecs:DescribeServices").copied();
        (records, describes)
    };

    let (first, describes) = evaluate().await;
    let unread = |records: &[DecisionRecord]| {
        records
            .iter()
            .filter(|r| {
                r.reason
                    .contains("waiting for the ECS budget to read its counts")
            })
            .count()
    };
    assert_eq!((first.len(), unread(&first)), (25, 15), "{first:#?}");
    assert_eq!(
        describes,
        Some(1),
        "one call kept for reading a change again"
    );
    let mut last = first;
    for _ in 0..3 {
        if unread(&last) == 0 {
            break;
        }
        let (records, describes) = evaluate().await;
        assert_eq!(describes, Some(1));
        last = records;
    }
    assert_eq!(
        unread(&last),
        0,
        "every service read within three more ticks: {last:#?}"
    );
    assert!(last.iter().all(|r| r.action == Action::None), "{last:#?}");
    let kept: Vec<&DecisionRecord> = last
        .iter()
        .filter(|r| {
            r.reason
                .contains(" s ago: the ECS budget did not reach this service")
        })
        .collect();
    assert!(kept.len() >= 5, "{last:#?}");

    // A surge on the service whose kept counts are the youngest: it is decided
    // (on kept counts, or read among the oldest), read again if it was kept,
    // and scaled within the tick's one UpdateService.
    let surged = kept
        .iter()
        .min_by_key(|r| {
            r.reason
                .split(" s ago")
                .next()
                .and_then(|s| s.rsplit(' ').next())
                .and_then(|n| n.parse::<u64>().ok())
        })
        .map(|r| r.service.clone())
        .expect("a kept service");
    let index: usize = surged
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("its index");
    emulator.send_messages(&queues[index], 200).await;
    let (third, describes) = evaluate().await;
    let record = third.iter().find(|r| r.service == surged).expect("decided");
    assert!(
        record.applied && record.new_desired == Some(20),
        "{record:#?}"
    );
    assert!(describes <= Some(2), "{describes:?}");
    assert_eq!(emulator.calls().get("ecs:UpdateService"), Some(&1));
    assert_eq!(
        emulator
            .desired_count(CLUSTER, &format!("fleet-{index:02}"))
            .await,
        20
    );
}

/// Anticipation in the worker, learned from CloudWatch: a day of `NumberOfMessagesSent`
/// with 3,000 messages at the same minute of every hour gets the tasks ordered
/// before that minute comes again, saying why; a flat queue's history gets
/// nothing added. The pattern is learned with one GetMetricData call, kept in
/// memory for the next tick and in the bucket for a cold container, and learned
/// again once five minutes old.
#[tokio::test]
async fn a_surge_seen_every_hour_in_cloudwatch_gets_its_tasks_before_it_lands() {
    let emulator = emulator_or_skip!();
    emulator.create_bucket(BUCKET).await;
    let real_now_s = fast_autoscaler_worker::now_ms() / 1000;
    // The surge lands at the start of minute `surge`, two minutes from now; the
    // history ends before it.
    let surge = real_now_s / 60 + 2;
    let mut services = Vec::new();
    for (name, per_surge) in [("hourly", 3000.0), ("flat", 60.0)] {
        let queue = emulator.create_queue(&format!("arrivals-{name}")).await;
        emulator.create_service(CLUSTER, name, 1).await;
        let history: Vec<(u64, f64)> = (surge - 24 * 60..real_now_s / 60 - 3)
            .map(|minute| {
                let count = if minute % 60 == surge % 60 {
                    per_surge
                } else {
                    60.0
                };
                (real_now_s - minute * 60 - 1, count)
            })
            .collect();
        for chunk in history.chunks(500) {
            let queue_name = format!("arrivals-{name}");
            put_metric(
                &emulator,
                "AWS/SQS",
                "NumberOfMessagesSent",
                ("QueueName", &queue_name),
                chunk,
            )
            .await;
        }
        services.push(json!({
            "cluster": CLUSTER, "service": name, "min_tasks": 1, "max_tasks": 100,
            "scaling_policy": "predictive", "task_throughput": 1, "task_startup_seconds": 45,
            "scale_out_cooldown": 0, "scale_in_cooldown": 0, "anticipation": "on",
            "provider": {"type": "sqs", "queue_url": queue},
        }));
    }
    let doc = json!({"state_bucket": BUCKET, "services": services});
    // 30 s before the surge: inside its window (45 s start-up + one 10 s tick).
    let clock = Arc::new(ManualClock::at(surge * 60_000 - 30_000));
    let container = || {
        Autoscaler::new(config_from(&doc), &emulator.aws)
            .expect("the providers build")
            .with_clock(clock.clone())
    };
    let learned_calls = |emulator: &Emulator| {
        let calls = emulator.calls();
        emulator.reset_calls();
        calls.get("monitoring:GetMetricData").copied().unwrap_or(0)
    };

    let warm = container();
    emulator.reset_calls();
    let records = decide_dry(&warm, &clock).await;
    assert_eq!(learned_calls(&emulator), 2, "one GetMetricData per service");
    let (hourly, flat) = (&records[0], &records[1]);
    // The surge is 2,940 above the usual 60 a minute: ceil((60 + 2,940) / 60 s / 1 msg/s).
    assert_eq!(hourly.new_desired, Some(50), "{}", hourly.reason);
    assert!(
        hourly
            .reason
            .contains("50 task(s) ready for the surge expected at")
            && hourly.reason.contains("hours at this minute"),
        "{}",
        hourly.reason
    );
    // The log line says it without its reason being parsed: the surge's minute,
    // its tasks, the 49 above the reactive rule's one, and a metric of them.
    let surge_at = jiff::Timestamp::from_second(surge as i64 * 60).expect("a time");
    assert_eq!(
        hourly.anticipation,
        Some(AnticipationRecord {
            surge_expected_at: surge_at.to_string(),
            tasks: 50,
            added: 49,
            forecast_only: false,
        }),
        "{}",
        hourly.reason
    );
    let line = fast_autoscaler_worker::emf::decision_line(hourly, 0);
    assert_eq!(line["AnticipatedTasks"], 49.0, "{line}");
    assert_eq!(line["anticipation"]["added"], 49, "{line}");
    assert_eq!(flat.new_desired, Some(1), "{}", flat.reason);
    assert!(!flat.reason.contains("surge"), "{}", flat.reason);
    assert_eq!(flat.anticipation, None);
    let flat_line = fast_autoscaler_worker::emf::decision_line(flat, 0);
    assert!(flat_line.get("AnticipatedTasks").is_none(), "{flat_line}");
    let key = format!("forecasts/{CLUSTER}/hourly.json");
    let stored = emulator.state_object(BUCKET, &key).await;
    assert!(
        stored.is_some(),
        "the pattern is kept in the bucket at {key}"
    );

    clock.advance(10_000);
    let again = decide_dry(&warm, &clock).await;
    assert_eq!(learned_calls(&emulator), 0, "a warm container keeps it");
    assert_eq!(again[0].new_desired, Some(50), "{}", again[0].reason);
    let cold = decide_dry(&container(), &clock).await;
    assert_eq!(
        learned_calls(&emulator),
        0,
        "a cold container reads the bucket's"
    );
    assert_eq!(cold[0].new_desired, Some(50), "{}", cold[0].reason);

    // Past the surge's minute and five minutes on, it is learned again, and
    // nothing is prepared until the next hour.
    clock.advance(6 * 60_000);
    let later = decide_dry(&warm, &clock).await;
    assert_eq!(learned_calls(&emulator), 2, "learned again after 5 minutes");
    assert_eq!(later[0].new_desired, Some(1), "{}", later[0].reason);

    // CloudWatch too slow for the tick: the pattern kept is used, and the next
    // try waits a minute, not a tick.
    emulator.delay_calls(&[("monitoring:GetMetricData", 2_500)]);
    clock.advance(6 * 60_000);
    let slow = decide_dry(&warm, &clock).await;
    assert_eq!(learned_calls(&emulator), 2, "tried once per service");
    assert_eq!(slow[0].new_desired, Some(1), "{}", slow[0].reason);
    clock.advance(10_000);
    decide_dry(&warm, &clock).await;
    assert_eq!(
        learned_calls(&emulator),
        0,
        "not tried again at the next tick"
    );
    emulator.delay_calls(&[]);
    clock.advance(60_000);
    decide_dry(&warm, &clock).await;
    assert_eq!(learned_calls(&emulator), 2, "tried again a minute on");
}

/// One dry-run tick at `clock`'s time.
async fn decide_dry(autoscaler: &Autoscaler, clock: &ManualClock) -> Vec<DecisionRecord> {
    let tick = Tick::new(clock.now_ms(), 10, 0);
    autoscaler
        .evaluate(&tick, EvaluateOptions { dry_run: true })
        .await
}

/// Anticipation on a queue that publishes no arrivals metric (Redis, against
/// the real server): the pattern is learned from the worker's own history in
/// the state bucket, with no CloudWatch call, and every tick's estimate of what
/// arrived since the last reading (the list's growth, no task busy) is added to
/// that history when the pattern is next learned.
#[tokio::test]
async fn a_queue_without_an_arrivals_metric_learns_from_the_workers_own_readings() {
    use fast_autoscaler_worker::core::forecast::Arrivals;
    let emulator = emulator_or_skip!();
    let Some(server) = fast_autoscaler_tests::redis::RedisServer::start() else {
        return;
    };
    emulator.create_service(CLUSTER, SERVICE, 1).await;
    emulator.create_bucket(BUCKET).await;
    let secret = store_secret(
        &emulator,
        "redis/own-history",
        json!({"password": server.password}),
    )
    .await;
    let doc = json!({"state_bucket": BUCKET, "services": [{
        "cluster": CLUSTER, "service": SERVICE, "min_tasks": 1, "max_tasks": 100,
        "scaling_policy": "predictive", "task_throughput": 1, "task_startup_seconds": 45,
        "scale_out_cooldown": 0, "scale_in_cooldown": 0, "anticipation": "on",
        "provider": {"type": "redis", "url": server.url(), "secret_arn": secret,
            "ca_bundle": server.pki.ca_pem, "key": "jobs", "missing_key_is_empty": true},
    }]});
    // A day of what the worker recorded: 60 a minute, 3,000 at this minute of
    // every hour, up to five minutes before the next one.
    let surge = 30_000_000u64;
    let mut history = Arrivals::default();
    for minute in surge - 24 * 60..surge - 5 {
        history.record(minute, if minute % 60 == surge % 60 { 3000 } else { 60 });
    }
    let key = format!("forecasts/{CLUSTER}/{SERVICE}.history.json");
    let body = serde_json::to_vec(&history).expect("history serializes");
    emulator.put_object(BUCKET, &key, &body).await;

    let clock = Arc::new(ManualClock::at(surge * 60_000 - 30_000));
    let autoscaler = Autoscaler::new(config_from(&doc), &emulator.aws)
        .expect("the providers build")
        .with_clock(clock.clone());
    let tick = |clock: &ManualClock| Tick::new(clock.now_ms(), 10, 0);
    emulator.reset_calls();
    let ready = autoscaler
        .evaluate(&tick(&clock), EvaluateOptions::default())
        .await;
    assert_eq!(ready[0].new_desired, Some(50), "{}", ready[0].reason);
    assert!(
        ready[0]
            .reason
            .contains("50 task(s) ready for the surge expected at"),
        "{}",
        ready[0].reason
    );
    assert_eq!(emulator.calls().get("monitoring:GetMetricData"), None);

    // 120 messages while no task works: the next tick notes 120 arrivals.
    emulator.set_running(CLUSTER, SERVICE, 0);
    let mut app = server.connection().await;
    let jobs: Vec<String> = (0..120).map(|i| format!("job-{i}")).collect();
    fast_autoscaler_tests::redis::RedisServer::push(&mut app, "jobs", &jobs).await;
    clock.advance(10_000);
    autoscaler
        .evaluate(&tick(&clock), EvaluateOptions::default())
        .await;
    // Learned again five minutes on: the notes are added to the history.
    clock.advance(6 * 60_000);
    autoscaler
        .evaluate(&tick(&clock), EvaluateOptions::default())
        .await;
    let stored = emulator
        .state_object(BUCKET, &key)
        .await
        .expect("the history");
    let history: Arrivals = serde_json::from_slice(&stored).expect("the history parses");
    assert_eq!(
        history.get(surge - 1),
        Some(120),
        "what the tick before the surge saw"
    );
    assert_eq!(history.get(surge - 6), Some(60), "the day recorded before");
}

#[path = "worker/groups.rs"]
mod groups;

#[path = "worker/upgrade.rs"]
mod upgrade;
