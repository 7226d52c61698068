//! The sans-IO CoAP endpoint: the message layer of RFC 7252 (§4: CON/NON,
//! ACK, RST, retransmission, de-duplication, §5.3: tokens and request /
//! response matching, piggybacked and separate responses) in both roles,
//! plus sending Observe notifications (RFC 7641 §4.5) with the CON/NON rule.
//!
//! Block-wise transfer (RFC 7959) is *not* wired into the endpoint: every
//! block is an ordinary request/response exchange, and the helpers of
//! [`block`](super::block) ([`serve_block2`](super::block::serve_block2),
//! [`Block2Reassembler`](super::block::Block2Reassembler),
//! [`Block1Receiver`](super::block::Block1Receiver),
//! [`Block1Sender`](super::block::Block1Sender)) are called by the
//! application or the LwM2M layer around it. That keeps the endpoint's
//! memory fixed and lets the layer above decide where a large body lives (a
//! flash region for firmware, a RAM buffer for a TLV write).
//!
//! Guarantees: nothing here blocks, reads a clock, allocates or panics on
//! any input. Every datagram, malformed or not, is answered as RFC 7252
//! says: a CON with a message format error gets RST (§4.2), an unknown
//! critical option in a CON request gets 4.02 Bad Option (§5.4.1), NON
//! messages with errors are silently dropped (§4.3), other versions are
//! ignored (§3).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod config;

pub use config::Config;

use super::Error;
use super::message::{HEADER_LEN, MessageType, Repr, Token};
use super::numbers::{Code, OptionNumber};
use super::observe::{Freshness, Notification, ObserverId, ObserverRegistry};
use super::writer::MessageWriter;
use crate::rng::Rng;
use crate::time::{Duration, Instant};
use config::{
    DEDUP_CAPACITY, EVENT_QUEUE_LEN, MAX_EXCHANGES, MAX_MESSAGE_LEN, TOKEN_LEN, TRANSMIT_QUEUE_LEN,
};
use core::fmt;
use heapless::Deque;

/// A datagram to send: `len` bytes at the start of the buffer given to
/// [`Endpoint::poll_transmit`], for `remote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "a Transmit that is not sent is a lost datagram"]
pub struct Transmit<A> {
    /// Where to send it.
    pub remote: A,
    /// Bytes written at the start of the caller's buffer.
    pub len: usize,
}

/// A message this endpoint sent and still tracks: a request (until its
/// response), a separate response or a notification (until its ACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExchangeId(u32);

/// A request this endpoint received, to be answered with
/// [`Endpoint::respond`] (or first [`Endpoint::defer`]red).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestId(u32);

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req#{}", self.0)
    }
}

/// What happened, drained with [`Endpoint::poll_event`]. Message data is
/// borrowed from the endpoint's receive buffer, not copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a dropped Event is a lost request or response"]
pub enum Event<'a, A> {
    /// A request arrived: answer it with [`Endpoint::respond`] (a CON
    /// request should be answered, or [`Endpoint::defer`]red, before the
    /// peer retransmits, ACK_TIMEOUT).
    Request {
        /// Handle for [`Endpoint::respond`] / [`Endpoint::defer`].
        id: RequestId,
        /// Who asked.
        remote: A,
        /// The request (code, options, payload; token and MID are the
        /// endpoint's business).
        request: Repr<'a>,
    },
    /// A response to one of our requests (piggybacked, separate, or a
    /// notification of an observation; stale notifications per RFC 7641
    /// §3.4 are not reported).
    Response {
        /// The request it answers.
        exchange: ExchangeId,
        /// Who answered.
        remote: A,
        /// The response.
        response: Repr<'a>,
    },
    /// A CON separate response or notification of ours was acknowledged.
    Acknowledged {
        /// The message.
        exchange: ExchangeId,
        /// The peer.
        remote: A,
    },
    /// A CON was not acknowledged after MAX_RETRANSMIT retransmissions, or
    /// a request got no response within `response_timeout`. For a
    /// notification, RFC 7641 §4.5 says to remove the observer:
    /// [`ObserverRegistry::cancel_by_mid`] with `message_id`.
    Timeout {
        /// The message given up on.
        exchange: ExchangeId,
        /// The peer.
        remote: A,
        /// Its message ID.
        message_id: u16,
    },
    /// The peer answered a message of ours with RST (RFC 7252 §4.2, §4.3).
    /// For a notification (CON or NON) this cancels the observation (RFC
    /// 7641 §3.6): [`ObserverRegistry::cancel_by_mid`] with `message_id`.
    Reset {
        /// The message, if still tracked (a NON is forgotten once sent).
        exchange: Option<ExchangeId>,
        /// The peer.
        remote: A,
        /// The message ID the RST names.
        message_id: u16,
    },
}

impl<A: fmt::Debug> fmt::Display for Event<'_, A> {
    /// One line: `request req#3 from 127.0.0.1:5683: CON 0.01 …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Request { id, remote, request } => {
                write!(f, "request {id} from {remote:?}: {request}")
            }
            Event::Response { exchange, remote, response } => {
                write!(f, "response to {exchange} from {remote:?}: {response}")
            }
            Event::Acknowledged { exchange, remote } => {
                write!(f, "{exchange} acknowledged by {remote:?}")
            }
            Event::Timeout { exchange, remote, message_id } => {
                write!(f, "{exchange} (mid=0x{message_id:04x}) to {remote:?} timed out")
            }
            Event::Reset { exchange: Some(e), remote, message_id } => {
                write!(f, "{e} (mid=0x{message_id:04x}) reset by {remote:?}")
            }
            Event::Reset { exchange: None, remote, message_id } => {
                write!(f, "RST mid=0x{message_id:04x} from {remote:?}")
            }
        }
    }
}

/// What an endpoint call could not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EndpointError {
    /// All [`MAX_EXCHANGES`] slots are in use.
    #[error("no free exchange slot")]
    QueueFull,
    /// The request was already answered or is no longer known.
    #[error("unknown or already answered request")]
    UnknownRequest,
    /// The observer is not registered.
    #[error("unknown observer")]
    UnknownObserver,
    /// Writing the message failed (too large for MAX_MESSAGE_LEN, options
    /// out of order).
    #[error("cannot write message: {0}")]
    Message(Error),
}

impl From<Error> for EndpointError {
    fn from(e: Error) -> Self {
        EndpointError::Message(e)
    }
}

/// A message in a fixed buffer.
#[derive(Clone)]
struct MessageBuf {
    bytes: [u8; MAX_MESSAGE_LEN],
    len: usize,
}

impl MessageBuf {
    const fn new() -> Self {
        MessageBuf { bytes: [0; MAX_MESSAGE_LEN], len: 0 }
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    fn set(&mut self, src: &[u8]) -> bool {
        match self.bytes.get_mut(..src.len()) {
            Some(dst) => {
                dst.copy_from_slice(src);
                self.len = src.len();
                true
            }
            None => false,
        }
    }

    /// Write a message with `MessageWriter`; on error the buffer is empty.
    fn write(
        &mut self,
        msg_type: MessageType,
        code: Code,
        mid: u16,
        token: Token,
        build: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.len = 0;
        let mut w = MessageWriter::new(&mut self.bytes, msg_type, code, mid, token)?;
        build(&mut w)?;
        let len = w.len();
        self.len = len;
        Ok(())
    }
}

impl fmt::Debug for MessageBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageBuf({} B)", self.len)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Our request; `observe` if it registered an observation (Observe = 0).
    Request { observe: bool },
    /// A separate response to a deferred CON request.
    Response,
    /// An Observe notification.
    Notification,
}

/// What an outgoing message waits for; named after it (STYLE §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Held back by NSTART until an earlier CON to the same peer completes.
    Queued,
    /// In the transmit queue, never sent.
    Unsent,
    /// Sent as CON, waiting for ACK/RST; [`Timer::Retransmit`] runs.
    AwaitingAck { retransmits: u32, timeout: Duration },
    /// ACKed (or sent as NON), waiting for the response with
    /// [`Timer::ResponseTimeout`] running — or, for an established
    /// observation, for notifications without a timer.
    AwaitingResponse,
}

/// What a deadline of the timer table is for (STYLE §1: every deadline is
/// in one table, `timers[i]` belongs to exchange slot `i`, and
/// `poll_timeout` is its minimum; there are no other timers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Retransmit the CON (doubling the timeout), or give up after
    /// MAX_RETRANSMIT retransmissions (RFC 7252 §4.2).
    Retransmit,
    /// Stop waiting for a response (`Config::response_timeout`).
    ResponseTimeout,
}

#[derive(Debug)]
struct Exchange<A> {
    id: ExchangeId,
    remote: A,
    mid: u16,
    token: Token,
    confirmable: bool,
    kind: Kind,
    state: State,
    freshness: Freshness,
    message: MessageBuf,
}

/// How a received message was answered, replayed for its duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// Handed to the application, no answer yet: duplicates are ignored.
    Pending,
    /// Answered by an empty ACK (a deferred request, a separate response).
    EmptyAck,
    /// Answered by RST.
    Rst,
    /// Answered by the cached message; `repeat` is false for a NON request,
    /// whose duplicates are ignored once the response has left.
    Cached { repeat: bool },
    /// Not answered (a NON with an error, an observation's NON notification).
    Nothing,
}

#[derive(Debug)]
struct Seen<A> {
    remote: A,
    mid: u16,
    token: Token,
    confirmable: bool,
    expires: Instant,
    /// The application's handle while it may still respond.
    request: Option<RequestId>,
    reply: Reply,
    response: MessageBuf,
}

/// What the transmit queue holds: references, not copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx<A> {
    Exchange(ExchangeId),
    Cached { remote: A, mid: u16 },
    Empty { remote: A, msg_type: MessageType, mid: u16 },
}

/// What the receive buffer holds, for the event that borrows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record<A> {
    Request { id: RequestId, remote: A },
    Response { exchange: ExchangeId, remote: A },
    Acknowledged { exchange: ExchangeId, remote: A },
    Timeout { exchange: ExchangeId, remote: A, message_id: u16 },
    Reset { exchange: Option<ExchangeId>, remote: A, message_id: u16 },
}

/// A sans-IO CoAP endpoint (client and server roles at once) for remotes
/// of type `A` (a socket address, a DTLS session handle, a simulated node)
/// with randomness from `R`.
///
/// # Calling recipe
///
/// Like quinn-proto's `Connection`, the endpoint does nothing by itself.
/// After **every** `handle_*` call and every command (`request`,
/// `respond`, `defer`, `notify`), drain all outputs:
///
/// 1. `while let Some(t) = ep.poll_transmit(now, &mut buf)` — send
///    `buf[..t.len]` to `t.remote` (`buf` of [`config::MAX_MESSAGE_LEN`]);
/// 2. `while let Some(ev) = ep.poll_event()` — handle requests, responses,
///    timeouts (a received request or response is borrowed from the
///    endpoint until the next `handle_datagram`; while one is undrained,
///    further datagrams that carry a request or response are dropped and
///    left to the peer's retransmission);
/// 3. wait for a datagram or until `ep.poll_timeout()`, then call
///    `handle_datagram(now, from, bytes)` or `handle_timeout(now)`.
///
/// ```
/// use lwm2m_core::coap::endpoint::{Endpoint, Config, Event, config::MAX_MESSAGE_LEN};
/// use lwm2m_core::coap::numbers::Code;
/// use lwm2m_core::rng::XorShiftRng;
/// use lwm2m_core::time::Instant;
///
/// let mut client = Endpoint::<u8, _>::new(Config::default(), XorShiftRng::new(1));
/// let mut server = Endpoint::<u8, _>::new(Config::default(), XorShiftRng::new(2));
/// let now = Instant::ZERO;
/// let exchange = client.request(now, 2, true, Code::Get, |w| w.add_uri_path("hello")).unwrap();
/// let mut buf = [0u8; MAX_MESSAGE_LEN];
/// let t = client.poll_transmit(now, &mut buf).unwrap();
/// server.handle_datagram(now, 1, &buf[..t.len]);
/// let Some(Event::Request { id, .. }) = server.poll_event() else { panic!() };
/// server.respond(id, Code::Content, |w| w.set_payload(b"world")).unwrap();
/// let t = server.poll_transmit(now, &mut buf).unwrap();
/// client.handle_datagram(now, 2, &buf[..t.len]);
/// match client.poll_event() {
///     Some(Event::Response { exchange: e, response, .. }) => {
///         assert_eq!(e, exchange);
///         assert_eq!(response.payload, b"world");
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
///
/// Time only moves through the `now` arguments; randomness (initial message
/// ID, tokens, retransmission jitter) only comes from `R`, so the same seed
/// and inputs give the same datagrams.
pub struct Endpoint<A, R> {
    config: Config,
    rng: R,
    next_mid: u16,
    next_id: u32,
    exchanges: [Option<Exchange<A>>; MAX_EXCHANGES],
    /// The timer table: `timers[i]` is the deadline of `exchanges[i]`.
    timers: [Option<(Timer, Instant)>; MAX_EXCHANGES],
    seen: [Option<Seen<A>>; DEDUP_CAPACITY],
    transmits: Deque<Tx<A>, TRANSMIT_QUEUE_LEN>,
    events: Deque<Record<A>, EVENT_QUEUE_LEN>,
    rx: MessageBuf,
    /// The receive buffer belongs to an event not yet polled.
    rx_busy: bool,
}

impl<A, R> fmt::Debug for Endpoint<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("exchanges", &self.exchanges.iter().flatten().count())
            .field("seen", &self.seen.iter().flatten().count())
            .field("transmits", &self.transmits.len())
            .field("events", &self.events.len())
            .finish()
    }
}

impl<A: Copy + Eq + fmt::Debug, R: Rng> Endpoint<A, R> {
    /// An endpoint with these transmission parameters; the first message ID
    /// is drawn from `rng` (RFC 7252 §4.4: "randomized").
    pub fn new(config: Config, mut rng: R) -> Self {
        let next_mid = (rng.next_u32() & 0xffff) as u16;
        Endpoint {
            config,
            rng,
            next_mid,
            next_id: 1,
            exchanges: [const { None }; MAX_EXCHANGES],
            timers: [None; MAX_EXCHANGES],
            seen: [const { None }; DEDUP_CAPACITY],
            transmits: Deque::new(),
            events: Deque::new(),
            rx: MessageBuf::new(),
            rx_busy: false,
        }
    }

    /// The transmission parameters.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ----- commands -------------------------------------------------------

    /// Send a request to `remote`: CON if `confirmable`, else NON. The
    /// endpoint chooses the message ID and a random token; `build` adds
    /// options (ascending) and payload. A GET/FETCH carrying Observe = 0
    /// registers an observation: its notifications arrive as further
    /// [`Event::Response`]s for the same exchange until
    /// [`forget`](Self::forget) or [`cancel_observation`](Self::cancel_observation).
    ///
    /// `now` is taken for symmetry with the other commands; a CON's
    /// retransmission clock starts when [`poll_transmit`](Self::poll_transmit)
    /// hands the datagram out. With NSTART CONs already outstanding to
    /// `remote`, the request waits in its slot until one completes.
    ///
    /// # Errors
    /// [`EndpointError::QueueFull`], or a write error from `build`.
    pub fn request(
        &mut self,
        now: Instant,
        remote: A,
        confirmable: bool,
        code: Code,
        build: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), Error>,
    ) -> Result<ExchangeId, EndpointError> {
        let _ = now;
        let token = self.new_token(remote);
        let msg_type = if confirmable { MessageType::Con } else { MessageType::Non };
        let slot = self.free_exchange_slot()?;
        let mid = self.new_mid();
        let mut message = MessageBuf::new();
        message.write(msg_type, code, mid, token, build)?;
        let observe = matches!(code, Code::Get | Code::Fetch)
            && Repr::decode(message.as_bytes())
                .is_ok_and(|r| r.options.get_uint(OptionNumber::Observe) == Some(0));
        let id = self.insert_exchange(
            slot,
            remote,
            mid,
            token,
            confirmable,
            Kind::Request { observe },
            message,
        );
        debug!("request {} mid={} queued", id.0, mid);
        Ok(id)
    }

    /// Answer request `id` with `code`; `build` adds options and payload.
    ///
    /// A CON request not yet acknowledged gets a piggybacked response in
    /// the ACK; a [deferred](Self::defer) one a separate CON response
    /// (retransmitted until ACKed, [`Event::Acknowledged`] then); a NON
    /// request a NON response (RFC 7252 §5.2). The answer is cached for the
    /// request's duplicates over EXCHANGE_LIFETIME.
    ///
    /// # Errors
    /// [`EndpointError::UnknownRequest`] if `id` was answered already or
    /// forgotten (its de-duplication entry was reused), a write error from
    /// `build`, [`EndpointError::QueueFull`] for a separate response
    /// without a free slot.
    pub fn respond(
        &mut self,
        id: RequestId,
        code: Code,
        build: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), Error>,
    ) -> Result<(), EndpointError> {
        let index = self.seen_index_of(id).ok_or(EndpointError::UnknownRequest)?;
        let (remote, mid, token, confirmable, reply) = {
            let s = self.seen_at(index).ok_or(EndpointError::UnknownRequest)?;
            (s.remote, s.mid, s.token, s.confirmable, s.reply)
        };
        match (confirmable, reply) {
            (true, Reply::EmptyAck) => {
                // Separate response (RFC 7252 §5.2.2): a new CON, same token.
                let slot = self.free_exchange_slot()?;
                let new_mid = self.new_mid();
                let mut message = MessageBuf::new();
                message.write(MessageType::Con, code, new_mid, token, build)?;
                self.insert_exchange(slot, remote, new_mid, token, true, Kind::Response, message);
            }
            _ => {
                let (msg_type, out_mid, repeat) = if confirmable {
                    (MessageType::Ack, mid, true)
                } else {
                    (MessageType::Non, self.new_mid(), false)
                };
                let seen = self.seen_at_mut(index).ok_or(EndpointError::UnknownRequest)?;
                seen.response.write(msg_type, code, out_mid, token, build)?;
                seen.reply = Reply::Cached { repeat };
                self.push_tx(Tx::Cached { remote, mid });
            }
        }
        if let Some(s) = self.seen_at_mut(index) {
            s.request = None;
        }
        Ok(())
    }

    /// Acknowledge CON request `id` now with an empty ACK and answer it
    /// later with [`respond`](Self::respond), which then sends a separate
    /// CON response (RFC 7252 §5.2.2). Does nothing for a NON request.
    ///
    /// # Errors
    /// [`EndpointError::UnknownRequest`].
    pub fn defer(&mut self, id: RequestId) -> Result<(), EndpointError> {
        let index = self.seen_index_of(id).ok_or(EndpointError::UnknownRequest)?;
        let s = self.seen_at_mut(index).ok_or(EndpointError::UnknownRequest)?;
        if s.confirmable && s.reply == Reply::Pending {
            s.reply = Reply::EmptyAck;
            let tx = Tx::Empty { remote: s.remote, msg_type: MessageType::Ack, mid: s.mid };
            self.push_tx(tx);
        }
        Ok(())
    }

    /// The request behind `id`, while the receive buffer still holds it
    /// (until the next [`handle_datagram`](Self::handle_datagram)).
    pub fn request_of(&self, id: RequestId) -> Option<Repr<'_>> {
        let s = self.seen.iter().flatten().find(|s| s.request == Some(id))?;
        let r = Repr::decode(self.rx.as_bytes()).ok()?;
        (r.message_id == s.mid && r.token == s.token).then_some(r)
    }

    /// Send a notification to an observer of `registry` (RFC 7641 §4.2):
    /// the registry numbers it and picks CON (at least every
    /// `con_interval`, or when `want_con`) or NON; the endpoint adds the
    /// Observe option first, then `build` adds the rest (options numbered
    /// above 6, Observe, and the payload), and records the message ID in the
    /// registry so that a RST cancels the observation.
    ///
    /// A notification to the same observer that has not been sent or
    /// acknowledged yet is *replaced* (RFC 7641 §4.5.2: only the newest
    /// state matters): the new one takes its slot with a new message ID,
    /// stays Confirmable if the old one was, and keeps its retransmission
    /// timer and counter. So a slow observer holds one slot, not a queue.
    ///
    /// # Errors
    /// [`EndpointError::UnknownObserver`], [`EndpointError::QueueFull`], a
    /// write error from `build`.
    pub fn notify<K: PartialEq, const N: usize>(
        &mut self,
        now: Instant,
        registry: &mut ObserverRegistry<A, K, N>,
        observer: ObserverId,
        want_con: bool,
        code: Code,
        build: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), Error>,
    ) -> Result<ExchangeId, EndpointError> {
        let (remote, token) = {
            let o = registry.get(observer).ok_or(EndpointError::UnknownObserver)?;
            (
                o.remote(),
                Token::new(o.token()).ok_or(EndpointError::Message(Error::BadTokenLength))?,
            )
        };
        let in_flight = self.exchanges.iter().position(|e| {
            e.as_ref().is_some_and(|e| {
                e.kind == Kind::Notification && e.remote == remote && e.token == token
            })
        });
        let slot = match in_flight {
            Some(index) => index,
            None => self.free_exchange_slot()?,
        };
        let Notification { seq, confirmable } =
            registry.notify(observer, now, want_con).ok_or(EndpointError::UnknownObserver)?;
        let mid = self.new_mid();
        let write = |message: &mut MessageBuf, confirmable: bool| {
            let msg_type = if confirmable { MessageType::Con } else { MessageType::Non };
            message.write(msg_type, code, mid, token, |w| {
                w.add_uint(OptionNumber::Observe, seq)?;
                build(w)
            })
        };
        let id = match self
            .exchanges
            .get_mut(slot)
            .and_then(Option::as_mut)
            .filter(|_| in_flight.is_some())
        {
            Some(e) => {
                let confirmable = confirmable || e.confirmable;
                let mut message = MessageBuf::new();
                write(&mut message, confirmable)?;
                e.message = message;
                e.mid = mid;
                e.confirmable = confirmable;
                e.id
            }
            None => {
                let mut message = MessageBuf::new();
                write(&mut message, confirmable)?;
                self.insert_exchange(
                    slot,
                    remote,
                    mid,
                    token,
                    confirmable,
                    Kind::Notification,
                    message,
                )
            }
        };
        registry.set_last_mid(observer, mid);
        Ok(id)
    }

    /// Cancel observation `exchange` explicitly (RFC 7641 §3.6): forget it
    /// and send a CON GET with Observe = 1 and the observation's token;
    /// `build` adds the rest of the original request's options (numbered
    /// above 6: Uri-Path, Accept, …). Its response arrives as an
    /// [`Event::Response`] for the returned exchange.
    ///
    /// # Errors
    /// [`EndpointError::UnknownRequest`] if `exchange` is not a live
    /// observation, [`EndpointError::QueueFull`], a write error from `build`.
    pub fn cancel_observation(
        &mut self,
        exchange: ExchangeId,
        build: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), Error>,
    ) -> Result<ExchangeId, EndpointError> {
        let (remote, token) = self
            .exchanges
            .iter()
            .flatten()
            .find(|e| e.id == exchange && e.kind == Kind::Request { observe: true })
            .map(|e| (e.remote, e.token))
            .ok_or(EndpointError::UnknownRequest)?;
        let mut message = MessageBuf::new();
        let mid = self.next_mid;
        message.write(MessageType::Con, Code::Get, mid, token, |w| {
            w.add_uint(OptionNumber::Observe, 1)?;
            build(w)
        })?;
        self.forget(exchange);
        let slot = self.free_exchange_slot()?;
        let _ = self.new_mid();
        Ok(self.insert_exchange(
            slot,
            remote,
            mid,
            token,
            true,
            Kind::Request { observe: false },
            message,
        ))
    }

    /// Stop tracking `exchange`: no more retransmissions, no response
    /// event; for an observation, later notifications are answered with RST
    /// (which cancels it at the server, RFC 7641 §3.6).
    pub fn forget(&mut self, exchange: ExchangeId) {
        let remote = self.exchanges.iter().flatten().find(|e| e.id == exchange).map(|e| e.remote);
        if let Some(remote) = remote {
            self.remove_exchange(exchange);
            self.promote_queued(remote);
        }
    }

    // ----- inputs ---------------------------------------------------------

    /// Feed one datagram received from `remote` at `now`.
    ///
    /// Never panics and never fails: malformed input is answered (RST, 4.02)
    /// or dropped as RFC 7252 says, and an observable outcome leaves through
    /// `poll_transmit` / `poll_event`.
    pub fn handle_datagram(&mut self, now: Instant, remote: A, bytes: &[u8]) {
        let repr = match Repr::decode(bytes) {
            Ok(r) if bytes.len() <= MAX_MESSAGE_LEN => r,
            Ok(_) => return self.reject_malformed(remote, bytes),
            Err(Error::BadVersion) => return, // RFC 7252 §3: silently ignored.
            Err(e) => {
                debug!("malformed datagram: {}", e);
                return self.reject_malformed(remote, bytes);
            }
        };
        let class = repr.code.class();
        if matches!(class, 1 | 6 | 7) {
            // Reserved code classes (RFC 7252 §12.1): a message format error.
            return self.reject_malformed(remote, bytes);
        }
        match repr.msg_type {
            MessageType::Ack => self.on_ack(now, remote, &repr, bytes),
            MessageType::Rst => self.on_rst(remote, &repr),
            MessageType::Con | MessageType::Non => {
                if repr.code.is_empty() {
                    // An empty CON is a ping (§4.3): RST. An empty NON is an error.
                    if repr.msg_type == MessageType::Con {
                        self.push_empty(remote, MessageType::Rst, repr.message_id);
                    }
                } else if self.replay_duplicate(now, remote, &repr) {
                    // Answered from the de-duplication cache (§4.5).
                } else if repr.code.is_request() {
                    self.on_request(now, remote, &repr, bytes);
                } else {
                    self.on_separate_response(now, remote, &repr, bytes);
                }
            }
        }
    }

    /// Act on every deadline at or before `now`: retransmit CON messages
    /// with a doubled timeout, give up after MAX_RETRANSMIT
    /// ([`Event::Timeout`]), expire requests waiting for a response.
    ///
    /// Calling it early, late or twice is harmless: only deadlines that
    /// have passed act, each once.
    pub fn handle_timeout(&mut self, now: Instant) {
        for index in 0..MAX_EXCHANGES {
            let Some(Some((timer, deadline))) = self.timers.get(index).copied() else {
                continue;
            };
            if deadline > now {
                continue;
            }
            let Some(e) = self.exchanges.get_mut(index).and_then(Option::as_mut) else {
                self.set_timer(index, None);
                continue;
            };
            let (id, remote, mid) = (e.id, e.remote, e.mid);
            match (timer, e.state) {
                (Timer::Retransmit, State::AwaitingAck { retransmits, timeout })
                    if retransmits < self.config.max_retransmit =>
                {
                    let timeout = timeout.saturating_mul(2);
                    e.state = State::AwaitingAck { retransmits: retransmits + 1, timeout };
                    self.set_timer(index, Some((Timer::Retransmit, now + timeout)));
                    trace!("retransmit {}", id.0);
                    self.push_tx(Tx::Exchange(id));
                }
                _ => {
                    debug!("exchange {} timed out", id.0);
                    self.remove_exchange(id);
                    self.push_event(Record::Timeout { exchange: id, remote, message_id: mid });
                    self.promote_queued(remote);
                }
            }
        }
    }

    // ----- outputs --------------------------------------------------------

    /// The next datagram to send, written to the start of `buf` (give it
    /// [`MAX_MESSAGE_LEN`] bytes; a message that
    /// does not fit is dropped). A CON's retransmission clock starts here,
    /// at `now`.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit<A>> {
        while let Some(tx) = self.transmits.pop_front() {
            if let Some(t) = self.write_transmit(now, tx, buf) {
                return Some(t);
            }
        }
        // A new message whose entry the full transmit queue dropped is still
        // Unsent, with no timer: send it now, oldest first. (Without this it
        // would hold its exchange slot for ever: nothing would retransmit it.)
        let unsent = self
            .exchanges
            .iter()
            .flatten()
            .filter(|e| e.state == State::Unsent)
            .min_by_key(|e| e.id)
            .map(|e| e.id)?;
        self.write_transmit(now, Tx::Exchange(unsent), buf)
    }

    /// The earliest instant [`handle_timeout`](Self::handle_timeout) has
    /// something to do, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().map(|(_, deadline)| *deadline).min()
    }

    /// The next event. A request or response is borrowed from the receive
    /// buffer.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<'_, A>> {
        loop {
            let record = self.events.pop_front()?;
            let event = match record {
                Record::Request { id, remote } => {
                    self.rx_busy = false;
                    match Repr::decode(self.rx.as_bytes()) {
                        Ok(request) => Event::Request { id, remote, request },
                        Err(_) => continue,
                    }
                }
                Record::Response { exchange, remote } => {
                    self.rx_busy = false;
                    match Repr::decode(self.rx.as_bytes()) {
                        Ok(response) => Event::Response { exchange, remote, response },
                        Err(_) => continue,
                    }
                }
                Record::Acknowledged { exchange, remote } => {
                    Event::Acknowledged { exchange, remote }
                }
                Record::Timeout { exchange, remote, message_id } => {
                    Event::Timeout { exchange, remote, message_id }
                }
                Record::Reset { exchange, remote, message_id } => {
                    Event::Reset { exchange, remote, message_id }
                }
            };
            return Some(event);
        }
    }

    /// Requests and notifications in flight (for tests and back-pressure).
    pub fn exchanges_in_flight(&self) -> usize {
        self.exchanges.iter().flatten().count()
    }

    // ----- receive paths --------------------------------------------------

    fn reject_malformed(&mut self, remote: A, bytes: &[u8]) {
        // RFC 7252 §4.2: a CON with a message format error is rejected with
        // RST, which needs only the MID; §4.3: anything else is ignored.
        if let Some(&[ver_t_tkl, _, hi, lo]) = bytes.first_chunk::<HEADER_LEN>()
            && ver_t_tkl >> 6 == 1
            && MessageType::from_bits(ver_t_tkl >> 4) == MessageType::Con
        {
            self.push_empty(remote, MessageType::Rst, u16::from_be_bytes([hi, lo]));
        }
    }

    fn on_ack(&mut self, now: Instant, remote: A, repr: &Repr<'_>, bytes: &[u8]) {
        let Some(index) = self.exchanges.iter().position(|e| {
            e.as_ref().is_some_and(|e| {
                e.remote == remote
                    && e.mid == repr.message_id
                    && matches!(e.state, State::AwaitingAck { .. })
            })
        }) else {
            trace!("unmatched ACK mid={}", repr.message_id);
            return;
        };
        let response_timeout = self.config.response_timeout;
        let rx_busy = self.rx_busy;
        let Some(e) = self.exchanges.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        let (id, kind) = (e.id, e.kind);
        if repr.code.is_empty() {
            if let Kind::Request { .. } = kind {
                // Empty ACK: the response comes separately (§5.2.2).
                e.state = State::AwaitingResponse;
                self.set_timer(index, Some((Timer::ResponseTimeout, now + response_timeout)));
            } else {
                self.remove_exchange(id);
                self.push_event(Record::Acknowledged { exchange: id, remote });
            }
            self.promote_queued(remote);
            return;
        }
        // Piggybacked response (§5.2.1): MID and token must both match.
        if !repr.code.is_response()
            || repr.token != e.token
            || !matches!(kind, Kind::Request { .. })
            || repr.first_unknown_critical().is_some()
            || rx_busy
        {
            // Rejected (an ACK cannot be answered, §4.2), or left to the
            // peer's retransmission while the receive buffer is taken.
            return;
        }
        let seq = repr.options.get_uint(OptionNumber::Observe);
        match seq {
            Some(seq) if matches!(kind, Kind::Request { observe: true }) => {
                e.state = State::AwaitingResponse;
                let _ = e.freshness.accept(seq, now);
                self.set_timer(index, None);
            }
            _ => self.remove_exchange(id),
        }
        self.deliver(Record::Response { exchange: id, remote }, bytes);
        self.promote_queued(remote);
    }

    fn on_rst(&mut self, remote: A, repr: &Repr<'_>) {
        if !repr.code.is_empty() {
            return; // A RST must be empty (§4.2): malformed, ignored.
        }
        let mid = repr.message_id;
        let found = self
            .exchanges
            .iter()
            .flatten()
            .find(|e| e.remote == remote && e.mid == mid && e.state != State::Queued)
            .map(|e| e.id);
        if let Some(id) = found {
            self.remove_exchange(id);
            self.promote_queued(remote);
        }
        self.push_event(Record::Reset { exchange: found, remote, message_id: mid });
    }

    /// A CON/NON already seen within its lifetime: replay its answer.
    fn replay_duplicate(&mut self, now: Instant, remote: A, repr: &Repr<'_>) -> bool {
        let Some(s) = self
            .seen
            .iter_mut()
            .flatten()
            .find(|s| s.remote == remote && s.mid == repr.message_id && s.expires > now)
        else {
            return false;
        };
        let mid = s.mid;
        match s.reply {
            Reply::Pending | Reply::Nothing | Reply::Cached { repeat: false } => {}
            Reply::EmptyAck => self.push_empty(remote, MessageType::Ack, mid),
            Reply::Rst => self.push_empty(remote, MessageType::Rst, mid),
            Reply::Cached { repeat: true } => self.push_tx(Tx::Cached { remote, mid }),
        }
        debug!("duplicate mid={} answered from cache", mid);
        true
    }

    fn on_request(&mut self, now: Instant, remote: A, repr: &Repr<'_>, bytes: &[u8]) {
        let confirmable = repr.msg_type == MessageType::Con;
        if repr.first_unknown_critical().is_some() {
            if confirmable {
                // §5.4.1: 4.02 Bad Option, piggybacked, cached for duplicates.
                let index = self.remember(now, remote, repr, Reply::Pending, None);
                if let Some(s) = index.and_then(|i| self.seen_at_mut(i)) {
                    let ok = s
                        .response
                        .write(
                            MessageType::Ack,
                            Code::BadOption,
                            repr.message_id,
                            repr.token,
                            |_| Ok(()),
                        )
                        .is_ok();
                    s.reply = if ok { Reply::Cached { repeat: true } } else { Reply::Nothing };
                    if ok {
                        self.push_tx(Tx::Cached { remote, mid: repr.message_id });
                    }
                }
            }
            return;
        }
        if self.rx_busy {
            return; // The application has not drained the last one.
        }
        let id = RequestId(self.bump_id());
        if self.remember(now, remote, repr, Reply::Pending, Some(id)).is_none() {
            return;
        }
        self.deliver(Record::Request { id, remote }, bytes);
    }

    fn on_separate_response(&mut self, now: Instant, remote: A, repr: &Repr<'_>, bytes: &[u8]) {
        let confirmable = repr.msg_type == MessageType::Con;
        let matched = self.exchanges.iter().position(|e| {
            e.as_ref().is_some_and(|e| {
                e.remote == remote
                    && e.token == repr.token
                    && matches!(e.kind, Kind::Request { .. })
                    && matches!(e.state, State::AwaitingAck { .. } | State::AwaitingResponse)
            })
        });
        let Some(index) = matched.filter(|_| repr.first_unknown_critical().is_none()) else {
            // Unknown token (or a critical option we cannot handle): reject
            // with RST (§4.2, §4.3; for a notification this cancels it, RFC
            // 7641 §3.6).
            self.remember(now, remote, repr, Reply::Rst, None);
            self.push_empty(remote, MessageType::Rst, repr.message_id);
            return;
        };
        if self.rx_busy {
            return; // Left to the peer's retransmission.
        }
        let Some(e) = self.exchanges.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        let id = e.id;
        let was_awaiting_ack = matches!(e.state, State::AwaitingAck { .. });
        let seq = repr.options.get_uint(OptionNumber::Observe);
        let fresh = match seq {
            Some(seq) if matches!(e.kind, Kind::Request { observe: true }) => {
                e.state = State::AwaitingResponse;
                let fresh = e.freshness.accept(seq, now);
                self.set_timer(index, None);
                fresh
            }
            _ => {
                self.remove_exchange(id);
                true
            }
        };
        if confirmable {
            self.remember(now, remote, repr, Reply::EmptyAck, None);
            self.push_empty(remote, MessageType::Ack, repr.message_id);
        } else {
            self.remember(now, remote, repr, Reply::Nothing, None);
        }
        if fresh {
            self.deliver(Record::Response { exchange: id, remote }, bytes);
        }
        if was_awaiting_ack {
            self.promote_queued(remote);
        }
    }

    /// Copy the datagram into the receive buffer and queue its event.
    fn deliver(&mut self, record: Record<A>, bytes: &[u8]) {
        if self.rx.set(bytes) {
            self.rx_busy = true;
            self.push_event(record);
        }
    }

    /// Record a received CON/NON for de-duplication; returns its slot.
    fn remember(
        &mut self,
        now: Instant,
        remote: A,
        repr: &Repr<'_>,
        reply: Reply,
        request: Option<RequestId>,
    ) -> Option<usize> {
        let confirmable = repr.msg_type == MessageType::Con;
        let lifetime =
            if confirmable { self.config.exchange_lifetime() } else { self.config.non_lifetime() };
        // A free or expired slot, else the one closest to expiry that the
        // application is not still answering.
        let index =
            self.seen.iter().position(|s| s.as_ref().is_none_or(|s| s.expires <= now)).or_else(
                || {
                    self.seen
                        .iter()
                        .enumerate()
                        .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
                        .filter(|(_, s)| s.request.is_none())
                        .min_by_key(|(_, s)| s.expires)
                        .map(|(i, _)| i)
                },
            )?;
        let slot = self.seen.get_mut(index)?;
        let response = match slot.take() {
            Some(old) => old.response,
            None => MessageBuf::new(),
        };
        *slot = Some(Seen {
            remote,
            mid: repr.message_id,
            token: repr.token,
            confirmable,
            expires: now + lifetime,
            request,
            reply,
            response,
        });
        Some(index)
    }

    // ----- bookkeeping ----------------------------------------------------

    fn write_transmit(&mut self, now: Instant, tx: Tx<A>, buf: &mut [u8]) -> Option<Transmit<A>> {
        match tx {
            Tx::Empty { remote, msg_type, mid } => {
                let len = Repr::empty(msg_type, mid).encode_into(buf).ok()?;
                Some(Transmit { remote, len })
            }
            Tx::Cached { remote, mid } => {
                let s = self.seen.iter().flatten().find(|s| s.remote == remote && s.mid == mid)?;
                let src = s.response.as_bytes();
                buf.get_mut(..src.len())?.copy_from_slice(src);
                Some(Transmit { remote, len: src.len() })
            }
            Tx::Exchange(id) => {
                let index =
                    self.exchanges.iter().position(|e| e.as_ref().is_some_and(|e| e.id == id))?;
                let e = self.exchanges.get(index)?.as_ref()?;
                let src = e.message.as_bytes();
                let len = src.len();
                buf.get_mut(..len)?.copy_from_slice(src);
                let (remote, confirmable, kind, state) = (e.remote, e.confirmable, e.kind, e.state);
                if state == State::Unsent {
                    let (state, timer) = match (confirmable, kind) {
                        (true, _) => {
                            let initial = self.initial_timeout();
                            let state = State::AwaitingAck { retransmits: 0, timeout: initial };
                            (state, (Timer::Retransmit, now + initial))
                        }
                        (false, Kind::Request { .. }) => {
                            let deadline = now + self.config.response_timeout;
                            (State::AwaitingResponse, (Timer::ResponseTimeout, deadline))
                        }
                        (false, _) => {
                            // A NON response or notification is done once sent.
                            self.remove_exchange(id);
                            return Some(Transmit { remote, len });
                        }
                    };
                    if let Some(e) = self.exchanges.get_mut(index).and_then(Option::as_mut) {
                        e.state = state;
                    }
                    self.set_timer(index, Some(timer));
                }
                Some(Transmit { remote, len })
            }
        }
    }

    /// ACK_TIMEOUT scaled by a random factor in [1, ACK_RANDOM_FACTOR]
    /// (RFC 7252 §4.2).
    fn initial_timeout(&mut self) -> Duration {
        let base = self.config.ack_timeout.as_millis();
        let spread = self.config.max_initial_timeout().as_millis().saturating_sub(base);
        let jitter =
            u64::from(self.rng.below(u32::try_from(spread.saturating_add(1)).unwrap_or(u32::MAX)));
        Duration::from_millis(base.saturating_add(jitter))
    }

    fn free_exchange_slot(&self) -> Result<usize, EndpointError> {
        self.exchanges.iter().position(Option::is_none).ok_or(EndpointError::QueueFull)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_exchange(
        &mut self,
        slot: usize,
        remote: A,
        mid: u16,
        token: Token,
        confirmable: bool,
        kind: Kind,
        message: MessageBuf,
    ) -> ExchangeId {
        let id = ExchangeId(self.bump_id());
        let outstanding = self
            .exchanges
            .iter()
            .flatten()
            .filter(|e| {
                e.remote == remote
                    && e.confirmable
                    && matches!(e.state, State::Unsent | State::AwaitingAck { .. })
            })
            .count();
        let state = if confirmable && outstanding >= self.config.nstart {
            State::Queued
        } else {
            State::Unsent
        };
        if let Some(s) = self.exchanges.get_mut(slot) {
            *s = Some(Exchange {
                id,
                remote,
                mid,
                token,
                confirmable,
                kind,
                state,
                freshness: Freshness::new(),
                message,
            });
        }
        self.set_timer(slot, None);
        if state == State::Unsent {
            self.push_tx(Tx::Exchange(id));
        }
        id
    }

    /// NSTART (§4.7): when a CON to `remote` completes, release the oldest
    /// one queued behind it.
    fn promote_queued(&mut self, remote: A) {
        let outstanding = self
            .exchanges
            .iter()
            .flatten()
            .filter(|e| {
                e.remote == remote
                    && e.confirmable
                    && matches!(e.state, State::Unsent | State::AwaitingAck { .. })
            })
            .count();
        if outstanding >= self.config.nstart {
            return;
        }
        let next = self
            .exchanges
            .iter_mut()
            .flatten()
            .filter(|e| e.remote == remote && e.state == State::Queued)
            .min_by_key(|e| e.id);
        if let Some(e) = next {
            e.state = State::Unsent;
            let id = e.id;
            self.push_tx(Tx::Exchange(id));
        }
    }

    fn remove_exchange(&mut self, id: ExchangeId) {
        for (slot, timer) in self.exchanges.iter_mut().zip(self.timers.iter_mut()) {
            if slot.as_ref().is_some_and(|e| e.id == id) {
                *slot = None;
                *timer = None;
            }
        }
    }

    fn set_timer(&mut self, index: usize, timer: Option<(Timer, Instant)>) {
        if let Some(t) = self.timers.get_mut(index) {
            *t = timer;
        }
    }

    fn seen_index_of(&self, id: RequestId) -> Option<usize> {
        self.seen.iter().position(|s| s.as_ref().is_some_and(|s| s.request == Some(id)))
    }

    fn seen_at(&self, index: usize) -> Option<&Seen<A>> {
        self.seen.get(index)?.as_ref()
    }

    fn seen_at_mut(&mut self, index: usize) -> Option<&mut Seen<A>> {
        self.seen.get_mut(index)?.as_mut()
    }

    fn push_tx(&mut self, tx: Tx<A>) {
        if self.transmits.push_back(tx).is_err() {
            // Full: the datagram is lost like on a congested link; CON
            // messages recover by retransmission.
            warn!("transmit queue full, datagram dropped");
        }
    }

    fn push_empty(&mut self, remote: A, msg_type: MessageType, mid: u16) {
        self.push_tx(Tx::Empty { remote, msg_type, mid });
    }

    fn push_event(&mut self, record: Record<A>) {
        if self.events.push_back(record).is_err() {
            warn!("event queue full, event dropped");
        }
    }

    fn new_mid(&mut self) -> u16 {
        let mid = self.next_mid;
        self.next_mid = self.next_mid.wrapping_add(1);
        mid
    }

    fn bump_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// A random token not used by an exchange with `remote` (§5.3.1).
    /// Bounded: after a few collisions (a broken RNG) the token is taken
    /// from the exchange counter instead, which live exchanges never share.
    fn new_token(&mut self, remote: A) -> Token {
        for _ in 0..8 {
            let mut bytes = [0u8; TOKEN_LEN];
            self.rng.fill_bytes(&mut bytes);
            let token = Token::new(&bytes).unwrap_or_default();
            if !self.token_in_use(remote, token) {
                return token;
            }
        }
        let mut fallback = self.next_id;
        loop {
            let token = Token::new(&fallback.to_be_bytes()).unwrap_or_default();
            if !self.token_in_use(remote, token) {
                return token;
            }
            // At most MAX_EXCHANGES tokens are in use, so this ends.
            fallback = fallback.wrapping_add(1);
        }
    }

    fn token_in_use(&self, remote: A, token: Token) -> bool {
        self.exchanges.iter().flatten().any(|e| e.remote == remote && e.token == token)
    }
}

#[cfg(test)]
mod tests;
