//! Any CloudWatch metric, or metric-math expression, as a queue's backlog
//! (`QUEUE_TYPE=cloudwatch`): for queues nobody has written a provider for.
//!
//! One `GetMetricData` call per reading asks for the last `max_age_seconds` of
//! the metric (or of the expression over its metrics), newest first, and the
//! newest datapoint is the backlog. CloudWatch metrics arrive a minute or more
//! late, so this provider answers slower than a queue's own API; a datapoint
//! older than `max_age_seconds`, or none at all, is an error, and the service
//! holds rather than scale on an old number. The backlog is reported as visible
//! messages with none in flight.
//!
//! Settings:
//!
//! ```json
//! {"type": "cloudwatch", "namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
//!  "dimensions": {"QueueName": "jobs"}, "stat": "Maximum", "period": 60, "max_age_seconds": 300}
//! {"type": "cloudwatch", "expression": "m1 + m2", "metrics": {
//!    "m1": {"namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible", "dimensions": {"QueueName": "a"}},
//!    "m2": {"namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible", "dimensions": {"QueueName": "b"}}}}
//! ```
//!
//! In single-service mode: `CLOUDWATCH_NAMESPACE`, `CLOUDWATCH_METRIC_NAME`,
//! `CLOUDWATCH_DIMENSIONS` (`Name=Value,Name=Value`), `CLOUDWATCH_STAT`,
//! `CLOUDWATCH_PERIOD` and `CLOUDWATCH_MAX_AGE_SECONDS`.

mod settings;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudwatch::types::MetricDataQuery;
use fast_autoscaler_provider::{
    async_trait, inventory, ProviderConfig, ProviderContext, ProviderError, ProviderRegistration,
    QueueMetrics, QueueMetricsProvider, MAX_PLAUSIBLE_COUNT,
};
use fast_autoscaler_provider_support::cloudwatch::{newest, recent, MetricSpec};
use serde_json::{json, Value};

use settings::{Backlog, MetricQuery, Settings};

/// The registered name.
pub const NAME: &str = "cloudwatch";

/// The id of the query whose datapoints are the backlog.
const BACKLOG_ID: &str = "backlog";

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "any CloudWatch metric or metric-math expression as the backlog, from one GetMetricData call",
        env_settings: &[
            ("namespace", "CLOUDWATCH_NAMESPACE"),
            ("metric_name", "CLOUDWATCH_METRIC_NAME"),
            ("dimensions", "CLOUDWATCH_DIMENSIONS"),
            ("stat", "CLOUDWATCH_STAT"),
            ("period", "CLOUDWATCH_PERIOD"),
            ("max_age_seconds", "CLOUDWATCH_MAX_AGE_SECONDS"),
        ],
        parse,
    }
}

fn parse(settings: &Value) -> Result<Arc<dyn ProviderConfig>, ProviderError> {
    Ok(Arc::new(settings::parse(settings)?))
}

impl ProviderConfig for Settings {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> Value {
        let metric = |m: &MetricQuery| {
            json!({"namespace": m.namespace, "metric_name": m.metric_name, "dimensions": m.dimensions,
                   "stat": m.stat, "period": m.period_s})
        };
        let mut described = match &self.backlog {
            Backlog::Metric(m) => metric(m),
            Backlog::Expression {
                expression,
                metrics,
            } => json!({
                "expression": expression,
                "metrics": metrics.iter().map(|(id, m)| (id.clone(), metric(m))).collect::<serde_json::Map<_, _>>(),
            }),
        };
        described["type"] = json!(NAME);
        described["max_age_seconds"] = json!(self.max_age_s);
        described
    }

    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
        Ok(Arc::new(CloudwatchProvider {
            settings: self.clone(),
            client: aws_sdk_cloudwatch::Client::new(ctx.aws),
        }))
    }
}

/// Reads one metric or expression as a backlog.
#[derive(Debug)]
pub struct CloudwatchProvider {
    settings: Settings,
    client: aws_sdk_cloudwatch::Client,
}

fn stat_query(id: &str, metric: &MetricQuery, return_data: bool) -> MetricDataQuery {
    let dimensions: Vec<(&str, &str)> = metric
        .dimensions
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    MetricSpec {
        namespace: &metric.namespace,
        metric_name: &metric.metric_name,
        dimensions: &dimensions,
        period_s: metric.period_s,
        stat: &metric.stat,
    }
    .query(id, return_data)
}

impl CloudwatchProvider {
    fn queries(&self) -> Vec<MetricDataQuery> {
        match &self.settings.backlog {
            Backlog::Metric(metric) => vec![stat_query(BACKLOG_ID, metric, true)],
            Backlog::Expression {
                expression,
                metrics,
            } => {
                let mut queries: Vec<_> = metrics
                    .iter()
                    .map(|(id, metric)| stat_query(id, metric, false))
                    .collect();
                queries.push(
                    MetricDataQuery::builder()
                        .id(BACKLOG_ID)
                        .expression(expression)
                        .return_data(true)
                        .build(),
                );
                queries
            }
        }
    }

    fn error(&self, message: String) -> ProviderError {
        ProviderError::Unavailable {
            provider: NAME,
            target: self.target(),
            message,
        }
    }
}

#[async_trait]
impl QueueMetricsProvider for CloudwatchProvider {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn target(&self) -> String {
        match &self.settings.backlog {
            Backlog::Metric(m) => format!("{}/{} {:?}", m.namespace, m.metric_name, m.dimensions),
            Backlog::Expression { expression, .. } => format!("expression {expression:?}"),
        }
    }

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let max_age = Duration::from_secs(self.settings.max_age_s);
        let (results, _) = recent(&self.client, self.queries(), max_age)
            .await
            .map_err(|e| self.error(e))?;
        let result = results
            .iter()
            .find(|r| r.id() == Some(BACKLOG_ID))
            .ok_or_else(|| self.error("GetMetricData answered no result for the backlog".into()))?;
        let (value, at) = newest(result).ok_or_else(|| {
                self.error(format!(
                    "no datapoint in the last {} s (max_age_seconds); the metric may have stopped, or its name or dimensions are wrong",
                    self.settings.max_age_s
                ))
            })?;
        if !value.is_finite() || value < 0.0 || value > MAX_PLAUSIBLE_COUNT as f64 {
            return Err(ProviderError::BadResponse {
                provider: NAME,
                target: self.target(),
                field: format!("the newest datapoint (at {at} s)"),
                value: value.to_string(),
            });
        }
        Ok(QueueMetrics {
            visible: value.round() as u64,
            in_flight: 0,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        })
    }
}
