//! Scheduled bounds: windows of the week, in a time zone, that set `min_tasks` and
//! `max_tasks` while they hold (more workers in business hours, none at night).
//!
//! A window is a set of days and a time of day from–to in its zone's local time;
//! a window whose `to` is not after its `from` runs past midnight into the next
//! day, and `from` = `to` is the whole day. The first window that holds wins;
//! outside every window the service's own bounds apply. Local time follows the
//! zone's daylight saving rules (the zone database is compiled in).

use serde::Serialize;

use super::decision::Observation;
use crate::settings::PolicySettings;

/// Days of the week, Monday first, as the configuration spells them.
pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One window of scheduled bounds, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoundsWindow {
    /// The days it starts on, as written (`mon-fri`, `sat,sun`, `daily`).
    pub days: String,
    /// Bit `d` set: the window starts on day `d` (0 = Monday).
    #[serde(skip)]
    pub day_mask: u8,
    /// `HH:MM`, as written.
    pub from: String,
    pub to: String,
    #[serde(skip)]
    pub from_minute: u16,
    #[serde(skip)]
    pub to_minute: u16,
    /// An IANA time zone name (`Europe/Paris`), or `UTC`.
    pub timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_tasks: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tasks: Option<u32>,
}

impl BoundsWindow {
    /// Whether the window holds at `now_ms`.
    pub fn holds_at(&self, now_ms: u64) -> bool {
        let Ok(zone) = jiff::tz::TimeZone::get(&self.timezone) else {
            // Validated at cold start; never scale on a zone that vanished.
            return false;
        };
        let Ok(instant) = jiff::Timestamp::from_millisecond(now_ms as i64) else {
            return false;
        };
        let local = instant.to_zoned(zone);
        let day = local.weekday().to_monday_zero_offset() as u8;
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.holds(day, minute)
    }

    /// Whether the window holds on local day `day` (0 = Monday) at `minute` of it.
    pub fn holds(&self, day: u8, minute: u16) -> bool {
        let starts_on = |d: u8| self.day_mask & (1 << d) != 0;
        let yesterday = (day + 6) % 7;
        if self.from_minute < self.to_minute {
            starts_on(day) && (self.from_minute..self.to_minute).contains(&minute)
        } else {
            // Past midnight (or the whole day when from = to): today from `from`
            // on, and the window begun yesterday until `to`.
            (starts_on(day) && minute >= self.from_minute)
                || (starts_on(yesterday) && minute < self.to_minute)
        }
    }

    fn label(&self) -> String {
        format!("{} {}–{} {}", self.days, self.from, self.to, self.timezone)
    }
}

/// The settings with the bounds of the window that holds now, and a note for the
/// reason; the settings as they are when no window holds.
pub fn at_time<'a>(
    policy: &'a PolicySettings,
    observed: &Observation<'_>,
) -> (std::borrow::Cow<'a, PolicySettings>, Option<String>) {
    let Some(window) = policy
        .scheduled_bounds
        .iter()
        .find(|w| w.holds_at(observed.now_ms))
    else {
        return (std::borrow::Cow::Borrowed(policy), None);
    };
    let mut scheduled = policy.clone();
    scheduled.min_tasks = window.min_tasks.unwrap_or(policy.min_tasks);
    scheduled.max_tasks = window.max_tasks.unwrap_or(policy.max_tasks);
    let note = format!(
        "scheduled bounds {}..={} ({})",
        scheduled.min_tasks,
        scheduled.max_tasks,
        window.label()
    );
    (std::borrow::Cow::Owned(scheduled), Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: u8, from: u16, to: u16) -> BoundsWindow {
        BoundsWindow {
            days: "test".into(),
            day_mask: days,
            from: String::new(),
            to: String::new(),
            from_minute: from,
            to_minute: to,
            timezone: "Europe/Paris".into(),
            min_tasks: Some(10),
            max_tasks: None,
        }
    }

    const WEEKDAYS: u8 = 0b001_1111;

    #[test]
    fn a_daytime_window_holds_on_its_days_between_its_times() {
        let business = window(WEEKDAYS, 8 * 60, 18 * 60);
        assert!(business.holds(0, 8 * 60));
        assert!(business.holds(4, 17 * 60 + 59));
        assert!(!business.holds(4, 18 * 60), "to is exclusive");
        assert!(!business.holds(5, 12 * 60), "not on Saturday");
    }

    #[test]
    fn a_night_window_runs_past_midnight_into_the_next_day() {
        // Friday 22:00 to 06:00: Saturday early morning too, not Friday morning.
        let night = window(1 << 4, 22 * 60, 6 * 60);
        assert!(night.holds(4, 23 * 60));
        assert!(night.holds(5, 5 * 60));
        assert!(!night.holds(4, 5 * 60));
        assert!(!night.holds(5, 22 * 60));
        // from = to: the whole day it starts on.
        let all_day = window(1 << 6, 0, 0);
        assert!(all_day.holds(6, 0) && all_day.holds(6, 23 * 60 + 59));
        assert!(!all_day.holds(0, 0));
    }

    #[test]
    fn local_time_follows_the_zone_and_its_daylight_saving() {
        let business = window(WEEKDAYS, 8 * 60, 18 * 60);
        // Monday 2026-03-30 06:30 UTC is 08:30 in Paris (summer time, UTC+2).
        let summer_ms = 1_774_852_200_000;
        assert!(business.holds_at(summer_ms));
        // Monday 2026-01-05 06:30 UTC is 07:30 in Paris (UTC+1): not yet.
        let winter_ms = 1_767_594_600_000;
        assert!(!business.holds_at(winter_ms));
    }
}
