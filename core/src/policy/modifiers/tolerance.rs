//! Tolerance: a change of at most `tolerance` of the fleet waits, so a service
//! is not resized at every wobble of the arrival-rate estimate.
//!
//! Every change of the desired count is an `UpdateService` call from the
//! account's shared budget, and an event in the service's history. The rate
//! estimate behind the predictive rule moves by a task or two between ticks at
//! a few messages a second per task (a Poisson count over fifteen seconds), so
//! a large fleet would be resized at nearly every tick, often back and forth.
//! The Kubernetes HPA skips changes within a tolerance of 10 % for the same
//! reason; here a small change is not dropped but delayed:
//!
//! - **A small change of the recommendation waits one tick** and goes ahead if
//!   the previous tick wanted it too (more tasks than there are, or fewer): a
//!   scale-out, pending tasks cancelled, the stabilization window's last
//!   release. A wobble that reverses is never sent; a real change costs one
//!   tick on a tenth of the fleet's capacity. Never in an emergency, and never
//!   for a pre-warm's scale-out, whose timing is its point.
//! - **Idle tasks go in lumps**: a release of the window smaller than the
//!   tolerance waits until the window has released more, or has released all
//!   it will. Each idle task is held until its lump goes, a little longer than
//!   the gradual release alone would hold it.
//!
//! The tolerance is a share of the current count, rounded down, so a fleet of
//! fewer than `1 / tolerance` tasks is resized as before: there one task is a
//! large share of the capacity.

use crate::policy::memory::Memory;
use crate::policy::reading::Reading;
use crate::policy::rules::Wanted;
use crate::settings::{PolicyKind, PolicySettings};

/// The new desired count: `stabilized`, unless it is a change small enough to
/// wait. `recommended` is the count the window releases towards.
pub(crate) fn apply(
    policy: &PolicySettings,
    reading: &Reading<'_>,
    memory: &Memory,
    (recommended, stabilized): (u32, u32),
    wanted: &mut Wanted,
) -> u32 {
    let PolicyKind::Predictive { tolerance, .. } = policy.kind else {
        return stabilized;
    };
    let current = reading.current;
    let within_bounds = (policy.min_tasks..=policy.max_tasks).contains(&current);
    let prewarm = wanted
        .prewarm
        .is_some_and(|p| p.added > 0 && !p.forecast_only);
    let band = (f64::from(current) * tolerance).floor() as u32;
    let change = stabilized.abs_diff(current);
    if band == 0 || change == 0 || change > band || !within_bounds || wanted.emergency {
        return stabilized;
    }
    let share = format!("at most {:.0} % of {current}", tolerance * 100.0);
    let more = stabilized > current;
    let sign = if more { '+' } else { '-' };
    // The recommendation itself, not a lump of the window's: a scale-out, the
    // cancelling of pending tasks, or the window's last release. It waits a tick,
    // and then goes whatever its size. A pre-warm's scale-out never waits (its
    // timing is its point), and while a pre-warm raises the recommendation
    // nothing small goes down: anticipation only ever adds to what the reactive
    // rule would do.
    let whole = more || (stabilized == recommended && !prewarm);
    if whole && (confirmed(memory, current, more) || (prewarm && more)) {
        if !prewarm {
            wanted
                .why
                .push_str(&format!("; {sign}{change} confirmed by the tick before"));
        }
        return stabilized;
    }
    if whole {
        wanted.why.push_str(&format!(
            "; {sign}{change} ({share}) waits a tick to be confirmed"
        ));
    } else {
        wanted.why.push_str(&format!(
            "; releasing {change} idle task(s) ({share}) waits for more to go at once"
        ));
    }
    current
}

/// Whether the previous tick wanted more (`more`) or fewer tasks than
/// `current` too: the change is then no wobble.
fn confirmed(memory: &Memory, current: u32, more: bool) -> bool {
    memory
        .samples
        .last()
        .is_some_and(|s| (more && s.recommended > current) || (!more && s.recommended < current))
}

#[cfg(test)]
mod tests {
    use super::apply;
    use crate::policy::decision::Prewarm;
    use crate::policy::memory::{Memory, Sample};
    use crate::policy::reading::Reading;
    use crate::policy::rules::Wanted;
    use crate::policy::test_support::*;
    use crate::settings::{PolicyKind, PolicySettings};

    fn tolerant(tolerance: f64) -> PolicySettings {
        let mut policy = predictive_policy();
        if let PolicyKind::Predictive { tolerance: t, .. } = &mut policy.kind {
            *t = tolerance;
        }
        policy
    }

    /// The previous tick's memory: it recommended `recommended`.
    fn before(recommended: u32) -> Memory {
        Memory {
            samples: vec![Sample {
                at_ms: 0,
                backlog: 0,
                running: 30,
                busy: 30,
                recommended,
                dequeued: None,
            }],
            ..Memory::default()
        }
    }

    /// The count `apply` answers for a fleet of `current` that the stages
    /// before it took to `(recommended, stabilized)`, with the reason added.
    fn decide(
        policy: &PolicySettings,
        current: u32,
        counts: (u32, u32),
        memory: &Memory,
        wanted: &mut Wanted,
    ) -> u32 {
        let metrics = visible(100);
        let observed = at(&metrics, current, current, 10_000);
        let reading = Reading::new(policy, &observed, &metrics, memory);
        apply(policy, &reading, memory, counts, wanted)
    }

    fn why() -> Wanted {
        Wanted::new(0, String::new())
    }

    #[test]
    fn a_small_scale_out_waits_a_tick_and_goes_when_the_next_wants_it_too() {
        let policy = tolerant(0.1);
        let mut wanted = why();
        // +2 on 30 (at most 3): the tick before wanted only 30.
        assert_eq!(decide(&policy, 30, (32, 32), &before(30), &mut wanted), 30);
        assert!(
            wanted
                .why
                .contains("+2 (at most 10 % of 30) waits a tick to be confirmed"),
            "{}",
            wanted.why
        );
        // The tick before wanted 32 too: confirmed.
        let mut wanted = why();
        assert_eq!(decide(&policy, 30, (32, 32), &before(32), &mut wanted), 32);
        assert!(
            wanted.why.contains("confirmed by the tick before"),
            "{}",
            wanted.why
        );
        // +4 is more than a tenth: at once.
        assert_eq!(decide(&policy, 30, (34, 34), &before(30), &mut why()), 34);
        // Under ten tasks a tenth is no task: every change at once.
        assert_eq!(decide(&policy, 9, (10, 10), &before(9), &mut why()), 10);
        // Nor in an emergency, nor for a pre-warm, nor with the tolerance at 0.
        let mut emergency = why();
        emergency.emergency = true;
        assert_eq!(
            decide(&policy, 30, (32, 32), &before(30), &mut emergency),
            32
        );
        let mut prewarm = why();
        prewarm.prewarm = Some(Prewarm {
            surge_at_s: 0,
            tasks: 32,
            added: 2,
            forecast_only: false,
        });
        assert_eq!(decide(&policy, 30, (32, 32), &before(30), &mut prewarm), 32);
        // A pre-warm that lowers the recommendation a little releases nothing:
        // without it the window would still hold the 30.
        assert_eq!(decide(&policy, 30, (29, 29), &before(30), &mut prewarm), 30);
        assert_eq!(
            decide(&tolerant(0.0), 30, (32, 32), &before(30), &mut why()),
            32
        );
    }

    #[test]
    fn idle_tasks_go_in_lumps_and_the_last_of_them_at_once() {
        let policy = tolerant(0.1);
        // The window would release 2 of 30 now, 10 in all: wait for more.
        let mut wanted = why();
        assert_eq!(decide(&policy, 30, (20, 28), &before(20), &mut wanted), 30);
        assert!(
            wanted.why.contains(
                "releasing 2 idle task(s) (at most 10 % of 30) waits for more to go at once"
            ),
            "{}",
            wanted.why
        );
        // 4 at once goes.
        assert_eq!(decide(&policy, 30, (20, 26), &before(20), &mut why()), 26);
        // The window's end: the last 2 go, lump or not, the tick before having
        // recommended 20 too.
        assert_eq!(decide(&policy, 22, (20, 20), &before(20), &mut why()), 20);
        // A small drop of the recommendation itself (pending tasks cancelled)
        // waits a tick to be confirmed, as a small rise does.
        let mut wanted = why();
        assert_eq!(decide(&policy, 30, (28, 28), &before(30), &mut wanted), 30);
        assert!(
            wanted
                .why
                .contains("-2 (at most 10 % of 30) waits a tick to be confirmed"),
            "{}",
            wanted.why
        );
        assert_eq!(decide(&policy, 30, (28, 28), &before(28), &mut why()), 28);
        // Above the bounds the count comes down whatever the step.
        let mut bounded = tolerant(0.1);
        bounded.max_tasks = 29;
        assert_eq!(decide(&bounded, 30, (29, 29), &before(29), &mut why()), 29);
    }
}
