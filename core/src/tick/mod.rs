//! One tick over a shard's targets, as one state machine: no I/O, time passed
//! in, effects out, and one driver that carries them out.
//!
//! # Design
//!
//! quinn-proto's `Endpoint` drives many connections without doing any I/O:
//! datagrams and time go in, transmits and events come out. [`Tick`] does the
//! same for the targets of one tick. Given what the driver reads, it answers:
//!
//! - which describe calls to make ([`Tick::describes`]), within each kind's API
//!   budget, the unread and the oldest first, the others decided on counts kept
//!   from an earlier tick (`crate::views`);
//! - each target's next step ([`Next`]): done, a state to read, a state to
//!   write (a policy's memory, a repair, a claim, a released claim), a count to
//!   set, or a change queued for its turn;
//! - which changes go ahead and which wait, with their reasons, and which
//!   targets to describe again before a change made on kept counts
//!   ([`Tick::actuate`], `crate::actuation` for the order);
//! - every target's outcome, its decision with its reason, and the counts to
//!   keep for the next tick ([`Tick::finish`]).
//!
//! Each target goes through the decision protocol of [`crate::flow`]; the
//! machine adds what lies above one target: the budget, kept counts, deferral,
//! reading again and deciding again. So the worker's engine is straight-line
//! I/O with one place that carries out a [`Next`], and the simulator and the
//! CLI's `decide` run the same machine over state kept in memory.
//!
//! A driver's loop:
//!
//! 1. [`Tick::new`] with the targets, their kept counts and the time;
//! 2. make the [`Tick::describes`] calls, read the queues and the states, all
//!    at once; give each call's answers to [`Tick::described`], then each
//!    target's reading and state to [`Tick::observe`];
//! 3. carry out each target's [`Next`], giving what came of it back
//!    ([`Tick::stored`], [`Tick::written`], [`Tick::set`]) until it is
//!    [`Next::Done`] or [`Next::Queued`];
//! 4. [`Tick::actuate`]: describe again what it asks, give the answers to
//!    [`Tick::reread`], and carry out every step as in 3;
//! 5. [`Tick::finish`]; a target the deadline cut short is
//!    [`Tick::unfinished`] first.

mod decide;
mod effects;
mod grant;
mod in_memory;
mod plan;
#[cfg(test)]
mod tests;

pub use in_memory::{InMemory, Ran};

use std::collections::BTreeMap;

use crate::budget::{ApiBudget, TickAllowance};
use crate::flow::{Pending, Settled};
use crate::metrics::QueueMetrics;
use crate::policy::Decision;
use crate::settings::PolicySettings;
pub use crate::state::WriteOutcome;
use crate::state::{ServiceState, Stored};
use crate::target::{TargetId, TargetView};

/// One target of the tick.
#[derive(Debug, Clone)]
pub struct TickTarget<'p> {
    pub id: &'p TargetId,
    pub policy: &'p PolicySettings,
    /// Its kind's budget.
    pub budget: &'p ApiBudget,
    /// Its counts as read at an earlier tick (or set by this driver since).
    pub kept: Option<Kept>,
}

/// A target's counts, kept from a tick to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub view: TargetView,
    pub read_at_ms: u64,
}

/// When the tick runs, and how it may act.
#[derive(Debug, Clone, Copy)]
pub struct TickAt {
    pub now_ms: u64,
    pub tick_due_ms: u64,
    /// How long a claim written now is held (see [`crate::state`]).
    pub lease_ms: u64,
    /// Seconds between a shard's ticks, and the shards: what the budget
    /// allows a tick.
    pub interval_s: u32,
    pub shards: u32,
    /// Decide and report, but write nothing and change nothing.
    pub dry_run: bool,
}

/// One describe call: targets of one kind and scope, at most its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeCall {
    pub kind: String,
    pub scope: String,
    /// Indices of the tick's targets, in configuration order.
    pub targets: Vec<usize>,
}

/// Why a state is written, for the driver's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A policy's memory: losing it to another worker is fine.
    Remember,
    /// An unreadable state replaced.
    Repair,
    /// A change claimed, before it is made.
    Claim,
    /// A claim released after its change failed.
    Release,
}

/// What the driver does next for a target.
#[derive(Debug, Clone)]
pub enum Next {
    /// Decided: nothing more this tick.
    Done,
    /// A change waiting for [`Tick::actuate`].
    Queued,
    /// Read the target's state, then [`Tick::stored`].
    ReadState,
    /// Write `state` only if the object is still as `over` found it, then
    /// [`Tick::written`].
    Write {
        state: Box<ServiceState>,
        over: Box<Stored>,
        purpose: Purpose,
    },
    /// Ask the target for this count, then [`Tick::set`].
    SetDesired(u32),
}

/// What [`Tick::actuate`] answers: targets to describe again before their
/// change, and the step of every queued change that needs none.
#[derive(Debug, Clone, Default)]
pub struct Actuation {
    pub rereads: Vec<DescribeCall>,
    pub steps: Vec<(usize, Next)>,
}

/// A target's outcome: its decision, and what it was made on.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub decision: Decision,
    /// The queue reading (`None` for a target the deadline cut short).
    pub metrics: Option<Result<QueueMetrics, String>>,
    /// Its counts, when it had some.
    pub view: Option<TargetView>,
}

/// Where a target stands in the tick.
#[derive(Debug)]
enum Slot<'p> {
    /// Not observed yet.
    Unread,
    /// Its proposal needs the state, whose first read failed.
    NeedsState(Pending<'p>),
    /// Writing what an unchanged count keeps; a repair's outcome is said.
    Keeping {
        decision: Decision,
        repair: Option<String>,
    },
    /// A change waiting its turn (boxed: most targets never queue one).
    Queued(Box<(Settled, Stored)>),
    /// A change's claim being written.
    Claiming(Decision, ServiceState),
    /// A change being made, its claim written with `etag`.
    Setting(Decision, ServiceState, String),
    /// A failed change's claim being released; the hold's reason so far.
    Releasing(String),
    Done(Decision),
    /// Cut short by the deadline: nothing of it is reported but why.
    CutShort(Decision),
}

/// What the tick knows of one target.
#[derive(Debug, Default)]
struct Known {
    metrics: Option<Result<QueueMetrics, String>>,
    view: Option<TargetView>,
    /// How old `view` is: 0 when read this tick.
    view_age_ms: u64,
    /// Asked of a describe call this tick, and its answer.
    asked: bool,
    described: Option<Result<TargetView, String>>,
    /// Read (or set) this tick, to keep for the next.
    keep: Option<Kept>,
}

/// Every one of `targets` in describe calls, whatever the budget: what an
/// operator's one-off read (`status`) makes.
pub fn describe_all(targets: &[TickTarget<'_>]) -> Vec<DescribeCall> {
    let all: Vec<usize> = (0..targets.len()).collect();
    plan::calls_of(targets, &all)
}

/// One tick over a shard's targets.
#[derive(Debug)]
pub struct Tick<'p> {
    targets: Vec<TickTarget<'p>>,
    at: TickAt,
    allowances: BTreeMap<String, TickAllowance>,
    describes: Vec<DescribeCall>,
    /// Describe calls spent, by kind.
    spent: BTreeMap<String, u32>,
    /// The calls [`Tick::actuate`] asked to read again.
    rereads: Vec<DescribeCall>,
    known: Vec<Known>,
    slots: Vec<Slot<'p>>,
}

impl<'p> Tick<'p> {
    /// The tick over `targets` (a shard's, in configuration order) at `at`:
    /// its describe calls planned within each kind's budget.
    pub fn new(targets: Vec<TickTarget<'p>>, at: TickAt) -> Self {
        let allowances = plan::allowances(&targets, &at);
        let (describes, spent) = plan::describes(&targets, &allowances, at.now_ms);
        let known = targets.iter().map(|_| Known::default()).collect();
        let slots = targets.iter().map(|_| Slot::Unread).collect();
        let mut tick = Tick {
            targets,
            at,
            allowances,
            describes,
            spent,
            rereads: Vec::new(),
            known,
            slots,
        };
        for call in tick.describes.clone() {
            for i in call.targets {
                tick.known[i].asked = true;
            }
        }
        tick
    }

    /// The describe calls to make before observing.
    pub fn describes(&self) -> &[DescribeCall] {
        &self.describes
    }

    /// The answers of describe call `call` (of [`Tick::describes`]), one per
    /// target in order; fewer when the call missed the deadline.
    pub fn described(&mut self, call: usize, answers: Vec<Result<TargetView, String>>) {
        if let Some(call) = self.describes.get(call).cloned() {
            self.take_answers(&call, answers);
        }
    }

    fn take_answers(&mut self, call: &DescribeCall, answers: Vec<Result<TargetView, String>>) {
        let mut answers = answers.into_iter();
        for &i in &call.targets {
            let answer = answers.next().unwrap_or_else(|| Err(self.not_described(i)));
            if let Ok(view) = &answer {
                self.known[i].keep = Some(Kept {
                    view: view.clone(),
                    read_at_ms: self.at.now_ms,
                });
            }
            self.known[i].described = Some(answer);
        }
    }

    /// Why target `i` has no answer: its call missed the deadline.
    fn not_described(&self, i: usize) -> String {
        let target = &self.targets[i];
        format!(
            "{} describe failed for {}: not described before the tick deadline",
            target.budget.api,
            target.id.label()
        )
    }

    /// Target `i` cut short by the deadline, `why`: a hold, with nothing read
    /// of it reported.
    pub fn unfinished(&mut self, i: usize, why: String) {
        if !matches!(self.slots[i], Slot::Done(_)) {
            self.slots[i] = Slot::CutShort(Decision::hold_unknown(why));
        }
    }

    /// Whether target `i` is decided (done or cut short).
    pub fn is_done(&self, i: usize) -> bool {
        matches!(self.slots[i], Slot::Done(_) | Slot::CutShort(_))
    }

    /// Every target's outcome, in order, and the counts read or set this tick,
    /// to keep for the next (by target index). A target left undecided is
    /// reported as cut short.
    pub fn finish(self) -> (Vec<Outcome>, Vec<(usize, Kept)>) {
        let kept = (self.known.iter().enumerate())
            .filter_map(|(i, k)| k.keep.clone().map(|kept| (i, kept)))
            .collect();
        let outcomes = self
            .slots
            .into_iter()
            .zip(self.known)
            .zip(&self.targets)
            .map(|((slot, known), target)| outcome(slot, known, target))
            .collect();
        (outcomes, kept)
    }
}

/// A target's outcome from where it stands; one decided on kept counts says
/// how old they are.
fn outcome(slot: Slot<'_>, known: Known, target: &TickTarget<'_>) -> Outcome {
    let mut decision = match slot {
        Slot::Done(decision) => decision,
        Slot::CutShort(decision) => {
            return Outcome {
                decision,
                metrics: None,
                view: None,
            }
        }
        _ => Decision::hold_unknown("not decided before the tick ended"),
    };
    if known.view_age_ms > 0 {
        decision.reason = format!(
            "{} [counts read {} s ago: the {} budget did not reach this service this tick]",
            decision.reason,
            known.view_age_ms / 1000,
            target.budget.api
        );
    }
    Outcome {
        decision,
        metrics: known.metrics,
        view: known.view,
    }
}
