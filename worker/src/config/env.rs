//! The environment source: one service from the original Python autoscaler's
//! environment variables, with its names and defaults, so migrating users keep
//! their configuration.

use fast_autoscaler_core::settings::issues::finish;
use fast_autoscaler_core::settings::{ConfigError, Key, Raw, Reader, Source};

use fast_autoscaler_core::target::ECS_SERVICE;

use super::fields;
use super::keys::*;
use super::kind_defaults::policy_of;
use super::provider_lookup::provider_settings;
use super::schema::{AutoscalerConfig, ServiceConfig};
use super::target_lookup::{target_settings, Written};
use super::Env;

pub(super) struct EnvSource<'a> {
    pub env: Env<'a>,
}

impl Source for EnvSource<'_> {
    fn get(&self, key: Key) -> Option<(Raw, String)> {
        (self.env)(key.env)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (Raw::Text(v), key.env.to_string()))
    }
    fn label(&self, key: Key) -> String {
        key.env.to_string()
    }
}

impl AutoscalerConfig {
    /// One service from the original's environment variables: an ECS
    /// service (`ECS_CLUSTER`, `SERVICE_NAME`) unless `TARGET_TYPE` names
    /// another kind of target.
    pub fn from_env(env: Env<'_>) -> Result<Self, ConfigError> {
        let source = EnvSource { env };
        let mut issues = Vec::new();
        let mut read = Reader {
            source: &source,
            issues: &mut issues,
        };
        let state_bucket = fields::bucket(&mut read, S3_CONFIG_BUCKET);
        let tick = fields::tick_settings(&mut read);
        let budgets = fields::budgets(&mut read);
        let target_type = read.text(TARGET_TYPE).unwrap_or_else(|| ECS_SERVICE.into());
        let queue_type = read.text(QUEUE_TYPE).unwrap_or_else(|| "sqs".into());
        let target = target_settings(&target_type, Written::Env(env), &mut issues);
        let policy = policy_of(&source, target.as_ref().map(|t| t.1), &mut issues);
        let provider = provider_settings(&queue_type, None, env, &mut issues);
        finish(issues, || {
            Some(Self {
                state_bucket: state_bucket?,
                tick_interval_s: tick?.0,
                tick_max_age_ms: tick?.1,
                budgets: budgets?,
                services: vec![ServiceConfig {
                    target: target?.0,
                    provider: provider?,
                    policy: policy?,
                }],
            })
        })
    }
}
