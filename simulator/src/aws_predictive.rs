//! AWS predictive scaling for ECS (November 2024), emulated from its
//! documentation, combined with target tracking as AWS combines them.
//!
//! - The forecast is hourly: the load of each of the next 48 hours, refreshed
//!   every 6 hours, from at least 24 hours of history and at most 14 days.
//!   AWS's model is not published; it learns daily and weekly patterns. Here an
//!   hour's forecast is the mean load of the same hour of the day over the days
//!   of history, a daily pattern learned exactly (the emulation's choice, and a
//!   generous one on traces whose cycle is a day).
//! - Capacity is the forecast load over the target per task: with the queue's
//!   arrivals as the load metric and a task's throughput as the target, the
//!   tasks that keep up with the hour's mean arrivals (`HonorMaxCapacity`).
//! - It is launched `SchedulingBufferTime` ahead, 300 s by default: the
//!   capacity of hour H is the minimum from 300 s before H.
//! - Combined with target tracking, the predictive capacity is a floor that
//!   target tracking scales above; scale-in stays target tracking's, never
//!   below the floor.

use fast_autoscaler_core::settings::PolicySettings;

use crate::baselines::{TargetTracking, TargetTrackingMetrics};
use crate::history;
use crate::scaler::{Scaler, Seen};
use crate::trace::Trace;

/// Seconds between forecasts.
const REFRESH_S: usize = 6 * 3600;
/// The least history a forecast needs.
const MIN_HISTORY_S: usize = 24 * 3600;
/// The most history a forecast uses, in days.
const MAX_HISTORY_DAYS: usize = 14;
/// `SchedulingBufferTime`'s default.
pub const SCHEDULING_BUFFER_S: usize = 300;
/// How far ahead a forecast reaches, in hours.
const HORIZON_H: usize = 48;

pub(crate) struct AwsPredictive {
    tracking: TargetTracking,
    /// Messages arrived in each hour, from the history's first (Unix hour 0).
    hourly: Vec<f64>,
    /// The Unix second the trace begins at.
    offset_s: usize,
    mu: f64,
    min: u32,
    max: u32,
    /// (hour, capacity) of the latest forecast.
    forecast: Vec<(usize, u32)>,
    forecast_at_s: Option<usize>,
}

impl AwsPredictive {
    pub fn new(
        policy: &PolicySettings,
        trace: &Trace,
        mu: f64,
        target_per_task: f64,
        metrics: TargetTrackingMetrics,
    ) -> Self {
        let (per_minute, offset_s) = history::minutes(trace);
        AwsPredictive {
            tracking: TargetTracking::new(policy, target_per_task, metrics),
            hourly: per_minute
                .chunks(60)
                .map(|hour| hour.iter().map(|m| f64::from(*m)).sum())
                .collect(),
            offset_s,
            mu,
            min: policy.min_tasks,
            max: policy.max_tasks,
            forecast: Vec::new(),
            forecast_at_s: None,
        }
    }

    /// The forecast made at Unix second `now_s`, from the hours complete by then.
    fn refresh(&mut self, now_s: usize) {
        self.forecast_at_s = Some(now_s);
        let known_hours = (now_s / 3600).min(self.hourly.len());
        if known_hours * 3600 < MIN_HISTORY_S {
            return;
        }
        let first_hour = now_s / 3600;
        self.forecast = (first_hour..first_hour + HORIZON_H)
            .map(|hour| {
                let same_hour: Vec<f64> = (1..=MAX_HISTORY_DAYS)
                    .filter_map(|days| hour.checked_sub(24 * days))
                    .filter(|h| *h < known_hours)
                    .map(|h| self.hourly[h])
                    .collect();
                let load = same_hour.iter().sum::<f64>() / same_hour.len().max(1) as f64;
                let capacity = (load / 3600.0 / self.mu).ceil() as u32;
                (hour, capacity.clamp(self.min, self.max))
            })
            .collect();
    }

    /// The predictive floor at `now_s`: the capacity of the hour beginning
    /// within the scheduling buffer, or of the hour under way.
    fn floor(&self, now_s: usize) -> u32 {
        let hour = (now_s + SCHEDULING_BUFFER_S) / 3600;
        self.forecast
            .iter()
            .find(|(h, _)| *h == hour)
            .map_or(self.min, |(_, capacity)| *capacity)
    }
}

impl Scaler for AwsPredictive {
    fn interval_s(&self) -> usize {
        self.tracking.interval_s()
    }

    fn decide(&mut self, seen: &Seen) -> Option<u32> {
        let now = self.offset_s + seen.now_s;
        if self.forecast_at_s.is_none_or(|at| now >= at + REFRESH_S) {
            self.refresh(now);
        }
        let tracked = self.tracking.decide(seen).unwrap_or(seen.current);
        let desired = tracked.max(self.floor(now));
        (desired != seen.current).then_some(desired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::example_policy;

    #[test]
    fn the_forecast_follows_the_same_hour_of_past_days_ahead_of_the_hour() {
        // Two days of 1/s, with 10/s from 09:00 to 10:00; the third day's 09:00
        // is prepared for from 08:55, with the hour's mean, not its peak.
        let mut arrivals = vec![1.0; 3 * 86_400];
        for day in 0..3 {
            for a in &mut arrivals[day * 86_400 + 9 * 3600..day * 86_400 + 10 * 3600] {
                *a = 10.0;
            }
        }
        let trace = Trace {
            name: "t".into(),
            arrivals,
            initial_backlog: 0.0,
            surge_start_s: None,
            history_per_minute: Vec::new(),
        };
        let policy = example_policy();
        let mut aws = AwsPredictive::new(
            &policy,
            &trace,
            1.0,
            100.0,
            TargetTrackingMetrics::ONE_MINUTE,
        );
        aws.refresh(2 * 86_400);
        let nine = 2 * 86_400 + 9 * 3600;
        assert_eq!(aws.floor(nine - SCHEDULING_BUFFER_S - 1), 1);
        assert_eq!(aws.floor(nine - SCHEDULING_BUFFER_S), 10);
        // Too little history: no forecast.
        let mut young = AwsPredictive::new(
            &policy,
            &trace,
            1.0,
            100.0,
            TargetTrackingMetrics::ONE_MINUTE,
        );
        young.refresh(3600 * 20);
        assert_eq!(young.floor(3600 * 20 + 9 * 3600), policy.min_tasks);
    }
}
