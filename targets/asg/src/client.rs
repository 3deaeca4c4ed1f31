//! The EC2 Auto Scaling calls: `DescribeAutoScalingGroups` for a batch of
//! groups, `SetDesiredCapacity` for a change.

use aws_sdk_autoscaling::operation::describe_auto_scaling_groups::DescribeAutoScalingGroupsOutput;
use aws_sdk_autoscaling::types::{AutoScalingGroup, LifecycleState};
use fast_autoscaler_common::aws_error::one_line;
use fast_autoscaler_target::{
    async_trait, TargetClient, TargetError, TargetId, TargetLimits, TargetView,
};

use crate::BUDGET;

const API: &str = "EC2 Auto Scaling";

/// The Auto Scaling groups of an account and Region, through one client.
#[derive(Debug, Clone)]
pub struct AutoScalingGroups {
    asg: aws_sdk_autoscaling::Client,
}

impl AutoScalingGroups {
    pub fn new(asg: aws_sdk_autoscaling::Client) -> Self {
        AutoScalingGroups { asg }
    }
}

#[async_trait]
impl TargetClient for AutoScalingGroups {
    async fn describe(&self, targets: &[TargetId]) -> Vec<Result<TargetView, TargetError>> {
        let mut views = Vec::with_capacity(targets.len());
        for batch in targets.chunks(BUDGET.describe_batch) {
            views.extend(self.describe_batch(batch).await);
        }
        views
    }

    async fn set_desired(&self, target: &TargetId, desired: u32) -> Result<(), TargetError> {
        self.asg
            .set_desired_capacity()
            .auto_scaling_group_name(&target.name)
            .desired_capacity(i32::try_from(desired).unwrap_or(i32::MAX))
            // The autoscaler keeps its own cooldowns; the group's would only
            // refuse a change the decision already allowed.
            .honor_cooldown(false)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| TargetError::call(API, "SetDesiredCapacity", target, one_line(&e)))
    }
}

impl AutoScalingGroups {
    /// One DescribeAutoScalingGroups call for up to 50 groups.
    async fn describe_batch(&self, batch: &[TargetId]) -> Vec<Result<TargetView, TargetError>> {
        let answer = self
            .asg
            .describe_auto_scaling_groups()
            .set_auto_scaling_group_names(Some(batch.iter().map(|t| t.name.clone()).collect()))
            .max_records(BUDGET.describe_batch as i32)
            .send()
            .await;
        match answer {
            Ok(answer) => batch.iter().map(|t| answered(t, &answer)).collect(),
            Err(e) => {
                let message = one_line(&e);
                let failed = |t| {
                    Err(TargetError::call(
                        API,
                        "DescribeAutoScalingGroups",
                        t,
                        message.clone(),
                    ))
                };
                batch.iter().map(failed).collect()
            }
        }
    }
}

/// One requested group out of the answer, or why it is not there.
fn answered(
    target: &TargetId,
    answer: &DescribeAutoScalingGroupsOutput,
) -> Result<TargetView, TargetError> {
    let found = answer
        .auto_scaling_groups()
        .iter()
        .find(|g| g.auto_scaling_group_name() == Some(target.name.as_str()));
    match found {
        Some(group) => view_of(target, group),
        None => Err(TargetError::NotFound {
            target: target.label(),
            message: format!(
                "Auto Scaling group {:?} not found (not in the DescribeAutoScalingGroups answer); check the target's name and Region",
                target.name
            ),
        }),
    }
}

/// A group's counts and limits. Instances leaving the group (Terminating,
/// Detaching, standby) count neither as running nor as protected.
fn view_of(target: &TargetId, group: &AutoScalingGroup) -> Result<TargetView, TargetError> {
    let label = target.label();
    let count = |field, n: Option<i32>| TargetError::count(API, &label, field, n.unwrap_or(-1));
    let (min, max) = (
        count("MinSize", group.min_size())?,
        count("MaxSize", group.max_size())?,
    );
    let desired = count("DesiredCapacity", group.desired_capacity())?;
    let (mut running, mut starting, mut protected) = (0, 0, 0);
    for instance in group.instances() {
        let state = instance.lifecycle_state();
        let in_service = state == Some(&LifecycleState::InService);
        let pending = matches!(
            state,
            Some(
                LifecycleState::Pending
                    | LifecycleState::PendingWait
                    | LifecycleState::PendingProceed
            )
        );
        running += u32::from(in_service);
        starting += u32::from(pending);
        protected +=
            u32::from((in_service || pending) && instance.protected_from_scale_in() == Some(true));
    }
    Ok(TargetView {
        desired,
        running,
        starting,
        limits: TargetLimits {
            min,
            max: Some(max),
            protected,
            unit: "instances",
            owner: "the group's",
        },
        not_ready: group
            .status()
            .filter(|status| !status.is_empty())
            .map(|status| format!("the Auto Scaling group is {status}")),
    })
}
