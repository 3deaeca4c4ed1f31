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

/// What a `--for` value may be, as every error about one says it.
const DURATIONS: &str =
    "a duration such as 30m, 2h, 1h30m or 7d (units s, m, h, d, w), from 1s to 7 days";

/// A `--for` value in milliseconds, or the one error naming it and what is
/// valid. Days are 24 hours: a pause ends at the same instant whatever the
/// calendar does meanwhile.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let bad = |why: &str| format!("--for {text:?}: {why}; expected {DURATIONS}");
    let span: jiff::Span = text.trim().parse().map_err(|_| bad("not a duration"))?;
    let duration = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| bad("months and years are not a fixed length"))?;
    let ms = duration.as_millis();
    if ms < 0 {
        return Err(bad("a pause cannot end before it starts"));
    }
    if ms < 1000 {
        return Err(bad(
            "too short to pause anything; to end a pause, use resume",
        ));
    }
    if ms > i128::from(MAX_PAUSE_MS) {
        return Err(bad(
            "beyond a week, change the service's min_tasks and max_tasks in the configuration instead",
        ));
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
            "--at {at}: above the max_tasks {} of {}; pause at 0..={} or raise max_tasks in the configuration first",
            service.policy.max_tasks,
            service.id(),
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
    match set_pause(&store, service.target_id(), Some(pause.clone()), now).await {
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
    match set_pause(&store, service.target_id(), None, now).await {
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
        assert_eq!(parse_duration("7d"), Ok(MAX_PAUSE_MS));
        assert_eq!(parse_duration("1w"), Ok(MAX_PAUSE_MS));
        assert_eq!(parse_duration("1d12h"), Ok(36 * 3_600_000));
        for (wrong, why) in [
            ("", "not a duration"),
            ("soon", "not a duration"),
            ("-5m", "a pause cannot end before it starts"),
            ("0s", "too short to pause anything"),
            ("200h", "beyond a week"),
            ("8d", "beyond a week"),
            ("1mo", "months and years are not a fixed length"),
        ] {
            let e = parse_duration(wrong).unwrap_err();
            assert!(
                e.starts_with(&format!("--for {wrong:?}: {why}")) && e.contains(DURATIONS),
                "{e}"
            );
            assert!(!e.contains("min_tasks") || why == "beyond a week", "{e}");
        }
    }
}
