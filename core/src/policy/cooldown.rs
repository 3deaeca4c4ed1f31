//! Cooldowns: whether a proposed change may happen now, given what the state says
//! about past actions.
//!
//! Scale-out waits `scale_out_cooldown` after the last scale-out unless the
//! emergency tier raised it; scale-in waits `scale_in_cooldown` after the last
//! action in either direction, and is denied when the state that would prove it is
//! unreadable.

use super::decision::{Action, Decision};
use crate::settings::PolicySettings;

/// What the state says about past actions, as the cooldown check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// No state yet: the service has never been scaled by us.
    Fresh,
    Known {
        /// The time of the last scaling action in either direction (or repair), if any.
        last_action_ms: Option<u64>,
        /// The time of the last scale-out, if any.
        last_scale_out_ms: Option<u64>,
    },
    /// The state exists but cannot be trusted (corrupt, wrong version).
    Unreadable,
}

/// Step 2: whether a proposed change may happen at `now_ms`.
///
/// Scale-out waits `scale_out_cooldown_s` after the last scale-out, unless it is an
/// emergency; scale-in waits `scale_in_cooldown_s` after the last action in either
/// direction, and is denied when the state is unreadable.
pub fn apply_cooldown(
    policy: &PolicySettings,
    proposed: Decision,
    history: History,
    now_ms: u64,
    current: u32,
) -> Decision {
    let (in_remaining_ms, out_remaining_ms) = remaining_ms(policy, history, now_ms);
    let cooldown_remaining_s = in_remaining_ms.div_ceil(1000);
    let stand_down = |action: Action, why: String| Decision {
        action,
        new_desired: current,
        reason: format!("{}; {why}", proposed.reason),
        cooldown_remaining_s,
        emergency: false,
        applied: false,
        paused: false,
        prewarm: proposed.prewarm,
    };
    match proposed.action {
        Action::ScaleIn if history == History::Unreadable => stand_down(
            Action::Hold,
            "scale-in denied: the scaling state is unreadable".into(),
        ),
        Action::ScaleIn if in_remaining_ms > 0 => stand_down(
            Action::None,
            format!(
                "scale-in waits for cooldown ({cooldown_remaining_s}s of {}s left)",
                policy.scale_in_cooldown_s
            ),
        ),
        Action::ScaleOut if out_remaining_ms > 0 && !proposed.emergency => stand_down(
            Action::None,
            format!(
                "scale-out waits for cooldown ({}s of {}s left)",
                out_remaining_ms.div_ceil(1000),
                policy.scale_out_cooldown_s
            ),
        ),
        _ => Decision {
            cooldown_remaining_s,
            ..proposed
        },
    }
}

/// Milliseconds left of the scale-in and the scale-out cooldown at `now_ms`. An unreadable
/// history counts as a whole scale-in cooldown ahead (scale-in is denied anyway).
pub fn remaining_ms(policy: &PolicySettings, history: History, now_ms: u64) -> (u64, u64) {
    let remaining = |since: Option<u64>, cooldown_s: u64| -> u64 {
        since.map_or(0, |last| {
            last.saturating_add(cooldown_s.saturating_mul(1000))
                .saturating_sub(now_ms)
        })
    };
    match history {
        History::Fresh => (0, 0),
        History::Known {
            last_action_ms,
            last_scale_out_ms,
        } => (
            remaining(last_action_ms, policy.scale_in_cooldown_s),
            remaining(last_scale_out_ms, policy.scale_out_cooldown_s),
        ),
        History::Unreadable => (policy.scale_in_cooldown_s.saturating_mul(1000), 0),
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn cooldown_gates_scale_in_only() {
        let policy = step(1, 100, 100.0, 10.0, 0.01, 0.5);
        let now = 1_000_000;
        let recent = History::Known {
            last_action_ms: Some(now - 30_000),
            last_scale_out_ms: None,
        };
        let scale_in = recommend(&policy, Ok(&visible(5)), 10);
        let d = apply_cooldown(&policy, scale_in.clone(), recent, now, 10);
        assert_eq!(
            (d.action, d.new_desired, d.cooldown_remaining_s),
            (Action::None, 10, 90),
            "{}",
            d.reason
        );

        let old = History::Known {
            last_action_ms: Some(now - 120_000),
            last_scale_out_ms: Some(now - 120_000),
        };
        assert_eq!(
            apply_cooldown(&policy, scale_in.clone(), old, now, 10).action,
            Action::ScaleIn
        );
        assert_eq!(
            apply_cooldown(&policy, scale_in.clone(), History::Fresh, now, 10).action,
            Action::ScaleIn
        );
        assert_eq!(
            apply_cooldown(&policy, scale_in, History::Unreadable, now, 10).action,
            Action::Hold
        );

        let scale_out = recommend(&policy, Ok(&visible(500)), 10);
        for history in [recent, History::Unreadable, History::Fresh] {
            assert_eq!(
                apply_cooldown(&policy, scale_out.clone(), history, now, 10).action,
                Action::ScaleOut
            );
        }
    }
}
