//! NATS JetStream provider (`QUEUE_TYPE=nats`): a durable consumer's backlog.
//!
//! A JetStream consumer reports what it still has to deliver (`num_pending`)
//! and what it delivered and is waiting for acknowledgements of
//! (`num_ack_pending`): the visible and in-flight messages of a queue. One
//! `CONSUMER.INFO` request per reading, on a connection opened on the first
//! reading and kept (the client reconnects by itself); a failed connection is
//! tried again on the next reading.
//!
//! Settings:
//! `{"type": "nats", "url": "tls://nats.internal:4222", "stream": "ORDERS", "consumer": "workers",
//!   "secret_arn": "arn:aws:secretsmanager:…", "ca_bundle": "/opt/ca.pem"}`,
//! or `NATS_URL`, `NATS_STREAM`, `NATS_CONSUMER`, `NATS_SECRET_ARN`,
//! `NATS_CA_BUNDLE` in single-service mode. Credentials never travel in the URL
//! or the environment: the secret holds `{"username", "password"}` or `{"token"}`,
//! read when connecting, and never logged.

mod settings;

use std::sync::Arc;

use fast_autoscaler_provider::{
    async_trait, inventory, ProviderConfig, ProviderContext, ProviderError, ProviderRegistration,
    QueueMetrics, QueueMetricsProvider,
};
use fast_autoscaler_provider_support::secrets;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use settings::Settings;

/// The registered name.
pub const NAME: &str = "nats";

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "NATS JetStream: a durable consumer's pending and ack-pending counts",
        env_settings: &[
            ("url", "NATS_URL"),
            ("stream", "NATS_STREAM"),
            ("consumer", "NATS_CONSUMER"),
            ("secret_arn", "NATS_SECRET_ARN"),
            ("ca_bundle", "NATS_CA_BUNDLE"),
        ],
        parse,
    }
}

fn parse(settings: &Value) -> Result<Arc<dyn ProviderConfig>, ProviderError> {
    Ok(Arc::new(settings::parse(settings)?))
}

impl ProviderConfig for Settings {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> Value {
        let s = self;
        json!({
            "type": NAME, "url": s.url, "stream": s.stream, "consumer": s.consumer,
            "secret_arn": s.secret_arn, "ca_bundle": s.ca_bundle,
            "connect_timeout_ms": s.connect_timeout.as_millis() as u64,
            "request_timeout_ms": s.request_timeout.as_millis() as u64,
        })
    }

    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
        Ok(Arc::new(NatsProvider {
            settings: self.clone(),
            secrets: aws_sdk_secretsmanager::Client::new(ctx.aws),
            client: Mutex::new(None),
        }))
    }
}

/// How the provider proves who it is.
enum Credentials {
    None,
    Password {
        username: String,
        password: SecretString,
    },
    Token(SecretString),
}

/// Reads one JetStream consumer's backlog.
pub struct NatsProvider {
    settings: Settings,
    secrets: aws_sdk_secretsmanager::Client,
    client: Mutex<Option<async_nats::Client>>,
}

// Written by hand so that nothing of a connection or a secret reaches a log.
impl std::fmt::Debug for NatsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsProvider")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl NatsProvider {
    fn error(&self, message: String) -> ProviderError {
        ProviderError::Unavailable {
            provider: NAME,
            target: self.target(),
            message,
        }
    }

    /// The secret's credentials; its text never appears in an error.
    async fn credentials(&self) -> Result<Credentials, ProviderError> {
        let Some(arn) = &self.settings.secret_arn else {
            return Ok(Credentials::None);
        };
        let failed = |cause: String| {
            self.error(format!(
                "could not read credentials from secret {arn}: {cause}"
            ))
        };
        let limit = self.settings.connect_timeout + self.settings.request_timeout;
        let secret = secrets::json_object(&self.secrets, arn, limit)
            .await
            .map_err(failed)?;
        let field = |name: &str| secrets::text(&secret, name);
        let expected =
            "the secret is not a JSON object with string fields username and password, or token";
        match (field("username"), field("password"), field("token")) {
            (Some(username), Some(password), None) => Ok(Credentials::Password {
                username: username.to_string(),
                password: SecretString::from(password.to_string()),
            }),
            (None, None, Some(token)) => {
                Ok(Credentials::Token(SecretString::from(token.to_string())))
            }
            _ => Err(failed(expected.into())),
        }
    }

    /// The kept connection, or a new one.
    async fn client(&self) -> Result<async_nats::Client, ProviderError> {
        let mut kept = self.client.lock().await;
        if let Some(client) = kept.as_ref() {
            return Ok(client.clone());
        }
        let mut options = async_nats::ConnectOptions::new()
            .name("fast-autoscaler")
            .connection_timeout(self.settings.connect_timeout)
            .request_timeout(Some(self.settings.request_timeout))
            .require_tls(self.settings.tls);
        if let Some(ca) = &self.settings.ca_bundle {
            options = options.add_root_certificates(ca.clone());
        }
        options = match self.credentials().await? {
            Credentials::None => options,
            Credentials::Password { username, password } => {
                options.user_and_password(username, password.expose_secret().to_string())
            }
            Credentials::Token(token) => options.token(token.expose_secret().to_string()),
        };
        let address = self.settings.url.replacen("tls://", "nats://", 1);
        let client = tokio::time::timeout(self.settings.connect_timeout, options.connect(address))
            .await
            .map_err(|_| {
                self.error(format!(
                    "connecting timed out after {} ms",
                    self.settings.connect_timeout.as_millis()
                ))
            })?
            .map_err(|e| {
                let rejected = matches!(
                    e.kind(),
                    async_nats::ConnectErrorKind::AuthorizationViolation
                        | async_nats::ConnectErrorKind::Authentication
                );
                match (&self.settings.secret_arn, rejected) {
                    (Some(arn), true) => self.error(format!(
                        "cannot connect: {e} (with the credentials of secret {arn})"
                    )),
                    _ => self.error(format!("cannot connect: {e}")),
                }
            })?;
        *kept = Some(client.clone());
        Ok(client)
    }
}

#[async_trait]
impl QueueMetricsProvider for NatsProvider {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn target(&self) -> String {
        format!(
            "{} stream {} consumer {}",
            self.settings.url, self.settings.stream, self.settings.consumer
        )
    }

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let jetstream = async_nats::jetstream::new(self.client().await?);
        let stream = jetstream
            .get_stream_no_info(&self.settings.stream)
            .await
            .map_err(|e| self.error(format!("stream {}: {e}", self.settings.stream)))?;
        let info = stream
            .consumer_info(&self.settings.consumer)
            .await
            .map_err(|e| self.error(format!("consumer {}: {e}", self.settings.consumer)))?;
        Ok(QueueMetrics {
            visible: info.num_pending,
            in_flight: info.num_ack_pending as u64,
            delayed: 0,
            // The consumer's sequence counts redeliveries too: not a consumption counter.
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        })
    }
}
