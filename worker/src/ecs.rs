//! The thin ECS adapter: batched DescribeServices and UpdateService.

use std::collections::HashMap;

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use fast_autoscaler_common::aws_error::one_line;

use crate::error::Error;

pub use fast_autoscaler_core::views::DESCRIBE_BATCH;

/// What the worker needs to know about a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
}

/// A count from ECS, or the error naming it: a negative count is a broken answer,
/// and reading it as 0 would invite a decision on garbage.
fn count(cluster: &str, service: &str, field: &'static str, n: i32) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::EcsAnswer {
        cluster: cluster.to_string(),
        service: service.to_string(),
        field,
        value: i64::from(n),
    })
}

fn view_of(
    cluster: &str,
    service: &str,
    s: &aws_sdk_ecs::types::Service,
) -> Result<ServiceView, Error> {
    Ok(ServiceView {
        desired: count(cluster, service, "desiredCount", s.desired_count())?,
        running: count(cluster, service, "runningCount", s.running_count())?,
        pending: count(cluster, service, "pendingCount", s.pending_count())?,
        status: s.status().unwrap_or("UNKNOWN").to_string(),
    })
}

/// Describes `services` of one cluster, 10 per call, the calls running concurrently
/// (at most [`crate::bounded_calls::MAX_CALLS_IN_FLIGHT`] at once).
/// Answers one result per requested name (or ARN): a service that ECS reports
/// missing, or that a call failed for, gets an error naming it.
pub async fn describe_services(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    services: &[String],
) -> HashMap<String, Result<ServiceView, Error>> {
    let calls = services.chunks(DESCRIBE_BATCH).map(|chunk| async move {
        let answer = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await;
        (chunk, answer)
    });
    let mut views = HashMap::new();
    for (chunk, answer) in crate::bounded_calls::bounded(calls).await {
        match answer {
            Ok(answer) => {
                for requested in chunk {
                    views.insert(requested.clone(), answered(cluster, requested, &answer));
                }
            }
            Err(e) => {
                let message = one_line(&e);
                for requested in chunk {
                    views.insert(
                        requested.clone(),
                        Err(Error::Ecs {
                            operation: "DescribeServices",
                            cluster: cluster.to_string(),
                            service: requested.clone(),
                            message: message.clone(),
                        }),
                    );
                }
            }
        }
    }
    views
}

/// One requested service (name or ARN) out of a DescribeServices answer: its
/// view, or why ECS left it out (the answer's failure for it, when there is one).
fn answered(
    cluster: &str,
    requested: &str,
    answer: &DescribeServicesOutput,
) -> Result<ServiceView, Error> {
    let found = answer
        .services()
        .iter()
        .find(|s| s.service_name() == Some(requested) || s.service_arn() == Some(requested));
    if let Some(service) = found {
        return view_of(cluster, requested, service);
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
    Err(Error::ServiceNotFound {
        cluster: cluster.to_string(),
        service: requested.to_string(),
        reason: reason.to_string(),
    })
}

/// Sets a service's desired count.
pub async fn set_desired_count(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    desired: u32,
) -> Result<(), Error> {
    ecs.update_service()
        .cluster(cluster)
        .service(service)
        .desired_count(i32::try_from(desired).unwrap_or(i32::MAX))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| Error::Ecs {
            operation: "UpdateService",
            cluster: cluster.to_string(),
            service: service.to_string(),
            message: one_line(&e),
        })
}
