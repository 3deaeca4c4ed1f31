//! Every Fast Autoscaler queue-metrics provider, behind one dependency.
//!
//! `inventory` registrations only exist in crates the final binary links, and the
//! linker drops a crate nothing names. This facade names each provider crate, so
//! the worker, the CLI and every test crate see all of them by depending on it.
//!
//! Each provider is a feature, all on by default: a deployment that reads only SQS
//! builds with `--no-default-features --features sqs` and links nothing else.
//!
//! To add a provider: create `providers/<name>/` (a library that calls
//! `inventory::submit!` with a `ProviderRegistration`), add it to the workspace
//! members, and add here its optional dependency, its feature, one `pub use` line
//! and its name in [`LINKED`].

pub use fast_autoscaler_provider::*;

#[cfg(feature = "amq")]
pub use fast_autoscaler_provider_amq as amq;
#[cfg(feature = "cloudwatch")]
pub use fast_autoscaler_provider_cloudwatch as cloudwatch;
#[cfg(feature = "kinesis")]
pub use fast_autoscaler_provider_kinesis as kinesis;
#[cfg(feature = "nats")]
pub use fast_autoscaler_provider_nats as nats;
#[cfg(feature = "redis")]
pub use fast_autoscaler_provider_redis as redis;
#[cfg(feature = "sqs")]
pub use fast_autoscaler_provider_sqs as sqs;

/// The provider crates this facade links, by registered name. The registry test
/// checks that each of these registered, and that every crate under `providers/`
/// appears here (with the default features).
pub const LINKED: &[&str] = &[
    #[cfg(feature = "amq")]
    amq::NAME,
    #[cfg(feature = "cloudwatch")]
    cloudwatch::NAME,
    #[cfg(feature = "kinesis")]
    kinesis::NAME,
    #[cfg(feature = "nats")]
    nats::NAME,
    #[cfg(feature = "redis")]
    redis::NAME,
    #[cfg(feature = "sqs")]
    sqs::NAME,
];
