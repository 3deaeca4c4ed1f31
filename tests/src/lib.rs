//! Test harness: real components on loopback.
//!
//! - [`Emulator`] starts the moto AWS emulator from the project venv on 127.0.0.1
//!   and an ephemeral port (one per test, so tests never share state), and hands
//!   out an `SdkConfig` pointing the real AWS SDK clients at it.
//! - [`LambdaEmulator`] starts cargo-lambda's Lambda runtime API emulator and runs a
//!   real Lambda binary against it.
//! - Fixture helpers create queues, clusters, services, Auto Scaling groups and
//!   buckets through the SDK.
//!
//! A missing tool fails the test in CI (`CI` set) with how to get it; elsewhere the
//! test is skipped with the reason printed. Use [`emulator_or_skip!`].

pub mod aws;
pub mod brokers;
pub mod faults;
pub mod fixtures;
pub mod groups;
pub mod lambda;
pub mod moto;
pub mod nats;
pub mod processes;
pub mod redis;
pub mod stand_in;

use std::path::{Path, PathBuf};

pub use aws::{sdk_config, send_messages, take_messages};
pub use fixtures::{build_provider, config_from, read_queue, tick_now};
pub use lambda::{run_cli, workspace_binary, LambdaEmulator};
pub use moto::Emulator;

/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The project venv's interpreter, where `make venv` installs moto and cargo-lambda.
pub fn venv_bin(name: &str) -> PathBuf {
    workspace_root().join(".venv").join("bin").join(name)
}

/// An error as users read it (a decision's reason, a command's message): one
/// line under 600 characters, not the AWS SDK's rendering of a response
/// (headers, extensions, debug structs) that drowns the cause.
pub fn assert_one_clean_line(text: &str) {
    assert!(!text.contains('\n'), "more than one line: {text}");
    assert!(text.len() < 600, "{} characters: {text}", text.len());
    for noise in [
        "extensions",
        "Response {",
        "HeaderMap",
        "headers:",
        "raw:",
        "source:",
        "Some(",
    ] {
        assert!(!text.contains(noise), "{noise:?} in: {text}");
    }
}

/// Whether this run is CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Fails in CI, or prints why the test is skipped elsewhere. Answers `None` to skip.
pub fn missing<T>(what: &str, how: &str) -> Option<T> {
    let message = format!("{what} is not available: {how}");
    if in_ci() {
        panic!("{message} (CI runs every test, so this is a failure)");
    }
    eprintln!("SKIPPED: {message}");
    None
}

/// Starts an [`Emulator`] or returns from the test with a printed reason (outside CI).
#[macro_export]
macro_rules! emulator_or_skip {
    () => {
        match $crate::Emulator::start().await {
            Some(emulator) => emulator,
            None => return,
        }
    };
}

/// A free TCP port on 127.0.0.1, for tools and brokers that cannot report the
/// one they bound (the listener is closed before they bind it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port")
}
