//! Scheduler Lambda: invoked by EventBridge once a minute, sends the minute's ticks.

use fast_autoscaler_common::{load_aws_config, SystemClock};
use fast_autoscaler_scheduler::{handle_schedule_event, SchedulerConfig};
use lambda_runtime::{run, service_fn, tracing, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // A bad configuration fails the init phase with the field named, once, instead
    // of failing every invocation.
    let config = SchedulerConfig::from_env(|k| std::env::var(k).ok())?;
    // Bounded time-outs and retries: a hung SendMessageBatch cannot eat the minute.
    let aws = load_aws_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    run(service_fn(|event| {
        handle_schedule_event(&sqs, &config, &SystemClock, event)
    }))
    .await
}
