//! The demo's messages: producers following the surge, and the tasks' receives
//! and deletes, against the emulator's real SQS queues. Each message carries the
//! virtual time it was sent, so its wait is measured when a task takes it.

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};

/// Messages per second at `t_s` seconds: a quiet baseline, then the surge.
pub fn arrival_rate(t_s: u64) -> f64 {
    if (SURGE_AT_S..SURGE_END_S).contains(&t_s) {
        SURGE_RATE
    } else {
        BASELINE_RATE
    }
}

pub const BASELINE_RATE: f64 = 1.0;
pub const SURGE_RATE: f64 = 8.0;
/// Dumped at once when the surge starts, on top of its rate.
pub const SURGE_BURST: usize = 400;
pub const SURGE_AT_S: u64 = 95;
pub const SURGE_END_S: u64 = 275;

/// Sends `count` messages stamped `now_ms`, ten per SendMessageBatch.
pub async fn send(sqs: &aws_sdk_sqs::Client, queue: &str, count: usize, now_ms: u64) {
    for start in (0..count).step_by(10) {
        let entries = (start..count.min(start + 10)).map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(now_ms.to_string())
                .build()
                .expect("batch entry")
        });
        sqs.send_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .expect("SendMessageBatch");
    }
}

/// Takes up to `count` messages off the queue as busy tasks do: received, so
/// they are in flight (invisible) while processed. Answers each one's wait in
/// milliseconds and the receipt handles to delete when processing ends.
pub async fn take(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    count: usize,
    now_ms: u64,
) -> (Vec<u64>, Vec<String>) {
    let (mut waits, mut handles) = (Vec::with_capacity(count), Vec::with_capacity(count));
    while waits.len() < count {
        let wanted = (count - waits.len()).min(10) as i32;
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(wanted)
            .visibility_timeout(600)
            .send()
            .await
            .expect("ReceiveMessage");
        let messages = received.messages();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let sent: u64 = message
                .body()
                .and_then(|b| b.parse().ok())
                .unwrap_or(now_ms);
            waits.push(now_ms.saturating_sub(sent));
            handles.extend(message.receipt_handle().map(String::from));
        }
    }
    (waits, handles)
}

/// Processing ended: the messages are deleted, ten per DeleteMessageBatch.
pub async fn finish(sqs: &aws_sdk_sqs::Client, queue: &str, handles: Vec<String>) {
    for chunk in handles.chunks(10) {
        let entries = chunk.iter().enumerate().map(|(i, handle)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(handle)
                .build()
                .expect("delete entry")
        });
        sqs.delete_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .expect("DeleteMessageBatch");
    }
}
