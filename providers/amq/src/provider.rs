//! The provider: one reading of the configured queue, from the configured engine
//! and mode, trying each address of the broker in turn, and the CloudWatch
//! fallback when none could be asked.

use std::sync::Arc;
use std::time::Duration;

use fast_autoscaler_provider::{
    async_trait, ProviderContext, ProviderError, QueueMetrics, QueueMetricsProvider,
};
use rustls::pki_types::ServerName;
use secrecy::ExposeSecret;
use tokio::net::TcpStream;

use crate::cloudwatch_fallback::QueueSizeOf;
use crate::credentials::CredentialCache;
use fast_autoscaler_common::aws_error::causes;

use crate::error::AmqError;
use crate::resolution::{broker_label, Resolver};
use crate::settings::{AmqSettings, CredentialSource, Endpoint, Engine, Mode};
use crate::tls::tls_config;
use crate::{activemq, rabbitmq, NAME};

/// Reads one Amazon MQ queue.
pub struct AmqProvider {
    settings: AmqSettings,
    target: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    http: Option<reqwest::Client>,
    credentials: CredentialCache,
    resolver: Resolver,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

impl std::fmt::Debug for AmqProvider {
    // Written by hand so that nothing secret can ever reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqProvider")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl AmqProvider {
    /// Builds the provider. No network I/O: only the CA bundle file is read.
    pub fn new(settings: AmqSettings, ctx: ProviderContext<'_>) -> Result<Self, ProviderError> {
        let target = describe_target(&settings);
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
            credentials: CredentialCache::new(aws_sdk_secretsmanager::Client::new(ctx.aws)),
            resolver: Resolver::new(aws_sdk_mq::Client::new(ctx.aws)),
            cloudwatch: aws_sdk_cloudwatch::Client::new(ctx.aws),
        })
    }

    /// One reading from the broker, trying each address of the broker in turn.
    async fn read(&self) -> Result<QueueMetrics, AmqError> {
        let resolved = self.resolver.resolve(&self.settings).await?;
        let credentials = self.credentials.get(&self.settings).await?;
        let mut last_error = None;
        for (host, port) in &resolved.addresses {
            let broker = broker_label(&self.settings, host, *port);
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

    /// The CloudWatch fallback's reading, for the broker's name as DescribeBroker
    /// gave it or as configured.
    async fn queue_size(&self) -> Result<QueueMetrics, String> {
        let broker_name = self
            .resolver
            .resolve(&self.settings)
            .await
            .ok()
            .and_then(|r| r.broker_name)
            .or_else(|| self.settings.broker_name.clone())
            .ok_or("the broker name is unknown (set broker_name)")?;
        let of = QueueSizeOf {
            broker_name: &broker_name,
            settings: &self.settings,
            target: &self.target,
        };
        of.read(&self.cloudwatch).await
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
            .map_err(|e| tls_error(causes(&e)))?;
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
            busiest: None,
        })
    }
}

/// A connection to a broker, plain TCP or TLS, so one code path speaks STOMP over either.
trait BrokerStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> BrokerStream for S {}

pub(crate) fn describe_target(settings: &AmqSettings) -> String {
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

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let primary = match self.read().await {
            Ok(metrics) => return Ok(metrics),
            Err(error) => error,
        };
        let mut rejected_secret = None;
        if matches!(primary, AmqError::AuthenticationFailed { .. }) {
            // The secret may have been rotated: read it again on the next tick.
            self.credentials.forget().await;
            if let CredentialSource::Secret { arn } = &self.settings.credentials {
                rejected_secret = Some(arn);
            }
        }
        let error = if self.settings.cloudwatch_fallback && primary.broker_unavailable() {
            match self.queue_size().await {
                Ok(metrics) => return Ok(metrics),
                Err(cause) => AmqError::Fallback {
                    primary: Box::new(primary),
                    cause,
                },
            }
        } else {
            primary
        };
        let message = match rejected_secret {
            Some(arn) => format!("{error} (the credentials of secret {arn}, read again next time)"),
            None => error.to_string(),
        };
        Err(ProviderError::Unavailable {
            provider: NAME,
            target: self.target.clone(),
            message,
        })
    }
}
