//! The worker's errors: each names the service, the AWS operation or the state
//! object it is about, and what was wrong.

use fast_autoscaler_core::ConfigError;
use fast_autoscaler_providers::ProviderError;

/// Errors of the worker library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Provider(#[from] ProviderError),

    #[error("service {service}: its provider could not be built: {cause}")]
    Build {
        service: String,
        cause: ProviderError,
    },

    #[error("ECS service {service:?} not found in cluster {cluster:?} ({reason}); check ECS_CLUSTER/SERVICE_NAME or the document's cluster and service")]
    ServiceNotFound {
        cluster: String,
        service: String,
        reason: String,
    },

    #[error("ECS {operation} failed for {cluster}/{service}: {message}")]
    Ecs {
        operation: &'static str,
        cluster: String,
        service: String,
        message: String,
    },

    #[error("ECS answered {field} = {value} for {cluster}/{service}, which is not a task count (expected a whole number from 0); nothing is decided on it")]
    EcsAnswer {
        cluster: String,
        service: String,
        field: &'static str,
        value: i64,
    },

    #[error("scaling state s3://{bucket}/{key}: {message}")]
    State {
        bucket: String,
        key: String,
        message: String,
    },
}
