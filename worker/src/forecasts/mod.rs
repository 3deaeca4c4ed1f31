//! The adapter that gives anticipation its history: each service's recurring
//! surges (`fast_autoscaler_core::forecast::Pattern`), learned from its
//! queue's arrivals and cached.
//!
//! Where the arrivals come from:
//!
//! - [`cloudwatch`]: the queue's own arrivals metric, when its provider names
//!   one (SQS `NumberOfMessagesSent`, Kinesis `IncomingRecords`, ActiveMQ
//!   `EnqueueCount`): up to 14 days of one-minute sums (CloudWatch keeps
//!   one-minute data for 15), one `GetMetricData` call of about 20,000
//!   datapoints;
//! - [`own_history`]: otherwise the worker's own estimates from the policy's
//!   readings, noted with every state write that lands ([`Forecasts::note`]),
//!   which each worker adds to a history object in the state bucket when it
//!   learns.
//!
//! A pattern changes slowly, so it is learned at most every [`REFRESH_MS`] per
//! service, not every tick:
//!
//! 1. a warm container keeps each service's pattern in memory;
//! 2. a cold one reads the pattern another container learned from CloudWatch,
//!    from the state bucket (`forecasts/<cluster>/<service>.json`), one GetObject;
//! 3. only when both are older than [`REFRESH_MS`] is CloudWatch asked again,
//!    and the result written back for the others. (An own history is read,
//!    added to and learned from at each refresh: `<service>.history.json`.)
//!
//! Concurrent containers may learn the same pattern twice and both write it;
//! it is a cache, so the last write is as good as the first.
//!
//! Everything here is bounded by [`LEARN_WITHIN`] and fails safe: anticipation
//! only adds tasks, so a pattern that cannot be read leaves the service to the
//! reactive rule (with the stale pattern, if one is kept), never to less, and
//! is tried again [`RETRY_AFTER_MS`] later, not at every tick.

mod cloudwatch;
mod objects;
mod own_history;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fast_autoscaler_core::forecast::estimate::{arrived_between, Reading};
use fast_autoscaler_core::forecast::{Arrivals, Learner, Pattern};
use fast_autoscaler_core::policy::Sample;
use fast_autoscaler_core::settings::{AnticipationMode, PolicyKind};
use fast_autoscaler_core::state::{ServiceState, Stored};
use fast_autoscaler_providers::ArrivalsMetric;
use serde::{Deserialize, Serialize};

use crate::config::ServiceConfig;

/// How old a pattern may be before it is learned again: 5 minutes.
pub const REFRESH_MS: u64 = 5 * 60 * 1000;
/// The newest minutes the history may still be adding to, left out: a minute
/// counted short would look like a surge that did not come.
const UNSETTLED_MINUTES: u64 = 3;
/// The longest a tick waits for a pattern, out of its deadline.
pub const LEARN_WITHIN: Duration = Duration::from_secs(2);
/// After a failure to learn, how long the pattern kept (or none) is used
/// before trying again: a broken history costs a call a minute, not one a tick.
pub const RETRY_AFTER_MS: u64 = 60_000;
/// Where patterns live in the state bucket.
pub const FORECAST_PREFIX: &str = "forecasts";
/// How a pattern learned from the worker's own readings names its source.
const OWN_READINGS: &str = "the worker's own readings";

/// A learned pattern, with when and from what, as the bucket keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Learned {
    pub learned_at_ms: u64,
    /// The arrivals metric as [`ArrivalsMetric`] displays it, or the worker's
    /// own readings.
    pub metric: String,
    pub pattern: Pattern,
}

/// Each service's pattern, learned and cached.
#[derive(Debug)]
pub struct Forecasts {
    cloudwatch: aws_sdk_cloudwatch::Client,
    s3: aws_sdk_s3::Client,
    bucket: String,
    /// By service id.
    kept: Mutex<HashMap<String, Arc<Learned>>>,
    /// When learning last failed, by service id.
    failed_at_ms: Mutex<HashMap<String, u64>>,
    /// What this container's state writes noted for own histories, not yet
    /// added to them.
    pending: own_history::Pending,
}

impl Forecasts {
    pub fn new(
        cloudwatch: aws_sdk_cloudwatch::Client,
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
    ) -> Self {
        Forecasts {
            cloudwatch,
            s3,
            bucket: bucket.into(),
            kept: Mutex::new(HashMap::new()),
            failed_at_ms: Mutex::new(HashMap::new()),
            pending: own_history::Pending::default(),
        }
    }

    /// The bucket key of a service's pattern.
    pub fn key(service: &ServiceConfig) -> String {
        format!("{FORECAST_PREFIX}/{}.json", service.id())
    }

    /// The bucket key of a service's own history.
    pub fn history_key(service: &ServiceConfig) -> String {
        format!("{FORECAST_PREFIX}/{}.history.json", service.id())
    }

    /// Notes what arrived between the policy's last reading in `before` and
    /// the one `after` adds, once `after` has been written over `before`, for
    /// an anticipating service whose queue publishes no arrivals metric. Each
    /// state write is conditional on the one it replaces, so every interval
    /// between two readings is noted once, by the worker whose write landed,
    /// however many evaluate the same tick. No I/O: the minutes are added to
    /// the history at the next refresh.
    pub fn note(&self, service: &ServiceConfig, before: &Stored, after: &ServiceState) {
        let PolicyKind::Predictive {
            task_throughput, ..
        } = service.policy.kind
        else {
            return;
        };
        let anticipates = service.policy.anticipation.mode != AnticipationMode::Off;
        if !anticipates || service.provider.arrivals_metric().is_some() {
            return;
        }
        let memory = before.memory();
        let (Some(last), Some(now)) = (memory.samples.last(), after.memory.samples.last()) else {
            return;
        };
        let mu = after
            .memory
            .throughput_micro
            .map_or(task_throughput, |m| m as f64 / 1e6);
        let reading = |s: &Sample| Reading {
            at_ms: s.at_ms,
            backlog: s.backlog,
            busy: s.busy,
            dequeued: s.dequeued,
        };
        let spread = arrived_between(&reading(last), &reading(now), mu);
        self.pending.note(service.id(), spread);
    }

    /// The pattern `service` is anticipated with at `now_ms`, if it
    /// anticipates; learned again when older than [`REFRESH_MS`]. Never fails:
    /// what cannot be learned is logged, and the pattern kept (if any) is used.
    pub async fn pattern(&self, service: &ServiceConfig, now_ms: u64) -> Option<Arc<Learned>> {
        if service.policy.anticipation.mode == AnticipationMode::Off {
            return None;
        }
        let metric = service.provider.arrivals_metric();
        let source = metric
            .as_ref()
            .map_or(OWN_READINGS.into(), |m| m.to_string());
        let kept = self.kept(service, &source, now_ms);
        if let Some(fresh) = kept.as_ref().filter(|k| fresh(k, now_ms)) {
            return Some(fresh.clone());
        }
        let id = service.id();
        let failed_at = self.failures().get(&id).copied();
        if failed_at.is_some_and(|at| now_ms.saturating_sub(at) < RETRY_AFTER_MS) {
            return kept;
        }
        let learning = async {
            match &metric {
                Some(metric) => self.learn_from_cloudwatch(service, metric, now_ms).await,
                None => self.learn_from_own_history(service, now_ms).await,
            }
        };
        match tokio::time::timeout(LEARN_WITHIN, learning).await {
            Ok(Ok(learned)) => {
                let learned = Arc::new(learned);
                self.failures().remove(&id);
                self.lock().insert(id, learned.clone());
                return Some(learned);
            }
            Ok(Err(why)) => {
                tracing::warn!(service = %id, source = %source, error = %why, "could not learn the arrivals' pattern; anticipating with the one kept, if any, and trying again in a minute");
            }
            Err(_) => {
                tracing::warn!(service = %id, source = %source, "learning the arrivals' pattern took longer than {LEARN_WITHIN:?}; anticipating with the one kept, if any, and trying again in a minute");
            }
        }
        self.failures().insert(id, now_ms);
        kept
    }

    /// At a tick's end: each of `services`' notes not added for a minute
    /// added to its own history, so a container that goes cold loses little.
    /// Failures are logged; the notes wait for the next time.
    pub async fn add_notes(&self, services: &[&ServiceConfig], now_ms: u64) {
        let due = services
            .iter()
            .filter(|service| self.pending.due(&service.id(), now_ms));
        for service in due {
            let (key, id) = (Self::history_key(service), service.id());
            let adding = self
                .pending
                .add_to(&self.s3, &self.bucket, &key, &id, now_ms);
            if let Err(why) = adding.await {
                tracing::warn!(service = %id, error = %why, "could not add the tick's arrivals to the service's own history; they wait for the next time");
            }
        }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.failed_at_ms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Learned>>> {
        // A panic elsewhere leaves the map as it was: still a valid cache.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pattern this container keeps for `service`, if learned from
    /// `source` and not from the future (a clock that jumped back).
    fn kept(&self, service: &ServiceConfig, source: &str, now_ms: u64) -> Option<Arc<Learned>> {
        let kept = self.lock().get(&service.id()).cloned()?;
        (kept.metric == source && kept.learned_at_ms <= now_ms).then_some(kept)
    }

    /// The bucket's pattern when fresh, else one learned from CloudWatch and
    /// written back.
    async fn learn_from_cloudwatch(
        &self,
        service: &ServiceConfig,
        metric: &ArrivalsMetric,
        now_ms: u64,
    ) -> Result<Learned, String> {
        let key = Self::key(service);
        let source = metric.to_string();
        let stored = objects::read::<Learned>(&self.s3, &self.bucket, &key).await?;
        if let Some(stored) = stored.value {
            let same = stored.metric == source && stored.learned_at_ms <= now_ms;
            if same && fresh(&stored, now_ms) {
                return Ok(stored);
            }
        }
        let minutes = cloudwatch::arrivals(&self.cloudwatch, metric, now_ms).await?;
        let learned = Learned {
            learned_at_ms: now_ms,
            metric: source,
            pattern: learn(service, minutes),
        };
        objects::write(&self.s3, &self.bucket, &key, &learned, None).await?;
        Ok(learned)
    }

    /// This container's estimates added to the service's own history, and the
    /// pattern of its settled minutes.
    async fn learn_from_own_history(
        &self,
        service: &ServiceConfig,
        now_ms: u64,
    ) -> Result<Learned, String> {
        let key = Self::history_key(service);
        let id = service.id();
        let history = self
            .pending
            .add_to(&self.s3, &self.bucket, &key, &id, now_ms)
            .await?;
        let settled = (now_ms / 60_000).saturating_sub(UNSETTLED_MINUTES);
        Ok(Learned {
            learned_at_ms: now_ms,
            metric: OWN_READINGS.into(),
            pattern: learn(service, settled_minutes(&history, settled)),
        })
    }
}

/// The known minutes of `history` before `end_minute`.
fn settled_minutes(history: &Arrivals, end_minute: u64) -> Vec<(u64, u32)> {
    (history.start_minute..history.end_minute().min(end_minute))
        .filter_map(|minute| history.get(minute).map(|count| (minute, count)))
        .collect()
}

/// The pattern of `minutes` (Unix minute, messages), oldest first.
fn learn(service: &ServiceConfig, minutes: Vec<(u64, u32)>) -> Pattern {
    let mut learner = Learner::default();
    for (minute, count) in minutes {
        learner.record(minute, count);
    }
    learner.pattern(service.policy.anticipation.min_confidence)
}

fn fresh(learned: &Learned, now_ms: u64) -> bool {
    now_ms.saturating_sub(learned.learned_at_ms) < REFRESH_MS
}
