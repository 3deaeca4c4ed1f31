//! Amazon SQS provider (`QUEUE_TYPE=sqs`).
//!
//! One `GetQueueAttributes` call per queue and reading, asking for exactly the
//! three approximate counts. SQS documents these as eventually consistent (about
//! a minute for the "approximate" family in the worst case), which is still far
//! fresher than the CloudWatch metrics that alarm-based scaling waits for.
//!
//! Settings, one queue: `{"type": "sqs", "queue_url": "https://sqs.<region>.amazonaws.com/<account>/<name>"}`,
//! or `SQS_QUEUE_URL` in single-service mode.
//!
//! Every queue whose name starts with a prefix, read as one:
//! `{"type": "sqs", "queue_name_prefix": "orders-", "combine": "sum"}` (or
//! `SQS_QUEUE_NAME_PREFIX`). The queues are listed once per cold start, page by
//! page (`ListQueues` answers at most 1,000 at a time), on the first reading;
//! then every reading reads each of them, and a queue that fails fails the
//! reading, so the service holds instead of scaling on part of its backlog.

mod age;
mod url;

use std::sync::Arc;

use aws_sdk_sqs::types::QueueAttributeName;
use fast_autoscaler_common::aws_error::one_line;
use fast_autoscaler_provider::combine::Combine;
use fast_autoscaler_provider::{
    async_trait, invalid_setting, inventory, parse_count, reject_unknown_keys, setting_text,
    ArrivalsMetric, ProviderConfig, ProviderContext, ProviderError, ProviderRegistration,
    QueueMetrics, QueueMetricsProvider,
};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use url::{validate_prefix, validate_queue_url};

/// The registered name.
pub const NAME: &str = "sqs";

/// Queue URLs per ListQueues page: the most SQS answers.
const LIST_PAGE_SIZE: i32 = 1000;

/// GetQueueAttributes calls in flight at once for the queues of a prefix.
const READS_IN_FLIGHT: usize = 32;

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "Amazon SQS: visible, in-flight and delayed counts from GetQueueAttributes, for one queue or every queue with a name prefix",
        env_settings: &[
            ("queue_url", "SQS_QUEUE_URL"),
            ("queue_name_prefix", "SQS_QUEUE_NAME_PREFIX"),
            ("combine", "SQS_COMBINE"),
        ],
        parse,
    }
}

fn parse(settings: &Value) -> Result<Arc<dyn ProviderConfig>, ProviderError> {
    reject_unknown_keys(
        NAME,
        settings,
        &[
            "queue_url",
            "queue_name_prefix",
            "combine",
            "oldest_message_age",
        ],
    )?;
    let queues = queues(settings)?;
    let oldest_message_age = wants_age(settings)?;
    if oldest_message_age && matches!(queues, QueueSpec::Prefix { .. }) {
        return Err(invalid_age(
            &Value::Bool(true),
            "only with queue_url: a prefix's queues have no single oldest message",
        ));
    }
    Ok(Arc::new(SqsSettings {
        queues,
        oldest_message_age,
    }))
}

/// The validated settings of one SQS provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsSettings {
    queues: QueueSpec,
    /// Read the queue's oldest message age from CloudWatch (one queue only).
    oldest_message_age: bool,
}

/// Which queues a provider reads, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
enum QueueSpec {
    One(String),
    Prefix { prefix: String, combine: Combine },
}

impl ProviderConfig for SqsSettings {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> Value {
        match &self.queues {
            QueueSpec::One(url) if self.oldest_message_age => {
                json!({"type": NAME, "queue_url": url, "oldest_message_age": true})
            }
            QueueSpec::One(url) => json!({"type": NAME, "queue_url": url}),
            QueueSpec::Prefix { prefix, combine } => {
                json!({"type": NAME, "queue_name_prefix": prefix, "combine": combine})
            }
        }
    }

    /// `NumberOfMessagesSent` of a queue named by its URL. A prefix's queues
    /// come and go, so they have none.
    fn arrivals_metric(&self) -> Option<ArrivalsMetric> {
        match &self.queues {
            QueueSpec::One(url) => {
                let name = url.rsplit('/').next().unwrap_or_default();
                Some(ArrivalsMetric::new(
                    "AWS/SQS",
                    "NumberOfMessagesSent",
                    &[("QueueName", name)],
                ))
            }
            QueueSpec::Prefix { .. } => None,
        }
    }

    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
        let (queues, age) = match &self.queues {
            QueueSpec::One(url) => {
                let name = url.rsplit('/').next().unwrap_or_default();
                let age = self
                    .oldest_message_age
                    .then(|| age::register(ctx.aws, name));
                (Queues::One(url.clone()), age)
            }
            QueueSpec::Prefix { prefix, combine } => (
                Queues::Prefix {
                    prefix: prefix.clone(),
                    combine: *combine,
                    listed: OnceCell::new(),
                },
                None,
            ),
        };
        Ok(Arc::new(SqsProvider {
            client: aws_sdk_sqs::Client::new(ctx.aws),
            queues,
            age,
        }))
    }
}

/// One queue by URL, or every queue of a name prefix and how they combine.
fn queues(settings: &Value) -> Result<QueueSpec, ProviderError> {
    let text = |field: &str| setting_text(settings, field);
    let invalid =
        |field: &str, expected: &str| invalid_setting(NAME, field, settings.get(field), expected);
    match (text("queue_url"), text("queue_name_prefix")) {
        (Some(url), None) => {
            if settings.get("combine").is_some() {
                return Err(invalid("combine", "no combine for one queue_url (it combines the queues of a queue_name_prefix)"));
            }
            validate_queue_url(url)?;
            Ok(QueueSpec::One(url.to_string()))
        }
        (None, Some(prefix)) => {
            validate_prefix(prefix)?;
            let combine = match settings.get("combine") {
                None => Combine::Sum,
                Some(value) => value
                    .as_str()
                    .and_then(Combine::parse)
                    .ok_or_else(|| invalid("combine", Combine::EXPECTED))?,
            };
            Ok(QueueSpec::Prefix {
                prefix: prefix.to_string(),
                combine,
            })
        }
        (Some(_), Some(_)) => Err(invalid("queue_name_prefix", "no queue_name_prefix beside queue_url: give one queue, or every queue with a prefix")),
        _ => Err(invalid(
            "queue_url",
            "an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/jobs (or queue_name_prefix)",
        )),
    }
}

/// `oldest_message_age`: a JSON boolean, or its text in single-service mode.
fn wants_age(settings: &Value) -> Result<bool, ProviderError> {
    match settings.get("oldest_message_age") {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(t)) if ["true", "false", ""].contains(&t.trim()) => {
            Ok(t.trim() == "true")
        }
        Some(other) => Err(invalid_age(other, "true or false")),
    }
}

fn invalid_age(value: &Value, expected: &str) -> ProviderError {
    invalid_setting(NAME, "oldest_message_age", Some(value), expected)
}

/// Which queues a provider reads.
#[derive(Debug)]
enum Queues {
    One(String),
    /// Every queue whose name starts with `prefix`, listed on the first reading.
    Prefix {
        prefix: String,
        combine: Combine,
        listed: OnceCell<Vec<String>>,
    },
}

/// Reads one SQS queue's depth, or the combined depth of every queue with a prefix.
#[derive(Debug)]
pub struct SqsProvider {
    client: aws_sdk_sqs::Client,
    queues: Queues,
    /// With `oldest_message_age`: where this queue's age comes from.
    age: Option<Arc<age::AgeBatcher>>,
}

impl std::fmt::Debug for age::AgeBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgeBatcher")
    }
}

impl SqsProvider {
    fn unavailable(&self, target: &str, message: String) -> ProviderError {
        ProviderError::Unavailable {
            provider: NAME,
            target: target.to_string(),
            message,
        }
    }

    /// One queue's counts.
    async fn read(&self, queue_url: &str) -> Result<QueueMetrics, ProviderError> {
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| {
                self.unavailable(queue_url, format!("GetQueueAttributes: {}", one_line(&e)))
            })?;
        let attributes = answer.attributes();
        let count = |name: QueueAttributeName| {
            parse_count(
                NAME,
                queue_url,
                name.as_str(),
                attributes.and_then(|a| a.get(&name)).map(String::as_str),
            )
        };
        Ok(QueueMetrics {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages)?,
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed)?,
            // GetQueueAttributes has no consumption counter (CloudWatch's
            // NumberOfMessagesDeleted lags by minutes).
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        })
    }

    /// Every queue URL with `prefix`, all pages. An empty answer is an error, so
    /// it is listed again on the next reading rather than kept.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ProviderError> {
        let target = format!("queues named {prefix}*");
        let urls: Vec<String> = self
            .client
            .list_queues()
            .queue_name_prefix(prefix)
            .into_paginator()
            .page_size(LIST_PAGE_SIZE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.unavailable(&target, format!("ListQueues: {}", one_line(&e))))?;
        if urls.is_empty() {
            return Err(self.unavailable(&target, "ListQueues found no queue with this prefix; check queue_name_prefix and the region".into()));
        }
        Ok(urls)
    }
}

#[async_trait]
impl QueueMetricsProvider for SqsProvider {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn target(&self) -> String {
        match &self.queues {
            Queues::One(url) => url.clone(),
            Queues::Prefix { prefix, .. } => format!("queues named {prefix}*"),
        }
    }

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let (prefix, combine, listed) = match &self.queues {
            Queues::One(url) => {
                let mut reading = self.read(url).await?;
                if let Some(ages) = &self.age {
                    let name = url.rsplit('/').next().unwrap_or_default();
                    // The count stands alone: an age CloudWatch cannot give is unknown.
                    reading.oldest_message = ages.age(name).await.unwrap_or_else(|e| {
                        tracing::warn!(queue = %url, error = %e, "oldest message age unavailable; the count goal decides alone");
                        None
                    });
                }
                return Ok(reading);
            }
            Queues::Prefix {
                prefix,
                combine,
                listed,
            } => (prefix, *combine, listed),
        };
        let urls = listed.get_or_try_init(|| self.list(prefix)).await?;
        // A bounded number at once: a prefix may match a thousand queues.
        let reads: Vec<_> = urls.iter().map(|url| Box::pin(self.read(url))).collect();
        let answers: Vec<_> = stream::iter(reads)
            .buffered(READS_IN_FLIGHT)
            .collect()
            .await;
        let readings = answers
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.one_of(urls.len()))?;
        Ok(combine.readings(&readings, |i| urls[i].clone()))
    }
}
