//! The `amq` provider's settings: parsed and checked at cold start, without I/O
//! beyond reading the optional CA bundle file.

use std::path::PathBuf;
use std::time::Duration;

use fast_autoscaler_provider::{reject_unknown_keys, required_str, ProviderError};
use secrecy::SecretString;
use serde_json::Value;

use crate::NAME;

/// Every setting the provider knows, with the environment variable of
/// single-service mode.
pub const ENV_SETTINGS: &[(&str, &str)] = &[
    ("engine", "AMQ_ENGINE"),
    ("queue_name", "AMQ_QUEUE_NAME"),
    ("vhost", "AMQ_VHOST"),
    ("mode", "AMQ_MODE"),
    ("broker_id", "AMQ_BROKER_ID"),
    ("host", "AMQ_HOST"),
    ("port", "AMQ_PORT"),
    ("secret_arn", "AMQ_SECRET_ARN"),
    ("username", "AMQ_USERNAME"),
    ("password", "AMQ_PASSWORD"),
    ("tls", "AMQ_TLS"),
    ("ca_bundle", "AMQ_CA_BUNDLE"),
    ("connect_timeout_ms", "AMQ_CONNECT_TIMEOUT_MS"),
    ("reply_timeout_ms", "AMQ_REPLY_TIMEOUT_MS"),
    ("cloudwatch_fallback", "AMQ_CLOUDWATCH_FALLBACK"),
    ("broker_name", "AMQ_BROKER_NAME"),
];

/// Default connect and reply time-outs. Together they stay well inside the worker's
/// 8-second Lambda time-out, so a silent broker costs one `hold`, not the invocation.
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;
const MAX_TIMEOUT_MS: u64 = 30_000;

/// The broker engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    RabbitMq,
    ActiveMq,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::RabbitMq => "rabbitmq",
            Engine::ActiveMq => "activemq",
        }
    }
}

/// How the queue depth is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// RabbitMQ management HTTP API: ready and unacknowledged counts, a few seconds late.
    Management,
    /// RabbitMQ passive `queue.declare` over AMQP 0-9-1: ready count only, current.
    Amqp,
    /// ActiveMQ statistics plugin over STOMP.
    Stomp,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Management => "management",
            Mode::Amqp => "amqp",
            Mode::Stomp => "stomp",
        }
    }

    /// The broker's port when none is configured. Amazon MQ serves the RabbitMQ
    /// management API on 443, AMQPS on 5671 and STOMP+SSL on 61614.
    pub fn default_port(self, tls: bool) -> u16 {
        match (self, tls) {
            (Mode::Management, true) => 443,
            (Mode::Management, false) => 15672,
            (Mode::Amqp, true) => 5671,
            (Mode::Amqp, false) => 5672,
            (Mode::Stomp, true) => 61614,
            (Mode::Stomp, false) => 61613,
        }
    }
}

/// Where the broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A host and port given directly.
    Address { host: String, port: u16 },
    /// An Amazon MQ broker id, resolved once through DescribeBroker.
    BrokerId(String),
}

/// Where the credentials come from.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// A Secrets Manager secret holding `{"username": ..., "password": ...}`.
    Secret { arn: String },
    /// Plain settings, for local use only (a warning is logged).
    Plain {
        username: String,
        password: SecretString,
    },
}

/// Validated settings of one monitored queue.
#[derive(Debug, Clone)]
pub struct AmqSettings {
    pub engine: Engine,
    pub mode: Mode,
    pub queue: String,
    pub vhost: String,
    pub endpoint: Endpoint,
    pub credentials: CredentialSource,
    pub tls: bool,
    pub ca_bundle: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub reply_timeout: Duration,
    pub cloudwatch_fallback: bool,
    pub broker_name: Option<String>,
}

fn invalid(field: &str, value: impl Into<String>, expected: impl Into<String>) -> ProviderError {
    ProviderError::InvalidSetting {
        provider: NAME,
        field: field.to_string(),
        value: value.into(),
        expected: expected.into(),
    }
}

/// A setting as text, whether it arrived as a JSON string (environment variables)
/// or as a JSON number or boolean (the configuration document).
fn optional_text(settings: &Value, field: &str) -> Option<String> {
    match settings.get(field)? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn optional_bool(settings: &Value, field: &str, default: bool) -> Result<bool, ProviderError> {
    match optional_text(settings, field) {
        None => Ok(default),
        Some(text) => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(invalid(field, text, "true or false")),
        },
    }
}

fn optional_millis(settings: &Value, field: &str) -> Result<Duration, ProviderError> {
    let Some(text) = optional_text(settings, field) else {
        return Ok(Duration::from_millis(DEFAULT_TIMEOUT_MS));
    };
    match text.parse::<u64>() {
        Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(invalid(
            field,
            text,
            format!("a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"),
        )),
    }
}

/// RabbitMQ queue names are AMQP short strings (at most 255 bytes). ActiveMQ names
/// must not hold the wildcard and composite characters `*`, `>` and `,`: the
/// statistics plugin would answer for several queues at once.
fn validate_queue_name(engine: Engine, name: &str) -> Result<(), ProviderError> {
    let expected = match engine {
        Engine::RabbitMq => "a RabbitMQ queue name: 1 to 255 bytes, no control characters",
        Engine::ActiveMq => {
            "an ActiveMQ queue name without a prefix: 1 to 255 bytes, no control characters, \
             no spaces and none of the wildcard characters * > ,"
        }
    };
    let bad_char = |c: char| match engine {
        Engine::RabbitMq => c.is_control(),
        Engine::ActiveMq => c.is_control() || c.is_whitespace() || matches!(c, '*' | '>' | ','),
    };
    let prefixed =
        engine == Engine::ActiveMq && (name.starts_with("queue://") || name.starts_with("/queue/"));
    if name.is_empty() || name.len() > 255 || name.chars().any(bad_char) || prefixed {
        return Err(invalid("queue_name", name, expected));
    }
    Ok(())
}

fn validate_host(host: &str) -> Result<(), ProviderError> {
    let ok = !host.contains("://")
        && !host.contains('/')
        && !host.contains(char::is_whitespace)
        && host.len() <= 253;
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "host",
            host,
            "a host name or IP address without scheme, port or path, e.g. b-1234.mq.eu-west-1.amazonaws.com",
        ))
    }
}

/// Amazon MQ broker ids look like `b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9`.
fn validate_broker_id(id: &str) -> Result<(), ProviderError> {
    let ok = id.starts_with("b-")
        && id.len() <= 64
        && id[2..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && id.len() > 2;
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "broker_id",
            id,
            "an Amazon MQ broker id such as b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9",
        ))
    }
}

impl AmqSettings {
    /// Parses and checks a settings object. Every problem names its field.
    pub fn parse(settings: &Value) -> Result<Self, ProviderError> {
        let known: Vec<&str> = ENV_SETTINGS.iter().map(|(s, _)| *s).collect();
        reject_unknown_keys(NAME, settings, &known)?;
        let engine = engine(settings)?;
        let mode = mode(engine, settings)?;
        let queue = required_str(
            NAME,
            settings,
            "queue_name",
            "the name of the queue to watch",
        )?
        .to_string();
        validate_queue_name(engine, &queue)?;
        let vhost = vhost(engine, settings)?;
        let tls = optional_bool(settings, "tls", true)?;
        let endpoint = endpoint(settings, mode, tls)?;
        let credentials = credentials(settings)?;
        let ca_bundle = optional_text(settings, "ca_bundle").map(PathBuf::from);
        if let (Some(bundle), false) = (&ca_bundle, tls) {
            return Err(invalid(
                "ca_bundle",
                bundle.display().to_string(),
                "nothing when tls is false",
            ));
        }
        let cloudwatch_fallback = optional_bool(settings, "cloudwatch_fallback", false)?;
        let broker_name = optional_text(settings, "broker_name");
        if cloudwatch_fallback {
            check_fallback(engine, &endpoint, broker_name.as_deref())?;
        }
        Ok(Self {
            engine,
            mode,
            queue,
            vhost,
            endpoint,
            credentials,
            tls,
            ca_bundle,
            connect_timeout: optional_millis(settings, "connect_timeout_ms")?,
            reply_timeout: optional_millis(settings, "reply_timeout_ms")?,
            cloudwatch_fallback,
            broker_name,
        })
    }
}

fn engine(settings: &Value) -> Result<Engine, ProviderError> {
    let text = required_str(NAME, settings, "engine", "rabbitmq or activemq")?;
    match text.trim().to_ascii_lowercase().as_str() {
        "rabbitmq" => Ok(Engine::RabbitMq),
        "activemq" => Ok(Engine::ActiveMq),
        _ => Err(invalid("engine", text, "rabbitmq or activemq")),
    }
}

/// How the engine is read: each has its default, and RabbitMQ a second way.
fn mode(engine: Engine, settings: &Value) -> Result<Mode, ProviderError> {
    let Some(text) = optional_text(settings, "mode") else {
        return Ok(match engine {
            Engine::RabbitMq => Mode::Management,
            Engine::ActiveMq => Mode::Stomp,
        });
    };
    match (engine, text.to_ascii_lowercase().as_str()) {
        (Engine::RabbitMq, "management") => Ok(Mode::Management),
        (Engine::RabbitMq, "amqp") => Ok(Mode::Amqp),
        (Engine::RabbitMq, _) => Err(invalid(
            "mode",
            text,
            "management (default) or amqp for the rabbitmq engine",
        )),
        (Engine::ActiveMq, "stomp") => Ok(Mode::Stomp),
        (Engine::ActiveMq, _) => Err(invalid("mode", text, "stomp (the only mode of activemq)")),
    }
}

fn vhost(engine: Engine, settings: &Value) -> Result<String, ProviderError> {
    match (engine, optional_text(settings, "vhost")) {
        (Engine::RabbitMq, None) => Ok("/".to_string()),
        (Engine::RabbitMq, Some(v)) if v.len() > 255 || v.chars().any(char::is_control) => {
            Err(invalid("vhost", v, "a RabbitMQ virtual host name, e.g. /"))
        }
        (Engine::RabbitMq, Some(v)) => Ok(v),
        (Engine::ActiveMq, None) => Ok(String::new()),
        (Engine::ActiveMq, Some(v)) => Err(invalid(
            "vhost",
            v,
            "nothing: virtual hosts are RabbitMQ only",
        )),
    }
}

/// Where the broker is: an Amazon MQ broker id (looked up at the first
/// reading), or a host and port.
fn endpoint(settings: &Value, mode: Mode, tls: bool) -> Result<Endpoint, ProviderError> {
    let port = optional_text(settings, "port");
    match (
        optional_text(settings, "broker_id"),
        optional_text(settings, "host"),
    ) {
        (Some(id), None) => {
            validate_broker_id(&id)?;
            if let Some(port) = port {
                return Err(invalid(
                    "port",
                    port,
                    "nothing when broker_id is set: the port comes from DescribeBroker",
                ));
            }
            if !tls {
                return Err(invalid(
                    "tls",
                    "false",
                    "true with broker_id: Amazon MQ endpoints only accept TLS",
                ));
            }
            Ok(Endpoint::BrokerId(id))
        }
        (None, Some(host)) => {
            validate_host(&host)?;
            let port = match port {
                None => mode.default_port(tls),
                Some(p) => match p.parse::<u16>() {
                    Ok(port) if port > 0 => port,
                    _ => return Err(invalid("port", p, "a TCP port from 1 to 65535")),
                },
            };
            Ok(Endpoint::Address { host, port })
        }
        (Some(id), Some(host)) => Err(invalid(
            "broker_id",
            format!("{id} (and host = {host})"),
            "either broker_id or host, not both",
        )),
        (None, None) => Err(invalid(
            "host",
            "<missing>",
            "the broker's host name (with optional port), or broker_id instead",
        )),
    }
}

/// A Secrets Manager ARN, or (for tests and local brokers) a user and password.
fn credentials(settings: &Value) -> Result<CredentialSource, ProviderError> {
    let secret_arn = optional_text(settings, "secret_arn");
    let username = optional_text(settings, "username");
    let password = optional_text(settings, "password");
    match (secret_arn, username, password) {
        (Some(arn), None, None) => {
            let ok = arn.starts_with("arn:")
                && arn.split(':').nth(2) == Some("secretsmanager")
                && arn.split(':').count() >= 7;
            if !ok {
                return Err(invalid(
                    "secret_arn",
                    arn,
                    "a Secrets Manager ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>",
                ));
            }
            Ok(CredentialSource::Secret { arn })
        }
        (Some(arn), _, _) => Err(invalid(
            "secret_arn",
            arn,
            "either secret_arn or username and password, not both",
        )),
        (None, Some(username), Some(password)) => {
            if password.contains(['\n', '\r', '\0']) || username.contains(['\n', '\r', '\0', ':']) {
                // The value itself is never echoed: it may be a real password.
                return Err(invalid(
                    "username",
                    username,
                    "a user name without ':' or line breaks, and a password without line breaks",
                ));
            }
            Ok(CredentialSource::Plain {
                username,
                password: SecretString::from(password),
            })
        }
        (None, Some(username), None) => Err(invalid(
            "password",
            "<missing>",
            format!("the password of user {username:?}, or secret_arn instead"),
        )),
        (None, None, Some(_)) => Err(invalid(
            "username",
            "<missing>",
            "the user name that goes with the password, or secret_arn instead",
        )),
        (None, None, None) => Err(invalid(
            "secret_arn",
            "<missing>",
            "a Secrets Manager ARN holding {\"username\", \"password\"}",
        )),
    }
}

/// The CloudWatch fallback reads an ActiveMQ metric, by the broker's name.
fn check_fallback(
    engine: Engine,
    endpoint: &Endpoint,
    broker_name: Option<&str>,
) -> Result<(), ProviderError> {
    if engine != Engine::ActiveMq {
        return Err(invalid(
            "cloudwatch_fallback",
            "true",
            "false: the CloudWatch fallback reads AWS/AmazonMQ QueueSize, an ActiveMQ metric",
        ));
    }
    if broker_name.is_none() && !matches!(endpoint, Endpoint::BrokerId(_)) {
        return Err(invalid(
            "broker_name",
            "<missing>",
            "the broker name of the CloudWatch Broker dimension (or broker_id, to look it up)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rabbit() -> Value {
        json!({"type": "amq", "engine": "rabbitmq", "queue_name": "jobs", "host": "mq.example.com",
               "secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mq-AbCdEf"})
    }

    fn field_of(result: Result<AmqSettings, ProviderError>) -> String {
        match result {
            Err(ProviderError::InvalidSetting { field, .. }) => field,
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_tls_management_and_the_amazon_mq_port() {
        let s = AmqSettings::parse(&rabbit()).unwrap();
        assert_eq!(s.engine, Engine::RabbitMq);
        assert_eq!(s.mode, Mode::Management);
        assert!(s.tls);
        assert_eq!(s.vhost, "/");
        assert_eq!(
            s.endpoint,
            Endpoint::Address {
                host: "mq.example.com".into(),
                port: 443
            }
        );
        assert_eq!(s.connect_timeout, Duration::from_millis(DEFAULT_TIMEOUT_MS));
    }

    #[test]
    fn activemq_defaults_to_stomp_over_tls_on_61614() {
        let mut v = rabbit();
        v["engine"] = json!("activemq");
        let s = AmqSettings::parse(&v).unwrap();
        assert_eq!(s.mode, Mode::Stomp);
        assert_eq!(
            s.endpoint,
            Endpoint::Address {
                host: "mq.example.com".into(),
                port: 61614
            }
        );
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("engine", json!("kafka"), "engine"),
            ("mode", json!("stomp"), "mode"),
            ("queue_name", json!(""), "queue_name"),
            ("host", json!("https://mq.example.com"), "host"),
            ("port", json!("70000"), "port"),
            ("tls", json!("maybe"), "tls"),
            ("secret_arn", json!("my-secret"), "secret_arn"),
            ("connect_timeout_ms", json!(0), "connect_timeout_ms"),
            ("reply_timeout_ms", json!("soon"), "reply_timeout_ms"),
            ("broker_id", json!("b-1"), "broker_id"),
            ("cloudwatch_fallback", json!(true), "cloudwatch_fallback"),
            ("colour", json!("blue"), "colour"),
        ];
        for (key, value, field) in cases {
            let mut v = rabbit();
            v[key] = value.clone();
            assert_eq!(field_of(AmqSettings::parse(&v)), field, "{key} = {value}");
        }
    }

    #[test]
    fn activemq_rejects_wildcards_and_vhosts() {
        for name in ["jobs.*", "jobs.>", "a,b", "queue://jobs", "with space"] {
            let mut v = rabbit();
            v["engine"] = json!("activemq");
            v["queue_name"] = json!(name);
            assert_eq!(field_of(AmqSettings::parse(&v)), "queue_name", "{name}");
        }
        let mut v = rabbit();
        v["engine"] = json!("activemq");
        v["vhost"] = json!("/");
        assert_eq!(field_of(AmqSettings::parse(&v)), "vhost");
    }

    #[test]
    fn credentials_need_exactly_one_source_and_never_echo_the_password() {
        let mut v = rabbit();
        v.as_object_mut().unwrap().remove("secret_arn");
        assert_eq!(field_of(AmqSettings::parse(&v)), "secret_arn");
        v["username"] = json!("app");
        assert_eq!(field_of(AmqSettings::parse(&v)), "password");
        v["password"] = json!("hunter2\nx");
        let err = AmqSettings::parse(&v).unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        v["password"] = json!("hunter2");
        assert!(AmqSettings::parse(&v).is_ok());
        v["secret_arn"] = json!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x");
        assert_eq!(field_of(AmqSettings::parse(&v)), "secret_arn");
    }

    #[test]
    fn broker_id_excludes_host_port_and_plain_tcp() {
        let mut v = rabbit();
        v["broker_id"] = json!("b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9");
        assert_eq!(field_of(AmqSettings::parse(&v)), "broker_id");
        v.as_object_mut().unwrap().remove("host");
        assert!(AmqSettings::parse(&v).is_ok());
        v["tls"] = json!(false);
        assert_eq!(field_of(AmqSettings::parse(&v)), "tls");
        v["tls"] = json!(true);
        v["port"] = json!(443);
        assert_eq!(field_of(AmqSettings::parse(&v)), "port");
    }

    #[test]
    fn plain_tcp_uses_the_plain_default_ports() {
        let mut v = rabbit();
        v["tls"] = json!("false");
        v["mode"] = json!("amqp");
        let s = AmqSettings::parse(&v).unwrap();
        assert_eq!(
            s.endpoint,
            Endpoint::Address {
                host: "mq.example.com".into(),
                port: 5672
            }
        );
    }
}
