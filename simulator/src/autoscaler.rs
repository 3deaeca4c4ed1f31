//! Fast Autoscaler in the simulator: the core's own tick machine, the one the
//! Lambda's engine drives against AWS, driven in memory instead
//! (`fast_autoscaler_core::tick::InMemory`): the state it writes is kept, and a
//! change it makes is applied at once (the simulated ECS never fails).

use fast_autoscaler_core::budget::ECS_BUDGET;
use fast_autoscaler_core::forecast::Pattern;
use fast_autoscaler_core::settings::PolicySettings;
use fast_autoscaler_core::state::Stored;
use fast_autoscaler_core::target::{TargetId, TargetLimits, TargetView};
use fast_autoscaler_core::tick::{InMemory, Tick, TickAt, TickTarget};
use fast_autoscaler_core::QueueMetrics;

use crate::history::{self, History};
use crate::scaler::{Scaler, Seen};
use crate::trace::{Rng, Trace};

/// The simulated service's cluster and name, for its state record.
const CLUSTER: &str = "simulated";
const SERVICE: &str = "service";

/// The simulated ECS service: its tasks have no limit of their own.
fn simulated() -> TargetId {
    TargetId::ecs_service(CLUSTER, SERVICE)
}

/// When a simulated tick at `now_ms` runs, every `tick_s` seconds: a claim is
/// applied the moment it is written, so no lease is ever needed.
pub(crate) fn simulated_tick(now_ms: u64, tick_s: usize) -> TickAt {
    TickAt {
        now_ms,
        tick_due_ms: now_ms,
        lease_ms: 0,
        interval_s: tick_s as u32,
        shards: 1,
        dry_run: false,
    }
}

/// A simulated task count, as a describe call would answer it.
pub(crate) fn counts(desired: u32, running: u32) -> TargetView {
    TargetView {
        desired,
        running,
        starting: desired.saturating_sub(running),
        limits: TargetLimits::none("tasks"),
        not_ready: None,
    }
}

/// Where an anticipating policy's pattern comes from.
enum Forecast {
    /// The policy does not anticipate.
    Off,
    /// Learned online from the queue's past, as the worker learns it.
    Learned(History),
    /// Given whole: every surge, exactly (see [`crate::foreknown`]).
    Known(Pattern),
}

pub(crate) struct FastAutoscaler<'a> {
    policy: &'a PolicySettings,
    tick_s: usize,
    stored: Stored,
    /// For the in-flight snapshot of partly busy tasks.
    rng: Rng,
    /// What a policy that anticipates knows of the surges to come.
    forecast: Forecast,
    /// The Unix second the trace begins at (after its history).
    offset_s: usize,
    target: TargetId,
}

impl<'a> FastAutoscaler<'a> {
    pub fn new(policy: &'a PolicySettings, tick_s: usize, trace: &Trace) -> Self {
        let anticipation = &policy.anticipation;
        let forecast = if anticipation.is_off() {
            Forecast::Off
        } else {
            Forecast::Learned(History::new(trace, anticipation.min_confidence))
        };
        FastAutoscaler::with_forecast(policy, tick_s, trace, forecast)
    }

    /// One whose policy anticipates from `pattern`, given, instead of from a
    /// learned one.
    pub fn foreknown(
        policy: &'a PolicySettings,
        tick_s: usize,
        trace: &Trace,
        pattern: &Pattern,
    ) -> Self {
        FastAutoscaler::with_forecast(policy, tick_s, trace, Forecast::Known(pattern.clone()))
    }

    fn with_forecast(
        policy: &'a PolicySettings,
        tick_s: usize,
        trace: &Trace,
        forecast: Forecast,
    ) -> Self {
        FastAutoscaler {
            policy,
            tick_s: tick_s.max(1),
            stored: Stored::Missing,
            rng: Rng(0x5EED_1234_ABCD_0001),
            forecast,
            offset_s: history::minutes(trace).1,
            target: simulated(),
        }
    }
}

impl Scaler for FastAutoscaler<'_> {
    fn interval_s(&self) -> usize {
        self.tick_s
    }

    fn decide(&mut self, seen: &Seen) -> Option<u32> {
        // A busy task holds one message in flight, as SQS would report it. A task
        // busy part of the second shows in a snapshot that share of the time, as
        // ApproximateNumberOfMessagesNotVisible does.
        let whole = seen.busy.floor();
        let snapshot = whole + f64::from(u8::from(self.rng.next_f64() < seen.busy - whole));
        let metrics = QueueMetrics {
            visible: seen.backlog as u64,
            in_flight: snapshot as u64,
            delayed: 0,
            dequeued_total: seen.dequeued,
            oldest_message: seen.oldest_message,
            max_consumers: None,
            busiest: None,
        };
        let now_s = self.offset_s + seen.now_s;
        let now_ms = now_s as u64 * 1000;
        let forecast = match &mut self.forecast {
            Forecast::Off => None,
            Forecast::Learned(history) => Some(history.at(now_s)),
            Forecast::Known(pattern) => Some(&*pattern),
        };
        let target = TickTarget {
            id: &self.target,
            policy: self.policy,
            budget: &ECS_BUDGET,
            kept: None,
        };
        let at = simulated_tick(now_ms, self.tick_s);
        let views = [counts(seen.current, seen.running)];
        let ran = Tick::new(vec![target], at).run_in_memory(InMemory {
            views: &views,
            readings: vec![Ok(metrics)],
            forecasts: &[forecast],
            stored: std::slice::from_mut(&mut self.stored),
        });
        ran.set[0]
    }
}
