//! Configuration: one service from environment variables, or many from a JSON document.
//!
//! Both sources go through the same field readers, so a field is validated the same
//! way wherever it comes from, and every problem is collected before anything is
//! reported: a deployment with three mistakes learns of all three at once. Each
//! problem names the field as the user wrote it (`MIN_TASKS`, or
//! `services[2].min_tasks` in the document), the bad value, and what is valid.
//!
//! Single-service mode keeps the environment variable names and defaults of the
//! original Python autoscaler, so migrating users keep their configuration.
//!
//! # Layout
//!
//! - [`schema`]: the validated types the worker runs on;
//! - [`env`] and [`document`]: the two sources;
//! - `reader` and `keys`: the field readers and validation, and every field's names;
//! - `provider`: the provider lookup and its settings;
//! - `schedule`: the scheduled bounds' windows;
//! - [`error`]: the problems, each naming its field.

pub mod document;
pub mod env;
pub mod error;
mod keys;
mod provider;
mod reader;
mod schedule;
pub mod schema;
#[cfg(test)]
mod tests;

use fast_autoscaler_providers::ProviderContext;

pub use env::Env;
pub use error::{ConfigError, ConfigIssue};
pub use schema::{
    AutoscalerConfig, ConfigSource, Fallback, PolicyKind, PolicySettings, ScaleInRelease,
    ServiceConfig,
};

use error::single_issue;

impl AutoscalerConfig {
    /// Loads the configuration the way the Lambda does: the JSON document from
    /// `document_path` (the CLI's `--config`), else `AUTOSCALER_CONFIG_FILE`, else the
    /// text of `AUTOSCALER_CONFIG`; with none of those, one service from the
    /// environment variables.
    pub fn load(
        env: Env<'_>,
        document_path: Option<&std::path::Path>,
        ctx: ProviderContext<'_>,
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
            return Self::from_document(&text, env, ctx).map(|c| (c, ConfigSource::Document));
        }
        if let Some(text) = env("AUTOSCALER_CONFIG").filter(|t| !t.trim().is_empty()) {
            return Self::from_document(&text, env, ctx).map(|c| (c, ConfigSource::Document));
        }
        Self::from_env(env, ctx).map(|c| (c, ConfigSource::Environment))
    }
}
