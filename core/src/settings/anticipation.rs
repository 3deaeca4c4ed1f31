//! Reading anticipation: `anticipation` (off, on or forecast_only), its
//! `anticipation_confidence`, and `anticipation_hints`, surges the history has
//! not shown yet, each a JSON object checked field by field:
//!
//! ```json
//! {"cron": "0 9 * * mon-fri", "timezone": "Europe/Paris", "messages": 5000}
//! ```
//!
//! Anticipation sizes its tasks with the predictive rule's throughput and
//! start-up, so any of the three with another rule is refused, not ignored.

use serde_json::{Map, Value};

use super::issues::ConfigIssue;
use super::keys::{ANTICIPATION, ANTICIPATION_CONFIDENCE, ANTICIPATION_HINTS, SCALING_POLICY};
use super::policy::{Anticipation, AnticipationMode, PolicyKind, SurgeHint};
use super::reader::Reader;
use crate::forecast::DEFAULT_CONFIDENCE;

const HINT_KEYS: [&str; 3] = ["cron", "timezone", "messages"];
const HINT_EXAMPLE: &str =
    r#"of surges such as [{"cron": "0 9 * * mon-fri", "timezone": "UTC", "messages": 5000}]"#;

impl Reader<'_> {
    /// The three anticipation fields, and the checks between them and the rule.
    pub(super) fn anticipation(&mut self, kind: Option<&PolicyKind>) -> Option<Anticipation> {
        let mode = self.anticipation_mode();
        let min_confidence = self.real(
            ANTICIPATION_CONFIDENCE,
            Some(DEFAULT_CONFIDENCE),
            |x| (0.5..=1.0).contains(&x),
            "a share of past periods from 0.5 to 1 (0.7: the surge came in at least 7 of the last 10)",
        );
        let hints = self.hints();
        let given = [ANTICIPATION, ANTICIPATION_CONFIDENCE, ANTICIPATION_HINTS]
            .into_iter()
            .filter(|key| self.source.get(*key).is_some())
            .collect::<Vec<_>>();
        if !given.is_empty() && kind.is_some_and(|k| !matches!(k, PolicyKind::Predictive { .. })) {
            for key in given {
                let field = self.source.label(key);
                let expected = format!(
                    "no value unless {} = predictive: anticipation sizes its tasks with that rule's throughput and start-up",
                    self.source.label(SCALING_POLICY)
                );
                self.bad(field, "set".into(), expected);
            }
            return None;
        }
        if mode == Some(AnticipationMode::Off) {
            for key in given.into_iter().filter(|k| k.json != ANTICIPATION.json) {
                let field = self.source.label(key);
                let expected = format!(
                    "no value unless {} = on or forecast_only",
                    self.source.label(ANTICIPATION)
                );
                self.bad(field, "set".into(), expected);
            }
        }
        Some(Anticipation {
            mode: mode?,
            min_confidence: min_confidence?,
            hints: hints?,
        })
    }

    fn anticipation_mode(&mut self) -> Option<AnticipationMode> {
        let Some((raw, field)) = self.source.get(ANTICIPATION) else {
            return Some(AnticipationMode::Off);
        };
        let mode = raw.text().as_deref().and_then(AnticipationMode::from_name);
        if mode.is_none() {
            self.bad(field, raw.shown(), AnticipationMode::NAMES);
        }
        mode
    }

    fn hints(&mut self) -> Option<Vec<SurgeHint>> {
        if self.source.get(ANTICIPATION_HINTS).is_none() {
            return Some(Vec::new());
        }
        let (value, field) = self.json_array(ANTICIPATION_HINTS, HINT_EXAMPLE)?;
        let Some(items) = value.as_array() else {
            self.bad(
                field,
                value.to_string(),
                format!("a JSON array {HINT_EXAMPLE}"),
            );
            return None;
        };
        let before = self.issues.len();
        let hints: Vec<Option<SurgeHint>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| hint(item, &format!("{field}[{i}]"), self.issues))
            .collect();
        if self.issues.len() > before {
            return None;
        }
        hints.into_iter().collect()
    }
}

/// One hint, or `None` after recording each of its problems.
fn hint(item: &Value, field: &str, issues: &mut Vec<ConfigIssue>) -> Option<SurgeHint> {
    let Some(object) = item.as_object() else {
        issues.push(issue(
            field,
            item,
            "an object with cron, messages and timezone",
        ));
        return None;
    };
    for (key, value) in object {
        if !HINT_KEYS.contains(&key.as_str()) {
            let expected = format!("a known key; valid keys here: {}", HINT_KEYS.join(", "));
            issues.push(issue(&format!("{field}.{key}"), value, &expected));
        }
    }
    let cron = cron(object, field, issues);
    let timezone = timezone(object, field, issues);
    let messages = match object.get("messages") {
        Some(value) => value.as_u64().filter(|n| *n >= 1).or_else(|| {
            let expected = "the surge's size, a whole number of messages of at least 1";
            issues.push(issue(&format!("{field}.messages"), value, expected));
            None
        }),
        None => {
            let expected = "the surge's size, a whole number of messages";
            issues.push(missing(&format!("{field}.messages"), expected));
            None
        }
    };
    let (cron, schedule) = cron?;
    Some(SurgeHint {
        cron,
        timezone: timezone?,
        messages: messages?,
        schedule,
    })
}

/// A five-field cron expression (minute hour day-of-month month day-of-week).
fn cron(
    object: &Map<String, Value>,
    field: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<(String, croner::Cron)> {
    use croner::parser::{CronParser, Seconds, Year};
    let expected = "a five-field cron expression, minute hour day-of-month month day-of-week, such as \"0 9 * * mon-fri\"";
    let Some(value) = object.get("cron") else {
        issues.push(missing(&format!("{field}.cron"), expected));
        return None;
    };
    let text = value.as_str().map(str::trim).unwrap_or_default();
    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build();
    match parser.parse(text) {
        Ok(schedule) if text.split_whitespace().count() == 5 => Some((text.to_string(), schedule)),
        Ok(_) => {
            issues.push(issue(&format!("{field}.cron"), value, expected));
            None
        }
        Err(e) => {
            let expected = format!("{expected} ({e})");
            issues.push(issue(&format!("{field}.cron"), value, &expected));
            None
        }
    }
}

fn timezone(
    object: &Map<String, Value>,
    field: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<String> {
    let Some(value) = object.get("timezone") else {
        return Some("UTC".into());
    };
    match value.as_str().map(str::trim) {
        Some(zone) if jiff::tz::TimeZone::get(zone).is_ok() => Some(zone.to_string()),
        _ => {
            let expected = "an IANA time zone name such as Europe/Paris, America/New_York or UTC";
            issues.push(issue(&format!("{field}.timezone"), value, expected));
            None
        }
    }
}

fn issue(field: &str, value: &Value, expected: &str) -> ConfigIssue {
    ConfigIssue {
        field: field.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

fn missing(field: &str, expected: &str) -> ConfigIssue {
    ConfigIssue {
        field: field.to_string(),
        value: "<missing>".into(),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::settings::policy_from_json;
    use crate::settings::AnticipationMode;

    type Object = serde_json::Map<String, serde_json::Value>;

    fn object(value: serde_json::Value) -> Object {
        value.as_object().expect("an object").clone()
    }

    fn predictive(extra: serde_json::Value) -> Object {
        let mut object = object(json!({
            "scaling_policy": "predictive",
            "task_throughput": 1.0,
            "min_tasks": 0
        }));
        object.extend(extra.as_object().expect("an object").clone());
        object
    }

    #[test]
    fn anticipation_is_read_with_its_confidence_and_hints() {
        let policy = policy_from_json(&predictive(json!({
            "anticipation": "forecast_only",
            "anticipation_confidence": 0.8,
            "anticipation_hints": [{"cron": "0 9 * * mon-fri", "timezone": "Europe/Paris", "messages": 5000}]
        })))
        .expect("valid");
        let a = policy.anticipation;
        assert_eq!(a.mode, AnticipationMode::ForecastOnly);
        assert_eq!(a.min_confidence, 0.8);
        assert_eq!(a.hints[0].messages, 5000);
        assert_eq!(a.hints[0].timezone, "Europe/Paris");
        assert!(policy_from_json(&predictive(json!({})))
            .expect("valid")
            .anticipation
            .is_off());
    }

    #[test]
    fn every_bad_anticipation_field_is_named_with_what_is_valid() {
        let err = policy_from_json(&predictive(json!({
            "anticipation": "sometimes",
            "anticipation_confidence": 0.2,
            "anticipation_hints": [
                {"cron": "0 9 * *", "messages": 0, "timezone": "Mars/Olympus", "size": 1},
                {"cron": "*/10 * * * * *", "messages": 10}
            ]
        })))
        .expect_err("refused")
        .to_string();
        for needle in [
            "anticipation = \"sometimes\"",
            "off, on or forecast_only",
            "anticipation_confidence = 0.2",
            "anticipation_hints[0].cron",
            "anticipation_hints[0].messages = 0",
            "anticipation_hints[0].timezone",
            "anticipation_hints[0].size",
            "anticipation_hints[1].cron",
            "five-field cron expression",
        ] {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
    }

    #[test]
    fn anticipation_needs_the_predictive_rule_and_its_extras_need_it_on() {
        let step = policy_from_json(&object(json!({"scaling_policy": "step"}))).expect("valid");
        assert!(step.anticipation.is_off());
        let err = policy_from_json(&object(json!({"scaling_policy": "target", "target_messages_per_task": 10, "anticipation": "on"})))
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("anticipation") && err.contains("= predictive"),
            "{err}"
        );
        let err = policy_from_json(&predictive(json!({"anticipation_confidence": 0.9})))
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("anticipation_confidence") && err.contains("on or forecast_only"),
            "{err}"
        );
    }
}
