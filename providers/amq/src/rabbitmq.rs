//! RabbitMQ: queue depth from the management HTTP API, or from a passive
//! `queue.declare` over AMQP.
//!
//! The management API's counters (`messages_ready`, `messages_unacknowledged`) are
//! refreshed by the broker's statistics collector, every 5 seconds by default
//! (`collect_statistics_interval`), so a reading can be that much late. The AMQP
//! mode's `queue.declare-ok` carries the ready count as of that instant, but no
//! unacknowledged count.

use std::sync::Arc;
use std::time::Duration;

use amqprs::channel::QueueDeclareArguments;
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::tls::TlsAdaptor;
use fast_autoscaler_provider::{QueueMetrics, MAX_PLAUSIBLE_COUNT};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::error::AmqError;

/// Percent-encodes a path segment: the default vhost `/` becomes `%2F`.
pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, NON_ALPHANUMERIC).to_string()
}

/// The management API path of a queue.
pub fn queue_path(vhost: &str, queue: &str) -> String {
    format!(
        "/api/queues/{}/{}?columns=name,messages_ready,messages_unacknowledged",
        encode_segment(vhost),
        encode_segment(queue)
    )
}

/// Reads `messages_ready` and `messages_unacknowledged` from a queue document.
/// A missing counter is an error, not zero: the broker omits them until its first
/// statistics emission, and zero would read as "empty" and invite a scale-down.
pub fn parse_queue_document(body: &[u8]) -> Result<QueueMetrics, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|e| format!("queue document is not JSON: {e}"))?;
    let count = |field: &str| -> Result<u64, String> {
        match document.get(field) {
            Some(value) => value
                .as_u64()
                .filter(|n| *n <= MAX_PLAUSIBLE_COUNT)
                .ok_or_else(|| format!("{field} = {value} is not a message count (expected a whole number from 0 to {MAX_PLAUSIBLE_COUNT})")),
            None => Err(format!(
                "queue document has no {field} yet (the broker publishes statistics every few seconds)"
            )),
        }
    };
    Ok(QueueMetrics {
        visible: count("messages_ready")?,
        in_flight: count("messages_unacknowledged")?,
        delayed: 0,
        // Acknowledged messages so far; absent until the queue's first ack.
        dequeued_total: document
            .pointer("/message_stats/ack")
            .and_then(Value::as_u64)
            .filter(|n| *n <= MAX_PLAUSIBLE_COUNT),
        oldest_message: None,
        max_consumers: None,
        busiest: None,
    })
}

/// Where and as whom to read one queue.
pub struct Target<'a> {
    pub broker: &'a str,
    pub base_url: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub vhost: &'a str,
    pub queue: &'a str,
    pub username: &'a str,
    pub password: &'a str,
}

/// The errors a reading answers with, each naming the broker and what it read.
impl Target<'_> {
    fn protocol(&self, detail: String) -> AmqError {
        AmqError::Protocol {
            broker: self.broker.to_string(),
            queue: self.queue.to_string(),
            detail,
        }
    }

    fn queue_not_found(&self) -> AmqError {
        AmqError::QueueNotFound {
            broker: self.broker.to_string(),
            queue: format!("{} (vhost {})", self.queue, self.vhost),
        }
    }

    fn access_denied(&self, detail: String) -> AmqError {
        AmqError::AccessDenied {
            broker: self.broker.to_string(),
            user: self.username.to_string(),
            queue: self.queue.to_string(),
            detail,
        }
    }
}

/// One management API reading.
pub async fn management_reading(
    http: &reqwest::Client,
    target: &Target<'_>,
) -> Result<QueueMetrics, AmqError> {
    let url = format!(
        "{}{}",
        target.base_url,
        queue_path(target.vhost, target.queue)
    );
    let response = http
        .get(&url)
        .basic_auth(target.username, Some(target.password))
        .send()
        .await
        .map_err(|e| http_error(target.broker, e))?;
    match response.status().as_u16() {
        200 => {
            let body = response
                .bytes()
                .await
                .map_err(|e| http_error(target.broker, e))?;
            parse_queue_document(&body).map_err(|detail| target.protocol(detail))
        }
        401 => Err(AmqError::AuthenticationFailed {
            broker: target.broker.to_string(),
            user: target.username.to_string(),
            detail: "the management API answered 401 Unauthorized".into(),
        }),
        403 => Err(target.access_denied(
            "the management API answered 403; the user needs the monitoring tag \
             and permissions on the virtual host"
                .into(),
        )),
        404 => Err(missing_queue_or_vhost(http, target).await),
        other => Err(target.protocol(format!("the management API answered HTTP {other}"))),
    }
}

/// The management API answers one 404 for both a missing queue and a missing
/// vhost; this asks which. The list holds the vhosts this user may use, so
/// "missing" includes "not permitted".
async fn missing_queue_or_vhost(http: &reqwest::Client, target: &Target<'_>) -> AmqError {
    let vhosts_url = format!("{}/api/vhosts?columns=name", target.base_url);
    let vhosts = match http
        .get(&vhosts_url)
        .basic_auth(target.username, Some(target.password))
        .send()
        .await
    {
        Ok(vhosts) => vhosts,
        Err(e) => return http_error(target.broker, e),
    };
    let listed: Value = vhosts.json().await.unwrap_or_default();
    let vhost_known = listed
        .as_array()
        .is_some_and(|all| all.iter().any(|v| v["name"] == target.vhost));
    if vhost_known {
        target.queue_not_found()
    } else {
        AmqError::VhostNotFound {
            broker: target.broker.to_string(),
            vhost: target.vhost.to_string(),
        }
    }
}

fn http_error(broker: &str, error: reqwest::Error) -> AmqError {
    if error.is_timeout() {
        return AmqError::Timeout {
            broker: broker.to_string(),
            waiting_for: "the management API",
        };
    }
    let chain = fast_autoscaler_common::aws_error::causes(&error);
    if crate::error::is_tls_failure(&error) {
        return AmqError::Tls {
            broker: broker.to_string(),
            cause: chain,
        };
    }
    AmqError::Unreachable {
        broker: broker.to_string(),
        cause: chain,
    }
}

/// One AMQP reading: connect, passive `queue.declare`, close.
pub async fn amqp_reading(
    target: &Target<'_>,
    tls: Option<Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
    reply_timeout: Duration,
) -> Result<QueueMetrics, AmqError> {
    let mut arguments =
        OpenConnectionArguments::new(target.host, target.port, target.username, target.password);
    arguments
        .virtual_host(target.vhost)
        .connection_name("fast-autoscaler")
        .heartbeat(0);
    if let Some(config) = tls {
        let connector = tokio_rustls::TlsConnector::from(config);
        arguments.tls_adaptor(TlsAdaptor::new(connector, target.host.to_string()));
    }
    let connection = tokio::time::timeout(connect_timeout, Connection::open(&arguments))
        .await
        .map_err(|_| AmqError::Timeout {
            broker: target.broker.to_string(),
            waiting_for: "the AMQP connection",
        })?
        .map_err(|e| amqp_open_error(target, e))?;
    let result = tokio::time::timeout(reply_timeout, passive_declare(&connection, target)).await;
    // Close whatever happened, so thousands of ticks leave no connection behind.
    let _ = tokio::time::timeout(reply_timeout, connection.close()).await;
    result.map_err(|_| AmqError::Timeout {
        broker: target.broker.to_string(),
        waiting_for: "queue.declare-ok",
    })?
}

/// Catches the reply code of the broker's Channel.Close. amqprs fails the pending
/// call with only "channel closed" and hands the code (404 NOT_FOUND, 403
/// ACCESS_REFUSED, ...) to the channel's callback instead.
struct CloseReason(Option<tokio::sync::oneshot::Sender<(u16, String)>>);

#[async_trait::async_trait]
impl amqprs::callbacks::ChannelCallback for CloseReason {
    async fn close(
        &mut self,
        _channel: &amqprs::channel::Channel,
        close: amqprs::CloseChannel,
    ) -> Result<(), amqprs::error::Error> {
        if let Some(reason) = self.0.take() {
            let _ = reason.send((close.reply_code(), close.reply_text().clone()));
        }
        Ok(())
    }

    async fn cancel(
        &mut self,
        _channel: &amqprs::channel::Channel,
        _cancel: amqprs::Cancel,
    ) -> Result<(), amqprs::error::Error> {
        Ok(())
    }

    async fn flow(
        &mut self,
        _channel: &amqprs::channel::Channel,
        _active: bool,
    ) -> Result<bool, amqprs::error::Error> {
        Ok(true)
    }

    async fn publish_ack(&mut self, _channel: &amqprs::channel::Channel, _ack: amqprs::Ack) {}

    async fn publish_nack(&mut self, _channel: &amqprs::channel::Channel, _nack: amqprs::Nack) {}

    async fn publish_return(
        &mut self,
        _channel: &amqprs::channel::Channel,
        _ret: amqprs::Return,
        _properties: amqprs::BasicProperties,
        _content: Vec<u8>,
    ) {
    }
}

/// How long to wait for the broker's close reason after a call failed.
const CLOSE_REASON_WAIT: Duration = Duration::from_millis(500);

async fn passive_declare(
    connection: &Connection,
    target: &Target<'_>,
) -> Result<QueueMetrics, AmqError> {
    let channel = connection
        .open_channel(None)
        .await
        .map_err(|e| target.protocol(format!("could not open a channel: {e}")))?;
    let (reason_sender, close_reason) = tokio::sync::oneshot::channel();
    channel
        .register_callback(CloseReason(Some(reason_sender)))
        .await
        .map_err(|e| target.protocol(format!("could not watch the channel: {e}")))?;
    let declared = channel
        .queue_declare(
            QueueDeclareArguments::new(target.queue)
                .passive(true)
                .finish(),
        )
        .await;
    let _ = channel.close().await;
    match declared {
        Ok(Some((_, ready, _consumers))) => Ok(QueueMetrics {
            visible: u64::from(ready),
            in_flight: 0,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        }),
        Ok(None) => Err(target.protocol("no queue.declare-ok".into())),
        Err(e) => {
            let reason = tokio::time::timeout(CLOSE_REASON_WAIT, close_reason)
                .await
                .ok()
                .and_then(Result::ok);
            Err(declare_refused(target, reason, e.to_string()))
        }
    }
}

/// A failed passive `queue.declare`, by the broker's close reason (code, text)
/// when it arrived, else by the error's text.
fn declare_refused(target: &Target<'_>, reason: Option<(u16, String)>, text: String) -> AmqError {
    if let Some((code, reply)) = &reason {
        tracing::debug!(broker = %target.broker, code, reply = %reply, "the broker closed the channel");
    }
    match reason {
        Some((404, _)) => target.queue_not_found(),
        Some((403, reply)) => target.access_denied(reply),
        Some((code, reply)) => {
            target.protocol(format!("the broker closed the channel: {code} {reply}"))
        }
        // With the read-only permissions docs/providers.md asks for, a closed channel
        // means a missing queue.
        None if text.contains("NOT_FOUND")
            || text.contains("404")
            || text.contains("channel closed") =>
        {
            target.queue_not_found()
        }
        None if text.contains("ACCESS_REFUSED") || text.contains("403") => {
            target.access_denied(text)
        }
        None => target.protocol(text),
    }
}

fn amqp_open_error(target: &Target<'_>, error: amqprs::error::Error) -> AmqError {
    let text = error.to_string();
    if text.contains("ACCESS_REFUSED") || text.contains("403") || text.contains("auth") {
        AmqError::AuthenticationFailed {
            broker: target.broker.to_string(),
            user: target.username.to_string(),
            detail: text,
        }
    } else if text.contains("NOT_ALLOWED") || text.contains("vhost") || text.contains("530") {
        AmqError::VhostNotFound {
            broker: target.broker.to_string(),
            vhost: target.vhost.to_string(),
        }
    } else if text.to_ascii_lowercase().contains("certificate") || text.contains("tls") {
        AmqError::Tls {
            broker: target.broker.to_string(),
            cause: text,
        }
    } else {
        AmqError::Unreachable {
            broker: target.broker.to_string(),
            cause: text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_the_default_vhost_and_odd_queue_names() {
        assert_eq!(
            queue_path("/", "jobs"),
            "/api/queues/%2F/jobs?columns=name,messages_ready,messages_unacknowledged"
        );
        assert!(queue_path("prod/eu", "a b?c").starts_with("/api/queues/prod%2Feu/a%20b%3Fc?"));
    }

    #[test]
    fn reads_ready_and_unacknowledged_and_rejects_garbage() {
        let ok = br#"{"name":"jobs","messages_ready":12,"messages_unacknowledged":3}"#;
        assert_eq!(
            parse_queue_document(ok).unwrap(),
            QueueMetrics {
                visible: 12,
                in_flight: 3,
                delayed: 0,
                dequeued_total: None,
                oldest_message: None,
                max_consumers: None,
                busiest: None,
            }
        );
        for bad in [
            &br#"{"name":"jobs"}"#[..],
            br#"{"messages_ready":-1,"messages_unacknowledged":0}"#,
            br#"{"messages_ready":"12","messages_unacknowledged":0}"#,
            br#"{"messages_ready":1.5,"messages_unacknowledged":0}"#,
            b"<html>",
        ] {
            assert!(parse_queue_document(bad).is_err());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_queue_document(&bytes);
        }
    }
}
