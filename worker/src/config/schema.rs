//! The validated configuration: plain data, what the worker runs on once every
//! field has been checked. Nothing here parses ([`super::env`] and
//! [`super::document`] build it) and nothing here holds a client
//! ([`super::build`] makes the providers from it).

use std::sync::Arc;

use fast_autoscaler_core::budget::EcsBudget;
use fast_autoscaler_core::PolicySettings;
use fast_autoscaler_providers::ProviderConfig;
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
    /// The share of the account's ECS quotas the autoscaler's calls keep within.
    pub ecs_budget: EcsBudget,
    /// The services to scale, each with its own provider and policy.
    pub services: Vec<ServiceConfig>,
}

/// One ECS service and how to scale it.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub cluster: String,
    pub service: String,
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

impl ServiceConfig {
    /// `cluster/service`, the name used in logs and state keys.
    pub fn id(&self) -> String {
        format!("{}/{}", self.cluster, self.service)
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
            "ecs_budget": self.ecs_budget,
            "services": self.services.iter().map(|s| json!({
                "cluster": s.cluster,
                "service": s.service,
                "provider": s.provider.describe(),
                "policy": s.policy,
            })).collect::<Vec<_>>(),
        })
    }
}
