//! The scaling decision: pure functions, no I/O.
//!
//! A decision is made in two steps so that S3 is only read when it matters:
//!
//! 1. [`recommend_with_memory`] looks at the queue reading and the current desired
//!    count and proposes a new count, with the reason. Most ticks end here with
//!    `none`.
//! 2. Only when it proposes a change does the worker read the service's state, and
//!    [`apply_cooldown`] decides whether the change may happen now.
//!
//! The worker, the simulator and the CLI all run these two steps through
//! [`crate::flow`], so there is one policy and one decision protocol.
//!
//! # Layout
//!
//! - [`decision`]: what goes in ([`Observation`]) and what comes out ([`Decision`]);
//! - [`rules`]: the base rules, one file each: step, target, predictive;
//! - [`rates`]: the arrival-rate and task-throughput estimators;
//! - [`modifiers`]: what adjusts the base rule's count, in their order;
//! - [`fallback`]: what a failed reading does;
//! - [`memory`]: what history-keeping policies carry from tick to tick, and
//!   `remember`: what a good reading leaves in it;
//! - [`cooldown`]: whether a proposed change may happen now;
//! - [`scheduled_bounds`]: the scheduled bounds that replace min and max at times of the week.
//!
//! Safety rules live here, where they can be tested exhaustively: a failed metrics
//! reading is `hold` (or, if configured, a fallback that only ever raises the
//! count), never a scale-down; the result is always within the bounds.

pub mod cooldown;
pub mod decision;
pub mod fallback;
pub mod landings;
pub mod memory;
pub mod modifiers;
pub mod rates;
pub mod reading;
mod remember;
pub mod rules;
pub mod scheduled_bounds;
#[cfg(test)]
pub(crate) mod test_support;

pub use cooldown::{apply_cooldown, History};
pub use decision::{Action, Decision, Observation, Prewarm};
pub use memory::{Memory, Sample, MAX_SAMPLES};
pub use rates::{
    arrival_rate, busy_tasks, measured_throughput, MIN_MEASURED_TASK_SECONDS, RATE_WINDOW_MS,
};
pub use reading::backlog;

use crate::metrics::QueueMetrics;

use crate::settings::PolicySettings;
use crate::target::TargetLimits;
use modifiers::{
    activation, anticipation, bounds, emergency, stabilization, step_limits, tolerance,
};
use reading::Reading;

/// Step 1: the count the policy wants, ignoring cooldowns, for a policy without
/// memory (or a first tick). See [`recommend_with_memory`].
pub fn recommend(
    policy: &PolicySettings,
    metrics: Result<&QueueMetrics, &str>,
    current: u32,
) -> Decision {
    let observed = Observation {
        metrics,
        current,
        running: current,
        now_ms: 0,
        forecast: None,
        limits: TargetLimits::default(),
    };
    recommend_with_memory(policy, &observed, &Memory::default()).0
}

/// Step 1: the count the policy wants, ignoring cooldowns, and the memory to keep.
///
/// A failed reading goes to the [`fallback`]. Otherwise the base rule's count goes
/// through the modifiers in order: the emergency tier, activation and scale to
/// zero, anticipation, the step limits, the bounds, scale-in stabilization and the
/// tolerance. The bounds are
/// those of the scheduled window that holds now, if one does.
pub fn recommend_with_memory(
    policy: &PolicySettings,
    observed: &Observation<'_>,
    memory: &Memory,
) -> (Decision, Memory) {
    let (policy, scheduled) = scheduled_bounds::at_time(policy, observed);
    let (mut decision, next) = recommend_within_bounds(&policy, observed, memory);
    if let Some(note) = scheduled {
        decision.reason = format!("{} [{note}]", decision.reason);
    }
    if let Ok(Some(busiest)) = observed.metrics.map(|m| m.busiest.as_deref()) {
        decision.reason = format!("{} [the busiest queue: {busiest}]", decision.reason);
    }
    (decision, next)
}

fn recommend_within_bounds(
    policy: &PolicySettings,
    observed: &Observation<'_>,
    memory: &Memory,
) -> (Decision, Memory) {
    let metrics = match observed.metrics {
        Ok(metrics) => metrics,
        Err(why) => return fallback::on_failed_reading(policy, observed, memory, why),
    };
    let reading = Reading::new(policy, observed, metrics, memory);

    let mut wanted = rules::wanted(policy, &reading, memory);
    emergency::apply(policy, &reading, &mut wanted);
    activation::apply(policy, &reading, &mut wanted);
    anticipation::apply(policy, &reading, observed.forecast, memory, &mut wanted);
    step_limits::apply(policy, &reading, &mut wanted);
    let recommended = bounds::apply(policy, metrics, &mut wanted);
    let stabilized = stabilization::apply(policy, &reading, memory, recommended, &mut wanted);
    let new_desired = tolerance::apply(
        policy,
        &reading,
        memory,
        (recommended, stabilized),
        &mut wanted,
    );

    let current = observed.current;
    let action = Action::between(current, new_desired);
    let outcome = match action {
        Action::None => format!("; stay at {current}"),
        _ => format!("; {current} → {new_desired}"),
    };
    let decision = Decision {
        action,
        new_desired,
        reason: format!("{}{outcome}", wanted.why),
        cooldown_remaining_s: 0,
        emergency: wanted.emergency && action == Action::ScaleOut,
        applied: false,
        paused: false,
        prewarm: wanted.prewarm,
    };
    let mut next = remember::after_reading(policy, memory, &reading, recommended);
    landings::remember(&mut next, wanted.landing);
    (decision, next)
}
