//! The report: the comparison table of a run's strategies, and the goal summary
//! that `make bench` prints.

use std::fmt::Write;

use crate::simulation::Outcome;

/// The comparison table: one row per strategy, with ratios against the first
/// (the 60-second baseline) and the p99 ratio against emulated target tracking.
pub fn comparison_table(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.2}", a / b)
        } else {
            "-".into()
        }
    };
    let baseline = outcomes.first();
    let tracking = outcomes
        .iter()
        .find(|o| o.strategy == "aws target tracking");
    let _ = writeln!(
        out,
        "{:<22} {:>6} {:>6} {:>6} {:>8} {:>9} {:>8} {:>7} | vs {:<16} {:>5} {:>5} {:>5} | p99 vs tt",
        "strategy",
        "p50 s",
        "p95 s",
        "p99 s",
        "backlog",
        "1st out",
        "task-h",
        "actions",
        baseline.map_or("", |b| b.strategy.as_str()),
        "p99",
        "cost",
        "churn",
    );
    for o in outcomes {
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
        let _ = writeln!(
            out,
            "{:<22} {:>6.0} {:>6.0} {:>6.0} {:>8.0} {:>9} {:>8.1} {:>7} | {:<19} {:>5} {:>5} {:>5} | {:>9}",
            o.strategy,
            o.p50_wait_s,
            o.p95_wait_s,
            o.p99_wait_s,
            o.max_backlog,
            o.first_scale_out_s.map_or("-".into(), |s| format!("{s:.0} s")),
            o.task_seconds / 3600.0,
            o.scaling_actions,
            "",
            p99,
            cost,
            churn,
            tracking.map_or("-".into(), |t| ratio(o.p99_wait_s, t.p99_wait_s)),
        );
    }
    out
}

/// A goal, as a ratio of the recommended policy's figure to a baseline's.
pub struct Goal {
    pub what: &'static str,
    pub limit: f64,
    pub value: fn(&Outcome) -> f64,
    pub baseline: &'static str,
}

/// The goals the recommended policy is held to.
pub const GOALS: [Goal; 4] = [
    Goal {
        what: "p99 wait vs original 60s",
        limit: 1.0 / 3.0,
        value: |o| o.p99_wait_s,
        baseline: "original step 60s",
    },
    Goal {
        what: "task-seconds vs original 60s",
        limit: 1.1,
        value: |o| o.task_seconds,
        baseline: "original step 60s",
    },
    Goal {
        what: "actions vs original 60s",
        limit: 2.0,
        value: |o| o.scaling_actions as f64,
        baseline: "original step 60s",
    },
    Goal {
        what: "p99 wait vs target tracking",
        limit: 0.1,
        value: |o| o.p99_wait_s,
        baseline: "aws target tracking",
    },
];

/// One goal on one trace.
#[derive(Debug, Clone)]
pub struct GoalResult {
    pub trace: String,
    pub what: &'static str,
    pub ratio: f64,
    pub limit: f64,
}

impl GoalResult {
    pub fn met(&self) -> bool {
        self.ratio <= self.limit
    }
}

/// Every goal for `ours` (a strategy label) on one trace's outcomes.
pub fn goal_results(trace: &str, outcomes: &[Outcome], ours: &str) -> Vec<GoalResult> {
    let find = |label: &str| outcomes.iter().find(|o| o.strategy == label);
    let Some(ours) = find(ours) else {
        return Vec::new();
    };
    GOALS
        .iter()
        .filter_map(|goal| {
            let base = (goal.value)(find(goal.baseline)?);
            let ratio = if base > 0.0 {
                (goal.value)(ours) / base
            } else {
                0.0
            };
            Some(GoalResult {
                trace: trace.to_string(),
                what: goal.what,
                ratio,
                limit: goal.limit,
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
        "{:<8} {:<30} {:>7} {:>7}  result",
        "trace", "ratio", "value", "goal"
    );
    for r in results {
        let _ = writeln!(
            out,
            "{:<8} {:<30} {:>7.2} {:>7.2}  {}",
            r.trace,
            r.what,
            r.ratio,
            r.limit,
            if r.met() { "met" } else { "missed" }
        );
    }
    let met = results.iter().filter(|r| r.met()).count();
    let _ = writeln!(out, "{met} of {} goals met", results.len());
    out
}
