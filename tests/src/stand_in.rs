//! A stand-in for the AWS APIs one tick uses, answering canned responses, on
//! 127.0.0.1: what the autoscaler itself costs, without moto's own time in the
//! figures.
//!
//! It answers SQS `GetQueueAttributes` (a fixed backlog, or one per queue), ECS
//! `DescribeServices` (every requested service ACTIVE, at the count its last
//! `UpdateService` set, else a fixed one) and `UpdateService`, and S3
//! `ListObjectsV2` and `GetObject` (no state yet) and `PutObject`, in the protocols the real SDK
//! clients speak. Optionally it waits a fixed latency before each answer and
//! enforces per-operation rate limits as token buckets, answering
//! `ThrottlingException` as AWS does. The buckets refill on [`StandIn::refill`]
//! rather than with the wall clock, so a benchmark can issue ticks back to back and
//! still see the limits of ticks spaced an interval apart.
//!
//! It runs on a runtime and threads of its own, so a benchmark measuring its own
//! thread's CPU time does not count the stand-in's.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// A sustained rate and a burst, as AWS documents a token bucket.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// `"service:Operation"`, as the stand-in names calls.
    pub operation: &'static str,
    /// Tokens the bucket holds: the most calls in one second.
    pub burst: f64,
    /// Tokens added per second: the sustained rate.
    pub per_second: f64,
}

/// How the stand-in answers.
#[derive(Debug, Clone)]
pub struct StandInOptions {
    /// Waited before each answer (without using CPU).
    pub latency: Duration,
    pub limits: Vec<RateLimit>,
    /// The visible backlog every queue reports.
    pub visible: u64,
    /// Backlogs by queue: queue `…/q-00042` reports `backlogs[42]`, where given.
    pub backlogs: Vec<u64>,
    /// The desired (and running) count every service reports.
    pub desired: u32,
}

#[derive(Debug, Default)]
struct Shared {
    calls: BTreeMap<String, u64>,
    throttled: BTreeMap<String, u64>,
    /// Tokens left per limited operation.
    tokens: HashMap<&'static str, f64>,
    /// The desired count each service's last UpdateService set.
    desired: HashMap<String, u32>,
    /// Every UpdateService served, in order: (service, desired count).
    updates: Vec<(String, u32)>,
    /// Backlogs by queue, replacing the options' from [`StandIn::set_backlogs`] on.
    backlogs: Option<Vec<u64>>,
}

/// The running stand-in; stopped when dropped.
pub struct StandIn {
    pub endpoint: String,
    options: Arc<StandInOptions>,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StandIn {
    /// Starts the stand-in on 127.0.0.1 and an ephemeral port, with full buckets.
    pub fn start(options: StandInOptions) -> StandIn {
        let mut shared = Shared::default();
        for limit in &options.limits {
            shared.tokens.insert(limit.operation, limit.burst);
        }
        let shared = Arc::new(Mutex::new(shared));
        let options = Arc::new(options);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding the stand-in");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = listener.local_addr().expect("stand-in address");
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread = {
            let (options, shared) = (options.clone(), shared.clone());
            std::thread::spawn(move || serve(listener, options, shared, stopped))
        };
        StandIn {
            endpoint: format!("http://{address}"),
            options,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Calls served (throttled ones included) since the last reset.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.lock().calls.clone()
    }

    /// From now on, queue `…/q-00042` reports `backlogs[42]`.
    pub fn set_backlogs(&self, backlogs: Vec<u64>) {
        self.lock().backlogs = Some(backlogs);
    }

    /// Every UpdateService served (not throttled), in order: (service, count).
    pub fn updates(&self) -> Vec<(String, u32)> {
        self.lock().updates.clone()
    }

    /// Calls answered with ThrottlingException since the last reset.
    pub fn throttled(&self) -> u64 {
        self.lock().throttled.values().sum()
    }

    pub fn reset_calls(&self) {
        let mut shared = self.lock();
        shared.calls.clear();
        shared.throttled.clear();
    }

    /// Refills every bucket by `seconds` of its sustained rate, up to its burst.
    pub fn refill(&self, seconds: f64) {
        let mut shared = self.lock();
        for limit in &self.options.limits {
            let tokens = shared.tokens.entry(limit.operation).or_insert(0.0);
            *tokens = (*tokens + limit.per_second * seconds).min(limit.burst);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    listener: std::net::TcpListener,
    options: Arc<StandInOptions>,
    shared: Arc<Mutex<Shared>>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("stand-in runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        loop {
            let accepted = tokio::select! {
                _ = &mut stopped => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else { continue };
            let (options, shared) = (options.clone(), shared.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    answer(request, options.clone(), shared.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// The operation a request is, as `"service:Operation"`.
fn operation(request: &Request<Incoming>) -> String {
    if let Some(target) = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        let op = target.rsplit('.').next().unwrap_or(target);
        let service = if target.starts_with("AmazonSQS") {
            "sqs"
        } else {
            "ecs"
        };
        return format!("{service}:{op}");
    }
    let listing = request
        .uri()
        .query()
        .is_some_and(|q| q.contains("list-type=2"));
    match *request.method() {
        hyper::Method::PUT => "s3:PutObject".into(),
        _ if listing => "s3:ListObjectsV2".into(),
        _ => "s3:GetObject".into(),
    }
}

/// Takes a token for `operation`; false when its bucket is empty.
fn admit(options: &StandInOptions, shared: &Mutex<Shared>, operation: &str) -> bool {
    let mut shared = shared.lock().unwrap_or_else(|e| e.into_inner());
    *shared.calls.entry(operation.to_string()).or_default() += 1;
    let Some(limit) = options.limits.iter().find(|l| l.operation == operation) else {
        return true;
    };
    let tokens = shared.tokens.entry(limit.operation).or_insert(limit.burst);
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        return true;
    }
    *shared.throttled.entry(operation.to_string()).or_default() += 1;
    false
}

async fn answer(
    request: Request<Incoming>,
    options: Arc<StandInOptions>,
    shared: Arc<Mutex<Shared>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let operation = operation(&request);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if !options.latency.is_zero() {
        tokio::time::sleep(options.latency).await;
    }
    if !admit(&options, &shared, &operation) {
        let error = json!({"__type": "ThrottlingException", "message": "Rate exceeded"});
        return Ok(json_response(StatusCode::BAD_REQUEST, "1.1", &error));
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(match operation.as_str() {
        "sqs:GetQueueAttributes" => json_response(
            StatusCode::OK,
            "1.0",
            &json!({"Attributes": {
                "ApproximateNumberOfMessages": backlog(&options, &shared, &request).to_string(),
                "ApproximateNumberOfMessagesNotVisible": "0",
                "ApproximateNumberOfMessagesDelayed": "0",
            }}),
        ),
        "ecs:DescribeServices" => {
            let desired = shared.lock().map(|s| s.desired.clone()).unwrap_or_default();
            json_response(
                StatusCode::OK,
                "1.1",
                &describe(&request, options.desired, &desired),
            )
        }
        "ecs:UpdateService" => update_service(&request, &shared),
        s3 => s3_response(s3),
    })
}

/// UpdateService: the count is set and the update recorded, in order.
fn update_service(request: &Value, shared: &Mutex<Shared>) -> Response<Full<Bytes>> {
    let service = request["service"].as_str().unwrap_or_default().to_string();
    let count = request["desiredCount"].as_u64().unwrap_or(0) as u32;
    if let Ok(mut shared) = shared.lock() {
        shared.desired.insert(service.clone(), count);
        shared.updates.push((service, count));
    }
    let body = json!({"service": {
        "serviceName": request["service"], "status": "ACTIVE",
        "desiredCount": request["desiredCount"],
    }});
    json_response(StatusCode::OK, "1.1", &body)
}

/// The state bucket, always empty: an empty listing, a PUT taken, and no
/// object to GET (every other operation is answered as a missing key).
fn s3_response(operation: &str) -> Response<Full<Bytes>> {
    let (status, body): (StatusCode, &'static [u8]) = match operation {
        "s3:ListObjectsV2" => (
            StatusCode::OK,
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>stand-in</Name><Prefix>autoscaling-state/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>",
        ),
        "s3:PutObject" => (StatusCode::OK, b""),
        _ => (
            StatusCode::NOT_FOUND,
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>no state yet</Message></Error>",
        ),
    };
    let builder = Response::builder().status(status);
    let builder = if operation == "s3:PutObject" {
        builder.header("ETag", "\"stand-in\"")
    } else {
        builder.header("Content-Type", "application/xml")
    };
    builder
        .body(Full::new(Bytes::from_static(body)))
        .unwrap_or_default()
}

/// The backlog of the queue a GetQueueAttributes asks about.
fn backlog(options: &StandInOptions, shared: &Mutex<Shared>, request: &Value) -> u64 {
    let index = request["QueueUrl"]
        .as_str()
        .and_then(|url| url.rsplit("q-").next())
        .and_then(|n| n.parse::<usize>().ok());
    let set = shared.lock().ok().and_then(|s| s.backlogs.clone());
    let backlogs = set.as_ref().unwrap_or(&options.backlogs);
    index
        .and_then(|i| backlogs.get(i).copied())
        .unwrap_or(options.visible)
}

/// Every requested service, ACTIVE at the count its last UpdateService set, or
/// at `desired` tasks.
fn describe(request: &Value, desired: u32, set: &HashMap<String, u32>) -> Value {
    let cluster = request["cluster"].as_str().unwrap_or("cluster");
    let services: Vec<Value> = request["services"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(|name| {
                    let desired = set.get(name).copied().unwrap_or(desired);
                    json!({
                        "serviceName": name,
                        "serviceArn": format!("arn:aws:ecs:us-east-1:123456789012:service/{cluster}/{name}"),
                        "status": "ACTIVE",
                        "desiredCount": desired, "runningCount": desired, "pendingCount": 0,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({"services": services, "failures": []})
}

fn json_response(status: StatusCode, version: &str, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", format!("application/x-amz-json-{version}"))
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}
