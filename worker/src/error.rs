//! The worker's errors: each names the target, the AWS operation or the state
//! object it is about, and what was wrong.

use fast_autoscaler_core::ConfigError;
use fast_autoscaler_providers::ProviderError;
use fast_autoscaler_targets::TargetError;

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

    #[error(transparent)]
    Target(#[from] TargetError),

    #[error("scaling state s3://{bucket}/{key}: {message}")]
    State {
        bucket: String,
        key: String,
        message: String,
    },
}
