//! Reading `scheduled_bounds`: a JSON array of windows (the document's key, or the
//! `SCHEDULED_BOUNDS` variable holding the same JSON), each checked field by field.
//!
//! ```json
//! {"days": "mon-fri", "from": "08:00", "to": "18:00", "timezone": "Europe/Paris",
//!  "min_tasks": 10, "max_tasks": 100}
//! ```

use serde_json::{Map, Value};

use super::issues::ConfigIssue;
use super::keys::TASKS_LIMIT;
use crate::policy::scheduled_bounds::{BoundsWindow, DAY_NAMES};

const WINDOW_KEYS: [&str; 6] = ["days", "from", "to", "timezone", "min_tasks", "max_tasks"];

/// The service's own bounds, which a window's missing one falls back to.
#[derive(Clone, Copy)]
pub struct OwnBounds {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// Every window of `value`, or `None` after recording each problem in `issues`.
pub fn windows(
    value: &Value,
    field: &str,
    own: OwnBounds,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Vec<BoundsWindow>> {
    let Some(items) = value.as_array() else {
        issues.push(issue(field, value, "a JSON array of windows such as [{\"days\": \"mon-fri\", \"from\": \"08:00\", \"to\": \"18:00\", \"timezone\": \"Europe/Paris\", \"min_tasks\": 10}]"));
        return None;
    };
    let before = issues.len();
    let windows: Vec<Option<BoundsWindow>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| window(item, &format!("{field}[{i}]"), own, issues))
        .collect();
    if issues.len() > before {
        return None;
    }
    windows.into_iter().collect()
}

fn window(
    item: &Value,
    field: &str,
    own: OwnBounds,
    issues: &mut Vec<ConfigIssue>,
) -> Option<BoundsWindow> {
    let Some(object) = item.as_object() else {
        issues.push(issue(
            field,
            item,
            "an object with days, from, to, timezone, and min_tasks or max_tasks",
        ));
        return None;
    };
    for (key, value) in object {
        if !WINDOW_KEYS.contains(&key.as_str()) {
            let expected = format!("a known key; valid keys here: {}", WINDOW_KEYS.join(", "));
            issues.push(issue(&format!("{field}.{key}"), value, &expected));
        }
    }
    let days = text(object, field, "days", Some("daily"), issues).and_then(|d| {
        let mask = day_mask(&d);
        if mask.is_none() {
            let expected = "days such as mon-fri, sat,sun, fri-mon, weekdays, weekends or daily";
            issues.push(issue(
                &format!("{field}.days"),
                &Value::String(d.clone()),
                expected,
            ));
        }
        Some((d, mask?))
    });
    let from = time_of_day(object, field, "from", issues);
    let to = time_of_day(object, field, "to", issues);
    let timezone = text(object, field, "timezone", Some("UTC"), issues).filter(|zone| {
        let known = jiff::tz::TimeZone::get(zone).is_ok();
        if !known {
            let expected = "an IANA time zone name such as Europe/Paris, America/New_York or UTC";
            issues.push(issue(
                &format!("{field}.timezone"),
                &Value::String(zone.clone()),
                expected,
            ));
        }
        known
    });
    let (min_tasks, max_tasks) = bounds(object, field, own, issues)?;
    let ((days, day_mask), (from, from_minute), (to, to_minute)) = (days?, from?, to?);
    Some(BoundsWindow {
        days,
        day_mask,
        from,
        to,
        from_minute,
        to_minute,
        timezone: timezone?,
        min_tasks,
        max_tasks,
    })
}

/// The window's `min_tasks` and `max_tasks`: at least one, and min ≤ max once the
/// service's own bound fills in the other.
fn bounds(
    object: &Map<String, Value>,
    field: &str,
    own: OwnBounds,
    issues: &mut Vec<ConfigIssue>,
) -> Option<(Option<u32>, Option<u32>)> {
    let count = |key: &str, issues: &mut Vec<ConfigIssue>| -> Option<Option<u32>> {
        let Some(value) = object.get(key) else {
            return Some(None);
        };
        match value.as_u64().filter(|n| *n <= TASKS_LIMIT) {
            Some(n) => Some(Some(n as u32)),
            None => {
                let expected = format!("a whole number from 0 to {TASKS_LIMIT}");
                issues.push(issue(&format!("{field}.{key}"), value, &expected));
                None
            }
        }
    };
    let (min, max) = (count("min_tasks", issues)?, count("max_tasks", issues)?);
    if min.is_none() && max.is_none() {
        let expected = "min_tasks, max_tasks or both: what the window changes";
        issues.push(issue(field, &Value::Object(object.clone()), expected));
        return None;
    }
    let lowest = min.map(u64::from).or(own.min);
    let highest = max.map(u64::from).or(own.max);
    if let (Some(lowest), Some(highest)) = (lowest, highest) {
        if lowest > highest {
            // Name the bound the window sets; the other one is the service's own.
            let (key, value, expected) = match min {
                Some(_) => (
                    "min_tasks",
                    lowest,
                    format!("at most max_tasks = {highest} in this window"),
                ),
                None => (
                    "max_tasks",
                    highest,
                    format!("at least the service's min_tasks = {lowest}"),
                ),
            };
            issues.push(issue(
                &format!("{field}.{key}"),
                &Value::from(value),
                &expected,
            ));
            return None;
        }
    }
    Some((min, max))
}

fn text(
    object: &Map<String, Value>,
    field: &str,
    key: &str,
    default: Option<&str>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<String> {
    match object.get(key) {
        None => {
            if default.is_none() {
                issues.push(ConfigIssue {
                    field: format!("{field}.{key}"),
                    value: "<missing>".into(),
                    expected: "a time of day, HH:MM (24-hour)".into(),
                });
            }
            default.map(String::from)
        }
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(other) => {
            issues.push(issue(&format!("{field}.{key}"), other, "a string"));
            None
        }
    }
}

/// `HH:MM` as written and as minutes since midnight.
fn time_of_day(
    object: &Map<String, Value>,
    field: &str,
    key: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<(String, u16)> {
    let written = text(object, field, key, None, issues)?;
    let minute = written.split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
        (h < 24 && m < 60 && written.len() == 5).then_some(h * 60 + m)
    });
    if minute.is_none() {
        let expected = "a time of day, HH:MM (24-hour), e.g. 08:00 or 18:30";
        issues.push(issue(
            &format!("{field}.{key}"),
            &Value::String(written.clone()),
            expected,
        ));
    }
    Some((written, minute?))
}

/// The days a window starts on: names, ranges (wrapping past Sunday) and lists.
fn day_mask(days: &str) -> Option<u8> {
    let day = |name: &str| DAY_NAMES.iter().position(|d| *d == name);
    let mut mask = 0u8;
    for part in days.to_ascii_lowercase().split(',').map(str::trim) {
        mask |= match part {
            "daily" => 0b111_1111,
            "weekdays" => 0b001_1111,
            "weekends" => 0b110_0000,
            _ => match part.split_once('-') {
                Some((first, last)) => {
                    let (first, last) = (day(first.trim())?, day(last.trim())?);
                    let span = (last + 7 - first) % 7;
                    (0..=span).fold(0, |m, k| m | 1 << ((first + k) % 7))
                }
                None => 1 << day(part)?,
            },
        };
    }
    (mask != 0).then_some(mask)
}

fn issue(field: &str, value: &Value, expected: &str) -> ConfigIssue {
    ConfigIssue {
        field: field.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OWN: OwnBounds = OwnBounds {
        min: Some(1),
        max: Some(50),
    };

    fn problems(value: Value) -> Vec<String> {
        let mut issues = Vec::new();
        let parsed = windows(&value, "scheduled_bounds", OWN, &mut issues);
        assert_eq!(parsed.is_none(), !issues.is_empty());
        issues.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn days_take_names_ranges_lists_and_words() {
        assert_eq!(day_mask("mon-fri"), Some(0b001_1111));
        assert_eq!(day_mask("sat,sun"), Some(0b110_0000));
        assert_eq!(day_mask("fri-mon"), Some(0b111_0001));
        assert_eq!(day_mask("Weekdays"), day_mask("mon-fri"));
        assert_eq!(day_mask("daily"), Some(0b111_1111));
        assert_eq!(day_mask("someday"), None);
        assert_eq!(day_mask("mon-"), None);
    }

    #[test]
    fn a_valid_window_is_read_with_its_defaults() {
        let mut issues = Vec::new();
        let parsed = windows(
            &json!([{"days": "mon-fri", "from": "08:00", "to": "18:00", "min_tasks": 10}]),
            "scheduled_bounds",
            OWN,
            &mut issues,
        )
        .expect("valid");
        assert!(issues.is_empty());
        let w = &parsed[0];
        assert_eq!(
            (
                w.timezone.as_str(),
                w.from_minute,
                w.to_minute,
                w.min_tasks,
                w.max_tasks
            ),
            ("UTC", 480, 1080, Some(10), None)
        );
    }

    #[test]
    fn every_bad_field_is_named_with_what_is_valid() {
        let found = problems(json!([
            {"days": "someday", "from": "8am", "to": "18:00", "timezone": "Mars/Olympus", "min_tasks": 10, "colour": 1},
            {"from": "22:00", "to": "06:00"},
            {"from": "22:00", "to": "06:00", "min_tasks": 80},
            {"from": "22:00", "to": "06:00", "max_tasks": 0},
        ]));
        let expect = [
            "scheduled_bounds[0].colour = 1: expected a known key",
            "scheduled_bounds[0].days = \"someday\": expected days such as mon-fri",
            "scheduled_bounds[0].from = \"8am\": expected a time of day, HH:MM",
            "scheduled_bounds[0].timezone = \"Mars/Olympus\": expected an IANA time zone name",
            "scheduled_bounds[1] = {\"from\":\"22:00\",\"to\":\"06:00\"}: expected min_tasks, max_tasks or both",
            "scheduled_bounds[2].min_tasks = 80: expected at most max_tasks = 50",
            "scheduled_bounds[3].max_tasks = 0: expected at least the service's min_tasks = 1",
        ];
        for wanted in expect {
            assert!(
                found.iter().any(|f| f.starts_with(wanted)),
                "{wanted:?} not in {found:#?}"
            );
        }
        assert_eq!(found.len(), expect.len(), "{found:#?}");
        assert_eq!(
            problems(json!({"days": "daily"}))[0].split(':').next(),
            Some("scheduled_bounds = {\"days\"")
        );
    }
}
