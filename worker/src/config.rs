//! Configuration: one service from environment variables, or many from a JSON document.
//!
//! Both sources go through the same field readers, so a field is validated the same
//! way wherever it comes from, and every problem is collected before anything is
//! reported: a deployment with three mistakes learns of all three at once. Each
//! problem names the field as the user wrote it (`MIN_TASKS`, or
//! `services[2].min_tasks` in the document), the bad value, and what is valid.
//!
//! Single-service mode keeps the environment variable names and defaults of the
//! original Python autoscaler, so migrating users keep their configuration.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use fast_autoscaler_providers::{
    self as providers, ProviderContext, ProviderError, QueueMetricsProvider,
};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Reads one environment variable (the process environment in production).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A validated autoscaler configuration.
#[derive(Debug, Clone)]
pub struct AutoscalerConfig {
    /// Bucket holding the per-service state objects.
    pub state_bucket: String,
    /// Seconds between ticks (must match the scheduler's).
    pub tick_interval_s: u32,
    /// A tick older than this past its due time is dropped as stale.
    pub tick_max_age_ms: u64,
    /// The services to scale, each with its own provider and policy.
    pub services: Vec<ServiceConfig>,
}

/// One ECS service and how to scale it.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub cluster: String,
    pub service: String,
    pub provider: Arc<dyn QueueMetricsProvider>,
    pub policy: PolicySettings,
}

impl AutoscalerConfig {
    /// The hard deadline of one tick: four fifths of the interval, and at most 7 s
    /// (the worker Lambda's time-out is 8 s). A service not decided by then is
    /// `hold`, so a slow call never makes a tick overrun into the next one.
    pub fn tick_deadline(&self) -> std::time::Duration {
        let ms = (u64::from(self.tick_interval_s) * 800).clamp(1000, 7000);
        std::time::Duration::from_millis(ms)
    }
}

impl ServiceConfig {
    /// `cluster/service`, the name used in logs and state keys.
    pub fn id(&self) -> String {
        format!("{}/{}", self.cluster, self.service)
    }
}

/// The scaling policy of one service, with its bounds and cooldowns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySettings {
    pub min_tasks: u32,
    pub max_tasks: u32,
    /// Seconds after a scale-out before the next one (the emergency tier skips it).
    pub scale_out_cooldown_s: u64,
    /// Seconds since the last scaling action (either direction) before a scale-in.
    pub scale_in_cooldown_s: u64,
    /// Count in-flight messages in the backlog, not only visible ones.
    pub use_combined_messages: bool,
    pub kind: PolicyKind,
    /// At or above this backlog, skip the scale-out cooldown and step limit and go
    /// straight to the count the backlog needs.
    pub emergency_backlog: Option<u64>,
    /// Scale in only to the highest recommendation of this many seconds (0: off).
    pub scale_in_stabilization_s: u64,
    /// The most tasks one scale-out may add (except in an emergency).
    pub max_scale_out_step: Option<u32>,
    /// The most tasks one scale-in may remove.
    pub max_scale_in_step: Option<u32>,
    /// From 0 tasks, start one only when the backlog exceeds this.
    pub activation_backlog: u64,
    /// Go to 0 tasks only after the queue (in-flight included) has been empty this long.
    pub scale_to_zero_after_s: Option<u64>,
    /// A task count to raise the service to after consecutive metric failures.
    pub fallback: Option<Fallback>,
}

/// KEDA-style fallback: after `after_failures` consecutive failed metric readings,
/// raise the service to at least `tasks`. It never lowers a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fallback {
    pub tasks: u32,
    pub after_failures: u32,
}

impl Default for PolicySettings {
    /// The original's defaults (step rule, 10–300 tasks, 120 s cooldowns), no extras.
    fn default() -> Self {
        PolicySettings {
            min_tasks: 10,
            max_tasks: 300,
            scale_out_cooldown_s: 120,
            scale_in_cooldown_s: 120,
            use_combined_messages: false,
            kind: PolicyKind::Step {
                scale_up_threshold: 100.0,
                scale_down_threshold: 99.0,
                tasks_per_message: 0.01,
                max_scale_down_factor: 0.99,
            },
            emergency_backlog: None,
            scale_in_stabilization_s: 0,
            max_scale_out_step: None,
            max_scale_in_step: None,
            activation_backlog: 0,
            scale_to_zero_after_s: None,
            fallback: None,
        }
    }
}

impl PolicySettings {
    /// Whether the policy needs samples kept between ticks (read and written on
    /// every tick, not only when acting).
    pub fn needs_memory(&self) -> bool {
        matches!(self.kind, PolicyKind::Predictive { .. })
            || self.scale_in_stabilization_s > 0
            || self.scale_to_zero_after_s.is_some()
            || self.fallback.is_some()
    }
}

/// Which decision rule a service uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum PolicyKind {
    /// The original autoscaler's step rule.
    Step {
        scale_up_threshold: f64,
        scale_down_threshold: f64,
        tasks_per_message: f64,
        max_scale_down_factor: f64,
    },
    /// Backlog per task: `desired = ceil(messages / messages_per_task)`.
    Target { messages_per_task: f64 },
    /// Rate-aware: estimates the arrival rate from recent samples and provisions for
    /// the arrivals plus the backlog expected once new tasks have started, drained
    /// within `target_drain_s`.
    Predictive {
        /// Messages one task processes per second.
        task_throughput: f64,
        /// Seconds from a scale-out to the new tasks working.
        task_startup_s: u64,
        /// Seconds to work off the expected backlog.
        target_drain_s: u64,
    },
}

/// One problem with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigIssue {
    /// The field as the user wrote it: `MIN_TASKS` or `services[1].min_tasks`.
    pub field: String,
    /// The bad value as given, or `<missing>`.
    pub value: String,
    /// What would be valid.
    pub expected: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {}: expected {}",
            self.field, self.value, self.expected
        )
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for issue in &self.issues {
            write!(f, "\n  - {issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A field, by its environment variable name and its JSON key.
#[derive(Clone, Copy)]
struct Key {
    env: &'static str,
    json: &'static str,
}

const fn key(env: &'static str, json: &'static str) -> Key {
    Key { env, json }
}

const MIN_TASKS: Key = key("MIN_TASKS", "min_tasks");
const MAX_TASKS: Key = key("MAX_TASKS", "max_tasks");
const SCALE_UP_THRESHOLD: Key = key("SCALE_UP_THRESHOLD", "scale_up_threshold");
const SCALE_DOWN_THRESHOLD: Key = key("SCALE_DOWN_THRESHOLD", "scale_down_threshold");
const SCALE_OUT_COOLDOWN: Key = key("SCALE_OUT_COOLDOWN", "scale_out_cooldown");
const SCALE_IN_COOLDOWN: Key = key("SCALE_IN_COOLDOWN", "scale_in_cooldown");
const TASKS_PER_MESSAGE: Key = key("TASKS_PER_MESSAGE", "tasks_per_message");
const MAX_SCALE_DOWN_FACTOR: Key = key("MAX_SCALE_DOWN_FACTOR", "max_scale_down_factor");
const USE_COMBINED_MESSAGES: Key = key("USE_COMBINED_MESSAGES", "use_combined_messages");
const SCALING_POLICY: Key = key("SCALING_POLICY", "scaling_policy");
const TARGET_MESSAGES_PER_TASK: Key = key("TARGET_MESSAGES_PER_TASK", "target_messages_per_task");
const ECS_CLUSTER: Key = key("ECS_CLUSTER", "cluster");
const SERVICE_NAME: Key = key("SERVICE_NAME", "service");
const QUEUE_TYPE: Key = key("QUEUE_TYPE", "type");
const S3_CONFIG_BUCKET: Key = key("S3_CONFIG_BUCKET", "state_bucket");
const TICK_INTERVAL_SECONDS: Key = key("TICK_INTERVAL_SECONDS", "tick_interval_seconds");
const TICK_MAX_AGE_SECONDS: Key = key("TICK_MAX_AGE_SECONDS", "tick_max_age_seconds");
const EMERGENCY_BACKLOG: Key = key("EMERGENCY_BACKLOG", "emergency_backlog");
const SCALE_IN_STABILIZATION: Key = key("SCALE_IN_STABILIZATION", "scale_in_stabilization");
const MAX_SCALE_OUT_STEP: Key = key("MAX_SCALE_OUT_STEP", "max_scale_out_step");
const MAX_SCALE_IN_STEP: Key = key("MAX_SCALE_IN_STEP", "max_scale_in_step");
const ACTIVATION_BACKLOG: Key = key("ACTIVATION_BACKLOG", "activation_backlog");
const SCALE_TO_ZERO_AFTER: Key = key("SCALE_TO_ZERO_AFTER", "scale_to_zero_after");
const FALLBACK_TASKS: Key = key("FALLBACK_TASKS", "fallback_tasks");
const FALLBACK_AFTER_FAILURES: Key = key("FALLBACK_AFTER_FAILURES", "fallback_after_failures");
const TASK_THROUGHPUT: Key = key("TASK_THROUGHPUT", "task_throughput");
const TASK_STARTUP_SECONDS: Key = key("TASK_STARTUP_SECONDS", "task_startup_seconds");
const TARGET_DRAIN_SECONDS: Key = key("TARGET_DRAIN_SECONDS", "target_drain_seconds");

/// Policy keys a service object (or `defaults`) may hold.
const POLICY_KEYS: [Key; 22] = [
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
    MAX_SCALE_OUT_STEP,
    MAX_SCALE_IN_STEP,
    ACTIVATION_BACKLOG,
    SCALE_TO_ZERO_AFTER,
    FALLBACK_TASKS,
    FALLBACK_AFTER_FAILURES,
    TASK_THROUGHPUT,
    TASK_STARTUP_SECONDS,
    TARGET_DRAIN_SECONDS,
];

/// The largest task count accepted; ECS caps a service far below this.
const TASKS_LIMIT: u64 = 100_000;
/// The longest cooldown accepted: one day.
const COOLDOWN_LIMIT: u64 = 86_400;

/// Where the document came from, for `check-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    Environment,
    Document,
}

impl AutoscalerConfig {
    /// Loads the configuration the way the Lambda does: the JSON document from
    /// `document_path` (the CLI's `--config`), else `AUTOSCALER_CONFIG_FILE`, else the
    /// text of `AUTOSCALER_CONFIG`; with none of those, one service from the
    /// environment variables.
    pub fn load(
        env: Env<'_>,
        document_path: Option<&std::path::Path>,
        ctx: ProviderContext<'_>,
    ) -> Result<(Self, ConfigSource), ConfigError> {
        let from_file = document_path.map(|p| p.to_path_buf()).or_else(|| {
            env("AUTOSCALER_CONFIG_FILE")
                .filter(|p| !p.trim().is_empty())
                .map(Into::into)
        });
        if let Some(path) = from_file {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                single_issue(
                    "AUTOSCALER_CONFIG_FILE",
                    path.display().to_string(),
                    format!("a readable JSON file ({e})"),
                )
            })?;
            return Self::from_document(&text, env, ctx).map(|c| (c, ConfigSource::Document));
        }
        if let Some(text) = env("AUTOSCALER_CONFIG").filter(|t| !t.trim().is_empty()) {
            return Self::from_document(&text, env, ctx).map(|c| (c, ConfigSource::Document));
        }
        Self::from_env(env, ctx).map(|c| (c, ConfigSource::Environment))
    }

    /// One service from the original's environment variables.
    pub fn from_env(env: Env<'_>, ctx: ProviderContext<'_>) -> Result<Self, ConfigError> {
        let source = EnvSource { env };
        let mut issues = Vec::new();
        let mut read = Reader {
            source: &source,
            issues: &mut issues,
        };
        let state_bucket = read.bucket(S3_CONFIG_BUCKET);
        let tick = read.tick_settings();
        let cluster = read.name(ECS_CLUSTER, "an ECS cluster name or ARN");
        let service = read.name(SERVICE_NAME, "an ECS service name or ARN");
        let policy = read.policy();
        let queue_type = read.text(QUEUE_TYPE).unwrap_or_else(|| "sqs".into());
        let provider = build_provider(&queue_type, None, env, ctx, &mut issues);
        finish(issues, || {
            Some(Self {
                state_bucket: state_bucket?,
                tick_interval_s: tick?.0,
                tick_max_age_ms: tick?.1,
                services: vec![ServiceConfig {
                    cluster: cluster?,
                    service: service?,
                    provider: provider?,
                    policy: policy?,
                }],
            })
        })
    }

    /// One or more services from the JSON document. Top-level settings the document
    /// leaves out (`state_bucket`, the tick settings) fall back to the environment.
    pub fn from_document(
        text: &str,
        env: Env<'_>,
        ctx: ProviderContext<'_>,
    ) -> Result<Self, ConfigError> {
        let document: Value = serde_json::from_str(text).map_err(|e| {
            single_issue(
                "AUTOSCALER_CONFIG",
                excerpt(text),
                format!("a JSON document ({e})"),
            )
        })?;
        let Some(top) = document.as_object() else {
            return Err(single_issue(
                "AUTOSCALER_CONFIG",
                excerpt(text),
                "a JSON object with a \"services\" array".into(),
            ));
        };
        let mut issues = Vec::new();
        unknown_keys(
            top,
            "",
            &[
                "state_bucket",
                "tick_interval_seconds",
                "tick_max_age_seconds",
                "defaults",
                "services",
            ],
            &mut issues,
        );

        let defaults = match top.get("defaults") {
            None => Map::new(),
            Some(Value::Object(d)) => {
                let known: Vec<&str> = POLICY_KEYS.iter().map(|k| k.json).collect();
                unknown_keys(d, "defaults.", &known, &mut issues);
                d.clone()
            }
            Some(other) => {
                issues.push(issue(
                    "defaults",
                    other.to_string(),
                    "an object of policy settings",
                ));
                Map::new()
            }
        };

        let top_source = DocumentSource {
            object: top,
            defaults: None,
            prefix: String::new(),
            env: Some(env),
        };
        let mut read = Reader {
            source: &top_source,
            issues: &mut issues,
        };
        let state_bucket = read.bucket(S3_CONFIG_BUCKET);
        let tick = read.tick_settings();

        let mut services = Vec::new();
        let mut seen = HashSet::new();
        match top.get("services") {
            Some(Value::Array(list)) if !list.is_empty() => {
                for (i, entry) in list.iter().enumerate() {
                    let prefix = format!("services[{i}].");
                    let Some(object) = entry.as_object() else {
                        issues.push(issue(
                            &format!("services[{i}]"),
                            entry.to_string(),
                            "an object",
                        ));
                        continue;
                    };
                    let mut known: Vec<&str> = POLICY_KEYS.iter().map(|k| k.json).collect();
                    known.extend(["cluster", "service", "provider"]);
                    unknown_keys(object, &prefix, &known, &mut issues);
                    let source = DocumentSource {
                        object,
                        defaults: Some(&defaults),
                        prefix: prefix.clone(),
                        env: None,
                    };
                    let mut read = Reader {
                        source: &source,
                        issues: &mut issues,
                    };
                    let cluster = read.name(ECS_CLUSTER, "an ECS cluster name or ARN");
                    let service = read.name(SERVICE_NAME, "an ECS service name or ARN");
                    let policy = read.policy();
                    if let (Some(c), Some(s)) = (&cluster, &service) {
                        if !seen.insert((c.clone(), s.clone())) {
                            issues.push(issue(
                                &format!("{prefix}service"),
                                format!("{s:?} in cluster {c:?}"),
                                "each service listed once; this one is a duplicate",
                            ));
                        }
                    }
                    let provider = match object.get("provider") {
                        Some(settings @ Value::Object(p)) => {
                            match p.get("type").and_then(Value::as_str) {
                                Some(kind) => build_provider(
                                    kind,
                                    Some((settings, &prefix)),
                                    env,
                                    ctx,
                                    &mut issues,
                                ),
                                None => {
                                    issues.push(issue(
                                        &format!("{prefix}provider.type"),
                                        p.get("type").map_or("<missing>".into(), Value::to_string),
                                        &format!(
                                            "a provider name: {}",
                                            providers::registered_names().join(", ")
                                        ),
                                    ));
                                    None
                                }
                            }
                        }
                        other => {
                            issues.push(issue(
                                &format!("{prefix}provider"),
                                other.map_or("<missing>".into(), Value::to_string),
                                "an object such as {\"type\": \"sqs\", \"queue_url\": \"https://...\"}",
                            ));
                            None
                        }
                    };
                    if let (Some(cluster), Some(service), Some(provider), Some(policy)) =
                        (cluster, service, provider, policy)
                    {
                        services.push(ServiceConfig {
                            cluster,
                            service,
                            provider,
                            policy,
                        });
                    }
                }
            }
            other => issues.push(issue(
                "services",
                other.map_or("<missing>".into(), Value::to_string),
                "a non-empty array of service objects",
            )),
        }

        finish(issues, || {
            Some(Self {
                state_bucket: state_bucket?,
                tick_interval_s: tick?.0,
                tick_max_age_ms: tick?.1,
                services,
            })
        })
    }

    /// The effective configuration with secrets redacted, for `check-config`.
    pub fn describe(&self, source: ConfigSource) -> Value {
        json!({
            "source": source,
            "state_bucket": self.state_bucket,
            "tick_interval_seconds": self.tick_interval_s,
            "tick_max_age_seconds": self.tick_max_age_ms as f64 / 1000.0,
            "services": self.services.iter().map(|s| json!({
                "cluster": s.cluster,
                "service": s.service,
                "provider": s.provider.describe(),
                "policy": s.policy,
            })).collect::<Vec<_>>(),
        })
    }
}

fn finish<T>(
    issues: Vec<ConfigIssue>,
    build: impl FnOnce() -> Option<T>,
) -> Result<T, ConfigError> {
    if !issues.is_empty() {
        return Err(ConfigError { issues });
    }
    // Every reader returned Some when no issue was recorded.
    build().ok_or_else(|| {
        single_issue(
            "configuration",
            "<incomplete>".into(),
            "a complete configuration".into(),
        )
    })
}

fn issue(field: &str, value: String, expected: &str) -> ConfigIssue {
    ConfigIssue {
        field: field.to_string(),
        value,
        expected: expected.to_string(),
    }
}

fn single_issue(field: &str, value: String, expected: String) -> ConfigError {
    ConfigError {
        issues: vec![ConfigIssue {
            field: field.to_string(),
            value,
            expected,
        }],
    }
}

fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

fn unknown_keys(
    object: &Map<String, Value>,
    prefix: &str,
    known: &[&str],
    issues: &mut Vec<ConfigIssue>,
) {
    for (key, value) in object {
        if !known.contains(&key.as_str()) {
            issues.push(issue(
                &format!("{prefix}{key}"),
                value.to_string(),
                &format!(
                    "a known key; this one is not. Valid keys here: {}",
                    known.join(", ")
                ),
            ));
        }
    }
}

/// Looks the provider up and lets its factory validate its settings.
fn build_provider(
    kind: &str,
    document: Option<(&Value, &str)>,
    env: Env<'_>,
    ctx: ProviderContext<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Arc<dyn QueueMetricsProvider>> {
    let type_field = document.map_or_else(
        || QUEUE_TYPE.env.to_string(),
        |(_, prefix)| format!("{prefix}provider.type"),
    );
    let registration = match providers::find(kind) {
        Ok(r) => r,
        Err(_) => {
            issues.push(issue(
                &type_field,
                format!("{kind:?}"),
                &format!(
                    "a registered provider: {}",
                    providers::registered_names().join(", ")
                ),
            ));
            return None;
        }
    };
    let settings = match document {
        Some((settings, _)) => settings.clone(),
        None => registration.settings_from_env(env),
    };
    match (registration.factory)(&settings, ctx) {
        Ok(provider) => Some(provider),
        Err(ProviderError::InvalidSetting {
            field,
            value,
            expected,
            ..
        }) => {
            let label = match document {
                Some((_, prefix)) => format!("{prefix}provider.{field}"),
                None => registration
                    .env_name_of(&field)
                    .map_or(field.clone(), str::to_string),
            };
            issues.push(ConfigIssue {
                field: label,
                value,
                expected,
            });
            None
        }
        Err(other) => {
            issues.push(issue(&type_field, format!("{kind:?}"), &other.to_string()));
            None
        }
    }
}

/// A raw field value: text from the environment, or a JSON value from the document.
enum Raw {
    Text(String),
    Json(Value),
}

impl Raw {
    fn shown(&self) -> String {
        match self {
            Raw::Text(t) => format!("{t:?}"),
            Raw::Json(v) => v.to_string(),
        }
    }

    /// The value as text, accepting JSON strings and numbers.
    fn text(&self) -> Option<String> {
        match self {
            Raw::Text(t) => Some(t.trim().to_string()),
            Raw::Json(Value::String(s)) => Some(s.trim().to_string()),
            Raw::Json(Value::Number(n)) => Some(n.to_string()),
            Raw::Json(Value::Bool(b)) => Some(b.to_string()),
            Raw::Json(_) => None,
        }
    }
}

trait Source {
    /// The raw value of a field, if given, with the label to report it under.
    fn get(&self, key: Key) -> Option<(Raw, String)>;
    /// The label of a field that was not given.
    fn label(&self, key: Key) -> String;
}

struct EnvSource<'a> {
    env: Env<'a>,
}

impl Source for EnvSource<'_> {
    fn get(&self, key: Key) -> Option<(Raw, String)> {
        (self.env)(key.env)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (Raw::Text(v), key.env.to_string()))
    }
    fn label(&self, key: Key) -> String {
        key.env.to_string()
    }
}

/// A JSON object, with the shared `defaults` object and (top level only) the
/// environment behind it.
struct DocumentSource<'a> {
    object: &'a Map<String, Value>,
    defaults: Option<&'a Map<String, Value>>,
    prefix: String,
    env: Option<Env<'a>>,
}

impl Source for DocumentSource<'_> {
    fn get(&self, key: Key) -> Option<(Raw, String)> {
        if let Some(v) = self.object.get(key.json).filter(|v| !v.is_null()) {
            return Some((Raw::Json(v.clone()), self.label(key)));
        }
        if let Some(v) = self
            .defaults
            .and_then(|d| d.get(key.json))
            .filter(|v| !v.is_null())
        {
            return Some((Raw::Json(v.clone()), format!("defaults.{}", key.json)));
        }
        self.env.and_then(|env| EnvSource { env }.get(key))
    }
    fn label(&self, key: Key) -> String {
        format!("{}{}", self.prefix, key.json)
    }
}

/// Reads typed fields from a source, recording a [`ConfigIssue`] for each bad one.
/// Each reader answers `None` for a bad value so later checks skip it.
struct Reader<'a> {
    source: &'a dyn Source,
    issues: &'a mut Vec<ConfigIssue>,
}

impl Reader<'_> {
    fn bad(&mut self, field: String, value: String, expected: impl Into<String>) {
        self.issues.push(ConfigIssue {
            field,
            value,
            expected: expected.into(),
        });
    }

    fn text(&mut self, key: Key) -> Option<String> {
        let (raw, field) = self.source.get(key)?;
        match raw.text() {
            Some(t) => Some(t),
            None => {
                self.bad(field, raw.shown(), "a string");
                None
            }
        }
    }

    /// A required, non-empty name without white space.
    fn name(&mut self, key: Key, expected: &str) -> Option<String> {
        let Some((raw, field)) = self.source.get(key) else {
            let label = self.source.label(key);
            self.bad(label, "<missing>".into(), expected);
            return None;
        };
        match raw.text() {
            Some(t) if !t.is_empty() && !t.chars().any(char::is_whitespace) && t.len() <= 2048 => {
                Some(t)
            }
            _ => {
                self.bad(
                    field,
                    raw.shown(),
                    format!("{expected}, non-empty and without spaces"),
                );
                None
            }
        }
    }

    /// An S3 bucket name: 3–63 characters of lower-case letters, digits, '.' and '-'.
    fn bucket(&mut self, key: Key) -> Option<String> {
        let name = self.name(key, "the S3 bucket that holds the scaling state")?;
        let valid = (3..=63).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if valid {
            Some(name)
        } else {
            let field = self
                .source
                .get(key)
                .map_or_else(|| self.source.label(key), |(_, f)| f);
            self.bad(
                field,
                format!("{name:?}"),
                "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit",
            );
            None
        }
    }

    fn whole(&mut self, key: Key, default: u64, min: u64, max: u64) -> Option<u64> {
        let Some((raw, field)) = self.source.get(key) else {
            return Some(default);
        };
        match raw.text().and_then(|t| t.parse::<u64>().ok()) {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.bad(
                    field,
                    raw.shown(),
                    format!("a whole number from {min} to {max}"),
                );
                None
            }
        }
    }

    /// An optional whole number: `None` inside when absent.
    fn optional_whole(&mut self, key: Key, min: u64, max: u64) -> Option<Option<u64>> {
        if self.source.get(key).is_none() {
            return Some(None);
        }
        self.whole(key, 0, min, max).map(Some)
    }

    fn real(
        &mut self,
        key: Key,
        default: Option<f64>,
        valid: fn(f64) -> bool,
        expected: &str,
    ) -> Option<f64> {
        let Some((raw, field)) = self.source.get(key) else {
            if default.is_none() {
                let label = self.source.label(key);
                self.bad(label, "<missing>".into(), expected);
            }
            return default;
        };
        match raw.text().and_then(|t| t.parse::<f64>().ok()) {
            Some(x) if x.is_finite() && valid(x) => Some(x),
            _ => {
                self.bad(field, raw.shown(), expected);
                None
            }
        }
    }

    fn flag(&mut self, key: Key, default: bool) -> Option<bool> {
        let Some((raw, field)) = self.source.get(key) else {
            return Some(default);
        };
        match raw.text().map(|t| t.to_ascii_lowercase()).as_deref() {
            Some("true" | "1" | "yes") => Some(true),
            Some("false" | "0" | "no") => Some(false),
            _ => {
                self.bad(field, raw.shown(), "true or false");
                None
            }
        }
    }

    /// The tick interval and the maximum tick age in milliseconds.
    fn tick_settings(&mut self) -> Option<(u32, u64)> {
        let interval = match self.source.get(TICK_INTERVAL_SECONDS) {
            None => Some(fast_autoscaler_scheduler::DEFAULT_INTERVAL_S),
            Some((raw, field)) => {
                match fast_autoscaler_scheduler::parse_interval(raw.text().as_deref()) {
                    Ok(n) => Some(n),
                    Err(_) => {
                        self.bad(
                            field,
                            raw.shown(),
                            "a divisor of 60: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60",
                        );
                        None
                    }
                }
            }
        };
        let max_age = self.whole(
            TICK_MAX_AGE_SECONDS,
            u64::from(interval.unwrap_or(10)),
            1,
            3600,
        );
        Some((interval?, max_age? * 1000))
    }

    fn policy(&mut self) -> Option<PolicySettings> {
        let min_tasks = self.whole(MIN_TASKS, 10, 0, TASKS_LIMIT);
        let max_tasks = self.whole(MAX_TASKS, 300, 1, TASKS_LIMIT);
        let scale_out_cooldown_s = self.whole(SCALE_OUT_COOLDOWN, 120, 0, COOLDOWN_LIMIT);
        let scale_in_cooldown_s = self.whole(SCALE_IN_COOLDOWN, 120, 0, COOLDOWN_LIMIT);
        let use_combined_messages = self.flag(USE_COMBINED_MESSAGES, false);
        if let (Some(min), Some(max)) = (min_tasks, max_tasks) {
            if min > max {
                let field = self.source.label(MIN_TASKS);
                self.bad(
                    field,
                    min.to_string(),
                    format!("at most {} = {max}", self.source.label(MAX_TASKS)),
                );
            }
        }
        let policy_name = self.text(SCALING_POLICY).unwrap_or_else(|| "step".into());
        let kind = match policy_name.to_ascii_lowercase().as_str() {
            "step" => self.step_policy(),
            "target" => self
                .real(
                    TARGET_MESSAGES_PER_TASK,
                    None,
                    |x| x > 0.0,
                    "a number of messages per task greater than 0 (required by SCALING_POLICY=target)",
                )
                .map(|messages_per_task| PolicyKind::Target { messages_per_task }),
            "predictive" => self.predictive_policy(),
            _ => {
                let field = self.source.label(SCALING_POLICY);
                self.bad(
                    field,
                    format!("{policy_name:?}"),
                    "one of: step, target, predictive",
                );
                None
            }
        };
        let emergency_backlog = self.optional_whole(EMERGENCY_BACKLOG, 1, u64::MAX);
        let scale_in_stabilization_s = self.whole(SCALE_IN_STABILIZATION, 0, 0, 3600);
        let max_scale_out_step = self.optional_whole(MAX_SCALE_OUT_STEP, 1, TASKS_LIMIT);
        let max_scale_in_step = self.optional_whole(MAX_SCALE_IN_STEP, 1, TASKS_LIMIT);
        let activation_backlog = self.whole(ACTIVATION_BACKLOG, 0, 0, u64::MAX);
        let scale_to_zero_after_s = self.optional_whole(SCALE_TO_ZERO_AFTER, 0, COOLDOWN_LIMIT);
        if let (Some(Some(_)), Some(min)) = (scale_to_zero_after_s, min_tasks) {
            if min > 0 {
                let field = self.source.label(SCALE_TO_ZERO_AFTER);
                self.bad(
                    field,
                    "set".into(),
                    format!(
                        "no value while {} = {min}: scale to zero needs a minimum of 0",
                        self.source.label(MIN_TASKS)
                    ),
                );
            }
        }
        let fallback = self.fallback(min_tasks, max_tasks);
        Some(PolicySettings {
            min_tasks: u32::try_from(min_tasks?).ok()?,
            max_tasks: u32::try_from(max_tasks?).ok()?,
            scale_out_cooldown_s: scale_out_cooldown_s?,
            scale_in_cooldown_s: scale_in_cooldown_s?,
            use_combined_messages: use_combined_messages?,
            kind: kind?,
            emergency_backlog: emergency_backlog?,
            scale_in_stabilization_s: scale_in_stabilization_s?,
            max_scale_out_step: max_scale_out_step?.map(|n| n as u32),
            max_scale_in_step: max_scale_in_step?.map(|n| n as u32),
            activation_backlog: activation_backlog?,
            scale_to_zero_after_s: scale_to_zero_after_s?,
            fallback: fallback?,
        })
    }

    /// `FALLBACK_TASKS` (within the bounds) and `FALLBACK_AFTER_FAILURES`.
    fn fallback(&mut self, min: Option<u64>, max: Option<u64>) -> Option<Option<Fallback>> {
        let lowest = min.unwrap_or(0);
        let highest = max.unwrap_or(TASKS_LIMIT).max(lowest);
        let tasks = self.optional_whole(FALLBACK_TASKS, lowest, highest);
        let after = self.whole(FALLBACK_AFTER_FAILURES, 3, 1, 1000);
        let (tasks, after) = (tasks?, after?);
        Some(tasks.map(|tasks| Fallback {
            tasks: tasks as u32,
            after_failures: after as u32,
        }))
    }

    fn predictive_policy(&mut self) -> Option<PolicyKind> {
        let task_throughput = self.real(
            TASK_THROUGHPUT,
            None,
            |x| x > 0.0,
            "the messages one task processes per second, greater than 0 (required by SCALING_POLICY=predictive)",
        );
        let task_startup_s = self.whole(TASK_STARTUP_SECONDS, 45, 0, 3600);
        let target_drain_s = self.whole(TARGET_DRAIN_SECONDS, 60, 1, 3600);
        Some(PolicyKind::Predictive {
            task_throughput: task_throughput?,
            task_startup_s: task_startup_s?,
            target_drain_s: target_drain_s?,
        })
    }

    fn step_policy(&mut self) -> Option<PolicyKind> {
        let up = self.real(
            SCALE_UP_THRESHOLD,
            Some(100.0),
            |x| x >= 0.0,
            "a number of messages, 0 or more",
        );
        let down = self.real(
            SCALE_DOWN_THRESHOLD,
            Some(99.0),
            |x| x >= 0.0,
            "a number of messages, 0 or more",
        );
        let tasks_per_message = self.real(
            TASKS_PER_MESSAGE,
            Some(0.01),
            |x| x > 0.0,
            "a number of tasks per message greater than 0",
        );
        let factor = self.real(
            MAX_SCALE_DOWN_FACTOR,
            Some(0.99),
            |x| (0.0..=1.0).contains(&x),
            "a fraction from 0 to 1 (the share of tasks kept by one scale-in)",
        );
        if let (Some(up), Some(down)) = (up, down) {
            if down > up {
                let field = self.source.label(SCALE_DOWN_THRESHOLD);
                self.bad(
                    field,
                    down.to_string(),
                    format!("at most {} = {up}", self.source.label(SCALE_UP_THRESHOLD)),
                );
                return None;
            }
        }
        Some(PolicyKind::Step {
            scale_up_threshold: up?,
            scale_down_threshold: down?,
            tasks_per_message: tasks_per_message?,
            max_scale_down_factor: factor?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn aws() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    const QUEUE: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";

    fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("ECS_CLUSTER", "prod"),
            ("SERVICE_NAME", "workers"),
            ("S3_CONFIG_BUCKET", "scaling-state"),
            ("SQS_QUEUE_URL", QUEUE),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            env.insert(k.to_string(), v.to_string());
        }
        env
    }

    fn from_env(pairs: &[(&str, &str)]) -> Result<AutoscalerConfig, ConfigError> {
        let env = env_of(pairs);
        let aws = aws();
        AutoscalerConfig::from_env(&|k| env.get(k).cloned(), ProviderContext { aws: &aws })
    }

    fn from_doc(doc: &str) -> Result<AutoscalerConfig, ConfigError> {
        let aws = aws();
        AutoscalerConfig::from_document(doc, &|_| None, ProviderContext { aws: &aws })
    }

    #[test]
    fn defaults_match_the_original() {
        let config = from_env(&[]).unwrap();
        let s = &config.services[0];
        assert_eq!(s.id(), "prod/workers");
        assert_eq!(config.tick_interval_s, 10);
        assert_eq!(config.tick_max_age_ms, 10_000);
        assert_eq!(
            s.policy,
            PolicySettings {
                min_tasks: 10,
                max_tasks: 300,
                scale_out_cooldown_s: 120,
                scale_in_cooldown_s: 120,
                use_combined_messages: false,
                kind: PolicyKind::Step {
                    scale_up_threshold: 100.0,
                    scale_down_threshold: 99.0,
                    tasks_per_message: 0.01,
                    max_scale_down_factor: 0.99,
                },
                ..PolicySettings::default()
            }
        );
        assert_eq!(s.provider.provider_name(), "sqs");
    }

    /// Each bad input must name its field and show its value.
    #[test]
    fn bad_environment_values_name_their_field() {
        // (environment overrides, field that must be named, value that must be shown)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (&[("MIN_TASKS", "ten")], "MIN_TASKS", "\"ten\""),
            (&[("EMERGENCY_BACKLOG", "0")], "EMERGENCY_BACKLOG", "\"0\""),
            (
                &[("SCALE_IN_STABILIZATION", "3601")],
                "SCALE_IN_STABILIZATION",
                "\"3601\"",
            ),
            (
                &[("MAX_SCALE_OUT_STEP", "0")],
                "MAX_SCALE_OUT_STEP",
                "\"0\"",
            ),
            (
                &[("MAX_SCALE_IN_STEP", "-2")],
                "MAX_SCALE_IN_STEP",
                "\"-2\"",
            ),
            (
                &[("ACTIVATION_BACKLOG", "some")],
                "ACTIVATION_BACKLOG",
                "\"some\"",
            ),
            (
                &[("SCALE_TO_ZERO_AFTER", "300")],
                "SCALE_TO_ZERO_AFTER",
                "set",
            ),
            (
                &[("FALLBACK_TASKS", "500"), ("MAX_TASKS", "300")],
                "FALLBACK_TASKS",
                "\"500\"",
            ),
            (
                &[("FALLBACK_TASKS", "20"), ("FALLBACK_AFTER_FAILURES", "0")],
                "FALLBACK_AFTER_FAILURES",
                "\"0\"",
            ),
            (
                &[("SCALING_POLICY", "predictive")],
                "TASK_THROUGHPUT",
                "<missing>",
            ),
            (
                &[("SCALING_POLICY", "predictive"), ("TASK_THROUGHPUT", "-1")],
                "TASK_THROUGHPUT",
                "\"-1\"",
            ),
            (
                &[
                    ("SCALING_POLICY", "predictive"),
                    ("TASK_THROUGHPUT", "2"),
                    ("TARGET_DRAIN_SECONDS", "0"),
                ],
                "TARGET_DRAIN_SECONDS",
                "\"0\"",
            ),
            (&[("MIN_TASKS", "-1")], "MIN_TASKS", "\"-1\""),
            (&[("MAX_TASKS", "0")], "MAX_TASKS", "\"0\""),
            (
                &[("MIN_TASKS", "50"), ("MAX_TASKS", "20")],
                "MIN_TASKS",
                "50",
            ),
            (
                &[("SCALE_IN_COOLDOWN", "-30")],
                "SCALE_IN_COOLDOWN",
                "\"-30\"",
            ),
            (
                &[("SCALE_OUT_COOLDOWN", "1.5")],
                "SCALE_OUT_COOLDOWN",
                "\"1.5\"",
            ),
            (
                &[("SCALE_UP_THRESHOLD", "NaN")],
                "SCALE_UP_THRESHOLD",
                "\"NaN\"",
            ),
            (
                &[("SCALE_DOWN_THRESHOLD", "500")],
                "SCALE_DOWN_THRESHOLD",
                "500",
            ),
            (&[("TASKS_PER_MESSAGE", "0")], "TASKS_PER_MESSAGE", "\"0\""),
            (
                &[("MAX_SCALE_DOWN_FACTOR", "1.5")],
                "MAX_SCALE_DOWN_FACTOR",
                "\"1.5\"",
            ),
            (
                &[("USE_COMBINED_MESSAGES", "maybe")],
                "USE_COMBINED_MESSAGES",
                "\"maybe\"",
            ),
            (
                &[("SCALING_POLICY", "magic")],
                "SCALING_POLICY",
                "\"magic\"",
            ),
            (
                &[("SCALING_POLICY", "target")],
                "TARGET_MESSAGES_PER_TASK",
                "<missing>",
            ),
            (
                &[
                    ("SCALING_POLICY", "target"),
                    ("TARGET_MESSAGES_PER_TASK", "-4"),
                ],
                "TARGET_MESSAGES_PER_TASK",
                "\"-4\"",
            ),
            (&[("QUEUE_TYPE", "kafka")], "QUEUE_TYPE", "\"kafka\""),
            (
                &[("SQS_QUEUE_URL", "not-a-url")],
                "SQS_QUEUE_URL",
                "not-a-url",
            ),
            (
                &[("ECS_CLUSTER", "my cluster")],
                "ECS_CLUSTER",
                "\"my cluster\"",
            ),
            (
                &[("S3_CONFIG_BUCKET", "Bad_Bucket")],
                "S3_CONFIG_BUCKET",
                "\"Bad_Bucket\"",
            ),
            (
                &[("TICK_INTERVAL_SECONDS", "7")],
                "TICK_INTERVAL_SECONDS",
                "\"7\"",
            ),
            (
                &[("TICK_MAX_AGE_SECONDS", "0")],
                "TICK_MAX_AGE_SECONDS",
                "\"0\"",
            ),
        ];
        for (pairs, field, value) in cases {
            let err = from_env(pairs).expect_err(field);
            assert_eq!(err.issues.len(), 1, "{pairs:?}: {err}");
            let found = &err.issues[0];
            assert_eq!(found.field, *field, "{pairs:?}: {err}");
            assert!(found.value.contains(value), "{pairs:?}: {err}");
            assert!(!found.expected.is_empty());
        }
    }

    #[test]
    fn missing_required_fields_are_all_reported_together() {
        let aws = aws();
        let err = AutoscalerConfig::from_env(&|_| None, ProviderContext { aws: &aws }).unwrap_err();
        let fields: Vec<&str> = err.issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "S3_CONFIG_BUCKET",
                "ECS_CLUSTER",
                "SERVICE_NAME",
                "SQS_QUEUE_URL"
            ],
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("invalid configuration (4 problems)"),
            "{text}"
        );
    }

    #[test]
    fn unknown_provider_lists_registered_ones() {
        let err = from_env(&[("QUEUE_TYPE", "kafka")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("sqs"), "{err}");
    }

    #[test]
    fn a_document_with_several_services_and_defaults() {
        let config = from_doc(&format!(
            r#"{{"state_bucket": "scaling-state", "tick_interval_seconds": 5,
                "defaults": {{"min_tasks": 2, "scale_in_cooldown": 60}},
                "services": [
                  {{"cluster": "prod", "service": "a", "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}},
                  {{"cluster": "prod", "service": "b", "min_tasks": 0, "scaling_policy": "target",
                    "target_messages_per_task": 50, "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}
                ]}}"#
        ))
        .unwrap();
        assert_eq!(config.tick_interval_s, 5);
        assert_eq!(config.tick_max_age_ms, 5_000);
        assert_eq!(config.services[0].policy.min_tasks, 2);
        assert_eq!(config.services[0].policy.scale_in_cooldown_s, 60);
        assert_eq!(config.services[1].policy.min_tasks, 0);
        assert_eq!(
            config.services[1].policy.kind,
            PolicyKind::Target {
                messages_per_task: 50.0
            }
        );
    }

    #[test]
    fn bad_documents_name_their_fields() {
        let sqs = format!(r#"{{"type": "sqs", "queue_url": "{QUEUE}"}}"#);
        let cases: Vec<(String, &str)> = vec![
            ("{not json".into(), "AUTOSCALER_CONFIG"),
            ("[1, 2]".into(), "AUTOSCALER_CONFIG"),
            (r#"{"state_bucket": "b-1", "services": []}"#.into(), "services"),
            (format!(r#"{{"state_bucket": "b-1", "servics": [], "services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "servics"),
            (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "", "service": "s", "provider": {sqs}}}]}}"#), "services[0].cluster"),
            (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "min_taks": 3, "provider": {sqs}}}]}}"#), "services[0].min_taks"),
            (format!(r#"{{"state_bucket": "b-1", "services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}, {{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "services[1].service"),
            (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "provider": {"type": "sqs", "queue_url": "nope"}}]}"#.into(), "services[0].provider.queue_url"),
            (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s", "provider": {"type": "rabbit"}}]}"#.into(), "services[0].provider.type"),
            (r#"{"state_bucket": "b-1", "services": [{"cluster": "c", "service": "s"}]}"#.into(), "services[0].provider"),
            (format!(r#"{{"state_bucket": "b-1", "defaults": {{"max_tasks": -2}}, "services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "defaults.max_tasks"),
            (format!(r#"{{"services": [{{"cluster": "c", "service": "s", "provider": {sqs}}}]}}"#), "state_bucket"),
        ];
        for (doc, field) in cases {
            let err = from_doc(&doc).expect_err(&doc);
            assert!(err.issues.iter().any(|i| i.field == field), "{doc}\n{err}");
        }
    }

    #[test]
    fn document_settings_fall_back_to_environment() {
        let aws = aws();
        let doc = format!(
            r#"{{"services": [{{"cluster": "c", "service": "s", "provider": {{"type": "sqs", "queue_url": "{QUEUE}"}}}}]}}"#
        );
        let env = |k: &str| match k {
            "S3_CONFIG_BUCKET" => Some("state-bucket".to_string()),
            "TICK_INTERVAL_SECONDS" => Some("15".to_string()),
            _ => None,
        };
        let config =
            AutoscalerConfig::from_document(&doc, &env, ProviderContext { aws: &aws }).unwrap();
        assert_eq!(config.state_bucket, "state-bucket");
        assert_eq!(config.tick_interval_s, 15);
    }
}
