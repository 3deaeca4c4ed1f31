//! The baselines users have today, emulated from their documented defaults.
//!
//! - [`TargetTracking`]: AWS Application Auto Scaling target tracking on backlog
//!   per task: out after 3 of 3 datapoints above the target, in after 15 of 15
//!   below, 300-second cooldowns. Datapoints reach the alarm late: with one-minute
//!   metrics a step in the load first triggers a scale-out about 363 s later (3
//!   datapoints plus 183 s of publication and evaluation delay); with the
//!   20-second metrics AWS added in June 2026, about 86 s later (3 × 20 s + 26 s).
//!   [`TargetTrackingMetrics`] holds those two settings.
//! - [`Keda`]: KEDA's defaults: polling every 30 s, HPA desired =
//!   ceil(backlog / target), scale-in to the highest recommendation of the last
//!   300 s.

use std::collections::VecDeque;

use fast_autoscaler_core::settings::PolicySettings;

use crate::scaler::{Scaler, Seen};

/// The metric resolution target tracking works from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetTrackingMetrics {
    /// Seconds per datapoint.
    pub period_s: usize,
    /// Seconds from a datapoint's end until the alarm has evaluated it.
    pub delay_s: usize,
}

impl TargetTrackingMetrics {
    /// One-minute metrics: a step triggers about 363 s later.
    pub const ONE_MINUTE: Self = Self {
        period_s: 60,
        delay_s: 183,
    };
    /// 20-second metrics (June 2026): a step triggers about 86 s later.
    pub const TWENTY_SECONDS: Self = Self {
        period_s: 20,
        delay_s: 26,
    };
}

/// AWS target tracking on backlog per task.
pub(crate) struct TargetTracking {
    target_per_task: f64,
    metrics: TargetTrackingMetrics,
    min: u32,
    max: u32,
    /// Datapoints not yet seen by the alarm: (end second, backlog, tasks).
    pending: VecDeque<(usize, f64, u32)>,
    /// Consecutive datapoints above / below target.
    above: u32,
    below: u32,
    last_action_s: Option<usize>,
}

impl TargetTracking {
    pub fn new(
        policy: &PolicySettings,
        target_per_task: f64,
        metrics: TargetTrackingMetrics,
    ) -> Self {
        TargetTracking {
            target_per_task,
            metrics,
            min: policy.min_tasks,
            max: policy.max_tasks,
            pending: VecDeque::new(),
            above: 0,
            below: 0,
            last_action_s: None,
        }
    }

    /// Counts one datapoint the alarm now sees.
    fn observe(&mut self, backlog: f64, tasks: u32) {
        let per_task = backlog / f64::from(tasks.max(1));
        if per_task > self.target_per_task {
            self.above += 1;
            self.below = 0;
        } else if per_task < self.target_per_task {
            self.below += 1;
            self.above = 0;
        } else {
            (self.above, self.below) = (0, 0);
        }
    }
}

impl Scaler for TargetTracking {
    fn interval_s(&self) -> usize {
        self.metrics.period_s
    }

    fn decide(&mut self, seen: &Seen) -> Option<u32> {
        let (current, now) = (seen.current, seen.now_s);
        self.pending.push_back((now, seen.backlog, seen.running));
        let mut latest = None;
        while let Some(&(at, backlog, tasks)) = self.pending.front() {
            if at + self.metrics.delay_s > now {
                break;
            }
            self.pending.pop_front();
            self.observe(backlog, tasks);
            latest = Some(backlog);
        }
        let backlog = latest?;
        let cooled = self.last_action_s.is_none_or(|last| now >= last + 300);
        let wanted = ((backlog / self.target_per_task).ceil() as u32).clamp(self.min, self.max);
        let out = self.above >= 3 && cooled && wanted > current;
        let into = self.below >= 15 && cooled && wanted < current;
        if out || into {
            self.last_action_s = Some(now);
            return Some(wanted);
        }
        None
    }
}

/// KEDA's defaults.
pub(crate) struct Keda {
    target_per_task: f64,
    min: u32,
    max: u32,
    /// Recent (time, recommendation) for the stabilization window.
    recent: VecDeque<(usize, u32)>,
}

impl Keda {
    pub fn new(policy: &PolicySettings, target_per_task: f64) -> Self {
        Keda {
            target_per_task,
            min: policy.min_tasks,
            max: policy.max_tasks,
            recent: VecDeque::new(),
        }
    }
}

impl Scaler for Keda {
    fn interval_s(&self) -> usize {
        30
    }

    fn decide(&mut self, seen: &Seen) -> Option<u32> {
        let (current, now) = (seen.current, seen.now_s);
        let wanted =
            ((seen.backlog / self.target_per_task).ceil() as u32).clamp(self.min, self.max);
        self.recent.push_back((now, wanted));
        while self.recent.front().is_some_and(|(t, _)| *t + 300 < now) {
            self.recent.pop_front();
        }
        let stabilized = self.recent.iter().map(|(_, w)| *w).max().unwrap_or(wanted);
        let next = if wanted > current {
            wanted
        } else {
            stabilized.min(current)
        };
        (next != current).then_some(next)
    }
}
