//! Real mode: firmware download over `coap://` and `coaps://` (RFC 7959
//! Block2), against `lwm2m-server`'s file service and libcoap's
//! `coap-server-openssl`, including resumes from a stored offset.

#![allow(clippy::std_instead_of_core)]

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::task::Poll;

use carrier_os::download::{Download, DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::modem::{LinkRequest, Modem, PdnId, SecTag};
use carrier_os::time::{Clock, Duration};
use carrier_os::wait::Wait;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use carrier_os_std::testdir::TestDir;
use lwm2m_server::transport::UdpTransport;
use lwm2m_server::{ServerConfig, ServerHandle};

const FILE: &str = "fw/app.bin";
const TAG: SecTag = SecTag(9);

/// 5000 bytes that differ from block to block and within blocks.
fn image(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8 ^ (i / 1024) as u8).collect()
}

fn config(file: &[u8]) -> ServerConfig {
    ServerConfig { files: HashMap::from([(FILE.to_owned(), file.to_vec())]), ..Default::default() }
}

fn coap_server(file: &[u8]) -> ServerHandle {
    let t = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    lwm2m_server::spawn(t, config(file)).unwrap()
}

fn port(dir: &Path) -> RealPort {
    let mut p = port_down(dir);
    link_up(&mut p);
    p
}

fn port_down(dir: &Path) -> RealPort {
    let mut profile = DeviceProfile::generic(7);
    profile.attach_ms = 20;
    profile.pdn_ms = 10;
    RealPort::open(dir, profile).unwrap()
}

fn link_up(p: &mut RealPort) {
    p.request_link(LinkRequest::Up).unwrap();
    let deadline = p.now() + Duration::from_secs(5);
    while !p.link_state().is_up() {
        assert!(p.now() < deadline, "link did not come up");
        p.wait_until(Some(deadline));
    }
}

fn req(uri: &str, offset: u64, sec_tag: Option<SecTag>) -> DownloadRequest<'_> {
    DownloadRequest { uri, sec_tag, pdn: PdnId::DEFAULT, offset }
}

/// Polls the download to its end, appending fragments to `got`; `after`
/// runs once after the first fragment.
fn finish(
    p: &mut RealPort,
    got: &mut Vec<u8>,
    mut after: impl FnMut(),
) -> Result<(), DownloadError> {
    let deadline = p.now() + Duration::from_secs(30);
    let mut buf = [0u8; 512];
    let mut first = true;
    loop {
        match p.poll_download(&mut buf) {
            Poll::Pending => {
                assert!(p.now() < deadline, "download stalled");
                p.wait_until(Some(deadline));
            }
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                assert!((1..=buf.len()).contains(&len));
                got.extend_from_slice(&buf[..len]);
                if std::mem::take(&mut first) {
                    after();
                }
            }
            Poll::Ready(Ok(DownloadProgress::Done)) => return Ok(()),
            Poll::Ready(Err(e)) => return Err(e),
        }
    }
}

fn download(
    p: &mut RealPort,
    uri: &str,
    offset: u64,
    sec_tag: Option<SecTag>,
) -> Result<Vec<u8>, DownloadError> {
    p.start_download(&req(uri, offset, sec_tag))?;
    let mut got = vec![];
    finish(p, &mut got, || {})?;
    Ok(got)
}

#[test]
fn a_coap_download_delivers_the_whole_file_and_its_size() {
    let file = image(5000);
    let server = coap_server(&file);
    let dir = TestDir::new("coapdl-full");
    let mut p = port(dir.path());
    let got = download(&mut p, &server.file_uri(FILE), 0, None).unwrap();
    assert_eq!(got.len(), 5000);
    assert!(got == file, "downloaded bytes differ from the file");
    assert_eq!(p.download_size(), Some(5000), "Size2 of the file");
    // The download is over: polling again says so.
    assert_eq!(p.poll_download(&mut [0u8; 8]), Poll::Ready(Err(DownloadError::NotStarted)));
}

#[test]
fn a_coap_download_started_at_a_block_boundary_returns_exactly_the_rest() {
    let file = image(5000);
    let server = coap_server(&file);
    let dir = TestDir::new("coapdl-2048");
    let mut p = port(dir.path());
    let got = download(&mut p, &server.file_uri(FILE), 2048, None).unwrap();
    assert_eq!(got.len(), 5000 - 2048);
    assert!(got == file[2048..], "bytes from 2048 differ from the file");
}

#[test]
fn a_coap_download_started_inside_a_block_skips_the_stored_bytes() {
    let file = image(5000);
    let server = coap_server(&file);
    let dir = TestDir::new("coapdl-3001");
    let mut p = port(dir.path());
    for offset in [1u64, 3001, 4999] {
        let got = download(&mut p, &server.file_uri(FILE), offset, None).unwrap();
        assert_eq!(got.len() as u64, 5000 - offset, "offset {offset}");
        assert!(got == file[offset as usize..], "bytes from {offset} differ from the file");
    }
}

#[test]
fn an_injected_drop_is_disconnected_and_the_resume_completes_the_file() {
    let file = image(5000);
    let server = coap_server(&file);
    let dir = TestDir::new("coapdl-drop");
    let mut p = port(dir.path());
    p.faults_mut().download_drop_after = Some(1500);
    let uri = server.file_uri(FILE);
    p.start_download(&req(&uri, 0, None)).unwrap();
    let mut got = vec![];
    assert_eq!(finish(&mut p, &mut got, || {}), Err(DownloadError::Disconnected));
    assert_eq!(got.len(), 1500, "bytes delivered before the drop");
    p.start_download(&req(&uri, got.len() as u64, None)).unwrap();
    finish(&mut p, &mut got, || {}).unwrap();
    assert!(got == file, "resumed download differs from the file");
}

#[test]
fn a_server_that_stops_mid_transfer_is_disconnected_and_another_resumes_it() {
    let file = image(40_000);
    let server = coap_server(&file);
    let dir = TestDir::new("coapdl-stop");
    let mut p = port(dir.path());
    p.start_download(&req(&server.file_uri(FILE), 0, None)).unwrap();
    let mut got = vec![];
    let mut server = Some(server);
    // Stop the server after the first fragment: the downloader keeps at
    // most a few blocks queued, so most of the file is still to come.
    let r = finish(&mut p, &mut got, || server.take().unwrap().stop());
    assert_eq!(r, Err(DownloadError::Disconnected));
    assert!(
        got.len() < file.len() / 2,
        "only {} of {} bytes should have arrived",
        got.len(),
        file.len()
    );
    assert!(got == file[..got.len()], "bytes before the drop differ from the file");
    let again = coap_server(&file);
    p.start_download(&req(&again.file_uri(FILE), got.len() as u64, None)).unwrap();
    finish(&mut p, &mut got, || {}).unwrap();
    assert!(got == file, "resumed download differs from the file");
}

#[test]
fn an_aborted_coap_download_resumes_from_the_stored_offset() {
    let file = image(5000);
    let server = coap_server(&file);
    let dir = TestDir::new("coapdl-abort");
    let mut p = port(dir.path());
    let uri = server.file_uri(FILE);
    p.start_download(&req(&uri, 0, None)).unwrap();
    let deadline = p.now() + Duration::from_secs(10);
    let mut got = vec![0u8; 700];
    let len = loop {
        match p.poll_download(&mut got) {
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => break len,
            Poll::Pending => {
                assert!(p.now() < deadline, "no first fragment");
                p.wait_until(Some(deadline));
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    got.truncate(len);
    p.abort_download();
    p.start_download(&req(&uri, len as u64, None)).unwrap();
    finish(&mut p, &mut got, || {}).unwrap();
    assert!(got == file, "resumed download differs from the file");
}

#[test]
fn a_missing_file_is_refused_with_4_04() {
    let server = coap_server(&image(10));
    let dir = TestDir::new("coapdl-404");
    let mut p = port(dir.path());
    let uri = server.file_uri("fw/missing.bin");
    assert_eq!(download(&mut p, &uri, 0, None), Err(DownloadError::Refused { status: 404 }));
}

#[test]
fn an_unreachable_coap_server_is_no_route() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = TestDir::new("coapdl-noroute");
    let mut p = port(dir.path());
    let uri = format!("coap://{closed}/{FILE}");
    assert_eq!(download(&mut p, &uri, 0, None), Err(DownloadError::NoRoute));
}

#[test]
fn malformed_coap_uris_are_refused_at_start() {
    let dir = TestDir::new("coapdl-uri");
    let mut p = port(dir.path());
    assert_eq!(p.start_download(&req("coap://:1/a", 0, None)), Err(DownloadError::InvalidUri));
    assert_eq!(p.start_download(&req("coap://h:x/a", 0, None)), Err(DownloadError::InvalidUri));
}

/// `coaps://` needs the `dtls` feature (on by default).
#[cfg(feature = "dtls")]
mod coaps {
    use super::*;
    use carrier_os::modem::Psk;
    use lwm2m_server::transport::DtlsTransport;

    const KEY: &[u8] = b"coap-dl-key-0123";
    const IDENTITY: &[u8] = b"device-7";

    fn coaps_server(file: &[u8]) -> ServerHandle {
        let store = |id: &[u8]| (id == IDENTITY).then(|| dtls_psk::Psk::new(KEY).unwrap());
        let t = DtlsTransport::bind("127.0.0.1:0".parse().unwrap(), store).unwrap();
        lwm2m_server::spawn(t, config(file)).unwrap()
    }

    fn dtls_port(dir: &Path, identity: &[u8], key: &[u8]) -> RealPort {
        // Keys are provisioned while the link is down (as on the modem).
        let mut p = port_down(dir);
        p.psk_store(TAG, Some(identity), &Psk::new(key).unwrap()).unwrap();
        link_up(&mut p);
        p
    }

    fn coaps_uri(server: &ServerHandle) -> String {
        format!("coaps://{}/{FILE}", server.addr())
    }

    #[test]
    fn a_coaps_download_with_the_tags_psk_delivers_the_whole_file() {
        let file = image(5000);
        let server = coaps_server(&file);
        let dir = TestDir::new("coapdl-coaps");
        let mut p = dtls_port(dir.path(), IDENTITY, KEY);
        let got = download(&mut p, &coaps_uri(&server), 0, Some(TAG)).unwrap();
        assert!(got == file, "coaps download differs from the file");
        let got = download(&mut p, &coaps_uri(&server), 3001, Some(TAG)).unwrap();
        assert!(got == file[3001..], "resumed coaps download differs from the file");
    }

    #[test]
    fn a_coaps_download_with_an_unknown_identity_or_no_tag_is_refused_as_no_credentials() {
        let server = coaps_server(&image(100));
        let dir = TestDir::new("coapdl-coaps-bad");
        let mut p = dtls_port(dir.path(), b"stranger", KEY);
        assert_eq!(
            p.start_download(&req(&coaps_uri(&server), 0, None)),
            Err(DownloadError::NoCredentials)
        );
        assert_eq!(
            p.start_download(&req(&coaps_uri(&server), 0, Some(SecTag(77)))),
            Err(DownloadError::NoCredentials)
        );
        assert_eq!(
            download(&mut p, &coaps_uri(&server), 0, Some(TAG)),
            Err(DownloadError::NoCredentials)
        );
    }

    #[test]
    fn a_silent_coaps_server_ends_as_timed_out() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dir = TestDir::new("coapdl-coaps-silent");
        let mut p = dtls_port(dir.path(), IDENTITY, KEY);
        p.set_dtls_handshake_timeout(Duration::from_secs(3));
        let uri = format!("coaps://{}/{FILE}", silent.local_addr().unwrap());
        assert_eq!(download(&mut p, &uri, 0, Some(TAG)), Err(DownloadError::TimedOut));
    }
}

#[cfg(not(feature = "dtls"))]
#[test]
fn coaps_without_the_dtls_feature_is_an_unsupported_scheme() {
    let dir = TestDir::new("coapdl-coaps-off");
    let mut p = port(dir.path());
    let r = p.start_download(&req("coaps://127.0.0.1:1/a", 0, Some(TAG)));
    assert_eq!(r, Err(DownloadError::UnsupportedScheme));
}

// ----- libcoap -------------------------------------------------------------

/// The path of a libcoap program; panics naming the Debian package if absent.
fn require(bin: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(bin))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{bin}` not found: install the Debian package `libcoap3-bin` \
                 (apt-get install -y libcoap3-bin) to run the libcoap download test"
            )
        })
}

/// A child process killed when the test ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_coap_download_from_libcoap_server_equals_the_file_put_there() {
    let server_bin = require("coap-server-openssl");
    let client_bin = require("coap-client-openssl");
    let free: SocketAddr = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let _server = Guard(
        Command::new(server_bin)
            .args(["-A", "127.0.0.1", "-p", &free.port().to_string(), "-d", "10", "-v", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let file = image(5000);
    let dir = TestDir::new("coapdl-libcoap");
    let path = dir.path().join("fw.bin");
    std::fs::write(&path, &file).unwrap();
    let uri = format!("coap://{free}/fw");
    // The server may still be starting: the client retries (-B bounds each try).
    let put_ok = (0..10).any(|_| {
        Command::new(&client_bin)
            .args(["-B", "3", "-m", "put", "-f", path.to_str().unwrap(), &uri])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    assert!(put_ok, "coap-client-openssl could not PUT the file to {uri}");
    let mut p = port(dir.path());
    let got = download(&mut p, &uri, 0, None).unwrap();
    assert_eq!(got.len(), file.len());
    assert!(got == file, "download from libcoap differs from the file");
    let got = download(&mut p, &uri, 2500, None).unwrap();
    assert!(got == file[2500..], "resumed download from libcoap differs from the file");
}

#[test]
fn real_port_passes_the_download_suite_over_coap_block2() {
    let file = image(5000);
    let server = coap_server(&file);
    let dir = TestDir::new("coapdl-suite");
    let mut p = port(dir.path());
    carrier_os::conformance::download_suite(
        &mut p,
        &server.file_uri(FILE),
        &file,
        Duration::from_secs(10),
    );
}
