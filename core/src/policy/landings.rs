//! Landings: the second a recurring surge really comes, learned from the
//! readings.
//!
//! Minute counts (what CloudWatch keeps) bound how late in its first minute a
//! surge that spills into the next began
//! ([`crate::forecast::surges::Surge::earliest_second`]), but no closer than a
//! surge lasting a whole minute would allow: a 36-second dump split
//! 4,771 : 398 between two minutes is placed at second 0, though it began near
//! second 27. Minute counts cannot tell a 36-second dump from a 60-second one.
//! The worker reads the queue every tick, so it sees each landing to within a
//! tick: the reading before the one whose arrivals jumped saw none of it.
//! Anticipation keeps each landing in the policy memory (so in the service's
//! state) and, once it has seen [`MIN_LANDINGS`] of a surge, orders the tasks
//! for the earliest second they point to, when that is later than what the
//! minute counts say.
//!
//! # The estimate
//!
//! A surge that lands at a random second of its window lands, period after
//! period, like draws from a uniform distribution between its earliest and its
//! latest second. The earliest of n landings seen is later than the true
//! earliest, by an (n + 1)th of the spread on average, and
//! `min − (max − min) / (n − 1)` is the unbiased estimate of it. The tasks are
//! ready from there: a surge finds them still starting only when it comes
//! earlier than the spread of its landings so far suggests it can.
//!
//! A landing is a reading whose arrivals since the one before ran above the
//! surge's usual rate plus [`LANDING_SHARE`] of its busiest minute's, within
//! its landing window or the minute after it, once per window. One counted late
//! (a surge that builds up) places the tasks later by as much, and the
//! reactive rule meets its slow start; one counted early (a burst just before
//! it) places them earlier, which costs idle seconds only.

use super::memory::{Landing, Memory};
use super::rates::arrival_rate_since_last;
use super::reading::Reading;
use crate::forecast::Expected;

/// The fewest landings of a surge its second is estimated from.
pub const MIN_LANDINGS: usize = 4;

/// The most landings kept, of all the service's surges together: the newest.
pub const MAX_LANDINGS: usize = 64;

/// How far above its usual rate the arrivals since the last reading must run
/// to be a surge landing, as a share of its busiest minute's rate.
pub const LANDING_SHARE: f64 = 0.5;

/// Which surge this is: its period and its landing window's first minute
/// within that period. A hint's surges are not learned.
fn surge_key(surge: &Expected) -> Option<(u64, u64)> {
    let period_min = surge.period_min()?.max(1);
    Some((period_min, surge.minute % period_min))
}

/// The landing this reading shows: a surge of `expected` arriving now, within
/// its landing window or the minute after it, which no reading of that window
/// saw land yet.
pub(crate) fn observe(
    expected: &[Expected],
    reading: &Reading<'_>,
    memory: &Memory,
    task_throughput: f64,
) -> Option<Landing> {
    let last = memory.samples.last()?;
    let rate = arrival_rate_since_last(
        &memory.samples,
        reading.total,
        reading.busy,
        reading.metrics.dequeued_total,
        reading.measured.unwrap_or(task_throughput),
        reading.now_ms,
    )?;
    let now_s = reading.now_ms / 1000;
    expected.iter().find_map(|surge| {
        let (period_min, window_minute) = surge_key(surge)?;
        let window_start_s = surge.minute.saturating_mul(60);
        let window_end_s = surge.last_minute.saturating_add(2).saturating_mul(60);
        let open = (window_start_s..window_end_s).contains(&now_s);
        let seen = memory
            .landings
            .iter()
            .any(|l| l.period_min == period_min && l.window_start_s == window_start_s);
        let threshold = (surge.baseline_per_minute + LANDING_SHARE * surge.peak_per_minute) / 60.0;
        (open && !seen && rate > threshold).then(|| Landing {
            period_min,
            window_minute,
            window_start_s,
            after_s: (last.at_ms / 1000).saturating_sub(window_start_s),
        })
    })
}

/// The earliest second of its first minute `surge` can land at, as its
/// landings tell: `None` with fewer than [`MIN_LANDINGS`] of them.
pub(crate) fn earliest_second(surge: &Expected, landings: &[Landing]) -> Option<u64> {
    let (period_min, window_minute) = surge_key(surge)?;
    let seconds: Vec<f64> = landings
        .iter()
        .filter(|l| l.period_min == period_min && l.window_minute == window_minute)
        .map(|l| l.after_s as f64)
        .collect();
    if seconds.len() < MIN_LANDINGS {
        return None;
    }
    let earliest = seconds.iter().copied().fold(f64::INFINITY, f64::min);
    let latest = seconds.iter().copied().fold(0.0, f64::max);
    let estimate = earliest - (latest - earliest) / (seconds.len() - 1) as f64;
    Some(estimate.max(0.0).floor() as u64)
}

/// Keeps `landing`, if any, dropping the oldest past [`MAX_LANDINGS`].
pub(crate) fn remember(memory: &mut Memory, landing: Option<Landing>) {
    let Some(landing) = landing else {
        return;
    };
    memory.landings.push(landing);
    let excess = memory.landings.len().saturating_sub(MAX_LANDINGS);
    memory.landings.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::Evidence;

    /// A half-hourly surge landing in minute `minute` or the next.
    fn surge(minute: u64) -> Expected {
        Expected {
            minute,
            last_minute: minute + 1,
            earliest_second: 0,
            messages: 5000.0,
            peak_per_minute: 4000.0,
            baseline_per_minute: 120.0,
            evidence: Evidence::History {
                period_min: 30,
                hits: 6,
                seen: 7,
            },
        }
    }

    fn landing(window_start_min: u64, after_s: u64) -> Landing {
        Landing {
            period_min: 30,
            window_minute: window_start_min % 30,
            window_start_s: window_start_min * 60,
            after_s,
        }
    }

    #[test]
    fn the_earliest_second_is_estimated_without_bias_from_enough_landings() {
        let at = |minute: u64, after_s| landing(minute, after_s);
        // Three landings are too few.
        let few = [at(19, 30), at(49, 45), at(79, 40)];
        assert_eq!(earliest_second(&surge(109), &few), None);
        // Four, from 30 to 45 s: 30 − 15 / 3 = 25.
        let four = [at(19, 30), at(49, 45), at(79, 40), at(109, 35)];
        assert_eq!(earliest_second(&surge(139), &four), Some(25));
        // Never before the window: 0 − 40 / 3 < 0.
        let spread = [at(19, 0), at(49, 40), at(79, 20), at(109, 10)];
        assert_eq!(earliest_second(&surge(139), &spread), Some(0));
        // Another surge's landings (another minute, another period) say nothing.
        let other = [at(20, 30), at(50, 45), at(80, 40), at(110, 35)];
        assert_eq!(earliest_second(&surge(139), &other), None);
        let mut hint = surge(139);
        hint.evidence = Evidence::Hint {
            cron: "0 * * * *".into(),
        };
        assert_eq!(earliest_second(&hint, &four), None);
    }

    #[test]
    fn only_the_newest_landings_are_kept() {
        let mut memory = Memory::default();
        for k in 0..(MAX_LANDINGS as u64 + 5) {
            remember(&mut memory, Some(landing(19 + 30 * k, k)));
        }
        remember(&mut memory, None);
        assert_eq!(memory.landings.len(), MAX_LANDINGS);
        assert_eq!(memory.landings[0].after_s, 5);
    }
}
