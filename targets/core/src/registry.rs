//! The registry: every linked target kind, found by its name.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::{ApiBudget, TargetConfig, TargetError, TargetFactory};

/// Validates a settings object into the plain data the target is scaled by.
/// Does no I/O: it runs at cold start and in `check-config`.
pub type TargetParser = fn(&Value) -> Result<Arc<dyn TargetConfig>, TargetError>;

/// A target kind, registered with `inventory::submit!`.
pub struct TargetRegistration {
    /// The name used in `TARGET_TYPE` or `"target": {"type": ...}`.
    pub name: &'static str,
    /// One line for `--help` and error messages.
    pub summary: &'static str,
    /// Single-service mode: which environment variable fills which setting,
    /// e.g. `("cluster", "ECS_CLUSTER")`. Values arrive as JSON strings.
    pub env_settings: &'static [(&'static str, &'static str)],
    /// Validates settings (see [`TargetConfig`]).
    pub parse: TargetParser,
    /// The kind's API quotas (AWS's defaults), the share kept to, and its
    /// describe batch.
    pub budget: ApiBudget,
    /// What one unit is called: "tasks", "instances".
    pub unit: &'static str,
    /// Policy settings whose default fits this kind better than the policy's
    /// own, as (JSON key, value): an instance starts slower than a task.
    pub policy_defaults: &'static [(&'static str, &'static str)],
    /// Builds the kind's client.
    pub build: TargetFactory,
}

inventory::collect!(TargetRegistration);

impl TargetRegistration {
    /// Builds the settings object from environment variables through `env_settings`.
    pub fn settings_from_env(&self, env: &dyn Fn(&str) -> Option<String>) -> Value {
        let mut settings = Map::new();
        settings.insert("type".into(), Value::String(self.name.into()));
        for (setting, var) in self.env_settings {
            if let Some(value) = env(var) {
                settings.insert((*setting).into(), Value::String(value));
            }
        }
        Value::Object(settings)
    }

    /// The environment variable that fills `setting`, if any.
    pub fn env_name_of(&self, setting: &str) -> Option<&'static str> {
        self.env_settings
            .iter()
            .find(|(s, _)| *s == setting)
            .map(|(_, var)| *var)
    }
}

/// Every linked target kind, sorted by name.
pub fn registered() -> Vec<&'static TargetRegistration> {
    let mut all: Vec<_> = inventory::iter::<TargetRegistration>.into_iter().collect();
    all.sort_by_key(|r| r.name);
    all
}

/// The names of every linked target kind, sorted.
pub fn registered_names() -> Vec<&'static str> {
    registered().iter().map(|r| r.name).collect()
}

/// Looks a target kind up by name (case-insensitive).
pub fn find(name: &str) -> Result<&'static TargetRegistration, TargetError> {
    let wanted = name.trim().to_ascii_lowercase();
    registered()
        .into_iter()
        .find(|r| r.name == wanted)
        .ok_or_else(|| TargetError::UnknownTarget {
            name: name.to_string(),
            known: registered_names().join(", "),
        })
}
