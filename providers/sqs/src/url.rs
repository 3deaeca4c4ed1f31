//! What the SQS provider checks at cold start, so that a malformed setting fails
//! the deployment, not every tick: queue URLs and queue name prefixes.

use fast_autoscaler_provider::ProviderError;

use crate::NAME;

/// A queue URL is `scheme://host[:port]/<account>/<queue name>`. Checked at cold start
/// so a malformed URL fails the deployment, not every tick.
pub(crate) fn validate_queue_url(url: &str) -> Result<(), ProviderError> {
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

/// A queue name prefix: 1 to 80 of the characters a queue name may hold.
pub(crate) fn validate_prefix(prefix: &str) -> Result<(), ProviderError> {
    let valid = (1..=80).contains(&prefix.len())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(ProviderError::InvalidSetting {
            provider: NAME,
            field: "queue_name_prefix".into(),
            value: format!("{prefix:?}"),
            expected: "the start of queue names: 1 to 80 letters, digits, '-' or '_', e.g. orders-"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn prefixes() {
        assert!(validate_prefix("orders-").is_ok());
        for bad in ["", "orders*", "a b", &"x".repeat(81)] {
            let err = validate_prefix(bad).unwrap_err().to_string();
            assert!(err.contains("queue_name_prefix"), "{err}");
        }
    }
}
