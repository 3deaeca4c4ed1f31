//! EC2 Auto Scaling groups as a scale target: `"target": {"type": "ec2_asg",
//! "name": …}`, or `TARGET_TYPE=ec2_asg` with `AUTO_SCALING_GROUP_NAME`.
//!
//! The queue workers of GPU and large-memory jobs often run on instances of a
//! group rather than on ECS. AWS's own recipe scales such a group on a
//! backlog-per-instance custom metric with target tracking, minutes behind;
//! this target sets its desired capacity from the queue every tick.
//!
//! - Counts come from `DescribeAutoScalingGroups`, fifty groups a call:
//!   DesiredCapacity, the instances InService (running) and Pending (starting).
//!   The policy's per-task figures are per instance (per capacity unit where
//!   the group weighs its instance types).
//! - Changes go through `SetDesiredCapacity`, with the group's own cooldown
//!   not honoured (the autoscaler keeps its own).
//! - The group's MinSize and MaxSize bound every request, and instances
//!   protected from scale-in are never asked away: the core clamps each
//!   decision to them and says so (`fast_autoscaler_core::target`), so no
//!   request is sent that the group would refuse or could not carry out.
//! - Every EC2 Auto Scaling call shares one API bucket per account and Region.
//!   AWS publishes no figure for it; the budget below assumes 10 calls a
//!   second with a burst of 20, half of it for the autoscaler, split between
//!   reads and changes.

mod client;
mod settings;

use std::sync::Arc;

use fast_autoscaler_target::{
    inventory, ApiBudget, Quota, TargetClient, TargetContext, TargetRegistration,
};

pub use client::AutoScalingGroups;
pub use settings::AsgConfig;

/// The registered name.
pub const NAME: &str = "ec2_asg";

/// One bucket for every EC2 Auto Scaling call; AWS publishes no figure, so
/// this assumes a modest one and keeps half of it.
const BUCKET: Quota = Quota {
    per_second: 10.0,
    burst: 20.0,
};

/// The budget: half of the assumed shared bucket, 50 groups a describe call.
pub const BUDGET: ApiBudget = ApiBudget {
    api: "EC2 Auto Scaling",
    share: 0.5,
    read: BUCKET,
    modify: BUCKET,
    shared_bucket: true,
    describe_batch: 50,
};

/// An instance takes minutes to work, not a task's 45 seconds: 300 s is the
/// warm-up AWS assumes where none is set (an ECS capacity provider's instance
/// warm-up, a group's default cooldown). Measure yours and set
/// `task_startup_seconds`.
pub const STARTUP_SECONDS: &str = "300";

fn build(ctx: TargetContext<'_>) -> Arc<dyn TargetClient> {
    Arc::new(AutoScalingGroups::new(aws_sdk_autoscaling::Client::new(
        ctx.aws,
    )))
}

inventory::submit! {
    TargetRegistration {
        name: NAME,
        summary: "an EC2 Auto Scaling group's desired capacity (DescribeAutoScalingGroups, SetDesiredCapacity)",
        env_settings: &[("name", "AUTO_SCALING_GROUP_NAME")],
        parse: settings::parse,
        budget: BUDGET,
        unit: "instances",
        policy_defaults: &[("task_startup_seconds", STARTUP_SECONDS)],
        build,
    }
}
