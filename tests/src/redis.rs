//! A real Redis server on 127.0.0.1, from Debian's `redis-server` package: a
//! private instance per test, TLS only, with a certificate from a throw-away CA
//! and a password, persisting nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::brokers::{free_port, port_open, scratch_dir, wait_until, Pki, Supervised};
use crate::missing;

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A running server; stopped when dropped.
pub struct RedisServer {
    process: Supervised,
    pub dir: PathBuf,
    pub pki: Pki,
    pub port: u16,
    pub password: String,
}

impl RedisServer {
    /// Starts a server, or answers `None` (outside CI) when redis-server is not installed.
    pub fn start() -> Option<RedisServer> {
        if !Path::new(REDIS_SERVER).exists() {
            return missing(
                "redis-server (Debian package redis-server)",
                "run `make brokers` as root (apt-get install redis-server)",
            );
        }
        let dir = scratch_dir("redis");
        let pki = Pki::create(&dir, false);
        let port = free_port();
        let password = format!("redis-pw-{}-{}", std::process::id(), free_port());
        let path = |p: &Path| p.display().to_string();
        let args: Vec<String> = [
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &path(&pki.cert_pem),
            "--tls-key-file",
            &path(&pki.key_pem),
            "--tls-ca-cert-file",
            &path(&pki.ca_pem),
            "--tls-auth-clients",
            "no",
            "--requirepass",
            &password,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &path(&dir),
            "--daemonize",
            "no",
        ]
        .map(str::to_string)
        .to_vec();
        let log = dir.join("redis.log");
        let process = Supervised::spawn(Path::new(REDIS_SERVER), &args, &[], &log);
        wait_until("redis-server", &log, Duration::from_secs(20), || {
            port_open(port)
        });
        Some(RedisServer {
            process,
            dir,
            pki,
            port,
            password,
        })
    }

    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// Appends `items` to the list `key` over `app`, as an application
    /// enqueuing jobs does.
    pub async fn push(
        app: &mut redis::aio::MultiplexedConnection,
        key: &str,
        items: impl redis::ToRedisArgs,
    ) {
        let _: i64 = redis::cmd("RPUSH")
            .arg(key)
            .arg(items)
            .query_async(app)
            .await
            .expect("RPUSH");
    }

    /// A connection of the tests' own, over TLS with the server's CA.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        use redis::IntoConnectionInfo;
        let info = self.url().into_connection_info().expect("a redis URL");
        let settings = info.redis_settings().clone().set_password(&self.password);
        let root_cert = std::fs::read(&self.pki.ca_pem).expect("the CA");
        redis::Client::build_with_tls(
            info.set_redis_settings(settings),
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_cert),
            },
        )
        .expect("a redis client")
        .get_multiplexed_async_connection()
        .await
        .expect("connecting to the test's redis-server")
    }

    /// Stops the server now (for "server down" tests).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}
