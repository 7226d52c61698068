//! The device side of the loopback end-to-end tests: the runtime with the
//! LwM2M session on the desktop port (`RealPort`: simulated modem and SIM,
//! real UDP sockets, DTLS 1.2 PSK through `dtls-psk`), the application's
//! outer loop, and `lwm2m_server` instances on `127.0.0.1:0` (NoSec or
//! DTLS-PSK). Every wait is bounded by a deadline on the port's clock.
#![allow(dead_code, clippy::std_instead_of_core)]

use carrier_os::modem::{LinkRequest, Modem};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::wait::Wait;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Config, Event, Phase, Runtime};
use lwm2m_core::rng::XorShiftRng;
use lwm2m_server::transport::{DtlsTransport, Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, ServerConfig, ServerHandle};
use std::sync::atomic::{AtomicBool, Ordering};

/// The runtime as the loopback tests run it.
pub type Rt<'c> = Runtime<'c, Lwm2mSession<XorShiftRng>>;

/// The application's side of the loop: follow the link requests, record events.
pub fn poll_once(rt: &mut Rt<'_>, port: &mut RealPort, events: &mut Vec<Event<'static>>) {
    let next = rt.poll(port);
    while let Some(e) = rt.poll_event() {
        let owned = match e {
            Event::LteLinkDown => {
                port.request_link(LinkRequest::Down).unwrap();
                Event::LteLinkDown
            }
            Event::LteLinkUp => {
                port.request_link(LinkRequest::Up).unwrap();
                Event::LteLinkUp
            }
            Event::Bootstrapped => Event::Bootstrapped,
            Event::Registered => Event::Registered,
            Event::Deferred { reason, timeout } => Event::Deferred { reason, timeout },
            Event::Error { kind, value } => Event::Error { kind, value },
            Event::ModemInit => Event::ModemInit,
            Event::FotaStart { uri } => {
                assert_eq!(uri, None, "a push has no URI");
                Event::FotaStart { uri: None }
            }
            Event::AppData { path, kind, .. } => Event::AppData { path, kind, data: &[] },
            other => panic!("unexpected event {other:?}"),
        };
        events.push(owned);
    }
    // Never sleep past 50 ms: the server answers on its own thread.
    let cap = port.now().checked_add(Duration::from_millis(50));
    let until = match (next, cap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    port.wait_until(until);
}

/// Runs the device on its own thread while `f` (the server's side) runs on
/// this one (the server handle is not shareable); `f`'s result.
pub fn while_device_runs<T>(
    rt: &mut Rt<'_>,
    port: &mut RealPort,
    events: &mut Vec<Event<'static>>,
    f: impl FnOnce() -> T,
) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let device = s.spawn(|| {
            let end = deadline(port, 15);
            while !done.load(Ordering::Acquire) {
                assert!(port.now() < end, "the device loop ran out of time");
                poll_once(rt, port, events);
            }
        });
        let r = f();
        done.store(true, Ordering::Release);
        device.join().unwrap();
        r
    })
}

/// `s` seconds from now on the port's clock.
pub fn deadline(port: &RealPort, s: u64) -> Instant {
    port.now().checked_add(Duration::from_secs(s)).unwrap()
}

/// Server events until quiet: (Bootstrap-Requests, Registers).
pub fn count_bootstraps_and_registers(server: &ServerHandle) -> (usize, usize) {
    let (mut bootstraps, mut registers) = (0, 0);
    while let Some(ev) = server.next_event(std::time::Duration::from_millis(200)) {
        match ev {
            lwm2m_server::ServerEvent::BootstrapRequested { .. } => bootstraps += 1,
            lwm2m_server::ServerEvent::Registered { .. } => registers += 1,
            _ => {}
        }
    }
    (bootstraps, registers)
}

/// Boots the generic test device in `dir` and runs it until REGISTERED
/// (bounded): the runtime, its port and the events seen.
pub fn boot_until_registered<'c>(
    dir: &std::path::Path,
    config: Config<'c>,
) -> (Rt<'c>, RealPort, Vec<Event<'static>>) {
    boot_device_until(dir, DeviceProfile::generic(1), config, 20, |_, events| {
        events.contains(&Event::Registered)
    })
}

/// Boots a device with `profile` in `dir` and runs it until `done` (at
/// most `limit_s` seconds on the port's clock).
pub fn boot_device_until<'c>(
    dir: &std::path::Path,
    profile: DeviceProfile,
    config: Config<'c>,
    limit_s: u64,
    mut done: impl FnMut(Phase, &[Event<'static>]) -> bool,
) -> (Rt<'c>, RealPort, Vec<Event<'static>>) {
    let mut port = RealPort::open(dir, profile).unwrap();
    let mut rt: Rt<'_> = Runtime::new(config, Lwm2mSession::new(XorShiftRng::new(0x1234)));
    rt.on_modem_init(Ok(ModemInitResult::Success));
    port.request_link(LinkRequest::Up).unwrap();
    let mut events = Vec::new();
    let end = deadline(&port, limit_s);
    while !done(rt.phase(), &events) {
        assert!(port.now() < end, "not done in time; events so far: {events:?}");
        poll_once(&mut rt, &mut port, &mut events);
    }
    (rt, port, events)
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes the bootstrap PSK `(identity, key)` into the device's security
/// tags `tags` (what the application provisions before first boot).
pub fn provision_bootstrap_key(dir: &std::path::Path, tags: &[u32], identity: &[u8], key: &[u8]) {
    let mut toml = String::new();
    for tag in tags {
        toml += &format!(
            "[[tag]]\nsec_tag = {tag}\nidentity_hex = \"{}\"\npsk_hex = \"{}\"\n",
            hex(identity),
            hex(key)
        );
    }
    std::fs::write(dir.join("keys.toml"), toml).unwrap();
}

/// A DTLS-PSK server on loopback that knows the one `(identity, key)`, with
/// `plan` for every endpoint (`None`: a DM server only): handle and `coaps://` URI.
pub fn dtls_server(
    identity: &'static [u8],
    key: &'static [u8],
    plan: Option<BootstrapPlan>,
) -> (ServerHandle, String) {
    let (transport, uri) = dtls_transport(identity, key);
    let config = ServerConfig { default_plan: plan, ..Default::default() };
    (lwm2m_server::spawn(transport, config).unwrap(), uri)
}

/// A DTLS-PSK DM server, not yet running: its transport and `coaps://` URI
/// (the URI goes into the bootstrap plan before the server starts).
pub fn dtls_transport(identity: &'static [u8], key: &'static [u8]) -> (DtlsTransport, String) {
    let keys = move |id: &[u8]| (id == identity).then(|| dtls_psk::Psk::new(key).unwrap());
    let transport = DtlsTransport::bind("127.0.0.1:0".parse().unwrap(), keys).unwrap();
    let uri = format!("coaps://{}", transport.local_addr().unwrap());
    (transport, uri)
}

/// A plain-CoAP server on loopback with `plan` for every endpoint.
pub fn udp_server(plan: impl FnOnce(&str) -> Option<BootstrapPlan>) -> (ServerHandle, String) {
    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let uri = format!("coap://{}", transport.local_addr().unwrap());
    let config = ServerConfig { default_plan: plan(&uri), ..Default::default() };
    (lwm2m_server::spawn(transport, config).unwrap(), uri)
}
