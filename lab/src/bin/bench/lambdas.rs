//! The Lambda zips `make lambda-zips` built: each one's size, packed and
//! unpacked, and its init: from the process starting to its first request
//! for an event from the runtime API (here a listener of the benchmark's own,
//! on loopback), which is what every cold start pays after the download.
//!
//! Every cold start downloads and unpacks the zip, then runs the binary's
//! init: the configuration validated and the clients built. `LAMBDA_ZIPS=dir`
//! measures the zips of another build instead (`dir/<function>/bootstrap.zip`),
//! to put two builds side by side.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use fast_autoscaler_lab::emulator_or_exit;
use fast_autoscaler_tests::{venv_bin, workspace_root, Emulator};

use crate::percentile;

/// Cold starts measured per Lambda.
const COLD_STARTS: usize = 15;

/// A zip for the worker of at most this many bytes (issue: under 8 MB).
const WORKER_ZIP_GOAL: u64 = 8_000_000;

pub async fn zips_and_cold_starts() {
    let zips = std::env::var_os("LAMBDA_ZIPS")
        .map_or_else(|| workspace_root().join("target/lambda"), PathBuf::from);
    println!("\nThe Lambda zips ({}, `make lambda-zips`): size, and init, from the process starting to its first request for an event ({COLD_STARTS} starts)", zips.display());
    println!(
        "{:<10} {:>10} {:>12} {:>14} {:>12}",
        "function", "zip MB", "unpacked MB", "init p50 ms", "init max ms"
    );
    let emulator = emulator_or_exit("bench", "bench").await;
    let mut worker_zip = None;
    for function in ["scheduler", "worker"] {
        let zip = zips.join(function).join("bootstrap.zip");
        let Some(binary) = unpacked(&zip, function) else {
            println!(
                "{function:<10} no zip at {}: run `make lambda-zips ARCH=<this host's>` first",
                zip.display()
            );
            continue;
        };
        let zip_bytes = std::fs::metadata(&zip).map_or(0, |m| m.len());
        let unpacked_bytes = std::fs::metadata(&binary).map_or(0, |m| m.len());
        let inits = inits(&environment(&emulator, function).await, &binary);
        println!(
            "{function:<10} {:>10.2} {:>12.2} {:>14.1} {:>12.1}",
            zip_bytes as f64 / 1e6,
            unpacked_bytes as f64 / 1e6,
            percentile(&inits, 50.0),
            percentile(&inits, 100.0),
        );
        if function == "worker" {
            worker_zip = Some(zip_bytes);
        }
    }
    if let Some(bytes) = worker_zip {
        println!(
            "worker zip: {:.2} MB against a goal of {:.2} MB: ratio {:.2}",
            bytes as f64 / 1e6,
            WORKER_ZIP_GOAL as f64 / 1e6,
            bytes as f64 / WORKER_ZIP_GOAL as f64
        );
    }
}

/// `zip`'s bootstrap, unpacked into a folder of its own.
fn unpacked(zip: &Path, function: &str) -> Option<PathBuf> {
    if !zip.exists() {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("fa-bench-{function}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new(venv_bin("python"))
        .args(["-m", "zipfile", "-e"])
        .arg(zip)
        .arg(&dir)
        .status()
        .ok()?;
    let binary = dir.join("bootstrap");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755));
    }
    (status.success() && binary.exists()).then_some(binary)
}

/// Each start's init, in ms, sorted: from spawning `binary` to its first
/// connection to the runtime API, a listener on loopback that answers nothing.
fn inits(env: &[(String, String)], binary: &Path) -> Vec<f64> {
    let mut inits: Vec<f64> = (0..COLD_STARTS).filter_map(|_| init(env, binary)).collect();
    inits.sort_by(f64::total_cmp);
    inits
}

fn init(env: &[(String, String)], binary: &Path) -> Option<f64> {
    let api = TcpListener::bind("127.0.0.1:0").ok()?;
    let address = api.local_addr().ok()?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // Its init done, the runtime asks for the next event.
    let asked = api
        .accept()
        .ok()
        .map(|_| started.elapsed().as_secs_f64() * 1000.0);
    let _ = child.kill();
    let _ = child.wait();
    asked
}

/// What `function` needs to start: its environment, against the emulator.
async fn environment(emulator: &Emulator, function: &str) -> Vec<(String, String)> {
    let mut env = emulator.env();
    if function == "scheduler" {
        let ticks = emulator.create_queue("bench-lambda-ticks").await;
        env.push(("TICK_QUEUE_URL".into(), ticks));
        return env;
    }
    let jobs = emulator.create_queue("bench-lambda-jobs").await;
    env.extend(
        [
            ("ECS_CLUSTER", "bench"),
            ("SERVICE_NAME", "workers"),
            ("S3_CONFIG_BUCKET", "bench-lambda-state"),
            ("SQS_QUEUE_URL", jobs.as_str()),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    env
}
