//! The S3 adapter for the scaling state: one JSON object per target, read with
//! its ETag and written only on that ETag (see `fast_autoscaler_core::state` for
//! why every write is conditional, and what a claim and its lease mean).

use std::collections::HashMap;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use fast_autoscaler_common::aws_error::one_line;
use fast_autoscaler_core::state::{ServiceState, Stored};
use fast_autoscaler_core::target::TargetId;

use crate::error::Error;

/// Where state objects live in the bucket.
pub const STATE_PREFIX: &str = "autoscaling-state";

pub use fast_autoscaler_core::state::WriteOutcome;

/// The S3 adapter for state objects.
#[derive(Debug, Clone)]
pub struct StateStore {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

impl StateStore {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        StateStore {
            s3,
            bucket: bucket.into(),
        }
    }

    /// The store on `bucket`, with an S3 client from the shared AWS configuration.
    pub fn from_sdk_config(aws: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let mut s3 = aws_sdk_s3::config::Builder::from(aws);
        if aws.endpoint_url().is_some() {
            // Local emulators and S3-compatible stores answer on one host, not on
            // `<bucket>.<host>`.
            s3 = s3.force_path_style(true);
        }
        Self::new(aws_sdk_s3::Client::from_conf(s3.build()), bucket)
    }

    /// The S3 client, for the other objects of the state bucket.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `autoscaling-state/{cluster}/{service}` by short names for an ECS
    /// service, as every release wrote it; `autoscaling-state/{kind}:{name}`
    /// for any other target (see `fast_autoscaler_core::target`).
    pub fn key(target: &TargetId) -> String {
        format!("{STATE_PREFIX}/{}", target.state_key())
    }

    /// Reads a target's state; times more than [`fast_autoscaler_core::state::MAX_CLOCK_SKEW_MS`] after `now_ms`
    /// make it [`Stored::Corrupt`].
    pub async fn read(&self, target: &TargetId, now_ms: u64) -> Result<Stored, Error> {
        let key = Self::key(target);
        let answer = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(answer) => answer,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => {
                return Ok(Stored::Missing)
            }
            Err(e) => return Err(self.error("GetObject", &key, e)),
        };
        let etag = answer.e_tag().unwrap_or_default().to_string();
        let bytes = answer
            .body
            .collect()
            .await
            .map_err(|e| Error::State {
                bucket: self.bucket.clone(),
                key: key.clone(),
                message: e.to_string(),
            })?
            .into_bytes();
        let trusted = ServiceState::parse(&bytes)
            .and_then(|state| state.future_timestamp(now_ms).map_or(Ok(state), Err));
        Ok(match trusted {
            Ok(state) => Stored::Found { state, etag },
            Err(problem) => Stored::Corrupt { etag, problem },
        })
    }

    /// The ETag of every state object, by key: one ListObjectsV2 call per 1,000
    /// objects. A quiet tick lists once instead of reading every object, and reads
    /// only the objects whose ETag changed.
    pub async fn list_etags(&self) -> Result<HashMap<String, String>, Error> {
        let prefix = format!("{STATE_PREFIX}/");
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        let mut etags = HashMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("ListObjectsV2", &prefix, e))?;
            for object in page.contents() {
                if let (Some(key), Some(etag)) = (object.key(), object.e_tag()) {
                    etags.insert(key.to_string(), etag.to_string());
                }
            }
        }
        Ok(etags)
    }

    /// Writes `state` only if the object is still as `previous` found it.
    pub async fn write(
        &self,
        state: &ServiceState,
        previous: &Stored,
    ) -> Result<WriteOutcome, Error> {
        let key = Self::key(&state.target);
        let body = serde_json::to_vec(state).map_err(|e| Error::State {
            bucket: self.bucket.clone(),
            key: key.clone(),
            message: e.to_string(),
        })?;
        let request = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        let request = match previous {
            Stored::Missing => request.if_none_match("*"),
            Stored::Found { etag, .. } | Stored::Corrupt { etag, .. } => request.if_match(etag),
        };
        match request.send().await {
            Ok(answer) => Ok(WriteOutcome::Written {
                etag: answer.e_tag().unwrap_or_default().to_string(),
            }),
            // 412: the precondition failed; 409: a concurrent conditional write is in progress.
            // Either way another worker got there first.
            Err(SdkError::ServiceError(e)) if matches!(e.raw().status().as_u16(), 409 | 412) => {
                Ok(WriteOutcome::Conflict)
            }
            Err(e) => Err(self.error("PutObject", &key, e)),
        }
    }

    fn error<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        operation: &str,
        key: &str,
        e: SdkError<E, HttpResponse>,
    ) -> Error {
        Error::State {
            bucket: self.bucket.clone(),
            key: key.to_string(),
            message: format!("{operation}: {}", one_line(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_use_short_names() {
        assert_eq!(
            StateStore::key(&TargetId::ecs_service("prod", "workers")),
            "autoscaling-state/prod/workers"
        );
        assert_eq!(
            StateStore::key(&TargetId::ecs_service(
                "arn:aws:ecs:eu-west-1:123:cluster/prod",
                "arn:aws:ecs:eu-west-1:123:service/prod/workers"
            )),
            "autoscaling-state/prod/workers"
        );
        assert_eq!(
            StateStore::key(&TargetId::new("ec2_asg", "", "gpu")),
            "autoscaling-state/ec2_asg:gpu"
        );
    }
}
