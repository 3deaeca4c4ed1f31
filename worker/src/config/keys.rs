//! The worker's own fields, by their environment variable names and JSON keys:
//! which target, which queue, where the state is kept and how often ticks come.
//! The policy's fields are named in `fast_autoscaler_core::settings::keys`.

pub use fast_autoscaler_core::settings::keys::*;

pub const ECS_CLUSTER: Key = Key::new("ECS_CLUSTER", "cluster");
pub const SERVICE_NAME: Key = Key::new("SERVICE_NAME", "service");
pub const QUEUE_TYPE: Key = Key::new("QUEUE_TYPE", "type");
/// What is scaled, in single-service mode: `ecs_service` unless set.
pub const TARGET_TYPE: Key = Key::new("TARGET_TYPE", "type");
pub const S3_CONFIG_BUCKET: Key = Key::new("S3_CONFIG_BUCKET", "state_bucket");
pub const TICK_INTERVAL_SECONDS: Key = Key::new("TICK_INTERVAL_SECONDS", "tick_interval_seconds");
pub const TICK_MAX_AGE_SECONDS: Key = Key::new("TICK_MAX_AGE_SECONDS", "tick_max_age_seconds");
pub const ECS_QUOTA_SHARE: Key = Key::new("ECS_QUOTA_SHARE", "ecs_quota_share");
pub const ECS_SERVICE_READS_PER_SECOND: Key = Key::new(
    "ECS_SERVICE_READS_PER_SECOND",
    "ecs_service_reads_per_second",
);
pub const ECS_SERVICE_READ_BURST: Key =
    Key::new("ECS_SERVICE_READ_BURST", "ecs_service_read_burst");
pub const ECS_SERVICE_MODIFIES_PER_SECOND: Key = Key::new(
    "ECS_SERVICE_MODIFIES_PER_SECOND",
    "ecs_service_modifies_per_second",
);
pub const ECS_SERVICE_MODIFY_BURST: Key =
    Key::new("ECS_SERVICE_MODIFY_BURST", "ecs_service_modify_burst");

/// The top-level keys of the ECS budget (see `fast_autoscaler_core::budget`).
pub const BUDGET_KEYS: [Key; 5] = [
    ECS_QUOTA_SHARE,
    ECS_SERVICE_READS_PER_SECOND,
    ECS_SERVICE_READ_BURST,
    ECS_SERVICE_MODIFIES_PER_SECOND,
    ECS_SERVICE_MODIFY_BURST,
];
