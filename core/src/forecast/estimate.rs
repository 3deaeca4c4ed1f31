//! Arrivals estimated from the policy's own readings, for queues that publish
//! no arrivals metric to learn from (Redis, NATS, RabbitMQ): between two
//! readings, the backlog's growth plus what was consumed meanwhile, counted by
//! the provider's consumption counter where it has one, else `μ` per task busy
//! at the first reading, as the predictive rule's rate estimator does
//! (`policy::rates`). A dump
//! shows as the backlog's jump, so surges are seen even where consumption is
//! only estimated.

/// One reading, as the policy's memory keeps it (`policy::Sample`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub at_ms: u64,
    pub backlog: u64,
    /// Tasks busy at that time.
    pub busy: u32,
    /// The provider's consumption counter, if it has one.
    pub dequeued: Option<u64>,
}

/// The longest gap between two readings whose arrivals are still spread over
/// the minutes between them: a longer one says too little about when they came.
pub const MAX_GAP_MS: u64 = 120_000;

/// The messages that arrived between readings `last` and `now`, spread over
/// the minutes of the gap in proportion to the time in each: `(Unix minute, messages)`. Empty when
/// the gap is empty, negative or longer than [`MAX_GAP_MS`].
pub fn arrived_between(last: &Reading, now: &Reading, mu: f64) -> Vec<(u64, f64)> {
    let Reading {
        at_ms,
        backlog,
        dequeued,
        ..
    } = *now;
    let gap_ms = at_ms.saturating_sub(last.at_ms);
    if gap_ms == 0 || gap_ms > MAX_GAP_MS {
        return Vec::new();
    }
    let consumed = match (last.dequeued, dequeued) {
        (Some(before), Some(now)) if now >= before => (now - before) as f64,
        _ => f64::from(last.busy) * mu.max(0.0) * gap_ms as f64 / 1000.0,
    };
    let arrived = (backlog as f64 - last.backlog as f64 + consumed).max(0.0);
    let mut spread = Vec::new();
    let mut from = last.at_ms;
    while from < at_ms {
        let minute = from / 60_000;
        let to = ((minute + 1) * 60_000).min(at_ms);
        spread.push((minute, arrived * (to - from) as f64 / gap_ms as f64));
        from = to;
    }
    spread
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: u64, backlog: u64, busy: u32, dequeued: Option<u64>) -> Reading {
        Reading {
            at_ms,
            backlog,
            busy,
            dequeued,
        }
    }

    #[test]
    fn growth_plus_consumption_spread_over_the_minutes_of_the_gap() {
        // 10 s across a minute boundary: 100 more waiting, 2 tasks at 3/s took 60.
        let last = sample(59_995_000, 50, 2, None);
        let spread = arrived_between(&last, &sample(60_005_000, 150, 0, None), 3.0);
        assert_eq!(spread.len(), 2);
        assert_eq!((spread[0].0, spread[1].0), (999, 1000));
        assert!(
            (spread[0].1 - 80.0).abs() < 1e-9 && (spread[1].1 - 80.0).abs() < 1e-9,
            "{spread:?}"
        );
        // A consumption counter counts instead of the estimate.
        let counted = sample(60_000_000, 500, 2, Some(1_000));
        let spread = arrived_between(&counted, &sample(60_010_000, 400, 0, Some(1_300)), 3.0);
        assert_eq!(spread, vec![(1000, 200.0)]);
        // A drained queue with idle tasks: nothing arrived, never less.
        let idle = sample(60_000_000, 500, 0, None);
        assert_eq!(
            arrived_between(&idle, &sample(60_010_000, 0, 0, None), 3.0),
            vec![(1000, 0.0)]
        );
        // No gap, or one too long to place: nothing.
        assert!(arrived_between(&idle, &sample(60_000_000, 9, 0, None), 1.0).is_empty());
        assert!(
            arrived_between(&idle, &sample(60_000_000 + MAX_GAP_MS + 1, 9, 0, None), 1.0)
                .is_empty()
        );
    }
}
