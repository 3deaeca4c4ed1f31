//! Configuration: one service from environment variables, or many from a JSON
//! document, in two phases as Vector's `SourceConfig::build`.
//!
//! 1. **Validated plain data**, [`AutoscalerConfig`]: the policy's fields through
//!    the readers of `fast_autoscaler_core::settings`, the worker's own fields
//!    here, each target's settings through its kind's registered parser, and
//!    each queue's settings through its provider's registered parser.
//!    Every problem is collected before anything is reported: a deployment with
//!    three mistakes learns of all three at once, each under the field as the
//!    user wrote it (`MIN_TASKS`, or `services[2].min_tasks` in the document).
//!    `check-config`, `decide`, `simulate` and `tune` stop here: they never
//!    build a client.
//! 2. **Build**, [`AutoscalerConfig::build`] and
//!    [`AutoscalerConfig::build_targets`]: the providers and the target kinds'
//!    clients from that data. The worker does it once per cold start.
//!
//! Single-service mode keeps the environment variable names and defaults of the
//! original Python autoscaler, so migrating users keep their configuration.
//!
//! # Layout
//!
//! - [`schema`]: the validated types the worker runs on;
//! - [`env`] and [`document`]: the two sources;
//! - `fields` and `keys`: the worker's own fields (target and queue type,
//!   state bucket, ticks, budgets) and their readers;
//! - `target_lookup` and `provider_lookup`: the target kind and the provider
//!   found by name, their settings checked; `kind_defaults`: a target kind's
//!   own policy defaults;
//! - `build`: the second phase.

mod build;
pub mod document;
pub mod env;
mod fields;
pub mod keys;
mod kind_defaults;
mod provider_lookup;
pub mod schema;
mod target_lookup;
#[cfg(test)]
mod target_tests;
#[cfg(test)]
mod tests;

use fast_autoscaler_core::settings::issues::single_issue;

/// Reads one environment variable (the process environment in production).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub use fast_autoscaler_core::settings::{ConfigError, ConfigIssue};
pub use schema::{AutoscalerConfig, ConfigSource, ServiceConfig};

impl AutoscalerConfig {
    /// Loads the configuration the way the Lambda does: the JSON document from
    /// `document_path` (the CLI's `--config`), else `AUTOSCALER_CONFIG_FILE`, else the
    /// text of `AUTOSCALER_CONFIG`; with none of those, one service from the
    /// environment variables.
    pub fn load(
        env: Env<'_>,
        document_path: Option<&std::path::Path>,
    ) -> Result<(Self, ConfigSource), ConfigError> {
        let from_file = document_path.map(|p| p.to_path_buf()).or_else(|| {
            env("AUTOSCALER_CONFIG_FILE")
                .filter(|p| !p.trim().is_empty())
                .map(Into::into)
        });
        if let Some(path) = from_file {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                single_issue(
                    "AUTOSCALER_CONFIG_FILE",
                    path.display().to_string(),
                    format!("a readable JSON file ({e})"),
                )
            })?;
            return Self::from_document(&text, env).map(|c| (c, ConfigSource::Document));
        }
        if let Some(text) = env("AUTOSCALER_CONFIG").filter(|t| !t.trim().is_empty()) {
            return Self::from_document(&text, env).map(|c| (c, ConfigSource::Document));
        }
        Self::from_env(env).map(|c| (c, ConfigSource::Environment))
    }
}
