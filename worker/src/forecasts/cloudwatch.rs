//! A queue's arrivals per minute from its CloudWatch arrivals metric: one
//! `GetMetricData` call for the last 14 days of one-minute sums.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use fast_autoscaler_common::aws_error::one_line;
use fast_autoscaler_core::forecast::arrivals::MAX_HISTORY_MINUTES;
use fast_autoscaler_providers::ArrivalsMetric;

use super::UNSETTLED_MINUTES;

/// The arrivals of every settled minute of the last 14 days, by Unix minute:
/// one GetMetricData call (more only past 100,800 datapoints).
pub(super) async fn arrivals(
    client: &aws_sdk_cloudwatch::Client,
    metric: &ArrivalsMetric,
    now_ms: u64,
) -> Result<Vec<(u64, u32)>, String> {
    let end_minute = (now_ms / 60_000).saturating_sub(UNSETTLED_MINUTES);
    let start_minute = end_minute.saturating_sub(MAX_HISTORY_MINUTES);
    let at = |minute: u64| DateTime::from_secs((minute * 60) as i64);
    let mut pages = client
        .get_metric_data()
        .metric_data_queries(query(metric))
        .start_time(at(start_minute))
        .end_time(at(end_minute))
        .into_paginator()
        .send();
    let mut minutes = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("GetMetricData: {}", one_line(&e)))?;
        for result in page.metric_data_results() {
            for (value, at) in result.values().iter().zip(result.timestamps()) {
                let minute = u64::try_from(at.secs()).unwrap_or(0) / 60;
                if value.is_finite() && *value >= 0.0 {
                    minutes.push((minute, value.round().min(f64::from(u32::MAX)) as u32));
                }
            }
        }
    }
    minutes.sort_unstable();
    Ok(minutes)
}

/// The one-minute `Sum` of `metric`.
fn query(metric: &ArrivalsMetric) -> MetricDataQuery {
    let mut cloudwatch_metric = Metric::builder()
        .namespace(&metric.namespace)
        .metric_name(&metric.name);
    for (name, value) in &metric.dimensions {
        cloudwatch_metric =
            cloudwatch_metric.dimensions(Dimension::builder().name(name).value(value).build());
    }
    MetricDataQuery::builder()
        .id("arrivals")
        .metric_stat(
            MetricStat::builder()
                .metric(cloudwatch_metric.build())
                .period(60)
                .stat("Sum")
                .build(),
        )
        .return_data(true)
        .build()
}
