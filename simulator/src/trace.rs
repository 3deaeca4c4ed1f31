//! Traces: the messages arriving each second. The built-in workloads and random
//! ones; `trace_files` reads a real queue's from a CSV file or a CloudWatch
//! export.

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
    /// Messages per minute in the days before second 0: what CloudWatch holds
    /// when the autoscaler is deployed. Strategies that learn may read it;
    /// nothing in it is scored.
    pub history_per_minute: Vec<u32>,
}

/// The built-in trace names.
pub const BUILT_IN_TRACES: [&str; 8] = [
    "spike", "ramp", "diurnal", "bursty", "drain", "batch", "flash", "noisy",
];

/// A small deterministic generator (xorshift64*), so traces repeat exactly.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson draw (Knuth for small means, normal approximation above).
    pub fn poisson(&mut self, mean: f64) -> f64 {
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

    /// A Pareto draw with shape `alpha` and mean 1 (heavy-tailed for alpha ≤ 2).
    pub fn pareto_unit_mean(&mut self, alpha: f64) -> f64 {
        let scale = (alpha - 1.0) / alpha;
        scale
            / (1.0 - self.next_f64())
                .max(f64::MIN_POSITIVE)
                .powf(1.0 / alpha)
    }
}

/// The arrivals of a built-in trace, and the second its surge starts (if any).
type Shape = (Vec<f64>, Option<usize>);

/// Quiet at 2/s, then 25× the load for ten minutes.
fn spike(duration_s: usize) -> Shape {
    let start = duration_s / 4;
    let arrivals = (0..duration_s)
        .map(|t| {
            if (start..start + 600).contains(&t) {
                50.0
            } else {
                2.0
            }
        })
        .collect();
    (arrivals, Some(start))
}

/// Load climbs steadily to 40/s over the first half, then falls back.
fn ramp(duration_s: usize) -> Shape {
    let half = (duration_s / 2).max(1) as f64;
    let arrivals = (0..duration_s)
        .map(|t| 40.0 * (1.0 - (t as f64 - half).abs() / half))
        .collect();
    (arrivals, Some(0))
}

/// A day's cycle between 5/s and 40/s.
fn diurnal(duration_s: usize) -> Shape {
    let arrivals = (0..duration_s)
        .map(|t| 22.5 - 17.5 * (std::f64::consts::TAU * t as f64 / 86_400.0).cos())
        .collect();
    (arrivals, None)
}

/// Poisson at 5/s with two-minute bursts at 60/s every twenty minutes.
fn bursty(duration_s: usize, rng: &mut Rng) -> Shape {
    let arrivals = (0..duration_s)
        .map(|t| {
            let burst = t >= 600 && (t - 600) % 1200 < 120;
            rng.poisson(if burst { 60.0 } else { 5.0 })
        })
        .collect();
    (arrivals, Some(600))
}

/// Periodic batch dumps, as a cron job makes them: Poisson at 1/s, and every 30
/// minutes (from minute 10) 6,000 messages within 20 seconds.
fn batch(duration_s: usize, rng: &mut Rng) -> Shape {
    let arrivals = (0..duration_s)
        .map(|t| {
            let dumping = t >= 600 && (t - 600) % 1800 < 20;
            rng.poisson(1.0) + if dumping { 300.0 } else { 0.0 }
        })
        .collect();
    (arrivals, Some(600))
}

/// Flash crowds that decay: Poisson at 3/s, and at minutes 15, 55 and 90 (of each
/// two hours) a crowd adding 60/s that halves every 3.5 minutes.
fn flash(duration_s: usize, rng: &mut Rng) -> Shape {
    const STARTS: [usize; 3] = [900, 3300, 5400];
    let half_life = 210.0;
    let arrivals = (0..duration_s)
        .map(|t| {
            let cycle = t % 7200;
            let crowd: f64 = STARTS
                .iter()
                .filter(|start| cycle >= **start)
                .map(|start| 60.0 * 0.5f64.powf((cycle - start) as f64 / half_life))
                .sum();
            rng.poisson(3.0 + crowd)
        })
        .collect();
    (arrivals, Some(STARTS[0]))
}

/// A ramp from 5/s to 30/s and back with heavy-tailed noise: each 10 s the rate is
/// multiplied by a Pareto draw (shape 1.5, mean 1), so most windows are quiet and
/// a few carry several times the load.
fn noisy(duration_s: usize, rng: &mut Rng) -> Shape {
    let half = (duration_s / 2).max(1) as f64;
    let mut factor = 1.0;
    let arrivals = (0..duration_s)
        .map(|t| {
            if t % 10 == 0 {
                factor = rng.pareto_unit_mean(1.5).min(20.0);
            }
            let level = 5.0 + 25.0 * (1.0 - (t as f64 - half).abs() / half);
            rng.poisson(level * factor)
        })
        .collect();
    (arrivals, Some(0))
}

/// Adds `events` one-off events over `base` to `rate`, at random times and
/// sizes: plateaus, crowds that decay, and dumps within a few seconds.
pub(crate) fn add_one_offs(rate: &mut [f64], base: f64, events: usize, rng: &mut Rng) {
    let duration_s = rate.len();
    for _ in 0..events {
        let start = (rng.next_f64() * duration_s as f64) as usize;
        let height = base * (2.0 + 30.0 * rng.next_f64());
        let kind = rng.next_f64();
        let length = 10 + (rng.next_f64() * 900.0) as usize;
        for (t, r) in rate.iter_mut().enumerate().skip(start) {
            let age = (t - start) as f64;
            *r += if kind < 0.4 {
                // A plateau.
                if t - start < length {
                    height
                } else {
                    0.0
                }
            } else if kind < 0.7 {
                // A crowd that decays.
                height * (-age / length as f64).exp()
            } else {
                // A dump within a few seconds.
                if t - start < 5 {
                    height * 20.0
                } else {
                    0.0
                }
            };
        }
    }
}

impl Trace {
    /// A built-in trace over `duration_s` seconds.
    pub fn built_in(name: &str, duration_s: usize) -> Result<Trace, Error> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut initial_backlog = 0.0;
        let (arrivals, surge_start_s) = match name {
            "spike" => spike(duration_s),
            "ramp" => ramp(duration_s),
            "diurnal" => diurnal(duration_s),
            "bursty" => bursty(duration_s, &mut rng),
            // A backlog of 20,000 and nothing more: how fast is it drained?
            "drain" => {
                initial_backlog = 20_000.0;
                (vec![0.0; duration_s], Some(0))
            }
            "batch" => batch(duration_s, &mut rng),
            "flash" => flash(duration_s, &mut rng),
            "noisy" => noisy(duration_s, &mut rng),
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
            history_per_minute: Vec::new(),
        })
    }

    /// A random workload from `seed`, for checking settings on workloads nobody
    /// chose them on: a base rate, and over it bursts, dumps and decaying crowds
    /// at random times and sizes, with Poisson arrivals.
    pub fn random(seed: u64, duration_s: usize) -> Trace {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let base = 0.5 + 10.0 * rng.next_f64();
        let mut rate = vec![base; duration_s];
        let events = 1 + (rng.next_f64() * 6.0) as usize;
        add_one_offs(&mut rate, base, events, &mut rng);
        let arrivals = rate.iter().map(|r| rng.poisson(*r)).collect();
        Trace {
            name: format!("random-{seed}"),
            arrivals,
            initial_backlog: 0.0,
            surge_start_s: None,
            history_per_minute: Vec::new(),
        }
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
}
