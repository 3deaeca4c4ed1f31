//! The second phase of configuration: the providers built from the validated
//! settings, with their clients. Only the worker and the commands that read
//! queues (`metrics`, `run`) build; `check-config`, `decide`, `simulate` and
//! `tune` stop at the plain data.

use std::sync::Arc;

use fast_autoscaler_providers::{ProviderContext, QueueMetricsProvider};

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
