//! The target of a service: its kind looked up by name in the registry, its
//! settings validated by the kind's own parser into plain data (nothing is
//! built), and its problems reported under the field names the user wrote.

use std::sync::Arc;

use fast_autoscaler_core::settings::issues::issue;
use fast_autoscaler_core::ConfigIssue;
use fast_autoscaler_targets::{self as targets, TargetConfig, TargetError, TargetRegistration};
use serde_json::Value;

use super::keys::TARGET_TYPE;
use super::Env;

/// Where a target's settings were written, for the labels of its problems.
#[derive(Clone, Copy)]
pub(super) enum Written<'a> {
    /// The environment: each setting under its variable.
    Env(Env<'a>),
    /// A document object (`services[0].target`, or the service entry itself
    /// for its `cluster` and `service` fields): each setting as `{at}.{field}`,
    /// and its type as `type_field`.
    Document {
        settings: &'a Value,
        at: &'a str,
        type_field: &'a str,
    },
}

/// A target and the registration of its kind.
pub(super) type Found = (Arc<dyn TargetConfig>, &'static TargetRegistration);

/// Looks the target kind up and lets its parser validate the settings.
pub(super) fn target_settings(
    kind: &str,
    written: Written<'_>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Found> {
    let type_field = match written {
        Written::Env(_) => TARGET_TYPE.env.to_string(),
        Written::Document { type_field, .. } => type_field.to_string(),
    };
    let Ok(registration) = targets::find(kind) else {
        issues.push(issue(
            &type_field,
            format!("{kind:?}"),
            &format!(
                "a registered target type: {}",
                targets::registered_names().join(", ")
            ),
        ));
        return None;
    };
    let settings = match written {
        Written::Document { settings, .. } => settings.clone(),
        Written::Env(env) => registration.settings_from_env(env),
    };
    match (registration.parse)(&settings) {
        Ok(target) => Some((target, registration)),
        Err(TargetError::Invalid(several)) => {
            for e in several {
                record(e, registration, written, &type_field, issues);
            }
            None
        }
        Err(e) => {
            record(e, registration, written, &type_field, issues);
            None
        }
    }
}

/// One refused setting, under the field name the user wrote.
fn record(
    e: TargetError,
    registration: &TargetRegistration,
    written: Written<'_>,
    type_field: &str,
    issues: &mut Vec<ConfigIssue>,
) {
    let TargetError::InvalidSetting {
        field,
        value,
        expected,
        ..
    } = e
    else {
        issues.push(issue(
            type_field,
            format!("{:?}", registration.name),
            &e.to_string(),
        ));
        return;
    };
    let field = match written {
        Written::Document { at, .. } => format!("{at}.{field}"),
        Written::Env(_) => registration
            .env_name_of(&field)
            .map_or(field.clone(), str::to_string),
    };
    issues.push(ConfigIssue {
        field,
        value,
        expected,
    });
}
