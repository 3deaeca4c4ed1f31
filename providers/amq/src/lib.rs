//! Amazon MQ provider (`QUEUE_TYPE=amq`): queue depth from RabbitMQ or ActiveMQ
//! brokers.
//!
//! # Design
//!
//! One crate, two engines, chosen by the `engine` setting:
//!
//! - **RabbitMQ**, `mode = management` (default): `GET /api/queues/{vhost}/{queue}`
//!   on the management API (port 443 on Amazon MQ). visible = `messages_ready`,
//!   in-flight = `messages_unacknowledged`. The counters are refreshed by the
//!   broker every 5 s by default, so a reading may be that late.
//! - **RabbitMQ**, `mode = amqp`: a passive `queue.declare` over AMQPS (5671) gives the
//!   ready count as of now, but no unacknowledged count: in-flight reads as 0.
//! - **ActiveMQ** (`mode = stomp`): the broker's statistics plugin over STOMP+SSL
//!   (61614); see [`activemq`]. visible = size − inflightCount,
//!   in-flight = inflightCount. Nothing is ever sent to the monitored queue.
//!
//! Connections are short-lived: one per reading, closed after it (the management
//! API's HTTP client keeps at most one idle connection per broker), so thousands of
//! ticks leave nothing open on the broker.
//!
//! The endpoint is a `host` (and `port`), or an Amazon MQ `broker_id` resolved once
//! through DescribeBroker. Credentials come from a Secrets Manager secret
//! (`secret_arn`, a JSON object with `username` and `password`), read on the first
//! reading and read again after the broker rejects them (rotation). Plain
//! `username`/`password` settings are for local brokers only and log a warning.
//!
//! TLS is on and verified against the system roots by default; `ca_bundle` adds a
//! PEM bundle. Plain TCP needs `tls = false` and logs a warning.
//!
//! Parsing the settings does no network I/O (it runs in `check-config`), and
//! neither does building the provider; resolution and secrets wait for the first
//! reading. Every failure is an [`AmqError`], each kind
//! naming the broker and queue, and each is a metrics error for the policy: `hold`,
//! never a scale-down. With `cloudwatch_fallback` (ActiveMQ), an unreachable broker
//! falls back to the `AWS/AmazonMQ` `QueueSize` metric, about a minute old.

//!
//! # Layout
//!
//! - [`settings`]: the settings, validated; this file turns them into a provider;
//! - `provider`: the provider, one reading from the configured engine and mode;
//! - [`rabbitmq`], [`activemq`] and [`stomp`]: the engines and the STOMP codec;
//! - `resolution`: a `broker_id` to its addresses, through DescribeBroker;
//! - `credentials`: the broker's credentials from a Secrets Manager secret;
//! - [`tls`]: the one verified TLS configuration of every mode;
//! - `cloudwatch_fallback`: the `QueueSize` metric when the broker is unreachable;
//! - [`error`]: what can go wrong, each naming the broker and the queue.

pub mod activemq;
mod cloudwatch_fallback;
mod credentials;
pub mod error;
mod provider;
pub mod rabbitmq;
mod resolution;
pub mod settings;
pub mod stomp;
pub mod tls;

use std::sync::Arc;

use fast_autoscaler_provider::{
    inventory, ArrivalsMetric, ProviderConfig, ProviderContext, ProviderError,
    ProviderRegistration, QueueMetricsProvider,
};
use serde_json::{json, Value};

pub use error::AmqError;
pub use provider::AmqProvider;
pub use settings::{AmqSettings, CredentialSource, Endpoint, Engine, Mode};
pub use tls::tls_config;

/// The registered name.
pub const NAME: &str = "amq";

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "Amazon MQ: RabbitMQ (management API or AMQP) and ActiveMQ (statistics plugin over STOMP)",
        env_settings: settings::ENV_SETTINGS,
        parse,
    }
}

/// The settings, checked: a CA bundle that cannot be read or holds no
/// certificate is named here, before anything is built, and settings that are
/// only for local brokers are warned about where `check-config` shows them.
fn parse(settings: &Value) -> Result<Arc<dyn ProviderConfig>, ProviderError> {
    let settings = AmqSettings::parse(settings)?;
    if settings.tls {
        tls_config(settings.ca_bundle.as_deref())?;
    }
    warn_about(&settings);
    Ok(Arc::new(settings))
}

/// Warnings about settings that work but should not be used in production.
fn warn_about(settings: &AmqSettings) {
    let target = provider::describe_target(settings);
    if let CredentialSource::Plain { username, .. } = &settings.credentials {
        tracing::warn!(
            target = %target,
            user = %username,
            "amq credentials come from plain settings; use secret_arn outside local testing"
        );
    }
    if !settings.tls {
        tracing::warn!(
            target = %target,
            "amq TLS is off (tls = false): credentials and counts travel unencrypted"
        );
    }
    if settings.mode == Mode::Amqp {
        tracing::info!(
            target = %target,
            "amq amqp mode reads ready messages only; in-flight (unacknowledged) reads as 0"
        );
    }
}

impl ProviderConfig for AmqSettings {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn describe(&self) -> Value {
        let s = self;
        let mut out = json!({
            "type": NAME,
            "engine": s.engine.as_str(),
            "mode": s.mode.as_str(),
            "queue_name": s.queue,
            "tls": s.tls,
            "connect_timeout_ms": s.connect_timeout.as_millis() as u64,
            "reply_timeout_ms": s.reply_timeout.as_millis() as u64,
            "cloudwatch_fallback": s.cloudwatch_fallback,
        });
        if s.engine == Engine::RabbitMq {
            out["vhost"] = json!(s.vhost);
        }
        match &s.endpoint {
            Endpoint::Address { host, port } => {
                out["host"] = json!(host);
                out["port"] = json!(port);
            }
            Endpoint::BrokerId(id) => out["broker_id"] = json!(id),
        }
        match &s.credentials {
            CredentialSource::Secret { arn } => out["secret_arn"] = json!(arn),
            CredentialSource::Plain { username, .. } => {
                out["username"] = json!(username);
                out["password"] = json!("***");
            }
        }
        if let Some(path) = &s.ca_bundle {
            out["ca_bundle"] = json!(path.display().to_string());
        }
        if let Some(name) = &s.broker_name {
            out["broker_name"] = json!(name);
        }
        out
    }

    /// ActiveMQ's `EnqueueCount` of the queue, the messages sent to it each
    /// minute, when `broker_name` names the broker (CloudWatch's dimension).
    /// Amazon MQ for RabbitMQ publishes no per-queue count of messages sent.
    fn arrivals_metric(&self) -> Option<ArrivalsMetric> {
        let broker = self.broker_name.as_deref()?;
        (self.engine == Engine::ActiveMq).then(|| {
            ArrivalsMetric::new(
                "AWS/AmazonMQ",
                "EnqueueCount",
                &[("Broker", broker), ("Queue", &self.queue)],
            )
        })
    }

    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
        Ok(Arc::new(AmqProvider::new(self.clone(), ctx)?))
    }
}
