//! Scaling quality: every built-in trace through `simulate`'s strategies (the
//! original step rule at 60 s is the baseline; the recommended policy at 10 s is
//! the product), placed against the oracle, with the SPEC elasticity metrics and
//! the goal summary; then the same goals on random workloads the recommended
//! settings were never looked at on; then the simulator's own speed on 30 days of
//! one-second trace.

use std::time::Instant;

use fast_autoscaler_simulator::{self as simulator, GoalResult, Trace, Workload};

const OURS: &str = "recommended 10s";
/// Random workloads: seeds the recommended settings were not chosen on.
const HOLD_OUT_SEEDS: std::ops::Range<u64> = 1000..1012;

fn workload() -> Workload {
    Workload {
        mu: 1.0,
        startup_s: 45,
        consumption_counter: false,
    }
}

/// Every goal of the recommended policy on one trace, printing its tables when
/// `verbose`.
fn goals_on(trace: &Trace, verbose: bool) -> Vec<GoalResult> {
    let policy = simulator::example_policy();
    let strategies = simulator::example_strategies(workload(), 10);
    let comparison = simulator::compare(trace, workload(), &policy, &strategies, OURS);
    if verbose {
        println!(
            "trace {} ({:.0} h)",
            trace.name,
            trace.arrivals.len() as f64 / 3600.0
        );
        print!("{}", simulator::comparison_table(&comparison));
        println!("{}", simulator::frontier_line(&comparison));
        print!("{}", simulator::elasticity_table(&comparison));
        println!();
    }
    simulator::goal_results(&trace.name, &comparison, OURS)
}

pub fn scaling_quality() {
    println!("Scaling quality (simulator; tasks process 1 msg/s and start after 45 s)\n");
    let mut summary = Vec::new();
    for name in simulator::BUILT_IN_TRACES {
        let hours = if name == "diurnal" { 24 } else { 2 };
        let Ok(trace) = Trace::built_in(name, hours * 3600) else {
            continue;
        };
        summary.extend(goals_on(&trace, true));
    }
    println!("{}", simulator::goal_summary(&summary));

    println!(
        "Hold-out: the same goals on {} random 2-hour workloads (Trace::random, seeds {}..{})",
        HOLD_OUT_SEEDS.end - HOLD_OUT_SEEDS.start,
        HOLD_OUT_SEEDS.start,
        HOLD_OUT_SEEDS.end
    );
    let hold_out: Vec<GoalResult> = HOLD_OUT_SEEDS
        .flat_map(|seed| goals_on(&Trace::random(seed, 7200), false))
        .collect();
    println!("{}", simulator::goal_summary(&hold_out));

    // The simulator's own speed: 30 days of one-second trace, five strategies.
    let Ok(month) = Trace::built_in("bursty", 30 * 86_400) else {
        return;
    };
    let policy = simulator::example_policy();
    let started = Instant::now();
    let strategies = simulator::standard_strategies(&policy, 10);
    for strategy in &strategies {
        simulator::run(&month, workload(), &policy, strategy);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "simulator: 30 days of 1-second trace × {} strategies in {secs:.2} s (goal < 10 s, ratio {:.2})\n",
        strategies.len(),
        secs / 10.0
    );
}
