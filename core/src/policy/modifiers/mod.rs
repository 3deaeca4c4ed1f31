//! The modifiers: each adjusts the base rule's count, in this order (the order
//! [`super::recommend_with_memory`] applies them in):
//!
//! 1. [`emergency`]: a backlog at the critical level jumps straight to what it
//!    needs, skipping the scale-out cooldown and step limit;
//! 2. [`activation`]: a service at zero starts only above the activation backlog,
//!    and goes to zero only after the queue has been empty long enough;
//! 3. [`anticipation`]: tasks ready before a recurring surge lands, the rule's
//!    count the floor;
//! 4. [`step_limits`]: at most so many tasks added or removed at once;
//! 5. [`bounds`]: within `[min_tasks, max_tasks]`: the recommendation;
//! 6. [`stabilization`]: scale in only to the highest recent recommendation;
//! 7. [`tolerance`]: a change of at most a share of the fleet waits (the
//!    predictive rule only).
//!
//! Each appends what it did to the reason, so a decision's log line tells the whole
//! story.

pub mod activation;
pub mod anticipation;
pub mod bounds;
pub mod emergency;
pub mod stabilization;
pub mod step_limits;
pub mod tolerance;
