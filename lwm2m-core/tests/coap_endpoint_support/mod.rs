//! Shared by the endpoint's integration tests: a small CoAP resource server
//! built from the endpoint and the block/observe helpers, and a driver that
//! runs an endpoint over a real `std::net::UdpSocket`.
//!
//! Resources of [`ToyServer`]:
//! - `/.well-known/core`: the link format listing below;
//! - `/large`: [`LARGE_LEN`] bytes of `large_body()`, served with Block2;
//! - `/upload`: PUT with or without Block1 (atomic, [`UPLOAD_CAPACITY`]
//!   bytes), GET returns the last body;
//! - `/counter`: observable; `tick` increments it and notifies.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing, clippy::std_instead_of_core)]

use lwm2m_core::coap::Repr;
use lwm2m_core::coap::block::{
    Block1Outcome, Block1Receiver, BlockError, BlockValue, Szx, serve_block2,
};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config, Endpoint, Event, RequestId};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::coap::observe::ObserverRegistry;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration, Instant};
use std::fmt::Debug;
use std::net::{SocketAddr, UdpSocket};

/// Size of `/large`: needs Block2 at any block size.
pub const LARGE_LEN: usize = 2500;
/// Largest body `/upload` accepts.
pub const UPLOAD_CAPACITY: usize = 4096;
/// The block size the toy server prefers.
pub const SERVER_SZX: Szx = Szx::S256;
/// The listing of `/.well-known/core`.
pub const WELL_KNOWN: &str = "</large>;sz=2500,</upload>,</counter>;obs";

/// The body of `/large`: printable and position-dependent, so a misplaced
/// block shows.
pub fn large_body() -> Vec<u8> {
    (0..LARGE_LEN).map(|i| b"0123456789abcdefghijklmnopqrstuvwxyz"[i % 36]).collect()
}

/// The Uri-Path of a request joined with `/`.
pub fn uri_path(req: &Repr<'_>) -> String {
    let mut path = String::new();
    for seg in req.options.get_all(OptionNumber::UriPath) {
        path.push('/');
        path.push_str(std::str::from_utf8(seg.value).unwrap_or("\u{fffd}"));
    }
    path
}

/// A block option of a message, if present and valid.
pub fn block_option(
    repr: &Repr<'_>,
    number: OptionNumber,
) -> Option<Result<BlockValue, BlockError>> {
    repr.options.get(number).map(|o| BlockValue::parse(o.value))
}

/// A CoAP server made of an [`Endpoint`] and the block/observe helpers.
pub struct ToyServer<A> {
    pub ep: Endpoint<A, XorShiftRng>,
    pub observers: ObserverRegistry<A, &'static str, 4>,
    large: Vec<u8>,
    upload: Block1Receiver<Vec<u8>>,
    /// The last complete body PUT to `/upload`.
    pub uploaded: Vec<u8>,
    /// The value of `/counter`.
    pub counter: u32,
    /// One line per request handled (for test failure messages).
    pub log: Vec<String>,
}

impl<A: Copy + Eq + Debug> ToyServer<A> {
    pub fn new(seed: u32) -> Self {
        ToyServer {
            ep: Endpoint::new(Config::default(), XorShiftRng::new(seed)),
            observers: ObserverRegistry::default(),
            large: large_body(),
            upload: Block1Receiver::new(vec![0; UPLOAD_CAPACITY], SERVER_SZX),
            uploaded: Vec::new(),
            counter: 0,
            log: Vec::new(),
        }
    }

    /// Drain the endpoint's events and answer every request.
    pub fn handle_events(&mut self, now: Instant) {
        while let Some(ev) = self.ep.poll_event() {
            match ev {
                Event::Request { id, remote, request } => {
                    self.log.push(format!("{request}"));
                    let answer = answer(
                        &request,
                        remote,
                        now,
                        &self.large,
                        &mut self.upload,
                        &mut self.observers,
                        self.counter,
                    );
                    if answer.uploaded {
                        self.uploaded = self.upload.body().to_vec();
                    }
                    let buf = answer.payload.clone();
                    send_answer(&mut self.ep, id, answer, &buf);
                }
                Event::Reset { remote, message_id, .. }
                | Event::Timeout { remote, message_id, .. } => {
                    if let Some(k) = self.observers.cancel_by_mid(remote, message_id) {
                        self.log.push(format!("observation of {k} cancelled"));
                    }
                }
                Event::Response { .. } | Event::Acknowledged { .. } => {}
            }
        }
    }

    /// `/counter` changes: notify every observer.
    pub fn tick(&mut self, now: Instant) {
        self.counter += 1;
        let ids: Vec<_> = self.observers.observers_of(&"/counter").collect();
        let body = self.counter.to_string();
        for id in ids {
            let sent = self.ep.notify(now, &mut self.observers, id, false, Code::Content, |w| {
                w.add_content_format(ContentFormat::TextPlain)?;
                w.set_payload(body.as_bytes())
            });
            if let Err(e) = sent {
                self.log.push(format!("notify failed: {e}"));
            }
        }
    }
}

/// What to answer, computed while the request is borrowed.
struct Answer {
    code: Code,
    observe: Option<u32>,
    content_format: Option<ContentFormat>,
    block2: Option<BlockValue>,
    block1: Option<BlockValue>,
    size2: Option<u32>,
    size1: Option<u32>,
    payload: Vec<u8>,
    uploaded: bool,
}

impl Answer {
    fn code(code: Code) -> Self {
        Answer {
            code,
            observe: None,
            content_format: None,
            block2: None,
            block1: None,
            size2: None,
            size1: None,
            payload: Vec::new(),
            uploaded: false,
        }
    }
}

fn answer<A: Copy + Eq + Debug>(
    req: &Repr<'_>,
    remote: A,
    now: Instant,
    large: &[u8],
    upload: &mut Block1Receiver<Vec<u8>>,
    observers: &mut ObserverRegistry<A, &'static str, 4>,
    counter: u32,
) -> Answer {
    let path = uri_path(req);
    match (req.code, path.as_str()) {
        (Code::Get, "/.well-known/core") => Answer {
            content_format: Some(ContentFormat::LinkFormat),
            payload: WELL_KNOWN.as_bytes().to_vec(),
            ..Answer::code(Code::Content)
        },
        (Code::Get, "/large") => {
            let requested = match block_option(req, OptionNumber::Block2).transpose() {
                Ok(b) => b,
                Err(e) => return Answer::code(e.into()),
            };
            let mut out = [0u8; 1024];
            let mut src: &[u8] = large;
            match serve_block2(&mut src, requested, SERVER_SZX, &mut out) {
                Ok(slice) => Answer {
                    content_format: Some(ContentFormat::OctetStream),
                    block2: slice.block,
                    size2: slice.size2,
                    payload: out[..slice.len].to_vec(),
                    ..Answer::code(Code::Content)
                },
                Err(e) => Answer::code(e.into()),
            }
        }
        (Code::Get, "/upload") => {
            Answer { payload: upload.body().to_vec(), ..Answer::code(Code::Content) }
        }
        (Code::Put, "/upload") => {
            let size1 = req.options.get_uint(OptionNumber::Size1);
            let block = match block_option(req, OptionNumber::Block1).transpose() {
                Ok(Some(b)) => b,
                Ok(None) => BlockValue::new(0, false, Szx::S1024).unwrap(),
                Err(e) => return Answer::code(e.into()),
            };
            let whole = req.options.get(OptionNumber::Block1).is_none();
            if whole && req.payload.len() > Szx::S1024.size() {
                return Answer::code(Code::RequestEntityTooLarge);
            }
            match upload.handle(block, size1, req.payload) {
                Ok(Block1Outcome::Continue(b)) => {
                    Answer { block1: Some(b), ..Answer::code(Code::Continue) }
                }
                Ok(Block1Outcome::Complete(b)) => Answer {
                    block1: (!whole).then_some(b),
                    uploaded: true,
                    ..Answer::code(Code::Changed)
                },
                Err(BlockError::TooLarge { capacity }) => {
                    Answer { size1: Some(capacity), ..Answer::code(Code::RequestEntityTooLarge) }
                }
                Err(e) => Answer::code(e.into()),
            }
        }
        (Code::Get, "/counter") => {
            let body = counter.to_string().into_bytes();
            let plain = Answer {
                content_format: Some(ContentFormat::TextPlain),
                payload: body,
                ..Answer::code(Code::Content)
            };
            match req.options.get_uint(OptionNumber::Observe) {
                Some(0) => {
                    match observers.register(remote, req.token.as_bytes(), "/counter", now) {
                        Ok((_, seq)) => Answer { observe: Some(seq), ..plain },
                        // RFC 7641 §4.1: no room, answer without Observe.
                        Err(_) => plain,
                    }
                }
                Some(1) => {
                    let _ = observers.deregister(remote, req.token.as_bytes());
                    plain
                }
                _ => plain,
            }
        }
        (Code::Get | Code::Put, _) => Answer::code(Code::NotFound),
        _ => Answer::code(Code::MethodNotAllowed),
    }
}

fn send_answer<A: Copy + Eq + Debug>(
    ep: &mut Endpoint<A, XorShiftRng>,
    id: RequestId,
    a: Answer,
    payload: &[u8],
) {
    let r = ep.respond(id, a.code, |w| {
        if let Some(seq) = a.observe {
            w.add_uint(OptionNumber::Observe, seq)?;
        }
        if let Some(cf) = a.content_format {
            w.add_content_format(cf)?;
        }
        if let Some(b) = a.block2 {
            w.add_uint(OptionNumber::Block2, b.to_uint())?;
        }
        if let Some(b) = a.block1 {
            w.add_uint(OptionNumber::Block1, b.to_uint())?;
        }
        if let Some(s) = a.size2 {
            w.add_uint(OptionNumber::Size2, s)?;
        }
        if let Some(s) = a.size1 {
            w.add_uint(OptionNumber::Size1, s)?;
        }
        w.set_payload(payload)
    });
    r.unwrap();
}

/// Converts the wall clock into protocol time for the UDP drivers.
pub struct Clock(std::time::Instant);

impl Clock {
    pub fn new() -> Self {
        Clock(std::time::Instant::now())
    }
    pub fn now(&self) -> Instant {
        Instant::from_millis(self.0.elapsed().as_millis() as u64)
    }
}

/// Send everything the endpoint has queued over `sock`.
pub fn flush<R: lwm2m_core::rng::Rng>(
    ep: &mut Endpoint<SocketAddr, R>,
    sock: &UdpSocket,
    now: Instant,
) {
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    while let Some(t) = ep.poll_transmit(now, &mut buf) {
        sock.send_to(&buf[..t.len], t.remote).unwrap();
    }
}

/// Wait for one datagram or the endpoint's next deadline (capped at 50 ms)
/// and feed it in.
pub fn wait_and_feed<R: lwm2m_core::rng::Rng>(
    ep: &mut Endpoint<SocketAddr, R>,
    sock: &UdpSocket,
    clock: &Clock,
) {
    let now = clock.now();
    let wait = ep
        .poll_timeout()
        .map(|d| d.saturating_duration_since(now))
        .unwrap_or(Duration::from_millis(50))
        .as_millis()
        .clamp(1, 50);
    sock.set_read_timeout(Some(std::time::Duration::from_millis(wait))).unwrap();
    let mut rx = [0u8; 2048];
    match sock.recv_from(&mut rx) {
        Ok((n, from)) => ep.handle_datagram(clock.now(), from, &rx[..n]),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            ep.handle_timeout(clock.now())
        }
        Err(e) => panic!("recv: {e}"),
    }
}
