//! ECS services as a scale target: `"target": {"type": "ecs_service",
//! "cluster": …, "service": …}`, or the service entry's own `cluster` and
//! `service` fields and the original `ECS_CLUSTER` and `SERVICE_NAME`
//! variables, which mean the same.
//!
//! Counts come from `DescribeServices`, ten services of one cluster a call;
//! changes go through `UpdateService`'s `desiredCount`. Both draw on the
//! account's ECS quotas, "service read" and "service modify"; the budget below
//! is half of AWS's defaults, which the deployment's `ecs_quota_share` and
//! quota settings change.

mod client;
mod settings;

use std::sync::Arc;

use fast_autoscaler_target::{
    inventory, ApiBudget, TargetClient, TargetContext, TargetRegistration, ECS_SERVICE,
};

pub use client::EcsServices;
pub use settings::EcsServiceConfig;

/// The registered name.
pub const NAME: &str = ECS_SERVICE;

/// Half of AWS's documented default ECS quotas: service reads 20 a second with
/// a burst of 100, service modifies 5 a second with a burst of 50.
pub const BUDGET: ApiBudget = fast_autoscaler_target::ECS_BUDGET;

fn build(ctx: TargetContext<'_>) -> Arc<dyn TargetClient> {
    Arc::new(EcsServices::new(aws_sdk_ecs::Client::new(ctx.aws)))
}

inventory::submit! {
    TargetRegistration {
        name: NAME,
        summary: "an ECS service's desiredCount (DescribeServices, UpdateService)",
        env_settings: &[("cluster", "ECS_CLUSTER"), ("service", "SERVICE_NAME")],
        parse: settings::parse,
        budget: BUDGET,
        unit: "tasks",
        policy_defaults: &[],
        build,
    }
}
