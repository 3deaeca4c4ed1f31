//! One tick's good reading, with what every rule and modifier derives from it: the
//! backlog the policy scales on, the busy tasks, the measured task throughput and
//! how long the queue has been empty.

use crate::metrics::QueueMetrics;

use super::decision::Observation;
use super::memory::Memory;
use super::rates::{busy_tasks, measured_throughput_or_last};
use crate::settings::PolicySettings;

/// The backlog the policy scales on.
pub fn backlog(policy: &PolicySettings, metrics: &QueueMetrics) -> u64 {
    if policy.use_combined_messages {
        metrics.visible.saturating_add(metrics.in_flight)
    } else {
        metrics.visible
    }
}

/// How reasons name the backlog.
pub(crate) fn backlog_label(policy: &PolicySettings) -> &'static str {
    if policy.use_combined_messages {
        "visible+in-flight"
    } else {
        "visible"
    }
}

/// Float to task count: truncates, saturating at the ends (NaN becomes 0).
pub(crate) fn tasks(x: f64) -> u64 {
    x.trunc() as u64
}

/// Float to task count, rounding up (NaN becomes 0, infinity saturates).
pub(crate) fn tasks_ceil(x: f64) -> u64 {
    x.ceil() as u64
}

/// Float to task count, to the nearest (NaN becomes 0, infinity saturates).
pub(crate) fn tasks_round(x: f64) -> u64 {
    x.round() as u64
}

/// A good reading and what follows from it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading<'a> {
    pub metrics: &'a QueueMetrics,
    /// desiredCount now.
    pub current: u32,
    pub running: u32,
    pub now_ms: u64,
    /// The backlog the policy scales on.
    pub total: u64,
    /// How reasons name it.
    pub label: &'static str,
    /// Tasks busy now (see [`busy_tasks`]).
    pub busy: u32,
    /// The task throughput measured now or earlier, if any. The predictive rule and
    /// the emergency tier size with the same one.
    pub measured: Option<f64>,
    /// Since when the queue (in-flight included) has been empty, this tick included.
    pub empty_since_ms: Option<u64>,
}

impl<'a> Reading<'a> {
    pub fn new(
        policy: &PolicySettings,
        observed: &Observation<'_>,
        metrics: &'a QueueMetrics,
        memory: &Memory,
    ) -> Self {
        let now = observed.now_ms;
        let queue_empty = metrics.visible == 0 && metrics.in_flight == 0;
        Reading {
            metrics,
            current: observed.current,
            running: observed.running,
            now_ms: now,
            total: backlog(policy, metrics),
            label: backlog_label(policy),
            busy: busy_tasks(metrics, observed.running),
            measured: measured_throughput_or_last(memory, now),
            empty_since_ms: queue_empty.then(|| memory.empty_since_ms.unwrap_or(now).min(now)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;

    #[test]
    fn combined_messages_count_in_flight() {
        let mut policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let m = QueueMetrics {
            visible: 60,
            in_flight: 60,
            delayed: 0,
            dequeued_total: None,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        };
        assert_eq!(recommend(&policy, Ok(&m), 10).action, Action::None);
        policy.use_combined_messages = true;
        let d = recommend(&policy, Ok(&m), 10);
        assert_eq!(d.new_desired, 11, "{}", d.reason);
        assert!(d.reason.contains("visible+in-flight 120"), "{}", d.reason);
    }
}
