//! Properties of the pure core, for all inputs: the policy's safety rules, and
//! parsers that never panic on arbitrary input.

use fast_autoscaler_core::forecast::{Pattern, Recurring};
use fast_autoscaler_core::policy::{
    apply_cooldown, recommend, recommend_with_memory, Action, History, Memory, Observation,
};
use fast_autoscaler_core::settings::{
    AnticipationMode, Fallback, PolicyKind, PolicySettings, ScaleInRelease,
};
use fast_autoscaler_core::state::ServiceState;
use fast_autoscaler_core::target::TargetLimits;
use fast_autoscaler_core::{MessageAge, QueueMetrics};
use fast_autoscaler_worker::handler::select_tick;
use fast_autoscaler_worker::{AutoscalerConfig, Tick};
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
    let predictive = (
        0.01..100.0f64,
        0u64..600,
        1u64..600,
        0.1..=1.0f64,
        0.0..=0.5f64,
    )
        .prop_map(
            |(task_throughput, task_startup_s, target_drain_s, target_utilization, tolerance)| {
                PolicyKind::Predictive {
                    task_throughput,
                    task_startup_s,
                    target_drain_s,
                    target_utilization,
                    tolerance,
                }
            },
        );
    let extras = (
        proptest::option::of(1u64..100_000),
        0u64..600,
        proptest::option::of(1u32..50),
        proptest::option::of(1u32..50),
        0u64..100,
        proptest::option::of(0u64..600),
        proptest::option::of((0u32..600, 1u32..10)),
    );
    (
        (
            0u32..500,
            0u32..500,
            0u64..600,
            0u64..600,
            any::<bool>(),
            any::<bool>(),
        ),
        prop_oneof![step, target, predictive],
        extras,
    )
        .prop_map(
            |(
                (a, b, out_cooldown, in_cooldown, combined, gradual),
                kind,
                (emergency, stabilization, out_step, in_step, activation, to_zero, fallback),
            )| {
                let (min, max) = (a.min(b), a.max(b).max(1));
                PolicySettings {
                    min_tasks: min,
                    max_tasks: max,
                    scale_out_cooldown_s: out_cooldown,
                    scale_in_cooldown_s: in_cooldown,
                    use_combined_messages: combined,
                    kind,
                    emergency_backlog: emergency,
                    scale_in_stabilization_s: stabilization,
                    scale_in_release: if gradual {
                        ScaleInRelease::Gradual
                    } else {
                        ScaleInRelease::Window
                    },
                    max_scale_out_step: out_step,
                    max_scale_in_step: in_step,
                    activation_backlog: activation,
                    scale_to_zero_after_s: to_zero.filter(|_| min == 0),
                    fallback: fallback.map(|(tasks, after_failures)| Fallback {
                        tasks: tasks.clamp(min, max),
                        after_failures,
                    }),
                    scheduled_bounds: Vec::new(),
                    max_wait_s: None,
                    anticipation: Default::default(),
                }
            },
        )
}

/// A learned pattern: up to three recurring surges of any period the learner
/// finds, at any minute, size and confidence.
fn pattern_strategy() -> impl Strategy<Value = Pattern> {
    let recurring = (
        prop_oneof![Just(15u64), Just(30), Just(60), Just(1440), Just(10_080)],
        0.0..1.0f64,
        0.0..100_000.0f64,
        0.0..1.0f64,
        0.0..10_000.0f64,
        (1u32..30, 0u32..30),
        // Beyond the learner's -1..=1 and 0..=59 too, as a damaged cache could hold.
        (-5i64..5, -5i64..5),
        0u64..200,
    )
        .prop_map(
            |(
                period_min,
                phase,
                messages,
                peak_share,
                baseline_per_minute,
                (seen, missed),
                (first_offset_min, last_offset_min),
                earliest_second,
            )| Recurring {
                period_min,
                phase_min: (phase * period_min as f64) as u64,
                messages,
                peak_per_minute: messages * peak_share,
                baseline_per_minute,
                hits: seen.saturating_sub(missed).max(1),
                seen,
                first_offset_min,
                last_offset_min,
                earliest_second,
            },
        );
    proptest::collection::vec(recurring, 0..4).prop_map(|recurring| Pattern {
        recurring,
        learned_at_minute: 30_000_000,
    })
}

fn metrics_strategy() -> impl Strategy<Value = QueueMetrics> {
    (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(visible, in_flight, delayed)| {
        QueueMetrics {
            visible,
            in_flight,
            delayed,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        }
    })
}

/// A tick's reading: mostly numbers (small ones often), sometimes a failure.
fn reading_strategy() -> impl Strategy<Value = Option<QueueMetrics>> {
    prop_oneof![
        4 => (0u64..5_000, 0u64..200).prop_map(|(visible, in_flight)| Some(QueueMetrics { visible, in_flight, delayed: 0, dequeued_total: None, oldest_message: None, max_consumers: None, busiest: None })),
        1 => metrics_strategy().prop_map(Some),
        1 => Just(None),
    ]
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

    /// Whole sequences of ticks with memory, as the worker runs them: every
    /// decision within bounds, scale-in within its step limit (unless bringing the
    /// count back under the maximum), a failed reading never lowering the count,
    /// and the same inputs giving the same decision.
    #[test]
    fn sequences_of_ticks_keep_every_rule(
        policy in policy_strategy(),
        start in 0u32..600,
        readings in proptest::collection::vec((reading_strategy(), 1u64..120), 1..40),
    ) {
        let mut memory = Memory::default();
        let mut current = start;
        let mut now_ms = 1_000_000u64;
        for (reading, step_s) in readings {
            now_ms += step_s * 1000;
            let observed = Observation {
                metrics: reading.as_ref().ok_or("unreadable"),
                current,
                running: current / 2,
                now_ms,
                forecast: None,
                limits: TargetLimits::default(),
            };
            let (decision, next) = recommend_with_memory(&policy, &observed, &memory);
            prop_assert_eq!(&(decision.clone(), next.clone()), &recommend_with_memory(&policy, &observed, &memory));
            prop_assert!(next.samples.len() <= fast_autoscaler_core::policy::MAX_SAMPLES);
            if reading.is_none() {
                prop_assert!(decision.new_desired >= current, "failed metrics lowered the count: {decision:?}");
                prop_assert!(decision.action == Action::Hold || decision.action == Action::ScaleOut || decision.action == Action::None);
            } else {
                prop_assert!(policy.min_tasks <= decision.new_desired && decision.new_desired <= policy.max_tasks, "{decision:?}");
                if let (Action::ScaleIn, Some(limit)) = (decision.action, policy.max_scale_in_step) {
                    if current <= policy.max_tasks {
                        prop_assert!(current - decision.new_desired <= limit, "{decision:?}");
                    }
                }
                if let (Action::ScaleOut, Some(limit), false) = (decision.action, policy.max_scale_out_step, decision.emergency) {
                    if current >= policy.min_tasks {
                        prop_assert!(decision.new_desired - current <= limit, "{decision:?}");
                    }
                }
            }
            memory = next;
            current = decision.new_desired;
        }
    }

    /// Anticipation only adds: on the same reading and memory, any learned
    /// pattern gives a count at least the reactive rule's and within bounds, and
    /// `forecast_only` gives exactly the reactive rule's.
    #[test]
    fn anticipation_never_lowers_a_count_and_forecast_only_changes_none(
        policy in policy_strategy(),
        pattern in pattern_strategy(),
        start in 0u32..600,
        readings in proptest::collection::vec((reading_strategy(), 1u64..120), 1..12),
    ) {
        let mut memory = Memory::default();
        let mut current = start;
        let mut now_ms = 1_800_000_000_000u64;
        for (reading, step_s) in readings {
            now_ms += step_s * 1000;
            let observed = Observation {
                metrics: reading.as_ref().ok_or("unreadable"),
                current,
                running: current / 2,
                now_ms,
                forecast: Some(&pattern),
                limits: TargetLimits::default(),
            };
            let decide = |policy: &PolicySettings, mode| {
                let mut policy = policy.clone();
                policy.anticipation.mode = mode;
                recommend_with_memory(&policy, &observed, &memory)
            };
            let (reactive, next) = decide(&policy, AnticipationMode::Off);
            let (anticipating, _) = decide(&policy, AnticipationMode::On);
            let (forecast_only, _) = decide(&policy, AnticipationMode::ForecastOnly);
            prop_assert!(anticipating.new_desired >= reactive.new_desired, "{anticipating:?} < {reactive:?}");
            prop_assert!(anticipating.new_desired <= policy.max_tasks.max(current), "{anticipating:?}");
            prop_assert_eq!(forecast_only.new_desired, reactive.new_desired);
            if anticipating.new_desired > reactive.new_desired {
                prop_assert!(anticipating.reason.contains("ready for the surge expected at"), "{}", anticipating.reason);
            }
            memory = next;
            current = reactive.new_desired;
        }
    }

    /// The wait goal on one late age, read tick after tick as CloudWatch's
    /// minute-old datapoint is: while the running tasks stay the same, the count
    /// asked for is the same on every tick, never a multiple of the last one.
    #[test]
    fn one_late_age_is_never_compounded(
        messages_per_task in 1.0..1_000.0f64,
        goal in 1u64..600,
        late_by in 1u64..3_600,
        running in 0u32..100,
        visible in 0u64..5_000,
        ticks in 8usize..16,
    ) {
        let policy = PolicySettings {
            min_tasks: 0,
            max_tasks: 10_000,
            kind: PolicyKind::Target { messages_per_task },
            max_wait_s: Some(goal),
            ..PolicySettings::default()
        };
        let mut memory = Memory::default();
        let mut current = running;
        let minute_start_ms = 1_000_000u64;
        let mut asked = Vec::new();
        for tick in 0..ticks as u64 {
            // Ticks every 10 s through the measured minute, then readings of it.
            let now_ms = minute_start_ms + tick * 10_000;
            let metrics = QueueMetrics {
                oldest_message: (now_ms >= minute_start_ms + 60_000).then_some(MessageAge {
                    age_s: goal + late_by,
                    measured_ago_s: (now_ms - minute_start_ms) / 1000,
                }),
                ..QueueMetrics { visible, in_flight: 0, delayed: 0, dequeued_total: None, oldest_message: None, max_consumers: None, busiest: None }
            };
            let observed = Observation { metrics: Ok(&metrics), current, running, now_ms, forecast: None, limits: TargetLimits::default() };
            let (decision, next) = recommend_with_memory(&policy, &observed, &memory);
            if metrics.oldest_message.is_some() {
                asked.push(decision.new_desired);
            }
            memory = next;
            current = decision.new_desired;
        }
        prop_assert!(asked.windows(2).all(|w| w[0] == w[1]), "{asked:?}");
    }

    #[test]
    fn step_scale_in_never_drops_below_the_factor_floor(policy in policy_strategy(), metrics in metrics_strategy(), current in 0u32..1_000) {
        let decision = recommend(&policy, Ok(&metrics), current);
        if let (Action::ScaleIn, PolicyKind::Step { max_scale_down_factor, .. }) = (decision.action, &policy.kind) {
            let floor = (f64::from(current) * max_scale_down_factor).trunc() as u32;
            let floor = floor.saturating_sub(policy.max_scale_in_step.map_or(0, |_| floor));
            prop_assert!(decision.new_desired >= floor.clamp(policy.min_tasks, policy.max_tasks), "{decision:?}");
        }
    }

    #[test]
    fn failed_metrics_always_hold(policy in policy_strategy(), current in 0u32..1_000, why in ".{0,40}") {
        let decision = recommend(&policy, Err(&why), current);
        match policy.fallback {
            // A fallback due on the first failure may only raise the count.
            Some(f) if f.after_failures <= 1 && f.tasks > current => {
                prop_assert_eq!((decision.action, decision.new_desired), (Action::ScaleOut, f.tasks.min(policy.max_tasks)));
            }
            _ => prop_assert_eq!((decision.action, decision.new_desired), (Action::Hold, current)),
        }
    }

    #[test]
    fn cooldown_never_turns_a_change_into_another_change(
        policy in policy_strategy(), metrics in metrics_strategy(), current in 0u32..1_000,
        last in proptest::option::of(0u64..2_000_000), last_out in proptest::option::of(0u64..2_000_000),
        now in 0u64..2_000_000, unreadable in any::<bool>(),
    ) {
        let proposed = recommend(&policy, Ok(&metrics), current);
        let history = if unreadable {
            History::Unreadable
        } else {
            History::Known { last_action_ms: last.max(last_out), last_scale_out_ms: last_out }
        };
        let decided = apply_cooldown(&policy, proposed.clone(), history, now, current);
        // Either the proposal stands, or nothing changes.
        prop_assert!(decided.new_desired == proposed.new_desired || decided.new_desired == current);
        // Scale-out waits only for the scale-out cooldown, and an emergency never waits.
        if proposed.action == Action::ScaleOut {
            let cooled = last_out.is_none_or(|t| t + policy.scale_out_cooldown_s * 1000 <= now);
            if proposed.emergency || cooled || unreadable {
                prop_assert_eq!(decided.action, Action::ScaleOut);
            } else {
                prop_assert_eq!(decided.action, Action::None);
            }
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
        let result = AutoscalerConfig::from_document(&text, &|_| None);
        if let Err(e) = result {
            prop_assert!(!e.issues.is_empty());
        }
    }

    #[test]
    fn config_documents_of_any_shape_get_named_issues(value in json_strategy()) {
        let result = AutoscalerConfig::from_document(&value.to_string(), &|_| None);
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
