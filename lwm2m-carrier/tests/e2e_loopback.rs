//! End to end over real loopback UDP: the runtime with the LwM2M session
//! (`Lwm2mSession` over `lwm2m_core::client::Client` and the object model)
//! on the desktop port (`carrier_os_std::real::RealPort`, simulated modem
//! and SIM, real sockets) against `lwm2m_server` acting as Bootstrap-Server
//! and DM server (OMA-TS-LightweightM2M_Core 1.1 §6.1–§6.3; event order of
//! `carrier-api.md` §2 and app-integration "Bootstrap").
//!
//! The first three scenarios of issue 10 (first boot → bootstrapped →
//! registered; reboot → no bootstrap; changed server options → factory
//! reset → bootstrap again) run with DTLS 1.2 PSK to BOTH servers: the
//! bootstrap PSK is the application's (security tag 7), the DM PSK is the
//! one the Bootstrap-Server writes (Security resources 3 and 5), which the
//! runtime stores in its own tag with the link down. The Read, FOTA push
//! and Update-count tests run over plain CoAP.
//!
//! Time is the port's clock; every wait is bounded by a deadline on it and
//! nothing asserts on elapsed time.

#![allow(clippy::std_instead_of_core)]
mod loopback;
mod simcard;

use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::testdir::TestDir;
use loopback::*;
use lwm2m_carrier::Event;
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder};
use lwm2m_carrier::runtime::DM_SEC_TAG;
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::formats::Decoder;
use lwm2m_core::path::Path;
use lwm2m_objects::ObjectStore;
use lwm2m_server::{BootstrapPlan, Request};

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
    // Queue mode is on by default (`disable_queue_mode` = false,
    // carrier-api.md §1): the server is told the device may sleep.
    assert!(regs[0].queue_mode, "{:?}", regs[0]);
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
    udp_server(|uri| Some(BootstrapPlan::single(uri, lifetime_s)))
}

const BS_IDENTITY: &[u8] = b"urn:imei:350000000000001";
const BS_KEY: &[u8] = b"bootstrap-secret";
const DM_IDENTITY: &[u8] = b"350000000000001";
/// 16 bytes: the longest key tinydtls (`dtls-psk`) takes.
const DM_KEY: &[u8] = b"dm-secret-012345";

/// The DTLS pair: a DM server that only knows the DM PSK, and a
/// Bootstrap-Server that only knows the bootstrap PSK and provisions the
/// DM account `coaps://…` with the DM PSK: (bootstrap, DM, bootstrap URI).
fn dtls_servers() -> (lwm2m_server::ServerHandle, lwm2m_server::ServerHandle, String) {
    dtls_servers_with_lifetime(600)
}

/// [`dtls_servers`] provisioning `lifetime_s`.
fn dtls_servers_with_lifetime(
    lifetime_s: u32,
) -> (lwm2m_server::ServerHandle, lwm2m_server::ServerHandle, String) {
    let (dm, dm_uri) = dtls_server(DM_IDENTITY, DM_KEY, None);
    let plan = BootstrapPlan::single_psk(&dm_uri, lifetime_s, DM_IDENTITY, DM_KEY);
    let (bs, bs_uri) = dtls_server(BS_IDENTITY, BS_KEY, Some(plan));
    (bs, dm, bs_uri)
}

#[test]
fn first_boot_bootstraps_and_registers_over_dtls_to_both_servers() {
    let (bs, dm, bs_uri) = dtls_servers();
    let dir = TestDir::new("e2e-dtls-first-boot");
    provision_bootstrap_key(dir.path(), &[7], BS_IDENTITY, BS_KEY);
    let (mut rt, mut port, mut events) =
        boot_until_registered(dir.path(), generic(&bs_uri).server_sec_tag(7).build());
    // carrier-api.md §2: the DM PSK is written with the link down
    // (LTE_LINK_DOWN … BOOTSTRAPPED, LTE_LINK_UP), then REGISTERED.
    assert_eq!(
        events,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    assert_eq!(count_bootstraps_and_registers(&bs), (1, 0), "bootstrap over DTLS");
    assert_eq!(count_bootstraps_and_registers(&dm), (0, 1), "registration over DTLS");
    // The DM key is in the runtime's security tag, with the identity the
    // Bootstrap-Server wrote.
    let keys = std::fs::read_to_string(dir.path().join("keys.toml")).unwrap();
    assert!(keys.contains(&format!("sec_tag = {}", DM_SEC_TAG.0)), "{keys}");
    assert!(keys.contains(&hex(DM_KEY)), "the provisioned DM PSK: {keys}");
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
fn reboot_registers_over_dtls_from_stored_state_without_bootstrap() {
    let (bs, dm, bs_uri) = dtls_servers();
    let dir = TestDir::new("e2e-dtls-reboot");
    provision_bootstrap_key(dir.path(), &[7], BS_IDENTITY, BS_KEY);
    let config = || generic(&bs_uri).server_sec_tag(7).build();
    let (_, _, first) = boot_until_registered(dir.path(), config());
    assert_eq!(
        first,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    // Power cycle: a new port and runtime on the same storage and key store.
    let (_, _, second) = boot_until_registered(dir.path(), config());
    assert_eq!(second, [Event::Registered], "no bootstrap after a reboot");
    assert_eq!(count_bootstraps_and_registers(&bs), (1, 0));
    // Two DTLS registrations with the stored account, the second with the
    // stored lifetime.
    assert_eq!(count_bootstraps_and_registers(&dm), (0, 2));
    assert_eq!(dm.registrations().first().map(|r| r.lifetime_s), Some(600));
    bs.stop();
    dm.stop();
}

#[test]
fn changed_server_options_factory_reset_and_bootstrap_again_over_dtls() {
    let (bs, dm, bs_uri) = dtls_servers();
    let dir = TestDir::new("e2e-dtls-factory-reset");
    provision_bootstrap_key(dir.path(), &[7, 8], BS_IDENTITY, BS_KEY);
    let (_, _, first) =
        boot_until_registered(dir.path(), generic(&bs_uri).server_sec_tag(7).build());
    assert_eq!(
        first,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    // Another security tag: a server option changed since the last boot
    // (carriers.md §11), so the stored account and DM key are gone and
    // bootstrap runs again.
    let (_, _, second) =
        boot_until_registered(dir.path(), generic(&bs_uri).server_sec_tag(8).build());
    assert_eq!(
        second,
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered],
        "factory reset, then bootstrap"
    );
    assert_eq!(count_bootstraps_and_registers(&bs), (2, 0));
    assert_eq!(count_bootstraps_and_registers(&dm), (0, 2));
    bs.stop();
    dm.stop();
}

/// Server events for `secs` seconds while the device runs: (Updates, Registers).
fn updates_and_registers_for(
    secs: u64,
    server: &lwm2m_server::ServerHandle,
    rt: &mut Rt<'_>,
    port: &mut carrier_os_std::real::RealPort,
    events: &mut Vec<Event<'static>>,
) -> (usize, usize) {
    while server.next_event(std::time::Duration::from_millis(100)).is_some() {}
    while_device_runs(rt, port, events, || {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let (mut updates, mut registers) = (0, 0);
        while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
            match server.next_event(left) {
                Some(lwm2m_server::ServerEvent::Updated { .. }) => updates += 1,
                Some(lwm2m_server::ServerEvent::Registered { .. }) => registers += 1,
                _ => {}
            }
        }
        (updates, registers)
    })
}

#[test]
fn after_the_idle_timeout_the_update_reopens_the_dtls_session_and_does_not_register_again() {
    // Idle timeout 2 s closes the DM session; the Update due at 5 s
    // (lifetime 10 s) re-handshakes and is sent as an Update, not a new
    // Register (carrier-api.md §1 session_idle_timeout).
    let (bs, dm, bs_uri) = dtls_servers_with_lifetime(10);
    let dir = TestDir::new("e2e-dtls-idle-update");
    provision_bootstrap_key(dir.path(), &[7], BS_IDENTITY, BS_KEY);
    let config = generic(&bs_uri).server_sec_tag(7).session_idle_timeout_s(2).build();
    let (mut rt, mut port, mut events) = boot_until_registered(dir.path(), config);
    let counts = updates_and_registers_for(8, &dm, &mut rt, &mut port, &mut events);
    assert_eq!(counts, (1, 0), "(Updates, Registers) within one lifetime");
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
    let counts = updates_and_registers_for(8, &server, &mut rt, &mut port, &mut events);
    assert_eq!(counts, (1, 0), "(Updates, Registers) within one lifetime");
    server.stop();
}

#[test]
fn smartcard_bootstrap_server_with_its_psk_wins_over_the_custom_uri_over_dtls() {
    // The SIM holds a Bootstrap-Server account (DTLS-PSK) for the real
    // Bootstrap-Server; the configuration's custom URI points nowhere.
    let (bs, dm, bs_uri) = dtls_servers();
    let account = simcard::SimAccount {
        uri: &bs_uri,
        bootstrap: true,
        ssid: 0,
        lifetime_s: 0,
        psk: Some((BS_IDENTITY, BS_KEY)),
    };
    let mut profile = DeviceProfile::generic(1);
    profile.sim_files = simcard::files(&account)
        .into_iter()
        .map(|(path, data)| carrier_os_std::profile::SimFileProfile {
            path,
            records: vec![],
            binary: Some(hex(&data)),
        })
        .collect();
    let dir = TestDir::new("e2e-smartcard");
    let config = generic("coap://127.0.0.1:9").build();
    let (_, _, events) = boot_device_until(dir.path(), profile, config, 20, |_, events| {
        events.contains(&Event::Registered)
    });
    assert_eq!(
        events,
        [
            Event::LteLinkDown,
            Event::LteLinkUp,
            Event::LteLinkDown,
            Event::Bootstrapped,
            Event::LteLinkUp,
            Event::Registered
        ],
        "the SIM's bootstrap key, then the DM key, each with the link down"
    );
    assert_eq!(count_bootstraps_and_registers(&bs), (1, 0));
    assert_eq!(count_bootstraps_and_registers(&dm), (0, 1));
    bs.stop();
    dm.stop();
}

#[test]
fn a_server_observing_binary_app_data_gives_app_data_observe_start_and_stop() {
    use lwm2m_carrier::AppDataKind;
    use lwm2m_core::value::Value;
    // The Bootstrap-Server also writes Binary App Data Container instance 0
    // with one data entry (a Bootstrap-Write of /19/0).
    let instance = Path::instance(19, 0).unwrap();
    let record = (Path::resource_instance(19, 0, 0, 0).unwrap(), Value::Opaque(b"x"));
    let payload = lwm2m_server::encode_tlv_records(&instance, &[record]);
    let (server, uri) = udp_server(|uri| {
        let mut plan = BootstrapPlan::single(uri, 600);
        plan.extra.push((instance, ContentFormat::Lwm2mTlv, payload));
        Some(plan)
    });
    let dir = TestDir::new("e2e-app-data-observe");
    let (mut rt, mut port, mut events) = boot_until_registered(dir.path(), generic(&uri).build());
    let endpoint = server.registrations()[0].endpoint.clone();
    let data = Path::resource(19, 0, 0).unwrap();
    let timeout = std::time::Duration::from_secs(10);
    let (observed, cancelled) = while_device_runs(&mut rt, &mut port, &mut events, || {
        let format = Some(ContentFormat::Lwm2mTlv);
        let observed = server.request(&endpoint, Request::Observe { path: data, format }, timeout);
        let cancelled = server.request(&endpoint, Request::CancelObserve { path: data }, timeout);
        (observed, cancelled)
    });
    assert_eq!(observed.unwrap().code, Code::Content);
    assert!(cancelled.is_ok(), "{cancelled:?}");
    // The server forgot the observation; the next notification (after the
    // application changes the data) is answered with RST, which ends it at
    // the client (RFC 7641 §3.6).
    rt.api().set_app_data(&[19, 0, 0, 0], Some(b"y")).unwrap();
    let stopped = |events: &[Event<'static>]| {
        events.iter().any(|e| matches!(e, Event::AppData { kind: AppDataKind::ObserveStop, .. }))
    };
    let mut waited = Vec::new();
    while_device_runs(&mut rt, &mut port, &mut waited, || {
        // Bounded: the notification and its RST take milliseconds on loopback.
        let end = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while let Some(left) = end.checked_duration_since(std::time::Instant::now()) {
            let _ = server.next_event(left);
        }
    });
    events.extend(waited);
    assert!(stopped(&events), "{events:?}");
    let app_data: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::AppData { kind: AppDataKind::ObserveStart | AppDataKind::ObserveStop, .. }
            )
        })
        .copied()
        .collect();
    // carrier-api.md §2 APP_DATA: OBSERVE_START (1), then OBSERVE_STOP (2).
    assert_eq!(
        app_data,
        [
            Event::AppData { path: data, kind: AppDataKind::ObserveStart, data: &[] },
            Event::AppData { path: data, kind: AppDataKind::ObserveStop, data: &[] },
        ]
    );
    server.stop();
}

#[test]
fn with_queue_mode_disabled_the_device_registers_without_queue_mode() {
    let (server, uri) = server();
    let dir = TestDir::new("e2e-no-queue-mode");
    let _ = boot_until_registered(dir.path(), generic(&uri).queue_mode(false).build());
    let regs = server.registrations();
    assert_eq!((regs[0].binding.as_str(), regs[0].queue_mode), ("U", false), "{:?}", regs[0]);
    server.stop();
}
