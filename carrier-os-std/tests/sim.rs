//! Simulation mode: the conformance suite, network and device faults, power
//! cuts, and determinism (same seed → byte-identical trace).

#![allow(clippy::std_instead_of_core)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::task::Poll;

use carrier_os::conformance;
use carrier_os::download::{Download, DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::modem::{
    Identity, LinkRequest, LinkState, Modem, ModemError, PdnConfig, PdnId, PdnState, PdnType, Psk,
    SecTag,
};
use carrier_os::storage::{Key, Storage};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::transport::{Endpoint, Family, Security, SocketId, Transport, TransportError};
use carrier_os::wait::Wait;
use carrier_os::{Log, Random, Wake};
use carrier_os_std::dfu::test_app_image;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::sim::{DeviceNvm, NetConfig, SimPort, SimSocket, World};

const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 5683);
const ECHO: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 7);
const SECS: Duration = Duration::from_secs(1);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn device(world: &World, id: u32) -> SimPort {
    SimPort::boot(world, id, DeviceProfile::generic(id), DeviceNvm::default())
}

fn endpoint(addr: SocketAddr, security: Security) -> Endpoint {
    Endpoint {
        host: addr.ip().to_string().as_str().try_into().unwrap(),
        port: addr.port(),
        pdn: PdnId::DEFAULT,
        family: Family::Any,
        security,
    }
}

fn link_up(dev: &mut SimPort) {
    dev.request_link(LinkRequest::Up).unwrap();
    let deadline = dev.now() + secs(10);
    while !dev.link_state().is_up() {
        assert!(dev.now() < deadline, "link did not come up");
        dev.wait_until(Some(deadline));
    }
}

fn open_blocking(dev: &mut SimPort, ep: &Endpoint) -> Result<SocketId, TransportError> {
    let s = dev.open(ep)?;
    loop {
        match dev.poll_open(s) {
            Poll::Ready(r) => return r.map(|()| s),
            Poll::Pending => {
                dev.wait_until(Some(dev.now() + secs(60)));
            }
        }
    }
}

// ---------------------------------------------------------------- conformance

#[test]
fn sim_port_passes_the_clock_random_modem_transport_download_suites() {
    let world = World::new(1, NetConfig::default());
    world.add_echo(ECHO);
    let image = test_app_image(5000);
    world.add_file("http://fw.example/app.bin", image.clone());
    let mut dev = device(&world, 1);
    conformance::clock_suite(&mut dev);
    conformance::random_suite(&mut dev);
    conformance::modem_suite(&mut dev, secs(30));
    link_up(&mut dev);
    conformance::transport_suite(&mut dev, &endpoint(ECHO, Security::None), secs(30));
    conformance::download_suite(&mut dev, "http://fw.example/app.bin", &image, secs(60));
}

#[test]
fn sim_port_passes_the_storage_and_dfu_suites_across_power_cuts() {
    let world = World::new(2, NetConfig::default());
    let w = world.clone();
    conformance::storage_suite(device(&world, 1), move |d| {
        let nvm = d.power_cut();
        SimPort::boot(&w, 1, DeviceProfile::generic(1), nvm)
    });
    let w = world.clone();
    conformance::dfu_suite(device(&world, 2), &test_app_image(4000), move |d| {
        let nvm = d.power_cut();
        SimPort::boot(&w, 2, DeviceProfile::generic(2), nvm)
    });
}

// ---------------------------------------------------------------- network faults

/// Sends `n` numbered datagrams to the echo service, one per second, and
/// returns the numbers received back, in arrival order.
fn echo_run(world: &World, n: u8) -> Vec<u8> {
    world.add_echo(ECHO);
    let mut dev = device(world, 1);
    link_up(&mut dev);
    let s = open_blocking(&mut dev, &endpoint(ECHO, Security::None)).unwrap();
    let mut got = Vec::new();
    let start = dev.now();
    for i in 0..n {
        assert_eq!(dev.send(s, &[i]), Poll::Ready(Ok(())));
        let until = start + Duration::from_millis(100 * (u64::from(i) + 1));
        while dev.now() < until {
            dev.wait_until(Some(until));
            let mut buf = [0u8; 8];
            while let Poll::Ready(r) = dev.recv(s, &mut buf) {
                assert_eq!(r, Ok(1));
                got.push(buf[0]);
            }
        }
    }
    let end = dev.now() + secs(10);
    while dev.now() < end {
        dev.wait_until(Some(end));
        let mut buf = [0u8; 8];
        while let Poll::Ready(Ok(_)) = dev.recv(s, &mut buf) {
            got.push(buf[0]);
        }
    }
    got
}

#[test]
fn a_clean_network_delivers_every_datagram_once_in_order() {
    let got =
        echo_run(&World::new(3, NetConfig { delay_ms: (10, 10), ..NetConfig::default() }), 50);
    assert_eq!(got, (0..50).collect::<Vec<_>>());
}

#[test]
fn loss_drops_a_share_of_datagrams_close_to_the_configured_rate() {
    let world = World::new(4, NetConfig { loss_permille: 300, ..NetConfig::default() });
    let got = echo_run(&world, 200);
    // Each echo crosses the network twice: P(survive) = 0.7² = 0.49.
    assert!((70..=125).contains(&got.len()), "{} of 200 came back", got.len());
    assert!(got.windows(2).all(|w| w[0] < w[1]), "loss alone must not reorder");
    assert!(world.trace().contains(" lost "), "losses are traced");
}

#[test]
fn duplication_delivers_some_datagrams_twice() {
    let world =
        World::new(5, NetConfig { dup_permille: 200, delay_ms: (10, 10), ..NetConfig::default() });
    let got = echo_run(&world, 100);
    let mut uniq = got.clone();
    uniq.dedup();
    assert_eq!(uniq, (0..100).collect::<Vec<_>>(), "nothing lost, nothing invented");
    assert!(got.len() > 110, "only {} datagrams for 100 sent", got.len());
}

#[test]
fn reordering_lets_later_datagrams_overtake_earlier_ones() {
    let world = World::new(
        6,
        NetConfig { reorder_permille: 200, delay_ms: (40, 60), ..NetConfig::default() },
    );
    let got = echo_run(&world, 100);
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>(), "every datagram arrives once");
    assert_ne!(got, sorted, "some arrived out of order");
}

#[test]
fn an_outage_drops_everything_inside_its_window_only() {
    let world = World::new(7, NetConfig { delay_ms: (10, 10), ..NetConfig::default() });
    // The run starts after the 2 s attach; datagram i goes at 2000 + 100·i ms.
    world.add_outage(Instant::from_millis(3000), Instant::from_millis(4000));
    let got = echo_run(&world, 40);
    let lost: Vec<u8> = (0..40).filter(|i| !got.contains(i)).collect();
    assert_eq!(lost, (10..20).collect::<Vec<_>>(), "exactly the datagrams sent during the outage");
}

#[test]
fn link_down_kills_open_sockets_and_refuses_new_ones() {
    let world = World::new(8, NetConfig::default());
    world.add_echo(ECHO);
    let mut dev = device(&world, 1);
    let ep = endpoint(ECHO, Security::None);
    assert_eq!(dev.open(&ep), Err(TransportError::LinkDown));
    link_up(&mut dev);
    let s = open_blocking(&mut dev, &ep).unwrap();
    dev.request_link(LinkRequest::Down).unwrap();
    assert_eq!(dev.send(s, b"x"), Poll::Ready(Err(TransportError::LinkDown)));
    assert_eq!(dev.recv(s, &mut [0; 4]), Poll::Ready(Err(TransportError::LinkDown)));
}

#[test]
fn an_unknown_host_name_fails_as_dns_not_as_handshake() {
    let world = World::new(9, NetConfig::default());
    world.add_host("bootstrap.example", SERVER.ip());
    let _server = world.bind(SERVER);
    let mut dev = device(&world, 1);
    link_up(&mut dev);
    let mut ep = endpoint(SERVER, Security::None);
    ep.host = "nowhere.example".try_into().unwrap();
    assert_eq!(open_blocking(&mut dev, &ep), Err(TransportError::DnsFailed));
    ep.host = "bootstrap.example".try_into().unwrap();
    assert!(open_blocking(&mut dev, &ep).is_ok());
}

// ---------------------------------------------------------------- device faults

fn store_psk(dev: &mut SimPort, tag: u32, identity: &[u8], key: &[u8]) {
    dev.request_link(LinkRequest::Down).unwrap();
    dev.psk_store(SecTag(tag), Some(identity), &Psk::new(key).unwrap()).unwrap();
}

#[test]
fn dtls_outcomes_distinguish_refused_timed_out_and_missing_credentials() {
    let world = World::new(10, NetConfig::default());
    let server = world.bind(SERVER);
    world.set_server_psk(SERVER, b"dev1", b"right key");
    let mut dev = device(&world, 1);
    let dtls =
        |tag| endpoint(SERVER, Security::DtlsPsk { sec_tag: SecTag(tag), connection_id: false });
    store_psk(&mut dev, 1, b"dev1", b"right key");
    store_psk(&mut dev, 2, b"dev1", b"wrong key");
    link_up(&mut dev);
    assert_eq!(dev.open(&dtls(3)), Err(TransportError::NoCredentials));
    assert_eq!(
        open_blocking(&mut dev, &dtls(2)),
        Err(TransportError::HandshakeFailed),
        "wrong PSK"
    );
    dev.faults_mut().dtls_failures = 1;
    assert_eq!(
        open_blocking(&mut dev, &dtls(1)),
        Err(TransportError::HandshakeFailed),
        "injected alert"
    );
    dev.faults_mut().dtls_timeouts = 1;
    let t0 = dev.now();
    assert_eq!(open_blocking(&mut dev, &dtls(1)), Err(TransportError::HandshakeTimedOut));
    assert!(dev.now() - t0 >= secs(30), "a timeout takes the handshake timeout");
    let s = open_blocking(&mut dev, &dtls(1)).expect("faults used up: handshake succeeds");
    assert_eq!(dev.send(s, b"hello"), Poll::Ready(Ok(())));
    dev.wait_until(Some(dev.now() + SECS));
    assert_eq!(server.recv_from().map(|(_, d)| d), Some(b"hello".to_vec()));
    drop(server);
    let t0 = dev.now();
    assert_eq!(
        open_blocking(&mut dev, &dtls(1)),
        Err(TransportError::HandshakeTimedOut),
        "nobody listens"
    );
    assert!(dev.now() - t0 >= secs(30));
}

#[test]
fn injected_link_denial_pdn_rejection_and_msisdn_delay() {
    let world = World::new(11, NetConfig::default());
    let mut dev = device(&world, 1);
    dev.faults_mut().link_denials = 1;
    dev.faults_mut().pdn_rejections = 1;
    dev.faults_mut().pdn_reject_cause = 27;
    dev.faults_mut().msisdn_delay = Duration::from_secs(120);
    dev.request_link(LinkRequest::Up).unwrap();
    assert_eq!(dev.link_state(), LinkState::Searching);
    assert_eq!(
        dev.wait_until(Some(dev.now() + secs(60))),
        Wake::Io,
        "the attach result wakes the wait"
    );
    assert_eq!(dev.link_state(), LinkState::Denied);
    link_up(&mut dev);
    let cfg = PdnConfig { apn: Some("ims"), pdn_type: PdnType::Ipv4v6 };
    let pdn = dev.pdn_activate(&cfg).unwrap();
    assert_eq!(dev.pdn_state(pdn), PdnState::Rejected { esm_cause: 27 });
    dev.pdn_deactivate(pdn).unwrap();
    let pdn = dev.pdn_activate(&cfg).unwrap();
    assert_eq!(dev.pdn_state(pdn), PdnState::Activating);
    dev.wait_until(Some(dev.now() + secs(10)));
    assert_eq!(dev.pdn_state(pdn), PdnState::Active(PdnType::Ipv4));
    assert_eq!(dev.identity(Identity::Msisdn), Err(ModemError::NotAvailable));
    let t = dev.now() + secs(121);
    dev.wait_until(Some(t));
    assert_eq!(dev.identity(Identity::Msisdn).unwrap(), "15550000001");
}

#[test]
fn a_dropped_download_resumes_from_the_stored_offset() {
    let world = World::new(12, NetConfig::default());
    let image = test_app_image(10_000);
    world.add_file("coap://fw.example/fw", image.clone());
    let mut dev = device(&world, 1);
    link_up(&mut dev);
    dev.faults_mut().download_drop_after = Some(3000);
    let mut got = Vec::new();
    let mut errors = Vec::new();
    while errors.len() < 5 {
        let req = DownloadRequest {
            uri: "coap://fw.example/fw",
            sec_tag: None,
            pdn: PdnId::DEFAULT,
            offset: got.len() as u64,
        };
        dev.start_download(&req).unwrap();
        let mut buf = [0u8; 1024];
        let done = loop {
            match dev.poll_download(&mut buf) {
                Poll::Pending => {
                    dev.wait_until(Some(dev.now() + secs(60)));
                }
                Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                    got.extend_from_slice(&buf[..len])
                }
                Poll::Ready(Ok(DownloadProgress::Done)) => break true,
                Poll::Ready(Err(e)) => {
                    errors.push(e);
                    break false;
                }
            }
        };
        if done {
            break;
        }
    }
    assert_eq!(errors, [DownloadError::Disconnected], "one drop, then a resume");
    assert_eq!(got, image, "the resumed download continues exactly at the offset");
    assert!(world.trace().contains("download coap://fw.example/fw from 3000"));
}

#[test]
fn a_power_cut_after_a_chosen_write_keeps_that_write_and_drops_ram() {
    let world = World::new(13, NetConfig::default());
    let mut dev = device(&world, 1);
    link_up(&mut dev);
    dev.arm_power_cut_after_writes(2);
    dev.set(Key(0xCA00), b"one").unwrap();
    assert!(!dev.is_off());
    dev.set(Key(0xCA01), b"two").unwrap();
    assert!(dev.is_off(), "cut right after the second write");
    assert!(dev.set(Key(0xCA02), b"three").is_err(), "a device without power writes nothing");
    let nvm = dev.power_cut();
    let mut dev = SimPort::boot(&world, 1, DeviceProfile::generic(1), nvm);
    let mut buf = [0u8; 8];
    assert_eq!(dev.get(Key(0xCA00), &mut buf), Ok(Some(3)));
    assert_eq!(dev.get(Key(0xCA01), &mut buf), Ok(Some(3)));
    assert_eq!(dev.get(Key(0xCA02), &mut buf), Ok(None));
    assert_eq!(dev.link_state(), LinkState::Down, "RAM state (the link) is gone after the reboot");
}

#[test]
fn a_scheduled_application_image_is_applied_by_a_power_cycle() {
    use carrier_os::dfu::{Dfu, ImageType, UpdateOutcome};
    let world = World::new(14, NetConfig::default());
    let mut dev = device(&world, 1);
    let image = test_app_image(2048);
    assert_eq!(dev.dfu_detect(&image), Some(ImageType::Application));
    dev.dfu_start(ImageType::Application, Some(2048)).unwrap();
    dev.dfu_write(&image).unwrap();
    dev.dfu_finish(Some(carrier_os::crc32(0, &image))).unwrap();
    dev.dfu_schedule().unwrap();
    let nvm = dev.power_cut();
    let mut dev = SimPort::boot(&world, 1, DeviceProfile::generic(1), nvm.clone());
    assert_eq!(dev.dfu_take_outcome(), Ok(Some(UpdateOutcome::Applied(ImageType::Application))));
    assert_eq!(nvm.dfu.0.borrow().active, image);
}

// ---------------------------------------------------------------- determinism

/// A tiny reporting client per device: attach, (DTLS for odd ids), then a
/// numbered report every ~10 s with doubling retransmissions until the
/// server answers. Device 1 loses power at 60 s and boots again at 65 s.
/// Returns the world's trace.
fn scenario(seed: u64) -> String {
    let cfg = NetConfig {
        loss_permille: 100,
        dup_permille: 30,
        reorder_permille: 50,
        delay_ms: (20, 200),
    };
    let world = World::new(seed, cfg);
    world.add_outage(Instant::from_millis(120_000), Instant::from_millis(135_000));
    let server: SimSocket = world.bind(SERVER);
    world.set_server_psk(SERVER, b"psk-id", b"0123456789abcdef");

    struct Client {
        port: Option<SimPort>,
        nvm: Option<DeviceNvm>,
        sock: Option<SocketId>,
        seq: u16,
        next_send: Instant,
        timeout: Duration,
        acked: bool,
    }
    let mut clients: Vec<Client> = (0..4)
        .map(|id| {
            let mut port = device(&world, id);
            if id % 2 == 1 {
                port.psk_store(SecTag(7), Some(b"psk-id"), &Psk::new(b"0123456789abcdef").unwrap())
                    .unwrap();
            }
            port.request_link(LinkRequest::Up).unwrap();
            Client {
                port: Some(port),
                nvm: None,
                sock: None,
                seq: 0,
                next_send: Instant::ZERO,
                timeout: SECS,
                acked: true,
            }
        })
        .collect();

    let end = Instant::from_millis(300_000);
    let mut steps = 0;
    while world.now() < end {
        steps += 1;
        assert!(steps < 200_000, "livelock");
        let now = world.now();
        // The server answers every report "ack <seq>".
        while let Some((from, data)) = server.recv_from() {
            let mut ack = b"ack ".to_vec();
            ack.extend_from_slice(data.get(4..6).unwrap_or(&[]));
            server.send_to(from, &ack);
        }
        let mut next = vec![end];
        for (id, c) in clients.iter_mut().enumerate() {
            let id = id as u32;
            if id == 1
                && c.port.is_some()
                && now >= Instant::from_millis(60_000)
                && c.nvm.is_none()
                && c.seq > 0
            {
                c.nvm = Some(c.port.take().unwrap().power_cut());
                c.sock = None;
            }
            if c.port.is_none() {
                if now >= Instant::from_millis(65_000) {
                    let mut p = SimPort::boot(
                        &world,
                        id,
                        DeviceProfile::generic(id),
                        c.nvm.clone().unwrap(),
                    );
                    p.request_link(LinkRequest::Up).unwrap();
                    c.port = Some(p);
                    c.acked = true;
                } else {
                    next.push(Instant::from_millis(65_000));
                    continue;
                }
            }
            let p = c.port.as_mut().unwrap();
            if !p.link_state().is_up() {
                next.extend(p.next_internal_event());
                continue;
            }
            let Some(s) = c.sock else {
                let sec = if id % 2 == 1 {
                    Security::DtlsPsk { sec_tag: SecTag(7), connection_id: true }
                } else {
                    Security::None
                };
                c.sock = p.open(&endpoint(SERVER, sec)).ok();
                continue;
            };
            match p.poll_open(s) {
                Poll::Pending => {
                    next.extend(p.next_internal_event());
                    continue;
                }
                Poll::Ready(Err(_)) => {
                    p.close(s);
                    c.sock = None;
                    continue;
                }
                Poll::Ready(Ok(())) => {}
            }
            let mut buf = [0u8; 64];
            while let Poll::Ready(Ok(n)) = p.recv(s, &mut buf) {
                if buf[..n].get(4..6) == Some(&c.seq.to_be_bytes()[..]) {
                    c.acked = true;
                    p.log(carrier_os::Level::Info, format_args!("acked {}", c.seq));
                    let jitter = u64::from(p.random_u32() % 2000);
                    c.next_send = now + Duration::from_millis(10_000 + jitter);
                }
            }
            if now >= c.next_send {
                if c.acked {
                    c.seq += 1;
                    c.acked = false;
                    c.timeout = secs(2);
                } else {
                    c.timeout = Duration::from_millis(c.timeout.as_millis() * 2);
                }
                let mut msg = b"rep ".to_vec();
                msg.extend_from_slice(&c.seq.to_be_bytes());
                msg.extend_from_slice(&id.to_be_bytes());
                let _ = p.send(s, &msg);
                c.next_send = now + c.timeout;
            }
            next.push(c.next_send);
        }
        let deadline = next.into_iter().min();
        world.advance_devices(clients.iter_mut().filter_map(|c| c.port.as_mut()), deadline);
    }
    world.trace()
}

#[test]
fn the_same_seed_gives_a_byte_identical_trace_and_another_seed_a_different_one() {
    let a = scenario(42);
    let b = scenario(42);
    let c = scenario(43);
    assert!(a.lines().count() > 500, "the scenario did something: {} lines", a.lines().count());
    for needle in [" lost ", " dup ", "drop-outage", "dev1 power-cut", "acked", "DtlsPsk"] {
        assert!(a.contains(needle), "scenario trace lacks {needle:?}");
    }
    println!(
        "seed 42: {} trace lines, {} bytes; seed 43: {} lines",
        a.lines().count(),
        a.len(),
        c.lines().count()
    );
    assert!(a == b, "same seed, different traces");
    assert_ne!(a, c, "different seeds, same trace");
}

#[test]
fn an_injected_sms_wakes_the_wait_and_is_received() {
    let world = World::new(15, NetConfig::default());
    let mut dev = device(&world, 1);
    let t0 = dev.now();
    dev.inject_sms("+15550100", Some(2948), b"wake up");
    assert_eq!(dev.wait_until(Some(t0 + secs(3600))), Wake::Io);
    assert_eq!(dev.now(), t0, "an SMS already waiting returns at once");
    let mut buf = [0u8; 32];
    let info = dev.sms_receive(&mut buf).unwrap().unwrap();
    assert_eq!(&buf[..info.len], b"wake up");
    assert_eq!(info.app_port, Some(2948));
    assert_eq!(dev.wait_until(Some(t0 + secs(1))), Wake::Deadline, "nothing else pending");
}
