//! The registration store forgets a client whose lifetime passed without
//! an Update (TS §6.2.2), while a live client's Updates keep it. Loopback
//! UDP; every wait bounded.
#![allow(clippy::std_instead_of_core)]

mod common;

use common::{DeviceCmd, EP, coap_config, run_device};
use lwm2m_server::transport::{Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, ServerConfig, ServerEvent, spawn};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn registration_expires_when_updates_stop_and_not_before() {
    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = transport.local_addr().unwrap();
    let config = ServerConfig {
        coap: coap_config(),
        // Lifetime 2 s: the device updates at 1 s (half the lifetime).
        default_plan: Some(BootstrapPlan::single(&format!("coap://{addr}"), 2)),
        ..ServerConfig::default()
    };
    let server = spawn(transport, config).unwrap();
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (ev_tx, _ev_rx) = mpsc::channel();
    let deadline = Instant::now() + Duration::from_secs(30);
    let device = std::thread::spawn(move || run_device(addr, cmd_rx, ev_tx, deadline));
    let wait = Duration::from_secs(15);
    server
        .wait_for(wait, |e| matches!(e, ServerEvent::Registered { .. }).then_some(()))
        .expect("registered");
    // Three Updates in a row, and no expiry among the events before them.
    for _ in 0..3 {
        let ev = server
            .wait_for(wait, |e| match e {
                ServerEvent::Updated { .. } | ServerEvent::Expired { .. } => Some(e.clone()),
                _ => None,
            })
            .expect("update");
        assert!(matches!(ev, ServerEvent::Updated { .. }), "{ev:?}");
    }
    cmd_tx.send(DeviceCmd::Stop).unwrap();
    device.join().unwrap();
    let gone = server
        .wait_for(wait, |e| match e {
            ServerEvent::Expired { endpoint } => Some(endpoint.clone()),
            _ => None,
        })
        .expect("expired");
    assert_eq!(gone, EP);
    assert!(server.registrations().is_empty());
}
