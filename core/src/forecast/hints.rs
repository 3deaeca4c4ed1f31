//! Surges the configuration announces (`anticipation_hints`): the minutes a cron
//! expression names, in its time zone, with the size it gives.
//!
//! A hint is taken at its word (confidence 1) and its messages as arriving
//! within its first minute, all of them to plan for: its tasks stand beside the
//! reactive rule's, not on top of them, so a hint's size includes the usual
//! arrivals of that minute.

use super::{Evidence, Expected};
use crate::settings::SurgeHint;

/// The minutes in `from..=to` (Unix minutes) the hint names.
pub fn expected(hint: &SurgeHint, from: u64, to: u64) -> Vec<Expected> {
    let Ok(zone) = jiff::tz::TimeZone::get(&hint.timezone) else {
        // Validated when the configuration was read; a zone that vanished
        // announces nothing.
        return Vec::new();
    };
    (from..=to)
        .filter(|minute| {
            let Ok(instant) = jiff::Timestamp::from_second(*minute as i64 * 60) else {
                return false;
            };
            let local = instant.to_zoned(zone.clone());
            hint.schedule.is_time_matching(&local).unwrap_or(false)
        })
        .map(|minute| Expected {
            minute,
            last_minute: minute,
            earliest_second: 0,
            messages: hint.messages as f64,
            peak_per_minute: hint.messages as f64,
            baseline_per_minute: 0.0,
            evidence: Evidence::Hint {
                cron: hint.cron.clone(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::settings::policy_from_json;

    #[test]
    fn a_hint_names_its_minutes_in_its_time_zone() {
        let object = json!({
            "scaling_policy": "predictive",
            "task_throughput": 1,
            "anticipation": "on",
            "anticipation_hints": [{"cron": "30 9 * * mon-fri", "timezone": "Europe/Paris", "messages": 800}]
        });
        let policy = policy_from_json(object.as_object().expect("object")).expect("valid");
        let hint = &policy.anticipation.hints[0];
        // Friday 2026-12-04 09:30 in Paris is 08:30 UTC.
        let friday = jiff::Timestamp::from_second(1_796_373_000)
            .expect("valid")
            .as_second() as u64
            / 60;
        let found = expected(hint, friday - 5, friday + 5);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].minute, friday);
        assert_eq!(found[0].confidence(), 1.0);
        assert_eq!(found[0].evidence_text(), "the hint \"30 9 * * mon-fri\"");
        // Saturday, a day later: nothing.
        assert!(expected(hint, friday + 1440 - 5, friday + 1440 + 5).is_empty());
    }
}
