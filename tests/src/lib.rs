//! Test harness: real components on loopback.
//!
//! - [`Emulator`] starts the moto AWS emulator from the project venv on 127.0.0.1
//!   and an ephemeral port (one per test, so tests never share state), and hands
//!   out an `SdkConfig` pointing the real AWS SDK clients at it.
//! - [`LambdaEmulator`] starts cargo-lambda's Lambda runtime API emulator and runs a
//!   real Lambda binary against it.
//! - Fixture helpers create queues, clusters, services and buckets through the SDK.
//!
//! A missing tool fails the test in CI (`CI` set) with how to get it; elsewhere the
//! test is skipped with the reason printed. Use [`emulator_or_skip!`].

pub mod brokers;
pub mod faults;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::StreamExt;

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

/// A moto server on 127.0.0.1, stopped when dropped.
pub struct Emulator {
    child: Child,
    // Held open: the server exits when it sees end-of-file.
    _stdin: ChildStdin,
    pub endpoint: String,
    pub aws: SdkConfig,
}

impl Emulator {
    /// Starts moto; `None` when it is not installed and this is not CI.
    pub async fn start() -> Option<Self> {
        let python = venv_bin("python");
        if !python.exists() {
            return missing(
                "the moto AWS emulator",
                "run `make venv` (creates .venv with moto from PyPI)",
            );
        }
        let script = workspace_root().join("tests/emulator/moto_server.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the emulator's port");
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("moto did not report its port (got {line:?}); is moto installed in .venv?")
            });
        let endpoint = format!("http://127.0.0.1:{port}");
        let aws = sdk_config(&endpoint).await;
        Some(Emulator {
            child,
            _stdin: stdin,
            endpoint,
            aws,
        })
    }

    /// Environment variables that point a child process (CLI, Lambda binary) at this emulator.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// AWS calls served since the last reset, as `"service:Operation" -> count`.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        let body = self.emulator_api("GET");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("call counts {body:?}: {e}"))
    }

    /// Forgets the counted calls.
    pub fn reset_calls(&self) {
        self.emulator_api("DELETE");
    }

    /// One plain HTTP/1.0 request to the launcher's counting endpoint.
    fn emulator_api(&self, method: &str) -> String {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connecting to the emulator");
        write!(
            stream,
            "{method} /__calls HTTP/1.0\r\nHost: {address}\r\n\r\n"
        )
        .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default()
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.aws)
    }

    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.aws)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.aws)
                .force_path_style(true)
                .build(),
        )
    }

    pub async fn create_queue(&self, name: &str) -> String {
        let answer = self
            .sqs()
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("CreateQueue");
        answer.queue_url().expect("queue URL").to_string()
    }

    /// Sends `count` small messages, ten per call, two calls at a time (moto slows down under more).
    pub async fn send_messages(&self, queue_url: &str, count: usize) {
        send_messages(&self.sqs(), queue_url, count).await;
    }

    pub async fn purge(&self, queue_url: &str) {
        self.sqs()
            .purge_queue()
            .queue_url(queue_url)
            .send()
            .await
            .expect("PurgeQueue");
    }

    /// Creates the cluster (if needed), a task definition and a service at `desired` tasks.
    pub async fn create_service(&self, cluster: &str, service: &str, desired: i32) {
        let ecs = self.ecs();
        ecs.create_cluster()
            .cluster_name(cluster)
            .send()
            .await
            .expect("CreateCluster");
        let container = aws_sdk_ecs::types::ContainerDefinition::builder()
            .name("worker")
            .image("public.ecr.aws/docker/library/busybox:latest")
            .memory(128)
            .build();
        ecs.register_task_definition()
            .family(format!("{service}-task"))
            .container_definitions(container)
            .send()
            .await
            .expect("RegisterTaskDefinition");
        ecs.create_service()
            .cluster(cluster)
            .service_name(service)
            .task_definition(format!("{service}-task"))
            .desired_count(desired)
            .send()
            .await
            .expect("CreateService");
    }

    pub async fn desired_count(&self, cluster: &str, service: &str) -> i32 {
        let answer = self
            .ecs()
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .expect("DescribeServices");
        answer
            .services()
            .first()
            .map(|s| s.desired_count())
            .expect("service described")
    }

    pub async fn set_desired_count(&self, cluster: &str, service: &str, desired: i32) {
        self.ecs()
            .update_service()
            .cluster(cluster)
            .service(service)
            .desired_count(desired)
            .send()
            .await
            .expect("UpdateService");
    }

    pub async fn create_bucket(&self, bucket: &str) {
        self.s3()
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("CreateBucket");
    }

    /// The raw state object, if any.
    pub async fn state_object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let answer = self
            .s3()
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        Some(
            answer
                .body
                .collect()
                .await
                .expect("state body")
                .into_bytes()
                .to_vec(),
        )
    }

    pub async fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        self.s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
            .await
            .expect("PutObject");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `count` small messages to `queue_url`, ten per call, two calls at a time (moto slows down under more).
pub async fn send_messages(sqs: &aws_sdk_sqs::Client, queue_url: &str, count: usize) {
    let ids: Vec<usize> = (0..count).collect();
    let requests: Vec<_> = ids
        .chunks(10)
        .map(|chunk| {
            let entries = chunk
                .iter()
                .map(|i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(format!("job {i}"))
                        .build()
                        .expect("entry")
                })
                .collect();
            sqs.send_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(entries))
        })
        .collect();
    let results: Vec<_> = futures::stream::iter(requests.into_iter().map(|r| r.send()))
        .buffer_unordered(2)
        .collect()
        .await;
    for result in results {
        result.expect("SendMessageBatch");
    }
}

/// Receives up to `max` (at most 10) messages and deletes them in one batch;
/// answers how many. PurgeQueue allows one call a minute, so tests empty queues this way.
pub async fn take_messages(sqs: &aws_sdk_sqs::Client, queue_url: &str, max: i32) -> usize {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(max.clamp(1, 10))
        .visibility_timeout(600)
        .send()
        .await
        .expect("ReceiveMessage");
    let entries: Vec<_> = received
        .messages()
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        })
        .collect();
    if entries.is_empty() {
        return 0;
    }
    let taken = entries.len();
    sqs.delete_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .expect("DeleteMessageBatch");
    taken
}

/// An `SdkConfig` for the emulator at `endpoint`, with static test credentials.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    fast_autoscaler::aws_defaults()
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

/// A built binary of this workspace (`make test` builds them all before testing).
pub fn workspace_binary(name: &str) -> PathBuf {
    // Test executables live in target/<profile>/deps; binaries one level up.
    let exe = std::env::current_exe().expect("current test executable");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile directory");
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

/// A free TCP port on 127.0.0.1, for tools that cannot report the one they bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral port")
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

/// Runs the `fast-autoscaler` CLI with `env` and `args`; answers (exit code, stdout, stderr).
pub fn run_cli(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let output = Command::new(workspace_binary("fast-autoscaler"))
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

/// A validated configuration from a JSON document, with providers built against the emulator.
pub fn config_from(
    emulator: &Emulator,
    document: &serde_json::Value,
) -> fast_autoscaler::AutoscalerConfig {
    fast_autoscaler::AutoscalerConfig::from_document(
        &document.to_string(),
        &|_| None,
        fast_autoscaler::providers::ProviderContext { aws: &emulator.aws },
    )
    .unwrap_or_else(|e| panic!("test configuration rejected: {e}"))
}

/// A tick due now.
pub fn tick_now() -> fast_autoscaler::Tick {
    fast_autoscaler::Tick {
        v: fast_autoscaler_scheduler::TICK_VERSION,
        due_ms: fast_autoscaler_scheduler::now_ms(),
        interval_s: 10,
        seq: 0,
    }
}
