//! The provider of a service: looked up by name in the registry, its settings
//! validated by its own parser into plain data (nothing is built), and its
//! problems reported under the field names the user wrote.

use std::sync::Arc;

use fast_autoscaler_core::settings::issues::issue;
use fast_autoscaler_core::ConfigIssue;
use fast_autoscaler_providers::{self as providers, ProviderConfig, ProviderError};
use serde_json::Value;

use super::keys::QUEUE_TYPE;
use super::Env;

/// Looks the provider up and lets its parser validate its settings. In the
/// document, `document` holds the settings and where they are
/// (`services[0].provider`), which every problem is reported under.
pub(super) fn provider_settings(
    kind: &str,
    document: Option<(&Value, &str)>,
    env: Env<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Arc<dyn ProviderConfig>> {
    let type_field = document.map_or_else(
        || QUEUE_TYPE.env.to_string(),
        |(_, at)| format!("{at}.type"),
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
    match (registration.parse)(&settings) {
        Ok(provider) => Some(provider),
        Err(ProviderError::InvalidSetting {
            field,
            value,
            expected,
            ..
        }) => {
            let label = match document {
                Some((_, at)) => format!("{at}.{field}"),
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
