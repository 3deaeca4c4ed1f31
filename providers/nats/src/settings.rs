//! The `nats` provider's settings, validated at cold start.

use std::path::PathBuf;
use std::time::Duration;

use fast_autoscaler_provider::{
    invalid_setting, reject_unknown_keys, setting_text as text, ProviderError,
};
use serde_json::Value;

use crate::NAME;

const KEYS: [&str; 7] = [
    "url",
    "stream",
    "consumer",
    "secret_arn",
    "ca_bundle",
    "connect_timeout_ms",
    "request_timeout_ms",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `nats://host:port` or `tls://host:port`, with no credentials in it.
    pub url: String,
    pub tls: bool,
    pub stream: String,
    pub consumer: String,
    /// A Secrets Manager secret: `{"username", "password"}` or `{"token"}`.
    pub secret_arn: Option<String>,
    /// PEM file of the CA that signed the server's certificate (private CAs).
    pub ca_bundle: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

fn invalid(field: &str, value: Option<&Value>, expected: &str) -> ProviderError {
    invalid_setting(NAME, field, value, expected)
}

/// JetStream names: no spaces, dots, `*`, `>`, path separators; at most 255.
fn name(settings: &Value, field: &str, example: &str) -> Result<String, ProviderError> {
    text(settings, field)
        .filter(|n| n.len() <= 255 && !n.chars().any(|c| c.is_whitespace() || ".*>/\\".contains(c)))
        .map(String::from)
        .ok_or_else(|| {
            invalid(
                field,
                settings.get(field),
                &format!(
                    "a JetStream {field} name without spaces, '.', '*', '>' or '/', e.g. {example}"
                ),
            )
        })
}

fn millis(settings: &Value, field: &str, default_ms: u64) -> Result<Duration, ProviderError> {
    let Some(value) = settings
        .get(field)
        .filter(|v| text(settings, field).is_some() || v.is_number())
    else {
        return Ok(Duration::from_millis(default_ms));
    };
    let ms = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    ms.filter(|ms| (100..=5_000).contains(ms))
        .map(Duration::from_millis)
        .ok_or_else(|| {
            invalid(
                field,
                Some(value),
                "milliseconds from 100 to 5000 (the worker's tick must outlast them)",
            )
        })
}

pub fn parse(settings: &Value) -> Result<Settings, ProviderError> {
    reject_unknown_keys(NAME, settings, &KEYS)?;
    let url = text(settings, "url").unwrap_or_default();
    let (scheme, address) = url.split_once("://").unwrap_or(("", url));
    if address.contains('@') {
        return Err(invalid("url", Some(&Value::String("<a URL with credentials, not shown>".into())), "a URL without credentials; put them in a Secrets Manager secret and give its secret_arn"));
    }
    let valid_address = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !["nats", "tls"].contains(&scheme) || !valid_address {
        return Err(invalid(
            "url",
            settings.get("url"),
            "nats://host:port, or tls://host:port for TLS, e.g. tls://nats.internal:4222",
        ));
    }
    let secret_arn = match text(settings, "secret_arn") {
        None => None,
        Some(arn) if arn.starts_with("arn:") && arn.contains(":secretsmanager:") => Some(arn.to_string()),
        Some(_) => return Err(invalid("secret_arn", settings.get("secret_arn"), "a Secrets Manager secret ARN (arn:aws:secretsmanager:…) holding {\"username\", \"password\"} or {\"token\"}")),
    };
    Ok(Settings {
        url: url.to_string(),
        tls: scheme == "tls",
        stream: name(settings, "stream", "ORDERS")?,
        consumer: name(settings, "consumer", "workers")?,
        secret_arn,
        ca_bundle: text(settings, "ca_bundle").map(PathBuf::from),
        connect_timeout: millis(settings, "connect_timeout_ms", 2_000)?,
        request_timeout: millis(settings, "request_timeout_ms", 2_000)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_valid_consumer_with_its_defaults() {
        let parsed = parse(
            &json!({"url": "tls://127.0.0.1:4222", "stream": "ORDERS", "consumer": "workers"}),
        )
        .expect("valid");
        assert!(parsed.tls);
        assert_eq!(parsed.connect_timeout, Duration::from_secs(2));
    }

    #[test]
    fn every_bad_setting_is_named_and_credentials_never_echoed() {
        let base =
            json!({"url": "nats://127.0.0.1:4222", "stream": "ORDERS", "consumer": "workers"});
        for (key, value, field) in [
            ("url", json!("http://127.0.0.1:4222"), "url"),
            ("url", json!("nats://127.0.0.1"), "url"),
            ("stream", json!("ORD ERS"), "stream"),
            ("consumer", json!("a.b"), "consumer"),
            ("secret_arn", json!("my-secret"), "secret_arn"),
            ("request_timeout_ms", json!(60_000), "request_timeout_ms"),
            ("colour", json!("red"), "colour"),
        ] {
            let mut settings = base.clone();
            settings[key] = value;
            match parse(&settings) {
                Err(ProviderError::InvalidSetting { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{settings}: {other:?}"),
            }
        }
        let mut with_password = base.clone();
        with_password["url"] = json!("nats://app:hunter2@127.0.0.1:4222");
        let err = parse(&with_password).unwrap_err().to_string();
        assert!(err.contains("url") && !err.contains("hunter2"), "{err}");
    }
}
