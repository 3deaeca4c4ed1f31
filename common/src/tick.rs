//! The tick: one "evaluate now" message from the scheduler to the worker.
//!
//! A [`Tick`] is small versioned JSON: `{"v":1,"due_ms":…,"interval_s":10,"seq":0}`.
//! Its type lives here only and both Lambdas depend on it, so they cannot drift
//! apart.

use serde::{Deserialize, Serialize};

use crate::interval::is_valid_interval;
use crate::Error;

/// The tick body version this build writes and reads.
pub const TICK_VERSION: u32 = 1;

/// One "evaluate now" message from the scheduler to the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tick {
    /// Body format version; see [`TICK_VERSION`].
    pub v: u32,
    /// When the tick is meant to be evaluated, in Unix epoch milliseconds.
    pub due_ms: u64,
    /// The tick interval in seconds the scheduler used.
    pub interval_s: u32,
    /// Position of this tick within its minute: 0 .. 60/interval.
    pub seq: u32,
}

impl Tick {
    /// A tick of this build's version.
    pub fn new(due_ms: u64, interval_s: u32, seq: u32) -> Self {
        Tick {
            v: TICK_VERSION,
            due_ms,
            interval_s,
            seq,
        }
    }

    /// Parses a tick body, naming what is wrong with a bad one.
    pub fn parse(body: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadTick {
            body: truncate(body, 200),
            reason,
        };
        let tick: Tick = serde_json::from_str(body).map_err(|e| bad(e.to_string()))?;
        if tick.v != TICK_VERSION {
            return Err(bad(format!(
                "field v = {}: this build reads version {TICK_VERSION}",
                tick.v
            )));
        }
        if !is_valid_interval(tick.interval_s) || tick.seq >= 60 / tick.interval_s {
            return Err(bad(format!(
                "field interval_s = {} with seq = {}: the interval must divide 60 and seq be below 60/interval",
                tick.interval_s, tick.seq
            )));
        }
        Ok(tick)
    }

    /// The JSON body sent to SQS.
    pub fn to_body(&self) -> String {
        // Serialising four integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_trip_and_bad_bodies_are_named() {
        let tick = Tick::new(25_000, 10, 2);
        assert_eq!(Tick::parse(&tick.to_body()).unwrap(), tick);
        for (body, needle) in [
            ("", "EOF"),
            ("not json", "expected"),
            (r#"{"v":2,"due_ms":1,"interval_s":10,"seq":0}"#, "version"),
            (r#"{"v":1,"due_ms":1,"interval_s":7,"seq":0}"#, "interval_s"),
            (r#"{"v":1,"due_ms":1,"interval_s":10,"seq":6}"#, "seq"),
            (
                r#"{"v":1,"due_ms":-1,"interval_s":10,"seq":0}"#,
                "invalid value",
            ),
            (r#"{"v":1,"interval_s":10,"seq":0}"#, "due_ms"),
            (
                r#"{"v":1,"due_ms":1,"interval_s":10,"seq":0,"x":1}"#,
                "unknown field",
            ),
        ] {
            let err = Tick::parse(body).unwrap_err().to_string();
            assert!(err.contains(needle), "{body}: {err}");
        }
        let long = "x".repeat(500);
        let err = Tick::parse(&long).unwrap_err().to_string();
        assert!(err.len() < 400, "{err}");
    }
}
