//! The JSON objects anticipation keeps in the state bucket, read with their
//! ETag and written plainly or on that ETag.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use fast_autoscaler_common::aws_error::one_line;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An object as read: its value (None when missing or unparsable: it is a
/// cache, learned again) and its ETag (None when missing).
pub(super) struct Read<T> {
    pub value: Option<T>,
    pub etag: Option<String>,
}

/// Whether a conditional write landed.
pub(super) enum Written {
    Yes,
    /// Another worker wrote the object since it was read.
    Conflict,
}

pub(super) async fn read<T: DeserializeOwned>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Read<T>, String> {
    let object = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(object) => object,
        Err(e) if e.code() == Some("NoSuchKey") => {
            return Ok(Read {
                value: None,
                etag: None,
            })
        }
        Err(e) => return Err(format!("GetObject {key}: {}", one_line(&e))),
    };
    let etag = object.e_tag().map(String::from);
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| format!("GetObject {key}: {e}"))?
        .into_bytes();
    Ok(Read {
        value: serde_json::from_slice(&bytes).ok(),
        etag,
    })
}

/// Writes `value` at `key`; with `only_over` set, only if the object is still
/// the one read then (`Some(None)`: only if there is none).
pub(super) async fn write<T: Serialize>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    value: &T,
    only_over: Option<Option<&str>>,
) -> Result<Written, String> {
    let body = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    let request = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body));
    let request = match only_over {
        None => request,
        Some(None) => request.if_none_match("*"),
        Some(Some(etag)) => request.if_match(etag),
    };
    match request.send().await {
        Ok(_) => Ok(Written::Yes),
        // 412: the precondition failed; 409: a concurrent conditional write.
        Err(SdkError::ServiceError(e)) if matches!(e.raw().status().as_u16(), 409 | 412) => {
            Ok(Written::Conflict)
        }
        Err(e) => Err(format!("PutObject {key}: {}", one_line(&e))),
    }
}
