//! End to end over real loopback UDP: the runtime with the LwM2M session
//! (`Lwm2mSession` over `lwm2m_core::client::Client` and the object model)
//! on the desktop port (`carrier_os_std::real::RealPort`, simulated modem
//! and SIM, real sockets) against `lwm2m_server` acting as Bootstrap-Server
//! and DM server (OMA-TS-LightweightM2M_Core 1.1 §6.1–§6.3; event order of
//! `carrier-api.md` §2 and app-integration "Bootstrap").
//!
//! Time is the port's clock; every wait is bounded by a deadline on it and
//! nothing asserts on elapsed time. NoSec (`coap://`), except the first-boot
//! variant with the Bootstrap-Server behind DTLS 1.2 PSK (`dtls-psk`, the
//! port's `dtls` feature); the server's bootstrap plan provisions NoSec DM
//! accounts, so registration is plain CoAP there.

#![allow(clippy::std_instead_of_core)]
use carrier_os::modem::{LinkRequest, Modem};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::wait::Wait;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use carrier_os_std::testdir::TestDir;
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder};
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Config, Event, Runtime};
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::formats::Decoder;
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_objects::ObjectStore;
use lwm2m_server::transport::{DtlsTransport, Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, Request, ServerConfig};
use std::sync::atomic::{AtomicBool, Ordering};

type Rt<'c> = Runtime<'c, Lwm2mSession<XorShiftRng>>;

/// The application's side of the loop: follow the link requests, record events.
fn poll_once(rt: &mut Rt<'_>, port: &mut RealPort, events: &mut Vec<Event<'static>>) {
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
fn while_device_runs<T>(
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

fn deadline(port: &RealPort, s: u64) -> Instant {
    port.now().checked_add(Duration::from_secs(s)).unwrap()
}

#[test]
fn first_boot_bootstraps_registers_and_answers_a_read_of_device() {
    let (server, uri) = server();

    let dir = TestDir::new("e2e-loopback-first-boot");
    let (mut rt, mut port, mut events) = boot_until_registered(dir.path(), generic(&uri).build());
    // Bootstrap, DM keys written with the link down, then registration
    // (carrier-api.md §2: LTE_LINK_DOWN, BOOTSTRAPPED, LTE_LINK_UP, REGISTERED).
    assert_eq!(
        events,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered],
        "event order"
    );
    let regs = server.registrations();
    assert_eq!(regs.len(), 1, "{regs:?}");
    let endpoint = regs[0].endpoint.clone();
    assert_eq!(regs[0].lifetime_s, 600, "the lifetime bootstrap provisioned");
    assert!(!regs[0].objects.contains("</0"), "Security is never announced: {}", regs[0].objects);

    // The application sets the battery; the server reads /3/0 in TLV.
    rt.api().set_power_sources(&[0, 1]).unwrap();
    rt.api().set_battery_level(42).unwrap();
    let response = while_device_runs(&mut rt, &mut port, &mut events, || {
        server.request(
            &endpoint,
            Request::Read {
                path: Path::instance(3, 0).unwrap(),
                format: Some(ContentFormat::Lwm2mTlv),
            },
            std::time::Duration::from_secs(10),
        )
    })
    .unwrap();
    assert_eq!(response.code, Code::Content);
    assert_eq!(response.content_format, Some(ContentFormat::Lwm2mTlv));
    let types = ObjectStore::new();
    let mut scratch = [0u8; 64];
    let values: Vec<(Path, String)> = Decoder::new(
        ContentFormat::Lwm2mTlv,
        &Path::instance(3, 0).unwrap(),
        &response.payload,
        &mut scratch,
        &types,
    )
    .unwrap()
    .map(|r| r.map(|(p, v)| (p, v.to_string())))
    .collect::<Result<_, _>>()
    .unwrap();
    let get = |r: u16| {
        values.iter().find(|(p, _)| *p == Path::resource(3, 0, r).unwrap()).map(|(_, v)| v.as_str())
    };
    assert_eq!(get(9), Some("42"), "battery level as the application set it: {values:?}");
    assert_eq!(get(17), Some("Module"), "generic device type");
    // The modem-owned resources come from the port's modem (the device profile).
    let profile = DeviceProfile::generic(1);
    assert_eq!(get(0), Some(profile.manufacturer.as_str()), "manufacturer: {values:?}");
    assert_eq!(get(1), Some(profile.model.as_str()), "model");
    assert_eq!(get(2), Some(profile.imei.as_str()), "serial number = IMEI");
    assert_eq!(get(3), Some(profile.firmware_version.as_str()), "modem firmware version");
    assert!(
        values.iter().any(|(p, v)| *p == Path::resource_instance(3, 0, 6, 1).unwrap() && v == "1"),
        "power sources DC and internal battery: {values:?}"
    );

    // Firmware push (TS §E.6, RFC 7959 Block1): an application image in
    // 512-byte blocks to /5/0/0; the package reaches the DFU target and
    // the object says Downloaded (State 5/0/3 = 2).
    let image = carrier_os_std::dfu::test_app_image(3000);
    let (written, state) = while_device_runs(&mut rt, &mut port, &mut events, || {
        let written = server.request(
            &endpoint,
            Request::WriteBlockwise {
                path: Path::resource(5, 0, 0).unwrap(),
                format: ContentFormat::OctetStream,
                payload: image.clone(),
                block_size: 512,
            },
            std::time::Duration::from_secs(10),
        );
        let state = server.request(
            &endpoint,
            Request::Read {
                path: Path::resource(5, 0, 3).unwrap(),
                format: Some(ContentFormat::TextPlain),
            },
            std::time::Duration::from_secs(10),
        );
        (written, state)
    });
    assert_eq!(written.unwrap().code, Code::Changed, "the last block is answered 2.04");
    let state = state.unwrap();
    assert_eq!((state.code, state.payload.as_slice()), (Code::Content, &b"2"[..]), "Downloaded");
    assert!(events.contains(&Event::FotaStart { uri: None }), "{events:?}");
    server.stop();
}

/// Generic mode with the Bootstrap-Server at `uri`.
fn generic(uri: &str) -> ConfigBuilder<'_> {
    ConfigBuilder::new().carriers(CarrierSet::GENERIC).server_uri(uri).bootstrap_server(true)
}

/// A server on loopback UDP bootstrapping every endpoint to itself (lifetime 600 s).
fn server() -> (lwm2m_server::ServerHandle, String) {
    server_with_lifetime(600)
}

/// A server on loopback UDP bootstrapping every endpoint to itself.
fn server_with_lifetime(lifetime_s: u32) -> (lwm2m_server::ServerHandle, String) {
    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let uri = format!("coap://{}", transport.local_addr().unwrap());
    let plan = BootstrapPlan::single(&uri, lifetime_s);
    let config = ServerConfig { default_plan: Some(plan), ..Default::default() };
    (lwm2m_server::spawn(transport, config).unwrap(), uri)
}

/// Server events until quiet: (Bootstrap-Requests, Registers).
fn count_bootstraps_and_registers(server: &lwm2m_server::ServerHandle) -> (usize, usize) {
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

/// Boots the device in `dir` and runs it until REGISTERED (bounded): the
/// runtime, its port and the events seen.
fn boot_until_registered<'c>(
    dir: &std::path::Path,
    config: Config<'c>,
) -> (Rt<'c>, RealPort, Vec<Event<'static>>) {
    let mut port = RealPort::open(dir, DeviceProfile::generic(1)).unwrap();
    let mut rt: Rt<'_> = Runtime::new(config, Lwm2mSession::new(XorShiftRng::new(0x1234)));
    rt.on_modem_init(Ok(ModemInitResult::Success));
    port.request_link(LinkRequest::Up).unwrap();
    let mut events = Vec::new();
    let end = deadline(&port, 20);
    while !events.contains(&Event::Registered) {
        assert!(port.now() < end, "not registered in time; events so far: {events:?}");
        poll_once(&mut rt, &mut port, &mut events);
    }
    (rt, port, events)
}

#[test]
fn reboot_registers_from_stored_state_without_bootstrap() {
    let (server, uri) = server();
    let dir = TestDir::new("e2e-loopback-reboot");

    let (_, _, first) = boot_until_registered(dir.path(), generic(&uri).build());
    assert_eq!(
        first,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    // Power cycle: a new port and runtime on the same storage.
    let (_, _, second) = boot_until_registered(dir.path(), generic(&uri).build());
    assert_eq!(second, [Event::Registered], "no bootstrap after a reboot");

    // One Bootstrap-Request in all, two Registers (the second with the
    // stored lifetime, checked by the registration table).
    assert_eq!(count_bootstraps_and_registers(&server), (1, 2));
    assert_eq!(server.registrations().first().map(|r| r.lifetime_s), Some(600));
    server.stop();
}

#[test]
fn changed_server_options_factory_reset_and_bootstrap_again() {
    let (server, uri) = server();
    let dir = TestDir::new("e2e-loopback-factory-reset");
    let (_, _, first) = boot_until_registered(dir.path(), generic(&uri).build());
    assert_eq!(
        first,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    // Another security tag: a server option changed since the last boot
    // (carriers.md §11), so the stored account is gone and bootstrap runs again.
    let (_, _, second) = boot_until_registered(dir.path(), generic(&uri).server_sec_tag(8).build());
    assert_eq!(
        second,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered],
        "factory reset, then bootstrap"
    );
    assert_eq!(count_bootstraps_and_registers(&server), (2, 2));
    server.stop();
}

#[test]
fn first_boot_bootstraps_over_dtls_psk_and_registers() {
    const IDENTITY: &[u8] = b"urn:imei:350000000000001";
    const KEY: &[u8] = b"bootstrap-secret";
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    // The DM server (plain CoAP) and the Bootstrap-Server (DTLS-PSK) that
    // provisions it.
    let dm_transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let dm_uri = format!("coap://{}", dm_transport.local_addr().unwrap());
    let dm = lwm2m_server::spawn(dm_transport, ServerConfig::default()).unwrap();
    let keys = |identity: &[u8]| (identity == IDENTITY).then(|| dtls_psk::Psk::new(KEY).unwrap());
    let bs_transport = DtlsTransport::bind("127.0.0.1:0".parse().unwrap(), keys).unwrap();
    let bs_uri = format!("coaps://{}", bs_transport.local_addr().unwrap());
    let plan = BootstrapPlan::single(&dm_uri, 600);
    let bs = lwm2m_server::spawn(
        bs_transport,
        ServerConfig { default_plan: Some(plan), ..Default::default() },
    )
    .unwrap();

    // The bootstrap PSK in the modem's security tag 7.
    let dir = TestDir::new("e2e-dtls-first-boot");
    let keys_toml = format!(
        "[[tag]]\nsec_tag = 7\nidentity_hex = \"{}\"\npsk_hex = \"{}\"\n",
        hex(IDENTITY),
        hex(KEY)
    );
    std::fs::write(dir.path().join("keys.toml"), keys_toml).unwrap();
    let (mut rt, mut port, mut events) =
        boot_until_registered(dir.path(), generic(&bs_uri).server_sec_tag(7).build());
    assert_eq!(
        events,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    assert_eq!(count_bootstraps_and_registers(&bs), (1, 0), "bootstrap over DTLS");
    assert_eq!(
        count_bootstraps_and_registers(&dm),
        (0, 1),
        "registration at the provisioned server"
    );
    // Both servers run the same seed, so the DM server's message IDs repeat
    // the ones the Bootstrap-Server used: the device must answer them afresh,
    // not replay its bootstrap responses (RFC 7252 §4.5: dedup is per peer).
    let endpoint = dm.registrations()[0].endpoint.clone();
    let path = Path::resource(3, 0, 17).unwrap();
    let reads = while_device_runs(&mut rt, &mut port, &mut events, || {
        (0..12)
            .map(|_| {
                let format = Some(ContentFormat::TextPlain);
                let timeout = std::time::Duration::from_secs(10);
                dm.request(&endpoint, Request::Read { path, format }, timeout).unwrap()
            })
            .collect::<Vec<_>>()
    });
    for read in reads {
        assert_eq!((read.code, read.payload.as_slice()), (Code::Content, &b"Module"[..]));
    }
    bs.stop();
    dm.stop();
}

#[test]
fn one_lifetime_gives_exactly_one_update() {
    // Lifetime 10 s: the runtime sends the Update min(30 s, lifetime / 2)
    // before the end, at 5 s; the next one is due at 10 s. In the 8 s after
    // the registration the server must see exactly one Update (the client
    // endpoint must not schedule its own as well).
    let (server, uri) = server_with_lifetime(10);
    let dir = TestDir::new("e2e-one-update-per-lifetime");
    let (mut rt, mut port, mut events) = boot_until_registered(dir.path(), generic(&uri).build());
    while server.next_event(std::time::Duration::from_millis(100)).is_some() {}
    let updates = while_device_runs(&mut rt, &mut port, &mut events, || {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(8);
        let mut updates = 0;
        while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
            match server.next_event(left) {
                Some(lwm2m_server::ServerEvent::Updated { .. }) => updates += 1,
                Some(lwm2m_server::ServerEvent::Registered { .. }) => panic!("registered again"),
                _ => {}
            }
        }
        updates
    });
    assert_eq!(updates, 1, "Updates within one lifetime");
    server.stop();
}
