//! The scaling decision: pure functions, no I/O.
//!
//! A decision is made in two steps so that S3 is only read when it matters:
//!
//! 1. [`recommend`] looks at the queue reading and the current desired count and
//!    proposes a new count, with the reason. Most ticks end here with `none`.
//! 2. Only when it proposes a change does the worker read the service's state, and
//!    [`apply_cooldown`] decides whether the change may happen now.
//!
//! Safety rules live here, where they can be tested exhaustively: a failed metrics
//! reading is `hold` (or, if configured, a fallback that only ever raises the
//! count), never a scale-down; the result is always within the bounds; scale-out
//! waits `scale_out_cooldown` after the last scale-out unless the backlog reaches
//! the emergency tier; scale-in waits `scale_in_cooldown` seconds after the last
//! action in either direction, and is denied when the state that would prove it
//! is unreadable.
//!
//! Policies with history (stabilization, scale to zero, the predictive mode, the
//! fallback) carry a small [`Memory`] from tick to tick: the worker keeps it in the
//! service's S3 state object and the simulator in memory, so both run this code.

use std::fmt;

use fast_autoscaler_providers::QueueMetrics;
use serde::{Deserialize, Serialize};

#[cfg(test)]
use crate::config::Fallback;
use crate::config::{PolicyKind, PolicySettings};

/// What a decision does to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ScaleOut,
    ScaleIn,
    /// No change is needed, or it is not allowed yet (cooldown).
    None,
    /// Something needed for a safe decision failed (metrics, ECS, state): keep the count.
    Hold,
}

impl Action {
    /// Whether the action changes desiredCount.
    pub fn changes_count(self) -> bool {
        matches!(self, Action::ScaleOut | Action::ScaleIn)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ScaleOut => "scale_out",
            Action::ScaleIn => "scale_in",
            Action::None => "none",
            Action::Hold => "hold",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proposed or final decision for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub action: Action,
    pub new_desired: u32,
    pub reason: String,
    /// Seconds until a scale-in would be allowed (0 when it is allowed now).
    pub cooldown_remaining_s: u64,
    /// The emergency tier: this scale-out skips the scale-out cooldown.
    #[serde(skip)]
    pub emergency: bool,
}

impl Decision {
    /// Keep the current count because something failed.
    pub fn hold(current: u32, why: impl fmt::Display) -> Self {
        Decision {
            action: Action::Hold,
            new_desired: current,
            reason: format!("{why}; holding at {current}"),
            cooldown_remaining_s: 0,
            emergency: false,
        }
    }

    /// No change, for the reason given.
    pub fn stay(current: u32, reason: String) -> Self {
        Decision {
            action: Action::None,
            new_desired: current,
            reason,
            cooldown_remaining_s: 0,
            emergency: false,
        }
    }
}

/// One observation of the queue, kept between ticks by policies that need history
/// (stabilization, the predictive mode). Stored in the service's state object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub at_ms: u64,
    pub backlog: u64,
    pub running: u32,
    /// Tasks busy at that time (see [`busy_tasks`]).
    pub busy: u32,
    /// The count recommended at that time (before stabilization).
    pub recommended: u32,
    /// The queue's consumption counter at that time, when its provider reports one
    /// ([`QueueMetrics::dequeued_total`]).
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
    /// (see [`measured_throughput`]). A task's speed is a property of the work, so
    /// it is kept after the backlog that allowed measuring it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_micro: Option<u64>,
}

/// The window the arrival rate is estimated over.
pub const RATE_WINDOW_MS: u64 = 60_000;
/// A bound on the samples kept, whatever the tick interval.
pub const MAX_SAMPLES: usize = 400;

/// What the policy observes at one tick.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The provider's reading, or why it failed.
    pub metrics: Result<&'a QueueMetrics, &'a str>,
    /// desiredCount now (pending tasks included).
    pub current: u32,
    /// Tasks running now.
    pub running: u32,
    pub now_ms: u64,
}

/// The backlog the policy scales on.
pub fn backlog(policy: &PolicySettings, metrics: &QueueMetrics) -> u64 {
    if policy.use_combined_messages {
        metrics.visible.saturating_add(metrics.in_flight)
    } else {
        metrics.visible
    }
}

fn backlog_label(policy: &PolicySettings) -> &'static str {
    if policy.use_combined_messages {
        "visible+in-flight"
    } else {
        "visible"
    }
}

/// Float to task count: truncates, saturating at the ends (NaN becomes 0).
fn tasks(x: f64) -> u64 {
    x.trunc() as u64
}

/// Float to task count, rounding up (NaN becomes 0, infinity saturates).
fn tasks_ceil(x: f64) -> u64 {
    x.ceil() as u64
}

/// The tasks the backlog alone needs, for the emergency tier. The predictive
/// policy divides by the same task throughput its base rule uses, measured where
/// the queue reports consumption: a misconfigured one would otherwise size the
/// emergency jump wrongly exactly when it matters most.
fn tasks_for_backlog(kind: &PolicyKind, measured_throughput: Option<f64>, total: u64) -> u64 {
    let total = total as f64;
    tasks_ceil(match *kind {
        PolicyKind::Step {
            tasks_per_message, ..
        } => total * tasks_per_message,
        PolicyKind::Target { messages_per_task } => total / messages_per_task,
        PolicyKind::Predictive {
            task_throughput,
            target_drain_s,
            ..
        } => {
            let mu = measured_throughput.unwrap_or(task_throughput);
            total / (mu * target_drain_s as f64)
        }
    })
}

/// The task throughput measured now, or else the last one measured (kept in the
/// memory); `None` until the queue service has shown enough saturated work.
fn measured_throughput_or_last(memory: &Memory, now_ms: u64) -> Option<f64> {
    measured_throughput(&memory.samples, now_ms)
        .or(memory.throughput_micro.map(|m| m as f64 / 1e6))
        .filter(|m| *m > 0.0)
}

/// Tasks busy now, as far as the queue shows: all running ones while messages wait,
/// otherwise one per in-flight message (a task holds the message it works on).
pub fn busy_tasks(metrics: &QueueMetrics, running: u32) -> u32 {
    if metrics.visible > 0 {
        running
    } else {
        running.min(u32::try_from(metrics.in_flight).unwrap_or(u32::MAX))
    }
}

/// The oldest sample inside the rate window (and at least a second old).
fn window_start(samples: &[Sample], now_ms: u64) -> Option<&Sample> {
    samples
        .iter()
        .find(|s| s.at_ms + RATE_WINDOW_MS >= now_ms && s.at_ms + 1000 <= now_ms)
}

/// The arrival rate (messages/s) over the rate window: the backlog's growth plus
/// what was consumed meanwhile. Consumption is counted when the provider reports
/// a consumption counter, and otherwise estimated as `task_throughput` per busy
/// task. `None` without a sample old enough.
pub fn arrival_rate(
    samples: &[Sample],
    total: u64,
    busy: u32,
    dequeued: Option<u64>,
    task_throughput: f64,
    now_ms: u64,
) -> Option<f64> {
    let oldest = window_start(samples, now_ms)?;
    let dt = (now_ms - oldest.at_ms) as f64 / 1000.0;
    let growth = (total as f64 - oldest.backlog as f64) / dt;
    let worked = match (oldest.dequeued, dequeued) {
        // A counter that went back (a broker restart) says nothing; estimate instead.
        (Some(then), Some(now)) if now >= then => (now - then) as f64 / dt,
        _ => task_throughput * f64::from(oldest.busy.min(busy)),
    };
    Some((growth + worked).max(0.0))
}

/// Busy task-seconds a measured throughput needs before it replaces the configured
/// one: a few tasks for several ticks, so one slow message does not skew it.
pub const MIN_MEASURED_TASK_SECONDS: f64 = 60.0;

/// The throughput one task really achieves (messages/s), measured over the rate
/// window from the provider's consumption counter: messages consumed while
/// messages were waiting (every running task busy, so consumption shows capacity
/// and not demand), per busy task-second. `None` without a counter, without
/// [`MIN_MEASURED_TASK_SECONDS`] of saturated work, or with a counter that went back.
pub fn measured_throughput(samples: &[Sample], now_ms: u64) -> Option<f64> {
    let start = samples
        .iter()
        .position(|s| s.at_ms + RATE_WINDOW_MS >= now_ms)?;
    let window = &samples[start..];
    let (mut consumed, mut task_seconds) = (0.0, 0.0);
    for pair in window.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (Some(from), Some(to)) = (a.dequeued, b.dequeued) else {
            continue;
        };
        if to < from || b.at_ms <= a.at_ms {
            return None;
        }
        // Saturated at both ends: messages waited, so every running task was busy.
        if a.backlog > 0 && b.backlog > 0 && a.busy == a.running && a.busy > 0 {
            let dt = (b.at_ms - a.at_ms) as f64 / 1000.0;
            consumed += (to - from) as f64;
            // The larger count: tasks that started meanwhile may have worked part of
            // it, and erring low on throughput errs toward capacity.
            task_seconds += (f64::from(a.busy) + f64::from(b.busy)) / 2.0 * dt;
        }
    }
    (task_seconds >= MIN_MEASURED_TASK_SECONDS && consumed > 0.0).then(|| consumed / task_seconds)
}

/// The base rule's wanted count, before tiers, bounds and limits.
fn base_wanted(
    policy: &PolicySettings,
    observed: &Observation<'_>,
    memory: &Memory,
    measured: Option<f64>,
    total: u64,
    busy: u32,
) -> (u64, String) {
    let label = backlog_label(policy);
    let min = u64::from(policy.min_tasks);
    let cur = u64::from(observed.current);
    match policy.kind {
        PolicyKind::Step {
            scale_up_threshold,
            scale_down_threshold,
            tasks_per_message,
            max_scale_down_factor,
        } => {
            let total_f = total as f64;
            if total_f > scale_up_threshold {
                let mut add = tasks(total_f * tasks_per_message);
                if add == 0 && total > 0 {
                    add = 1;
                }
                // The final clamp applies the original's min(MAX_TASKS, current + add).
                (
                    cur.saturating_add(add),
                    format!("{label} {total} > scale_up_threshold {scale_up_threshold}: add {add} task(s)"),
                )
            } else if total_f < scale_down_threshold {
                let target = min.max(tasks(total_f * tasks_per_message));
                let floor = tasks(cur as f64 * max_scale_down_factor);
                (
                    target.max(floor),
                    format!(
                        "{label} {total} < scale_down_threshold {scale_down_threshold}: \
                         target {target}, scale-down floor {floor} ({cur} × {max_scale_down_factor})"
                    ),
                )
            } else {
                (cur, format!("{label} {total} within thresholds [{scale_down_threshold}, {scale_up_threshold}]"))
            }
        }
        PolicyKind::Target { messages_per_task } => {
            let needed = (total as f64 / messages_per_task).ceil();
            let wanted = if needed.is_finite() {
                needed as u64
            } else {
                u64::from(policy.max_tasks)
            };
            (
                wanted,
                format!(
                    "{label} {total} / {messages_per_task} messages per task = {wanted} task(s)"
                ),
            )
        }
        PolicyKind::Predictive {
            task_throughput,
            task_startup_s,
            target_drain_s,
        } => {
            // The measured throughput, where the queue service reports consumption;
            // the configured one otherwise (and until enough saturated work was seen).
            let mu = measured.unwrap_or(task_throughput);
            let mu_text = match measured {
                Some(m) => format!("{m:.2}/s each (measured)"),
                None => format!("{task_throughput}/s each"),
            };
            let dequeued = observed.metrics.ok().and_then(|m| m.dequeued_total);
            let rate = arrival_rate(&memory.samples, total, busy, dequeued, mu, observed.now_ms);
            let lambda = rate.unwrap_or(0.0);
            // Over the start-up delay, running tasks work the whole time and pending
            // ones (started at unknown times) about half of it.
            let pending = observed.current.saturating_sub(observed.running);
            let startup = task_startup_s as f64;
            let capacity = mu * startup * (f64::from(observed.running) + f64::from(pending) / 2.0);
            let expected = (total as f64 + lambda * startup - capacity).max(0.0);
            let wanted = tasks_ceil((lambda + expected / target_drain_s as f64) / mu);
            let rate_text = match rate {
                Some(r) => format!("arrivals ≈ {r:.1}/s"),
                None => "arrival rate not known yet (no sample in the last minute)".into(),
            };
            (
                wanted,
                format!(
                    "{label} {total}, {rate_text}, expected backlog after {task_startup_s}s start-up ≈ {expected:.0}: \
                     {wanted} task(s) at {mu_text} to drain it in {target_drain_s}s"
                ),
            )
        }
    }
}

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
    };
    recommend_with_memory(policy, &observed, &Memory::default()).0
}

/// Step 1: the count the policy wants, ignoring cooldowns, and the memory to keep.
///
/// A failed reading is `hold`, or after `fallback.after_failures` consecutive
/// failures a scale-out to the fallback count (never a scale-in). Otherwise the base
/// rule's count goes through, in order: the emergency tier, activation and scale
/// to zero, the step limits, the bounds, and scale-in stabilization.
pub fn recommend_with_memory(
    policy: &PolicySettings,
    observed: &Observation<'_>,
    memory: &Memory,
) -> (Decision, Memory) {
    let current = observed.current;
    let now = observed.now_ms;
    let mut next = memory.clone();
    let metrics = match observed.metrics {
        Ok(m) => m,
        Err(why) => {
            next.metric_failures = next.metric_failures.saturating_add(1);
            let failures = next.metric_failures;
            let decision = match policy.fallback {
                Some(fallback)
                    if failures >= fallback.after_failures && fallback.tasks > current =>
                {
                    let to = fallback.tasks.min(policy.max_tasks).max(current);
                    Decision {
                        action: if to > current { Action::ScaleOut } else { Action::None },
                        new_desired: to,
                        reason: format!(
                            "metrics unavailable ({why}) {failures} time(s) in a row: fallback to {} task(s); {current} → {to}",
                            fallback.tasks
                        ),
                        cooldown_remaining_s: 0,
                        emergency: false,
                    }
                }
                _ => Decision::hold(current, format_args!("metrics unavailable ({why})")),
            };
            return (decision, next);
        }
    };
    next.metric_failures = 0;
    let total = backlog(policy, metrics);
    let queue_empty = metrics.visible == 0 && metrics.in_flight == 0;
    next.empty_since_ms = if queue_empty {
        Some(memory.empty_since_ms.unwrap_or(now).min(now))
    } else {
        None
    };

    let busy = busy_tasks(metrics, observed.running);
    // The predictive rule and the emergency tier size with the same throughput.
    let measured = measured_throughput_or_last(memory, now);
    let (mut wanted, mut why) = base_wanted(policy, observed, memory, measured, total, busy);
    let cur = u64::from(current);
    let min = u64::from(policy.min_tasks);
    let max = u64::from(policy.max_tasks);

    let mut emergency = false;
    if let Some(critical) = policy.emergency_backlog.filter(|c| total >= *c) {
        let needed = tasks_for_backlog(&policy.kind, measured, total);
        if needed.max(wanted) > cur {
            emergency = true;
            wanted = wanted.max(needed);
            why.push_str(&format!(
                "; emergency tier: backlog {total} ≥ {critical}, straight to {wanted}"
            ));
        }
    }

    // Activation: a service at zero starts only for a backlog above the threshold.
    if current == 0 && policy.min_tasks == 0 {
        if total <= policy.activation_backlog {
            if wanted > 0 {
                why.push_str(&format!(
                    "; at 0 tasks and backlog {total} ≤ activation_backlog {}: stay at 0",
                    policy.activation_backlog
                ));
            }
            wanted = 0;
        } else {
            wanted = wanted.max(1);
        }
    }
    // Scale to zero only after the queue has been empty long enough.
    if wanted == 0 && current > 0 {
        if let Some(after_s) = policy.scale_to_zero_after_s {
            let empty_for_ms = next.empty_since_ms.map(|since| now - since);
            if empty_for_ms.is_none_or(|ms| ms < after_s.saturating_mul(1000)) {
                wanted = 1;
                why.push_str(&format!(
                    "; keeping 1 task until the queue has been empty for {after_s}s (empty for {}s)",
                    empty_for_ms.unwrap_or(0) / 1000
                ));
            }
        }
    }

    if !emergency {
        if let Some(step) = policy.max_scale_out_step.map(u64::from) {
            if wanted > cur.saturating_add(step) {
                wanted = cur + step;
                why.push_str(&format!("; limited to +{step} by max_scale_out_step"));
            }
        }
    }
    if let Some(step) = policy.max_scale_in_step.map(u64::from) {
        if wanted.saturating_add(step) < cur {
            wanted = cur - step;
            why.push_str(&format!("; limited to -{step} by max_scale_in_step"));
        }
    }

    let bounded = wanted.clamp(min, max);
    if bounded != wanted {
        why.push_str(&format!(", bounded to [{min}, {max}]"));
    }
    // The clamp keeps `bounded` within u32 because both bounds are u32.
    let recommended = u32::try_from(bounded).unwrap_or(policy.max_tasks);
    let mut new_desired = recommended;

    // Stabilization: scale in only to the highest recommendation of the window.
    if policy.scale_in_stabilization_s > 0 && new_desired < current {
        let window_ms = policy.scale_in_stabilization_s.saturating_mul(1000);
        let highest = memory
            .samples
            .iter()
            .filter(|s| s.at_ms.saturating_add(window_ms) >= now && s.at_ms <= now)
            .map(|s| s.recommended)
            .max()
            .unwrap_or(new_desired);
        let stabilized = highest.clamp(new_desired, current);
        if stabilized != new_desired {
            why.push_str(&format!(
                "; stabilized to {stabilized}, the highest recommendation of the last {}s",
                policy.scale_in_stabilization_s
            ));
            new_desired = stabilized;
        }
    }

    if policy.needs_memory() {
        next.samples.push(Sample {
            at_ms: now,
            backlog: total,
            running: observed.running,
            busy,
            recommended,
            dequeued: metrics.dequeued_total,
        });
        let keep_ms = RATE_WINDOW_MS.max(policy.scale_in_stabilization_s.saturating_mul(1000));
        next.samples
            .retain(|s| s.at_ms <= now && s.at_ms.saturating_add(keep_ms) >= now);
        let excess = next.samples.len().saturating_sub(MAX_SAMPLES);
        next.samples.drain(..excess);
        if let Some(measured) = measured_throughput(&next.samples, now) {
            next.throughput_micro = Some((measured * 1e6).round() as u64);
        }
    }

    let action = match new_desired.cmp(&current) {
        std::cmp::Ordering::Greater => Action::ScaleOut,
        std::cmp::Ordering::Less => Action::ScaleIn,
        std::cmp::Ordering::Equal => Action::None,
    };
    let outcome = match action {
        Action::None => format!("; stay at {current}"),
        _ => format!("; {current} → {new_desired}"),
    };
    let decision = Decision {
        action,
        new_desired,
        reason: format!("{why}{outcome}"),
        cooldown_remaining_s: 0,
        emergency: emergency && action == Action::ScaleOut,
    };
    (decision, next)
}

/// What the state says about past actions, as the cooldown check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// No state yet: the service has never been scaled by us.
    Fresh,
    Known {
        /// The time of the last scaling action in either direction (or repair), if any.
        last_action_ms: Option<u64>,
        /// The time of the last scale-out, if any.
        last_scale_out_ms: Option<u64>,
    },
    /// The state exists but cannot be trusted (corrupt, wrong version).
    Unreadable,
}

/// Step 2: whether a proposed change may happen at `now_ms`.
///
/// Scale-out waits `scale_out_cooldown_s` after the last scale-out, unless it is an
/// emergency; scale-in waits `scale_in_cooldown_s` after the last action in either
/// direction, and is denied when the state is unreadable.
pub fn apply_cooldown(
    policy: &PolicySettings,
    proposed: Decision,
    history: History,
    now_ms: u64,
    current: u32,
) -> Decision {
    let remaining = |since: Option<u64>, cooldown_s: u64| -> u64 {
        since.map_or(0, |last| {
            last.saturating_add(cooldown_s.saturating_mul(1000))
                .saturating_sub(now_ms)
        })
    };
    let (in_remaining_ms, out_remaining_ms) = match history {
        History::Fresh => (0, 0),
        History::Known {
            last_action_ms,
            last_scale_out_ms,
        } => (
            remaining(last_action_ms, policy.scale_in_cooldown_s),
            remaining(last_scale_out_ms, policy.scale_out_cooldown_s),
        ),
        History::Unreadable => (policy.scale_in_cooldown_s.saturating_mul(1000), 0),
    };
    let cooldown_remaining_s = in_remaining_ms.div_ceil(1000);
    match proposed.action {
        Action::ScaleIn if history == History::Unreadable => Decision {
            action: Action::Hold,
            new_desired: current,
            reason: format!(
                "{}; scale-in denied: the scaling state is unreadable",
                proposed.reason
            ),
            cooldown_remaining_s,
            emergency: false,
        },
        Action::ScaleIn if in_remaining_ms > 0 => Decision {
            action: Action::None,
            new_desired: current,
            reason: format!(
                "{}; scale-in waits for cooldown ({cooldown_remaining_s}s of {}s left)",
                proposed.reason, policy.scale_in_cooldown_s
            ),
            cooldown_remaining_s,
            emergency: false,
        },
        Action::ScaleOut if out_remaining_ms > 0 && !proposed.emergency => Decision {
            action: Action::None,
            new_desired: current,
            reason: format!(
                "{}; scale-out waits for cooldown ({}s of {}s left)",
                proposed.reason,
                out_remaining_ms.div_ceil(1000),
                policy.scale_out_cooldown_s
            ),
            cooldown_remaining_s,
            emergency: false,
        },
        _ => Decision {
            cooldown_remaining_s,
            ..proposed
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(
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

    fn visible(n: u64) -> QueueMetrics {
        QueueMetrics {
            visible: n,
            in_flight: 0,
            delayed: 0,
            dequeued_total: None,
        }
    }

    /// The original autoscaler's documented cases.
    #[test]
    fn step_matches_the_original() {
        let known = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let cases = [
            (10, 50, 10, Action::None),
            (10, 200, 12, Action::ScaleOut),
            (10, 5, 5, Action::ScaleIn),
            (90, 5000, 100, Action::ScaleOut),
        ];
        for (current, total, expected, action) in cases {
            let d = recommend(&known, Ok(&visible(total)), current);
            assert_eq!(
                (d.new_desired, d.action),
                (expected, action),
                "current {current}, total {total}: {}",
                d.reason
            );
        }
        let min3 = step(3, 100, 100.0, 10.0, 0.01, 0.5);
        assert_eq!(recommend(&min3, Ok(&visible(1)), 5).new_desired, 3);
    }

    #[test]
    fn step_adds_at_least_one_task_above_threshold() {
        let policy = step(1, 100, 100.0, 10.0, 0.001, 0.5);
        let d = recommend(&policy, Ok(&visible(150)), 4);
        assert_eq!(d.new_desired, 5, "{}", d.reason);
    }

    #[test]
    fn combined_messages_count_in_flight() {
        let mut policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let m = QueueMetrics {
            visible: 60,
            in_flight: 60,
            delayed: 0,
            dequeued_total: None,
        };
        assert_eq!(recommend(&policy, Ok(&m), 10).action, Action::None);
        policy.use_combined_messages = true;
        let d = recommend(&policy, Ok(&m), 10);
        assert_eq!(d.new_desired, 11, "{}", d.reason);
        assert!(d.reason.contains("visible+in-flight 120"), "{}", d.reason);
    }

    #[test]
    fn current_outside_bounds_is_brought_back() {
        let policy = step(5, 20, 100.0, 10.0, 0.01, 0.5);
        assert_eq!(recommend(&policy, Ok(&visible(50)), 40).new_desired, 20);
        assert_eq!(recommend(&policy, Ok(&visible(50)), 0).new_desired, 5);
    }

    #[test]
    fn target_policy() {
        let mut policy = step(1, 50, 0.0, 0.0, 1.0, 1.0);
        policy.kind = PolicyKind::Target {
            messages_per_task: 100.0,
        };
        assert_eq!(recommend(&policy, Ok(&visible(1001)), 3).new_desired, 11);
        assert_eq!(recommend(&policy, Ok(&visible(0)), 3).new_desired, 1);
        assert_eq!(
            recommend(&policy, Ok(&visible(1_000_000)), 3).new_desired,
            50
        );
        assert_eq!(
            recommend(&policy, Ok(&visible(300)), 3).action,
            Action::None
        );
    }

    #[test]
    fn metrics_failure_holds() {
        let policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let d = recommend(&policy, Err("throttled"), 40);
        assert_eq!((d.action, d.new_desired), (Action::Hold, 40));
        assert!(d.reason.contains("throttled"), "{}", d.reason);
    }

    #[test]
    fn cooldown_gates_scale_in_only() {
        let policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let now = 1_000_000;
        let recent = History::Known {
            last_action_ms: Some(now - 30_000),
            last_scale_out_ms: None,
        };
        let scale_in = recommend(&policy, Ok(&visible(5)), 10);
        let d = apply_cooldown(&policy, scale_in.clone(), recent, now, 10);
        assert_eq!(
            (d.action, d.new_desired, d.cooldown_remaining_s),
            (Action::None, 10, 90),
            "{}",
            d.reason
        );

        let old = History::Known {
            last_action_ms: Some(now - 120_000),
            last_scale_out_ms: Some(now - 120_000),
        };
        assert_eq!(
            apply_cooldown(&policy, scale_in.clone(), old, now, 10).action,
            Action::ScaleIn
        );
        assert_eq!(
            apply_cooldown(&policy, scale_in.clone(), History::Fresh, now, 10).action,
            Action::ScaleIn
        );
        assert_eq!(
            apply_cooldown(&policy, scale_in, History::Unreadable, now, 10).action,
            Action::Hold
        );

        let scale_out = recommend(&policy, Ok(&visible(500)), 10);
        for history in [recent, History::Unreadable, History::Fresh] {
            assert_eq!(
                apply_cooldown(&policy, scale_out.clone(), history, now, 10).action,
                Action::ScaleOut
            );
        }
    }

    fn at(metrics: &QueueMetrics, current: u32, running: u32, now_ms: u64) -> Observation<'_> {
        Observation {
            metrics: Ok(metrics),
            current,
            running,
            now_ms,
        }
    }

    fn target(min: u32, max: u32, per_task: f64) -> PolicySettings {
        PolicySettings {
            min_tasks: min,
            max_tasks: max,
            kind: PolicyKind::Target {
                messages_per_task: per_task,
            },
            ..PolicySettings::default()
        }
    }

    #[test]
    fn scale_out_waits_for_its_cooldown_unless_it_is_an_emergency() {
        let mut policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let now = 1_000_000;
        let just_scaled = History::Known {
            last_action_ms: Some(now - 30_000),
            last_scale_out_ms: Some(now - 30_000),
        };
        let proposed = recommend(&policy, Ok(&visible(500)), 10);
        let d = apply_cooldown(&policy, proposed, just_scaled, now, 10);
        assert_eq!(d.action, Action::None, "{}", d.reason);
        assert!(
            d.reason.contains("scale-out waits for cooldown (90s"),
            "{}",
            d.reason
        );

        policy.emergency_backlog = Some(5_000);
        let proposed = recommend(&policy, Ok(&visible(6_000)), 10);
        assert!(proposed.emergency, "{}", proposed.reason);
        // The larger of the step rule (10 + 60) and the backlog's need (6000 × 0.01).
        assert_eq!(proposed.new_desired, 70, "{}", proposed.reason);
        let d = apply_cooldown(&policy, proposed, just_scaled, now, 10);
        assert_eq!(d.action, Action::ScaleOut, "{}", d.reason);
        assert!(d.reason.contains("emergency tier"), "{}", d.reason);
        // Below the critical backlog it is an ordinary scale-out.
        assert!(!recommend(&policy, Ok(&visible(4_999)), 10).emergency);
    }

    #[test]
    fn step_limits_bound_each_change_but_not_an_emergency() {
        let mut policy = target(1, 100, 10.0);
        policy.max_scale_out_step = Some(5);
        policy.max_scale_in_step = Some(3);
        assert_eq!(recommend(&policy, Ok(&visible(500)), 10).new_desired, 15);
        assert_eq!(recommend(&policy, Ok(&visible(0)), 10).new_desired, 7);
        policy.emergency_backlog = Some(400);
        assert_eq!(recommend(&policy, Ok(&visible(500)), 10).new_desired, 50);
    }

    #[test]
    fn stabilization_scales_in_to_the_highest_recent_recommendation() {
        let mut policy = target(1, 100, 10.0);
        policy.scale_in_stabilization_s = 60;
        let mut memory = Memory::default();
        let mut current = 1;
        // 200 messages at t=0 s want 20 tasks; the queue then empties.
        for (t, backlog) in [(0, 200), (20, 0), (40, 0), (59, 0), (70, 0)] {
            let m = visible(backlog);
            let (d, next) =
                recommend_with_memory(&policy, &at(&m, current, current, t * 1000), &memory);
            memory = next;
            match t {
                0 => assert_eq!(d.new_desired, 20),
                20 | 40 | 59 => {
                    assert_eq!(
                        (d.action, d.new_desired),
                        (Action::None, 20),
                        "t={t}: {}",
                        d.reason
                    )
                }
                _ => assert_eq!(d.new_desired, 1, "t={t}: {}", d.reason),
            }
            current = d.new_desired;
        }
    }

    #[test]
    fn scale_to_zero_needs_activation_and_a_quiet_period() {
        let mut policy = target(0, 10, 10.0);
        policy.activation_backlog = 5;
        policy.scale_to_zero_after_s = Some(300);
        let empty = Memory::default();
        // At zero, a backlog at the activation threshold starts nothing; above it, one task or more.
        let (d, _) = recommend_with_memory(&policy, &at(&visible(5), 0, 0, 0), &empty);
        assert_eq!((d.action, d.new_desired), (Action::None, 0), "{}", d.reason);
        let (d, _) = recommend_with_memory(&policy, &at(&visible(6), 0, 0, 0), &empty);
        assert_eq!(d.new_desired, 1, "{}", d.reason);
        // An empty queue keeps one task until it has been empty for 300 s, in-flight included.
        let busy = QueueMetrics {
            visible: 0,
            in_flight: 2,
            delayed: 0,
            dequeued_total: None,
        };
        let (d, memory) = recommend_with_memory(&policy, &at(&busy, 2, 2, 0), &empty);
        assert_eq!(d.new_desired, 1, "{}", d.reason);
        assert_eq!(memory.empty_since_ms, None);
        let (_, memory) = recommend_with_memory(&policy, &at(&visible(0), 1, 1, 10_000), &memory);
        assert_eq!(memory.empty_since_ms, Some(10_000));
        let (d, memory) = recommend_with_memory(&policy, &at(&visible(0), 1, 1, 309_000), &memory);
        assert_eq!(d.new_desired, 1, "{}", d.reason);
        let (d, _) = recommend_with_memory(&policy, &at(&visible(0), 1, 1, 310_000), &memory);
        assert_eq!(
            (d.action, d.new_desired),
            (Action::ScaleIn, 0),
            "{}",
            d.reason
        );
    }

    #[test]
    fn fallback_raises_after_consecutive_failures_and_never_lowers() {
        let mut policy = target(1, 50, 10.0);
        policy.fallback = Some(Fallback {
            tasks: 8,
            after_failures: 3,
        });
        let failed = Observation {
            metrics: Err("timeout"),
            current: 4,
            running: 4,
            now_ms: 0,
        };
        let mut memory = Memory::default();
        for n in 1..=3 {
            let (d, next) = recommend_with_memory(&policy, &failed, &memory);
            memory = next;
            assert_eq!(memory.metric_failures, n);
            if n < 3 {
                assert_eq!(d.action, Action::Hold, "{}", d.reason);
            } else {
                assert_eq!(
                    (d.action, d.new_desired),
                    (Action::ScaleOut, 8),
                    "{}",
                    d.reason
                );
            }
        }
        // Above the fallback count, failures hold: never a scale-in.
        let (d, _) = recommend_with_memory(
            &policy,
            &Observation {
                current: 20,
                ..failed
            },
            &memory,
        );
        assert_eq!((d.action, d.new_desired), (Action::Hold, 20));
        // A good reading resets the count.
        let (_, memory) = recommend_with_memory(&policy, &at(&visible(40), 4, 4, 0), &memory);
        assert_eq!(memory.metric_failures, 0);
    }

    /// Predictive at a configured 1 msg/s per task, 45 s start-up, 60 s drain, 1–500 tasks.
    fn predictive_policy() -> PolicySettings {
        PolicySettings {
            kind: PolicyKind::Predictive {
                task_throughput: 1.0,
                task_startup_s: 45,
                target_drain_s: 60,
            },
            min_tasks: 1,
            max_tasks: 500,
            ..PolicySettings::default()
        }
    }

    #[test]
    fn predictive_provisions_for_arrivals_and_the_backlog_after_start_up() {
        let policy = predictive_policy();
        // 10 running tasks, backlog 100 growing to 500 in 10 s: 40/s growth + 10/s worked = 50/s.
        let (_, memory) =
            recommend_with_memory(&policy, &at(&visible(100), 10, 10, 0), &Memory::default());
        let (d, memory) =
            recommend_with_memory(&policy, &at(&visible(500), 10, 10, 10_000), &memory);
        let rate = arrival_rate(&memory.samples[..1], 500, 10, None, 1.0, 10_000).unwrap();
        assert!((rate - 50.0).abs() < 1e-9, "{rate}");
        // Expected backlog after 45 s: 500 + 50×45 − 10×45 = 2300; (50 + 2300/60) / 1 = 88.3 → 89.
        assert_eq!(d.new_desired, 89, "{}", d.reason);
        assert!(d.reason.contains("arrivals ≈ 50.0/s"), "{}", d.reason);
        // With no history yet the estimate is the backlog alone, less what the one
        // running task works off meanwhile: (500 − 45) / 60 → 8 tasks.
        let d = recommend(&policy, Ok(&visible(500)), 1);
        assert_eq!(d.new_desired, 8, "{}", d.reason);
        assert!(d.reason.contains("not known yet"), "{}", d.reason);
        // An empty queue with busy tasks (in flight) keeps them: arrivals ≈ their rate.
        let steady = QueueMetrics {
            visible: 0,
            in_flight: 12,
            delayed: 0,
            dequeued_total: None,
        };
        let (_, memory) =
            recommend_with_memory(&policy, &at(&steady, 20, 20, 0), &Memory::default());
        let (d, _) = recommend_with_memory(&policy, &at(&steady, 20, 20, 30_000), &memory);
        assert_eq!(d.new_desired, 12, "{}", d.reason);
    }

    fn counted(visible: u64, dequeued: u64) -> QueueMetrics {
        QueueMetrics {
            visible,
            in_flight: 0,
            delayed: 0,
            dequeued_total: Some(dequeued),
        }
    }

    #[test]
    fn the_emergency_tier_sizes_with_the_measured_throughput() {
        // Configured at 1 msg/s per task; 4 msg/s was measured earlier and kept.
        let policy = PolicySettings {
            emergency_backlog: Some(1_000),
            ..predictive_policy()
        };
        let memory = Memory {
            throughput_micro: Some(4_000_000),
            ..Memory::default()
        };
        let reading = counted(6_000, 0);
        let (d, _) = recommend_with_memory(&policy, &at(&reading, 5, 5, 0), &memory);
        // 6000 / (4/s × 60 s) = 25 tasks, where the configured 1/s would jump to 100.
        assert_eq!(d.new_desired, 25, "{}", d.reason);
        assert!(
            d.emergency && d.reason.contains("emergency tier"),
            "{}",
            d.reason
        );

        // With nothing measured, the configured throughput sizes it.
        let (d, _) = recommend_with_memory(&policy, &at(&reading, 5, 5, 0), &Memory::default());
        assert_eq!(d.new_desired, 100, "{}", d.reason);
    }

    #[test]
    fn predictive_measures_the_throughput_where_the_queue_counts_consumption() {
        // Configured at 1 msg/s per task, but the 10 tasks really consume 2 msg/s each.
        let policy = predictive_policy();
        let mut memory = Memory::default();
        let mut decision = None;
        // Arrivals of 30/s against 20/s consumed: the backlog grows by 10/s.
        for tick in 0..7u64 {
            let at_ms = tick * 10_000;
            let reading = counted(1_000 + 100 * tick, 200 * tick);
            let (d, next) = recommend_with_memory(&policy, &at(&reading, 10, 10, at_ms), &memory);
            memory = next;
            decision = Some(d);
        }
        let d = decision.expect("decided");
        let measured = measured_throughput(&memory.samples, 60_000).expect("measured");
        assert!((measured - 2.0).abs() < 1e-9, "{measured}");
        assert!(d.reason.contains("2.00/s each (measured)"), "{}", d.reason);
        assert!(d.reason.contains("arrivals ≈ 30.0/s"), "{}", d.reason);
        // Expected backlog after 45 s: 1600 + 30×45 − 20×45 = 2050;
        // (30 + 2050/60) / 2 = 32.1 → 33 tasks, where the configured 1/s would want 65.
        assert_eq!(d.new_desired, 33, "{}", d.reason);

        // Too little saturated work, a counter that went back, or no counter at
        // all: the configured throughput stands.
        assert_eq!(measured_throughput(&memory.samples[..1], 10_000), None);
        let mut restarted = memory.samples.clone();
        if let Some(last) = restarted.last_mut() {
            last.dequeued = Some(0);
        }
        assert_eq!(measured_throughput(&restarted, 60_000), None);
        let mut uncounted = memory.samples.clone();
        uncounted.iter_mut().for_each(|s| s.dequeued = None);
        assert_eq!(measured_throughput(&uncounted, 60_000), None);
        // An idle queue (nothing waiting) shows demand, not capacity: not measured.
        let mut idle = memory.samples.clone();
        idle.iter_mut().for_each(|s| s.backlog = 0);
        assert_eq!(measured_throughput(&idle, 60_000), None);
    }
}
