//! Recurring surges: the periods and minutes surges come back at, found in the
//! history, not configured.
//!
//! For each candidate period (15, 30 and 60 minutes, a day, a week) the history
//! covers at least [`MIN_PERIODS`] times, every minute a surge began at is a
//! candidate phase. Over the periods the history covers at that phase, `seen`
//! counts those with arrivals known and `hits` those with a surge beginning
//! within a minute of it. A phase is recurring when it has at least
//! [`MIN_PERIODS`] hits and `hits / seen` reaches the confidence asked for: the
//! share of past periods in which the surge came. A surge that comes back every
//! hour comes back every day too; the shortest period that explains it is kept.

use serde::{Deserialize, Serialize};

use super::surges::Surge;

/// Candidate periods, in minutes, shortest first.
pub const PERIODS_MIN: [u64; 5] = [15, 30, 60, 1_440, 10_080];
/// The fewest periods of history, and hits, a recurring surge needs.
pub const MIN_PERIODS: u64 = 3;
/// The largest share of a surge's starts a minute at the edge of its landing
/// window may hold and still be left out of it.
///
/// Tasks ready for a minute in which at most one surge in ten begins are idle
/// through it in the other nine, and the one it misses is met by the reactive
/// rule a tick and a start-up later, as without anticipation.
pub const RARE_START_SHARE: f64 = 0.1;

/// A surge that comes back every `period_min` minutes at `phase_min` into the
/// period (Unix minutes modulo the period: UTC).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recurring {
    pub period_min: u64,
    pub phase_min: u64,
    /// The median size of the surges it was seen with, in messages.
    pub messages: f64,
    /// The median of their busiest minutes, in messages above the baseline.
    pub peak_per_minute: f64,
    /// The median of the usual arrivals per minute they stood above.
    pub baseline_per_minute: f64,
    /// Periods in which it came, of those seen.
    pub hits: u32,
    pub seen: u32,
    /// The first and last minute, from `phase_min` (−1 to 1), that surges
    /// began in, but for edge minutes that few of them did (see
    /// [`RARE_START_SHARE`]): a surge that lands late in its minute is often
    /// first counted in the next one.
    #[serde(default)]
    pub first_offset_min: i64,
    #[serde(default)]
    pub last_offset_min: i64,
    /// The earliest second of its first landing minute that a surge which
    /// began in that minute can have begun at (see
    /// [`Surge::earliest_second`]): tasks ready then are ready for all of them.
    #[serde(default)]
    pub earliest_second: u64,
}

impl Recurring {
    pub fn confidence(&self) -> f64 {
        f64::from(self.hits) / f64::from(self.seen.max(1))
    }

    /// The minutes its surges begin in, for the period whose phase falls at
    /// Unix minute `at`.
    ///
    /// Offsets beyond a minute (from a damaged cache) are read as a minute: the
    /// learner never finds more.
    pub fn landing(&self, at: u64) -> std::ops::RangeInclusive<u64> {
        let first = at.saturating_add_signed(self.first_offset_min.clamp(-1, 1));
        let last = at
            .saturating_add_signed(self.last_offset_min.clamp(-1, 1))
            .max(first);
        first..=last
    }

    /// Whether `minute` is one of its minutes (within one minute, as it was seen).
    fn covers(&self, minute: u64) -> bool {
        let offset = (minute + self.period_min - self.phase_min) % self.period_min;
        offset <= 1 || offset == self.period_min - 1
    }
}

/// The recurring surges of `surges`, over a history of minutes `first..end`
/// whose known minutes `known` tells, that reach `min_confidence`.
pub fn recurring(
    surges: &[Surge],
    first: u64,
    end: u64,
    known: &dyn Fn(u64) -> bool,
    min_confidence: f64,
) -> Vec<Recurring> {
    let mut kept: Vec<Recurring> = Vec::new();
    for period in PERIODS_MIN {
        if end.saturating_sub(first) < MIN_PERIODS * period {
            continue;
        }
        let mut phases: Vec<u64> = surges.iter().map(|s| s.minute % period).collect();
        phases.sort_unstable();
        phases.dedup();
        for phase in phases {
            let explained = kept
                .iter()
                .any(|k| period % k.period_min == 0 && k.covers(phase));
            let tried_nearby = kept
                .iter()
                .any(|k| k.period_min == period && k.covers(phase));
            if explained || tried_nearby {
                continue;
            }
            if let Some(found) = at_phase(surges, period, phase, first, end, known) {
                if found.hits as u64 >= MIN_PERIODS && found.confidence() >= min_confidence {
                    kept.push(found);
                }
            }
        }
    }
    kept
}

/// How often surges began within a minute of `phase` of each `period` over
/// minutes `first..end`.
fn at_phase(
    surges: &[Surge],
    period: u64,
    phase: u64,
    first: u64,
    end: u64,
    known: &dyn Fn(u64) -> bool,
) -> Option<Recurring> {
    let (mut hits, mut seen) = (0u32, 0u32);
    // Starts one minute before, at and one minute after the phase.
    let mut starts = [0u32; 3];
    // Each hit's start (0 to 2, as `starts` counts them) and earliest second.
    let mut landed = Vec::new();
    let (mut sizes, mut peaks, mut baselines) = (Vec::new(), Vec::new(), Vec::new());
    let mut start = first - first % period + phase;
    if start < first {
        start += period;
    }
    let mut minute = start;
    // The last minute of the history is still being counted: not yet seen.
    while minute + 1 < end {
        if known(minute) {
            seen += 1;
            let lo = surges.partition_point(|s| s.minute + 1 < minute);
            if let Some(s) = surges[lo..]
                .iter()
                .take_while(|s| s.minute <= minute + 1)
                .next()
            {
                hits += 1;
                let start = (s.minute + 1 - minute).min(2) as usize;
                starts[start] += 1;
                landed.push((start, s.earliest_second()));
                sizes.push(s.messages);
                peaks.push(s.peak_per_minute);
                baselines.push(s.baseline_per_minute);
            }
        }
        minute += period;
    }
    if seen == 0 {
        return None;
    }
    let (first_offset_min, last_offset_min) = landing_offsets(starts);
    let earliest_second = earliest_in_first_minute(&landed, first_offset_min);
    Some(Recurring {
        period_min: period,
        phase_min: phase,
        messages: median(&mut sizes),
        peak_per_minute: median(&mut peaks),
        baseline_per_minute: median(&mut baselines),
        hits,
        seen,
        first_offset_min,
        last_offset_min,
        earliest_second,
    })
}

/// The earliest second that the surges which began in the landing window's
/// first minute (`first_offset_min` from the phase) can have begun at, of
/// `landed`'s (start, earliest second) pairs: tasks ready then are ready for
/// every one of them. 0 when none began there.
fn earliest_in_first_minute(landed: &[(usize, u64)], first_offset_min: i64) -> u64 {
    landed
        .iter()
        .filter(|(start, _)| *start as i64 - 1 == first_offset_min)
        .map(|(_, second)| *second)
        .min()
        .unwrap_or(0)
}

/// The first and last offset from the phase (−1 to 1) of the minutes surges
/// began in, `starts` counting them a minute before, at and a minute after it,
/// without the edge minutes that together hold at most [`RARE_START_SHARE`]
/// of them from their side.
fn landing_offsets(starts: [u32; 3]) -> (i64, i64) {
    let total = f64::from(starts.iter().sum::<u32>());
    if total == 0.0 {
        return (0, 0);
    }
    let rare = |count: u32| f64::from(count) <= RARE_START_SHARE * total;
    let mut first = 0;
    while first < 2 && rare(starts[..=first].iter().sum()) {
        first += 1;
    }
    let mut last = 2;
    while last > first && rare(starts[last..].iter().sum()) {
        last -= 1;
    }
    (first as i64 - 1, last as i64 - 1)
}

/// The middle value (the upper one of an even count), 0 for none.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surges(minutes: impl Iterator<Item = u64>) -> Vec<Surge> {
        minutes
            .map(|minute| Surge {
                minute,
                messages: 5000.0,
                peak_per_minute: 4000.0,
                baseline_per_minute: 60.0,
                first_minute: 4000.0,
                second_minute: 1000.0,
            })
            .collect()
    }

    #[test]
    fn an_hourly_dump_is_found_once_at_its_minute() {
        // Every hour at :00 for two days; nothing else.
        let found = recurring(&surges((0..48).map(|h| h * 60)), 0, 48 * 60, &|_| true, 0.7);
        assert_eq!(found.len(), 1, "{found:?}");
        let hourly = found[0];
        assert_eq!((hourly.period_min, hourly.phase_min), (60, 0));
        assert_eq!((hourly.hits, hourly.seen), (48, 48));
        assert_eq!(hourly.messages, 5000.0);
    }

    #[test]
    fn business_hours_dumps_are_daily_and_random_ones_are_nothing() {
        // Nine dumps a day, 09:00 to 17:00, for a week: daily, not hourly.
        let business = (0..7).flat_map(|d| (9..18).map(move |h| d * 1440 + h * 60));
        let found = recurring(&surges(business), 0, 7 * 1440, &|_| true, 0.7);
        assert_eq!(found.len(), 9, "{found:?}");
        assert!(found.iter().all(|r| r.period_min == 1440));
        // Fifty dumps at pseudo-random minutes over a week: nothing recurs.
        let mut x = 12345u64;
        let random = (0..50).map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % (7 * 1440)
        });
        let mut random: Vec<Surge> = surges(random);
        random.sort_by_key(|s| s.minute);
        assert!(recurring(&random, 0, 7 * 1440, &|_| true, 0.7).is_empty());
    }

    #[test]
    fn a_surge_that_lands_late_in_its_minute_is_expected_through_the_next() {
        // Every hour, at :10 in half the hours and counted at :11 in the other
        // half (it lands late in :10): expected from :10 to :11.
        let late = (0..48).map(|h| h * 60 + 10 + h % 2);
        let found = recurring(&surges(late), 0, 48 * 60, &|_| true, 0.7);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].phase_min, found[0].hits), (10, 48));
        assert_eq!(found[0].landing(130), 130..=131);
        // Counted at :11 in one hour of twelve: a rare minute, left out.
        let rarely = (0..48).map(|h| h * 60 + 10 + u64::from(h % 12 == 5));
        let found = recurring(&surges(rarely), 0, 48 * 60, &|_| true, 0.7);
        assert_eq!(found[0].landing(130), 130..=130);
        // The edges are trimmed from each side, never the whole window.
        assert_eq!(landing_offsets([1, 2, 17]), (0, 1));
        assert_eq!(landing_offsets([0, 1, 19]), (1, 1));
        assert_eq!(landing_offsets([5, 5, 5]), (-1, 1));
        assert_eq!(landing_offsets([0, 0, 0]), (0, 0));
    }

    #[test]
    fn surges_that_spill_into_the_next_minute_are_expected_late_in_their_first() {
        let spill = |minute, first: f64, second: f64| Surge {
            minute,
            messages: first + second,
            peak_per_minute: first.max(second),
            baseline_per_minute: 60.0,
            first_minute: first,
            second_minute: second,
        };
        // Every hour at :10, spilling into :11: 1,000 then 3,000 (at second 40
        // at the earliest) or 2,000 then 4,000 (30): ready at :10:30.
        let hours: Vec<Surge> = (0..48)
            .map(|h| match h % 2 {
                0 => spill(h * 60 + 10, 1000.0, 3000.0),
                _ => spill(h * 60 + 10, 2000.0, 4000.0),
            })
            .collect();
        let found = recurring(&hours, 0, 48 * 60, &|_| true, 0.7);
        assert_eq!((found[0].phase_min, found[0].earliest_second), (10, 30));
        // One that stayed within :10 can have begun at any second of it.
        let mut one_whole = hours.clone();
        one_whole[6] = spill(6 * 60 + 10, 4000.0, 0.0);
        let found = recurring(&one_whole, 0, 48 * 60, &|_| true, 0.7);
        assert_eq!(found[0].earliest_second, 0);
        // Only those that began in the first minute of the landing window
        // count: one first counted a minute later began later anyway.
        let mut some_later = hours.clone();
        some_later[7] = spill(7 * 60 + 11, 4000.0, 0.0);
        let found = recurring(&some_later, 0, 48 * 60, &|_| true, 0.7);
        assert_eq!(
            (found[0].landing(130), found[0].earliest_second),
            (130..=130, 30)
        );
    }

    #[test]
    fn a_surge_that_stopped_coming_loses_its_confidence() {
        // Hourly for a day, then not for a day.
        let found = recurring(&surges((0..24).map(|h| h * 60)), 0, 48 * 60, &|_| true, 0.7);
        assert!(found.is_empty(), "{found:?}");
        let found = recurring(&surges((0..24).map(|h| h * 60)), 0, 48 * 60, &|_| true, 0.4);
        assert_eq!(found[0].hits, 24);
    }
}
