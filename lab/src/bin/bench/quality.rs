//! Scaling quality: every built-in trace through `simulate`'s strategies (the
//! original step rule at 60 s is the baseline; the recommended policy at 10 s is
//! the product), placed against the oracle, with the SPEC elasticity metrics and
//! the goal summary; then the same goals on random workloads the recommended
//! settings were never looked at on; then a wider check on forty more, beside the
//! same configuration releasing idle tasks all at once and beside where the p99
//! goal is possible at all; then the simulator's own speed on 30 days of
//! one-second trace.

use std::time::Instant;

use fast_autoscaler_core::settings::{PolicySettings, ScaleInRelease};
use fast_autoscaler_simulator::oracle::{self, OracleProblem};
use fast_autoscaler_simulator::simulation::run_plan;
use fast_autoscaler_simulator::{
    self as simulator, search, Comparison, GoalResult, Trace, Workload, GOALS,
};

const OURS: &str = "recommended 10s";
const BASELINE: &str = "original step 60s";
/// The cost goal against the baseline, the budget of the per-trace tuning.
const COST_GOAL: f64 = 1.10;
/// Random workloads: seeds the recommended settings were not chosen on.
const HOLD_OUT_SEEDS: std::ops::Range<u64> = 1000..1012;
/// The wider check's random workloads, seeds no setting was looked at on.
const WIDER_SEEDS: std::ops::Range<u64> = 3000..3040;

fn workload() -> Workload {
    Workload {
        mu: 1.0,
        startup_s: 45,
        consumption_counter: false,
    }
}

/// The same rule tuned on one trace alone: of `fast-autoscaler tune`'s settings,
/// the lowest p99 wait within the cost goal, as ratios to the baseline, with the
/// setting; then the same with spare capacity too (`target_utilization` down to
/// 0.5). It is what no single configuration can promise (it is chosen with the
/// trace in hand), so a p99 goal it misses is beyond this rule, whatever its
/// settings and however much spare capacity the cost goal pays for; one it
/// meets is a compromise of the recommended configuration.
fn tuned_on(trace: &Trace, comparison: &Comparison) -> String {
    let Some(baseline) = comparison.outcomes.iter().find(|o| o.strategy == BASELINE) else {
        return String::new();
    };
    let policy = simulator::example_policy();
    let candidates = search::with_spare_capacity(&search::candidates(workload().startup_s as u64));
    let points = search::evaluate(trace, workload(), &policy, 10, &candidates, &|| {});
    let best = |spare: bool| {
        points
            .iter()
            .filter(|p| spare || p.candidate.utilization_pct == 100)
            .filter(|p| p.task_seconds <= COST_GOAL * baseline.task_seconds)
            .min_by(|a, b| a.p99_wait_s.total_cmp(&b.p99_wait_s))
    };
    let ratio = |x: f64, base: f64| if base > 0.0 { x / base } else { 0.0 };
    let cell = |point: Option<&search::TunePoint>| match point {
        Some(p) => format!(
            "{:>5.2} {:>5.2}  drain {:>3} s, stab. {:>3} s, out cd {:>2} s, use {:>3} %",
            ratio(p.p99_wait_s, baseline.p99_wait_s),
            ratio(p.task_seconds, baseline.task_seconds),
            p.candidate.target_drain_s,
            p.candidate.stabilization_s,
            p.candidate.scale_out_cooldown_s,
            p.candidate.utilization_pct
        ),
        None => "no setting within the cost goal".into(),
    };
    format!(
        "{:<12} {}\n{:<12} {}",
        trace.name,
        cell(best(false)),
        "  + spare",
        cell(best(true))
    )
}

/// Every goal of the recommended policy on one trace, printing its tables when
/// `verbose`, and the per-trace tuning line.
fn goals_on(trace: &Trace, verbose: bool) -> (Vec<GoalResult>, String) {
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
    (
        simulator::goal_results(&trace.name, &comparison, OURS),
        tuned_on(trace, &comparison),
    )
}

/// The per-trace tuning table.
fn print_tuned(lines: &[String]) {
    let settings = search::candidates(workload().startup_s as u64).len();
    println!(
        "The same rule tuned per trace (the lowest p99 within task-seconds ≤ {COST_GOAL:.2}× the original's, of `fast-autoscaler tune`'s {settings} settings; \"+ spare\": of those at target utilizations {:?} % too):",
        search::SPARE_UTILIZATIONS_PCT
    );
    println!("{:<12} {:>5} {:>5}  setting", "trace", "p99", "cost");
    for line in lines {
        println!("{line}");
    }
    println!();
}

/// The baseline on one trace: the original's step rule at its 60 s schedule.
fn baseline_run(trace: &Trace) -> simulator::Outcome {
    let bounds = simulator::example_policy();
    simulator::run(
        trace,
        workload(),
        &bounds,
        &simulator::fast("original step", 60, &bounds),
    )
}

/// On one trace: `policy`'s cost and p99 against the baseline's, and its cost
/// against the oracle's at its p99 (`None` where the oracle has no plan).
fn three_ratios(trace: &Trace, policy: &PolicySettings) -> [Option<f64>; 3] {
    let bounds = simulator::example_policy();
    let baseline = baseline_run(trace);
    let ours = simulator::run(
        trace,
        workload(),
        &bounds,
        &simulator::fast("recommended", 10, policy),
    );
    let oracle = OracleProblem {
        trace,
        workload: workload(),
        max_tasks: bounds.max_tasks,
        initial_tasks: bounds.min_tasks,
        step_s: 1,
    }
    .solve(ours.p99_wait_s.ceil() as usize)
    .ok();
    let share = |x: f64, base: f64| (base > 0.0).then(|| x / base);
    [
        share(ours.task_seconds, baseline.task_seconds),
        share(ours.p99_wait_s, baseline.p99_wait_s),
        oracle.and_then(|o| share(ours.task_seconds, o.task_seconds)),
    ]
}

/// What is possible at all on one trace, for the p99 goal: whether the fastest
/// plan (every task from the start) reaches it, and whether the oracle reaches it
/// within the cost goal (its whole-task plan keeping every wait within the goal's
/// share of the original's p99, simulated like the strategies: a witness).
fn p99_goal_possible(trace: &Trace) -> (bool, bool) {
    let bounds = simulator::example_policy();
    let baseline = baseline_run(trace);
    let goal_s = GOALS[1].limit * baseline.p99_wait_s;
    let simulated = |plan: &[u32], label: &str| {
        run_plan(trace, workload(), plan, bounds.min_tasks, label.into())
    };
    let fastest = oracle::fastest_plan(trace, workload(), bounds.max_tasks, bounds.min_tasks);
    let at_all = simulated(&fastest, "fastest").p99_wait_s <= goal_s;
    let within_cost = OracleProblem {
        trace,
        workload: workload(),
        max_tasks: bounds.max_tasks,
        initial_tasks: bounds.min_tasks,
        step_s: 1,
    }
    .solve(goal_s.floor() as usize)
    .ok()
    .map(|solution| simulated(&solution.plan, "oracle"))
    .is_some_and(|o| o.p99_wait_s <= goal_s && o.task_seconds <= COST_GOAL * baseline.task_seconds);
    (at_all, within_cost)
}

/// The wider check's last lines: on how many workloads the p99 goal is possible
/// at all, and within the cost goal, so the recommended configuration's count
/// reads against what any strategy, online or not, could reach.
fn print_possible(traces: &[Trace]) {
    let possible: Vec<(bool, bool)> = traces.iter().map(p99_goal_possible).collect();
    let count = |pick: fn(&(bool, bool)) -> bool| possible.iter().filter(|p| pick(p)).count();
    let n = traces.len();
    println!(
        "{:<44} {:>18} {:>18}",
        "physical limit: every task from the start",
        "",
        format!("{:>2}/{n} possible", count(|p| p.0))
    );
    println!(
        "{:<44} {:>18} {:>18}",
        "the oracle within the cost goal",
        "",
        format!("{:>2}/{n} possible", count(|p| p.1))
    );
}

/// The wider check: on [`WIDER_SEEDS`], how often each goal is met and the
/// geometric mean of each ratio, for the recommended configuration and for the
/// same releasing idle tasks all at the window's end (its one choice that is not
/// KEDA's and the HPA's), side by side.
fn wider_check() {
    let recommended = simulator::recommended_policy(workload());
    let at_once = PolicySettings {
        scale_in_release: ScaleInRelease::Window,
        ..recommended.clone()
    };
    println!(
        "Wider check: {} more random 2-hour workloads (seeds {}..{}), goals met and geometric means",
        WIDER_SEEDS.end - WIDER_SEEDS.start,
        WIDER_SEEDS.start,
        WIDER_SEEDS.end
    );
    println!(
        "{:<44} {:>18} {:>18} {:>18}",
        "configuration (met/traces, geometric mean)",
        format!("cost ≤ {:.2}", GOALS[0].limit),
        format!("p99 ≤ {:.2}", GOALS[1].limit),
        format!("vs oracle ≤ {:.2}", GOALS[2].limit)
    );
    let traces: Vec<Trace> = WIDER_SEEDS.map(|seed| Trace::random(seed, 7200)).collect();
    for (label, policy) in [
        ("recommended (idle tasks released gradually)", &recommended),
        ("the same, released at the window's end", &at_once),
    ] {
        let all: Vec<[Option<f64>; 3]> = traces
            .iter()
            .map(|trace| three_ratios(trace, policy))
            .collect();
        let cells: Vec<String> = (0..3)
            .map(|goal| {
                let values: Vec<f64> = all.iter().filter_map(|r| r[goal]).collect();
                let met = values.iter().filter(|v| **v <= GOALS[goal].limit).count();
                let mean = (values.iter().map(|v| v.max(1e-3).ln()).sum::<f64>()
                    / values.len().max(1) as f64)
                    .exp();
                format!("{met:>2}/{} {mean:>5.2}×", values.len())
            })
            .collect();
        println!(
            "{label:<44} {:>18} {:>18} {:>18}",
            cells[0], cells[1], cells[2]
        );
    }
    print_possible(&traces);
    println!();
}

pub fn scaling_quality() {
    println!("Scaling quality (simulator; tasks process 1 msg/s and start after 45 s)\n");
    let (mut summary, mut tuned) = (Vec::new(), Vec::new());
    for name in simulator::BUILT_IN_TRACES {
        let hours = if name == "diurnal" { 24 } else { 2 };
        let Ok(trace) = Trace::built_in(name, hours * 3600) else {
            continue;
        };
        let (goals, line) = goals_on(&trace, true);
        summary.extend(goals);
        tuned.push(line);
    }
    println!("{}", simulator::goal_summary(&summary));
    print_tuned(&tuned);

    println!(
        "Hold-out: the same goals on {} random 2-hour workloads (Trace::random, seeds {}..{})",
        HOLD_OUT_SEEDS.end - HOLD_OUT_SEEDS.start,
        HOLD_OUT_SEEDS.start,
        HOLD_OUT_SEEDS.end
    );
    let (mut hold_out, mut tuned) = (Vec::new(), Vec::new());
    for seed in HOLD_OUT_SEEDS {
        let (goals, line) = goals_on(&Trace::random(seed, 7200), false);
        hold_out.extend(goals);
        tuned.push(line);
    }
    println!("{}", simulator::goal_summary(&hold_out));
    print_tuned(&tuned);

    let mut traces: Vec<Trace> = simulator::BUILT_IN_TRACES
        .iter()
        .filter_map(|name| {
            let hours = if *name == "diurnal" { 24 } else { 2 };
            Trace::built_in(name, hours * 3600).ok()
        })
        .collect();
    traces.extend(HOLD_OUT_SEEDS.map(|seed| Trace::random(seed, 7200)));
    crate::actions::print_actions(&traces, workload(), baseline_run);
    traces.extend(WIDER_SEEDS.map(|seed| Trace::random(seed, 7200)));
    crate::tolerance_tradeoff::print_tolerance_tradeoff(&traces, workload(), baseline_run);

    wider_check();

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
