//! The tolerance as a trade: fewer `UpdateService` calls for a little more
//! cost and wait, for an account whose ECS budget is tighter than its
//! latency goal.
//!
//! The default (a tenth of the fleet) was kept because it costs almost nothing
//! anywhere it was checked. Wider tolerances were measured and not made the
//! default: each saves more actions, and each has a price somewhere, most of
//! all on the small background fleets of periodic workloads, whose p99 a
//! tick's delay moves most. This prints both sides, so a user can choose with
//! the figures: the two-hour workloads (the built-in and random ones) with the
//! reactive rule, and the periodic ones (the anticipation goal table's and the
//! wider check's) with anticipation on, each against the default.

use fast_autoscaler_core::settings::{PolicyKind, PolicySettings, DEFAULT_TOLERANCE};
use fast_autoscaler_simulator::{self as simulator, Outcome, Trace, Workload};
use rayon::prelude::*;

use crate::anticipation::goal_table_workloads;
use crate::anticipation_wider::{WIDER_S, WIDER_SEEDS};

/// The tolerances beside the default.
const WIDER_TOLERANCES: [f64; 3] = [0.15, 0.2, 0.3];

fn with_tolerance(mut policy: PolicySettings, share: f64) -> PolicySettings {
    if let PolicyKind::Predictive { tolerance, .. } = &mut policy.kind {
        *tolerance = share;
    }
    policy
}

/// Every trace's outcome under `policy` at 10 s, in the traces' order.
fn outcomes(traces: &[Trace], workload: Workload, policy: &PolicySettings) -> Vec<Outcome> {
    let bounds = simulator::example_policy();
    let strategy = simulator::fast("tolerance", 10, policy);
    traces
        .par_iter()
        .map(|trace| simulator::run(trace, workload, &bounds, &strategy))
        .collect()
}

/// The mean and the largest of `new / old - 1` over the pairs, in percent.
fn change(pairs: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let changes: Vec<f64> = pairs
        .map(|(new, old)| if old > 0.0 { new / old - 1.0 } else { 0.0 })
        .collect();
    let mean = changes.iter().sum::<f64>() / changes.len().max(1) as f64;
    let worst = changes.iter().copied().fold(f64::MIN, f64::max);
    (100.0 * mean, 100.0 * worst)
}

/// One side of the table: the total actions' change, the mean and worst
/// changes of task-hours and p99, against `default`.
fn row(ours: &[Outcome], default: &[Outcome]) -> String {
    let total = |o: &[Outcome]| o.iter().map(|x| x.scaling_actions as f64).sum::<f64>();
    let pairs = |pick: fn(&Outcome) -> f64| {
        ours.iter()
            .zip(default)
            .map(move |(n, d)| (pick(n), pick(d).max(1.0)))
    };
    let (cost_mean, cost_worst) = change(pairs(|o| o.task_seconds));
    let (p99_mean, p99_worst) = change(pairs(|o| o.p99_wait_s));
    format!(
        "{:>+8.0} % {cost_mean:>+6.1} % {cost_worst:>+6.1} % {p99_mean:>+6.1} % {p99_worst:>+6.1} %",
        100.0 * (total(ours) / total(default).max(1.0) - 1.0)
    )
}

/// Prints the trade on `two_hour` (reactive) and the periodic workloads
/// (anticipating), one line per tolerance; `original` gives the baseline's
/// actions for the two-hour workloads' goal count.
pub fn print_tolerance_tradeoff(
    two_hour: &[Trace],
    workload: Workload,
    original: impl Fn(&Trace) -> Outcome + Sync,
) {
    let mut periodic = goal_table_workloads();
    periodic.extend(WIDER_SEEDS.map(|seed| Trace::random_periodic(seed, WIDER_S)));
    let originals: Vec<u64> = two_hour
        .par_iter()
        .map(|t| original(t).scaling_actions)
        .collect();
    let reactive = simulator::recommended_policy(workload);
    let anticipating = simulator::anticipating_policy(workload);
    let default_two = outcomes(two_hour, workload, &reactive);
    let default_periodic = outcomes(&periodic, workload, &anticipating);
    println!(
        "Tolerance, a trade for a tight ECS budget ({} two-hour workloads with the reactive rule; {} periodic ones with anticipation on; changes against the default {:.0} %)",
        two_hour.len(),
        periodic.len(),
        DEFAULT_TOLERANCE * 100.0
    );
    println!(
        "{:<9} | {:>10} {:>8} {:>8} {:>8} {:>8} {:>10} | {:>10} {:>8} {:>8} {:>8} {:>8}",
        "tolerance",
        "actions",
        "cost",
        "worst",
        "p99",
        "worst",
        "goal met",
        "actions",
        "cost",
        "worst",
        "p99",
        "worst"
    );
    for share in std::iter::once(DEFAULT_TOLERANCE).chain(WIDER_TOLERANCES) {
        let two = outcomes(two_hour, workload, &with_tolerance(reactive.clone(), share));
        let per = outcomes(
            &periodic,
            workload,
            &with_tolerance(anticipating.clone(), share),
        );
        let met = two
            .iter()
            .zip(&originals)
            .filter(|(o, original)| o.scaling_actions as f64 <= 2.0 * **original as f64)
            .count();
        println!(
            "{:>7.0} % | {} {:>10} | {}",
            share * 100.0,
            row(&two, &default_two),
            format!("{met}/{}", two_hour.len()),
            row(&per, &default_periodic)
        );
    }
    println!("(cost: task-hours; goal met: actions ≤ 2× the original's at 60 s; mean and worst of the per-workload changes)\n");
}
