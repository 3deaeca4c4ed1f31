//! The one place that carries out what the tick's machine asks of a target:
//! read its state, write one, set its count; each result handed back to the
//! machine, until it says the target is done or queued for its turn.

use fast_autoscaler_core::state::{ServiceState, Stored};
use fast_autoscaler_core::tick::{Next, Purpose, WriteOutcome};

use super::{lock, Autoscaler, Machine, TickRun};
use crate::config::ServiceConfig;
use crate::error::Error;

impl Autoscaler {
    /// Target `i`'s steps from `next` on.
    pub(super) async fn carry_out(
        &self,
        run: &TickRun<'_>,
        machine: &Machine<'_>,
        i: usize,
        mut next: Next,
    ) {
        let service = &self.config.services[run.shard[i]];
        loop {
            next = match next {
                Next::Done | Next::Queued => return,
                Next::ReadState => {
                    let stored = self.read_state(service, self.clock.now_ms()).await;
                    lock(machine).stored(i, stored.map_err(|e| e.to_string()))
                }
                Next::Write {
                    state,
                    over,
                    purpose,
                } => {
                    let outcome = self.write_state(service, &state, &over).await;
                    if let Err(e) = &outcome {
                        warn_lost(service, purpose, e);
                    }
                    lock(machine).written(i, outcome.map_err(|e| e.to_string()))
                }
                Next::SetDesired(desired) => {
                    let set = self.set_desired(service, desired).await;
                    lock(machine).set(i, set.map_err(|e| e.to_string()))
                }
            };
        }
    }

    /// Writes `next` over `stored`, conditionally; a write that lands notes
    /// the arrivals between the two states' readings for anticipation's own
    /// history (see [`crate::forecasts::Forecasts::note`]).
    async fn write_state(
        &self,
        service: &ServiceConfig,
        next: &ServiceState,
        stored: &Stored,
    ) -> Result<WriteOutcome, Error> {
        let outcome = self.state.write(next, stored).await;
        if let Ok(WriteOutcome::Written { .. }) = &outcome {
            self.forecasts.note(service, stored, next);
        }
        outcome
    }

    /// Asks `service`'s target for `desired` units, through its kind's client.
    async fn set_desired(&self, service: &ServiceConfig, desired: u32) -> Result<(), Error> {
        let id = service.target_id();
        let client = self.targets.get(&id.kind).ok_or_else(|| {
            Error::Target(fast_autoscaler_targets::TargetError::UnknownTarget {
                name: id.kind.clone(),
                known: self.targets.keys().cloned().collect::<Vec<_>>().join(", "),
            })
        })?;
        Ok(client.set_desired(id, desired).await?)
    }
}

/// A failed write the decision's reason does not say: the log does.
fn warn_lost(service: &ServiceConfig, purpose: Purpose, e: &Error) {
    match purpose {
        Purpose::Remember => {
            tracing::warn!(service = %service.id(), error = %e, "could not keep the policy's samples; the next tick decides with older ones")
        }
        Purpose::Release => {
            tracing::warn!(service = %service.id(), error = %e, "could not release a failed claim; it expires with its lease")
        }
        Purpose::Repair | Purpose::Claim => {}
    }
}
