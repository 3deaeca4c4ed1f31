//! Every field's bad values, from both sources, each checked for the field it names.

use super::*;
use fast_autoscaler_core::settings::{PolicyKind, PolicySettings, ScaleInRelease};
use std::collections::HashMap;

const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";

fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("ECS_CLUSTER", "prod"),
        ("SERVICE_NAME", "workers"),
        ("S3_CONFIG_BUCKET", "scaling-state"),
        ("SQS_QUEUE_URL", QUEUE),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in pairs {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

fn from_env(pairs: &[(&str, &str)]) -> Result<AutoscalerConfig, ConfigError> {
    let env = env_of(pairs);
    AutoscalerConfig::from_env(&|k| env.get(k).cloned())
}

fn from_doc(doc: &str) -> Result<AutoscalerConfig, ConfigError> {
    AutoscalerConfig::from_document(doc, &|_| None)
}

#[test]
fn defaults_match_the_original() {
    let config = from_env(&[]).unwrap();
    let s = &config.services[0];
    assert_eq!(s.id(), "prod/workers");
    assert_eq!(config.tick_interval_s, 10);
    assert_eq!(config.tick_max_age_ms, 10_000);
    assert_eq!(
        s.policy,
        PolicySettings {
            min_tasks: 10,
            max_tasks: 300,
            scale_out_cooldown_s: 120,
            scale_in_cooldown_s: 120,
            use_combined_messages: false,
            kind: PolicyKind::Step {
                scale_up_threshold: 100.0,
                scale_down_threshold: 99.0,
                tasks_per_message: 0.01,
                max_scale_down_factor: 0.99,
            },
            ..PolicySettings::default()
        }
    );
    assert_eq!(s.provider.provider_name(), "sqs");
}

/// Each bad input must name its field and show its value.
#[test]
fn bad_environment_values_name_their_field() {
    // (environment overrides, field that must be named, value that must be shown)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (&[("MIN_TASKS", "ten")], "MIN_TASKS", "\"ten\""),
        (&[("EMERGENCY_BACKLOG", "0")], "EMERGENCY_BACKLOG", "\"0\""),
        (
            &[("SCALE_IN_STABILIZATION", "3601")],
            "SCALE_IN_STABILIZATION",
            "\"3601\"",
        ),
        (
            &[
                ("SCALE_IN_STABILIZATION", "45"),
                ("SCALE_IN_RELEASE", "slowly"),
            ],
            "SCALE_IN_RELEASE",
            "\"slowly\"",
        ),
        // A gradual release spreads the window's releases: it needs a window.
        (
            &[("SCALE_IN_RELEASE", "gradual")],
            "SCALE_IN_RELEASE",
            "\"gradual\"",
        ),
        (
            &[("MAX_SCALE_OUT_STEP", "0")],
            "MAX_SCALE_OUT_STEP",
            "\"0\"",
        ),
        (
            &[("MAX_SCALE_IN_STEP", "-2")],
            "MAX_SCALE_IN_STEP",
            "\"-2\"",
        ),
        (
            &[("ACTIVATION_BACKLOG", "some")],
            "ACTIVATION_BACKLOG",
            "\"some\"",
        ),
        (
            &[("SCALE_TO_ZERO_AFTER", "300")],
            "SCALE_TO_ZERO_AFTER",
            "set",
        ),
        (
            &[("FALLBACK_TASKS", "500"), ("MAX_TASKS", "300")],
            "FALLBACK_TASKS",
            "\"500\"",
        ),
        (
            &[("FALLBACK_TASKS", "20"), ("FALLBACK_AFTER_FAILURES", "0")],
            "FALLBACK_AFTER_FAILURES",
            "\"0\"",
        ),
        (
            &[("SCALING_POLICY", "predictive")],
            "TASK_THROUGHPUT",
            "<missing>",
        ),
        (
            &[("SCALING_POLICY", "predictive"), ("TASK_THROUGHPUT", "-1")],
            "TASK_THROUGHPUT",
            "\"-1\"",
        ),
        (
            &[
                ("SCALING_POLICY", "predictive"),
                ("TASK_THROUGHPUT", "2"),
                ("TARGET_DRAIN_SECONDS", "0"),
            ],
            "TARGET_DRAIN_SECONDS",
            "\"0\"",
        ),
        (
            &[
                ("SCALING_POLICY", "predictive"),
                ("TASK_THROUGHPUT", "2"),
                ("TARGET_UTILIZATION", "1.5"),
            ],
            "TARGET_UTILIZATION",
            "\"1.5\"",
        ),
        // Spare capacity is the predictive rule's: refused with another rule.
        (
            &[("TARGET_UTILIZATION", "0.8")],
            "TARGET_UTILIZATION",
            "set",
        ),
        (
            &[
                ("SCALING_POLICY", "predictive"),
                ("TASK_THROUGHPUT", "2"),
                ("TOLERANCE", "0.7"),
            ],
            "TOLERANCE",
            "\"0.7\"",
        ),
        (&[("TOLERANCE", "0.1")], "TOLERANCE", "set"),
        (&[("MIN_TASKS", "-1")], "MIN_TASKS", "\"-1\""),
        (&[("MAX_TASKS", "0")], "MAX_TASKS", "\"0\""),
        (
            &[("MIN_TASKS", "50"), ("MAX_TASKS", "20")],
            "MIN_TASKS",
            "50",
        ),
        (
            &[("SCALE_IN_COOLDOWN", "-30")],
            "SCALE_IN_COOLDOWN",
            "\"-30\"",
        ),
        (
            &[("SCALE_OUT_COOLDOWN", "1.5")],
            "SCALE_OUT_COOLDOWN",
            "\"1.5\"",
        ),
        (
            &[("SCALE_UP_THRESHOLD", "NaN")],
            "SCALE_UP_THRESHOLD",
            "\"NaN\"",
        ),
        (
            &[("SCALE_DOWN_THRESHOLD", "500")],
            "SCALE_DOWN_THRESHOLD",
            "500",
        ),
        (&[("TASKS_PER_MESSAGE", "0")], "TASKS_PER_MESSAGE", "\"0\""),
        (
            &[("MAX_SCALE_DOWN_FACTOR", "1.5")],
            "MAX_SCALE_DOWN_FACTOR",
            "\"1.5\"",
        ),
        (
            &[("USE_COMBINED_MESSAGES", "maybe")],
            "USE_COMBINED_MESSAGES",
            "\"maybe\"",
        ),
        (
            &[("SCALING_POLICY", "magic")],
            "SCALING_POLICY",
            "\"magic\"",
        ),
        (
            &[("SCALING_POLICY", "target")],
            "TARGET_MESSAGES_PER_TASK",
            "<missing>",
        ),
        (
            &[
                ("SCALING_POLICY", "target"),
                ("TARGET_MESSAGES_PER_TASK", "-4"),
            ],
            "TARGET_MESSAGES_PER_TASK",
            "\"-4\"",
        ),
        (&[("QUEUE_TYPE", "kafka")], "QUEUE_TYPE", "\"kafka\""),
        (
            &[("SQS_QUEUE_URL", "not-a-url")],
            "SQS_QUEUE_URL",
            "not-a-url",
        ),
        (
            &[("ECS_CLUSTER", "my cluster")],
            "ECS_CLUSTER",
            "\"my cluster\"",
        ),
        (
            &[("S3_CONFIG_BUCKET", "Bad_Bucket")],
            "S3_CONFIG_BUCKET",
            "\"Bad_Bucket\"",
        ),
        (
            &[("TICK_INTERVAL_SECONDS", "7")],
            "TICK_INTERVAL_SECONDS",
            "\"7\"",
        ),
        (
            &[("TICK_MAX_AGE_SECONDS", "0")],
            "TICK_MAX_AGE_SECONDS",
            "\"0\"",
        ),
    ];
    for (pairs, field, value) in cases {
        let err = from_env(pairs).expect_err(field);
        assert_eq!(err.issues.len(), 1, "{pairs:?}: {err}");
        let found = &err.issues[0];
        assert_eq!(found.field, *field, "{pairs:?}: {err}");
        assert!(found.value.contains(value), "{pairs:?}: {err}");
        assert!(!found.expected.is_empty());
    }
}

#[test]
fn missing_required_fields_are_all_reported_together() {
    let err = AutoscalerConfig::from_env(&|_| None).unwrap_err();
    let fields: Vec<&str> = err.issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "S3_CONFIG_BUCKET",
            "ECS_CLUSTER",
            "SERVICE_NAME",
            "SQS_QUEUE_URL"
        ],
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("invalid configuration (4 problems)"),
        "{text}"
    );
}

#[test]
fn unknown_provider_lists_registered_ones() {
    let err = from_env(&[("QUEUE_TYPE", "kafka")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("sqs"), "{err}");
}

#[test]
fn a_document_with_several_services_and_defaults() {
    let config = from_doc(&format!(
        r#"{{"state_bucket": "scaling-state", "tick_interval_seconds": 5,
            "defaults": {{"min_tasks": 2, "scale_in_cooldown": 60,
                          "scale_in_stabilization": 45, "scale_in_release": "gradual"}},
            "services": [
              {{"cluster": "prod", "service": "a", "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}},
              {{"cluster": "prod", "service": "b", "min_tasks": 0, "scaling_policy": "target",
                "target_messages_per_task": 50, "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}
            ]}}"#
    ))
    .unwrap();
    assert_eq!(config.tick_interval_s, 5);
    assert_eq!(config.tick_max_age_ms, 5_000);
    assert_eq!(config.services[0].policy.min_tasks, 2);
    assert_eq!(config.services[0].policy.scale_in_cooldown_s, 60);
    assert_eq!(
        config.services[1].policy.scale_in_release,
        ScaleInRelease::Gradual
    );
    assert_eq!(config.services[1].policy.min_tasks, 0);
    assert_eq!(
        config.services[1].policy.kind,
        PolicyKind::Target {
            messages_per_task: 50.0
        }
    );
}

#[test]
fn a_service_may_read_several_queues_combined() {
    let config = from_doc(&format!(
        r#"{{"state_bucket": "scaling-state", "services": [
              {{"cluster": "prod", "service": "a", "combine": "max", "providers": [
                {{"type": "sqs", "queue_url": "{QUEUE}"}},
                {{"type": "sqs", "queue_name_prefix": "orders-"}}]}}]}}"#
    ))
    .unwrap();
    let provider = &config.services[0].provider;
    assert_eq!(provider.provider_name(), "sqs");
    assert_eq!(
        provider.describe(),
        serde_json::json!({"combine": "max", "providers": [
            {"type": "sqs", "queue_url": QUEUE},
            {"type": "sqs", "queue_name_prefix": "orders-", "combine": "sum"},
        ]})
    );
}

#[test]
fn bad_documents_name_their_fields() {
    let sqs = format!(r#"{{"type": "sqs", "queue_url": "{QUEUE}"}}"#);
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "AUTOSCALER_CONFIG"),
        ("[1, 2]".into(), "AUTOSCALER_CONFIG"),
        (r#"{"state_bucket": "b-1", "services": []}"#.into(), "services"),
        (format!(r#"{{"state_bucket": "b-1", "servics": [], "services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "servics"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "", "service": "s", "provider": {sqs}}}]}}"#), "services[0].cluster"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "min_taks": 3, "provider": {sqs}}}]}}"#), "services[0].min_taks"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}, {{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "services[1].service"),
        (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "provider": {"type": "sqs", "queue_url": "nope"}}]}"#.into(), "services[0].provider.queue_url"),
        (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "provider": {"type": "rabbit"}}]}"#.into(), "services[0].provider.type"),
        (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s"}]}"#.into(), "services[0].provider"),
        (format!(r#"{{"state_bucket": "b-1", "defaults": {{"max_tasks": -2}}, "services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "defaults.max_tasks"),
        (format!(r#"{{"services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "state_bucket"),
        // Several queues: each entry's problems under its own index.
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "providers": [{sqs}, {{"type": "sqs", "queue_url": "nope"}}]}}]}}"#), "services[0].providers[1].queue_url"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "providers": [{sqs}], "combine": "avg"}}]}}"#), "services[0].combine"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "provider": {sqs}, "combine": "max"}}]}}"#), "services[0].combine"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "provider": {sqs}, "providers": [{sqs}]}}]}}"#), "services[0].providers"),
        (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "providers": []}]}"#.into(), "services[0].providers"),
        (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "provider": {"type": "sqs", "queue_name_prefix": "orders*"}}]}"#.into(), "services[0].provider.queue_name_prefix"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "provider": {{"type": "sqs", "queue_url": "{QUEUE}", "queue_name_prefix": "orders-"}}}}]}}"#), "services[0].provider.queue_name_prefix"),
        (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "provider": {"type": "sqs", "queue_name_prefix": "orders-", "combine": "avg"}}]}"#.into(), "services[0].provider.combine"),
        // The wait goal belongs to the target rule; an age needs one queue.
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "max_wait_seconds": 60, "provider": {sqs}}}]}}"#), "services[0].max_wait_seconds"),
        (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "scaling_policy": "target", "target_messages_per_task": 10, "max_wait_seconds": 0, "provider": {sqs}}}]}}"#), "services[0].max_wait_seconds"),
        (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "provider": {"type": "sqs", "queue_name_prefix": "orders-", "oldest_message_age": true}}]}"#.into(), "services[0].provider.oldest_message_age"),
    ];
    for (doc, field) in cases {
        let err = from_doc(&doc).expect_err(&doc);
        assert!(err.issues.iter().any(|i| i.field == field), "{doc}\n{err}");
    }
}

#[test]
fn document_settings_fall_back_to_environment() {
    let doc = format!(
        r#"{{"services": [{{"cluster": "c", "service": "s", "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}]}}"#
    );
    let env = |k: &str| match k {
        "S3_CONFIG_BUCKET" => Some("state-bucket".to_string()),
        "TICK_INTERVAL_SECONDS" => Some("15".to_string()),
        _ => None,
    };
    let config = AutoscalerConfig::from_document(&doc, &env).unwrap();
    assert_eq!(config.state_bucket, "state-bucket");
    assert_eq!(config.tick_interval_s, 15);
}
