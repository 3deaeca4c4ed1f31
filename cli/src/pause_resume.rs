//! `fast-autoscaler pause` and `resume`: an operator's pause of one service's
//! autoscaling, written to its S3 state with the worker's own conditional writes
//! (see `fast_autoscaler_worker::operator`). The worker honours it from its next tick.

use std::process::ExitCode;

use fast_autoscaler_core::pause::{Pause, MAX_PAUSE_MS};
use fast_autoscaler_worker::config::ServiceConfig;
use fast_autoscaler_worker::operator::set_pause;
use fast_autoscaler_worker::store::StateStore;
use fast_autoscaler_worker::{now_ms, AutoscalerConfig};
use serde_json::json;

use crate::{print_json, EXIT_BAD_CONFIG};

/// What `pause` was asked for.
pub struct PauseArgs<'a> {
    pub service: &'a ServiceConfig,
    pub duration: &'a str,
    pub at: Option<u32>,
    pub reason: Option<&'a str>,
}

/// A `--for` value in milliseconds, or the error naming it.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let expected = "a duration such as 30m, 2h or 1h30m, at most 7 days (168h)";
    let duration: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|_| format!("--for {text:?}: expected {expected}"))?;
    let ms = duration.as_millis();
    if ms <= 0 || ms > i128::from(MAX_PAUSE_MS) {
        return Err(format!("--for {text:?}: expected {expected}; for longer, change the service's min_tasks and max_tasks"));
    }
    Ok(ms as u64)
}

pub async fn pause(
    config: &AutoscalerConfig,
    aws: &aws_config::SdkConfig,
    args: PauseArgs<'_>,
) -> ExitCode {
    let duration_ms = match parse_duration(args.duration) {
        Ok(ms) => ms,
        Err(e) => return bad(e),
    };
    let service = args.service;
    if let Some(at) = args.at.filter(|at| *at > service.policy.max_tasks) {
        return bad(format!(
            "--at {at}: above {}'s max_tasks {}; pause at 0..={} or raise max_tasks in the configuration first",
            service.id(),
            service.policy.max_tasks,
            service.policy.max_tasks
        ));
    }
    let now = now_ms();
    let who = std::env::var("USER").unwrap_or_else(|_| "an operator".into());
    let note = match args.reason {
        Some(reason) => format!("by {who}: {reason}"),
        None => format!("by {who}"),
    };
    let pause = Pause {
        since_ms: now,
        until_ms: now + duration_ms,
        at: args.at,
        note,
    };
    let store = StateStore::from_sdk_config(aws, config.state_bucket.clone());
    match set_pause(
        &store,
        &service.cluster,
        &service.service,
        Some(pause.clone()),
        now,
    )
    .await
    {
        Ok(_) => {
            print_json(&json!({
                "service": service.id(),
                "paused": true,
                "until": timestamp(pause.until_ms),
                "at": pause.at,
                "note": pause.note,
            }));
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}

pub async fn resume(
    config: &AutoscalerConfig,
    aws: &aws_config::SdkConfig,
    service: &ServiceConfig,
) -> ExitCode {
    let store = StateStore::from_sdk_config(aws, config.state_bucket.clone());
    let now = now_ms();
    match set_pause(&store, &service.cluster, &service.service, None, now).await {
        Ok(_) => {
            print_json(&json!({"service": service.id(), "paused": false}));
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}

fn timestamp(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| format!("{ms} ms"))
}

fn bad(message: String) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(EXIT_BAD_CONFIG)
}

fn failed(e: fast_autoscaler_worker::Error) -> ExitCode {
    eprintln!("{e}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_friendly_bounded_and_named_when_wrong() {
        assert_eq!(parse_duration("2h"), Ok(7_200_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("45s"), Ok(45_000));
        for wrong in ["", "soon", "-1h", "0s", "200h"] {
            let e = parse_duration(wrong).unwrap_err();
            assert!(
                e.starts_with(&format!("--for {wrong:?}")) && e.contains("2h"),
                "{e}"
            );
        }
    }
}
