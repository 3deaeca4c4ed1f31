//! Scale-in stabilization, as KEDA and the HPA do it: scale in only to the highest
//! recommendation of the last `scale_in_stabilization` seconds, so a dip between
//! bursts does not stop tasks that the next burst needs again.
//!
//! With the predictive rule it holds running tasks only. That rule counts pending
//! tasks in its recommendation already, and a pending task beyond it would start
//! into a drained queue: cancelling it saves the rest of its start-up, while a
//! running task kept idle is what the window is for (ski rental: an idle task is
//! worth keeping for as long as restarting it would cost).
//!
//! # Releasing gradually
//!
//! Each idle task is a ski-rental decision: keeping it costs one task-second a
//! second, releasing it costs a start-up S if work comes back. Holding every idle
//! task for S and then releasing them all (`window`, the HPA's way) never pays
//! more than twice what knowing the future would, and a whole fleet of idle
//! tasks after a burst pays that S in full. Releasing each at a random time with
//! density e^(t/S) / (S (e − 1)) on [0, S] pays at most e / (e − 1) ≈ 1.58 times
//! in expectation, the best any online rule can promise (Karlin, Manasse, McGeoch
//! and Owicki, "Competitive randomized algorithms for nonuniform problems",
//! Algorithmica 1994). With many interchangeable idle tasks no dice are needed:
//! `gradual` releases the share of them that distribution has released by then.
//! A recommendation made `a` seconds ago still holds
//! `recommended + (r − recommended) · h(a / W)` with `h(x) = 1 − (e^x − 1) / (e − 1)`,
//! all of it at once and none at the window's end; idle tasks held average
//! `h`'s mean, 0.58 of the window instead of all of it. The window W plays S's
//! part, so set `scale_in_stabilization` to the start-up delay.

use crate::policy::memory::Memory;
use crate::policy::reading::Reading;
use crate::policy::rules::Wanted;
use crate::settings::{PolicyKind, PolicySettings, ScaleInRelease};

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
        .map(|s| match policy.scale_in_release {
            ScaleInRelease::Window => s.recommended,
            ScaleInRelease::Gradual => held(
                s.recommended,
                recommended,
                (now - s.at_ms) as f64 / window_ms as f64,
            ),
        })
        .max()
        .unwrap_or(recommended);
    let ceiling = if matches!(policy.kind, PolicyKind::Predictive { .. }) {
        reading.running.clamp(recommended, current)
    } else {
        current
    };
    let stabilized = highest.clamp(recommended, ceiling);
    if stabilized != recommended {
        let window_s = policy.scale_in_stabilization_s;
        let how = match policy.scale_in_release {
            ScaleInRelease::Window => format!("the highest recommendation of the last {window_s}s"),
            ScaleInRelease::Gradual => format!("idle tasks released gradually over {window_s}s"),
        };
        wanted
            .why
            .push_str(&format!("; stabilized to {stabilized}, {how}"));
    }
    stabilized
}

/// What a past recommendation `then` still holds above the current one `now`
/// after `elapsed` of the window (0 to 1), releasing gradually: the share of its
/// excess that randomized ski rental has not yet released.
fn held(then: u32, now: u32, elapsed: f64) -> u32 {
    if then <= now {
        return then;
    }
    let x = elapsed.clamp(0.0, 1.0);
    let share = 1.0 - (x.exp() - 1.0) / (std::f64::consts::E - 1.0);
    now + (f64::from(then - now) * share).round() as u32
}

#[cfg(test)]
mod tests {
    use crate::policy::test_support::*;
    use crate::policy::*;
    use crate::settings::ScaleInRelease;

    #[test]
    fn gradual_release_lets_idle_tasks_go_a_share_at_a_time() {
        // The share held: all at once, none at the window's end, 1/(e − 1) of the
        // window on average (ski rental's e/(e − 1) bound), and fewer released early.
        assert_eq!(super::held(100, 0, 0.0), 100);
        assert_eq!(super::held(100, 0, 1.0), 0);
        assert_eq!(super::held(100, 0, 0.5), 62);
        assert_eq!(super::held(100, 40, 0.5), 40 + 37);
        assert_eq!(super::held(30, 40, 0.5), 30);
        let mean: f64 = (0..1000)
            .map(|i| f64::from(super::held(1_000_000, 0, (f64::from(i) + 0.5) / 1000.0)))
            .sum::<f64>()
            / 1e9;
        assert!(
            (mean - 1.0 / (std::f64::consts::E - 1.0)).abs() < 1e-3,
            "{mean}"
        );

        // 200 messages at t = 0 want 20 tasks, then the queue empties: the window
        // way holds 20 for all 60 s, the gradual way fewer and fewer.
        let mut policy = target(1, 100, 10.0);
        policy.scale_in_stabilization_s = 60;
        policy.scale_in_release = ScaleInRelease::Gradual;
        let mut memory = Memory::default();
        let mut counts = Vec::new();
        let mut current = 1;
        for t in [0, 10, 20, 30, 40, 50, 61] {
            let backlog = if t == 0 { 200 } else { 0 };
            let (d, next) = recommend_with_memory(
                &policy,
                &at(&visible(backlog), current, current, t * 1000),
                &memory,
            );
            memory = next;
            current = d.new_desired;
            counts.push(current);
            if (10..=50).contains(&t) {
                assert!(d.reason.contains("released gradually"), "{}", d.reason);
            }
        }
        assert_eq!(counts, [20, 18, 16, 13, 10, 6, 1], "{counts:?}");
    }

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
