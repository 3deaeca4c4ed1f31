//! The rustls configuration shared by HTTPS, AMQPS and STOMP+SSL: the system's
//! roots plus an optional CA bundle, the certificate and host name always
//! verified.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use fast_autoscaler_provider::ProviderError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::NAME;

fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    // Unreadable system certificates are skipped: the bundle or the rest still verify,
    // and an empty store fails every handshake loudly rather than silently.
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The rustls configuration shared by HTTPS, AMQPS and STOMP+SSL: system roots plus
/// the optional CA bundle, certificate and host name always verified.
pub fn tls_config(ca_bundle: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, ProviderError> {
    let invalid = |value: String, expected: String| ProviderError::InvalidSetting {
        provider: NAME,
        field: "ca_bundle".into(),
        value,
        expected,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(native_roots().iter().cloned());
    if let Some(path) = ca_bundle {
        let shown = path.display().to_string();
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| invalid(shown.clone(), format!("a readable PEM file ({e})")))?
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(shown.clone(), format!("a PEM certificate bundle ({e})")))?;
        if certificates.is_empty() {
            return Err(invalid(
                shown,
                "a PEM file holding at least one CERTIFICATE".into(),
            ));
        }
        let (added, _ignored) = roots.add_parsable_certificates(certificates);
        if added == 0 {
            return Err(invalid(
                shown,
                "a PEM bundle of valid CA certificates".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("<default>".into(), e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_bundle_is_a_setting_error() {
        let err = tls_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(
            matches!(err, ProviderError::InvalidSetting { ref field, .. } if field == "ca_bundle")
        );
    }
}
