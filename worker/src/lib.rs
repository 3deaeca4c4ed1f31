//! Fast Autoscaler's worker: queue depth in, ECS desiredCount out, every few seconds.
//!
//! # Design
//!
//! The crate is a pure core wrapped in thin adapters:
//!
//! - [`policy`] is the decision logic with no I/O: a metrics reading and a desired
//!   count in, a [`policy::Decision`] with its human-readable reason out.
//! - [`flow`] chains policy → state → cooldown, still pure. The Lambda, the CLI
//!   and the simulator (`fast-autoscaler-simulator`) all decide through it.
//! - [`config`] validates the whole configuration once, at cold start, reporting
//!   every problem with its field, value and what is valid.
//! - [`ecs`] and [`state`] are the AWS adapters; queue metrics come from providers
//!   found by name in the `fast-autoscaler-providers` registry.
//! - [`pause`] is an operator's pause of one service, kept in its state, and
//!   [`operator`] sets and clears it with the same conditional writes as a claim.
//! - [`engine`] does one tick's I/O around the flow, and [`handler`] turns an SQS
//!   batch of ticks into at most one evaluation, logged by [`emf`] as one line per
//!   service ([`record`]) that CloudWatch also reads as metrics.
//!
//! The worker Lambda is this crate's binary; the `fast-autoscaler` CLI
//! (`fast-autoscaler-cli`) reads configuration exactly as the Lambda does.

pub mod config;
pub mod ecs;
pub mod emf;
pub mod engine;
pub mod flow;
pub mod handler;
pub mod operator;
pub mod pause;
pub mod policy;
pub mod record;
pub mod state;

pub use config::{AutoscalerConfig, ConfigError, ConfigIssue, ConfigSource};
pub use engine::{Autoscaler, EvaluateOptions};
pub use fast_autoscaler_common::{
    self as common, aws_defaults, load_aws_config, now_ms, Clock, ManualClock, SystemClock, Tick,
    TICK_VERSION,
};
pub use fast_autoscaler_providers as providers;
pub use record::DecisionRecord;

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
