//! One tick's evaluation of every configured service: the I/O around the core's
//! decision protocol (`fast_autoscaler_core::flow`).
//!
//! Per tick, every provider, every cluster and the state bucket are read at once:
//! one provider call per service, `ceil(N/10)` DescribeServices calls per
//! cluster, and one ListObjectsV2 per 1,000 state objects, after which only the
//! state objects whose ETag changed since the last tick are read (GetObject). The
//! states are looked at on every tick because an operator's pause must hold from
//! the next tick on (and policies with history keep their samples there); doing
//! it beside the queue costs no latency, and listing keeps a quiet tick's cost
//! flat. The
//! pure flow then decides; only a change writes the state (the claim) and calls
//! UpdateService. Services are evaluated concurrently and one service's failure
//! only turns that service's decision into `hold`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use fast_autoscaler_common::aws::AWS_ATTEMPT_TIMEOUT;
use fast_autoscaler_common::{Clock, SystemClock, Tick};
use fast_autoscaler_core::flow::{self, Effect, Settled, Step};
use fast_autoscaler_core::policy::{Action, Decision, Observation};
use fast_autoscaler_core::state::{ServiceState, Stored};
use fast_autoscaler_providers::{
    ProviderContext, ProviderError, QueueMetrics, QueueMetricsProvider,
};

use crate::bounded_calls::bounded;
use crate::config::{AutoscalerConfig, ServiceConfig};
use crate::ecs::{self, ServiceView};
use crate::error::Error;
use crate::record::{DecisionRecord, TickContext};
use crate::store::{StateStore, WriteOutcome};

/// How an evaluation may act.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluateOptions {
    /// Decide and report, but call no UpdateService and write no state.
    pub dry_run: bool,
}

/// What was read for each cluster's services this tick.
type Described = HashMap<String, Result<ServiceView, Error>>;

/// Everything read for one service this tick.
struct Read {
    reading: Result<QueueMetrics, ProviderError>,
    view: Result<ServiceView, Error>,
    stored: Result<Stored, Error>,
}

/// The worker's long-lived part: configuration and AWS clients, built once per cold start.
#[derive(Debug)]
pub struct Autoscaler {
    config: AutoscalerConfig,
    /// Each service's provider, built from its settings, in configuration order.
    providers: Vec<Arc<dyn QueueMetricsProvider>>,
    /// The configured service names of each cluster, grouped once at cold start
    /// for the batched DescribeServices of every tick.
    services_by_cluster: Vec<(String, Vec<String>)>,
    ecs: aws_sdk_ecs::Client,
    state: StateStore,
    /// The state objects read at earlier ticks, by key, with their ETags: an
    /// object the listing shows unchanged is not read again.
    seen_states: tokio::sync::Mutex<HashMap<String, (String, ServiceState)>>,
    clock: Arc<dyn Clock>,
}

impl Autoscaler {
    /// Builds the providers and the clients from the shared AWS configuration.
    pub fn new(config: AutoscalerConfig, aws: &aws_config::SdkConfig) -> Result<Self, Error> {
        let providers = config.build(ProviderContext { aws })?;
        let state = StateStore::from_sdk_config(aws, config.state_bucket.clone());
        Ok(Autoscaler {
            providers,
            ecs: aws_sdk_ecs::Client::new(aws),
            state,
            services_by_cluster: group_by_cluster(&config),
            seen_states: tokio::sync::Mutex::new(HashMap::new()),
            config,
            clock: Arc::new(SystemClock),
        })
    }

    /// The same, deciding against `clock` (tests move time instead of sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn config(&self) -> &AutoscalerConfig {
        &self.config
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Evaluates every service for `tick` and returns one record per service, in
    /// configuration order. Callers log them (see [`crate::emf`]).
    pub async fn evaluate(&self, tick: &Tick, options: EvaluateOptions) -> Vec<DecisionRecord> {
        let context = TickContext {
            tick: *tick,
            lag_ms: self.clock.now_ms() as i64 - tick.due_ms as i64,
            started: Instant::now(),
            dry_run: options.dry_run,
        };
        // Every part of the tick races one deadline; what misses it becomes `hold`.
        let deadline_after = self.config.tick_deadline();
        let deadline = tokio::time::Instant::now() + deadline_after;
        let missed = |what: &str| {
            format!(
                "tick deadline of {} ms reached while {what}",
                deadline_after.as_millis()
            )
        };
        let (readings, mut described, states) = self.read_all(deadline, &missed).await;
        let context = &context;
        let evaluations = self
            .config
            .services
            .iter()
            .zip(readings.into_iter().zip(states))
            .map(|(service, (reading, stored))| {
                let view = described
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
                        self.evaluate_service(service, Read { reading, view, stored }, context);
                    tokio::time::timeout_at(deadline, evaluation)
                        .await
                        .unwrap_or_else(|_| {
                            let reason = missed(
                                "deciding; nothing more is done for this service this tick",
                            );
                            tracing::warn!(service = %service.id(), reason = %reason, "service left unfinished at the tick deadline");
                            let decision = Decision {
                                action: Action::Hold,
                                new_desired: 0,
                                reason,
                                cooldown_remaining_s: 0,
                                emergency: false,
                                applied: false,
                                paused: false,
                            };
                            DecisionRecord::new(service, context, decision, None, None)
                        })
                }
            });
        bounded(evaluations).await
    }

    /// Every provider read and every cluster described at once, within the deadline.
    async fn read_all(
        &self,
        deadline: tokio::time::Instant,
        missed: &dyn Fn(&str) -> String,
    ) -> (
        Vec<Result<QueueMetrics, ProviderError>>,
        HashMap<String, Described>,
        Vec<Result<Stored, Error>>,
    ) {
        let services = self.config.services.iter().zip(&self.providers);
        let metrics = bounded(services.map(|(s, provider)| async move {
            tokio::time::timeout_at(deadline, provider.metrics())
                .await
                .unwrap_or_else(|_| {
                    Err(ProviderError::Unavailable {
                        provider: provider.provider_name(),
                        target: s.id(),
                        message: missed("reading the queue"),
                    })
                })
        }));
        let views = bounded(
            self.services_by_cluster
                .iter()
                .map(|(cluster, names)| async move {
                    let described = tokio::time::timeout_at(
                        deadline,
                        ecs::describe_services(&self.ecs, cluster, names),
                    )
                    .await
                    .unwrap_or_default();
                    (cluster.clone(), described)
                }),
        );
        let states = self.read_states(deadline, missed);
        let (metrics, views, states) = tokio::join!(metrics, views, states);
        (metrics, views.into_iter().collect(), states)
    }

    /// Every service's state: the bucket listed once, and only the objects whose
    /// ETag changed since the last tick read (all of them if listing fails).
    async fn read_states(
        &self,
        deadline: tokio::time::Instant,
        missed: &dyn Fn(&str) -> String,
    ) -> Vec<Result<Stored, Error>> {
        let now_ms = self.clock.now_ms();
        let listing = match tokio::time::timeout_at(deadline, self.state.list_etags()).await {
            Ok(Ok(listing)) => Some(listing),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot list the state objects; reading each one");
                None
            }
            Err(_) => None,
        };
        // Held for the tick: one evaluation at a time reads and updates it.
        let mut seen = self.seen_states.lock().await;
        let known = &*seen;
        let states = bounded(self.config.services.iter().map(|s| {
            let key = StateStore::key(&s.cluster, &s.service);
            let listed = listing.as_ref().map(|l| l.get(&key));
            let unchanged = match listed {
                Some(Some(etag)) => known.get(&key).filter(|(e, _)| e == etag),
                _ => None,
            };
            async move {
                match (listed, unchanged) {
                    (Some(None), _) => Ok(Stored::Missing),
                    (_, Some((etag, state))) => Ok(Stored::Found {
                        state: state.clone(),
                        etag: etag.clone(),
                    }),
                    _ => tokio::time::timeout_at(deadline, self.read_state(s, now_ms))
                        .await
                        .unwrap_or_else(|_| {
                            Err(Error::State {
                                bucket: self.config.state_bucket.clone(),
                                key,
                                message: missed("reading the state"),
                            })
                        }),
                }
            }
        }))
        .await;
        for (service, stored) in self.config.services.iter().zip(&states) {
            if let Ok(Stored::Found { state, etag }) = stored {
                let key = StateStore::key(&service.cluster, &service.service);
                seen.insert(key, (etag.clone(), state.clone()));
            }
        }
        states
    }

    async fn evaluate_service(
        &self,
        service: &ServiceConfig,
        read: Read,
        context: &TickContext,
    ) -> DecisionRecord {
        let Read {
            reading,
            view,
            stored,
        } = read;
        let metrics = reading.as_ref().ok();
        match view {
            Err(e) => {
                let decision = Decision::hold(0, format_args!("cannot read the ECS service: {e}"));
                DecisionRecord::new(service, context, decision, metrics, None)
            }
            Ok(view) => {
                let decision = self.decide(service, &reading, &view, stored, context).await;
                DecisionRecord::new(service, context, decision, metrics, Some(&view))
            }
        }
    }

    /// The decision for one service whose ECS view was read.
    async fn decide(
        &self,
        service: &ServiceConfig,
        reading: &Result<QueueMetrics, ProviderError>,
        view: &ServiceView,
        stored: Result<Stored, Error>,
        context: &TickContext,
    ) -> Decision {
        if view.status != "ACTIVE" {
            return Decision::hold(
                view.desired,
                format_args!("the ECS service is {}, not ACTIVE", view.status),
            );
        }
        let failure = reading.as_ref().err().map(ToString::to_string);
        let observed = Observation {
            metrics: reading
                .as_ref()
                .map_err(|_| failure.as_deref().unwrap_or_default()),
            current: view.desired,
            running: view.running,
            now_ms: self.clock.now_ms(),
        };
        self.run_flow(service, &observed, stored, context).await
    }

    /// The pure flow on the state read this tick. A failed read holds a policy
    /// with history; the others decide without it, and read it again only when
    /// they propose a change.
    async fn run_flow(
        &self,
        service: &ServiceConfig,
        observed: &Observation<'_>,
        stored: Result<Stored, Error>,
        context: &TickContext,
    ) -> Decision {
        let (policy, current, now) = (&service.policy, observed.current, observed.now_ms);
        let due_ms = context.tick.due_ms;
        let stored = match stored {
            Ok(found) => Some(found),
            Err(e) if flow::reads_state_every_tick(policy) => {
                return Decision::hold(
                    current,
                    format_args!(
                        "cannot read the scaling state this policy's history lives in: {e}"
                    ),
                )
            }
            Err(e) => {
                tracing::warn!(service = %service.id(), error = %e, "cannot read the scaling state; deciding without it (a pause set meanwhile is not seen)");
                None
            }
        };
        let pending = match flow::propose(policy, observed, stored.as_ref(), due_ms) {
            Step::Done(decision) => return decision,
            Step::NeedsState(pending) => pending,
        };
        let stored = match stored {
            Some(stored) => stored,
            None => match self.read_state(service, now).await {
                Ok(stored) => stored,
                Err(e) => {
                    let why = format!(
                        "{}; cannot read the scaling state: {e}",
                        pending.proposed().reason
                    );
                    return Decision::hold(current, why);
                }
            },
        };
        let at = flow::At {
            cluster: &service.cluster,
            service: &service.service,
            now_ms: now,
            tick_due_ms: due_ms,
            current,
            lease_ms: self.lease_ms(),
        };
        let settled = pending.settle(&stored, at);
        if context.dry_run {
            return dry_run(settled.decision);
        }
        self.carry_out(service, settled, &stored, current).await
    }

    /// How long this worker's claims are held: its tick deadline, plus one AWS
    /// attempt that may still land after the deadline cancelled it.
    fn lease_ms(&self) -> u64 {
        (self.config.tick_deadline() + AWS_ATTEMPT_TIMEOUT).as_millis() as u64
    }

    async fn read_state(&self, service: &ServiceConfig, now_ms: u64) -> Result<Stored, Error> {
        let stored = self
            .state
            .read(&service.cluster, &service.service, now_ms)
            .await?;
        if let Stored::Corrupt { problem, .. } = &stored {
            tracing::warn!(service = %service.id(), problem = %problem, "scaling state is unreadable: scale-in denied, the state will be replaced");
        }
        Ok(stored)
    }

    /// Writes what the flow settled on, and for a claimed action sets desiredCount.
    async fn carry_out(
        &self,
        service: &ServiceConfig,
        settled: Settled,
        stored: &Stored,
        current: u32,
    ) -> Decision {
        let Settled { decision, effect } = settled;
        match effect {
            Effect::None => decision,
            Effect::Remember(next) => {
                if let Err(e) = self.state.write(&next, stored).await {
                    tracing::warn!(service = %service.id(), error = %e, "could not keep the policy's samples; the next tick decides with older ones");
                }
                decision
            }
            Effect::Repair(repaired) => self.repair(service, decision, &repaired, stored).await,
            Effect::Claim(claim) => self.claim(service, decision, &claim, stored, current).await,
        }
    }

    /// Replaces an unreadable state with a fresh one whose repair time starts the
    /// scale-in cooldown. Without it, a corrupt object would deny scale-in until the
    /// next scale-out happened to rewrite it.
    async fn repair(
        &self,
        service: &ServiceConfig,
        decision: Decision,
        repaired: &ServiceState,
        stored: &Stored,
    ) -> Decision {
        let problem = match stored {
            Stored::Corrupt { problem, .. } => problem.as_str(),
            _ => "unknown problem",
        };
        let outcome = match self.state.write(repaired, stored).await {
            Ok(WriteOutcome::Written { .. }) => format!(
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

    /// Claims the action in the state first; only the claimant calls UpdateService.
    async fn claim(
        &self,
        service: &ServiceConfig,
        decision: Decision,
        claim: &ServiceState,
        stored: &Stored,
        current: u32,
    ) -> Decision {
        match self.state.write(claim, stored).await {
            Err(e) => Decision::hold(
                current,
                format_args!("{}; cannot write the scaling state: {e}", decision.reason),
            ),
            Ok(WriteOutcome::Conflict) => decision.withheld(
                current,
                Action::None,
                "stood down: another worker changed this service's state first (conditional write lost)",
            ),
            Ok(WriteOutcome::Written { etag }) => {
                let to = decision.new_desired;
                match ecs::set_desired_count(&self.ecs, &service.cluster, &service.service, to).await {
                    Ok(()) => Decision {
                        applied: true,
                        ..decision
                    },
                    Err(e) => {
                        let released = self.release(service, claim, etag).await;
                        Decision::hold(
                            current,
                            format_args!(
                                "{}; UpdateService failed after the state recorded the action: {e}; {released}",
                                decision.reason
                            ),
                        )
                    }
                }
            }
        }
    }

    /// Releases this worker's claim after its UpdateService failed, so the next
    /// tick redoes the change instead of waiting out the lease. Conditional on the
    /// claim still being the stored object: if anything changed it, that stands.
    async fn release(&self, service: &ServiceConfig, claim: &ServiceState, etag: String) -> String {
        let released = claim.with_lease_released(self.clock.now_ms());
        let ours = Stored::Found {
            state: claim.clone(),
            etag,
        };
        match self.state.write(&released, &ours).await {
            Ok(WriteOutcome::Written { .. }) => {
                "the claim was released, so the next tick redoes it".into()
            }
            Ok(WriteOutcome::Conflict) => {
                "the state changed meanwhile; the claim was left as it is".into()
            }
            Err(e) => {
                tracing::warn!(service = %service.id(), error = %e, "could not release a failed claim; it expires with its lease");
                format!("releasing the claim failed ({e}); it expires with its lease")
            }
        }
    }
}

/// A dry run's decision: nothing written, nothing applied, and the reason says so.
fn dry_run(decision: Decision) -> Decision {
    if !decision.action.changes_count() {
        return decision;
    }
    Decision {
        reason: format!("{} (dry run: not applied)", decision.reason),
        ..decision
    }
}

/// The configured service names of each cluster, in configuration order.
fn group_by_cluster(config: &AutoscalerConfig) -> Vec<(String, Vec<String>)> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for s in &config.services {
        match grouped
            .iter_mut()
            .find(|(cluster, _)| *cluster == s.cluster)
        {
            Some((_, names)) if names.contains(&s.service) => {}
            Some((_, names)) => names.push(s.service.clone()),
            None => grouped.push((s.cluster.clone(), vec![s.service.clone()])),
        }
    }
    grouped
}
