//! Where the broker is: a configured `host` and `port`, or an Amazon MQ
//! `broker_id` resolved once through DescribeBroker to the addresses of the
//! configured mode, in instance order (an active/standby pair has two).

use tokio::sync::Mutex;

use fast_autoscaler_common::aws_error::one_line;

use crate::error::AmqError;
use crate::settings::{AmqSettings, Endpoint, Mode};

/// The broker addresses to try, in order (an active/standby pair has two).
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub addresses: Vec<(String, u16)>,
    pub broker_name: Option<String>,
}

/// The broker's addresses, a broker id's resolved once and kept.
pub(crate) struct Resolver {
    mq: aws_sdk_mq::Client,
    cached: Mutex<Option<Resolved>>,
}

impl Resolver {
    pub fn new(mq: aws_sdk_mq::Client) -> Self {
        Resolver {
            mq,
            cached: Mutex::new(None),
        }
    }

    /// The broker's addresses, resolving a broker id on first use.
    pub async fn resolve(&self, settings: &AmqSettings) -> Result<Resolved, AmqError> {
        let mut cached = self.cached.lock().await;
        if let Some(resolved) = cached.as_ref() {
            return Ok(resolved.clone());
        }
        let resolved = match &settings.endpoint {
            Endpoint::Address { host, port } => Resolved {
                addresses: vec![(host.clone(), *port)],
                broker_name: settings.broker_name.clone(),
            },
            Endpoint::BrokerId(id) => {
                let lookup = tokio::time::timeout(
                    settings.connect_timeout + settings.reply_timeout,
                    self.mq.describe_broker().broker_id(id).send(),
                );
                let answer = lookup
                    .await
                    .map_err(|_| AmqError::BrokerLookup {
                        broker_id: id.clone(),
                        cause: "DescribeBroker timed out".into(),
                    })?
                    .map_err(|e| AmqError::BrokerLookup {
                        broker_id: id.clone(),
                        cause: format!("DescribeBroker: {}", one_line(&e)),
                    })?;
                resolve_broker(id, settings, &answer)?
            }
        };
        *cached = Some(resolved.clone());
        Ok(resolved)
    }
}

/// How errors name the broker at `host:port`: with its id, when it has one.
pub(crate) fn broker_label(settings: &AmqSettings, host: &str, port: u16) -> String {
    match &settings.endpoint {
        Endpoint::BrokerId(id) => format!("{id} ({host}:{port})"),
        Endpoint::Address { .. } => format!("{host}:{port}"),
    }
}

/// Splits `scheme://host:port[/...]`.
fn split_endpoint(url: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((scheme, host, Some(port.parse().ok()?))),
        None => Some((scheme, authority, None)),
    }
}

/// Picks the addresses of the configured mode from a DescribeBroker answer.
fn resolve_broker(
    id: &str,
    settings: &AmqSettings,
    answer: &aws_sdk_mq::operation::describe_broker::DescribeBrokerOutput,
) -> Result<Resolved, AmqError> {
    let lookup_error = |cause: String| AmqError::BrokerLookup {
        broker_id: id.to_string(),
        cause,
    };
    let engine = answer
        .engine_type()
        .map(|e| e.as_str().to_ascii_lowercase())
        .unwrap_or_default();
    if engine != settings.engine.as_str() {
        return Err(lookup_error(format!(
            "the broker's engine is {engine:?} but the configured engine is {}",
            settings.engine.as_str()
        )));
    }
    let mut addresses = Vec::new();
    for instance in answer.broker_instances() {
        let candidates: Vec<&str> = match settings.mode {
            Mode::Management => instance.console_url().into_iter().collect(),
            _ => instance.endpoints().iter().map(String::as_str).collect(),
        };
        let wanted_scheme = match settings.mode {
            Mode::Management => "https",
            Mode::Amqp => "amqps",
            Mode::Stomp => "stomp+ssl",
        };
        for url in candidates {
            if let Some((scheme, host, port)) = split_endpoint(url) {
                if scheme == wanted_scheme {
                    let port = port.unwrap_or_else(|| settings.mode.default_port(true));
                    addresses.push((host.to_string(), port));
                }
            }
        }
    }
    if addresses.is_empty() {
        return Err(lookup_error(format!(
            "no {} endpoint in DescribeBroker's answer (is the broker running?)",
            settings.mode.as_str()
        )));
    }
    Ok(Resolved {
        addresses,
        broker_name: answer
            .broker_name()
            .map(str::to_string)
            .or_else(|| settings.broker_name.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_mq::operation::describe_broker::DescribeBrokerOutput;
    use aws_sdk_mq::types::{BrokerInstance, EngineType};
    use serde_json::json;

    fn settings(engine: &str, mode: &str) -> AmqSettings {
        AmqSettings::parse(&json!({
            "engine": engine, "mode": mode, "queue_name": "jobs",
            "broker_id": "b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9",
            "secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mq-AbCdEf"
        }))
        .unwrap()
    }

    fn active_standby(engine: EngineType) -> DescribeBrokerOutput {
        let instance = |n: u8| {
            BrokerInstance::builder()
                .console_url(format!("https://b-1-{n}.mq.eu-west-1.amazonaws.com"))
                .endpoints(format!("amqps://b-1-{n}.mq.eu-west-1.amazonaws.com:5671"))
                .endpoints(format!(
                    "stomp+ssl://b-1-{n}.mq.eu-west-1.amazonaws.com:61614"
                ))
                .endpoints(format!("ssl://b-1-{n}.mq.eu-west-1.amazonaws.com:61617"))
                .build()
        };
        DescribeBrokerOutput::builder()
            .broker_name("orders")
            .engine_type(engine)
            .broker_instances(instance(1))
            .broker_instances(instance(2))
            .build()
    }

    #[test]
    fn resolves_each_mode_to_its_endpoints_in_instance_order() {
        let id = "b-1";
        let cases = [
            ("activemq", "stomp", EngineType::Activemq, 61614),
            ("rabbitmq", "amqp", EngineType::Rabbitmq, 5671),
            ("rabbitmq", "management", EngineType::Rabbitmq, 443),
        ];
        for (engine, mode, engine_type, port) in cases {
            let resolved =
                resolve_broker(id, &settings(engine, mode), &active_standby(engine_type)).unwrap();
            assert_eq!(
                resolved.addresses,
                vec![
                    ("b-1-1.mq.eu-west-1.amazonaws.com".to_string(), port),
                    ("b-1-2.mq.eu-west-1.amazonaws.com".to_string(), port)
                ],
                "{engine} {mode}"
            );
            assert_eq!(resolved.broker_name.as_deref(), Some("orders"));
        }
    }

    #[test]
    fn an_engine_mismatch_is_named() {
        let err = resolve_broker(
            "b-1",
            &settings("rabbitmq", "management"),
            &active_standby(EngineType::Activemq),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("\"activemq\"") && err.contains("rabbitmq"),
            "{err}"
        );
    }
}
