//! HTTPS for the real mode's firmware download: the TLS configuration of the
//! `ureq` agent, and which failures are TLS failures.
//!
//! Trust follows the nRF91 modem's security tags (`carrier-api.md` §5
//! "Download": a get names its security tags): an `https://` download MUST
//! name a security tag, and the server's certificate chain MUST lead to one
//! of the CA certificates stored (PEM) for that tag in the key store
//! ([`KeyStore::ca_pem`](crate::profile::KeyStore::ca_pem)); the host name
//! or IP address of the URI MUST match the server certificate (webpki).
//!
//! No public root store is compiled in: `webpki-roots` is not otherwise in
//! the build, and trusting ~150 public CAs the operator did not pick is not
//! what a modem sec tag does. So a request without a security tag, or with
//! a tag that holds no CA certificate, is refused with
//! [`DownloadError::NoCredentials`] before any connection is made.
//!
//! A failed TLS handshake — including a server certificate that does not
//! chain to the tag's CA, is expired, or names another host — ends the
//! download with [`DownloadError::NoCredentials`] ("TLS/DTLS with the
//! security tag failed", FOTA −ECONNREFUSED). TLS errors after the handshake
//! (a broken record mid-body) end it as [`DownloadError::Disconnected`], like
//! any dropped connection, so the runtime resumes from its stored offset.
//!
//! TLS is rustls (TLS 1.2 and 1.3) with the `ring` provider, handed to ureq
//! explicitly; SNI is sent.

use std::io;
use std::sync::Arc;

use carrier_os::download::DownloadError;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider, parse_pem};

/// The TLS configuration trusting exactly the certificates in `ca_pem`.
///
/// # Errors
/// [`DownloadError::NoCredentials`] if `ca_pem` holds no PEM certificate.
pub(super) fn tls_config(ca_pem: &str) -> Result<TlsConfig, DownloadError> {
    let roots: Vec<Certificate<'static>> = parse_pem(ca_pem.as_bytes())
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if roots.is_empty() {
        return Err(DownloadError::NoCredentials);
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::from(roots))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build())
}

/// True if a request failed in the TLS handshake (see the module doc).
pub(super) fn is_handshake_failure(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Rustls(_) => true,
        ureq::Error::Io(io) => is_rustls_io(io),
        _ => false,
    }
}

/// True if `e` carries a rustls error (rustls reports through `io::Error`).
fn is_rustls_io(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_entry_without_a_certificate_gives_no_credentials() {
        assert_eq!(tls_config("").err(), Some(DownloadError::NoCredentials));
        let key_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(tls_config(key_only).err(), Some(DownloadError::NoCredentials));
    }

    #[test]
    fn only_rustls_errors_count_as_handshake_failures() {
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(is_handshake_failure(&ureq::Error::Io(tls)));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(!is_handshake_failure(&ureq::Error::Io(reset)));
        assert!(!is_handshake_failure(&ureq::Error::ConnectionFailed));
    }
}
