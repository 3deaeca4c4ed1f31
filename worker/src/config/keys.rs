//! The worker's own fields, by their environment variable names and JSON keys:
//! which service, which queue, where the state is kept and how often ticks come.
//! The policy's fields are named in `fast_autoscaler_core::settings::keys`.

pub use fast_autoscaler_core::settings::keys::*;

pub const ECS_CLUSTER: Key = Key::new("ECS_CLUSTER", "cluster");
pub const SERVICE_NAME: Key = Key::new("SERVICE_NAME", "service");
pub const QUEUE_TYPE: Key = Key::new("QUEUE_TYPE", "type");
pub const S3_CONFIG_BUCKET: Key = Key::new("S3_CONFIG_BUCKET", "state_bucket");
pub const TICK_INTERVAL_SECONDS: Key = Key::new("TICK_INTERVAL_SECONDS", "tick_interval_seconds");
pub const TICK_MAX_AGE_SECONDS: Key = Key::new("TICK_MAX_AGE_SECONDS", "tick_max_age_seconds");
