//! The validated configuration: plain data, what the worker runs on once every
//! field has been checked. Nothing here parses ([`super::env`] and
//! [`super::document`] build it) and nothing here holds a client
//! ([`super::build`] makes the providers from it).

use std::sync::Arc;

use std::collections::BTreeMap;

use fast_autoscaler_core::budget::{ApiBudget, Quota};
use fast_autoscaler_core::target::TargetId;
use fast_autoscaler_core::PolicySettings;
use fast_autoscaler_providers::ProviderConfig;
use fast_autoscaler_targets::TargetConfig;
use serde::Serialize;
use serde_json::{json, Value};

/// A validated autoscaler configuration.
#[derive(Debug, Clone)]
pub struct AutoscalerConfig {
    /// Bucket holding the per-service state objects.
    pub state_bucket: String,
    /// Seconds between ticks (must match the scheduler's).
    pub tick_interval_s: u32,
    /// A tick older than this past its due time is dropped as stale.
    pub tick_max_age_ms: u64,
    /// Each linked target kind's API budget, by kind: its quotas and the
    /// share of them the autoscaler's calls keep within.
    pub budgets: BTreeMap<&'static str, ApiBudget>,
    /// The services to scale, each with its own target, provider and policy.
    pub services: Vec<ServiceConfig>,
}

/// One scaled target and how to scale it: a "service" of the configuration,
/// whatever its target's kind.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// What is scaled, validated by its kind's registered parser.
    pub target: Arc<dyn TargetConfig>,
    /// Its queue's provider settings, validated; [`AutoscalerConfig::build`]
    /// makes the provider.
    pub provider: Arc<dyn ProviderConfig>,
    pub policy: PolicySettings,
}

impl AutoscalerConfig {
    /// The hard deadline of one tick: four fifths of the interval, and at most 7 s
    /// (the worker Lambda's time-out is 8 s). A service not decided by then is
    /// `hold`, so a slow call never makes a tick overrun into the next one.
    pub fn tick_deadline(&self) -> std::time::Duration {
        let ms = (u64::from(self.tick_interval_s) * 800).clamp(1000, 7000);
        std::time::Duration::from_millis(ms)
    }
}

/// The budget of a kind no registration gave one: one call of each a tick.
/// Never met in a configuration read by [`AutoscalerConfig::load`], whose
/// every target kind is registered with a budget.
static UNKNOWN_KIND: ApiBudget = ApiBudget {
    api: "target",
    share: 1.0,
    read: Quota {
        per_second: 1.0,
        burst: 1.0,
    },
    modify: Quota {
        per_second: 1.0,
        burst: 1.0,
    },
    shared_bucket: false,
    describe_batch: 1,
};

impl AutoscalerConfig {
    /// The API budget of target kind `kind`.
    pub fn budget(&self, kind: &str) -> &ApiBudget {
        self.budgets.get(kind).unwrap_or(&UNKNOWN_KIND)
    }
}

impl ServiceConfig {
    /// Its target's label (`cluster/service` for an ECS service), the name
    /// used in logs, metrics and the CLI.
    pub fn id(&self) -> String {
        self.target_id().label()
    }

    /// Its target's identity.
    pub fn target_id(&self) -> &TargetId {
        self.target.id()
    }

    /// Its target's kind.
    pub fn kind(&self) -> &str {
        &self.target_id().kind
    }
}

/// Where the document came from, for `check-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    Environment,
    Document,
}

impl AutoscalerConfig {
    /// The effective configuration with secrets redacted, for `check-config`.
    pub fn describe(&self, source: ConfigSource) -> Value {
        json!({
            "source": source,
            "state_bucket": self.state_bucket,
            "tick_interval_seconds": self.tick_interval_s,
            "tick_max_age_seconds": self.tick_max_age_ms as f64 / 1000.0,
            "budgets": self.budgets,
            "services": self.services.iter().map(|s| json!({
                "target": s.target.describe(),
                "provider": s.provider.describe(),
                "policy": s.policy,
            })).collect::<Vec<_>>(),
        })
    }
}
