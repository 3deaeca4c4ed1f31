//! The provider of a service: looked up by name in the registry, its settings
//! validated by its own factory, and its problems reported under the field names
//! the user wrote.

use std::sync::Arc;

use fast_autoscaler_providers::{self as providers, ProviderError, QueueMetricsProvider};
use serde_json::Value;

use super::env::Env;
use super::error::{issue, ConfigIssue};
use super::keys::QUEUE_TYPE;
use fast_autoscaler_providers::ProviderContext;

/// Looks the provider up and lets its factory validate its settings. In the
/// document, `document` holds the settings and where they are
/// (`services[0].provider`), which every problem is reported under.
pub(super) fn build_provider(
    kind: &str,
    document: Option<(&Value, &str)>,
    env: Env<'_>,
    ctx: ProviderContext<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Arc<dyn QueueMetricsProvider>> {
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
    match (registration.factory)(&settings, ctx) {
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
