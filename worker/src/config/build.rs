//! The second phase of configuration: the providers built from the validated
//! settings, with their clients. Only the worker and the commands that read
//! queues (`metrics`, `run`) build; `check-config`, `decide`, `simulate` and
//! `tune` stop at the plain data.

use std::collections::HashMap;
use std::sync::Arc;

use fast_autoscaler_providers::{ProviderContext, QueueMetricsProvider};
use fast_autoscaler_targets::{TargetClient, TargetContext};

use super::schema::AutoscalerConfig;
use crate::error::Error;

impl AutoscalerConfig {
    /// Every service's provider, in configuration order. Builds no connection
    /// and reads no secret: those wait for the first reading.
    pub fn build(
        &self,
        ctx: ProviderContext<'_>,
    ) -> Result<Vec<Arc<dyn QueueMetricsProvider>>, Error> {
        self.services
            .iter()
            .map(|service| {
                service.provider.build(ctx).map_err(|e| Error::Build {
                    service: service.id(),
                    cause: e,
                })
            })
            .collect()
    }
}

impl AutoscalerConfig {
    /// The client of every target kind the services use, by kind: one per
    /// kind, shared by its targets, whose calls are batched across them.
    pub fn build_targets(
        &self,
        ctx: TargetContext<'_>,
    ) -> Result<HashMap<String, Arc<dyn TargetClient>>, Error> {
        let mut clients = HashMap::new();
        for service in &self.services {
            let kind = service.kind();
            if !clients.contains_key(kind) {
                let registration = fast_autoscaler_targets::find(kind)?;
                clients.insert(kind.to_string(), (registration.build)(ctx));
            }
        }
        Ok(clients)
    }
}
