//! AWS clients on the emulator, and the queue traffic tests generate.

use aws_config::{Region, SdkConfig};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::StreamExt;

use crate::{Emulator, REGION};

impl Emulator {
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
}

/// An `SdkConfig` for the emulator at `endpoint`, with static test credentials.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    fast_autoscaler_worker::aws_defaults()
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
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
