//! The `redis` provider's settings, validated at cold start.

use std::path::PathBuf;
use std::time::Duration;

use fast_autoscaler_provider::{
    invalid_setting, reject_unknown_keys, setting_text as text, ProviderError,
};
use serde_json::Value;

use crate::NAME;

const KEYS: [&str; 10] = [
    "url",
    "key",
    "stream",
    "group",
    "db",
    "secret_arn",
    "ca_bundle",
    "connect_timeout_ms",
    "response_timeout_ms",
    "missing_key_is_empty",
];

/// What is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A list used as a queue: its length (`LLEN`). A missing key reads as an
    /// empty queue only with `missing_key_is_empty`, or once the key has held a
    /// list (see [`crate::list`]).
    List {
        key: String,
        missing_key_is_empty: bool,
    },
    /// A stream's consumer group: its lag and pending entries (`XINFO GROUPS`).
    Stream { stream: String, group: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `redis://host:port` or `rediss://host:port` (TLS), with no credentials.
    pub url: String,
    pub source: Source,
    pub db: i64,
    /// `{"password"}` or `{"username", "password"}` (ACL users).
    pub secret_arn: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
}

fn invalid(field: &str, value: Option<&Value>, expected: &str) -> ProviderError {
    invalid_setting(NAME, field, value, expected)
}

fn whole(
    settings: &Value,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
    expected: &str,
) -> Result<i64, ProviderError> {
    let Some(value) = settings
        .get(field)
        .filter(|v| v.is_number() || text(settings, field).is_some())
    else {
        return Ok(default);
    };
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| range.contains(n))
        .ok_or_else(|| invalid(field, Some(value), expected))
}

fn url(settings: &Value) -> Result<(String, bool), ProviderError> {
    let url = text(settings, "url").unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    if rest.contains('@') {
        return Err(invalid("url", Some(&Value::String("<a URL with credentials, not shown>".into())), "a URL without credentials; put the password in a Secrets Manager secret and give its secret_arn"));
    }
    let address = rest.split('/').next().unwrap_or_default();
    let valid = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !["redis", "rediss"].contains(&scheme) || !valid || rest.len() > address.len() + 1 {
        return Err(invalid("url", settings.get("url"), "redis://host:port, or rediss://host:port for TLS, e.g. rediss://cache.internal:6379 (the database goes in db)"));
    }
    Ok((format!("{scheme}://{address}"), scheme == "rediss"))
}

/// A true or false setting (its text in single-service mode), false when absent.
fn flag(settings: &Value, field: &str) -> Result<bool, ProviderError> {
    match settings.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(t)) if ["true", "false", ""].contains(&t.trim()) => {
            Ok(t.trim() == "true")
        }
        Some(other) => Err(invalid(field, Some(other), "true or false")),
    }
}

pub fn parse(settings: &Value) -> Result<Settings, ProviderError> {
    reject_unknown_keys(NAME, settings, &KEYS)?;
    let (url, _) = url(settings)?;
    let source = match (text(settings, "key"), text(settings, "stream"), text(settings, "group")) {
        (Some(key), None, None) => Source::List {
            key: key.to_string(),
            missing_key_is_empty: flag(settings, "missing_key_is_empty")?,
        },
        (None, Some(_), Some(_)) if settings.get("missing_key_is_empty").is_some_and(|v| v != &Value::Bool(false) && !v.is_null()) => {
            return Err(invalid("missing_key_is_empty", settings.get("missing_key_is_empty"), "no value with a stream: a stream that does not exist is always an error"))
        }
        (None, Some(stream), Some(group)) => Source::Stream { stream: stream.to_string(), group: group.to_string() },
        (None, Some(_), None) => return Err(invalid("group", None, "the consumer group of the stream, whose lag and pending entries are the backlog")),
        _ => return Err(invalid("key", settings.get("key"), "either key (a list used as a queue) or stream and group (a stream's consumer group), not both")),
    };
    let secret_arn = match text(settings, "secret_arn") {
        None => None,
        Some(arn) if arn.starts_with("arn:") && arn.contains(":secretsmanager:") => Some(arn.to_string()),
        Some(_) => return Err(invalid("secret_arn", settings.get("secret_arn"), "a Secrets Manager secret ARN (arn:aws:secretsmanager:…) holding {\"password\"} or {\"username\", \"password\"}")),
    };
    let timeout = |field: &str| {
        whole(
            settings,
            field,
            100..=5_000,
            2_000,
            "milliseconds from 100 to 5000 (the worker's tick must outlast them)",
        )
        .map(|ms| Duration::from_millis(ms as u64))
    };
    Ok(Settings {
        url,
        source,
        db: whole(settings, "db", 0..=15, 0, "a database number from 0 to 15")?,
        secret_arn,
        ca_bundle: text(settings, "ca_bundle").map(PathBuf::from),
        connect_timeout: timeout("connect_timeout_ms")?,
        response_timeout: timeout("response_timeout_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_list_or_a_stream_group() {
        let list = parse(&json!({"url": "rediss://127.0.0.1:6380", "key": "jobs"})).expect("valid");
        assert_eq!(
            list.source,
            Source::List {
                key: "jobs".into(),
                missing_key_is_empty: false
            }
        );
        let trusted = parse(&json!({"url": "redis://127.0.0.1:6379", "key": "jobs", "missing_key_is_empty": "true"})).expect("valid");
        assert!(matches!(
            trusted.source,
            Source::List {
                missing_key_is_empty: true,
                ..
            }
        ));
        let stream = parse(&json!({"url": "redis://127.0.0.1:6379", "stream": "events", "group": "workers", "db": "2"})).expect("valid");
        assert_eq!(
            (stream.db, stream.response_timeout),
            (2, Duration::from_secs(2))
        );
    }

    #[test]
    fn every_bad_setting_is_named_and_credentials_never_echoed() {
        for (settings, field) in [
            (
                json!({"url": "http://127.0.0.1:6379", "key": "jobs"}),
                "url",
            ),
            (
                json!({"url": "redis://127.0.0.1:6379/3", "key": "jobs"}),
                "url",
            ),
            (json!({"url": "redis://127.0.0.1:6379"}), "key"),
            (
                json!({"url": "redis://127.0.0.1:6379", "key": "jobs", "stream": "s", "group": "g"}),
                "key",
            ),
            (
                json!({"url": "redis://127.0.0.1:6379", "stream": "s"}),
                "group",
            ),
            (
                json!({"url": "redis://127.0.0.1:6379", "key": "jobs", "db": 16}),
                "db",
            ),
            (
                json!({"url": "redis://127.0.0.1:6379", "key": "jobs", "secret_arn": "pw"}),
                "secret_arn",
            ),
            (
                json!({"url": "redis://127.0.0.1:6379", "key": "jobs", "colour": 1}),
                "colour",
            ),
            (
                json!({"url": "redis://127.0.0.1:6379", "key": "jobs", "missing_key_is_empty": "yes"}),
                "missing_key_is_empty",
            ),
            (
                json!({"url": "redis://127.0.0.1:6379", "stream": "s", "group": "g", "missing_key_is_empty": true}),
                "missing_key_is_empty",
            ),
        ] {
            match parse(&settings) {
                Err(ProviderError::InvalidSetting { field: named, .. }) => {
                    assert_eq!(named, field, "{settings}")
                }
                other => panic!("{settings}: {other:?}"),
            }
        }
        let err = parse(&json!({"url": "redis://:hunter2@127.0.0.1:6379", "key": "jobs"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("url") && !err.contains("hunter2"), "{err}");
    }
}
