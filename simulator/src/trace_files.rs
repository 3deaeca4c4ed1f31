//! Traces from files: a `timestamp,arrivals` CSV, or a CloudWatch
//! `GetMetricData` export (see [`crate::cloudwatch_export`]), and the one entry point
//! that takes a built-in name or a path.

use crate::periodic::PERIODIC_TRACES;
use crate::trace::{Trace, BUILT_IN_TRACES};
use crate::Error;

impl Trace {
    /// A trace by name or path: a built-in trace over `hours` (default 2, 24
    /// for `diurnal`, and each periodic trace's own: 48 for `hourly`, 168 for
    /// `daily`, 24 for `quarter-hourly`), a CloudWatch `GetMetricData` JSON
    /// export, or a `timestamp,arrivals` CSV file.
    pub fn load(spec: &str, hours: Option<f64>) -> Result<Trace, Error> {
        let periodic = PERIODIC_TRACES.iter().find(|(name, _)| *name == spec);
        if BUILT_IN_TRACES.contains(&spec) || periodic.is_some() {
            let default_hours = match periodic {
                Some((_, hours)) => *hours,
                None if spec == "diurnal" => 24.0,
                None => 2.0,
            };
            let hours = hours.unwrap_or(default_hours);
            if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 366.0) {
                return Err(Error::BadHours { hours });
            }
            let duration_s = (hours * 3600.0) as usize;
            if let Some(trace) = Trace::periodic(spec, duration_s) {
                return Ok(trace);
            }
            return Trace::built_in(spec, duration_s);
        }
        let text = std::fs::read_to_string(spec).map_err(|e| Error::UnreadableTrace {
            path: spec.to_string(),
            known: known_traces(),
            reason: e.to_string(),
        })?;
        if text.trim_start().starts_with('{') {
            crate::cloudwatch_export::from_get_metric_data(spec, &text)
        } else {
            Trace::from_csv(spec, &text)
        }
    }

    /// A `timestamp,arrivals` CSV (a header line is allowed). Timestamps are seconds
    /// (or any increasing numbers); rows further apart than one second spread their
    /// arrivals evenly over the gap, as a one-minute CloudWatch export needs.
    pub fn from_csv(name: &str, text: &str) -> Result<Trace, Error> {
        let mut rows: Vec<(f64, f64)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            let is_header = n == 0
                && line
                    .split(',')
                    .next()
                    .is_some_and(|f| f.trim().parse::<f64>().is_err());
            if line.is_empty() || is_header {
                continue;
            }
            let mut fields = line.split(',').map(str::trim);
            let parse = |field: Option<&str>, what: &'static str| -> Result<f64, Error> {
                let text = field.unwrap_or("");
                text.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| Error::BadNumber {
                        file: name.to_string(),
                        line: n + 1,
                        what,
                        text: text.to_string(),
                    })
            };
            let t = parse(fields.next(), "timestamp")?;
            let a = parse(fields.next(), "arrivals")?;
            if let Some(&(previous, _)) = rows.last() {
                if t <= previous {
                    return Err(Error::NotIncreasing {
                        file: name.to_string(),
                        line: n + 1,
                        timestamp: t,
                        previous,
                    });
                }
            }
            rows.push((t, a));
        }
        if rows.len() < 2 {
            return Err(Error::TooShort {
                file: name.to_string(),
            });
        }
        let mut arrivals = Vec::new();
        for pair in rows.windows(2) {
            let gap = ((pair[1].0 - pair[0].0).round() as usize).max(1);
            arrivals.extend(std::iter::repeat_n(pair[0].1 / gap as f64, gap));
        }
        Ok(Trace {
            name: name.to_string(),
            arrivals,
            initial_backlog: 0.0,
            surge_start_s: None,
            history_per_minute: Vec::new(),
        })
    }
}

/// Every built-in trace's name, for the error that lists them.
pub(crate) fn known_traces() -> String {
    BUILT_IN_TRACES
        .iter()
        .chain(PERIODIC_TRACES.iter().map(|(name, _)| name))
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_traces_spread_minutes_and_reject_garbage() {
        let trace = Trace::from_csv("t.csv", "timestamp,arrivals\n0,60\n60,120\n120,0\n").unwrap();
        assert_eq!(trace.arrivals.len(), 120);
        assert!((trace.arrivals.iter().sum::<f64>() - 180.0).abs() < 1e-9);
        for (bad, needle) in [
            ("0,1\n0,2\n", "not after"),
            ("0,x\n1,2\n", "arrivals \"x\""),
            ("0,1\n", "two rows"),
            ("0,-3\n1,1\n", "≥ 0"),
        ] {
            let err = Trace::from_csv("t.csv", bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad:?}: {err}");
        }
    }
}
