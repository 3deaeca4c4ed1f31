//! Targets in the configuration: the `target` object, the original `cluster`
//! and `service` fields and variables, each kind's own defaults, and every bad
//! target named by its field.

use super::*;
use fast_autoscaler_core::settings::PolicyKind;
use fast_autoscaler_core::target::TargetId;
use std::collections::HashMap;

const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";

fn from_doc(services: &str) -> Result<AutoscalerConfig, ConfigError> {
    let doc = format!(
        r#"{{"state_bucket": "scaling-state",
            "defaults": {{"scaling_policy": "predictive", "task_throughput": 1}},
            "services": {services}}}"#
    );
    AutoscalerConfig::from_document(&doc, &|_| None)
}

fn startup_s(service: &ServiceConfig) -> u64 {
    match service.policy.kind {
        PolicyKind::Predictive { task_startup_s, .. } => task_startup_s,
        _ => panic!("predictive"),
    }
}

#[test]
fn ecs_services_and_groups_side_by_side_each_with_its_kinds_defaults() {
    let config = from_doc(&format!(
        r#"[{{"cluster": "prod", "service": "images", "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}},
            {{"target": {{"type": "ecs_service", "cluster": "prod", "service": "mail"}},
              "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}},
            {{"target": {{"type": "ec2_asg", "name": "gpu-workers"}},
              "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}},
            {{"target": {{"type": "ec2_asg", "name": "big-memory"}}, "task_startup_seconds": 90,
              "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}]"#
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&TargetId> = config.services.iter().map(|s| s.target_id()).collect();
    assert_eq!(
        ids,
        [
            &TargetId::ecs_service("prod", "images"),
            &TargetId::ecs_service("prod", "mail"),
            &TargetId::new("ec2_asg", "", "gpu-workers"),
            &TargetId::new("ec2_asg", "", "big-memory"),
        ]
    );
    assert_eq!(config.services[2].id(), "ec2_asg:gpu-workers");
    // A task starts in 45 s; an instance in minutes, unless the service says.
    let startups: Vec<u64> = config.services.iter().map(startup_s).collect();
    assert_eq!(startups, [45, 45, 300, 90]);
    // Each kind has its budget; check-config shows every target as written.
    assert_eq!(config.budget("ec2_asg").describe_batch, 50);
    assert_eq!(config.budget("ecs_service").describe_batch, 10);
    let shown = config.describe(ConfigSource::Document);
    assert_eq!(
        shown["services"][2]["target"],
        serde_json::json!({"type": "ec2_asg", "name": "gpu-workers"})
    );
    assert_eq!(shown["services"][0]["target"]["cluster"], "prod");
}

#[test]
fn a_bad_target_is_named_by_its_field_with_what_is_valid() {
    let provider = format!(r#""provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}"#);
    let cases = [
        (
            format!(r#"{{"target": {{"type": "k8s_deployment", "name": "x"}}, {provider}}}"#),
            "services[0].target.type",
            "ec2_asg, ecs_service",
        ),
        (
            format!(
                r#"{{"target": {{"type": "ec2_asg", "name": "arn:aws:autoscaling:x"}}, {provider}}}"#
            ),
            "services[0].target.name",
            "without ':'",
        ),
        (
            format!(r#"{{"target": {{"type": "ec2_asg"}}, {provider}}}"#),
            "services[0].target.name",
            "Auto Scaling group name",
        ),
        (
            format!(r#"{{"target": {{"name": "gpu"}}, {provider}}}"#),
            "services[0].target.type",
            "ec2_asg, ecs_service",
        ),
        (
            format!(r#"{{"target": "gpu", {provider}}}"#),
            "services[0].target",
            "an object",
        ),
        (
            format!(
                r#"{{"target": {{"type": "ec2_asg", "name": "gpu"}}, "cluster": "prod", {provider}}}"#
            ),
            "services[0].cluster",
            "no cluster or service beside a target object",
        ),
        (
            format!(r#"{{"target": {{"type": "ec2_asg", "name": "gpu", "size": 3}}, {provider}}}"#),
            "services[0].target.size",
            "valid settings: type, name",
        ),
        (
            format!(r#"{{"cluster": "prod", {provider}}}"#),
            "services[0].service",
            "an ECS service name or ARN",
        ),
    ];
    for (service, field, expected) in cases {
        let err = from_doc(&format!("[{service}]")).expect_err(field);
        let found = err
            .issues
            .iter()
            .find(|i| i.field == field)
            .unwrap_or_else(|| panic!("{field} not named: {err}"));
        assert!(found.expected.contains(expected), "{field}: {err}");
    }
}

#[test]
fn a_target_listed_twice_is_refused() {
    let one = format!(
        r#"{{"target": {{"type": "ec2_asg", "name": "gpu"}}, "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}"#
    );
    let err = from_doc(&format!("[{one}, {one}]")).unwrap_err();
    assert_eq!(err.issues.len(), 1, "{err}");
    assert_eq!(err.issues[0].field, "services[1].target");
    assert!(err.issues[0].value.contains("ec2_asg:gpu"), "{err}");
    let legacy = format!(
        r#"{{"cluster": "prod", "service": "w", "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}"#
    );
    let same = format!(
        r#"{{"target": {{"type": "ecs_service", "cluster": "prod", "service": "w"}}, "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}"#
    );
    let err = from_doc(&format!("[{legacy}, {same}]")).unwrap_err();
    assert_eq!(err.issues[0].field, "services[1].target", "{err}");
}

fn from_env(pairs: &[(&str, &str)]) -> Result<AutoscalerConfig, ConfigError> {
    let env: HashMap<String, String> = [
        ("S3_CONFIG_BUCKET", "scaling-state"),
        ("SQS_QUEUE_URL", QUEUE),
    ]
    .iter()
    .chain(pairs)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    AutoscalerConfig::from_env(&|k| env.get(k).cloned())
}

#[test]
fn one_group_from_the_environment() {
    let config = from_env(&[
        ("TARGET_TYPE", "ec2_asg"),
        ("AUTO_SCALING_GROUP_NAME", "gpu-workers"),
        ("SCALING_POLICY", "predictive"),
        ("TASK_THROUGHPUT", "2"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.services[0].id(), "ec2_asg:gpu-workers");
    assert_eq!(startup_s(&config.services[0]), 300);
    let err = from_env(&[("TARGET_TYPE", "ec2_asg")]).unwrap_err();
    assert_eq!(err.issues[0].field, "AUTO_SCALING_GROUP_NAME", "{err}");
    let err = from_env(&[("TARGET_TYPE", "lambda")]).unwrap_err();
    assert_eq!(err.issues[0].field, "TARGET_TYPE", "{err}");
    assert!(err.issues[0].expected.contains("ecs_service"), "{err}");
}
