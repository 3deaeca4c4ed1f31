//! Fast Autoscaler's worker: queue depth in, ECS desiredCount out, every few seconds.
//!
//! # Design
//!
//! The crate is a pure core wrapped in thin adapters:
//!
//! - [`policy`] is the decision logic with no I/O: a metrics reading and a desired
//!   count in, a [`policy::Decision`] with its human-readable reason out. The
//!   simulator, the CLI and the Lambda all run this same code.
//! - [`config`] validates the whole configuration once, at cold start, reporting
//!   every problem with its field, value and what is valid.
//! - [`ecs`] and [`state`] are the AWS adapters; queue metrics come from providers
//!   found by name in the `fast-autoscaler-providers` registry.
//! - [`engine`] wires them into one tick's evaluation, and [`handler`] turns an SQS
//!   batch of ticks into at most one evaluation, logged by [`emf`] as one line per
//!   service that CloudWatch also reads as metrics.
//!
//! The binaries are the `worker` Lambda and the `fast-autoscaler` CLI, which reads
//! configuration exactly as the Lambda does.

pub mod config;
pub mod ecs;
pub mod emf;
pub mod engine;
pub mod handler;
pub mod policy;
pub mod simulate;
pub mod state;

pub use config::{AutoscalerConfig, ConfigError, ConfigIssue, ConfigSource};
pub use engine::{Autoscaler, DecisionRecord, EvaluateOptions};
pub use fast_autoscaler_providers as providers;
pub use fast_autoscaler_scheduler::Tick;

/// Errors of the worker library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Provider(#[from] providers::ProviderError),

    #[error("ECS service {service:?} not found in cluster {cluster:?} ({reason}); check ECS_CLUSTER/SERVICE_NAME or the document's cluster and service")]
    ServiceNotFound {
        cluster: String,
        service: String,
        reason: String,
    },

    #[error("ECS {operation} failed for {cluster}/{service}: {message}")]
    Ecs {
        operation: &'static str,
        cluster: String,
        service: String,
        message: String,
    },

    #[error("scaling state s3://{bucket}/{key}: {message}")]
    State {
        bucket: String,
        key: String,
        message: String,
    },
}

/// Loads the AWS configuration the way the SDK does everywhere (environment,
/// profile, container or instance role), honouring `AWS_ENDPOINT_URL`.
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
