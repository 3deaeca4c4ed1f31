//! `fast-autoscaler`: the worker's logic on the command line.
//!
//! It reads configuration exactly as the Lambda does (`--config FILE` also works),
//! so `check-config` and `decide` answer what the deployed worker would do, and
//! `run` is how to run the autoscaler outside Lambda, for example in a container.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use fast_autoscaler::config::PolicySettings;
use fast_autoscaler::policy;
use fast_autoscaler::providers::{ProviderContext, QueueMetrics};
use fast_autoscaler::simulate::{self, Trace, Workload};
use fast_autoscaler::{
    load_aws_config, Autoscaler, AutoscalerConfig, ConfigSource, EvaluateOptions, Tick,
};
use fast_autoscaler_scheduler::{now_ms, TICK_VERSION};
use lambda_runtime::tracing;
use serde_json::json;

/// Exit status for a configuration that does not validate.
const EXIT_BAD_CONFIG: u8 = 2;

#[derive(Parser)]
#[command(
    name = "fast-autoscaler",
    version,
    about = "Scale ECS services on queue depth within seconds"
)]
struct Cli {
    /// JSON configuration document; overrides AUTOSCALER_CONFIG_FILE and AUTOSCALER_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate the policy for given numbers, with no cooldown history; prints one JSON object.
    Decide {
        /// Messages waiting in the queue.
        #[arg(long)]
        visible: u64,
        /// Messages received but not yet deleted.
        #[arg(long)]
        in_flight: u64,
        /// The service's current desiredCount.
        #[arg(long)]
        desired: u32,
        /// Messages sent with a delay, not yet receivable (reported, not scaled on).
        #[arg(long, default_value_t = 0)]
        delayed: u64,
        /// The service's running task count (reported).
        #[arg(long)]
        running: Option<u32>,
        /// Which configured service (`service` or `cluster/service`); default: the first.
        #[arg(long)]
        service: Option<String>,
    },
    /// Read each service's queue metrics through its provider; one JSON line per service.
    Metrics,
    /// Evaluate ticks against AWS every interval (honours AWS_ENDPOINT_URL); JSON line per decision.
    Run {
        /// Evaluate one tick and exit.
        #[arg(long)]
        once: bool,
        /// Decide and print, but call no UpdateService and write no state.
        #[arg(long)]
        dry_run: bool,
    },
    /// Validate the configuration and print it, secrets redacted.
    CheckConfig,
    /// Simulate a queue, its workers and several scaling strategies; print a comparison
    /// and write an SVG chart.
    ///
    /// Uses the first configured service's policy when a configuration is given
    /// (environment or --config), at 60 s and at --tick. Otherwise it compares the
    /// original's step rule (min 1, max 200, +1 task per 100 messages above 100,
    /// scale in below 10, cooldowns 120 s) at 60 s and at --tick with the recommended
    /// policy (predictive, emergency tier, scale-in stabilization) at --tick. AWS
    /// target tracking and KEDA's defaults are emulated in both cases.
    Simulate {
        /// A built-in trace (spike, ramp, diurnal, bursty, drain) or a CSV file of timestamp,arrivals.
        #[arg(long, default_value = "spike")]
        trace: String,
        /// Length of a built-in trace in hours (default: 2, or 24 for diurnal).
        #[arg(long)]
        hours: Option<f64>,
        /// Messages one task processes per second.
        #[arg(long, default_value_t = 1.0)]
        mu: f64,
        /// Seconds from requesting a task to it working (45 is typical for Fargate).
        #[arg(long, default_value_t = 45)]
        startup: usize,
        /// Fast Autoscaler's tick interval in seconds.
        #[arg(long, default_value_t = 10)]
        tick: usize,
        /// Where to write the SVG chart of backlog and tasks over time ("none": no chart).
        #[arg(long, value_name = "FILE", default_value = "simulation.svg")]
        svg: PathBuf,
        /// Simulate a queue that reports consumed messages (ActiveMQ, RabbitMQ; SQS
        /// does not), so the predictive policy measures the tasks' throughput.
        #[arg(long)]
        consumption_counter: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr so stdout carries only the JSON answers.
    tracing::init_default_subscriber_with_writer(std::io::stderr);
    let cli = Cli::parse();
    if let Command::Simulate {
        trace,
        hours,
        mu,
        startup,
        tick,
        svg,
        consumption_counter,
    } = &cli.command
    {
        return simulate(
            cli.config.as_deref(),
            trace,
            *hours,
            Workload {
                mu: *mu,
                startup_s: *startup,
                consumption_counter: *consumption_counter,
            },
            *tick,
            Some(svg.as_path()),
        );
    }
    let aws = load_aws_config().await;
    let (config, source) = match AutoscalerConfig::load(
        &|k| std::env::var(k).ok(),
        cli.config.as_deref(),
        ProviderContext { aws: &aws },
    ) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    match cli.command {
        Command::CheckConfig => {
            print_json(&config.describe(source));
            ExitCode::SUCCESS
        }
        Command::Decide {
            visible,
            in_flight,
            desired,
            delayed,
            running,
            service,
        } => decide(
            &config,
            source,
            service.as_deref(),
            QueueMetrics {
                visible,
                in_flight,
                delayed,
                dequeued_total: None,
            },
            desired,
            running,
        ),
        Command::Metrics => metrics(&config).await,
        Command::Run { once, dry_run } => run(Autoscaler::new(config, &aws), once, dry_run).await,
        Command::Simulate { .. } => unreachable!("handled before loading AWS configuration"),
    }
}

fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

fn decide(
    config: &AutoscalerConfig,
    source: ConfigSource,
    wanted: Option<&str>,
    metrics: QueueMetrics,
    desired: u32,
    running: Option<u32>,
) -> ExitCode {
    let service = match wanted {
        None => config.services.first(),
        Some(name) => config
            .services
            .iter()
            .find(|s| s.service == name || s.id() == name),
    };
    let Some(service) = service else {
        let known: Vec<String> = config.services.iter().map(|s| s.id()).collect();
        eprintln!(
            "--service {:?}: no such service in the {source:?} configuration; configured: {}",
            wanted.unwrap_or(""),
            known.join(", ")
        );
        return ExitCode::from(EXIT_BAD_CONFIG);
    };
    let decision = policy::recommend(&service.policy, Ok(&metrics), desired);
    print_json(&json!({
        "service": service.id(),
        "visible": metrics.visible,
        "in_flight": metrics.in_flight,
        "delayed": metrics.delayed,
        "current_desired": desired,
        "running": running,
        "desired_count": decision.new_desired,
        "action": decision.action,
        "reason": decision.reason,
    }));
    ExitCode::SUCCESS
}

async fn metrics(config: &AutoscalerConfig) -> ExitCode {
    let readings =
        futures::future::join_all(config.services.iter().map(|s| s.provider.metrics())).await;
    let mut failed = false;
    for (service, reading) in config.services.iter().zip(readings) {
        match reading {
            Ok(m) => print_json(&json!({
                "service": service.id(),
                "provider": service.provider.provider_name(),
                "visible": m.visible,
                "in_flight": m.in_flight,
                "delayed": m.delayed,
            })),
            Err(e) => {
                failed = true;
                print_json(&json!({
                    "service": service.id(),
                    "provider": service.provider.provider_name(),
                    "error": e.to_string(),
                }));
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn run(autoscaler: Autoscaler, once: bool, dry_run: bool) -> ExitCode {
    let interval_ms = u64::from(autoscaler.config().tick_interval_s) * 1000;
    let options = EvaluateOptions { dry_run };
    let mut due_ms = now_ms();
    loop {
        let tick = Tick {
            v: TICK_VERSION,
            due_ms,
            interval_s: autoscaler.config().tick_interval_s,
            seq: 0,
        };
        for record in autoscaler.evaluate(&tick, options).await {
            match serde_json::to_value(&record) {
                Ok(value) => print_json(&value),
                Err(e) => eprintln!("cannot print a decision: {e}"),
            }
        }
        if once {
            return ExitCode::SUCCESS;
        }
        // Ticks stay on a fixed grid; an evaluation that overran skips to the next slot.
        let now = now_ms();
        due_ms += interval_ms;
        while due_ms < now {
            due_ms += interval_ms;
        }
        tokio::time::sleep(Duration::from_millis(due_ms - now)).await;
    }
}

/// The policy of the first configured service, or the built-in one when there is
/// no configuration at all (a configuration that is given but invalid is an error).
fn simulation_policy(
    config_path: Option<&std::path::Path>,
) -> Result<(PolicySettings, String), String> {
    let env = |k: &str| std::env::var(k).ok();
    let configured = config_path.is_some()
        || ["AUTOSCALER_CONFIG", "AUTOSCALER_CONFIG_FILE", "ECS_CLUSTER"]
            .iter()
            .any(|k| env(k).is_some());
    if !configured {
        return Ok((
            simulate::example_policy(),
            simulate::EXAMPLE_POLICY_SOURCE.into(),
        ));
    }
    // Validation needs no AWS access: the providers are built but never called.
    let aws = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let (config, _) = AutoscalerConfig::load(&env, config_path, ProviderContext { aws: &aws })
        .map_err(|e| e.to_string())?;
    let service = &config.services[0];
    Ok((
        service.policy.clone(),
        format!("policy of {}", service.id()),
    ))
}

fn simulate(
    config_path: Option<&std::path::Path>,
    trace_name: &str,
    hours: Option<f64>,
    workload: Workload,
    tick: usize,
    svg: Option<&std::path::Path>,
) -> ExitCode {
    let (policy, policy_source) = match simulation_policy(config_path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    if !(workload.mu.is_finite() && workload.mu > 0.0) || tick == 0 {
        eprintln!("--mu must be a number of messages per second above 0 and --tick at least 1 (got --mu {} --tick {tick})", workload.mu);
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    let trace = if simulate::BUILT_IN_TRACES.contains(&trace_name) {
        let default_hours = if trace_name == "diurnal" { 24.0 } else { 2.0 };
        let hours = hours.unwrap_or(default_hours);
        if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 366.0) {
            eprintln!("--hours {hours}: expected a number of hours above 0, at most a year");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
        Trace::built_in(trace_name, (hours * 3600.0) as usize)
    } else {
        std::fs::read_to_string(trace_name)
            .map_err(|e| format!("--trace {trace_name:?}: not a built-in trace ({}) and not a readable CSV file: {e}", simulate::BUILT_IN_TRACES.join(", ")))
            .and_then(|text| Trace::from_csv(trace_name, &text))
    };
    let trace = match trace {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let strategies = if policy_source == simulate::EXAMPLE_POLICY_SOURCE {
        simulate::example_strategies(workload, tick)
    } else {
        simulate::standard_strategies(&policy, tick)
    };
    let started = std::time::Instant::now();
    let outcomes: Vec<_> = strategies
        .iter()
        .map(|strategy| simulate::run(&trace, workload, &policy, strategy))
        .collect();
    let elapsed = started.elapsed();
    println!(
        "trace {} ({:.1} h, {:.0} messages), {policy_source}; tasks process {} msg/s and start after {} s",
        trace.name,
        trace.arrivals.len() as f64 / 3600.0,
        trace.arrivals.iter().sum::<f64>() + trace.initial_backlog,
        workload.mu,
        workload.startup_s
    );
    print!("{}", simulate::comparison_table(&outcomes));
    println!(
        "simulated {} strategies in {:.2} s",
        outcomes.len(),
        elapsed.as_secs_f64()
    );
    if let Some(path) = svg.filter(|p| p.as_os_str() != "none") {
        let chart = simulate::svg_chart(&trace, &outcomes);
        if let Err(e) = std::fs::write(path, chart) {
            eprintln!("--svg {}: cannot write the chart: {e}", path.display());
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
        println!("chart: {}", path.display());
    }
    ExitCode::SUCCESS
}
