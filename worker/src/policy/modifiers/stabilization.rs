//! Scale-in stabilization, as KEDA and the HPA do it: scale in only to the highest
//! recommendation of the last `scale_in_stabilization` seconds, so a dip between
//! bursts does not stop tasks that the next burst needs again.
//!
//! With the predictive rule it holds running tasks only. That rule counts pending
//! tasks in its recommendation already, and a pending task beyond it would start
//! into a drained queue: cancelling it saves the rest of its start-up, while a
//! running task kept idle is what the window is for (ski rental: an idle task is
//! worth keeping for as long as restarting it would cost).

use crate::config::{PolicyKind, PolicySettings};
use crate::policy::memory::Memory;
use crate::policy::reading::Reading;
use crate::policy::rules::Wanted;

/// The new desired count from the tick's `recommended` one.
pub(crate) fn apply(
    policy: &PolicySettings,
    reading: &Reading<'_>,
    memory: &Memory,
    recommended: u32,
    wanted: &mut Wanted,
) -> u32 {
    let (current, now) = (reading.current, reading.now_ms);
    if policy.scale_in_stabilization_s == 0 || recommended >= current {
        return recommended;
    }
    let window_ms = policy.scale_in_stabilization_s.saturating_mul(1000);
    let highest = memory
        .samples
        .iter()
        .filter(|s| s.at_ms.saturating_add(window_ms) >= now && s.at_ms <= now)
        .map(|s| s.recommended)
        .max()
        .unwrap_or(recommended);
    let ceiling = if matches!(policy.kind, PolicyKind::Predictive { .. }) {
        reading.running.clamp(recommended, current)
    } else {
        current
    };
    let stabilized = highest.clamp(recommended, ceiling);
    if stabilized != recommended {
        wanted.why.push_str(&format!(
            "; stabilized to {stabilized}, the highest recommendation of the last {}s",
            policy.scale_in_stabilization_s
        ));
    }
    stabilized
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;

    #[test]
    fn stabilization_scales_in_to_the_highest_recent_recommendation() {
        let mut policy = target(1, 100, 10.0);
        policy.scale_in_stabilization_s = 60;
        let mut memory = Memory::default();
        let mut current = 1;
        // 200 messages at t=0 s want 20 tasks; the queue then empties.
        for (t, backlog) in [(0, 200), (20, 0), (40, 0), (59, 0), (70, 0)] {
            let m = visible(backlog);
            let (d, next) =
                recommend_with_memory(&policy, &at(&m, current, current, t * 1000), &memory);
            memory = next;
            match t {
                0 => assert_eq!(d.new_desired, 20),
                20 | 40 | 59 => {
                    assert_eq!(
                        (d.action, d.new_desired),
                        (Action::None, 20),
                        "t={t}: {}",
                        d.reason
                    )
                }
                _ => assert_eq!(d.new_desired, 1, "t={t}: {}", d.reason),
            }
            current = d.new_desired;
        }
    }
}
