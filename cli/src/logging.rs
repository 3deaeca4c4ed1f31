//! The command's log lines: on stderr (stdout carries only the JSON answers), at
//! `RUST_LOG`'s level (info by default), as the Lambdas log.
//!
//! The SDK's search for a region through the instance metadata service is left
//! out: without a region it logs one long warning per attempt before anything
//! else, and the command says what is missing in one line of its own (see
//! `main`). `RUST_LOG=aws_config=debug` shows it again.

use lambda_runtime::tracing::subscriber::filter::{Directive, EnvFilter, LevelFilter};

/// The metadata service's region lookup, silenced.
const QUIET_IMDS: &str = "aws_config::imds=off";

pub fn init() {
    let mut filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .from_env_lossy();
    if let Ok(quiet) = QUIET_IMDS.parse::<Directive>() {
        filter = filter.add_directive(quiet);
    }
    lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
