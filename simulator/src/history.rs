//! What an anticipating strategy may know of the past: the trace's history (the
//! days before second 0 that CloudWatch holds when the autoscaler is deployed)
//! and its arrivals per minute, each minute known only `LAG_S` seconds after it
//! ends (CloudWatch publishes a one-minute `NumberOfMessagesSent` datapoint
//! about that late), learned online, and the pattern relearned every
//! `RELEARN_S` seconds, as the worker refreshes its cached one. At no moment
//! does it see the future.
//!
//! Clocks: the history begins at Unix second 0, so second `t` of the trace is
//! Unix second `offset_s + t`, the clock the strategy decides on.

use fast_autoscaler_core::forecast::{Learner, Pattern};

use crate::trace::Trace;

/// Seconds after a minute ends before its count is known.
pub const LAG_S: usize = 180;
/// Seconds between two learnings of the pattern.
pub const RELEARN_S: usize = 300;

/// The online learner of one run.
pub(crate) struct History {
    /// Messages arrived in each minute of the trace.
    per_minute: Vec<u32>,
    learner: Learner,
    /// The next minute to feed the learner.
    next_minute: usize,
    min_confidence: f64,
    pattern: Pattern,
    learned_at_s: Option<usize>,
}

impl History {
    pub fn new(trace: &Trace, min_confidence: f64) -> Self {
        History {
            // The history's minutes and then the trace's, each at its Unix
            // minute: the trace's own are learned only once published.
            per_minute: minutes(trace).0,
            learner: Learner::default(),
            next_minute: 0,
            min_confidence,
            pattern: Pattern::default(),
            learned_at_s: None,
        }
    }

    /// The pattern known at Unix second `now_s`.
    pub fn at(&mut self, now_s: usize) -> &Pattern {
        while self.next_minute < self.per_minute.len()
            && (self.next_minute + 1) * 60 + LAG_S <= now_s
        {
            let minute = self.next_minute;
            self.learner.record(minute as u64, self.per_minute[minute]);
            self.next_minute += 1;
        }
        if self.learned_at_s.is_none_or(|at| now_s >= at + RELEARN_S) {
            self.pattern = self.learner.pattern(self.min_confidence);
            self.learned_at_s = Some(now_s);
        }
        &self.pattern
    }
}

/// The messages of every minute, the history's and then the trace's, and the
/// Unix second the trace begins at.
pub(crate) fn minutes(trace: &Trace) -> (Vec<u32>, usize) {
    let offset_s = trace.history_per_minute.len() * 60;
    let mut per_minute = trace.history_per_minute.clone();
    per_minute.extend(trace.arrivals.chunks(60).map(|minute| {
        minute
            .iter()
            .sum::<f64>()
            .round()
            .min(f64::from(u32::MAX - 1)) as u32
    }));
    (per_minute, offset_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_is_learned_only_once_it_is_published() {
        // An hourly dump for three hours, then the pattern is asked for just
        // before and just after the third dump's minute is published.
        let mut arrivals = vec![1.0; 4 * 3600];
        for hour in 1..4 {
            for a in &mut arrivals[hour * 3600..hour * 3600 + 20] {
                *a = 100.0;
            }
        }
        let trace = trace_of(arrivals);
        let mut history = History::new(&trace, 0.7);
        let published = 3 * 3600 + 60 + LAG_S;
        assert!(history.at(published - 1).recurring.is_empty());
        // Relearned no sooner than every RELEARN_S.
        assert!(history.at(published).recurring.is_empty());
        let pattern = history.at(published - 1 + RELEARN_S);
        assert_eq!(pattern.recurring.len(), 1, "{pattern:?}");
        assert_eq!(pattern.recurring[0].phase_min, 0);
    }

    fn trace_of(arrivals: Vec<f64>) -> Trace {
        Trace {
            name: "t".into(),
            arrivals,
            initial_backlog: 0.0,
            surge_start_s: None,
            history_per_minute: Vec::new(),
        }
    }

    /// `hours` hours, each hour's first 20 seconds at 100/s, over 1/s.
    fn hourly_dumps(hours: usize) -> Vec<f64> {
        (0..hours * 3600)
            .map(|t| if t % 3600 < 20 { 100.0 } else { 1.0 })
            .collect()
    }

    #[test]
    fn the_history_is_known_from_the_first_tick_and_the_trace_only_as_it_passes() {
        // Dumps in the history and none in the trace: known at once.
        let mut arrivals = hourly_dumps(48);
        arrivals.extend(vec![1.0; 48 * 3600]);
        let trace = trace_of(arrivals).with_history(48 * 3600);
        let (_, offset_s) = minutes(&trace);
        let mut history = History::new(&trace, 0.7);
        let pattern = history.at(offset_s);
        assert_eq!(pattern.recurring.len(), 1, "{pattern:?}");
        assert_eq!(pattern.learned_at_minute, offset_s as u64 / 60 - 3);

        // Dumps in the trace and none in the history: unknown at its start,
        // although the whole trace is there to be read.
        let mut arrivals = vec![1.0; 48 * 3600];
        arrivals.extend(hourly_dumps(48));
        let trace = trace_of(arrivals).with_history(48 * 3600);
        let mut history = History::new(&trace, 0.7);
        let pattern = history.at(offset_s);
        assert!(pattern.recurring.is_empty(), "{pattern:?}");
    }
}
