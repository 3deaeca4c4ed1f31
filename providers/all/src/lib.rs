//! Every Fast Autoscaler queue-metrics provider, behind one dependency.
//!
//! `inventory` registrations only exist in crates the final binary links, and the
//! linker drops a crate nothing names. This facade names each provider crate, so
//! the worker, the CLI and every test crate see all of them by depending on it.
//!
//! To add a provider: create `providers/<name>/` (a library that calls
//! `inventory::submit!` with a `ProviderRegistration`), add it to the workspace
//! members, and add one dependency line plus one `pub use` line here.

pub use fast_autoscaler_provider::*;

pub use fast_autoscaler_provider_amq as amq;
pub use fast_autoscaler_provider_sqs as sqs;

/// The provider crates this facade links, by registered name. The registry test
/// checks that each of these registered, and that every crate under `providers/`
/// appears here.
pub const LINKED: &[&str] = &[amq::NAME, sqs::NAME];
