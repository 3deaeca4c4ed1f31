//! A run of several strategies on one trace, placed against the oracle.
//!
//! Every strategy is simulated; then the oracle (the physical limit, see
//! [`crate::oracle`]) is solved over a range of wait bounds (its frontier), and at
//! each strategy's own p99. Each strategy is then read against it twice: what the
//! oracle pays to keep every wait within the strategy's p99, and what wait bound
//! the oracle meets for the strategy's cost.

use fast_autoscaler_core::settings::PolicySettings;

use crate::oracle::{self, OracleProblem};
use crate::simulation::{run, run_plan, Outcome};
use crate::strategy::Strategy;
use crate::trace::Trace;
use crate::workload::Workload;

/// The wait bounds of the oracle's frontier, in seconds.
pub const FRONTIER_WAITS: [usize; 10] = [0, 15, 30, 45, 60, 90, 120, 180, 300, 600];

/// The oracle beside a run's strategies.
#[derive(Debug, Clone, Default)]
pub struct OracleView {
    /// The oracle's optimum (task-seconds) for each wait bound; `None`: infeasible.
    pub frontier: Vec<(usize, Option<f64>)>,
    /// Per strategy: the oracle's optimum keeping every wait within its p99.
    pub cost_at_p99: Vec<Option<f64>>,
    /// Per strategy: the wait bound the oracle meets at its cost (interpolated).
    pub wait_at_cost: Vec<Option<f64>>,
    /// The oracle's own row: its integer plan at the reference strategy's p99.
    pub row: Option<Outcome>,
    /// The fastest plan (every task from the start): the lowest waits possible.
    pub fastest: Option<Outcome>,
}

/// The strategies' outcomes, in order, and the oracle beside them.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub outcomes: Vec<Outcome>,
    pub oracle: OracleView,
}

/// Runs `strategies` on `trace` and solves the oracle beside them. The oracle's
/// own row is planned for the p99 of the strategy labelled `reference` (the first
/// strategy's when there is none).
pub fn compare(
    trace: &Trace,
    workload: Workload,
    policy: &PolicySettings,
    strategies: &[Strategy],
    reference: &str,
) -> Comparison {
    let outcomes: Vec<Outcome> = strategies
        .iter()
        .map(|s| run(trace, workload, policy, s))
        .collect();
    let oracle = place(trace, workload, policy, &outcomes, reference);
    Comparison { outcomes, oracle }
}

/// The oracle beside `outcomes` (see [`compare`]).
pub fn place(
    trace: &Trace,
    workload: Workload,
    policy: &PolicySettings,
    outcomes: &[Outcome],
    reference: &str,
) -> OracleView {
    let problem = OracleProblem::within_bounds(trace, workload, policy);
    let frontier = oracle::frontier(&problem, &FRONTIER_WAITS);
    let cost_at_p99 = outcomes
        .iter()
        .map(|o| {
            problem
                .solve(o.p99_wait_s.ceil() as usize)
                .ok()
                .map(|s| s.task_seconds)
        })
        .collect();
    let wait_at_cost = outcomes
        .iter()
        .map(|o| oracle::wait_at_cost(&frontier, o.task_seconds))
        .collect();
    let reference = outcomes
        .iter()
        .find(|o| o.strategy == reference)
        .or(outcomes.first());
    // Blocks have no integer plan to run: no row then.
    let row = reference.filter(|_| problem.step_s == 1).and_then(|r| {
        let w = r.p99_wait_s.ceil() as usize;
        let solution = problem.solve(w).ok()?;
        let label = format!("oracle (waits ≤ {w}s)");
        Some(run_plan(
            trace,
            workload,
            &solution.plan,
            policy.min_tasks,
            label,
        ))
    });
    let fastest_plan = oracle::fastest_plan(trace, workload, policy.max_tasks, policy.min_tasks);
    let fastest = Some(run_plan(
        trace,
        workload,
        &fastest_plan,
        policy.min_tasks,
        "fastest possible".into(),
    ));
    OracleView {
        frontier,
        cost_at_p99,
        wait_at_cost,
        row,
        fastest,
    }
}
