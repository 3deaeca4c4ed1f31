//! Anticipation: recurring surges learned from the queue's own history, so the
//! tasks a surge needs are ready when it lands, instead of a tick and a start-up
//! after.
//!
//! # Design
//!
//! - [`arrivals`]: the history, messages per minute, at most 14 days;
//! - [`estimate`]: arrivals estimated from the policy's own readings, for
//!   queues that publish no arrivals metric;
//! - [`surges`]: the minutes that stand far above the hour before them;
//! - [`periods`]: the periods and minutes surges come back at (every 15, 30 or
//!   60 minutes, every day, every week), found in the data, each with its
//!   confidence, the share of past periods in which it came.
//!
//! A [`Learner`] is fed minutes as they come and answers the [`Pattern`] of the
//! moment: pure data, kept between ticks (refreshed every few minutes, not every
//! tick). The policy's anticipation modifier (`policy::modifiers::anticipation`)
//! reads it: tasks ordered a start-up and a tick before a surge it is confident
//! of, sized with the predictive rule's arithmetic, on top of what the reactive
//! rule wants, which stays the floor. A pattern with nothing it is confident of
//! (random bursts, flash crowds) changes nothing.

pub mod arrivals;
pub mod estimate;
pub mod hints;
pub mod periods;
pub mod surges;

use serde::{Deserialize, Serialize};

pub use arrivals::Arrivals;
pub use periods::Recurring;
use surges::SurgeFinder;

/// The share of past periods a surge must have come in to be prepared for, by
/// default: 0.7.
pub const DEFAULT_CONFIDENCE: f64 = 0.7;

/// What the history says comes back, learned at a minute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    pub recurring: Vec<Recurring>,
    /// The minute it was learned at (its history ends there).
    pub learned_at_minute: u64,
}

/// Why a surge is expected.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum Evidence {
    /// It came back in `hits` of the last `seen` periods at this minute.
    History {
        period_min: u64,
        hits: u32,
        seen: u32,
    },
    /// The configuration's hint says so.
    Hint { cron: String },
}

/// One surge expected, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expected {
    /// The first Unix minute it is expected to begin in.
    pub minute: u64,
    /// The last one: surges that land late in their minute are as often first
    /// seen in the next.
    pub last_minute: u64,
    /// The earliest second of `minute` it can begin at, as far as the
    /// history tells (0: any).
    pub earliest_second: u64,
    /// Its size, in messages above the usual arrivals.
    pub messages: f64,
    /// Its busiest minute, in messages above the usual arrivals.
    pub peak_per_minute: f64,
    /// The usual arrivals per minute it comes on top of (0 for a hint: its
    /// messages are all there is to plan for).
    pub baseline_per_minute: f64,
    pub evidence: Evidence,
}

impl Expected {
    /// The Unix second it can begin at, at the earliest.
    pub fn starts_s(&self) -> u64 {
        self.minute
            .saturating_mul(60)
            .saturating_add(self.earliest_second)
    }

    /// Its period, in minutes, when the history found it (a hint has none).
    pub fn period_min(&self) -> Option<u64> {
        match self.evidence {
            Evidence::History { period_min, .. } => Some(period_min),
            Evidence::Hint { .. } => None,
        }
    }

    /// The share of past periods it came in (a hint is taken at its word: 1).
    pub fn confidence(&self) -> f64 {
        match self.evidence {
            Evidence::History { hits, seen, .. } => f64::from(hits) / f64::from(seen.max(1)),
            Evidence::Hint { .. } => 1.0,
        }
    }

    /// Why it is expected: "seen in 6 of the last 7 days at this minute".
    pub fn evidence_text(&self) -> String {
        match &self.evidence {
            Evidence::History {
                period_min,
                hits,
                seen,
            } => {
                let unit = match period_min {
                    15 => "quarter-hours",
                    30 => "half-hours",
                    60 => "hours",
                    1_440 => "days",
                    10_080 => "weeks",
                    _ => "periods",
                };
                format!("seen in {hits} of the last {seen} {unit} at this minute")
            }
            Evidence::Hint { cron } => format!("the hint {cron:?}"),
        }
    }
}

impl Pattern {
    /// The surges expected to begin in minutes `from..=to` (whose landing
    /// minutes meet that range), soonest first.
    pub fn expected(&self, from: u64, to: u64) -> Vec<Expected> {
        let mut expected: Vec<Expected> = self
            .recurring
            .iter()
            .flat_map(|r| {
                // From the period whose phase is a minute before `from`: its
                // landing may reach one minute past the phase.
                let before = from.saturating_sub(1);
                let offset = (r.phase_min + r.period_min - before % r.period_min) % r.period_min;
                (0..)
                    .map(move |k| before + offset + k * r.period_min)
                    .map(move |phase_at| r.landing(phase_at))
                    .take_while(move |landing| *landing.start() <= to)
                    .filter(move |landing| *landing.end() >= from)
                    .map(move |landing| Expected {
                        minute: *landing.start(),
                        last_minute: *landing.end(),
                        earliest_second: r.earliest_second.min(59),
                        messages: r.messages,
                        peak_per_minute: r.peak_per_minute,
                        baseline_per_minute: r.baseline_per_minute,
                        evidence: Evidence::History {
                            period_min: r.period_min,
                            hits: r.hits,
                            seen: r.seen,
                        },
                    })
            })
            .collect();
        expected.sort_by_key(|e| e.minute);
        expected
    }
}

/// The history and its surges, kept up to date minute by minute.
#[derive(Debug, Clone, Default)]
pub struct Learner {
    pub arrivals: Arrivals,
    finder: SurgeFinder,
}

impl Learner {
    /// Records `count` messages arrived in Unix minute `minute`.
    pub fn record(&mut self, minute: u64, count: u32) {
        self.arrivals.record(minute, count);
    }

    /// The pattern of the history so far, at `min_confidence`.
    pub fn pattern(&mut self, min_confidence: f64) -> Pattern {
        self.finder.update(&self.arrivals);
        let arrivals = &self.arrivals;
        let recurring = periods::recurring(
            &self.finder.all(),
            arrivals.start_minute,
            arrivals.end_minute(),
            &|m| arrivals.get(m).is_some(),
            min_confidence,
        );
        Pattern {
            recurring,
            learned_at_minute: arrivals.end_minute(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hourly_dump_is_expected_at_its_minute_with_its_evidence() {
        let mut learner = Learner::default();
        for minute in 0..(48 * 60) {
            let dump = if minute % 60 == 0 { 5000 } else { 0 };
            learner.record(minute, 30 + (minute % 7) as u32 + dump);
        }
        let pattern = learner.pattern(DEFAULT_CONFIDENCE);
        let next = pattern.expected(48 * 60 - 2, 48 * 60 + 30);
        assert_eq!(next.len(), 1, "{pattern:?}");
        assert_eq!(next[0].minute, 48 * 60);
        assert!(next[0].messages > 4900.0, "{next:?}");
        // The first hour's dump has no hour before it to stand above: a miss.
        assert_eq!(
            next[0].evidence_text(),
            "seen in 47 of the last 48 hours at this minute"
        );
        assert!(pattern.expected(48 * 60 + 1, 48 * 60 + 30).is_empty());
    }

    #[test]
    fn a_surge_expected_over_two_minutes_is_still_expected_in_the_second() {
        let pattern = Pattern {
            recurring: vec![Recurring {
                period_min: 15,
                phase_min: 10,
                messages: 900.0,
                peak_per_minute: 600.0,
                baseline_per_minute: 30.0,
                hits: 9,
                seen: 10,
                first_offset_min: 0,
                last_offset_min: 1,
                earliest_second: 0,
            }],
            learned_at_minute: 0,
        };
        let landing = |from, to| {
            pattern
                .expected(from, to)
                .iter()
                .map(|e| (e.minute, e.last_minute))
                .collect::<Vec<_>>()
        };
        assert_eq!(landing(100, 100), [(100, 101)]);
        assert_eq!(landing(101, 101), [(100, 101)]);
        assert_eq!(landing(102, 114), []);
        assert_eq!(landing(95, 130), [(100, 101), (115, 116), (130, 131)]);
    }
}
