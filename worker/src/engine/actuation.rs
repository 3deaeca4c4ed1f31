//! A tick's changes carried out in order, as many as its UpdateService budget
//! allows (see `fast_autoscaler_core::actuation` for the order). Each is claimed
//! in the service's state with a conditional write, then applied; a change
//! decided on counts kept from an earlier tick is decided again on counts read
//! now before anything is written. The rest wait for the next tick: the count
//! stays, the state as it was (a policy's memory aside), and the reason says
//! where the change stands in line.

use fast_autoscaler_core::actuation::{order, waiting};
use fast_autoscaler_core::flow::{Effect, Settled};
use fast_autoscaler_core::policy::{Action, Decision, Observation};
use fast_autoscaler_core::state::{ServiceState, Stored};

use super::decide::{Change, Outcome};
use super::reads::calls_for;
use super::{Autoscaler, TickRun};
use crate::bounded_calls::bounded;
use crate::config::ServiceConfig;
use crate::ecs::{self, ServiceView};
use crate::record::DecisionRecord;
use crate::store::{StateStore, WriteOutcome};

/// A change's place among the tick's records, and the change.
type Placed = (usize, Change);

impl Autoscaler {
    /// Carries out `changes` (each at its place among the tick's records), the
    /// first `updates` in order, describing again those decided on kept counts
    /// with at most `describe_calls`; answers each change's record at its place.
    pub(super) async fn actuate(
        &self,
        run: &TickRun<'_>,
        changes: Vec<Placed>,
        updates: u32,
        describe_calls: u32,
    ) -> Vec<(usize, DecisionRecord)> {
        let in_line = changes.len();
        let ranked = order(&changes.iter().map(|(_, c)| c.order).collect::<Vec<_>>());
        let mut slots: Vec<Option<Placed>> = changes.into_iter().map(Some).collect();
        let mut granted = Vec::new();
        let mut waiting_turn = Vec::new();
        for (place, i) in ranked.into_iter().enumerate() {
            let Some(placed) = slots[i].take() else {
                continue;
            };
            if place < updates as usize {
                granted.push(placed);
            } else {
                waiting_turn.push((placed, waiting(place + 1, in_line)));
            }
        }
        let (granted, unread) = self.split_by_reads(granted, describe_calls);
        let again: Vec<usize> = granted
            .iter()
            .filter(|(_, c)| c.view_age_ms > 0)
            .map(|(_, c)| c.index)
            .collect();
        let mut fresh = self.describe(run, &again).await;
        let carried = bounded(granted.into_iter().map(|(position, change)| {
            let fresh = fresh.remove(&change.index);
            async move { (position, self.carry_out_in_time(run, change, fresh).await) }
        }));
        let deferred =
            bounded(waiting_turn.into_iter().chain(unread).map(
                |((position, change), why)| async move {
                    (position, self.defer(run, change, &why).await)
                },
            ));
        let (mut carried, deferred) = tokio::join!(carried, deferred);
        carried.extend(deferred);
        carried
    }

    /// The granted changes whose kept counts the describe allowance can read
    /// again (in order), and the others, which wait with the reason.
    fn split_by_reads(
        &self,
        granted: Vec<Placed>,
        describe_calls: u32,
    ) -> (Vec<Placed>, Vec<(Placed, String)>) {
        let mut fits = Vec::new();
        let mut unread = Vec::new();
        let mut clusters: Vec<&str> = Vec::new();
        for placed in granted {
            if placed.1.view_age_ms == 0 {
                fits.push(placed);
                continue;
            }
            let cluster = self.config.services[placed.1.index].cluster.as_str();
            clusters.push(cluster);
            if calls_for(clusters.iter().copied()) <= describe_calls {
                fits.push(placed);
            } else {
                clusters.pop();
                let why = "waiting for the ECS budget to read its counts again before changing them; the next tick decides it again";
                unread.push((placed, why.to_string()));
            }
        }
        (fits, unread)
    }

    /// One granted change: decided again on counts read now if it was decided on
    /// kept ones, then claimed and applied, within the tick's deadline.
    async fn carry_out_in_time(
        &self,
        run: &TickRun<'_>,
        change: Change,
        fresh: Option<Result<ServiceView, crate::error::Error>>,
    ) -> DecisionRecord {
        let service = &self.config.services[change.index];
        let carrying = async {
            let change = match fresh {
                None => change,
                Some(Err(e)) => {
                    let why = format!(
                        "{}; cannot read the ECS service again: {e}",
                        change.settled.decision.reason
                    );
                    let hold = Decision::hold(change.view.desired, why);
                    return self.record(
                        run,
                        change.index,
                        hold,
                        &change.metrics,
                        Some(&change.view),
                        0,
                    );
                }
                Some(Ok(view)) => {
                    let Change {
                        index,
                        stored,
                        metrics,
                        ..
                    } = change;
                    match self
                        .decide_on(run, index, metrics, view, 0, Ok(stored))
                        .await
                    {
                        Outcome::Done(record) => return *record,
                        Outcome::Change(change) => *change,
                    }
                }
            };
            self.apply(run, change).await
        };
        match tokio::time::timeout_at(run.deadline, carrying).await {
            Ok(record) => record,
            Err(_) => self.unfinished(run, service),
        }
    }

    /// A change not made this tick, and why: what its policy keeps is written.
    async fn defer(&self, run: &TickRun<'_>, change: Change, why: &str) -> DecisionRecord {
        let service = &self.config.services[change.index];
        let observed = Observation {
            metrics: change.metrics.as_ref().map_err(String::as_str),
            current: change.view.desired,
            running: change.view.running,
            now_ms: self.clock.now_ms(),
            forecast: None,
        };
        let at = self.at(service, &observed, run.context.tick.due_ms);
        let settled = change
            .settled
            .deferred(&service.policy, &change.stored, at, why);
        if let Effect::Remember(next) | Effect::Repair(next) = &settled.effect {
            let writing = self.write_state(service, next, &change.stored);
            if let Ok(Err(e)) = tokio::time::timeout_at(run.deadline, writing).await {
                tracing::warn!(service = %service.id(), error = %e, "could not keep the policy's samples; the next tick decides with older ones");
            }
        }
        self.record(
            run,
            change.index,
            settled.decision,
            &change.metrics,
            Some(&change.view),
            change.view_age_ms,
        )
    }

    /// Claims the change in the state first; only the claimant calls UpdateService.
    async fn apply(&self, run: &TickRun<'_>, change: Change) -> DecisionRecord {
        let Change {
            index,
            settled,
            stored,
            metrics,
            view,
            view_age_ms,
            ..
        } = change;
        let service = &self.config.services[index];
        let Settled { decision, effect } = settled;
        let decision = match effect {
            Effect::Claim(claim) => {
                let decision = self
                    .claim(service, decision, &claim, &stored, view.desired)
                    .await;
                if decision.applied {
                    let set = ServiceView {
                        desired: decision.new_desired,
                        ..view.clone()
                    };
                    let read_at = self.clock.now_ms().saturating_sub(view_age_ms);
                    self.keep_view(index, set, read_at);
                }
                decision
            }
            // Only claims are queued for their turn.
            _ => decision,
        };
        self.record(run, index, decision, &metrics, Some(&view), view_age_ms)
    }

    async fn claim(
        &self,
        service: &ServiceConfig,
        decision: Decision,
        claim: &ServiceState,
        stored: &Stored,
        current: u32,
    ) -> Decision {
        match self.write_state(service, claim, stored).await {
            Err(e) => Decision::hold(
                current,
                format_args!("{}; cannot write the scaling state: {e}", decision.reason),
            ),
            Ok(WriteOutcome::Conflict) => decision.withheld(
                current,
                Action::None,
                "stood down: another worker changed this service's state first (conditional write lost)",
            ),
            Ok(WriteOutcome::Written { etag }) => {
                let to = decision.new_desired;
                match ecs::set_desired_count(&self.ecs, &service.cluster, &service.service, to).await {
                    Ok(()) => Decision {
                        applied: true,
                        ..decision
                    },
                    Err(e) => {
                        let released = self.release(service, claim, etag).await;
                        Decision::hold(
                            current,
                            format_args!(
                                "{}; UpdateService failed after the state recorded the action: {e}; {released}",
                                decision.reason
                            ),
                        )
                    }
                }
            }
        }
    }

    /// Releases this worker's claim after its UpdateService failed, so the next
    /// tick redoes the change instead of waiting out the lease. Conditional on the
    /// claim still being the stored object: if anything changed it, that stands.
    async fn release(&self, service: &ServiceConfig, claim: &ServiceState, etag: String) -> String {
        let released = claim.with_lease_released(self.clock.now_ms());
        let ours = Stored::Found {
            state: claim.clone(),
            etag,
        };
        match self.state.write(&released, &ours).await {
            Ok(WriteOutcome::Written { .. }) => {
                "the claim was released, so the next tick redoes it".into()
            }
            Ok(WriteOutcome::Conflict) => {
                "the state changed meanwhile; the claim was left as it is".into()
            }
            Err(e) => {
                tracing::warn!(service = %service.id(), key = %StateStore::key(&service.cluster, &service.service), error = %e, "could not release a failed claim; it expires with its lease");
                format!("releasing the claim failed ({e}); it expires with its lease")
            }
        }
    }
}
