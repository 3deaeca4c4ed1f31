//! The adapter that gives anticipation its history: each service's recurring
//! surges (`fast_autoscaler_core::forecast::Pattern`), learned from its queue's
//! arrivals metric in CloudWatch and cached.
//!
//! Learning reads up to 14 days of one-minute `Sum`s (CloudWatch keeps
//! one-minute data for 15), which is one `GetMetricData` call of about 20,000
//! datapoints. A pattern changes slowly, so it is learned at most every
//! [`REFRESH_MS`] per service, not every tick:
//!
//! 1. a warm container keeps each service's pattern in memory;
//! 2. a cold one reads the pattern another container learned, from the state
//!    bucket (`forecasts/<cluster>/<service>.json`), one GetObject;
//! 3. only when both are older than [`REFRESH_MS`] is CloudWatch asked again,
//!    and the result written back for the others.
//!
//! Concurrent containers may learn the same pattern twice and both write it;
//! it is a cache, so the last write is as good as the first.
//!
//! Everything here is bounded by [`LEARN_WITHIN`] and fails safe: anticipation
//! only adds tasks, so a pattern that cannot be read leaves the service to the
//! reactive rule (with the stale pattern, if one is kept), never to less.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use fast_autoscaler_common::aws_error::one_line;
use fast_autoscaler_core::forecast::{Learner, Pattern};
use fast_autoscaler_core::settings::AnticipationMode;
use fast_autoscaler_providers::ArrivalsMetric;
use serde::{Deserialize, Serialize};

use crate::config::ServiceConfig;

/// How old a pattern may be before it is learned again: 5 minutes.
pub const REFRESH_MS: u64 = 5 * 60 * 1000;
/// How much history is learned from: 14 days, as AWS predictive scaling uses.
const HISTORY_MINUTES: u64 = 14 * 24 * 60;
/// The newest minutes CloudWatch may still be adding to, left out: a minute
/// counted short would look like a surge that did not come.
const UNSETTLED_MINUTES: u64 = 3;
/// The longest a tick waits for a pattern, out of its deadline.
pub const LEARN_WITHIN: Duration = Duration::from_secs(2);
/// Where patterns live in the state bucket.
pub const FORECAST_PREFIX: &str = "forecasts";

/// A learned pattern, with when and from what, as the bucket keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Learned {
    pub learned_at_ms: u64,
    /// The arrivals metric, as [`ArrivalsMetric`] displays it.
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
        }
    }

    /// The bucket key of a service's pattern.
    pub fn key(service: &ServiceConfig) -> String {
        format!("{FORECAST_PREFIX}/{}.json", service.id())
    }

    /// The pattern `service` is anticipated with at `now_ms`, if it anticipates
    /// and its queue publishes its arrivals; learned again when older than
    /// [`REFRESH_MS`]. Never fails: what cannot be learned is logged, and the
    /// pattern kept (if any) is used.
    pub async fn pattern(&self, service: &ServiceConfig, now_ms: u64) -> Option<Arc<Learned>> {
        if service.policy.anticipation.mode == AnticipationMode::Off {
            return None;
        }
        let metric = service.provider.arrivals_metric()?;
        let kept = self.kept(service, &metric, now_ms);
        if let Some(fresh) = kept.as_ref().filter(|k| fresh(k, now_ms)) {
            return Some(fresh.clone());
        }
        let id = service.id();
        let learned = tokio::time::timeout(LEARN_WITHIN, self.refresh(service, &metric, now_ms));
        match learned.await {
            Ok(Ok(stored)) => {
                let learned = Arc::new(stored);
                self.lock().insert(id, learned.clone());
                Some(learned)
            }
            Ok(Err(why)) => {
                tracing::warn!(service = %id, metric = %metric, error = %why, "could not learn the arrivals' pattern; anticipating with the one kept, if any");
                kept
            }
            Err(_) => {
                tracing::warn!(service = %id, metric = %metric, "learning the arrivals' pattern took longer than {LEARN_WITHIN:?}; anticipating with the one kept, if any");
                kept
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Learned>>> {
        // A panic elsewhere leaves the map as it was: still a valid cache.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pattern this container keeps for `service`, if learned from `metric`
    /// and not from the future (a clock that jumped back).
    fn kept(
        &self,
        service: &ServiceConfig,
        metric: &ArrivalsMetric,
        now_ms: u64,
    ) -> Option<Arc<Learned>> {
        let kept = self.lock().get(&service.id()).cloned()?;
        (kept.metric == metric.to_string() && kept.learned_at_ms <= now_ms).then_some(kept)
    }

    /// The bucket's pattern when fresh, else one learned from CloudWatch and
    /// written back.
    async fn refresh(
        &self,
        service: &ServiceConfig,
        metric: &ArrivalsMetric,
        now_ms: u64,
    ) -> Result<Learned, String> {
        let key = Self::key(service);
        if let Some(stored) = self.read(&key).await? {
            let same = stored.metric == metric.to_string() && stored.learned_at_ms <= now_ms;
            if same && fresh(&stored, now_ms) {
                return Ok(stored);
            }
        }
        let mut learner = Learner::default();
        let minutes = self.arrivals(metric, now_ms).await?;
        for (minute, count) in minutes {
            learner.record(minute, count);
        }
        let stored = Learned {
            learned_at_ms: now_ms,
            metric: metric.to_string(),
            pattern: learner.pattern(service.policy.anticipation.min_confidence),
        };
        self.write(&key, &stored).await?;
        Ok(stored)
    }

    async fn read(&self, key: &str) -> Result<Option<Learned>, String> {
        let answer = self.s3.get_object().bucket(&self.bucket).key(key).send();
        let object = match answer.await {
            Ok(object) => object,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(format!("GetObject {key}: {}", one_line(&e))),
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| format!("GetObject {key}: {e}"))?
            .into_bytes();
        // A pattern that does not parse (an older layout) is learned again.
        Ok(serde_json::from_slice(&bytes).ok())
    }

    async fn write(&self, key: &str, stored: &Learned) -> Result<(), String> {
        let body = serde_json::to_vec(stored).map_err(|e| e.to_string())?;
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| format!("PutObject {key}: {}", one_line(&e)))?;
        Ok(())
    }

    /// The arrivals of every settled minute of the last 14 days, by Unix
    /// minute: one GetMetricData call (more only past 100,800 datapoints).
    async fn arrivals(
        &self,
        metric: &ArrivalsMetric,
        now_ms: u64,
    ) -> Result<Vec<(u64, u32)>, String> {
        let end_minute = (now_ms / 60_000).saturating_sub(UNSETTLED_MINUTES);
        let start_minute = end_minute.saturating_sub(HISTORY_MINUTES);
        let at = |minute: u64| DateTime::from_secs((minute * 60) as i64);
        let mut pages = self
            .cloudwatch
            .get_metric_data()
            .metric_data_queries(query(metric))
            .start_time(at(start_minute))
            .end_time(at(end_minute))
            .into_paginator()
            .send();
        let mut minutes = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| format!("GetMetricData: {}", one_line(&e)))?;
            for result in page.metric_data_results() {
                for (value, at) in result.values().iter().zip(result.timestamps()) {
                    let minute = u64::try_from(at.secs()).unwrap_or(0) / 60;
                    if value.is_finite() && *value >= 0.0 {
                        minutes.push((minute, value.round().min(f64::from(u32::MAX)) as u32));
                    }
                }
            }
        }
        minutes.sort_unstable();
        Ok(minutes)
    }
}

fn fresh(stored: &Learned, now_ms: u64) -> bool {
    now_ms.saturating_sub(stored.learned_at_ms) < REFRESH_MS
}

/// The one-minute `Sum` of `metric`.
fn query(metric: &ArrivalsMetric) -> MetricDataQuery {
    let mut cloudwatch_metric = Metric::builder()
        .namespace(&metric.namespace)
        .metric_name(&metric.name);
    for (name, value) in &metric.dimensions {
        cloudwatch_metric =
            cloudwatch_metric.dimensions(Dimension::builder().name(name).value(value).build());
    }
    MetricDataQuery::builder()
        .id("arrivals")
        .metric_stat(
            MetricStat::builder()
                .metric(cloudwatch_metric.build())
                .period(60)
                .stat("Sum")
                .build(),
        )
        .return_data(true)
        .build()
}
