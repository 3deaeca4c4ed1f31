//! Surges: minutes whose arrivals stand far above what came before them.
//!
//! A minute's baseline is the median of the hour before it, robust to the
//! surges in that hour; its noise the larger of the hour's spread (1.4826 times
//! the median absolute deviation) and a Poisson count's, √(baseline + 1). A
//! minute more than [`NOISE_MULTIPLE`] noises and [`MIN_EXCESS`] messages above
//! its baseline is a surge; consecutive ones are one surge, whose size is its
//! excess over its first [`MAX_SURGE_MINUTES`] minutes (a rise that lasts longer
//! is a new level, the reactive rule's to follow, not a surge to prepare for).

use super::arrivals::Arrivals;

/// How far above the baseline, in noises, a surge minute stands.
pub const NOISE_MULTIPLE: f64 = 6.0;
/// The fewest messages above the baseline a surge minute has.
pub const MIN_EXCESS: f64 = 20.0;
/// The minutes of a surge its size counts.
pub const MAX_SURGE_MINUTES: u64 = 5;
/// The minutes before a minute its baseline is taken from.
const BASELINE_MINUTES: u64 = 60;

/// One surge: when it began and how many messages above the baseline it brought.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Surge {
    pub minute: u64,
    pub messages: f64,
    /// Its busiest minute's messages above the baseline: how fast it comes.
    pub peak_per_minute: f64,
    /// The usual arrivals per minute it stood above (its first minute's baseline).
    pub baseline_per_minute: f64,
    /// Its first minute's messages above the baseline: with the second's, how
    /// it fell across the minute it began in.
    pub first_minute: f64,
    /// Its second minute's messages above the baseline (0 for a surge of one
    /// minute).
    pub second_minute: f64,
}

impl Surge {
    /// The earliest second of its first minute it can have begun at.
    ///
    /// At a steady rate, a surge that began `x` seconds before its first
    /// minute ended and lasted `y` seconds into the next brought them messages
    /// in the ratio `x : y`, and `y` is at most a minute: so `x` is at most a
    /// minute times the first minute's messages over the second's. A surge
    /// that brought its second minute fewer messages than its first can have
    /// begun at any second: 0. One that fades from its start (a flash crowd)
    /// is placed earlier than it began, never later; one that builds up is
    /// placed later, past the slow start that the tasks already there meet.
    pub fn earliest_second(&self) -> u64 {
        if self.second_minute <= self.first_minute || self.second_minute <= 0.0 {
            return 0;
        }
        (60.0 * (1.0 - self.first_minute / self.second_minute))
            .floor()
            .clamp(0.0, 59.0) as u64
    }
}

/// Surges found minute by minute, as the history grows: each minute is looked
/// at once, when the minute after it is known.
#[derive(Debug, Clone, Default)]
pub struct SurgeFinder {
    pub surges: Vec<Surge>,
    /// The first minute not looked at yet.
    next: u64,
    /// The surge still going on, if the last minute looked at was one.
    open: Option<Surge>,
}

impl SurgeFinder {
    /// Looks at every minute of `arrivals` not looked at yet.
    pub fn update(&mut self, arrivals: &Arrivals) {
        self.next = self.next.max(arrivals.start_minute);
        while self.next < arrivals.end_minute() {
            self.look_at(arrivals, self.next);
            self.next += 1;
        }
        let oldest = arrivals.start_minute;
        self.surges.retain(|s| s.minute >= oldest);
    }

    fn look_at(&mut self, arrivals: &Arrivals, minute: u64) {
        let excess = arrivals
            .get(minute)
            .and_then(|count| excess(arrivals, minute, count));
        match (excess, &mut self.open) {
            (Some((excess, _)), Some(open)) => {
                if minute - open.minute < MAX_SURGE_MINUTES {
                    open.messages += excess;
                    open.peak_per_minute = open.peak_per_minute.max(excess);
                }
                if minute == open.minute + 1 {
                    open.second_minute = excess;
                }
            }
            (Some((excess, baseline)), None) => {
                self.open = Some(Surge {
                    minute,
                    messages: excess,
                    peak_per_minute: excess,
                    baseline_per_minute: baseline,
                    first_minute: excess,
                    second_minute: 0.0,
                })
            }
            (None, _) => {
                if let Some(done) = self.open.take() {
                    self.surges.push(done);
                }
            }
        }
    }

    /// The surges found, the one still going on included.
    pub fn all(&self) -> Vec<Surge> {
        let mut all = self.surges.clone();
        all.extend(self.open);
        all
    }
}

/// The messages `count` stands above `minute`'s baseline, if it is a surge, and
/// that baseline.
fn excess(arrivals: &Arrivals, minute: u64, count: u32) -> Option<(f64, f64)> {
    let from = minute.saturating_sub(BASELINE_MINUTES);
    let mut before: Vec<f64> = (from..minute)
        .filter_map(|m| arrivals.get(m))
        .map(f64::from)
        .collect();
    if before.len() < (BASELINE_MINUTES / 2) as usize {
        return None;
    }
    let baseline = median(&mut before);
    let mut deviations: Vec<f64> = before.iter().map(|c| (c - baseline).abs()).collect();
    let noise = (1.4826 * median(&mut deviations)).max((baseline + 1.0).sqrt());
    let excess = f64::from(count) - baseline;
    (excess > NOISE_MULTIPLE * noise && excess >= MIN_EXCESS).then_some((excess, baseline))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `minutes` of a steady 60 a minute, with `dumps` (minute, extra).
    fn history(minutes: u64, dumps: &[(u64, u32)]) -> Arrivals {
        let mut arrivals = Arrivals::default();
        for m in 0..minutes {
            let extra: u32 = dumps.iter().filter(|(d, _)| *d == m).map(|(_, e)| e).sum();
            // Poisson-like wobble around 60.
            arrivals.record(m, 60 + (m * 7 % 11) as u32 + extra);
        }
        arrivals
    }

    #[test]
    fn a_surge_that_spills_into_the_next_minute_began_late_in_its_first() {
        let mut finder = SurgeFinder::default();
        // 1,000 in minute 90 and 3,000 in 91 over about 65: a steady surge
        // that brought 91 three times what it brought 90 began at second 40
        // of 90 at the earliest.
        finder.update(&history(
            200,
            &[(90, 1000), (91, 3000), (150, 5000), (151, 2000)],
        ));
        let surges = finder.all();
        assert_eq!(surges.len(), 2, "{surges:?}");
        assert!(
            (38..=41).contains(&surges[0].earliest_second()),
            "{surges:?}"
        );
        // One that brought its second minute less began at any second.
        assert_eq!(surges[1].earliest_second(), 0);
        let whole = Surge {
            second_minute: 0.0,
            ..surges[0]
        };
        assert_eq!(whole.earliest_second(), 0);
    }

    #[test]
    fn a_dump_is_a_surge_and_wobble_is_not() {
        let mut finder = SurgeFinder::default();
        finder.update(&history(200, &[(90, 5000), (91, 2000), (150, 25)]));
        let surges = finder.all();
        assert_eq!(surges.len(), 1, "{surges:?}");
        assert_eq!(surges[0].minute, 90);
        assert!((surges[0].messages - 7000.0).abs() < 40.0, "{surges:?}");
        assert!(
            (surges[0].peak_per_minute - 5000.0).abs() < 20.0,
            "{surges:?}"
        );
    }

    #[test]
    fn a_new_level_counts_only_its_first_minutes() {
        let mut arrivals = Arrivals::default();
        for m in 0..200u64 {
            arrivals.record(m, if m < 100 { 10 } else { 200 });
        }
        let mut finder = SurgeFinder::default();
        finder.update(&arrivals);
        let surges = finder.all();
        assert_eq!(surges[0].minute, 100);
        assert!(
            surges[0].messages <= (MAX_SURGE_MINUTES * 190) as f64 + 1.0,
            "{surges:?}"
        );
    }

    #[test]
    fn minutes_are_looked_at_once_as_they_come() {
        let full = history(300, &[(100, 3000), (200, 3000)]);
        let mut finder = SurgeFinder::default();
        let mut growing = Arrivals::default();
        for m in 0..300 {
            growing.record(m, full.get(m).unwrap_or(0));
            finder.update(&growing);
        }
        let minutes: Vec<u64> = finder.all().iter().map(|s| s.minute).collect();
        assert_eq!(minutes, [100, 200]);
    }
}
