//! The `kinesis` provider's settings, validated at cold start.

use fast_autoscaler_provider::{invalid_setting, reject_unknown_keys, setting_text, ProviderError};
use serde_json::Value;

use crate::NAME;

const KEYS: [&str; 4] = [
    "stream_name",
    "consumer_name",
    "max_age_seconds",
    "tasks_per_shard",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub stream_name: String,
    /// An enhanced fan-out consumer: its own lag metric instead of the stream's.
    pub consumer_name: Option<String>,
    /// The newest lag datapoint older than this is not believed.
    pub max_age_s: u64,
    /// How many tasks can work on one shard at once (1 with the KCL).
    pub tasks_per_shard: u64,
}

/// Kinesis names: 1 to 128 letters, digits, `_`, `.` and `-`.
fn kinesis_name(text: &str) -> bool {
    (1..=128).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Reads and checks every setting.
pub fn parse(settings: &Value) -> Result<Settings, ProviderError> {
    reject_unknown_keys(NAME, settings, &KEYS)?;
    let name = |field: &str| -> Result<Option<String>, ProviderError> {
        match setting_text(settings, field) {
            None => Ok(None),
            Some(text) if kinesis_name(text) => Ok(Some(text.to_string())),
            Some(_) => Err(invalid_setting(
                NAME,
                field,
                settings.get(field),
                "a Kinesis name: 1 to 128 letters, digits, '_', '.' or '-'",
            )),
        }
    };
    let stream_name = name("stream_name")?.ok_or_else(|| {
        invalid_setting(
            NAME,
            "stream_name",
            settings.get("stream_name"),
            "the name of the data stream the tasks consume",
        )
    })?;
    let consumer_name = name("consumer_name")?;
    let max_age_s = whole(settings, "max_age_seconds", 300, 60, 3_600)?;
    let tasks_per_shard = whole(settings, "tasks_per_shard", 1, 1, 100)?;
    Ok(Settings {
        stream_name,
        consumer_name,
        max_age_s,
        tasks_per_shard,
    })
}

/// A whole number within `[low, high]`, as a JSON number or (single-service
/// mode) text.
fn whole(
    settings: &Value,
    field: &str,
    default: u64,
    low: u64,
    high: u64,
) -> Result<u64, ProviderError> {
    let value = match settings.get(field) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(default),
        Some(value) => value,
    };
    let number = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    number.filter(|n| (low..=high).contains(n)).ok_or_else(|| {
        invalid_setting(
            NAME,
            field,
            Some(value),
            &format!("a whole number from {low} to {high}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stream_with_its_defaults() {
        let parsed = parse(&json!({"type": "kinesis", "stream_name": "clicks"})).expect("valid");
        assert_eq!(
            parsed,
            Settings {
                stream_name: "clicks".into(),
                consumer_name: None,
                max_age_s: 300,
                tasks_per_shard: 1,
            }
        );
        // Single-service mode passes every variable, set or not, as text.
        let from_env = parse(&json!({"type": "kinesis", "stream_name": "clicks",
            "consumer_name": "", "max_age_seconds": "120", "tasks_per_shard": "2"}))
        .expect("valid");
        assert_eq!((from_env.max_age_s, from_env.tasks_per_shard), (120, 2));
    }

    #[test]
    fn every_bad_setting_is_named() {
        for (settings, field) in [
            (json!({}), "stream_name"),
            (json!({"stream_name": "a/b"}), "stream_name"),
            (
                json!({"stream_name": "s", "consumer_name": "x y"}),
                "consumer_name",
            ),
            (
                json!({"stream_name": "s", "max_age_seconds": 5}),
                "max_age_seconds",
            ),
            (
                json!({"stream_name": "s", "tasks_per_shard": 0}),
                "tasks_per_shard",
            ),
            (
                json!({"stream_name": "s", "tasks_per_shard": "many"}),
                "tasks_per_shard",
            ),
            (json!({"stream_name": "s", "shard": 1}), "shard"),
        ] {
            match parse(&settings) {
                Err(ProviderError::InvalidSetting { field: named, .. }) => {
                    assert_eq!(named, field, "{settings}")
                }
                other => panic!("{settings}: {other:?}"),
            }
        }
    }
}
