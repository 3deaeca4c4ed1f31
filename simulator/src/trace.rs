//! Traces: the messages arriving each second. Built-in workloads, and CSV exports
//! of a real queue's arrivals.

use crate::Error;

/// Messages arriving each second.
#[derive(Debug, Clone)]
pub struct Trace {
    pub name: String,
    pub arrivals: Vec<f64>,
    /// Messages already waiting at t = 0.
    pub initial_backlog: f64,
    /// When the surge the trace is about begins, if it has one.
    pub surge_start_s: Option<usize>,
}

/// The built-in trace names.
pub const BUILT_IN_TRACES: [&str; 5] = ["spike", "ramp", "diurnal", "bursty", "drain"];

/// A small deterministic generator (xorshift64*), so traces repeat exactly.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson draw (Knuth for small means, normal approximation above).
    fn poisson(&mut self, mean: f64) -> f64 {
        if mean > 30.0 {
            let u1 = self.next_f64().max(f64::MIN_POSITIVE);
            let u2 = self.next_f64();
            let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            return (mean + normal * mean.sqrt()).round().max(0.0);
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0.0, 1.0);
        loop {
            p *= self.next_f64();
            if p <= limit {
                return k;
            }
            k += 1.0;
        }
    }
}

impl Trace {
    /// A built-in trace over `duration_s` seconds.
    pub fn built_in(name: &str, duration_s: usize) -> Result<Trace, Error> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut surge_start_s = None;
        let mut initial_backlog = 0.0;
        let arrivals: Vec<f64> = match name {
            // Quiet, then 25× the load for ten minutes.
            "spike" => {
                let start = duration_s / 4;
                surge_start_s = Some(start);
                (0..duration_s)
                    .map(|t| {
                        if (start..start + 600).contains(&t) {
                            50.0
                        } else {
                            2.0
                        }
                    })
                    .collect()
            }
            // Load climbs steadily to 40/s over the first half, then falls back.
            "ramp" => {
                surge_start_s = Some(0);
                let half = (duration_s / 2).max(1) as f64;
                (0..duration_s)
                    .map(|t| 40.0 * (1.0 - (t as f64 - half).abs() / half))
                    .collect()
            }
            // A day's cycle between 5/s and 40/s.
            "diurnal" => (0..duration_s)
                .map(|t| 22.5 - 17.5 * (std::f64::consts::TAU * t as f64 / 86_400.0).cos())
                .collect(),
            // Poisson at 5/s with two-minute bursts at 60/s every twenty minutes.
            "bursty" => {
                surge_start_s = Some(600);
                (0..duration_s)
                    .map(|t| {
                        let mean = if t >= 600 && (t - 600) % 1200 < 120 {
                            60.0
                        } else {
                            5.0
                        };
                        rng.poisson(mean)
                    })
                    .collect()
            }
            // A backlog of 20,000 and nothing more: how fast is it drained?
            "drain" => {
                surge_start_s = Some(0);
                initial_backlog = 20_000.0;
                vec![0.0; duration_s]
            }
            other => {
                return Err(Error::UnknownTrace {
                    name: other.to_string(),
                    known: BUILT_IN_TRACES.join(", "),
                })
            }
        };
        Ok(Trace {
            name: name.to_string(),
            arrivals,
            initial_backlog,
            surge_start_s,
        })
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_traces_exist_and_unknown_names_list_them() {
        for name in BUILT_IN_TRACES {
            assert_eq!(
                Trace::built_in(name, 3600).expect(name).arrivals.len(),
                3600
            );
        }
        let err = Trace::built_in("tsunami", 10).unwrap_err().to_string();
        assert!(BUILT_IN_TRACES.iter().all(|n| err.contains(n)), "{err}");
    }

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
