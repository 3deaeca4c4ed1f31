//! The `cloudwatch` provider's settings, validated at cold start: one metric, or a
//! metric-math expression over named metrics, and how old a datapoint may be.

use std::collections::BTreeMap;

use fast_autoscaler_provider::{invalid_setting, reject_unknown_keys, ProviderError};
use serde_json::{Map, Value};

use crate::NAME;

const KEYS: [&str; 8] = [
    "namespace",
    "metric_name",
    "dimensions",
    "stat",
    "period",
    "expression",
    "metrics",
    "max_age_seconds",
];
const METRIC_KEYS: [&str; 5] = ["namespace", "metric_name", "dimensions", "stat", "period"];

/// One CloudWatch metric and how it is aggregated.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    pub stat: String,
    pub period_s: i32,
}

/// What the backlog is.
#[derive(Debug, Clone, PartialEq)]
pub enum Backlog {
    Metric(MetricQuery),
    /// A metric-math expression over the metrics named by their ids.
    Expression {
        expression: String,
        metrics: BTreeMap<String, MetricQuery>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub backlog: Backlog,
    /// The newest datapoint older than this is not believed (the service holds).
    pub max_age_s: u64,
}

fn invalid(field: &str, value: Option<&Value>, expected: &str) -> ProviderError {
    invalid_setting(NAME, field, value, expected)
}

/// Reads and checks every setting.
pub fn parse(settings: &Value) -> Result<Settings, ProviderError> {
    reject_unknown_keys(NAME, settings, &KEYS)?;
    let object = settings.as_object().cloned().unwrap_or_default();
    let backlog = match object.get("expression") {
        None => {
            if object.contains_key("metrics") {
                return Err(invalid("metrics", object.get("metrics"), "no metrics without an expression; for one metric give namespace and metric_name"));
            }
            Backlog::Metric(metric(&object, "")?)
        }
        Some(expression) => expression_backlog(&object, expression)?,
    };
    let max_age_s = match object.get("max_age_seconds") {
        None => 300,
        Some(value) => number(value)
            .filter(|n| (10.0..=86_400.0).contains(n) && n.fract() == 0.0)
            .ok_or_else(|| {
                invalid(
                    "max_age_seconds",
                    Some(value),
                    "a whole number of seconds from 10 to 86400",
                )
            })? as u64,
    };
    Ok(Settings { backlog, max_age_s })
}

fn expression_backlog(
    object: &Map<String, Value>,
    expression: &Value,
) -> Result<Backlog, ProviderError> {
    for key in ["namespace", "metric_name", "dimensions", "stat", "period"] {
        if object.contains_key(key) {
            return Err(invalid(
                key,
                object.get(key),
                "no top-level metric beside an expression: name each metric under \"metrics\"",
            ));
        }
    }
    let text = expression
        .as_str()
        .map(str::trim)
        .filter(|e| !e.is_empty() && e.len() <= 2048)
        .ok_or_else(|| {
            invalid(
                "expression",
                Some(expression),
                "a CloudWatch metric-math expression such as \"m1 + m2\" (at most 2048 characters)",
            )
        })?;
    let listed = object
        .get("metrics")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| invalid("metrics", object.get("metrics"), "an object of the expression's metrics by id, e.g. {\"m1\": {\"namespace\": \"AWS/SQS\", \"metric_name\": \"ApproximateNumberOfMessagesVisible\", \"dimensions\": {\"QueueName\": \"jobs\"}}}"))?;
    let mut metrics = BTreeMap::new();
    for (id, spec) in listed {
        metrics.insert(id.clone(), expression_metric(id, spec)?);
    }
    Ok(Backlog::Expression {
        expression: text.to_string(),
        metrics,
    })
}

/// The expression's metric `id`, from its settings `spec`.
fn expression_metric(id: &str, spec: &Value) -> Result<MetricQuery, ProviderError> {
    let field = format!("metrics.{id}");
    let valid_id = id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id != "backlog";
    if !valid_id {
        return Err(invalid(
            &field,
            Some(&Value::String(id.to_string())),
            "an id starting with a lower-case letter, of letters, digits and '_' (not \"backlog\")",
        ));
    }
    let spec = spec.as_object().ok_or_else(|| {
        invalid(
            &field,
            Some(spec),
            "an object with namespace, metric_name and optionally dimensions, stat and period",
        )
    })?;
    for key in spec.keys() {
        if !METRIC_KEYS.contains(&key.as_str()) {
            return Err(invalid(
                &format!("{field}.{key}"),
                spec.get(key),
                &format!("no such setting; valid: {}", METRIC_KEYS.join(", ")),
            ));
        }
    }
    metric(spec, &format!("{field}."))
}

/// One metric's settings; `at` prefixes field names in errors.
fn metric(object: &Map<String, Value>, at: &str) -> Result<MetricQuery, ProviderError> {
    let name = |key: &str, example: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .map(String::from)
            .ok_or_else(|| {
                invalid(
                    &format!("{at}{key}"),
                    object.get(key),
                    &format!("a CloudWatch {key} of 1 to 255 characters, e.g. {example}"),
                )
            })
    };
    let namespace = name("namespace", "AWS/SQS")?;
    let metric_name = name("metric_name", "ApproximateNumberOfMessagesVisible")?;
    let dimensions = dimensions(object.get("dimensions"), &format!("{at}dimensions"))?;
    let stat = match object.get("stat") {
        None => "Maximum".to_string(),
        Some(value) => value
            .as_str()
            .map(str::trim)
            .filter(|s| valid_stat(s))
            .map(String::from)
            .ok_or_else(|| {
                invalid(
                    &format!("{at}stat"),
                    Some(value),
                    "Maximum, Minimum, Average, Sum, SampleCount or a percentile such as p90",
                )
            })?,
    };
    let period_s = match object.get("period") {
        None => 60,
        Some(value) => number(value)
            .filter(|p| {
                p.fract() == 0.0
                    && ([1.0, 5.0, 10.0, 30.0].contains(p)
                        || (*p >= 60.0 && *p % 60.0 == 0.0 && *p <= 86_400.0))
            })
            .ok_or_else(|| {
                invalid(
                    &format!("{at}period"),
                    Some(value),
                    "1, 5, 10, 30 or a multiple of 60 seconds up to 86400",
                )
            })? as i32,
    };
    Ok(MetricQuery {
        namespace,
        metric_name,
        dimensions,
        stat,
        period_s,
    })
}

/// An object of names to values, or in single-service mode `Name=Value,Name=Value`.
fn dimensions(
    value: Option<&Value>,
    field: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let expected = "an object of dimension names to values, e.g. {\"QueueName\": \"jobs\"} (or Name=Value,Name=Value), at most 30";
    let pairs: Vec<(String, String)> = match value {
        None => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(field, value, expected))?,
        Some(Value::String(text)) => text
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(field, value, expected))?,
        Some(_) => return Err(invalid(field, value, expected)),
    };
    let fits = |s: &str| !s.is_empty() && s.len() <= 255;
    if pairs.len() > 30 || !pairs.iter().all(|(k, v)| fits(k) && fits(v)) {
        return Err(invalid(field, value, expected));
    }
    Ok(pairs.into_iter().collect())
}

fn valid_stat(stat: &str) -> bool {
    if ["Maximum", "Minimum", "Average", "Sum", "SampleCount"].contains(&stat) {
        return true;
    }
    stat.strip_prefix('p')
        .and_then(|p| p.parse::<f64>().ok())
        .is_some_and(|p| p > 0.0 && p < 100.0)
}

/// A JSON number, or a number in a string (single-service mode's values are text).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_metric_with_its_defaults() {
        let parsed = parse(&json!({"type": "cloudwatch", "namespace": "AWS/SQS",
            "metric_name": "ApproximateNumberOfMessagesVisible", "dimensions": "QueueName=jobs"}))
        .expect("valid");
        let Backlog::Metric(metric) = parsed.backlog else {
            panic!("one metric")
        };
        assert_eq!(
            (metric.stat.as_str(), metric.period_s, parsed.max_age_s),
            ("Maximum", 60, 300)
        );
        assert_eq!(metric.dimensions["QueueName"], "jobs");
    }

    #[test]
    fn an_expression_over_named_metrics() {
        let parsed = parse(&json!({"type": "cloudwatch", "expression": "m1 + m2", "max_age_seconds": 120,
            "metrics": {"m1": {"namespace": "A", "metric_name": "x"}, "m2": {"namespace": "A", "metric_name": "y", "stat": "p90", "period": 300}}}))
        .expect("valid");
        let Backlog::Expression {
            expression,
            metrics,
        } = parsed.backlog
        else {
            panic!("an expression")
        };
        assert_eq!(
            (expression.as_str(), metrics.len(), metrics["m2"].period_s),
            ("m1 + m2", 2, 300)
        );
    }

    #[test]
    fn every_bad_setting_is_named() {
        for (settings, field) in [
            (json!({"metric_name": "x"}), "namespace"),
            (
                json!({"namespace": "A", "metric_name": "x", "stat": "Median"}),
                "stat",
            ),
            (
                json!({"namespace": "A", "metric_name": "x", "period": 45}),
                "period",
            ),
            (
                json!({"namespace": "A", "metric_name": "x", "dimensions": "QueueName"}),
                "dimensions",
            ),
            (
                json!({"namespace": "A", "metric_name": "x", "max_age_seconds": 1}),
                "max_age_seconds",
            ),
            (
                json!({"namespace": "A", "metric_name": "x", "metrics": {}}),
                "metrics",
            ),
            (json!({"expression": "m1"}), "metrics"),
            (
                json!({"expression": "m1", "metrics": {"M1": {"namespace": "A", "metric_name": "x"}}}),
                "metrics.M1",
            ),
            (
                json!({"expression": "m1", "metrics": {"m1": {"namespace": "A"}}}),
                "metrics.m1.metric_name",
            ),
            (
                json!({"expression": "m1", "namespace": "A", "metrics": {"m1": {"namespace": "A", "metric_name": "x"}}}),
                "namespace",
            ),
            (
                json!({"namespace": "A", "metric_name": "x", "colour": 1}),
                "colour",
            ),
        ] {
            match parse(&settings) {
                Err(ProviderError::InvalidSetting { field: named, .. }) => {
                    assert_eq!(named, field, "{settings}")
                }
                other => panic!("{settings}: {other:?}"),
            }
        }
    }
}
