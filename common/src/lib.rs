//! What both Fast Autoscaler Lambdas share, in one small crate.
//!
//! The scheduler and the worker are built and deployed separately but must agree
//! on a few things, so those live here and nowhere else:
//!
//! - [`tick`]: the tick message the scheduler sends and the worker parses, so the
//!   two cannot drift apart;
//! - [`interval`]: which tick intervals are valid (the divisors of 60), with the one
//!   error text both configurations report;
//! - [`clock`]: the wall clock, behind a trait so tests control time;
//! - [`aws`]: the AWS configuration with bounded time-outs and retries, so no
//!   Lambda waits on a hung call for longer than its tick allows;
//! - [`aws_error`]: an AWS call's error on one line, its full rendering at debug
//!   level.

pub mod aws;
pub mod aws_error;
pub mod clock;
pub mod interval;
pub mod tick;

pub use aws::{aws_defaults, load_aws_config};
pub use clock::{now_ms, Clock, ManualClock, SystemClock};
pub use interval::{parse_interval, DEFAULT_INTERVAL_S, VALID_INTERVALS};
pub use tick::{Tick, TICK_VERSION};

/// Errors of the shared basics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A tick body that does not parse or breaks the tick rules.
    #[error("malformed tick {body:?}: {reason}")]
    BadTick { body: String, reason: String },

    /// A tick interval that does not divide the minute.
    #[error("configuration: {field} = {value:?}: expected {VALID_INTERVALS}")]
    Interval { field: &'static str, value: String },
}
