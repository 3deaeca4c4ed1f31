//! What a policy remembers between ticks.
//!
//! Policies with history (stabilization, scale to zero, the predictive rule, the
//! wait goal, the fallback) carry a small [`Memory`] from tick to tick. It is
//! pure data: the worker keeps it in the service's S3 state object and the
//! simulator in memory, so both run the same code.

use serde::{Deserialize, Serialize};

/// One observation of the queue, kept between ticks by policies that need history
/// (stabilization, the predictive mode). Stored in the service's state object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub at_ms: u64,
    pub backlog: u64,
    pub running: u32,
    /// Tasks busy at that time (see [`super::busy_tasks`]).
    pub busy: u32,
    /// The count recommended at that time (before stabilization).
    pub recommended: u32,
    /// The queue's consumption counter at that time, when its provider reports one
    /// ([`crate::metrics::QueueMetrics::dequeued_total`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dequeued: Option<u64>,
}

/// What a policy remembers between ticks. Pure data: the worker keeps it in S3,
/// the simulator in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    /// Oldest first, pruned to the longest window any setting needs.
    #[serde(default)]
    pub samples: Vec<Sample>,
    /// Consecutive failed metric readings, for the fallback.
    #[serde(default)]
    pub metric_failures: u32,
    /// Since when the queue (in-flight included) has been empty, for scale to zero.
    #[serde(default)]
    pub empty_since_ms: Option<u64>,
    /// The last measured task throughput, in millionths of a message per second
    /// (see [`super::rates::measured_throughput`]). A task's speed is a property of the work, so
    /// it is kept after the backlog that allowed measuring it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_micro: Option<u64>,
    /// When recurring surges were seen landing, oldest first (see
    /// [`super::landings`]): what anticipation learns their second from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub landings: Vec<Landing>,
}

/// A recurring surge seen landing: the reading after `after_s` seconds of its
/// landing window was the last to see none of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Landing {
    /// The surge's period, in minutes.
    pub period_min: u64,
    /// Its landing window's first minute within the period: with the period,
    /// which surge this is.
    pub window_minute: u64,
    /// The Unix second its window began at: one landing per window.
    pub window_start_s: u64,
    /// Seconds into the window it had not come yet.
    pub after_s: u64,
}

/// How far back the wait goal looks for the tasks running when an age was
/// measured: the SQS provider reads ages up to five minutes old, stamped with
/// the start of their minute.
pub const AGE_WINDOW_MS: u64 = 360_000;

/// A bound on the samples kept, whatever the tick interval.
pub const MAX_SAMPLES: usize = 400;
