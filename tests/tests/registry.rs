//! Every provider crate under `providers/` and every target crate under
//! `targets/` is linked through its facade and registered.

use std::collections::BTreeSet;

use fast_autoscaler_providers as providers;
use fast_autoscaler_targets as targets;
use fast_autoscaler_tests::workspace_root;

/// Provider crates are the folders of `providers/` except the trait crate, the
/// facade and the AWS helpers several providers share.
fn provider_folders() -> BTreeSet<String> {
    std::fs::read_dir(workspace_root().join("providers"))
        .expect("providers/ exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !["core", "all", "support"].contains(&name.as_str()))
        .collect()
}

#[test]
fn every_provider_crate_is_registered() {
    let registered: BTreeSet<String> = providers::registered_names()
        .into_iter()
        .map(String::from)
        .collect();
    let folders = provider_folders();
    assert!(!folders.is_empty());
    for folder in &folders {
        assert!(
            registered.contains(folder),
            "providers/{folder} is not registered: add it to providers/all (one dependency and one `pub use` line) \
             and submit a ProviderRegistration named {folder:?}; registered: {registered:?}"
        );
    }
    let linked: BTreeSet<String> = providers::LINKED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        linked, registered,
        "LINKED in providers/all must list every registered provider"
    );
}

#[test]
fn unknown_names_answer_with_every_registered_name() {
    let err = providers::find("kafka")
        .err()
        .expect("kafka is not a provider")
        .to_string();
    for name in providers::registered_names() {
        assert!(err.contains(name), "{err}");
    }
    assert!(err.contains("\"kafka\""), "{err}");
    assert_eq!(
        providers::find("SQS").expect("case-insensitive").name,
        "sqs"
    );
}

/// The CloudWatch metric each provider's settings learn arrivals from, for
/// anticipation: one queue or stream has one; what has none says so by None.
#[test]
fn providers_name_the_arrivals_metric_anticipation_learns_from() {
    let metric = |settings: serde_json::Value| {
        let name = settings["type"].as_str().expect("a type").to_string();
        let registration = providers::find(&name).expect("registered");
        let parsed = (registration.parse)(&settings).unwrap_or_else(|e| panic!("{e}"));
        parsed.arrivals_metric().map(|m| m.to_string())
    };
    let queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";
    assert_eq!(
        metric(serde_json::json!({"type": "sqs", "queue_url": queue})).as_deref(),
        Some("AWS/SQS NumberOfMessagesSent QueueName=jobs")
    );
    assert_eq!(
        metric(serde_json::json!({"type": "sqs", "queue_name_prefix": "jobs-"})),
        None
    );
    assert_eq!(
        metric(serde_json::json!({"type": "kinesis", "stream_name": "clicks"})).as_deref(),
        Some("AWS/Kinesis IncomingRecords StreamName=clicks")
    );
    let activemq = serde_json::json!({"type": "amq", "engine": "activemq", "host": "127.0.0.1",
        "queue_name": "orders", "username": "u", "password": "p", "tls": false,
        "broker_name": "prod-broker"});
    assert_eq!(
        metric(activemq.clone()).as_deref(),
        Some("AWS/AmazonMQ EnqueueCount Broker=prod-broker Queue=orders")
    );
    let mut rabbitmq = activemq;
    rabbitmq["engine"] = "rabbitmq".into();
    assert_eq!(metric(rabbitmq), None);
}

/// Target crates are the folders of `targets/` except the trait crate and the facade.
fn target_folders() -> BTreeSet<String> {
    std::fs::read_dir(workspace_root().join("targets"))
        .expect("targets/ exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !["core", "all"].contains(&name.as_str()))
        .collect()
}

#[test]
fn every_target_crate_is_registered() {
    let registered: BTreeSet<String> = targets::registered_names()
        .into_iter()
        .map(String::from)
        .collect();
    let linked: BTreeSet<String> = targets::LINKED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        linked, registered,
        "LINKED in targets/all must list every registered target kind"
    );
    // A crate's folder is named for what it scales; its registered name says
    // more (targets/asg registers ec2_asg): one registered kind per folder.
    let folders = target_folders();
    assert_eq!(
        folders.len(),
        registered.len(),
        "every crate in targets/ must be linked in targets/all and register one kind: folders {folders:?}, registered {registered:?}"
    );
    for name in &registered {
        let kind = targets::find(name).expect("registered");
        assert!(kind.budget.describe_batch >= 1, "{name}");
        assert!(
            kind.budget.share > 0.0 && kind.budget.share <= 1.0,
            "{name}"
        );
        assert!(!kind.unit.is_empty() && !kind.summary.is_empty(), "{name}");
    }
}

#[test]
fn an_unknown_target_type_answers_with_every_registered_one() {
    let err = targets::find("k8s_deployment")
        .err()
        .expect("not a target kind")
        .to_string();
    for name in targets::registered_names() {
        assert!(err.contains(name), "{err}");
    }
    assert!(err.contains("\"k8s_deployment\""), "{err}");
    assert_eq!(
        targets::find("EC2_ASG").expect("case-insensitive").name,
        "ec2_asg"
    );
}
