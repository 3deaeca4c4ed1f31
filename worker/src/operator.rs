//! An operator's changes to a service's state: pause and resume.
//!
//! They go through the claim protocol's conditional writes (see `fast_autoscaler_core::state`):
//! read the object and its ETag, change only the pause, write it back on that
//! ETag, and start again if a worker wrote in between. So a pause is never lost
//! to a concurrent claim, and never erases one.

use crate::error::Error;
use crate::store::{StateStore, WriteOutcome};
use fast_autoscaler_core::pause::Pause;
use fast_autoscaler_core::state::{ServiceState, Stored};
use fast_autoscaler_core::target::TargetId;

/// How often a write lost to concurrent workers is retried before giving up.
const ATTEMPTS: usize = 10;

/// Sets (`Some`) or clears (`None`) the pause of `target`; answers the state
/// as written.
pub async fn set_pause(
    store: &StateStore,
    target: &TargetId,
    pause: Option<Pause>,
    now_ms: u64,
) -> Result<ServiceState, Error> {
    for _ in 0..ATTEMPTS {
        let stored = store.read(target, now_ms).await?;
        let mut next = match &stored {
            Stored::Found { state, .. } => state.clone(),
            Stored::Missing => ServiceState::new(target),
            // The worker's own repair: scale-in waits one cooldown after it.
            Stored::Corrupt { .. } => ServiceState::repaired(target, now_ms, 0),
        };
        next.pause = pause.clone();
        match store.write(&next, &stored).await? {
            WriteOutcome::Written { .. } => return Ok(next),
            WriteOutcome::Conflict => continue,
        }
    }
    Err(Error::State {
        bucket: store.bucket().to_string(),
        key: StateStore::key(target),
        message: format!(
            "{ATTEMPTS} conditional writes in a row lost to concurrent writers; try again"
        ),
    })
}
