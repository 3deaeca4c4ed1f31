//! A tick's reads, all at once within its deadline: every provider of the shard,
//! the state bucket, and the services' counts from ECS within the tick's
//! DescribeServices allowance (the rest on the counts kept from earlier ticks).

use std::collections::HashMap;

use fast_autoscaler_core::budget::TickAllowance;
use fast_autoscaler_core::state::Stored;
use fast_autoscaler_core::views::{to_describe, DESCRIBE_BATCH, MAX_VIEW_AGE_MS};
use fast_autoscaler_providers::{ProviderError, QueueMetrics};

use super::{Autoscaler, TickRun};
use crate::bounded_calls::bounded;
use crate::config::ServiceConfig;
use crate::ecs::{self, ServiceView};
use crate::error::Error;
use crate::store::StateStore;

/// A service's counts, as this tick has them.
#[derive(Debug, Clone)]
pub(super) enum Counts {
    /// Read from ECS this tick.
    Read(ServiceView),
    /// Kept from an earlier tick, this many milliseconds old: the budget did not
    /// reach this service this tick.
    Kept(ServiceView, u64),
    /// None to decide on: why (the budget, or a failed read).
    Missing(String),
}

/// Everything read for one service this tick.
pub(super) struct Input {
    pub reading: Result<QueueMetrics, ProviderError>,
    pub counts: Counts,
    pub stored: Result<Stored, Error>,
}

/// A tick's reads, in the shard's order, and the DescribeServices calls spent.
pub(super) struct Read {
    pub inputs: Vec<Input>,
    pub describe_calls_made: u32,
}

impl Autoscaler {
    /// Every provider read, the states, and the counts within `allowance`.
    pub(super) async fn read_inputs(&self, run: &TickRun<'_>, allowance: TickAllowance) -> Read {
        let metrics = bounded(run.shard.iter().map(|&i| self.read_queue(run, i)));
        let (to_read, calls) = self.plan_describes(run.shard, allowance);
        let counts = self.read_counts(run, &to_read);
        let states = self.read_states(run);
        let (metrics, counts, states) = tokio::join!(metrics, counts, states);
        let inputs = metrics
            .into_iter()
            .zip(counts)
            .zip(states)
            .map(|((reading, counts), stored)| Input {
                reading,
                counts,
                stored,
            })
            .collect();
        Read {
            inputs,
            describe_calls_made: calls,
        }
    }

    async fn read_queue(
        &self,
        run: &TickRun<'_>,
        index: usize,
    ) -> Result<QueueMetrics, ProviderError> {
        let provider = &self.providers[index];
        tokio::time::timeout_at(run.deadline, provider.metrics())
            .await
            .unwrap_or_else(|_| {
                Err(ProviderError::Unavailable {
                    provider: provider.provider_name(),
                    target: self.config.services[index].id(),
                    message: run.missed("reading the queue"),
                })
            })
    }

    /// The shard's services to describe this tick, and the calls that takes: all
    /// of them when the allowance covers them, else the unread and the oldest,
    /// keeping enough calls to describe again the changes the tick can make.
    fn plan_describes(&self, shard: &[usize], allowance: TickAllowance) -> (Vec<usize>, u32) {
        let now_ms = self.clock.now_ms();
        let kept = self.kept_views();
        let ages: Vec<(&str, Option<u64>)> = shard
            .iter()
            .map(|&i| {
                let age = kept.get(&i).map(|(_, at)| now_ms.saturating_sub(*at));
                (self.config.services[i].cluster.as_str(), age)
            })
            .collect();
        let mut chosen = to_describe(&ages, allowance.describe_calls);
        if chosen.len() < shard.len() {
            // Kept counts will be decided on: keep calls to read again the
            // changes this tick can make, but no more than half of them.
            let again = allowance.updates.div_ceil(DESCRIBE_BATCH as u32).max(1);
            let reserved = again.min(allowance.describe_calls / 2);
            chosen = to_describe(&ages, allowance.describe_calls - reserved);
        }
        let calls = calls_for(chosen.iter().map(|&p| ages[p].0));
        (chosen.into_iter().map(|p| shard[p]).collect(), calls)
    }

    fn kept_views(&self) -> HashMap<usize, (ServiceView, u64)> {
        self.views.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The counts of each service of the shard: described now if in `to_read`,
    /// else as kept, if not too old.
    async fn read_counts(&self, run: &TickRun<'_>, to_read: &[usize]) -> Vec<Counts> {
        let described = self.describe(run, to_read).await;
        let now_ms = self.clock.now_ms();
        let kept = self.kept_views();
        run.shard
            .iter()
            .map(|i| match described.get(i) {
                Some(Ok(view)) => Counts::Read(view.clone()),
                Some(Err(e)) => Counts::Missing(format!("cannot read the ECS service: {e}")),
                None => match kept.get(i) {
                    Some((view, at)) if now_ms.saturating_sub(*at) <= MAX_VIEW_AGE_MS => {
                        Counts::Kept(view.clone(), now_ms.saturating_sub(*at))
                    }
                    Some((_, at)) => Counts::Missing(format!(
                        "waiting for the ECS budget to read its counts, last read {} s ago",
                        now_ms.saturating_sub(*at) / 1000
                    )),
                    None => Counts::Missing(
                        "waiting for the ECS budget to read its counts for the first time".into(),
                    ),
                },
            })
            .collect()
    }

    /// DescribeServices for `indices`, one cluster's services 10 a call, within
    /// the deadline; the views read are kept for later ticks.
    pub(super) async fn describe(
        &self,
        run: &TickRun<'_>,
        indices: &[usize],
    ) -> HashMap<usize, Result<ServiceView, Error>> {
        let clusters = group_by_cluster(&self.config.services, indices);
        let described = bounded(clusters.iter().map(|(cluster, names)| async move {
            tokio::time::timeout_at(
                run.deadline,
                ecs::describe_services(&self.ecs, cluster, names),
            )
            .await
            .unwrap_or_default()
        }))
        .await;
        let mut by_cluster: HashMap<&str, HashMap<String, Result<ServiceView, Error>>> = clusters
            .iter()
            .map(|(cluster, _)| cluster.as_str())
            .zip(described)
            .collect();
        let now_ms = self.clock.now_ms();
        let mut views = HashMap::new();
        for &i in indices {
            let service = &self.config.services[i];
            let view = by_cluster
                .get_mut(service.cluster.as_str())
                .and_then(|d| d.remove(&service.service))
                .unwrap_or_else(|| {
                    Err(Error::ServiceNotFound {
                        cluster: service.cluster.clone(),
                        service: service.service.clone(),
                        reason: "not described before the tick deadline".into(),
                    })
                });
            if let Ok(read) = &view {
                self.keep_view(i, read.clone(), now_ms);
            }
            views.insert(i, view);
        }
        views
    }

    /// Keeps `view` of service `index`, read (or set) at `at_ms`.
    pub(super) fn keep_view(&self, index: usize, view: ServiceView, at_ms: u64) {
        if let Ok(mut views) = self.views.lock() {
            views.insert(index, (view, at_ms));
        }
    }

    /// Every state of the shard: the bucket listed once, and only the objects
    /// whose ETag changed since the last tick read (all of them if listing fails).
    async fn read_states(&self, run: &TickRun<'_>) -> Vec<Result<Stored, Error>> {
        let now_ms = self.clock.now_ms();
        let listing = match tokio::time::timeout_at(run.deadline, self.state.list_etags()).await {
            Ok(Ok(listing)) => Some(listing),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot list the state objects; reading each one");
                None
            }
            Err(_) => None,
        };
        // The unchanged states, taken from the kept ones under the lock; the
        // others read without it, so several shards' ticks read at once.
        let services: Vec<&ServiceConfig> = run
            .shard
            .iter()
            .map(|&i| &self.config.services[i])
            .collect();
        let known: Vec<Option<Result<Stored, Error>>> = {
            let seen = self.seen_states.lock().await;
            services
                .iter()
                .map(|s| {
                    let key = StateStore::key(&s.cluster, &s.service);
                    match listing.as_ref().map(|l| l.get(&key)) {
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
        };
        let states = bounded(services.iter().zip(known).map(|(s, known)| async move {
            match known {
                Some(stored) => stored,
                None => tokio::time::timeout_at(run.deadline, self.read_state(s, now_ms))
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::State {
                            bucket: self.config.state_bucket.clone(),
                            key: StateStore::key(&s.cluster, &s.service),
                            message: run.missed("reading the state"),
                        })
                    }),
            }
        }))
        .await;
        let mut seen = self.seen_states.lock().await;
        for (service, stored) in services.iter().zip(&states) {
            if let Ok(Stored::Found { state, etag }) = stored {
                let key = StateStore::key(&service.cluster, &service.service);
                seen.insert(key, (etag.clone(), state.clone()));
            }
        }
        states
    }

    pub(super) async fn read_state(
        &self,
        service: &ServiceConfig,
        now_ms: u64,
    ) -> Result<Stored, Error> {
        let stored = self
            .state
            .read(&service.cluster, &service.service, now_ms)
            .await?;
        if let Stored::Corrupt { problem, .. } = &stored {
            tracing::warn!(service = %service.id(), problem = %problem, "scaling state is unreadable: scale-in denied, the state will be replaced");
        }
        Ok(stored)
    }
}

/// The names of `indices`' services, by cluster, in configuration order.
fn group_by_cluster(services: &[ServiceConfig], indices: &[usize]) -> Vec<(String, Vec<String>)> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for s in indices.iter().map(|&i| &services[i]) {
        // Each service is configured once (the configuration refuses duplicates).
        match grouped
            .iter_mut()
            .find(|(cluster, _)| *cluster == s.cluster)
        {
            Some((_, names)) => names.push(s.service.clone()),
            None => grouped.push((s.cluster.clone(), vec![s.service.clone()])),
        }
    }
    grouped
}

/// DescribeServices calls to describe services of these clusters.
pub(super) fn calls_for<'a>(clusters: impl Iterator<Item = &'a str>) -> u32 {
    let mut per_cluster: HashMap<&str, usize> = HashMap::new();
    for cluster in clusters {
        *per_cluster.entry(cluster).or_default() += 1;
    }
    per_cluster
        .values()
        .map(|n| n.div_ceil(DESCRIBE_BATCH) as u32)
        .sum()
}
