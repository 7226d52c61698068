//! `carrier-sample --coap-demo` — the **CoAP-layer demo**: the layer the
//! LwM2M runtime stands on, `lwm2m_core::coap`'s sans-IO endpoint, driven over real UDP
//! sockets on 127.0.0.1. One thread runs two endpoints in one poll loop:
//!
//! - a **server** with three resources: `/firmware` (3000 bytes, served
//!   block-wise with Block2), `/config` (accepts a block-wise PUT with
//!   Block1) and `/sensor` (observable);
//! - a **client** that GETs `/firmware` in 256-byte blocks, PUTs 600 bytes
//!   to `/config` in 128-byte blocks, and observes `/sensor` for three
//!   notifications.
//!
//! Every datagram is printed as one line (the message's `Display`). The
//! program exits 0 when the script is done, within a few seconds.

use lwm2m_core::coap::Message;
use lwm2m_core::coap::block::{
    Block1Outcome, Block1Progress, Block1Receiver, Block1Sender, Block2Reassembler, BlockValue,
    Reassembly, Szx, serve_block2,
};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config, Endpoint, Event, ExchangeId};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::coap::observe::ObserverRegistry;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration, Instant};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;

/// `println!` that ends the demo quietly (exit 0) when stdout is closed
/// (`carrier-sample --coap-demo | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

type Ep = Endpoint<SocketAddr, XorShiftRng>;

/// Milliseconds since the demo started, as protocol time.
struct Clock(std::time::Instant);

impl Clock {
    fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX))
    }
}

/// One side of the demo: an endpoint, its socket, and its name for the log.
struct Node {
    name: &'static str,
    ep: Ep,
    sock: UdpSocket,
}

impl Node {
    fn bind(name: &'static str, seed: u32) -> std::io::Result<Node> {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_nonblocking(true)?;
        Ok(Node { name, ep: Endpoint::new(Config::default(), XorShiftRng::new(seed)), sock })
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().expect("a bound socket has an address")
    }

    /// Send what the endpoint queued, printing each datagram.
    fn flush(&mut self, clock: &Clock, peer: &str) -> std::io::Result<()> {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        while let Some(t) = self.ep.poll_transmit(clock.now(), &mut buf) {
            let bytes = &buf[..t.len];
            say!(
                "{:>8}  {:>6} -> {:<6} {}",
                clock.now(),
                self.name,
                peer,
                Message::new_unchecked(bytes)
            );
            self.sock.send_to(bytes, t.remote)?;
        }
        Ok(())
    }

    /// Feed every datagram waiting on the socket; then due timers.
    fn receive(&mut self, clock: &Clock) -> std::io::Result<()> {
        let mut rx = [0u8; 2048];
        loop {
            match self.sock.recv_from(&mut rx) {
                Ok((n, from)) => {
                    self.ep.handle_datagram(clock.now(), from, rx.get(..n).unwrap_or_default())
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        self.ep.handle_timeout(clock.now());
        Ok(())
    }
}

/// The demo server's state: resources and observers.
struct Resources {
    firmware: Vec<u8>,
    config: Block1Receiver<[u8; 1024]>,
    sensor: u32,
    observers: ObserverRegistry<SocketAddr, &'static str, 4>,
}

/// Answer every request the server endpoint has received.
fn serve(server: &mut Ep, res: &mut Resources, now: Instant) {
    while let Some(event) = server.poll_event() {
        let (id, remote, request) = match event {
            Event::Request { id, remote, request } => (id, remote, request),
            // A RST or an unanswered CON notification ends an observation
            // (RFC 7641 §3.6, §4.5).
            Event::Reset { remote, message_id, .. } | Event::Timeout { remote, message_id, .. } => {
                if let Some(path) = res.observers.cancel_by_mid(remote, message_id) {
                    say!("          server: observation of {path} cancelled by {remote}");
                }
                continue;
            }
            Event::Response { .. } | Event::Acknowledged { .. } => continue,
        };
        let path: Vec<&str> = request
            .options
            .get_all(OptionNumber::UriPath)
            .map(|o| std::str::from_utf8(o.value).unwrap_or("?"))
            .collect();
        let block = |n| request.options.get(n).and_then(|o| BlockValue::parse(o.value).ok());
        let result = match (request.code, path.as_slice()) {
            (Code::Get, ["firmware"]) => {
                let mut out = [0u8; 1024];
                let mut body: &[u8] = &res.firmware;
                match serve_block2(&mut body, block(OptionNumber::Block2), Szx::S1024, &mut out) {
                    Ok(s) => server.respond(id, Code::Content, |w| {
                        w.add_content_format(ContentFormat::OctetStream)?;
                        if let Some(b) = s.block {
                            w.add_uint(OptionNumber::Block2, b.to_uint())?;
                        }
                        if let Some(size) = s.size2 {
                            w.add_uint(OptionNumber::Size2, size)?;
                        }
                        w.set_payload(out.get(..s.len).unwrap_or_default())
                    }),
                    Err(e) => server.respond(id, e.into(), |_| Ok(())),
                }
            }
            (Code::Put, ["config"]) => {
                let Some(b1) = block(OptionNumber::Block1) else {
                    continue;
                };
                let size1 = request.options.get_uint(OptionNumber::Size1);
                match res.config.handle(b1, size1, request.payload) {
                    Ok(Block1Outcome::Continue(b)) => server.respond(id, Code::Continue, |w| {
                        w.add_uint(OptionNumber::Block1, b.to_uint())
                    }),
                    Ok(Block1Outcome::Complete(b)) => server.respond(id, Code::Changed, |w| {
                        w.add_uint(OptionNumber::Block1, b.to_uint())
                    }),
                    Err(e) => server.respond(id, e.into(), |_| Ok(())),
                }
            }
            (Code::Get, ["sensor"]) => {
                let observe = match request.options.get_uint(OptionNumber::Observe) {
                    Some(0) => res
                        .observers
                        .register(remote, request.token.as_bytes(), "/sensor", now)
                        .ok(),
                    _ => None,
                };
                let value = res.sensor.to_string();
                server.respond(id, Code::Content, |w| {
                    if let Some((_, seq)) = observe {
                        w.add_uint(OptionNumber::Observe, seq)?;
                    }
                    w.add_content_format(ContentFormat::TextPlain)?;
                    w.set_payload(value.as_bytes())
                })
            }
            _ => server.respond(id, Code::NotFound, |_| Ok(())),
        };
        if let Err(e) = result {
            eprintln!("server: cannot answer: {e}");
        }
    }
}

/// What the client is doing.
enum Step {
    Firmware { reassembler: Block2Reassembler<Vec<u8>>, waiting: ExchangeId },
    Config { sender: Block1Sender<'static>, waiting: ExchangeId },
    Observing { waiting: ExchangeId, notifications: u32 },
    Done,
}

const CONFIG: &[u8] = &[b'#'; 600];

fn get_firmware_block(client: &mut Ep, now: Instant, to: SocketAddr, b: BlockValue) -> ExchangeId {
    client
        .request(now, to, true, Code::Get, |w| {
            w.add_uri_path("firmware")?;
            w.add_uint(OptionNumber::Block2, b.to_uint())
        })
        .expect("a free exchange slot: one request at a time")
}

fn put_config_block(
    client: &mut Ep,
    now: Instant,
    to: SocketAddr,
    s: &Block1Sender<'_>,
) -> ExchangeId {
    let (b, chunk) = s.current().expect("600 bytes fit in 2^20 blocks");
    client
        .request(now, to, true, Code::Put, |w| {
            w.add_uri_path("config")?;
            w.add_uint(OptionNumber::Block1, b.to_uint())?;
            w.set_payload(chunk)
        })
        .expect("a free exchange slot: one request at a time")
}

/// Advance the client's script with its events.
fn script(client: &mut Ep, step: Step, now: Instant, to: SocketAddr) -> Step {
    let mut step = step;
    while let Some(event) = client.poll_event() {
        let (exchange, response) = match event {
            Event::Response { exchange, response, .. } => (exchange, response),
            Event::Timeout { .. } | Event::Reset { .. } => {
                eprintln!("client: {event:?}");
                return Step::Done;
            }
            _ => continue,
        };
        let block = |n| response.options.get(n).and_then(|o| BlockValue::parse(o.value).ok());
        step = match step {
            Step::Firmware { mut reassembler, waiting } if exchange == waiting => {
                let size2 = response.options.get_uint(OptionNumber::Size2);
                match reassembler.handle(block(OptionNumber::Block2), size2, response.payload) {
                    Ok(Reassembly::Next(b)) => {
                        let waiting = get_firmware_block(client, now, to, b);
                        Step::Firmware { reassembler, waiting }
                    }
                    Ok(Reassembly::Complete(n)) => {
                        say!("          client: firmware complete, {n} bytes");
                        let sender = Block1Sender::new(CONFIG, Szx::S128);
                        let waiting = put_config_block(client, now, to, &sender);
                        Step::Config { sender, waiting }
                    }
                    Err(e) => {
                        eprintln!("client: block2 transfer failed: {e}");
                        Step::Done
                    }
                }
            }
            Step::Config { mut sender, waiting } if exchange == waiting => {
                match sender.handle_response(response.code, block(OptionNumber::Block1)) {
                    Ok(Block1Progress::Next) => {
                        let waiting = put_config_block(client, now, to, &sender);
                        Step::Config { sender, waiting }
                    }
                    Ok(Block1Progress::Done(code)) => {
                        say!("          client: config stored: {code:#}");
                        let waiting = client
                            .request(now, to, true, Code::Get, |w| {
                                w.add_uint(OptionNumber::Observe, 0)?;
                                w.add_uri_path("sensor")
                            })
                            .expect("a free exchange slot");
                        Step::Observing { waiting, notifications: 0 }
                    }
                    Err(e) => {
                        eprintln!("client: block1 transfer failed: {e}");
                        Step::Done
                    }
                }
            }
            Step::Observing { waiting, notifications } if exchange == waiting => {
                let value = String::from_utf8_lossy(response.payload).into_owned();
                if notifications == 0 {
                    say!("          client: observing /sensor, value {value}");
                } else {
                    say!("          client: notification {notifications}: /sensor = {value}");
                }
                if notifications == 3 {
                    // Forget the observation: the next notification gets RST,
                    // which cancels it at the server (RFC 7641 §3.6).
                    client.forget(waiting);
                    Step::Done
                } else {
                    Step::Observing { waiting, notifications: notifications + 1 }
                }
            }
            other => other,
        };
    }
    step
}

fn run() -> std::io::Result<bool> {
    say!("carrier-sample: the CoAP-layer demo (lwm2m_core::coap over loopback UDP),");
    say!("the layer the LwM2M runtime runs on.\n");
    let clock = Clock(std::time::Instant::now());
    let mut server = Node::bind("server", 0x5e_12e4)?;
    let mut client = Node::bind("client", 0xc1_1e47)?;
    let to = server.addr();
    let mut res = Resources {
        firmware: (0..3000u32).map(|i| (i % 251) as u8).collect(),
        config: Block1Receiver::new([0; 1024], Szx::S128),
        sensor: 20,
        observers: ObserverRegistry::default(),
    };
    let first = Block2Reassembler::new(vec![0; 4096], Szx::S256);
    let mut step = {
        let mut r = first;
        let b = r.first_request();
        let waiting = get_firmware_block(&mut client.ep, clock.now(), to, b);
        Step::Firmware { reassembler: r, waiting }
    };
    let mut last_change = clock.now();
    let deadline = clock.now() + Duration::from_secs(10);
    loop {
        client.flush(&clock, "server")?;
        server.flush(&clock, "client")?;
        std::thread::sleep(std::time::Duration::from_millis(2));
        let now = clock.now();
        server.receive(&clock)?;
        serve(&mut server.ep, &mut res, now);
        client.receive(&clock)?;
        step = script(&mut client.ep, step, now, to);
        // The sensor changes every 300 ms while observed.
        if !res.observers.is_empty() && now >= last_change + Duration::from_millis(300) {
            last_change = now;
            res.sensor += 1;
            let value = res.sensor.to_string();
            let ids: Vec<_> = res.observers.observers_of(&"/sensor").collect();
            for id in ids {
                let sent =
                    server.ep.notify(now, &mut res.observers, id, false, Code::Content, |w| {
                        w.add_content_format(ContentFormat::TextPlain)?;
                        w.set_payload(value.as_bytes())
                    });
                if let Err(e) = sent {
                    eprintln!("server: notification not sent: {e}");
                }
            }
        }
        if matches!(step, Step::Done) && res.observers.is_empty() {
            client.flush(&clock, "server")?;
            say!(
                "\ndone: Block2 GET, Block1 PUT ({} bytes stored) and 3 notifications.",
                res.config.body().len()
            );
            return Ok(res.config.body() == CONFIG);
        }
        if now >= deadline {
            eprintln!("demo did not finish within 10 s");
            return Ok(false);
        }
    }
}

/// Runs the demo; exit code 0 when the script completed.
pub fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("carrier-sample: {e}");
            ExitCode::FAILURE
        }
    }
}
