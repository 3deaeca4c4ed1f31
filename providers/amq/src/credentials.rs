//! The broker's credentials: plain settings (local brokers only), or a Secrets
//! Manager secret read on the first reading and kept until the broker rejects
//! them (a rotation).

use fast_autoscaler_provider_support::secrets;
use secrecy::SecretString;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::error::AmqError;
use crate::settings::{AmqSettings, CredentialSource};

/// Credentials of one reading.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub username: String,
    pub password: SecretString,
}

/// The credentials of one provider, a secret's kept after its first reading.
pub(crate) struct CredentialCache {
    secrets: aws_sdk_secretsmanager::Client,
    cached: Mutex<Option<Credentials>>,
}

impl CredentialCache {
    pub fn new(secrets: aws_sdk_secretsmanager::Client) -> Self {
        CredentialCache {
            secrets,
            cached: Mutex::new(None),
        }
    }

    /// Forgets a secret's credentials, so the next reading reads it again (the
    /// broker rejected them: the secret may have been rotated).
    pub async fn forget(&self) {
        self.cached.lock().await.take();
    }

    /// The credentials `settings` name: plain ones, or the secret's.
    pub async fn get(&self, settings: &AmqSettings) -> Result<Credentials, AmqError> {
        let arn = match &settings.credentials {
            CredentialSource::Plain { username, password } => {
                return Ok(Credentials {
                    username: username.clone(),
                    password: password.clone(),
                })
            }
            CredentialSource::Secret { arn } => arn,
        };
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref() {
            return Ok(credentials.clone());
        }
        let secret_error = |cause: String| AmqError::Secret {
            arn: arn.clone(),
            cause,
        };
        let limit = settings.connect_timeout + settings.reply_timeout;
        let object = secrets::json_object(&self.secrets, arn, limit)
            .await
            .map_err(secret_error)?;
        let credentials = credentials_from(&object).map_err(secret_error)?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

/// Parses a credentials secret. The secret's text never appears in the error.
fn credentials_from(secret: &Map<String, Value>) -> Result<Credentials, String> {
    match (
        secrets::text(secret, "username"),
        secret.get("password").and_then(Value::as_str),
    ) {
        (Some(username), Some(password)) => Ok(Credentials {
            username: username.to_string(),
            password: SecretString::from(password.to_string()),
        }),
        _ => Err("the secret is not a JSON object with string fields username and password".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_never_echo_their_text() {
        let object = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(credentials_from(&object(json!({"username": "u", "password": "p"}))).is_ok());
        for bad in [
            json!({"username": "u", "password": 7}),
            json!({"user": "u", "password": "hunter2"}),
            json!({"username": "", "password": "hunter2"}),
        ] {
            let err = credentials_from(&object(bad)).err().unwrap();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
