//! Actions per hour: the churn each configuration costs the account's ECS
//! budget, the recommended configuration at 10 s beside the original at 60 s,
//! and beside the fewest actions any one setting of the rule takes on the same
//! trace at the same cost and p99.
//!
//! That last column is a reach, not a recommendation: the setting is chosen
//! with the trace in hand, out of a few thousand (the tick, the tolerance, the
//! scale-in stabilization and its release, both cooldowns, the drain target).
//! No single configuration can promise it on a workload it has not seen. Where
//! even it misses the goal, the goal is beyond the rule's settings on that
//! trace, whatever they are.

use fast_autoscaler_core::settings::{PolicyKind, PolicySettings, ScaleInRelease};
use fast_autoscaler_simulator::{self as simulator, Outcome, Trace, Workload};
use rayon::prelude::*;

/// The goal: the recommended configuration's actions at most this many times
/// the original's.
const GOAL: f64 = 2.0;

/// How much dearer and slower than the recommended configuration a setting may
/// be and still count as "the same cost and p99": the 2 %.
const SAME: f64 = 1.02;

/// One setting of the knobs that trade actions: what the reach searches.
#[derive(Debug, Clone, Copy)]
struct Knobs {
    tick_s: usize,
    tolerance: f64,
    stabilization_s: u64,
    release: ScaleInRelease,
    scale_in_cooldown_s: u64,
    scale_out_cooldown_s: u64,
    target_drain_s: u64,
}

impl Knobs {
    /// The settings searched, from the start-up delay S: ticks of 10 s to a
    /// minute, tolerances of a tenth to a half, stabilization of S to 4 S
    /// released gradually or at once, cooldowns of none to S, drain targets of
    /// S and 2 S.
    fn all(startup_s: u64) -> Vec<Knobs> {
        let s = startup_s.max(1);
        let mut all = Vec::new();
        for tick_s in [10, 15, 20, 30, 60] {
            for tolerance in [0.1, 0.15, 0.2, 0.3, 0.5] {
                for stabilization_s in [s, 2 * s, 4 * s] {
                    for release in [ScaleInRelease::Gradual, ScaleInRelease::Window] {
                        for scale_in_cooldown_s in [0, s] {
                            for scale_out_cooldown_s in [0, s / 2, s] {
                                for target_drain_s in [s, 2 * s] {
                                    all.push(Knobs {
                                        tick_s,
                                        tolerance,
                                        stabilization_s,
                                        release,
                                        scale_in_cooldown_s,
                                        scale_out_cooldown_s,
                                        target_drain_s,
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        all
    }

    fn policy(self, base: &PolicySettings) -> PolicySettings {
        let mut policy = PolicySettings {
            scale_in_stabilization_s: self.stabilization_s,
            scale_in_release: self.release,
            scale_in_cooldown_s: self.scale_in_cooldown_s,
            scale_out_cooldown_s: self.scale_out_cooldown_s,
            ..base.clone()
        };
        if let PolicyKind::Predictive {
            tolerance,
            target_drain_s,
            ..
        } = &mut policy.kind
        {
            *tolerance = self.tolerance;
            *target_drain_s = self.target_drain_s;
        }
        policy
    }

    fn text(self) -> String {
        format!(
            "tick {} s, tolerance {:.0} %, stab. {} s {}, in cd {} s, out cd {} s, drain {} s",
            self.tick_s,
            self.tolerance * 100.0,
            self.stabilization_s,
            match self.release {
                ScaleInRelease::Gradual => "gradual",
                ScaleInRelease::Window => "at once",
            },
            self.scale_in_cooldown_s,
            self.scale_out_cooldown_s,
            self.target_drain_s
        )
    }
}

/// The fewest actions of any setting within [`SAME`] of `reference`'s cost and
/// p99 on `trace`, with that setting (`None` if none is).
fn fewest_actions(
    trace: &Trace,
    workload: Workload,
    knobs: &[Knobs],
    reference: &Outcome,
) -> Option<(u64, Knobs)> {
    let bounds = simulator::example_policy();
    let base = simulator::recommended_policy(workload);
    knobs
        .par_iter()
        .filter_map(|k| {
            let strategy = simulator::fast("reach", k.tick_s, &k.policy(&base));
            let outcome = simulator::run(trace, workload, &bounds, &strategy);
            let same = outcome.task_seconds <= SAME * reference.task_seconds
                && outcome.p99_wait_s <= SAME * reference.p99_wait_s;
            same.then_some((outcome.scaling_actions, *k))
        })
        .min_by_key(|(actions, _)| *actions)
}

/// The actions table: per trace, the original's and the recommended's actions
/// an hour, and the fewest any one setting reaches at the same cost and p99.
pub fn print_actions(traces: &[Trace], workload: Workload, original: impl Fn(&Trace) -> Outcome) {
    let recommended = simulator::recommended_policy(workload);
    let bounds = simulator::example_policy();
    let knobs = Knobs::all(workload.startup_s as u64);
    println!("Actions per hour per service (desiredCount changes; goal: the recommended ≤ {GOAL:.1}× the original's)");
    println!(
        "{:<12} {:>10} {:>12} {:>7} {:>6} | {:>13} {:>6}",
        "trace", "original", "recommended", "ratio", "goal", "fewest reach", "ratio"
    );
    let (mut met, mut reachable, mut out_of_reach) = (0, 0, Vec::new());
    for trace in traces {
        let hours = trace.arrivals.len() as f64 / 3600.0;
        let original = original(trace).scaling_actions as f64 / hours;
        let strategy = simulator::fast("recommended", 10, &recommended);
        let ours = simulator::run(trace, workload, &bounds, &strategy);
        let per_hour = ours.scaling_actions as f64 / hours;
        let ratio = |x: f64| if original > 0.0 { x / original } else { 0.0 };
        met += usize::from(ratio(per_hour) <= GOAL);
        let reach = fewest_actions(trace, workload, &knobs, &ours);
        let fewest = reach.map_or(per_hour, |(actions, _)| actions as f64 / hours);
        if ratio(fewest) <= GOAL {
            reachable += 1;
        } else if let Some((_, k)) = reach {
            out_of_reach.push(format!("{:<12} {}", trace.name, k.text()));
        }
        println!(
            "{:<12} {original:>10.1} {per_hour:>12.1} {:>7.2} {:>6} | {fewest:>13.1} {:>6.2}",
            trace.name,
            ratio(per_hour),
            if ratio(per_hour) <= GOAL {
                "met"
            } else {
                "missed"
            },
            ratio(fewest)
        );
    }
    println!("met on {met} of {} traces", traces.len());
    println!(
        "fewest reach: of {} settings, the fewest actions within {:.0} % of the recommended's task-hours and p99, chosen per trace with the trace in hand; within the goal on {reachable} of {}",
        knobs.len(),
        (SAME - 1.0) * 100.0,
        traces.len()
    );
    if !out_of_reach.is_empty() {
        println!("beyond every setting on (the fewest-action setting):");
        for line in out_of_reach {
            println!("  {line}");
        }
    }
    println!();
}
