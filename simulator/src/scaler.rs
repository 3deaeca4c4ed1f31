//! What the simulation loop asks of a strategy: at each of its ticks, what it
//! [`Seen`], and the [`Scaler`]'s answer. Fast Autoscaler and the baselines
//! implement it; the loop knows nothing else of them.

use fast_autoscaler_core::MessageAge;

/// What a strategy sees at one of its ticks.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub now_s: usize,
    /// Messages waiting.
    pub backlog: f64,
    /// Tasks that worked in the last second.
    pub busy: f64,
    /// Tasks requested (desiredCount).
    pub current: u32,
    /// Tasks working.
    pub running: u32,
    /// Messages consumed so far, when the queue reports it.
    pub dequeued: Option<u64>,
    /// The oldest message's age, as CloudWatch would have published it by now.
    pub oldest_message: Option<MessageAge>,
}

/// A strategy's decider during one run.
pub trait Scaler {
    /// Seconds between its decisions.
    fn interval_s(&self) -> usize;
    /// The new desired count, or `None` to stay.
    fn decide(&mut self, seen: &Seen) -> Option<u32>;
}
