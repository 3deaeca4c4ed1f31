//! Helpers for a target kind's parser: a required name, unknown keys.

use serde_json::Value;

use crate::TargetError;

/// The error for a bad setting: its field, the value given (`<missing>` when
/// none) and what would be valid.
pub fn invalid_setting(
    kind: &'static str,
    field: &str,
    value: Option<&Value>,
    expected: &str,
) -> TargetError {
    TargetError::InvalidSetting {
        kind,
        field: field.to_string(),
        value: value.map_or_else(|| "<missing>".to_string(), Value::to_string),
        expected: expected.to_string(),
    }
}

/// A required name: a non-empty string that `valid` accepts, trimmed.
pub fn required_name(
    kind: &'static str,
    settings: &Value,
    field: &str,
    valid: impl Fn(&str) -> bool,
    expected: &str,
) -> Result<String, TargetError> {
    let value = settings.get(field);
    match value.and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() && valid(name) => Ok(name.to_string()),
        _ => Err(invalid_setting(kind, field, value, expected)),
    }
}

/// Rejects settings keys a target kind does not know, listing the ones it
/// does. A misspelt key would otherwise be silently ignored.
pub fn reject_unknown_keys(
    kind: &'static str,
    settings: &Value,
    known: &[&str],
) -> Result<(), TargetError> {
    let Some(object) = settings.as_object() else {
        return Err(invalid_setting(
            kind,
            "target",
            Some(settings),
            "a JSON object of target settings",
        ));
    };
    for (key, value) in object {
        if key != "type" && !known.contains(&key.as_str()) {
            return Err(invalid_setting(
                kind,
                key,
                Some(value),
                &format!(
                    "no such setting; valid settings: type, {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}
