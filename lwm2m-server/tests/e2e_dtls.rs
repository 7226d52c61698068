//! The same device and server over DTLS-PSK (`coaps://`, dtls-psk on both
//! sides, TLS_PSK_WITH_AES_128_CCM_8): bootstrap, register, read `/3/0`,
//! de-register. Loopback UDP; every wait bounded.
#![allow(clippy::std_instead_of_core)]

mod common;

use common::{DeviceCmd, EP, Link, coap_config, run_device_over};
use dtls_psk::{Client as DtlsClient, Config as DtlsConfig, Event as DtlsEvent, Psk};
use lwm2m_core::client::Event;
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::path::Path;
use lwm2m_server::transport::{DtlsTransport, Transport};
use lwm2m_server::{BootstrapPlan, Request, ServerConfig, ServerEvent, spawn};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const IDENTITY: &[u8] = b"urn:imei:490154203237511";
const KEY: &[u8] = b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";

/// A DTLS-PSK client session to one server, as the device's link.
struct DtlsLink {
    socket: UdpSocket,
    server: SocketAddr,
    dtls: DtlsClient,
    start: Instant,
    connected: bool,
}

impl DtlsLink {
    fn now(&self) -> dtls_psk::Instant {
        dtls_psk::Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }
    fn flush(&mut self) {
        while let Some(d) = self.dtls.poll_transmit() {
            self.socket.send_to(&d, self.server).unwrap();
        }
        while let Some(ev) = self.dtls.poll_event() {
            assert!(!matches!(ev, DtlsEvent::Alert { .. } | DtlsEvent::HandshakeTimeout), "{ev:?}");
            self.connected |= ev == DtlsEvent::Connected;
        }
    }
}

impl Link for DtlsLink {
    fn send(&mut self, to: SocketAddr, bytes: &[u8]) {
        assert_eq!(to, self.server);
        // The handshake completes before the first CoAP message (see below).
        let now = self.now();
        self.dtls.send(now, bytes).unwrap();
        self.flush();
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Option<(usize, SocketAddr)> {
        let end = Instant::now() + timeout;
        let mut raw = [0u8; 2048];
        loop {
            if let Some(d) = self.dtls.recv() {
                buf[..d.len()].copy_from_slice(&d);
                return Some((d.len(), self.server));
            }
            let left = end.checked_duration_since(Instant::now())?;
            self.socket.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
            match self.socket.recv_from(&mut raw) {
                Ok((n, _)) => {
                    let now = self.now();
                    self.dtls.handle_datagram(now, &raw[..n]);
                }
                Err(_) => {
                    let now = self.now();
                    self.dtls.handle_timeout(now);
                }
            }
            self.flush();
        }
    }
}

#[test]
fn bootstrap_register_read_deregister_over_dtls_psk() {
    let keys = |identity: &[u8]| (identity == IDENTITY).then(|| Psk::new(KEY).unwrap());
    let transport = DtlsTransport::bind("127.0.0.1:0".parse().unwrap(), keys).unwrap();
    let addr = transport.local_addr().unwrap();
    let config = ServerConfig {
        coap: coap_config(),
        default_plan: Some(BootstrapPlan::single(&format!("coaps://{addr}"), 60)),
        ..ServerConfig::default()
    };
    let server = spawn(transport, config).unwrap();

    // Handshake first, bounded, then hand the session to the device loop.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut link = DtlsLink {
        socket,
        server: addr,
        dtls: DtlsClient::new(IDENTITY, Psk::new(KEY).unwrap(), DtlsConfig::default()).unwrap(),
        start: Instant::now(),
        connected: false,
    };
    let now = link.now();
    link.dtls.connect(now).unwrap();
    link.flush();
    let until = Instant::now() + Duration::from_secs(15);
    while !link.connected {
        assert!(Instant::now() < until, "DTLS handshake did not finish");
        let mut scratch = [0u8; 16];
        let _ = link.recv(&mut scratch, Duration::from_millis(20));
    }

    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (ev_tx, ev_rx) = mpsc::channel();
    let deadline = Instant::now() + Duration::from_secs(40);
    let uri = format!("coaps://{addr}");
    let device =
        std::thread::spawn(move || run_device_over(link, &uri, addr, cmd_rx, ev_tx, deadline));
    let wait = Duration::from_secs(20);
    let reg = server
        .wait_for(wait, |e| match e {
            ServerEvent::Registered { registration, .. } => Some(registration.clone()),
            _ => None,
        })
        .expect("registered over DTLS");
    assert_eq!(reg.endpoint, EP);
    let dev0 = Path::instance(3, 0).unwrap();
    let r = server
        .request(EP, Request::Read { path: dev0, format: Some(ContentFormat::Lwm2mTlv) }, wait)
        .unwrap();
    assert_eq!(r.code, Code::Content);
    assert!(r.payload.windows(3).any(|w| w == [0xC1, 0x09, 80]));
    cmd_tx.send(DeviceCmd::Deregister).unwrap();
    server
        .wait_for(wait, |e| matches!(e, ServerEvent::Deregistered { .. }).then_some(()))
        .expect("deregistered");
    let end = Instant::now() + wait;
    loop {
        let left = end.checked_duration_since(Instant::now()).expect("device deregistered");
        if ev_rx.recv_timeout(left).unwrap() == (Event::Deregistered { ssid: 101, failure: None }) {
            break;
        }
    }
    cmd_tx.send(DeviceCmd::Stop).unwrap();
    device.join().unwrap();
}
