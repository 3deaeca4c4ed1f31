//! `fast-autoscaler`: the worker's logic on the command line.
//!
//! It reads configuration exactly as the Lambda does (`--config FILE` also works),
//! so `check-config` and `decide` answer what the deployed worker would do, and
//! `run` is how to run the autoscaler outside Lambda, for example in a container.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fast_autoscaler::providers::{ProviderContext, QueueMetrics};
use fast_autoscaler::{load_aws_config, Autoscaler, AutoscalerConfig};
use fast_autoscaler_simulator::Workload;
use lambda_runtime::tracing;

mod decide;
mod run;
mod simulate;

/// Exit status for a configuration that does not validate.
pub(crate) const EXIT_BAD_CONFIG: u8 = 2;

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
        return simulate::simulate(
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
        } => decide::decide(
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
        Command::Metrics => run::metrics(&config).await,
        Command::Run { once, dry_run } => {
            run::run(Autoscaler::new(config, &aws), once, dry_run).await
        }
        Command::Simulate { .. } => unreachable!("handled before loading AWS configuration"),
    }
}

pub(crate) fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
