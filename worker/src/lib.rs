//! Fast Autoscaler's worker: the adapters around the pure core.
//!
//! # Design
//!
//! Every decision is made by `fast-autoscaler-core` (policy → state → cooldown,
//! with no I/O); this crate fetches its inputs and carries out its effects, and
//! nothing else:
//!
//! - [`config`] validates the whole configuration once, at cold start, into plain
//!   data, reporting every problem with its field, value and what is valid; then
//!   builds the providers, found by name in the `fast-autoscaler-providers`
//!   registry, and each target kind's client, found by name in the
//!   `fast-autoscaler-targets` registry;
//! - [`engine`] does one tick's I/O around the core's decision protocol: every
//!   queue, target and state read at once, within the tick's deadline; it
//!   knows targets only through their kind's client (ECS services, Auto
//!   Scaling groups, whatever is linked);
//! - [`store`] is the S3 adapter: the state objects with their conditional
//!   writes;
//! - [`forecasts`] learns each anticipating service's recurring surges from its
//!   queue's arrivals metric in CloudWatch, cached in memory and in the state
//!   bucket, refreshed every five minutes;
//! - [`bounded_calls`] keeps the calls of a tick to a bounded number at once;
//! - [`operator`] sets and clears an operator's pause with the same conditional
//!   writes as a claim, and [`status`] reads where every target stands;
//! - [`handler`] turns an SQS batch of ticks into at most one evaluation, logged
//!   by [`emf`] as one line per service ([`record`]) that CloudWatch also reads as
//!   metrics;
//! - [`error`]: what can go wrong, each naming what it is about.
//!
//! The worker Lambda is this crate's binary; the `fast-autoscaler` CLI
//! (`fast-autoscaler-cli`) reads configuration exactly as the Lambda does.

pub mod bounded_calls;
pub mod config;
pub mod emf;
pub mod engine;
pub mod error;
pub mod forecasts;
pub mod handler;
pub mod operator;
pub mod record;
pub mod status;
pub mod store;

pub use config::{AutoscalerConfig, ConfigError, ConfigIssue, ConfigSource};
pub use engine::{Autoscaler, EvaluateOptions};
pub use error::Error;
pub use fast_autoscaler_common::{
    self as common, aws_defaults, load_aws_config, now_ms, Clock, ManualClock, SystemClock, Tick,
    TICK_VERSION,
};
pub use fast_autoscaler_core as core;
pub use fast_autoscaler_providers as providers;
pub use fast_autoscaler_targets as targets;
pub use record::DecisionRecord;
