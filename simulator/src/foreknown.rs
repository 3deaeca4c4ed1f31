//! A forecast that knows every surge of a trace before it lands: its second,
//! its size and its pace, read from the rate the trace's generator drew it at
//! ([`Trace::periodic_surge_rate`]).
//!
//! No forecaster can learn this. History tells a surge's minute, its usual
//! size and how often it comes, never this one's second or whether it comes
//! at all. Given to the anticipating policy in place of its learned pattern,
//! it bounds what a better forecaster could gain: the policy's own sizing,
//! hold and release stay, and so does the reactive rule beneath them. What is
//! left between that run and the oracle is not the forecast's to close.

use fast_autoscaler_core::forecast::{Pattern, Recurring};

use crate::trace::Trace;

/// The least rate, in messages a second, at which a second is part of a surge
/// (every recurring surge the generators draw comes faster than 1 a second;
/// the decaying login storm is cut where it falls below this).
const SURGE_RATE: f64 = 0.5;
/// A period no trace reaches: each surge is its own "recurring" one, expected
/// once.
const ONCE_MIN: u64 = 1 << 40;
/// The seconds before a surge whose arrivals are its baseline.
const BASELINE_S: usize = 600;

/// The pattern that expects each surge of `surge_rate` (messages a second
/// added to `trace`'s arrivals, second by second) exactly when, and as large
/// as, it comes: seen in 1 of 1 periods.
pub fn pattern(trace: &Trace, surge_rate: &[f64]) -> Pattern {
    let offset_s = trace.history_per_minute.len() * 60;
    let recurring = runs(surge_rate)
        .into_iter()
        .map(|(start, end)| {
            let unix_s = (offset_s + start) as u64;
            Recurring {
                period_min: ONCE_MIN,
                phase_min: unix_s / 60,
                messages: surge_rate[start..end].iter().sum(),
                peak_per_minute: busiest_minute(&surge_rate[start..end]),
                baseline_per_minute: baseline_per_minute(trace, surge_rate, start, end),
                hits: 1,
                seen: 1,
                first_offset_min: 0,
                last_offset_min: 0,
                earliest_second: unix_s % 60,
            }
        })
        .collect();
    Pattern {
        recurring,
        learned_at_minute: 0,
    }
}

/// The seconds `start..end` of each surge: runs at [`SURGE_RATE`] or faster.
fn runs(surge_rate: &[f64]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (t, rate) in surge_rate.iter().enumerate() {
        match (start, *rate >= SURGE_RATE) {
            (None, true) => start = Some(t),
            (Some(s), false) => {
                runs.push((s, t));
                start = None;
            }
            _ => {}
        }
    }
    runs.extend(start.map(|s| (s, surge_rate.len())));
    runs
}

/// The most messages in any 60 seconds of a surge: its pace, wherever its
/// minute boundaries fall.
fn busiest_minute(rate: &[f64]) -> f64 {
    let mut window: f64 = rate.iter().take(60).sum();
    let mut busiest = window;
    for t in 60..rate.len() {
        window += rate[t] - rate[t - 60];
        busiest = busiest.max(window);
    }
    busiest
}

/// The usual arrivals a minute around a surge: the trace's messages less the
/// surges' in the [`BASELINE_S`] before it (after it, for a surge at the very
/// start).
fn baseline_per_minute(trace: &Trace, surge_rate: &[f64], start: usize, end: usize) -> f64 {
    let window = if start >= 60 {
        start.saturating_sub(BASELINE_S)..start
    } else {
        end..(end + BASELINE_S).min(trace.arrivals.len())
    };
    let seconds = window.len().max(1) as f64;
    let messages: f64 = window
        .map(|t| trace.arrivals[t] - surge_rate.get(t).copied().unwrap_or(0.0))
        .sum();
    (messages / seconds * 60.0).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hourly_dump_is_expected_at_its_second_with_its_size() {
        let hourly = Trace::periodic("hourly", 6 * 3600).expect("built in");
        let rate = Trace::periodic_surge_rate("hourly", 6 * 3600).expect("built in");
        assert_eq!(rate.len(), hourly.arrivals.len());
        let pattern = pattern(&hourly, &rate);
        assert_eq!(pattern.recurring.len(), 6, "{pattern:?}");
        let week_min = (7 * 1440) as u64;
        let expected = pattern.expected(week_min + 59, week_min + 61);
        assert_eq!(expected.len(), 1, "{expected:?}");
        assert_eq!(
            (expected[0].minute, expected[0].earliest_second),
            (week_min + 60, 0)
        );
        assert!((expected[0].messages - 5000.0).abs() < 1.0, "{expected:?}");
        assert!((expected[0].peak_per_minute - 5000.0).abs() < 1.0);
        // Thursday night: about 1 message a second besides the dump.
        assert!((30.0..90.0).contains(&expected[0].baseline_per_minute));
        assert!(pattern.expected(week_min + 2, week_min + 58).is_empty());
    }

    #[test]
    fn the_foreknown_strategy_anticipates_from_the_pattern_it_is_given() {
        use crate::strategy::{anticipating_policy, example_policy, fast, recommended_policy};
        use crate::{run, Strategy, Workload};
        let workload = Workload {
            mu: 1.0,
            startup_s: 45,
            consumption_counter: false,
        };
        let hourly = Trace::periodic("hourly", 6 * 3600).expect("built in");
        let rate = Trace::periodic_surge_rate("hourly", 6 * 3600).expect("built in");
        let foreknown = |pattern: Pattern| Strategy::Foreknown {
            name: "foreknown".into(),
            tick_s: 10,
            policy: Box::new(anticipating_policy(workload)),
            pattern: Box::new(pattern),
        };
        let bounds = example_policy();
        // Told of no surge, it is the reactive rule alone.
        let told_nothing = run(&hourly, workload, &bounds, &foreknown(Pattern::default()));
        let reactive = run(
            &hourly,
            workload,
            &bounds,
            &fast("reactive", 10, &recommended_policy(workload)),
        );
        assert_eq!(
            (told_nothing.p99_wait_s, told_nothing.task_seconds),
            (reactive.p99_wait_s, reactive.task_seconds)
        );
        // Told of every dump, its tasks meet each one.
        let told = run(
            &hourly,
            workload,
            &bounds,
            &foreknown(pattern(&hourly, &rate)),
        );
        let backlog_after_dumps = told
            .series
            .iter()
            .filter(|(t, _, _)| t % 3600 == 60 && *t > 3600)
            .map(|(_, backlog, _)| *backlog)
            .fold(0.0, f64::max);
        assert!(backlog_after_dumps < 200.0, "{:?}", told.series);
        assert!(told.p99_wait_s < reactive.p99_wait_s / 1.5, "{told:?}");
    }

    #[test]
    fn a_late_surge_is_expected_at_its_own_second() {
        let quarter = Trace::periodic("quarter-hourly", 3600).expect("built in");
        let rate = Trace::periodic_surge_rate("quarter-hourly", 3600).expect("built in");
        let pattern = pattern(&quarter, &rate);
        assert_eq!(pattern.recurring.len(), 4);
        for surge in &pattern.recurring {
            let start_s = (surge.phase_min * 60 + surge.earliest_second) as usize - 7 * 86_400;
            assert_eq!(rate[start_s], 30.0);
            assert!(start_s == 0 || rate[start_s - 1] == 0.0);
            assert!((surge.messages - 900.0).abs() < 1e-6, "{surge:?}");
        }
        let random = Trace::random_periodic_surge_rate(4001, 86_400);
        assert_eq!(random.len(), 86_400);
        assert!(random.iter().any(|r| *r >= SURGE_RATE));
    }
}
