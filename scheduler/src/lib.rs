//! The scheduler half of Fast Autoscaler.
//!
//! # Why a scheduler
//!
//! EventBridge schedules fire at most once a minute. To decide every few seconds,
//! the scheduler Lambda runs once a minute and sends `60 / interval` *tick* messages
//! to an internal SQS queue, each with `DelaySeconds = k × interval`. SQS releases
//! them over the minute and the worker Lambda evaluates one per delivery. SQS delay
//! is cheaper than Step Functions waits and needs no long-running compute.
//!
//! A large fleet is split into `TICK_SHARDS` shards: each slot then sends one
//! tick per shard, the shards' ticks spread evenly over the interval (shard k at
//! `k × interval / K` seconds into it), so each invocation decides a shard's
//! services and their ECS calls do not all land in the same second.
//!
//! # Shared basics
//!
//! The tick format, the interval rule, the clock and the bounded AWS configuration
//! live in `fast-autoscaler-common`, which the worker uses too.

use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use fast_autoscaler_common::aws_error::one_line;
use fast_autoscaler_common::{parse_interval, Clock, Tick};
use serde::Serialize;

/// SendMessageBatch takes at most this many entries per call.
const SQS_BATCH_LIMIT: usize = 10;

/// The scheduler's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// URL of the internal tick queue (`TICK_QUEUE_URL`).
    pub tick_queue_url: String,
    /// Seconds between ticks (`TICK_INTERVAL_SECONDS`), a divisor of 60.
    pub interval_s: u32,
    /// Shards of the fleet (`TICK_SHARDS`), 1 to `interval_s`: ticks per slot.
    pub shards: u32,
}

impl SchedulerConfig {
    /// Reads the configuration through `env` (the process environment in production).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, SchedulerError> {
        let tick_queue_url = env("TICK_QUEUE_URL")
            .filter(|u| !u.trim().is_empty())
            .ok_or(SchedulerError::Config {
                field: "TICK_QUEUE_URL",
                value: "<missing>".into(),
                expected: "the URL of the tick queue the worker consumes",
            })?;
        let interval_s = parse_interval(env("TICK_INTERVAL_SECONDS").as_deref())?;
        let shards = match env("TICK_SHARDS").filter(|s| !s.trim().is_empty()) {
            None => 1,
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|k| (1..=interval_s).contains(k))
                .ok_or(SchedulerError::Config {
                    field: "TICK_SHARDS",
                    value: text,
                    expected: "a whole number from 1 to TICK_INTERVAL_SECONDS (each shard's ticks a whole second apart from the next shard's)",
                })?,
        };
        Ok(Self {
            tick_queue_url,
            interval_s,
            shards,
        })
    }
}

/// The ticks of one minute starting at `start_ms`, with their SQS delays: one a
/// slot for each of `shards` shards, shard k `k × interval / shards` seconds into
/// its slot (whole seconds: SQS delays are).
pub fn plan_minute(start_ms: u64, interval_s: u32, shards: u32) -> Vec<(Tick, Duration)> {
    let shards = shards.max(1);
    (0..60 / interval_s)
        .flat_map(|seq| {
            (0..shards).map(move |shard| {
                let offset_s = shard * interval_s / shards;
                let delay = Duration::from_secs(u64::from(seq * interval_s + offset_s));
                let tick = Tick::new(start_ms + delay.as_millis() as u64, interval_s, seq)
                    .for_shard(shard, shards);
                (tick, delay)
            })
        })
        .collect()
}

/// What one scheduler invocation sent.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleReport {
    pub ticks_sent: usize,
    pub batches: usize,
    pub entries_retried: usize,
    pub first_due_ms: u64,
    pub interval_s: u32,
}

/// Sends the planned ticks with SendMessageBatch, at most 10 entries a call.
/// Entries that fail inside a batch are retried once; if any fail again, the error
/// names each of them so the invocation fails loudly rather than losing ticks.
pub async fn send_ticks(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    ticks: &[(Tick, Duration)],
) -> Result<ScheduleReport, SchedulerError> {
    let mut batches = 0;
    let mut entries_retried = 0;
    for chunk in ticks.chunks(SQS_BATCH_LIMIT) {
        let mut pending: Vec<&(Tick, Duration)> = chunk.iter().collect();
        for attempt in 0..2 {
            batches += 1;
            let failed = send_batch(sqs, queue_url, &pending).await?;
            if failed.is_empty() {
                break;
            }
            if attempt == 1 {
                return Err(SchedulerError::TicksNotSent {
                    failures: failed
                        .iter()
                        .map(|(id, why)| format!("{id}: {why}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
            entries_retried += failed.len();
            tracing::warn!(
                failed = failed.len(),
                "tick entries failed in a batch, retrying them once"
            );
            pending.retain(|(tick, _)| failed.iter().any(|(id, _)| *id == entry_id(tick)));
        }
    }
    Ok(ScheduleReport {
        ticks_sent: ticks.len(),
        batches,
        entries_retried,
        first_due_ms: ticks.first().map_or(0, |(t, _)| t.due_ms),
        interval_s: ticks.first().map_or(0, |(t, _)| t.interval_s),
    })
}

fn entry_id(tick: &Tick) -> String {
    format!("tick-{}-{}", tick.seq, tick.shard)
}

/// Sends one batch; answers the ids and reasons of the entries SQS refused.
async fn send_batch(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    ticks: &[&(Tick, Duration)],
) -> Result<Vec<(String, String)>, SchedulerError> {
    let entries = ticks
        .iter()
        .map(|(tick, delay)| {
            SendMessageBatchRequestEntry::builder()
                .id(entry_id(tick))
                .message_body(tick.to_body())
                .delay_seconds(delay.as_secs() as i32)
                .build()
                .map_err(|e| SchedulerError::Sqs(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let answer = sqs
        .send_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| SchedulerError::Sqs(format!("SendMessageBatch: {}", one_line(&e))))?;
    Ok(answer
        .failed()
        .iter()
        .map(|f| {
            (
                f.id().to_string(),
                format!("{} {}", f.code(), f.message().unwrap_or_default()),
            )
        })
        .collect())
}

/// Errors of the scheduler.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("configuration: {field} = {value:?}: expected {expected}")]
    Config {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Interval(#[from] fast_autoscaler_common::Error),
    #[error("SQS SendMessageBatch failed: {0}")]
    Sqs(String),
    #[error("tick entries still failing after one retry: {failures}")]
    TicksNotSent { failures: String },
}

/// The scheduler Lambda's handler: plans the next minute of ticks from now and sends them.
///
/// The plan starts at the invocation time, not the event's scheduled `time`: a
/// scheduler that starts late (a cold start, an EventBridge delay) would otherwise
/// send ticks that are already stale. The lateness is logged instead.
pub async fn handle_schedule_event(
    sqs: &aws_sdk_sqs::Client,
    config: &SchedulerConfig,
    clock: &dyn Clock,
    event: lambda_runtime::LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent>,
) -> Result<ScheduleReport, lambda_runtime::Error> {
    let start_ms = clock.now_ms();
    let scheduled_ms = event.payload.time.map(|t| t.timestamp_millis());
    let lateness_ms = scheduled_ms.map(|s| start_ms as i64 - s);
    let plan = plan_minute(start_ms, config.interval_s, config.shards);
    let report = send_ticks(sqs, &config.tick_queue_url, &plan).await?;
    tracing::info!(
        ticks_sent = report.ticks_sent,
        batches = report.batches,
        entries_retried = report.entries_retried,
        interval_s = report.interval_s,
        first_due_ms = report.first_due_ms,
        lateness_ms,
        "ticks scheduled"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_ticks() {
        let plan = plan_minute(1_000_000, 10, 1);
        let delays: Vec<u64> = plan.iter().map(|(_, d)| d.as_secs()).collect();
        assert_eq!(delays, [0, 10, 20, 30, 40, 50]);
        assert_eq!(plan[3].0.due_ms, 1_030_000);
        assert_eq!(plan[5].0.seq, 5);
        assert!(plan.iter().all(|(t, _)| (t.shard, t.shards) == (0, 1)));
        assert_eq!(plan_minute(0, 1, 1).len(), 60);
        assert_eq!(plan_minute(0, 60, 1).len(), 1);
    }

    #[test]
    fn the_shards_ticks_are_spread_over_each_interval() {
        let plan = plan_minute(1_000_000, 10, 3);
        assert_eq!(plan.len(), 18);
        let first_slot: Vec<(u32, u64)> = plan[..3]
            .iter()
            .map(|(t, d)| (t.shard, d.as_secs()))
            .collect();
        assert_eq!(first_slot, [(0, 0), (1, 3), (2, 6)]);
        let (last, delay) = &plan[17];
        assert_eq!(
            (last.seq, last.shard, last.shards, delay.as_secs()),
            (5, 2, 3, 56)
        );
        assert_eq!(last.due_ms, 1_056_000);
        // Every entry of a batch has its own id.
        let ids: std::collections::BTreeSet<String> =
            plan.iter().map(|(t, _)| entry_id(t)).collect();
        assert_eq!(ids.len(), plan.len());
    }

    #[test]
    fn a_bad_shard_count_is_named() {
        for bad in ["0", "11", "two"] {
            let err = SchedulerConfig::from_env(|k| match k {
                "TICK_QUEUE_URL" => Some("http://q".to_string()),
                "TICK_SHARDS" => Some(bad.to_string()),
                _ => None,
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains("TICK_SHARDS") && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn a_bad_interval_is_named() {
        let err = SchedulerConfig::from_env(|k| match k {
            "TICK_QUEUE_URL" => Some("http://q".to_string()),
            _ => Some("7".to_string()),
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("TICK_INTERVAL_SECONDS") && err.contains("\"7\""),
            "{err}"
        );
    }

    #[test]
    fn config_names_missing_queue() {
        let err = SchedulerConfig::from_env(|_| None).unwrap_err().to_string();
        assert!(err.contains("TICK_QUEUE_URL"), "{err}");
        let cfg =
            SchedulerConfig::from_env(|k| (k == "TICK_QUEUE_URL").then(|| "http://q".to_string()))
                .unwrap();
        assert_eq!(cfg.interval_s, 10);
    }
}
