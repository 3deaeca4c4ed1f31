//! Fast Autoscaler's pure core: every decision the product makes, with no I/O.
//!
//! # Design
//!
//! The autoscaler is a decision, wrapped in adapters that fetch its inputs and
//! carry out its outputs. This crate is the decision, in the sans-IO style of
//! quinn-proto: time comes in as an argument, and effects go out as values. It
//! links nothing of AWS, tokio or Lambda (serde, serde_json and jiff only; `make
//! lint` checks `cargo tree`), so it can be tested exhaustively and driven by
//! anything: the worker Lambda against S3 and ECS, the CLI from the command line,
//! the simulator in memory over days of traffic a second at a time.
//!
//! - [`metrics`]: what a provider reads, [`QueueMetrics`];
//! - [`settings`]: a service's scaling policy as validated plain data, and the
//!   field readers that build it from the environment or a JSON document, with
//!   every problem named;
//! - [`policy`]: the rules and modifiers: a reading and a desired count in, a
//!   [`policy::Decision`] and its human-readable reason out;
//! - [`state`]: what is remembered per service between ticks, the claim that
//!   makes one worker of many act, and its lease;
//! - [`pause`]: an operator's pause, kept in that state, and [`standing`]:
//!   where a target stands as its state says it (what `status` shows);
//! - [`target`]: what is scaled, a target's identity and the limits it sets on
//!   a request;
//! - [`forecast`]: recurring surges learned from the arrivals' history, which
//!   the anticipation modifier prepares tasks for;
//! - [`shards`]: which shard of a large fleet a service belongs to;
//! - [`budget`] and [`actuation`]: the ECS calls a tick may make, and which of
//!   its changes go first when they cannot all be made, and [`views`]: which
//!   services' counts a tick reads when it cannot read them all;
//! - [`flow`]: the decision protocol that chains them for one target:
//!   [`flow::propose`], then, only when it answers [`flow::Step::NeedsState`],
//!   [`flow::Pending::settle`] with the state;
//! - [`tick`]: one tick over a shard's targets as one state machine, the one
//!   every driver runs (the worker against AWS, the simulator and the CLI's
//!   `decide` in memory): the describe calls the budget allows, each target's
//!   steps through [`flow`], which changes go ahead and which wait.
//!
//! # Where things go
//!
//! - a new base rule: `policy/rules/`, one file, and a [`settings::PolicyKind`];
//! - a new modifier: `policy/modifiers/`, one file, called in order from
//!   [`policy::recommend_with_memory`];
//! - a new setting: its names in [`settings::keys`], its reader in
//!   [`settings::reader`], its field in [`settings::PolicySettings`].

pub mod actuation;
pub mod budget;
pub mod flow;
pub mod forecast;
pub mod metrics;
pub mod pause;
pub mod policy;
pub mod settings;
pub mod shards;
pub mod standing;
pub mod state;
pub mod target;
pub mod tick;
pub mod views;

pub use metrics::{MessageAge, QueueMetrics};
pub use settings::{ConfigError, ConfigIssue, PolicyKind, PolicySettings};
