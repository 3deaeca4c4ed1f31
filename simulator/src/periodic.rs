//! Multi-day traces whose surges come back: what anticipation is for. Each
//! comes with a week of history before it, as CloudWatch holds it when the
//! autoscaler is deployed (learned from, never scored). The history begins at
//! Unix second 0, a Thursday at 00:00 UTC, and so does the trace a week later,
//! so "every day at 09:00" and "business hours" mean what they say.
//!
//! - `hourly`: a job dumps 5,000 messages within a minute at every full hour,
//!   over a business-hours background (4/s on weekdays 08:00–18:00, 1/s
//!   otherwise), for two days;
//! - `daily`: a day's cycle between 2/s and 12/s, a 09:00 login storm (+40/s
//!   halving every 5 minutes) and a 02:00 export of 20,000 messages within 5
//!   minutes that one night in seven does not run, for a week;
//! - `quarter-hourly`: 900 messages within 30 s every 15 minutes, up to 20 s
//!   late, over 3/s, for a day.
//!
//! [`Trace::random_periodic`] makes held-out ones: surges at random periods,
//! minutes, sizes, spreads, lateness and miss rates, over random backgrounds
//! with up to three one-off events, so settings are never checked on what they were
//! chosen on.

use std::f64::consts::TAU;

use crate::trace::{add_one_offs, Rng, Trace};

/// The periodic built-in traces and their natural length in hours.
pub const PERIODIC_TRACES: [(&str, f64); 3] =
    [("hourly", 48.0), ("daily", 168.0), ("quarter-hourly", 24.0)];

const DAY_S: usize = 86_400;
/// The history every periodic trace comes with: a week, as CloudWatch holds it
/// when the autoscaler is deployed.
pub const HISTORY_S: usize = 7 * DAY_S;

/// Whether second `t` is in business hours: Monday to Friday, 08:00–18:00 UTC.
fn business_hours(t: usize) -> bool {
    // Day 0 is a Thursday: Monday-zero weekday is (day + 3) % 7.
    let weekday = (t / DAY_S + 3) % 7;
    let hour = t % DAY_S / 3600;
    weekday < 5 && (8..18).contains(&hour)
}

/// Whether a periodic trace holds its recurring surges, or only what they come
/// on top of: the background alone tells what the surges cost from what the
/// rest of the workload does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surges {
    In,
    Out,
}

impl Surges {
    /// `rate` where the surges are in, else nothing.
    fn add(self, rate: f64) -> f64 {
        match self {
            Surges::In => rate,
            Surges::Out => 0.0,
        }
    }
}

fn hourly(duration_s: usize, surges: Surges, rng: &mut Rng) -> Vec<f64> {
    (0..duration_s)
        .map(|t| {
            let base = if business_hours(t) { 4.0 } else { 1.0 };
            let dump = surges.add(hourly_dump(t));
            rng.poisson(base + dump)
        })
        .collect()
}

fn daily(duration_s: usize, surges: Surges, rng: &mut Rng) -> Vec<f64> {
    (0..duration_s)
        .map(|t| {
            let second = t % DAY_S;
            // Lowest at 03:00, highest at 15:00.
            let cycle = 7.0 - 5.0 * (TAU * (second as f64 - 3.0 * 3600.0) / DAY_S as f64).cos();
            let (storm, export) = daily_surges(t);
            // Summed as it always was: the order of the sum decides the draws.
            let rate = match surges {
                Surges::In => cycle + storm + export,
                Surges::Out => cycle,
            };
            rng.poisson(rate)
        })
        .collect()
}

/// The rate `hourly`'s dump adds at second `t`: 5,000 messages within the
/// first minute of every hour.
fn hourly_dump(t: usize) -> f64 {
    if t % 3600 < 60 {
        5000.0 / 60.0
    } else {
        0.0
    }
}

/// The rates `daily`'s surges add at second `t`: the 09:00 login storm and the
/// 02:00 export.
fn daily_surges(t: usize) -> (f64, f64) {
    let (day, second) = (t / DAY_S, t % DAY_S);
    let storm = second
        .checked_sub(9 * 3600)
        .map_or(0.0, |age| 40.0 * 0.5f64.powf(age as f64 / 300.0));
    let export_runs = day % 7 != 4;
    let export = if export_runs && (2 * 3600..2 * 3600 + 300).contains(&second) {
        20_000.0 / 300.0
    } else {
        0.0
    };
    (storm, export)
}

fn quarter_hourly(duration_s: usize, surges: Surges, rng: &mut Rng) -> Vec<f64> {
    quarter_hourly_surges(duration_s, rng)
        .iter()
        .map(|surge| rng.poisson(3.0 + surges.add(*surge)))
        .collect()
}

/// The rate `quarter-hourly`'s surges add: 30/s for 30 s every 15 minutes,
/// up to 20 s late.
fn quarter_hourly_surges(duration_s: usize, rng: &mut Rng) -> Vec<f64> {
    let mut rate = vec![0.0; duration_s];
    for start in (0..duration_s).step_by(900) {
        let late = (rng.next_f64() * 20.0) as usize;
        for r in rate.iter_mut().skip(start + late).take(30) {
            *r = 30.0;
        }
    }
    rate
}

/// One recurring surge of a random periodic trace.
struct Recurring {
    period_s: usize,
    phase_s: usize,
    messages: f64,
    spread_s: usize,
    late_s: f64,
    miss: f64,
}

impl Recurring {
    fn random(rng: &mut Rng, base: f64, duration_s: usize) -> Self {
        let periods = [900, 1800, 3600, 3600, DAY_S, DAY_S];
        let mut period_s = periods[(rng.next_f64() * periods.len() as f64) as usize];
        if duration_s < 4 * period_s {
            period_s = 3600;
        }
        Recurring {
            period_s,
            phase_s: (rng.next_f64() * period_s as f64) as usize,
            messages: (base * (100.0 + 1900.0 * rng.next_f64())).max(300.0),
            spread_s: 5 + (rng.next_f64() * 295.0) as usize,
            late_s: rng.next_f64() * 90.0,
            miss: rng.next_f64() * 0.25,
        }
    }

    fn add_to(&self, rate: &mut [f64], rng: &mut Rng) {
        let mut start = self.phase_s;
        while start < rate.len() {
            if rng.next_f64() >= self.miss {
                let late = (rng.next_f64() * self.late_s) as usize;
                let per_second = self.messages / self.spread_s as f64;
                for r in rate.iter_mut().skip(start + late).take(self.spread_s) {
                    *r += per_second;
                }
            }
            start += self.period_s;
        }
    }
}

impl Trace {
    /// A periodic built-in trace over `duration_s` seconds after a week of
    /// history, if `name` is one.
    pub fn periodic(name: &str, duration_s: usize) -> Option<Trace> {
        periodic_trace(name, duration_s, Surges::In)
    }

    /// The background of [`Trace::periodic`]'s `name` alone: the same
    /// arrival rate without its recurring surges (drawn afresh, so alike in
    /// distribution, not arrival for arrival), named `<name> background`.
    pub fn periodic_background(name: &str, duration_s: usize) -> Option<Trace> {
        periodic_trace(name, duration_s, Surges::Out)
    }

    /// The trace with its first `history_s` seconds (whole minutes) moved into
    /// its history: known to the strategies that learn, not scored.
    pub fn with_history(mut self, history_s: usize) -> Trace {
        let history_s =
            (history_s - history_s % 60).min(self.arrivals.len() - self.arrivals.len() % 60);
        let rest = self.arrivals.split_off(history_s);
        self.history_per_minute
            .extend(self.arrivals.chunks(60).map(|minute| {
                minute
                    .iter()
                    .sum::<f64>()
                    .round()
                    .min(f64::from(u32::MAX - 1)) as u32
            }));
        self.arrivals = rest;
        self
    }

    /// A random workload with recurring surges, from `seed`, over `duration_s`
    /// seconds after a week of history: a background with
    /// a random day's cycle, one to three surges that come back every 15, 30 or
    /// 60 minutes or every day (a day only when the trace holds four), each
    /// with its own minute, size, spread, lateness and share of periods it
    /// misses, and one-off events as [`Trace::random`] makes them.
    pub fn random_periodic(seed: u64, duration_s: usize) -> Trace {
        random_periodic_trace(seed, duration_s, Surges::In).0
    }

    /// The background of [`Trace::random_periodic`]'s `seed` alone: its day's
    /// cycle and one-off events without the recurring surges (drawn afresh),
    /// named `periodic-<seed> background`.
    pub fn random_periodic_background(seed: u64, duration_s: usize) -> Trace {
        random_periodic_trace(seed, duration_s, Surges::Out).0
    }

    /// The messages per second the recurring surges of [`Trace::periodic`]'s
    /// `name` add, second by second after its history: the rate they were
    /// drawn at, each surge where and when it came, which no forecaster can
    /// learn (see [`crate::foreknown`]).
    pub fn periodic_surge_rate(name: &str, duration_s: usize) -> Option<Vec<f64>> {
        let total_s = HISTORY_S + duration_s;
        let rate: Vec<f64> = match name {
            "hourly" => (0..total_s).map(hourly_dump).collect(),
            "daily" => (0..total_s)
                .map(|t| {
                    let (storm, export) = daily_surges(t);
                    storm + export
                })
                .collect(),
            "quarter-hourly" => quarter_hourly_surges(total_s, &mut Rng(PERIODIC_SEED)),
            _ => return None,
        };
        Some(rate[HISTORY_S..].to_vec())
    }

    /// [`Trace::periodic_surge_rate`] for [`Trace::random_periodic`]'s `seed`.
    pub fn random_periodic_surge_rate(seed: u64, duration_s: usize) -> Vec<f64> {
        let mut rate = random_periodic_trace(seed, duration_s, Surges::Out).1;
        rate.split_off(HISTORY_S.min(rate.len()))
    }
}

/// The seed every periodic built-in trace is drawn from.
const PERIODIC_SEED: u64 = 0x51A7_E5EE_D000_0001;

fn periodic_trace(name: &str, duration_s: usize, surges: Surges) -> Option<Trace> {
    let mut rng = Rng(PERIODIC_SEED);
    let total_s = HISTORY_S + duration_s;
    let arrivals = match name {
        "hourly" => hourly(total_s, surges, &mut rng),
        "daily" => daily(total_s, surges, &mut rng),
        "quarter-hourly" => quarter_hourly(total_s, surges, &mut rng),
        _ => return None,
    };
    let trace = Trace {
        name: named(name.to_string(), surges),
        arrivals,
        initial_backlog: 0.0,
        surge_start_s: None,
        history_per_minute: Vec::new(),
    };
    Some(trace.with_history(HISTORY_S))
}

/// The trace, and with its surges left out, the rate they would have added
/// (empty when they are in).
fn random_periodic_trace(seed: u64, duration_s: usize, surges: Surges) -> (Trace, Vec<f64>) {
    let mut rng = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    let duration_s = HISTORY_S + duration_s;
    let base = 0.5 + 10.0 * rng.next_f64();
    let swing = 0.8 * rng.next_f64();
    let peak_s = rng.next_f64() * DAY_S as f64;
    let mut rate: Vec<f64> = (0..duration_s)
        .map(|t| base * (1.0 + swing * (TAU * (t as f64 - peak_s) / DAY_S as f64).cos()))
        .collect();
    // Without the surges they are still drawn (into nothing), so the one-off
    // events after them are the same.
    let mut left_out = vec![0.0; if surges == Surges::In { 0 } else { duration_s }];
    let surge_rate = if surges == Surges::In {
        &mut rate
    } else {
        &mut left_out
    };
    let recurring = 1 + (rng.next_f64() * 3.0) as usize;
    for _ in 0..recurring {
        Recurring::random(&mut rng, base, duration_s).add_to(surge_rate, &mut rng);
    }
    let one_offs = (rng.next_f64() * 4.0) as usize;
    add_one_offs(&mut rate, base, one_offs, &mut rng);
    let arrivals = rate.iter().map(|r| rng.poisson(*r)).collect();
    let trace = Trace {
        name: named(format!("periodic-{seed}"), surges),
        arrivals,
        initial_backlog: 0.0,
        surge_start_s: None,
        history_per_minute: Vec::new(),
    }
    .with_history(HISTORY_S);
    (trace, left_out)
}

fn named(name: String, surges: Surges) -> String {
    match surges {
        Surges::In => name,
        Surges::Out => format!("{name} background"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_traces_surge_when_they_say() {
        let hourly = Trace::periodic("hourly", 2 * DAY_S).expect("built in");
        let minute =
            |trace: &Trace, m: usize| trace.arrivals[m * 60..(m + 1) * 60].iter().sum::<f64>();
        // Minute 0 of an hour holds the dump; minute 30 does not.
        assert_eq!(hourly.history_per_minute.len(), 7 * 1440);
        assert!(hourly.history_per_minute[60] > 4500);
        assert!(minute(&hourly, 60) > 4500.0);
        assert!(minute(&hourly, 90) < 600.0);
        let daily = Trace::periodic("daily", 7 * DAY_S).expect("built in");
        // The 02:00 export runs on day 0 and not on day 4.
        assert!(minute(&daily, 120) > 3000.0);
        assert!(minute(&daily, 4 * 1440 + 120) < 1000.0);
        assert!(Trace::periodic("spike", 60).is_none());
        let random = Trace::random_periodic(7, DAY_S);
        assert_eq!(random.arrivals.len(), DAY_S);
        assert_ne!(random.arrivals, Trace::random_periodic(8, DAY_S).arrivals);
    }

    #[test]
    fn a_background_is_its_trace_without_the_recurring_surges() {
        let minute =
            |trace: &Trace, m: usize| trace.arrivals[m * 60..(m + 1) * 60].iter().sum::<f64>();
        let hourly = Trace::periodic_background("hourly", 2 * DAY_S).expect("built in");
        assert_eq!(hourly.name, "hourly background");
        // Neither the history nor the trace holds a dump at the full hour.
        assert!(hourly.history_per_minute[60] < 600);
        assert!(minute(&hourly, 60) < 600.0);
        let daily = Trace::periodic_background("daily", 7 * DAY_S).expect("built in");
        assert!(minute(&daily, 120) < 1000.0);
        assert!(Trace::periodic_background("spike", 60).is_none());
        // A random one keeps its length and cycle and loses the surges'
        // messages; the trace with them is what it always was.
        let with = Trace::random_periodic(4001, DAY_S);
        let alone = Trace::random_periodic_background(4001, DAY_S);
        assert_eq!(alone.name, "periodic-4001 background");
        assert_eq!(alone.arrivals.len(), with.arrivals.len());
        let total = |t: &Trace| t.arrivals.iter().sum::<f64>();
        assert!(
            total(&alone) < 0.9 * total(&with),
            "{} {}",
            total(&alone),
            total(&with)
        );
        assert_eq!(with.arrivals, Trace::random_periodic(4001, DAY_S).arrivals);
    }

    #[test]
    fn anticipation_meets_a_learned_dump_and_changes_nothing_without_a_pattern() {
        use crate::strategy::{anticipating_policy, example_policy, fast, recommended_policy};
        use crate::{run, Workload};
        let workload = Workload {
            mu: 1.0,
            startup_s: 45,
            consumption_counter: false,
        };
        let bounds = example_policy();
        let reactive = fast("reactive", 10, &recommended_policy(workload));
        let anticipating = fast("anticipating", 10, &anticipating_policy(workload));
        // Six hours of hourly dumps after a week of them: each is met by tasks
        // already working, so the backlog at the end of its minute is small
        // (but the first, at second 0, before the run could order anything).
        let hourly = Trace::periodic("hourly", 6 * 3600).expect("built in");
        let before = run(&hourly, workload, &bounds, &reactive);
        let after = run(&hourly, workload, &bounds, &anticipating);
        let backlog_after_dumps = |series: &[(usize, f64, u32)]| -> f64 {
            series
                .iter()
                .filter(|(t, _, _)| t % 3600 == 60 && *t > 3600)
                .map(|(_, backlog, _)| *backlog)
                .fold(0.0, f64::max)
        };
        assert!(
            backlog_after_dumps(&after.series) < 200.0,
            "{:?}",
            after.series
        );
        assert!(backlog_after_dumps(&before.series) > 2000.0);
        assert!(
            after.p99_wait_s < before.p99_wait_s / 1.5,
            "{after:?} vs {before:?}"
        );
        // One-off events after a week of them: nothing recurs, nothing changes.
        let random = Trace::random(5, 8 * DAY_S).with_history(HISTORY_S);
        let before = run(&random, workload, &bounds, &reactive);
        let after = run(&random, workload, &bounds, &anticipating);
        assert_eq!(
            (after.p99_wait_s, after.task_seconds),
            (before.p99_wait_s, before.task_seconds)
        );
    }
}
