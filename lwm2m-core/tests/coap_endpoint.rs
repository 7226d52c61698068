//! Protocol stories: a client endpoint and a toy server endpoint joined by
//! an in-memory link with a virtual clock (`Pair`, after quinn-proto's test
//! harness). Block-wise GET and PUT with the RFC 7959 helpers, an
//! observation, and recovery from loss by retransmission.

mod coap_endpoint_support;

use coap_endpoint_support::{LARGE_LEN, SERVER_SZX, ToyServer, block_option, large_body};
use lwm2m_core::coap::block::{
    Block1Progress, Block1Sender, Block2Reassembler, BlockValue, Reassembly, Szx,
};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config, Endpoint, Event, ExchangeId};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::coap::{MessageWriter, Repr};
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration, Instant};
use std::collections::VecDeque;

const CLIENT: u8 = 1;
const SERVER: u8 = 2;

/// A response as the client saw it (events borrow the endpoint, so the
/// harness keeps owned copies).
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Response {
        exchange: ExchangeId,
        code: Code,
        payload: Vec<u8>,
        block1: Option<BlockValue>,
        block2: Option<BlockValue>,
        size2: Option<u32>,
        observe: Option<u32>,
    },
    Timeout(ExchangeId),
    Reset,
    Acknowledged,
}

type Drop = Box<dyn FnMut(u8, &[u8]) -> bool>;

struct Pair {
    client: Endpoint<u8, XorShiftRng>,
    server: ToyServer<u8>,
    now: Instant,
    /// Datagrams in flight: (to, from, bytes).
    link: VecDeque<(u8, u8, Vec<u8>)>,
    /// Decides which datagrams the link loses.
    drop: Drop,
    seen: VecDeque<Seen>,
    /// Every datagram with its time and fate, for failure messages.
    trace: Vec<String>,
}

impl Pair {
    fn new() -> Self {
        Pair {
            client: Endpoint::new(Config::default(), XorShiftRng::new(0xc11e)),
            server: ToyServer::new(0x5e5e),
            now: Instant::from_secs(1),
            link: VecDeque::new(),
            drop: Box::new(|_, _| false),
            seen: VecDeque::new(),
            trace: Vec::new(),
        }
    }

    /// Move queued datagrams onto the link, deliver them, drain events.
    /// Returns false when nothing moved and no deadline is pending.
    fn step(&mut self) -> bool {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
            self.send(CLIENT, t.remote, &buf[..t.len]);
        }
        while let Some(t) = self.server.ep.poll_transmit(self.now, &mut buf) {
            self.send(SERVER, t.remote, &buf[..t.len]);
        }
        if let Some((to, from, bytes)) = self.link.pop_front() {
            match to {
                SERVER => {
                    self.server.ep.handle_datagram(self.now, from, &bytes);
                    self.server.handle_events(self.now);
                }
                _ => {
                    self.client.handle_datagram(self.now, from, &bytes);
                    self.collect();
                }
            }
            return true;
        }
        let next =
            [self.client.poll_timeout(), self.server.ep.poll_timeout()].into_iter().flatten().min();
        match next {
            Some(t) if t < self.now + Duration::from_secs(3600) => {
                self.now = self.now.max(t);
                self.client.handle_timeout(self.now);
                self.server.ep.handle_timeout(self.now);
                self.collect();
                self.server.handle_events(self.now);
                true
            }
            _ => false,
        }
    }

    fn send(&mut self, from: u8, to: u8, bytes: &[u8]) {
        let lost = (self.drop)(from, bytes);
        let line = format!(
            "{} {from}->{to} {}{}",
            self.now,
            Repr::decode(bytes).map(|r| r.to_string()).unwrap_or_else(|e| e.to_string()),
            if lost { " (lost)" } else { "" }
        );
        self.trace.push(line);
        if !lost {
            self.link.push_back((to, from, bytes.to_vec()));
        }
    }

    fn collect(&mut self) {
        while let Some(ev) = self.client.poll_event() {
            let seen = match ev {
                Event::Response { exchange, response, .. } => Seen::Response {
                    exchange,
                    code: response.code,
                    payload: response.payload.to_vec(),
                    block1: block_option(&response, OptionNumber::Block1).map(Result::unwrap),
                    block2: block_option(&response, OptionNumber::Block2).map(Result::unwrap),
                    size2: response.options.get_uint(OptionNumber::Size2),
                    observe: response.options.get_uint(OptionNumber::Observe),
                },
                Event::Timeout { exchange, .. } => Seen::Timeout(exchange),
                Event::Reset { .. } => Seen::Reset,
                Event::Acknowledged { .. } => Seen::Acknowledged,
                Event::Request { .. } => panic!("the client serves nothing"),
            };
            self.seen.push_back(seen);
        }
    }

    /// Step until the client has seen something; fails on livelock.
    fn drive_bounded(&mut self, max_steps: usize) -> Seen {
        for _ in 0..max_steps {
            if let Some(s) = self.seen.pop_front() {
                return s;
            }
            if !self.step() {
                break;
            }
        }
        self.seen
            .pop_front()
            .unwrap_or_else(|| panic!("no outcome; trace:\n{}", self.trace.join("\n")))
    }

    /// Let everything in flight settle (bounded: fails on livelock).
    fn settle(&mut self) {
        for _ in 0..100 {
            if !self.step() {
                return;
            }
        }
        panic!("no quiescence; trace:\n{}", self.trace.join("\n"));
    }

    fn request(
        &mut self,
        code: Code,
        build: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), lwm2m_core::coap::Error>,
    ) -> (ExchangeId, Seen) {
        let ex = self.client.request(self.now, SERVER, true, code, build).unwrap();
        (ex, self.drive_bounded(200))
    }
}

#[test]
fn block2_get_with_early_negotiation_reassembles_the_body() {
    let mut p = Pair::new();
    let mut store = vec![0u8; 4096];
    let mut r = Block2Reassembler::new(&mut store[..], Szx::S64);
    let mut block = r.first_request();
    let mut rounds = 0;
    let len = loop {
        rounds += 1;
        let (_, seen) = p.request(Code::Get, |w| {
            w.add_uri_path("large")?;
            w.add_uint(OptionNumber::Block2, block.to_uint())
        });
        let Seen::Response { code: Code::Content, payload, block2, size2, .. } = seen else {
            panic!("{seen:?}")
        };
        match r.handle(block2, size2, &payload).unwrap() {
            Reassembly::Next(next) => block = next,
            Reassembly::Complete(n) => break n,
        }
    };
    assert_eq!(len, LARGE_LEN);
    assert_eq!(r.body(), &large_body()[..]);
    assert_eq!(rounds, LARGE_LEN.div_ceil(64));
}

#[test]
fn block2_get_without_option_follows_the_server_block_size() {
    let mut p = Pair::new();
    let mut r = Block2Reassembler::new([0u8; 4096], Szx::S1024);
    let mut block: Option<BlockValue> = None;
    let mut sizes = Vec::new();
    loop {
        let (_, seen) = p.request(Code::Get, |w| {
            w.add_uri_path("large")?;
            match block {
                Some(b) => w.add_uint(OptionNumber::Block2, b.to_uint()),
                None => Ok(()),
            }
        });
        let Seen::Response { payload, block2, size2, .. } = seen else { panic!("{seen:?}") };
        sizes.push(block2.unwrap().szx);
        if block.is_none() {
            assert_eq!(size2, Some(LARGE_LEN as u32), "Size2 on the first block (RFC 7959 §4)");
        }
        match r.handle(block2, size2, &payload).unwrap() {
            Reassembly::Next(next) => block = Some(next),
            Reassembly::Complete(_) => break,
        }
    }
    assert!(sizes.iter().all(|s| *s == SERVER_SZX), "{sizes:?}");
    assert_eq!(r.body(), &large_body()[..]);
}

#[test]
fn block1_put_adopts_the_server_block_size_and_completes() {
    let mut p = Pair::new();
    let body: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
    let mut s = Block1Sender::new(&body, Szx::S1024);
    let mut sent = Vec::new();
    loop {
        let (blk, chunk) = s.current().unwrap();
        sent.push(blk);
        let size1 = s.size1().unwrap();
        let (_, seen) = p.request(Code::Put, |w| {
            w.add_uri_path("upload")?;
            w.add_uint(OptionNumber::Block1, blk.to_uint())?;
            if blk.num == 0 {
                w.add_uint(OptionNumber::Size1, size1)?;
            }
            w.set_payload(chunk)
        });
        let Seen::Response { code, block1, .. } = seen else { panic!("{seen:?}") };
        match s.handle_response(code, block1).unwrap() {
            Block1Progress::Next => {}
            Block1Progress::Done(code) => {
                assert_eq!(code, Code::Changed);
                break;
            }
        }
    }
    assert_eq!(p.server.uploaded, body);
    // First block at 1024, then the server's 256 (RFC 7959 §2.3, Figure 7 shape).
    assert_eq!(sent[0], BlockValue::new(0, true, Szx::S1024).unwrap());
    assert_eq!(sent[1], BlockValue::new(4, true, Szx::S256).unwrap());
    assert_eq!(sent.last().unwrap(), &BlockValue::new(5, false, Szx::S256).unwrap());
}

#[test]
fn block1_put_too_large_gets_4_13_with_size1() {
    let mut p = Pair::new();
    let (_, seen) = p.request(Code::Put, |w| {
        w.add_uri_path("upload")?;
        w.add_uint(OptionNumber::Block1, BlockValue::new(0, true, Szx::S64).unwrap().to_uint())?;
        w.add_uint(OptionNumber::Size1, 100_000)?;
        w.set_payload(&[0; 64])
    });
    let Seen::Response { code, .. } = seen else { panic!("{seen:?}") };
    assert_eq!(code, Code::RequestEntityTooLarge);
}

#[test]
fn observation_delivers_notifications_until_forgotten() {
    let mut p = Pair::new();
    let (ex, seen) = p.request(Code::Get, |w| {
        w.add_uint(OptionNumber::Observe, 0)?;
        w.add_uri_path("counter")
    });
    let Seen::Response { exchange, observe: Some(_), payload, .. } = seen else {
        panic!("{seen:?}")
    };
    assert_eq!((exchange, &payload[..]), (ex, &b"0"[..]));
    assert_eq!(p.server.observers.len(), 1);
    let mut values = Vec::new();
    for _ in 0..3 {
        p.now += Duration::from_secs(5);
        p.server.tick(p.now);
        let Seen::Response { exchange, payload, observe: Some(_), .. } = p.drive_bounded(50) else {
            panic!()
        };
        assert_eq!(exchange, ex);
        values.push(String::from_utf8(payload).unwrap());
    }
    assert_eq!(values, ["1", "2", "3"]);
    // The client forgets; the next notification is RST and the server
    // drops the observer (RFC 7641 §3.6).
    p.client.forget(ex);
    p.server.tick(p.now);
    p.settle();
    assert!(p.server.observers.is_empty(), "{:#?}", p.trace);
    assert!(p.seen.is_empty());
}

#[test]
fn lost_request_and_lost_ack_recover_by_retransmission() {
    let mut p = Pair::new();
    let mut client_sends = 0;
    let mut server_sends = 0;
    // The link loses the first two requests and the first response.
    p.drop = Box::new(move |from, _| {
        if from == CLIENT {
            client_sends += 1;
            client_sends <= 2
        } else {
            server_sends += 1;
            server_sends == 1
        }
    });
    let start = p.now;
    let (_, seen) = p.request(Code::Get, |w| w.add_uri_path("/.well-known/core"));
    let Seen::Response { code: Code::Content, payload, .. } = seen else { panic!("{seen:?}") };
    assert_eq!(payload, coap_endpoint_support::WELL_KNOWN.as_bytes());
    // Four transmissions: at 0, T, 3T, 7T; answered at 7T.
    let elapsed = (p.now - start).as_millis();
    assert!(
        (7 * 2000..=7 * 3000).contains(&elapsed),
        "answered after {elapsed} ms\n{}",
        p.trace.join("\n")
    );
    // The server saw the request twice but handled it once (de-duplication).
    assert_eq!(p.server.log.len(), 1, "{:?}", p.server.log);
}

#[test]
fn request_to_a_dead_server_times_out_after_max_retransmit() {
    let mut p = Pair::new();
    p.drop = Box::new(|_, _| true);
    let start = p.now;
    let (ex, seen) = p.request(Code::Get, |w| w.add_uri_path("large"));
    assert_eq!(seen, Seen::Timeout(ex));
    let elapsed = (p.now - start).as_millis();
    assert!((31 * 2000..=31 * 3000).contains(&elapsed), "{elapsed}");
    assert_eq!(p.trace.len(), 5, "1 transmission + MAX_RETRANSMIT 4");
}
