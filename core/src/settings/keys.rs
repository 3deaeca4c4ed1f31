//! Every policy field, by its environment variable name and its JSON key, and
//! the limits the readers check them against. The worker's own fields (the
//! cluster, the service, the state bucket, the ticks) are named the same way
//! in its configuration module.

/// A field, by its environment variable name and its JSON key.
#[derive(Clone, Copy)]
pub struct Key {
    pub env: &'static str,
    pub json: &'static str,
}

impl Key {
    /// The field named `env` in the environment and `json` in the document.
    pub const fn new(env: &'static str, json: &'static str) -> Key {
        Key { env, json }
    }
}

const fn key(env: &'static str, json: &'static str) -> Key {
    Key::new(env, json)
}

pub const MIN_TASKS: Key = key("MIN_TASKS", "min_tasks");
pub const MAX_TASKS: Key = key("MAX_TASKS", "max_tasks");
pub const SCALE_UP_THRESHOLD: Key = key("SCALE_UP_THRESHOLD", "scale_up_threshold");
pub const SCALE_DOWN_THRESHOLD: Key = key("SCALE_DOWN_THRESHOLD", "scale_down_threshold");
pub const SCALE_OUT_COOLDOWN: Key = key("SCALE_OUT_COOLDOWN", "scale_out_cooldown");
pub const SCALE_IN_COOLDOWN: Key = key("SCALE_IN_COOLDOWN", "scale_in_cooldown");
pub const TASKS_PER_MESSAGE: Key = key("TASKS_PER_MESSAGE", "tasks_per_message");
pub const MAX_SCALE_DOWN_FACTOR: Key = key("MAX_SCALE_DOWN_FACTOR", "max_scale_down_factor");
pub const USE_COMBINED_MESSAGES: Key = key("USE_COMBINED_MESSAGES", "use_combined_messages");
pub const SCALING_POLICY: Key = key("SCALING_POLICY", "scaling_policy");
pub const TARGET_MESSAGES_PER_TASK: Key =
    key("TARGET_MESSAGES_PER_TASK", "target_messages_per_task");
pub const EMERGENCY_BACKLOG: Key = key("EMERGENCY_BACKLOG", "emergency_backlog");
pub const SCALE_IN_STABILIZATION: Key = key("SCALE_IN_STABILIZATION", "scale_in_stabilization");
pub const SCALE_IN_RELEASE: Key = key("SCALE_IN_RELEASE", "scale_in_release");
pub const MAX_SCALE_OUT_STEP: Key = key("MAX_SCALE_OUT_STEP", "max_scale_out_step");
pub const MAX_SCALE_IN_STEP: Key = key("MAX_SCALE_IN_STEP", "max_scale_in_step");
pub const ACTIVATION_BACKLOG: Key = key("ACTIVATION_BACKLOG", "activation_backlog");
pub const SCALE_TO_ZERO_AFTER: Key = key("SCALE_TO_ZERO_AFTER", "scale_to_zero_after");
pub const FALLBACK_TASKS: Key = key("FALLBACK_TASKS", "fallback_tasks");
pub const FALLBACK_AFTER_FAILURES: Key = key("FALLBACK_AFTER_FAILURES", "fallback_after_failures");
pub const TASK_THROUGHPUT: Key = key("TASK_THROUGHPUT", "task_throughput");
pub const TASK_STARTUP_SECONDS: Key = key("TASK_STARTUP_SECONDS", "task_startup_seconds");
pub const TARGET_DRAIN_SECONDS: Key = key("TARGET_DRAIN_SECONDS", "target_drain_seconds");
pub const TARGET_UTILIZATION: Key = key("TARGET_UTILIZATION", "target_utilization");
pub const TOLERANCE: Key = key("TOLERANCE", "tolerance");
pub const SCHEDULED_BOUNDS: Key = key("SCHEDULED_BOUNDS", "scheduled_bounds");
pub const MAX_WAIT_SECONDS: Key = key("MAX_WAIT_SECONDS", "max_wait_seconds");
pub const ANTICIPATION: Key = key("ANTICIPATION", "anticipation");
pub const ANTICIPATION_CONFIDENCE: Key = key("ANTICIPATION_CONFIDENCE", "anticipation_confidence");
pub const ANTICIPATION_HINTS: Key = key("ANTICIPATION_HINTS", "anticipation_hints");

/// Policy keys a service object (or `defaults`) may hold.
pub const POLICY_KEYS: [Key; 30] = [
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
    TOLERANCE,
    SCHEDULED_BOUNDS,
    MAX_WAIT_SECONDS,
    ANTICIPATION,
    ANTICIPATION_CONFIDENCE,
    ANTICIPATION_HINTS,
];

/// The largest task count accepted; ECS caps a service far below this.
pub const TASKS_LIMIT: u64 = 100_000;
/// The longest cooldown accepted: one day.
pub const COOLDOWN_LIMIT: u64 = 86_400;
