//! The tick interval rule: the scheduler sends `60 / interval` ticks a minute, so
//! the interval must divide 60. Both Lambdas validate it with this code and report
//! it with the same text.

use crate::Error;

/// Default seconds between ticks.
pub const DEFAULT_INTERVAL_S: u32 = 10;

/// What a valid interval is, as every error about one says it.
pub const VALID_INTERVALS: &str = "a divisor of 60: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60";

/// The environment variable that sets the interval.
pub const INTERVAL_VARIABLE: &str = "TICK_INTERVAL_SECONDS";

/// Parses a tick interval: any divisor of 60; absent or blank is the default.
pub fn parse_interval(raw: Option<&str>) -> Result<u32, Error> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_INTERVAL_S);
    };
    match text.parse::<u32>() {
        Ok(n) if n > 0 && 60 % n == 0 => Ok(n),
        _ => Err(Error::Interval {
            field: INTERVAL_VARIABLE,
            value: text.to_string(),
        }),
    }
}

/// Whether `interval_s` is valid.
pub fn is_valid_interval(interval_s: u32) -> bool {
    interval_s > 0 && 60 % interval_s == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_must_divide_sixty() {
        assert_eq!(parse_interval(None).unwrap(), 10);
        assert_eq!(parse_interval(Some(" ")).unwrap(), 10);
        assert_eq!(parse_interval(Some("15")).unwrap(), 15);
        assert_eq!(parse_interval(Some("60")).unwrap(), 60);
        for bad in ["7", "0", "-5", "ten", "120", "2.5"] {
            let err = parse_interval(Some(bad)).unwrap_err().to_string();
            assert!(
                err.contains("TICK_INTERVAL_SECONDS")
                    && err.contains(bad)
                    && err.contains(VALID_INTERVALS),
                "{err}"
            );
        }
    }
}
