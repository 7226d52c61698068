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
use carrier_os_std::sim::{DeviceNvm, NetConfig, SimPort, SimSocket, World};
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use fota_ops::server_op;
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::{Errno, ErrorKind, Event, Runtime};
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

/// The server executes Update of the downloaded image; the device sees
/// REBOOT and restarts: the events of the new start until REGISTERED, the
/// firmware State and Update Result then, and the application now installed.
fn update_and_reboot(
    world: &World,
    mut rt: Runtime<'static, ScriptedSession>,
    mut dev: SimPort,
    mut app: App,
) -> (Vec<Event<'static>>, Option<(u8, UpdateResult)>, Vec<u8>) {
    server_op(&mut rt, 2, None);
    run_until(&mut rt, &mut dev, &mut app, |_, _, a| a.list().contains(&Event::Reboot));
    drop(rt);
    let nvm = dev.power_cut();
    let area = nvm.dfu.clone();
    let (mut dev, mut rt) = power_on(world, nvm);
    let mut app = App::default();
    run_until(&mut rt, &mut dev, &mut app, registered);
    let active = area.0.borrow().active.clone();
    (app.list(), state(&mut rt), active)
}

#[test]
fn a_pull_cut_by_a_power_cut_resumes_at_the_kept_offset_and_updates_for_every_seed() {
    let image = test_app_image(40_000);
    for seed in 1..=16u64 {
        let (world, _servers) = world(seed, &[(URI, image.clone())]);
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
        let start = Event::FotaStart { uri: Some(URI) };
        assert_eq!(app.list(), [Event::Registered, start], "seed {seed}");
        let trace = world.trace();
        let requests: Vec<&str> = trace.lines().filter(|l| l.contains(" download coap")).collect();
        assert_eq!(requests.len(), 2, "seed {seed}: {requests:?}");
        assert!(requests[0].ends_with(&format!("{URI} from 0")), "seed {seed}: {requests:?}");
        let resumed = format!("{URI} from {kept}");
        assert!(requests[1].ends_with(&resumed), "seed {seed}: {requests:?}, kept {kept}");
        let (events, state, active) = update_and_reboot(&world, rt, dev, app);
        assert_eq!(events, [Event::FotaSuccess, Event::Registered], "seed {seed}");
        assert_eq!(state, Some((0, UpdateResult::SUCCESS)), "seed {seed}");
        assert!(active == image, "seed {seed}: the image runs, whole");
    }
}

/// One part of a SoftBank divided image, header written out byte by byte
/// (the format `lwm2m_carrier::runtime::Part` documents).
fn part_file(number: u8, last: bool, offset: u32, version: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut v = 0x424a_d2dc_u32.to_le_bytes().to_vec();
    v.push(number);
    v.push(u8::from(last));
    v.extend_from_slice(&offset.to_le_bytes());
    v.extend_from_slice(version);
    v.extend_from_slice(payload);
    v
}

/// A world with the scripted servers' hosts (bs.example, and dm.example
/// that bootstrap provisions) and `files`; the sockets must stay alive.
fn world(seed: u64, files: &[(&str, Vec<u8>)]) -> (World, [SimSocket; 2]) {
    let world = World::new(seed, NetConfig::default());
    let (bs, dm) = (Ipv4Addr::new(192, 0, 2, 10), Ipv4Addr::new(192, 0, 2, 11));
    world.add_host("bs.example", IpAddr::V4(bs));
    world.add_host("dm.example", IpAddr::V4(dm));
    let sockets = [
        world.bind(SocketAddr::new(IpAddr::V4(bs), 5784)),
        world.bind(SocketAddr::new(IpAddr::V4(dm), 5684)),
    ];
    for (uri, data) in files {
        world.add_file(uri, data.clone());
    }
    (world, sockets)
}

const V1: &[u8; 32] = b"app-2.0.0-divided...............";

#[test]
fn softbank_divided_parts_make_one_application_image_even_across_a_power_cut() {
    let image = test_app_image(30_000);
    let parts = [
        ("coap://fw.example/p1.bin", part_file(1, false, 0, V1, &image[..12_000])),
        ("coap://fw.example/p2.bin", part_file(2, false, 12_000, V1, &image[12_000..24_000])),
        ("coap://fw.example/p3.bin", part_file(3, true, 24_000, V1, &image[24_000..])),
    ];
    let (world, _servers) = world(7, &parts);
    let (mut dev, mut rt) = power_on(&world, DeviceNvm::default());
    let mut app = App::default();
    run_until(&mut rt, &mut dev, &mut app, registered);

    // Part 1: the payload goes to the image; State back to Idle for the next.
    server_op(&mut rt, 1, Some(Value::String(parts[0].0)));
    run_until(&mut rt, &mut dev, &mut app, |rt, d, _| {
        d.dfu_offset() == 12_000 && state(rt) == Some((0, UpdateResult::INITIAL))
    });
    // Part 2, cut by a power cut midway.
    server_op(&mut rt, 1, Some(Value::String(parts[1].0)));
    run_until(&mut rt, &mut dev, &mut app, |_, d, _| d.dfu_offset() >= 17_000);
    let kept = dev.dfu_offset();
    drop(rt);
    let (mut dev, mut rt) = power_on(&world, dev.power_cut());
    let mut app = App::default();
    run_until(&mut rt, &mut dev, &mut app, |rt, d, _| {
        d.dfu_offset() == 24_000 && state(rt) == Some((0, UpdateResult::INITIAL))
    });
    // Resumed inside part 2's file: its header, then the payload bytes kept.
    let resumed = format!("download {} from {}", parts[1].0, 42 + kept - 12_000);
    assert!(world.trace().lines().any(|l| l.ends_with(&resumed)), "no `{resumed}`");
    // The last part: Downloaded.
    server_op(&mut rt, 1, Some(Value::String(parts[2].0)));
    run_until(&mut rt, &mut dev, &mut app, |rt, _, _| state(rt).is_some_and(|s| s.0 == 2));
    // FOTA_START for the resumed part and for the last part.
    let resumed = Event::FotaStart { uri: Some(parts[1].0) };
    let last = Event::FotaStart { uri: Some(parts[2].0) };
    assert_eq!(app.list()[1..], [resumed, last]);
    let (events, state, active) = update_and_reboot(&world, rt, dev, app);
    assert_eq!(events, [Event::FotaSuccess, Event::Registered]);
    assert_eq!(state, Some((0, UpdateResult::SUCCESS)));
    assert!(active == image, "the assembled image runs");
}

#[test]
fn a_divided_part_out_of_order_is_einval_and_of_another_version_ebadf() {
    let image = test_app_image(20_000);
    let other: &[u8; 32] = b"app-1.9.0-divided...............";
    let parts = [
        ("coap://fw.example/p1.bin", part_file(1, false, 0, V1, &image[..10_000])),
        ("coap://fw.example/p3.bin", part_file(3, true, 10_000, V1, &image[10_000..])),
        ("coap://fw.example/p2-old.bin", part_file(2, true, 10_000, other, &image[10_000..])),
    ];
    let (world, _servers) = world(7, &parts);
    let (mut dev, mut rt) = power_on(&world, DeviceNvm::default());
    let mut app = App::default();
    run_until(&mut rt, &mut dev, &mut app, registered);
    let fail = |value| Event::Error { kind: ErrorKind::FotaFail, value };
    for (second, errno, result) in [
        (parts[1].0, Errno::Inval, UpdateResult::INTEGRITY_FAILURE),
        (parts[2].0, Errno::BadF, UpdateResult::UNSUPPORTED_PACKAGE),
    ] {
        server_op(&mut rt, 1, Some(Value::String(parts[0].0)));
        run_until(&mut rt, &mut dev, &mut app, |rt, d, _| {
            d.dfu_offset() == 10_000 && state(rt).is_some_and(|s| s.0 == 0)
        });
        server_op(&mut rt, 1, Some(Value::String(second)));
        run_until(&mut rt, &mut dev, &mut app, |_, _, a| a.list().contains(&fail(errno)));
        assert_eq!(state(&mut rt), Some((0, result)), "{second}");
        assert_eq!(dev.dfu_offset(), 0, "{second}: the sequence is discarded");
    }
}
