//! One tick's evaluation of a shard's services: straight-line I/O around the
//! core's tick machine (`fast_autoscaler_core::tick`), within the tick's
//! deadline.
//!
//! The machine decides everything: which describe calls each target kind's
//! budget allows, each target's decision through the protocol of
//! `fast_autoscaler_core::flow`, which changes go ahead and which wait, what to
//! read again before a change. The engine only does what it answers, and knows
//! targets only through their kind's client
//! (`fast_autoscaler_targets::TargetClient`): an ECS service and an Auto
//! Scaling group go through the same lines. A tick:
//!
//! 1. [`reads`]: the machine's describe calls, every provider, and the state
//!    bucket, all at once. A quiet tick costs one provider call per service,
//!    one ListObjectsV2 per 1,000 state objects (only the objects whose ETag
//!    changed since the last tick are read), and one describe call per batch
//!    of a kind's targets of one scope (ten ECS services of a cluster, fifty
//!    groups), as many as the kind's budget allows; the others are decided on
//!    the counts kept from an earlier tick (`fast_autoscaler_core::views`);
//! 2. each service observed by the machine, and its steps carried out by
//!    [`carry`], the one place that does what the machine asks: read a state,
//!    write one (a policy's memory, a repair, a claim, a released claim), set
//!    a count;
//! 3. the machine's actuation: the changes it grants carried out, those made
//!    on kept counts described again first, the others deferred with their
//!    place in line;
//! 4. the machine's outcomes become the decision records; the counts it read
//!    or set are kept for the next tick.
//!
//! Services are evaluated concurrently, and one service's failure only turns
//! that service's decision into `hold`.

mod carry;
mod reads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use fast_autoscaler_common::aws::AWS_ATTEMPT_TIMEOUT;
use fast_autoscaler_common::{Clock, SystemClock, Tick};
use fast_autoscaler_core::shards::shard_of;
use fast_autoscaler_core::state::ServiceState;
use fast_autoscaler_core::tick::{self as machine, Kept, Next, TickAt, TickTarget};
use fast_autoscaler_providers::{ProviderContext, QueueMetricsProvider};
use fast_autoscaler_targets::{TargetClient, TargetContext};

use crate::bounded_calls::bounded;
use crate::config::{AutoscalerConfig, ServiceConfig};
use crate::error::Error;
use crate::forecasts::{Forecasts, Learned};
use crate::record::{DecisionRecord, TickContext};
use crate::store::StateStore;

/// How an evaluation may act.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluateOptions {
    /// Decide and report, but call no UpdateService and write no state.
    pub dry_run: bool,
}

/// The worker's long-lived part: configuration and AWS clients, built once per cold start.
#[derive(Debug)]
pub struct Autoscaler {
    config: AutoscalerConfig,
    /// Each service's provider, built from its settings, in configuration order.
    providers: Vec<Arc<dyn QueueMetricsProvider>>,
    /// Each target kind's client, by kind: the kinds the services use.
    targets: HashMap<String, Arc<dyn TargetClient>>,
    state: StateStore,
    /// The state objects read at earlier ticks, by key, with their ETags: an
    /// object the listing shows unchanged is not read again.
    seen_states: tokio::sync::Mutex<HashMap<String, (String, ServiceState)>>,
    /// Each target's counts as last read (or set by this worker), by its
    /// service's index in the configuration.
    views: Mutex<HashMap<usize, Kept>>,
    /// Each anticipating service's recurring surges, learned and cached.
    forecasts: Forecasts,
    clock: Arc<dyn Clock>,
}

/// One tick's common facts, for every step.
struct TickRun<'a> {
    context: TickContext,
    deadline: tokio::time::Instant,
    deadline_after: std::time::Duration,
    /// The services of this tick's shard, by index in the configuration: the
    /// machine's target `i` is service `shard[i]`.
    shard: &'a [usize],
}

impl TickRun<'_> {
    /// The reason of what the tick's deadline cut short.
    fn missed(&self, what: &str) -> String {
        format!(
            "tick deadline of {} ms reached while {what}",
            self.deadline_after.as_millis()
        )
    }
}

/// The tick's machine, shared by the services' concurrent steps; each holds
/// it only to hand over what it read, never across a call.
type Machine<'a> = Mutex<machine::Tick<'a>>;

fn lock<'m, 'a>(machine: &'m Machine<'a>) -> MutexGuard<'m, machine::Tick<'a>> {
    // The machine is plain data: a step that panicked left nothing half-done
    // that another step could not go on from.
    machine
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Autoscaler {
    /// Builds the providers and the clients from the shared AWS configuration.
    pub fn new(config: AutoscalerConfig, aws: &aws_config::SdkConfig) -> Result<Self, Error> {
        let providers = config.build(ProviderContext { aws })?;
        let targets = config.build_targets(TargetContext { aws })?;
        let state = StateStore::from_sdk_config(aws, config.state_bucket.clone());
        let forecasts = Forecasts::new(
            aws_sdk_cloudwatch::Client::new(aws),
            state.client().clone(),
            config.state_bucket.clone(),
        );
        Ok(Autoscaler {
            forecasts,
            providers,
            targets,
            state,
            seen_states: tokio::sync::Mutex::new(HashMap::new()),
            views: Mutex::new(HashMap::new()),
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

    pub(crate) fn state_store(&self) -> &StateStore {
        &self.state
    }

    /// The client of target kind `kind`, if a service uses it.
    pub(crate) fn target_client(&self, kind: &str) -> Option<&dyn TargetClient> {
        self.targets.get(kind).map(|c| c.as_ref())
    }

    /// The services `tick` evaluates: its shard's (all of them when the fleet is
    /// not split), by index in the configuration.
    pub fn shard(&self, tick: &Tick) -> Vec<usize> {
        let services = self.config.services.iter().enumerate();
        services
            .filter(|(_, s)| shard_of(s.target_id(), tick.shards) == tick.shard)
            .map(|(i, _)| i)
            .collect()
    }

    /// Evaluates the services of `tick`'s shard and returns one record per
    /// service, in configuration order. Callers log them (see [`crate::emf`]).
    pub async fn evaluate(&self, tick: &Tick, options: EvaluateOptions) -> Vec<DecisionRecord> {
        let shard = self.shard(tick);
        // Every part of the tick races one deadline; what misses it becomes `hold`.
        let deadline_after = self.config.tick_deadline();
        let run = TickRun {
            context: TickContext {
                tick: *tick,
                lag_ms: self.clock.now_ms() as i64 - tick.due_ms as i64,
                started: Instant::now(),
                dry_run: options.dry_run,
            },
            deadline: tokio::time::Instant::now() + deadline_after,
            deadline_after,
            shard: &shard,
        };
        let machine = Mutex::new(self.machine(&run, options));
        let calls = lock(&machine).describes().to_vec();
        let (answers, metrics, states) = tokio::join!(
            self.describe(&run, &calls),
            self.read_queues(&run),
            self.read_states(&run)
        );
        for (call, answers) in answers.into_iter().enumerate() {
            lock(&machine).described(call, answers);
        }
        let learned = self.observe_all(&run, &machine, metrics, states).await;
        self.actuate(&run, &machine, &learned).await;
        let (outcomes, kept) = machine
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .finish();
        self.keep_views(&shard, kept);
        // Anticipation's own histories get what this tick's state writes noted.
        let services: Vec<&ServiceConfig> =
            shard.iter().map(|&i| &self.config.services[i]).collect();
        let adding = self.forecasts.add_notes(&services, self.clock.now_ms());
        if tokio::time::timeout_at(run.deadline, adding).await.is_err() {
            tracing::warn!("the tick's deadline cut short adding arrivals to own histories; they wait for the next tick");
        }
        (services.into_iter().zip(outcomes))
            .map(|(service, outcome)| {
                let metrics = outcome.metrics.as_ref().and_then(|m| m.as_ref().ok());
                DecisionRecord::new(
                    service,
                    &run.context,
                    outcome.decision,
                    metrics,
                    outcome.view.as_ref(),
                )
            })
            .collect()
    }

    /// The tick's machine over the shard's targets, with the counts kept.
    fn machine(&self, run: &TickRun<'_>, options: EvaluateOptions) -> machine::Tick<'_> {
        let kept = self.views.lock().map(|v| v.clone()).unwrap_or_default();
        let targets = run
            .shard
            .iter()
            .map(|&index| {
                let service = &self.config.services[index];
                TickTarget {
                    id: service.target_id(),
                    policy: &service.policy,
                    budget: self.config.budget(service.kind()),
                    kept: kept.get(&index).cloned(),
                }
            })
            .collect();
        let at = TickAt {
            now_ms: self.clock.now_ms(),
            tick_due_ms: run.context.tick.due_ms,
            lease_ms: self.lease_ms(),
            interval_s: self.config.tick_interval_s,
            shards: run.context.tick.shards,
            dry_run: options.dry_run,
        };
        machine::Tick::new(targets, at)
    }

    /// Every service of the shard observed by the machine, its learned surges
    /// fetched first, and its steps carried out, each within the deadline.
    /// Answers each one's learned surges, for deciding again.
    async fn observe_all(
        &self,
        run: &TickRun<'_>,
        machine: &Machine<'_>,
        metrics: Vec<Result<fast_autoscaler_core::QueueMetrics, String>>,
        states: Vec<Result<fast_autoscaler_core::state::Stored, String>>,
    ) -> Vec<Option<Arc<Learned>>> {
        let inputs = metrics.into_iter().zip(states).enumerate();
        bounded(inputs.map(|(i, (metrics, stored))| async move {
            let service = &self.config.services[run.shard[i]];
            let observing = async {
                let learned = self.forecasts.pattern(service, self.clock.now_ms()).await;
                let pattern = learned.as_ref().map(|l| &l.pattern);
                let next = lock(machine).observe(i, metrics, stored, pattern);
                self.carry_out(run, machine, i, next).await;
                learned
            };
            match tokio::time::timeout_at(run.deadline, observing).await {
                Ok(learned) => learned,
                Err(_) => {
                    self.cut_short(run, machine, i);
                    None
                }
            }
        }))
        .await
    }

    /// The machine's actuation: the granted changes made, those on kept counts
    /// described again and decided again first, the others deferred.
    async fn actuate(
        &self,
        run: &TickRun<'_>,
        machine: &Machine<'_>,
        learned: &[Option<Arc<Learned>>],
    ) {
        let actuation = lock(machine).actuate();
        let steps = actuation.steps.into_iter();
        let carried = bounded(steps.map(|(i, next)| self.carry_out_in_time(run, machine, i, next)));
        let (answers, _) = tokio::join!(self.describe(run, &actuation.rereads), carried);
        let pattern = |i: usize| learned.get(i).and_then(|l| l.as_ref()).map(|l| &l.pattern);
        let again: Vec<(usize, Next)> = answers
            .into_iter()
            .enumerate()
            .flat_map(|(call, answers)| lock(machine).reread(call, answers, &pattern))
            .collect();
        bounded(
            again
                .into_iter()
                .map(|(i, next)| self.carry_out_in_time(run, machine, i, next)),
        )
        .await;
    }

    /// Target `i`'s steps, within the deadline.
    async fn carry_out_in_time(
        &self,
        run: &TickRun<'_>,
        machine: &Machine<'_>,
        i: usize,
        next: Next,
    ) {
        let carrying = self.carry_out(run, machine, i, next);
        if tokio::time::timeout_at(run.deadline, carrying)
            .await
            .is_err()
        {
            self.cut_short(run, machine, i);
        }
    }

    /// Target `i`, cut short by the deadline.
    fn cut_short(&self, run: &TickRun<'_>, machine: &Machine<'_>, i: usize) {
        let service = &self.config.services[run.shard[i]];
        let reason = run.missed("deciding; nothing more is done for this service this tick");
        tracing::warn!(service = %service.id(), reason = %reason, "service left unfinished at the tick deadline");
        lock(machine).unfinished(i, reason);
    }

    /// Keeps the counts the machine read or set, by configuration index.
    fn keep_views(&self, shard: &[usize], kept: Vec<(usize, Kept)>) {
        if let Ok(mut views) = self.views.lock() {
            for (i, view) in kept {
                views.insert(shard[i], view);
            }
        }
    }

    /// How long this worker's claims are held: its tick deadline, plus one AWS
    /// attempt that may still land after the deadline cancelled it.
    fn lease_ms(&self) -> u64 {
        (self.config.tick_deadline() + AWS_ATTEMPT_TIMEOUT).as_millis() as u64
    }
}
