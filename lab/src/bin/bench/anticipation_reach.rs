//! How far any setting of the rule gets on the goal traces when the forecast
//! knows every surge: the tick, the utilization the tasks are sized for, the
//! drain target and the stabilization, each trace with the setting that does
//! best on it, chosen with the trace in hand.
//!
//! That is more than any configuration can have: one setting chosen in
//! hindsight per trace, and surges no history tells. A goal it still misses on
//! a trace is beyond this design there, whatever is learned and however it is
//! set.

use std::collections::{BTreeMap, BTreeSet};

use fast_autoscaler_core::forecast::Pattern;
use fast_autoscaler_core::settings::{PolicyKind, PolicySettings, ScaleInRelease};
use fast_autoscaler_simulator::oracle::OracleProblem;
use fast_autoscaler_simulator::{self as simulator, foreknown, Outcome, Strategy, Trace, Workload};
use rayon::prelude::*;

use crate::anticipation_goals::{Against, Anticipated, ORACLE_GOAL, P99_GOAL};

/// One setting of the anticipating policy's rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setting {
    tick_s: usize,
    target_utilization: f64,
    target_drain_s: u64,
    stabilization_s: u64,
    release: ScaleInRelease,
}

impl Setting {
    /// The recommended configuration's: a 10 s tick, tasks sized for full
    /// use, drain and stabilization of S, released gradually.
    pub(crate) fn recommended(workload: Workload) -> Setting {
        let s = workload.startup_s as u64;
        Setting {
            tick_s: 10,
            target_utilization: 1.0,
            target_drain_s: s,
            stabilization_s: s,
            release: ScaleInRelease::Gradual,
        }
    }

    /// The settings searched, from the start-up delay S: ticks of 5 and 10 s,
    /// utilizations of 0.7 to 1, drain targets and stabilizations of S/3 to
    /// 2 S, released gradually or at once.
    fn all(workload: Workload) -> Vec<Setting> {
        let s = (workload.startup_s as u64).max(3);
        let ticks = [5, 10];
        let utilizations = [1.0, 0.9, 0.8, 0.7];
        let spans = [s / 3, s, 2 * s];
        let releases = [ScaleInRelease::Gradual, ScaleInRelease::Window];
        let mut all = Vec::new();
        for tick_s in ticks {
            for target_utilization in utilizations {
                for (target_drain_s, stabilization_s) in spans
                    .iter()
                    .flat_map(|d| spans.iter().map(move |st| (*d, *st)))
                {
                    all.extend(releases.map(|release| Setting {
                        tick_s,
                        target_utilization,
                        target_drain_s,
                        stabilization_s,
                        release,
                    }));
                }
            }
        }
        all
    }

    fn policy(self, workload: Workload) -> PolicySettings {
        let mut policy = simulator::anticipating_policy(workload);
        if let PolicyKind::Predictive {
            target_utilization,
            target_drain_s,
            ..
        } = &mut policy.kind
        {
            *target_utilization = self.target_utilization;
            *target_drain_s = self.target_drain_s;
        }
        policy.scale_in_stabilization_s = self.stabilization_s;
        policy.scale_in_release = self.release;
        policy
    }

    /// A run of `trace` anticipating from `pattern`, given.
    pub(crate) fn run(self, trace: &Trace, pattern: &Pattern, workload: Workload) -> Outcome {
        let strategy = Strategy::Foreknown {
            name: "foreknown".into(),
            tick_s: self.tick_s,
            policy: Box::new(self.policy(workload)),
            pattern: Box::new(pattern.clone()),
        };
        simulator::run(trace, workload, &simulator::example_policy(), &strategy)
    }

    fn text(self) -> String {
        format!(
            "tick {} s, utilization {:.1}, drain {} s, stab. {} s {}",
            self.tick_s,
            self.target_utilization,
            self.target_drain_s,
            self.stabilization_s,
            match self.release {
                ScaleInRelease::Gradual => "gradual",
                ScaleInRelease::Window => "at once",
            }
        )
    }
}

/// What the settings reach on one trace, each goal against the other two.
struct Reach {
    /// The lowest p99 (× the original's) of a setting within both cost goals,
    /// and that setting.
    p99_within_cost: Option<(f64, Setting)>,
    /// The lowest cost against the oracle of a setting within the p99 goal
    /// and the original's cost.
    vs_oracle_within_p99: Option<f64>,
    /// Whether one setting meets all three.
    all_three: bool,
}

fn reach_on(trace: &Trace, rate: &[f64], original: &Outcome, workload: Workload) -> Reach {
    let pattern = foreknown::pattern(trace, rate);
    let runs: Vec<(Setting, Outcome)> = Setting::all(workload)
        .into_par_iter()
        .map(|setting| (setting, setting.run(trace, &pattern, workload)))
        .collect();
    // One oracle solve per distinct p99: many settings share one.
    let waits: BTreeSet<usize> = runs
        .iter()
        .map(|(_, o)| o.p99_wait_s.ceil() as usize)
        .collect();
    let problem = OracleProblem::within_bounds(trace, workload, &simulator::example_policy());
    let oracle: BTreeMap<usize, f64> = waits
        .into_par_iter()
        .filter_map(|w| problem.solve(w).ok().map(|s| (w, s.task_seconds)))
        .collect();
    let mut reach = Reach {
        p99_within_cost: None,
        vs_oracle_within_p99: None,
        all_three: false,
    };
    for (setting, outcome) in runs {
        let run = Against {
            p99_wait_s: outcome.p99_wait_s,
            task_seconds: outcome.task_seconds,
            oracle_task_seconds: oracle.get(&(outcome.p99_wait_s.ceil() as usize)).copied(),
        };
        let [p99_met, cost_met, oracle_met] = run.goals(original);
        reach.all_three |= p99_met && cost_met && oracle_met;
        let p99 = run.p99_wait_s / original.p99_wait_s.max(1.0);
        if cost_met && oracle_met && reach.p99_within_cost.is_none_or(|(best, _)| p99 < best) {
            reach.p99_within_cost = Some((p99, setting));
        }
        if let (true, true, Some(vs)) = (p99_met, cost_met, run.vs_oracle()) {
            reach.vs_oracle_within_p99 = Some(reach.vs_oracle_within_p99.map_or(vs, |b| b.min(vs)));
        }
    }
    reach
}

/// Prints, per goal trace, the best any setting does with every surge known.
pub fn print_reach(
    traces: &[Trace],
    surge_rates: &[Vec<f64>],
    anticipated: &[Anticipated],
    workload: Workload,
) {
    let count = Setting::all(workload).len();
    println!("\nThe reach: of {count} settings, with every surge known, each goal against the other two, the setting chosen per trace with the trace in hand");
    println!(
        "{:<16} {:>14} {:>14} {:>6}  setting of the lowest p99",
        "trace", "p99× at cost", "vs or at p99", "all 3"
    );
    println!("{:<16} {:>14} {:>14} {:>6}", "", "goals", "goal", "");
    let mut all_three = 0;
    for ((trace, rate), whole) in traces.iter().zip(surge_rates).zip(anticipated) {
        let reach = reach_on(trace, rate, &whole.original, workload);
        all_three += usize::from(reach.all_three);
        println!(
            "{:<16} {:>14} {:>14} {:>6}  {}",
            trace.name,
            reach
                .p99_within_cost
                .map_or("none".into(), |(p99, _)| format!("{p99:.3}")),
            reach
                .vs_oracle_within_p99
                .map_or("none".into(), |vs| format!("{vs:.2}")),
            if reach.all_three { "yes" } else { "no" },
            reach.p99_within_cost.map_or("—".into(), |(_, s)| s.text()),
        );
    }
    println!(
        "p99 ≤ {P99_GOAL:.2}× the original's, cost ≤ 1.0× it and ≤ {ORACLE_GOAL:.2}× the oracle's: \
         \"p99× at cost goals\" is the lowest p99 of a setting within both cost goals, \"vs or at p99 goal\" the lowest cost against the oracle of one within the p99 goal and the original's cost; \
         one setting meets all three on {all_three} of {}",
        traces.len()
    );
}
