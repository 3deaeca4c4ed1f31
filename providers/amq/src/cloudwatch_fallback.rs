//! The `AWS/AmazonMQ` `QueueSize` metric, read when the broker cannot be asked
//! (`cloudwatch_fallback`): about a minute old, but a reading.

use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::ScanBy;
use fast_autoscaler_provider::QueueMetrics;
use fast_autoscaler_provider_support::cloudwatch::{newest, MetricSpec};

use crate::settings::AmqSettings;
use fast_autoscaler_common::aws_error::one_line;

/// The broker and the queue whose `QueueSize` is read, and how it is logged.
pub(crate) struct QueueSizeOf<'a> {
    pub broker_name: &'a str,
    pub settings: &'a AmqSettings,
    /// The provider's target, for the log line.
    pub target: &'a str,
}

impl QueueSizeOf<'_> {
    /// The `AWS/AmazonMQ` `QueueSize` metric: the newest one-minute datapoint of
    /// the last five minutes. QueueSize counts dispatched messages too, so it is
    /// reported as visible with no in-flight: the total the policy sees is the same.
    pub async fn read(
        &self,
        cloudwatch: &aws_sdk_cloudwatch::Client,
    ) -> Result<QueueMetrics, String> {
        let broker_name = self.broker_name;
        let now = std::time::SystemTime::now();
        let query = MetricSpec {
            namespace: "AWS/AmazonMQ",
            metric_name: "QueueSize",
            dimensions: &[("Broker", broker_name), ("Queue", &self.settings.queue)],
            period_s: 60,
            stat: "Maximum",
        }
        .query("queuesize", true);
        let answer = tokio::time::timeout(
            self.settings.connect_timeout + self.settings.reply_timeout,
            cloudwatch
                .get_metric_data()
                .metric_data_queries(query)
                .start_time(DateTime::from(now - Duration::from_secs(300)))
                .end_time(DateTime::from(now))
                .scan_by(ScanBy::TimestampDescending)
                .send(),
        )
        .await
        .map_err(|_| "GetMetricData timed out".to_string())?
        .map_err(|e| format!("GetMetricData: {}", one_line(&e)))?;
        let result = answer
            .metric_data_results()
            .first()
            .ok_or("GetMetricData returned no result")?;
        let (value, timestamp) = newest(result).ok_or_else(|| {
            format!(
                "no QueueSize datapoint for Broker={broker_name}, Queue={} in the last 5 minutes",
                self.settings.queue
            )
        })?;
        if !value.is_finite() || !(0.0..=1e15).contains(&value) {
            return Err(format!("QueueSize = {value} is not a message count"));
        }
        let age = DateTime::from(now).secs() - timestamp;
        tracing::warn!(
            target = %self.target,
            queue_size = value,
            datapoint_age_s = age,
            "amq broker unavailable; using the CloudWatch QueueSize fallback, which lags by about a minute"
        );
        Ok(QueueMetrics {
            visible: value as u64,
            in_flight: 0,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        })
    }
}
