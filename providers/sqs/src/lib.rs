//! Amazon SQS provider (`QUEUE_TYPE=sqs`).
//!
//! One `GetQueueAttributes` call per reading, asking for exactly the three
//! approximate counts. SQS documents these as eventually consistent (about a
//! minute for the "approximate" family in the worst case), which is still far
//! fresher than the CloudWatch metrics that alarm-based scaling waits for.
//!
//! Settings: `{"type": "sqs", "queue_url": "https://sqs.<region>.amazonaws.com/<account>/<name>"}`,
//! or `SQS_QUEUE_URL` in single-service mode.

use std::sync::Arc;

use aws_sdk_sqs::types::QueueAttributeName;
use fast_autoscaler_provider::{
    async_trait, inventory, parse_count, reject_unknown_keys, required_str, ProviderContext,
    ProviderError, ProviderRegistration, QueueMetrics, QueueMetricsProvider,
};
use serde_json::{json, Value};

/// The registered name.
pub const NAME: &str = "sqs";

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "Amazon SQS: visible, in-flight and delayed counts from one GetQueueAttributes call",
        env_settings: &[("queue_url", "SQS_QUEUE_URL")],
        factory,
    }
}

fn factory(
    settings: &Value,
    ctx: ProviderContext<'_>,
) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
    reject_unknown_keys(NAME, settings, &["queue_url"])?;
    let queue_url = required_str(
        NAME,
        settings,
        "queue_url",
        "an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
    )?;
    validate_queue_url(queue_url)?;
    Ok(Arc::new(SqsProvider {
        client: aws_sdk_sqs::Client::new(ctx.aws),
        queue_url: queue_url.to_string(),
    }))
}

/// A queue URL is `scheme://host[:port]/<account>/<queue name>`. Checked at cold start
/// so a malformed URL fails the deployment, not every tick.
fn validate_queue_url(url: &str) -> Result<(), ProviderError> {
    let invalid = |why: &str| ProviderError::InvalidSetting {
        provider: NAME,
        field: "queue_url".into(),
        value: url.to_string(),
        expected: format!(
            "{why}; expected https://sqs.<region>.amazonaws.com/<account id>/<queue name>"
        ),
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid("it does not start with https://"))?;
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    let queue = parts.next().unwrap_or_default();
    if host.is_empty() {
        return Err(invalid("the host is empty"));
    }
    if account.is_empty() || queue.is_empty() || parts.next().is_some_and(|p| !p.is_empty()) {
        return Err(invalid("the path must be /<account id>/<queue name>"));
    }
    let valid_name = queue.len() <= 80
        && queue
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !valid_name {
        return Err(invalid(
            "the queue name may hold only letters, digits, '-', '_' and '.fifo', at most 80",
        ));
    }
    Ok(())
}

/// Reads one SQS queue's depth.
#[derive(Debug)]
pub struct SqsProvider {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

#[async_trait]
impl QueueMetricsProvider for SqsProvider {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn target(&self) -> String {
        self.queue_url.clone()
    }

    fn describe(&self) -> Value {
        json!({"type": NAME, "queue_url": self.queue_url})
    }

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| ProviderError::Unavailable {
                provider: NAME,
                target: self.queue_url.clone(),
                message: aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(),
            })?;
        let attributes = answer.attributes();
        let count = |name: QueueAttributeName| {
            parse_count(
                NAME,
                &self.queue_url,
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::validate_queue_url;

    #[test]
    fn queue_urls() {
        for good in [
            "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
            "https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo",
            "http://127.0.0.1:5000/123456789012/demo-queue",
        ] {
            assert!(validate_queue_url(good).is_ok(), "{good}");
        }
        for bad in [
            "jobs",
            "sqs.eu-west-1.amazonaws.com/123/jobs",
            "https:///123/jobs",
            "https://sqs.eu-west-1.amazonaws.com/jobs",
            "https://sqs.eu-west-1.amazonaws.com/123/jobs/extra",
            "https://sqs.eu-west-1.amazonaws.com/123/jo bs",
        ] {
            let err = validate_queue_url(bad).unwrap_err().to_string();
            assert!(err.contains("queue_url") && err.contains(bad), "{err}");
        }
    }
}
