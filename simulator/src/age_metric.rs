//! The age of the oldest message as a policy sees it in production: SQS publishes
//! `ApproximateAgeOfOldestMessage` to CloudWatch once a minute, and the provider
//! reads the newest datapoint's `Maximum`. So the simulated age is the highest
//! age of the oldest waiting message during a whole minute, available only
//! [`PUBLICATION_LAG_S`] after that minute ends, and it says how long ago its
//! minute began (`measured_ago_s`, as the provider reports it). A policy's
//! `max_wait_seconds` answers as late in the simulator as it would on AWS.

use fast_autoscaler_core::MessageAge;

/// Seconds from the end of a minute to its datapoint being readable. CloudWatch
/// does not promise a figure; a minute is what SQS's standard metrics typically
/// take, and a later figure only makes the wait goal answer later.
pub const PUBLICATION_LAG_S: usize = 60;

/// The one-minute maxima of the oldest waiting message's age, so far.
#[derive(Debug, Default)]
pub(crate) struct AgeMetric {
    minute_max: Vec<usize>,
}

impl AgeMetric {
    /// Second `now`'s oldest age, into its minute's maximum.
    pub fn record(&mut self, now: usize, age_s: usize) {
        let minute = now / 60;
        if self.minute_max.len() <= minute {
            self.minute_max.resize(minute + 1, 0);
        }
        self.minute_max[minute] = self.minute_max[minute].max(age_s);
    }

    /// The newest datapoint readable at `now`: that of the last minute that ended
    /// at least [`PUBLICATION_LAG_S`] ago. `None` before the first one is out.
    pub fn newest(&self, now: usize) -> Option<MessageAge> {
        let published_until = now.checked_sub(PUBLICATION_LAG_S)?;
        let minute = (published_until / 60).checked_sub(1)?;
        let age_s = *self.minute_max.get(minute)?;
        Some(MessageAge {
            age_s: age_s as u64,
            measured_ago_s: (now - minute * 60) as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_is_readable_as_its_maximum_a_lag_after_it_ends() {
        let mut ages = AgeMetric::default();
        for now in 0..300 {
            // The oldest message ages through minute 0 and 1, is served at 100 s.
            ages.record(now, if now < 100 { now } else { now - 100 });
        }
        // Minute 0 ends at 60 s and is out at 120 s: nothing before.
        assert_eq!(ages.newest(119), None);
        let first = ages.newest(120).expect("minute 0");
        assert_eq!((first.age_s, first.measured_ago_s), (59, 120));
        // At 185 s minute 1 is out: its highest age was 99 s, at 99 s.
        let second = ages.newest(185).expect("minute 1");
        assert_eq!((second.age_s, second.measured_ago_s), (99, 125));
    }
}
