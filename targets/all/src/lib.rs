//! Every Fast Autoscaler scale-target kind, behind one dependency.
//!
//! `inventory` registrations only exist in crates the final binary links, and the
//! linker drops a crate nothing names. This facade names each target crate, so
//! the worker, the CLI and every test crate see all of them by depending on it.
//!
//! Each kind is a feature, all on by default.
//!
//! To add a target kind: create `targets/<name>/` (a library that calls
//! `inventory::submit!` with a `TargetRegistration`), add it to the workspace
//! members, and add here its optional dependency, its feature, one `pub use`
//! line and its name in [`LINKED`]. Nothing in the core or the worker's engine
//! changes (docs/targets.md walks through it).

pub use fast_autoscaler_target::*;

#[cfg(feature = "asg")]
pub use fast_autoscaler_target_asg as asg;
#[cfg(feature = "ecs")]
pub use fast_autoscaler_target_ecs as ecs;

/// The target crates this facade links, by registered name. The registry test
/// checks that each of these registered, and that every crate under `targets/`
/// appears here (with the default features).
pub const LINKED: &[&str] = &[
    #[cfg(feature = "asg")]
    asg::NAME,
    #[cfg(feature = "ecs")]
    ecs::NAME,
];
