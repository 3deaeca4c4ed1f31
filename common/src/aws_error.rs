//! An AWS call's error on one line: the service's error code and message, or
//! what went wrong on the way (a time-out, a connection that failed).
//!
//! The SDK's own rendering (`DisplayErrorContext`) carries the whole response:
//! its headers, its extensions, about 1.5 KB per error. In a decision's reason,
//! a log line and a metric dimension that drowns the cause, so here it goes to
//! debug level only, and the rest of the product says what failed in one line,
//! for example `AWS.SimpleQueueService.NonExistentQueue: The specified queue
//! does not exist`.

use std::error::Error;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `error` on one line (see the module docs); the full rendering is logged at
/// debug level.
pub fn one_line<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
{
    tracing::debug!(error = %DisplayErrorContext(error), "an AWS call failed");
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let e = service.err();
            match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => format!("HTTP {status} with no error code"),
            }
        }
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(_) => format!("could not be sent: {}", cause(error)),
        SdkError::ResponseError(_) => format!("its answer could not be read: {}", cause(error)),
        SdkError::ConstructionFailure(_) => {
            format!("the request could not be built: {}", cause(error))
        }
        other => causes(other),
    }
}

/// What is under an SDK error (its own text only names its kind).
fn cause(error: &dyn Error) -> String {
    error.source().map_or_else(|| error.to_string(), causes)
}

/// An error and each cause under it, on one line, each said once.
pub fn causes(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}
