//! Anticipation on many more random periodic workloads than the goal table
//! holds: no oracle (which is what makes the table slow), only the question a
//! forecaster must answer everywhere, whether it lowers the reactive rule's
//! p99, at what cost, and where it does not.

use fast_autoscaler_simulator::simulation::run;
use fast_autoscaler_simulator::{self as simulator, Outcome, Trace, Workload};

use crate::anticipation::strategies;
use crate::anticipation_goals::{COST_GOAL, P99_GOAL};

/// Seeds neither the settings nor the goal table's hold-outs were chosen on.
pub(crate) const WIDER_SEEDS: std::ops::Range<u64> = 4100..4140;
/// Their length, after the week of history each comes with.
pub(crate) const WIDER_S: usize = 2 * 86_400;

/// One workload's figures: the anticipating run against the reactive rule
/// alone and against the original at 60 s.
struct Compared {
    name: String,
    p99_vs_reactive: f64,
    cost_vs_reactive: f64,
    p99_vs_original: f64,
    cost_vs_original: f64,
}

fn compared(trace: &Trace, workload: Workload) -> Compared {
    let bounds = simulator::example_policy();
    // The goal table's strategies but AWS's, which is what makes it slow.
    let outcomes: Vec<Outcome> = strategies(workload)
        .iter()
        .take(3)
        .map(|strategy| run(trace, workload, &bounds, strategy))
        .collect();
    let [original, reactive, ours] = &outcomes[..] else {
        unreachable!("the goal table runs the original, the reactive rule and anticipation first")
    };
    Compared {
        name: trace.name.clone(),
        p99_vs_reactive: ours.p99_wait_s / reactive.p99_wait_s.max(1.0),
        cost_vs_reactive: ours.task_seconds / reactive.task_seconds,
        p99_vs_original: ours.p99_wait_s / original.p99_wait_s.max(1.0),
        cost_vs_original: ours.task_seconds / original.task_seconds,
    }
}

fn geometric_mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v.ln(), n + 1));
    (sum / count.max(1) as f64).exp()
}

/// Prints the summary over [`WIDER_SEEDS`].
pub(crate) fn wider_check(workload: Workload) {
    let all: Vec<Compared> = WIDER_SEEDS
        .map(|seed| compared(&Trace::random_periodic(seed, WIDER_S), workload))
        .collect();
    let count = |keep: &dyn Fn(&Compared) -> bool| all.iter().filter(|c| keep(c)).count();
    let costliest = all
        .iter()
        .max_by(|a, b| a.cost_vs_reactive.total_cmp(&b.cost_vs_reactive));
    println!(
        "\nWider check: {} more random periodic workloads (seeds {}–{}, two days each after a week of history), anticipating against the reactive rule alone",
        all.len(),
        WIDER_SEEDS.start,
        WIDER_SEEDS.end - 1
    );
    println!(
        "p99 × reactive: geometric mean {:.2}, lower on {}, higher than 1.03× on {}",
        geometric_mean(all.iter().map(|c| c.p99_vs_reactive)),
        count(&|c| c.p99_vs_reactive < 0.97),
        count(&|c| c.p99_vs_reactive > 1.03)
    );
    println!(
        "cost × reactive: geometric mean {:.3}, highest {:.2} ({}); cost ≤ {COST_GOAL:.1}× the original on {}, p99 ≤ {P99_GOAL:.2}× the original on {}",
        geometric_mean(all.iter().map(|c| c.cost_vs_reactive)),
        costliest.map_or(f64::NAN, |c| c.cost_vs_reactive),
        costliest.map_or("—", |c| c.name.as_str()),
        count(&|c| c.cost_vs_original <= COST_GOAL),
        count(&|c| c.p99_vs_original <= P99_GOAL)
    );
}
