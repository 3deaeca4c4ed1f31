//! Anticipation: tasks ready when a recurring surge lands, with the reactive
//! rule as the floor.
//!
//! A surge expected in minute T (learned from the queue's history, see
//! [`crate::forecast`], or announced by a hint) is prepared for from
//! `T − task_startup − one tick`, so the tasks ordered at the first tick of
//! that window are working when T begins, until the end of minute T, or of
//! the last minute its surges were seen beginning in when they come at
//! different minutes (one that lands late in its minute is often first
//! counted in the next; see [`crate::forecast::Recurring`]). Ordering
//! later would leave the surge waiting for a start-up, which is what reacting
//! already does; ordering earlier pays for idle tasks. Once the surge is in
//! the queue the reactive rule wants the tasks itself.
//!
//! T is a second, not only a minute, when the history can tell: surges that
//! land late in their minute spill into the next, and how they split between
//! the two bounds how late they began ([`crate::forecast::surges::Surge::earliest_second`]).
//! The tasks are then ordered for the earliest second any of them began at,
//! not for the start of the minute: every surge seen would have found them
//! ready, and none would have found them idle for the seconds before. The
//! worker's own readings place a surge more closely still, to within a tick,
//! once it has seen it land a few times ([`crate::policy::landings`]): minute
//! counts cannot tell a short surge that lands late from a long one.
//!
//! The tasks are the predictive rule's arithmetic applied to that minute, with
//! the minute's arrivals as its rate λ: those that keep up with the usual
//! arrivals the history shows around it plus the surge's busiest minute,
//! `ceil((usual + peak) / 60 / (μ · utilization))`. Minute counts (what
//! CloudWatch keeps) cannot tell a dump within seconds from one spread over
//! its minute; one that comes faster leaves a backlog, which the reactive rule,
//! counting the tasks already there, drains at its next tick.
//!
//! It only adds: the count is the larger of that and what the reactive rule
//! wants, never less. Only surges seen in at least `anticipation_confidence` of
//! the past periods are prepared for (a pre-warm that finds no surge lowers the
//! next confidence, since it is one more period seen without one), so a queue
//! without a pattern is left to the reactive rule. When the surge does not
//! come, the tasks are released as idle tasks are, by scale-in stabilization.
//! `forecast_only` changes nothing and says in the reason what it would have
//! done.

use jiff::Timestamp;

use crate::forecast::{hints, Expected, Pattern};
use crate::policy::decision::Prewarm;
use crate::policy::landings;
use crate::policy::memory::Memory;
use crate::policy::reading::{tasks_ceil, Reading};
use crate::policy::rules::predictive::tick_seconds;
use crate::policy::rules::Wanted;
use crate::settings::{AnticipationMode, PolicyKind, PolicySettings};

/// The surge prepared for at this tick and the tasks it needs.
struct Prepared {
    surge: Expected,
    tasks: u64,
}

pub(crate) fn apply(
    policy: &PolicySettings,
    reading: &Reading<'_>,
    forecast: Option<&Pattern>,
    memory: &Memory,
    wanted: &mut Wanted,
) {
    let mode = policy.anticipation.mode;
    if mode == AnticipationMode::Off {
        return;
    }
    let PolicyKind::Predictive {
        task_throughput,
        task_startup_s,
        target_utilization,
        ..
    } = policy.kind
    else {
        return;
    };
    let now_s = reading.now_ms / 1000;
    let lead_s = task_startup_s + tick_seconds(memory, reading.now_ms).round() as u64;
    let expected = expected_around(policy, forecast, memory, now_s, lead_s);
    wanted.landing = landings::observe(&expected, reading, memory, task_throughput);
    let per_task = reading.measured.unwrap_or(task_throughput) * target_utilization;
    let confidence = policy.anticipation.min_confidence;
    let Some(prepared) = prepared(expected, now_s, lead_s, per_task, confidence) else {
        return;
    };
    let what = format!(
        "{} task(s) ready for the surge expected at {} ({}; {})",
        prepared.tasks,
        when(&prepared.surge),
        size(&prepared.surge),
        prepared.surge.evidence_text()
    );
    let forecast_only = mode == AnticipationMode::ForecastOnly;
    wanted.prewarm = Some(Prewarm {
        surge_at_s: prepared.surge.starts_s(),
        tasks: u32::try_from(prepared.tasks).unwrap_or(u32::MAX),
        added: u32::try_from(
            prepared
                .tasks
                .saturating_sub(wanted.count.max(u64::from(policy.min_tasks))),
        )
        .unwrap_or(u32::MAX),
        forecast_only,
    });
    match mode {
        AnticipationMode::ForecastOnly => wanted
            .why
            .push_str(&format!("; forecast only: would have {what}")),
        _ if prepared.tasks > wanted.count => wanted.set(prepared.tasks, format!("; {what}")),
        _ => wanted
            .why
            .push_str(&format!("; {what}: the reactive rule wants more")),
    }
}

/// The surges whose landing windows meet the minutes from the one before now
/// (for a landing counted a little late) to `now + lead`, each expected at the
/// later of the earliest seconds its minute counts and its landings tell.
fn expected_around(
    policy: &PolicySettings,
    forecast: Option<&Pattern>,
    memory: &Memory,
    now_s: u64,
    lead_s: u64,
) -> Vec<Expected> {
    let (from, to) = ((now_s / 60).saturating_sub(1), (now_s + lead_s) / 60);
    let mut expected = forecast.map(|p| p.expected(from, to)).unwrap_or_default();
    for surge in &mut expected {
        if let Some(second) = landings::earliest_second(surge, &memory.landings) {
            surge.earliest_second = surge.earliest_second.max(second.min(59));
        }
    }
    for hint in &policy.anticipation.hints {
        expected.extend(hints::expected(hint, from, to));
    }
    expected
}

/// The surge of the window this tick is in that needs the most tasks, if any
/// is confident enough.
fn prepared(
    expected: Vec<Expected>,
    now_s: u64,
    lead_s: u64,
    per_task: f64,
    min_confidence: f64,
) -> Option<Prepared> {
    expected
        .into_iter()
        .filter(|e| now_s + lead_s >= e.starts_s() && now_s < (e.last_minute + 1) * 60)
        .filter(|e| e.confidence() >= min_confidence)
        .map(|surge| {
            // The minute's arrivals as the rule's λ: a surge that comes faster
            // than its minute's mean leaves a backlog, the reactive rule's to drain.
            let rate = (surge.baseline_per_minute + surge.peak_per_minute) / 60.0;
            Prepared {
                tasks: tasks_ceil(rate / per_task),
                surge,
            }
        })
        .max_by_key(|p| p.tasks)
}

/// When a surge is expected: `14:00:00 UTC`; `14:00:40 UTC at the earliest`
/// when the history places its surges late in their first minute; and `, or up
/// to 1 minute(s) later` when they began in more than one minute.
fn when(surge: &Expected) -> String {
    let at = match surge.earliest_second {
        0 => clock(surge.starts_s()),
        _ => format!("{} at the earliest", clock(surge.starts_s())),
    };
    match surge.last_minute.saturating_sub(surge.minute) {
        0 => at,
        later => format!("{at}, or up to {later} minute(s) later"),
    }
}

/// A Unix second as the reason shows it: `14:00:00 UTC`.
fn clock(second: u64) -> String {
    match Timestamp::from_second(second as i64) {
        Ok(at) => at.strftime("%H:%M:%S UTC").to_string(),
        Err(_) => format!("second {second}"),
    }
}

fn size(surge: &Expected) -> String {
    if surge.peak_per_minute < surge.messages {
        format!(
            "≈{:.0} messages, up to {:.0} a minute",
            surge.messages, surge.peak_per_minute
        )
    } else {
        format!("≈{:.0} messages", surge.messages)
    }
}

#[cfg(test)]
mod tests {
    use crate::forecast::{Pattern, Recurring};
    use crate::policy::memory::Landing;
    use crate::policy::test_support::*;
    use crate::policy::*;
    use crate::settings::AnticipationMode;
    use crate::target::TargetLimits;

    /// 5,000 messages at minute 0 of every hour over 60 a minute, seen in 6 of 7.
    fn hourly(hits: u32) -> Pattern {
        Pattern {
            recurring: vec![Recurring {
                period_min: 60,
                phase_min: 0,
                messages: 5000.0,
                peak_per_minute: 3000.0,
                baseline_per_minute: 60.0,
                hits,
                seen: 7,
                first_offset_min: 0,
                last_offset_min: 0,
                earliest_second: 0,
            }],
            learned_at_minute: 0,
        }
    }

    fn anticipating(mode: AnticipationMode) -> PolicySettings {
        let mut policy = predictive_policy();
        policy.anticipation.mode = mode;
        policy
    }

    /// The decision at `now_s` on an empty queue with 2 tasks, after a tick 10 s
    /// before: the reactive rule alone wants 1, the minimum.
    fn decide(policy: &PolicySettings, pattern: &Pattern, now_s: u64) -> Decision {
        let metrics = visible(0);
        let (_, memory) = recommend_with_memory(
            policy,
            &at(&metrics, 2, 2, (now_s - 10) * 1000),
            &Memory::default(),
        );
        let observed = Observation {
            forecast: Some(pattern),
            limits: TargetLimits::default(),
            ..at(&metrics, 2, 2, now_s * 1000)
        };
        recommend_with_memory(policy, &observed, &memory).0
    }

    #[test]
    fn tasks_are_ordered_a_start_up_and_a_tick_ahead_and_held_through_the_minute() {
        let policy = anticipating(AnticipationMode::On);
        let pattern = hourly(6);
        // The surge lands at 22:00:00 UTC (Unix minute 29,568,840 is a whole hour).
        let lands_s = 29_568_840 * 60;
        // 60 s before: past the 45 s start-up and a 10 s tick: nothing yet.
        assert_eq!(decide(&policy, &pattern, lands_s - 60).new_desired, 1);
        // 55 s before: (60 + 3000) / 60 = 51 tasks, ready when it lands.
        let d = decide(&policy, &pattern, lands_s - 55);
        assert_eq!(d.new_desired, 51, "{}", d.reason);
        assert!(
            d.reason.contains("51 task(s) ready for the surge expected at 22:00:00 UTC (≈5000 messages, up to 3000 a minute; seen in 6 of the last 7 hours at this minute)"),
            "{}",
            d.reason
        );
        // The decision carries it for the log line: 50 above the reactive 1.
        let prewarm = Prewarm {
            surge_at_s: lands_s,
            tasks: 51,
            added: 50,
            forecast_only: false,
        };
        assert_eq!(d.prewarm, Some(prewarm));
        // Held through its minute, then left to the reactive rule.
        assert_eq!(decide(&policy, &pattern, lands_s + 59).new_desired, 51);
        assert_eq!(decide(&policy, &pattern, lands_s + 60).new_desired, 1);
    }

    #[test]
    fn a_surge_known_to_land_late_in_its_minute_is_prepared_for_that_second() {
        let policy = anticipating(AnticipationMode::On);
        let mut pattern = hourly(6);
        pattern.recurring[0].earliest_second = 40;
        let lands_s = 29_568_840 * 60;
        // Tasks ordered 55 s before 22:00:40, not before 22:00:00.
        assert_eq!(decide(&policy, &pattern, lands_s - 55).new_desired, 1);
        assert_eq!(decide(&policy, &pattern, lands_s - 20).new_desired, 1);
        let d = decide(&policy, &pattern, lands_s - 15);
        assert_eq!(d.new_desired, 51, "{}", d.reason);
        assert!(
            d.reason
                .contains("expected at 22:00:40 UTC at the earliest (≈5000"),
            "{}",
            d.reason
        );
        assert_eq!(d.prewarm.map(|p| p.surge_at_s), Some(lands_s + 40));
        // Still held to the end of the minute.
        assert_eq!(decide(&policy, &pattern, lands_s + 59).new_desired, 51);
    }

    #[test]
    fn a_surge_seen_landing_late_is_prepared_for_the_second_its_landings_tell() {
        let policy = anticipating(AnticipationMode::On);
        let pattern = hourly(6);
        let lands_s = 29_568_840 * 60;
        // Seen landing 30 to 45 s into its minute in the last four hours: from
        // 30 − 15 / 3 = 25 s on, where the minute counts could not tell.
        let landings: Vec<Landing> = [30, 45, 40, 35]
            .iter()
            .zip(1..)
            .map(|(after_s, hours_ago)| Landing {
                period_min: 60,
                window_minute: 0,
                window_start_s: lands_s - hours_ago * 3600,
                after_s: *after_s,
            })
            .collect();
        let decide_at = |now_s: u64| {
            let metrics = visible(0);
            let before = at(&metrics, 2, 2, (now_s - 10) * 1000);
            let (_, mut memory) = recommend_with_memory(&policy, &before, &Memory::default());
            memory.landings = landings.clone();
            let observed = Observation {
                forecast: Some(&pattern),
                limits: TargetLimits::default(),
                ..at(&metrics, 2, 2, now_s * 1000)
            };
            recommend_with_memory(&policy, &observed, &memory).0
        };
        assert_eq!(decide_at(lands_s - 31).new_desired, 1);
        let d = decide_at(lands_s - 30);
        assert_eq!(d.new_desired, 51, "{}", d.reason);
        assert!(
            d.reason
                .contains("expected at 22:00:25 UTC at the earliest (≈5000"),
            "{}",
            d.reason
        );
    }

    #[test]
    fn a_landing_is_the_reading_before_the_arrivals_jumped_once_a_window() {
        let policy = anticipating(AnticipationMode::On);
        let pattern = hourly(6);
        let lands_s = 29_568_840 * 60;
        let tick = |backlog: u64, now_s: u64, memory: &Memory| {
            let metrics = visible(backlog);
            let observed = Observation {
                forecast: Some(&pattern),
                limits: TargetLimits::default(),
                ..at(&metrics, 51, 51, now_s * 1000)
            };
            recommend_with_memory(&policy, &observed, memory).1
        };
        // Quiet at :10, then 1,000 waiting at :20 (100 a second, over the 26 a
        // second of the usual 60 a minute and half the surge's 3,000): it came
        // after :10.
        let quiet = tick(0, lands_s + 10, &Memory::default());
        assert!(quiet.landings.is_empty());
        let landed = tick(1000, lands_s + 20, &quiet);
        let expected = Landing {
            period_min: 60,
            window_minute: 0,
            window_start_s: lands_s,
            after_s: 10,
        };
        assert_eq!(landed.landings, vec![expected]);
        // Once a window: the next reading of the surge adds none.
        let more = tick(2000, lands_s + 30, &landed);
        assert_eq!(more.landings, vec![expected]);
        // Outside any window, a jump is no landing.
        let quiet = tick(0, lands_s + 600, &Memory::default());
        assert!(tick(1000, lands_s + 610, &quiet).landings.is_empty());
    }

    #[test]
    fn a_surge_often_first_counted_a_minute_late_is_prepared_for_through_that_minute() {
        let policy = anticipating(AnticipationMode::On);
        let mut pattern = hourly(6);
        pattern.recurring[0].last_offset_min = 1;
        let lands_s = 29_568_840 * 60;
        assert_eq!(decide(&policy, &pattern, lands_s - 55).new_desired, 51);
        let d = decide(&policy, &pattern, lands_s + 119);
        assert_eq!(d.new_desired, 51, "{}", d.reason);
        assert!(
            d.reason
                .contains("expected at 22:00:00 UTC, or up to 1 minute(s) later (≈5000"),
            "{}",
            d.reason
        );
        assert_eq!(decide(&policy, &pattern, lands_s + 120).new_desired, 1);
    }

    #[test]
    fn an_unsure_surge_and_forecast_only_change_nothing() {
        let lands_s = 29_568_840 * 60;
        let unsure = decide(
            &anticipating(AnticipationMode::On),
            &hourly(4),
            lands_s - 30,
        );
        assert_eq!(unsure.new_desired, 1, "{}", unsure.reason);
        let dry = decide(
            &anticipating(AnticipationMode::ForecastOnly),
            &hourly(6),
            lands_s - 30,
        );
        assert_eq!(dry.new_desired, 1);
        assert_eq!(
            dry.prewarm.map(|p| (p.added, p.forecast_only)),
            Some((50, true))
        );
        assert_eq!(unsure.prewarm, None);
        assert!(
            dry.reason
                .contains("forecast only: would have 51 task(s) ready"),
            "{}",
            dry.reason
        );
        let off = decide(&predictive_policy(), &hourly(7), lands_s - 30);
        assert_eq!(off.new_desired, 1);
    }

    #[test]
    fn the_reactive_rule_is_the_floor() {
        let policy = anticipating(AnticipationMode::On);
        let lands_s = 29_568_840 * 60;
        // A backlog of 20,000 already: the reactive rule wants more than the surge.
        let metrics = visible(20_000);
        let observed = Observation {
            forecast: Some(&hourly(7)),
            limits: TargetLimits::default(),
            ..at(&metrics, 2, 2, (lands_s - 30) * 1000)
        };
        let (d, _) = recommend_with_memory(&policy, &observed, &Memory::default());
        assert!(d.new_desired > 51, "{}", d.reason);
        assert_eq!(d.prewarm.map(|p| p.added), Some(0));
        assert!(
            d.reason.contains("the reactive rule wants more"),
            "{}",
            d.reason
        );
    }
}
