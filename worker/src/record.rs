//! One service's decision for one tick, as it is logged (see [`crate::emf`]) and
//! returned by the Lambda. Built in one place, whatever path the decision took.

use std::time::Instant;

use fast_autoscaler_common::Tick;
use fast_autoscaler_core::QueueMetrics;
use serde::Serialize;

use crate::config::ServiceConfig;
use fast_autoscaler_core::policy::{Action, Decision, Prewarm};
use fast_autoscaler_targets::TargetView;

/// One service's decision for one tick: the fields of its structured log line.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRecord {
    /// The target's label: `cluster/service` for an ECS service, `kind:name`
    /// for another kind (`ec2_asg:gpu-workers`).
    pub service: String,
    /// The target's kind: `ecs_service`, `ec2_asg`.
    pub target_type: String,
    pub provider: &'static str,
    pub visible: Option<u64>,
    pub in_flight: Option<u64>,
    pub delayed: Option<u64>,
    /// Seconds the oldest message had waited, where the provider reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_message_age_s: Option<u64>,
    /// The desired count (ECS desiredCount, a group's DesiredCapacity) before
    /// the decision.
    pub current_desired: Option<u32>,
    /// Units working: running tasks, instances in service.
    pub running: Option<u32>,
    /// The desired count after the decision.
    pub new_desired: Option<u32>,
    pub action: Action,
    /// This worker set the new count in ECS. A dry run, a stand-down or a failed
    /// UpdateService is not an applied action, whatever was proposed.
    pub applied: bool,
    /// An operator's pause decided this (`fast-autoscaler pause`).
    pub paused: bool,
    pub reason: String,
    pub cooldown_remaining_s: u64,
    pub tick_due_ms: u64,
    /// How late the evaluation started against the tick's due time (negative: early).
    pub tick_lag_ms: i64,
    pub duration_ms: u64,
    pub dry_run: bool,
    /// The surge anticipation prepared for at this tick, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anticipation: Option<AnticipationRecord>,
}

/// A pre-warm in the log line: the surge, the tasks it needs, and how many of
/// them anticipation added above the reactive rule (or, forecast only, would
/// have added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnticipationRecord {
    /// The start of the minute the surge is expected in (RFC 3339, UTC).
    pub surge_expected_at: String,
    pub tasks: u32,
    pub added: u32,
    pub forecast_only: bool,
}

impl From<Prewarm> for AnticipationRecord {
    fn from(prewarm: Prewarm) -> Self {
        let surge_expected_at = i64::try_from(prewarm.surge_at_s)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map_or_else(|| prewarm.surge_at_s.to_string(), |t| t.to_string());
        AnticipationRecord {
            surge_expected_at,
            tasks: prewarm.tasks,
            added: prewarm.added,
            forecast_only: prewarm.forecast_only,
        }
    }
}

/// What every record of one tick shares.
#[derive(Debug, Clone, Copy)]
pub struct TickContext {
    pub tick: Tick,
    pub lag_ms: i64,
    pub started: Instant,
    pub dry_run: bool,
}

impl DecisionRecord {
    /// The record of `decision` for `service`, with what was read of the queue and
    /// of the target (either may be missing when reading it failed).
    pub fn new(
        service: &ServiceConfig,
        tick: &TickContext,
        decision: Decision,
        metrics: Option<&QueueMetrics>,
        view: Option<&TargetView>,
    ) -> Self {
        DecisionRecord {
            service: service.id(),
            target_type: service.kind().to_string(),
            provider: service.provider.provider_name(),
            visible: metrics.map(|m| m.visible),
            in_flight: metrics.map(|m| m.in_flight),
            delayed: metrics.map(|m| m.delayed),
            oldest_message_age_s: metrics.and_then(|m| m.oldest_message).map(|a| a.age_s),
            current_desired: view.map(|v| v.desired),
            running: view.map(|v| v.running),
            new_desired: view.map(|_| decision.new_desired),
            action: decision.action,
            applied: decision.applied,
            paused: decision.paused,
            reason: decision.reason,
            cooldown_remaining_s: decision.cooldown_remaining_s,
            tick_due_ms: tick.tick.due_ms,
            tick_lag_ms: tick.lag_ms,
            duration_ms: tick.started.elapsed().as_millis() as u64,
            dry_run: tick.dry_run,
            anticipation: decision.prewarm.map(AnticipationRecord::from),
        }
    }
}
