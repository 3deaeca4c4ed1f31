//! `fast-autoscaler simulate`: a trace through several strategies, as a table and
//! an SVG chart (see the `fast-autoscaler-simulator` crate).

use std::path::Path;
use std::process::ExitCode;

use fast_autoscaler_core::PolicySettings;
use fast_autoscaler_simulator::{self as simulator, Trace, Workload};
use fast_autoscaler_worker::AutoscalerConfig;

use crate::EXIT_BAD_CONFIG;

/// The policy of the first configured service, or the built-in one when there is
/// no configuration at all (a configuration that is given but invalid is an error).
pub(crate) fn simulation_policy(
    config_path: Option<&Path>,
) -> Result<(PolicySettings, String), String> {
    let env = |k: &str| std::env::var(k).ok();
    let configured = config_path.is_some()
        || ["AUTOSCALER_CONFIG", "AUTOSCALER_CONFIG_FILE", "ECS_CLUSTER"]
            .iter()
            .any(|k| env(k).is_some());
    if !configured {
        return Ok((
            simulator::example_policy(),
            simulator::EXAMPLE_POLICY_SOURCE.into(),
        ));
    }
    // The configuration as validated plain data: no provider is built.
    let (config, _) = AutoscalerConfig::load(&env, config_path).map_err(|e| e.to_string())?;
    let service = &config.services[0];
    Ok((
        service.policy.clone(),
        format!("policy of {}", service.id()),
    ))
}

pub fn simulate(
    config_path: Option<&Path>,
    trace_name: &str,
    hours: Option<f64>,
    workload: Workload,
    tick: usize,
    svg: Option<&Path>,
) -> ExitCode {
    let (policy, policy_source, trace) =
        match simulation_inputs(config_path, trace_name, hours, workload, tick) {
            Ok(inputs) => inputs,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_BAD_CONFIG);
            }
        };
    let mut strategies = if policy_source == simulator::EXAMPLE_POLICY_SOURCE {
        simulator::example_strategies(workload, tick)
    } else {
        simulator::standard_strategies(&policy, tick)
    };
    if simulator::has_days(&trace) {
        // Enough to learn recurring surges from, and for AWS to forecast.
        strategies.extend(simulator::periodic_strategies(workload, tick, &policy));
    }
    let reference = strategies
        .get(2)
        .or(strategies.get(1))
        .map(|s| s.label())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    let comparison = simulator::compare(&trace, workload, &policy, &strategies, &reference);
    let elapsed = started.elapsed();
    print_comparison(&trace, &policy_source, workload, &comparison);
    println!(
        "simulated {} strategies and solved the oracle in {:.2} s",
        comparison.outcomes.len(),
        elapsed.as_secs_f64()
    );
    match svg.filter(|p| p.as_os_str() != "none") {
        Some(path) => write_chart(path, &trace, &comparison),
        None => ExitCode::SUCCESS,
    }
}

/// The policy (and where it came from) and the trace, checked with the workload
/// and tick: each error says what would be valid.
fn simulation_inputs(
    config_path: Option<&Path>,
    trace_name: &str,
    hours: Option<f64>,
    workload: Workload,
    tick: usize,
) -> Result<(PolicySettings, String, Trace), String> {
    let (policy, policy_source) = simulation_policy(config_path)?;
    check_workload(workload, tick)?;
    let trace = Trace::load(trace_name, hours).map_err(|e| e.to_string())?;
    Ok((policy, policy_source, trace))
}

fn print_comparison(
    trace: &Trace,
    policy_source: &str,
    workload: Workload,
    comparison: &simulator::Comparison,
) {
    println!(
        "trace {} ({:.1} h, {:.0} messages), {policy_source}; tasks process {} msg/s and start after {} s",
        trace.name,
        trace.arrivals.len() as f64 / 3600.0,
        trace.arrivals.iter().sum::<f64>() + trace.initial_backlog,
        workload.mu,
        workload.startup_s
    );
    print!("{}", simulator::comparison_table(comparison));
    println!("{}", simulator::frontier_line(comparison));
    println!();
    print!("{}", simulator::elasticity_table(comparison));
}

/// The SVG chart of every strategy's backlog and tasks, the oracle's included.
fn write_chart(path: &Path, trace: &Trace, comparison: &simulator::Comparison) -> ExitCode {
    let mut drawn = comparison.outcomes.clone();
    drawn.extend(comparison.oracle.row.clone());
    let chart = simulator::svg_chart(trace, &drawn);
    if let Err(e) = std::fs::write(path, chart) {
        eprintln!("--svg {}: cannot write the chart: {e}", path.display());
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    println!("chart: {}", path.display());
    ExitCode::SUCCESS
}

/// The simulated tasks and tick, checked: what would be valid when they are not.
pub(crate) fn check_workload(workload: Workload, tick: usize) -> Result<(), String> {
    if !(workload.mu.is_finite() && workload.mu > 0.0) || tick == 0 {
        return Err(format!(
            "--mu must be a number of messages per second above 0 and --tick at least 1 (got --mu {} --tick {tick})",
            workload.mu
        ));
    }
    Ok(())
}
