//! `fast-autoscaler status`: one row per target, what `kubectl get
//! scaledobject` gives KEDA users. Its counts as its kind's describe call
//! answers them now, and where its state says it stands
//! (`fast_autoscaler_core::standing`): the last action with its reason and
//! age, the cooldowns, a pause, a claim in progress. Reads only: one describe
//! call per batch, one GetObject per target.

use fast_autoscaler_core::standing::{standing, Standing};
use fast_autoscaler_core::target::TargetId;
use fast_autoscaler_core::tick::{describe_all, TickTarget};
use fast_autoscaler_targets::TargetView;
use serde::Serialize;

use crate::bounded_calls::bounded;
use crate::engine::Autoscaler;

/// One target's row.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    /// The target's label, as the log lines and metrics name it.
    pub service: String,
    pub target_type: String,
    pub desired: Option<u32>,
    pub running: Option<u32>,
    pub starting: Option<u32>,
    /// Units protected from scale-in, where the kind has them.
    pub protected: Option<u32>,
    /// Where the state says it stands; `None` when the state could not be read.
    pub standing: Option<Standing>,
    /// What could not be read, and why.
    pub problems: Vec<String>,
}

impl Autoscaler {
    /// Every configured target's row, in configuration order.
    pub async fn status(&self) -> Vec<StatusRow> {
        let services = &self.config().services;
        let views = self.describe_every_target().await;
        let now_ms = self.clock().now_ms();
        let states = bounded(
            services
                .iter()
                .map(|s| self.state_store().read(s.target_id(), now_ms)),
        )
        .await;
        (services.iter().zip(views).zip(states))
            .map(|((service, view), stored)| {
                let mut problems = Vec::new();
                let view = view.map_err(|e| problems.push(e)).ok();
                let desired = view.as_ref().map(|v| v.desired);
                let standing = stored
                    .map(|stored| standing(&stored, &service.policy, desired, now_ms))
                    .map_err(|e| problems.push(e.to_string()))
                    .ok();
                StatusRow {
                    service: service.id(),
                    target_type: service.kind().to_string(),
                    desired,
                    running: view.as_ref().map(|v| v.running),
                    starting: view.as_ref().map(|v| v.starting),
                    protected: view.as_ref().map(|v| v.limits.protected).filter(|p| *p > 0),
                    standing,
                    problems,
                }
            })
            .collect()
    }

    /// Every configured target's counts, whatever the budget (an operator's
    /// one-off read), in configuration order: one call per batch.
    async fn describe_every_target(&self) -> Vec<Result<TargetView, String>> {
        let services = &self.config().services;
        let targets: Vec<TickTarget<'_>> = services
            .iter()
            .map(|s| TickTarget {
                id: s.target_id(),
                policy: &s.policy,
                budget: self.config().budget(s.kind()),
                kept: None,
            })
            .collect();
        let calls = describe_all(&targets);
        let described = bounded(calls.iter().map(|call| async move {
            let ids: Vec<TargetId> = (call.targets.iter())
                .map(|&i| services[i].target_id().clone())
                .collect();
            match self.target_client(&call.kind) {
                Some(client) => client.describe(&ids).await,
                None => Vec::new(),
            }
        }))
        .await;
        let mut views: Vec<Result<TargetView, String>> =
            vec![Err("not described".into()); services.len()];
        for (call, answers) in calls.iter().zip(described) {
            for (&i, answer) in call.targets.iter().zip(answers) {
                views[i] = answer.map_err(|e| e.to_string());
            }
        }
        views
    }
}
