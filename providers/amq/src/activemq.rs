//! ActiveMQ: queue depth from the broker's statistics plugin, over STOMP.
//!
//! The exchange, on a fresh connection each reading:
//! 1. `CONNECT` with the credentials; `CONNECTED` or `ERROR` (wrong credentials).
//! 2. `SUBSCRIBE` to a temporary queue with `transformation:jms-map-json`, so the
//!    plugin's MapMessage arrives as JSON.
//! 3. `SEND` an empty message to `ActiveMQ.Statistics.Destination.<queue>` with
//!    `reply-to` the temporary queue and the plugin's end-of-list header.
//! 4. The plugin answers one statistics map per matching queue, then an empty map.
//!    An empty map with no statistics before it means the queue does not exist.
//!
//! Nothing is ever sent to the monitored queue itself: the plugin intercepts sends
//! to `ActiveMQ.Statistics.*` before any queue sees them.

use fast_autoscaler_provider::MAX_PLAUSIBLE_COUNT;
use serde_json::Value;
use tokio::time::Instant;

use crate::error::AmqError;
use crate::stomp::{Connection, ConnectionError, Frame};

/// The statistics plugin's destination prefix.
pub const STATISTICS_PREFIX: &str = "ActiveMQ.Statistics.Destination.";
/// Header asking the plugin to end its list with an empty message.
pub const END_OF_LIST_HEADER: &str = "ActiveMQ.Statistics.Destination.List.End.With.Null";
const REPLY_QUEUE: &str = "/temp-queue/fast-autoscaler-statistics";

/// The counters read from one statistics reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestinationStatistics {
    /// Messages in the queue, dispatched or not.
    pub size: u64,
    /// Messages dispatched to a consumer and not yet acknowledged.
    pub inflight: u64,
    pub enqueued: u64,
    pub dequeued: u64,
}

impl DestinationStatistics {
    /// visible = size − inflight (a broker can briefly report more in flight than in
    /// the queue; that is read as zero visible, never as a huge number).
    pub fn visible(&self) -> u64 {
        self.size.saturating_sub(self.inflight)
    }
}

/// One parsed reply of the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatisticsReply {
    /// Statistics of the destination named (e.g. `queue://jobs`).
    Destination {
        name: String,
        statistics: DestinationStatistics,
    },
    /// The empty map that ends the list.
    EndOfList,
}

/// Parses the `jms-map-json` body of a statistics reply.
///
/// The broker's JSON (xstream + jettison) looks like
/// `{"map":{"entry":[{"string":"size","long":3},{"string":["brokerName","b1"]},...]}}`:
/// each entry holds its key under `"string"` and its value under a type name, or,
/// for string values, both as a two-element array. A single entry may arrive as an
/// object instead of a one-element array. The end of the list is `{"map":""}`.
pub fn parse_statistics(body: &[u8]) -> Result<StatisticsReply, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|e| format!("reply is not JSON: {e}"))?;
    let map = document
        .get("map")
        .ok_or("reply has no \"map\"; is transformation jms-map-json supported (xstream and jettison on the broker classpath)?")?;
    if map.as_str() == Some("") || map.is_null() {
        return Ok(StatisticsReply::EndOfList);
    }
    let entries = match map.get("entry") {
        Some(Value::Array(entries)) => entries.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => return Err("reply map has no entries".into()),
    };
    let mut name = None;
    let counter = |key: &str| -> Result<u64, String> {
        let value = entries
            .iter()
            .find_map(|entry| {
                if entry.get("string")?.as_str()? != key {
                    return None;
                }
                entry
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.as_str() != "string")
                    .map(|(_, v)| v.clone())
            })
            .ok_or_else(|| format!("reply has no {key}"))?;
        value
            .as_u64()
            .filter(|n| *n <= MAX_PLAUSIBLE_COUNT)
            .ok_or_else(|| format!("{key} = {value} is not a message count (expected a whole number from 0 to {MAX_PLAUSIBLE_COUNT})"))
    };
    let statistics = DestinationStatistics {
        size: counter("size")?,
        inflight: counter("inflightCount")?,
        enqueued: counter("enqueueCount")?,
        dequeued: counter("dequeueCount")?,
    };
    for entry in &entries {
        if let Some(Value::Array(pair)) = entry.get("string") {
            if pair.first().and_then(Value::as_str) == Some("destinationName") {
                name = pair.get(1).and_then(Value::as_str).map(str::to_string);
            }
        }
    }
    Ok(StatisticsReply::Destination {
        name: name.ok_or("reply has no destinationName")?,
        statistics,
    })
}

/// Runs the statistics exchange on an open (TCP or TLS) stream.
pub async fn read_statistics<S>(
    stream: S,
    broker: &str,
    host: &str,
    queue: &str,
    username: &str,
    password: &str,
    reply_deadline: Instant,
) -> Result<DestinationStatistics, AmqError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut connection = Connection::new(stream);
    let mut session = Session {
        connection: &mut connection,
        broker,
        queue,
        username,
        deadline: reply_deadline,
    };
    let result = session.exchange(host, password).await;
    connection.close().await;
    result
}

/// One reading's STOMP conversation, and the errors it answers with (each names
/// the broker, and the queue or user where they matter).
struct Session<'a, S> {
    connection: &'a mut Connection<S>,
    broker: &'a str,
    queue: &'a str,
    username: &'a str,
    deadline: Instant,
}

impl<S> Session<'_, S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    /// Steps 1 to 4 of the module's exchange.
    async fn exchange(
        &mut self,
        host: &str,
        password: &str,
    ) -> Result<DestinationStatistics, AmqError> {
        self.connect(host, password).await?;
        self.request_statistics().await?;
        self.collect_statistics().await
    }

    async fn connect(&mut self, host: &str, password: &str) -> Result<(), AmqError> {
        let connect = Frame::new("CONNECT")
            .header("accept-version", "1.2")
            .header("host", host)
            .header("login", self.username)
            .header("passcode", password)
            .header("heart-beat", "0,0");
        self.send(&connect, "the STOMP CONNECT").await?;
        let answer = self.receive("the STOMP CONNECTED frame").await?;
        match answer.command.as_str() {
            "CONNECTED" => Ok(()),
            "ERROR" => Err(self.connect_refused(&answer)),
            other => Err(self.protocol(format!("expected CONNECTED, got {other}"))),
        }
    }

    /// An `ERROR` answering `CONNECT`: wrong credentials when it says so.
    fn connect_refused(&self, answer: &Frame) -> AmqError {
        let message = answer.get("message").unwrap_or_default().to_string();
        let lowered = message.to_ascii_lowercase();
        if lowered.contains("password") || lowered.contains("user") || lowered.contains("auth") {
            return AmqError::AuthenticationFailed {
                broker: self.broker.to_string(),
                user: self.username.to_string(),
                detail: message,
            };
        }
        self.protocol(format!("CONNECT refused: {message}"))
    }

    async fn request_statistics(&mut self) -> Result<(), AmqError> {
        let subscribe = Frame::new("SUBSCRIBE")
            .header("id", "0")
            .header("destination", REPLY_QUEUE)
            .header("ack", "auto")
            .header("transformation", "jms-map-json");
        let request = Frame::new("SEND")
            .header(
                "destination",
                &format!("/queue/{STATISTICS_PREFIX}{}", self.queue),
            )
            .header("reply-to", REPLY_QUEUE)
            .header(END_OF_LIST_HEADER, "true");
        for frame in [&subscribe, &request] {
            self.send(frame, "the statistics request").await?;
        }
        Ok(())
    }

    /// The plugin's replies up to the end of its list: the monitored queue's
    /// statistics, or `QueueNotFound` when the list ends without them.
    async fn collect_statistics(&mut self) -> Result<DestinationStatistics, AmqError> {
        let wanted = format!("queue://{}", self.queue);
        let mut found = None;
        loop {
            let frame = self.receive("the statistics reply").await?;
            match frame.command.as_str() {
                "MESSAGE" => match parse_statistics(&frame.body).map_err(|e| self.protocol(e))? {
                    StatisticsReply::Destination { name, statistics } if name == wanted => {
                        found = Some(statistics)
                    }
                    StatisticsReply::Destination { .. } => {}
                    StatisticsReply::EndOfList => break,
                },
                "ERROR" => return Err(self.broker_error(&frame)),
                _ => {}
            }
        }
        found.ok_or_else(|| AmqError::QueueNotFound {
            broker: self.broker.to_string(),
            queue: self.queue.to_string(),
        })
    }

    /// An `ERROR` during the statistics exchange: no read access when it says so.
    fn broker_error(&self, frame: &Frame) -> AmqError {
        let message = frame.get("message").unwrap_or_default().to_string();
        if message.to_ascii_lowercase().contains("not authorized") {
            return AmqError::AccessDenied {
                broker: self.broker.to_string(),
                user: self.username.to_string(),
                queue: self.queue.to_string(),
                detail: message,
            };
        }
        self.protocol(format!("broker error: {message}"))
    }

    async fn send(&mut self, frame: &Frame, stage: &'static str) -> Result<(), AmqError> {
        self.connection
            .send(frame)
            .await
            .map_err(|e| self.lost(e, stage))
    }

    async fn receive(&mut self, stage: &'static str) -> Result<Frame, AmqError> {
        let deadline = self.deadline;
        self.connection
            .receive(deadline)
            .await
            .map_err(|e| self.lost(e, stage))
    }

    fn protocol(&self, detail: String) -> AmqError {
        AmqError::Protocol {
            broker: self.broker.to_string(),
            queue: self.queue.to_string(),
            detail,
        }
    }

    /// A connection error at `stage`: a time-out, a malformed frame, or the
    /// broker unreachable.
    fn lost(&self, error: ConnectionError, stage: &'static str) -> AmqError {
        match error {
            ConnectionError::TimedOut(_) => AmqError::Timeout {
                broker: self.broker.to_string(),
                waiting_for: stage,
            },
            ConnectionError::Frame(f) => self.protocol(f.to_string()),
            other => AmqError::Unreachable {
                broker: self.broker.to_string(),
                cause: format!("{stage}: {other}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REPLY: &str = r#"{"map":{"entry":[{"string":"dequeueCount","long":2},{"string":["brokerId","ID:x"]},{"string":"inflightCount","long":4},{"string":"size","long":7},{"string":["destinationName","queue:\/\/jobs"]},{"string":"enqueueCount","long":9},{"string":"averageEnqueueTime","double":0.5}]}}"#;

    #[test]
    fn parses_the_broker_reply() {
        let reply = parse_statistics(REPLY.as_bytes()).unwrap();
        let StatisticsReply::Destination { name, statistics } = reply else {
            panic!("not statistics");
        };
        assert_eq!(name, "queue://jobs");
        assert_eq!(
            statistics,
            DestinationStatistics {
                size: 7,
                inflight: 4,
                enqueued: 9,
                dequeued: 2
            }
        );
        assert_eq!(statistics.visible(), 3);
        assert_eq!(
            parse_statistics(br#"{"map":""}"#).unwrap(),
            StatisticsReply::EndOfList
        );
    }

    #[test]
    fn rejects_negative_missing_and_non_numeric_counters() {
        for bad in [
            REPLY.replace(r#""long":7"#, r#""long":-7"#),
            REPLY.replace(r#""long":7"#, r#""string":"seven""#),
            REPLY.replace(r#"{"string":"size","long":7},"#, ""),
            r#"{"nomap":1}"#.to_string(),
            "not json".to_string(),
        ] {
            assert!(parse_statistics(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn more_in_flight_than_size_reads_as_zero_visible() {
        let s = DestinationStatistics {
            size: 1,
            inflight: 5,
            enqueued: 0,
            dequeued: 0,
        };
        assert_eq!(s.visible(), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_statistics(&bytes);
        }

        #[test]
        fn parse_never_panics_on_arbitrary_json(value in proptest_json()) {
            let _ = parse_statistics(value.to_string().as_bytes());
            let wrapped = serde_json::json!({"map": {"entry": value}});
            let _ = parse_statistics(wrapped.to_string().as_bytes());
        }
    }

    fn proptest_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-zA-Z]{0,12}".prop_map(Value::String),
            Just(Value::String("size".into())),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::hash_map("(string|long|size|map|entry)", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
