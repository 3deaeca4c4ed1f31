//! Scaling quality: every built-in trace through `simulate`'s strategies (the
//! original step rule at 60 s is the baseline; the recommended policy at 10 s is
//! the product), with the ratios the goals are stated in, then the simulator's own
//! speed on 30 days of one-second trace.

use std::time::Instant;

use fast_autoscaler_simulator::{self as simulator, Outcome, Trace, Workload};

pub fn scaling_quality() {
    let workload = Workload {
        mu: 1.0,
        startup_s: 45,
        consumption_counter: false,
    };
    let policy = simulator::example_policy();
    println!("Scaling quality (simulator; tasks process 1 msg/s and start after 45 s)\n");
    let mut summary = Vec::new();
    for name in simulator::BUILT_IN_TRACES {
        let hours = if name == "diurnal" { 24 } else { 2 };
        let Ok(trace) = Trace::built_in(name, hours * 3600) else {
            continue;
        };
        let outcomes: Vec<Outcome> = simulator::example_strategies(workload, 10)
            .iter()
            .map(|s| simulator::run(&trace, workload, &policy, s))
            .collect();
        println!("trace {name} ({hours} h)");
        print!("{}", simulator::comparison_table(&outcomes));
        println!();
        summary.extend(simulator::goal_results(name, &outcomes, "recommended 10s"));
    }
    println!("{}", simulator::goal_summary(&summary));

    // The simulator's own speed: 30 days of one-second trace, four strategies.
    let Ok(month) = Trace::built_in("bursty", 30 * 86_400) else {
        return;
    };
    let started = Instant::now();
    for strategy in simulator::standard_strategies(&policy, 10) {
        simulator::run(&month, workload, &policy, &strategy);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "simulator: 30 days of 1-second trace × 4 strategies in {secs:.2} s (goal < 10 s, ratio {:.2})\n",
        secs / 10.0
    );
}
