//! `fast-autoscaler`: the worker's logic on the command line.
//!
//! It reads configuration exactly as the Lambda does (`--config FILE` also works),
//! so `check-config` and `decide` answer what the deployed worker would do, and
//! `run` is how to run the autoscaler outside Lambda, for example in a container.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fast_autoscaler_core::QueueMetrics;
use fast_autoscaler_simulator::search::Choice;
use fast_autoscaler_simulator::Workload;
use fast_autoscaler_worker::config::ServiceConfig;
use fast_autoscaler_worker::{load_aws_config, Autoscaler, AutoscalerConfig, ConfigSource};

mod decide;
mod logging;
mod pause_resume;
mod run;
mod simulate;
mod status;
mod tune;

/// Exit status for a configuration that does not validate.
pub(crate) const EXIT_BAD_CONFIG: u8 = 2;

/// The one error of a command that needs AWS and has no region.
const NO_REGION: &str = "no AWS region is set: set AWS_REGION (for example AWS_REGION=eu-west-1), or a region in your AWS profile (aws configure set region eu-west-1); check-config, decide, simulate and tune need none";

#[derive(Parser)]
#[command(
    name = "fast-autoscaler",
    version,
    about = "Scale ECS services and EC2 Auto Scaling groups on queue depth within seconds"
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
    /// Evaluate the policy for given numbers as the worker would now (or --at),
    /// with no cooldown history; prints one JSON object.
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
        /// The service's running task count (default: the desired count).
        #[arg(long)]
        running: Option<u32>,
        /// Which configured service (`service` or `cluster/service`); default: the first.
        #[arg(long)]
        service: Option<String>,
        /// Decide at this moment (RFC 3339, e.g. 2026-12-07T09:00:00Z) instead of
        /// now: scheduled bounds and anticipation hints are judged then.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
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
        /// Evaluate only shard K of N (e.g. 0/3): one process per shard splits a
        /// large fleet as TICK_SHARDS does for the Lambda.
        #[arg(long, value_name = "K/N", default_value = "0/1")]
        shard: String,
    },
    /// Validate the configuration and print it, secrets redacted.
    CheckConfig,
    /// One row per target, read now: desired/running, the last action with its
    /// reason and age, the cooldowns, any pause and any claim in progress.
    /// Exits 1 if a target or its state could not be read.
    Status {
        /// One JSON object per target instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Pause a service's autoscaling: the worker holds its count (or sets --at) from
    /// its next tick until the pause expires or `resume`. Every decision says so.
    Pause {
        /// The configured service (`service` or `cluster/service`).
        service: String,
        /// How long, e.g. 30m, 2h, 1h30m or 7d (at most 7 days); then it resumes by itself.
        #[arg(
            long = "for",
            value_name = "DURATION",
            default_value = "1h",
            allow_hyphen_values = true
        )]
        duration: String,
        /// Hold desiredCount at this count instead of where it is.
        #[arg(long, value_name = "TASKS")]
        at: Option<u32>,
        /// Why, for the decision log (who paused is taken from $USER).
        #[arg(long)]
        reason: Option<String>,
    },
    /// End a service's pause now; the worker decides again from its next tick.
    Resume {
        /// The configured service (`service` or `cluster/service`).
        service: String,
    },
    /// Simulate a queue, its workers and several scaling strategies; print a comparison
    /// against the oracle (the physical limit) and write an SVG chart.
    ///
    /// Uses the first configured service's policy when a configuration is given
    /// (environment or --config), at 60 s and at --tick. Otherwise it compares the
    /// original's step rule (min 1, max 200, +1 task per 100 messages above 100,
    /// scale in below 10, cooldowns 120 s) at 60 s and at --tick with the recommended
    /// settings at --tick. AWS target tracking (one-minute and 20-second metrics) and
    /// KEDA's defaults are emulated in both cases.
    Simulate {
        #[command(flatten)]
        workload: WorkloadArgs,
        /// Where to write the SVG chart of backlog and tasks over time ("none": no chart).
        #[arg(long, value_name = "FILE", default_value = "simulation.svg")]
        svg: PathBuf,
    },
    /// Search the predictive rule's settings on a workload (a built-in trace, a CSV or
    /// a CloudWatch GetMetricData export); print the Pareto frontier of p99 wait
    /// against task-hours beside the oracle's, write its SVG, and print the
    /// configuration of a chosen point (by default the fastest costing no more than
    /// the policy at the original's 60 s schedule).
    Tune {
        #[command(flatten)]
        workload: WorkloadArgs,
        /// Choose the cheapest setting whose p99 wait is at most this many seconds.
        #[arg(long, value_name = "SECONDS", conflicts_with = "budget")]
        max_p99: Option<f64>,
        /// Choose the fastest setting costing at most this many task-hours.
        #[arg(long, value_name = "TASK_HOURS")]
        budget: Option<f64>,
        /// Also search spare capacity: every setting at a target_utilization of
        /// 90, 80, 67 and 50 % too (tasks held ahead of surges, paid for
        /// throughout). Five times the settings, so about five times as long.
        #[arg(long)]
        spare_capacity: bool,
        /// Where to write the SVG chart of the frontier ("none": no chart).
        #[arg(long, value_name = "FILE", default_value = "tune.svg")]
        svg: PathBuf,
    },
}

/// The workload `simulate` and `tune` run on.
#[derive(clap::Args)]
struct WorkloadArgs {
    /// A built-in trace (spike, ramp, diurnal, bursty, drain, batch, flash, noisy), a
    /// CSV file of timestamp,arrivals, or a CloudWatch GetMetricData JSON export.
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
    /// Simulate a queue that reports consumed messages (ActiveMQ, RabbitMQ; SQS
    /// does not), so the predictive policy measures the tasks' throughput.
    #[arg(long)]
    consumption_counter: bool,
}

impl WorkloadArgs {
    fn workload(&self) -> Workload {
        Workload {
            mu: self.mu,
            startup_s: self.startup,
            consumption_counter: self.consumption_counter,
        }
    }
}

/// The commands that need no AWS configuration, run before it is loaded.
fn offline(cli: &Cli) -> Option<ExitCode> {
    let config = cli.config.as_deref();
    match &cli.command {
        Command::Simulate { workload: w, svg } => Some(simulate::simulate(
            config,
            &w.trace,
            w.hours,
            w.workload(),
            w.tick,
            Some(svg.as_path()),
        )),
        Command::Tune {
            workload: w,
            max_p99,
            budget,
            spare_capacity,
            svg,
        } => {
            let choice = match (max_p99, budget) {
                (Some(s), _) => Some(Choice::MaxP99(*s)),
                (_, Some(h)) => Some(Choice::Budget(*h)),
                _ => None,
            };
            Some(tune::tune(tune::TuneArgs {
                config,
                trace: &w.trace,
                hours: w.hours,
                workload: w.workload(),
                tick: w.tick,
                choice,
                spare_capacity: *spare_capacity,
                svg: Some(svg.as_path()),
            }))
        }
        _ => None,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let cli = Cli::parse();
    if let Some(code) = offline(&cli) {
        return code;
    }
    // Validated plain data first: no AWS configuration or client is needed for it.
    let (config, source) =
        match AutoscalerConfig::load(&|k| std::env::var(k).ok(), cli.config.as_deref()) {
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
            at,
        } => decide::decide(
            &config,
            source,
            decide::DecideArgs {
                wanted: service.as_deref(),
                metrics: QueueMetrics {
                    visible,
                    in_flight,
                    delayed,
                    dequeued_total: None,
                    oldest_message: None,
                    max_consumers: None,
                    busiest: None,
                },
                desired,
                running,
                at: at.as_deref(),
            },
        ),
        command => {
            let aws = load_aws_config().await;
            if aws.region().is_none() {
                eprintln!("{NO_REGION}");
                return ExitCode::from(EXIT_BAD_CONFIG);
            }
            run_aws_command(command, config, source, &aws).await
        }
    }
}

/// A command that reads queues or the state, or scales: the providers and the
/// AWS clients are built for it.
async fn run_aws_command(
    command: Command,
    config: AutoscalerConfig,
    source: ConfigSource,
    aws: &aws_config::SdkConfig,
) -> ExitCode {
    match command {
        Command::Pause {
            service,
            duration,
            at,
            reason,
        } => match find_service(&config, source, Some(&service)) {
            Ok(service) => {
                let args = pause_resume::PauseArgs {
                    service,
                    duration: &duration,
                    at,
                    reason: reason.as_deref(),
                };
                pause_resume::pause(&config, aws, args).await
            }
            Err(code) => code,
        },
        Command::Resume { service } => match find_service(&config, source, Some(&service)) {
            Ok(service) => pause_resume::resume(&config, aws, service).await,
            Err(code) => code,
        },
        Command::Metrics => run::metrics(&config, aws).await,
        Command::Status { json } => status::status(config, aws, json).await,
        Command::Run {
            once,
            dry_run,
            shard,
        } => {
            let shard = match run::parse_shard(&shard, config.tick_interval_s) {
                Ok(shard) => shard,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(EXIT_BAD_CONFIG);
                }
            };
            match Autoscaler::new(config, aws) {
                Ok(autoscaler) => run::run(autoscaler, once, dry_run, shard).await,
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(EXIT_BAD_CONFIG)
                }
            }
        }
        Command::CheckConfig | Command::Decide { .. } => {
            unreachable!("answered from the configuration alone")
        }
        Command::Simulate { .. } | Command::Tune { .. } => {
            unreachable!("handled before loading the configuration")
        }
    }
}

/// The configured service named `wanted` (`service` or `cluster/service`; the
/// first when `None`), or the exit after an error listing the configured ones.
pub(crate) fn find_service<'a>(
    config: &'a AutoscalerConfig,
    source: ConfigSource,
    wanted: Option<&str>,
) -> Result<&'a ServiceConfig, ExitCode> {
    let found = match wanted {
        None => config.services.first(),
        Some(name) => config
            .services
            .iter()
            .find(|s| s.target_id().name == name || s.id() == name),
    };
    found.ok_or_else(|| {
        let known: Vec<String> = config.services.iter().map(|s| s.id()).collect();
        eprintln!(
            "service {:?}: no such service in the {source:?} configuration; configured: {}",
            wanted.unwrap_or(""),
            known.join(", ")
        );
        ExitCode::from(EXIT_BAD_CONFIG)
    })
}

pub(crate) fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
