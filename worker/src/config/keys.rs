//! Every configuration field, by its environment variable name and its JSON key,
//! and the limits the readers check them against.

/// A field, by its environment variable name and its JSON key.
#[derive(Clone, Copy)]
pub(super) struct Key {
    pub env: &'static str,
    pub json: &'static str,
}

const fn key(env: &'static str, json: &'static str) -> Key {
    Key { env, json }
}

pub(super) const MIN_TASKS: Key = key("MIN_TASKS", "min_tasks");
pub(super) const MAX_TASKS: Key = key("MAX_TASKS", "max_tasks");
pub(super) const SCALE_UP_THRESHOLD: Key = key("SCALE_UP_THRESHOLD", "scale_up_threshold");
pub(super) const SCALE_DOWN_THRESHOLD: Key = key("SCALE_DOWN_THRESHOLD", "scale_down_threshold");
pub(super) const SCALE_OUT_COOLDOWN: Key = key("SCALE_OUT_COOLDOWN", "scale_out_cooldown");
pub(super) const SCALE_IN_COOLDOWN: Key = key("SCALE_IN_COOLDOWN", "scale_in_cooldown");
pub(super) const TASKS_PER_MESSAGE: Key = key("TASKS_PER_MESSAGE", "tasks_per_message");
pub(super) const MAX_SCALE_DOWN_FACTOR: Key = key("MAX_SCALE_DOWN_FACTOR", "max_scale_down_factor");
pub(super) const USE_COMBINED_MESSAGES: Key = key("USE_COMBINED_MESSAGES", "use_combined_messages");
pub(super) const SCALING_POLICY: Key = key("SCALING_POLICY", "scaling_policy");
pub(super) const TARGET_MESSAGES_PER_TASK: Key =
    key("TARGET_MESSAGES_PER_TASK", "target_messages_per_task");
pub(super) const ECS_CLUSTER: Key = key("ECS_CLUSTER", "cluster");
pub(super) const SERVICE_NAME: Key = key("SERVICE_NAME", "service");
pub(super) const QUEUE_TYPE: Key = key("QUEUE_TYPE", "type");
pub(super) const S3_CONFIG_BUCKET: Key = key("S3_CONFIG_BUCKET", "state_bucket");
pub(super) const TICK_INTERVAL_SECONDS: Key = key("TICK_INTERVAL_SECONDS", "tick_interval_seconds");
pub(super) const TICK_MAX_AGE_SECONDS: Key = key("TICK_MAX_AGE_SECONDS", "tick_max_age_seconds");
pub(super) const EMERGENCY_BACKLOG: Key = key("EMERGENCY_BACKLOG", "emergency_backlog");
pub(super) const SCALE_IN_STABILIZATION: Key =
    key("SCALE_IN_STABILIZATION", "scale_in_stabilization");
pub(super) const SCALE_IN_RELEASE: Key = key("SCALE_IN_RELEASE", "scale_in_release");
pub(super) const MAX_SCALE_OUT_STEP: Key = key("MAX_SCALE_OUT_STEP", "max_scale_out_step");
pub(super) const MAX_SCALE_IN_STEP: Key = key("MAX_SCALE_IN_STEP", "max_scale_in_step");
pub(super) const ACTIVATION_BACKLOG: Key = key("ACTIVATION_BACKLOG", "activation_backlog");
pub(super) const SCALE_TO_ZERO_AFTER: Key = key("SCALE_TO_ZERO_AFTER", "scale_to_zero_after");
pub(super) const FALLBACK_TASKS: Key = key("FALLBACK_TASKS", "fallback_tasks");
pub(super) const FALLBACK_AFTER_FAILURES: Key =
    key("FALLBACK_AFTER_FAILURES", "fallback_after_failures");
pub(super) const TASK_THROUGHPUT: Key = key("TASK_THROUGHPUT", "task_throughput");
pub(super) const TASK_STARTUP_SECONDS: Key = key("TASK_STARTUP_SECONDS", "task_startup_seconds");
pub(super) const TARGET_DRAIN_SECONDS: Key = key("TARGET_DRAIN_SECONDS", "target_drain_seconds");
pub(super) const TARGET_UTILIZATION: Key = key("TARGET_UTILIZATION", "target_utilization");
pub(super) const SCHEDULED_BOUNDS: Key = key("SCHEDULED_BOUNDS", "scheduled_bounds");
pub(super) const MAX_WAIT_SECONDS: Key = key("MAX_WAIT_SECONDS", "max_wait_seconds");

/// Policy keys a service object (or `defaults`) may hold.
pub(super) const POLICY_KEYS: [Key; 26] = [
    MIN_TASKS,
    MAX_TASKS,
    SCALE_UP_THRESHOLD,
    SCALE_DOWN_THRESHOLD,
    SCALE_OUT_COOLDOWN,
    SCALE_IN_COOLDOWN,
    TASKS_PER_MESSAGE,
    MAX_SCALE_DOWN_FACTOR,
    USE_COMBINED_MESSAGES,
    SCALING_POLICY,
    TARGET_MESSAGES_PER_TASK,
    EMERGENCY_BACKLOG,
    SCALE_IN_STABILIZATION,
    SCALE_IN_RELEASE,
    MAX_SCALE_OUT_STEP,
    MAX_SCALE_IN_STEP,
    ACTIVATION_BACKLOG,
    SCALE_TO_ZERO_AFTER,
    FALLBACK_TASKS,
    FALLBACK_AFTER_FAILURES,
    TASK_THROUGHPUT,
    TASK_STARTUP_SECONDS,
    TARGET_DRAIN_SECONDS,
    TARGET_UTILIZATION,
    SCHEDULED_BOUNDS,
    MAX_WAIT_SECONDS,
];

/// The largest task count accepted; ECS caps a service far below this.
pub(super) const TASKS_LIMIT: u64 = 100_000;
/// The longest cooldown accepted: one day.
pub(super) const COOLDOWN_LIMIT: u64 = 86_400;
