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
//! The factory does no network I/O (it runs in `check-config`); resolution and
//! secrets wait for the first reading. Every failure is an [`AmqError`], each kind
//! naming the broker and queue, and each is a metrics error for the policy: `hold`,
//! never a scale-down. With `cloudwatch_fallback` (ActiveMQ), an unreachable broker
//! falls back to the `AWS/AmazonMQ` `QueueSize` metric, about a minute old.

pub mod activemq;
pub mod rabbitmq;
pub mod settings;
pub mod stomp;

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use fast_autoscaler_provider::{
    async_trait, inventory, ProviderContext, ProviderError, ProviderRegistration, QueueMetrics,
    QueueMetricsProvider,
};
use fast_autoscaler_provider_support::secrets;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

pub use settings::{AmqSettings, CredentialSource, Endpoint, Engine, Mode};

/// The registered name.
pub const NAME: &str = "amq";

inventory::submit! {
    ProviderRegistration {
        name: NAME,
        summary: "Amazon MQ: RabbitMQ (management API or AMQP) and ActiveMQ (statistics plugin over STOMP)",
        env_settings: settings::ENV_SETTINGS,
        factory,
    }
}

/// Everything that can go wrong reading a broker. Each message names the broker
/// and, where it applies, the queue.
#[derive(Debug, thiserror::Error)]
pub enum AmqError {
    #[error("queue {queue:?} does not exist on broker {broker}")]
    QueueNotFound { broker: String, queue: String },

    #[error("virtual host {vhost:?} does not exist on broker {broker}, or the user has no permission in it")]
    VhostNotFound { broker: String, vhost: String },

    #[error("broker {broker} rejected the credentials of user {user:?}: {detail}")]
    AuthenticationFailed {
        broker: String,
        user: String,
        detail: String,
    },

    #[error("user {user:?} may not read queue {queue:?} on broker {broker}: {detail}")]
    AccessDenied {
        broker: String,
        user: String,
        queue: String,
        detail: String,
    },

    #[error("broker {broker} is unreachable: {cause}")]
    Unreachable { broker: String, cause: String },

    #[error("broker {broker} timed out waiting for {waiting_for}")]
    Timeout {
        broker: String,
        waiting_for: &'static str,
    },

    #[error("TLS with broker {broker} failed (verification is on; set ca_bundle for a private CA): {cause}")]
    Tls { broker: String, cause: String },

    #[error("broker {broker} answered unexpectedly for queue {queue:?}: {detail}")]
    Protocol {
        broker: String,
        queue: String,
        detail: String,
    },

    #[error("could not read broker credentials from secret {arn}: {cause}")]
    Secret { arn: String, cause: String },

    #[error("could not resolve Amazon MQ broker {broker_id}: {cause}")]
    BrokerLookup { broker_id: String, cause: String },

    #[error("{primary}; the CloudWatch fallback failed too: {cause}")]
    Fallback {
        primary: Box<AmqError>,
        cause: String,
    },
}

impl AmqError {
    /// Errors where the broker could not be asked at all; only these fall back to
    /// CloudWatch. Wrong names and credentials are configuration errors to fix.
    fn broker_unavailable(&self) -> bool {
        matches!(
            self,
            AmqError::Unreachable { .. } | AmqError::Timeout { .. } | AmqError::Protocol { .. }
        )
    }
}

/// The error and every cause under it, on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// True when a TLS handshake or certificate check is somewhere in the error's causes.
pub(crate) fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return true;
            }
        }
        current = e.source();
    }
    // Some layers (hyper's connector) flatten the rustls error into text.
    let text = error_chain(error).to_ascii_lowercase();
    text.contains("certificate") || text.contains("handshake")
}

fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    // Unreadable system certificates are skipped: the bundle or the rest still verify,
    // and an empty store fails every handshake loudly rather than silently.
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The rustls configuration shared by HTTPS, AMQPS and STOMP+SSL: system roots plus
/// the optional CA bundle, certificate and host name always verified.
pub fn tls_config(ca_bundle: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, ProviderError> {
    let invalid = |value: String, expected: String| ProviderError::InvalidSetting {
        provider: NAME,
        field: "ca_bundle".into(),
        value,
        expected,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(native_roots().iter().cloned());
    if let Some(path) = ca_bundle {
        let shown = path.display().to_string();
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| invalid(shown.clone(), format!("a readable PEM file ({e})")))?
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(shown.clone(), format!("a PEM certificate bundle ({e})")))?;
        if certificates.is_empty() {
            return Err(invalid(
                shown,
                "a PEM file holding at least one CERTIFICATE".into(),
            ));
        }
        let (added, _ignored) = roots.add_parsable_certificates(certificates);
        if added == 0 {
            return Err(invalid(
                shown,
                "a PEM bundle of valid CA certificates".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("<default>".into(), e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Credentials of one reading.
#[derive(Clone)]
struct Credentials {
    username: String,
    password: SecretString,
}

/// The broker addresses to try, in order (an active/standby pair has two).
#[derive(Debug, Clone)]
struct Resolved {
    addresses: Vec<(String, u16)>,
    broker_name: Option<String>,
}

/// Reads one Amazon MQ queue.
pub struct AmqProvider {
    settings: AmqSettings,
    target: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    http: Option<reqwest::Client>,
    secrets: aws_sdk_secretsmanager::Client,
    mq: aws_sdk_mq::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    cached_credentials: Mutex<Option<Credentials>>,
    resolved: Mutex<Option<Resolved>>,
}

impl std::fmt::Debug for AmqProvider {
    // Written by hand so that nothing secret can ever reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqProvider")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

fn factory(
    settings: &Value,
    ctx: ProviderContext<'_>,
) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
    Ok(Arc::new(AmqProvider::new(
        AmqSettings::parse(settings)?,
        ctx,
    )?))
}

impl AmqProvider {
    /// Builds the provider. No network I/O: only the CA bundle file is read.
    pub fn new(settings: AmqSettings, ctx: ProviderContext<'_>) -> Result<Self, ProviderError> {
        let target = describe_target(&settings);
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
        let tls = if settings.tls {
            Some(tls_config(settings.ca_bundle.as_deref())?)
        } else {
            None
        };
        let http = if settings.mode == Mode::Management {
            let mut builder = reqwest::Client::builder()
                .connect_timeout(settings.connect_timeout)
                .timeout(settings.connect_timeout + settings.reply_timeout)
                .pool_max_idle_per_host(1)
                .pool_idle_timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("fast-autoscaler/", env!("CARGO_PKG_VERSION")));
            if let Some(config) = &tls {
                builder = builder
                    .tls_backend_preconfigured((**config).clone())
                    .https_only(true);
            }
            Some(builder.build().map_err(|e| ProviderError::InvalidSetting {
                provider: NAME,
                field: "tls".into(),
                value: settings.tls.to_string(),
                expected: format!("a usable HTTP client configuration ({e})"),
            })?)
        } else {
            None
        };
        Ok(Self {
            settings,
            target,
            tls,
            http,
            secrets: aws_sdk_secretsmanager::Client::new(ctx.aws),
            mq: aws_sdk_mq::Client::new(ctx.aws),
            cloudwatch: aws_sdk_cloudwatch::Client::new(ctx.aws),
            cached_credentials: Mutex::new(None),
            resolved: Mutex::new(None),
        })
    }

    /// The broker's addresses, resolving a broker id on first use.
    async fn resolve(&self) -> Result<Resolved, AmqError> {
        let mut cached = self.resolved.lock().await;
        if let Some(resolved) = cached.as_ref() {
            return Ok(resolved.clone());
        }
        let resolved = match &self.settings.endpoint {
            Endpoint::Address { host, port } => Resolved {
                addresses: vec![(host.clone(), *port)],
                broker_name: self.settings.broker_name.clone(),
            },
            Endpoint::BrokerId(id) => {
                let lookup = tokio::time::timeout(
                    self.settings.connect_timeout + self.settings.reply_timeout,
                    self.mq.describe_broker().broker_id(id).send(),
                );
                let answer = lookup
                    .await
                    .map_err(|_| AmqError::BrokerLookup {
                        broker_id: id.clone(),
                        cause: "DescribeBroker timed out".into(),
                    })?
                    .map_err(|e| AmqError::BrokerLookup {
                        broker_id: id.clone(),
                        cause: error_chain(&e),
                    })?;
                resolve_broker(id, &self.settings, &answer)?
            }
        };
        *cached = Some(resolved.clone());
        Ok(resolved)
    }

    async fn credentials(&self) -> Result<Credentials, AmqError> {
        let arn = match &self.settings.credentials {
            CredentialSource::Plain { username, password } => {
                return Ok(Credentials {
                    username: username.clone(),
                    password: password.clone(),
                })
            }
            CredentialSource::Secret { arn } => arn,
        };
        let mut cached = self.cached_credentials.lock().await;
        if let Some(credentials) = cached.as_ref() {
            return Ok(credentials.clone());
        }
        let secret_error = |cause: String| AmqError::Secret {
            arn: arn.clone(),
            cause,
        };
        let limit = self.settings.connect_timeout + self.settings.reply_timeout;
        let object = secrets::json_object(&self.secrets, arn, limit)
            .await
            .map_err(secret_error)?;
        let credentials = credentials_from(&object).map_err(secret_error)?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }

    fn broker_label(&self, host: &str, port: u16) -> String {
        match &self.settings.endpoint {
            Endpoint::BrokerId(id) => format!("{id} ({host}:{port})"),
            Endpoint::Address { .. } => format!("{host}:{port}"),
        }
    }

    /// One reading from the broker, trying each address of the broker in turn.
    async fn read(&self) -> Result<QueueMetrics, AmqError> {
        let resolved = self.resolve().await?;
        let credentials = self.credentials().await?;
        let mut last_error = None;
        for (host, port) in &resolved.addresses {
            let broker = self.broker_label(host, *port);
            let scheme = if self.settings.tls { "https" } else { "http" };
            let base_url = format!("{scheme}://{host}:{port}");
            let target = rabbitmq::Target {
                broker: &broker,
                base_url: &base_url,
                host,
                port: *port,
                vhost: &self.settings.vhost,
                queue: &self.settings.queue,
                username: &credentials.username,
                password: credentials.password.expose_secret(),
            };
            let reading = match (self.settings.mode, &self.http) {
                (Mode::Management, Some(http)) => rabbitmq::management_reading(http, &target).await,
                (Mode::Amqp, _) => {
                    rabbitmq::amqp_reading(
                        &target,
                        self.tls.clone(),
                        self.settings.connect_timeout,
                        self.settings.reply_timeout,
                    )
                    .await
                }
                _ => self.stomp_reading(&target).await,
            };
            match reading {
                // Only an address that could not be reached sends us to the next one.
                Err(e @ (AmqError::Unreachable { .. } | AmqError::Timeout { .. })) => {
                    last_error = Some(e)
                }
                other => return other,
            }
        }
        Err(last_error.unwrap_or_else(|| AmqError::BrokerLookup {
            broker_id: self.target.clone(),
            cause: "no broker address to try".into(),
        }))
    }

    /// A TCP connection to the broker's STOMP port, wrapped in TLS when configured,
    /// within the connect time-out.
    async fn stomp_stream(
        &self,
        target: &rabbitmq::Target<'_>,
    ) -> Result<Box<dyn BrokerStream>, AmqError> {
        let connect_deadline = tokio::time::Instant::now() + self.settings.connect_timeout;
        let timed_out = || AmqError::Timeout {
            broker: target.broker.to_string(),
            waiting_for: "the TCP/TLS connection",
        };
        let tcp = tokio::time::timeout_at(
            connect_deadline,
            TcpStream::connect((target.host, target.port)),
        )
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| AmqError::Unreachable {
            broker: target.broker.to_string(),
            cause: e.to_string(),
        })?;
        let _ = tcp.set_nodelay(true);
        let Some(config) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let tls_error = |cause: String| AmqError::Tls {
            broker: target.broker.to_string(),
            cause,
        };
        let name = ServerName::try_from(target.host.to_string()).map_err(|e| {
            tls_error(format!(
                "{} is not a valid TLS server name: {e}",
                target.host
            ))
        })?;
        let connector = tokio_rustls::TlsConnector::from(config.clone());
        let stream = tokio::time::timeout_at(connect_deadline, connector.connect(name, tcp))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| tls_error(error_chain(&e)))?;
        Ok(Box::new(stream))
    }

    /// One ActiveMQ reading: the statistics plugin over STOMP (see [`activemq`]).
    async fn stomp_reading(&self, target: &rabbitmq::Target<'_>) -> Result<QueueMetrics, AmqError> {
        let stream = self.stomp_stream(target).await?;
        let reply_deadline = tokio::time::Instant::now() + self.settings.reply_timeout;
        let statistics = activemq::read_statistics(
            stream,
            target.broker,
            target.host,
            target.queue,
            target.username,
            target.password,
            reply_deadline,
        )
        .await?;
        tracing::debug!(
            target = %self.target,
            size = statistics.size,
            inflight = statistics.inflight,
            enqueued = statistics.enqueued,
            dequeued = statistics.dequeued,
            "activemq statistics"
        );
        Ok(QueueMetrics {
            visible: statistics.visible(),
            in_flight: statistics.inflight,
            delayed: 0,
            dequeued_total: Some(statistics.dequeued),
            oldest_message: None,
            max_consumers: None,
        })
    }

    /// The `AWS/AmazonMQ` `QueueSize` metric: the newest one-minute datapoint of
    /// the last five minutes. QueueSize counts dispatched messages too, so it is
    /// reported as visible with no in-flight: the total the policy sees is the same.
    async fn cloudwatch_reading(&self) -> Result<QueueMetrics, String> {
        use aws_sdk_cloudwatch::primitives::DateTime;
        use aws_sdk_cloudwatch::types::ScanBy;
        use fast_autoscaler_provider_support::cloudwatch::{newest, MetricSpec};

        let broker_name = self
            .resolve()
            .await
            .ok()
            .and_then(|r| r.broker_name)
            .or_else(|| self.settings.broker_name.clone())
            .ok_or("the broker name is unknown (set broker_name)")?;
        let now = std::time::SystemTime::now();
        let query = MetricSpec {
            namespace: "AWS/AmazonMQ",
            metric_name: "QueueSize",
            dimensions: &[("Broker", &broker_name), ("Queue", &self.settings.queue)],
            period_s: 60,
            stat: "Maximum",
        }
        .query("queuesize", true);
        let answer = tokio::time::timeout(
            self.settings.connect_timeout + self.settings.reply_timeout,
            self.cloudwatch
                .get_metric_data()
                .metric_data_queries(query)
                .start_time(DateTime::from(now - Duration::from_secs(300)))
                .end_time(DateTime::from(now))
                .scan_by(ScanBy::TimestampDescending)
                .send(),
        )
        .await
        .map_err(|_| "GetMetricData timed out".to_string())?
        .map_err(|e| error_chain(&e))?;
        let result = answer
            .metric_data_results()
            .first()
            .ok_or("GetMetricData returned no result")?;
        let (value, timestamp) = newest(result).ok_or_else(|| {
            format!(
                "no QueueSize datapoint for Broker={broker_name}, Queue={} in the last 5 minutes",
                self.settings.queue
            )
        })?;
        if !value.is_finite() || !(0.0..=1e15).contains(&value) {
            return Err(format!("QueueSize = {value} is not a message count"));
        }
        let age = DateTime::from(now).secs() - timestamp;
        tracing::warn!(
            target = %self.target,
            queue_size = value,
            datapoint_age_s = age,
            "amq broker unavailable; using the CloudWatch QueueSize fallback, which lags by about a minute"
        );
        Ok(QueueMetrics {
            visible: value as u64,
            in_flight: 0,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
        })
    }
}

/// A connection to a broker, plain TCP or TLS, so one code path speaks STOMP over either.
trait BrokerStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> BrokerStream for S {}

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

/// Splits `scheme://host:port[/...]`.
fn split_endpoint(url: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((scheme, host, Some(port.parse().ok()?))),
        None => Some((scheme, authority, None)),
    }
}

/// Picks the addresses of the configured mode from a DescribeBroker answer.
fn resolve_broker(
    id: &str,
    settings: &AmqSettings,
    answer: &aws_sdk_mq::operation::describe_broker::DescribeBrokerOutput,
) -> Result<Resolved, AmqError> {
    let lookup_error = |cause: String| AmqError::BrokerLookup {
        broker_id: id.to_string(),
        cause,
    };
    let engine = answer
        .engine_type()
        .map(|e| e.as_str().to_ascii_lowercase())
        .unwrap_or_default();
    if engine != settings.engine.as_str() {
        return Err(lookup_error(format!(
            "the broker's engine is {engine:?} but the configured engine is {}",
            settings.engine.as_str()
        )));
    }
    let mut addresses = Vec::new();
    for instance in answer.broker_instances() {
        let candidates: Vec<&str> = match settings.mode {
            Mode::Management => instance.console_url().into_iter().collect(),
            _ => instance.endpoints().iter().map(String::as_str).collect(),
        };
        let wanted_scheme = match settings.mode {
            Mode::Management => "https",
            Mode::Amqp => "amqps",
            Mode::Stomp => "stomp+ssl",
        };
        for url in candidates {
            if let Some((scheme, host, port)) = split_endpoint(url) {
                if scheme == wanted_scheme {
                    let port = port.unwrap_or_else(|| settings.mode.default_port(true));
                    addresses.push((host.to_string(), port));
                }
            }
        }
    }
    if addresses.is_empty() {
        return Err(lookup_error(format!(
            "no {} endpoint in DescribeBroker's answer (is the broker running?)",
            settings.mode.as_str()
        )));
    }
    Ok(Resolved {
        addresses,
        broker_name: answer
            .broker_name()
            .map(str::to_string)
            .or_else(|| settings.broker_name.clone()),
    })
}

fn describe_target(settings: &AmqSettings) -> String {
    let broker = match &settings.endpoint {
        Endpoint::Address { host, port } => format!("{host}:{port}"),
        Endpoint::BrokerId(id) => id.clone(),
    };
    match settings.engine {
        Engine::RabbitMq => format!(
            "rabbitmq://{broker}/{}/{}",
            rabbitmq::encode_segment(&settings.vhost),
            settings.queue
        ),
        Engine::ActiveMq => format!("activemq://{broker}/{}", settings.queue),
    }
}

#[async_trait]
impl QueueMetricsProvider for AmqProvider {
    fn provider_name(&self) -> &'static str {
        NAME
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn describe(&self) -> Value {
        let s = &self.settings;
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

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let primary = match self.read().await {
            Ok(metrics) => return Ok(metrics),
            Err(error) => error,
        };
        if matches!(primary, AmqError::AuthenticationFailed { .. }) {
            // The secret may have been rotated: read it again on the next tick.
            self.cached_credentials.lock().await.take();
        }
        let error = if self.settings.cloudwatch_fallback && primary.broker_unavailable() {
            match self.cloudwatch_reading().await {
                Ok(metrics) => return Ok(metrics),
                Err(cause) => AmqError::Fallback {
                    primary: Box::new(primary),
                    cause,
                },
            }
        } else {
            primary
        };
        Err(ProviderError::Unavailable {
            provider: NAME,
            target: self.target.clone(),
            message: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_mq::operation::describe_broker::DescribeBrokerOutput;
    use aws_sdk_mq::types::{BrokerInstance, EngineType};

    fn settings(engine: &str, mode: &str) -> AmqSettings {
        AmqSettings::parse(&json!({
            "engine": engine, "mode": mode, "queue_name": "jobs",
            "broker_id": "b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9",
            "secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mq-AbCdEf"
        }))
        .unwrap()
    }

    fn active_standby(engine: EngineType) -> DescribeBrokerOutput {
        let instance = |n: u8| {
            BrokerInstance::builder()
                .console_url(format!("https://b-1-{n}.mq.eu-west-1.amazonaws.com"))
                .endpoints(format!("amqps://b-1-{n}.mq.eu-west-1.amazonaws.com:5671"))
                .endpoints(format!(
                    "stomp+ssl://b-1-{n}.mq.eu-west-1.amazonaws.com:61614"
                ))
                .endpoints(format!("ssl://b-1-{n}.mq.eu-west-1.amazonaws.com:61617"))
                .build()
        };
        DescribeBrokerOutput::builder()
            .broker_name("orders")
            .engine_type(engine)
            .broker_instances(instance(1))
            .broker_instances(instance(2))
            .build()
    }

    #[test]
    fn resolves_each_mode_to_its_endpoints_in_instance_order() {
        let id = "b-1";
        let cases = [
            ("activemq", "stomp", EngineType::Activemq, 61614),
            ("rabbitmq", "amqp", EngineType::Rabbitmq, 5671),
            ("rabbitmq", "management", EngineType::Rabbitmq, 443),
        ];
        for (engine, mode, engine_type, port) in cases {
            let resolved =
                resolve_broker(id, &settings(engine, mode), &active_standby(engine_type)).unwrap();
            assert_eq!(
                resolved.addresses,
                vec![
                    ("b-1-1.mq.eu-west-1.amazonaws.com".to_string(), port),
                    ("b-1-2.mq.eu-west-1.amazonaws.com".to_string(), port)
                ],
                "{engine} {mode}"
            );
            assert_eq!(resolved.broker_name.as_deref(), Some("orders"));
        }
    }

    #[test]
    fn an_engine_mismatch_is_named() {
        let err = resolve_broker(
            "b-1",
            &settings("rabbitmq", "management"),
            &active_standby(EngineType::Activemq),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("\"activemq\"") && err.contains("rabbitmq"),
            "{err}"
        );
    }

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

    #[test]
    fn a_missing_ca_bundle_is_a_setting_error() {
        let err = tls_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(
            matches!(err, ProviderError::InvalidSetting { ref field, .. } if field == "ca_bundle")
        );
    }
}
