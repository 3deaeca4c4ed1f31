//! Everything that can go wrong reading a broker, and whether TLS failed
//! somewhere under an error.

use fast_autoscaler_common::aws_error::causes;

/// Everything that can go wrong reading a broker. Each message names the broker
/// and, where it applies, the queue.
#[derive(Debug, thiserror::Error)]
pub enum AmqError {
    #[error("queue {queue:?} does not exist on broker {broker}")]
    QueueNotFound { broker: String, queue: String },

    #[error("virtual host {vhost:?} does not exist on broker {broker}, or the user has no permission in it")]
    VhostNotFound { broker: String, vhost: String },

    #[error("broker {broker} rejected the credentials of user {user:?}: {detail}")]
    AuthenticationFailed {
        broker: String,
        user: String,
        detail: String,
    },

    #[error("user {user:?} may not read queue {queue:?} on broker {broker}: {detail}")]
    AccessDenied {
        broker: String,
        user: String,
        queue: String,
        detail: String,
    },

    #[error("broker {broker} is unreachable: {cause}")]
    Unreachable { broker: String, cause: String },

    #[error("broker {broker} timed out waiting for {waiting_for}")]
    Timeout {
        broker: String,
        waiting_for: &'static str,
    },

    #[error("TLS with broker {broker} failed (verification is on; set ca_bundle for a private CA): {cause}")]
    Tls { broker: String, cause: String },

    #[error("broker {broker} answered unexpectedly for queue {queue:?}: {detail}")]
    Protocol {
        broker: String,
        queue: String,
        detail: String,
    },

    #[error("could not read broker credentials from secret {arn}: {cause}")]
    Secret { arn: String, cause: String },

    #[error("could not resolve Amazon MQ broker {broker_id}: {cause}")]
    BrokerLookup { broker_id: String, cause: String },

    #[error("{primary}; the CloudWatch fallback failed too: {cause}")]
    Fallback {
        primary: Box<AmqError>,
        cause: String,
    },
}

impl AmqError {
    /// Errors where the broker could not be asked at all; only these fall back to
    /// CloudWatch. Wrong names and credentials are configuration errors to fix.
    pub(crate) fn broker_unavailable(&self) -> bool {
        matches!(
            self,
            AmqError::Unreachable { .. } | AmqError::Timeout { .. } | AmqError::Protocol { .. }
        )
    }
}

/// True when a TLS handshake or certificate check is somewhere in the error's causes.
pub(crate) fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return true;
            }
        }
        current = e.source();
    }
    // Some layers (hyper's connector) flatten the rustls error into text.
    let text = causes(error).to_ascii_lowercase();
    text.contains("certificate") || text.contains("handshake")
}
