//! End to end over real loopback UDP: a device (lwm2m-core `Client` +
//! `MemoryStore`, driven by a small std loop on its own thread) against
//! `lwm2m-server`, directly and through a seeded lossy relay (20 % loss,
//! duplicates, reordering). Every wait is bounded by a deadline; no sleep
//! decides an assertion.
#![allow(clippy::std_instead_of_core)]

use lwm2m_core::client::Event;
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::path::Path;
use lwm2m_core::rng::{Rng, XorShiftRng};
use lwm2m_server::memstore::Owned;
use lwm2m_server::transport::{Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, Request, ServerConfig, ServerEvent, spawn};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{DeviceCmd, EP, coap_config, run_device};
const WAIT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct RelayStats {
    forwarded: AtomicU32,
    dropped: AtomicU32,
    duplicated: AtomicU32,
    reordered: AtomicU32,
}

/// A UDP relay between the device and the server: `front` faces the
/// device, `back` the server. Seeded: 20 % loss, 10 % held back behind the
/// next datagram (reordering), 10 % duplicated.
fn spawn_relay(
    server: SocketAddr,
    seed: u32,
    stop: Arc<AtomicBool>,
    stats: Arc<RelayStats>,
) -> SocketAddr {
    let front = UdpSocket::bind("127.0.0.1:0").unwrap();
    let back = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = front.local_addr().unwrap();
    front.set_read_timeout(Some(Duration::from_millis(2))).unwrap();
    back.set_read_timeout(Some(Duration::from_millis(2))).unwrap();
    std::thread::spawn(move || {
        let mut rng = XorShiftRng::new(seed);
        let mut device: Option<SocketAddr> = None;
        let mut held: Option<(bool, Vec<u8>)> = None;
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            for to_server in [true, false] {
                let sock = if to_server { &front } else { &back };
                let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
                if to_server {
                    device = Some(from);
                }
                let send = |up: bool, bytes: &[u8]| {
                    if up {
                        let _ = back.send_to(bytes, server);
                    } else if let Some(d) = device {
                        let _ = front.send_to(bytes, d);
                    }
                };
                let roll = rng.next_u32() % 100;
                if roll < 20 {
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if roll < 30 && held.is_none() {
                    stats.reordered.fetch_add(1, Ordering::Relaxed);
                    held = Some((to_server, buf[..n].to_vec()));
                    continue;
                }
                send(to_server, &buf[..n]);
                stats.forwarded.fetch_add(1, Ordering::Relaxed);
                if roll < 40 {
                    stats.duplicated.fetch_add(1, Ordering::Relaxed);
                    send(to_server, &buf[..n]);
                }
                if let Some((up, bytes)) = held.take() {
                    send(up, &bytes);
                }
            }
        }
    });
    addr
}

struct Figures {
    register_request_len: usize,
    register_payload_len: usize,
    update_request_len: usize,
    objects: String,
}

fn scenario(lossy: Option<u32>) -> Figures {
    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let server_addr = transport.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(RelayStats::default());
    // The device reaches the server (bootstrap and DM) through the relay when lossy.
    let device_sees = match lossy {
        Some(seed) => spawn_relay(server_addr, seed, stop.clone(), stats.clone()),
        None => server_addr,
    };
    let config = ServerConfig {
        coap: coap_config(),
        default_plan: Some(BootstrapPlan::single(&format!("coap://{device_sees}"), 60)),
        ..ServerConfig::default()
    };
    let server = spawn(transport, config).unwrap();
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (ev_tx, ev_rx) = mpsc::channel();
    let deadline = Instant::now() + Duration::from_secs(120);
    let device = std::thread::spawn(move || run_device(device_sees, cmd_rx, ev_tx, deadline));
    let deregistering = std::cell::Cell::new(false);
    let device_event = |want: &dyn Fn(&Event) -> bool| {
        let end = Instant::now() + WAIT;
        loop {
            let left = end.checked_duration_since(Instant::now()).expect("device event deadline");
            let ev = ev_rx.recv_timeout(left).expect("device event");
            assert!(
                !matches!(
                    ev,
                    Event::RegisterFailed { .. }
                        | Event::UpdateFailed { .. }
                        | Event::ObservationEnded { .. }
                        | Event::BootstrapFailed(_)
                ) || (deregistering.get() && matches!(ev, Event::ObservationEnded { .. })),
                "a CON exchange was lost: {ev:?}"
            );
            if want(&ev) {
                return;
            }
        }
    };

    // Bootstrap.
    let code = server
        .wait_for(WAIT, |e| match e {
            ServerEvent::BootstrapFinished { code, .. } => Some(*code),
            _ => None,
        })
        .expect("bootstrap finished");
    assert_eq!(code, Code::Changed);
    device_event(&|e| *e == Event::Bootstrapped);

    // Register.
    let (reg, register_request_len, register_payload_len) = server
        .wait_for(WAIT, |e| match e {
            ServerEvent::Registered { registration, request_len, payload_len } => {
                Some((registration.clone(), *request_len, *payload_len))
            }
            _ => None,
        })
        .expect("registered");
    assert_eq!(reg.endpoint, EP);
    assert_eq!(reg.lifetime_s, 60);
    assert_eq!(reg.version, "1.1");
    assert_eq!(reg.objects, "</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</5/0>");
    device_event(&|e| *e == Event::Registered { ssid: 101 });

    let req = |r: Request| server.request(EP, r, WAIT).expect("response");
    let dev0 = Path::instance(3, 0).unwrap();
    let battery = Path::resource(3, 0, 9).unwrap();

    // Read /3/0 in TLV: battery level 80 is resource 9, one byte (TS §7.4.3).
    let tlv = req(Request::Read { path: dev0, format: Some(ContentFormat::Lwm2mTlv) });
    assert_eq!(tlv.code, Code::Content);
    assert_eq!(tlv.content_format, Some(ContentFormat::Lwm2mTlv));
    assert!(tlv.payload.windows(3).any(|w| w == [0xC1, 0x09, 80]), "{:02x?}", tlv.payload);
    // And in SenML CBOR.
    let cbor = req(Request::Read { path: dev0, format: Some(ContentFormat::SenmlCbor) });
    assert_eq!(cbor.content_format, Some(ContentFormat::SenmlCbor));
    let values = cbor.values(&dev0);
    assert!(values.contains(&(battery, "80".into())), "{values:?}");
    assert!(values.contains(&(Path::resource(3, 0, 1).unwrap(), "\"carrier-rs\"".into())));

    // A Read larger than one datagram comes block-wise (Block2), and the
    // server reassembles it: a 2000-character device type (3/0/17).
    let long: String = (0..2000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let device_type = Path::resource(3, 0, 17).unwrap();
    cmd_tx.send(DeviceCmd::Set(device_type, Owned::Str(long.clone()))).unwrap();
    let big = req(Request::Read { path: dev0, format: Some(ContentFormat::SenmlCbor) });
    assert_eq!(big.code, Code::Content);
    assert!(big.payload.len() > MAX_MESSAGE_LEN, "{}", big.payload.len());
    let values = big.values(&dev0);
    assert!(values.contains(&(device_type, format!("{long:?}"))), "{values:?}");

    // Read-Composite of two resources in two instances' worth of paths,
    // then Write-Composite of one.
    let manufacturer = Path::resource(3, 0, 0).unwrap();
    let composite = req(Request::ReadComposite {
        paths: vec![battery, manufacturer],
        format: ContentFormat::SenmlCbor,
    });
    assert_eq!(composite.code, Code::Content);
    let values = composite.values(&Path::ROOT);
    assert_eq!(values, [(battery, "80".to_string()), (manufacturer, "\"Nordic-ish\"".to_string())]);
    let utc_offset = Path::resource(3, 0, 14).unwrap();
    let payload = lwm2m_server::encode_senml(
        ContentFormat::SenmlJson,
        &[(utc_offset, lwm2m_core::value::Value::String("+02:00"))],
    );
    let wc = req(Request::WriteComposite { format: ContentFormat::SenmlJson, payload });
    assert_eq!(wc.code, Code::Changed);
    let back = req(Request::Read { path: utc_offset, format: None });
    assert_eq!((back.code, back.payload.as_slice()), (Code::Content, &b"+02:00"[..]));

    // Write-Attributes, then Observe the battery level.
    let attrs = vec!["pmin=1".to_string(), "pmax=4".to_string()];
    let wa = req(Request::WriteAttributes { path: battery, attributes: attrs });
    assert_eq!(wa.code, Code::Changed);
    let observe_sent = Instant::now();
    let first = req(Request::Observe { path: battery, format: Some(ContentFormat::TextPlain) });
    assert_eq!((first.code, first.payload.as_slice()), (Code::Content, &b"80"[..]));
    device_event(&|e| matches!(e, Event::ObservationStarted { .. }));

    // The application changes it: the notification carries 42, not before
    // pmin after the last notification, and within pmax (+ transit slack).
    cmd_tx.send(DeviceCmd::SetBattery(42)).unwrap();
    let changed_at = Instant::now();
    let notified = server
        .wait_for(WAIT, |e| match e {
            ServerEvent::Notification { response, .. } if response.payload == b"42" => {
                Some(Instant::now())
            }
            _ => None,
        })
        .expect("notification with 42");
    assert!(notified.duration_since(observe_sent) >= Duration::from_millis(1000), "before pmin");
    if lossy.is_none() {
        assert!(notified.duration_since(changed_at) <= Duration::from_secs(4 + 1), "after pmax");
    }

    // Execute reboot.
    let exec = req(Request::Execute { path: Path::resource(3, 0, 4).unwrap(), args: vec![] });
    assert_eq!(exec.code, Code::Changed);
    device_event(&|e| matches!(e, Event::Executed { .. }));

    // Firmware push: a block-wise Write of /5/0/0 (3000 bytes in 512-byte blocks).
    let image: Vec<u8> = (0..3000u32).map(|i| (i * 7 + i / 256) as u8).collect();
    let push = req(Request::WriteBlockwise {
        path: Path::resource(5, 0, 0).unwrap(),
        format: ContentFormat::OctetStream,
        payload: image.clone(),
        block_size: 512,
    });
    assert_eq!(push.code, Code::Changed);

    // Send: the values arrive in SenML CBOR at /dp.
    cmd_tx.send(DeviceCmd::Send).unwrap();
    let sent = server
        .wait_for(WAIT, |e| match e {
            ServerEvent::Sent { response, .. } => Some(response.clone()),
            _ => None,
        })
        .expect("send received");
    assert_eq!(sent.content_format, Some(ContentFormat::SenmlCbor));
    let values = sent.values(&Path::ROOT);
    assert!(values.contains(&(battery, "42".into())), "{values:?}");
    assert!(values.contains(&(Path::resource(3, 0, 0).unwrap(), "\"Nordic-ish\"".into())));
    device_event(&|e| *e == Event::SendSucceeded { ssid: 101 });

    // Update.
    cmd_tx.send(DeviceCmd::Update).unwrap();
    let update_request_len = server
        .wait_for(WAIT, |e| match e {
            ServerEvent::Updated { request_len, .. } => Some(*request_len),
            _ => None,
        })
        .expect("updated");
    device_event(&|e| *e == Event::Updated { ssid: 101 });

    // De-register.
    // De-registering ends the observation (TS §6.2.3); before it, nothing may.
    deregistering.set(true);
    cmd_tx.send(DeviceCmd::Deregister).unwrap();
    server
        .wait_for(WAIT, |e| matches!(e, ServerEvent::Deregistered { .. }).then_some(()))
        .expect("deregistered");
    device_event(&|e| *e == Event::Deregistered { ssid: 101, failure: None });
    cmd_tx.send(DeviceCmd::Stop).unwrap();
    let store = device.join().unwrap();
    assert_eq!(store.executed.len(), 1);
    assert_eq!(store.blockwise.get(&Path::resource(5, 0, 0).unwrap()), Some(&image));
    stop.store(true, Ordering::Relaxed);
    if lossy.is_some() {
        let s = &stats;
        eprintln!(
            "relay: forwarded {} dropped {} duplicated {} reordered {}",
            s.forwarded.load(Ordering::Relaxed),
            s.dropped.load(Ordering::Relaxed),
            s.duplicated.load(Ordering::Relaxed),
            s.reordered.load(Ordering::Relaxed)
        );
        assert!(s.dropped.load(Ordering::Relaxed) > 0, "the relay must have lost datagrams");
    }
    server.stop();
    Figures { register_request_len, register_payload_len, update_request_len, objects: reg.objects }
}

#[test]
fn bootstrap_register_read_observe_execute_update_deregister_over_udp() {
    let f = scenario(None);
    eprintln!(
        "Register: {} B datagram, {} B payload ({}); Update: {} B datagram",
        f.register_request_len, f.register_payload_len, f.objects, f.update_request_len
    );
    assert_eq!(f.register_payload_len, f.objects.len());
}

#[test]
fn the_same_story_survives_a_lossy_reordering_duplicating_relay() {
    for seed in [1, 2] {
        scenario(Some(seed));
    }
}
