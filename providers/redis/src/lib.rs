//! Redis provider (`QUEUE_TYPE=redis`): a list used as a queue, or a stream's
//! consumer group.
//!
//! - A list (`key`): its length, `LLEN`, is the visible backlog. A list has no
//!   notion of messages in flight. A key that is not there is not read as an
//!   empty queue until it has held a list once (see [`list`]).
//! - A stream's consumer group (`stream`, `group`): `XINFO GROUPS` gives the
//!   group's lag (entries not yet delivered to it, Redis 7 or later), the
//!   visible backlog, and its pending entries (delivered, not acknowledged), in
//!   flight. A lag Redis cannot tell is an error, never a zero.
//!
//! One round trip per reading, on a connection opened on the first reading and
//! kept; a failed command drops it, and the next reading connects again. TLS
//! (`rediss://`) is always verified, against `ca_bundle` for a private CA. The
//! password (and an ACL user name) come from a Secrets Manager secret, read when
//! connecting and never logged; a URL with credentials is rejected.

mod groups;
pub mod list;
mod settings;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use fast_autoscaler_provider::{
    async_trait, inventory, ProviderConfig, ProviderContext, ProviderError, ProviderRegistration,
    QueueMetrics, QueueMetricsProvider, MAX_PLAUSIBLE_COUNT,
};
use fast_autoscaler_provider_support::secrets;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use list::ListAnswer;
use settings::{Settings, Source};

/// The registered name.
pub const NAME: &str = "redis";

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "Redis: a list's length, or a stream consumer group's lag and pending entries",
        env_settings: &[
            ("url", "REDIS_URL"),
            ("key", "REDIS_KEY"),
            ("stream", "REDIS_STREAM"),
            ("group", "REDIS_GROUP"),
            ("db", "REDIS_DB"),
            ("secret_arn", "REDIS_SECRET_ARN"),
            ("ca_bundle", "REDIS_CA_BUNDLE"),
            ("missing_key_is_empty", "REDIS_MISSING_KEY_IS_EMPTY"),
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
        let mut described = json!({
            "type": NAME, "url": s.url, "db": s.db, "secret_arn": s.secret_arn, "ca_bundle": s.ca_bundle,
            "connect_timeout_ms": s.connect_timeout.as_millis() as u64,
            "response_timeout_ms": s.response_timeout.as_millis() as u64,
        });
        match &s.source {
            Source::List {
                key,
                missing_key_is_empty,
            } => {
                described["key"] = json!(key);
                described["missing_key_is_empty"] = json!(missing_key_is_empty);
            }
            Source::Stream { stream, group } => {
                described["stream"] = json!(stream);
                described["group"] = json!(group);
            }
        }
        described
    }

    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
        Ok(Arc::new(RedisProvider {
            settings: self.clone(),
            secrets: aws_sdk_secretsmanager::Client::new(ctx.aws),
            connection: Mutex::new(None),
            seen_key: AtomicBool::new(false),
        }))
    }
}

/// Reads one list's or one consumer group's backlog.
pub struct RedisProvider {
    settings: Settings,
    secrets: aws_sdk_secretsmanager::Client,
    connection: Mutex<Option<MultiplexedConnection>>,
    /// A list's key has held a list since this provider was built: its absence
    /// is now an emptied queue, not a wrong key.
    seen_key: AtomicBool,
}

// Written by hand so that nothing of a connection or a secret reaches a log.
impl std::fmt::Debug for RedisProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProvider")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A secret's credentials.
struct Credentials {
    username: Option<String>,
    password: SecretString,
}

impl RedisProvider {
    fn error(&self, message: String) -> ProviderError {
        ProviderError::Unavailable {
            provider: NAME,
            target: self.target(),
            message,
        }
    }

    /// The secret's credentials; its text never appears in an error.
    async fn credentials(&self) -> Result<Option<Credentials>, ProviderError> {
        let Some(arn) = &self.settings.secret_arn else {
            return Ok(None);
        };
        let failed = |cause: String| {
            self.error(format!(
                "could not read credentials from secret {arn}: {cause}"
            ))
        };
        let limit = self.settings.connect_timeout + self.settings.response_timeout;
        let secret = secrets::json_object(&self.secrets, arn, limit)
            .await
            .map_err(failed)?;
        let field = |name: &str| secrets::text(&secret, name);
        let password = field("password")
            .ok_or_else(|| failed("the secret is not a JSON object with a string field password (and optionally username)".into()))?;
        Ok(Some(Credentials {
            username: field("username").map(String::from),
            password: SecretString::from(password.to_string()),
        }))
    }

    async fn connect(&self) -> Result<MultiplexedConnection, ProviderError> {
        let mut info = self
            .settings
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| self.error(format!("the URL: {e}")))?;
        let mut redis = info.redis_settings().clone().set_db(self.settings.db);
        if let Some(credentials) = self.credentials().await? {
            if let Some(username) = &credentials.username {
                redis = redis.set_username(username);
            }
            redis = redis.set_password(credentials.password.expose_secret());
        }
        info = info.set_redis_settings(redis);
        let client = match &self.settings.ca_bundle {
            None => redis::Client::open(info),
            Some(path) => {
                let root_cert = std::fs::read(path)
                    .map_err(|e| self.error(format!("ca_bundle {}: {e}", path.display())))?;
                redis::Client::build_with_tls(
                    info,
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(root_cert),
                    },
                )
            }
        }
        .map_err(|e| self.error(format!("the connection settings: {e}")))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.settings.connect_timeout))
            .set_response_timeout(Some(self.settings.response_timeout));
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| match (&self.settings.secret_arn, e.kind()) {
                (Some(arn), redis::ErrorKind::AuthenticationFailed) => self.error(format!(
                    "cannot connect: {e} (with the password of secret {arn})"
                )),
                _ => self.error(format!("cannot connect: {e}")),
            })
    }

    /// The commands of one reading, on the kept connection; a failure drops it.
    async fn query(&self, commands: &redis::Pipeline) -> Result<Vec<redis::Value>, ProviderError> {
        let mut kept = self.connection.lock().await;
        let mut connection = match kept.as_ref() {
            Some(connection) => connection.clone(),
            None => self.connect().await?,
        };
        match commands
            .query_async::<Vec<redis::Value>>(&mut connection)
            .await
        {
            Ok(answer) => {
                *kept = Some(connection);
                Ok(answer)
            }
            Err(e) => {
                *kept = None;
                Err(self.error(e.to_string()))
            }
        }
    }

    /// A list's length; a missing key is 0 only once the key has held a list
    /// since the worker started, or with `missing_key_is_empty` (see [`list`]).
    async fn list_length(
        &self,
        key: &str,
        missing_key_is_empty: bool,
    ) -> Result<u64, ProviderError> {
        let answers = self
            .query(
                redis::pipe()
                    .ignore_errors()
                    .cmd("TYPE")
                    .arg(key)
                    .cmd("LLEN")
                    .arg(key),
            )
            .await?;
        let bad = |value: String| ProviderError::BadResponse {
            provider: NAME,
            target: self.target(),
            field: "TYPE/LLEN".into(),
            value,
        };
        match list::answer(&answers).map_err(bad)? {
            ListAnswer::Length(n) if n >= 0 => {
                self.seen_key.store(true, Ordering::Relaxed);
                self.count("LLEN", n as u64)
            }
            ListAnswer::Length(n) => Err(bad(n.to_string())),
            ListAnswer::Missing if missing_key_is_empty || self.seen_key.load(Ordering::Relaxed) => Ok(0),
            ListAnswer::Missing => Err(self.error(list::missing(key))),
            ListAnswer::OtherType(kind) => Err(self.error(format!(
                "key {key} holds a {kind}, not a list; key names a list used as a queue (a stream's consumer group is stream and group)"
            ))),
        }
    }

    fn count(&self, field: &str, value: u64) -> Result<u64, ProviderError> {
        if value > MAX_PLAUSIBLE_COUNT {
            return Err(ProviderError::BadResponse {
                provider: NAME,
                target: self.target(),
                field: field.into(),
                value: value.to_string(),
            });
        }
        Ok(value)
    }
}

#[async_trait]
impl QueueMetricsProvider for RedisProvider {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn target(&self) -> String {
        let s = &self.settings;
        match &s.source {
            Source::List { key, .. } => format!("{} db {} list {key}", s.url, s.db),
            Source::Stream { stream, group } => {
                format!("{} db {} stream {stream} group {group}", s.url, s.db)
            }
        }
    }

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let (visible, in_flight) = match &self.settings.source {
            Source::List {
                key,
                missing_key_is_empty,
            } => (self.list_length(key, *missing_key_is_empty).await?, 0),
            Source::Stream { stream, group } => {
                let answers = self
                    .query(redis::pipe().cmd("XINFO").arg("GROUPS").arg(stream))
                    .await?;
                let answer = answers.first().unwrap_or(&redis::Value::Nil);
                let (lag, pending) =
                    groups::group_backlog(answer, group).map_err(|e| self.error(e))?;
                (self.count("lag", lag)?, self.count("pending", pending)?)
            }
        };
        Ok(QueueMetrics {
            visible,
            in_flight,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        })
    }
}
