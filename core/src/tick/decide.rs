//! Each target through the decision protocol of [`crate::flow`], on what the
//! tick read: its counts (read now, or kept), its queue and its state.

use super::{Kept, Next, Slot, Tick};
use crate::flow::{self, Effect, Pending, Settled};
use crate::forecast::Pattern;
use crate::metrics::QueueMetrics;
use crate::policy::{Decision, Observation};
use crate::state::Stored;
use crate::views::MAX_VIEW_AGE_MS;

impl<'p> Tick<'p> {
    /// Target `i`'s queue reading and state, as the driver read them (`Err`:
    /// why not), and its learned surges, if it anticipates: decided as far as
    /// it can be without I/O.
    pub fn observe(
        &mut self,
        i: usize,
        metrics: Result<QueueMetrics, String>,
        stored: Result<Stored, String>,
        forecast: Option<&Pattern>,
    ) -> Next {
        self.known[i].metrics = Some(metrics);
        match self.counts(i) {
            Ok((view, age_ms)) => {
                self.known[i].view = Some(view);
                self.known[i].view_age_ms = age_ms;
                self.decide_on(i, stored, forecast)
            }
            Err(why) => self.done(i, Decision::hold_unknown(why)),
        }
    }

    /// Target `i`'s counts: read this tick, else kept if not too old, with
    /// their age; or why there are none.
    fn counts(&self, i: usize) -> Result<(crate::target::TargetView, u64), String> {
        let known = &self.known[i];
        match &known.described {
            Some(Ok(view)) => return Ok((view.clone(), 0)),
            Some(Err(e)) => return Err(format!("cannot read the target: {e}")),
            None if known.asked => {
                return Err(format!("cannot read the target: {}", self.not_described(i)))
            }
            None => {}
        }
        let api = self.targets[i].budget.api;
        let now_ms = self.at.now_ms;
        match &self.targets[i].kept {
            Some(Kept { view, read_at_ms }) => {
                let age_ms = now_ms.saturating_sub(*read_at_ms);
                if age_ms <= MAX_VIEW_AGE_MS {
                    Ok((view.clone(), age_ms))
                } else {
                    Err(format!(
                        "waiting for the {api} budget to read its counts, last read {} s ago",
                        age_ms / 1000
                    ))
                }
            }
            None => Err(format!(
                "waiting for the {api} budget to read its counts for the first time"
            )),
        }
    }

    /// Target `i`'s decision on its counts and `stored`.
    pub(super) fn decide_on(
        &mut self,
        i: usize,
        stored: Result<Stored, String>,
        forecast: Option<&Pattern>,
    ) -> Next {
        let target = &self.targets[i];
        let (policy, known) = (target.policy, &self.known[i]);
        let Some(view) = known.view.clone() else {
            return self.done(i, Decision::hold_unknown("no counts to decide on"));
        };
        if let Some(why) = &view.not_ready {
            return self.done(i, Decision::hold(view.desired, why));
        }
        let metrics = known.metrics.as_ref();
        let observed = Observation {
            metrics: match metrics {
                Some(Ok(m)) => Ok(m),
                Some(Err(e)) => Err(e.as_str()),
                None => Err("not read"),
            },
            current: view.desired,
            running: view.running,
            now_ms: self.at.now_ms,
            forecast,
            limits: view.limits,
        };
        let stored = match stored {
            Ok(found) => Some(found),
            // A policy with history keeps its samples in the state.
            Err(e) if policy.needs_memory() => {
                let why =
                    format!("cannot read the scaling state this policy's history lives in: {e}");
                return self.done(i, Decision::hold(view.desired, why));
            }
            // Decided without it; read again only for a change.
            Err(_) => None,
        };
        match flow::propose(policy, &observed, stored.as_ref(), self.at.tick_due_ms) {
            flow::Step::Done(decision) => self.done(i, decision),
            flow::Step::NeedsState(pending) => match stored {
                Some(stored) => self.settle(i, pending, stored),
                None => {
                    self.slots[i] = Slot::NeedsState(pending);
                    Next::ReadState
                }
            },
        }
    }

    /// After [`Next::ReadState`]: the state read again, or why not.
    pub fn stored(&mut self, i: usize, stored: Result<Stored, String>) -> Next {
        let Slot::NeedsState(pending) = std::mem::replace(&mut self.slots[i], Slot::Unread) else {
            return Next::Done;
        };
        match stored {
            Ok(stored) => self.settle(i, pending, stored),
            Err(e) => {
                let current = self.current(i);
                let why = format!(
                    "{}; cannot read the scaling state: {e}",
                    pending.proposed().reason
                );
                self.done(i, Decision::hold(current, why))
            }
        }
    }

    /// The state decides `pending`: what to write, if anything, and whether a
    /// change is queued.
    fn settle(&mut self, i: usize, pending: Pending<'p>, stored: Stored) -> Next {
        let settled = pending.settle(&stored, self.flow_at(i));
        if self.at.dry_run {
            return self.done(i, dry_run(settled.decision));
        }
        let Settled { decision, effect } = settled;
        match effect {
            Effect::None => self.done(i, decision),
            Effect::Remember(next) => self.keep(i, decision, None, next, stored),
            Effect::Repair(next) => {
                let problem = match &stored {
                    Stored::Corrupt { problem, .. } => problem.clone(),
                    _ => "unknown problem".into(),
                };
                self.keep(i, decision, Some(problem), next, stored)
            }
            Effect::Claim(claim) => {
                let settled = Settled {
                    decision,
                    effect: Effect::Claim(claim),
                };
                self.slots[i] = Slot::Queued(Box::new((settled, stored)));
                Next::Queued
            }
        }
    }

    /// Who and when, for the state the protocol writes for target `i`.
    pub(super) fn flow_at(&self, i: usize) -> flow::At<'p> {
        flow::At {
            target: self.targets[i].id,
            now_ms: self.at.now_ms,
            tick_due_ms: self.at.tick_due_ms,
            current: self.current(i),
            lease_ms: self.at.lease_ms,
        }
    }

    /// Target `i`'s desired count, as its counts have it.
    pub(super) fn current(&self, i: usize) -> u32 {
        self.known[i].view.as_ref().map_or(0, |v| v.desired)
    }

    /// Target `i` decided.
    pub(super) fn done(&mut self, i: usize, decision: Decision) -> Next {
        self.slots[i] = Slot::Done(decision);
        Next::Done
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
