//! The worker Lambda's handler: an SQS batch of ticks in, at most one evaluation out.
//!
//! Ticks are cheap and replaceable, so the handler never asks SQS to redeliver: a
//! retried tick would only arrive stale. Of a batch, malformed bodies are logged
//! and dropped, stale ticks are dropped, and only the newest remaining tick of
//! each shard is evaluated (one tick, unless the fleet is split into shards);
//! older ones are superseded by it.

use aws_lambda_events::sqs::SqsEvent;
use fast_autoscaler_common::Tick;
use lambda_runtime::LambdaEvent;
use serde::Serialize;

use crate::emf;
use crate::engine::{Autoscaler, EvaluateOptions};
use crate::record::DecisionRecord;
use fast_autoscaler_core::policy::Action;

/// How a batch of ticks was sorted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickSelection {
    /// The ticks to evaluate: the newest of each shard, by shard.
    pub newest: Vec<Tick>,
    /// `(message id, why)` of each malformed body.
    pub malformed: Vec<(String, String)>,
    pub stale: Vec<Tick>,
    /// Ticks due further ahead than the maximum age (a skewed clock or a forged
    /// message): evaluating one would record a future tick in the state and make
    /// every real tick until then look late.
    pub future: Vec<Tick>,
    /// Valid ticks older than the newest of their shard.
    pub superseded: Vec<Tick>,
}

/// Sorts a batch of `(message id, body)` at `now_ms`. Pure, so every case is testable.
pub fn select_tick<'a>(
    bodies: impl IntoIterator<Item = (&'a str, &'a str)>,
    now_ms: u64,
    max_age_ms: u64,
) -> TickSelection {
    let mut selection = TickSelection::default();
    for (id, body) in bodies {
        match Tick::parse(body) {
            Err(e) => selection.malformed.push((id.to_string(), e.to_string())),
            Ok(tick) if now_ms.saturating_sub(tick.due_ms) > max_age_ms => {
                selection.stale.push(tick)
            }
            Ok(tick) if tick.due_ms.saturating_sub(now_ms) > max_age_ms => {
                selection.future.push(tick)
            }
            Ok(tick) => {
                let shard = (tick.shards, tick.shard);
                match selection
                    .newest
                    .iter_mut()
                    .find(|best| (best.shards, best.shard) == shard)
                {
                    Some(best) if best.due_ms >= tick.due_ms => selection.superseded.push(tick),
                    Some(best) => selection.superseded.push(std::mem::replace(best, tick)),
                    None => selection.newest.push(tick),
                }
            }
        }
    }
    selection.newest.sort_by_key(|t| (t.shards, t.shard));
    selection
}

/// What one invocation did; the Lambda's response.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TickOutcome {
    pub received: usize,
    pub malformed: usize,
    /// Stale ticks, and ticks from the future.
    pub stale: usize,
    pub superseded: usize,
    pub evaluated_tick_due_ms: Option<u64>,
    /// One record per configured service, as logged.
    pub decisions: Vec<DecisionRecord>,
}

/// The worker Lambda's handler.
pub async fn handle_tick_event(
    autoscaler: &Autoscaler,
    event: LambdaEvent<SqsEvent>,
) -> Result<TickOutcome, lambda_runtime::Error> {
    let records = &event.payload.records;
    let bodies = records.iter().map(|r| {
        (
            r.message_id.as_deref().unwrap_or("<no id>"),
            r.body.as_deref().unwrap_or(""),
        )
    });
    let clock = autoscaler.clock();
    let selection = select_tick(bodies, clock.now_ms(), autoscaler.config().tick_max_age_ms);
    log_dropped(&selection, clock.now_ms());
    let mut outcome = TickOutcome {
        received: records.len(),
        malformed: selection.malformed.len(),
        stale: selection.stale.len() + selection.future.len(),
        superseded: selection.superseded.len(),
        ..TickOutcome::default()
    };
    // The oldest evaluated tick's lag: the worst of them.
    let lag_ms = selection
        .newest
        .iter()
        .map(|tick| clock.now_ms() as i64 - tick.due_ms as i64)
        .max();
    outcome.evaluated_tick_due_ms = selection.newest.iter().map(|t| t.due_ms).max();
    // Several shards' ticks in one batch are evaluated at once: each decides
    // its own services, and all of them within the tick's deadline.
    let evaluations = selection
        .newest
        .iter()
        .map(|tick| autoscaler.evaluate(tick, EvaluateOptions::default()));
    outcome.decisions = futures::future::join_all(evaluations)
        .await
        .into_iter()
        .flatten()
        .collect();
    emit_lines(&outcome, lag_ms, clock.now_ms());
    Ok(outcome)
}

/// One log line per tick message not evaluated, at a level that says whether
/// it is a fault (malformed, from the future) or routine (stale).
fn log_dropped(selection: &TickSelection, now_ms: u64) {
    for (id, why) in &selection.malformed {
        tracing::warn!(message_id = %id, error = %why, "dropping malformed tick");
    }
    for tick in &selection.future {
        tracing::warn!(
            tick_due_ms = tick.due_ms,
            ahead_ms = tick.due_ms.saturating_sub(now_ms),
            "dropping a tick from the future (clock skew or a forged message)"
        );
    }
    for tick in &selection.stale {
        tracing::info!(
            tick_due_ms = tick.due_ms,
            lag_ms = now_ms.saturating_sub(tick.due_ms),
            "dropping stale tick"
        );
    }
}

/// The tick's structured log lines (CloudWatch embedded metrics): one per
/// decision, then the tick's summary.
fn emit_lines(outcome: &TickOutcome, lag_ms: Option<i64>, now_ms: u64) {
    let decisions = &outcome.decisions;
    let mut lines: Vec<_> = decisions
        .iter()
        .map(|d| emf::decision_line(d, now_ms))
        .collect();
    let summary = emf::TickSummary {
        evaluated_lag_ms: lag_ms,
        received: outcome.received,
        dropped: outcome.malformed + outcome.stale + outcome.superseded,
        held: decisions
            .iter()
            .filter(|d| d.action == Action::Hold)
            .count(),
        paused: decisions.iter().filter(|d| d.paused).count(),
    };
    lines.push(emf::tick_line(now_ms, &summary));
    emf::emit(&lines);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The six ticks of a minute from `start_ms`, as the scheduler plans them.
    fn plan_minute(start_ms: u64, interval_s: u32) -> Vec<(Tick, ())> {
        (0..60 / interval_s)
            .map(|seq| {
                (
                    Tick::new(
                        start_ms + u64::from(seq * interval_s) * 1000,
                        interval_s,
                        seq,
                    ),
                    (),
                )
            })
            .collect()
    }

    #[test]
    fn only_the_newest_valid_tick_is_evaluated() {
        let plan = plan_minute(100_000, 10);
        let bodies: Vec<(String, String)> = vec![
            ("a".into(), plan[0].0.to_body()),
            ("b".into(), "{garbage".into()),
            ("c".into(), plan[2].0.to_body()),
            ("d".into(), plan[1].0.to_body()),
            ("e".into(), "".into()),
        ];
        let now = 119_000;
        let selection = select_tick(
            bodies.iter().map(|(i, b)| (i.as_str(), b.as_str())),
            now,
            10_000,
        );
        assert_eq!(selection.newest, vec![plan[2].0]);
        assert_eq!(selection.stale, vec![plan[0].0]);
        assert_eq!(selection.superseded, vec![plan[1].0]);
        let ids: Vec<&str> = selection
            .malformed
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(ids, ["b", "e"]);
    }

    #[test]
    fn a_tick_exactly_at_its_max_age_is_still_fresh() {
        let tick = plan_minute(100_000, 10)[0].0;
        let body = tick.to_body();
        assert_eq!(
            select_tick([("x", body.as_str())], 110_000, 10_000).newest,
            vec![tick]
        );
        assert_eq!(
            select_tick([("x", body.as_str())], 110_001, 10_000).stale,
            vec![tick]
        );
    }

    #[test]
    fn ticks_from_the_future_are_dropped_but_small_skew_is_not() {
        let tick = |due_ms| Tick::new(due_ms, 10, 0);
        let now = 1_000_000;
        let bodies = [
            ("skewed", tick(now + 3_000).to_body()),
            ("forged", tick(now + 3_600_000).to_body()),
        ];
        let selection = select_tick(bodies.iter().map(|(i, b)| (*i, b.as_str())), now, 10_000);
        let due: Vec<u64> = selection.newest.iter().map(|t| t.due_ms).collect();
        assert_eq!(due, [now + 3_000]);
        assert_eq!(selection.future.len(), 1);
        assert_eq!(selection.future[0].due_ms, now + 3_600_000);
    }

    #[test]
    fn the_newest_tick_of_each_shard_is_evaluated() {
        let tick = |due_ms, shard| Tick::new(due_ms, 10, 0).for_shard(shard, 3);
        let bodies = [
            ("a", tick(100_000, 0).to_body()),
            ("b", tick(103_000, 1).to_body()),
            ("c", tick(110_000, 0).to_body()),
            ("d", tick(106_000, 2).to_body()),
        ];
        let selection = select_tick(
            bodies.iter().map(|(i, b)| (*i, b.as_str())),
            112_000,
            20_000,
        );
        let newest: Vec<(u32, u64)> = selection
            .newest
            .iter()
            .map(|t| (t.shard, t.due_ms))
            .collect();
        assert_eq!(newest, [(0, 110_000), (1, 103_000), (2, 106_000)]);
        assert_eq!(selection.superseded, vec![tick(100_000, 0)]);
    }
}
