//! What is scaled: a target's identity, and the limits the target itself sets on
//! a request.
//!
//! # Design
//!
//! The core never knows which kinds of target exist (ECS services, EC2 Auto
//! Scaling groups, …): each kind is a crate under `targets/` that registers
//! itself, as providers do for what is read. What the core needs of a target is
//! plain data:
//!
//! - a [`TargetId`]: its kind, the scope its describe calls are grouped by (an
//!   ECS cluster; none for a group) and its name. It keys the target's state,
//!   its shard and its log lines;
//! - its [`TargetLimits`], read with its counts: the bounds the target itself
//!   enforces (a group's MinSize and MaxSize) and the units a scale-in must
//!   never ask away (instances protected from scale-in). [`TargetLimits::bound`]
//!   applies them to every decision, after the policy and any pause, so no
//!   request leaves them, and the reason says when one was held.
//!
//! # The original kind
//!
//! Every state object, shard and log line written before targets existed is an
//! ECS service's, keyed by `cluster/service`. [`ECS_SERVICE`] keeps exactly that
//! layout, so an upgrade moves no service to another shard and finds every state
//! with its cooldowns, claims and pauses; every other kind is keyed
//! `kind:name`, which no ECS key can be (a cluster name has no colon, and an ARN
//! starts with `arn:`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::policy::{Action, Decision};

/// The registered name of the ECS service kind, whose keys keep the layout of
/// every state written before targets existed.
pub const ECS_SERVICE: &str = "ecs_service";

/// One scaled target: its kind, its scope and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "TargetFields", from = "TargetFields")]
pub struct TargetId {
    /// The registered kind, e.g. `ecs_service` or `ec2_asg`.
    pub kind: String,
    /// What its describe calls are grouped by: an ECS cluster (name or ARN);
    /// empty for a kind described region-wide.
    pub scope: String,
    /// Its name (or ARN) within the scope.
    pub name: String,
}

impl TargetId {
    pub fn new(kind: &str, scope: &str, name: &str) -> Self {
        TargetId {
            kind: kind.to_string(),
            scope: scope.to_string(),
            name: name.to_string(),
        }
    }

    /// An ECS service of `cluster`.
    pub fn ecs_service(cluster: &str, service: &str) -> Self {
        TargetId::new(ECS_SERVICE, cluster, service)
    }

    /// How logs, metrics and the CLI name it: `cluster/service` for an ECS
    /// service, as before targets existed; `kind:name` for any other kind.
    pub fn label(&self) -> String {
        if self.kind == ECS_SERVICE {
            format!("{}/{}", self.scope, self.name)
        } else if self.scope.is_empty() {
            format!("{}:{}", self.kind, self.name)
        } else {
            format!("{}:{}/{}", self.kind, self.scope, self.name)
        }
    }

    /// Its state object's key below the state prefix: `cluster/service` by
    /// short names for an ECS service (as every release wrote it), else its label.
    pub fn state_key(&self) -> String {
        if self.kind == ECS_SERVICE {
            format!("{}/{}", short_name(&self.scope), short_name(&self.name))
        } else {
            self.label()
        }
    }
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The short name of an ECS cluster or service given by name or ARN.
fn short_name(name_or_arn: &str) -> &str {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
    } else {
        name_or_arn
    }
}

/// A target's identity as its state object holds it: an ECS service as every
/// release wrote it (`cluster`, `service`, no `target_type`), so a rollback
/// still reads it; any other kind with its type, scope and name.
#[derive(Serialize, Deserialize)]
struct TargetFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_name: Option<String>,
}

impl From<TargetId> for TargetFields {
    fn from(id: TargetId) -> Self {
        if id.kind == ECS_SERVICE {
            return TargetFields {
                target_type: None,
                cluster: Some(id.scope),
                service: Some(id.name),
                target_scope: None,
                target_name: None,
            };
        }
        TargetFields {
            target_type: Some(id.kind),
            cluster: None,
            service: None,
            target_scope: Some(id.scope).filter(|s| !s.is_empty()),
            target_name: Some(id.name),
        }
    }
}

impl From<TargetFields> for TargetId {
    fn from(fields: TargetFields) -> Self {
        match fields.target_type {
            None => TargetId::ecs_service(
                &fields.cluster.unwrap_or_default(),
                &fields.service.unwrap_or_default(),
            ),
            Some(kind) => TargetId {
                kind,
                scope: fields.target_scope.unwrap_or_default(),
                name: fields.target_name.unwrap_or_default(),
            },
        }
    }
}

/// A target's counts and limits, as one describe call read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetView {
    /// The count last asked for (desiredCount, DesiredCapacity).
    pub desired: u32,
    /// Units working now (running tasks, instances in service).
    pub running: u32,
    /// Units asked for and not working yet (pending tasks, instances launching).
    pub starting: u32,
    /// What the target itself allows a request to be.
    pub limits: TargetLimits,
    /// Why it cannot be scaled now (an ECS service that is not ACTIVE, a group
    /// being deleted): its service then holds. `None` when it can.
    pub not_ready: Option<String>,
}

/// The limits a target sets on any request, read with its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetLimits {
    /// The target's own lowest count (a group's MinSize); 0 where it has none.
    pub min: u32,
    /// The target's own highest count (a group's MaxSize); `None` where it has none.
    pub max: Option<u32>,
    /// Units that must not be asked away by a scale-in (instances protected
    /// from scale-in): no request goes below their number.
    pub protected: u32,
    /// What one unit is called in a reason: "tasks", "instances".
    pub unit: &'static str,
    /// Whose bounds `min` and `max` are, in a reason: "the group's".
    pub owner: &'static str,
}

impl TargetLimits {
    /// No limit beyond the policy's own.
    pub fn none(unit: &'static str) -> Self {
        TargetLimits {
            unit,
            ..TargetLimits::default()
        }
    }

    /// `decision` (from `current`) within these limits: a request above the
    /// target's max is lowered to it, and one below its min or the protected
    /// units is raised to them, but never above `current` (a limit only holds
    /// a scale-in back, it never starts a scale-out). The reason says which
    /// limit held it. A hold or a decision within the limits is unchanged.
    pub fn bound(&self, decision: Decision, current: u32) -> Decision {
        if !decision.action.changes_count() {
            return decision;
        }
        let wanted = decision.new_desired;
        let (bounded, why) = if let Some(max) = self.max.filter(|max| wanted > *max) {
            (
                max.max(current.min(wanted)),
                format!("{} MaxSize {max}", self.owner),
            )
        } else if wanted < self.protected && self.protected >= self.min {
            (
                self.protected.min(current),
                format!("{} {} protected from scale-in", self.protected, self.unit),
            )
        } else if wanted < self.min {
            (
                self.min.min(current),
                format!("{} MinSize {}", self.owner, self.min),
            )
        } else {
            return decision;
        };
        let action = Action::between(current, bounded);
        Decision {
            action,
            new_desired: bounded,
            reason: format!(
                "{}; {} to {wanted} held at {bounded}: {why}",
                decision.reason, decision.action
            ),
            // A change that no longer happens is no emergency.
            emergency: decision.emergency && action.changes_count(),
            ..decision
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(current: u32, to: u32) -> Decision {
        Decision {
            action: Action::between(current, to),
            new_desired: to,
            reason: "policy".into(),
            ..Decision::stay(current, String::new())
        }
    }

    fn group(min: u32, max: u32, protected: u32) -> TargetLimits {
        TargetLimits {
            min,
            max: Some(max),
            protected,
            unit: "instances",
            owner: "the group's",
        }
    }

    #[test]
    fn an_ecs_service_keeps_the_original_keys_and_labels() {
        let id = TargetId::ecs_service("arn:aws:ecs:eu-west-1:1:cluster/prod", "workers");
        assert_eq!(id.state_key(), "prod/workers");
        assert_eq!(id.label(), "arn:aws:ecs:eu-west-1:1:cluster/prod/workers");
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"cluster": "arn:aws:ecs:eu-west-1:1:cluster/prod", "service": "workers"})
        );
        let group = TargetId::new("ec2_asg", "", "gpu/workers");
        assert_eq!(group.state_key(), "ec2_asg:gpu/workers");
        let json = serde_json::to_value(&group).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"target_type": "ec2_asg", "target_name": "gpu/workers"})
        );
        assert_eq!(serde_json::from_value::<TargetId>(json).unwrap(), group);
    }

    #[test]
    fn a_request_never_leaves_the_targets_own_bounds_nor_asks_protected_units_away() {
        // Above MaxSize: lowered to it.
        let d = group(1, 10, 0).bound(change(4, 15), 4);
        assert_eq!((d.action, d.new_desired), (Action::ScaleOut, 10));
        assert!(
            d.reason
                .ends_with("scale_out to 15 held at 10: the group's MaxSize 10"),
            "{}",
            d.reason
        );
        // At MaxSize already: nothing to do.
        let d = group(1, 10, 0).bound(change(10, 15), 10);
        assert_eq!((d.action, d.new_desired), (Action::None, 10));
        // Below the protected instances: held at them.
        let d = group(0, 20, 7).bound(change(9, 3), 9);
        assert_eq!((d.action, d.new_desired), (Action::ScaleIn, 7));
        assert!(
            d.reason
                .ends_with("scale_in to 3 held at 7: 7 instances protected from scale-in"),
            "{}",
            d.reason
        );
        // Every instance protected: no scale-in at all.
        let d = group(0, 20, 9).bound(change(9, 3), 9);
        assert_eq!((d.action, d.new_desired), (Action::None, 9));
        // Below MinSize: held at it.
        let d = group(5, 20, 2).bound(change(9, 3), 9);
        assert_eq!((d.action, d.new_desired), (Action::ScaleIn, 5));
        assert!(d.reason.ends_with("the group's MinSize 5"), "{}", d.reason);
        // A limit never turns a scale-in into a scale-out.
        let d = group(0, 20, 12).bound(change(9, 3), 9);
        assert_eq!((d.action, d.new_desired), (Action::None, 9));
        // Within the limits, or no change: untouched.
        let within = change(4, 6);
        assert_eq!(group(1, 10, 2).bound(within.clone(), 4), within);
        let hold = Decision::hold(4, "metrics failed");
        assert_eq!(group(5, 10, 9).bound(hold.clone(), 4), hold);
        assert_eq!(
            TargetLimits::none("tasks")
                .bound(change(9, 0), 9)
                .new_desired,
            0
        );
    }
}
