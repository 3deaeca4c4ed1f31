//! Builders the policy's unit tests share.

use crate::metrics::QueueMetrics;

use super::decision::Observation;
use crate::settings::{PolicyKind, PolicySettings};
use crate::target::TargetLimits;

/// The step rule with 120 s cooldowns.
pub fn step(
    min: u32,
    max: u32,
    up: f64,
    down: f64,
    per_message: f64,
    factor: f64,
) -> PolicySettings {
    PolicySettings {
        min_tasks: min,
        max_tasks: max,
        scale_out_cooldown_s: 120,
        scale_in_cooldown_s: 120,
        use_combined_messages: false,
        kind: PolicyKind::Step {
            scale_up_threshold: up,
            scale_down_threshold: down,
            tasks_per_message: per_message,
            max_scale_down_factor: factor,
        },
        ..PolicySettings::default()
    }
}

pub fn target(min: u32, max: u32, per_task: f64) -> PolicySettings {
    PolicySettings {
        min_tasks: min,
        max_tasks: max,
        kind: PolicyKind::Target {
            messages_per_task: per_task,
        },
        ..PolicySettings::default()
    }
}

/// Predictive at a configured 1 msg/s per task, 45 s start-up, 60 s drain, 1–500 tasks.
pub fn predictive_policy() -> PolicySettings {
    PolicySettings {
        kind: PolicyKind::Predictive {
            task_throughput: 1.0,
            task_startup_s: 45,
            target_drain_s: 60,
            target_utilization: 1.0,
            tolerance: 0.0,
        },
        min_tasks: 1,
        max_tasks: 500,
        ..PolicySettings::default()
    }
}

pub fn visible(n: u64) -> QueueMetrics {
    QueueMetrics {
        visible: n,
        in_flight: 0,
        delayed: 0,
        dequeued_total: None,
        oldest_message: None,
        max_consumers: None,
        busiest: None,
    }
}

pub fn counted(visible: u64, dequeued: u64) -> QueueMetrics {
    QueueMetrics {
        visible,
        in_flight: 0,
        delayed: 0,
        dequeued_total: Some(dequeued),
        oldest_message: None,
        max_consumers: None,
        busiest: None,
    }
}

pub fn at(metrics: &QueueMetrics, current: u32, running: u32, now_ms: u64) -> Observation<'_> {
    Observation {
        metrics: Ok(metrics),
        current,
        running,
        now_ms,
        forecast: None,
        limits: TargetLimits::default(),
    }
}
