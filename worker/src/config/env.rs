//! The environment source: one service from the original Python autoscaler's
//! environment variables, with its names and defaults, so migrating users keep
//! their configuration.

use fast_autoscaler_core::settings::issues::finish;
use fast_autoscaler_core::settings::{ConfigError, Key, Raw, Reader, Source};

use super::fields;
use super::keys::*;
use super::provider_lookup::provider_settings;
use super::schema::{AutoscalerConfig, ServiceConfig};
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
    /// One service from the original's environment variables.
    pub fn from_env(env: Env<'_>) -> Result<Self, ConfigError> {
        let source = EnvSource { env };
        let mut issues = Vec::new();
        let mut read = Reader {
            source: &source,
            issues: &mut issues,
        };
        let state_bucket = fields::bucket(&mut read, S3_CONFIG_BUCKET);
        let tick = fields::tick_settings(&mut read);
        let ecs_budget = fields::ecs_budget(&mut read);
        let cluster = read.name(ECS_CLUSTER, "an ECS cluster name or ARN");
        let service = read.name(SERVICE_NAME, "an ECS service name or ARN");
        let policy = read.policy();
        let queue_type = read.text(QUEUE_TYPE).unwrap_or_else(|| "sqs".into());
        let provider = provider_settings(&queue_type, None, env, &mut issues);
        finish(issues, || {
            Some(Self {
                state_bucket: state_bucket?,
                tick_interval_s: tick?.0,
                tick_max_age_ms: tick?.1,
                ecs_budget: ecs_budget?,
                services: vec![ServiceConfig {
                    cluster: cluster?,
                    service: service?,
                    provider: provider?,
                    policy: policy?,
                }],
            })
        })
    }
}
