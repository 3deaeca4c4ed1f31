//! Anticipation: the goal table of recurring surges. On the periodic built-in
//! traces and on random periodic workloads no setting was chosen on, the
//! recommended policy with anticipation against the original at 60 s, the
//! reactive rule alone, AWS predictive scaling with target tracking, and the
//! oracle; then, on workloads without a pattern, anticipation against the
//! reactive rule alone, which it must leave within 3 %. Beside each row, the
//! p99 floor: the fastest plan's (every task the bounds allow, from the first
//! second one can be ready), below which no strategy gets, so a p99 goal under
//! it is out of reach.

use std::time::Instant;

use fast_autoscaler_simulator::oracle::{self, OracleProblem};
use fast_autoscaler_simulator::simulation::{run, run_plan};
use fast_autoscaler_simulator::{
    self as simulator, Outcome, Strategy, Trace, Workload, PERIODIC_TRACES,
};

use crate::anticipation_foreknown::print_foreknown;
use crate::anticipation_goals::{goals_line, Anticipated, COST_GOAL, ORACLE_GOAL, P99_GOAL};
use crate::anticipation_split::print_split;

/// Random periodic workloads: seeds nothing was chosen on.
const HOLD_OUT_SEEDS: std::ops::Range<u64> = 4000..4008;
/// Their length, after the week of history each comes with.
const HOLD_OUT_S: usize = 2 * 86_400;
/// Workloads without a pattern, for the do-no-harm check.
const NO_PATTERN_SEEDS: std::ops::Range<u64> = 5000..5008;

pub(crate) fn workload() -> Workload {
    Workload {
        mu: 1.0,
        startup_s: 45,
        consumption_counter: false,
    }
}

/// The goal table's workloads: the periodic built-in traces at their natural
/// lengths, then the random periodic hold-outs.
pub(crate) fn goal_table_workloads() -> Vec<Trace> {
    goal_table(Trace::periodic, Trace::random_periodic)
}

/// The backgrounds of [`goal_table_workloads`], in the same order: each
/// without its recurring surges.
pub(crate) fn goal_table_backgrounds() -> Vec<Trace> {
    goal_table(
        Trace::periodic_background,
        Trace::random_periodic_background,
    )
}

/// The messages a second the recurring surges of [`goal_table_workloads`]
/// add, in the same order: where and when each came.
pub(crate) fn goal_table_surge_rates() -> Vec<Vec<f64>> {
    goal_table(
        Trace::periodic_surge_rate,
        Trace::random_periodic_surge_rate,
    )
}

fn goal_table<T>(built_in: fn(&str, usize) -> Option<T>, random: fn(u64, usize) -> T) -> Vec<T> {
    let mut traces: Vec<T> = PERIODIC_TRACES
        .iter()
        .filter_map(|(name, hours)| built_in(name, (hours * 3600.0) as usize))
        .collect();
    traces.extend(HOLD_OUT_SEEDS.map(|seed| random(seed, HOLD_OUT_S)));
    traces
}

/// The strategies of the table: the original at 60 s, the reactive rule and
/// anticipation, then AWS predictive scaling.
pub(crate) fn strategies(workload: Workload) -> Vec<Strategy> {
    let original = simulator::example_policy();
    vec![
        simulator::fast("original step", 60, &original),
        simulator::fast("reactive", 10, &simulator::recommended_policy(workload)),
        simulator::fast(
            "anticipating",
            10,
            &simulator::anticipating_policy(workload),
        ),
        Strategy::AwsPredictive {
            target_per_task: simulator::target_per_task(&original),
            task_throughput: workload.mu,
        },
    ]
}

/// One trace's row: the runs, the oracle at the anticipating run's p99, and
/// the lowest p99 any strategy can reach.
struct Row {
    name: String,
    outcomes: Vec<Outcome>,
    oracle_at_p99: Option<f64>,
    /// The p99 wait of the fastest plan (`max_tasks` from the first second a
    /// new task can be ready): no schedule within the bounds waits less, so a
    /// p99 goal below it is out of reach.
    p99_floor_s: f64,
}

fn row(trace: &Trace) -> Row {
    let policy = simulator::example_policy();
    let outcomes: Vec<Outcome> = strategies(workload())
        .iter()
        .map(|s| run(trace, workload(), &policy, s))
        .collect();
    // Blocks on multi-day traces: the constraints hold at each block's
    // end, a looser lower bound (see `oracle`'s module docs).
    let problem = OracleProblem::within_bounds(trace, workload(), &policy);
    let oracle_at_p99 = problem
        .solve(outcomes[2].p99_wait_s.ceil() as usize)
        .ok()
        .map(|s| s.task_seconds);
    let fastest = oracle::fastest_plan(trace, workload(), policy.max_tasks, policy.min_tasks);
    let p99_floor_s = run_plan(
        trace,
        workload(),
        &fastest,
        policy.min_tasks,
        "fastest possible".into(),
    )
    .p99_wait_s;
    Row {
        name: trace.name.clone(),
        outcomes,
        oracle_at_p99,
        p99_floor_s,
    }
}

fn ratio(x: f64, base: f64) -> f64 {
    if base > 0.0 {
        x / base
    } else if x > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// What one row met: how many of its four goals, and whether its p99 goal is
/// below the floor (out of any strategy's reach).
struct Met {
    goals: usize,
    p99_out_of_reach: bool,
}

/// Prints one row and answers what it met.
fn print_row(row: &Row) -> Met {
    let [original, reactive, ours, aws] = &row.outcomes[..] else {
        return Met {
            goals: 0,
            p99_out_of_reach: false,
        };
    };
    let p99 = ratio(ours.p99_wait_s, original.p99_wait_s);
    let cost = ratio(ours.task_seconds, original.task_seconds);
    let vs_oracle = row.oracle_at_p99.map(|o| ratio(ours.task_seconds, o));
    let beats_aws = ours.p99_wait_s < aws.p99_wait_s && ours.task_seconds < aws.task_seconds;
    let goals = [
        p99 <= P99_GOAL,
        cost <= COST_GOAL,
        vs_oracle.is_some_and(|r| r <= ORACLE_GOAL),
        beats_aws,
    ];
    let hours = |o: &Outcome| o.task_seconds / 3600.0;
    let p99_out_of_reach = row.p99_floor_s > P99_GOAL * original.p99_wait_s;
    let verdict = match (goals.iter().all(|g| *g), p99_out_of_reach) {
        (true, _) => "met",
        (false, true) => "missed (p99 out of reach)",
        (false, false) => "missed",
    };
    println!(
        "{:<16} {:>6.0} {:>6.0} {:>6.0} {:>6.0} {:>6.0} | {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>7} | {:>5.2} {:>5.2} {:>5} {:>4} {verdict}",
        row.name,
        original.p99_wait_s,
        reactive.p99_wait_s,
        ours.p99_wait_s,
        aws.p99_wait_s,
        row.p99_floor_s,
        hours(original),
        hours(reactive),
        hours(ours),
        hours(aws),
        row.oracle_at_p99.map_or("—".into(), |o| format!("{:.0}", o / 3600.0)),
        p99,
        cost,
        vs_oracle.map_or("—".into(), |r| format!("{r:.2}")),
        if beats_aws { "yes" } else { "no" },
    );
    Met {
        goals: goals.iter().filter(|g| **g).count(),
        p99_out_of_reach,
    }
}

/// The goal table on the periodic built-ins and the random periodic hold-outs.
pub(crate) fn recurring_surges() {
    println!("\nAnticipation on recurring surges (mu 1/s, start-up 45 s; the anticipating policy is the recommended one with anticipation on)");
    println!("{}", goals_line());
    println!(
        "{:<16} {:>34} | {:>47} | {:>5} {:>5} {:>5} {:>4}",
        "", "p99 wait, s", "task-hours", "p99×", "cost×", "vs or", "<aws"
    );
    println!(
        "{:<16} {:>6} {:>6} {:>6} {:>6} {:>6} | {:>7} {:>7} {:>7} {:>7} {:>7} |",
        "trace",
        "orig",
        "react",
        "antic",
        "aws",
        "floor",
        "orig",
        "react",
        "antic",
        "aws",
        "oracle"
    );
    let started = Instant::now();
    let traces = goal_table_workloads();
    let (mut met, mut out_of_reach, mut anticipated) = (0, 0, Vec::new());
    for trace in &traces {
        let row = row(trace);
        let row_met = print_row(&row);
        met += usize::from(row_met.goals == 4);
        out_of_reach += usize::from(row_met.p99_out_of_reach);
        if let [original, _, anticipating, ..] = &row.outcomes[..] {
            anticipated.push(Anticipated {
                original: original.clone(),
                anticipating: anticipating.clone(),
                oracle_task_seconds: row.oracle_at_p99,
            });
        }
    }
    println!(
        "all four goals met on {met} of {} traces ({:.0} s); the p99 goal is out of any strategy's reach on {out_of_reach} \
         (floor: the fastest plan's p99, every task from the first second one can be ready, above {P99_GOAL:.2}× the original's)",
        traces.len(),
        started.elapsed().as_secs_f64()
    );
    print_split(&goal_table_backgrounds(), &anticipated, workload());
    print_foreknown(&traces, &goal_table_surge_rates(), &anticipated, workload());
}

/// Anticipation against the reactive rule alone where there is no pattern.
pub(crate) fn no_pattern() {
    println!("\nWithout a pattern (goal: anticipation within 3 % of the reactive rule alone in p99 and cost)");
    println!(
        "{:<16} {:>8} {:>8} {:>9} {:>9} {:>6}",
        "trace", "p99 ×", "cost ×", "p99 react", "p99 antic", "goal"
    );
    let mut traces: Vec<Trace> = simulator::BUILT_IN_TRACES
        .iter()
        .filter_map(|name| Trace::built_in(name, 2 * 3600).ok())
        .collect();
    // Two days of one-off events after a week of them: nothing recurs.
    traces.extend(
        NO_PATTERN_SEEDS.map(|seed| {
            Trace::random(seed, 9 * 86_400).with_history(simulator::periodic::HISTORY_S)
        }),
    );
    let policy = simulator::example_policy();
    let (mut met, total) = (0, traces.len());
    for trace in &traces {
        let reactive = run(
            trace,
            workload(),
            &policy,
            &simulator::fast("reactive", 10, &simulator::recommended_policy(workload())),
        );
        let ours = run(
            trace,
            workload(),
            &policy,
            &simulator::fast(
                "anticipating",
                10,
                &simulator::anticipating_policy(workload()),
            ),
        );
        let p99 = ratio(ours.p99_wait_s, reactive.p99_wait_s);
        let cost = ratio(ours.task_seconds, reactive.task_seconds);
        let ok = (p99 - 1.0).abs() <= 0.03 && (cost - 1.0).abs() <= 0.03;
        met += usize::from(ok);
        println!(
            "{:<16} {:>8.3} {:>8.3} {:>9.0} {:>9.0} {:>6}",
            trace.name,
            p99,
            cost,
            reactive.p99_wait_s,
            ours.p99_wait_s,
            if ok { "met" } else { "missed" }
        );
    }
    println!("met on {met} of {total}");
}

/// `simulate`'s own work on multi-day traces: the `daily` trace over 7 and 30
/// days, through every strategy `simulate` runs on it, with the oracle's
/// frontier (on blocks, a lower bound: see `oracle::block_for`).
pub fn simulate_speed() {
    let workload = workload();
    let policy = simulator::example_policy();
    let mut strategies = simulator::example_strategies(workload, 10);
    strategies.extend(simulator::periodic_strategies(workload, 10, &policy));
    println!(
        "\nsimulate on multi-day traces ({} strategies and the oracle's frontier)",
        strategies.len()
    );
    for (days, goal_s) in [(7, 60.0), (30, 300.0)] {
        let started = Instant::now();
        let trace = Trace::periodic("daily", days * 86_400).expect("a periodic trace");
        let comparison =
            simulator::compare(&trace, workload, &policy, &strategies, "recommended 10s");
        let took = started.elapsed().as_secs_f64();
        println!(
            "daily, {days:>2} days: {took:>6.1} s (goal < {goal_s:.0} s, ratio {:.2}); oracle on {}-second blocks, {} frontier points",
            took / goal_s,
            oracle::block_for(trace.arrivals.len()),
            comparison.oracle.frontier.len()
        );
    }
}
