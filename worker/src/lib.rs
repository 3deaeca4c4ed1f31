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

    #[error("ECS answered {field} = {value} for {cluster}/{service}, which is not a task count (expected a whole number from 0); nothing is decided on it")]
    EcsAnswer {
        cluster: String,
        service: String,
        field: &'static str,
        value: i64,
    },

    #[error("scaling state s3://{bucket}/{key}: {message}")]
    State {
        bucket: String,
        key: String,
        message: String,
    },
}

/// How long one attempt of an AWS call may take, and the whole call with retries.
/// Together they keep a tick inside its deadline (see [`engine`]).
pub const AWS_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
pub const AWS_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
pub const AWS_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
/// Attempts per AWS call: the first and two retries (throttling, 5xx, resets, time-outs).
pub const AWS_MAX_ATTEMPTS: u32 = 3;

/// The AWS configuration loader with Fast Autoscaler's bounded time-outs and retries:
/// standard retry mode with jittered backoff, three attempts, a 2 s attempt and 5 s
/// operation time-out. The SDK's defaults have no operation time-out, so one hung
/// call could otherwise hold a whole tick.
pub fn aws_defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(AWS_MAX_ATTEMPTS)
                .with_initial_backoff(std::time::Duration::from_millis(50))
                .with_max_backoff(std::time::Duration::from_millis(500)),
        )
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(AWS_CONNECT_TIMEOUT)
                .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
                .operation_timeout(AWS_OPERATION_TIMEOUT)
                .build(),
        )
}

/// Loads the AWS configuration the way the SDK does everywhere (environment,
/// profile, container or instance role), honouring `AWS_ENDPOINT_URL`, with the
/// bounded time-outs and retries of [`aws_defaults`].
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_defaults().load().await
}
