//! One tick's evaluation of a shard's services: the I/O around the core's
//! decision protocol (`fast_autoscaler_core::flow`), within the tick's deadline
//! and the ECS budget (`fast_autoscaler_core::budget`).
//!
//! A tick runs in three steps, each over every service of its shard at once:
//!
//! 1. [`reads`]: every provider, the state bucket, and the services' desired and
//!    running counts from ECS. A quiet tick costs one provider call per service,
//!    one ListObjectsV2 per 1,000 state objects (only the objects whose ETag
//!    changed since the last tick are read), and one DescribeServices per 10
//!    services of a cluster, as many as the tick's budget allows; when it cannot
//!    describe them all, the others are decided on the counts kept from an
//!    earlier tick (`fast_autoscaler_core::views`).
//! 2. [`decide`]: the core's protocol for each service; what it writes without
//!    changing a count (a policy's memory, a repaired state) is written here.
//! 3. [`actuation`]: the changes, the most urgent first, as many as the tick's
//!    UpdateService budget allows: each is claimed in its state with a
//!    conditional write, then applied. A change decided on kept counts is
//!    described again first. The rest wait for the next tick, and say so.
//!
//! Services are evaluated concurrently, and one service's failure only turns that
//! service's decision into `hold`.

mod actuation;
mod decide;
mod reads;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use fast_autoscaler_common::aws::AWS_ATTEMPT_TIMEOUT;
use fast_autoscaler_common::{Clock, SystemClock, Tick};
use fast_autoscaler_core::policy::{Action, Decision};
use fast_autoscaler_core::shards::shard_of;
use fast_autoscaler_core::state::{ServiceState, Stored};
use fast_autoscaler_providers::{ProviderContext, QueueMetricsProvider};

use crate::bounded_calls::bounded;
use crate::config::{AutoscalerConfig, ServiceConfig};
use crate::ecs::ServiceView;
use crate::error::Error;
use crate::forecasts::Forecasts;
use crate::record::{DecisionRecord, TickContext};
use crate::store::{StateStore, WriteOutcome};

use decide::Outcome;

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
    ecs: aws_sdk_ecs::Client,
    state: StateStore,
    /// The state objects read at earlier ticks, by key, with their ETags: an
    /// object the listing shows unchanged is not read again.
    seen_states: tokio::sync::Mutex<HashMap<String, (String, ServiceState)>>,
    /// Each service's counts as last read from ECS (or set by this worker), by
    /// its index in the configuration, with when they were read.
    views: std::sync::Mutex<HashMap<usize, (ServiceView, u64)>>,
    /// Each anticipating service's recurring surges, learned and cached.
    forecasts: Forecasts,
    clock: Arc<dyn Clock>,
}

/// One tick's common facts, for every step.
struct TickRun<'a> {
    context: TickContext,
    deadline: tokio::time::Instant,
    deadline_after: std::time::Duration,
    /// The services of this tick's shard, by index in the configuration.
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

impl Autoscaler {
    /// Builds the providers and the clients from the shared AWS configuration.
    pub fn new(config: AutoscalerConfig, aws: &aws_config::SdkConfig) -> Result<Self, Error> {
        let providers = config.build(ProviderContext { aws })?;
        let state = StateStore::from_sdk_config(aws, config.state_bucket.clone());
        let forecasts = Forecasts::new(
            aws_sdk_cloudwatch::Client::new(aws),
            state.client().clone(),
            config.state_bucket.clone(),
        );
        Ok(Autoscaler {
            forecasts,
            providers,
            ecs: aws_sdk_ecs::Client::new(aws),
            state,
            seen_states: tokio::sync::Mutex::new(HashMap::new()),
            views: std::sync::Mutex::new(HashMap::new()),
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

    /// The services `tick` evaluates: its shard's (all of them when the fleet is
    /// not split), by index in the configuration.
    pub fn shard(&self, tick: &Tick) -> Vec<usize> {
        let services = self.config.services.iter().enumerate();
        services
            .filter(|(_, s)| shard_of(&s.cluster, &s.service, tick.shards) == tick.shard)
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
        let allowance = self
            .config
            .ecs_budget
            .allowance(self.config.tick_interval_s, tick.shards);
        let read = self.read_inputs(&run, allowance).await;
        let reads_left = allowance
            .describe_calls
            .saturating_sub(read.describe_calls_made);
        let outcomes = bounded(
            shard
                .iter()
                .zip(read.inputs)
                .map(|(&index, input)| self.decide_in_time(&run, index, input)),
        )
        .await;
        let mut records: Vec<Option<DecisionRecord>> = Vec::with_capacity(outcomes.len());
        let mut changes = Vec::new();
        for (position, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                Outcome::Done(record) => records.push(Some(*record)),
                Outcome::Change(change) => {
                    records.push(None);
                    changes.push((position, *change));
                }
            }
        }
        let carried = self
            .actuate(&run, changes, allowance.updates, reads_left)
            .await;
        for (position, record) in carried {
            records[position] = Some(record);
        }
        // Anticipation's own histories get what this tick's state writes noted.
        let services: Vec<&ServiceConfig> =
            shard.iter().map(|&i| &self.config.services[i]).collect();
        let adding = self.forecasts.add_notes(&services, self.clock.now_ms());
        if tokio::time::timeout_at(run.deadline, adding).await.is_err() {
            tracing::warn!("the tick's deadline cut short adding arrivals to own histories; they wait for the next tick");
        }
        records.into_iter().flatten().collect()
    }

    /// One service's decision, or a `hold` once the tick's deadline has passed.
    async fn decide_in_time(
        &self,
        run: &TickRun<'_>,
        index: usize,
        input: reads::Input,
    ) -> Outcome {
        let service = &self.config.services[index];
        let deciding = self.decide(run, index, input);
        match tokio::time::timeout_at(run.deadline, deciding).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Done(Box::new(self.unfinished(run, service))),
        }
    }

    /// The record of a service the tick's deadline cut short.
    fn unfinished(&self, run: &TickRun<'_>, service: &ServiceConfig) -> DecisionRecord {
        let reason = run.missed("deciding; nothing more is done for this service this tick");
        tracing::warn!(service = %service.id(), reason = %reason, "service left unfinished at the tick deadline");
        let decision = Decision {
            action: Action::Hold,
            new_desired: 0,
            reason,
            cooldown_remaining_s: 0,
            emergency: false,
            applied: false,
            paused: false,
            prewarm: None,
        };
        DecisionRecord::new(service, &run.context, decision, None, None)
    }

    /// Writes `next` over `stored`, conditionally; a write that lands notes
    /// the arrivals between the two states' readings for anticipation's own
    /// history (see [`Forecasts::note`]).
    async fn write_state(
        &self,
        service: &ServiceConfig,
        next: &ServiceState,
        stored: &Stored,
    ) -> Result<WriteOutcome, Error> {
        let outcome = self.state.write(next, stored).await;
        if let Ok(WriteOutcome::Written { .. }) = &outcome {
            self.forecasts.note(service, stored, next);
        }
        outcome
    }

    /// How long this worker's claims are held: its tick deadline, plus one AWS
    /// attempt that may still land after the deadline cancelled it.
    fn lease_ms(&self) -> u64 {
        (self.config.tick_deadline() + AWS_ATTEMPT_TIMEOUT).as_millis() as u64
    }
}
