//! The scale-target interface of Fast Autoscaler: what is scaled, as providers
//! are what is read.
//!
//! # Design
//!
//! The worker never knows which kinds of target exist. Each kind (ECS services,
//! EC2 Auto Scaling groups, …) lives in its own crate under `targets/` and
//! announces itself with a [`TargetRegistration`]: a static struct holding a
//! name, a parser, the kind's API budget and a factory, submitted with
//! [`inventory::submit!`]. It is the providers' shape
//! (`fast-autoscaler-provider`), on the other side of the decision, as Vector
//! builds sources and sinks alike.
//!
//! Configuration has two phases. The registration's parser turns a service's
//! `"target": {"type": …}` object (or, for single-service deployments, the
//! environment variables its [`TargetRegistration::env_settings`] names) into a
//! [`TargetConfig`]: plain data with the target's [`TargetId`], checked without
//! I/O, which is all `check-config` needs. Only the worker and the commands that
//! scale then build each linked kind's [`TargetClient`] once, with its AWS
//! client, from a [`TargetContext`].
//!
//! A client is per kind, not per target, because its calls are: one describe
//! call reads up to [`ApiBudget::describe_batch`] targets of one scope (ten ECS
//! services of a cluster, fifty groups), and every call draws on the kind's
//! account-wide quotas, which its [`ApiBudget`] states. The core plans each
//! tick's calls from them whatever the kind (`fast_autoscaler_core::views`,
//! `fast_autoscaler_core::budget`).
//!
//! What a describe call answers is a [`TargetView`]: the counts the policy needs
//! (desired, running, starting) and the [`TargetLimits`] the target itself sets
//! on any request (a group's MinSize and MaxSize, its instances protected from
//! scale-in), which the core applies to every decision. A target that cannot be
//! scaled now says why, and its service holds.
//!
//! `inventory` collects registrations at link time, and the linker drops crates
//! nothing names: the `fast-autoscaler-targets` facade names every kind, one
//! feature each.

mod error;
mod registry;
pub mod settings;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

pub use async_trait::async_trait;
pub use error::TargetError;
pub use fast_autoscaler_core::budget::{ApiBudget, Quota, ECS_BUDGET};
pub use fast_autoscaler_core::target::{TargetId, TargetLimits, TargetView, ECS_SERVICE};
pub use inventory;
pub use registry::{find, registered, registered_names, TargetParser, TargetRegistration};

/// Reads and sets the counts of one kind's targets, with the kind's AWS client.
/// Built once per cold start; shared by every target of the kind.
#[async_trait]
pub trait TargetClient: Send + Sync + fmt::Debug {
    /// Reads `targets`, all of one scope and at most the kind's
    /// [`ApiBudget::describe_batch`]: one call. Answers one result per target,
    /// in order; a target the answer leaves out gets an error naming it.
    async fn describe(&self, targets: &[TargetId]) -> Vec<Result<TargetView, TargetError>>;

    /// Asks `target` for `desired` units. One call.
    async fn set_desired(&self, target: &TargetId, desired: u32) -> Result<(), TargetError>;
}

/// A target's validated settings: plain data, checked without any I/O.
pub trait TargetConfig: Send + Sync + fmt::Debug {
    /// The target's identity: its kind, scope and name.
    fn id(&self) -> &TargetId;

    /// The effective settings, for `check-config`.
    fn describe(&self) -> Value;
}

/// Everything a factory may use to build a kind's client.
#[derive(Clone, Copy)]
pub struct TargetContext<'a> {
    /// Shared AWS configuration (region, credentials, endpoint override), loaded once.
    pub aws: &'a aws_config::SdkConfig,
}

/// Builds a kind's client. No network I/O.
pub type TargetFactory = fn(TargetContext<'_>) -> Arc<dyn TargetClient>;
