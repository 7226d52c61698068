//! Pull FOTA on carrier-os-std's deterministic simulation, many seeds: a
//! power cut at a seed-chosen point of the download, the new start resuming
//! from the offset the DFU area kept (the world's trace records every
//! download request), then Update, the reboot into the image and
//! FOTA_SUCCESS (issue 10 scenario 5; `carrier-api.md` §7). The protocol
//! exchanges are scripted (the Session seam); the server's Write and
//! Execute go through the object store as in `tests/fota.rs`.

mod fota_ops;
mod support;

use carrier_os::dfu::Dfu;
use carrier_os::modem::{LinkRequest, Modem, Psk, SecTag};
use carrier_os::time::Clock;
use carrier_os::wait::Wait;
use carrier_os_std::dfu::test_app_image;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::sim::{DeviceNvm, NetConfig, SimPort, World};
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use fota_ops::server_op;
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::{Event, Runtime};
use lwm2m_core::value::Value;
use lwm2m_objects::objects::UpdateResult;
use support::{App, ScriptedSession, generic_config};

const URI: &str = "coap://fw.example/app.bin";

/// A device of `world` with the bootstrap PSK in tag 7 and the link requested.
fn power_on(world: &World, nvm: DeviceNvm) -> (SimPort, Runtime<'static, ScriptedSession>) {
    let mut dev = SimPort::boot(world, 1, DeviceProfile::generic(1), nvm);
    if !dev.psk_exists(SecTag(7)).unwrap() {
        dev.psk_store(SecTag(7), Some(b"dev1"), &Psk::new(b"bootstrap-key").unwrap()).unwrap();
    }
    dev.request_link(LinkRequest::Up).unwrap();
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Success));
    (dev, rt)
}

/// The application's loop until `done` (bounded by 30 min of virtual time).
fn run_until(
    rt: &mut Runtime<'_, ScriptedSession>,
    dev: &mut SimPort,
    app: &mut App,
    done: impl Fn(&mut Runtime<'_, ScriptedSession>, &mut SimPort, &App) -> bool,
) {
    let end = dev.now().as_millis() + 30 * 60_000;
    while !done(rt, dev, app) {
        assert!(dev.now().as_millis() < end, "timed out; events {:?}", app.list());
        let next = rt.poll(dev);
        while let Some(e) = rt.poll_event() {
            let e = app.keep(e);
            app.events.push((dev.now().as_millis(), e));
            match e {
                Event::LteLinkDown => dev.request_link(LinkRequest::Down).unwrap(),
                Event::LteLinkUp => dev.request_link(LinkRequest::Up).unwrap(),
                _ => {}
            }
        }
        dev.wait_until(next);
    }
}

/// State and Update Result of `/5/0`; nothing before the objects exist.
fn state(rt: &mut Runtime<'_, ScriptedSession>) -> Option<(u8, UpdateResult)> {
    let fw = rt.api().objects()?.firmware();
    Some((fw.state().as_u8(), fw.result()))
}

fn registered(_: &mut Runtime<'_, ScriptedSession>, _: &mut SimPort, app: &App) -> bool {
    app.list().contains(&Event::Registered)
}

#[test]
fn a_pull_cut_by_a_power_cut_resumes_at_the_kept_offset_and_updates_for_every_seed() {
    let image = test_app_image(40_000);
    for seed in 1..=16u64 {
        let world = World::new(seed, NetConfig::default());
        // The scripted bootstrap provisions dm.example:5684.
        let (bs, dm) = (Ipv4Addr::new(192, 0, 2, 10), Ipv4Addr::new(192, 0, 2, 11));
        world.add_host("bs.example", IpAddr::V4(bs));
        world.add_host("dm.example", IpAddr::V4(dm));
        let _bs = world.bind(SocketAddr::new(IpAddr::V4(bs), 5784));
        let _dm = world.bind(SocketAddr::new(IpAddr::V4(dm), 5684));
        world.add_file(URI, image.clone());
        let (mut dev, mut rt) = power_on(&world, DeviceNvm::default());
        let mut app = App::default();
        run_until(&mut rt, &mut dev, &mut app, registered);
        server_op(&mut rt, 1, Some(Value::String(URI)));
        // The cut falls somewhere in the download, a different place per seed.
        let cut = 1 + (seed * 2_311) % 38_000;
        run_until(&mut rt, &mut dev, &mut app, |_, d, _| d.dfu_offset() >= cut);
        let kept = dev.dfu_offset();
        assert!(kept < image.len() as u64, "seed {seed}: cut before the end");
        drop(rt);
        let nvm = dev.power_cut();

        let (mut dev, mut rt) = power_on(&world, nvm);
        let mut app = App::default();
        run_until(&mut rt, &mut dev, &mut app, |rt, _, _| state(rt).is_some_and(|s| s.0 == 2));
        assert_eq!(app.list(), [Event::Registered, Event::FotaStart { uri: None }], "seed {seed}");
        let trace = world.trace();
        let requests: Vec<&str> = trace.lines().filter(|l| l.contains(" download coap")).collect();
        assert_eq!(requests.len(), 2, "seed {seed}: {requests:?}");
        assert!(requests[0].ends_with(&format!("{URI} from 0")), "seed {seed}: {requests:?}");
        let resumed = format!("{URI} from {kept}");
        assert!(requests[1].ends_with(&resumed), "seed {seed}: {requests:?}, kept {kept}");
        server_op(&mut rt, 2, None);
        run_until(&mut rt, &mut dev, &mut app, |_, _, a| a.list().contains(&Event::Reboot));
        drop(rt);
        let nvm = dev.power_cut();
        let area = nvm.dfu.clone();

        let (mut dev, mut rt) = power_on(&world, nvm);
        let mut app = App::default();
        run_until(&mut rt, &mut dev, &mut app, registered);
        assert_eq!(app.list(), [Event::FotaSuccess, Event::Registered], "seed {seed}");
        assert_eq!(state(&mut rt), Some((0, UpdateResult::SUCCESS)), "seed {seed}");
        assert!(area.0.borrow().active == image, "seed {seed}: the image runs, whole");
    }
}
