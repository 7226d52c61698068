//! Firmware pull: the server writes a Package URI (5/0/1) naming a file it
//! serves itself, and the device side downloads it over CoAP Block2 (RFC
//! 7959) — the download is the runtime's job, played here by a plain
//! lwm2m-core CoAP endpoint with a `Block2Reassembler`. Loopback UDP, every
//! wait bounded.
#![allow(clippy::std_instead_of_core)]

mod common;

use common::{DeviceCmd, EP, coap_config, run_device};
use lwm2m_core::coap::block::{Block2Reassembler, BlockValue, Reassembly, Szx};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Endpoint, Event as CoapEvent};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::Instant as CoreInstant;
use lwm2m_server::memstore::Owned;
use lwm2m_server::transport::{Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, Request, ServerConfig, ServerEvent, spawn};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// GET `coap://addr/path` block by block into a 64 KiB buffer.
fn download(uri: &str) -> Vec<u8> {
    let rest = uri.strip_prefix("coap://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let addr: SocketAddr = host.parse().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let start = Instant::now();
    let now = || CoreInstant::from_millis(start.elapsed().as_millis() as u64);
    let mut ep = Endpoint::<SocketAddr, _>::new(coap_config(), XorShiftRng::new(5));
    let mut body = vec![0u8; 65536];
    let mut reasm = Block2Reassembler::new(&mut body[..], Szx::S512);
    let mut block = Some(reasm.first_request());
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let mut rx = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "download did not finish");
        if let Some(b) = block.take() {
            ep.request(now(), addr, true, Code::Get, |w| {
                w.add_path(OptionNumber::UriPath, path)?;
                w.add_uint(OptionNumber::Block2, b.to_uint())
            })
            .unwrap();
        }
        while let Some(t) = ep.poll_transmit(now(), &mut buf) {
            socket.send_to(&buf[..t.len], t.remote).unwrap();
        }
        match socket.recv_from(&mut rx) {
            Ok((n, from)) => ep.handle_datagram(now(), from, &rx[..n]),
            Err(_) => ep.handle_timeout(now()),
        }
        while let Some(ev) = ep.poll_event() {
            if let CoapEvent::Response { response, .. } = ev {
                assert_eq!(response.code, Code::Content);
                let b2 = response
                    .options
                    .get_uint(OptionNumber::Block2)
                    .map(|v| BlockValue::from_uint(v).unwrap());
                let size2 = response.options.get_uint(OptionNumber::Size2);
                match reasm.handle(b2, size2, response.payload).unwrap() {
                    Reassembly::Next(next) => block = Some(next),
                    Reassembly::Complete(len) => {
                        let out = reasm.body()[..len].to_vec();
                        return out;
                    }
                }
            }
        }
    }
}

#[test]
fn package_uri_points_at_a_file_the_server_serves_block_wise() {
    let image: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = transport.local_addr().unwrap();
    let mut config = ServerConfig {
        coap: coap_config(),
        default_plan: Some(BootstrapPlan::single(&format!("coap://{addr}"), 60)),
        ..ServerConfig::default()
    };
    config.files.insert("fw/app.bin".into(), image.clone());
    let server = spawn(transport, config).unwrap();
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (ev_tx, _ev_rx) = mpsc::channel();
    let deadline = Instant::now() + Duration::from_secs(40);
    let device = std::thread::spawn(move || run_device(addr, cmd_rx, ev_tx, deadline));
    server
        .wait_for(Duration::from_secs(20), |e| {
            matches!(e, ServerEvent::Registered { .. }).then_some(())
        })
        .expect("registered");
    let uri = server.file_uri("fw/app.bin");
    let package_uri = Path::resource(5, 0, 1).unwrap();
    let w = server
        .request(
            EP,
            Request::Write {
                path: package_uri,
                format: ContentFormat::TextPlain,
                payload: uri.clone().into_bytes(),
                replace: true,
            },
            Duration::from_secs(20),
        )
        .unwrap();
    assert_eq!(w.code, Code::Changed);
    cmd_tx.send(DeviceCmd::Stop).unwrap();
    let store = device.join().unwrap();
    // The device stored the URI; its downloader fetches what it names.
    let Some(Owned::Str(stored)) = store.values.get(&package_uri) else { panic!("no package URI") };
    assert_eq!(stored, &uri);
    assert_eq!(download(stored), image);
}
