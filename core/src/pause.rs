//! An operator's pause of one service's autoscaling (`fast-autoscaler pause`).
//!
//! A pause lives in the service's state object, written with the same conditional
//! writes as every claim, so it can never be lost to a worker writing at the same
//! moment. It always has an expiry: the worker resumes by itself when it passes,
//! and a pause that is renewed and forgotten shows in the `Paused` metric and its
//! alarm. While it holds, every decision says so in its reason, and the policy's
//! own proposal is reported beside it, so the log shows what the pause withholds.

use serde::{Deserialize, Serialize};

use crate::policy::{Action, Decision};

/// The longest pause: beyond a week, change the configuration instead.
pub const MAX_PAUSE_MS: u64 = 7 * 24 * 3600 * 1000;

/// A pause of one service's autoscaling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// When it was set.
    pub since_ms: u64,
    /// When it ends by itself.
    pub until_ms: u64,
    /// Hold desiredCount at this count; without it, at whatever it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u32>,
    /// Who set it and why, as the operator gave it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Pause {
    /// Whether it still holds at `now_ms`.
    pub fn is_active(&self, now_ms: u64) -> bool {
        now_ms < self.until_ms
    }

    /// How the reason of a paused decision starts.
    pub fn describe(&self, now_ms: u64) -> String {
        let until = jiff::Timestamp::from_millisecond(self.until_ms as i64)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| format!("{} ms", self.until_ms));
        let left_s = self.until_ms.saturating_sub(now_ms) / 1000;
        let note = if self.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.note)
        };
        format!("paused until {until}, {left_s} s left{note}")
    }

    /// The decision while paused: the count stays, or is set to the pause's `at`,
    /// whatever the policy proposed; the proposal is kept in the reason.
    pub fn apply(&self, proposed: Decision, current: u32, now_ms: u64) -> Decision {
        let target = self.at.unwrap_or(current);
        let action = match Action::between(current, target) {
            // A failure stays a hold, so its alarm still sees it.
            Action::None if proposed.action == Action::Hold => Action::Hold,
            action => action,
        };
        let what = if action.changes_count() {
            format!("set to the paused count: {current} → {target}")
        } else {
            format!("holding at {current}")
        };
        Decision {
            action,
            new_desired: target,
            reason: format!(
                "{}: {what}; unpaused, the policy would {} to {}: {}",
                self.describe(now_ms),
                proposed.action,
                proposed.new_desired,
                proposed.reason
            ),
            cooldown_remaining_s: 0,
            emergency: false,
            applied: false,
            paused: true,
            prewarm: proposed.prewarm,
        }
    }

    /// A decision that stays as it is (a stand-down, a duplicate tick), marked as
    /// paused.
    pub fn annotate(&self, decision: Decision, now_ms: u64) -> Decision {
        Decision {
            reason: format!("{}; {}", self.describe(now_ms), decision.reason),
            paused: true,
            ..decision
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pause(at: Option<u32>) -> Pause {
        Pause {
            since_ms: 0,
            until_ms: 3_600_000,
            at,
            note: "by ops: deploy".into(),
        }
    }

    fn proposal() -> Decision {
        Decision {
            action: Action::ScaleOut,
            new_desired: 9,
            reason: "backlog 900".into(),
            cooldown_remaining_s: 0,
            emergency: false,
            applied: false,
            paused: false,
            prewarm: None,
        }
    }

    #[test]
    fn a_pause_holds_the_count_and_keeps_the_proposal_in_the_reason() {
        let decision = pause(None).apply(proposal(), 4, 600_000);
        assert_eq!((decision.action, decision.new_desired), (Action::None, 4));
        assert!(decision.paused);
        assert!(
            decision.reason.starts_with(
                "paused until 1970-01-01T01:00:00Z, 3000 s left (by ops: deploy): holding at 4"
            ) && decision
                .reason
                .contains("would scale_out to 9: backlog 900"),
            "{}",
            decision.reason
        );
    }

    #[test]
    fn a_pause_at_a_count_sets_it_in_either_direction() {
        let down = pause(Some(2)).apply(proposal(), 4, 0);
        assert_eq!((down.action, down.new_desired), (Action::ScaleIn, 2));
        assert!(down.reason.contains("4 → 2"), "{}", down.reason);
        let up = pause(Some(6)).apply(proposal(), 4, 0);
        assert_eq!((up.action, up.new_desired), (Action::ScaleOut, 6));
    }

    #[test]
    fn a_pause_ends_by_itself() {
        assert!(pause(None).is_active(3_599_999));
        assert!(!pause(None).is_active(3_600_000));
    }
}
