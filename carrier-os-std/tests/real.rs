//! Real mode: the conformance suite over real sockets, files and HTTP, plus
//! the resume of an HTTP download after the server drops the connection.

#![allow(clippy::std_instead_of_core)]

use std::io::BufReader;
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::task::Poll;

use carrier_os::conformance;
use carrier_os::dfu::{Dfu, ImageType, UpdateOutcome};
use carrier_os::download::{Download, DownloadError, DownloadRequest};
use carrier_os::modem::{LinkRequest, Modem, PdnId, Psk, SecTag};
use carrier_os::time::{Clock, Duration};
use carrier_os::transport::{Endpoint, Family, Security, Transport, TransportError};
use carrier_os::wait::Wait;
use carrier_os_std::dfu::test_app_image;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use carrier_os_std::testdir::TestDir;

mod support;

fn profile() -> DeviceProfile {
    let mut p = DeviceProfile::generic(7);
    p.attach_ms = 20;
    p.pdn_ms = 10;
    p
}

fn port(dir: &Path) -> RealPort {
    RealPort::open(dir, profile()).unwrap()
}

fn link_up(p: &mut RealPort) {
    p.request_link(LinkRequest::Up).unwrap();
    let deadline = p.now() + Duration::from_secs(5);
    while !p.link_state().is_up() {
        assert!(p.now() < deadline, "link did not come up");
        p.wait_until(Some(deadline));
    }
}

/// A UDP echo server on a loopback address; runs until the process ends.
fn udp_echo(bind: &str) -> std::net::SocketAddr {
    let s = UdpSocket::bind(bind).unwrap_or_else(|e| panic!("cannot bind {bind}: {e}"));
    let addr = s.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    });
    addr
}

fn endpoint(host: &str, port: u16, family: Family, security: Security) -> Endpoint {
    Endpoint { host: host.try_into().unwrap(), port, pdn: PdnId::DEFAULT, family, security }
}

/// A minimal HTTP/1.1 file server with `Range: bytes=N-` support. If
/// `cut_first_after` is set, the first response announces the whole length
/// but the connection is closed after that many body bytes.
fn http_server(
    file: Vec<u8>,
    cut_first_after: Option<usize>,
) -> (String, std::sync::mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/fw.bin", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut cut = cut_first_after;
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { break };
            let range = support::read_request_range(&mut BufReader::new(conn.try_clone().unwrap()))
                .unwrap_or(None);
            let _ = tx.send(format!("range={range:?}"));
            support::respond_with_file(&mut conn, &file, range, cut.take());
        }
    });
    (url, rx)
}

#[test]
fn real_port_passes_the_clock_random_modem_suites() {
    let dir = TestDir::new("real-modem");
    let mut p = port(dir.path());
    conformance::clock_suite(&mut p);
    conformance::random_suite(&mut p);
    conformance::modem_suite(&mut p, Duration::from_secs(5));
}

#[test]
fn real_port_passes_the_transport_suite_over_ipv4_and_ipv6() {
    let dir = TestDir::new("real-udp");
    let mut p = port(dir.path());
    link_up(&mut p);
    let v4 = udp_echo("127.0.0.1:0");
    conformance::transport_suite(
        &mut p,
        &endpoint("127.0.0.1", v4.port(), Family::Any, Security::None),
        Duration::from_secs(5),
    );
    let v6 = udp_echo("[::1]:0");
    conformance::transport_suite(
        &mut p,
        &endpoint("::1", v6.port(), Family::Ipv6, Security::None),
        Duration::from_secs(5),
    );
    conformance::transport_suite(
        &mut p,
        &endpoint("localhost", v4.port(), Family::Ipv4, Security::None),
        Duration::from_secs(5),
    );
}

#[test]
fn real_port_passes_the_storage_and_dfu_suites_across_reboots() {
    let dir = TestDir::new("real-storage");
    let d = dir.path().to_path_buf();
    conformance::storage_suite(port(&d), |p| {
        drop(p);
        port(&d)
    });
    conformance::dfu_suite(port(&d), &test_app_image(3000), |p| {
        drop(p);
        port(&d)
    });
}

#[test]
fn real_port_passes_the_download_suite_over_http_with_ranges() {
    let dir = TestDir::new("real-http");
    let mut p = port(dir.path());
    link_up(&mut p);
    let image = test_app_image(20_000);
    let (url, seen) = http_server(image.clone(), None);
    conformance::download_suite(&mut p, &url, &image, Duration::from_secs(10));
    let requests: Vec<String> = seen.try_iter().collect();
    assert_eq!(requests, ["range=None", "range=Some(6666)"], "the resume asks for the tail only");
}

fn download(
    p: &mut RealPort,
    url: &str,
    offset: u64,
    out: &mut Vec<u8>,
) -> Result<(), DownloadError> {
    p.start_download(&DownloadRequest { uri: url, sec_tag: None, pdn: PdnId::DEFAULT, offset })
        .unwrap();
    support::finish_download(p, out)
}

#[test]
fn an_http_download_cut_by_the_server_resumes_with_a_range_request() {
    let dir = TestDir::new("real-resume");
    let mut p = port(dir.path());
    link_up(&mut p);
    let image = test_app_image(50_000);
    let (url, seen) = http_server(image.clone(), Some(12_345));
    let mut got = Vec::new();
    assert_eq!(download(&mut p, &url, 0, &mut got), Err(DownloadError::Disconnected));
    assert_eq!(got.len(), 12_345, "every byte received before the cut is delivered");
    // The runtime stores the offset (here: got.len()) and resumes.
    download(&mut p, &url, got.len() as u64, &mut got).unwrap();
    assert_eq!(got, image);
    let requests: Vec<String> = seen.try_iter().collect();
    assert_eq!(requests, ["range=None", "range=Some(12345)"]);
}

#[test]
fn unknown_schemes_are_unsupported_and_https_without_a_sec_tag_has_no_credentials() {
    let dir = TestDir::new("real-schemes");
    let mut p = port(dir.path());
    link_up(&mut p);
    let req = |uri| DownloadRequest { uri, sec_tag: None, pdn: PdnId::DEFAULT, offset: 0 };
    assert_eq!(p.start_download(&req("ftp://fw.example/a")), Err(DownloadError::UnsupportedScheme));
    // HTTPS trusts only a security tag's CA (see tests/https_download.rs).
    assert_eq!(p.start_download(&req("https://fw.example/a")), Err(DownloadError::NoCredentials));
    let req = DownloadRequest { uri: "no scheme", sec_tag: None, pdn: PdnId::DEFAULT, offset: 0 };
    assert_eq!(p.start_download(&req), Err(DownloadError::InvalidUri));
}

#[test]
fn non_ip_is_a_local_datagram_pipe() {
    let dir = TestDir::new("real-nidd");
    let mut p = port(dir.path());
    link_up(&mut p);
    let peer = p.nidd_peer();
    let s = p.open(&endpoint("", 0, Family::NonIp, Security::None)).unwrap();
    assert_eq!(p.poll_open(s), Poll::Ready(Ok(())));
    assert_eq!(p.send(s, b"uplink"), Poll::Ready(Ok(())));
    assert_eq!(peer.recv(), Some(b"uplink".to_vec()));
    let sender = std::thread::spawn(move || peer.send(b"downlink"));
    let mut buf = [0u8; 16];
    let deadline = p.now() + Duration::from_secs(5);
    let n = loop {
        if let Poll::Ready(r) = p.recv(s, &mut buf) {
            break r.unwrap();
        }
        assert!(p.now() < deadline);
        p.wait_until(Some(deadline));
    };
    assert_eq!(&buf[..n], b"downlink");
    sender.join().unwrap();
}

#[cfg(not(feature = "dtls"))]
#[test]
fn without_the_dtls_feature_a_dtls_socket_is_unsupported() {
    let dir = TestDir::new("real-dtls");
    let mut p = port(dir.path());
    p.psk_store(SecTag(5), Some(b"id"), &Psk::new(b"key").unwrap()).unwrap();
    link_up(&mut p);
    let dtls = |tag| {
        endpoint(
            "127.0.0.1",
            5684,
            Family::Any,
            Security::DtlsPsk { sec_tag: SecTag(tag), connection_id: false },
        )
    };
    assert_eq!(p.open(&dtls(6)), Err(TransportError::NoCredentials));
    assert_eq!(p.open(&dtls(5)), Err(TransportError::Unsupported));
}

#[cfg(feature = "dtls")]
mod dtls {
    use super::*;

    const KEY: &[u8; 16] = b"0123456789abcdef";

    /// A DTLS-PSK echo server (dtls-psk's server role) on 127.0.0.1 that knows
    /// identity `device-7` with `KEY`.
    fn dtls_echo() -> std::net::SocketAddr {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_millis(20))).unwrap();
        let addr = sock.local_addr().unwrap();
        let store = |id: &[u8]| (id == b"device-7").then(|| dtls_psk::Psk::new(KEY).unwrap());
        let mut server = dtls_psk::Server::new(store, dtls_psk::Config::default()).unwrap();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            let mut buf = [0u8; 2048];
            loop {
                let now = dtls_psk::Instant::from_millis(start.elapsed().as_millis() as u64);
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    server.handle_datagram(now, from, &buf[..n]);
                }
                server.handle_timeout(now);
                while let Some((peer, data)) = server.recv() {
                    let _ = server.send(now, peer, &data);
                }
                while let Some((to, d)) = server.poll_transmit() {
                    let _ = sock.send_to(&d, to);
                }
                while server.poll_event().is_some() {}
            }
        });
        addr
    }

    fn dtls_port(dir: &Path, identity: &[u8], key: &[u8]) -> RealPort {
        let mut p = port(dir);
        p.psk_store(SecTag(9), Some(identity), &Psk::new(key).unwrap()).unwrap();
        link_up(&mut p);
        p
    }

    fn ep(addr: std::net::SocketAddr) -> Endpoint {
        endpoint(
            "127.0.0.1",
            addr.port(),
            Family::Any,
            Security::DtlsPsk { sec_tag: SecTag(9), connection_id: true },
        )
    }

    fn open_result(p: &mut RealPort, e: &Endpoint) -> Result<(), TransportError> {
        let s = p.open(e)?;
        let deadline = p.now() + Duration::from_secs(20);
        loop {
            if let Poll::Ready(r) = p.poll_open(s) {
                return r;
            }
            assert!(p.now() < deadline, "open neither finished nor failed");
            p.wait_until(Some(deadline));
        }
    }

    #[test]
    fn real_port_passes_the_transport_suite_over_dtls_psk() {
        let dir = TestDir::new("real-dtls-ok");
        let mut p = dtls_port(dir.path(), b"device-7", KEY);
        let server = dtls_echo();
        conformance::transport_suite(&mut p, &ep(server), Duration::from_secs(10));
        assert_eq!(
            p.open(&ep(server)).map(|s| p.connection_id_in_use(s)),
            Ok(false),
            "no CID with tinydtls"
        );
    }

    #[test]
    fn an_unknown_identity_is_refused_as_handshake_failed() {
        let dir = TestDir::new("real-dtls-id");
        let mut p = dtls_port(dir.path(), b"stranger", KEY);
        assert_eq!(open_result(&mut p, &ep(dtls_echo())), Err(TransportError::HandshakeFailed));
    }

    #[test]
    fn a_silent_server_ends_as_handshake_timed_out() {
        let dir = TestDir::new("real-dtls-silent");
        let mut p = dtls_port(dir.path(), b"device-7", KEY);
        p.set_dtls_handshake_timeout(Duration::from_secs(3));
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        assert_eq!(open_result(&mut p, &ep(addr)), Err(TransportError::HandshakeTimedOut));
        drop(silent);
    }

    #[test]
    fn a_psk_longer_than_tinydtls_takes_is_unsupported_not_a_failed_handshake() {
        let dir = TestDir::new("real-dtls-long");
        let mut p = dtls_port(dir.path(), b"device-7", &[7; 32]);
        assert_eq!(p.open(&ep(dtls_echo())).err(), Some(TransportError::Unsupported));
    }
}

#[test]
fn a_reboot_installs_a_scheduled_application_image() {
    let dir = TestDir::new("real-fota");
    let mut p = port(dir.path());
    let image = test_app_image(4096);
    assert_eq!(p.dfu_start(ImageType::Application, Some(4096)), Ok(0));
    p.dfu_write(&image[..1000]).unwrap();
    drop(p); // reboot mid-download
    let mut p = port(dir.path());
    assert_eq!(
        p.dfu_start(ImageType::Application, Some(4096)),
        Ok(1000),
        "resume offset survives the reboot"
    );
    p.dfu_write(&image[1000..]).unwrap();
    p.dfu_finish(Some(carrier_os::crc32(0, &image))).unwrap();
    p.dfu_schedule().unwrap();
    drop(p);
    let mut p = port(dir.path());
    assert_eq!(p.dfu_take_outcome(), Ok(Some(UpdateOutcome::Applied(ImageType::Application))));
    assert_eq!(std::fs::read(dir.path().join("dfu/active.bin")).unwrap(), image);
}
