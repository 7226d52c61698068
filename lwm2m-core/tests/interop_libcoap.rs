//! Interoperability with an independent CoAP implementation: libcoap 4.3
//! (Debian package `libcoap3-bin`: `coap-server-openssl`,
//! `coap-client-openssl`), over real UDP sockets on 127.0.0.1.
//!
//! 1. The endpoint as a client, driven over a `std::net::UdpSocket`, against
//!    `coap-server-openssl`: GET `/.well-known/core`, GET a 2600-byte
//!    resource with Block2, PUT one with Block1.
//! 2. `coap-client-openssl` against a small server built from the endpoint
//!    (the toy server of `coap_endpoint_support`): GET, GET with Block2,
//!    PUT with Block1 (`-b 64 -f file`), and an observation (`-s`).
//!
//! These tests FAIL (they never skip) when the libcoap programs are
//! missing. Every wait is bounded by a wall-clock deadline on the child
//! process or the exchange; no assertion depends on a sleep.
#![allow(clippy::std_instead_of_core, clippy::unwrap_used)]

mod coap_endpoint_support;

use coap_endpoint_support::{
    Clock, LARGE_LEN, ToyServer, WELL_KNOWN, flush, large_body, wait_and_feed,
};
use lwm2m_core::coap::block::{
    Block1Progress, Block1Sender, Block2Reassembler, BlockValue, Reassembly, Szx,
};
use lwm2m_core::coap::endpoint::{Config, Endpoint, Event};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::coap::{Error, MessageWriter};
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::Duration;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant as WallInstant;

const SERVER_BIN: &str = "coap-server-openssl";
const CLIENT_BIN: &str = "coap-client-openssl";

/// The path of a libcoap program; panics naming the Debian package if absent.
fn require(bin: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(bin))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "`{bin}` not found: install the Debian package `libcoap3-bin` \
             (apt-get install -y libcoap3-bin) to run the libcoap interop tests"
        )
    })
}

/// A child process killed when the test ends, however it ends.
struct Guard(Option<Child>);

impl Guard {
    fn new(child: Child) -> Self {
        Guard(Some(child))
    }

    fn has_exited(&mut self) -> bool {
        self.0.as_mut().is_none_or(|c| c.try_wait().unwrap().is_some())
    }

    /// The output of a child that has exited.
    fn output(mut self) -> std::process::Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A UDP port nobody uses right now.
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Faster retransmission than RFC 7252's defaults, so a server that is
/// still starting up costs milliseconds, not seconds.
fn quick_config() -> Config {
    Config { ack_timeout: Duration::from_millis(200), ..Config::default() }
}

/// A response, copied out of the endpoint.
struct Reply {
    code: Code,
    payload: Vec<u8>,
    block1: Option<BlockValue>,
    block2: Option<BlockValue>,
    size2: Option<u32>,
}

/// A client endpoint on a real socket.
struct UdpClient {
    ep: Endpoint<SocketAddr, XorShiftRng>,
    sock: UdpSocket,
    clock: Clock,
    server: SocketAddr,
}

impl UdpClient {
    fn new(server: SocketAddr) -> Self {
        UdpClient {
            ep: Endpoint::new(quick_config(), XorShiftRng::new(0x1b_c0a9)),
            sock: UdpSocket::bind("127.0.0.1:0").unwrap(),
            clock: Clock::new(),
            server,
        }
    }

    /// One CON request, driven to its response within 10 s.
    fn call(
        &mut self,
        code: Code,
        build: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), Error>,
    ) -> Reply {
        let ex = self.ep.request(self.clock.now(), self.server, true, code, build).unwrap();
        let deadline = WallInstant::now() + std::time::Duration::from_secs(10);
        while WallInstant::now() < deadline {
            flush(&mut self.ep, &self.sock, self.clock.now());
            while let Some(ev) = self.ep.poll_event() {
                match ev {
                    Event::Response { exchange, response, .. } if exchange == ex => {
                        let block = |n| {
                            response.options.get(n).map(|o| BlockValue::parse(o.value).unwrap())
                        };
                        return Reply {
                            code: response.code,
                            payload: response.payload.to_vec(),
                            block1: block(OptionNumber::Block1),
                            block2: block(OptionNumber::Block2),
                            size2: response.options.get_uint(OptionNumber::Size2),
                        };
                    }
                    Event::Timeout { exchange, .. } if exchange == ex => {
                        panic!("{code} request timed out")
                    }
                    _ => {}
                }
            }
            wait_and_feed(&mut self.ep, &self.sock, &self.clock);
        }
        panic!("no response to {code} within 10 s");
    }
}

fn start_libcoap_server() -> (Guard, SocketAddr) {
    let bin = require(SERVER_BIN);
    let port = free_port();
    // -d: allow PUT to create resources dynamically.
    let child = Command::new(bin)
        .args(["-A", "127.0.0.1", "-p", &port.to_string(), "-d", "10", "-v", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Guard::new(child), SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Run `coap-client-openssl args…` to completion within `limit`.
fn run_client(args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let bin = require(CLIENT_BIN);
    let child =
        Command::new(bin).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_limited(Guard::new(child), limit, |_| {})
}

/// Wait for a child, calling `tick` while it runs; kills it and fails after `limit`.
fn wait_limited(
    mut g: Guard,
    limit: std::time::Duration,
    mut tick: impl FnMut(&mut Guard),
) -> std::process::Output {
    let deadline = WallInstant::now() + limit;
    loop {
        if g.has_exited() {
            return g.output();
        }
        assert!(WallInstant::now() < deadline, "libcoap client did not finish within {limit:?}");
        tick(&mut g);
    }
}

/// A temporary file with `bytes`, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("lwm2m-interop-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Printable, position-dependent content (libcoap's client writes what it
/// gets to a file, so any byte values work; text makes failures readable).
fn content(len: usize, salt: u8) -> Vec<u8> {
    (0..len).map(|i| b'A' + ((i * 7 + usize::from(salt)) % 26) as u8).collect()
}

#[test]
fn core_client_gets_well_known_core_and_a_block2_resource_from_libcoap_server() {
    let (_server, addr) = start_libcoap_server();
    let mut c = UdpClient::new(addr);

    let r = c.call(Code::Get, |w| w.add_uri_path("/.well-known/core"));
    assert_eq!(r.code, Code::Content);
    let links = String::from_utf8(r.payload).unwrap();
    assert!(links.contains("</time>"), "libcoap's listing: {links}");

    // Create a 2600-byte resource with libcoap's own client, then fetch it
    // with Block2 in 64-byte blocks (early negotiation, RFC 7959 Figure 3).
    let body = content(2600, 3);
    let file = TempFile::new("block2.txt", &body);
    let url = format!("coap://{addr}/big");
    let out = run_client(
        &["-B", "10", "-m", "put", "-f", file.path(), &url],
        std::time::Duration::from_secs(15),
    );
    assert!(out.status.success(), "coap-client PUT failed: {out:?}");

    let mut r2 = Block2Reassembler::new(vec![0u8; 8192], Szx::S64);
    let mut block = r2.first_request();
    let mut blocks = 0;
    let len = loop {
        blocks += 1;
        let reply = c.call(Code::Get, |w| {
            w.add_uri_path("big")?;
            w.add_uint(OptionNumber::Block2, block.to_uint())
        });
        assert_eq!(reply.code, Code::Content);
        match r2.handle(reply.block2, reply.size2, &reply.payload).unwrap() {
            Reassembly::Next(next) => block = next,
            Reassembly::Complete(n) => break n,
        }
    };
    assert_eq!(len, body.len());
    assert_eq!(r2.body(), &body[..]);
    assert_eq!(blocks, body.len().div_ceil(64));
}

#[test]
fn core_client_puts_with_block1_to_libcoap_server() {
    let (_server, addr) = start_libcoap_server();
    let mut c = UdpClient::new(addr);
    let body = content(1500, 11);
    let mut s = Block1Sender::new(&body, Szx::S128);
    let mut blocks = 0;
    loop {
        blocks += 1;
        let (blk, chunk) = s.current().unwrap();
        let size1 = s.size1().unwrap();
        let reply = c.call(Code::Put, |w| {
            w.add_uri_path("upload")?;
            w.add_uint(OptionNumber::Block1, blk.to_uint())?;
            if blk.num == 0 {
                w.add_uint(OptionNumber::Size1, size1)?;
            }
            w.set_payload(chunk)
        });
        match s.handle_response(reply.code, reply.block1).unwrap() {
            Block1Progress::Next => {}
            Block1Progress::Done(code) => {
                assert_eq!(code, Code::Created, "libcoap creates the resource");
                break;
            }
        }
        assert!(blocks < 100);
    }
    assert_eq!(blocks, body.len().div_ceil(128));
    // Read it back with libcoap's client.
    let out_file = TempFile::new("block1-readback.txt", b"");
    let url = format!("coap://{addr}/upload");
    let out =
        run_client(&["-B", "10", "-o", out_file.path(), &url], std::time::Duration::from_secs(15));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read(&out_file.0).unwrap(), body);
}

/// The toy server on a real socket, served while `client` runs.
fn serve_while(
    server: &mut ToyServer<SocketAddr>,
    sock: &UdpSocket,
    clock: &Clock,
    args: &[&str],
    limit: std::time::Duration,
    mut every: impl FnMut(&mut ToyServer<SocketAddr>, lwm2m_core::time::Instant),
) -> std::process::Output {
    let bin = require(CLIENT_BIN);
    let child =
        Command::new(bin).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_limited(Guard::new(child), limit, |_| {
        flush(&mut server.ep, sock, clock.now());
        wait_and_feed(&mut server.ep, sock, clock);
        server.handle_events(clock.now());
        every(server, clock.now());
        flush(&mut server.ep, sock, clock.now());
    })
}

fn toy_server() -> (ToyServer<SocketAddr>, UdpSocket, Clock, SocketAddr) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    (ToyServer::new(0x70_7e), sock, Clock::new(), addr)
}

#[test]
fn libcoap_client_gets_well_known_core_and_block2_resource_from_core_server() {
    let (mut server, sock, clock, addr) = toy_server();
    let limit = std::time::Duration::from_secs(20);
    let url = format!("coap://{addr}/.well-known/core");
    let out = serve_while(&mut server, &sock, &clock, &["-B", "10", &url], limit, |_, _| {});
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), WELL_KNOWN);

    // /large needs Block2 at any size; libcoap follows the M bit.
    let file = TempFile::new("large-out.bin", b"");
    let url = format!("coap://{addr}/large");
    let out = serve_while(
        &mut server,
        &sock,
        &clock,
        &["-B", "10", "-o", file.path(), &url],
        limit,
        |_, _| {},
    );
    assert!(out.status.success(), "{out:?}\n{:#?}", server.log);
    let got = std::fs::read(&file.0).unwrap();
    assert_eq!(got.len(), LARGE_LEN);
    assert_eq!(got, large_body());
    assert!(server.log.len() > 1, "more than one block request: {:#?}", server.log);
}

#[test]
fn libcoap_client_puts_with_block1_to_core_server() {
    let (mut server, sock, clock, addr) = toy_server();
    let body = content(1000, 5);
    let file = TempFile::new("put.txt", &body);
    let url = format!("coap://{addr}/upload");
    let limit = std::time::Duration::from_secs(20);
    let out = serve_while(
        &mut server,
        &sock,
        &clock,
        &["-B", "10", "-m", "put", "-b", "64", "-f", file.path(), &url],
        limit,
        |_, _| {},
    );
    assert!(out.status.success(), "{out:?}\n{:#?}", server.log);
    assert_eq!(server.uploaded, body, "{:#?}", server.log);
    assert_eq!(
        server.log.len(),
        body.len().div_ceil(64),
        "one request per 64-byte block: {:#?}",
        server.log
    );
}

#[test]
fn libcoap_client_observes_core_server() {
    let (mut server, sock, clock, addr) = toy_server();
    let url = format!("coap://{addr}/counter");
    let limit = std::time::Duration::from_secs(20);
    // Observe for 3 s; the resource changes every 400 ms once observed.
    let mut last_tick = None;
    let out = serve_while(
        &mut server,
        &sock,
        &clock,
        &["-B", "10", "-w", "-s", "3", &url],
        limit,
        |s, now| {
            if s.observers.is_empty() {
                return;
            }
            let due = last_tick.is_none_or(|t| now >= t + Duration::from_millis(400));
            if due {
                last_tick = Some(now);
                s.tick(now);
            }
        },
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let values: Vec<u32> = stdout.lines().filter_map(|l| l.trim().parse().ok()).collect();
    // The registration response ("0") and then notifications 1, 2, 3, …
    assert!(
        values.len() >= 4,
        "expected the registration response and >= 3 notifications, got {stdout:?}"
    );
    eprintln!("observed values: {values:?}");
    assert_eq!(values[0], 0);
    assert!(values.windows(2).all(|w| w[1] == w[0] + 1), "notifications in order: {values:?}");
}
