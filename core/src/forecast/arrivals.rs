//! A queue's arrivals, minute by minute: the history recurring surges are
//! learned from (a CloudWatch `NumberOfMessagesSent` series, or the worker's
//! own record), at most [`MAX_HISTORY_MINUTES`] long.

use serde::{Deserialize, Serialize};

/// The longest history kept: 14 days, as AWS predictive scaling uses.
pub const MAX_HISTORY_MINUTES: u64 = 14 * 24 * 60;

/// A minute with no figure.
const MISSING: u32 = u32::MAX;

/// Messages that arrived in each minute (Unix minutes), from `start_minute` on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrivals {
    pub start_minute: u64,
    counts: Vec<u32>,
}

impl Arrivals {
    /// Records `count` messages in `minute`; a minute before the history starts
    /// is ignored, a later one extends it (minutes between are missing).
    pub fn record(&mut self, minute: u64, count: u32) {
        if self.counts.is_empty() {
            self.start_minute = minute;
        }
        let Some(index) = minute.checked_sub(self.start_minute) else {
            return;
        };
        let index = index as usize;
        if index >= self.counts.len() {
            self.counts.resize(index + 1, MISSING);
        }
        self.counts[index] = count.min(MISSING - 1);
        self.trim();
    }

    /// Adds `count` messages to `minute` (a missing minute starts from 0), as
    /// records made by several workers are merged.
    pub fn add(&mut self, minute: u64, count: u32) {
        let total = self.get(minute).unwrap_or(0).saturating_add(count);
        self.record(minute, total);
    }

    /// Messages in `minute`, if known.
    pub fn get(&self, minute: u64) -> Option<u32> {
        let index = minute.checked_sub(self.start_minute)? as usize;
        self.counts.get(index).copied().filter(|c| *c != MISSING)
    }

    /// The first minute after the history.
    pub fn end_minute(&self) -> u64 {
        self.start_minute + self.counts.len() as u64
    }

    /// Minutes of history, known or not.
    pub fn len(&self) -> u64 {
        self.counts.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Keeps the last [`MAX_HISTORY_MINUTES`].
    fn trim(&mut self) {
        let excess = self
            .counts
            .len()
            .saturating_sub(MAX_HISTORY_MINUTES as usize);
        if excess > 0 {
            self.counts.drain(..excess);
            self.start_minute += excess as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_kept_in_place_with_gaps_missing_and_two_weeks_at_most() {
        let mut arrivals = Arrivals::default();
        arrivals.record(100, 5);
        arrivals.record(103, 7);
        arrivals.record(99, 1);
        assert_eq!(
            (arrivals.get(100), arrivals.get(101), arrivals.get(103)),
            (Some(5), None, Some(7))
        );
        assert_eq!((arrivals.start_minute, arrivals.end_minute()), (100, 104));
        arrivals.record(100 + MAX_HISTORY_MINUTES + 9, 2);
        assert_eq!(arrivals.len(), MAX_HISTORY_MINUTES);
        assert_eq!(arrivals.get(103), None);
        assert_eq!(arrivals.get(100 + MAX_HISTORY_MINUTES + 9), Some(2));
    }

    #[test]
    fn adding_sums_what_several_workers_saw_of_a_minute() {
        let mut arrivals = Arrivals::default();
        arrivals.add(500, 30);
        arrivals.add(500, 12);
        arrivals.add(502, 4);
        assert_eq!(
            (arrivals.get(500), arrivals.get(501), arrivals.get(502)),
            (Some(42), None, Some(4))
        );
    }
}
