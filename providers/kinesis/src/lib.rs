//! A Kinesis data stream's consumer backlog (`QUEUE_TYPE=kinesis`), from its
//! lag and its shard count.
//!
//! # Design
//!
//! Kinesis has no count of records waiting: a stream keeps every record for its
//! retention period, and each consumer application keeps its own position per
//! shard. What the stream does report, to CloudWatch once a minute, is how far
//! behind the consumers read (`GetRecords.IteratorAgeMilliseconds`, or
//! `SubscribeToShardEvent.MillisBehindLatest` for an enhanced fan-out consumer)
//! and how many records were written (`IncomingRecords`). [`backlog`] turns the
//! two into records behind; the lag itself is the age of the oldest unread
//! record, so the `target` rule's `max_wait_seconds` works on streams as it does
//! on SQS.
//!
//! A shard is read by one consumer at a time (the Kinesis Client Library leases
//! each shard to one worker), so tasks beyond the open shards sit idle. The
//! shard count, from `DescribeStreamSummary`, goes out as the reading's
//! `max_consumers`, and the policy never asks for more.
//!
//! Cost and quotas: each GetMetricData answer serves readings for
//! [`METRICS_FRESH_FOR`] (CloudWatch publishes once a minute; GetMetricData is
//! billed per metric asked for), and the shard count is asked at most once per
//! [`SHARDS_FRESH_FOR`] (DescribeStreamSummary allows 20 calls a second per
//! account, shared with the consumers' own library).

mod backlog;
mod settings;

use fast_autoscaler_common::aws_error::one_line;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::MetricDataQuery;
use aws_sdk_kinesis::types::StreamStatus;
use fast_autoscaler_provider::{
    async_trait, inventory, ArrivalsMetric, ProviderConfig, ProviderContext, ProviderError,
    ProviderRegistration, QueueMetrics, QueueMetricsProvider,
};
use fast_autoscaler_provider_support::cloudwatch::{recent, MetricSpec};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use backlog::{Behind, Datapoint, Series};
use settings::Settings;

/// The registered name.
pub const NAME: &str = "kinesis";

/// How long one GetMetricData answer serves.
pub const METRICS_FRESH_FOR: Duration = Duration::from_secs(20);
/// How long one shard count serves.
pub const SHARDS_FRESH_FOR: Duration = Duration::from_secs(60);
/// How far back the records written are asked for: a lag longer than this is
/// counted at this window's average rate.
const HORIZON: Duration = Duration::from_secs(3_600);
const PERIOD_S: i32 = 60;

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "a Kinesis data stream's records behind its consumers, from CloudWatch's iterator age and IncomingRecords, capped at its open shards",
        env_settings: &[
            ("stream_name", "KINESIS_STREAM_NAME"),
            ("consumer_name", "KINESIS_CONSUMER_NAME"),
            ("max_age_seconds", "KINESIS_MAX_AGE_SECONDS"),
            ("tasks_per_shard", "KINESIS_TASKS_PER_SHARD"),
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
        json!({
            "type": NAME,
            "stream_name": self.stream_name,
            "consumer_name": self.consumer_name,
            "max_age_seconds": self.max_age_s,
            "tasks_per_shard": self.tasks_per_shard,
        })
    }

    /// The stream's `IncomingRecords`: every consumer sees every record.
    fn arrivals_metric(&self) -> Option<ArrivalsMetric> {
        Some(ArrivalsMetric::new(
            "AWS/Kinesis",
            "IncomingRecords",
            &[("StreamName", &self.stream_name)],
        ))
    }

    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
        Ok(Arc::new(KinesisProvider {
            settings: self.clone(),
            kinesis: aws_sdk_kinesis::Client::new(ctx.aws),
            cloudwatch: aws_sdk_cloudwatch::Client::new(ctx.aws),
            behind: Mutex::new(None),
            shards: Mutex::new(None),
        }))
    }
}

/// Reads one stream's backlog.
#[derive(Debug)]
pub struct KinesisProvider {
    settings: Settings,
    kinesis: aws_sdk_kinesis::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    behind: Mutex<Option<(Instant, Behind)>>,
    shards: Mutex<Option<(Instant, u64)>>,
}

impl KinesisProvider {
    fn error(&self, message: String) -> ProviderError {
        ProviderError::Unavailable {
            provider: NAME,
            target: self.target(),
            message,
        }
    }

    /// The lag metric (the stream's, or the enhanced fan-out consumer's) and the
    /// records written, per minute.
    fn queries(&self) -> Vec<MetricDataQuery> {
        let stream = self.settings.stream_name.as_str();
        let (lag_metric, lag_dimensions) = match &self.settings.consumer_name {
            None => (
                "GetRecords.IteratorAgeMilliseconds",
                vec![("StreamName", stream)],
            ),
            Some(consumer) => (
                "SubscribeToShardEvent.MillisBehindLatest",
                vec![("StreamName", stream), ("ConsumerName", consumer.as_str())],
            ),
        };
        let metric = |metric_name, dimensions, stat| MetricSpec {
            namespace: "AWS/Kinesis",
            metric_name,
            dimensions,
            period_s: PERIOD_S,
            stat,
        };
        vec![
            metric(lag_metric, &lag_dimensions, "Maximum").query("lag", true),
            metric("IncomingRecords", &[("StreamName", stream)], "Sum").query("incoming", true),
        ]
    }

    /// Records behind, from one GetMetricData call (or the last answer while fresh).
    async fn behind(&self) -> Result<Behind, ProviderError> {
        let mut kept = self.behind.lock().await;
        if let Some((at, behind)) = kept.as_ref() {
            if at.elapsed() < METRICS_FRESH_FOR {
                return Ok(*behind);
            }
        }
        let (results, now_s) = recent(&self.cloudwatch, self.queries(), HORIZON)
            .await
            .map_err(|e| self.error(e))?;
        let series = |id: &str| -> Vec<Datapoint> {
            results
                .iter()
                .filter(|r| r.id() == Some(id))
                .flat_map(|r| r.values().iter().zip(r.timestamps()))
                .map(|(value, at)| Datapoint {
                    start_s: at.secs(),
                    value: *value,
                })
                .collect()
        };
        let behind = Series {
            lag_ms: series("lag"),
            incoming: series("incoming"),
            period_s: i64::from(PERIOD_S),
            horizon_start_s: now_s - HORIZON.as_secs() as i64,
            now_s,
        }
        .behind(self.settings.max_age_s)
        .map_err(|why| self.error(why))?;
        *kept = Some((Instant::now(), behind));
        Ok(behind)
    }

    /// The stream's open shards, from DescribeStreamSummary (or the last answer
    /// while fresh).
    async fn open_shards(&self) -> Result<u64, ProviderError> {
        let mut kept = self.shards.lock().await;
        if let Some((at, shards)) = kept.as_ref() {
            if at.elapsed() < SHARDS_FRESH_FOR {
                return Ok(*shards);
            }
        }
        let answer = self
            .kinesis
            .describe_stream_summary()
            .stream_name(&self.settings.stream_name)
            .send()
            .await
            .map_err(|e| {
                let why = match e.as_service_error() {
                    Some(service) if service.is_resource_not_found_exception() => {
                        "no such stream (DescribeStreamSummary: ResourceNotFoundException)"
                            .to_string()
                    }
                    _ => format!("DescribeStreamSummary: {}", one_line(&e)),
                };
                self.error(why)
            })?;
        let summary = answer
            .stream_description_summary()
            .ok_or_else(|| self.error("DescribeStreamSummary answered no summary".into()))?;
        if matches!(summary.stream_status(), StreamStatus::Deleting) {
            return Err(self.error("the stream is being deleted".into()));
        }
        let shards = u64::try_from(summary.open_shard_count())
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ProviderError::BadResponse {
                provider: NAME,
                target: self.target(),
                field: "OpenShardCount".into(),
                value: format!("{:?}", summary.open_shard_count()),
            })?;
        *kept = Some((Instant::now(), shards));
        Ok(shards)
    }
}

#[async_trait]
impl QueueMetricsProvider for KinesisProvider {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn target(&self) -> String {
        match &self.settings.consumer_name {
            None => format!("stream {}", self.settings.stream_name),
            Some(consumer) => format!("stream {} (consumer {consumer})", self.settings.stream_name),
        }
    }

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let (behind, shards) = tokio::join!(self.behind(), self.open_shards());
        // A missing stream says so before its metrics' absence does.
        let shards = shards?;
        let behind = behind?;
        Ok(QueueMetrics {
            visible: behind.records,
            in_flight: 0,
            delayed: 0,
            dequeued_total: None,
            oldest_message: behind.oldest,
            max_consumers: Some(shards.saturating_mul(self.settings.tasks_per_shard)),
            busiest: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(settings: Value) -> KinesisProvider {
        let aws = aws_sdk_cloudwatch::config::Builder::new()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .build();
        let kinesis = aws_sdk_kinesis::config::Builder::new()
            .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
            .build();
        KinesisProvider {
            settings: settings::parse(&settings).expect("valid settings"),
            kinesis: aws_sdk_kinesis::Client::from_conf(kinesis),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(aws),
            behind: Mutex::new(None),
            shards: Mutex::new(None),
        }
    }

    fn lag_query(provider: &KinesisProvider) -> (String, Vec<(String, String)>) {
        let queries = provider.queries();
        let metric = queries[0]
            .metric_stat()
            .and_then(|s| s.metric())
            .expect("a metric");
        (
            metric.metric_name().unwrap_or_default().to_string(),
            metric
                .dimensions()
                .iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_string(),
                        d.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn the_lag_is_the_streams_or_the_enhanced_fan_out_consumers() {
        let shared = provider(json!({"stream_name": "clicks"}));
        assert_eq!(
            lag_query(&shared),
            (
                "GetRecords.IteratorAgeMilliseconds".into(),
                vec![("StreamName".into(), "clicks".into())]
            )
        );
        let fan_out = provider(json!({"stream_name": "clicks", "consumer_name": "billing"}));
        assert_eq!(
            lag_query(&fan_out),
            (
                "SubscribeToShardEvent.MillisBehindLatest".into(),
                vec![
                    ("StreamName".into(), "clicks".into()),
                    ("ConsumerName".into(), "billing".into())
                ]
            )
        );
        assert_eq!(fan_out.target(), "stream clicks (consumer billing)");
        let described = fan_out.settings.describe();
        assert_eq!(described["tasks_per_shard"], 1);
    }
}
