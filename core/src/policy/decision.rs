//! What the policy sees and what it answers: an [`Observation`] in, a [`Decision`]
//! with its human-readable reason out.

use std::fmt;

use crate::forecast::Pattern;
use crate::metrics::QueueMetrics;
use crate::target::TargetLimits;
use serde::{Deserialize, Serialize};

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

    /// The action that takes `current` to `new_desired`.
    pub fn between(current: u32, new_desired: u32) -> Self {
        match new_desired.cmp(&current) {
            std::cmp::Ordering::Greater => Action::ScaleOut,
            std::cmp::Ordering::Less => Action::ScaleIn,
            std::cmp::Ordering::Equal => Action::None,
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
    /// This worker set the new desiredCount in ECS (its UpdateService succeeded).
    /// Only such decisions count as scaling actions in the metrics.
    #[serde(skip)]
    pub applied: bool,
    /// An operator's pause decided this (see [`crate::pause`]).
    #[serde(skip)]
    pub paused: bool,
    /// The surge anticipation prepared for at this tick, if any.
    #[serde(skip)]
    pub prewarm: Option<Prewarm>,
}

/// What anticipation prepared for at one tick (see
/// [`crate::policy::modifiers::anticipation`]): for the decision's log line and
/// metrics, so that a pre-warm can be seen, counted and alarmed on without
/// parsing its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prewarm {
    /// The start of the minute the surge is expected in, in Unix seconds.
    pub surge_at_s: u64,
    /// The tasks the surge needs.
    pub tasks: u32,
    /// Of them, those above the reactive rule's count (at least `min_tasks`):
    /// what anticipation added (in forecast-only mode, would have added). 0 when
    /// the reactive rule already wants as many.
    pub added: u32,
    /// Forecast-only mode: nothing was added.
    pub forecast_only: bool,
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
            applied: false,
            paused: false,
            prewarm: None,
        }
    }

    /// Keep the count, which could not be read, because something failed: the
    /// reason says the count is unknown rather than a number never set.
    pub fn hold_unknown(why: impl fmt::Display) -> Self {
        Decision {
            reason: format!("{why}; holding, its count unknown"),
            ..Decision::hold(0, "")
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
            applied: false,
            paused: false,
            prewarm: None,
        }
    }

    /// This decision not carried out: the count stays at `current`, and the reason
    /// says why after what was proposed.
    pub fn withheld(self, current: u32, action: Action, why: impl fmt::Display) -> Self {
        Decision {
            action,
            new_desired: current,
            reason: format!("{}; {why}", self.reason),
            cooldown_remaining_s: self.cooldown_remaining_s,
            emergency: false,
            applied: false,
            paused: false,
            prewarm: self.prewarm,
        }
    }
}

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
    /// The recurring surges learned from the queue's history, if any: what
    /// anticipation prepares for.
    pub forecast: Option<&'a Pattern>,
    /// The limits the target itself sets on a request (a group's MinSize and
    /// MaxSize, its protected instances), applied after the policy and any
    /// pause (see [`crate::target`]).
    pub limits: TargetLimits,
}
