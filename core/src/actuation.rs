//! Which of a tick's changes are carried out first, when the ECS budget cannot
//! carry them all.
//!
//! Scale-outs come before scale-ins: a queue waiting costs its users, tasks
//! idling only cost money for one tick more. Among scale-outs, the emergency tier
//! first, then the most backlog per task (the longest expected wait); among
//! scale-ins, the most tasks released first (the most money saved). What does
//! not fit the tick's budget waits for the next tick, its reason giving its place
//! in line; its state is left as it was, so the next tick decides it again and
//! nothing is lost.

use std::cmp::Ordering;

use crate::policy::{Action, Decision};

/// One change a tick wants to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub action: Action,
    pub emergency: bool,
    /// desiredCount now.
    pub current: u32,
    /// desiredCount wanted.
    pub wanted: u32,
    /// The backlog the policy scaled on.
    pub backlog: u64,
}

impl Change {
    /// The change `decision` makes from `current`, on `backlog`.
    pub fn of(decision: &Decision, current: u32, backlog: u64) -> Change {
        Change {
            action: decision.action,
            emergency: decision.emergency,
            current,
            wanted: decision.new_desired,
            backlog,
        }
    }

    /// Messages waiting per task now: how long a message expects to wait.
    fn backlog_per_task(&self) -> f64 {
        self.backlog as f64 / f64::from(self.current.max(1))
    }

    /// The order of two changes: `Less` goes first.
    fn precedes(&self, other: &Change) -> Ordering {
        let scale_out = |c: &Change| c.action == Action::ScaleOut;
        scale_out(other)
            .cmp(&scale_out(self))
            .then(other.emergency.cmp(&self.emergency))
            .then_with(|| match self.action {
                Action::ScaleOut => other.backlog_per_task().total_cmp(&self.backlog_per_task()),
                _ => {
                    let released = |c: &Change| c.current.saturating_sub(c.wanted);
                    released(other).cmp(&released(self))
                }
            })
    }
}

/// The order in which `changes` are carried out: indices into it, first first.
/// Ties keep the configuration's order.
pub fn order(changes: &[Change]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..changes.len()).collect();
    order.sort_by(|&a, &b| changes[a].precedes(&changes[b]));
    order
}

/// The reason of a change that waits for `api`'s budget: its place in line, 1-based.
pub fn waiting(api: &str, place: usize, in_line: usize) -> String {
    format!(
        "waiting for the {api} budget: {} of {in_line} in line; the next tick decides it again",
        ordinal(place)
    )
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, current: u32, wanted: u32, backlog: u64) -> Change {
        Change {
            action,
            emergency: false,
            current,
            wanted,
            backlog,
        }
    }

    #[test]
    fn scale_outs_first_the_longest_wait_first_then_the_biggest_release() {
        let changes = [
            change(Action::ScaleIn, 10, 8, 0),
            change(Action::ScaleOut, 10, 12, 500),
            change(Action::ScaleIn, 10, 2, 0),
            change(Action::ScaleOut, 2, 8, 400),
            Change {
                emergency: true,
                ..change(Action::ScaleOut, 50, 60, 1000)
            },
            change(Action::ScaleOut, 10, 12, 500),
        ];
        // Emergency; 200 per task; 50 per task twice, in configuration order;
        // then releasing 8 before releasing 2.
        assert_eq!(order(&changes), [4, 3, 1, 5, 2, 0]);
    }

    #[test]
    fn a_waiting_change_says_its_place() {
        assert_eq!(
            waiting("ECS", 37, 420),
            "waiting for the ECS budget: 37th of 420 in line; the next tick decides it again"
        );
        assert!(waiting("ECS", 1, 2).starts_with("waiting for the ECS budget: 1st of 2"));
        assert!(waiting("ECS", 22, 30).contains("22nd"));
        assert!(waiting("ECS", 13, 30).contains("13th"));
    }
}
