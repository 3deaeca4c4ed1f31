//! The base rules: each turns a reading into the count it wants, with its reason,
//! before any modifier. One file per rule: [`step`] (the original's), [`target`]
//! (backlog per task) and [`predictive`] (rate-aware).

pub mod predictive;
pub mod step;
pub mod target;

use super::decision::Prewarm;
use super::memory::{Landing, Memory};
use super::reading::Reading;
use crate::settings::{PolicyKind, PolicySettings};

/// A count on its way through the modifiers, with the reason so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// Wider than a task count, so modifiers can compare before bounding.
    pub count: u64,
    pub why: String,
    /// The emergency tier raised it: it skips the scale-out cooldown and step limit.
    pub emergency: bool,
    /// What anticipation prepared for, if anything.
    pub prewarm: Option<Prewarm>,
    /// A recurring surge this reading saw land, for anticipation to learn its
    /// second from (see [`crate::policy::landings`]).
    pub landing: Option<Landing>,
}

impl Wanted {
    pub fn new(count: u64, why: String) -> Self {
        Wanted {
            count,
            why,
            emergency: false,
            prewarm: None,
            landing: None,
        }
    }

    /// Sets the count and adds why to the reason.
    pub fn set(&mut self, count: u64, why: impl AsRef<str>) {
        self.count = count;
        self.why.push_str(why.as_ref());
    }
}

/// The base rule's wanted count, before tiers, bounds and limits.
pub(crate) fn wanted(policy: &PolicySettings, reading: &Reading<'_>, memory: &Memory) -> Wanted {
    match policy.kind {
        PolicyKind::Step {
            scale_up_threshold,
            scale_down_threshold,
            tasks_per_message,
            max_scale_down_factor,
        } => step::wanted(
            policy,
            reading,
            step::Step {
                scale_up_threshold,
                scale_down_threshold,
                tasks_per_message,
                max_scale_down_factor,
            },
        ),
        PolicyKind::Target { messages_per_task } => {
            target::wanted(policy, reading, memory, messages_per_task)
        }
        PolicyKind::Predictive {
            task_throughput,
            task_startup_s,
            target_drain_s,
            target_utilization,
            ..
        } => predictive::wanted(
            reading,
            memory,
            predictive::Predictive {
                task_throughput,
                task_startup_s,
                target_drain_s,
                target_utilization,
            },
        ),
    }
}

/// The tasks the backlog alone needs, for the emergency tier, by the rule's own
/// measure of a task's share.
pub(crate) fn tasks_for_backlog(policy: &PolicySettings, reading: &Reading<'_>) -> u64 {
    match policy.kind {
        PolicyKind::Step {
            tasks_per_message, ..
        } => step::tasks_for_backlog(tasks_per_message, reading.total),
        PolicyKind::Target { messages_per_task } => {
            target::tasks_for_backlog(messages_per_task, reading.total)
        }
        PolicyKind::Predictive {
            task_throughput,
            target_drain_s,
            ..
        } => predictive::tasks_for_backlog(
            reading.measured.unwrap_or(task_throughput),
            target_drain_s,
            reading.total,
        ),
    }
}
