//! A service's scaling policy as plain, validated data, and the field readers that
//! build it.
//!
//! Both configuration sources, the environment variables of the original Python
//! autoscaler and the JSON document, go through the same [`Reader`], so a field
//! is validated the same way wherever it comes from, and every problem is
//! collected before anything is reported: a deployment with three mistakes learns
//! of all three at once. Each problem names the field as the user wrote it
//! (`MIN_TASKS`, or `services[2].min_tasks` in the document), the bad value, and
//! what is valid.
//!
//! The sources themselves, and the fields that are not the policy's (cluster,
//! service, queue, state bucket, ticks), live in the worker's configuration
//! module, which implements [`Source`] for each.
//!
//! # Layout
//!
//! - [`policy`]: the validated types the decision logic runs on;
//! - [`reader`]: the field readers and the checks between fields;
//! - [`keys`]: every policy field's names and limits;
//! - [`bounds_windows`]: reading the scheduled bounds' windows;
//! - [`anticipation`]: reading anticipation and its hints;
//! - [`issues`]: the problems, each naming its field;
//! - [`json_object`]: a policy read from one JSON object alone.

pub mod anticipation;
pub mod bounds_windows;
pub mod issues;
pub mod json_object;
pub mod keys;
pub mod policy;
pub mod reader;

pub use issues::{ConfigError, ConfigIssue};
pub use json_object::policy_from_json;
pub use keys::Key;
pub use policy::{
    Anticipation, AnticipationMode, Fallback, PolicyKind, PolicySettings, ScaleInRelease,
    SurgeHint, DEFAULT_TOLERANCE,
};
pub use reader::{Raw, Reader, Source};
