//! A service's validated scaling policy: what the decision logic runs on once
//! every field has been checked. Nothing here parses; [`super::reader`] builds it.

use serde::Serialize;

use crate::policy::scheduled_bounds::BoundsWindow;

/// The scaling policy of one service, with its bounds and cooldowns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySettings {
    pub min_tasks: u32,
    pub max_tasks: u32,
    /// Seconds after a scale-out before the next one (the emergency tier skips it).
    pub scale_out_cooldown_s: u64,
    /// Seconds since the last scaling action (either direction) before a scale-in.
    pub scale_in_cooldown_s: u64,
    /// Count in-flight messages in the backlog, not only visible ones.
    pub use_combined_messages: bool,
    pub kind: PolicyKind,
    /// At or above this backlog, skip the scale-out cooldown and step limit and go
    /// straight to the count the backlog needs.
    pub emergency_backlog: Option<u64>,
    /// Scale in only to the highest recommendation of this many seconds (0: off).
    pub scale_in_stabilization_s: u64,
    /// How the stabilization window lets idle tasks go: all at its end, or a
    /// share at a time across it.
    pub scale_in_release: ScaleInRelease,
    /// The most tasks one scale-out may add (except in an emergency).
    pub max_scale_out_step: Option<u32>,
    /// The most tasks one scale-in may remove.
    pub max_scale_in_step: Option<u32>,
    /// From 0 tasks, start one only when the backlog exceeds this.
    pub activation_backlog: u64,
    /// Go to 0 tasks only after the queue (in-flight included) has been empty this long.
    pub scale_to_zero_after_s: Option<u64>,
    /// A task count to raise the service to after consecutive metric failures.
    pub fallback: Option<Fallback>,
    /// Windows of the week that replace `min_tasks` and `max_tasks` while they
    /// hold; the first that holds wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scheduled_bounds: Vec<BoundsWindow>,
    /// The target rule's second goal: scale out while the oldest message has
    /// waited longer than this (from the provider's oldest message age).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wait_s: Option<u64>,
    /// Tasks ready before a recurring surge lands (the predictive rule only).
    #[serde(skip_serializing_if = "Anticipation::is_off")]
    pub anticipation: Anticipation,
}

/// Whether, and how surely, recurring surges are prepared for (see
/// [`crate::policy::modifiers::anticipation`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anticipation {
    pub mode: AnticipationMode,
    /// The share of past periods a surge must have come in to be prepared for.
    pub min_confidence: f64,
    /// Surges the configuration announces, before any history shows them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<SurgeHint>,
}

impl Default for Anticipation {
    fn default() -> Self {
        Anticipation {
            mode: AnticipationMode::Off,
            min_confidence: crate::forecast::DEFAULT_CONFIDENCE,
            hints: Vec::new(),
        }
    }
}

impl Anticipation {
    pub fn is_off(&self) -> bool {
        self.mode == AnticipationMode::Off
    }
}

/// What anticipation does with what it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnticipationMode {
    /// Nothing: the reactive rule alone (the default).
    #[default]
    Off,
    /// Tasks ordered ahead of the surges it is confident of.
    On,
    /// Only says, in the reason, what it would have ordered (AWS's ForecastOnly).
    ForecastOnly,
}

impl AnticipationMode {
    /// The accepted values, as the configuration spells them.
    pub const NAMES: &'static str = "off, on or forecast_only";

    pub fn from_name(name: &str) -> Option<AnticipationMode> {
        match name.to_ascii_lowercase().replace('-', "_").as_str() {
            "off" | "false" => Some(AnticipationMode::Off),
            "on" | "true" => Some(AnticipationMode::On),
            "forecast_only" => Some(AnticipationMode::ForecastOnly),
            _ => None,
        }
    }
}

/// A surge announced by the configuration: `messages` at the minutes a
/// five-field cron expression names, in a time zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurgeHint {
    pub cron: String,
    pub timezone: String,
    pub messages: u64,
    /// The expression, parsed once when the configuration was read.
    #[serde(skip)]
    pub schedule: croner::Cron,
}

/// How scale-in stabilization releases the tasks above the current
/// recommendation (see [`crate::policy::modifiers::stabilization`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleInRelease {
    /// Hold the highest recommendation of the window, then release all at once
    /// (KEDA's and the HPA's behaviour).
    #[default]
    Window,
    /// Release them a share at a time across the window, fewer early and more
    /// late: the fleet form of randomized ski rental.
    Gradual,
}

impl ScaleInRelease {
    /// The accepted values, as the configuration spells them.
    pub const NAMES: &'static str = "window or gradual";

    /// The value a configuration names, if any.
    pub fn from_name(name: &str) -> Option<ScaleInRelease> {
        match name.to_ascii_lowercase().as_str() {
            "window" => Some(ScaleInRelease::Window),
            "gradual" => Some(ScaleInRelease::Gradual),
            _ => None,
        }
    }
}

/// KEDA-style fallback: after `after_failures` consecutive failed metric readings,
/// raise the service to at least `tasks`. It never lowers a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fallback {
    pub tasks: u32,
    pub after_failures: u32,
}

impl Default for PolicySettings {
    /// The original's defaults (step rule, 10–300 tasks, 120 s cooldowns), no extras.
    fn default() -> Self {
        PolicySettings {
            min_tasks: 10,
            max_tasks: 300,
            scale_out_cooldown_s: 120,
            scale_in_cooldown_s: 120,
            use_combined_messages: false,
            kind: PolicyKind::Step {
                scale_up_threshold: 100.0,
                scale_down_threshold: 99.0,
                tasks_per_message: 0.01,
                max_scale_down_factor: 0.99,
            },
            emergency_backlog: None,
            scale_in_stabilization_s: 0,
            scale_in_release: ScaleInRelease::Window,
            max_scale_out_step: None,
            max_scale_in_step: None,
            activation_backlog: 0,
            scale_to_zero_after_s: None,
            fallback: None,
            scheduled_bounds: Vec::new(),
            max_wait_s: None,
            anticipation: Anticipation::default(),
        }
    }
}

impl PolicySettings {
    /// Whether the policy needs samples kept between ticks (read and written on
    /// every tick, not only when acting).
    pub fn needs_memory(&self) -> bool {
        matches!(self.kind, PolicyKind::Predictive { .. })
            || self.scale_in_stabilization_s > 0
            || self.scale_to_zero_after_s.is_some()
            || self.fallback.is_some()
            || self.max_wait_s.is_some()
    }
}

/// The predictive rule's `tolerance` unless configured: the Kubernetes HPA's
/// default tolerance, a tenth of the current count.
pub const DEFAULT_TOLERANCE: f64 = 0.1;

/// Which decision rule a service uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum PolicyKind {
    /// The original autoscaler's step rule.
    Step {
        scale_up_threshold: f64,
        scale_down_threshold: f64,
        tasks_per_message: f64,
        max_scale_down_factor: f64,
    },
    /// Backlog per task: `desired = ceil(messages / messages_per_task)`.
    Target { messages_per_task: f64 },
    /// Rate-aware: estimates the arrival rate from recent samples and provisions for
    /// the arrivals plus the backlog expected once new tasks have started, drained
    /// within `target_drain_s`.
    Predictive {
        /// Messages one task processes per second.
        task_throughput: f64,
        /// Seconds from a scale-out to the new tasks working.
        task_startup_s: u64,
        /// Seconds to work off the expected backlog.
        target_drain_s: u64,
        /// The share of the tasks' capacity the plan uses (0 to 1): below 1, the
        /// rest is spare for what arrives between ticks and start-ups.
        target_utilization: f64,
        /// The share of the current count (0 to 0.5) a change may be and still
        /// wait: a scale-out for a tick to confirm it, idle tasks for more to go
        /// at once (see [`crate::policy::modifiers::tolerance`]).
        tolerance: f64,
    },
}
