//! Real workloads from CloudWatch: the JSON that `aws cloudwatch get-metric-data`
//! (or the SDK's `GetMetricData`) answers, read directly as a trace.
//!
//! Export the queue's arrivals, for example SQS's `NumberOfMessagesSent` with the
//! `Sum` statistic at a one-minute period:
//!
//! ```text
//! aws cloudwatch get-metric-data --start-time 2026-11-01T00:00:00Z --end-time 2026-11-08T00:00:00Z \
//!   --metric-data-queries '[{"Id":"sent","MetricStat":{"Metric":{"Namespace":"AWS/SQS",
//!     "MetricName":"NumberOfMessagesSent","Dimensions":[{"Name":"QueueName","Value":"jobs"}]},
//!     "Period":60,"Stat":"Sum"}}]' > sent.json
//! ```
//!
//! Each datapoint is the messages of its period, spread evenly over the period's
//! seconds. CloudWatch leaves out periods without data, so a missing period counts
//! as no arrivals. Timestamps may be RFC 3339 text (the CLI's) or epoch seconds,
//! in either order (the API answers newest first by default). With several
//! results in the file, the one labelled `NumberOfMessagesSent` is used, else the
//! first; the trace's name says which.

use serde::Deserialize;
use serde_json::Value;

use crate::trace::Trace;
use crate::Error;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Export {
    metric_data_results: Vec<MetricResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricResult {
    #[serde(default)]
    id: String,
    #[serde(default)]
    label: String,
    timestamps: Vec<Value>,
    values: Vec<f64>,
}

fn bad(file: &str, field: &str, problem: impl Into<String>) -> Error {
    Error::BadCloudWatch {
        file: file.to_string(),
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// A timestamp in epoch seconds, from RFC 3339 text or a number.
fn epoch_seconds(file: &str, field: &str, value: &Value) -> Result<i64, Error> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .filter(|x| x.is_finite())
            .map(|x| x.floor() as i64)
            .ok_or_else(|| bad(file, field, format!("{n} is not a time"))),
        Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp())
            .map_err(|e| {
                bad(
                    file,
                    field,
                    format!("{text:?} is not an RFC 3339 time such as 2026-11-28T10:00:00Z ({e})"),
                )
            }),
        other => Err(bad(
            file,
            field,
            format!("{other} is neither RFC 3339 text nor epoch seconds"),
        )),
    }
}

/// Reads a `GetMetricData` JSON answer as a trace of arrivals per second.
pub fn from_get_metric_data(file: &str, text: &str) -> Result<Trace, Error> {
    let export: Export = serde_json::from_str(text).map_err(|e| {
        bad(
            file,
            "MetricDataResults",
            format!("not a GetMetricData answer ({e})"),
        )
    })?;
    let result = export
        .metric_data_results
        .iter()
        .find(|r| r.label.contains("NumberOfMessagesSent"))
        .or(export.metric_data_results.first())
        .ok_or_else(|| bad(file, "MetricDataResults", "it is empty"))?;
    let field = |name: &str| format!("MetricDataResults[{:?}].{name}", result.id);
    if result.timestamps.len() != result.values.len() {
        return Err(bad(
            file,
            &field("Values"),
            format!(
                "{} values for {} timestamps",
                result.values.len(),
                result.timestamps.len()
            ),
        ));
    }
    let mut points = Vec::with_capacity(result.values.len());
    for (i, (at, value)) in result.timestamps.iter().zip(&result.values).enumerate() {
        let at = epoch_seconds(file, &field(&format!("Timestamps[{i}]")), at)?;
        if !(value.is_finite() && *value >= 0.0) {
            return Err(bad(
                file,
                &field(&format!("Values[{i}]")),
                format!("{value} is not a count of messages (a number ≥ 0)"),
            ));
        }
        points.push((at, *value));
    }
    points.sort_by_key(|(at, _)| *at);
    spread(file, &field("Timestamps"), &points).map(|arrivals| Trace {
        name: format!(
            "{file} ({})",
            if result.label.is_empty() {
                &result.id
            } else {
                &result.label
            }
        ),
        arrivals,
        initial_backlog: 0.0,
        surge_start_s: None,
        history_per_minute: Vec::new(),
    })
}

/// Per-second arrivals from datapoints sorted by time: the period is the smallest
/// gap between two datapoints; each spreads over its period, missing ones are 0.
fn spread(file: &str, field: &str, points: &[(i64, f64)]) -> Result<Vec<f64>, Error> {
    if points.len() < 2 {
        return Err(bad(file, field, "at least two datapoints are needed"));
    }
    let period = points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .min()
        .unwrap_or(0);
    if period <= 0 {
        return Err(bad(file, field, "two datapoints share a timestamp"));
    }
    let start = points[0].0;
    let span = (points[points.len() - 1].0 - start + period) as usize;
    if span > 400 * 86_400 {
        return Err(bad(file, field, "it spans more than 400 days"));
    }
    let mut arrivals = vec![0.0; span];
    for &(at, value) in points {
        let from = (at - start) as usize;
        let per_second = value / period as f64;
        for slot in &mut arrivals[from..from + period as usize] {
            *slot += per_second;
        }
    }
    Ok(arrivals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cli_export_becomes_per_second_arrivals() {
        // Newest first, as the API answers; the 10:02 minute had no data.
        let text = r#"{"MetricDataResults": [
            {"Id": "other", "Label": "NumberOfMessagesDeleted", "Timestamps": ["2026-11-28T10:00:00Z", "2026-11-28T10:01:00Z"], "Values": [1, 1], "StatusCode": "Complete"},
            {"Id": "sent", "Label": "NumberOfMessagesSent",
             "Timestamps": ["2026-11-28T10:03:00+00:00", "2026-11-28T10:01:00+00:00", "2026-11-28T10:00:00+00:00"],
             "Values": [120.0, 60.0, 0.0], "StatusCode": "Complete"}],
            "Messages": []}"#;
        let trace = from_get_metric_data("sent.json", text).expect("parses");
        assert_eq!(trace.arrivals.len(), 240);
        assert!(
            trace.name.contains("NumberOfMessagesSent"),
            "{}",
            trace.name
        );
        assert_eq!(trace.arrivals[0], 0.0);
        assert_eq!(trace.arrivals[60], 1.0);
        assert_eq!(trace.arrivals[150], 0.0);
        assert_eq!(trace.arrivals[200], 2.0);
        assert!((trace.arrivals.iter().sum::<f64>() - 180.0).abs() < 1e-9);
        // Epoch seconds work too.
        let epoch = r#"{"MetricDataResults": [{"Id": "m", "Timestamps": [1795000000, 1795000060], "Values": [6, 6]}]}"#;
        assert_eq!(
            from_get_metric_data("m.json", epoch)
                .expect("parses")
                .arrivals
                .len(),
            120
        );
    }

    #[test]
    fn bad_exports_name_the_field_and_the_value() {
        for (text, needle) in [
            ("[]", "not a GetMetricData answer"),
            (r#"{"MetricDataResults": []}"#, "it is empty"),
            (
                r#"{"MetricDataResults": [{"Id": "m", "Timestamps": ["yesterday", "2026-11-28T10:01:00Z"], "Values": [1, 2]}]}"#,
                "Timestamps[0]",
            ),
            (
                r#"{"MetricDataResults": [{"Id": "m", "Timestamps": [0, 60], "Values": [1]}]}"#,
                "1 values for 2 timestamps",
            ),
            (
                r#"{"MetricDataResults": [{"Id": "m", "Timestamps": [0, 60], "Values": [1, -4]}]}"#,
                "Values[1]",
            ),
            (
                r#"{"MetricDataResults": [{"Id": "m", "Timestamps": [0, 0], "Values": [1, 4]}]}"#,
                "share a timestamp",
            ),
        ] {
            let err = from_get_metric_data("x.json", text)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(needle) && err.contains("x.json"),
                "{text}: {err}"
            );
        }
    }
}
