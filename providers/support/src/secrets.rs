//! A Secrets Manager secret holding a JSON object (broker credentials), read
//! within a time limit. Errors never contain the secret's text.

use std::time::Duration;

use fast_autoscaler_common::aws_error::one_line;
use serde_json::{Map, Value};

/// The secret's JSON object, or why it could not be read.
pub async fn json_object(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    limit: Duration,
) -> Result<Map<String, Value>, String> {
    let answer = tokio::time::timeout(limit, client.get_secret_value().secret_id(arn).send())
        .await
        .map_err(|_| "GetSecretValue timed out".to_string())?
        .map_err(|e| format!("GetSecretValue: {}", one_line(&e)))?;
    match answer
        .secret_string()
        .and_then(|text| serde_json::from_str(text).ok())
    {
        Some(Value::Object(object)) => Ok(object),
        _ => Err("the secret is not a JSON object".into()),
    }
}

/// A non-empty string field of a secret's object.
pub fn text<'a>(object: &'a Map<String, Value>, field: &str) -> Option<&'a str> {
    object
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
