//! The field readers: typed values out of a source (the environment or a JSON
//! object), with each bad value recorded as a [`ConfigIssue`], and the checks
//! between fields (min ≤ max, scale to zero needs a minimum of 0, …).

use serde_json::Value;

use super::bounds_windows::{self, OwnBounds};
use super::issues::ConfigIssue;
use super::keys::*;
use super::policy::{Fallback, PolicyKind, PolicySettings, ScaleInRelease, DEFAULT_TOLERANCE};
use crate::policy::scheduled_bounds::BoundsWindow;

/// A raw field value: text from the environment, or a JSON value from the document.
pub enum Raw {
    Text(String),
    Json(Value),
}

impl Raw {
    pub fn shown(&self) -> String {
        match self {
            Raw::Text(t) => format!("{t:?}"),
            Raw::Json(v) => v.to_string(),
        }
    }

    /// The value as text, accepting JSON strings and numbers.
    pub fn text(&self) -> Option<String> {
        match self {
            Raw::Text(t) => Some(t.trim().to_string()),
            Raw::Json(Value::String(s)) => Some(s.trim().to_string()),
            Raw::Json(Value::Number(n)) => Some(n.to_string()),
            Raw::Json(Value::Bool(b)) => Some(b.to_string()),
            Raw::Json(_) => None,
        }
    }
}

pub trait Source {
    /// The raw value of a field, if given, with the label to report it under.
    fn get(&self, key: Key) -> Option<(Raw, String)>;
    /// The label of a field that was not given.
    fn label(&self, key: Key) -> String;
}

/// Reads typed fields from a source, recording a [`ConfigIssue`] for each bad one.
/// Each reader answers `None` for a bad value so later checks skip it.
pub struct Reader<'a> {
    pub source: &'a dyn Source,
    pub issues: &'a mut Vec<ConfigIssue>,
}

impl Reader<'_> {
    /// Records a problem with a field.
    pub fn bad(&mut self, field: String, value: String, expected: impl Into<String>) {
        self.issues.push(ConfigIssue {
            field,
            value,
            expected: expected.into(),
        });
    }

    pub fn text(&mut self, key: Key) -> Option<String> {
        let (raw, field) = self.source.get(key)?;
        match raw.text() {
            Some(t) => Some(t),
            None => {
                self.bad(field, raw.shown(), "a string");
                None
            }
        }
    }

    /// A required, non-empty name without white space.
    pub fn name(&mut self, key: Key, expected: &str) -> Option<String> {
        let Some((raw, field)) = self.source.get(key) else {
            let label = self.source.label(key);
            self.bad(label, "<missing>".into(), expected);
            return None;
        };
        match raw.text() {
            Some(t) if !t.is_empty() && !t.chars().any(char::is_whitespace) && t.len() <= 2048 => {
                Some(t)
            }
            _ => {
                self.bad(
                    field,
                    raw.shown(),
                    format!("{expected}, non-empty and without spaces"),
                );
                None
            }
        }
    }

    /// A whole number from `min` to `max`; `default` when absent.
    pub fn whole(&mut self, key: Key, default: u64, min: u64, max: u64) -> Option<u64> {
        let Some((raw, field)) = self.source.get(key) else {
            return Some(default);
        };
        match raw.text().and_then(|t| t.parse::<u64>().ok()) {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.bad(
                    field,
                    raw.shown(),
                    format!("a whole number from {min} to {max}"),
                );
                None
            }
        }
    }

    /// An optional whole number: `None` inside when absent.
    pub(super) fn optional_whole(&mut self, key: Key, min: u64, max: u64) -> Option<Option<u64>> {
        if self.source.get(key).is_none() {
            return Some(None);
        }
        self.whole(key, 0, min, max).map(Some)
    }

    /// A real number `valid` accepts; `default` when absent (`None`: required).
    pub fn real(
        &mut self,
        key: Key,
        default: Option<f64>,
        valid: fn(f64) -> bool,
        expected: &str,
    ) -> Option<f64> {
        let Some((raw, field)) = self.source.get(key) else {
            if default.is_none() {
                let label = self.source.label(key);
                self.bad(label, "<missing>".into(), expected);
            }
            return default;
        };
        match raw.text().and_then(|t| t.parse::<f64>().ok()) {
            Some(x) if x.is_finite() && valid(x) => Some(x),
            _ => {
                self.bad(field, raw.shown(), expected);
                None
            }
        }
    }

    fn flag(&mut self, key: Key, default: bool) -> Option<bool> {
        let Some((raw, field)) = self.source.get(key) else {
            return Some(default);
        };
        match raw.text().map(|t| t.to_ascii_lowercase()).as_deref() {
            Some("true" | "1" | "yes") => Some(true),
            Some("false" | "0" | "no") => Some(false),
            _ => {
                self.bad(field, raw.shown(), "true or false");
                None
            }
        }
    }

    pub fn policy(&mut self) -> Option<PolicySettings> {
        let min_tasks = self.whole(MIN_TASKS, 10, 0, TASKS_LIMIT);
        let max_tasks = self.whole(MAX_TASKS, 300, 1, TASKS_LIMIT);
        let scale_out_cooldown_s = self.whole(SCALE_OUT_COOLDOWN, 120, 0, COOLDOWN_LIMIT);
        let scale_in_cooldown_s = self.whole(SCALE_IN_COOLDOWN, 120, 0, COOLDOWN_LIMIT);
        let use_combined_messages = self.flag(USE_COMBINED_MESSAGES, false);
        if let (Some(min), Some(max)) = (min_tasks, max_tasks) {
            if min > max {
                let field = self.source.label(MIN_TASKS);
                self.bad(
                    field,
                    min.to_string(),
                    format!("at most {} = {max}", self.source.label(MAX_TASKS)),
                );
            }
        }
        let kind = self.rule();
        let max_wait_s = self.max_wait(kind.as_ref());
        self.predictive_only(TARGET_UTILIZATION, kind.as_ref());
        self.predictive_only(TOLERANCE, kind.as_ref());
        let emergency_backlog = self.optional_whole(EMERGENCY_BACKLOG, 1, u64::MAX);
        let scale_in_stabilization_s = self.whole(SCALE_IN_STABILIZATION, 0, 0, 3600);
        let scale_in_release = self.scale_in_release(scale_in_stabilization_s);
        let max_scale_out_step = self.optional_whole(MAX_SCALE_OUT_STEP, 1, TASKS_LIMIT);
        let max_scale_in_step = self.optional_whole(MAX_SCALE_IN_STEP, 1, TASKS_LIMIT);
        let activation_backlog = self.whole(ACTIVATION_BACKLOG, 0, 0, u64::MAX);
        let scale_to_zero_after_s = self.scale_to_zero(min_tasks);
        let fallback = self.fallback(min_tasks, max_tasks);
        let scheduled_bounds = self.scheduled_bounds(OwnBounds {
            min: min_tasks,
            max: max_tasks,
        });
        let anticipation = self.anticipation(kind.as_ref());
        Some(PolicySettings {
            min_tasks: u32::try_from(min_tasks?).ok()?,
            max_tasks: u32::try_from(max_tasks?).ok()?,
            scale_out_cooldown_s: scale_out_cooldown_s?,
            scale_in_cooldown_s: scale_in_cooldown_s?,
            use_combined_messages: use_combined_messages?,
            kind: kind?,
            emergency_backlog: emergency_backlog?,
            scale_in_stabilization_s: scale_in_stabilization_s?,
            scale_in_release: scale_in_release?,
            max_scale_out_step: max_scale_out_step?.map(|n| n as u32),
            max_scale_in_step: max_scale_in_step?.map(|n| n as u32),
            activation_backlog: activation_backlog?,
            scale_to_zero_after_s: scale_to_zero_after_s?,
            fallback: fallback?,
            scheduled_bounds: scheduled_bounds?,
            max_wait_s: max_wait_s?,
            anticipation: anticipation?,
        })
    }

    /// A setting of the predictive rule given with another rule: refused rather
    /// than ignored, since the rule given would not do what it asks.
    fn predictive_only(&mut self, key: Key, kind: Option<&PolicyKind>) {
        if self.source.get(key).is_some()
            && kind.is_some_and(|k| !matches!(k, PolicyKind::Predictive { .. }))
        {
            let field = self.source.label(key);
            self.bad(
                field,
                "set".into(),
                format!(
                    "no value unless {} = predictive: only that rule plans with spare capacity",
                    self.source.label(SCALING_POLICY)
                ),
            );
        }
    }

    /// `SCALE_IN_RELEASE`: how the stabilization window releases idle tasks. It
    /// shapes that window, so it needs one.
    fn scale_in_release(&mut self, stabilization_s: Option<u64>) -> Option<ScaleInRelease> {
        let Some((raw, field)) = self.source.get(SCALE_IN_RELEASE) else {
            return Some(ScaleInRelease::default());
        };
        let Some(release) = raw.text().as_deref().and_then(ScaleInRelease::from_name) else {
            self.bad(field, raw.shown(), ScaleInRelease::NAMES);
            return None;
        };
        if release == ScaleInRelease::Gradual && stabilization_s == Some(0) {
            let window = self.source.label(SCALE_IN_STABILIZATION);
            self.bad(
                field,
                raw.shown(),
                format!("window (the default) unless {window} is above 0: gradual spreads the releases across that window"),
            );
            return None;
        }
        Some(release)
    }

    /// `MAX_WAIT_SECONDS`, a goal of the target rule only.
    fn max_wait(&mut self, kind: Option<&PolicyKind>) -> Option<Option<u64>> {
        let wait = self.optional_whole(MAX_WAIT_SECONDS, 1, COOLDOWN_LIMIT)?;
        if wait.is_some() && kind.is_some_and(|k| !matches!(k, PolicyKind::Target { .. })) {
            let field = self.source.label(MAX_WAIT_SECONDS);
            self.bad(
                field,
                "set".into(),
                format!(
                    "no value unless {} = target: it is the target rule's wait goal",
                    self.source.label(SCALING_POLICY)
                ),
            );
            return None;
        }
        Some(wait)
    }

    /// A JSON array field: the document's value, or the variable's text parsed.
    pub(super) fn json_array(&mut self, key: Key, example: &str) -> Option<(Value, String)> {
        let (raw, field) = self.source.get(key)?;
        match &raw {
            Raw::Json(value) => Some((value.clone(), field)),
            Raw::Text(text) => match serde_json::from_str(text) {
                Ok(value) => Some((value, field)),
                Err(e) => {
                    self.bad(field, raw.shown(), format!("a JSON array {example} ({e})"));
                    None
                }
            },
        }
    }

    /// `SCHEDULED_BOUNDS`: windows of the week with their own bounds (see
    /// [`super::bounds_windows`]); the environment variable holds the same JSON array.
    fn scheduled_bounds(&mut self, own: OwnBounds) -> Option<Vec<BoundsWindow>> {
        if self.source.get(SCHEDULED_BOUNDS).is_none() {
            return Some(Vec::new());
        }
        let (value, field) = self.json_array(SCHEDULED_BOUNDS, "of windows")?;
        bounds_windows::windows(&value, &field, own, self.issues)
    }

    /// `SCALING_POLICY` and the chosen rule's settings.
    fn rule(&mut self) -> Option<PolicyKind> {
        let policy_name = self.text(SCALING_POLICY).unwrap_or_else(|| "step".into());
        match policy_name.to_ascii_lowercase().as_str() {
            "step" => self.step_policy(),
            "target" => self
                .real(
                    TARGET_MESSAGES_PER_TASK,
                    None,
                    |x| x > 0.0,
                    "a number of messages per task greater than 0 (required by SCALING_POLICY=target)",
                )
                .map(|messages_per_task| PolicyKind::Target { messages_per_task }),
            "predictive" => self.predictive_policy(),
            _ => {
                let field = self.source.label(SCALING_POLICY);
                self.bad(
                    field,
                    format!("{policy_name:?}"),
                    "one of: step, target, predictive",
                );
                None
            }
        }
    }

    /// `SCALE_TO_ZERO_AFTER`, which needs a minimum of 0 tasks.
    fn scale_to_zero(&mut self, min_tasks: Option<u64>) -> Option<Option<u64>> {
        let after = self.optional_whole(SCALE_TO_ZERO_AFTER, 0, COOLDOWN_LIMIT);
        if let (Some(Some(_)), Some(min)) = (after, min_tasks) {
            if min > 0 {
                let field = self.source.label(SCALE_TO_ZERO_AFTER);
                self.bad(
                    field,
                    "set".into(),
                    format!(
                        "no value while {} = {min}: scale to zero needs a minimum of 0",
                        self.source.label(MIN_TASKS)
                    ),
                );
            }
        }
        after
    }

    /// `FALLBACK_TASKS` (within the bounds) and `FALLBACK_AFTER_FAILURES`.
    fn fallback(&mut self, min: Option<u64>, max: Option<u64>) -> Option<Option<Fallback>> {
        let lowest = min.unwrap_or(0);
        let highest = max.unwrap_or(TASKS_LIMIT).max(lowest);
        let tasks = self.optional_whole(FALLBACK_TASKS, lowest, highest);
        let after = self.whole(FALLBACK_AFTER_FAILURES, 3, 1, 1000);
        let (tasks, after) = (tasks?, after?);
        Some(tasks.map(|tasks| Fallback {
            tasks: tasks as u32,
            after_failures: after as u32,
        }))
    }

    fn predictive_policy(&mut self) -> Option<PolicyKind> {
        let task_throughput = self.real(
            TASK_THROUGHPUT,
            None,
            |x| x > 0.0,
            "the messages one task processes per second, greater than 0 (required by SCALING_POLICY=predictive)",
        );
        let task_startup_s = self.whole(TASK_STARTUP_SECONDS, 45, 0, 3600);
        let target_drain_s = self.whole(TARGET_DRAIN_SECONDS, 60, 1, 3600);
        let target_utilization = self.real(
            TARGET_UTILIZATION,
            Some(1.0),
            |x| (0.1..=1.0).contains(&x),
            "a share of the tasks' capacity from 0.1 to 1 (1: no spare tasks)",
        );
        let tolerance = self.real(
            TOLERANCE,
            Some(DEFAULT_TOLERANCE),
            |x| (0.0..=0.5).contains(&x),
            "a share of the current task count from 0 to 0.5 (0: every change at once)",
        );
        Some(PolicyKind::Predictive {
            task_throughput: task_throughput?,
            task_startup_s: task_startup_s?,
            target_drain_s: target_drain_s?,
            target_utilization: target_utilization?,
            tolerance: tolerance?,
        })
    }

    fn step_policy(&mut self) -> Option<PolicyKind> {
        let up = self.real(
            SCALE_UP_THRESHOLD,
            Some(100.0),
            |x| x >= 0.0,
            "a number of messages, 0 or more",
        );
        let down = self.real(
            SCALE_DOWN_THRESHOLD,
            Some(99.0),
            |x| x >= 0.0,
            "a number of messages, 0 or more",
        );
        let tasks_per_message = self.real(
            TASKS_PER_MESSAGE,
            Some(0.01),
            |x| x > 0.0,
            "a number of tasks per message greater than 0",
        );
        let factor = self.real(
            MAX_SCALE_DOWN_FACTOR,
            Some(0.99),
            |x| (0.0..=1.0).contains(&x),
            "a fraction from 0 to 1 (the share of tasks kept by one scale-in)",
        );
        if let (Some(up), Some(down)) = (up, down) {
            if down > up {
                let field = self.source.label(SCALE_DOWN_THRESHOLD);
                self.bad(
                    field,
                    down.to_string(),
                    format!("at most {} = {up}", self.source.label(SCALE_UP_THRESHOLD)),
                );
                return None;
            }
        }
        Some(PolicyKind::Step {
            scale_up_threshold: up?,
            scale_down_threshold: down?,
            tasks_per_message: tasks_per_message?,
            max_scale_down_factor: factor?,
        })
    }
}
