//! The `amq` provider against real brokers: RabbitMQ and ActiveMQ from Debian's
//! packages, each a private instance on 127.0.0.1 (see `fast_autoscaler_tests::brokers`),
//! with credentials in Secrets Manager on the moto emulator. It lives beside the
//! provider it tests.
//!
//! Readings go through the `fast-autoscaler metrics` command, exactly as an operator
//! would check a deployment, and the tests assert the exact counts it prints.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fast_autoscaler_provider::{ProviderContext, QueueMetricsProvider};
use fast_autoscaler_provider_amq::{AmqProvider, AmqSettings};
use fast_autoscaler_tests::brokers::{free_port, ActiveMq, RabbitMq};
use fast_autoscaler_tests::{
    assert_one_clean_line, emulator_or_skip, run_cli, workspace_binary, Emulator,
};
use serde_json::Value;

/// Runs the workspace's `fast-autoscaler` binary with only `env` and `args`.
fn cli(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    run_cli(&workspace_binary("fast-autoscaler"), env, args)
}

/// AMQ_* settings of one run, as (variable, value).
type Settings = Vec<(&'static str, String)>;

static RABBITMQ: OnceLock<Option<RabbitMq>> = OnceLock::new();
static ACTIVEMQ: OnceLock<Option<ActiveMq>> = OnceLock::new();

/// One RabbitMQ node for this test binary; each test uses its own queues.
fn rabbitmq() -> Option<&'static RabbitMq> {
    RABBITMQ.get_or_init(RabbitMq::start).as_ref()
}

fn activemq() -> Option<&'static ActiveMq> {
    ACTIVEMQ.get_or_init(ActiveMq::start).as_ref()
}

macro_rules! or_skip {
    ($broker:expr) => {
        match $broker {
            Some(broker) => broker,
            None => return,
        }
    };
}

async fn store_secret(emulator: &Emulator, name: &str, username: &str, password: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&emulator.aws);
    let created = client
        .create_secret()
        .name(name)
        .secret_string(serde_json::json!({"username": username, "password": password}).to_string())
        .send()
        .await
        .expect("CreateSecret on the emulator");
    created.arn().expect("secret ARN").to_string()
}

/// Single-service environment for the CLI, with the given AMQ_* settings.
fn amq_env(emulator: &Emulator, settings: &[(&str, String)]) -> Vec<(String, String)> {
    let mut env = emulator.env();
    env.extend(
        [
            ("ECS_CLUSTER", "amq-cluster"),
            ("SERVICE_NAME", "workers"),
            ("S3_CONFIG_BUCKET", "amq-state"),
            ("QUEUE_TYPE", "amq"),
            ("MIN_TASKS", "1"),
            ("MAX_TASKS", "100"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    env.extend(settings.iter().map(|(k, v)| (k.to_string(), v.clone())));
    env
}

/// One `fast-autoscaler metrics` run: its exit code and its one JSON line.
fn metrics(env: &[(String, String)]) -> (i32, Value, String) {
    let (code, stdout, stderr) = cli(env, &["metrics"]);
    let line = stdout.lines().next().unwrap_or_default();
    let value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("metrics printed {stdout:?} ({e}); stderr: {stderr}"));
    (code, value, stderr)
}

/// Polls `metrics` until it prints the expected counts. The management API's counters
/// lag the queue by its statistics interval, so a bounded wait is part of the contract.
fn wait_for_counts(env: &[(String, String)], visible: u64, in_flight: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, value, stderr) = metrics(env);
        let settled = code == 0 && value["visible"] == visible && value["in_flight"] == in_flight;
        if settled {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "counts never settled at visible={visible} in_flight={in_flight}: last {value} (exit {code}), stderr: {stderr}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The error `metrics` prints for a reading that must fail.
fn metrics_error(env: &[(String, String)]) -> String {
    let (code, value, _) = metrics(env);
    assert_eq!(code, 1, "a failed reading must exit 1: {value}");
    value["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {value}"))
        .to_string()
}

fn rabbit_settings(
    broker: &RabbitMq,
    queue: &str,
    secret_arn: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("AMQ_ENGINE", "rabbitmq".into()),
        ("AMQ_HOST", "127.0.0.1".into()),
        ("AMQ_PORT", broker.https_port.to_string()),
        ("AMQ_QUEUE_NAME", queue.into()),
        ("AMQ_SECRET_ARN", secret_arn.into()),
        ("AMQ_CA_BUNDLE", broker.pki.ca_pem.display().to_string()),
    ]
}

fn with(
    mut settings: Vec<(&'static str, String)>,
    key: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    settings.retain(|(k, _)| *k != key);
    settings.push((key, value.to_string()));
    settings
}

#[tokio::test]
async fn rabbitmq_management_api_over_verified_tls_reports_ready_and_unacknowledged() {
    let emulator = emulator_or_skip!();
    let broker = or_skip!(rabbitmq());
    let arn = store_secret(&emulator, "mq/rabbit", &broker.username, &broker.password).await;
    broker.publish("orders", 7).await;
    let _held = broker.hold_unacknowledged("orders", 3).await;

    let env = amq_env(&emulator, &rabbit_settings(broker, "orders", &arn));
    let value = wait_for_counts(&env, 4, 3);
    assert_eq!(value["provider"], "amq");
    assert_eq!(value["delayed"], 0);

    // AMQP mode over AMQPS: the ready count as of now, no unacknowledged count.
    let amqp = with(
        with(rabbit_settings(broker, "orders", &arn), "AMQ_MODE", "amqp"),
        "AMQ_PORT",
        &broker.amqps_port.to_string(),
    );
    let (code, value, stderr) = metrics(&amq_env(&emulator, &amqp));
    assert_eq!(code, 0, "{value} {stderr}");
    assert_eq!(
        (value["visible"].as_u64(), value["in_flight"].as_u64()),
        (Some(4), Some(0))
    );
}

#[tokio::test]
async fn rabbitmq_errors_name_the_broker_and_the_cause() {
    let emulator = emulator_or_skip!();
    let broker = or_skip!(rabbitmq());
    let arn = store_secret(
        &emulator,
        "mq/rabbit-errors",
        &broker.username,
        &broker.password,
    )
    .await;
    let wrong = store_secret(
        &emulator,
        "mq/rabbit-wrong",
        &broker.username,
        "not-the-password",
    )
    .await;
    broker.publish("errors-present", 1).await;
    let base = rabbit_settings(broker, "errors-present", &arn);
    let broker_label = format!("127.0.0.1:{}", broker.https_port);

    let cases: Vec<(&str, Settings, &str)> = vec![
        (
            "wrong credentials",
            with(base.clone(), "AMQ_SECRET_ARN", &wrong),
            "rejected the credentials",
        ),
        (
            "missing queue",
            with(base.clone(), "AMQ_QUEUE_NAME", "no-such-queue"),
            "queue \"no-such-queue (vhost /)\" does not exist",
        ),
        (
            "missing vhost",
            with(base.clone(), "AMQ_VHOST", "no-such-vhost"),
            "virtual host \"no-such-vhost\" does not exist",
        ),
        (
            "untrusted certificate",
            base.iter()
                .filter(|(k, _)| *k != "AMQ_CA_BUNDLE")
                .cloned()
                .collect(),
            "TLS with broker",
        ),
        (
            "closed port",
            with(base.clone(), "AMQ_PORT", &free_port().to_string()),
            "is unreachable",
        ),
        (
            "amqp wrong credentials",
            with(
                with(
                    with(base.clone(), "AMQ_MODE", "amqp"),
                    "AMQ_PORT",
                    &broker.amqps_port.to_string(),
                ),
                "AMQ_SECRET_ARN",
                &wrong,
            ),
            "timed out waiting for the AMQP connection",
        ),
        (
            "amqp missing queue",
            with(
                with(
                    with(base.clone(), "AMQ_MODE", "amqp"),
                    "AMQ_PORT",
                    &broker.amqps_port.to_string(),
                ),
                "AMQ_QUEUE_NAME",
                "no-such-queue",
            ),
            "does not exist",
        ),
    ];
    // AMQP mode: RabbitMQ drops the socket on a failed login, and amqprs reports
    // that as no connection within the connect time-out (documented in docs/providers.md).
    for (case, settings, expected) in cases {
        let error = metrics_error(&amq_env(&emulator, &settings));
        assert!(error.contains(expected), "{case}: {error}");
        assert_one_clean_line(&error);
        assert!(
            error.contains("127.0.0.1:"),
            "{case} names no broker: {error}"
        );
        if case == "wrong credentials" {
            assert!(
                error.contains(&format!("the credentials of secret {wrong}")),
                "the rejected secret is named: {error}"
            );
        }
        assert!(
            !error.contains(&broker.password) && !error.contains("not-the-password"),
            "{case} leaks a password: {error}"
        );
    }
    // The broker named is the one configured.
    let error = metrics_error(&amq_env(
        &emulator,
        &with(base, "AMQ_QUEUE_NAME", "no-such-queue"),
    ));
    assert!(error.contains(&broker_label), "{error}");
}

#[tokio::test]
async fn rabbitmq_readings_leave_no_connection_open() {
    let emulator = emulator_or_skip!();
    let broker = or_skip!(rabbitmq());
    broker.publish("leaks", 2).await;
    // A user of this test's own: the other tests read the same node concurrently.
    let (username, password) = ("leak-check", format!("pw-leak-{}", std::process::id()));
    broker.add_monitoring_user(username, &password);
    for (mode, port) in [
        ("management", broker.https_port),
        ("amqp", broker.amqps_port),
    ] {
        let settings = AmqSettings::parse(&serde_json::json!({
            "engine": "rabbitmq", "mode": mode, "host": "127.0.0.1", "port": port,
            "queue_name": "leaks", "username": username, "password": password,
            "ca_bundle": broker.pki.ca_pem.display().to_string(),
        }))
        .expect("settings");
        let provider =
            AmqProvider::new(settings, ProviderContext { aws: &emulator.aws }).expect("provider");
        // A new queue has no counters until the broker's first statistics emission.
        let deadline = Instant::now() + Duration::from_secs(15);
        while !provider
            .metrics()
            .await
            .is_ok_and(|m| m.visible + m.in_flight == 2)
        {
            assert!(Instant::now() < deadline, "{mode}: no reading within 15 s");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for _ in 0..150 {
            let reading = provider.metrics().await.expect("reading");
            assert_eq!(reading.visible + reading.in_flight, 2, "{mode}");
        }
        drop(provider);
        // Closed connections leave the management API's list within a few seconds.
        let deadline = Instant::now() + Duration::from_secs(15);
        while broker.connections_of(username) > 0 {
            assert!(
                Instant::now() < deadline,
                "{mode}: {} connections still open after 150 readings",
                broker.connections_of(username)
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// A broker in the emulator's Amazon MQ, as `AMQ_BROKER_ID` names one.
async fn create_mq_broker(
    emulator: &Emulator,
    name: &str,
    engine: aws_sdk_mq::types::EngineType,
) -> String {
    use aws_sdk_mq::types::{DeploymentMode, User};
    let created = aws_sdk_mq::Client::new(&emulator.aws)
        .create_broker()
        .broker_name(name)
        .engine_type(engine)
        .engine_version("3.13")
        .host_instance_type("mq.m5.large")
        .deployment_mode(DeploymentMode::SingleInstance)
        .publicly_accessible(false)
        .auto_minor_version_upgrade(true)
        .users(
            User::builder()
                .username("admin")
                .password("broker-admin-password")
                .build(),
        )
        .send()
        .await
        .expect("CreateBroker on the emulator");
    created.broker_id().expect("broker id").to_string()
}

/// `broker_id` instead of host and port: DescribeBroker, through the real
/// aws-sdk-mq client against moto, gives the management API's address. Amazon
/// MQ's answer names the broker's AWS host, and tests reach only loopback, so the
/// answer's console URL is rewritten to this test's RabbitMQ node; the rest of it
/// (engine, instances, name) is moto's. The lookup is made once per provider.
#[tokio::test]
async fn a_broker_id_is_resolved_through_describe_broker() {
    use fast_autoscaler_tests::faults::{Tamper, Tampering};
    let emulator = emulator_or_skip!();
    let broker = or_skip!(rabbitmq());
    broker.publish("by-broker-id", 3).await;
    let id = create_mq_broker(
        &emulator,
        "payments-rabbit",
        aws_sdk_mq::types::EngineType::Rabbitmq,
    )
    .await;
    let console = format!("https://127.0.0.1:{}", broker.https_port);
    let tamper = Tamper::new(
        "DescribeBroker",
        Tampering::json(move |answer| {
            for instance in answer["brokerInstances"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                instance["consoleURL"] = serde_json::json!(console);
            }
        }),
    );
    let aws = emulator
        .aws
        .to_builder()
        .http_client(tamper.client())
        .build();
    let settings = AmqSettings::parse(&serde_json::json!({
        "engine": "rabbitmq", "broker_id": id, "queue_name": "by-broker-id",
        "username": broker.username, "password": broker.password,
        "ca_bundle": broker.pki.ca_pem.display().to_string(),
    }))
    .expect("settings");
    let provider = AmqProvider::new(settings, ProviderContext { aws: &aws }).expect("provider");
    // A new queue has no counters until the broker's first statistics emission.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match provider.metrics().await {
            Ok(reading) if reading.visible + reading.in_flight == 3 => break,
            other => assert!(
                Instant::now() < deadline,
                "no reading of 3 within 30 s: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    provider.metrics().await.expect("a second reading");
    assert_eq!(
        tamper.hits(),
        1,
        "DescribeBroker is called once, then cached"
    );
}

/// A broker id that Amazon MQ does not know, or one of the other engine: each is a
/// clear error naming the id, before any broker is contacted.
#[tokio::test]
async fn broker_id_lookup_errors_name_the_broker() {
    use aws_sdk_mq::types::EngineType;
    let emulator = emulator_or_skip!();
    let rabbit = create_mq_broker(&emulator, "orders-rabbit", EngineType::Rabbitmq).await;
    let settings = |engine: &str, id: &str| -> Settings {
        vec![
            ("AMQ_ENGINE", engine.into()),
            ("AMQ_BROKER_ID", id.into()),
            ("AMQ_QUEUE_NAME", "orders".into()),
            ("AMQ_USERNAME", "local".into()),
            ("AMQ_PASSWORD", "lookup-password-9v".into()),
        ]
    };
    let unknown = "b-00000000-0000-0000-0000-000000000000";
    let error = metrics_error(&amq_env(&emulator, &settings("rabbitmq", unknown)));
    assert!(
        error.contains(&format!("could not resolve Amazon MQ broker {unknown}")),
        "{error}"
    );
    let error = metrics_error(&amq_env(&emulator, &settings("activemq", &rabbit)));
    assert!(
        error.contains(&rabbit)
            && error.contains(
                "the broker's engine is \"rabbitmq\" but the configured engine is activemq"
            ),
        "{error}"
    );
    assert!(!error.contains("lookup-password-9v"), "{error}");
}

fn activemq_settings(
    broker: &ActiveMq,
    queue: &str,
    secret_arn: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("AMQ_ENGINE", "activemq".into()),
        ("AMQ_HOST", "127.0.0.1".into()),
        ("AMQ_PORT", broker.stomp_tls_port.to_string()),
        ("AMQ_QUEUE_NAME", queue.into()),
        ("AMQ_SECRET_ARN", secret_arn.into()),
        ("AMQ_CA_BUNDLE", broker.pki.ca_pem.display().to_string()),
    ]
}

#[tokio::test]
async fn activemq_statistics_over_stomp_tls_report_size_minus_in_flight() {
    let emulator = emulator_or_skip!();
    let broker = or_skip!(activemq());
    let arn = store_secret(&emulator, "mq/active", &broker.username, &broker.password).await;
    broker.publish("invoices", 9).await;
    let _held = broker.hold_unacknowledged("invoices", 4).await;

    let env = amq_env(&emulator, &activemq_settings(broker, "invoices", &arn));
    let (code, value, stderr) = metrics(&env);
    assert_eq!(code, 0, "{value} {stderr}");
    assert_eq!(
        (value["visible"].as_u64(), value["in_flight"].as_u64()),
        (Some(5), Some(4)),
        "{value}"
    );

    // Reading statistics never touched the queue: the same counts again.
    let (_, again, _) = metrics(&env);
    assert_eq!(
        (again["visible"].as_u64(), again["in_flight"].as_u64()),
        (Some(5), Some(4)),
        "{again}"
    );

    // Plain STOMP works only when asked for.
    let plain = with(
        with(
            activemq_settings(broker, "invoices", &arn),
            "AMQ_TLS",
            "false",
        ),
        "AMQ_PORT",
        &broker.stomp_port.to_string(),
    );
    let plain: Vec<_> = plain
        .into_iter()
        .filter(|(k, _)| *k != "AMQ_CA_BUNDLE")
        .collect();
    let (code, value, _) = metrics(&amq_env(&emulator, &plain));
    assert_eq!((code, value["visible"].as_u64()), (0, Some(5)), "{value}");
}

#[tokio::test]
async fn activemq_errors_name_the_broker_and_the_cause() {
    let emulator = emulator_or_skip!();
    let broker = or_skip!(activemq());
    let arn = store_secret(
        &emulator,
        "mq/active-errors",
        &broker.username,
        &broker.password,
    )
    .await;
    let wrong = store_secret(
        &emulator,
        "mq/active-wrong",
        &broker.username,
        "not-the-password",
    )
    .await;
    broker.publish("present", 1).await;
    let base = activemq_settings(broker, "present", &arn);

    // A peer that accepts connections and never answers: the reply time-out.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("silent listener");
    let silent_port = silent.local_addr().expect("port").port();
    let silent_settings = with(
        with(
            with(base.clone(), "AMQ_PORT", &silent_port.to_string()),
            "AMQ_TLS",
            "false",
        ),
        "AMQ_REPLY_TIMEOUT_MS",
        "500",
    )
    .into_iter()
    .filter(|(k, _)| *k != "AMQ_CA_BUNDLE")
    .collect();

    let cases: Vec<(&str, Settings, &str)> = vec![
        (
            "wrong credentials",
            with(base.clone(), "AMQ_SECRET_ARN", &wrong),
            "rejected the credentials",
        ),
        (
            "missing queue",
            with(base.clone(), "AMQ_QUEUE_NAME", "no-such-queue"),
            "queue \"no-such-queue\" does not exist",
        ),
        (
            "untrusted certificate",
            base.iter()
                .filter(|(k, _)| *k != "AMQ_CA_BUNDLE")
                .cloned()
                .collect(),
            "TLS with broker",
        ),
        (
            "closed port",
            with(base.clone(), "AMQ_PORT", &free_port().to_string()),
            "is unreachable",
        ),
        (
            "silent broker",
            silent_settings,
            "timed out waiting for the STOMP CONNECTED frame",
        ),
        (
            "missing secret",
            with(
                base.clone(),
                "AMQ_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf",
            ),
            "could not read broker credentials from secret",
        ),
    ];
    for (case, settings, expected) in cases {
        let started = Instant::now();
        let error = metrics_error(&amq_env(&emulator, &settings));
        assert!(error.contains(expected), "{case}: {error}");
        assert_one_clean_line(&error);
        assert!(
            !error.contains(&broker.password) && !error.contains("not-the-password"),
            "{case} leaks a password: {error}"
        );
        // Bounded: the default time-outs are 2 s each; nothing may hang a tick.
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{case} took {:?}",
            started.elapsed()
        );
    }
    drop(silent);
}

#[tokio::test]
async fn a_broker_stopped_mid_test_is_an_error_and_the_worker_holds() {
    let emulator = emulator_or_skip!();
    // Its own broker: this test stops it.
    let mut broker = or_skip!(ActiveMq::start());
    let arn = store_secret(&emulator, "mq/stopped", &broker.username, &broker.password).await;
    broker.publish("payments", 6).await;
    let env = amq_env(&emulator, &activemq_settings(&broker, "payments", &arn));
    let (code, value, _) = metrics(&env);
    assert_eq!((code, value["visible"].as_u64()), (0, Some(6)), "{value}");

    broker.stop();
    let error = metrics_error(&env);
    assert!(
        error.contains("is unreachable") && error.contains("activemq://127.0.0.1:"),
        "{error}"
    );

    // The worker holds on it: one decision, action hold, reason naming the failure.
    let (code, stdout, stderr) = cli(&env, &["run", "--once", "--dry-run"]);
    let decision: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("action").is_some())
        .unwrap_or_else(|| panic!("no decision in {stdout:?} (exit {code}); {stderr}"));
    assert_eq!(decision["action"], "hold", "{decision}");
}

/// Publishes one `AWS/AmazonMQ` `QueueSize` datapoint, as Amazon MQ does each minute.
async fn publish_queue_size(
    emulator: &Emulator,
    broker: &str,
    queue: &str,
    value: f64,
    age: Duration,
) {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    aws_sdk_cloudwatch::Client::new(&emulator.aws)
        .put_metric_data()
        .namespace("AWS/AmazonMQ")
        .metric_data(
            MetricDatum::builder()
                .metric_name("QueueSize")
                .dimensions(dimension("Broker", broker))
                .dimensions(dimension("Queue", queue))
                .timestamp(DateTime::from(std::time::SystemTime::now() - age))
                .value(value)
                .unit(StandardUnit::Count)
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData on the emulator");
}

/// With `cloudwatch_fallback`, an unreachable ActiveMQ broker is read from the
/// `AWS/AmazonMQ` `QueueSize` metric instead, through the real aws-sdk-cloudwatch
/// client against moto (served in RPCv2 CBOR by the launcher's adapter), and the
/// reading is logged as lagging. No datapoint is still an error, naming both causes.
#[tokio::test]
async fn an_unreachable_activemq_broker_falls_back_to_cloudwatch_queue_size() {
    let emulator = emulator_or_skip!();
    let arn = store_secret(&emulator, "mq/fallback", "user", "fallback-password-3Kd").await;
    publish_queue_size(
        &emulator,
        "payments-broker",
        "orders",
        42.0,
        Duration::from_secs(90),
    )
    .await;
    // A newer datapoint wins over an older one.
    publish_queue_size(
        &emulator,
        "payments-broker",
        "orders",
        57.0,
        Duration::from_secs(30),
    )
    .await;
    publish_queue_size(
        &emulator,
        "other-broker",
        "orders",
        999.0,
        Duration::from_secs(30),
    )
    .await;
    let closed_port = free_port();
    let settings = |queue: &str| -> Settings {
        vec![
            ("AMQ_ENGINE", "activemq".into()),
            ("AMQ_HOST", "127.0.0.1".into()),
            ("AMQ_PORT", closed_port.to_string()),
            ("AMQ_QUEUE_NAME", queue.into()),
            ("AMQ_SECRET_ARN", arn.clone()),
            ("AMQ_CLOUDWATCH_FALLBACK", "true".into()),
            ("AMQ_BROKER_NAME", "payments-broker".into()),
        ]
    };

    emulator.reset_calls();
    let (code, value, stderr) = metrics(&amq_env(&emulator, &settings("orders")));
    assert_eq!(code, 0, "{value} {stderr}");
    assert_eq!(
        (value["visible"].as_u64(), value["in_flight"].as_u64()),
        (Some(57), Some(0)),
        "{value}"
    );
    assert!(
        stderr.contains("CloudWatch QueueSize fallback") && stderr.contains("lags"),
        "the lagging reading is not logged as such: {stderr}"
    );
    assert_eq!(
        emulator.calls().get("monitoring:GetMetricData"),
        Some(&1),
        "{:?}",
        emulator.calls()
    );

    // Without the fallback the same broker is an error: the reading came from CloudWatch.
    let without: Settings = settings("orders")
        .into_iter()
        .filter(|(k, _)| *k != "AMQ_CLOUDWATCH_FALLBACK")
        .collect();
    let error = metrics_error(&amq_env(&emulator, &without));
    assert!(error.contains("is unreachable"), "{error}");

    // A queue with no datapoint: both failures are named, and it is an error (hold).
    let error = metrics_error(&amq_env(&emulator, &settings("refunds")));
    assert!(
        error.contains("is unreachable")
            && error.contains("the CloudWatch fallback failed too")
            && error.contains("no QueueSize datapoint for Broker=payments-broker, Queue=refunds"),
        "{error}"
    );
}

#[tokio::test]
async fn check_config_shows_the_amq_settings_without_secrets() {
    let emulator = emulator_or_skip!();
    let settings = vec![
        ("AMQ_ENGINE", "rabbitmq".to_string()),
        ("AMQ_HOST", "127.0.0.1".to_string()),
        ("AMQ_QUEUE_NAME", "q".to_string()),
        ("AMQ_USERNAME", "local".to_string()),
        ("AMQ_PASSWORD", "very-secret-password".to_string()),
    ];
    let (code, stdout, stderr) = cli(&amq_env(&emulator, &settings), &["check-config"]);
    assert_eq!(code, 0, "{stdout} {stderr}");
    assert!(
        stdout.contains("\"engine\":\"rabbitmq\"") && stdout.contains("***"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("very-secret-password") && !stderr.contains("very-secret-password"),
        "{stdout} {stderr}"
    );
    assert!(
        stderr.contains("plain settings"),
        "no warning about plain credentials: {stderr}"
    );

    // A bad setting is rejected at start-up with its variable named.
    let bad = with(settings, "AMQ_ENGINE", "kafka");
    let (code, _, stderr) = cli(&amq_env(&emulator, &bad), &["check-config"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("AMQ_ENGINE") || stderr.contains("engine"),
        "{stderr}"
    );
    assert!(!stderr.contains("very-secret-password"), "{stderr}");
}

/// The worker Lambda, under the cargo-lambda runtime emulator with every log level
/// on (the AWS SDK's wire traces included), reads its broker credentials from
/// Secrets Manager and fails to reach the broker. Neither the password nor the
/// secret's JSON may appear anywhere in what it prints or answers.
#[tokio::test]
async fn secrets_stay_out_of_the_worker_logs_even_at_trace_level() {
    let emulator = emulator_or_skip!();
    const PASSWORD: &str = "pw-only-in-secrets-manager-7Q2x";
    let arn = store_secret(&emulator, "mq/traced", "traced-user", PASSWORD).await;
    emulator.create_service("amq-cluster", "workers", 3).await;
    emulator.create_bucket("amq-state").await;
    let closed_port = free_port();
    let mut env = amq_env(
        &emulator,
        &[
            ("AMQ_ENGINE", "rabbitmq".into()),
            ("AMQ_HOST", "127.0.0.1".into()),
            ("AMQ_PORT", closed_port.to_string()),
            ("AMQ_QUEUE_NAME", "jobs".into()),
            ("AMQ_SECRET_ARN", arn.clone()),
        ],
    );
    env.push(("AWS_LAMBDA_LOG_LEVEL".into(), "trace".into()));
    env.push(("RUST_LOG".into(), "trace".into()));
    let Some(worker) = fast_autoscaler_tests::LambdaEmulator::start(
        &fast_autoscaler_tests::workspace_binary("worker"),
        &env,
    ) else {
        return;
    };
    let tick = fast_autoscaler_tests::tick_now();
    let outcome = worker.invoke(&serde_json::json!({"Records": [
        {"messageId": "1", "body": tick.to_body(), "eventSource": "aws:sqs"},
    ]}));
    let logs = worker.stop();
    assert_eq!(
        outcome["decisions"][0]["action"], "hold",
        "an unreachable broker holds: {outcome}"
    );
    // The path that handles the secret really ran and was traced.
    assert!(
        logs.contains("GetSecretValue") && logs.lines().count() > 50,
        "expected the SDK's traces of GetSecretValue in the logs:\n{logs}"
    );
    for (what, text) in [("logs", logs.as_str()), ("answer", &outcome.to_string())] {
        assert!(
            !text.contains(PASSWORD) && !text.contains("pw-only-in-secrets"),
            "the password leaked into the worker's {what}"
        );
    }
}

/// Every listening TCP socket of the machine: (inode, local address in
/// /proc/net's hex form, port).
fn listening_sockets() -> Vec<(String, String, u16)> {
    let mut sockets = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if fields.len() < 10 || fields[3] != "0A" {
                continue;
            }
            let Some((address, port)) = fields[1].split_once(':') else {
                continue;
            };
            let port = u16::from_str_radix(port, 16).unwrap_or(0);
            sockets.push((fields[9].to_string(), address.to_string(), port));
        }
    }
    sockets
}

/// 127.0.0.0/8 or ::1 (or IPv4-mapped 127/8), in /proc/net's byte order.
fn is_loopback(address: &str) -> bool {
    match address.len() {
        8 => address.ends_with("7F"),
        32 => {
            address == "00000000000000000000000001000000"
                || (address.starts_with("0000000000000000FFFF0000") && address.ends_with("7F"))
        }
        _ => false,
    }
}

/// The command line of the process holding a socket inode, for the failure message.
fn owner_of(inode: &str) -> String {
    let wanted = format!("socket:[{inode}]");
    for process in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let fds = process.path().join("fd");
        for fd in std::fs::read_dir(&fds).into_iter().flatten().flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == wanted) {
                let cmdline = std::fs::read(process.path().join("cmdline")).unwrap_or_default();
                return String::from_utf8_lossy(&cmdline).replace('\0', " ");
            }
        }
    }
    "an unknown process".into()
}

/// The brokers, the AWS emulator and the Lambda runtime emulator that the tests
/// start add listeners on loopback only.
#[tokio::test]
async fn nothing_the_tests_start_listens_beyond_loopback() {
    let before: std::collections::HashSet<String> = listening_sockets()
        .into_iter()
        .filter(|(_, address, _)| !is_loopback(address))
        .map(|(inode, _, _)| inode)
        .collect();
    let emulator = emulator_or_skip!();
    let rabbit = or_skip!(rabbitmq());
    let active = or_skip!(activemq());
    let mut env = emulator.env();
    env.push((
        "TICK_QUEUE_URL".into(),
        format!("{}/123456789012/ticks", emulator.endpoint),
    ));
    let Some(lambda) = fast_autoscaler_tests::LambdaEmulator::start(
        &fast_autoscaler_tests::workspace_binary("scheduler"),
        &env,
    ) else {
        return;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = listening_sockets();
    drop(lambda);

    let moto_port: u16 = emulator
        .endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("emulator port");
    // The known ports are there, on loopback: the scan sees what it must judge.
    for (what, port) in [
        ("moto", moto_port),
        ("RabbitMQ AMQP", rabbit.amqp_port),
        ("RabbitMQ AMQPS", rabbit.amqps_port),
        ("RabbitMQ management", rabbit.http_port),
        ("RabbitMQ management TLS", rabbit.https_port),
        ("ActiveMQ STOMP", active.stomp_port),
        ("ActiveMQ STOMP TLS", active.stomp_tls_port),
    ] {
        assert!(
            after
                .iter()
                .any(|(_, address, p)| *p == port && is_loopback(address)),
            "{what} is not listening on loopback port {port}"
        );
    }
    let exposed: Vec<String> = after
        .iter()
        .filter(|(inode, address, _)| !is_loopback(address) && !before.contains(inode))
        .map(|(inode, address, port)| format!("{address}:{port} by {}", owner_of(inode)))
        .collect();
    assert!(
        exposed.is_empty(),
        "listening beyond loopback:\n{}",
        exposed.join("\n")
    );
}
