//! What a queue-metrics provider reads: one reading of a queue's depth.
//!
//! The providers (`fast-autoscaler-provider` and the crates under `providers/`)
//! produce it; the policy consumes it. It lives here so the policy, and the
//! simulator that drives it, depend on no provider.

use serde::Serialize;

/// One reading of a queue's depth.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct QueueMetrics {
    /// Messages waiting to be received.
    pub visible: u64,
    /// Messages received by a consumer and not yet deleted or acknowledged.
    pub in_flight: u64,
    /// Messages sent with a delay that are not receivable yet.
    pub delayed: u64,
    /// Messages consumed from the queue since the broker's counter started
    /// (cumulative), where the queue service reports it (ActiveMQ's dequeueCount,
    /// RabbitMQ's acknowledged messages). SQS does not: `None`. With it, the
    /// predictive policy measures what a task really processes per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dequeued_total: Option<u64>,
    /// How long the oldest waiting message has waited, where the provider reads
    /// it (SQS `oldest_message_age`, from CloudWatch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_message: Option<MessageAge>,
    /// The most tasks that can consume at once, where the queue itself limits
    /// it: a Kinesis stream's shard is read by one consumer at a time, so tasks
    /// beyond its open shards sit idle. The policy never asks for more (but
    /// keeps `min_tasks`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_consumers: Option<u64>,
    /// Of several queues read as their busiest (`combine: max`), which one this
    /// reading is: decisions and `fast-autoscaler metrics` name it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub busiest: Option<String>,
}

/// The age of a queue's oldest message, and how old that figure itself is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MessageAge {
    /// Seconds the oldest message had waited when it was measured.
    pub age_s: u64,
    /// Seconds since it was measured (CloudWatch datapoints arrive late).
    pub measured_ago_s: u64,
}
