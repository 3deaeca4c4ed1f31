//! A discrete-event simulator of a queue, its ECS workers and scaling strategies.
//!
//! One-second steps: messages arrive from a [`trace`], each running task processes
//! `mu` messages a second in arrival order, a new task starts working `startup_s`
//! seconds after it is requested (Fargate takes ~45 s), and a scale-in stops tasks
//! at once (pending ones first). A strategy observes the backlog only at its own
//! tick times.
//!
//! Fast Autoscaler's strategies decide through the core's own tick machine
//! (`fast_autoscaler_core::tick`, and through it the decision protocol of
//! `fast_autoscaler_core::flow`: policy → state → cooldown, the same code,
//! settings and state records as the Lambda), driven in memory, so the figures
//! are about this product, not a copy of it. The simulator depends on that core alone: no AWS, tokio or broker
//! crate is in its `cargo tree` (`make lint` checks it). The [`baselines`] model AWS target tracking and KEDA from their
//! documented defaults.
//!
//! No I/O: a trace in, figures out.
//!
//! # Layout
//!
//! - [`trace`]: built-in traces and random workloads;
//! - [`periodic`]: multi-day traces whose surges come back, built in and random;
//! - [`trace_files`]: traces from a CSV file or, through [`cloudwatch_export`], a
//!   CloudWatch `GetMetricData` export;
//! - [`workload`]: how the tasks behave;
//! - [`age_metric`]: the oldest message's age, as CloudWatch publishes it;
//! - [`strategy`]: what can be simulated, and the configurations `simulate` compares;
//! - [`scaler`]: what the loop asks of a strategy at each of its ticks;
//! - [`autoscaler`]: Fast Autoscaler through the core's tick machine, one service;
//! - [`fleet`]: a whole fleet through one machine a tick, under an account's
//!   API budget;
//! - [`history`]: the arrivals an anticipating strategy learns from, online;
//! - [`foreknown`]: every surge of a trace, given whole: a bound on what a
//!   better forecaster could gain;
//! - [`baselines`]: AWS target tracking and KEDA;
//! - [`aws_predictive`]: AWS predictive scaling with target tracking;
//! - [`oracle`]: the physical limit, an exact LP over the whole trace;
//! - [`elasticity`]: the SPEC Research Group's elasticity metrics;
//! - [`simulation`]: the event loop and its figures;
//! - [`report`]: the comparison table and the goal summary;
//! - [`search`]: settings searched on a workload, and their Pareto frontier
//!   (what `fast-autoscaler tune` runs);
//! - [`chart`]: the SVG charts.

pub mod age_metric;
pub mod autoscaler;
pub mod aws_predictive;
pub mod baselines;
pub mod chart;
pub mod cloudwatch_export;
pub mod comparison;
pub mod elasticity;
pub mod fleet;
pub mod foreknown;
pub mod history;
pub mod oracle;
pub mod periodic;
pub mod report;
pub mod scaler;
pub mod search;
pub mod simulation;
pub mod strategy;
pub mod trace;
pub mod trace_files;
pub mod workload;

pub use chart::svg_chart;
pub use comparison::{compare, Comparison, OracleView, FRONTIER_WAITS};
pub use periodic::PERIODIC_TRACES;
pub use report::{
    comparison_table, elasticity_table, frontier_line, goal_results, goal_summary, GoalResult,
    GOALS,
};
pub use simulation::{run, Outcome};
pub use strategy::{
    anticipating_policy, example_policy, example_strategies, fast, has_days, periodic_strategies,
    recommended_policy, standard_strategies, target_per_task, Strategy, EXAMPLE_POLICY_SOURCE,
};
pub use trace::{Trace, BUILT_IN_TRACES};
pub use workload::Workload;

/// Errors of the simulator: traces it cannot read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("--trace {name:?}: expected one of {known} or a CSV file of timestamp,arrivals")]
    UnknownTrace { name: String, known: String },

    #[error("{file} line {line}: {what} {text:?} is not a number ≥ 0")]
    BadNumber {
        file: String,
        line: usize,
        what: &'static str,
        text: String,
    },

    #[error("{file} line {line}: timestamp {timestamp} is not after {previous}")]
    NotIncreasing {
        file: String,
        line: usize,
        timestamp: f64,
        previous: f64,
    },

    #[error("{file}: at least two rows of timestamp,arrivals are needed")]
    TooShort { file: String },

    #[error("--trace {path:?}: not a built-in trace ({known}) and not a readable file: {reason}")]
    UnreadableTrace {
        path: String,
        known: String,
        reason: String,
    },

    #[error("--hours {hours}: expected a number of hours above 0, at most a year")]
    BadHours { hours: f64 },

    #[error("{file}: {field}: {problem}")]
    BadCloudWatch {
        file: String,
        field: String,
        problem: String,
    },

    #[error("no schedule within max_tasks and the start-up delay keeps every wait within {max_wait_s} s")]
    OracleInfeasible { max_wait_s: usize },

    #[error("the oracle's LP could not be solved: {0}")]
    Oracle(String),
}
