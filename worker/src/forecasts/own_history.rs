//! The history of a queue that publishes no arrivals metric (Redis, NATS,
//! RabbitMQ): the worker's own estimates, minute by minute
//! (`fast_autoscaler_core::forecast::estimate`), kept in the state bucket as
//! one object per service, at most 14 days.
//!
//! Each worker notes what its own state writes carried ([`Pending`]) and adds
//! it to the object at most once a minute per service ([`FLUSH_EVERY_MS`]), at
//! the end of a tick, and whenever it learns: the object is read, the minutes
//! added and written back only if no other worker wrote it meanwhile, and
//! otherwise read again (at most [`ATTEMPTS`] times; what could not be added
//! waits for the next time). Every interval between two readings belongs to
//! the one worker whose state write carried the second, so the sums count each
//! message once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use fast_autoscaler_core::forecast::Arrivals;

use super::objects::{self, Written};

/// Conditional writes tried before the minutes wait for the next time. Each
/// conflict is another worker's write landing, and the workers of a tick
/// (reserved concurrency two per shard, a few more for redelivered ticks) write
/// once each, so five lets every one of them land.
const ATTEMPTS: usize = 5;
/// How often a worker adds its notes to a service's history at a tick's end.
pub const FLUSH_EVERY_MS: u64 = 60_000;

/// What this container noted and has not added to the bucket yet, by service id.
#[derive(Debug, Default)]
pub(super) struct Pending {
    minutes: Mutex<HashMap<String, BTreeMap<u64, f64>>>,
    /// When each service's notes were last added.
    added_at_ms: Mutex<HashMap<String, u64>>,
}

impl Pending {
    fn minutes(&self) -> MutexGuard<'_, HashMap<String, BTreeMap<u64, f64>>> {
        // A panic elsewhere leaves the map as it was: still valid notes.
        self.minutes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn added_at(&self) -> MutexGuard<'_, HashMap<String, u64>> {
        self.added_at_ms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes `spread` (messages by Unix minute) for service `id`.
    pub fn note(&self, id: String, spread: Vec<(u64, f64)>) {
        let mut all = self.minutes();
        let minutes = all.entry(id).or_default();
        for (minute, messages) in spread {
            *minutes.entry(minute).or_default() += messages;
        }
    }

    /// Whether service `id` has notes not added for [`FLUSH_EVERY_MS`].
    pub fn due(&self, id: &str, now_ms: u64) -> bool {
        let noted = self.minutes().get(id).is_some_and(|m| !m.is_empty());
        let last = self.added_at().get(id).copied();
        noted && last.is_none_or(|at| now_ms.saturating_sub(at) >= FLUSH_EVERY_MS)
    }

    /// Adds service `id`'s notes to its history at `key`; answers the history.
    /// Only what was added is forgotten: a tick may note more meanwhile, and an
    /// addition cut short by a deadline leaves it all for the next time.
    pub async fn add_to(
        &self,
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        id: &str,
        now_ms: u64,
    ) -> Result<Arrivals, String> {
        let noted = self.minutes().get(id).cloned().unwrap_or_default();
        let history = add(s3, bucket, key, &noted).await?;
        if noted.is_empty() {
            return Ok(history);
        }
        self.added_at().insert(id.to_string(), now_ms);
        let mut all = self.minutes();
        if let Some(minutes) = all.get_mut(id) {
            for (minute, added) in noted {
                if let Some(messages) = minutes.get_mut(&minute) {
                    *messages -= added;
                    if *messages <= 1e-9 {
                        minutes.remove(&minute);
                    }
                }
            }
        }
        Ok(history)
    }
}

/// Adds `pending` (messages by Unix minute) to the history at `key` and
/// answers the history as written.
async fn add(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    pending: &BTreeMap<u64, f64>,
) -> Result<Arrivals, String> {
    for _ in 0..ATTEMPTS {
        let read = objects::read::<Arrivals>(s3, bucket, key).await?;
        let mut history = read.value.unwrap_or_default();
        for (minute, messages) in pending {
            history.add(
                *minute,
                messages.round().min(f64::from(u32::MAX - 1)) as u32,
            );
        }
        if pending.is_empty() {
            return Ok(history);
        }
        let only_over = Some(read.etag.as_deref());
        match objects::write(s3, bucket, key, &history, only_over).await? {
            Written::Yes => return Ok(history),
            Written::Conflict => continue,
        }
    }
    Err(format!(
        "PutObject {key}: other workers wrote it {ATTEMPTS} times in a row; the minutes wait for the next refresh"
    ))
}
