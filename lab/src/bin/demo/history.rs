//! A week of the demo queue's arrivals, as CloudWatch would hold them after a
//! week of the same surge at the same minute of every hour: what the
//! anticipating side learns from. Put into the emulator's CloudWatch as
//! `AWS/SQS` `NumberOfMessagesSent`, one-minute datapoints.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};

use crate::traffic::{arrival_rate, SURGE_AT_S, SURGE_BURST, SURGE_END_S};

/// PutMetricData takes at most 1,000 datapoints a call.
const PER_CALL: usize = 500;

/// The messages of each minute of the demo's traffic, from its first surge minute.
fn surge_minutes() -> Vec<f64> {
    (SURGE_AT_S..SURGE_END_S)
        .step_by(60)
        .map(|from| (from..from + 60).map(arrival_rate).sum())
        .enumerate()
        .map(|(i, messages): (usize, f64)| messages + if i == 0 { SURGE_BURST as f64 } else { 0.0 })
        .collect()
}

/// Puts the week before `surge_ms` (a minute's start) into CloudWatch for
/// `queue_name`: the baseline in every minute, and the surge at the same
/// minute of every hour. Answers the datapoints put.
pub async fn load_week(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    queue_name: &str,
    surge_ms: u64,
) -> usize {
    let surge_minute = surge_ms / 60_000;
    let baseline = arrival_rate(0) * 60.0;
    let surge = surge_minutes();
    // Up to five minutes before the surge: CloudWatch's newest minutes are unsettled.
    let minutes = surge_minute - 7 * 24 * 60..surge_minute - 5;
    let data: Vec<MetricDatum> = minutes
        .map(|minute| {
            let into_hour = ((minute + 60 - surge_minute % 60) % 60) as usize;
            let messages = surge.get(into_hour).copied().unwrap_or(baseline);
            MetricDatum::builder()
                .metric_name("NumberOfMessagesSent")
                .dimensions(
                    Dimension::builder()
                        .name("QueueName")
                        .value(queue_name)
                        .build(),
                )
                .timestamp(DateTime::from_secs((minute * 60) as i64))
                .value(messages)
                .build()
        })
        .collect();
    for chunk in data.chunks(PER_CALL) {
        cloudwatch
            .put_metric_data()
            .namespace("AWS/SQS")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .expect("PutMetricData on the emulator");
    }
    data.len()
}
