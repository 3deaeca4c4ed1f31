//! A fault layer for the real AWS SDK clients: an HTTP client that wraps the SDK's
//! own and, at a configured rate, answers a request with a fault instead of (or
//! before) sending it to the emulator.
//!
//! The kinds are what AWS really does under stress: 500 and 503 answers, throttling
//! errors in each protocol's own shape (JSON `ThrottlingException` for SQS and ECS,
//! XML `SlowDown` for S3), connection resets, and answers slower than the SDK's
//! attempt time-out. Because it sits below the SDK, the SDK's retry and time-out
//! policy sees each fault exactly as it would see AWS's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// The kinds of fault, in the order they are counted.
pub const KINDS: [&str; 5] = ["500", "503", "throttling", "reset", "slow"];

/// What to inject and what was injected.
#[derive(Debug)]
pub struct FaultPlan {
    /// The share of requests that get a fault (0 to 1).
    rate: f64,
    /// How long a slow answer waits before it is sent on.
    slow_by: Duration,
    rng: Mutex<u64>,
    requests: AtomicU64,
    injected: [AtomicU64; 5],
    /// Requests and faults per AWS operation.
    by_operation: Mutex<BTreeMap<String, (u64, u64)>>,
}

impl FaultPlan {
    pub fn new(rate: f64, slow_by: Duration, seed: u64) -> Arc<Self> {
        Arc::new(FaultPlan {
            rate,
            slow_by,
            rng: Mutex::new(seed | 1),
            requests: AtomicU64::new(0),
            injected: Default::default(),
            by_operation: Mutex::default(),
        })
    }

    /// `None`, or the index in [`KINDS`] of the fault to inject into a call of `operation`.
    fn draw(&self, operation: &str) -> Option<usize> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let kind = self.roll();
        let mut counts = self.by_operation.lock().unwrap_or_else(|p| p.into_inner());
        let entry = counts.entry(operation.to_string()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(kind.is_some());
        kind
    }

    fn roll(&self) -> Option<usize> {
        let mut state = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = || {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state
        };
        let roll = (next() >> 11) as f64 / (1u64 << 53) as f64;
        if roll >= self.rate {
            return None;
        }
        let kind = (next() % KINDS.len() as u64) as usize;
        self.injected[kind].fetch_add(1, Ordering::Relaxed);
        Some(kind)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Faults injected so far, per kind of [`KINDS`].
    pub fn injected(&self) -> [u64; 5] {
        std::array::from_fn(|i| self.injected[i].load(Ordering::Relaxed))
    }

    /// `(operation, requests, faults)` for every AWS operation seen, by name.
    pub fn by_operation(&self) -> Vec<(String, u64, u64)> {
        let counts = self.by_operation.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(|(op, (n, f))| (op.clone(), *n, *f))
            .collect()
    }

    /// An HTTP client for `SdkConfig::to_builder().http_client(..)`.
    pub fn client(self: &Arc<Self>) -> SharedHttpClient {
        SharedHttpClient::new(FaultyClient {
            inner: aws_smithy_http_client::Builder::new().build_http(),
            plan: self.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyClient {
    inner: SharedHttpClient,
    plan: Arc<FaultPlan>,
}

impl HttpClient for FaultyClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            plan: self.plan.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    plan: Arc<FaultPlan>,
}

/// A fault answer in the request's protocol: JSON (SQS, ECS) or XML (S3).
fn answer(json: bool, status: u16, code: &str) -> HttpResponse {
    let (body, content_type) = if json {
        (
            format!(r#"{{"__type":"{code}","message":"injected fault"}}"#),
            "application/x-amz-json-1.1",
        )
    } else {
        (
            format!("<Error><Code>{code}</Code><Message>injected fault</Message></Error>"),
            "application/xml",
        )
    };
    let status = StatusCode::try_from(status).unwrap_or_else(|_| unreachable!("valid status"));
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    response.headers_mut().insert("content-type", content_type);
    if json {
        // SQS's JSON protocol takes the error code from this header when present.
        response
            .headers_mut()
            .insert("x-amzn-query-error", format!("{code};Sender"));
    }
    response
}

/// The AWS operation a request calls: the JSON protocols name it in `X-Amz-Target`
/// (`AmazonSQS.GetQueueAttributes`), RPCv2 CBOR in the path; for the REST
/// protocols (S3, Amazon MQ), the method and path tell the operation the
/// autoscaler uses.
pub fn operation(request: &HttpRequest) -> String {
    let path = request.uri().split('?').next().unwrap_or_default();
    let path = path.find("://").map_or(path, |scheme| {
        let rest = &path[scheme + 3..];
        rest.find('/').map_or("/", |slash| &rest[slash..])
    });
    match request.headers().get("x-amz-target") {
        Some(target) => target.rsplit('.').next().unwrap_or(target).to_string(),
        // Smithy RPCv2 (CloudWatch): /service/{service}/operation/{operation}.
        None if path.starts_with("/service/") && path.contains("/operation/") => {
            path.rsplit('/').next().unwrap_or_default().to_string()
        }
        // Amazon MQ's REST API: GET /v1/brokers/{id}.
        None if request.method() == "GET" && path.starts_with("/v1/brokers/") => {
            "DescribeBroker".into()
        }
        None => match request.method() {
            "GET" => "S3 GetObject".into(),
            "PUT" => "S3 PutObject".into(),
            other => format!("S3 {other}"),
        },
    }
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let json = request.headers().get("x-amz-target").is_some();
        let Some(kind) = self.plan.draw(&operation(&request)) else {
            return self.inner.call(request);
        };
        let inner = self.inner.clone();
        let slow_by = self.plan.slow_by;
        HttpConnectorFuture::new(async move {
            match KINDS[kind] {
                "500" => Ok(answer(
                    json,
                    500,
                    if json {
                        "InternalFailure"
                    } else {
                        "InternalError"
                    },
                )),
                "503" => Ok(answer(json, 503, "ServiceUnavailable")),
                "throttling" if json => Ok(answer(json, 400, "ThrottlingException")),
                "throttling" => Ok(answer(json, 503, "SlowDown")),
                "reset" => Err(ConnectorError::io(
                    "connection reset by peer (injected)".into(),
                )),
                _ => {
                    tokio::time::sleep(slow_by).await;
                    inner.call(request).await
                }
            }
        })
    }
}

/// What a [`Tamper`] does to the calls of its operation.
pub enum Tampering {
    /// Sends the call on and rewrites the answer's body: a hostile AWS answer.
    Rewrite(Box<dyn Fn(String) -> String + Send + Sync>),
    /// Never sends the call: the connection drops first (a crash before the call
    /// reached AWS).
    DropBeforeSending,
    /// Sends the call, then drops the connection before the answer: AWS acted, the
    /// caller never learns it (a crash right after the call).
    DropAfterSending,
}

impl Tampering {
    /// Rewrites a JSON answer with `edit`; a body that is not JSON is passed on as
    /// is (and the assertions then fail on what it did).
    pub fn json(edit: impl Fn(&mut serde_json::Value) + Send + Sync + 'static) -> Tampering {
        Tampering::Rewrite(Box::new(move |body| {
            match serde_json::from_str::<serde_json::Value>(&body) {
                Ok(mut answer) => {
                    edit(&mut answer);
                    answer.to_string()
                }
                Err(_) => body,
            }
        }))
    }
}

impl std::fmt::Debug for Tampering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tampering::Rewrite(_) => "Rewrite",
            Tampering::DropBeforeSending => "DropBeforeSending",
            Tampering::DropAfterSending => "DropAfterSending",
        })
    }
}

/// An HTTP client that tampers with every call of one AWS operation (by the name
/// [`operation`] gives) and passes every other call through untouched.
#[derive(Debug)]
pub struct Tamper {
    operation: String,
    tampering: Tampering,
    hits: AtomicU64,
}

impl Tamper {
    pub fn new(operation: &str, tampering: Tampering) -> Arc<Self> {
        Arc::new(Tamper {
            operation: operation.to_string(),
            tampering,
            hits: AtomicU64::new(0),
        })
    }

    /// How many calls were tampered with.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// An HTTP client for `SdkConfig::to_builder().http_client(..)`.
    pub fn client(self: &Arc<Self>) -> SharedHttpClient {
        SharedHttpClient::new(TamperingClient {
            inner: aws_smithy_http_client::Builder::new().build_http(),
            tamper: self.clone(),
        })
    }
}

#[derive(Debug)]
struct TamperingClient {
    inner: SharedHttpClient,
    tamper: Arc<Tamper>,
}

impl HttpClient for TamperingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(TamperingConnector {
            inner: self.inner.http_connector(settings, components),
            tamper: self.tamper.clone(),
        })
    }
}

#[derive(Debug)]
struct TamperingConnector {
    inner: SharedHttpConnector,
    tamper: Arc<Tamper>,
}

impl HttpConnector for TamperingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if operation(&request) != self.tamper.operation {
            return self.inner.call(request);
        }
        self.tamper.hits.fetch_add(1, Ordering::Relaxed);
        let inner = self.inner.clone();
        let tamper = self.tamper.clone();
        HttpConnectorFuture::new(async move {
            let dropped = || ConnectorError::io("connection dropped (tampered)".into());
            match &tamper.tampering {
                Tampering::DropBeforeSending => Err(dropped()),
                Tampering::DropAfterSending => {
                    inner.call(request).await?;
                    Err(dropped())
                }
                Tampering::Rewrite(rewrite) => {
                    let response = inner.call(request).await?;
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
                        .collect()
                        .await
                        .map_err(|e| ConnectorError::io(e.into()))?
                        .into_bytes();
                    let rewritten = rewrite(String::from_utf8_lossy(&body).into_owned());
                    let mut answer = HttpResponse::new(status, SdkBody::from(rewritten));
                    for (name, value) in headers.iter() {
                        if !name.eq_ignore_ascii_case("content-length") {
                            answer
                                .headers_mut()
                                .insert(name.to_string(), value.to_string());
                        }
                    }
                    Ok(answer)
                }
            }
        })
    }
}
