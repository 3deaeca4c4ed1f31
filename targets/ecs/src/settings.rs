//! An ECS service's settings: its cluster and its name, each a name or an ARN.

use std::sync::Arc;

use fast_autoscaler_target::settings::{reject_unknown_keys, required_name};
use fast_autoscaler_target::{TargetConfig, TargetError, TargetId};
use serde_json::{json, Value};

use crate::NAME;

/// A validated ECS service target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsServiceConfig {
    id: TargetId,
}

impl EcsServiceConfig {
    pub fn new(cluster: &str, service: &str) -> Self {
        EcsServiceConfig {
            id: TargetId::ecs_service(cluster, service),
        }
    }
}

/// A name or ARN as ECS takes it: non-empty, no white space, at most 2048
/// characters (an ARN's limit).
fn valid_name(name: &str) -> bool {
    !name.chars().any(char::is_whitespace) && name.len() <= 2048
}

pub(crate) fn parse(settings: &Value) -> Result<Arc<dyn TargetConfig>, TargetError> {
    reject_unknown_keys(NAME, settings, &["cluster", "service"])?;
    let expected = |what| format!("an ECS {what} name or ARN, non-empty and without spaces");
    let names = TargetError::all_of(vec![
        required_name(NAME, settings, "cluster", valid_name, &expected("cluster")),
        required_name(NAME, settings, "service", valid_name, &expected("service")),
    ])?;
    Ok(Arc::new(EcsServiceConfig::new(&names[0], &names[1])))
}

impl TargetConfig for EcsServiceConfig {
    fn id(&self) -> &TargetId {
        &self.id
    }

    fn describe(&self) -> Value {
        json!({"type": NAME, "cluster": self.id.scope, "service": self.id.name})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_field_is_named_with_what_is_valid() {
        let ok = parse(&json!({"type": "ecs_service", "cluster": "prod", "service": "workers"}))
            .expect("valid");
        assert_eq!(ok.id(), &TargetId::ecs_service("prod", "workers"));
        for (settings, field) in [
            (json!({"type": "ecs_service", "service": "w"}), "cluster"),
            (
                json!({"type": "ecs_service", "cluster": "p", "service": "a b"}),
                "service",
            ),
            (
                json!({"type": "ecs_service", "cluster": "p", "service": 3}),
                "service",
            ),
            (
                json!({"type": "ecs_service", "cluster": "p", "service": "w", "name": "x"}),
                "name",
            ),
        ] {
            match parse(&settings) {
                Err(TargetError::InvalidSetting { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{settings}: {other:?}"),
            }
        }
    }
}
