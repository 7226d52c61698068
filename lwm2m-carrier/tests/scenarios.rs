//! End-to-end scenarios of the runtime over an in-test port with a virtual
//! clock (no sleeps): first boot, reboot, factory reset on changed server
//! options, and each deferred reason from its own injected fault with the
//! timeout of the operator's schedule (carriers.md §10–§12).

mod simcard;
mod support;

use carrier_os::transport::TransportError;
use lwm2m_carrier::api::{ModemInitResult, Request};
use lwm2m_carrier::config::{Carrier, CarrierSet, ConfigBuilder};
use lwm2m_carrier::runtime::DM_SEC_TAG;
use lwm2m_carrier::session::SessionOutcome;
use lwm2m_carrier::{Config, DeferredReason, Errno, ErrorKind, Event, Phase, Runtime};
use lwm2m_core::time::Duration;
use support::*;

fn boot<'c>(config: Config<'c>, session: ScriptedSession) -> Runtime<'c, ScriptedSession> {
    let mut rt = Runtime::new(config, session);
    rt.on_modem_init(Ok(ModemInitResult::Success));
    rt
}

/// A Verizon SIM with its MSISDN, run for a minute: bootstrapped and registered.
fn verizon_registered() -> (TestPort, Runtime<'static, ScriptedSession>) {
    let mut port = TestPort::new(VERIZON_IMSI);
    port.msisdn = Some("15551234567".into());
    let config = ConfigBuilder::new().carriers(CarrierSet::VERIZON).build();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 60_000);
    (port, rt)
}

/// Generic mode, first boot, run until `until_ms`.
fn generic_run(until_ms: u64) -> (TestPort, Runtime<'static, ScriptedSession>, App) {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, until_ms);
    (port, rt, app)
}

fn deferred(reason: DeferredReason, secs: u64) -> Event<'static> {
    Event::Deferred { reason, timeout: Duration::from_secs(secs) }
}

#[test]
fn first_boot_generic_bootstraps_then_registers_with_events_in_order() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(
        app.list(),
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    assert_eq!(rt.session_mut().calls, ["bootstrap", "register"]);
    assert_eq!(rt.phase(), Phase::Registered);
    // The DM server's PSK went into the runtime's tag, written with the link down.
    assert_eq!(port.psks.get(&DM_SEC_TAG.0).map(Vec::as_slice), Some(&b"dm-secret"[..]));
    assert_eq!(port.opens_of("bs.example").len(), 1);
    assert_eq!(port.opens_of("dm.example").len(), 1);
    assert_eq!(rt.api().carrier(), Some(Carrier::Generic));
}

#[test]
fn reboot_registers_from_stored_state_without_bootstrap() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    drop(rt);

    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 120_000);
    assert_eq!(app.list(), [Event::Registered]);
    assert_eq!(rt.session_mut().calls, ["register"]);
}

#[test]
fn changed_server_options_factory_reset_and_bootstrap_again() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 60_000);
    drop(rt);

    // Another security tag: a server option changed since the last boot.
    let changed = ConfigBuilder::from_config(generic_config()).server_sec_tag(8).build();
    let mut app = App::default();
    let mut rt = boot(changed, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 120_000);
    assert_eq!(
        app.list(),
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    assert_eq!(rt.session_mut().calls, ["bootstrap", "register"]);

    // And the boot after that is an ordinary reboot again.
    drop(rt);
    let mut app = App::default();
    let mut rt = boot(changed, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 180_000);
    assert_eq!(rt.session_mut().calls, ["register"]);
}

#[test]
fn pdn_activation_failure_defers_with_the_pdn_schedule() {
    // carriers.md §10: PDN activation 2 s, 1 min, 30 min (last repeats).
    let mut port = TestPort::new(GENERIC_IMSI);
    port.pdn_rejects = 3;
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 3_600_000);
    let list = app.list();
    assert_eq!(
        list[..3],
        [
            deferred(DeferredReason::PdnActivate, 2),
            deferred(DeferredReason::PdnActivate, 60),
            deferred(DeferredReason::PdnActivate, 1800),
        ]
    );
    assert_eq!(list.last(), Some(&Event::Registered));
    // The attempts happened at 0, 2 s, 62 s and 1862 s.
    let times: Vec<u64> = app.events.iter().take(3).map(|(t, _)| *t).collect();
    assert_eq!(times, [0, 2_000, 62_000]);
    assert_eq!(app.events.iter().find(|(_, e)| *e == Event::LteLinkDown).unwrap().0, 1_862_000);
}

#[test]
fn a_custom_apn_falls_back_to_the_default_before_deferring() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.pdn_rejects = 1;
    let config = ConfigBuilder::from_config(generic_config())
        .apn("iot.custom", lwm2m_carrier::config::PdnType::Ipv4)
        .build();
    let mut app = App::default();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(port.pdn_requests[..2], [Some("iot.custom".to_owned()), None]);
    assert!(!app.list().iter().any(|e| matches!(e, Event::Deferred { .. })), "{:?}", app.list());
    assert_eq!(app.list().last(), Some(&Event::Registered));
}

#[test]
fn missing_msisdn_defers_with_sim_msisdn_on_verizon() {
    let mut port = TestPort::new(VERIZON_IMSI);
    port.msisdn = None;
    let config = ConfigBuilder::new().carriers(CarrierSet::VERIZON).build();
    let mut app = App::default();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 1_000);
    assert_eq!(app.list(), [deferred(DeferredReason::SimMsisdn, 2)]);
    // The MSISDN arrives: the next attempt goes on.
    port.msisdn = Some("15551234567".into());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(
        app.list()[1..],
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    assert_eq!(port.opens_of("boot.lwm2m.vzwdm.com").len(), 1);
}

#[test]
fn bootstrap_handshake_failure_defers_with_bootstrap_connect() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.fault("bs.example", TransportError::HandshakeFailed, 1);
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 600_000);
    // carriers.md §10 (default = Verizon's): 2, 4, 6, 8 min.
    assert_eq!(app.list()[0], deferred(DeferredReason::BootstrapConnect, 120));
    assert_eq!(
        port.opens_of("bs.example").iter().map(|t| t.as_millis()).collect::<Vec<_>>(),
        [0, 120_000]
    );
    assert_eq!(app.list().last(), Some(&Event::Registered));
}

#[test]
fn no_route_defers_with_bootstrap_then_server_no_route() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.fault("bs.example", TransportError::NoRoute, 1);
    port.fault("dm.example", TransportError::NoRoute, 2);
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 3_600_000);
    let deferrals: Vec<Event<'static>> =
        app.list().into_iter().filter(|e| matches!(e, Event::Deferred { .. })).collect();
    assert_eq!(
        deferrals,
        [
            deferred(DeferredReason::BootstrapNoRoute, 120),
            deferred(DeferredReason::ServerNoRoute, 120),
            deferred(DeferredReason::ServerNoRoute, 240),
        ]
    );
    assert_eq!(app.list().last(), Some(&Event::Registered));
}

#[test]
fn incomplete_bootstrap_defers_with_bootstrap_sequence() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut session = ScriptedSession::default();
    session.bootstrap.push_back(SessionOutcome::BootstrapIncomplete);
    let mut app = App::default();
    let mut rt = boot(generic_config(), session);
    run(&mut rt, &mut port, &mut app, 600_000);
    assert_eq!(app.list()[0], deferred(DeferredReason::BootstrapSequence, 120));
    assert_eq!(app.list().last(), Some(&Event::Registered));
}

#[test]
fn registration_rejected_4_03_and_5_03_defer_with_their_reasons() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut session = ScriptedSession::default();
    session.register.push_back(SessionOutcome::RegistrationRejected { code: (4 << 5) | 3 });
    session.register.push_back(SessionOutcome::RegistrationRejected { code: (5 << 5) | 3 });
    let mut app = App::default();
    let mut rt = boot(generic_config(), session);
    run(&mut rt, &mut port, &mut app, 3_600_000);
    let deferrals: Vec<Event<'static>> =
        app.list().into_iter().filter(|e| matches!(e, Event::Deferred { .. })).collect();
    assert_eq!(
        deferrals,
        [
            deferred(DeferredReason::ServerRegistration, 120),
            deferred(DeferredReason::ServiceUnavailable, 240),
        ]
    );
    let calls: Vec<&str> =
        rt.session_mut().calls.iter().copied().filter(|c| *c != "update").collect();
    assert_eq!(calls, ["bootstrap", "register", "register", "register"]);
    assert_eq!(app.list().last(), Some(&Event::Registered));
}

#[test]
fn bootstrap_retry_limit_reached_is_error_bootstrap_etimedout_until_reboot() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.fault("bs.example", TransportError::HandshakeTimedOut, 10);
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 86_400_000);
    assert_eq!(
        app.list(),
        [
            deferred(DeferredReason::BootstrapConnect, 120),
            deferred(DeferredReason::BootstrapConnect, 240),
            deferred(DeferredReason::BootstrapConnect, 360),
            deferred(DeferredReason::BootstrapConnect, 480),
            Event::Error { kind: ErrorKind::Bootstrap, value: Errno::TimedOut },
        ]
    );
    assert_eq!(rt.phase(), Phase::Stopped);
    assert_eq!(port.opens_of("bs.example").len(), 5, "no attempt after the limit");
}

#[test]
fn key_provisioning_with_the_link_up_is_error_bootstrap_eacces_retried_after_24_h() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut app = App { ignore_link_down: true, ..App::default() };
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 3_600_000);
    assert_eq!(
        app.list(),
        [Event::LteLinkDown, Event::Error { kind: ErrorKind::Bootstrap, value: Errno::Acces }]
    );
    let failed_at = app.events[1].0;
    // The application behaves from now on; the retry comes 24 h later.
    app.ignore_link_down = false;
    run(&mut rt, &mut port, &mut app, failed_at + 86_400_000 - 1);
    assert_eq!(app.list().len(), 2, "nothing before 24 h");
    run(&mut rt, &mut port, &mut app, failed_at + 86_400_000 + 60_000);
    assert_eq!(
        app.list()[2..],
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
}

#[test]
fn session_idle_timeout_closes_the_dtls_session_but_not_with_connection_id() {
    for (cid, closes) in [(false, true), (true, false)] {
        let mut port = TestPort::new(GENERIC_IMSI);
        port.connection_id = cid;
        let mut rt = boot(generic_config(), ScriptedSession::default());
        run(&mut rt, &mut port, &mut App::default(), 10_000);
        let closed_before = port.closed.len();
        run(&mut rt, &mut port, &mut App::default(), 59_000);
        assert_eq!(port.closed.len(), closed_before, "nothing closes before 60 s idle");
        run(&mut rt, &mut port, &mut App::default(), 120_000);
        assert_eq!(port.closed.len() > closed_before, closes, "cid={cid}");
    }
}

#[test]
fn registration_update_reopens_the_session_before_the_lifetime_ends() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 700_000);
    // Lifetime 600 s (from bootstrap): Update 30 s before, after the idle close.
    assert_eq!(rt.session_mut().calls, ["bootstrap", "register", "update"]);
    assert_eq!(
        port.opens_of("dm.example").iter().map(|t| t.as_millis()).collect::<Vec<_>>(),
        [0, 570_000]
    );
}

#[test]
fn invalid_configuration_is_error_configuration_and_the_library_does_not_run() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let config = ConfigBuilder::new().carriers(CarrierSet::GENERIC).server_uri("http://x").build();
    let mut app = App::default();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(app.list(), [Event::Error { kind: ErrorKind::Configuration, value: Errno::Inval }]);
    assert_eq!(rt.phase(), Phase::Stopped);
    assert!(port.opened.is_empty());
}

#[test]
fn nothing_starts_before_modem_init_or_before_auto_startup() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut app = App::default();
    let mut rt = Runtime::with_custom_init(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(rt.phase(), Phase::WaitAutoStartup);
    rt.set_auto_startup();
    run(&mut rt, &mut port, &mut app, 120_000);
    assert_eq!(rt.phase(), Phase::WaitModemInit, "without on_modem_init the service never starts");
    rt.on_modem_init(Ok(ModemInitResult::Success));
    run(&mut rt, &mut port, &mut app, 180_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
}

#[test]
fn the_library_waits_for_the_application_to_bring_the_link_up() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.link = None;
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 30_000);
    assert!(app.events.is_empty() && port.opened.is_empty());
    port.link = Some(false);
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
}

#[test]
fn register_and_deregister_requests_follow_the_spec() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let config = ConfigBuilder::from_config(generic_config()).auto_register(false).build();
    let mut app = App::default();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(rt.phase(), Phase::WaitRegisterRequest);
    assert_eq!(rt.session_mut().calls, ["bootstrap"]);
    let now = carrier_os::time::Instant::from_millis(60_000);
    assert_eq!(rt.request(now, Request::Deregister), Err(Errno::BadR), "nothing to de-register");
    assert_eq!(rt.request(now, Request::Register), Ok(()));
    assert_eq!(rt.request(now, Request::Register), Err(Errno::Already));
    run(&mut rt, &mut port, &mut app, 70_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
    assert_eq!(rt.request(now, Request::Deregister), Ok(()));
    run(&mut rt, &mut port, &mut app, 80_000);
    assert_eq!(app.list().last(), Some(&Event::Deregistered));
    assert_eq!(rt.request(now, Request::Deregister), Err(Errno::BadR));
}

#[test]
fn register_request_is_refused_outside_generic_and_softbank() {
    let (_port, mut rt) = verizon_registered();
    let now = carrier_os::time::Instant::from_millis(60_000);
    assert_eq!(rt.request(now, Request::Register), Err(Errno::Perm));
    assert_eq!(rt.request(now, Request::Deregister), Err(Errno::Perm));
    assert_eq!(rt.request(now, Request::LinkUp), Ok(()));
    assert_eq!(rt.poll_event(), Some(Event::LteLinkUp));
}

#[test]
fn modem_init_with_a_recorded_dfu_result_ends_the_modem_fota() {
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Updated));
    assert_eq!(rt.poll_event(), Some(Event::FotaSuccess));
    assert_eq!(rt.poll_event(), Some(Event::LteLinkUp));
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::UpdateFailed));
    assert_eq!(
        rt.poll_event(),
        Some(Event::Error { kind: ErrorKind::FotaFail, value: Errno::BadF })
    );
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    rt.on_modem_init(Err(Errno::Io));
    assert_eq!(rt.poll_event(), Some(Event::Error { kind: ErrorKind::Init, value: Errno::Io }));
    assert_eq!(rt.phase(), Phase::Stopped);
}

#[test]
fn data_send_checks_the_path_and_the_registration() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut rt = boot(generic_config(), ScriptedSession::default());
    let now = carrier_os::time::Instant::from_millis(0);
    assert_eq!(rt.data_send(now, &[19, 0, 0, 0]), Err(Errno::BadR), "not registered");
    run(&mut rt, &mut port, &mut App::default(), 10_000);
    let cases: [(&[u16], Result<(), Errno>); 6] = [
        (&[19, 0], Err(Errno::Inval)),
        (&[3, 0, 9], Err(Errno::Inval)), // Battery Level: Integer, not Opaque
        (&[3, 0, 4], Err(Errno::Perm)),  // Reboot: executable, not readable
        (&[3, 0, 999], Err(Errno::NoEnt)),
        (&[19, 0, 0, 0], Ok(())), // Binary App Data: Opaque
        (&[19, 0, 0, 1], Err(Errno::InProgress)),
    ];
    for (path, want) in cases {
        assert_eq!(rt.data_send(now, path), want, "{path:?}");
    }
    assert_eq!(
        rt.session_mut().sent,
        [lwm2m_core::path::Path::resource_instance(19, 0, 0, 0).unwrap()]
    );
}

#[test]
fn verizon_waits_the_bootstrap_client_hold_off() {
    let (port, _rt) = verizon_registered();
    // carriers.md §12.1 step 8: "honour its client hold-off, 10 s on Verizon".
    assert_eq!(
        port.opens_of("boot.lwm2m.vzwdm.com"),
        [carrier_os::time::Instant::from_millis(10_000)]
    );
}

fn server_executes(rt: &mut Runtime<'_, ScriptedSession>, path: lwm2m_core::path::Path) {
    use lwm2m_objects::objects::ServerInstance;
    use lwm2m_objects::{Caller, Operation, StaticDeviceInfo};
    let store = rt.api().objects_mut().unwrap();
    if store.server().instances().is_empty() {
        store.server_mut().put(ServerInstance::new(0, 101)).unwrap();
    }
    let access = store.authorize(Caller::Server(101), Operation::Execute, path).unwrap();
    store.execute(&access, &mut StaticDeviceInfo::default(), &[]).unwrap();
}

#[test]
fn server_executed_reboot_and_reset_error_code_become_events() {
    let (mut port, mut rt, mut app) = generic_run(10_000);
    let before = app.events.len();
    server_executes(&mut rt, lwm2m_core::path::Path::resource(3, 0, 4).unwrap());
    server_executes(&mut rt, lwm2m_core::path::Path::resource(3, 0, 12).unwrap());
    // The reset is at once; REBOOT waits REBOOT_GRACE (3 s) so that the
    // answer to the Execute, or to its retransmission, leaves first.
    run(&mut rt, &mut port, &mut app, 12_900);
    assert_eq!(app.list()[before..], [Event::ErrorCodeReset]);
    run(&mut rt, &mut port, &mut app, 13_100);
    assert_eq!(app.list()[before..], [Event::ErrorCodeReset, Event::LtePowerOff, Event::Reboot]);
}

#[test]
fn server_executed_factory_reset_bootstraps_and_registers_again() {
    let (mut port, mut rt, mut app) = generic_run(10_000);
    let before = app.events.len();
    server_executes(&mut rt, lwm2m_core::path::Path::resource(3, 0, 5).unwrap());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(
        app.list()[before..],
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    assert_eq!(rt.session_mut().calls, ["bootstrap", "register", "bootstrap", "register"]);
}

#[test]
fn lg_uplus_bootstraps_at_every_start() {
    let config = ConfigBuilder::new()
        .carriers(CarrierSet::LG_UPLUS)
        // LG U+'s factory server is not public: the single-carrier server options apply.
        .server_uri("coaps://lgu-bs.example:5684")
        .server_sec_tag(7)
        .lg_uplus(lwm2m_carrier::config::LgUplusOptions {
            service_code: "ABCDE",
            ..Default::default()
        })
        .build();
    let mut port = TestPort::new("450060000000001");
    for boot_no in 0..2 {
        let mut app = App::default();
        let mut rt = boot(config, ScriptedSession::default());
        run(&mut rt, &mut port, &mut app, 60_000 * (boot_no + 1));
        assert_eq!(
            rt.session_mut().calls,
            ["bootstrap", "register"],
            "boot {boot_no}: {:?}",
            app.list()
        );
        port.now_ms.set(0);
    }
}

#[test]
fn registration_carries_lifetime_queue_mode_and_con_interval() {
    use carrier_profiles::ConInterval;
    use lwm2m_carrier::session::RegisterParams;
    let mut port = TestPort::new(GENERIC_IMSI);
    let config = ConfigBuilder::from_config(generic_config())
        .coap_con_interval_s(-1)
        .queue_mode(false)
        .build();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 10_000);
    // Lifetime from the bootstrapped account (600 s), not the configuration.
    assert_eq!(
        rt.session_mut().params,
        [RegisterParams { lifetime_s: 600, queue_mode: false, con_interval: ConInterval::Always }]
    );
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 10_000);
    let p = rt.session_mut().params[0];
    assert_eq!((p.queue_mode, p.con_interval), (true, ConInterval::Every(86_400)));
}

#[test]
fn a_server_write_of_binary_app_data_is_an_app_data_event_with_the_bytes() {
    use lwm2m_core::path::Path;
    use lwm2m_core::value::Value;
    use lwm2m_objects::{Caller, Operation, StaticDeviceInfo, WriteMode};
    let (mut port, mut rt, mut app) = generic_run(10_000);
    server_executes(&mut rt, Path::resource(3, 0, 12).unwrap()); // creates the server account
    let target = Path::resource_instance(19, 0, 0, 2).unwrap();
    let store = rt.api().objects_mut().unwrap();
    let access =
        store.authorize(Caller::Server(101), Operation::Write(WriteMode::Replace), target).unwrap();
    store
        .write(&access, &mut StaticDeviceInfo::default(), &[(target, Value::Opaque(b"downlink"))])
        .unwrap();
    run(&mut rt, &mut port, &mut app, 11_000);
    let last = app.list().last().copied();
    assert_eq!(
        last,
        Some(Event::AppData {
            path: target,
            kind: lwm2m_carrier::AppDataKind::DataWrite,
            data: &[]
        })
    );
    assert_eq!(app.app_data, [b"downlink".to_vec()]);
}

#[test]
fn a_lost_link_before_registration_keeps_the_application_values() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.pdn_rejects = 1;
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 1_000);
    assert_eq!(app.list(), [deferred(DeferredReason::PdnActivate, 2)]);
    rt.api().set_power_sources(&[1]).unwrap();
    rt.api().set_battery_level(77).unwrap();
    port.link = None; // coverage lost while the retry is pending
    run(&mut rt, &mut port, &mut app, 5_000);
    port.link = Some(false);
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
    assert_eq!(rt.api().objects().unwrap().device().battery_level(), 77);
}

#[test]
fn softbank_waits_for_register_and_deregisters_on_link_down() {
    // SoftBank never auto-registers; LINK_DOWN de-registers (carrier-api.md §2).
    let config = ConfigBuilder::new()
        .carriers(CarrierSet::SOFTBANK)
        .server_uri("coaps://sb-dm.example:5684")
        .bootstrap_server(false)
        .server_sec_tag(7)
        .build();
    let mut port = TestPort::new("440200000000001");
    let mut app = App::default();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 10_000);
    assert_eq!(rt.phase(), Phase::WaitRegisterRequest, "{:?}", app.list());
    assert!(rt.session_mut().calls.is_empty());
    let now = carrier_os::time::Instant::from_millis(10_000);
    rt.request(now, Request::Register).unwrap();
    run(&mut rt, &mut port, &mut app, 20_000);
    assert_eq!(app.list(), [Event::Registered]);
    assert_eq!(port.opens_of("sb-dm.example").len(), 1);
    rt.request(now, Request::LinkDown).unwrap();
    run(&mut rt, &mut port, &mut app, 30_000);
    assert_eq!(app.list()[1..], [Event::LteLinkDown, Event::Deregistered]);
    assert_eq!(rt.session_mut().calls, ["register", "deregister"]);
}

#[test]
fn an_unreadable_iccid_is_error_bootstrap_efault_retried_at_the_next_connection() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.iccid_unreadable = true;
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    // app-integration.txt, ERROR BOOTSTRAP: -EFAULT, no retry on a timer.
    assert_eq!(app.list(), [Event::Error { kind: ErrorKind::Bootstrap, value: Errno::Fault }]);
    assert_eq!(rt.phase(), Phase::WaitReconnect);
    assert!(port.opened.is_empty(), "nothing connects without the ICCID");
    // The SIM answers again, but the runtime waits for the next connection.
    port.iccid_unreadable = false;
    run(&mut rt, &mut port, &mut app, 120_000);
    assert_eq!(app.list().len(), 1, "{:?}", app.list());
    port.link = None;
    run(&mut rt, &mut port, &mut app, 121_000);
    port.link = Some(false);
    run(&mut rt, &mut port, &mut app, 180_000);
    assert_eq!(
        app.list()[1..],
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
}

#[test]
fn an_msisdn_read_error_on_verizon_is_error_bootstrap_efault_not_a_deferral() {
    let mut port = TestPort::new(VERIZON_IMSI);
    port.msisdn_error = Some(carrier_os::modem::ModemError::Failure);
    let config = ConfigBuilder::new().carriers(CarrierSet::VERIZON).build();
    let mut app = App::default();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(app.list(), [Event::Error { kind: ErrorKind::Bootstrap, value: Errno::Fault }]);
    assert_eq!(rt.phase(), Phase::WaitReconnect);
}

#[test]
fn the_operator_id_decides_the_carrier_before_the_imsi() {
    // A test-network IMSI that no carrier claims, but %XOPERID says Verizon (1).
    let mut port = TestPort::new(GENERIC_IMSI);
    port.operator_id = Some(1);
    port.msisdn = Some("15551234567".into());
    let config = ConfigBuilder::new().carriers(CarrierSet::DEFAULT).build();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 60_000);
    assert_eq!(rt.api().carrier(), Some(Carrier::Verizon));
    assert_eq!(port.opens_of("boot.lwm2m.vzwdm.com").len(), 1, "Verizon's bootstrap server");
    // %XOPERID 0 (not identified): the IMSI decides (Verizon 311-480).
    let mut port = TestPort::new(VERIZON_IMSI);
    port.operator_id = Some(0);
    port.msisdn = Some("15551234567".into());
    let config = ConfigBuilder::new().carriers(CarrierSet::DEFAULT).build();
    let mut rt = boot(config, ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 60_000);
    assert_eq!(rt.api().carrier(), Some(Carrier::Verizon));
}

#[test]
fn a_server_observing_app_data_is_app_data_observe_start_then_stop() {
    use lwm2m_carrier::AppDataKind;
    use lwm2m_core::path::Path;
    let (mut port, mut rt, mut app) = generic_run(10_000);
    let path = Path::resource(19, 0, 0).unwrap();
    rt.session_mut().pending.push_back(SessionOutcome::AppDataObserved { path, started: true });
    rt.session_mut().pending.push_back(SessionOutcome::AppDataObserved { path, started: false });
    run(&mut rt, &mut port, &mut app, 11_000);
    let n = app.list().len();
    assert_eq!(
        app.list()[n - 2..],
        [
            Event::AppData { path, kind: AppDataKind::ObserveStart, data: &[] },
            Event::AppData { path, kind: AppDataKind::ObserveStop, data: &[] },
        ]
    );
}

/// A generic device whose SIM holds `account`, run for a minute.
fn smartcard_run(
    account: &simcard::SimAccount<'_>,
) -> (TestPort, Runtime<'static, ScriptedSession>, App) {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.sim_files = simcard::files(account).into_iter().collect();
    let mut app = App::default();
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut app, 60_000);
    (port, rt, app)
}

#[test]
fn smartcard_dm_account_wins_over_the_custom_server_and_skips_network_bootstrap() {
    let (port, mut rt, app) = smartcard_run(&simcard::SimAccount {
        uri: "coaps://sim-dm.example:5684",
        bootstrap: false,
        ssid: 123,
        lifetime_s: 900,
        psk: Some((b"sim-identity", b"sim-dm-key")),
    });
    // The SIM's account, its PSK written with the link down, then registration.
    assert_eq!(
        app.list(),
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    assert_eq!(rt.session_mut().calls, ["register"], "no network bootstrap");
    assert!(port.opens_of("bs.example").is_empty(), "the custom server is not used");
    assert_eq!(port.opens_of("sim-dm.example").len(), 1);
    assert_eq!(port.psks.get(&DM_SEC_TAG.0).map(Vec::as_slice), Some(&b"sim-dm-key"[..]));
}

#[test]
fn smartcard_bootstrap_server_replaces_the_custom_uri_and_its_key_goes_in_first() {
    use lwm2m_carrier::runtime::SMARTCARD_SEC_TAG;
    let (port, mut rt, app) = smartcard_run(&simcard::SimAccount {
        uri: "coaps://sim-bs.example:5684",
        bootstrap: true,
        ssid: 0,
        lifetime_s: 0,
        psk: Some((b"sim-identity", b"sim-bs-key")),
    });
    // carriers.md §12.1 first-boot trace: LINK_DOWN, LINK_UP, LINK_DOWN,
    // BOOTSTRAPPED, LINK_UP, REGISTERED.
    assert_eq!(
        app.list(),
        [
            Event::LteLinkDown,
            Event::LteLinkUp,
            Event::LteLinkDown,
            Event::Bootstrapped,
            Event::LteLinkUp,
            Event::Registered
        ]
    );
    assert_eq!(port.psks.get(&SMARTCARD_SEC_TAG.0).map(Vec::as_slice), Some(&b"sim-bs-key"[..]));
    assert_eq!(port.opens_of("sim-bs.example").len(), 1);
    assert!(port.opens_of("bs.example").is_empty());
    assert_eq!(rt.session_mut().calls, ["bootstrap", "register"]);
}

#[test]
fn without_smartcard_data_the_custom_server_is_used() {
    // The SIM has no PKCS#15 application (every read: 6A 82).
    let (port, mut rt, app) = generic_run(60_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
    assert_eq!(port.opens_of("bs.example").len(), 1);
    assert_eq!(rt.session_mut().calls, ["bootstrap", "register"]);
}

#[test]
fn an_idle_closed_session_reopens_for_a_notification_without_registering_again() {
    let (mut port, mut rt, mut app) = generic_run(10_000);
    // 60 s without traffic: the session idle timeout closes the DTLS session.
    run(&mut rt, &mut port, &mut app, 80_000);
    assert_eq!(port.closed.len(), 2, "bootstrap socket and the idle DM session");
    assert_eq!(port.opens_of("dm.example").len(), 1);
    // A notification is due: the session is reopened for it and it is sent.
    rt.session_mut().tx.push_back(b"notify".to_vec());
    run(&mut rt, &mut port, &mut app, 81_000);
    assert_eq!(port.opens_of("dm.example").len(), 2, "re-handshake on the next activity");
    assert_eq!(port.sent.last().map(Vec::as_slice), Some(&b"notify"[..]));
    assert_eq!(rt.session_mut().calls, ["bootstrap", "register"], "no new registration");
    assert_eq!(rt.phase(), Phase::Registered);
    // Nothing to send: the session stays closed.
    run(&mut rt, &mut port, &mut app, 200_000);
    assert_eq!(port.opens_of("dm.example").len(), 2);
}

#[test]
fn a_factory_reset_deletes_the_old_dm_key_with_the_link_down() {
    // First boot: the DM server's PSK in the runtime's tag.
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut rt = boot(generic_config(), ScriptedSession::default());
    run(&mut rt, &mut port, &mut App::default(), 60_000);
    assert!(port.psks.contains_key(&DM_SEC_TAG.0));
    drop(rt);
    // Changed server options: factory reset; the new bootstrap provisions a
    // NoSec DM account, so nothing overwrites the old key: it must be deleted
    // (the modem refuses while the link is up; the key step has it down).
    port.link = Some(false);
    let mut nosec = support::dm_account();
    nosec.uri = "coap://dm.example:5683".try_into().unwrap();
    nosec.psk = None;
    let mut session = ScriptedSession::default();
    session.bootstrap.push_back(SessionOutcome::Bootstrapped(nosec));
    let config = ConfigBuilder::from_config(generic_config()).server_lifetime_s(1200).build();
    let mut app = App::default();
    let mut rt = boot(config, session);
    run(&mut rt, &mut port, &mut app, 120_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
    assert!(!port.psks.contains_key(&DM_SEC_TAG.0), "the old DM key is gone");
}
