//! Properties of the pure core, for all inputs: the policy's safety rules, and
//! parsers that never panic on arbitrary input.

use fast_autoscaler::config::{PolicyKind, PolicySettings};
use fast_autoscaler::handler::select_tick;
use fast_autoscaler::policy::{apply_cooldown, recommend, Action, History};
use fast_autoscaler::providers::QueueMetrics;
use fast_autoscaler::state::ServiceState;
use fast_autoscaler::{AutoscalerConfig, Tick};
use proptest::prelude::*;

fn policy_strategy() -> impl Strategy<Value = PolicySettings> {
    let step = (0.0..10_000.0f64, 0.0..1.0f64, 0.0001..2.0f64, 0.0..=1.0f64).prop_map(
        |(up, down_share, per_message, factor)| PolicyKind::Step {
            scale_up_threshold: up,
            scale_down_threshold: up * down_share,
            tasks_per_message: per_message,
            max_scale_down_factor: factor,
        },
    );
    let target =
        (0.001..10_000.0f64).prop_map(|messages_per_task| PolicyKind::Target { messages_per_task });
    (
        0u32..500,
        0u32..500,
        0u64..600,
        any::<bool>(),
        prop_oneof![step, target],
    )
        .prop_map(|(a, b, cooldown, combined, kind)| PolicySettings {
            min_tasks: a.min(b),
            max_tasks: a.max(b).max(1),
            scale_out_cooldown_s: cooldown,
            scale_in_cooldown_s: cooldown,
            use_combined_messages: combined,
            kind,
        })
}

fn metrics_strategy() -> impl Strategy<Value = QueueMetrics> {
    (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(visible, in_flight, delayed)| {
        QueueMetrics {
            visible,
            in_flight,
            delayed,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn decisions_stay_within_bounds_and_repeat(policy in policy_strategy(), metrics in metrics_strategy(), current in 0u32..1_000) {
        let decision = recommend(&policy, Ok(&metrics), current);
        prop_assert!(policy.min_tasks <= decision.new_desired && decision.new_desired <= policy.max_tasks, "{decision:?}");
        prop_assert!(!decision.reason.is_empty());
        prop_assert_eq!(decision.clone(), recommend(&policy, Ok(&metrics), current));
        let expected = match decision.new_desired.cmp(&current) {
            std::cmp::Ordering::Greater => Action::ScaleOut,
            std::cmp::Ordering::Less => Action::ScaleIn,
            std::cmp::Ordering::Equal => Action::None,
        };
        prop_assert_eq!(decision.action, expected);
    }

    #[test]
    fn step_scale_in_never_drops_below_the_factor_floor(policy in policy_strategy(), metrics in metrics_strategy(), current in 0u32..1_000) {
        let decision = recommend(&policy, Ok(&metrics), current);
        if let (Action::ScaleIn, PolicyKind::Step { max_scale_down_factor, .. }) = (decision.action, &policy.kind) {
            let floor = (f64::from(current) * max_scale_down_factor).trunc() as u32;
            prop_assert!(decision.new_desired >= floor.clamp(policy.min_tasks, policy.max_tasks), "{decision:?}");
        }
    }

    #[test]
    fn failed_metrics_always_hold(policy in policy_strategy(), current in 0u32..1_000, why in ".{0,40}") {
        let decision = recommend(&policy, Err(&why), current);
        prop_assert_eq!((decision.action, decision.new_desired), (Action::Hold, current));
    }

    #[test]
    fn cooldown_never_turns_a_change_into_another_change(
        policy in policy_strategy(), metrics in metrics_strategy(), current in 0u32..1_000,
        last in proptest::option::of(0u64..2_000_000), now in 0u64..2_000_000, unreadable in any::<bool>(),
    ) {
        let proposed = recommend(&policy, Ok(&metrics), current);
        let history = if unreadable { History::Unreadable } else { History::Known { last_action_ms: last } };
        let decided = apply_cooldown(&policy, proposed.clone(), history, now, current);
        // Either the proposal stands, or nothing changes; scale-out is never held back.
        prop_assert!(decided.new_desired == proposed.new_desired || decided.new_desired == current);
        if proposed.action == Action::ScaleOut {
            prop_assert_eq!(decided.action, Action::ScaleOut);
        }
        if unreadable && proposed.action == Action::ScaleIn {
            prop_assert_eq!(decided.action, Action::Hold);
        }
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_input(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Tick::parse(&text);
        let _ = ServiceState::parse(&bytes);
        let _ = select_tick([("id", text.as_ref())], 1_000_000, 10_000);
        let aws = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let result = AutoscalerConfig::from_document(&text, &|_| None, fast_autoscaler::providers::ProviderContext { aws: &aws });
        if let Err(e) = result {
            prop_assert!(!e.issues.is_empty());
        }
    }

    #[test]
    fn config_documents_of_any_shape_get_named_issues(value in json_strategy()) {
        let aws = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let result = AutoscalerConfig::from_document(&value.to_string(), &|_| None, fast_autoscaler::providers::ProviderContext { aws: &aws });
        if let Err(e) = result {
            for issue in &e.issues {
                prop_assert!(!issue.field.is_empty() && !issue.expected.is_empty(), "{issue:?}");
            }
        }
    }
}

/// Arbitrary JSON, biased towards the configuration's own keys.
fn json_strategy() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        Just("services".to_string()),
        Just("state_bucket".to_string()),
        Just("cluster".to_string()),
        Just("service".to_string()),
        Just("provider".to_string()),
        Just("min_tasks".to_string()),
        Just("max_tasks".to_string()),
        Just("type".to_string()),
        Just("queue_url".to_string()),
        Just("defaults".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        ".{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("sqs")),
        Just(serde_json::Value::from(
            "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
        )),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
