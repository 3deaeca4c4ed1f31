//! CloudWatch `GetMetricData` queries for one metric, one call over the recent
//! past, and the newest datapoint of an answer.

use fast_autoscaler_common::aws_error::one_line;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
};

/// One metric of a `GetMetricData` call.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec<'a> {
    pub namespace: &'a str,
    pub metric_name: &'a str,
    /// `(name, value)` pairs.
    pub dimensions: &'a [(&'a str, &'a str)],
    pub period_s: i32,
    /// `Maximum`, `Sum`, `p90`, ...
    pub stat: &'a str,
}

impl MetricSpec<'_> {
    /// The query of this metric under `id`; `return_data` is false for the
    /// inputs of an expression.
    pub fn query(&self, id: &str, return_data: bool) -> MetricDataQuery {
        let mut metric = Metric::builder()
            .namespace(self.namespace)
            .metric_name(self.metric_name);
        for (name, value) in self.dimensions {
            metric = metric.dimensions(Dimension::builder().name(*name).value(*value).build());
        }
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(metric.build())
                    .period(self.period_s)
                    .stat(self.stat)
                    .build(),
            )
            .return_data(return_data)
            .build()
    }
}

/// One `GetMetricData` call for `queries` over the last `look_back`, newest
/// datapoints first: the results, and the time the call took as now (Unix
/// seconds). An error says which call failed and why.
pub async fn recent(
    client: &aws_sdk_cloudwatch::Client,
    queries: Vec<MetricDataQuery>,
    look_back: Duration,
) -> Result<(Vec<MetricDataResult>, i64), String> {
    let now = SystemTime::now();
    let answer = client
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(DateTime::from(now - look_back))
        .end_time(DateTime::from(now))
        .scan_by(ScanBy::TimestampDescending)
        .send()
        .await
        .map_err(|e| format!("GetMetricData: {}", one_line(&e)))?;
    Ok((
        answer.metric_data_results.unwrap_or_default(),
        DateTime::from(now).secs(),
    ))
}

/// The newest datapoint of a result: its value and its timestamp (Unix
/// seconds, the start of its period).
pub fn newest(result: &MetricDataResult) -> Option<(f64, i64)> {
    result
        .values()
        .iter()
        .zip(result.timestamps())
        .map(|(value, at)| (*value, at.secs()))
        .max_by_key(|(_, at)| *at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::primitives::DateTime;

    #[test]
    fn a_query_names_its_metric_and_the_newest_datapoint_wins() {
        let spec = MetricSpec {
            namespace: "AWS/SQS",
            metric_name: "ApproximateAgeOfOldestMessage",
            dimensions: &[("QueueName", "jobs")],
            period_s: 60,
            stat: "Maximum",
        };
        let query = spec.query("q0", true);
        let stat = query.metric_stat().expect("a metric stat");
        let metric = stat.metric().expect("a metric");
        assert_eq!(
            (query.id(), metric.namespace(), stat.stat(), stat.period()),
            (Some("q0"), Some("AWS/SQS"), Some("Maximum"), Some(60))
        );
        assert_eq!(metric.dimensions()[0].value(), Some("jobs"));
        let result = MetricDataResult::builder()
            .values(3.0)
            .values(7.0)
            .timestamps(DateTime::from_secs(100))
            .timestamps(DateTime::from_secs(160))
            .build();
        assert_eq!(newest(&result), Some((7.0, 160)));
        assert_eq!(newest(&MetricDataResult::builder().build()), None);
    }
}
