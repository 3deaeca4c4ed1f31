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
//! reading is `hold`, never a scale-down; the result is always within the bounds;
//! scale-out never waits for a cooldown; scale-in waits `scale_in_cooldown` seconds
//! after the last action in either direction, and is denied when the state that
//! would prove it is unreadable.

use std::fmt;

use fast_autoscaler_providers::QueueMetrics;
use serde::{Deserialize, Serialize};

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
}

impl Decision {
    /// Keep the current count because something failed.
    pub fn hold(current: u32, why: impl fmt::Display) -> Self {
        Decision {
            action: Action::Hold,
            new_desired: current,
            reason: format!("{why}; holding at {current}"),
            cooldown_remaining_s: 0,
        }
    }
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

/// Step 1: the count the policy wants, ignoring cooldowns.
///
/// `metrics` is the provider's reading or the reason it failed; a failure is `hold`.
pub fn recommend(
    policy: &PolicySettings,
    metrics: Result<&QueueMetrics, &str>,
    current: u32,
) -> Decision {
    let metrics = match metrics {
        Ok(m) => m,
        Err(why) => return Decision::hold(current, format_args!("metrics unavailable ({why})")),
    };
    let total = backlog(policy, metrics);
    let label = backlog_label(policy);
    let min = u64::from(policy.min_tasks);
    let max = u64::from(policy.max_tasks);
    let cur = u64::from(current);

    let (wanted, why) = match policy.kind {
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
                max
            };
            (
                wanted,
                format!(
                    "{label} {total} / {messages_per_task} messages per task = {wanted} task(s)"
                ),
            )
        }
    };

    let new = wanted.clamp(min, max);
    let bounds_note = if new != wanted {
        format!(", bounded to [{min}, {max}]")
    } else {
        String::new()
    };
    // The clamp keeps `new` within u32 because both bounds are u32.
    let new_desired = u32::try_from(new).unwrap_or(policy.max_tasks);
    let action = match new_desired.cmp(&current) {
        std::cmp::Ordering::Greater => Action::ScaleOut,
        std::cmp::Ordering::Less => Action::ScaleIn,
        std::cmp::Ordering::Equal => Action::None,
    };
    let outcome = match action {
        Action::None => format!("; stay at {current}"),
        _ => format!("; {current} → {new_desired}"),
    };
    Decision {
        action,
        new_desired,
        reason: format!("{why}{bounds_note}{outcome}"),
        cooldown_remaining_s: 0,
    }
}

/// What the state says about past actions, as the cooldown check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// No state yet: the service has never been scaled by us.
    Fresh,
    /// The time of the last scaling action in either direction, if any.
    Known { last_action_ms: Option<u64> },
    /// The state exists but cannot be trusted (corrupt, wrong version).
    Unreadable,
}

/// Step 2: whether a proposed change may happen at `now_ms`.
pub fn apply_cooldown(
    policy: &PolicySettings,
    proposed: Decision,
    history: History,
    now_ms: u64,
    current: u32,
) -> Decision {
    let cooldown_ms = policy.scale_in_cooldown_s.saturating_mul(1000);
    let remaining_ms = match history {
        History::Fresh
        | History::Known {
            last_action_ms: None,
        } => 0,
        History::Known {
            last_action_ms: Some(last),
        } => (last.saturating_add(cooldown_ms)).saturating_sub(now_ms),
        History::Unreadable => cooldown_ms,
    };
    let cooldown_remaining_s = remaining_ms.div_ceil(1000);
    match proposed.action {
        Action::ScaleIn if history == History::Unreadable => Decision {
            action: Action::Hold,
            new_desired: current,
            reason: format!(
                "{}; scale-in denied: the scaling state is unreadable",
                proposed.reason
            ),
            cooldown_remaining_s,
        },
        Action::ScaleIn if remaining_ms > 0 => Decision {
            action: Action::None,
            new_desired: current,
            reason: format!(
                "{}; scale-in waits for cooldown ({cooldown_remaining_s}s of {}s left)",
                proposed.reason, policy.scale_in_cooldown_s
            ),
            cooldown_remaining_s,
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
        }
    }

    fn visible(n: u64) -> QueueMetrics {
        QueueMetrics {
            visible: n,
            in_flight: 0,
            delayed: 0,
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
}
