//! Real RabbitMQ and ActiveMQ brokers on 127.0.0.1, from Debian's packages.
//!
//! `make brokers` installs `rabbitmq-server`, `activemq`, `libxstream-java`,
//! `libjettison-java` and `openssl` when run as root. Each broker here is a private
//! instance: its own directory, free loopback ports, plain and TLS listeners with a
//! certificate from a throw-away CA ([`Pki`]), and a dedicated user. It runs under a
//! small shell that kills its whole process group when the test process's pipe
//! closes, so a broker never outlives the test binary, even one shared in a
//! `static`.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use crate::free_port;
use crate::missing;

pub(crate) fn scratch_dir(kind: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fast-autoscaler-{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir
}

const INSTALL_HINT: &str =
    "run `make brokers` as root (apt-get install rabbitmq-server activemq libxstream-java libjettison-java openssl)";

/// A throw-away CA and a server certificate for `localhost` and `127.0.0.1`.
pub struct Pki {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    /// The certificate and key as PKCS#12, for Java, with [`Pki::PKCS12_PASSWORD`].
    pub pkcs12: Option<PathBuf>,
}

impl Pki {
    pub const PKCS12_PASSWORD: &'static str = "test-only-keystore";

    pub fn create(dir: &Path, with_pkcs12: bool) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Fast Autoscaler test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, &ca_key);
        let key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("writing PEM");
            path
        };
        let ca_pem = write("ca.pem", ca_cert.pem());
        let cert_pem = write("server.pem", cert.pem());
        let key_pem = write("server.key", key.serialize_pem());
        let pkcs12 = with_pkcs12.then(|| {
            let path = dir.join("server.p12");
            let status = Command::new("openssl")
                .args(["pkcs12", "-export", "-name", "broker", "-in"])
                .arg(&cert_pem)
                .arg("-inkey")
                .arg(&key_pem)
                .arg("-out")
                .arg(&path)
                .arg("-passout")
                .arg(format!("pass:{}", Self::PKCS12_PASSWORD))
                .status()
                .expect("running openssl pkcs12 (apt-get install openssl)");
            assert!(status.success(), "openssl pkcs12 -export failed");
            path
        });
        Pki {
            ca_pem,
            cert_pem,
            key_pem,
            pkcs12,
        }
    }
}

/// A broker process group, killed when dropped or when the test process exits.
pub(crate) struct Supervised {
    child: Child,
    // Closing this pipe (drop, or the test process exiting) stops the broker.
    stdin: Option<ChildStdin>,
}

impl Supervised {
    pub(crate) fn spawn(
        program: &Path,
        args: &[String],
        envs: &[(String, String)],
        log: &Path,
    ) -> Self {
        // `read` returns at end-of-file; then the shell kills its own process group,
        // which holds the broker and everything the broker started.
        let script = r#"log="$1"; shift; "$@" >"$log" 2>&1 & read -r _ignored; kill -TERM 0"#;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(log)
            .arg(program)
            .args(args)
            .envs(envs.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting a broker");
        let stdin = child.stdin.take();
        Supervised { child, stdin }
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever ignored SIGTERM gets SIGKILL.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn wait_until(
    what: &str,
    log: &Path,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let tail = std::fs::read_to_string(log).unwrap_or_default();
    let tail: String = tail
        .lines()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    panic!("{what} did not start within {timeout:?}; its log ends with:\n{tail}");
}

pub(crate) fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// A private RabbitMQ node with the management plugin.
pub struct RabbitMq {
    process: Supervised,
    pub dir: PathBuf,
    pub pki: Pki,
    pub amqp_port: u16,
    pub amqps_port: u16,
    pub http_port: u16,
    pub https_port: u16,
    /// A user with the `monitoring` tag, as the autoscaler's secret would hold.
    pub username: String,
    pub password: String,
}

const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// The ports of a private RabbitMQ node.
struct RabbitPorts {
    amqp_port: u16,
    amqps_port: u16,
    http_port: u16,
    https_port: u16,
    dist_port: u16,
}

/// The node's `rabbitmq.conf`.
fn rabbitmq_conf(ports: &RabbitPorts, pki: &Pki) -> String {
    let RabbitPorts {
        amqp_port,
        amqps_port,
        http_port,
        https_port,
        ..
    } = ports;
    // Every listener on loopback only. Statistics every 500 ms instead of 5 s, so
    // the tests' polling for settled counts is short.
    format!(
        "listeners.tcp.1 = 127.0.0.1:{amqp_port}\n\
         listeners.ssl.1 = 127.0.0.1:{amqps_port}\n\
         ssl_options.cacertfile = {ca}\n\
         ssl_options.certfile = {cert}\n\
         ssl_options.keyfile = {key}\n\
         ssl_options.verify = verify_none\n\
         ssl_options.fail_if_no_peer_cert = false\n\
         management.tcp.ip = 127.0.0.1\n\
         management.tcp.port = {http_port}\n\
         management.ssl.ip = 127.0.0.1\n\
         management.ssl.port = {https_port}\n\
         management.ssl.cacertfile = {ca}\n\
         management.ssl.certfile = {cert}\n\
         management.ssl.keyfile = {key}\n\
         collect_statistics_interval = 500\n\
         loopback_users.guest = true\n",
        ca = pki.ca_pem.display(),
        cert = pki.cert_pem.display(),
        key = pki.key_pem.display(),
    )
}

/// The node's environment: its files under `dir`, every port on loopback.
fn rabbitmq_environment(dir: &Path, ports: &RabbitPorts) -> Vec<(String, String)> {
    let RabbitPorts {
        amqp_port,
        dist_port,
        ..
    } = ports;
    let d = |sub: &str| dir.join(sub).display().to_string();
    [
        ("HOME", d("")),
        ("RABBITMQ_NODENAME", format!("fa-{amqp_port}@localhost")),
        ("RABBITMQ_CONFIG_FILE", d("rabbitmq.conf")),
        ("RABBITMQ_ENABLED_PLUGINS_FILE", d("enabled_plugins")),
        ("RABBITMQ_MNESIA_BASE", d("mnesia")),
        ("RABBITMQ_LOG_BASE", d("log")),
        ("RABBITMQ_DIST_PORT", dist_port.to_string()),
        ("ERL_EPMD_ADDRESS", "127.0.0.1".to_string()),
        (
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
            "-kernel inet_dist_use_interface {127,0,0,1}".to_string(),
        ),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .to_vec()
}

impl RabbitMq {
    /// Starts a node, or answers `None` (outside CI) when RabbitMQ is not installed.
    pub fn start() -> Option<RabbitMq> {
        if !Path::new(RABBITMQ_SERVER).exists() {
            return missing("RabbitMQ (Debian package rabbitmq-server)", INSTALL_HINT);
        }
        let dir = scratch_dir("rabbitmq");
        let pki = Pki::create(&dir, false);
        let [amqp_port, amqps_port, http_port, https_port, dist_port] =
            [(); 5].map(|_| free_port());
        let ports = RabbitPorts {
            amqp_port,
            amqps_port,
            http_port,
            https_port,
            dist_port,
        };
        let config = rabbitmq_conf(&ports, &pki);
        std::fs::write(dir.join("rabbitmq.conf"), config).expect("rabbitmq.conf");
        std::fs::write(dir.join("enabled_plugins"), "[rabbitmq_management].\n")
            .expect("enabled_plugins");
        let envs = rabbitmq_environment(&dir, &ports);
        let log = dir.join("broker.log");
        let process = Supervised::spawn(Path::new(RABBITMQ_SERVER), &[], &envs, &log);
        let mut broker = RabbitMq {
            process,
            dir,
            pki,
            amqp_port,
            amqps_port,
            http_port,
            https_port,
            username: "autoscaler".into(),
            password: format!("pw-{}-{}", std::process::id(), free_port()),
        };
        let overview = format!("http://127.0.0.1:{http_port}/api/overview");
        wait_until("RabbitMQ", &log, Duration::from_secs(90), || {
            blocking_http("GET", &overview, ("guest", "guest"), None).is_ok_and(|(s, _)| s == 200)
        });
        broker.create_user();
        Some(broker)
    }

    fn create_user(&mut self) {
        self.add_monitoring_user(&self.username, &self.password);
    }

    /// Adds a user with the `monitoring` tag and read permission on vhost `/`, as the
    /// autoscaler's secret would hold: a test that counts connections per user gets
    /// one of its own, so the other tests sharing this node don't count.
    pub fn add_monitoring_user(&self, username: &str, password: &str) {
        let user = format!("http://127.0.0.1:{}/api/users/{username}", self.http_port);
        let body = serde_json::json!({"password": password, "tags": "monitoring"});
        let (status, text) = blocking_http("PUT", &user, ("guest", "guest"), Some(&body))
            .expect("creating the test user");
        assert!(status < 300, "PUT user: {status} {text}");
        let permissions = format!(
            "http://127.0.0.1:{}/api/permissions/%2F/{username}",
            self.http_port
        );
        let body = serde_json::json!({"configure": "", "write": "", "read": ".*"});
        let (status, text) = blocking_http("PUT", &permissions, ("guest", "guest"), Some(&body))
            .expect("granting permissions");
        assert!(status < 300, "PUT permissions: {status} {text}");
    }

    /// Stops the broker now (for "broker down" tests).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// A management API call as the administrator `guest` (allowed on loopback only).
    pub fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, String) {
        let url = format!("http://127.0.0.1:{}{path}", self.http_port);
        blocking_http(method, &url, ("guest", "guest"), body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Declares `queue` (durable, in vhost `/`) and publishes `count` messages to it.
    pub async fn publish(&self, queue: &str, count: usize) {
        use amqprs::channel::{BasicPublishArguments, QueueDeclareArguments};
        let connection = self.guest_connection().await;
        let channel = connection.open_channel(None).await.expect("channel");
        channel
            .queue_declare(QueueDeclareArguments::durable_client_named(queue))
            .await
            .expect("queue.declare");
        for n in 0..count {
            channel
                .basic_publish(
                    amqprs::BasicProperties::default(),
                    format!("job {n}").into_bytes(),
                    BasicPublishArguments::new("", queue),
                )
                .await
                .expect("basic.publish");
        }
        // A round trip, so every publish has reached the queue before we return.
        channel
            .queue_declare(QueueDeclareArguments::new(queue).passive(true).finish())
            .await
            .expect("passive declare");
        let _ = channel.close().await;
        let _ = connection.close().await;
    }

    /// Takes `count` messages from `queue` and holds them unacknowledged until the
    /// returned consumer is dropped (as a busy worker would).
    pub async fn hold_unacknowledged(&self, queue: &str, count: u16) -> HeldMessages {
        use amqprs::channel::{BasicConsumeArguments, BasicQosArguments};
        let connection = self.guest_connection().await;
        let channel = connection.open_channel(None).await.expect("channel");
        channel
            .basic_qos(BasicQosArguments::new(0, count, false))
            .await
            .expect("basic.qos");
        let (_tag, receiver) = channel
            .basic_consume_rx(
                BasicConsumeArguments::new(queue, "held")
                    .manual_ack(true)
                    .finish(),
            )
            .await
            .expect("basic.consume");
        HeldMessages {
            _receiver: receiver,
            _channel: channel,
            _connection: connection,
        }
    }

    async fn guest_connection(&self) -> amqprs::connection::Connection {
        let args = amqprs::connection::OpenConnectionArguments::new(
            "127.0.0.1",
            self.amqp_port,
            "guest",
            "guest",
        );
        amqprs::connection::Connection::open(&args)
            .await
            .expect("AMQP connection as guest")
    }

    /// Open connections of `username`, from the management API.
    pub fn connections_of(&self, username: &str) -> usize {
        let (_, text) = self.admin("GET", "/api/connections?columns=user", None);
        let list: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        list.as_array()
            .map(|all| all.iter().filter(|c| c["user"] == username).count())
            .unwrap_or(0)
    }
}

/// Messages held unacknowledged by a consumer; released when dropped.
pub struct HeldMessages {
    _receiver: tokio::sync::mpsc::UnboundedReceiver<amqprs::channel::ConsumerMessage>,
    _channel: amqprs::channel::Channel,
    _connection: amqprs::connection::Connection,
}

/// A private ActiveMQ broker with the statistics plugin and STOMP (plain and TLS).
pub struct ActiveMq {
    process: Supervised,
    pub dir: PathBuf,
    pub pki: Pki,
    pub stomp_port: u16,
    pub stomp_tls_port: u16,
    pub username: String,
    pub password: String,
    /// A second user, allowed to publish and consume, for the tests' own traffic.
    pub app_user: (String, String),
}

const ACTIVEMQ_JAR: &str = "/usr/share/activemq/bin/activemq.jar";

/// The broker's `activemq.xml`: the statistics plugin, the two users, STOMP
/// plain and over TLS on loopback.
fn activemq_xml(
    dir: &Path,
    pki: &Pki,
    (stomp_port, stomp_tls_port): (u16, u16),
    (username, password): (&str, &str),
    app_user: &(String, String),
) -> String {
    let keystore = pki
        .pkcs12
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        r#"<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="fa-test"
      persistent="false" dataDirectory="{data}">
<plugins>
  <statisticsBrokerPlugin/>
  <simpleAuthenticationPlugin>
    <users>
      <authenticationUser username="{username}" password="{password}" groups="monitoring"/>
      <authenticationUser username="{app}" password="{app_password}" groups="apps"/>
    </users>
  </simpleAuthenticationPlugin>
</plugins>
<sslContext>
  <sslContext keyStore="file:{keystore}" keyStorePassword="{keystore_password}" keyStoreType="PKCS12"/>
</sslContext>
<transportConnectors>
  <transportConnector name="stomp" uri="stomp://127.0.0.1:{stomp_port}"/>
  <transportConnector name="stomp+ssl" uri="stomp+ssl://127.0.0.1:{stomp_tls_port}"/>
</transportConnectors>
  </broker>
</beans>
"#,
        data = dir.join("data").display(),
        app = app_user.0,
        app_password = app_user.1,
        keystore_password = Pki::PKCS12_PASSWORD,
    )
}

/// The JVM's arguments, as the Debian launcher would pass them, with every
/// directory under `dir`.
fn activemq_java_args(dir: &Path) -> Vec<String> {
    let d = dir.display().to_string();
    [
        "-Xms64m",
        "-Xmx256m",
        "-Djava.awt.headless=true",
        &format!("-Djava.io.tmpdir={d}"),
        // ACTIVEMQ_USER_CLASSPATH of the Debian launcher: the JSON transformation.
        "-Dactivemq.classpath=/usr/share/java/xstream.jar:/usr/share/java/jettison.jar",
        "-Dactivemq.home=/usr/share/activemq",
        &format!("-Dactivemq.base={d}"),
        &format!("-Dactivemq.conf={d}"),
        &format!("-Dactivemq.data={d}/data"),
        "-jar",
        ACTIVEMQ_JAR,
        "start",
        &format!("xbean:file:{d}/activemq.xml"),
    ]
    .map(str::to_string)
    .to_vec()
}

impl ActiveMq {
    /// Starts a broker, or answers `None` (outside CI) when ActiveMQ is not installed.
    pub fn start() -> Option<ActiveMq> {
        if !Path::new(ACTIVEMQ_JAR).exists() {
            return missing("ActiveMQ (Debian package activemq)", INSTALL_HINT);
        }
        for jar in [
            "/usr/share/java/xstream.jar",
            "/usr/share/java/jettison.jar",
        ] {
            if !Path::new(jar).exists() {
                return missing(
                    &format!("{jar} (the statistics plugin's JSON replies need it)"),
                    INSTALL_HINT,
                );
            }
        }
        let dir = scratch_dir("activemq");
        let pki = Pki::create(&dir, true);
        let stomp_port = free_port();
        let stomp_tls_port = free_port();
        let username = "autoscaler".to_string();
        let password = format!("pw-{}-{}", std::process::id(), free_port());
        let app_user = ("app".to_string(), format!("app-{}", free_port()));
        let xml = activemq_xml(
            &dir,
            &pki,
            (stomp_port, stomp_tls_port),
            (&username, &password),
            &app_user,
        );
        std::fs::write(dir.join("activemq.xml"), xml).expect("activemq.xml");
        let args = activemq_java_args(&dir);
        let log = dir.join("broker.log");
        let process = Supervised::spawn(Path::new("java"), &args, &[], &log);
        let broker = ActiveMq {
            process,
            dir,
            pki,
            stomp_port,
            stomp_tls_port,
            username,
            password,
            app_user,
        };
        wait_until("ActiveMQ", &log, Duration::from_secs(90), || {
            port_open(stomp_port) && port_open(stomp_tls_port)
        });
        Some(broker)
    }

    /// Stops the broker now (for "broker down" tests).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// Sends `count` messages to `queue` as the application user.
    pub async fn publish(&self, queue: &str, count: usize) {
        use fast_autoscaler_providers::amq::stomp::Frame;
        let mut connection = self.app_connection().await;
        for n in 0..count {
            let mut frame = Frame::new("SEND")
                .header("destination", &format!("/queue/{queue}"))
                .header("persistent", "false");
            frame.body = format!("job {n}").into_bytes();
            connection.send(&frame).await.expect("STOMP SEND");
        }
        // A receipt proves the broker has taken every message before we return.
        connection
            .send(&Frame::new("DISCONNECT").header("receipt", "done"))
            .await
            .expect("STOMP DISCONNECT");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let frame = connection.receive(deadline).await.expect("STOMP RECEIPT");
            if frame.command == "RECEIPT" {
                break;
            }
        }
    }

    /// Takes `count` messages from `queue` and holds them unacknowledged until the
    /// returned connection is dropped.
    pub async fn hold_unacknowledged(
        &self,
        queue: &str,
        count: usize,
    ) -> fast_autoscaler_providers::amq::stomp::Connection<tokio::net::TcpStream> {
        use fast_autoscaler_providers::amq::stomp::Frame;
        let mut connection = self.app_connection().await;
        let subscribe = Frame::new("SUBSCRIBE")
            .header("id", "held")
            .header("destination", &format!("/queue/{queue}"))
            .header("ack", "client-individual")
            .header("activemq.prefetchSize", &count.to_string());
        connection.send(&subscribe).await.expect("STOMP SUBSCRIBE");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        for _ in 0..count {
            let frame = connection.receive(deadline).await.expect("STOMP MESSAGE");
            assert_eq!(frame.command, "MESSAGE", "{frame:?}");
        }
        connection
    }

    async fn app_connection(
        &self,
    ) -> fast_autoscaler_providers::amq::stomp::Connection<tokio::net::TcpStream> {
        use fast_autoscaler_providers::amq::stomp::{Connection, Frame};
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.stomp_port))
            .await
            .expect("STOMP TCP connection");
        let mut connection = Connection::new(tcp);
        let connect = Frame::new("CONNECT")
            .header("accept-version", "1.2")
            .header("host", "localhost")
            .header("login", &self.app_user.0)
            .header("passcode", &self.app_user.1);
        connection.send(&connect).await.expect("STOMP CONNECT");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let answer = connection.receive(deadline).await.expect("STOMP CONNECTED");
        assert_eq!(answer.command, "CONNECTED", "{answer:?}");
        connection
    }
}

/// A small blocking HTTP/1.1 client for the management API during set-up, where no
/// async runtime may exist yet (brokers shared through a `static`).
fn blocking_http(
    method: &str,
    url: &str,
    (user, password): (&str, &str),
    body: Option<&serde_json::Value>,
) -> Result<(u16, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    // Called from inside a test's runtime too: a fresh thread keeps runtimes apart.
    let url = url.to_string();
    let (user, password) = (user.to_string(), password.to_string());
    let body = body.cloned();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| e.to_string())?;
            let mut request = client
                .request(method, &url)
                .basic_auth(user, Some(password));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let text = response.text().await.map_err(|e| e.to_string())?;
            Ok((status, text))
        })
    })
    .join()
    .map_err(|_| "HTTP thread panicked".to_string())?
}
