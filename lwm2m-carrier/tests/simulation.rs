//! The runtime on carrier-os-std's deterministic simulation: the modelled
//! modem (attach and PDN take virtual time, keys are refused while the link
//! is up), the in-process network with modelled DTLS, power cuts that keep
//! only storage. The protocol exchanges are scripted (the Session seam).

mod support;

use carrier_os::Port;
use carrier_os::modem::{LinkRequest, Modem, Psk, SecTag};
use carrier_os::wait::Wait;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::sim::{DeviceNvm, NetConfig, SimPort, SimSocket, World};
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::config::ConfigBuilder;
use lwm2m_carrier::{Config, DeferredReason, Event, Runtime};
use lwm2m_core::time::Duration;
use support::{App, ScriptedSession, generic_config};

const BS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const DM: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);

/// The world with the two servers listening; the sockets must stay alive.
fn world(seed: u64) -> (World, SimSocket, SimSocket) {
    let world = World::new(seed, NetConfig::default());
    world.add_host("bs.example", IpAddr::V4(BS));
    world.add_host("dm.example", IpAddr::V4(DM));
    let bs = world.bind(SocketAddr::new(IpAddr::V4(BS), 5784));
    let dm = world.bind(SocketAddr::new(IpAddr::V4(DM), 5684));
    (world, bs, dm)
}

/// A device whose application provisioned the bootstrap PSK into tag 7.
fn device(world: &World, nvm: DeviceNvm) -> SimPort {
    let mut dev = SimPort::boot(world, 1, DeviceProfile::generic(1), nvm);
    if !dev.psk_exists(SecTag(7)).unwrap() {
        dev.psk_store(SecTag(7), Some(b"dev1"), &Psk::new(b"bootstrap-key").unwrap()).unwrap();
    }
    dev.request_link(LinkRequest::Up).unwrap();
    dev
}

/// The outer loop of the crate docs, with `wait_until` on the simulation.
fn run<P: Port + Wait>(
    rt: &mut Runtime<'_, ScriptedSession>,
    dev: &mut P,
    app: &mut App,
    until_ms: u64,
) {
    while dev.now().as_millis() < until_ms {
        let next = rt.poll(dev);
        let mut any = false;
        while let Some(e) = rt.poll_event() {
            any = true;
            let e = app.keep(e);
            app.events.push((dev.now().as_millis(), e));
            match e {
                Event::LteLinkDown => dev.request_link(LinkRequest::Down).unwrap(),
                Event::LteLinkUp => dev.request_link(LinkRequest::Up).unwrap(),
                _ => {}
            }
        }
        if any {
            continue;
        }
        let until = carrier_os::time::Instant::from_millis(until_ms);
        let deadline = next.map_or(until, |t| if t < until { t } else { until });
        dev.wait_until(Some(deadline));
    }
}

fn boot(config: Config<'static>) -> Runtime<'static, ScriptedSession> {
    let mut rt = Runtime::new(config, ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Success));
    rt
}

#[test]
fn first_boot_then_power_cut_and_reboot_without_bootstrap() {
    let (world, _bs, _dm) = world(1);
    let mut dev = device(&world, DeviceNvm::default());
    let mut app = App::default();
    let mut rt = boot(generic_config());
    run(&mut rt, &mut dev, &mut app, 120_000);
    assert_eq!(
        app.list(),
        [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered]
    );
    // Power cut: RAM (and the runtime) gone, storage and keys kept.
    drop(rt);
    let nvm = dev.power_cut();
    let mut dev = device(&world, nvm);
    let mut app = App::default();
    let mut rt = boot(generic_config());
    run(&mut rt, &mut dev, &mut app, 240_000);
    assert_eq!(app.list(), [Event::Registered]);
    assert_eq!(rt.session_mut().calls, ["register"]);
}

#[test]
fn a_rejected_custom_apn_falls_back_and_a_dtls_alert_defers_bootstrap_connect() {
    let (world, _bs, _dm) = world(2);
    let mut dev = device(&world, DeviceNvm::default());
    // The modelled network rejects the next activation with an APN (ESM 33).
    dev.faults_mut().pdn_rejections = 1;
    dev.faults_mut().dtls_failures = 1;
    let config = ConfigBuilder::from_config(generic_config())
        .apn("iot.custom", lwm2m_carrier::config::PdnType::Ipv4v6)
        .build();
    let mut app = App::default();
    let mut rt = boot(config);
    run(&mut rt, &mut dev, &mut app, 600_000);
    let deferrals: Vec<Event<'static>> =
        app.list().into_iter().filter(|e| matches!(e, Event::Deferred { .. })).collect();
    // The custom APN's rejection is absorbed by the default-APN fallback; the
    // DTLS alert from the bootstrap server is deferred on the bootstrap schedule.
    assert_eq!(
        deferrals,
        [Event::Deferred {
            reason: DeferredReason::BootstrapConnect,
            timeout: Duration::from_secs(120)
        }]
    );
    assert_eq!(app.list().last(), Some(&Event::Registered));
    assert_eq!(dev.faults_mut().pdn_rejections, 0, "the custom APN was tried and rejected");
    let bootstrapped_at = app.events.iter().find(|(_, e)| *e == Event::Bootstrapped).unwrap().0;
    assert!(bootstrapped_at >= 120_000, "the retry waited the deferral: {bootstrapped_at}");
}

#[test]
fn an_unreachable_bootstrap_server_times_out_the_handshake() {
    // Nobody listens on the bootstrap address: the modelled handshake times out.
    let world = World::new(3, NetConfig::default());
    world.add_host("bs.example", IpAddr::V4(BS));
    let mut dev = device(&world, DeviceNvm::default());
    let mut app = App::default();
    let mut rt = boot(generic_config());
    run(&mut rt, &mut dev, &mut app, 60_000);
    assert_eq!(
        app.list().first(),
        Some(&Event::Deferred {
            reason: DeferredReason::BootstrapConnect,
            timeout: Duration::from_secs(120)
        })
    );
}

#[test]
fn first_boot_defers_each_failed_handshake_on_the_schedule_for_many_seeds() {
    // Per seed (which also drives the network delays): 0 to 4 failed
    // bootstrap handshakes, alerts or timeouts. Each is DEFERRED
    // BOOTSTRAP_CONNECT with the next step of the schedule (carriers.md
    // §10: 2, 4, 6, 8 min), then the device bootstraps and registers.
    for seed in 0..64u64 {
        let (world, _bs, _dm) = world(seed);
        let mut dev = device(&world, DeviceNvm::default());
        let failures = (seed % 5) as usize;
        if seed % 2 == 0 {
            dev.faults_mut().dtls_failures = failures as u32;
        } else {
            dev.faults_mut().dtls_timeouts = failures as u32;
        }
        let mut app = App::default();
        let mut rt = boot(generic_config());
        run(&mut rt, &mut dev, &mut app, 3 * 3600 * 1000);
        let mut expected: Vec<Event<'static>> = [120, 240, 360, 480][..failures]
            .iter()
            .map(|&s| Event::Deferred {
                reason: DeferredReason::BootstrapConnect,
                timeout: Duration::from_secs(s),
            })
            .collect();
        expected.extend([
            Event::LteLinkDown,
            Event::Bootstrapped,
            Event::LteLinkUp,
            Event::Registered,
        ]);
        assert_eq!(app.list(), expected, "seed {seed}");
    }
}
