//! A policy read from one JSON object alone, as a document's `defaults` or a
//! service carries it: how `tune` proves that each setting it prints is a
//! configuration the worker accepts, without the worker.

use serde_json::{Map, Value};

use super::issues::finish;
use super::keys::{Key, POLICY_KEYS};
use super::policy::PolicySettings;
use super::reader::{Raw, Reader, Source};
use super::ConfigError;

/// One JSON object as a source of fields, named by their JSON keys.
struct JsonObject<'a>(&'a Map<String, Value>);

impl Source for JsonObject<'_> {
    fn get(&self, key: Key) -> Option<(Raw, String)> {
        self.0
            .get(key.json)
            .filter(|v| !v.is_null())
            .map(|v| (Raw::Json(v.clone()), key.json.to_string()))
    }

    fn label(&self, key: Key) -> String {
        key.json.to_string()
    }
}

/// The policy an object of policy keys describes, with every problem named
/// (a key that is not a policy key among them).
pub fn policy_from_json(object: &Map<String, Value>) -> Result<PolicySettings, ConfigError> {
    let mut issues = Vec::new();
    for (key, value) in object {
        if !POLICY_KEYS.iter().any(|k| k.json == key) {
            issues.push(super::issues::issue(key, value.to_string(), "a policy key"));
        }
    }
    let source = JsonObject(object);
    let mut read = Reader {
        source: &source,
        issues: &mut issues,
    };
    let policy = read.policy();
    finish(issues, || policy)
}
