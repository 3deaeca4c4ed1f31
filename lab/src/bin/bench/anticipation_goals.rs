//! The anticipation goals of the issue, and a run placed against them: its
//! p99, its cost, and the oracle's cost at its p99.

use fast_autoscaler_simulator::oracle::OracleProblem;
use fast_autoscaler_simulator::{self as simulator, Outcome, Trace, Workload};

/// The goals: p99 at most this share of the original's, cost at most the
/// original's, and at most this many times the oracle's at the same p99.
pub(crate) const P99_GOAL: f64 = 0.10;
pub(crate) const COST_GOAL: f64 = 1.0;
pub(crate) const ORACLE_GOAL: f64 = 1.15;

/// The goals as the tables' headers say them, from the constants above.
pub(crate) fn goals_line() -> String {
    format!(
        "goals: p99 ≤ {P99_GOAL:.2}× the original at 60 s, cost ≤ {COST_GOAL:.1}× the original, cost ≤ {ORACLE_GOAL:.2}× the oracle at the same p99, lower p99 and cost than AWS predictive scaling"
    )
}

/// One run's place against the goals.
pub(crate) struct Against {
    pub p99_wait_s: f64,
    pub task_seconds: f64,
    /// The oracle's cost at this run's p99.
    pub oracle_task_seconds: Option<f64>,
}

impl Against {
    /// `outcome` on `trace`, with the oracle's cost at its p99 (within the
    /// example policy's bounds, as every strategy is placed).
    pub(crate) fn placed(trace: &Trace, workload: Workload, outcome: &Outcome) -> Against {
        let problem = OracleProblem::within_bounds(trace, workload, &simulator::example_policy());
        Against {
            p99_wait_s: outcome.p99_wait_s,
            task_seconds: outcome.task_seconds,
            oracle_task_seconds: problem
                .solve(outcome.p99_wait_s.ceil() as usize)
                .ok()
                .map(|s| s.task_seconds),
        }
    }

    pub(crate) fn vs_oracle(&self) -> Option<f64> {
        self.oracle_task_seconds
            .filter(|o| *o > 0.0)
            .map(|o| self.task_seconds / o)
    }

    /// The three goals it meets against `original`: p99, cost, oracle.
    pub(crate) fn goals(&self, original: &Outcome) -> [bool; 3] {
        [
            self.p99_wait_s <= P99_GOAL * original.p99_wait_s,
            self.task_seconds <= COST_GOAL * original.task_seconds,
            self.vs_oracle().is_some_and(|r| r <= ORACLE_GOAL),
        ]
    }
}

/// One goal trace's runs of the original and the anticipating policy, and the
/// oracle's cost at the anticipating run's p99.
pub struct Anticipated {
    pub original: Outcome,
    pub anticipating: Outcome,
    pub oracle_task_seconds: Option<f64>,
}
