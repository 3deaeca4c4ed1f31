//! Configuration problems: each names the field as the user wrote it, the bad
//! value, and what would be valid. All of them are collected and reported at once.

use std::fmt;

use serde::Serialize;

/// One problem with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigIssue {
    /// The field as the user wrote it: `MIN_TASKS` or `services[1].min_tasks`.
    pub field: String,
    /// The bad value as given, or `<missing>`.
    pub value: String,
    /// What would be valid.
    pub expected: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {}: expected {}",
            self.field, self.value, self.expected
        )
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub issues: Vec<ConfigIssue>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for issue in &self.issues {
            write!(f, "\n  - {issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub fn finish<T>(
    issues: Vec<ConfigIssue>,
    build: impl FnOnce() -> Option<T>,
) -> Result<T, ConfigError> {
    if !issues.is_empty() {
        return Err(ConfigError { issues });
    }
    // Every reader returned Some when no issue was recorded.
    build().ok_or_else(|| {
        single_issue(
            "configuration",
            "<incomplete>".into(),
            "a complete configuration".into(),
        )
    })
}

pub fn issue(field: &str, value: String, expected: &str) -> ConfigIssue {
    ConfigIssue {
        field: field.to_string(),
        value,
        expected: expected.to_string(),
    }
}

pub fn single_issue(field: &str, value: String, expected: String) -> ConfigError {
    ConfigError {
        issues: vec![ConfigIssue {
            field: field.to_string(),
            value,
            expected,
        }],
    }
}

pub fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
