//! `fast-autoscaler`: the worker's logic on the command line.
//!
//! It reads configuration exactly as the Lambda does (`--config FILE` also works),
//! so `check-config` and `decide` answer what the deployed worker would do, and
//! `run` is how to run the autoscaler outside Lambda, for example in a container.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use fast_autoscaler::policy;
use fast_autoscaler::providers::{ProviderContext, QueueMetrics};
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
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr so stdout carries only the JSON answers.
    tracing::init_default_subscriber_with_writer(std::io::stderr);
    let cli = Cli::parse();
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
            },
            desired,
            running,
        ),
        Command::Metrics => metrics(&config).await,
        Command::Run { once, dry_run } => run(Autoscaler::new(config, &aws), once, dry_run).await,
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
