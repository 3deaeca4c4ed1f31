//! What a good reading leaves in a policy's [`Memory`]: the failures reset, the
//! empty-queue clock, and (for policies with history) this tick's sample and the
//! task throughput measured from the samples.

use super::memory::{Memory, Sample, AGE_WINDOW_MS, MAX_SAMPLES};
use super::rates::{measured_throughput, RATE_WINDOW_MS};
use super::reading::Reading;
use crate::settings::PolicySettings;

/// The memory after a good reading: failures reset, the empty-queue clock, and
/// (for policies with history) this tick's sample, pruned to the longest window
/// any setting needs.
pub(crate) fn after_reading(
    policy: &PolicySettings,
    memory: &Memory,
    reading: &Reading<'_>,
    recommended: u32,
) -> Memory {
    let mut next = memory.clone();
    next.metric_failures = 0;
    next.empty_since_ms = reading.empty_since_ms;
    if !policy.needs_memory() {
        return next;
    }
    let now = reading.now_ms;
    next.samples.push(Sample {
        at_ms: now,
        backlog: reading.total,
        running: reading.running,
        busy: reading.busy,
        recommended,
        dequeued: reading.metrics.dequeued_total,
    });
    let mut keep_ms = RATE_WINDOW_MS.max(policy.scale_in_stabilization_s.saturating_mul(1000));
    if policy.max_wait_s.is_some() {
        keep_ms = keep_ms.max(AGE_WINDOW_MS);
    }
    next.samples
        .retain(|s| s.at_ms <= now && s.at_ms.saturating_add(keep_ms) >= now);
    let excess = next.samples.len().saturating_sub(MAX_SAMPLES);
    next.samples.drain(..excess);
    if let Some(measured) = measured_throughput(&next.samples, now) {
        next.throughput_micro = Some((measured * 1e6).round() as u64);
    }
    next
}
