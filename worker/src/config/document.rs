//! The document source: one or more services from a JSON document, with a shared
//! `defaults` object; top-level settings it leaves out fall back to the environment.

use std::collections::HashSet;
use std::sync::Arc;

use fast_autoscaler_core::settings::issues::{excerpt, finish, issue, single_issue};
use fast_autoscaler_core::settings::{ConfigError, ConfigIssue, Key, Raw, Reader, Source};
use fast_autoscaler_providers::combine::{Combine, CombinedConfig};
use fast_autoscaler_providers::{self as providers, ProviderConfig};
use serde_json::{Map, Value};

use fast_autoscaler_core::target::{TargetId, ECS_SERVICE};
use fast_autoscaler_targets as targets;

use super::env::EnvSource;
use super::fields;
use super::keys::*;
use super::kind_defaults::policy_of;
use super::provider_lookup::provider_settings;
use super::schema::{AutoscalerConfig, ServiceConfig};
use super::target_lookup::{target_settings, Found, Written};
use super::Env;

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

/// The top-level keys a document may hold.
const TOP_KEYS: [&str; 5] = [
    "state_bucket",
    "tick_interval_seconds",
    "tick_max_age_seconds",
    "defaults",
    "services",
];

impl AutoscalerConfig {
    /// One or more services from the JSON document. Top-level settings the document
    /// leaves out (`state_bucket`, the tick settings) fall back to the environment.
    pub fn from_document(text: &str, env: Env<'_>) -> Result<Self, ConfigError> {
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
        let mut top_keys = TOP_KEYS.to_vec();
        top_keys.extend(BUDGET_KEYS.iter().map(|k| k.json));
        unknown_keys(top, "", &top_keys, &mut issues);
        let defaults = read_defaults(top, &mut issues);
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
        let state_bucket = fields::bucket(&mut read, S3_CONFIG_BUCKET);
        let tick = fields::tick_settings(&mut read);
        let budgets = fields::budgets(&mut read);
        let services = read_services(top, &defaults, env, &mut issues);
        finish(issues, || {
            Some(Self {
                state_bucket: state_bucket?,
                tick_interval_s: tick?.0,
                tick_max_age_ms: tick?.1,
                budgets: budgets?,
                services,
            })
        })
    }
}

/// The shared `defaults` object (empty when absent or not an object).
fn read_defaults(top: &Map<String, Value>, issues: &mut Vec<ConfigIssue>) -> Map<String, Value> {
    match top.get("defaults") {
        None => Map::new(),
        Some(Value::Object(d)) => {
            let known: Vec<&str> = POLICY_KEYS.iter().map(|k| k.json).collect();
            unknown_keys(d, "defaults.", &known, issues);
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
    }
}

/// Every valid entry of `services`; each problem is recorded with its index.
fn read_services(
    top: &Map<String, Value>,
    defaults: &Map<String, Value>,
    env: Env<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<ServiceConfig> {
    let list = match top.get("services") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        other => {
            issues.push(issue(
                "services",
                other.map_or("<missing>".into(), Value::to_string),
                "a non-empty array of service objects",
            ));
            return Vec::new();
        }
    };
    let mut services = Vec::new();
    let mut seen = HashSet::new();
    for (i, entry) in list.iter().enumerate() {
        let Some(object) = entry.as_object() else {
            issues.push(issue(
                &format!("services[{i}]"),
                entry.to_string(),
                "an object",
            ));
            continue;
        };
        let entry = Entry {
            object,
            index: i,
            defaults,
        };
        services.extend(read_service(entry, &mut seen, env, issues));
    }
    services
}

/// One entry of `services`, with the shared defaults behind it.
#[derive(Clone, Copy)]
struct Entry<'a> {
    object: &'a Map<String, Value>,
    index: usize,
    defaults: &'a Map<String, Value>,
}

/// One entry of `services`; `seen` holds the targets listed before.
fn read_service(
    entry: Entry<'_>,
    seen: &mut HashSet<TargetId>,
    env: Env<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<ServiceConfig> {
    let Entry {
        object,
        index,
        defaults,
    } = entry;
    let prefix = format!("services[{index}].");
    let mut known: Vec<&str> = POLICY_KEYS.iter().map(|k| k.json).collect();
    known.extend([
        "target",
        "cluster",
        "service",
        "provider",
        "providers",
        "combine",
    ]);
    unknown_keys(object, &prefix, &known, issues);
    let target = read_target(object, &prefix, issues);
    let source = DocumentSource {
        object,
        defaults: Some(defaults),
        prefix: prefix.clone(),
        env: None,
    };
    let policy = policy_of(&source, target.as_ref().map(|t| t.1), issues);
    if let Some((target, _)) = &target {
        if !seen.insert(target.id().clone()) {
            let (field, expected) = if object.contains_key("target") {
                ("target", "each target listed once; this one is a duplicate")
            } else {
                (
                    "service",
                    "each service listed once; this one is a duplicate",
                )
            };
            issues.push(issue(
                &format!("{prefix}{field}"),
                target.id().to_string(),
                expected,
            ));
        }
    }
    let provider = read_queues(object, &prefix, env, issues);
    Some(ServiceConfig {
        target: target?.0,
        provider: provider?,
        policy: policy?,
    })
}

/// A service's target: its `target` object, or, as before targets existed,
/// the ECS service its own `cluster` and `service` fields name.
fn read_target(
    object: &Map<String, Value>,
    prefix: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Found> {
    let Some(settings) = object.get("target") else {
        return legacy_target(object, prefix, issues);
    };
    let at = format!("{prefix}target");
    if let Some(both) = ["cluster", "service"]
        .into_iter()
        .find(|k| object.contains_key(*k))
    {
        issues.push(issue(
            &format!("{prefix}{both}"),
            object[both].to_string(),
            "no cluster or service beside a target object: the target names what is scaled",
        ));
        return None;
    }
    let kind = match settings {
        Value::Object(t) => t.get("type").and_then(Value::as_str),
        _ => None,
    };
    let Some(kind) = kind else {
        let (field, value) = match settings {
            Value::Object(t) => (format!("{at}.type"), t.get("type")),
            other => (at.clone(), Some(other)),
        };
        issues.push(issue(
            &field,
            value.map_or("<missing>".into(), Value::to_string),
            &format!(
                "an object such as {{\"type\": \"ec2_asg\", \"name\": \"...\"}}, with a target type: {}",
                targets::registered_names().join(", ")
            ),
        ));
        return None;
    };
    let type_field = format!("{at}.type");
    let written = Written::Document {
        settings,
        at: &at,
        type_field: &type_field,
    };
    target_settings(kind, written, issues)
}

/// The ECS service an entry's own `cluster` and `service` fields name, as
/// every document before targets had it; its problems are named under those
/// fields (`services[0].cluster`).
fn legacy_target(
    object: &Map<String, Value>,
    prefix: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Found> {
    let legacy: Map<String, Value> = ["cluster", "service"]
        .into_iter()
        .filter_map(|k| object.get(k).map(|v| (k.to_string(), v.clone())))
        .chain([("type".to_string(), Value::from(ECS_SERVICE))])
        .collect();
    let settings = Value::Object(legacy);
    let type_field = format!("{prefix}target.type");
    let written = Written::Document {
        settings: &settings,
        at: prefix.trim_end_matches('.'),
        type_field: &type_field,
    };
    target_settings(ECS_SERVICE, written, issues)
}

/// A service's queues: one `provider` object, or a `providers` list read as one
/// by `combine` (sum or max).
fn read_queues(
    object: &Map<String, Value>,
    prefix: &str,
    env: Env<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Arc<dyn ProviderConfig>> {
    let Some(list) = object.get("providers") else {
        if let Some(combine) = object.get("combine") {
            let expected = "no combine beside one provider: it combines a providers list";
            issues.push(issue(
                &format!("{prefix}combine"),
                combine.to_string(),
                expected,
            ));
        }
        return read_provider(
            object.get("provider"),
            &format!("{prefix}provider"),
            env,
            issues,
        );
    };
    if object.contains_key("provider") {
        let expected = "either provider (one queue) or providers (several), not both";
        issues.push(issue(
            &format!("{prefix}providers"),
            list.to_string(),
            expected,
        ));
        return None;
    }
    let combine = read_combine(object.get("combine"), prefix, issues);
    let providers = read_provider_list(list, prefix, env, issues)?;
    Some(Arc::new(CombinedConfig::new(providers, combine?)))
}

/// `combine` beside a providers list: sum by default.
fn read_combine(
    value: Option<&Value>,
    prefix: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Combine> {
    let Some(value) = value else {
        return Some(Combine::Sum);
    };
    value.as_str().and_then(Combine::parse).or_else(|| {
        issues.push(issue(
            &format!("{prefix}combine"),
            value.to_string(),
            Combine::EXPECTED,
        ));
        None
    })
}

/// Every provider of a `providers` list, each checked (all problems reported).
fn read_provider_list(
    list: &Value,
    prefix: &str,
    env: Env<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Vec<Arc<dyn ProviderConfig>>> {
    let entries = match list.as_array() {
        Some(entries) if !entries.is_empty() => entries,
        _ => {
            let expected = "a non-empty array of provider objects such as {\"type\": \"sqs\", \"queue_url\": \"https://...\"}";
            issues.push(issue(
                &format!("{prefix}providers"),
                list.to_string(),
                expected,
            ));
            return None;
        }
    };
    let built: Vec<_> = entries
        .iter()
        .enumerate()
        .map(|(i, settings)| {
            read_provider(
                Some(settings),
                &format!("{prefix}providers[{i}]"),
                env,
                issues,
            )
        })
        .collect();
    built.into_iter().collect()
}

/// One provider object at `at` (`services[0].provider`), built by its
/// registered factory.
fn read_provider(
    settings: Option<&Value>,
    at: &str,
    env: Env<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Arc<dyn ProviderConfig>> {
    match settings {
        Some(settings @ Value::Object(p)) => match p.get("type").and_then(Value::as_str) {
            Some(kind) => provider_settings(kind, Some((settings, at)), env, issues),
            None => {
                issues.push(issue(
                    &format!("{at}.type"),
                    p.get("type").map_or("<missing>".into(), Value::to_string),
                    &format!(
                        "a provider name: {}",
                        providers::registered_names().join(", ")
                    ),
                ));
                None
            }
        },
        other => {
            issues.push(issue(
                at,
                other.map_or("<missing>".into(), Value::to_string),
                "an object such as {\"type\": \"sqs\", \"queue_url\": \"https://...\"}",
            ));
            None
        }
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
