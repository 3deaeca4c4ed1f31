//! `fast-autoscaler decide`: the decision for given numbers, through the core's
//! decision protocol, with no cooldown history (a service never scaled before).

use std::process::ExitCode;

use fast_autoscaler_core::flow;
use fast_autoscaler_core::policy::Observation;
use fast_autoscaler_core::state::Stored;
use fast_autoscaler_core::QueueMetrics;
use fast_autoscaler_worker::{AutoscalerConfig, ConfigSource};
use serde_json::json;

use crate::{find_service, print_json};

pub fn decide(
    config: &AutoscalerConfig,
    source: ConfigSource,
    wanted: Option<&str>,
    metrics: QueueMetrics,
    desired: u32,
    running: Option<u32>,
) -> ExitCode {
    let service = match find_service(config, source, wanted) {
        Ok(service) => service,
        Err(code) => return code,
    };
    // A first tick: no samples, no state; the running count is only reported.
    let observed = Observation {
        metrics: Ok(&metrics),
        current: desired,
        running: desired,
        now_ms: 0,
        forecast: None,
    };
    let at = flow::At {
        cluster: &service.cluster,
        service: &service.service,
        now_ms: 0,
        tick_due_ms: 0,
        current: desired,
        // Nothing is claimed: the decision is only printed.
        lease_ms: 0,
    };
    let decision = flow::decide(&service.policy, &observed, &Stored::Missing, at).decision;
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
