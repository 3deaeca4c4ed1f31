//! The history of a queue that publishes no arrivals metric (Redis, NATS,
//! RabbitMQ): the worker's own estimates, minute by minute
//! (`fast_autoscaler_core::forecast::estimate`), kept in the state bucket as
//! one object per service, at most 14 days.
//!
//! Each worker adds what its own ticks saw; the object is read, the minutes
//! added and written back only if no other worker wrote it meanwhile, and
//! otherwise read again (at most [`ATTEMPTS`] times; what could not be added
//! waits for the next refresh). Every interval between two readings belongs to
//! the one tick that read the second, so the sums count each message once.

use std::collections::BTreeMap;

use fast_autoscaler_core::forecast::Arrivals;

use super::objects::{self, Written};

/// Conditional writes tried before the minutes wait for the next refresh.
const ATTEMPTS: usize = 3;

/// Adds `pending` (messages by Unix minute) to the history at `key` and
/// answers the history as written.
pub(super) async fn add(
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
