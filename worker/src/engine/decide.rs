//! Each service's decision through the core's protocol, on what the tick read:
//! what it writes without changing a count is written here, and a change goes on
//! to [`super::actuation`].

use fast_autoscaler_core::actuation;
use fast_autoscaler_core::flow::{self, Effect, Settled, Step};
use fast_autoscaler_core::policy::{backlog, Decision, Observation};
use fast_autoscaler_core::state::{ServiceState, Stored};
use fast_autoscaler_providers::QueueMetrics;

use super::reads::{Counts, Input};
use super::{Autoscaler, TickRun};
use crate::config::ServiceConfig;
use crate::ecs::ServiceView;
use crate::error::Error;
use crate::record::DecisionRecord;
use crate::store::WriteOutcome;

/// What deciding one service came to.
pub(super) enum Outcome {
    /// Decided; anything to write without changing the count is written.
    Done(Box<DecisionRecord>),
    /// A change to claim and apply, if the tick's budget reaches it.
    Change(Box<Change>),
}

/// A change waiting for its turn, with everything to carry it out, or to decide
/// it again on counts read anew.
pub(super) struct Change {
    pub index: usize,
    pub settled: Settled,
    pub stored: Stored,
    pub metrics: Result<QueueMetrics, String>,
    pub view: ServiceView,
    /// How old `view` is: 0 when read this tick.
    pub view_age_ms: u64,
    pub order: actuation::Change,
}

impl Autoscaler {
    /// The decision for service `index` on what the tick read.
    pub(super) async fn decide(&self, run: &TickRun<'_>, index: usize, input: Input) -> Outcome {
        let Input {
            reading,
            counts,
            stored,
        } = input;
        let metrics = reading.map_err(|e| e.to_string());
        let (view, view_age_ms) = match counts {
            Counts::Read(view) => (view, 0),
            Counts::Kept(view, age_ms) => (view, age_ms),
            Counts::Missing(why) => {
                let record = self.record(run, index, Decision::hold(0, why), &metrics, None, 0);
                return Outcome::Done(Box::new(record));
            }
        };
        self.decide_on(run, index, metrics, view, view_age_ms, stored)
            .await
    }

    /// The decision for service `index` on its counts `view`, `view_age_ms` old.
    pub(super) async fn decide_on(
        &self,
        run: &TickRun<'_>,
        index: usize,
        metrics: Result<QueueMetrics, String>,
        view: ServiceView,
        view_age_ms: u64,
        stored: Result<Stored, Error>,
    ) -> Outcome {
        let service = &self.config.services[index];
        let done = |decision| {
            let record = self.record(run, index, decision, &metrics, Some(&view), view_age_ms);
            Outcome::Done(Box::new(record))
        };
        if view.status != "ACTIVE" {
            let why = format!("the ECS service is {}, not ACTIVE", view.status);
            return done(Decision::hold(view.desired, why));
        }
        let now_ms = self.clock.now_ms();
        let learned = self.forecasts.pattern(service, now_ms).await;
        let observed = Observation {
            metrics: metrics.as_ref().map_err(String::as_str),
            current: view.desired,
            running: view.running,
            now_ms,
            forecast: learned.as_ref().map(|l| &l.pattern),
        };
        let (settled, stored) = match self.settle(run, service, &observed, stored).await {
            Ok(settled) => settled,
            Err(decision) => return done(decision),
        };
        if run.context.dry_run {
            return done(dry_run(settled.decision));
        }
        match &settled.effect {
            Effect::None => done(settled.decision),
            Effect::Remember(next) => {
                if let Err(e) = self.write_state(service, next, &stored).await {
                    tracing::warn!(service = %service.id(), error = %e, "could not keep the policy's samples; the next tick decides with older ones");
                }
                done(settled.decision)
            }
            Effect::Repair(repaired) => done(
                self.repair(service, settled.decision, repaired, &stored)
                    .await,
            ),
            Effect::Claim(_) => {
                let waiting = metrics.as_ref().map_or(0, |m| backlog(&service.policy, m));
                let order = actuation::Change::of(&settled.decision, view.desired, waiting);
                Outcome::Change(Box::new(Change {
                    index,
                    settled,
                    stored,
                    metrics,
                    view,
                    view_age_ms,
                    order,
                }))
            }
        }
    }

    /// The protocol on the state read this tick, to its settled decision and the
    /// state it settled on; a decision made before the state is needed (most
    /// ticks), or a hold, is answered as `Err`. A failed state read holds a
    /// policy with history; the others decide without it, and read it again only
    /// when they propose a change.
    async fn settle(
        &self,
        run: &TickRun<'_>,
        service: &ServiceConfig,
        observed: &Observation<'_>,
        stored: Result<Stored, Error>,
    ) -> Result<(Settled, Stored), Decision> {
        let (policy, current, now) = (&service.policy, observed.current, observed.now_ms);
        let due_ms = run.context.tick.due_ms;
        let stored = match stored {
            Ok(found) => Some(found),
            Err(e) if flow::reads_state_every_tick(policy) => {
                return Err(Decision::hold(
                    current,
                    format_args!(
                        "cannot read the scaling state this policy's history lives in: {e}"
                    ),
                ))
            }
            Err(e) => {
                tracing::warn!(service = %service.id(), error = %e, "cannot read the scaling state; deciding without it (a pause set meanwhile is not seen)");
                None
            }
        };
        let pending = match flow::propose(policy, observed, stored.as_ref(), due_ms) {
            Step::Done(decision) => return Err(decision),
            Step::NeedsState(pending) => pending,
        };
        let stored = match stored {
            Some(stored) => stored,
            None => self.read_state(service, now).await.map_err(|e| {
                let why = format!(
                    "{}; cannot read the scaling state: {e}",
                    pending.proposed().reason
                );
                Decision::hold(current, why)
            })?,
        };
        let settled = pending.settle(&stored, self.at(service, observed, due_ms));
        Ok((settled, stored))
    }

    /// Who and when, for the state the protocol writes.
    pub(super) fn at<'a>(
        &self,
        service: &'a ServiceConfig,
        observed: &Observation<'_>,
        tick_due_ms: u64,
    ) -> flow::At<'a> {
        flow::At {
            cluster: &service.cluster,
            service: &service.service,
            now_ms: observed.now_ms,
            tick_due_ms,
            current: observed.current,
            lease_ms: self.lease_ms(),
        }
    }

    /// The record of service `index`'s decision; one made on counts kept from an
    /// earlier tick says how old they are.
    pub(super) fn record(
        &self,
        run: &TickRun<'_>,
        index: usize,
        mut decision: Decision,
        metrics: &Result<QueueMetrics, String>,
        view: Option<&ServiceView>,
        view_age_ms: u64,
    ) -> DecisionRecord {
        if view_age_ms > 0 {
            decision.reason = format!(
                "{} [counts read {} s ago: the ECS budget did not reach this service this tick]",
                decision.reason,
                view_age_ms / 1000
            );
        }
        let service = &self.config.services[index];
        DecisionRecord::new(service, &run.context, decision, metrics.as_ref().ok(), view)
    }

    /// Replaces an unreadable state with a fresh one whose repair time starts the
    /// scale-in cooldown. Without it, a corrupt object would deny scale-in until the
    /// next scale-out happened to rewrite it.
    async fn repair(
        &self,
        service: &ServiceConfig,
        decision: Decision,
        repaired: &ServiceState,
        stored: &Stored,
    ) -> Decision {
        let problem = match stored {
            Stored::Corrupt { problem, .. } => problem.as_str(),
            _ => "unknown problem",
        };
        let outcome = match self.write_state(service, repaired, stored).await {
            Ok(WriteOutcome::Written { .. }) => format!(
                "the state ({problem}) was replaced; scale-in is possible after one cooldown ({}s)",
                service.policy.scale_in_cooldown_s
            ),
            Ok(WriteOutcome::Conflict) => "another worker rewrote the state meanwhile".to_string(),
            Err(e) => format!("replacing the state failed: {e}"),
        };
        Decision {
            reason: format!("{}; {outcome}", decision.reason),
            ..decision
        }
    }
}

/// A dry run's decision: nothing written, nothing applied, and the reason says so.
fn dry_run(decision: Decision) -> Decision {
    if !decision.action.changes_count() {
        return decision;
    }
    Decision {
        reason: format!("{} (dry run: not applied)", decision.reason),
        ..decision
    }
}
