//! cargo-lambda's Lambda runtime API emulator, running a real Lambda binary, and
//! the workspace's built binaries.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, missing, venv_bin, workspace_root};

/// A built binary of this workspace (`make test` builds them all before testing).
pub fn workspace_binary(name: &str) -> PathBuf {
    // Test executables live in target/<profile>/deps, binaries one level up; a
    // binary asking (the lab's) lives beside them.
    let exe = std::env::current_exe().expect("current executable");
    let parent = exe.parent().expect("the executable's directory");
    let dir = if parent.ends_with("deps") {
        parent.parent().expect("target profile directory")
    } else {
        parent
    };
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run the tests with `make test`, which builds every binary first \
         (`cargo build --workspace --bins && cargo test --workspace`)",
        path.display()
    );
    path
}

/// How long one `cargo lambda invoke` may take.
const INVOKE_TIMEOUT_S: u64 = 60;

/// cargo-lambda's Lambda runtime API emulator with one function binary running
/// against it. Both are stopped when dropped.
pub struct LambdaEmulator {
    watch: Child,
    function: Option<Child>,
    port: u16,
    /// The function's stdout and stderr, drained as they come: a pipe nobody reads
    /// fills up (64 KiB) and would block a function that logs a lot.
    output: Vec<std::thread::JoinHandle<Vec<u8>>>,
}

/// Reads a child's pipe to its end on a thread of its own.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

impl LambdaEmulator {
    /// Starts the runtime API on 127.0.0.1 and `binary` with `env`; `None` to skip.
    pub fn start(binary: &Path, env: &[(String, String)]) -> Option<Self> {
        let cargo_lambda = venv_bin("cargo-lambda");
        if !cargo_lambda.exists() {
            return missing(
                "cargo-lambda",
                "run `make venv` (installs cargo-lambda from PyPI into .venv)",
            );
        }
        let port = free_port();
        let watch = Command::new(&cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(workspace_root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting cargo lambda watch");
        wait_for_port(port, Duration::from_secs(30));
        let mut function = Command::new(binary)
            .envs(env.iter().cloned())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the Lambda binary");
        let output = [
            function.stdout.take().map(drain),
            function.stderr.take().map(drain),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut emulator = LambdaEmulator {
            watch,
            function: Some(function),
            port,
            output,
        };
        // A function that fails its init exits at once; say why instead of hanging an invoke.
        std::thread::sleep(Duration::from_millis(500));
        if let Some(function) = emulator.function.as_mut() {
            if let Ok(Some(status)) = function.try_wait() {
                let logs = emulator.stop();
                panic!(
                    "{} exited during init ({status}):\n{logs}",
                    binary.display()
                );
            }
        }
        Some(emulator)
    }

    /// Invokes the function with `payload` through `cargo lambda invoke`; answers its response.
    pub fn invoke(&self, payload: &serde_json::Value) -> serde_json::Value {
        // Bounded: a function that never answers fails the test instead of hanging it.
        let output = Command::new("timeout")
            .arg(INVOKE_TIMEOUT_S.to_string())
            .arg(venv_bin("cargo-lambda"))
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string()])
            .args(["--data-ascii", &payload.to_string()])
            .current_dir(workspace_root())
            .output()
            .expect("running cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "cargo lambda invoke failed: {}\n{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("invoke answered {stdout:?}: {e}"))
    }

    /// Stops the function and answers what it logged on stdout.
    pub fn stop(mut self) -> String {
        let Some(mut function) = self.function.take() else {
            return String::new();
        };
        let _ = function.kill();
        let _ = function.wait();
        self.output
            .drain(..)
            .map(|reader| String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned())
            .collect()
    }
}

impl Drop for LambdaEmulator {
    fn drop(&mut self) {
        if let Some(mut function) = self.function.take() {
            let _ = function.kill();
            let _ = function.wait();
        }
        let _ = self.watch.kill();
        let _ = self.watch.wait();
    }
}

fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "nothing listened on 127.0.0.1:{port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs the `fast-autoscaler` CLI at `binary` (its tests pass
/// `env!("CARGO_BIN_EXE_fast-autoscaler")`) with only `env` and `args`; answers
/// (exit code, stdout, stderr).
pub fn run_cli(binary: &Path, env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let output = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .args(args)
        .output()
        .expect("running fast-autoscaler");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
