//! The design point of `carrier-os`: one copy of non-blocking logic, driven
//! either by a blocking loop (`Wait`) or by an async executor (`AsyncWait`).
//! In the simulation both drivers produce the same trace byte for byte; on
//! real sockets both complete the same exchange.

#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::future::Future;
use std::net::UdpSocket;
use std::sync::Arc;
use std::task::{Context, Poll, Wake as TaskWake, Waker};

use carrier_os::modem::{LinkRequest, Modem, PdnId};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::transport::{Endpoint, Family, Security, SocketId, Transport};
use carrier_os::wait::{AsyncWait, Wait};
use carrier_os::{Level, Log};
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use carrier_os_std::sim::{DeviceNvm, NetConfig, SimPort, World};
use carrier_os_std::testdir::TestDir;

/// A miniature runtime: attach, open, send five numbered pings 200 ms
/// apart, collect the echoes. `poll` never blocks and returns its next
/// deadline, or `None` when finished.
struct Pinger {
    echo: Endpoint,
    sock: Option<SocketId>,
    next_ping: Instant,
    sent: u8,
    got: Vec<u8>,
    until: Option<Instant>,
}

impl Pinger {
    fn new(echo: Endpoint) -> Self {
        Pinger { echo, sock: None, next_ping: Instant::ZERO, sent: 0, got: Vec::new(), until: None }
    }

    fn poll<P: Modem + Transport + Clock + Log>(&mut self, p: &mut P) -> Option<Instant> {
        let now = p.now();
        let retry = now + Duration::from_millis(500);
        if !p.link_state().is_up() {
            p.request_link(LinkRequest::Up).ok()?;
            return Some(retry);
        }
        let Some(s) = self.sock else {
            self.sock = p.open(&self.echo).ok();
            return Some(now);
        };
        match p.poll_open(s) {
            Poll::Pending => return Some(retry),
            Poll::Ready(r) => r.ok()?,
        }
        let mut buf = [0u8; 16];
        while let Poll::Ready(Ok(n)) = p.recv(s, &mut buf) {
            self.got.extend_from_slice(&buf[..n]);
            p.log(Level::Info, format_args!("echo {:?}", &buf[..n]));
        }
        if self.sent < 5
            && now >= self.next_ping
            && let Poll::Ready(Ok(())) = p.send(s, &[self.sent])
        {
            self.sent += 1;
            self.next_ping = now + Duration::from_millis(200);
        }
        if self.sent == 5 {
            let until = *self.until.get_or_insert(now + Duration::from_secs(2));
            if now >= until || self.got.len() == 5 {
                p.close(s);
                return None;
            }
            return Some(until);
        }
        Some(self.next_ping)
    }
}

fn run_blocking<P: Modem + Transport + Clock + Log + Wait>(p: &mut P, echo: Endpoint) -> Vec<u8> {
    let mut r = Pinger::new(echo);
    while let Some(next) = r.poll(p) {
        p.wait_until(Some(next));
    }
    r.got
}

async fn run_async<P: Modem + Transport + Clock + Log + AsyncWait>(
    p: &mut P,
    echo: Endpoint,
) -> Vec<u8> {
    let mut r = Pinger::new(echo);
    while let Some(next) = r.poll(p) {
        p.wait_until_async(Some(next)).await;
    }
    r.got
}

/// The smallest executor: park the thread until woken.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl TaskWake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn echo_endpoint(addr: std::net::SocketAddr) -> Endpoint {
    Endpoint {
        host: addr.ip().to_string().as_str().try_into().unwrap(),
        port: addr.port(),
        pdn: PdnId::DEFAULT,
        family: Family::Any,
        security: Security::None,
    }
}

#[test]
fn blocking_and_async_drivers_give_the_same_simulated_trace() {
    let echo: std::net::SocketAddr = "192.0.2.7:7".parse().unwrap();
    let run = |use_async: bool| {
        let world = World::new(99, NetConfig { loss_permille: 100, ..NetConfig::default() });
        world.add_echo(echo);
        let mut dev = SimPort::boot(&world, 1, DeviceProfile::generic(1), DeviceNvm::default());
        let got = if use_async {
            block_on(run_async(&mut dev, echo_endpoint(echo)))
        } else {
            run_blocking(&mut dev, echo_endpoint(echo))
        };
        (got, world.trace())
    };
    let (got_b, trace_b) = run(false);
    let (got_a, trace_a) = run(true);
    assert!(!got_b.is_empty() && trace_b.contains("echo [0]"), "the exchange happened: {got_b:?}");
    assert_eq!(got_a, got_b);
    assert!(trace_a == trace_b, "the driver changed the trace");
}

fn udp_echo() -> std::net::SocketAddr {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    });
    addr
}

#[test]
fn blocking_and_async_drivers_both_complete_over_real_udp() {
    let echo = udp_echo();
    let mut profile = DeviceProfile::generic(3);
    profile.attach_ms = 50;
    let dir = TestDir::new("drivers");
    let mut p = RealPort::open(dir.path(), profile.clone()).unwrap();
    assert_eq!(run_blocking(&mut p, echo_endpoint(echo)), [0, 1, 2, 3, 4]);
    drop(p);
    let mut p = RealPort::open(dir.path(), profile).unwrap();
    assert_eq!(block_on(run_async(&mut p, echo_endpoint(echo))), [0, 1, 2, 3, 4]);
}
