//! A runtime that is waiting for a deferred retry must sleep until it:
//! `Runtime::poll` returns the retry time, not "now". (A device polled in a
//! loop that follows the returned deadline would otherwise never sleep;
//! `carrier-api.md` §2.1: DEFERRED means "retried after `timeout`".)
//!
//! A regression test: carrier-sim found this broken (fixed since).

use carrier_os::modem::{LinkRequest, Modem, Psk, SecTag};
use carrier_os::time::{Clock, Instant};
use carrier_os::wait::Wait;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::sim::{DeviceNvm, NetConfig, SimPort, World};
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder};
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Event, Phase, Runtime};
use lwm2m_core::rng::XorShiftRng;

#[test]
fn a_deferred_runtime_sleeps_until_its_retry() {
    let world = World::new(1, NetConfig::default());
    world.add_host("bs.sim", carrier_sim::BS_ADDR.ip());
    // The Bootstrap-Server's socket exists (the handshake succeeds) but
    // nothing ever answers: the Bootstrap-Request times out.
    let _silent = world.bind(carrier_sim::BS_ADDR);
    let mut port = SimPort::boot(&world, 1, DeviceProfile::generic(1), DeviceNvm::default());
    port.psk_store(SecTag(7), Some(b"dev1"), &Psk::new(b"key").unwrap()).unwrap();
    port.request_link(LinkRequest::Up).unwrap();
    let config = ConfigBuilder::new()
        .carriers(CarrierSet::GENERIC)
        .server_uri(carrier_sim::BS_URI)
        .bootstrap_server(true)
        .server_sec_tag(7)
        .build();
    let mut rt = Runtime::new(config, Lwm2mSession::new(XorShiftRng::new(1)));
    rt.on_modem_init(Ok(ModemInitResult::Success));
    let mut deferred = None;
    for _ in 0..100_000 {
        let next = rt.poll(&mut port);
        while let Some(e) = rt.poll_event() {
            if let Event::Deferred { timeout, .. } = e {
                deferred = Some((port.now(), timeout));
            }
        }
        if let Some((at, timeout)) = deferred {
            assert_eq!(rt.phase(), Phase::Deferred);
            let retry = Instant::from_millis(at.as_millis() + timeout.as_millis());
            let next = rt.poll(&mut port);
            assert!(
                next.is_some_and(|t| t > port.now()),
                "deferred until {retry:?}, but poll asks to be called again at {next:?} (now {:?})",
                port.now()
            );
            return;
        }
        port.wait_until(next);
    }
    panic!("no DEFERRED event");
}
