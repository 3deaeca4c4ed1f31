//! What several providers need from AWS, written once: a CloudWatch metric
//! query and its newest datapoint ([`cloudwatch`]), and a secret read as a JSON
//! object within a time limit ([`secrets`]).
//!
//! It registers no provider; each part is a feature, so a provider links only
//! the AWS SDKs it uses.

#[cfg(feature = "cloudwatch")]
pub mod cloudwatch;
#[cfg(feature = "secrets")]
pub mod secrets;
