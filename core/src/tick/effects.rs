//! What comes of a target's writes and its change: a kept memory, a repair, a
//! claim, the count set, and a failed change's claim released.
//!
//! A change is claimed in the target's state with a conditional write, and
//! only the claimant asks the target for the count (see [`crate::state`]). A
//! lost write stands down; a failed change releases its lease at once, so the
//! next tick redoes it.

use super::{Kept, Next, Purpose, Slot, Tick, WriteOutcome};
use crate::policy::{Action, Decision};
use crate::state::{ServiceState, Stored};

impl Tick<'_> {
    /// Target `i` keeps its count; `next` (a policy's memory, or a repaired
    /// state whose `problem` the reason will name) is written over `stored`.
    pub(super) fn keep(
        &mut self,
        i: usize,
        decision: Decision,
        repair: Option<String>,
        next: ServiceState,
        stored: Stored,
    ) -> Next {
        let purpose = if repair.is_some() {
            Purpose::Repair
        } else {
            Purpose::Remember
        };
        self.slots[i] = Slot::Keeping { decision, repair };
        write(next, stored, purpose)
    }

    /// Target `i`'s change claimed: `claim` written over `stored`.
    pub(super) fn claim(
        &mut self,
        i: usize,
        decision: Decision,
        claim: ServiceState,
        stored: Stored,
    ) -> Next {
        self.slots[i] = Slot::Claiming(decision, claim.clone());
        write(claim, stored, Purpose::Claim)
    }

    /// After [`Next::Write`]: what the conditional write came to (`Err`: why
    /// it failed).
    pub fn written(&mut self, i: usize, outcome: Result<WriteOutcome, String>) -> Next {
        match std::mem::replace(&mut self.slots[i], Slot::Unread) {
            // A lost memory is only a hint lost; the driver logs a failure.
            Slot::Keeping {
                decision,
                repair: None,
            } => self.done(i, decision),
            Slot::Keeping {
                decision,
                repair: Some(problem),
            } => {
                let said = self.repaired(i, &problem, outcome);
                let reason = format!("{}; {said}", decision.reason);
                self.done(i, Decision { reason, ..decision })
            }
            Slot::Claiming(decision, claim) => self.claimed(i, decision, claim, outcome),
            Slot::Releasing(why) => {
                let released = match outcome {
                    Ok(WriteOutcome::Written { .. }) => {
                        "the claim was released, so the next tick redoes it".to_string()
                    }
                    Ok(WriteOutcome::Conflict) => {
                        "the state changed meanwhile; the claim was left as it is".into()
                    }
                    Err(e) => {
                        format!("releasing the claim failed ({e}); it expires with its lease")
                    }
                };
                let current = self.current(i);
                self.done(
                    i,
                    Decision::hold(current, format_args!("{why}; {released}")),
                )
            }
            other => {
                self.slots[i] = other;
                Next::Done
            }
        }
    }

    /// What replacing target `i`'s unreadable state (`problem`) came to, said.
    fn repaired(&self, i: usize, problem: &str, outcome: Result<WriteOutcome, String>) -> String {
        let cooldown_s = self.targets[i].policy.scale_in_cooldown_s;
        match outcome {
            Ok(WriteOutcome::Written { .. }) => format!(
                "the state ({problem}) was replaced; scale-in is possible after one cooldown ({cooldown_s}s)"
            ),
            Ok(WriteOutcome::Conflict) => "another worker rewrote the state meanwhile".into(),
            Err(e) => format!("replacing the state failed: {e}"),
        }
    }

    /// Target `i`'s claim written (or not): only the claimant makes the change.
    fn claimed(
        &mut self,
        i: usize,
        decision: Decision,
        claim: ServiceState,
        outcome: Result<WriteOutcome, String>,
    ) -> Next {
        let current = self.current(i);
        match outcome {
            Err(e) => {
                let why = format!("{}; cannot write the scaling state: {e}", decision.reason);
                self.done(i, Decision::hold(current, why))
            }
            Ok(WriteOutcome::Conflict) => {
                let why = "stood down: another worker changed this service's state first (conditional write lost)";
                self.done(i, decision.withheld(current, Action::None, why))
            }
            Ok(WriteOutcome::Written { etag }) => {
                let to = decision.new_desired;
                self.slots[i] = Slot::Setting(decision, claim, etag);
                Next::SetDesired(to)
            }
        }
    }

    /// After [`Next::SetDesired`]: whether the target took the count (`Err`:
    /// why not). A failed change releases its claim.
    pub fn set(&mut self, i: usize, result: Result<(), String>) -> Next {
        let Slot::Setting(decision, claim, etag) =
            std::mem::replace(&mut self.slots[i], Slot::Unread)
        else {
            return Next::Done;
        };
        match result {
            Ok(()) => {
                self.note_set(i, decision.new_desired);
                self.done(
                    i,
                    Decision {
                        applied: true,
                        ..decision
                    },
                )
            }
            Err(e) => {
                let why = format!(
                    "{}; the change failed after the state recorded the action: {e}",
                    decision.reason
                );
                let released = claim.with_lease_released(self.at.now_ms);
                let ours = Stored::Found { state: claim, etag };
                self.slots[i] = Slot::Releasing(why);
                write(released, ours, Purpose::Release)
            }
        }
    }

    /// Target `i` now asked for `desired`: its counts are kept with it, as old
    /// as the ones it was decided on.
    fn note_set(&mut self, i: usize, desired: u32) {
        let known = &mut self.known[i];
        if let Some(view) = &known.view {
            let view = crate::target::TargetView {
                desired,
                ..view.clone()
            };
            let read_at_ms = self.at.now_ms.saturating_sub(known.view_age_ms);
            known.keep = Some(Kept { view, read_at_ms });
        }
    }
}

fn write(state: ServiceState, over: Stored, purpose: Purpose) -> Next {
    Next::Write {
        state: Box::new(state),
        over: Box::new(over),
        purpose,
    }
}
