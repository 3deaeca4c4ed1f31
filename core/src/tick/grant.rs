//! Which of the tick's changes go ahead: of each kind, the first its allowance
//! can make, in the order of [`crate::actuation`]; those decided on kept
//! counts read again first, within the describe calls the kind has left. The
//! rest wait for the next tick, their state as it was (a policy's memory
//! aside) and their reason saying where they stand in line.

use std::collections::BTreeMap;

use super::{plan, Actuation, Kept, Next, Slot, Tick};
use crate::actuation::{order, waiting, Change};
use crate::flow::{Effect, Settled};
use crate::forecast::Pattern;
use crate::policy::backlog;
use crate::state::Stored;
use crate::target::TargetView;

impl Tick<'_> {
    /// The queued changes' fate: the steps of those that go ahead or wait,
    /// and the targets to describe again before theirs (then [`Tick::reread`]).
    pub fn actuate(&mut self) -> Actuation {
        let (queued, changes): (Vec<usize>, Vec<Change>) = (0..self.slots.len())
            .filter_map(|i| self.change(i).map(|change| (i, change)))
            .unzip();
        let (granted, waits) = self.grant(&queued, &changes);
        let (fresh, again, unread) = self.split_by_reads(granted);
        let mut steps: Vec<(usize, Next)> = Vec::new();
        for i in fresh {
            let step = self.claim_queued(i);
            steps.push((i, step));
        }
        for (i, why) in waits.into_iter().chain(unread) {
            let step = self.defer(i, &why);
            steps.push((i, step));
        }
        self.rereads = plan::calls_of(&self.targets, &again);
        Actuation {
            rereads: self.rereads.clone(),
            steps,
        }
    }

    /// `queued` in order; of each kind, those its allowance updates, and the
    /// others with their place in their kind's line.
    fn grant(&self, queued: &[usize], changes: &[Change]) -> (Vec<usize>, Vec<(usize, String)>) {
        let kind = |i: usize| self.targets[i].id.kind.as_str();
        let mut in_line: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in queued {
            *in_line.entry(kind(i)).or_default() += 1;
        }
        let mut places: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut granted, mut waits) = (Vec::new(), Vec::new());
        for rank in order(changes) {
            let i = queued[rank];
            let place = places.entry(kind(i)).or_default();
            *place += 1;
            if *place <= self.allowances[kind(i)].updates as usize {
                granted.push(i);
            } else {
                let api = self.targets[i].budget.api;
                waits.push((i, waiting(api, *place, in_line[kind(i)])));
            }
        }
        (granted, waits)
    }

    /// Target `i`'s change, for ordering, if one is queued.
    fn change(&self, i: usize) -> Option<Change> {
        let Slot::Queued(queued) = &self.slots[i] else {
            return None;
        };
        let waiting = match &self.known[i].metrics {
            Some(Ok(metrics)) => backlog(self.targets[i].policy, metrics),
            _ => 0,
        };
        Some(Change::of(&queued.0.decision, self.current(i), waiting))
    }

    /// The granted changes made on counts read this tick; those on kept
    /// counts that the kind's describe calls left can read again; and the
    /// others, which wait with the reason.
    fn split_by_reads(
        &mut self,
        granted: Vec<usize>,
    ) -> (Vec<usize>, Vec<usize>, Vec<(usize, String)>) {
        let (mut fresh, mut again, mut unread) = (Vec::new(), Vec::new(), Vec::new());
        let mut scopes: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for i in granted {
            if self.known[i].view_age_ms == 0 {
                fresh.push(i);
                continue;
            }
            let target = &self.targets[i];
            let kind = target.id.kind.clone();
            let left = self.allowances[&kind]
                .describe_calls
                .saturating_sub(self.spent.get(&kind).copied().unwrap_or(0));
            let read = scopes.entry(kind).or_default();
            read.push(target.id.scope.as_str());
            if target.budget.describe_calls_for(read.iter().copied()) <= left {
                again.push(i);
            } else {
                read.pop();
                let why = format!("waiting for the {} budget to read its counts again before changing them; the next tick decides it again", target.budget.api);
                unread.push((i, why));
            }
        }
        (fresh, again, unread)
    }

    /// Queued change `i` goes ahead: its claim is written.
    fn claim_queued(&mut self, i: usize) -> Next {
        let Slot::Queued(queued) = std::mem::replace(&mut self.slots[i], Slot::Unread) else {
            return Next::Done;
        };
        let (settled, stored) = *queued;
        let Settled { decision, effect } = settled;
        match effect {
            Effect::Claim(claim) => self.claim(i, decision, claim, stored),
            // Only claims are queued.
            _ => self.done(i, decision),
        }
    }

    /// Queued change `i` waits, `why`: the count stays, the state as it was,
    /// and only a policy with history keeps this tick's memory.
    fn defer(&mut self, i: usize, why: &str) -> Next {
        let Slot::Queued(queued) = std::mem::replace(&mut self.slots[i], Slot::Unread) else {
            return Next::Done;
        };
        let (settled, stored) = *queued;
        let at = self.flow_at(i);
        let settled = settled.deferred(self.targets[i].policy, &stored, at, why);
        match settled.effect {
            Effect::Remember(next) | Effect::Repair(next) => {
                self.keep(i, settled.decision, None, next, stored)
            }
            _ => self.done(i, settled.decision),
        }
    }

    /// The answers of reread call `call` (of [`Actuation::rereads`]), one per
    /// target in order: each change is decided again on the counts read now,
    /// and claimed if it still stands. `forecast` gives a target's learned
    /// surges, as for [`Tick::observe`].
    pub fn reread<'f>(
        &mut self,
        call: usize,
        answers: Vec<Result<TargetView, String>>,
        forecast: &dyn Fn(usize) -> Option<&'f Pattern>,
    ) -> Vec<(usize, Next)> {
        let Some(call) = self.rereads.get(call).cloned() else {
            return Vec::new();
        };
        let mut answers = answers.into_iter();
        let mut steps = Vec::new();
        for i in call.targets {
            let answer = answers.next().unwrap_or_else(|| Err(self.not_described(i)));
            let step = self.decide_again(i, answer, forecast(i));
            steps.push((i, step));
        }
        steps
    }

    /// Granted change `i`, decided again on `answer`.
    fn decide_again(
        &mut self,
        i: usize,
        answer: Result<TargetView, String>,
        forecast: Option<&Pattern>,
    ) -> Next {
        let Slot::Queued(queued) = std::mem::replace(&mut self.slots[i], Slot::Unread) else {
            return Next::Done;
        };
        let (settled, stored) = *queued;
        self.known[i].view_age_ms = 0;
        let view = match answer {
            Ok(view) => view,
            Err(e) => {
                let current = self.current(i);
                let why = format!(
                    "{}; cannot read the target again: {e}",
                    settled.decision.reason
                );
                return self.done(i, crate::policy::Decision::hold(current, why));
            }
        };
        self.known[i].keep = Some(Kept {
            view: view.clone(),
            read_at_ms: self.at.now_ms,
        });
        self.known[i].view = Some(view);
        match self.decide_on(i, Ok::<Stored, String>(stored), forecast) {
            // Its turn was granted: the change is made now.
            Next::Queued => self.claim_queued(i),
            other => other,
        }
    }
}
