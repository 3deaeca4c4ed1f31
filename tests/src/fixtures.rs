//! Fixtures: queues, clusters, services, buckets and state objects created through
//! the SDK on the emulator, and validated configurations and ticks for the worker.

use std::sync::Arc;

use fast_autoscaler_core::QueueMetrics;
use fast_autoscaler_worker::config::ServiceConfig;
use fast_autoscaler_worker::providers::{ProviderContext, ProviderError, QueueMetricsProvider};

use crate::aws::send_messages;
use crate::Emulator;

impl Emulator {
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

/// A validated configuration from a JSON document: plain data, no provider built.
pub fn config_from(document: &serde_json::Value) -> fast_autoscaler_worker::AutoscalerConfig {
    fast_autoscaler_worker::AutoscalerConfig::from_document(&document.to_string(), &|_| None)
        .unwrap_or_else(|e| panic!("test configuration rejected: {e}"))
}

/// A configured service's provider, built against the emulator.
pub fn build_provider(
    emulator: &Emulator,
    service: &ServiceConfig,
) -> Arc<dyn QueueMetricsProvider> {
    service
        .provider
        .build(ProviderContext { aws: &emulator.aws })
        .unwrap_or_else(|e| panic!("{}: the provider builds: {e}", service.id()))
}

/// One reading of a configured service's queue, through its provider built
/// against the emulator.
pub async fn read_queue(
    emulator: &Emulator,
    service: &ServiceConfig,
) -> Result<QueueMetrics, ProviderError> {
    build_provider(emulator, service).metrics().await
}

/// A tick due now.
pub fn tick_now() -> fast_autoscaler_worker::Tick {
    fast_autoscaler_worker::Tick::new(fast_autoscaler_worker::now_ms(), 10, 0)
}
