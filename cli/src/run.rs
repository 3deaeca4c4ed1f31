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

/// A `--shard` value, `K/N`: shard K (from 0) of N, N from 1 to the interval
/// in seconds, as the scheduler's TICK_SHARDS.
pub fn parse_shard(text: &str, interval_s: u32) -> Result<(u32, u32), String> {
    let parsed = text.trim().split_once('/').and_then(|(k, n)| {
        let (k, n) = (k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?);
        (k < n && (1..=interval_s).contains(&n)).then_some((k, n))
    });
    parsed.ok_or_else(|| {
        format!("--shard {text:?}: expected K/N, shard K from 0 of N shards, N from 1 to the tick interval ({interval_s} s), e.g. 0/3")
    })
}

pub async fn run(autoscaler: Autoscaler, once: bool, dry_run: bool, shard: (u32, u32)) -> ExitCode {
    let interval_s = autoscaler.config().tick_interval_s;
    let interval_ms = u64::from(interval_s) * 1000;
    let options = EvaluateOptions { dry_run };
    let (k, shards) = shard;
    // A shard's ticks come k × interval / N into each interval, as the scheduler's.
    let offset_ms = u64::from(k * interval_s / shards) * 1000;
    let mut due_ms = now_ms() + if once { 0 } else { offset_ms };
    loop {
        let tick = Tick::new(due_ms, interval_s, 0).for_shard(k, shards);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_k_of_n_within_the_interval() {
        assert_eq!(parse_shard("0/1", 10), Ok((0, 1)));
        assert_eq!(parse_shard(" 2/3 ", 10), Ok((2, 3)));
        for bad in ["3/3", "1", "a/b", "0/11", "0/0", "-1/2"] {
            let e = parse_shard(bad, 10).unwrap_err();
            assert!(
                e.starts_with(&format!("--shard {bad:?}: expected K/N")),
                "{e}"
            );
        }
    }
}
