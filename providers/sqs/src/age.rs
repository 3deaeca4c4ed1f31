//! The age of the oldest message of SQS queues, from CloudWatch's
//! `AWS/SQS ApproximateAgeOfOldestMessage`: SQS's own API does not report it.
//!
//! Every SQS provider that asks for it registers its queue with the batcher of
//! its AWS endpoint and Region. The first reading of a tick fetches the age of
//! every registered queue in one GetMetricData call (500 queues a call), and the
//! tick's other readings, waiting on the same lock, take theirs from that
//! answer. SQS publishes the metric once a minute, so each age says how long
//! ago it was measured.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::MetricDataQuery;
use fast_autoscaler_provider::MessageAge;
use fast_autoscaler_provider_support::cloudwatch::{newest, recent, MetricSpec};

/// An answer younger than this serves the rest of the tick.
const FRESH_FOR: Duration = Duration::from_secs(5);
/// How far back a datapoint is looked for.
const LOOK_BACK: Duration = Duration::from_secs(300);
/// Queries per GetMetricData call.
const QUERIES_PER_CALL: usize = 500;

/// The ages of one endpoint's registered queues.
pub(crate) struct AgeBatcher {
    client: aws_sdk_cloudwatch::Client,
    queues: Mutex<BTreeSet<String>>,
    latest: tokio::sync::Mutex<Option<(Instant, HashMap<String, MessageAge>)>>,
}

/// The batcher of `aws`'s endpoint and Region, with `queue` registered.
pub(crate) fn register(aws: &aws_config::SdkConfig, queue: &str) -> Arc<AgeBatcher> {
    static BATCHERS: OnceLock<Mutex<HashMap<String, Arc<AgeBatcher>>>> = OnceLock::new();
    let key = format!(
        "{}|{}",
        aws.endpoint_url().unwrap_or_default(),
        aws.region().map(|r| r.to_string()).unwrap_or_default()
    );
    let mut all = BATCHERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let batcher = all
        .entry(key)
        .or_insert_with(|| {
            Arc::new(AgeBatcher {
                client: aws_sdk_cloudwatch::Client::new(aws),
                queues: Mutex::new(BTreeSet::new()),
                latest: tokio::sync::Mutex::new(None),
            })
        })
        .clone();
    batcher
        .queues
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(queue.to_string());
    batcher
}

impl AgeBatcher {
    /// `queue`'s oldest message age: `None` when CloudWatch has no datapoint.
    pub(crate) async fn age(&self, queue: &str) -> Result<Option<MessageAge>, String> {
        let mut latest = self.latest.lock().await;
        if let Some((at, ages)) = latest.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return Ok(ages.get(queue).copied());
            }
        }
        let ages = self.fetch().await?;
        let answer = ages.get(queue).copied();
        *latest = Some((Instant::now(), ages));
        Ok(answer)
    }

    async fn fetch(&self) -> Result<HashMap<String, MessageAge>, String> {
        let queues: Vec<String> = self
            .queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        let mut ages = HashMap::new();
        for chunk in queues.chunks(QUERIES_PER_CALL) {
            let queries = chunk
                .iter()
                .enumerate()
                .map(|(i, queue)| query(i, queue))
                .collect();
            let (results, now_s) = recent(&self.client, queries, LOOK_BACK).await?;
            for result in &results {
                let Some(queue) = result
                    .id()
                    .and_then(|id| id.strip_prefix('q'))
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| chunk.get(i))
                else {
                    continue;
                };
                if let Some((value, at)) =
                    newest(result).filter(|(v, _)| v.is_finite() && *v >= 0.0)
                {
                    let measured_ago_s = now_s.saturating_sub(at).max(0) as u64;
                    ages.insert(
                        queue.clone(),
                        MessageAge {
                            age_s: value.round() as u64,
                            measured_ago_s,
                        },
                    );
                }
            }
        }
        Ok(ages)
    }
}

fn query(index: usize, queue: &str) -> MetricDataQuery {
    MetricSpec {
        namespace: "AWS/SQS",
        metric_name: "ApproximateAgeOfOldestMessage",
        dimensions: &[("QueueName", queue)],
        period_s: 60,
        stat: "Maximum",
    }
    .query(&format!("q{index}"), true)
}
