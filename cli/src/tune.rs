//! `fast-autoscaler tune`: the predictive rule's settings searched on the user's
//! own workload, the Pareto frontier of p99 wait against cost beside the oracle's,
//! an SVG of it, and the configuration of a chosen point.

use std::path::Path;
use std::process::ExitCode;

use fast_autoscaler_core::PolicySettings;
use fast_autoscaler_simulator::chart::{scatter_svg, Series};
use fast_autoscaler_simulator::oracle::{self, OracleProblem};
use fast_autoscaler_simulator::search::{self, Choice};
use fast_autoscaler_simulator::{self as simulator, Trace, Workload, FRONTIER_WAITS};
use indicatif::{ProgressBar, ProgressStyle};

use crate::simulate::simulation_policy;
use crate::EXIT_BAD_CONFIG;

/// What `tune` was asked.
pub struct TuneArgs<'a> {
    pub config: Option<&'a Path>,
    pub trace: &'a str,
    pub hours: Option<f64>,
    pub workload: Workload,
    pub tick: usize,
    pub choice: Option<Choice>,
    /// Also search `target_utilization` below 1 (see [`search::with_spare_capacity`]).
    pub spare_capacity: bool,
    pub svg: Option<&'a Path>,
}

/// What a search found.
struct Tuned {
    trace: Trace,
    points: Vec<search::TunePoint>,
    /// Indices into `points`, cheapest first.
    frontier: Vec<usize>,
    oracle: Vec<(usize, Option<f64>)>,
    /// Seconds per oracle block (1: exact).
    step_s: usize,
    /// What runs today: the policy at the original's one-minute schedule.
    today: simulator::Outcome,
}

pub fn tune(args: TuneArgs<'_>) -> ExitCode {
    let fail = |message: String| {
        eprintln!("{message}");
        ExitCode::from(EXIT_BAD_CONFIG)
    };
    let (base, source, trace) = match checked(&args) {
        Ok(checked) => checked,
        Err(e) => return fail(e),
    };
    let started = std::time::Instant::now();
    let tuned = search(trace, &args, &base);
    print_report(&tuned, &args, &source);
    let choice = args
        .choice
        .unwrap_or(Choice::Budget(tuned.today.task_seconds / 3600.0));
    print_choice(&tuned, choice);
    println!("tuned in {:.1} s", started.elapsed().as_secs_f64());
    if let Some(path) = args.svg.filter(|p| p.as_os_str() != "none") {
        if let Err(e) = std::fs::write(path, chart(&tuned)) {
            return fail(format!(
                "--svg {}: cannot write the chart: {e}",
                path.display()
            ));
        }
        println!("chart: {}", path.display());
    }
    ExitCode::SUCCESS
}

/// The base policy, its source and the trace, or what is wrong with the input.
fn checked(args: &TuneArgs<'_>) -> Result<(PolicySettings, String, Trace), String> {
    let (base, source) = simulation_policy(args.config)?;
    crate::simulate::check_workload(args.workload, args.tick)?;
    match args.choice {
        Some(Choice::MaxP99(s)) if !(s.is_finite() && s >= 0.0) => {
            return Err(format!(
                "--max-p99 {s}: expected a number of seconds, 0 or more"
            ))
        }
        Some(Choice::Budget(h)) if !(h.is_finite() && h >= 0.0) => {
            return Err(format!(
                "--budget {h}: expected a number of task-hours, 0 or more"
            ))
        }
        _ => {}
    }
    let trace = Trace::load(args.trace, args.hours).map_err(|e| e.to_string())?;
    Ok((base, source, trace))
}

/// Every setting simulated, the oracle solved and today's policy run, with a
/// progress bar on a terminal.
fn search(trace: Trace, args: &TuneArgs<'_>, base: &PolicySettings) -> Tuned {
    let workload = args.workload;
    let mut candidates = search::candidates(workload.startup_s as u64);
    if args.spare_capacity {
        candidates = search::with_spare_capacity(&candidates);
    }
    if simulator::has_days(&trace) {
        candidates = search::with_anticipation(&candidates);
    }
    let bar = ProgressBar::new(candidates.len() as u64 + 1).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("settings simulated");
    let points = search::evaluate(&trace, workload, base, args.tick, &candidates, &|| {
        bar.inc(1)
    });
    bar.set_message("oracle");
    let step_s = oracle::block_for(trace.arrivals.len());
    let problem = OracleProblem {
        trace: &trace,
        workload,
        max_tasks: base.max_tasks,
        initial_tasks: base.min_tasks,
        step_s,
    };
    let oracle = oracle::frontier(&problem, &FRONTIER_WAITS);
    let today = simulator::run(&trace, workload, base, &simulator::fast("today", 60, base));
    bar.inc(1);
    bar.finish_and_clear();
    Tuned {
        frontier: search::pareto(&points),
        trace,
        points,
        oracle,
        step_s,
        today,
    }
}

fn print_choice(tuned: &Tuned, choice: Choice) {
    match search::choose(&tuned.points, &tuned.frontier, choice) {
        Some(i) => {
            let p = &tuned.points[i];
            println!(
                "\nchosen ({}): p99 {:.0} s, {:.1} task-hours",
                describe(choice),
                p.p99_wait_s,
                p.task_seconds / 3600.0
            );
            println!("{}", search::policy_json(&p.policy));
        }
        None => println!(
            "\nno setting meets {}: see the frontier above",
            describe(choice)
        ),
    }
}

fn describe(choice: Choice) -> String {
    match choice {
        Choice::MaxP99(s) => format!("--max-p99 {s}: the cheapest with p99 ≤ {s} s"),
        Choice::Budget(h) => format!("budget {h:.1} task-hours: the fastest within it"),
    }
}

fn print_report(tuned: &Tuned, args: &TuneArgs<'_>, source: &str) {
    let Tuned {
        trace,
        points,
        frontier,
        oracle,
        step_s,
        today: original,
    } = tuned;
    let step_s = *step_s;
    println!(
        "tune: {} settings of the predictive rule (with the bounds of the {source}) on {} ({:.1} days, {:.0} messages); \
         tasks process {} msg/s and start after {} s; ticks every {} s",
        points.len(),
        trace.name,
        trace.arrivals.len() as f64 / 86_400.0,
        trace.arrivals.iter().sum::<f64>() + trace.initial_backlog,
        args.workload.mu,
        args.workload.startup_s,
        args.tick
    );
    println!(
        "{source} at the original's 60 s schedule: p99 {:.0} s, {:.1} task-hours",
        original.p99_wait_s,
        original.task_seconds / 3600.0
    );
    let blocks = if step_s > 1 {
        format!(" (on {step_s}-second blocks: a lower bound)")
    } else {
        String::new()
    };
    let oracle_points: Vec<String> = oracle
        .iter()
        .map(|(w, c)| c.map_or(format!("{w}s -"), |c| format!("{w}s {:.1}", c / 3600.0)))
        .collect();
    println!(
        "oracle{blocks}, task-hours keeping every wait within W: {}",
        oracle_points.join(" · ")
    );
    print_frontier(points, frontier, oracle);
}

/// The frontier's settings, one a line, each against the oracle.
fn print_frontier(
    points: &[search::TunePoint],
    frontier: &[usize],
    oracle: &[(usize, Option<f64>)],
) {
    println!("\nPareto frontier (no other setting is both cheaper and faster):");
    println!(
        "{:>8} {:>8} {:>8} {:>6} {:>6} {:>7} {:>8} {:>8} {:>12}",
        "drain s",
        "stab s",
        "out cd s",
        "use %",
        "antic",
        "p99 s",
        "task-h",
        "actions",
        "vs oracle"
    );
    for &i in frontier.iter() {
        let p = &points[i];
        let at_p99 = oracle
            .iter()
            .filter(|(w, _)| (*w as f64) <= p.p99_wait_s)
            .filter_map(|(_, c)| *c)
            .fold(f64::INFINITY, f64::min);
        let versus = if at_p99.is_finite() && at_p99 > 0.0 {
            format!("{:.2}", p.task_seconds / at_p99)
        } else {
            "-".into()
        };
        println!(
            "{:>8} {:>8} {:>8} {:>6} {:>6} {:>7.0} {:>8.1} {:>8} {:>12}",
            p.candidate.target_drain_s,
            p.candidate.stabilization_s,
            p.candidate.scale_out_cooldown_s,
            p.candidate.utilization_pct,
            if p.candidate.anticipation {
                "on"
            } else {
                "off"
            },
            p.p99_wait_s,
            p.task_seconds / 3600.0,
            p.actions,
            versus
        );
    }
}

fn chart(tuned: &Tuned) -> String {
    let Tuned {
        trace,
        points,
        frontier,
        oracle,
        today: original,
        ..
    } = tuned;
    let xy = |p: &search::TunePoint| (p.task_seconds / 3600.0, p.p99_wait_s);
    let series = [
        Series {
            points: points.iter().map(xy).collect(),
            colour: "#bbbbbb",
            label: "every setting tried".into(),
            line: false,
        },
        Series {
            points: frontier.iter().map(|&i| xy(&points[i])).collect(),
            colour: "#1f77b4",
            label: "Pareto frontier".into(),
            line: true,
        },
        Series {
            points: oracle
                .iter()
                .filter_map(|(w, c)| c.map(|c| (c / 3600.0, *w as f64)))
                .collect(),
            colour: "#2ca02c",
            label: "oracle (the physical limit: every wait within W)".into(),
            line: true,
        },
        Series {
            points: vec![(original.task_seconds / 3600.0, original.p99_wait_s)],
            colour: "#d62728",
            label: "today: the policy at the original's 60 s schedule".into(),
            line: false,
        },
    ];
    scatter_svg(
        &format!("Tuning on {}: p99 wait against cost", trace.name),
        &series,
    )
}
