//! Several queues read as one.
//!
//! A service whose tasks consume more than one queue scales on what they share:
//! the sum of the queues (one pool of workers drains them all) or the busiest one
//! (each queue must be kept short on its own). Every queue is read at once, and a
//! reading with any queue missing is an error: the service holds rather than
//! scale in on part of its backlog.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

use crate::{
    async_trait, ProviderConfig, ProviderContext, ProviderError, QueueMetrics, QueueMetricsProvider,
};

/// How the readings of several queues become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// One pool of tasks drains every queue: their counts add up.
    #[default]
    Sum,
    /// Each queue on its own: the reading of the one with the most messages.
    Max,
}

impl Combine {
    /// `sum` or `max`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sum" => Some(Combine::Sum),
            "max" => Some(Combine::Max),
            _ => None,
        }
    }

    pub const EXPECTED: &'static str = "sum (the queues' counts add up) or max (the busiest queue)";

    pub fn as_str(self) -> &'static str {
        match self {
            Combine::Sum => "sum",
            Combine::Max => "max",
        }
    }

    /// One reading from several, the busiest named by `name` (its index in
    /// `readings`) when it is the busiest's. A consumption counter survives only a
    /// sum of queues that all report one: with `max`, the busiest queue can
    /// change from one tick to the next, and its counter with it.
    pub fn readings(
        self,
        readings: &[QueueMetrics],
        name: impl Fn(usize) -> String,
    ) -> QueueMetrics {
        match self {
            Combine::Sum => QueueMetrics {
                visible: readings.iter().map(|r| r.visible).sum(),
                in_flight: readings.iter().map(|r| r.in_flight).sum(),
                delayed: readings.iter().map(|r| r.delayed).sum(),
                dequeued_total: readings
                    .iter()
                    .map(|r| r.dequeued_total)
                    .sum::<Option<u64>>(),
                // The oldest message of all the queues.
                oldest_message: readings
                    .iter()
                    .filter_map(|r| r.oldest_message)
                    .max_by_key(|age| age.age_s),
                max_consumers: Self::max_consumers(readings),
                busiest: None,
            },
            Combine::Max => readings
                .iter()
                .enumerate()
                .max_by_key(|(_, r)| r.visible.saturating_add(r.in_flight))
                .map(|(index, busiest)| QueueMetrics {
                    dequeued_total: None,
                    max_consumers: Self::max_consumers(readings),
                    // A busiest queue of several itself names the one it is.
                    busiest: busiest.busiest.clone().or_else(|| Some(name(index))),
                    ..*busiest
                })
                .unwrap_or_default(),
        }
    }
}

impl Combine {
    /// Tasks consume every queue, so as many can work as all the queues allow
    /// together; a queue without a limit lifts it.
    fn max_consumers(readings: &[QueueMetrics]) -> Option<u64> {
        readings.iter().map(|r| r.max_consumers).sum()
    }
}

/// The settings of several queues read as one (a service's `providers` list).
#[derive(Debug)]
pub struct CombinedConfig {
    configs: Vec<Arc<dyn ProviderConfig>>,
    combine: Combine,
}

impl CombinedConfig {
    pub fn new(configs: Vec<Arc<dyn ProviderConfig>>, combine: Combine) -> Self {
        CombinedConfig { configs, combine }
    }
}

/// The providers' common name, or `several` when they differ.
fn common_name(mut names: impl Iterator<Item = &'static str>) -> &'static str {
    let first = names.next().unwrap_or("several");
    if names.all(|name| name == first) {
        first
    } else {
        "several"
    }
}

impl ProviderConfig for CombinedConfig {
    fn provider_name(&self) -> &'static str {
        common_name(self.configs.iter().map(|c| c.provider_name()))
    }

    fn describe(&self) -> Value {
        json!({
            "combine": self.combine,
            "providers": self.configs.iter().map(|c| c.describe()).collect::<Vec<_>>(),
        })
    }

    fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Arc<dyn QueueMetricsProvider>, ProviderError> {
        let providers = self
            .configs
            .iter()
            .map(|config| config.build(ctx))
            .collect::<Result<_, _>>()?;
        Ok(Arc::new(Combined::new(providers, self.combine)))
    }
}

/// Several providers read as one (a service's `providers` list).
#[derive(Debug)]
pub struct Combined {
    providers: Vec<Arc<dyn QueueMetricsProvider>>,
    combine: Combine,
}

impl Combined {
    pub fn new(providers: Vec<Arc<dyn QueueMetricsProvider>>, combine: Combine) -> Self {
        Combined { providers, combine }
    }
}

#[async_trait]
impl QueueMetricsProvider for Combined {
    fn provider_name(&self) -> &'static str {
        common_name(self.providers.iter().map(|p| p.provider_name()))
    }

    fn target(&self) -> String {
        let targets: Vec<String> = self.providers.iter().map(|p| p.target()).collect();
        format!("{} of {}", self.combine.as_str(), targets.join(" + "))
    }

    async fn metrics(&self) -> Result<QueueMetrics, ProviderError> {
        let answers = futures::future::join_all(self.providers.iter().map(|p| p.metrics())).await;
        let readings = answers
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.one_of(self.providers.len()))?;
        Ok(self
            .combine
            .readings(&readings, |i| self.providers[i].target()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(visible: u64, in_flight: u64, dequeued: Option<u64>) -> QueueMetrics {
        QueueMetrics {
            visible,
            in_flight,
            delayed: 1,
            dequeued_total: dequeued,
            oldest_message: None,
            max_consumers: None,
            busiest: None,
        }
    }

    fn name(index: usize) -> String {
        format!("queue {index}")
    }

    #[test]
    fn a_sum_adds_every_count_and_keeps_a_counter_only_when_all_have_one() {
        let sum = Combine::Sum.readings(&[reading(10, 2, Some(5)), reading(30, 1, Some(7))], name);
        assert_eq!(
            sum,
            QueueMetrics {
                delayed: 2,
                ..reading(40, 3, Some(12))
            }
        );
        let partial = Combine::Sum.readings(&[reading(10, 2, Some(5)), reading(30, 1, None)], name);
        assert_eq!(partial.dequeued_total, None);
    }

    #[test]
    fn a_max_is_the_busiest_queue_without_its_counter() {
        let max = Combine::Max.readings(&[reading(10, 20, Some(5)), reading(25, 1, Some(7))], name);
        assert_eq!(
            max,
            QueueMetrics {
                busiest: Some("queue 0".into()),
                ..reading(10, 20, None)
            }
        );
        assert_eq!(Combine::parse(" MAX "), Some(Combine::Max));
        assert_eq!(Combine::parse("avg"), None);
    }

    #[test]
    fn the_consumers_that_fit_add_up_and_one_unlimited_queue_lifts_the_limit() {
        let shards = |n| QueueMetrics {
            max_consumers: Some(n),
            busiest: None,
            ..reading(10, 0, None)
        };
        for combine in [Combine::Sum, Combine::Max] {
            let limited = combine.readings(&[shards(2), shards(3)], name);
            assert_eq!(limited.max_consumers, Some(5), "{combine:?}");
            let mixed = combine.readings(&[shards(2), reading(50, 0, None)], name);
            assert_eq!(mixed.max_consumers, None, "{combine:?}");
        }
    }
}
