//! A tick's reads, all at once within its deadline: the machine's describe
//! calls through each kind's client, every provider of the shard, and the
//! state bucket.

use std::collections::HashMap;

use fast_autoscaler_core::state::Stored;
use fast_autoscaler_core::target::TargetId;
use fast_autoscaler_core::tick::DescribeCall;
use fast_autoscaler_providers::{ProviderError, QueueMetrics};
use fast_autoscaler_targets::TargetView;

use super::{Autoscaler, TickRun};
use crate::bounded_calls::bounded;
use crate::config::ServiceConfig;
use crate::error::Error;
use crate::store::StateStore;

impl Autoscaler {
    /// The answers of `calls` (targets by their index in the shard), one list
    /// per call, in order; a call that missed the deadline answers none.
    pub(super) async fn describe(
        &self,
        run: &TickRun<'_>,
        calls: &[DescribeCall],
    ) -> Vec<Vec<Result<TargetView, String>>> {
        bounded(calls.iter().map(|call| async move {
            let ids: Vec<TargetId> = call
                .targets
                .iter()
                .map(|&i| self.config.services[run.shard[i]].target_id().clone())
                .collect();
            let Some(client) = self.targets.get(&call.kind) else {
                return Vec::new();
            };
            let answers = tokio::time::timeout_at(run.deadline, client.describe(&ids)).await;
            (answers.unwrap_or_default().into_iter())
                .map(|answer| answer.map_err(|e| e.to_string()))
                .collect()
        }))
        .await
    }

    /// Every provider of the shard, in order.
    pub(super) async fn read_queues(&self, run: &TickRun<'_>) -> Vec<Result<QueueMetrics, String>> {
        bounded(run.shard.iter().map(|&i| async move {
            let provider = &self.providers[i];
            let read = tokio::time::timeout_at(run.deadline, provider.metrics()).await;
            read.unwrap_or_else(|_| {
                // Named by its queue, as every other read error is: a service
                // reading several queues says which one hung.
                Err(ProviderError::Unavailable {
                    provider: provider.provider_name(),
                    target: provider.target(),
                    message: run.missed("reading the queue"),
                })
            })
            .map_err(|e| e.to_string())
        }))
        .await
    }

    /// Every state of the shard: the bucket listed once, and only the objects
    /// whose ETag changed since the last tick read (all of them if listing fails).
    pub(super) async fn read_states(&self, run: &TickRun<'_>) -> Vec<Result<Stored, String>> {
        let now_ms = self.clock.now_ms();
        let listing = match tokio::time::timeout_at(run.deadline, self.state.list_etags()).await {
            Ok(Ok(listing)) => Some(listing),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot list the state objects; reading each one");
                None
            }
            Err(_) => None,
        };
        let services: Vec<&ServiceConfig> = (run.shard.iter())
            .map(|&i| &self.config.services[i])
            .collect();
        let known = self.unchanged_states(&services, listing.as_ref()).await;
        let states = bounded(services.iter().zip(known).map(|(s, known)| async move {
            match known {
                Some(stored) => stored,
                None => tokio::time::timeout_at(run.deadline, self.read_state(s, now_ms))
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::State {
                            bucket: self.config.state_bucket.clone(),
                            key: StateStore::key(s.target_id()),
                            message: run.missed("reading the state"),
                        })
                    }),
            }
        }))
        .await;
        self.keep_states(&services, &states).await;
        (states.into_iter())
            .map(|stored| stored.map_err(|e| e.to_string()))
            .collect()
    }

    /// The states the listing shows unchanged since they were read (or
    /// missing), taken from the kept ones under the lock; `None` for those to
    /// read, which are read without it, so several shards' ticks read at once.
    async fn unchanged_states(
        &self,
        services: &[&ServiceConfig],
        listing: Option<&HashMap<String, String>>,
    ) -> Vec<Option<Result<Stored, Error>>> {
        let seen = self.seen_states.lock().await;
        (services.iter())
            .map(|s| {
                let key = StateStore::key(s.target_id());
                match listing.map(|l| l.get(&key)) {
                    Some(None) => Some(Ok(Stored::Missing)),
                    Some(Some(etag)) => {
                        seen.get(&key)
                            .filter(|(e, _)| e == etag)
                            .map(|(etag, state)| {
                                Ok(Stored::Found {
                                    state: state.clone(),
                                    etag: etag.clone(),
                                })
                            })
                    }
                    None => None,
                }
            })
            .collect()
    }

    /// Keeps the states read, with their ETags, for the next tick's listing.
    async fn keep_states(&self, services: &[&ServiceConfig], states: &[Result<Stored, Error>]) {
        let mut seen = self.seen_states.lock().await;
        for (service, stored) in services.iter().zip(states) {
            match stored {
                Ok(Stored::Found { state, etag }) => {
                    let key = StateStore::key(service.target_id());
                    seen.insert(key, (etag.clone(), state.clone()));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(service = %service.id(), error = %e, "cannot read the scaling state; deciding without it (a pause set meanwhile is not seen), and a change asks for it again");
                }
            }
        }
    }

    pub(super) async fn read_state(
        &self,
        service: &ServiceConfig,
        now_ms: u64,
    ) -> Result<Stored, Error> {
        let stored = self.state.read(service.target_id(), now_ms).await?;
        if let Stored::Corrupt { problem, .. } = &stored {
            tracing::warn!(service = %service.id(), problem = %problem, "scaling state is unreadable: scale-in denied, the state will be replaced");
        }
        Ok(stored)
    }
}
