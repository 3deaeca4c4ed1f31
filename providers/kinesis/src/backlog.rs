//! How many records a stream's consumers are behind, from two CloudWatch
//! series: the consumers' lag (`GetRecords.IteratorAgeMilliseconds`, or an
//! enhanced fan-out consumer's `SubscribeToShardEvent.MillisBehindLatest`) and
//! the records written (`IncomingRecords`), both per minute.
//!
//! Kinesis reports no record count behind the consumers, only how far behind
//! (in time) the slowest shard's reader is. The records behind are then the ones
//! written during that lag: those written in the `lag` seconds before the lag was
//! measured. It is an estimate: it counts the slowest shard's lag for every
//! shard, so it errs high when shards are read unevenly, which errs towards more
//! tasks, not fewer.
//!
//! When nobody has read the stream for `max_age_seconds` there is no lag
//! datapoint: every record written since the last read is unread, and that sum
//! is the backlog (a service at zero tasks starts on it). When, besides, nothing
//! was written, nothing tells the backlog and the reading is an error: the
//! service holds.

use fast_autoscaler_provider::MessageAge;

/// One datapoint: the start of its period (Unix seconds) and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    pub start_s: i64,
    pub value: f64,
}

/// What the two series say.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Lag datapoints in milliseconds, any order.
    pub lag_ms: Vec<Datapoint>,
    /// Records written per period, any order.
    pub incoming: Vec<Datapoint>,
    /// The period of both series, seconds.
    pub period_s: i64,
    /// The start of the time both series were asked for.
    pub horizon_start_s: i64,
    pub now_s: i64,
}

/// The estimate: records behind and, when the consumers read, their lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behind {
    pub records: u64,
    pub oldest: Option<MessageAge>,
}

impl Series {
    /// Records behind the consumers, or why it cannot be told.
    pub fn behind(&self, max_age_s: u64) -> Result<Behind, String> {
        if let Some(bad) = self
            .lag_ms
            .iter()
            .chain(&self.incoming)
            .find(|d| !d.value.is_finite() || d.value < 0.0)
        {
            return Err(format!(
                "CloudWatch answered {} for the period at {} s, which is neither a lag nor a record count",
                bad.value, bad.start_s
            ));
        }
        let newest_lag = self.lag_ms.iter().max_by_key(|d| d.start_s);
        let fresh_lag =
            newest_lag.filter(|d| self.now_s - (d.start_s + self.period_s) <= max_age_s as i64);
        if let Some(lag) = fresh_lag {
            let measured_at = (lag.start_s + self.period_s).min(self.now_s);
            let lag_s = lag.value / 1000.0;
            return Ok(Behind {
                records: self.written_between(measured_at as f64 - lag_s, measured_at as f64),
                oldest: Some(MessageAge {
                    age_s: lag_s.round() as u64,
                    measured_ago_s: (self.now_s - measured_at).max(0) as u64,
                }),
            });
        }
        // Nobody has read lately: what was written since the last read is unread.
        let last_read = newest_lag.map_or(self.horizon_start_s, |d| d.start_s + self.period_s);
        let unread = self.written_between(last_read as f64, self.now_s as f64);
        let written_since = self
            .incoming
            .iter()
            .any(|d| d.start_s + self.period_s > last_read);
        if written_since {
            return Ok(Behind {
                records: unread,
                oldest: None,
            });
        }
        Err(match newest_lag {
            Some(lag) => format!(
                "no lag datapoint in the last {max_age_s} s (max_age_seconds; the last, at {} s, is older) and no records written since: are the consumers stopped?",
                lag.start_s
            ),
            None => format!(
                "no lag datapoint and no records written in the last {} s: nobody reads or writes the stream, or its name is wrong",
                self.now_s - self.horizon_start_s
            ),
        })
    }

    /// Records written in `[from, to]`, each period counted by its overlap. What
    /// lies before the horizon is counted at the horizon's average rate.
    fn written_between(&self, from: f64, to: f64) -> u64 {
        let period = self.period_s as f64;
        let mut records: f64 = self
            .incoming
            .iter()
            .map(|d| {
                let (start, end) = (d.start_s as f64, (d.start_s + self.period_s) as f64);
                let overlap = (end.min(to) - start.max(from)).max(0.0);
                d.value * overlap / period
            })
            .sum();
        let horizon_start = self.horizon_start_s as f64;
        if from < horizon_start {
            let horizon = (self.now_s - self.horizon_start_s).max(1) as f64;
            let rate = self.incoming.iter().map(|d| d.value).sum::<f64>() / horizon;
            records += rate * (horizon_start - from);
        }
        records
            .round()
            .min(fast_autoscaler_provider::MAX_PLAUSIBLE_COUNT as f64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const MINUTE: i64 = 60;

    fn point(minutes_ago: i64, value: f64) -> Datapoint {
        Datapoint {
            start_s: NOW - minutes_ago * MINUTE,
            value,
        }
    }

    /// 600 records a minute for the last hour (the newest minute starts 2 min ago).
    fn steady(lag_ms: Vec<Datapoint>) -> Series {
        Series {
            lag_ms,
            incoming: (2..=60).map(|m| point(m, 600.0)).collect(),
            period_s: MINUTE,
            horizon_start_s: NOW - 60 * MINUTE,
            now_s: NOW,
        }
    }

    #[test]
    fn the_records_behind_are_those_written_during_the_lag() {
        // Lag of 90 s measured in the minute that ended 1 min ago, at 10 records/s.
        let behind = steady(vec![point(3, 5_000.0), point(2, 90_000.0)])
            .behind(300)
            .expect("a lag");
        assert_eq!(behind.records, 900);
        assert_eq!(
            behind.oldest,
            Some(MessageAge {
                age_s: 90,
                measured_ago_s: 60
            })
        );
        let caught_up = steady(vec![point(2, 0.0)]).behind(300).expect("a lag");
        assert_eq!(caught_up.records, 0);
    }

    #[test]
    fn a_lag_beyond_the_horizon_is_counted_at_the_average_rate() {
        // Two hours behind: one hour of datapoints, one at the same 10 records/s.
        let behind = steady(vec![point(2, 7_200_000.0)])
            .behind(300)
            .expect("a lag");
        assert!((71_000..=73_000).contains(&behind.records), "{behind:?}");
    }

    #[test]
    fn with_nobody_reading_everything_written_since_the_last_read_is_behind() {
        // The last read ended 20 min ago: 19 minutes of 600 since.
        let stopped = steady(vec![point(21, 0.0)]).behind(300).expect("unread");
        assert_eq!((stopped.records, stopped.oldest), (600 * 19, None));
        // Never read in the horizon: all of it.
        let never = steady(Vec::new()).behind(300).expect("unread");
        assert_eq!(never.records, 600 * 59);
    }

    #[test]
    fn nothing_read_and_nothing_written_is_unknown_and_garbage_is_refused() {
        let mut idle = steady(vec![point(30, 0.0)]);
        idle.incoming.retain(|d| d.start_s < NOW - 40 * MINUTE);
        let why = idle.behind(300).unwrap_err();
        assert!(why.contains("max_age_seconds"), "{why}");
        let mut silent = steady(Vec::new());
        silent.incoming.clear();
        assert!(silent
            .behind(300)
            .unwrap_err()
            .contains("nobody reads or writes"));
        let garbage = steady(vec![point(2, -1.0)]).behind(300).unwrap_err();
        assert!(garbage.contains("-1"), "{garbage}");
    }
}
