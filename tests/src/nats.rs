//! A real NATS server with JetStream on 127.0.0.1, from Debian's `nats-server`
//! package: a private instance per test, its own store directory, TLS with a
//! certificate from a throw-away CA, and a user and password.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::brokers::{free_port, port_open, scratch_dir, wait_until, Pki, Supervised};
use crate::missing;

const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// A running server; stopped when dropped.
pub struct NatsServer {
    process: Supervised,
    pub dir: PathBuf,
    pub pki: Pki,
    pub port: u16,
    pub username: String,
    pub password: String,
}

impl NatsServer {
    /// Starts a server, or answers `None` (outside CI) when nats-server is not installed.
    pub fn start() -> Option<NatsServer> {
        if !Path::new(NATS_SERVER).exists() {
            return missing(
                "nats-server (Debian package nats-server)",
                "run `make brokers` as root (apt-get install nats-server)",
            );
        }
        let dir = scratch_dir("nats");
        let pki = Pki::create(&dir, false);
        let port = free_port();
        let username = "autoscaler".to_string();
        let password = format!("nats-pw-{}-{}", std::process::id(), free_port());
        let args: Vec<String> = [
            "-a",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-js",
            "-sd",
            &dir.join("store").display().to_string(),
            "--user",
            &username,
            "--pass",
            &password,
            "--tls",
            "--tlscert",
            &pki.cert_pem.display().to_string(),
            "--tlskey",
            &pki.key_pem.display().to_string(),
        ]
        .map(str::to_string)
        .to_vec();
        let log = dir.join("nats.log");
        let process = Supervised::spawn(Path::new(NATS_SERVER), &args, &[], &log);
        wait_until("nats-server", &log, Duration::from_secs(20), || {
            port_open(port)
        });
        Some(NatsServer {
            process,
            dir,
            pki,
            port,
            username,
            password,
        })
    }

    pub fn url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
    }

    /// A client of the tests' own, over TLS with the server's CA.
    pub async fn client(&self) -> async_nats::Client {
        async_nats::ConnectOptions::new()
            .user_and_password(self.username.clone(), self.password.clone())
            .add_root_certificates(self.pki.ca_pem.clone())
            .require_tls(true)
            .connect(format!("nats://127.0.0.1:{}", self.port))
            .await
            .expect("connecting to the test's nats-server")
    }

    /// Stops the server now (for "server down" tests).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}
