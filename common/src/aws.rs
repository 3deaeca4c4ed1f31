//! The AWS configuration every Fast Autoscaler binary uses: bounded time-outs and
//! retries.
//!
//! The SDK's defaults have no operation time-out, so one hung call could hold a
//! whole tick (or the scheduler's minute). Here every call is bounded: standard
//! retry mode with jittered backoff and three attempts, a 1 s connect, 2 s attempt
//! and 5 s operation time-out. Together they keep a tick inside its deadline.

use std::time::Duration;

/// How long one attempt of an AWS call may take.
pub const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a whole AWS call may take, retries included.
pub const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// How long connecting may take.
pub const AWS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Attempts per AWS call: the first and two retries (throttling, 5xx, resets, time-outs).
pub const AWS_MAX_ATTEMPTS: u32 = 3;

/// The AWS configuration loader with Fast Autoscaler's bounded time-outs and retries.
pub fn aws_defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(AWS_MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_millis(500)),
        )
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(AWS_CONNECT_TIMEOUT)
                .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
                .operation_timeout(AWS_OPERATION_TIMEOUT)
                .build(),
        )
}

/// Loads the AWS configuration the way the SDK does everywhere (environment,
/// profile, container or instance role), honouring `AWS_ENDPOINT_URL`, with the
/// bounded time-outs and retries of [`aws_defaults`].
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_defaults().load().await
}
