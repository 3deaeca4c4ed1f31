//! A group's settings: its name.

use std::sync::Arc;

use fast_autoscaler_target::settings::{reject_unknown_keys, required_name};
use fast_autoscaler_target::{TargetConfig, TargetError, TargetId};
use serde_json::{json, Value};

use crate::NAME;

/// What a group name may be, as the EC2 Auto Scaling API reference defines it.
pub const EXPECTED_NAME: &str = "an Auto Scaling group name: 1 to 255 ASCII characters from '!' to '~', without ':' (a name, not an ARN)";

/// A validated Auto Scaling group target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgConfig {
    id: TargetId,
}

impl AsgConfig {
    pub fn new(name: &str) -> Self {
        AsgConfig {
            id: TargetId::new(NAME, "", name),
        }
    }
}

/// 1–255 characters, each ASCII 33–126, no colon.
pub fn valid_name(name: &str) -> bool {
    (1..=255).contains(&name.len()) && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

pub(crate) fn parse(settings: &Value) -> Result<Arc<dyn TargetConfig>, TargetError> {
    reject_unknown_keys(NAME, settings, &["name"])?;
    let name = required_name(NAME, settings, "name", valid_name, EXPECTED_NAME)?;
    Ok(Arc::new(AsgConfig::new(&name)))
}

impl TargetConfig for AsgConfig {
    fn id(&self) -> &TargetId {
        &self.id
    }

    fn describe(&self) -> Value {
        json!({"type": NAME, "name": self.id.name})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_name_of_the_wrong_shape_is_named_with_what_is_valid() {
        let ok = parse(&json!({"type": "ec2_asg", "name": "gpu-workers/eu"})).expect("valid");
        assert_eq!(ok.id().label(), "ec2_asg:gpu-workers/eu");
        let arn = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:1:autoScalingGroupName/gpu";
        for bad in [
            json!(arn),
            json!(""),
            json!("two words"),
            json!("x".repeat(256)),
            json!(7),
            json!("é"),
        ] {
            let err = parse(&json!({"type": "ec2_asg", "name": bad})).unwrap_err();
            let TargetError::InvalidSetting {
                field, expected, ..
            } = &err
            else {
                panic!("{bad}: {err:?}")
            };
            assert_eq!((field.as_str(), expected.as_str()), ("name", EXPECTED_NAME));
        }
        let missing = parse(&json!({"type": "ec2_asg"})).unwrap_err().to_string();
        assert!(missing.contains("name = <missing>"), "{missing}");
        let unknown = parse(&json!({"type": "ec2_asg", "name": "g", "group": "g"}))
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("group") && unknown.contains("valid settings: type, name"),
            "{unknown}"
        );
    }
}
