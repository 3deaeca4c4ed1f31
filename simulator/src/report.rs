//! The report: the comparison table of a run's strategies against the baseline
//! and the oracle, the oracle's frontier, the SPEC elasticity metrics, and the goal
//! summary that `make bench` prints.

use std::fmt::Write;

use crate::comparison::{Comparison, OracleView};
use crate::simulation::Outcome;

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() {
        format!("{:.2}", a / b)
    } else {
        "-".into()
    }
}

/// The comparison table: one row per strategy, then the oracle's, with ratios
/// against the first strategy (the 60-second baseline) and against the oracle:
/// the strategy's task-seconds over the oracle's at the strategy's p99, and the
/// wait bound the oracle meets for the strategy's cost (seconds; 0 means the
/// oracle keeps every message from waiting at all for that money).
pub fn comparison_table(comparison: &Comparison) -> String {
    let outcomes = &comparison.outcomes;
    let oracle = &comparison.oracle;
    let mut out = String::new();
    let baseline = outcomes.first();
    let _ = writeln!(
        out,
        "{:<26} {:>5} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7} | vs {:<17} {:>5} {:>5} {:>5} | vs oracle cost  wait at cost",
        "strategy",
        "p50 s",
        "p95 s",
        "p99 s",
        "max s",
        "backlog",
        "task-h",
        "actions",
        baseline.map_or("", |b| b.strategy.as_str()),
        "p99",
        "cost",
        "churn",
    );
    let rows = outcomes.iter().enumerate().map(|(i, o)| (Some(i), o));
    for (index, o) in rows.chain(oracle.row.iter().map(|o| (None, o))) {
        let (p99, cost, churn) = baseline.map_or_else(
            || ("-".into(), "-".into(), "-".into()),
            |b| {
                (
                    ratio(o.p99_wait_s, b.p99_wait_s),
                    ratio(o.task_seconds, b.task_seconds),
                    ratio(o.scaling_actions as f64, b.scaling_actions as f64),
                )
            },
        );
        let (vs_cost, vs_p99) = index.map_or((String::new(), String::new()), |i| {
            against_oracle(oracle, i, o)
        });
        let _ = writeln!(
            out,
            "{:<26} {:>5.0} {:>5.0} {:>5.0} {:>5.0} {:>7.0} {:>7.1} {:>7} | {:<20} {:>5} {:>5} {:>5} | {:>14} {:>13}",
            o.strategy,
            o.p50_wait_s,
            o.p95_wait_s,
            o.p99_wait_s,
            o.max_wait_s,
            o.max_backlog,
            o.task_seconds / 3600.0,
            o.scaling_actions,
            "",
            p99,
            cost,
            churn,
            vs_cost,
            vs_p99,
        );
    }
    out
}

/// The two "vs oracle" cells of strategy `i`: its cost over the oracle's at its
/// p99, and the wait bound the oracle meets for its cost.
fn against_oracle(oracle: &OracleView, i: usize, o: &Outcome) -> (String, String) {
    let cost = oracle.cost_at_p99.get(i).copied().flatten();
    let wait = oracle.wait_at_cost.get(i).copied().flatten();
    (
        cost.map_or("-".into(), |c| ratio(o.task_seconds, c)),
        wait.map_or("-".into(), |w| format!("{w:.0} s")),
    )
}

/// The oracle's frontier on one line: its task-hours for each wait bound.
pub fn frontier_line(comparison: &Comparison) -> String {
    let points: Vec<String> = comparison
        .oracle
        .frontier
        .iter()
        .map(|(w, cost)| match cost {
            Some(c) => format!("{w}s {:.1}", c / 3600.0),
            None => format!("{w}s -"),
        })
        .collect();
    let fastest = comparison
        .oracle
        .fastest
        .as_ref()
        .map_or(String::new(), |f| {
            format!(
            "\nfastest possible (max_tasks from the start): p99 {:.0} s, max {:.0} s, {:.1} task-h",
            f.p99_wait_s,
            f.max_wait_s,
            f.task_seconds / 3600.0
        )
        });
    format!(
        "oracle frontier, task-hours keeping every wait within W: {}{fastest}",
        points.join(" · ")
    )
}

/// The SPEC elasticity metrics of every strategy, and the oracle's.
pub fn elasticity_table(comparison: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:>7} {:>7} {:>7} {:>7} {:>8} {:>9}",
        "SPEC elasticity", "θU %", "θO %", "τU %", "τO %", "υ %", "jitter/h"
    );
    for o in comparison
        .outcomes
        .iter()
        .chain(comparison.oracle.row.iter())
    {
        let e = &o.elasticity;
        let _ = writeln!(
            out,
            "{:<26} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>8.1} {:>9.1}",
            o.strategy, e.theta_u, e.theta_o, e.tau_u, e.tau_o, e.instability, e.jitter
        );
    }
    out
}

/// What a goal compares the recommended policy's figure with.
#[derive(Debug, Clone, Copy)]
pub enum Against {
    /// The strategy so labelled, on the same figure.
    Strategy(&'static str),
    /// The oracle's task-seconds keeping every wait within our p99.
    OracleAtOurP99,
}

/// A goal, as a ratio of the recommended policy's figure to another's.
pub struct Goal {
    pub what: &'static str,
    pub limit: f64,
    pub value: fn(&Outcome) -> f64,
    pub against: Against,
}

/// The goals the recommended policy is held to on every trace.
pub const GOALS: [Goal; 3] = [
    Goal {
        what: "task-seconds vs original 60s",
        limit: 1.10,
        value: |o| o.task_seconds,
        against: Against::Strategy("original step 60s"),
    },
    Goal {
        what: "p99 wait vs original 60s",
        limit: 0.40,
        value: |o| o.p99_wait_s,
        against: Against::Strategy("original step 60s"),
    },
    Goal {
        what: "task-seconds vs oracle at same p99",
        limit: 1.25,
        value: |o| o.task_seconds,
        against: Against::OracleAtOurP99,
    },
];

/// One goal on one trace.
#[derive(Debug, Clone)]
pub struct GoalResult {
    pub trace: String,
    pub what: &'static str,
    pub ratio: f64,
    pub limit: f64,
    /// For a wait goal: the ratio the fastest possible plan reaches. Above the
    /// limit, no strategy can meet the goal.
    pub floor: Option<f64>,
}

impl GoalResult {
    pub fn met(&self) -> bool {
        self.ratio <= self.limit
    }
}

/// Every goal for `ours` (a strategy label) on one trace's comparison.
pub fn goal_results(trace: &str, comparison: &Comparison, ours: &str) -> Vec<GoalResult> {
    let outcomes = &comparison.outcomes;
    let Some(index) = outcomes.iter().position(|o| o.strategy == ours) else {
        return Vec::new();
    };
    let ours = &outcomes[index];
    GOALS
        .iter()
        .filter_map(|goal| {
            let base = match goal.against {
                Against::Strategy(label) => {
                    (goal.value)(outcomes.iter().find(|o| o.strategy == label)?)
                }
                Against::OracleAtOurP99 => comparison.oracle.cost_at_p99.get(index).copied()??,
            };
            let share = |x: f64| if base > 0.0 { x / base } else { 0.0 };
            let floor = comparison
                .oracle
                .fastest
                .as_ref()
                .filter(|_| goal.what.starts_with("p99"))
                .map(|f| share((goal.value)(f)));
            Some(GoalResult {
                trace: trace.to_string(),
                what: goal.what,
                ratio: share((goal.value)(ours)),
                limit: goal.limit,
                floor,
            })
        })
        .collect()
}

/// The goal summary: one line per goal and trace, and how many were met.
pub fn goal_summary(results: &[GoalResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "goals (recommended 10s against its baseline; ratio ≤ goal passes)"
    );
    let _ = writeln!(
        out,
        "{:<8} {:<36} {:>7} {:>7}  result",
        "trace", "ratio", "value", "goal"
    );
    for r in results {
        let verdict = match r.floor {
            _ if r.met() => "met".to_string(),
            Some(floor) if floor > r.limit => {
                format!("missed: impossible, the fastest plan reaches {floor:.2}")
            }
            _ => "missed".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<8} {:<36} {:>7.2} {:>7.2}  {verdict}",
            r.trace, r.what, r.ratio, r.limit,
        );
    }
    let met = results.iter().filter(|r| r.met()).count();
    let _ = writeln!(out, "{met} of {} goals met", results.len());
    out
}
