//! The queue-metrics provider interface of Fast Autoscaler.
//!
//! # Design
//!
//! The worker never knows which queue technologies exist. Each technology lives in
//! its own crate under `providers/` and announces itself with a [`ProviderRegistration`]:
//! a static struct holding a name and a parser, submitted with
//! [`inventory::submit!`]. At cold start the worker looks a provider up by the name
//! in its configuration ([`find`]) and calls the registration's parser with the
//! service's provider settings. An unknown name answers with every registered name,
//! so a typo in `QUEUE_TYPE` is a one-line fix.
//!
//! The parser answers plain data, a [`ProviderConfig`]: the settings checked,
//! with no client built and no I/O, which is all `check-config` needs. Only then,
//! and only where queues are read, [`ProviderConfig::build`] makes the provider
//! with its clients from a [`ProviderContext`].
//!
//! `inventory` collects registrations at link time, and the linker drops crates that
//! nothing names. That is why the `fast-autoscaler-providers` facade crate names every
//! provider crate: the worker binary and every test crate depend on the facade, and so
//! see all providers.
//!
//! Settings are a JSON object, so that each provider owns its own schema. The same
//! object comes from the JSON configuration document (`"provider": {"type": "sqs", ...}`)
//! or, for single-service deployments, from environment variables through the
//! registration's [`ProviderRegistration::settings_from_env`].
//!
//! A service that consumes several queues lists several providers; [`combine`]
//! reads them as one, by sum or by the busiest queue, and fails the reading when
//! any queue fails.
//!
//! A provider's only job at run time is [`QueueMetricsProvider::metrics`]: one reading
//! of visible, in-flight and delayed message counts. Every failure is a
//! [`ProviderError`]; the policy turns any error into `hold`, never a scale-down.

pub mod combine;

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

pub use async_trait::async_trait;
pub use fast_autoscaler_core::metrics::{MessageAge, QueueMetrics};
pub use inventory;

/// Reads queue metrics for one configured queue.
#[async_trait]
pub trait QueueMetricsProvider: Send + Sync + fmt::Debug {
    /// The registered provider name, e.g. `sqs`.
    fn provider_name(&self) -> &'static str;

    /// What this provider watches, for logs and errors (a queue URL, `broker/queue`, ...).
    fn target(&self) -> String;

    /// Reads the queue's current depth. One call per service per tick.
    async fn metrics(&self) -> Result<QueueMetrics, ProviderError>;
}

/// A provider's validated settings: plain data, checked without any I/O, and
/// what builds the provider from them.
///
/// Configuration has two phases, as Vector's `SourceConfig::build`: a document
/// is first parsed and validated into plain data (every provider's settings
/// through its registration's `parse`), which `check-config`, `decide`,
/// `simulate` and `tune` use as it is; only the worker and the commands that
/// read queues then [`ProviderConfig::build`] the providers, with their clients.
pub trait ProviderConfig: Send + Sync + fmt::Debug {
    /// The registered provider name, e.g. `sqs`.
    fn provider_name(&self) -> &'static str;

    /// The effective settings with every secret replaced by `"***"`, for `check-config`.
    fn describe(&self) -> Value;

    /// The CloudWatch metric that counts the queue's arrivals a minute, if the
    /// queue publishes one, for anticipation to learn its recurring surges from
    /// (`fast_autoscaler_core::forecast`). None by default: the worker then
    /// prepares only for the surges the configuration's hints announce.
    fn arrivals_metric(&self) -> Option<ArrivalsMetric> {
        None
    }

    /// Builds the provider and its clients. No network I/O: connections and
    /// secrets wait for the first reading.
    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError>;
}

/// A CloudWatch metric whose one-minute `Sum` is the messages that arrived in
/// that minute, such as SQS's `NumberOfMessagesSent` or Kinesis's
/// `IncomingRecords`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrivalsMetric {
    pub namespace: String,
    pub name: String,
    /// `(name, value)` pairs.
    pub dimensions: Vec<(String, String)>,
}

impl ArrivalsMetric {
    pub fn new(namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> Self {
        ArrivalsMetric {
            namespace: namespace.to_string(),
            name: name.to_string(),
            dimensions: dimensions
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }
}

impl fmt::Display for ArrivalsMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.namespace, self.name)?;
        for (name, value) in &self.dimensions {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// Everything a factory may use to build a provider.
#[derive(Clone, Copy)]
pub struct ProviderContext<'a> {
    /// Shared AWS configuration (region, credentials, endpoint override), loaded once.
    pub aws: &'a aws_config::SdkConfig,
}

/// Validates a settings object into the plain data the provider is built from.
/// Does no I/O: it runs at cold start and in `check-config`.
pub type ProviderParser = fn(&Value) -> Result<Arc<dyn ProviderConfig>, ProviderError>;

/// A provider plugin, registered with `inventory::submit!`.
pub struct ProviderRegistration {
    /// The name used in `QUEUE_TYPE` or `"provider": {"type": ...}`.
    pub name: &'static str,
    /// One line for `--help` and error messages.
    pub summary: &'static str,
    /// Single-service mode: which environment variable fills which setting, e.g.
    /// `("queue_url", "SQS_QUEUE_URL")`. Values arrive as JSON strings.
    pub env_settings: &'static [(&'static str, &'static str)],
    /// Validates `settings` (see [`ProviderConfig`]).
    pub parse: ProviderParser,
}

inventory::collect!(ProviderRegistration);

impl ProviderRegistration {
    /// Builds the settings object from environment variables through `env_settings`.
    pub fn settings_from_env(&self, env: &dyn Fn(&str) -> Option<String>) -> Value {
        let mut settings = Map::new();
        settings.insert("type".into(), Value::String(self.name.into()));
        for (setting, var) in self.env_settings {
            if let Some(value) = env(var) {
                settings.insert((*setting).into(), Value::String(value));
            }
        }
        Value::Object(settings)
    }

    /// The environment variable that fills `setting`, if any.
    pub fn env_name_of(&self, setting: &str) -> Option<&'static str> {
        self.env_settings
            .iter()
            .find(|(s, _)| *s == setting)
            .map(|(_, var)| *var)
    }
}

/// Every linked provider, sorted by name.
pub fn registered() -> Vec<&'static ProviderRegistration> {
    let mut all: Vec<_> = inventory::iter::<ProviderRegistration>
        .into_iter()
        .collect();
    all.sort_by_key(|r| r.name);
    all
}

/// The names of every linked provider, sorted.
pub fn registered_names() -> Vec<&'static str> {
    registered().iter().map(|r| r.name).collect()
}

/// Looks a provider up by name (case-insensitive).
pub fn find(name: &str) -> Result<&'static ProviderRegistration, ProviderError> {
    let wanted = name.trim().to_ascii_lowercase();
    registered()
        .into_iter()
        .find(|r| r.name == wanted)
        .ok_or_else(|| ProviderError::UnknownProvider {
            name: name.to_string(),
            known: registered_names().join(", "),
        })
}

/// Errors of providers and of the registry. Every variant is a metrics error for the
/// policy: it holds, never scales down.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("unknown provider {name:?}; registered providers: {known}")]
    UnknownProvider { name: String, known: String },

    #[error("provider {provider}: setting {field} = {value}: {expected}")]
    InvalidSetting {
        provider: &'static str,
        field: String,
        value: String,
        expected: String,
    },

    #[error("provider {provider}: could not read metrics of {target}: {message}")]
    Unavailable {
        provider: &'static str,
        target: String,
        message: String,
    },

    #[error(
        "provider {provider}: {target} answered {field} = {value:?}, which is not a message count (expected a whole number from 0 to {MAX_PLAUSIBLE_COUNT})"
    )]
    BadResponse {
        provider: &'static str,
        target: String,
        field: String,
        value: String,
    },
}

impl ProviderError {
    /// This error, for one of `queues` queues read as one: the whole reading
    /// fails, and the reason says why, once.
    pub fn one_of(self, queues: usize) -> ProviderError {
        let note = format!(
            "one of this service's {queues} queues failed, and a partial reading is never scaled on"
        );
        match self {
            ProviderError::Unavailable {
                provider,
                target,
                message,
            } => ProviderError::Unavailable {
                provider,
                target,
                message: format!("{message}; {note}"),
            },
            ProviderError::BadResponse {
                provider,
                target,
                field,
                value,
            } => ProviderError::Unavailable {
                provider,
                target,
                message: format!(
                    "answered {field} = {value:?}, which is not a message count; {note}"
                ),
            },
            other => other,
        }
    }
}

/// The largest message count believed: 2^40, about 1.1 trillion messages. No
/// queue service reports more for one queue; a larger number is a broken answer,
/// and trusting it would scale straight to `max_tasks` on garbage.
pub const MAX_PLAUSIBLE_COUNT: u64 = 1 << 40;

/// Parses a message-count attribute as returned by a queue service.
///
/// Queue services answer counts as text; anything that is not a whole number from
/// 0 to [`MAX_PLAUSIBLE_COUNT`] is a [`ProviderError::BadResponse`], never a silent
/// zero (a zero would read as "queue empty" and invite a scale-down).
pub fn parse_count(
    provider: &'static str,
    target: &str,
    field: &str,
    value: Option<&str>,
) -> Result<u64, ProviderError> {
    let bad = |v: &str| ProviderError::BadResponse {
        provider,
        target: target.to_string(),
        field: field.to_string(),
        value: v.to_string(),
    };
    let text = value.ok_or_else(|| bad("<missing>"))?;
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= MAX_PLAUSIBLE_COUNT)
        .ok_or_else(|| bad(text))
}

/// Reads a required string setting, naming the field when it is missing or empty.
pub fn required_str<'v>(
    provider: &'static str,
    settings: &'v Value,
    field: &str,
    expected: &str,
) -> Result<&'v str, ProviderError> {
    match settings.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        other => Err(ProviderError::InvalidSetting {
            provider,
            field: field.to_string(),
            value: other.map_or_else(|| "<missing>".to_string(), Value::to_string),
            expected: expected.to_string(),
        }),
    }
}

/// A setting's text, trimmed; `None` when absent or empty (single-service mode
/// passes every variable, set or not).
pub fn setting_text<'v>(settings: &'v Value, field: &str) -> Option<&'v str> {
    settings
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The error for a bad setting: its field, the value given (`<missing>` when
/// none) and what would be valid.
pub fn invalid_setting(
    provider: &'static str,
    field: &str,
    value: Option<&Value>,
    expected: &str,
) -> ProviderError {
    ProviderError::InvalidSetting {
        provider,
        field: field.to_string(),
        value: value.map_or_else(|| "<missing>".to_string(), Value::to_string),
        expected: expected.to_string(),
    }
}

/// Rejects settings keys a provider does not know, listing the ones it does.
/// A misspelt key would otherwise be silently ignored.
pub fn reject_unknown_keys(
    provider: &'static str,
    settings: &Value,
    known: &[&str],
) -> Result<(), ProviderError> {
    let Some(object) = settings.as_object() else {
        return Err(ProviderError::InvalidSetting {
            provider,
            field: "provider".into(),
            value: settings.to_string(),
            expected: "a JSON object of provider settings".into(),
        });
    };
    for key in object.keys() {
        if key != "type" && !known.contains(&key.as_str()) {
            return Err(ProviderError::InvalidSetting {
                provider,
                field: key.clone(),
                value: object[key].to_string(),
                expected: format!(
                    "no such setting; valid settings: type, {}",
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_count_rejects_garbage_instead_of_reading_zero() {
        assert_eq!(parse_count("t", "q", "n", Some("42")).unwrap(), 42);
        for bad in [
            None,
            Some(""),
            Some("-1"),
            Some("12abc"),
            Some("1e3"),
            Some("99999999999999999999999"),
            Some("1099511627777"),
        ] {
            let err = parse_count("t", "q", "ApproximateNumberOfMessages", bad).unwrap_err();
            assert!(
                err.to_string().contains("ApproximateNumberOfMessages"),
                "{err}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = reject_unknown_keys(
            "sqs",
            &serde_json::json!({"type": "sqs", "queue_ulr": "x"}),
            &["queue_url"],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("queue_ulr") && err.contains("queue_url"),
            "{err}"
        );
    }
}
