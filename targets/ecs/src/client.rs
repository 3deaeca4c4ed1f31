//! The ECS calls: `DescribeServices` for a batch of one cluster's services,
//! `UpdateService` for a change.

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use fast_autoscaler_common::aws_error::one_line;
use fast_autoscaler_target::{
    async_trait, TargetClient, TargetError, TargetId, TargetLimits, TargetView,
};

use crate::BUDGET;

const API: &str = "ECS";

/// The ECS services of an account and Region, through one ECS client.
#[derive(Debug, Clone)]
pub struct EcsServices {
    ecs: aws_sdk_ecs::Client,
}

impl EcsServices {
    pub fn new(ecs: aws_sdk_ecs::Client) -> Self {
        EcsServices { ecs }
    }
}

#[async_trait]
impl TargetClient for EcsServices {
    async fn describe(&self, targets: &[TargetId]) -> Vec<Result<TargetView, TargetError>> {
        let mut views = Vec::with_capacity(targets.len());
        // One call per batch; the engine gives one batch of one cluster.
        for batch in targets.chunks(BUDGET.describe_batch) {
            views.extend(self.describe_batch(batch).await);
        }
        views
    }

    async fn set_desired(&self, target: &TargetId, desired: u32) -> Result<(), TargetError> {
        self.ecs
            .update_service()
            .cluster(&target.scope)
            .service(&target.name)
            .desired_count(i32::try_from(desired).unwrap_or(i32::MAX))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| TargetError::call(API, "UpdateService", target, one_line(&e)))
    }
}

impl EcsServices {
    /// One DescribeServices call for services of one cluster.
    async fn describe_batch(&self, batch: &[TargetId]) -> Vec<Result<TargetView, TargetError>> {
        let Some(cluster) = batch.first().map(|t| t.scope.as_str()) else {
            return Vec::new();
        };
        let answer = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(batch.iter().map(|t| t.name.clone()).collect()))
            .send()
            .await;
        match answer {
            Ok(answer) => batch.iter().map(|t| answered(t, &answer)).collect(),
            Err(e) => {
                let message = one_line(&e);
                let failed = |t| {
                    Err(TargetError::call(
                        API,
                        "DescribeServices",
                        t,
                        message.clone(),
                    ))
                };
                batch.iter().map(failed).collect()
            }
        }
    }
}

/// One requested service (name or ARN) out of a DescribeServices answer: its
/// view, or why ECS left it out (the answer's failure for it, when there is one).
fn answered(target: &TargetId, answer: &DescribeServicesOutput) -> Result<TargetView, TargetError> {
    let requested = target.name.as_str();
    let found = answer
        .services()
        .iter()
        .find(|s| s.service_name() == Some(requested) || s.service_arn() == Some(requested));
    if let Some(service) = found {
        return view_of(target, service);
    }
    let reason = answer
        .failures()
        .iter()
        .find(|f| {
            f.arn()
                .is_some_and(|arn| arn == requested || arn.ends_with(&format!("/{requested}")))
        })
        .and_then(|f| f.reason())
        .unwrap_or("not in the DescribeServices answer");
    Err(TargetError::NotFound {
        target: target.label(),
        message: format!(
            "ECS service {requested:?} not found in cluster {:?} ({reason}); check ECS_CLUSTER/SERVICE_NAME or the document's cluster and service",
            target.scope
        ),
    })
}

fn view_of(target: &TargetId, s: &aws_sdk_ecs::types::Service) -> Result<TargetView, TargetError> {
    let label = target.label();
    let count = |field, n| TargetError::count(API, &label, field, n);
    let status = s.status().unwrap_or("UNKNOWN");
    Ok(TargetView {
        desired: count("desiredCount", s.desired_count())?,
        running: count("runningCount", s.running_count())?,
        starting: count("pendingCount", s.pending_count())?,
        limits: TargetLimits::none("tasks"),
        not_ready: (status != "ACTIVE").then(|| format!("the ECS service is {status}, not ACTIVE")),
    })
}
