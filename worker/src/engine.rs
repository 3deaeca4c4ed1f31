//! One tick's evaluation of every configured service.
//!
//! Per tick, every provider is read and every cluster described at once: one
//! provider call per service and `ceil(N/10)` DescribeServices calls per cluster.
//! The pure policy then proposes a count. Only a proposed change reads the S3
//! state (cooldown, claim) and calls UpdateService, so a quiet system costs no S3
//! traffic. Services are evaluated concurrently and one service's failure only
//! turns that service's decision into `hold`.

use std::collections::HashMap;
use std::time::Instant;

use fast_autoscaler_providers::{ProviderError, QueueMetrics};
use fast_autoscaler_scheduler::{now_ms, Tick};
use futures::future::join_all;
use serde::Serialize;

use crate::config::{AutoscalerConfig, ServiceConfig};
use crate::ecs::{self, ServiceView};
use crate::policy::{self, Action, Decision, Memory, Observation};
use crate::state::{ActionRecord, ServiceState, StateStore, Stored, WriteOutcome};
use crate::Error;

/// How an evaluation may act.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluateOptions {
    /// Decide and report, but call no UpdateService and write no state.
    pub dry_run: bool,
}

/// One service's decision for one tick: the fields of its structured log line.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRecord {
    /// `cluster/service`.
    pub service: String,
    pub provider: &'static str,
    pub visible: Option<u64>,
    pub in_flight: Option<u64>,
    pub delayed: Option<u64>,
    /// desiredCount before the decision.
    pub current_desired: Option<u32>,
    pub running: Option<u32>,
    /// desiredCount after the decision.
    pub new_desired: Option<u32>,
    pub action: Action,
    pub reason: String,
    pub cooldown_remaining_s: u64,
    pub tick_due_ms: u64,
    /// How late the evaluation started against the tick's due time (negative: early).
    pub tick_lag_ms: i64,
    pub duration_ms: u64,
    pub dry_run: bool,
}

/// The worker's long-lived part: configuration and AWS clients, built once per cold start.
#[derive(Debug)]
pub struct Autoscaler {
    config: AutoscalerConfig,
    /// The configured service names of each cluster, grouped once at cold start
    /// for the batched DescribeServices of every tick.
    services_by_cluster: Vec<(String, Vec<String>)>,
    ecs: aws_sdk_ecs::Client,
    state: StateStore,
}

impl Autoscaler {
    /// Builds the clients from the shared AWS configuration.
    pub fn new(config: AutoscalerConfig, aws: &aws_config::SdkConfig) -> Self {
        let mut s3 = aws_sdk_s3::config::Builder::from(aws);
        if aws.endpoint_url().is_some() {
            // Local emulators and S3-compatible stores answer on one host, not on
            // `<bucket>.<host>`.
            s3 = s3.force_path_style(true);
        }
        let state = StateStore::new(
            aws_sdk_s3::Client::from_conf(s3.build()),
            config.state_bucket.clone(),
        );
        let mut services_by_cluster: Vec<(String, Vec<String>)> = Vec::new();
        for s in &config.services {
            match services_by_cluster
                .iter_mut()
                .find(|(cluster, _)| *cluster == s.cluster)
            {
                Some((_, names)) if names.contains(&s.service) => {}
                Some((_, names)) => names.push(s.service.clone()),
                None => services_by_cluster.push((s.cluster.clone(), vec![s.service.clone()])),
            }
        }
        Autoscaler {
            ecs: aws_sdk_ecs::Client::new(aws),
            state,
            services_by_cluster,
            config,
        }
    }

    pub fn config(&self) -> &AutoscalerConfig {
        &self.config
    }

    /// Evaluates every service for `tick` and returns one record per service, in
    /// configuration order. Callers log them (see [`crate::emf`]).
    pub async fn evaluate(&self, tick: &Tick, options: EvaluateOptions) -> Vec<DecisionRecord> {
        let started = Instant::now();
        let tick_lag_ms = now_ms() as i64 - tick.due_ms as i64;
        let services = &self.config.services;

        // Every part of the tick races one deadline; what misses it becomes `hold`.
        let deadline_after = self.config.tick_deadline();
        let deadline = tokio::time::Instant::now() + deadline_after;
        let missed = |what: &str| {
            format!(
                "tick deadline of {} ms reached while {what}",
                deadline_after.as_millis()
            )
        };
        let metrics = join_all(services.iter().map(|s| async move {
            tokio::time::timeout_at(deadline, s.provider.metrics())
                .await
                .unwrap_or_else(|_| {
                    Err(ProviderError::Unavailable {
                        provider: s.provider.provider_name(),
                        target: s.id(),
                        message: missed("reading the queue"),
                    })
                })
        }));
        let views = join_all(
            self.services_by_cluster
                .iter()
                .map(|(cluster, names)| async move {
                    let described = tokio::time::timeout_at(
                        deadline,
                        ecs::describe_services(&self.ecs, cluster, names),
                    )
                    .await
                    .unwrap_or_default();
                    (cluster.as_str(), described)
                }),
        );
        let (metrics, views) = tokio::join!(metrics, views);
        let mut views: HashMap<&str, HashMap<String, Result<ServiceView, Error>>> =
            views.into_iter().collect();

        let evaluations = services.iter().zip(metrics).map(|(service, reading)| {
            let view = views
                .get_mut(service.cluster.as_str())
                .and_then(|v| v.remove(&service.service))
                .unwrap_or_else(|| {
                    Err(Error::ServiceNotFound {
                        cluster: service.cluster.clone(),
                        service: service.service.clone(),
                        reason: "not described before the tick deadline".into(),
                    })
                });
            let missed = &missed;
            async move {
                let evaluation =
                    self.evaluate_service(service, reading, view, tick, options, tick_lag_ms, started);
                match tokio::time::timeout_at(deadline, evaluation).await {
                    Ok(record) => record,
                    Err(_) => {
                        let reason = missed("deciding; nothing more is done for this service this tick");
                        tracing::warn!(service = %service.id(), reason = %reason, "service left unfinished at the tick deadline");
                        DecisionRecord {
                            service: service.id(),
                            provider: service.provider.provider_name(),
                            visible: None,
                            in_flight: None,
                            delayed: None,
                            current_desired: None,
                            running: None,
                            new_desired: None,
                            action: Action::Hold,
                            reason,
                            cooldown_remaining_s: 0,
                            tick_due_ms: tick.due_ms,
                            tick_lag_ms,
                            duration_ms: started.elapsed().as_millis() as u64,
                            dry_run: options.dry_run,
                        }
                    }
                }
            }
        });
        join_all(evaluations).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn evaluate_service(
        &self,
        service: &ServiceConfig,
        reading: Result<QueueMetrics, ProviderError>,
        view: Result<ServiceView, Error>,
        tick: &Tick,
        options: EvaluateOptions,
        tick_lag_ms: i64,
        started: Instant,
    ) -> DecisionRecord {
        let metrics = reading.as_ref().ok().copied();
        let (decision, view) = match view {
            Err(e) => (
                Decision::hold(0, format_args!("cannot read the ECS service: {e}")),
                None,
            ),
            Ok(view) => {
                let decision = self.decide(service, &reading, &view, tick, options).await;
                (decision, Some(view))
            }
        };
        DecisionRecord {
            service: service.id(),
            provider: service.provider.provider_name(),
            visible: metrics.map(|m| m.visible),
            in_flight: metrics.map(|m| m.in_flight),
            delayed: metrics.map(|m| m.delayed),
            current_desired: view.as_ref().map(|v| v.desired),
            running: view.as_ref().map(|v| v.running),
            new_desired: view.as_ref().map(|_| decision.new_desired),
            action: decision.action,
            reason: decision.reason,
            cooldown_remaining_s: decision.cooldown_remaining_s,
            tick_due_ms: tick.due_ms,
            tick_lag_ms,
            duration_ms: started.elapsed().as_millis() as u64,
            dry_run: options.dry_run,
        }
    }

    /// Replaces an unreadable state with a fresh one whose repair time starts the
    /// scale-in cooldown. Without it, a corrupt object would deny scale-in until the
    /// next scale-out happened to rewrite it.
    async fn repair_state(
        &self,
        service: &ServiceConfig,
        stored: &Stored,
        decision: Decision,
        now: u64,
        tick: &Tick,
    ) -> Decision {
        let repaired = ServiceState::repaired(&service.cluster, &service.service, now, tick.due_ms);
        let problem = match stored {
            Stored::Corrupt { problem, .. } => problem.as_str(),
            _ => "unknown problem",
        };
        let outcome = match self.state.write(&repaired, stored).await {
            Ok(WriteOutcome::Written) => format!(
                "the state ({problem}) was replaced; scale-in is possible after one cooldown ({}s)",
                service.policy.scale_in_cooldown_s
            ),
            Ok(WriteOutcome::Conflict) => "another worker rewrote the state meanwhile".to_string(),
            Err(e) => format!("replacing the state failed: {e}"),
        };
        Decision {
            reason: format!("{}; {outcome}", decision.reason),
            ..decision
        }
    }

    /// Keeps a history-keeping policy's memory (and the tick it saw) in the state.
    /// A conflict means another worker recorded this service meanwhile, which is
    /// fine: the memory is a hint, never a claim.
    async fn remember(
        &self,
        service: &ServiceConfig,
        stored: &Stored,
        memory: Memory,
        tick: &Tick,
    ) {
        let mut next = stored.base(&service.cluster, &service.service);
        next.memory = memory;
        next.last_tick_due_ms = Some(tick.due_ms.max(next.last_tick_due_ms.unwrap_or(0)));
        if let Err(e) = self.state.write(&next, stored).await {
            tracing::warn!(service = %service.id(), error = %e, "could not keep the policy's samples; the next tick decides with older ones");
        }
    }

    /// The decision for one service whose ECS view was read.
    async fn decide(
        &self,
        service: &ServiceConfig,
        reading: &Result<QueueMetrics, ProviderError>,
        view: &ServiceView,
        tick: &Tick,
        options: EvaluateOptions,
    ) -> Decision {
        let current = view.desired;
        if view.status != "ACTIVE" {
            return Decision::hold(
                current,
                format_args!("the ECS service is {}, not ACTIVE", view.status),
            );
        }
        let failure = reading.as_ref().err().map(ToString::to_string);
        let now = now_ms();
        let observed = Observation {
            metrics: reading
                .as_ref()
                .map_err(|_| failure.as_deref().unwrap_or_default()),
            current,
            running: view.running,
            now_ms: now,
        };

        // A policy with history reads the state on every tick; the others only when
        // they propose a change, so a quiet system costs no S3 traffic.
        let needs_memory = service.policy.needs_memory();
        let mut stored = None;
        if needs_memory {
            match self.state.read(&service.cluster, &service.service).await {
                Ok(found) => stored = Some(found),
                Err(e) => {
                    return Decision::hold(
                        current,
                        format_args!(
                            "cannot read the scaling state this policy's history lives in: {e}"
                        ),
                    )
                }
            }
        }
        let memory = stored.as_ref().map(Stored::memory).unwrap_or_default();
        if let Some(seen) = stored.as_ref().and_then(|s| already_evaluated(s, tick)) {
            return Decision::stay(current, seen);
        }
        let (proposed, memory) = policy::recommend_with_memory(&service.policy, &observed, &memory);
        if !proposed.action.changes_count() && !needs_memory {
            return proposed;
        }

        let stored = match stored {
            Some(stored) => stored,
            None => match self.state.read(&service.cluster, &service.service).await {
                Ok(stored) => stored,
                Err(e) => {
                    return Decision::hold(
                        current,
                        format_args!("{}; cannot read the scaling state: {e}", proposed.reason),
                    )
                }
            },
        };
        if let Stored::Corrupt { problem, .. } = &stored {
            tracing::warn!(service = %service.id(), problem = %problem, "scaling state is unreadable: scale-in denied, the state will be replaced");
        }
        if let Some(seen) = already_evaluated(&stored, tick) {
            return Decision::stay(current, seen);
        }
        let decision = policy::apply_cooldown(
            &service.policy,
            proposed,
            stored.history(current),
            now,
            current,
        );
        if !decision.action.changes_count() {
            if options.dry_run {
                return decision;
            }
            if matches!(stored, Stored::Corrupt { .. }) {
                return self
                    .repair_state(service, &stored, decision, now, tick)
                    .await;
            }
            if needs_memory {
                self.remember(service, &stored, memory, tick).await;
            }
            return decision;
        }
        if options.dry_run {
            return Decision {
                reason: format!("{} (dry run: not applied)", decision.reason),
                ..decision
            };
        }

        // Claim the action in the state first; only the claimant calls UpdateService.
        let record = ActionRecord {
            action: decision.action,
            from: current,
            to: decision.new_desired,
            at_ms: now,
            tick_due_ms: tick.due_ms,
            reason: decision.reason.clone(),
        };
        let mut next = stored
            .base(&service.cluster, &service.service)
            .with_action(record);
        next.memory = memory;
        match self.state.write(&next, &stored).await {
            Err(e) => Decision::hold(current, format_args!("{}; cannot write the scaling state: {e}", decision.reason)),
            Ok(WriteOutcome::Conflict) => Decision {
                action: Action::None,
                new_desired: current,
                reason: format!(
                    "{}; not applied: another worker changed this service's state first (conditional write lost), so this one does not act",
                    decision.reason
                ),
                cooldown_remaining_s: decision.cooldown_remaining_s,
                emergency: false,
            },
            Ok(WriteOutcome::Written) => {
                match ecs::set_desired_count(&self.ecs, &service.cluster, &service.service, decision.new_desired).await {
                    Ok(()) => decision,
                    Err(e) => Decision::hold(
                        current,
                        format_args!("{}; UpdateService failed after the state recorded the action: {e}", decision.reason),
                    ),
                }
            }
        }
    }
}

/// Why a tick must not act: the state already records a tick due at or after it
/// (a duplicate delivery, or a late tick overtaken by a newer one).
fn already_evaluated(stored: &Stored, tick: &Tick) -> Option<String> {
    stored
        .last_tick_due_ms()
        .filter(|seen| *seen >= tick.due_ms)
        .map(|seen| format!("a tick due at {seen} ms was already evaluated for this service; this one is duplicate or late"))
}
