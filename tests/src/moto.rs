//! The moto AWS emulator: one server per test on 127.0.0.1 and an ephemeral port,
//! started from the project venv, counting the calls it serves.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use aws_config::SdkConfig;

use crate::aws::sdk_config;
use crate::{missing, venv_bin, workspace_root, REGION};

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
        let body = self.emulator_api("GET", "/__calls", "");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("call counts {body:?}: {e}"))
    }

    /// Forgets the counted calls.
    pub fn reset_calls(&self) {
        self.emulator_api("DELETE", "/__calls", "");
    }

    /// Holds every call of each `"service:Operation"` that many milliseconds before
    /// moto handles it (so its effect lands late too); an empty list clears.
    pub fn delay_calls(&self, delays_ms: &[(&str, u64)]) {
        let body: serde_json::Map<String, serde_json::Value> = delays_ms
            .iter()
            .map(|(operation, ms)| (operation.to_string(), serde_json::json!(ms)))
            .collect();
        let body = serde_json::Value::Object(body).to_string();
        self.emulator_api("PUT", "/__delays", &body);
    }

    /// Sets an ECS service's runningCount (the rest of its desiredCount pending):
    /// moto would otherwise report every task running the moment it is asked for.
    pub fn set_running(&self, cluster: &str, service: &str, running: u32) {
        let body = serde_json::json!({
            "region": REGION, "cluster": cluster, "service": service, "running": running,
        })
        .to_string();
        let answer = self.emulator_api("PUT", "/__running", &body);
        assert!(
            answer.contains("\"running\""),
            "PUT /__running answered {answer}"
        );
    }

    /// One plain HTTP/1.0 request to one of the launcher's own endpoints.
    fn emulator_api(&self, method: &str, path: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connecting to the emulator");
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
