//! `fast-autoscaler decide`: the decision for given numbers, through the core's
//! tick machine in a dry run, as the worker would decide it at that moment for
//! a service never scaled before (no cooldown history, no state).

use std::process::ExitCode;

use fast_autoscaler_core::state::Stored;
use fast_autoscaler_core::target::{TargetLimits, TargetView};
use fast_autoscaler_core::tick::{InMemory, Tick, TickAt, TickTarget};
use fast_autoscaler_core::QueueMetrics;
use fast_autoscaler_worker::{AutoscalerConfig, ConfigSource};
use serde_json::json;

use crate::{find_service, print_json, EXIT_BAD_CONFIG};

/// What `decide` was given.
pub struct DecideArgs<'a> {
    pub wanted: Option<&'a str>,
    pub metrics: QueueMetrics,
    pub desired: u32,
    /// Tasks running; the desired count when not given.
    pub running: Option<u32>,
    /// The moment to decide at (RFC 3339); now when not given.
    pub at: Option<&'a str>,
}

pub fn decide(config: &AutoscalerConfig, source: ConfigSource, args: DecideArgs<'_>) -> ExitCode {
    let service = match find_service(config, source, args.wanted) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let now_ms = match decision_time(args.at) {
        Ok(ms) => ms,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let running = args.running.unwrap_or(args.desired);
    let target = TickTarget {
        id: service.target_id(),
        policy: &service.policy,
        budget: config.budget(service.kind()),
        kept: None,
    };
    let at = TickAt {
        now_ms,
        tick_due_ms: now_ms,
        lease_ms: 0,
        interval_s: config.tick_interval_s,
        shards: 1,
        // Only printed: nothing is written, nothing is changed.
        dry_run: true,
    };
    // Nothing is described: the target's own limits are not known here.
    let views = [TargetView {
        desired: args.desired,
        running,
        starting: args.desired.saturating_sub(running),
        limits: TargetLimits::none("tasks"),
        not_ready: None,
    }];
    let ran = Tick::new(vec![target], at).run_in_memory(InMemory {
        views: &views,
        readings: vec![Ok(args.metrics.clone())],
        forecasts: &[None],
        stored: &mut [Stored::Missing],
    });
    let decision = &ran.outcomes[0].decision;
    print_json(&json!({
        "service": service.id(),
        "at": jiff::Timestamp::from_millisecond(now_ms as i64).map(|t| t.to_string()).unwrap_or_default(),
        "visible": args.metrics.visible,
        "in_flight": args.metrics.in_flight,
        "delayed": args.metrics.delayed,
        "current_desired": args.desired,
        "running": running,
        "desired_count": decision.new_desired,
        "action": decision.action,
        "reason": decision.reason,
    }));
    ExitCode::SUCCESS
}

/// `--at` in Unix milliseconds, or now; an `--at` that is not a moment is
/// named with what is valid.
pub fn decision_time(at: Option<&str>) -> Result<u64, String> {
    let Some(text) = at else {
        return Ok(fast_autoscaler_worker::now_ms());
    };
    let moment: jiff::Timestamp = text.trim().parse().map_err(|_| {
        format!("--at {text:?}: not a moment; expected an RFC 3339 time such as 2026-12-07T09:00:00Z or 2026-12-07T10:00:00+01:00")
    })?;
    u64::try_from(moment.as_millisecond())
        .map_err(|_| format!("--at {text:?}: before 1970; expected a moment from 1970 on"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_is_an_rfc_3339_moment_or_now() {
        assert_eq!(
            decision_time(Some("2026-12-07T09:00:00Z")),
            Ok(1_796_634_000_000)
        );
        assert_eq!(
            decision_time(Some("2026-12-07T10:00:00+01:00")),
            Ok(1_796_634_000_000)
        );
        for bad in ["tomorrow", "2026-13-01T00:00:00Z", "1969-12-31T23:00:00Z"] {
            let e = decision_time(Some(bad)).unwrap_err();
            assert!(e.starts_with(&format!("--at {bad:?}")), "{e}");
        }
        let now = decision_time(None).expect("now");
        assert!(now > 1_796_000_000_000, "{now}");
    }
}
