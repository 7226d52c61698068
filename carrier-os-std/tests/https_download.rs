//! Real mode: firmware download over HTTPS against a test-local HTTP/1.1
//! server on rustls, trusting the CA certificate stored for the request's
//! security tag.
//!
//! Fixtures (`tests/fixtures/https/`, P-256, valid until 2126): `ca.pem`, a
//! CA; `server.pem`/`server.key`, signed by it for `localhost` and
//! `127.0.0.1`; `rogue.pem`/`rogue.key`, self-signed for the same names.

#![allow(clippy::std_instead_of_core)]

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::task::Poll;

use carrier_os::download::{Download, DownloadError, DownloadRequest};
use carrier_os::modem::{LinkRequest, Modem, PdnId, Psk, SecTag};
use carrier_os::time::{Clock, Duration};
use carrier_os::wait::Wait;
use carrier_os_std::profile::{Credential, DeviceProfile, KeyStore};
use carrier_os_std::real::RealPort;
use carrier_os_std::testdir::TestDir;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

mod support;

const CA: &str = include_str!("fixtures/https/ca.pem");
const SERVER_CERT: &str = include_str!("fixtures/https/server.pem");
const SERVER_KEY: &str = include_str!("fixtures/https/server.key");
const ROGUE_CERT: &str = include_str!("fixtures/https/rogue.pem");
const ROGUE_KEY: &str = include_str!("fixtures/https/rogue.key");

/// The tag holding the CA.
const CA_TAG: SecTag = SecTag(3001);
/// A tag holding only a PSK.
const PSK_TAG: SecTag = SecTag(3002);

fn firmware() -> Vec<u8> {
    (0..5000u32).map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8).collect()
}

/// A device whose key store holds the test CA under [`CA_TAG`] and a PSK
/// under [`PSK_TAG`], with its link up.
fn device(dir: &Path) -> RealPort {
    let mut keys = KeyStore::open(dir.join("keys.toml")).unwrap();
    keys.set_ca_pem(CA_TAG, Some(CA)).unwrap();
    let psk = Credential { identity: Some(b"dev".to_vec()), psk: Psk::new(b"secret").unwrap() };
    keys.insert(PSK_TAG, psk).unwrap();
    drop(keys);
    let mut profile = DeviceProfile::generic(9);
    profile.attach_ms = 20;
    profile.pdn_ms = 10;
    let mut p = RealPort::open(dir, profile).unwrap();
    p.request_link(LinkRequest::Up).unwrap();
    let deadline = p.now() + Duration::from_secs(5);
    while !p.link_state().is_up() {
        assert!(p.now() < deadline, "link did not come up");
        p.wait_until(Some(deadline));
    }
    p
}

/// What the server saw on one connection.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// A request, with its `Range: bytes=N-` start if any.
    Request(Option<usize>),
    /// The TLS handshake or the request head failed.
    Failed,
}

/// An HTTPS/1.1 file server on `127.0.0.1:0` with `Range: bytes=N-`
/// support, presenting `cert_pem` with `key_pem`. Returns the file's URL
/// and what the server saw, one entry per connection.
fn https_server(cert_pem: &str, key_pem: &str, file: Vec<u8>) -> (String, Receiver<Seen>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/fw.bin", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for tcp in l.incoming() {
            let Ok(tcp) = tcp else { break };
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let Some(range) = support::read_request_range(&mut BufReader::new(&mut tls)) else {
                let _ = tx.send(Seen::Failed);
                continue;
            };
            let _ = tx.send(Seen::Request(range));
            support::respond_with_file(&mut tls, &file, range, None);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (url, rx)
}

fn request(uri: &str, sec_tag: Option<SecTag>, offset: u64) -> DownloadRequest<'_> {
    DownloadRequest { uri, sec_tag, pdn: PdnId::DEFAULT, offset }
}

#[test]
fn an_https_download_trusting_the_tags_ca_delivers_the_whole_file() {
    let dir = TestDir::new("https-full");
    let mut p = device(dir.path());
    let file = firmware();
    let (url, seen) = https_server(SERVER_CERT, SERVER_KEY, file.clone());
    p.start_download(&request(&url, Some(CA_TAG), 0)).unwrap();
    let mut got = Vec::new();
    support::finish_download(&mut p, &mut got).unwrap();
    assert_eq!(got, file);
    assert_eq!(p.download_size(), Some(5000));
    assert_eq!(seen.try_iter().collect::<Vec<_>>(), [Seen::Request(None)]);
}

#[test]
fn an_https_download_resumed_at_2048_gets_exactly_the_rest_by_a_range_request() {
    let dir = TestDir::new("https-resume");
    let mut p = device(dir.path());
    let file = firmware();
    let (url, seen) = https_server(SERVER_CERT, SERVER_KEY, file.clone());
    p.start_download(&request(&url, Some(CA_TAG), 2048)).unwrap();
    let mut got = Vec::new();
    support::finish_download(&mut p, &mut got).unwrap();
    assert_eq!(got, file[2048..]);
    assert_eq!(p.download_size(), Some(5000), "the total from Content-Range");
    assert_eq!(seen.try_iter().collect::<Vec<_>>(), [Seen::Request(Some(2048))]);
}

#[test]
fn a_server_whose_cert_the_tags_ca_did_not_sign_is_refused_as_no_credentials() {
    let dir = TestDir::new("https-rogue");
    let mut p = device(dir.path());
    let (url, seen) = https_server(ROGUE_CERT, ROGUE_KEY, firmware());
    p.start_download(&request(&url, Some(CA_TAG), 0)).unwrap();
    let mut got = Vec::new();
    assert_eq!(support::finish_download(&mut p, &mut got), Err(DownloadError::NoCredentials));
    assert!(got.is_empty(), "no byte from an untrusted server is delivered");
    // The server thread reports the handshake the client aborted.
    let seen = seen.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(seen, Seen::Failed, "no request went out over the untrusted connection");
}

#[test]
fn https_without_a_ca_certificate_for_the_tag_is_refused_before_connecting() {
    let dir = TestDir::new("https-nocred");
    let mut p = device(dir.path());
    let (url, seen) = https_server(SERVER_CERT, SERVER_KEY, firmware());
    // No security tag, a tag holding only a PSK, and an unknown tag.
    for tag in [None, Some(PSK_TAG), Some(SecTag(4444))] {
        assert_eq!(
            p.start_download(&request(&url, tag, 0)),
            Err(DownloadError::NoCredentials),
            "{tag:?}"
        );
        assert_eq!(
            p.poll_download(&mut [0u8; 16]),
            Poll::Ready(Err(DownloadError::NotStarted)),
            "nothing was started"
        );
    }
    // The same server is fine with the CA's tag, and it served only that.
    p.start_download(&request(&url, Some(CA_TAG), 0)).unwrap();
    let mut got = Vec::new();
    support::finish_download(&mut p, &mut got).unwrap();
    assert_eq!(got, firmware());
    assert_eq!(seen.try_iter().collect::<Vec<_>>(), [Seen::Request(None)]);
}
