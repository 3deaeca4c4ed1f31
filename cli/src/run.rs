//! `fast-autoscaler metrics` and `run`: the worker outside Lambda.

use std::process::ExitCode;
use std::time::Duration;

use fast_autoscaler_worker::providers::ProviderContext;
use fast_autoscaler_worker::{now_ms, Autoscaler, AutoscalerConfig, EvaluateOptions, Tick};
use serde_json::json;

use crate::{print_json, EXIT_BAD_CONFIG};

pub async fn metrics(config: &AutoscalerConfig, aws: &aws_config::SdkConfig) -> ExitCode {
    let providers = match config.build(ProviderContext { aws }) {
        Ok(providers) => providers,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let readings = futures::future::join_all(providers.iter().map(|p| p.metrics())).await;
    let mut failed = false;
    for (service, reading) in config.services.iter().zip(readings) {
        match reading {
            Ok(m) => {
                let mut line = json!({
                    "service": service.id(),
                    "provider": service.provider.provider_name(),
                    "visible": m.visible,
                    "in_flight": m.in_flight,
                    "delayed": m.delayed,
                });
                if let Some(busiest) = &m.busiest {
                    line["busiest"] = json!(busiest);
                }
                print_json(&line)
            }
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

pub async fn run(autoscaler: Autoscaler, once: bool, dry_run: bool) -> ExitCode {
    let interval_ms = u64::from(autoscaler.config().tick_interval_s) * 1000;
    let options = EvaluateOptions { dry_run };
    let mut due_ms = now_ms();
    loop {
        let tick = Tick::new(due_ms, autoscaler.config().tick_interval_s, 0);
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
