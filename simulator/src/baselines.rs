//! The baselines users have today, emulated from their documented defaults.
//!
//! - [`TargetTracking`]: AWS Application Auto Scaling target tracking on backlog
//!   per task, from one-minute datapoints: out after 3 of 3 datapoints above the
//!   target, in after 15 of 15 below, 300-second cooldowns.
//! - [`Keda`]: KEDA's defaults: polling every 30 s, HPA desired =
//!   ceil(backlog / target), scale-in to the highest recommendation of the last
//!   300 s.

use std::collections::VecDeque;

use fast_autoscaler::config::PolicySettings;

use crate::simulation::{Scaler, Seen};

/// AWS target tracking with one-minute metrics.
pub(crate) struct TargetTracking {
    target_per_task: f64,
    min: u32,
    max: u32,
    /// Consecutive one-minute datapoints above / below target.
    above: u32,
    below: u32,
    last_action_s: Option<usize>,
}

impl TargetTracking {
    pub fn new(policy: &PolicySettings, target_per_task: f64) -> Self {
        TargetTracking {
            target_per_task,
            min: policy.min_tasks,
            max: policy.max_tasks,
            above: 0,
            below: 0,
            last_action_s: None,
        }
    }
}

impl Scaler for TargetTracking {
    fn interval_s(&self) -> usize {
        60
    }

    fn decide(&mut self, seen: &Seen) -> Option<u32> {
        let (backlog, current, now) = (seen.backlog, seen.current, seen.now_s);
        let per_task = backlog / f64::from(current.max(1));
        if per_task > self.target_per_task {
            self.above += 1;
            self.below = 0;
        } else if per_task < self.target_per_task {
            self.below += 1;
            self.above = 0;
        } else {
            (self.above, self.below) = (0, 0);
        }
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
