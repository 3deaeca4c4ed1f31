//! The worker's log lines, which double as CloudWatch metrics.
//!
//! Each decision is written as one JSON line that is also a CloudWatch Embedded
//! Metric Format (EMF) document: CloudWatch Logs extracts the metrics under the
//! `FastAutoscaler` namespace with a `Service` dimension, so dashboards and alarms
//! need no PutMetricData call (no extra latency, no extra IAM permission).
//!
//! EMF needs the `_aws` object at the top level of the line. tracing's JSON
//! formatter nests event fields under `"fields"` and cannot emit objects, so these
//! lines are built with serde and written whole to stdout; everything else is
//! logged through tracing.

use std::io::Write;

use serde_json::{json, Map, Value};

use crate::record::DecisionRecord;
use fast_autoscaler_core::policy::Action;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "FastAutoscaler";

/// `(metric name, unit, value)`; metrics without a value are left out of the line.
type Metric = (&'static str, &'static str, Option<f64>);

fn emf_line(
    timestamp_ms: u64,
    dimensions: &[&str],
    metrics: &[Metric],
    mut fields: Map<String, Value>,
) -> Value {
    let present: Vec<&Metric> = metrics.iter().filter(|(_, _, v)| v.is_some()).collect();
    for (name, _, value) in &present {
        fields.insert((*name).to_string(), json!(value));
    }
    fields.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": present.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    Value::Object(fields)
}

/// The decision line of one service: the record's fields plus its metrics.
pub fn decision_line(record: &DecisionRecord, timestamp_ms: u64) -> Value {
    let mut fields = Map::new();
    fields.insert(
        "level".into(),
        json!(if record.action == Action::Hold {
            "WARN"
        } else {
            "INFO"
        }),
    );
    fields.insert("message".into(), json!("decision"));
    if let Value::Object(record_fields) = json!(record) {
        fields.extend(record_fields);
    }
    fields.insert("Service".into(), json!(record.service));
    emf_line(
        timestamp_ms,
        &["Service"],
        &decision_metrics(record),
        fields,
    )
}

/// A decision's metrics, as its line carries them.
fn decision_metrics(record: &DecisionRecord) -> [Metric; 11] {
    let count = |v: Option<u64>| v.map(|n| n as f64);
    let tasks = |v: Option<u32>| v.map(f64::from);
    [
        ("VisibleMessages", "Count", count(record.visible)),
        ("InFlightMessages", "Count", count(record.in_flight)),
        (
            "OldestMessageAge",
            "Seconds",
            count(record.oldest_message_age_s),
        ),
        ("DesiredCount", "Count", tasks(record.current_desired)),
        ("RunningCount", "Count", tasks(record.running)),
        ("NewDesiredCount", "Count", tasks(record.new_desired)),
        (
            "ScalingActions",
            "Count",
            // Only what this worker applied: a proposal another worker
            // carried out, or a dry run's, is not an action.
            Some(if record.applied { 1.0 } else { 0.0 }),
        ),
        ("TickLagMs", "Milliseconds", Some(record.tick_lag_ms as f64)),
        (
            // Tasks a pre-warm added above the reactive rule (forecast only:
            // would have added); left out at ticks without one.
            "AnticipatedTasks",
            "Count",
            record.anticipation.as_ref().map(|a| f64::from(a.added)),
        ),
        (
            "Paused",
            "Count",
            Some(if record.paused { 1.0 } else { 0.0 }),
        ),
        (
            "Errors",
            "Count",
            Some(if record.action == Action::Hold {
                1.0
            } else {
                0.0
            }),
        ),
    ]
}

/// What one invocation did with its batch of ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct TickSummary {
    /// How late the evaluated tick started; `None` when no tick was evaluated.
    pub evaluated_lag_ms: Option<i64>,
    pub received: usize,
    /// Malformed, stale and superseded ticks.
    pub dropped: usize,
    /// Decisions that were `hold`.
    pub held: usize,
    /// Services whose autoscaling an operator paused.
    pub paused: usize,
}

/// One line per invocation: what happened to the batch of ticks. Its
/// dimensionless `TicksEvaluated` metric feeds the "no tick evaluated" alarm,
/// `HeldDecisions` (this tick's `hold` decisions) the errors alarm, and
/// `PausedServices` the forgotten-pause alarm.
pub fn tick_line(timestamp_ms: u64, summary: &TickSummary) -> Value {
    let mut fields = Map::new();
    fields.insert("level".into(), json!("INFO"));
    fields.insert("message".into(), json!("tick"));
    fields.insert("received".into(), json!(summary.received));
    let evaluated = summary.evaluated_lag_ms.is_some();
    emf_line(
        timestamp_ms,
        &[],
        &[
            (
                "TicksEvaluated",
                "Count",
                Some(if evaluated { 1.0 } else { 0.0 }),
            ),
            ("TicksDropped", "Count", Some(summary.dropped as f64)),
            ("HeldDecisions", "Count", Some(summary.held as f64)),
            // Only from evaluated ticks: an idle invocation knows no pause.
            (
                "PausedServices",
                "Count",
                evaluated.then_some(summary.paused as f64),
            ),
            (
                "EvaluatedTickLagMs",
                "Milliseconds",
                summary.evaluated_lag_ms.map(|l| l as f64),
            ),
        ],
        fields,
    )
}

/// Writes lines to stdout, each whole.
pub fn emit(lines: &[Value]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        // A closed stdout must not fail the evaluation that already happened.
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: Action, visible: Option<u64>) -> DecisionRecord {
        DecisionRecord {
            service: "prod/workers".into(),
            target_type: "ecs_service".into(),
            provider: "sqs",
            visible,
            in_flight: visible.map(|_| 3),
            delayed: visible.map(|_| 0),
            oldest_message_age_s: visible.map(|_| 42),
            current_desired: Some(4),
            running: Some(4),
            new_desired: Some(6),
            action,
            applied: action.changes_count(),
            paused: false,
            reason: "because".into(),
            cooldown_remaining_s: 0,
            tick_due_ms: 1_000,
            tick_lag_ms: 85,
            duration_ms: 12,
            dry_run: false,
            anticipation: None,
        }
    }

    #[test]
    fn decision_lines_are_valid_emf() {
        let line = decision_line(&record(Action::ScaleOut, Some(431)), 5_000);
        assert_eq!(line["message"], "decision");
        assert_eq!(line["Service"], "prod/workers");
        assert_eq!(line["VisibleMessages"], 431.0);
        assert_eq!(line["ScalingActions"], 1.0);
        assert_eq!(line["Errors"], 0.0);
        // A proposal this worker did not carry out (another worker's, a dry run's)
        // is not an action.
        let proposed_only = DecisionRecord {
            applied: false,
            ..record(Action::ScaleOut, Some(431))
        };
        assert_eq!(decision_line(&proposed_only, 5_000)["ScalingActions"], 0.0);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Service"]]));
        // Every declared metric has a numeric value at the top level.
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} in {line}");
        }
    }

    #[test]
    fn a_failed_reading_declares_no_queue_metrics_and_counts_an_error() {
        let line = decision_line(&record(Action::Hold, None), 5_000);
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["Errors"], 1.0);
        let names: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert!(
            !names.contains(&"VisibleMessages") && !names.contains(&"InFlightMessages"),
            "{names:?}"
        );
    }

    #[test]
    fn tick_lines_carry_the_heartbeat_metric() {
        let summary = TickSummary {
            evaluated_lag_ms: Some(120),
            received: 3,
            dropped: 2,
            held: 1,
            paused: 1,
        };
        let line = tick_line(5_000, &summary);
        assert_eq!(line["HeldDecisions"], 1.0);
        assert_eq!(line["PausedServices"], 1.0);
        assert_eq!(
            (line["TicksEvaluated"].clone(), line["TicksDropped"].clone()),
            (json!(1.0), json!(2.0))
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        let idle = tick_line(
            5_000,
            &TickSummary {
                received: 1,
                dropped: 1,
                ..TickSummary::default()
            },
        );
        assert_eq!(idle["TicksEvaluated"], 0.0);
        assert!(idle.get("EvaluatedTickLagMs").is_none());
        assert!(idle.get("PausedServices").is_none());
    }
}
