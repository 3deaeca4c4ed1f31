//! How much of the goal a better forecaster could reach: the anticipating
//! policy given every surge whole (its second, size and pace, as the trace was
//! drawn; see `fast_autoscaler_simulator::foreknown`) in place of the pattern
//! it learns, beside the learned run, against the same goals.
//!
//! No forecaster knows more than that. What the foreknown run still misses is
//! beyond any forecast on this design, a reactive floor with tasks added ahead
//! of each surge (the issue's own); it is the sizing, hold and release's, or
//! the floor's.

use fast_autoscaler_simulator::{foreknown, Outcome, Trace, Workload};

use crate::anticipation_goals::{Against, Anticipated, ORACLE_GOAL, P99_GOAL};
use crate::anticipation_reach::{print_reach, Setting};

fn foreknown_run(trace: &Trace, surge_rate: &[f64], workload: Workload) -> Against {
    let setting = Setting::recommended(workload);
    let outcome = setting.run(trace, &foreknown::pattern(trace, surge_rate), workload);
    Against::placed(trace, workload, &outcome)
}

fn cells(run: &Against, original: &Outcome) -> String {
    format!(
        "{:>5.0} {:>5.2} {:>7.0} {:>5}",
        run.p99_wait_s,
        run.p99_wait_s / original.p99_wait_s.max(1.0),
        run.task_seconds / 3600.0,
        run.vs_oracle().map_or("—".into(), |r| format!("{r:.2}")),
    )
}

/// Prints, for each goal trace beside its learned run, the run that knew
/// every surge, and how many goals each meets.
pub fn print_foreknown(
    traces: &[Trace],
    surge_rates: &[Vec<f64>],
    anticipated: &[Anticipated],
    workload: Workload,
) {
    println!("\nA forecast that knew every surge (its second, size and pace, as drawn), in place of the learned one, with the same sizing, hold, release and reactive floor; the oracle at each run's p99");
    println!(
        "{:<16} {:>26} | {:>26} | {:>7} {:>7}",
        "", "learned", "foreknown", "goals", "goals"
    );
    println!(
        "{:<16} {:>5} {:>5} {:>7} {:>5}  | {:>5} {:>5} {:>7} {:>5}  | {:>7} {:>7}",
        "trace",
        "p99 s",
        "p99×",
        "hours",
        "vs or",
        "p99 s",
        "p99×",
        "hours",
        "vs or",
        "learned",
        "known"
    );
    let (mut learned_met, mut known_met) = (0, 0);
    for ((trace, rate), whole) in traces.iter().zip(surge_rates).zip(anticipated) {
        let learned = Against {
            p99_wait_s: whole.anticipating.p99_wait_s,
            task_seconds: whole.anticipating.task_seconds,
            oracle_task_seconds: whole.oracle_task_seconds,
        };
        let known = foreknown_run(trace, rate, workload);
        let count = |run: &Against| run.goals(&whole.original).iter().filter(|g| **g).count();
        learned_met += usize::from(count(&learned) == 3);
        known_met += usize::from(count(&known) == 3);
        println!(
            "{:<16} {}  | {}  | {:>5}/3 {:>5}/3",
            trace.name,
            cells(&learned, &whole.original),
            cells(&known, &whole.original),
            count(&learned),
            count(&known),
        );
    }
    println!(
        "p99 ≤ {P99_GOAL:.2}× the original's, cost ≤ 1.0× it and ≤ {ORACLE_GOAL:.2}× the oracle's, all three: learned on {learned_met} of {n}, foreknown on {known_met} of {n}",
        n = traces.len()
    );
    print_reach(traces, surge_rates, anticipated, workload);
}
