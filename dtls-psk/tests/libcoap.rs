//! Interoperability with libcoap's DTLS builds (Debian package
//! `libcoap3-bin`: `coap-server-openssl`, `coap-server-gnutls`,
//! `coap-client-openssl`, `coap-client-gnutls`), over real UDP sockets on
//! 127.0.0.1. A missing binary FAILS the test with a message naming the
//! package.
//!
//! The CoAP messages are built by hand (a few bytes, RFC 7252 §3) so this
//! crate needs no CoAP dependency.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use dtls_psk::{Client, Config, Duration, Event, Instant, Psk, Server};

const IDENTITY: &str = "dtls-psk-test";
const KEY: &str = "secretPSK-16byte";
const WRONG_KEY: &str = "wrongPSK-16bytes";

/// CON GET /.well-known/core, message ID 0x1234, no token (RFC 7252 §3,
/// Uri-Path option 11 twice).
const GET_WELL_KNOWN_CORE: &[u8] = b"\x40\x01\x12\x34\xbb.well-known\x04core";

fn with_timeout(handshake_timeout: Duration) -> Config {
    Config { handshake_timeout, ..Config::default() }
}

fn require(binary: &str) -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(binary);
        if candidate.is_file() {
            return candidate.to_string_lossy().into_owned();
        }
    }
    panic!(
        "`{binary}` not found on PATH: install the Debian package `libcoap3-bin` (apt-get install libcoap3-bin)"
    );
}

/// A port p with p and p+1 free for UDP and TCP (coap-server binds all four).
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        let p = probe.local_addr().unwrap().port();
        drop(probe);
        let Some(p1) = p.checked_add(1) else { continue };
        let ok = [p, p1].iter().all(|port| {
            UdpSocket::bind(("127.0.0.1", *port)).is_ok()
                && TcpListener::bind(("127.0.0.1", *port)).is_ok()
        });
        if ok {
            return p;
        }
    }
    panic!("no free port pair on 127.0.0.1");
}

/// Kills the child (by its own handle) when the test ends, pass or fail.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` with PSK `key`; `extra` adds options (`-l` for loss).
fn start_coap_server(binary: &str, key: &str, extra: &[&str]) -> (Reaper, SocketAddr) {
    let path = require(binary);
    let port = free_port_pair();
    let child = Command::new(path)
        .args(["-A", "127.0.0.1", "-p", &port.to_string(), "-k", key, "-h", "CoAP", "-v", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary} (Debian package libcoap3-bin): {e}"));
    let reaper = Reaper(child);
    // Wait (setup, not a timing assertion) until the DTLS port is taken.
    let dtls_port = port + 1;
    for _ in 0..250 {
        if UdpSocket::bind(("127.0.0.1", dtls_port)).is_err() {
            return (reaper, SocketAddr::from(([127, 0, 0, 1], dtls_port)));
        }
        std::thread::sleep(StdDuration::from_millis(20));
    }
    panic!("{binary} did not bind 127.0.0.1:{dtls_port}");
}

/// Milliseconds since the test started: the wall clock as our `Instant`.
struct Clock(std::time::Instant);

impl Clock {
    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.0.elapsed().as_millis()).unwrap())
    }
}

/// Waits for one datagram until `deadline` (or at most 50 ms).
fn recv_until(
    socket: &UdpSocket,
    clock: &Clock,
    deadline: Option<Instant>,
    buf: &mut [u8],
) -> Option<(usize, SocketAddr)> {
    let now = clock.now();
    let wait = deadline.map_or(50, |d| (d - now).as_millis().clamp(1, 50));
    socket.set_read_timeout(Some(StdDuration::from_millis(wait))).unwrap();
    socket.recv_from(buf).ok()
}

struct ClientRun {
    events: Vec<Event>,
    response: Option<Vec<u8>>,
    stats: dtls_psk::Stats,
    elapsed: Duration,
    handshake_bytes: (u64, u64),
    /// Sizes of datagrams until Connected: positive sent, negative received.
    trace: Vec<i64>,
}

/// Our client against a server at `server`: handshake, then one GET.
fn run_client(server: SocketAddr, key: &str, config: Config, wall_limit: StdDuration) -> ClientRun {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(server).unwrap();
    let clock = Clock(std::time::Instant::now());
    let mut client =
        Client::new(IDENTITY.as_bytes(), Psk::new(key.as_bytes()).unwrap(), config).unwrap();
    client.connect(clock.now()).unwrap();
    let mut events = Vec::new();
    let mut response = None;
    let mut handshake_bytes = (0, 0);
    let mut trace = Vec::new();
    let mut buf = [0u8; 2048];
    while clock.0.elapsed() < wall_limit {
        while let Some(d) = client.poll_transmit() {
            trace.push(d.len() as i64);
            socket.send(&d).unwrap();
        }
        while let Some(e) = client.poll_event() {
            if e == Event::Connected {
                let s = client.stats();
                handshake_bytes = (s.bytes_sent, s.bytes_received);
                client.send(clock.now(), GET_WELL_KNOWN_CORE).unwrap();
            }
            events.push(e);
        }
        if let Some(r) = client.recv() {
            response = Some(r);
            break;
        }
        if events.iter().any(|e| matches!(e, Event::HandshakeTimeout | Event::Closed)) {
            break;
        }
        match recv_until(&socket, &clock, client.poll_timeout(), &mut buf) {
            Some((n, _)) => {
                trace.push(-(n as i64));
                client.handle_datagram(clock.now(), &buf[..n]);
            }
            None => client.handle_timeout(clock.now()),
        }
    }
    ClientRun {
        events,
        response,
        stats: client.stats(),
        elapsed: clock.now() - Instant::ZERO,
        handshake_bytes,
        trace,
    }
}

fn client_gets_resource_from(binary: &str) {
    client_gets_resource_despite_loss(binary, &[]);
}

/// `lost` lists which of the server's datagrams libcoap must not send
/// (its `-l` option, 1-based).
fn client_gets_resource_despite_loss(binary: &str, lost: &[&str]) {
    let (_server, addr) = if lost.is_empty() {
        start_coap_server(binary, KEY, &[])
    } else {
        start_coap_server(binary, KEY, &["-l", &lost.join(",")])
    };
    let run =
        run_client(addr, KEY, with_timeout(Duration::from_secs(10)), StdDuration::from_secs(15));
    assert_eq!(
        run.events.first(),
        Some(&Event::Connected),
        "{binary}: {:?}, datagrams {:?}",
        run.events,
        run.trace
    );
    let response = run
        .response
        .unwrap_or_else(|| panic!("{binary}: no CoAP response; events {:?}", run.events));
    // ACK (type 2), 2.05 Content, our message ID (RFC 7252 §3, §5.2.1).
    assert_eq!(response.first().map(|b| b >> 4), Some(0b0110), "{binary}: {response:02x?}");
    assert_eq!(response.get(1), Some(&0x45), "{binary}: code must be 2.05: {response:02x?}");
    assert_eq!(response.get(2..4), Some(&[0x12, 0x34][..]));
    println!(
        "{binary}: handshake {} bytes sent / {} bytes received; datagrams (+sent/-received) {:?}; whole exchange {:?} in {}",
        run.handshake_bytes.0, run.handshake_bytes.1, run.trace, run.stats, run.elapsed
    );
}

fn client_with_wrong_key_fails_against(binary: &str) {
    let (_server, addr) = start_coap_server(binary, KEY, &[]);
    let timeout = Duration::from_secs(6);
    let run = run_client(addr, WRONG_KEY, with_timeout(timeout), StdDuration::from_secs(12));
    assert!(!run.events.contains(&Event::Connected), "{binary}: {:?}", run.events);
    assert!(run.response.is_none());
    let last = run.events.last().copied();
    assert!(
        matches!(last, Some(Event::HandshakeTimeout | Event::Closed)),
        "{binary}: must end, got {:?}",
        run.events
    );
    // Real time: the deadline plus scheduling slack.
    assert!(run.elapsed.as_millis() <= timeout.as_millis() + 500, "{binary}: took {}", run.elapsed);
    println!("{binary} with a wrong key: {:?} after {}", run.events, run.elapsed);
}

#[test]
fn client_handshakes_and_gets_well_known_core_from_coap_server_openssl() {
    client_gets_resource_from("coap-server-openssl");
}

#[test]
fn client_handshakes_and_gets_well_known_core_from_coap_server_gnutls() {
    client_gets_resource_from("coap-server-gnutls");
}

#[test]
fn client_recovers_when_coap_server_openssl_loses_its_final_flight() {
    // OpenSSL sends HelloVerifyRequest, ServerHello+ServerHelloDone, then
    // ChangeCipherSpec+Finished in datagram 3: drop it. Our client resends
    // its last flight after 2 s and OpenSSL answers with its last flight.
    client_gets_resource_despite_loss("coap-server-openssl", &["3"]);
}

#[test]
fn client_recovers_when_coap_server_gnutls_loses_its_final_flight() {
    // GnuTLS sends HelloVerifyRequest, ServerHello, ServerKeyExchange (the
    // hint), ServerHelloDone, ChangeCipherSpec, Finished as datagrams 1..=6:
    // drop 5 and 6.
    client_gets_resource_despite_loss("coap-server-gnutls", &["5", "6"]);
}

#[test]
fn client_recovers_when_coap_server_gnutls_loses_part_of_a_flight() {
    // Drop ServerHelloDone (datagram 4) after ServerHello arrived: tinydtls
    // stops retransmitting on the ServerHello and libcoap-gnutls does not
    // resend on a timer, so only the client's stall restart (a new
    // ClientHello after 2 s of silence) gets the handshake going again.
    client_gets_resource_despite_loss("coap-server-gnutls", &["4"]);
}

#[test]
fn client_with_wrong_key_fails_cleanly_against_coap_server_openssl() {
    client_with_wrong_key_fails_against("coap-server-openssl");
}

#[test]
fn client_with_wrong_key_fails_cleanly_against_coap_server_gnutls() {
    client_with_wrong_key_fails_against("coap-server-gnutls");
}

struct ServerRun {
    client_ok: bool,
    client_stdout: String,
    events: Vec<Event>,
    requests: usize,
    /// Whether a datagram we "lost" was later sent again, byte for byte.
    repeated_lost: bool,
}

/// Our server on a real socket; `binary` as the client GETs /test.
/// `lost` lists which of our server's datagrams are not sent (0-based).
fn run_server(
    binary: &str,
    key: &str,
    config: Config,
    lost: &[usize],
    wall_limit: StdDuration,
) -> ServerRun {
    let path = require(binary);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let expected_key = Psk::new(KEY.as_bytes()).unwrap();
    let mut server = Server::new(
        move |identity: &[u8]| (identity == IDENTITY.as_bytes()).then(|| expected_key.clone()),
        config,
    )
    .unwrap();
    let child = Command::new(path)
        .args([
            "-u",
            IDENTITY,
            "-k",
            key,
            "-B",
            "8",
            "-v",
            "0",
            "-m",
            "get",
            &format!("coaps://127.0.0.1:{port}/test"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary} (Debian package libcoap3-bin): {e}"));
    let mut child = Reaper(child);
    let clock = Clock(std::time::Instant::now());
    let mut events = Vec::new();
    let mut requests = 0;
    let mut buf = [0u8; 2048];
    let mut exit = None;
    let mut sent = 0;
    let mut lost_datagrams = Vec::new();
    let mut repeated_lost = false;
    while clock.0.elapsed() < wall_limit {
        while let Some((to, d)) = server.poll_transmit() {
            sent += 1;
            if lost.contains(&(sent - 1)) {
                lost_datagrams.push(d);
                continue;
            }
            repeated_lost |= lost_datagrams.contains(&d);
            socket.send_to(&d, to).unwrap();
        }
        while let Some((_, e)) = server.poll_event() {
            events.push(e);
        }
        while let Some((from, request)) = server.recv() {
            requests += 1;
            if let Some(response) = answer(&request) {
                server.send(clock.now(), from, &response).unwrap();
            }
        }
        if exit.is_none() {
            exit = child.0.try_wait().unwrap();
        }
        // Keep serving until the client is gone and our side has settled.
        if exit.is_some() && server.poll_timeout().is_none() {
            break;
        }
        match recv_until(&socket, &clock, server.poll_timeout(), &mut buf) {
            Some((n, from)) => server.handle_datagram(clock.now(), from, &buf[..n]),
            None => server.handle_timeout(clock.now()),
        }
    }
    let status = match exit {
        Some(s) => s,
        None => child.0.wait().unwrap(),
    };
    let mut client_stdout = String::new();
    if let Some(mut out) = child.0.stdout.take() {
        out.read_to_string(&mut client_stdout).unwrap();
    }
    ServerRun { client_ok: status.success(), client_stdout, events, requests, repeated_lost }
}

/// A hand-built piggybacked 2.05 answer to a CON GET (RFC 7252 §5.2.1):
/// same message ID and token, payload after the 0xFF marker.
fn answer(request: &[u8]) -> Option<Vec<u8>> {
    let first = *request.first()?;
    let tkl = usize::from(first & 0x0f);
    if first >> 6 != 1 || request.get(1) != Some(&0x01) {
        return None;
    }
    let mid = request.get(2..4)?;
    let token = request.get(4..4 + tkl)?;
    let mut out = vec![0x60 | first & 0x0f, 0x45];
    out.extend_from_slice(mid);
    out.extend_from_slice(token);
    out.push(0xff);
    out.extend_from_slice(b"hello from dtls-psk");
    Some(out)
}

fn coap_client_gets_answer_from_our_server(binary: &str, lost: &[usize]) {
    let run = run_server(
        binary,
        KEY,
        with_timeout(Duration::from_secs(10)),
        lost,
        StdDuration::from_secs(15),
    );
    assert_eq!(run.events.first(), Some(&Event::Connected), "{binary}: {:?}", run.events);
    assert_eq!(run.requests, 1, "{binary}");
    assert!(
        run.client_stdout.contains("hello from dtls-psk"),
        "{binary} printed {:?}; events {:?}",
        run.client_stdout,
        run.events
    );
    assert!(run.client_ok, "{binary} exit status");
    assert_eq!(
        run.repeated_lost,
        !lost.is_empty(),
        "{binary}: the lost final flight must be resent as it was"
    );
}

fn coap_client_with_wrong_key_is_refused_by_our_server(binary: &str) {
    let timeout = Duration::from_secs(5);
    let run = run_server(binary, WRONG_KEY, with_timeout(timeout), &[], StdDuration::from_secs(15));
    assert!(!run.events.contains(&Event::Connected), "{binary}: {:?}", run.events);
    assert_eq!(run.requests, 0);
    assert!(!run.client_stdout.contains("hello"), "{binary}: {:?}", run.client_stdout);
    assert!(
        run.events.iter().any(|e| matches!(e, Event::HandshakeTimeout | Event::Closed)),
        "{binary}: the session must end with a typed event, got {:?}",
        run.events
    );
    println!(
        "{binary} with a wrong key: server events {:?}, client success {}",
        run.events, run.client_ok
    );
}

#[test]
fn coap_client_openssl_gets_answer_from_our_server() {
    coap_client_gets_answer_from_our_server("coap-client-openssl", &[]);
}

#[test]
fn coap_client_gnutls_gets_answer_from_our_server() {
    coap_client_gets_answer_from_our_server("coap-client-gnutls", &[]);
}

// Our server sends HelloVerifyRequest, ServerHello+ServerHelloDone, then
// ChangeCipherSpec+Finished (datagram 2): losing that one leaves the client
// waiting; its retransmitted final flight must make our server resend.

#[test]
fn coap_client_openssl_gets_answer_when_our_final_flight_is_lost() {
    coap_client_gets_answer_from_our_server("coap-client-openssl", &[2]);
}

#[test]
fn coap_client_gnutls_gets_answer_when_our_final_flight_is_lost() {
    coap_client_gets_answer_from_our_server("coap-client-gnutls", &[2]);
}

#[test]
fn coap_client_openssl_with_wrong_key_is_refused_by_our_server() {
    coap_client_with_wrong_key_is_refused_by_our_server("coap-client-openssl");
}

#[test]
fn coap_client_gnutls_with_wrong_key_is_refused_by_our_server() {
    coap_client_with_wrong_key_is_refused_by_our_server("coap-client-gnutls");
}
