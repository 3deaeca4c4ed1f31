//! The tick: one "evaluate now" message from the scheduler to the worker.
//!
//! A [`Tick`] is small versioned JSON: `{"v":1,"due_ms":…,"interval_s":10,"seq":0}`,
//! and, for a fleet split into shards, `"shard":k,"shards":K`: the tick of one
//! shard, which evaluates that shard's services only (see
//! `fast_autoscaler_core::shards`). A tick without them is the whole fleet's.
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
    /// The shard this tick evaluates: 0 .. `shards`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shard: u32,
    /// How many shards the fleet is split into (1: not split).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub shards: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl Tick {
    /// A tick of this build's version, for the whole fleet.
    pub fn new(due_ms: u64, interval_s: u32, seq: u32) -> Self {
        Tick {
            v: TICK_VERSION,
            due_ms,
            interval_s,
            seq,
            shard: 0,
            shards: 1,
        }
    }

    /// The same tick for shard `shard` of `shards`.
    pub fn for_shard(self, shard: u32, shards: u32) -> Self {
        Tick {
            shard,
            shards,
            ..self
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
        if tick.shards == 0 || tick.shards > tick.interval_s || tick.shard >= tick.shards {
            return Err(bad(format!(
                "fields shard = {} of shards = {}: shards must be from 1 to the interval ({} s), and shard below shards",
                tick.shard, tick.shards, tick.interval_s
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
        // A whole-fleet tick's body is as before shards existed.
        assert_eq!(
            tick.to_body(),
            r#"{"v":1,"due_ms":25000,"interval_s":10,"seq":2}"#
        );
        let sharded = tick.for_shard(3, 5);
        assert_eq!(Tick::parse(&sharded.to_body()).unwrap(), sharded);
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
            (
                r#"{"v":1,"due_ms":1,"interval_s":10,"seq":0,"shard":5,"shards":5}"#,
                "shard = 5 of shards = 5",
            ),
            (
                r#"{"v":1,"due_ms":1,"interval_s":10,"seq":0,"shards":11}"#,
                "shards must be from 1 to the interval",
            ),
            (
                r#"{"v":1,"due_ms":1,"interval_s":10,"seq":0,"shards":0}"#,
                "shards must be from 1",
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
