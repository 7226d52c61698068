//! The LwM2M client endpoint (OMA-TS-LightweightM2M_Core 1.1 §6: the
//! Bootstrap, Client Registration, Device Management and Information
//! Reporting interfaces), sans-IO, on top of the CoAP
//! [`Endpoint`](crate::coap::endpoint::Endpoint).
//!
//! [`Client`] owns the CoAP endpoint and an [`ObjectStore`] (the object
//! model, implemented by `lwm2m-objects`). It performs client-initiated
//! bootstrap (`POST /bs?ep=…&pct=…`, §6.1.3), registers with every usable
//! server account (one registration per Server-object instance, §6.2),
//! keeps each registration alive with Updates before the lifetime ends,
//! de-registers, answers the servers' Read, Write, Write-Attributes,
//! Execute, Create, Delete, Discover and Observe requests, and sends
//! notifications when the attributes say so (§5.1.2, §6.4).
//!
//! Guarantees: no heap, no clock, no socket; nothing here panics on any
//! datagram. Every request gets a CoAP answer; every response that matches
//! no state becomes [`Event::UnexpectedResponse`], never a silent drop.
//!
//! Observe-Composite (FETCH with Observe on `/`, TS 1.1 §6.4.1 and
//! §6.4.2) notifies the listed paths together in one SenML document. Its
//! attributes are those of the listed paths combined so that no path's
//! own rule is broken by the shared notification: the largest `pmin`
//! and `epmin`, the smallest `pmax` and `epmax`. Value conditions (`gt`,
//! `lt`, `st`) need one numeric resource, so a composite observation
//! treats every signalled change as a change.
//!
//! An observation without its own `pmin`/`pmax` takes the server's
//! defaults from its Server-object instance (resources 1/x/2 and 1/x/3,
//! TS §E.2), read when the client registers and whenever a server writes
//! object 1.
//!
//! A Register (or an Update carrying the object list) whose object list
//! does not fit one datagram goes block-wise (RFC 7959 §2.5, Block1 with
//! Size1), each block carrying the same Uri-Path and Uri-Query options;
//! the link-format payload is encoded again for every block through a
//! window at the block's offset, so nothing is buffered beyond one block.
//!
//! Limits: a Read-Composite answer or composite notification must fit one
//! datagram (else 4.13, or the observation ends); Reads of single targets
//! larger than a datagram are served with Block2.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod attributes;
pub mod store;

pub use attributes::{AttributeError, Attributes, Setting};
pub use store::{Account, Caller, ObjectInfo, ObjectStore, StoreError, WriteMode};

use crate::coap::Error as CoapError;
use crate::coap::block::{BlockValue, Szx};
use crate::coap::endpoint::config::MAX_MESSAGE_LEN;
use crate::coap::endpoint::{Config as CoapConfig, Event as CoapEvent};
use crate::coap::endpoint::{Endpoint, EndpointError, ExchangeId, RequestId, Transmit};
use crate::coap::message::Repr;
use crate::coap::numbers::{Code, ContentFormat, OptionNumber};
use crate::coap::observe::{ObserverId, ObserverRegistry};
use crate::coap::writer::MessageWriter;
use crate::formats::link::{Attr, LinkWriter};
use crate::formats::{self, Decoder, FormatError, Window};
use crate::path::{Level, Path};
use crate::rng::Rng;
use crate::time::{Duration, Instant};
use attributes::NumericProbe;
use core::fmt::{self, Write as _};
use heapless::{Deque, String, Vec};

/// Server accounts (Server-object instances) registered at once.
pub const MAX_SERVERS: usize = 2;
/// Observations across all servers.
pub const MAX_OBSERVATIONS: usize = 8;
/// Paths with notification attributes across all servers.
pub const MAX_ATTRIBUTE_SETS: usize = 16;
/// Longest endpoint client name.
pub const MAX_ENDPOINT_NAME_LEN: usize = 64;
/// Longest server URI kept for an account.
pub const MAX_URI_LEN: usize = 96;
/// Longest registration location (`/rd/…`).
pub const MAX_LOCATION_LEN: usize = 48;
/// Object instances a Bootstrap Delete of `/` can remove at once.
pub const MAX_INSTANCES: usize = 64;
/// Paths of one Read-Composite, Observe-Composite or Write-Composite request.
pub const MAX_COMPOSITE_PATHS: usize = 16;
/// Composite observations (each also takes one of [`MAX_OBSERVATIONS`]).
pub const MAX_COMPOSITE_OBSERVATIONS: usize = 2;
/// Events waiting to be polled; older events are kept, newer dropped and counted.
pub const EVENT_QUEUE_LEN: usize = 16;

/// How often a notification must be Confirmable (RFC 7641 §4.5; the
/// carrier library's `coap_con_interval`: default 24 h, −1 = always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConInterval {
    /// Every notification is Confirmable (`coap_con_interval = -1`).
    Always,
    /// At least one Confirmable notification per observer every this long.
    Every(Duration),
}

/// The client's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Endpoint client name (`ep=`).
    pub endpoint_name: String<MAX_ENDPOINT_NAME_LEN>,
    /// CoAP transmission parameters.
    pub coap: CoapConfig,
    /// Give up bootstrapping if Bootstrap-Finish has not come this long
    /// after the Bootstrap-Request.
    pub bootstrap_timeout: Duration,
    /// Send the Update this long before the lifetime ends (at most half the lifetime).
    pub update_margin: Duration,
    /// The CON/NON rule of notifications.
    pub con_interval: ConInterval,
    /// The format for multi-value reads without Accept, and `pct=` of the
    /// Bootstrap-Request.
    pub preferred_format: ContentFormat,
    /// Queue mode: stop listening this long after the last exchange
    /// (TS §6.5: MAX_TRANSMIT_WAIT, 93 s, by default).
    pub queue_idle: Duration,
}

impl Config {
    /// Defaults for `endpoint_name` (truncated to [`MAX_ENDPOINT_NAME_LEN`]).
    pub fn new(endpoint_name: &str) -> Config {
        let mut name = String::new();
        for c in endpoint_name.chars() {
            if name.push(c).is_err() {
                break;
            }
        }
        Config {
            endpoint_name: name,
            coap: CoapConfig::default(),
            bootstrap_timeout: Duration::from_secs(60),
            update_margin: Duration::from_secs(30),
            con_interval: ConInterval::Every(Duration::from_hours(24)),
            preferred_format: ContentFormat::SenmlCbor,
            queue_idle: Duration::from_secs(93),
        }
    }
}

/// Why a client-initiated operation (Bootstrap-Request, Register, Update,
/// De-register, Send) did not succeed. 4.xx, 5.xx and timeouts are distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// The server refused the request (4.xx).
    Rejected(Code),
    /// The server failed (5.xx).
    ServerError(Code),
    /// No response after all retransmissions (or the bootstrap timeout).
    Timeout,
    /// The server answered with RST.
    Reset,
    /// A response code that is not an answer to this request (2.xx of the
    /// wrong kind).
    Unexpected(Code),
}

impl Failure {
    fn from_code(code: Code) -> Failure {
        match code.class() {
            4 => Failure::Rejected(code),
            5 => Failure::ServerError(code),
            _ => Failure::Unexpected(code),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Rejected(c) => write!(f, "rejected with {c}"),
            Failure::ServerError(c) => write!(f, "server error {c}"),
            Failure::Timeout => f.write_str("timed out"),
            Failure::Reset => f.write_str("reset by peer"),
            Failure::Unexpected(c) => write!(f, "unexpected response {c}"),
        }
    }
}

/// What happened, drained with [`Client::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use = "a dropped Event is a lost state change"]
pub enum Event {
    /// The Bootstrap-Server sent Bootstrap-Finish and a usable server account exists.
    Bootstrapped,
    /// Bootstrapping failed.
    BootstrapFailed(Failure),
    /// Registered with server `ssid`.
    Registered {
        /// Short Server ID.
        ssid: u16,
    },
    /// Register failed.
    RegisterFailed {
        /// Short Server ID.
        ssid: u16,
        /// Why.
        failure: Failure,
    },
    /// An Update was acknowledged with 2.04.
    Updated {
        /// Short Server ID.
        ssid: u16,
    },
    /// An Update failed; the registration is gone (call `register` again).
    UpdateFailed {
        /// Short Server ID.
        ssid: u16,
        /// Why.
        failure: Failure,
    },
    /// De-registered (2.02), or given up on de-registering.
    Deregistered {
        /// Short Server ID.
        ssid: u16,
        /// `None` on 2.02, else why the server did not confirm it.
        failure: Option<Failure>,
    },
    /// Queue mode: nothing to do with server `ssid` for the idle period;
    /// the runtime may stop listening until it calls [`Client::wake`].
    Sleeping {
        /// Short Server ID.
        ssid: u16,
    },
    /// A server started observing `path`.
    ObservationStarted {
        /// Short Server ID.
        ssid: u16,
        /// Target.
        path: Path,
    },
    /// An observation ended (Cancel, RST, or a CON notification timed out).
    ObservationEnded {
        /// Short Server ID.
        ssid: u16,
        /// Target.
        path: Path,
    },
    /// A notification was sent.
    Notified {
        /// Short Server ID.
        ssid: u16,
        /// Target.
        path: Path,
        /// Sent Confirmable.
        confirmable: bool,
    },
    /// A server executed a resource (the store has acted; the runtime may too).
    Executed {
        /// Who.
        caller: Caller,
        /// Resource.
        path: Path,
    },
    /// A server or the Bootstrap-Server wrote `path`.
    Written {
        /// Who.
        caller: Caller,
        /// Target.
        path: Path,
    },
    /// A Send (`POST /dp`) was answered 2.04.
    SendSucceeded {
        /// Short Server ID.
        ssid: u16,
    },
    /// A Send failed.
    SendFailed {
        /// Short Server ID.
        ssid: u16,
        /// Why.
        failure: Failure,
    },
    /// A response matched no request state (STYLE §3: a typed outcome).
    UnexpectedResponse {
        /// Its code.
        code: Code,
    },
}

/// What a client command could not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientError {
    /// No usable server account in the store (or none resolvable).
    NoUsableServer,
    /// No registration with this server.
    NotRegistered,
    /// Another client-initiated request to this server is in flight.
    Busy,
    /// More server accounts than [`MAX_SERVERS`].
    TooManyServers,
    /// A string (URI, location, name) longer than its capacity.
    TooLong,
    /// The payload does not fit in one datagram.
    PayloadTooLarge,
    /// The CoAP endpoint refused.
    Endpoint(EndpointError),
    /// The content could not be encoded.
    Format(FormatError),
    /// The store refused.
    Store(StoreError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NoUsableServer => f.write_str("no usable server account"),
            ClientError::NotRegistered => f.write_str("not registered"),
            ClientError::Busy => f.write_str("a request is already in flight"),
            ClientError::TooManyServers => f.write_str("too many server accounts"),
            ClientError::TooLong => f.write_str("string too long"),
            ClientError::PayloadTooLarge => f.write_str("payload too large for one datagram"),
            ClientError::Endpoint(e) => write!(f, "coap: {e}"),
            ClientError::Format(e) => write!(f, "format: {e}"),
            ClientError::Store(e) => write!(f, "store: {e}"),
        }
    }
}

impl core::error::Error for ClientError {}

impl From<EndpointError> for ClientError {
    fn from(e: EndpointError) -> Self {
        ClientError::Endpoint(e)
    }
}

/// The state of one registration, as [`Client::registration`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RegistrationState {
    /// Not registered.
    Unregistered,
    /// Register sent.
    AwaitingRegisterResponse,
    /// Registered.
    Registered,
    /// Update sent.
    AwaitingUpdateResponse,
    /// De-register sent.
    AwaitingDeregisterResponse,
}

/// A registration that the server accepted.
#[derive(Debug, Clone)]
struct Session {
    /// Location-Path of the 2.01, as `/rd/abc`.
    location: String<MAX_LOCATION_LEN>,
}

/// What an Update carries besides the location (TS §6.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct UpdateContent {
    lifetime: bool,
    binding: bool,
    objects: bool,
}

impl UpdateContent {
    fn merge(self, o: UpdateContent) -> UpdateContent {
        UpdateContent {
            lifetime: self.lifetime || o.lifetime,
            binding: self.binding || o.binding,
            objects: self.objects || o.objects,
        }
    }
}

/// One registration's state, named after what it waits for (STYLE §3).
#[derive(Debug, Clone)]
enum Registration {
    Unregistered,
    AwaitingRegisterResponse(ExchangeId),
    Registered(Session),
    AwaitingUpdateResponse(Session, ExchangeId),
    AwaitingDeregisterResponse(ExchangeId),
}

/// What a response to a registration request means.
enum RegistrationOutcome {
    Stay,
    Event(Event),
}

impl Registration {
    fn exchange(&self) -> Option<ExchangeId> {
        match self {
            Registration::AwaitingRegisterResponse(e)
            | Registration::AwaitingUpdateResponse(_, e)
            | Registration::AwaitingDeregisterResponse(e) => Some(*e),
            _ => None,
        }
    }

    fn public(&self) -> RegistrationState {
        match self {
            Registration::Unregistered => RegistrationState::Unregistered,
            Registration::AwaitingRegisterResponse(_) => {
                RegistrationState::AwaitingRegisterResponse
            }
            Registration::Registered(_) => RegistrationState::Registered,
            Registration::AwaitingUpdateResponse(..) => RegistrationState::AwaitingUpdateResponse,
            Registration::AwaitingDeregisterResponse(_) => {
                RegistrationState::AwaitingDeregisterResponse
            }
        }
    }

    /// The transition on the answer (`Ok(code, location)`) or failure of
    /// this state's request; consumes the old state.
    fn on_answer(
        self,
        ssid: u16,
        answer: Result<(Code, &str), Failure>,
    ) -> (Registration, RegistrationOutcome) {
        use Registration as R;
        use RegistrationOutcome::Event as Ev;
        match (self, answer) {
            (R::AwaitingRegisterResponse(_), Ok((Code::Created, location))) => {
                let mut loc = String::new();
                if loc.push_str(location).is_err() || location.is_empty() {
                    let failure = Failure::Unexpected(Code::Created);
                    return (R::Unregistered, Ev(Event::RegisterFailed { ssid, failure }));
                }
                (R::Registered(Session { location: loc }), Ev(Event::Registered { ssid }))
            }
            (R::AwaitingRegisterResponse(_), Ok((code, _))) => {
                let failure = Failure::from_code(code);
                (R::Unregistered, Ev(Event::RegisterFailed { ssid, failure }))
            }
            (R::AwaitingRegisterResponse(_), Err(failure)) => {
                (R::Unregistered, Ev(Event::RegisterFailed { ssid, failure }))
            }
            (R::AwaitingUpdateResponse(s, _), Ok((Code::Changed, _))) => {
                (R::Registered(s), Ev(Event::Updated { ssid }))
            }
            (R::AwaitingUpdateResponse(_, _), Ok((code, _))) => {
                let failure = Failure::from_code(code);
                (R::Unregistered, Ev(Event::UpdateFailed { ssid, failure }))
            }
            (R::AwaitingUpdateResponse(_, _), Err(failure)) => {
                (R::Unregistered, Ev(Event::UpdateFailed { ssid, failure }))
            }
            (R::AwaitingDeregisterResponse(_), Ok((Code::Deleted, _))) => {
                (R::Unregistered, Ev(Event::Deregistered { ssid, failure: None }))
            }
            (R::AwaitingDeregisterResponse(_), Ok((code, _))) => {
                let failure = Some(Failure::from_code(code));
                (R::Unregistered, Ev(Event::Deregistered { ssid, failure }))
            }
            (R::AwaitingDeregisterResponse(_), Err(failure)) => {
                (R::Unregistered, Ev(Event::Deregistered { ssid, failure: Some(failure) }))
            }
            (state, _) => (state, RegistrationOutcome::Stay),
        }
    }
}

/// One server account the client registers with.
#[derive(Debug)]
struct ServerSlot<A> {
    ssid: u16,
    remote: A,
    lifetime_s: u32,
    binding: String<8>,
    queue_mode: bool,
    state: Registration,
    /// Update content waiting for the current exchange to finish.
    pending_update: Option<UpdateContent>,
    /// Queue mode: the idle period ended, the runtime stopped listening.
    sleeping: bool,
    /// The Send in flight.
    send: Option<ExchangeId>,
    /// The server's default `pmin`/`pmax` (1/x/2, 1/x/3), nothing else set.
    defaults: Attributes,
    /// A block-wise Register or Update in flight: the last block sent.
    block1_sent: Option<BlockValue>,
    /// What the Update in flight carries (its later blocks repeat it).
    update_content: UpdateContent,
}

/// The Bootstrap interface state (TS §6.1), named after what it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bootstrap<A> {
    Idle,
    AwaitingBootstrapResponse { remote: A, exchange: ExchangeId },
    AwaitingFinish { remote: A },
}

/// One observation (TS §6.4.1) of `path` by server `ssid`.
#[derive(Debug, Clone, Copy)]
struct Observation {
    observer: ObserverId,
    ssid: u16,
    path: Path,
    format: ContentFormat,
    last_sent: Instant,
    /// When the value was last compared with the attributes (epmin/epmax).
    last_eval: Instant,
    last_value: Option<f64>,
    changed: bool,
    /// Fell due while the server was asleep (queue mode); sent after the next Update.
    held: bool,
    /// An Observe-Composite: `path` is `/`, the listed paths are in
    /// `Inner::composites` under the same observer.
    composite: bool,
}

/// Every deadline of the client (STYLE §1: one table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Give up bootstrapping.
    Bootstrap,
    /// Send an Update before the lifetime of server slot `i` ends.
    Update(usize),
    /// Queue mode: stop listening to server slot `i`.
    QueueIdle(usize),
    /// Observation `i` may be due.
    Notify(usize),
}

const TIMERS: usize = 1 + 2 * MAX_SERVERS + MAX_OBSERVATIONS;

impl Timer {
    fn index(self) -> usize {
        match self {
            Timer::Bootstrap => 0,
            Timer::Update(i) => 1 + i,
            Timer::QueueIdle(i) => 1 + MAX_SERVERS + i,
            Timer::Notify(i) => 1 + 2 * MAX_SERVERS + i,
        }
    }

    fn from_index(i: usize) -> Option<Timer> {
        match i {
            0 => Some(Timer::Bootstrap),
            i if i < 1 + MAX_SERVERS => Some(Timer::Update(i - 1)),
            i if i < 1 + 2 * MAX_SERVERS => Some(Timer::QueueIdle(i - 1 - MAX_SERVERS)),
            i if i < TIMERS => Some(Timer::Notify(i - 1 - 2 * MAX_SERVERS)),
            _ => None,
        }
    }
}

/// A sans-IO LwM2M client: a CoAP endpoint for remotes of type `A`,
/// randomness `R`, and the object store `S`.
///
/// # Calling recipe
///
/// After **every** `handle_*` call and every command (`bootstrap`,
/// `register`, `update`, `deregister`, `value_changed`, `send`, `wake`),
/// drain the outputs, as for the CoAP endpoint:
///
/// 1. `while let Some(t) = client.poll_transmit(now, &mut buf)` — send
///    `buf[..t.len]` to `t.remote` (`buf` of
///    [`MAX_MESSAGE_LEN`](crate::coap::endpoint::config::MAX_MESSAGE_LEN));
/// 2. `while let Some(ev) = client.poll_event()` — act on it;
/// 3. wait for a datagram or until `client.poll_timeout()`, then call
///    `handle_datagram(now, from, bytes)` or `handle_timeout(now)`.
///
/// The application changes values through [`store_mut`](Self::store_mut)
/// and then calls [`value_changed`](Self::value_changed) so observations
/// of that path notify.
pub struct Client<A, R, S> {
    inner: Inner<A, R, S>,
    /// A received request, copied out of the endpoint so the endpoint can
    /// answer it while the handler reads it.
    rx: [u8; MAX_MESSAGE_LEN],
}

struct Inner<A, R, S> {
    config: Config,
    endpoint: Endpoint<A, R>,
    store: S,
    bootstrap: Bootstrap<A>,
    servers: [Option<ServerSlot<A>>; MAX_SERVERS],
    registry: ObserverRegistry<A, Path, MAX_OBSERVATIONS>,
    observations: [Option<Observation>; MAX_OBSERVATIONS],
    /// The path lists of the composite observations.
    composites: [Option<(ObserverId, Vec<Path, MAX_COMPOSITE_PATHS>)>; MAX_COMPOSITE_OBSERVATIONS],
    attributes: Vec<(u16, Path, Attributes), MAX_ATTRIBUTE_SETS>,
    timers: [Option<Instant>; TIMERS],
    events: Deque<Event, EVENT_QUEUE_LEN>,
    dropped_events: u32,
    /// The block-wise Write in progress: who, where, next expected offset.
    block1: Option<(Caller, Path, usize)>,
    /// Blocks written to this path are answered by [`Client::answer_block`].
    hold_path: Option<Path>,
    /// The block of `hold_path` waiting for its answer.
    held: Option<HeldBlock>,
}

/// A block of a block-wise Write the store took, not yet answered.
#[derive(Debug, Clone, Copy)]
struct HeldBlock {
    id: RequestId,
    block: BlockValue,
    caller: Caller,
    path: Path,
}

impl<A, R, S> fmt::Debug for Client<A, R, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint_name", &self.inner.config.endpoint_name)
            .field("servers", &self.inner.servers.iter().flatten().count())
            .field("observations", &self.inner.observations.iter().flatten().count())
            .finish()
    }
}

/// Why a Read could not be encoded.
#[derive(Debug, Clone, Copy)]
enum ReadFailure {
    Store(StoreError),
    Format(FormatError),
    TooLarge,
    /// A Block2 request past the end of the body.
    BlockOutOfRange,
}

impl From<formats::EncodeError> for ReadFailure {
    fn from(e: formats::EncodeError) -> Self {
        ReadFailure::Format(FormatError::Encode(e))
    }
}

impl From<formats::NegotiationError> for ReadFailure {
    fn from(e: formats::NegotiationError) -> Self {
        ReadFailure::Format(FormatError::Negotiation(e))
    }
}

impl From<ReadFailure> for Code {
    fn from(e: ReadFailure) -> Code {
        match e {
            ReadFailure::Store(e) => e.into(),
            ReadFailure::Format(e) => e.into(),
            // Block2 is not wired in yet: the body does not fit one datagram.
            ReadFailure::TooLarge => Code::RequestEntityTooLarge,
            // RFC 7959 §2.4: a block beyond the body is 4.02 Bad Option.
            ReadFailure::BlockOutOfRange => Code::BadOption,
        }
    }
}

/// Encode a Read of `path` as the payload of `w` (Content-Format first).
///
/// A body that does not fit in the datagram, or a request with a Block2
/// option, is answered block-wise (RFC 7959 §2.4): the encoder walks the
/// data again for each block through a window at the block's offset
/// ([`Window::at`]), so nothing is buffered beyond one block.
fn write_read_payload<S: ObjectStore>(
    store: &S,
    caller: Caller,
    path: &Path,
    format: ContentFormat,
    block: Option<BlockValue>,
    w: &mut MessageWriter<'_>,
) -> Result<(), ReadFailure> {
    let walk =
        |enc: &mut dyn formats::Encoder| store.read(caller, path, enc).map_err(ReadFailure::Store);
    w.add_content_format(format).map_err(|_| ReadFailure::TooLarge)?;
    let total = formats::encode(format, path, Window::new(&mut []), walk)?.produced;
    // Room for the payload marker, Block2 (≤ 3 + 2 bytes) and Size2 (≤ 4 + 2).
    let room = w.available_space().saturating_sub(1 + 5 + 6);
    if block.is_none() && total <= room + 11 {
        let buf = w.payload_mut(total).map_err(|_| ReadFailure::TooLarge)?;
        let chunk = formats::encode(format, path, Window::new(buf), walk)?;
        return w.truncate_payload(chunk.len).map_err(|_| ReadFailure::TooLarge);
    }
    let ours = Szx::fitting(room).min(Szx::S1024);
    let (offset, szx) = match block {
        Some(b) => (b.offset(), ours.negotiate(b.szx)),
        None => (0, ours),
    };
    if offset > 0 && offset >= total {
        return Err(ReadFailure::BlockOutOfRange);
    }
    let num = u32::try_from(offset / szx.size()).map_err(|_| ReadFailure::BlockOutOfRange)?;
    let more = offset.saturating_add(szx.size()) < total;
    let value = BlockValue::new(num, more, szx).ok_or(ReadFailure::BlockOutOfRange)?;
    w.add_uint(OptionNumber::Block2, value.to_uint()).map_err(|_| ReadFailure::TooLarge)?;
    if num == 0 {
        let size2 = u32::try_from(total).unwrap_or(u32::MAX);
        w.add_uint(OptionNumber::Size2, size2).map_err(|_| ReadFailure::TooLarge)?;
    }
    let len = szx.size().min(total.saturating_sub(offset));
    let buf = w.payload_mut(len).map_err(|_| ReadFailure::TooLarge)?;
    let chunk = formats::encode(format, path, Window::at(buf, offset), walk)?;
    w.truncate_payload(chunk.len).map_err(|_| ReadFailure::TooLarge)
}

/// The Read of `path` as one value or several (for the default format).
fn probe<S: ObjectStore>(
    store: &S,
    caller: Caller,
    path: &Path,
) -> Result<NumericProbe, StoreError> {
    let mut p = NumericProbe::default();
    store.read(caller, path, &mut p)?;
    Ok(p)
}

/// Server `ssid`'s Default Minimum and Maximum Period (resources 1/x/2 and
/// 1/x/3 of the Server-object instance whose 1/x/0 is `ssid`, TS §E.2), as
/// attributes with only `pmin`/`pmax` set. Read as the Bootstrap-Server
/// would, since these are the client's own settings, not data a server
/// reads.
fn server_defaults<S: ObjectStore>(store: &S, ssid: u16) -> Attributes {
    let mut instances: Vec<u16, MAX_INSTANCES> = Vec::new();
    store.objects(&mut |o| {
        if o.id == 1 {
            instances.extend(o.instances.iter().copied().take(MAX_INSTANCES));
        }
    });
    let seconds = |i: u16, r: u16| {
        let p = Path::resource(1, i, r).ok()?;
        let v = probe(store, Caller::Bootstrap, &p).ok()?.value?;
        // Integers from the store; anything out of u32 range is no setting.
        (v >= 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
    };
    let mut defaults = Attributes::default();
    let Some(&instance) = instances.iter().find(|&&i| seconds(i, 0) == Some(u32::from(ssid)))
    else {
        return defaults;
    };
    if let Some(pmin) = seconds(instance, 2) {
        defaults.pmin = Setting::Set(pmin);
    }
    if let Some(pmax) = seconds(instance, 3) {
        defaults.pmax = Setting::Set(pmax);
    }
    defaults
}

/// The path list of composite observation `observer` (empty if none).
fn composite_paths_of(
    composites: &[Option<(ObserverId, Vec<Path, MAX_COMPOSITE_PATHS>)>],
    observer: ObserverId,
) -> &[Path] {
    composites
        .iter()
        .flatten()
        .find(|(id, _)| *id == observer)
        .map_or(&[][..], |(_, paths)| paths.as_slice())
}

/// The Content-Format of a Read-/Observe-Composite request and of its
/// answer (Accept, else the request's): both SenML (TS 1.1 §6.3.1, §6.4.2).
fn composite_formats(
    content_format: Option<ContentFormat>,
    accept: Option<ContentFormat>,
) -> Result<(ContentFormat, ContentFormat), Code> {
    let senml =
        |f: &ContentFormat| matches!(f, ContentFormat::SenmlCbor | ContentFormat::SenmlJson);
    let Some(cf) = content_format.filter(senml) else {
        return Err(Code::UnsupportedContentFormat);
    };
    let format = accept.unwrap_or(cf);
    if !senml(&format) {
        return Err(Code::NotAcceptable);
    }
    Ok((cf, format))
}

/// The paths a composite request lists (SenML records without values).
fn composite_request_paths(
    cf: ContentFormat,
    payload: &[u8],
) -> Result<Vec<Path, MAX_COMPOSITE_PATHS>, Code> {
    let mut paths: Vec<Path, MAX_COMPOSITE_PATHS> = Vec::new();
    let mut scratch = [0u8; 256];
    let dec = Decoder::new(cf, &Path::ROOT, payload, &mut scratch, formats::NoTypes)
        .map_err(|_| Code::UnsupportedContentFormat)?;
    for item in dec {
        let (p, _) = item.map_err(Code::from)?;
        paths.push(p).map_err(|_| Code::RequestEntityTooLarge)?;
    }
    Ok(paths)
}

/// The listed paths that exist for `caller` (a composite answer leaves
/// the others out).
fn existing_paths<S: ObjectStore>(
    store: &S,
    caller: Caller,
    paths: &[Path],
) -> Vec<Path, MAX_COMPOSITE_PATHS> {
    paths
        .iter()
        .filter(|p| !matches!(probe(store, caller, p), Err(StoreError::NotFound)))
        .copied()
        .collect()
}

/// Encode the values at `paths` as one SenML document (Content-Format
/// first), for a Read-Composite answer or a composite notification.
fn write_composite_payload<S: ObjectStore>(
    store: &S,
    caller: Caller,
    format: ContentFormat,
    paths: &[Path],
    w: &mut MessageWriter<'_>,
) -> Result<(), ReadFailure> {
    w.add_content_format(format).map_err(|_| ReadFailure::TooLarge)?;
    let room = w.available_space().saturating_sub(1);
    let buf = w.payload_mut(room).map_err(|_| ReadFailure::TooLarge)?;
    let chunk = formats::encode(format, &Path::ROOT, Window::new(buf), |enc| {
        for p in paths {
            store.read(caller, p, enc).map_err(ReadFailure::Store)?;
        }
        Ok::<(), ReadFailure>(())
    })?;
    if chunk.more {
        return Err(ReadFailure::TooLarge);
    }
    w.truncate_payload(chunk.len).map_err(|_| ReadFailure::TooLarge)
}

fn response_format(
    store: &impl ObjectStore,
    caller: Caller,
    path: &Path,
    accept: Option<ContentFormat>,
    preferred: ContentFormat,
) -> Result<ContentFormat, Code> {
    let p = probe(store, caller, path).map_err(Code::from)?;
    let single = path.depth() >= 3 && p.count == 1 && p.first == Some(*path);
    formats::response_format(accept, single, preferred).map_err(Code::from)
}

/// Write `ep=…` style query strings.
fn query<const N: usize>(args: fmt::Arguments<'_>) -> Result<String<N>, ClientError> {
    let mut s = String::new();
    s.write_fmt(args).map_err(|_| ClientError::TooLong)?;
    Ok(s)
}

impl<A: Copy + Eq + fmt::Debug, R: Rng, S: ObjectStore> Client<A, R, S> {
    /// A client with these settings, randomness and object store.
    pub fn new(config: Config, rng: R, store: S) -> Self {
        let con = match config.con_interval {
            ConInterval::Always => Duration::from_millis(0),
            ConInterval::Every(d) => d,
        };
        Client {
            inner: Inner {
                endpoint: Endpoint::new(config.coap, rng),
                config,
                store,
                bootstrap: Bootstrap::Idle,
                servers: [const { None }; MAX_SERVERS],
                registry: ObserverRegistry::new(con),
                observations: [None; MAX_OBSERVATIONS],
                composites: [const { None }; MAX_COMPOSITE_OBSERVATIONS],
                attributes: Vec::new(),
                timers: [None; TIMERS],
                events: Deque::new(),
                dropped_events: 0,
                block1: None,
                hold_path: None,
                held: None,
            },
            rx: [0; MAX_MESSAGE_LEN],
        }
    }

    /// The object store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The object store, for the application to change values (then call
    /// [`value_changed`](Self::value_changed)).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.inner.store
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The state of the registration with server `ssid`, if it has an account slot.
    pub fn registration(&self, ssid: u16) -> Option<RegistrationState> {
        self.inner.slot(ssid).map(|s| s.state.public())
    }

    /// The registration location (`/rd/…`) with server `ssid`, while registered.
    pub fn location(&self, ssid: u16) -> Option<&str> {
        match &self.inner.slot(ssid)?.state {
            Registration::Registered(s) | Registration::AwaitingUpdateResponse(s, _) => {
                Some(s.location.as_str())
            }
            _ => None,
        }
    }

    /// Events dropped because the event queue was full (a runtime bug if not 0).
    pub fn dropped_events(&self) -> u32 {
        self.inner.dropped_events
    }

    // ----- commands -------------------------------------------------------

    /// Client-initiated bootstrap (TS §6.1.3): `POST /bs?ep=…&pct=…` to the
    /// Bootstrap-Server at `remote`. The procedure must end with
    /// Bootstrap-Finish within `bootstrap_timeout`, else
    /// [`Event::BootstrapFailed`]`(Timeout)`.
    ///
    /// # Errors
    /// [`ClientError::Endpoint`] when no exchange slot is free.
    pub fn bootstrap(&mut self, now: Instant, remote: A) -> Result<(), ClientError> {
        let i = &mut self.inner;
        let ep: String<80> = query(format_args!("ep={}", i.config.endpoint_name))?;
        let pct: String<16> = query(format_args!("pct={}", i.config.preferred_format.raw()))?;
        let exchange = i.endpoint.request(now, remote, true, Code::Post, |w| {
            w.add_uri_path("bs")?;
            w.add_uri_query(&ep)?;
            w.add_uri_query(&pct)
        })?;
        i.bootstrap = Bootstrap::AwaitingBootstrapResponse { remote, exchange };
        i.set_timer(Timer::Bootstrap, Some(now + i.config.bootstrap_timeout));
        Ok(())
    }

    /// Register with every usable server account of the store that is not
    /// registered yet (TS §6.2.1); `resolve` turns a server URI into a
    /// remote (the runtime resolved names beforehand). Returns how many
    /// Registers were sent.
    ///
    /// # Errors
    /// [`ClientError::NoUsableServer`] when there is no account to register
    /// with, [`ClientError::TooManyServers`], or an error sending.
    pub fn register(
        &mut self,
        now: Instant,
        mut resolve: impl FnMut(&str) -> Option<A>,
    ) -> Result<usize, ClientError> {
        let i = &mut self.inner;
        let mut accounts: Vec<(u16, A, u32, String<8>, bool), MAX_SERVERS> = Vec::new();
        let mut overflow = false;
        i.store.accounts(&mut |a| {
            if !a.is_usable_server() {
                return;
            }
            let (Some(ssid), Some(remote)) = (a.ssid, resolve(a.server_uri)) else { return };
            let mut b = String::new();
            let _ = b.push_str(a.binding);
            if accounts.push((ssid, remote, a.lifetime_s, b, a.queue_mode)).is_err() {
                overflow = true;
            }
        });
        if overflow {
            return Err(ClientError::TooManyServers);
        }
        if accounts.is_empty() {
            return Err(ClientError::NoUsableServer);
        }
        let mut sent = 0;
        for (ssid, remote, lifetime_s, binding, queue_mode) in accounts {
            let index = match i.slot_index(ssid) {
                Some(index) => index,
                None => {
                    let index = i
                        .servers
                        .iter()
                        .position(Option::is_none)
                        .ok_or(ClientError::TooManyServers)?;
                    if let Some(slot) = i.servers.get_mut(index) {
                        *slot = Some(ServerSlot {
                            ssid,
                            remote,
                            lifetime_s,
                            binding: String::new(),
                            queue_mode,
                            state: Registration::Unregistered,
                            pending_update: None,
                            sleeping: false,
                            send: None,
                            defaults: Attributes::default(),
                            block1_sent: None,
                            update_content: UpdateContent::default(),
                        });
                    }
                    index
                }
            };
            let Some(slot) = i.servers.get_mut(index).and_then(Option::as_mut) else { continue };
            if !matches!(slot.state, Registration::Unregistered) {
                continue;
            }
            slot.remote = remote;
            slot.lifetime_s = lifetime_s;
            slot.binding = binding;
            slot.queue_mode = queue_mode;
            slot.defaults = server_defaults(&i.store, ssid);
            i.send_register(now, index)?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Send an Update to server `ssid` now (TS §6.2.2); with `objects` the
    /// object list goes along. If another request to that server is in
    /// flight, the Update follows when it ends.
    ///
    /// # Errors
    /// [`ClientError::NotRegistered`], or an error sending.
    pub fn update(&mut self, now: Instant, ssid: u16, objects: bool) -> Result<(), ClientError> {
        let index = self.inner.slot_index(ssid).ok_or(ClientError::NotRegistered)?;
        let content = UpdateContent { objects, ..UpdateContent::default() };
        self.inner.request_update(now, index, content)
    }

    /// The object list changed (an instance was created or deleted by the
    /// application): every registered server gets an Update with the new list.
    pub fn objects_changed(&mut self, now: Instant) {
        let content = UpdateContent { objects: true, ..UpdateContent::default() };
        for index in 0..MAX_SERVERS {
            let _ = self.inner.request_update(now, index, content);
        }
    }

    /// De-register from server `ssid` (TS §6.2.3); [`Event::Deregistered`] follows.
    ///
    /// # Errors
    /// [`ClientError::NotRegistered`], [`ClientError::Busy`], or an error sending.
    pub fn deregister(&mut self, now: Instant, ssid: u16) -> Result<(), ClientError> {
        let i = &mut self.inner;
        let index = i.slot_index(ssid).ok_or(ClientError::NotRegistered)?;
        let slot =
            i.servers.get_mut(index).and_then(Option::as_mut).ok_or(ClientError::NotRegistered)?;
        let Registration::Registered(session) = &slot.state else {
            return Err(match slot.state {
                Registration::Unregistered => ClientError::NotRegistered,
                _ => ClientError::Busy,
            });
        };
        let exchange = i.endpoint.request(now, slot.remote, true, Code::Delete, |w| {
            w.add_path(OptionNumber::UriPath, &session.location)
        })?;
        slot.state = Registration::AwaitingDeregisterResponse(exchange);
        i.set_timer(Timer::Update(index), None);
        i.set_timer(Timer::QueueIdle(index), None);
        i.drop_observations_of(ssid);
        Ok(())
    }

    /// Queue mode: the runtime is listening again (the application has
    /// data, or the device woke); send the Update that tells server `ssid`
    /// (TS §6.5). Held notifications go out once it is acknowledged.
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub fn wake(&mut self, now: Instant, ssid: u16) -> Result<(), ClientError> {
        let index = self.inner.slot_index(ssid).ok_or(ClientError::NotRegistered)?;
        self.inner.request_update(now, index, UpdateContent::default())
    }

    /// The value at `path` changed: observations of it (or of an object or
    /// instance containing it) notify when their attributes allow.
    pub fn value_changed(&mut self, now: Instant, path: &Path) {
        self.inner.value_written(now, path);
    }

    /// Send (TS §6.4.3, `POST /dp`): the values at `paths` in SenML CBOR to
    /// server `ssid`; [`Event::SendSucceeded`] or [`Event::SendFailed`] follows.
    ///
    /// # Errors
    /// [`ClientError::NotRegistered`], [`ClientError::Busy`] (a Send in
    /// flight), a store or encoding error, or an error sending.
    pub fn send(&mut self, now: Instant, ssid: u16, paths: &[Path]) -> Result<(), ClientError> {
        let i = &mut self.inner;
        let index = i.slot_index(ssid).ok_or(ClientError::NotRegistered)?;
        let slot =
            i.servers.get_mut(index).and_then(Option::as_mut).ok_or(ClientError::NotRegistered)?;
        if !matches!(
            slot.state,
            Registration::Registered(_) | Registration::AwaitingUpdateResponse(..)
        ) {
            return Err(ClientError::NotRegistered);
        }
        if slot.send.is_some() {
            return Err(ClientError::Busy);
        }
        let store = &i.store;
        let mut failure: Option<ClientError> = None;
        let result = i.endpoint.request(now, slot.remote, true, Code::Post, |w| {
            w.add_uri_path("dp")?;
            w.add_content_format(ContentFormat::SenmlCbor)?;
            let room = w.available_space().saturating_sub(1);
            let buf = w.payload_mut(room)?;
            let encoded =
                formats::encode(ContentFormat::SenmlCbor, &Path::ROOT, Window::new(buf), |enc| {
                    for p in paths {
                        store.read(Caller::Server(ssid), p, enc).map_err(ReadFailure::Store)?;
                    }
                    Ok::<(), ReadFailure>(())
                });
            match encoded {
                Ok(chunk) if !chunk.more => w.truncate_payload(chunk.len),
                Ok(_) => {
                    failure = Some(ClientError::PayloadTooLarge);
                    Err(CoapError::BufferTooSmall)
                }
                Err(e) => {
                    failure = Some(match e {
                        ReadFailure::Store(e) => ClientError::Store(e),
                        ReadFailure::Format(e) => ClientError::Format(e),
                        ReadFailure::TooLarge | ReadFailure::BlockOutOfRange => {
                            ClientError::PayloadTooLarge
                        }
                    });
                    Err(CoapError::BufferTooSmall)
                }
            }
        });
        match (result, failure) {
            (_, Some(f)) => Err(f),
            (Err(e), None) => Err(e.into()),
            (Ok(exchange), None) => {
                slot.send = Some(exchange);
                Ok(())
            }
        }
    }

    // ----- inputs ---------------------------------------------------------

    /// Feed one datagram received from `remote` at `now`. Never panics;
    /// every outcome leaves through `poll_transmit` / `poll_event`.
    pub fn handle_datagram(&mut self, now: Instant, remote: A, bytes: &[u8]) {
        self.inner.endpoint.handle_datagram(now, remote, bytes);
        self.drain_endpoint(now);
    }

    /// Act on every deadline at or before `now`: CoAP retransmissions,
    /// the bootstrap timeout, Updates, queue-mode idling, notifications.
    /// Calling it early, late or twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.inner.endpoint.handle_timeout(now);
        self.drain_endpoint(now);
        for index in 0..TIMERS {
            let Some(Some(deadline)) = self.inner.timers.get(index).copied() else { continue };
            if deadline > now {
                continue;
            }
            let Some(timer) = Timer::from_index(index) else { continue };
            self.inner.set_timer(timer, None);
            self.inner.on_timer(now, timer);
        }
        self.inner.process_observations(now);
    }

    /// Holds the answer to every block of a block-wise Write of `path`
    /// (RFC 7959 §2.5) until [`answer_block`](Self::answer_block): the
    /// Firmware Update Package `/5/0/0` is acknowledged only once the DFU
    /// target has the block. The CoAP request stays un-ACKed meanwhile, so
    /// the answer must come well within ACK_TIMEOUT (the same poll). `None`
    /// answers every block at once (the default).
    pub fn hold_block_answers(&mut self, path: Option<Path>) {
        self.inner.hold_path = path;
    }

    /// Answers the held block: `Ok` → 2.31 Continue with its Block1 option
    /// (2.04 Changed on the last block, and [`Event::Written`]); `Err(code)`
    /// → that code, which ends the transfer. `false` if no block was held.
    pub fn answer_block(&mut self, result: Result<(), Code>) -> bool {
        let Some(h) = self.inner.held.take() else { return false };
        let inner = &mut self.inner;
        match result {
            Err(code) => {
                inner.block1 = None;
                inner.respond_code(h.id, code);
            }
            Ok(()) if h.block.more => inner.respond_block(h.id, Code::Continue, h.block),
            Ok(()) => {
                inner.block1 = None;
                inner.respond_block(h.id, Code::Changed, h.block);
                inner.push_event(Event::Written { caller: h.caller, path: h.path });
            }
        }
        true
    }

    // ----- outputs --------------------------------------------------------

    /// The next datagram to send, written to the start of `buf`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit<A>> {
        self.inner.endpoint.poll_transmit(now, buf)
    }

    /// The earliest instant [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = self.inner.timers.iter().flatten().min().copied();
        match (own, self.inner.endpoint.poll_timeout()) {
            (Some(a), Some(b)) => Some(if a < b { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.inner.events.pop_front()
    }

    fn drain_endpoint(&mut self, now: Instant) {
        // Bounded: the endpoint's event queue is finite and nothing below refills it.
        while let Some(ev) = self.inner.endpoint.poll_event() {
            match ev {
                CoapEvent::Request { id, remote, request } => {
                    let Ok(len) = request.encode_into(&mut self.rx) else { continue };
                    let Some(bytes) = self.rx.get(..len) else { continue };
                    let Ok(request) = Repr::decode(bytes) else { continue };
                    self.inner.on_request(now, id, remote, &request);
                }
                CoapEvent::Response { exchange, remote, response } => {
                    let mut location: String<MAX_LOCATION_LEN> = String::new();
                    let mut too_long = false;
                    for seg in response.options.get_all(OptionNumber::LocationPath) {
                        let s = seg.value_str().unwrap_or("");
                        too_long |= location.push('/').is_err() || location.push_str(s).is_err();
                    }
                    if too_long {
                        location.clear();
                    }
                    let code = response.code;
                    let block1 = response
                        .options
                        .get(OptionNumber::Block1)
                        .and_then(|o| BlockValue::parse(o.value).ok());
                    self.inner.on_answer(now, exchange, remote, Ok((code, &location)), block1);
                }
                CoapEvent::Acknowledged { .. } => {}
                CoapEvent::Timeout { exchange, remote, message_id } => {
                    self.inner.on_lost_message(now, exchange, remote, message_id, Failure::Timeout);
                }
                CoapEvent::Reset { exchange, remote, message_id } => match exchange {
                    Some(exchange) => self.inner.on_lost_message(
                        now,
                        exchange,
                        remote,
                        message_id,
                        Failure::Reset,
                    ),
                    None => self.inner.cancel_by_mid(remote, message_id),
                },
            }
        }
    }
}

impl<A: Copy + Eq + fmt::Debug, R: Rng, S: ObjectStore> Inner<A, R, S> {
    fn push_event(&mut self, ev: Event) {
        if self.events.push_back(ev).is_err() {
            self.dropped_events = self.dropped_events.saturating_add(1);
        }
    }

    fn set_timer(&mut self, t: Timer, at: Option<Instant>) {
        if let Some(slot) = self.timers.get_mut(t.index()) {
            *slot = at;
        }
    }

    fn slot_index(&self, ssid: u16) -> Option<usize> {
        self.servers.iter().position(|s| s.as_ref().is_some_and(|s| s.ssid == ssid))
    }

    fn slot(&self, ssid: u16) -> Option<&ServerSlot<A>> {
        self.servers.iter().flatten().find(|s| s.ssid == ssid)
    }

    fn ssid_of(&self, remote: A) -> Option<u16> {
        self.servers.iter().flatten().find(|s| s.remote == remote).map(|s| s.ssid)
    }

    /// Write the object list (TS §6.2.1: no Security (0) or OSCORE (21)
    /// object, `ver=` where the version is not 1.0, no `/0` suffix).
    /// Content-Format (12) must already be written: it precedes Uri-Query (15).
    fn write_object_links(store: &S, w: &mut MessageWriter<'_>) -> Result<(), CoapError> {
        let room = w.available_space().saturating_sub(1);
        let buf = w.payload_mut(room)?;
        let chunk = Self::encode_object_links(store, Window::new(buf));
        if chunk.more {
            return Err(CoapError::BufferTooSmall);
        }
        w.truncate_payload(chunk.len)
    }

    /// The object list as the payload of `w`: whole when it fits and no
    /// `block` is asked for, else block `block` of it (block 0 sized to the
    /// datagram when `None`) with Block1, and Size1 on block 0 (RFC 7959
    /// §2.5, §4). Returns the Block1 sent. Options above Uri-Query (15)
    /// must not be written yet.
    fn write_object_links_blockwise(
        store: &S,
        w: &mut MessageWriter<'_>,
        block: Option<(u32, Szx)>,
    ) -> Result<Option<BlockValue>, CoapError> {
        let total = Self::encode_object_links(store, Window::new(&mut [])).produced;
        // Room for the payload marker, Block1 (≤ 1 + 3 bytes), Size1 (≤ 2 + 4).
        let room = w.available_space().saturating_sub(1 + 4 + 6);
        let (num, szx) = match block {
            None if total <= room + 10 => return Self::write_object_links(store, w).map(|()| None),
            None => (0, Szx::fitting(room).min(Szx::S1024)),
            Some(b) => b,
        };
        let offset = usize::try_from(num).unwrap_or(usize::MAX).saturating_mul(szx.size());
        let Some(rest) = total.checked_sub(offset).filter(|&r| r > 0) else {
            return Err(CoapError::BufferTooSmall);
        };
        let value =
            BlockValue::new(num, rest > szx.size(), szx).ok_or(CoapError::BufferTooSmall)?;
        w.add_uint(OptionNumber::Block1, value.to_uint())?;
        if num == 0 {
            w.add_uint(OptionNumber::Size1, u32::try_from(total).unwrap_or(u32::MAX))?;
        }
        let buf = w.payload_mut(rest.min(szx.size()))?;
        let chunk = Self::encode_object_links(store, Window::at(buf, offset));
        w.truncate_payload(chunk.len)?;
        Ok(Some(value))
    }

    /// The object list in link format, through `out` (a window on any part).
    fn encode_object_links(store: &S, out: Window<'_>) -> formats::Chunk {
        let mut links = LinkWriter::new(out);
        store.objects(&mut |o| {
            if o.id == 0 || o.id == 21 {
                return;
            }
            let Ok(object) = Path::object(o.id) else { return };
            let versioned = o.version != "1.0" && !o.version.is_empty();
            if versioned || o.instances.is_empty() {
                let ver = [Attr::Ver(o.version)];
                links.link(&object, if versioned { &ver } else { &[] });
            }
            for &inst in o.instances {
                if let Ok(p) = Path::instance(o.id, inst) {
                    links.link(&p, &[]);
                }
            }
        });
        links.finish()
    }

    fn send_register(&mut self, now: Instant, index: usize) -> Result<(), ClientError> {
        self.send_register_block(now, index, None)
    }

    /// Send the Register, or block `block` (number, size) of a block-wise
    /// one. Without `block` the object list goes whole when it fits, else
    /// as block 0 with Size1 (RFC 7959 §2.5, §4), sized to the datagram.
    fn send_register_block(
        &mut self,
        now: Instant,
        index: usize,
        block: Option<(u32, Szx)>,
    ) -> Result<(), ClientError> {
        let Some(slot) = self.servers.get_mut(index).and_then(Option::as_mut) else {
            return Err(ClientError::NotRegistered);
        };
        let ep: String<80> = query(format_args!("ep={}", self.config.endpoint_name))?;
        let lt: String<16> = query(format_args!("lt={}", slot.lifetime_s))?;
        let b: String<16> = query(format_args!("b={}", slot.binding))?;
        let store = &self.store;
        let queue_mode = slot.queue_mode;
        let mut sent_block = None;
        let exchange = self.endpoint.request(now, slot.remote, true, Code::Post, |w| {
            w.add_uri_path("rd")?;
            w.add_content_format(ContentFormat::LinkFormat)?;
            w.add_uri_query(&ep)?;
            w.add_uri_query(&lt)?;
            w.add_uri_query("lwm2m=1.1")?;
            w.add_uri_query(&b)?;
            if queue_mode {
                w.add_uri_query("Q")?;
            }
            sent_block = Self::write_object_links_blockwise(store, w, block)?;
            Ok(())
        })?;
        slot.block1_sent = sent_block;
        slot.state = Registration::AwaitingRegisterResponse(exchange);
        slot.pending_update = None;
        slot.sleeping = false;
        Ok(())
    }

    fn request_update(
        &mut self,
        now: Instant,
        index: usize,
        content: UpdateContent,
    ) -> Result<(), ClientError> {
        let Some(slot) = self.servers.get_mut(index).and_then(Option::as_mut) else {
            return Err(ClientError::NotRegistered);
        };
        match &slot.state {
            Registration::Registered(_) => {}
            Registration::Unregistered | Registration::AwaitingDeregisterResponse(_) => {
                return Err(ClientError::NotRegistered);
            }
            _ => {
                let pending = slot.pending_update.unwrap_or_default().merge(content);
                slot.pending_update = Some(pending);
                return Ok(());
            }
        }
        let state = core::mem::replace(&mut slot.state, Registration::Unregistered);
        let Registration::Registered(session) = state else {
            slot.state = state;
            return Err(ClientError::NotRegistered);
        };
        let result = Self::update_request(
            &mut self.endpoint,
            &self.store,
            now,
            slot,
            &session,
            content,
            None,
        );
        match result {
            Ok((exchange, sent_block)) => {
                slot.block1_sent = sent_block;
                slot.update_content = content;
                slot.state = Registration::AwaitingUpdateResponse(session, exchange);
                slot.sleeping = false;
                self.set_timer(Timer::QueueIdle(index), None);
                Ok(())
            }
            Err(e) => {
                slot.state = Registration::Registered(session);
                Err(e)
            }
        }
    }

    /// Send the Update (or block `block` of a block-wise one) to `slot`.
    fn update_request(
        endpoint: &mut Endpoint<A, R>,
        store: &S,
        now: Instant,
        slot: &ServerSlot<A>,
        session: &Session,
        content: UpdateContent,
        block: Option<(u32, Szx)>,
    ) -> Result<(ExchangeId, Option<BlockValue>), ClientError> {
        let lt: String<16> = query(format_args!("lt={}", slot.lifetime_s))?;
        let b: String<16> = query(format_args!("b={}", slot.binding))?;
        let mut sent_block = None;
        let exchange = endpoint.request(now, slot.remote, true, Code::Post, |w| {
            w.add_path(OptionNumber::UriPath, &session.location)?;
            if content.objects {
                w.add_content_format(ContentFormat::LinkFormat)?;
            }
            if content.lifetime {
                w.add_uri_query(&lt)?;
            }
            if content.binding {
                w.add_uri_query(&b)?;
            }
            if content.objects {
                sent_block = Self::write_object_links_blockwise(store, w, block)?;
            }
            Ok(())
        })?;
        Ok((exchange, sent_block))
    }

    /// A 2.31 Continue to block `last` of a block-wise Register or Update
    /// of slot `index`: send the next block (RFC 7959 §2.5; a smaller size
    /// in the server's Block1 is taken from now on, late negotiation).
    fn next_block1(
        &mut self,
        now: Instant,
        index: usize,
        last: BlockValue,
        theirs: Option<BlockValue>,
    ) -> Result<(), ClientError> {
        let szx = theirs.map_or(last.szx, |b| last.szx.negotiate(b.szx));
        let next = last.offset().saturating_add(last.size()) / szx.size();
        let num = u32::try_from(next).map_err(|_| ClientError::PayloadTooLarge)?;
        let Some(slot) = self.servers.get_mut(index).and_then(Option::as_mut) else {
            return Err(ClientError::NotRegistered);
        };
        if let Registration::AwaitingUpdateResponse(session, _) = &slot.state {
            let (exchange, sent) = Self::update_request(
                &mut self.endpoint,
                &self.store,
                now,
                slot,
                session,
                slot.update_content,
                Some((num, szx)),
            )?;
            slot.block1_sent = sent;
            if let Registration::AwaitingUpdateResponse(_, e) = &mut slot.state {
                *e = exchange;
            }
            return Ok(());
        }
        self.send_register_block(now, index, Some((num, szx)))
    }

    fn on_timer(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::Bootstrap => {
                if !matches!(self.bootstrap, Bootstrap::Idle) {
                    if let Bootstrap::AwaitingBootstrapResponse { exchange, .. } = self.bootstrap {
                        self.endpoint.forget(exchange);
                    }
                    self.bootstrap = Bootstrap::Idle;
                    self.push_event(Event::BootstrapFailed(Failure::Timeout));
                }
            }
            Timer::Update(index) => {
                let _ = self.request_update(now, index, UpdateContent::default());
            }
            Timer::QueueIdle(index) => {
                if let Some(slot) = self.servers.get_mut(index).and_then(Option::as_mut)
                    && slot.queue_mode
                    && matches!(slot.state, Registration::Registered(_))
                {
                    slot.sleeping = true;
                    let ssid = slot.ssid;
                    self.push_event(Event::Sleeping { ssid });
                }
            }
            Timer::Notify(_) => {} // process_observations runs after every timer batch.
        }
    }

    /// A response (or its loss) to a request of ours.
    fn on_answer(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        remote: A,
        answer: Result<(Code, &str), Failure>,
        block1: Option<BlockValue>,
    ) {
        if let Bootstrap::AwaitingBootstrapResponse { remote: bs, exchange: e } = self.bootstrap
            && e == exchange
        {
            match answer {
                Ok((Code::Changed, _)) => self.bootstrap = Bootstrap::AwaitingFinish { remote: bs },
                Ok((code, _)) => {
                    self.bootstrap = Bootstrap::Idle;
                    self.set_timer(Timer::Bootstrap, None);
                    self.push_event(Event::BootstrapFailed(Failure::from_code(code)));
                }
                Err(failure) => {
                    self.bootstrap = Bootstrap::Idle;
                    self.set_timer(Timer::Bootstrap, None);
                    self.push_event(Event::BootstrapFailed(failure));
                }
            }
            return;
        }
        for index in 0..MAX_SERVERS {
            let Some(slot) = self.servers.get_mut(index).and_then(Option::as_mut) else { continue };
            if slot.send == Some(exchange) {
                slot.send = None;
                let ssid = slot.ssid;
                let ev = match answer {
                    Ok((Code::Changed, _)) => Event::SendSucceeded { ssid },
                    Ok((code, _)) => Event::SendFailed { ssid, failure: Failure::from_code(code) },
                    Err(failure) => Event::SendFailed { ssid, failure },
                };
                self.push_event(ev);
                self.after_exchange(now, index);
                return;
            }
            if slot.state.exchange() != Some(exchange) {
                continue;
            }
            let ssid = slot.ssid;
            let block_wise = matches!(
                slot.state,
                Registration::AwaitingRegisterResponse(_)
                    | Registration::AwaitingUpdateResponse(..)
            );
            if let (true, Ok((Code::Continue, _)), Some(last)) =
                (block_wise, answer, slot.block1_sent)
                && last.more
                // Else the next block could not go: the request fails as a
                // whole (a 2.31 is no answer to a Register or Update).
                && self.next_block1(now, index, last, block1).is_ok()
            {
                return;
            }
            let Some(slot) = self.servers.get_mut(index).and_then(Option::as_mut) else { return };
            slot.block1_sent = None;
            let state = core::mem::replace(&mut slot.state, Registration::Unregistered);
            let was_update = matches!(state, Registration::AwaitingUpdateResponse(..));
            let (next, outcome) = state.on_answer(ssid, answer);
            slot.state = next;
            let registered = matches!(slot.state, Registration::Registered(_));
            let lifetime = Duration::from_secs(u64::from(slot.lifetime_s));
            if !registered {
                slot.pending_update = None;
            }
            if let RegistrationOutcome::Event(ev) = outcome {
                self.push_event(ev);
            }
            if registered {
                let margin = self.config.update_margin;
                let half = Duration::from_millis(lifetime.as_millis() / 2);
                let margin = if margin < half { margin } else { half };
                self.set_timer(Timer::Update(index), Some(now + (lifetime - margin)));
                if was_update {
                    self.release_held(ssid);
                    self.process_observations(now);
                }
                self.after_exchange(now, index);
            } else {
                self.set_timer(Timer::Update(index), None);
                self.set_timer(Timer::QueueIdle(index), None);
                self.drop_observations_of(ssid);
            }
            return;
        }
        let _ = remote;
        let code = match answer {
            Ok((code, _)) => code,
            Err(_) => Code::Empty,
        };
        self.push_event(Event::UnexpectedResponse { code });
    }

    /// An exchange with server slot `index` ended: start a pending Update,
    /// or (queue mode) the idle timer.
    fn after_exchange(&mut self, now: Instant, index: usize) {
        let Some(slot) = self.servers.get_mut(index).and_then(Option::as_mut) else { return };
        if let Some(content) = slot.pending_update.take() {
            let _ = self.request_update(now, index, content);
            return;
        }
        if slot.queue_mode {
            let at = now + self.config.queue_idle;
            self.set_timer(Timer::QueueIdle(index), Some(at));
        }
    }

    fn on_lost_message(
        &mut self,
        now: Instant,
        exchange: ExchangeId,
        remote: A,
        message_id: u16,
        failure: Failure,
    ) {
        // A notification's loss cancels its observation (RFC 7641 §3.6, §4.5).
        if self
            .registry
            .iter()
            .any(|(_, o)| o.remote() == remote && o.last_mid() == Some(message_id))
        {
            self.cancel_by_mid(remote, message_id);
            return;
        }
        self.on_answer(now, exchange, remote, Err(failure), None);
    }

    /// Cancel-Observation (RFC 7641 §3.6): the observation `remote` made
    /// with `token`, if any, ends.
    fn cancel_by_token(&mut self, remote: A, token: &[u8]) {
        let found = self
            .registry
            .iter()
            .find(|(_, o)| o.remote() == remote && o.token() == token)
            .map(|(i, _)| i);
        if let Some(o) = found {
            self.end_observation(o);
        }
    }

    fn cancel_by_mid(&mut self, remote: A, mid: u16) {
        let Some((id, _)) =
            self.registry.iter().find(|(_, o)| o.remote() == remote && o.last_mid() == Some(mid))
        else {
            return;
        };
        self.end_observation(id);
    }

    /// Drop observation `id`'s entries (not its registry entry), silently:
    /// the observer re-registered with the same token.
    fn forget_observation(&mut self, id: ObserverId) {
        for o in self.observations.iter_mut() {
            if o.is_some_and(|o| o.observer == id) {
                *o = None;
            }
        }
        for c in self.composites.iter_mut() {
            if c.as_ref().is_some_and(|(o, _)| *o == id) {
                *c = None;
            }
        }
    }

    fn end_observation(&mut self, id: ObserverId) {
        self.registry.remove(id);
        for c in self.composites.iter_mut() {
            if c.as_ref().is_some_and(|(o, _)| *o == id) {
                *c = None;
            }
        }
        for (i, slot) in self.observations.iter_mut().enumerate() {
            if let Some(o) = slot
                && o.observer == id
            {
                let ev = Event::ObservationEnded { ssid: o.ssid, path: o.path };
                *slot = None;
                if let Some(t) = self.timers.get_mut(Timer::Notify(i).index()) {
                    *t = None;
                }
                if self.events.push_back(ev).is_err() {
                    self.dropped_events = self.dropped_events.saturating_add(1);
                }
            }
        }
    }

    fn drop_observations_of(&mut self, ssid: u16) {
        let ids: Vec<ObserverId, MAX_OBSERVATIONS> = self
            .observations
            .iter()
            .flatten()
            .filter(|o| o.ssid == ssid)
            .map(|o| o.observer)
            .collect();
        for id in ids {
            self.end_observation(id);
        }
    }

    /// Send the notifications held while server `ssid` slept.
    fn release_held(&mut self, ssid: u16) {
        for o in self.observations.iter_mut().flatten() {
            if o.ssid == ssid && o.held {
                o.held = false;
                o.changed = true;
                // Due now: its pmin has long passed.
                o.last_sent = Instant::ZERO;
            }
        }
    }

    /// The attributes in force for `path` and server `ssid` (TS §5.1.2.1):
    /// the server's defaults, then object, instance and resource level, the
    /// deeper overriding.
    fn effective_attributes(&self, ssid: u16, path: &Path) -> Attributes {
        // TS §E.2: Default Minimum/Maximum Period apply "if the pmin/pmax
        // parameter is not specified" by Write-Attributes at any level.
        let mut acc = self.slot(ssid).map(|s| s.defaults).unwrap_or_default();
        for depth in 1..=path.depth() {
            let prefix = path.truncated(depth);
            if let Some((_, _, a)) =
                self.attributes.iter().find(|(s, p, _)| *s == ssid && *p == prefix)
            {
                acc = a.inherit(&acc);
            }
        }
        acc
    }

    /// The attributes of a composite observation (module doc): the largest
    /// `pmin`/`epmin` and the smallest non-zero `pmax`/`epmax` of its paths;
    /// no value conditions.
    fn composite_attributes(&self, ssid: u16, observer: ObserverId) -> Attributes {
        let larger = |a: Setting<u32>, b: Setting<u32>| match (a.get(), b.get()) {
            (Some(x), Some(y)) => Setting::Set(x.max(y)),
            _ => a.or(b),
        };
        let smaller = |a: Setting<u32>, b: Setting<u32>| match (
            a.get().filter(|&v| v > 0),
            b.get().filter(|&v| v > 0),
        ) {
            (Some(x), Some(y)) => Setting::Set(x.min(y)),
            (Some(x), None) | (None, Some(x)) => Setting::Set(x),
            (None, None) => Setting::Inherit,
        };
        let mut acc = Attributes::default();
        for p in composite_paths_of(&self.composites, observer) {
            let a = self.effective_attributes(ssid, p);
            acc.pmin = larger(acc.pmin, a.pmin);
            acc.epmin = larger(acc.epmin, a.epmin);
            acc.pmax = smaller(acc.pmax, a.pmax);
            acc.epmax = smaller(acc.epmax, a.epmax);
        }
        acc
    }

    /// The numeric value an observation compares with `gt`/`lt`/`st`
    /// (none for a composite one).
    fn observed_value(&self, o: &Observation) -> Option<f64> {
        if o.composite {
            return None;
        }
        probe(&self.store, Caller::Server(o.ssid), &o.path).ok().and_then(|p| p.value)
    }

    /// Send every notification that is due and re-arm the observation timers.
    fn process_observations(&mut self, now: Instant) {
        for index in 0..MAX_OBSERVATIONS {
            let Some(Some(o)) = self.observations.get(index).copied() else { continue };
            let attrs = if o.composite {
                self.composite_attributes(o.ssid, o.observer)
            } else {
                self.effective_attributes(o.ssid, &o.path)
            };
            let pmax_due = attrs.pmax().is_some_and(|p| now >= o.last_sent + p);
            let pmin_passed = now >= o.last_sent + attrs.pmin();
            // epmin/epmax bound the evaluation period (TS 1.1 §5.1.2): no
            // evaluation before epmin, one at least every epmax even when the
            // application signalled no change.
            let epmin_passed = now >= o.last_eval + attrs.epmin();
            let epmax_due = attrs.epmax().is_some_and(|e| now >= o.last_eval + e);
            let mut send = pmax_due;
            let mut current = o.last_value;
            let evaluate = (o.changed && epmin_passed) || epmax_due;
            if evaluate && pmin_passed && !send {
                let value = self.observed_value(&o);
                current = value;
                let moved = o.changed || value != o.last_value;
                if let Some(Some(obs)) = self.observations.get_mut(index) {
                    obs.last_eval = now;
                }
                if moved && attrs.value_condition_met(o.last_value, value) {
                    send = true;
                } else if let Some(Some(obs)) = self.observations.get_mut(index) {
                    // A change that does not meet gt/lt/st is no change (TS §5.1.2).
                    obs.changed = false;
                }
            }
            let asleep = self.slot(o.ssid).is_some_and(|s| s.sleeping);
            if send && asleep {
                if let Some(Some(obs)) = self.observations.get_mut(index) {
                    obs.held = true;
                    obs.changed = false;
                }
                self.set_timer(Timer::Notify(index), None);
                continue;
            }
            if send {
                if pmax_due && current == o.last_value {
                    current = self.observed_value(&o);
                }
                self.send_notification(now, index, o, current);
            }
            let Some(Some(o)) = self.observations.get(index).copied() else { continue };
            if o.held {
                continue;
            }
            let due = attributes::next_due(&attrs, o.last_sent, o.last_eval, o.changed);
            self.set_timer(Timer::Notify(index), due);
        }
    }

    fn send_notification(
        &mut self,
        now: Instant,
        index: usize,
        o: Observation,
        value: Option<f64>,
    ) {
        let want_con = self.config.con_interval == ConInterval::Always;
        let store = &self.store;
        let composite_paths = composite_paths_of(&self.composites, o.observer);
        let mut failed: Option<Code> = None;
        let mut confirmable = want_con;
        let result = self.endpoint.notify(
            now,
            &mut self.registry,
            o.observer,
            want_con,
            Code::Content,
            |w| {
                confirmable =
                    w.repr().is_ok_and(|r| r.msg_type == crate::coap::message::MessageType::Con);
                let caller = Caller::Server(o.ssid);
                let written = if o.composite {
                    // Paths deleted since are left out; none left ends it.
                    let existing = existing_paths(store, caller, composite_paths);
                    if existing.is_empty() {
                        Err(ReadFailure::Store(StoreError::NotFound))
                    } else {
                        write_composite_payload(store, caller, o.format, &existing, w)
                    }
                } else {
                    write_read_payload(store, caller, &o.path, o.format, None, w)
                };
                written.map_err(|e| {
                    failed = Some(e.into());
                    CoapError::BufferTooSmall
                })
            },
        );
        if let Some(Some(obs)) = self.observations.get_mut(index) {
            obs.last_sent = now;
            obs.changed = false;
            obs.last_value = value;
        }
        match (result, failed) {
            (Ok(_), _) => {
                self.push_event(Event::Notified { ssid: o.ssid, path: o.path, confirmable });
            }
            (Err(_), Some(_)) => {
                // The target can no longer be read (deleted): end the observation.
                self.end_observation(o.observer);
            }
            (Err(_), None) => {
                // No exchange slot: try again on the next timer pass.
                if let Some(Some(obs)) = self.observations.get_mut(index) {
                    obs.changed = true;
                    obs.last_sent = Instant::ZERO;
                }
            }
        }
    }

    // ----- requests from servers -------------------------------------------

    fn on_request(&mut self, now: Instant, id: RequestId, remote: A, req: &Repr<'_>) {
        let caller = match self.bootstrap {
            Bootstrap::AwaitingBootstrapResponse { remote: bs, .. }
            | Bootstrap::AwaitingFinish { remote: bs }
                if bs == remote =>
            {
                Caller::Bootstrap
            }
            _ => match self.ssid_of(remote) {
                Some(ssid) => Caller::Server(ssid),
                None => return self.respond_code(id, Code::Unauthorized),
            },
        };
        if let Caller::Server(ssid) = caller
            && let Some(index) = self.slot_index(ssid)
        {
            // Any exchange restarts the queue-mode idle period.
            if let Some(slot) = self.servers.get(index).and_then(Option::as_ref)
                && slot.queue_mode
            {
                let at = now + self.config.queue_idle;
                self.set_timer(Timer::QueueIdle(index), Some(at));
            }
        }
        if req.first_unknown_critical().is_some() {
            return self.respond_code(id, Code::BadOption);
        }
        let segments = req.options.get_all(OptionNumber::UriPath).map(|o| o.value);
        // Bootstrap-Finish: POST /bs (TS §5.2.7.7).
        let mut segs = req.options.get_all(OptionNumber::UriPath);
        if caller == Caller::Bootstrap
            && req.code == Code::Post
            && segs.next().is_some_and(|s| s.value == b"bs")
            && segs.next().is_none()
        {
            return self.bootstrap_finish(id);
        }
        let Ok(path) = Path::from_segments(segments) else {
            return self.respond_code(id, Code::NotFound);
        };
        let accept = req
            .options
            .get_uint(OptionNumber::Accept)
            .and_then(|v| u16::try_from(v).ok())
            .map(ContentFormat::from);
        let content_format = req
            .options
            .get_uint(OptionNumber::ContentFormat)
            .and_then(|v| u16::try_from(v).ok())
            .map(ContentFormat::from);
        if matches!(req.code, Code::Put | Code::Post)
            && path.depth() >= 3
            && let Some(block) = req.options.get(OptionNumber::Block1)
        {
            return self.write_block(id, caller, &path, block.value, req.payload);
        }
        let block2 = match req.options.get(OptionNumber::Block2).map(|o| BlockValue::parse(o.value))
        {
            None => None,
            Some(Ok(b)) => Some(b),
            Some(Err(_)) => return self.respond_code(id, Code::BadOption),
        };
        match req.code {
            Code::Fetch if path.is_root() => {
                match (caller, req.options.get_uint(OptionNumber::Observe)) {
                    (Caller::Server(ssid), Some(0)) => {
                        self.observe_composite(now, id, remote, ssid, req, content_format, accept)
                    }
                    (Caller::Server(_), Some(1)) => {
                        // Cancel-Observation-Composite (TS 1.1 §6.4.2): the
                        // token names the observation; the answer is a
                        // Read-Composite, as for a single Cancel (RFC 7641 §3.6).
                        self.cancel_by_token(remote, req.token.as_bytes());
                        self.read_composite(id, caller, content_format, accept, req.payload)
                    }
                    _ => self.read_composite(id, caller, content_format, accept, req.payload),
                }
            }
            Code::IPatch if path.is_root() => {
                self.write_composite(now, id, caller, content_format, req.payload)
            }
            Code::Get if accept == Some(ContentFormat::LinkFormat) => {
                self.discover(id, caller, &path)
            }
            Code::Get => match (caller, req.options.get_uint(OptionNumber::Observe)) {
                (Caller::Server(ssid), Some(0)) => {
                    self.observe(now, id, remote, ssid, req, &path, accept)
                }
                (Caller::Server(_), Some(1)) => {
                    self.cancel_by_token(remote, req.token.as_bytes());
                    self.read(id, caller, &path, accept, block2)
                }
                _ => self.read(id, caller, &path, accept, block2),
            },
            Code::Put if content_format.is_none() && req.payload.is_empty() => match caller {
                Caller::Server(ssid) => self.write_attributes(now, id, ssid, req, &path),
                Caller::Bootstrap => self.respond_code(id, Code::MethodNotAllowed),
            },
            Code::Put => {
                self.write(now, id, caller, &path, WriteMode::Replace, content_format, req.payload)
            }
            Code::Post => match path.level() {
                Level::Resource if caller != Caller::Bootstrap => {
                    let result = self.store.execute(caller, &path, req.payload);
                    if result.is_ok() {
                        self.push_event(Event::Executed { caller, path });
                    }
                    self.respond_result(id, result.map(|()| Code::Changed))
                }
                Level::Instance => self.write(
                    now,
                    id,
                    caller,
                    &path,
                    WriteMode::Partial,
                    content_format,
                    req.payload,
                ),
                Level::Object => self.create(now, id, caller, &path, content_format, req.payload),
                _ => self.respond_code(id, Code::MethodNotAllowed),
            },
            Code::Delete => self.delete(now, id, caller, &path),
            _ => self.respond_code(id, Code::MethodNotAllowed),
        }
    }

    fn respond_code(&mut self, id: RequestId, code: Code) {
        let _ = self.endpoint.respond(id, code, |_| Ok(()));
    }

    fn respond_result(&mut self, id: RequestId, r: Result<Code, StoreError>) {
        let code = r.unwrap_or_else(Code::from);
        self.respond_code(id, code);
    }

    fn bootstrap_finish(&mut self, id: RequestId) {
        let mut usable = false;
        self.store.accounts(&mut |a| usable |= a.is_usable_server());
        if !usable {
            // TS §5.2.7.7 (1.1): no usable server account: 4.06 Not Acceptable.
            return self.respond_code(id, Code::NotAcceptable);
        }
        self.respond_code(id, Code::Changed);
        self.bootstrap = Bootstrap::Idle;
        self.set_timer(Timer::Bootstrap, None);
        self.push_event(Event::Bootstrapped);
    }

    /// The Read/Observe response format (TS §7.1): Accept, else text for
    /// a single value, else the preferred multi-value format.
    fn format_for(
        &self,
        caller: Caller,
        path: &Path,
        accept: Option<ContentFormat>,
    ) -> Result<ContentFormat, Code> {
        response_format(&self.store, caller, path, accept, self.config.preferred_format)
    }

    fn read(
        &mut self,
        id: RequestId,
        caller: Caller,
        path: &Path,
        accept: Option<ContentFormat>,
        block: Option<BlockValue>,
    ) {
        if caller == Caller::Bootstrap && !matches!(path.object_id(), Some(1) | Some(2)) {
            // TS §5.2.7.2: the Bootstrap-Server reads only Server and ACL objects.
            return self.respond_code(id, Code::MethodNotAllowed);
        }
        let format = match self.format_for(caller, path, accept) {
            Ok(f) => f,
            Err(code) => return self.respond_code(id, code),
        };
        let store = &self.store;
        let mut failed: Option<Code> = None;
        let r = self.endpoint.respond(id, Code::Content, |w| {
            write_read_payload(store, caller, path, format, block, w).map_err(|e| {
                failed = Some(e.into());
                CoapError::BufferTooSmall
            })
        });
        if r.is_err() {
            self.respond_code(id, failed.unwrap_or(Code::InternalServerError));
        }
    }

    #[allow(clippy::too_many_arguments, reason = "one request's parts")]
    fn observe(
        &mut self,
        now: Instant,
        id: RequestId,
        remote: A,
        ssid: u16,
        req: &Repr<'_>,
        path: &Path,
        accept: Option<ContentFormat>,
    ) {
        let caller = Caller::Server(ssid);
        let format = match self.format_for(caller, path, accept) {
            Ok(f) => f,
            Err(code) => return self.respond_code(id, code),
        };
        let Some(slot) = self.observations.iter().position(Option::is_none) else {
            return self.read(id, caller, path, accept, None); // No room: a plain Read (RFC 7641 §4.1).
        };
        let Ok((observer, seq)) = self.registry.register(remote, req.token.as_bytes(), *path, now)
        else {
            return self.read(id, caller, path, accept, None);
        };
        // A re-registration with the same token replaces the old observation.
        self.forget_observation(observer);
        let store = &self.store;
        let mut failed: Option<Code> = None;
        let r = self.endpoint.respond(id, Code::Content, |w| {
            w.add_uint(OptionNumber::Observe, seq)?;
            write_read_payload(store, caller, path, format, None, w).map_err(|e| {
                failed = Some(e.into());
                CoapError::BufferTooSmall
            })
        });
        if r.is_err() {
            self.registry.remove(observer);
            return self.respond_code(id, failed.unwrap_or(Code::InternalServerError));
        }
        let value = probe(&self.store, caller, path).ok().and_then(|p| p.value);
        if let Some(s) = self.observations.get_mut(slot) {
            *s = Some(Observation {
                observer,
                ssid,
                path: *path,
                format,
                last_sent: now,
                last_eval: now,
                last_value: value,
                changed: false,
                held: false,
                composite: false,
            });
        }
        self.push_event(Event::ObservationStarted { ssid, path: *path });
        self.process_observations(now);
    }

    fn write_attributes(
        &mut self,
        now: Instant,
        id: RequestId,
        ssid: u16,
        req: &Repr<'_>,
        path: &Path,
    ) {
        if path.is_root() {
            return self.respond_code(id, Code::MethodNotAllowed);
        }
        let probe = match probe(&self.store, Caller::Server(ssid), path) {
            Ok(p) => p,
            Err(e) => return self.respond_code(id, e.into()),
        };
        let pos = self.attributes.iter().position(|(s, p, _)| *s == ssid && p == path);
        let mut attrs =
            pos.and_then(|i| self.attributes.get(i)).map(|(_, _, a)| *a).unwrap_or_default();
        for q in req.options.get_all(OptionNumber::UriQuery) {
            let Some(q) = q.value_str() else { return self.respond_code(id, Code::BadRequest) };
            if attrs.apply_query(q).is_err() {
                return self.respond_code(id, Code::BadRequest);
            }
        }
        let numeric_target = path.depth() >= 3 && probe.value.is_some();
        if attrs.validate().is_err() || (attrs.has_value_conditions() && !numeric_target) {
            return self.respond_code(id, Code::BadRequest);
        }
        let stored = match pos.and_then(|i| self.attributes.get_mut(i)) {
            Some(entry) => {
                entry.2 = attrs;
                true
            }
            None => self.attributes.push((ssid, *path, attrs)).is_ok(),
        };
        if !stored {
            return self.respond_code(id, Code::RequestEntityTooLarge);
        }
        self.respond_code(id, Code::Changed);
        self.process_observations(now);
    }

    #[allow(clippy::too_many_arguments, reason = "one request's parts")]
    fn write(
        &mut self,
        now: Instant,
        id: RequestId,
        caller: Caller,
        path: &Path,
        mode: WriteMode,
        content_format: Option<ContentFormat>,
        payload: &[u8],
    ) {
        let format = match formats::request_format(content_format) {
            Ok(f) => f,
            Err(e) => return self.respond_code(id, e.into()),
        };
        if path.is_root() || (caller == Caller::Bootstrap && path.depth() > 3) {
            return self.respond_code(id, Code::MethodNotAllowed);
        }
        if let Err(code) = decode_checked(&self.store, format, path, payload) {
            return self.respond_code(id, code);
        }
        let result = write_values(&mut self.store, caller, path, mode, format, payload);
        match result {
            Ok(()) => {
                self.respond_code(id, Code::Changed);
                self.push_event(Event::Written { caller, path: *path });
                if path.object_id() == Some(1) {
                    self.refresh_accounts(now);
                }
                self.value_written(now, path);
            }
            Err(code) => self.respond_code(id, code),
        }
    }

    /// Read-Composite (TS 1.1 §6.3.1, FETCH on `/`): the request lists
    /// paths as SenML records without values; the answer holds the values
    /// of those that exist, in the Accept format (SenML), paths that do not
    /// exist left out, 4.04 when none does.
    fn read_composite(
        &mut self,
        id: RequestId,
        caller: Caller,
        content_format: Option<ContentFormat>,
        accept: Option<ContentFormat>,
        payload: &[u8],
    ) {
        let request = composite_formats(content_format, accept)
            .and_then(|(cf, format)| Ok((format, composite_request_paths(cf, payload)?)));
        let (format, paths) = match request {
            Ok(r) => r,
            Err(code) => return self.respond_code(id, code),
        };
        let existing = existing_paths(&self.store, caller, &paths);
        if existing.is_empty() {
            return self.respond_code(id, Code::NotFound);
        }
        let store = &self.store;
        let mut failed: Option<Code> = None;
        let r = self.endpoint.respond(id, Code::Content, |w| {
            write_composite_payload(store, caller, format, &existing, w).map_err(|e| {
                failed = Some(e.into());
                CoapError::BufferTooSmall
            })
        });
        if r.is_err() {
            self.respond_code(id, failed.unwrap_or(Code::InternalServerError));
        }
    }

    /// Observe-Composite (TS 1.1 §6.4.2, FETCH on `/` with Observe 0): a
    /// Read-Composite answered with the Observe option, after which the
    /// listed paths notify together. With no free observation slot it is
    /// a plain Read-Composite (RFC 7641 §4.1).
    #[allow(clippy::too_many_arguments, reason = "one request's parts")]
    fn observe_composite(
        &mut self,
        now: Instant,
        id: RequestId,
        remote: A,
        ssid: u16,
        req: &Repr<'_>,
        content_format: Option<ContentFormat>,
        accept: Option<ContentFormat>,
    ) {
        let caller = Caller::Server(ssid);
        let request = composite_formats(content_format, accept)
            .and_then(|(cf, format)| Ok((format, composite_request_paths(cf, req.payload)?)));
        let (format, paths) = match request {
            Ok(r) => r,
            Err(code) => return self.respond_code(id, code),
        };
        if existing_paths(&self.store, caller, &paths).is_empty() {
            return self.respond_code(id, Code::NotFound);
        }
        let slot = self.observations.iter().position(Option::is_none);
        let list = self.composites.iter().position(Option::is_none);
        let (Some(slot), Some(list)) = (slot, list) else {
            return self.read_composite(id, caller, content_format, accept, req.payload);
        };
        let Ok((observer, seq)) =
            self.registry.register(remote, req.token.as_bytes(), Path::ROOT, now)
        else {
            return self.read_composite(id, caller, content_format, accept, req.payload);
        };
        // A re-registration with the same token replaces the old observation.
        self.forget_observation(observer);
        let store = &self.store;
        let existing = existing_paths(store, caller, &paths);
        let mut failed: Option<Code> = None;
        let r = self.endpoint.respond(id, Code::Content, |w| {
            w.add_uint(OptionNumber::Observe, seq)?;
            write_composite_payload(store, caller, format, &existing, w).map_err(|e| {
                failed = Some(e.into());
                CoapError::BufferTooSmall
            })
        });
        if r.is_err() {
            self.registry.remove(observer);
            return self.respond_code(id, failed.unwrap_or(Code::InternalServerError));
        }
        if let Some(l) = self.composites.get_mut(list) {
            *l = Some((observer, paths));
        }
        if let Some(s) = self.observations.get_mut(slot) {
            *s = Some(Observation {
                observer,
                ssid,
                path: Path::ROOT,
                format,
                last_sent: now,
                last_eval: now,
                last_value: None,
                changed: false,
                held: false,
                composite: true,
            });
        }
        self.push_event(Event::ObservationStarted { ssid, path: Path::ROOT });
        self.process_observations(now);
    }

    /// Write-Composite (iPATCH on `/`, SenML): each record is a partial
    /// update of its resource. Every record is decoded and checked before
    /// the first write; the writes themselves are not atomic across objects.
    fn write_composite(
        &mut self,
        now: Instant,
        id: RequestId,
        caller: Caller,
        content_format: Option<ContentFormat>,
        payload: &[u8],
    ) {
        let Some(cf) = content_format
            .filter(|f| matches!(f, ContentFormat::SenmlCbor | ContentFormat::SenmlJson))
        else {
            return self.respond_code(id, Code::UnsupportedContentFormat);
        };
        if let Err(code) = decode_checked(&self.store, cf, &Path::ROOT, payload) {
            return self.respond_code(id, code);
        }
        let mut targets: Vec<Path, MAX_COMPOSITE_PATHS> = Vec::new();
        let result = with_values(&mut self.store, cf, &Path::ROOT, payload, |store, values| {
            for (p, v) in values {
                if p.depth() < 3 {
                    return Err(Code::BadRequest);
                }
                let mut one = core::iter::once((p, v));
                store
                    .write(caller, &p.truncated(3), WriteMode::Partial, &mut one)
                    .map_err(Code::from)?;
                targets.push(p).map_err(|_| Code::RequestEntityTooLarge)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                self.respond_code(id, Code::Changed);
                for p in targets {
                    self.push_event(Event::Written { caller, path: p });
                    self.value_written(now, &p);
                }
            }
            Err(code) => self.respond_code(id, code),
        }
    }

    /// One block of a block-wise Write (RFC 7959 §2.5): 2.31 Continue with
    /// the Block1 option echoed while more follow, 2.04 on the last; a
    /// block out of sequence is 4.08 Request Entity Incomplete.
    fn write_block(
        &mut self,
        id: RequestId,
        caller: Caller,
        path: &Path,
        option: &[u8],
        payload: &[u8],
    ) {
        let Ok(block) = BlockValue::parse(option) else {
            return self.respond_code(id, Code::BadRequest);
        };
        let offset = block.offset();
        if block.num == 0 {
            self.block1 = Some((caller, *path, 0));
        }
        let Some((c, p, next)) = self.block1 else {
            return self.respond_code(id, Code::RequestEntityIncomplete);
        };
        if c != caller || p != *path || (block.more && payload.len() != block.size()) {
            return self.respond_code(id, Code::RequestEntityIncomplete);
        }
        let end = offset.saturating_add(payload.len());
        if offset != next {
            // A block already written (its duplicate outlived de-duplication)
            // is acknowledged again; anything else is a gap.
            if end <= next && block.more {
                return self.respond_block(id, Code::Continue, block);
            }
            self.block1 = None;
            return self.respond_code(id, Code::RequestEntityIncomplete);
        }
        if let Err(e) = self.store.write_block(caller, path, offset, payload, !block.more) {
            self.block1 = None;
            return self.respond_code(id, e.into());
        }
        if self.hold_path == Some(*path) {
            // Answered by `Client::answer_block`; a block still held from an
            // abandoned transfer is answered 5.00 first.
            if let Some(old) = self.held.replace(HeldBlock { id, block, caller, path: *path }) {
                self.respond_code(old.id, Code::InternalServerError);
            }
            self.block1 = block.more.then_some((caller, *path, end));
            return;
        }
        if block.more {
            self.block1 = Some((caller, *path, end));
            self.respond_block(id, Code::Continue, block);
        } else {
            self.block1 = None;
            self.respond_block(id, Code::Changed, block);
            self.push_event(Event::Written { caller, path: *path });
        }
    }

    fn respond_block(&mut self, id: RequestId, code: Code, block: BlockValue) {
        let _ =
            self.endpoint.respond(id, code, |w| w.add_uint(OptionNumber::Block1, block.to_uint()));
    }

    /// Observations of a path that changed (written by a server or by the
    /// application) see the change: a single observation when `path` is
    /// inside its target or contains it, a composite one when that holds
    /// for any of its paths.
    fn value_written(&mut self, now: Instant, path: &Path) {
        let related = |q: &Path| q.contains(path) || path.contains(q);
        let composites = &self.composites;
        for o in self.observations.iter_mut().flatten() {
            let hit = if o.composite {
                composite_paths_of(composites, o.observer).iter().any(related)
            } else {
                related(&o.path)
            };
            o.changed |= hit;
        }
        self.process_observations(now);
    }

    /// A server wrote its Server object: a changed lifetime or binding goes
    /// to that server in an Update (TS §6.2.2).
    fn refresh_accounts(&mut self, now: Instant) {
        let mut changes: Vec<(usize, UpdateContent), MAX_SERVERS> = Vec::new();
        let servers = &mut self.servers;
        self.store.accounts(&mut |a| {
            let Some(ssid) = a.ssid else { return };
            let Some(index) =
                servers.iter().position(|s| s.as_ref().is_some_and(|s| s.ssid == ssid))
            else {
                return;
            };
            let Some(slot) = servers.get_mut(index).and_then(Option::as_mut) else { return };
            let lifetime = a.lifetime_s != slot.lifetime_s && a.lifetime_s > 0;
            let binding = a.binding != slot.binding.as_str();
            if lifetime {
                slot.lifetime_s = a.lifetime_s;
            }
            if binding {
                slot.binding.clear();
                let _ = slot.binding.push_str(a.binding);
            }
            if lifetime || binding {
                let _ = changes.push((index, UpdateContent { lifetime, binding, objects: false }));
            }
        });
        for slot in self.servers.iter_mut().flatten() {
            slot.defaults = server_defaults(&self.store, slot.ssid);
        }
        for (index, content) in changes {
            let _ = self.request_update(now, index, content);
        }
    }

    fn create(
        &mut self,
        now: Instant,
        id: RequestId,
        caller: Caller,
        path: &Path,
        content_format: Option<ContentFormat>,
        payload: &[u8],
    ) {
        let Some(object) = path.object_id() else {
            return self.respond_code(id, Code::MethodNotAllowed);
        };
        let format = match formats::request_format(content_format) {
            Ok(f) => f,
            Err(e) => return self.respond_code(id, e.into()),
        };
        if let Err(code) = decode_checked(&self.store, format, path, payload) {
            return self.respond_code(id, code);
        }
        let store = &mut self.store;
        let result = {
            let mut scratch = [0u8; 256];
            let mut instance = None;
            let mut first = Decoder::new(format, path, payload, &mut scratch, formats::NoTypes)
                .map_err(|_| Code::UnsupportedContentFormat);
            if let Ok(dec) = first.as_mut()
                && let Some(Ok((p, _))) = dec.next()
            {
                instance = p.instance_id();
            }
            drop(first);
            with_values(store, format, path, payload, |store, values| {
                store.create(caller, object, instance, values).map_err(Code::from)
            })
        };
        match result {
            Ok(instance) => {
                let mut loc: String<16> = String::new();
                let _ = write!(loc, "{object}/{instance}");
                let _ = self
                    .endpoint
                    .respond(id, Code::Created, |w| w.add_path(OptionNumber::LocationPath, &loc));
                self.after_object_list_change(now, caller);
            }
            Err(code) => self.respond_code(id, code),
        }
    }

    fn after_object_list_change(&mut self, now: Instant, caller: Caller) {
        if caller == Caller::Bootstrap {
            return;
        }
        let content = UpdateContent { objects: true, ..UpdateContent::default() };
        for index in 0..MAX_SERVERS {
            let _ = self.request_update(now, index, content);
        }
    }

    fn delete(&mut self, now: Instant, id: RequestId, caller: Caller, path: &Path) {
        let result = match caller {
            Caller::Bootstrap if path.depth() <= 1 => self.bootstrap_delete(path),
            Caller::Bootstrap if path.depth() == 2 => self.store.delete(caller, path),
            Caller::Server(_) if path.depth() == 2 => self.store.delete(caller, path),
            _ => Err(StoreError::MethodNotAllowed),
        };
        if result.is_ok() {
            let gone: Vec<ObserverId, MAX_OBSERVATIONS> = self
                .observations
                .iter()
                .flatten()
                .filter(|o| path.contains(&o.path))
                .map(|o| o.observer)
                .collect();
            for g in gone {
                self.end_observation(g);
            }
            self.after_object_list_change(now, caller);
        }
        self.respond_result(id, result.map(|()| Code::Deleted));
    }

    /// Bootstrap Delete of `/` or `/O` (TS 1.1 §5.2.7.5): every instance
    /// except the Bootstrap-Server's Security instance and the Device
    /// object (3) instance.
    fn bootstrap_delete(&mut self, path: &Path) -> Result<(), StoreError> {
        let mut bootstrap_security: Vec<u16, MAX_SERVERS> = Vec::new();
        self.store.accounts(&mut |a| {
            if a.bootstrap {
                let _ = bootstrap_security.push(a.security_instance);
            }
        });
        let mut victims: Vec<Path, MAX_INSTANCES> = Vec::new();
        let mut overflow = false;
        self.store.objects(&mut |o| {
            if path.object_id().is_some_and(|p| p != o.id) || o.id == 3 {
                return;
            }
            for &i in o.instances {
                if o.id == 0 && bootstrap_security.contains(&i) {
                    continue;
                }
                if let Ok(p) = Path::instance(o.id, i) {
                    overflow |= victims.push(p).is_err();
                }
            }
        });
        if overflow {
            return Err(StoreError::Full);
        }
        for v in victims {
            match self.store.delete(Caller::Bootstrap, &v) {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn discover(&mut self, id: RequestId, caller: Caller, path: &Path) {
        let store = &self.store;
        let attributes = &self.attributes;
        let mut failed: Option<Code> = None;
        let r = self.endpoint.respond(id, Code::Content, |w| {
            w.add_content_format(ContentFormat::LinkFormat)?;
            let room = w.available_space().saturating_sub(1);
            let buf = w.payload_mut(room)?;
            let mut links = LinkWriter::new(Window::new(buf));
            if caller == Caller::Bootstrap {
                links.link_str("/", &[Attr::Other("lwm2m", Some("1.1"))]);
            }
            let result = store.discover(caller, path, &mut |p, dim| {
                let mut list: Vec<Attr<'_>, 8> = Vec::new();
                if let Some(d) = dim {
                    let _ = list.push(Attr::Dim(d));
                }
                if let Caller::Server(ssid) = caller
                    && let Some((_, _, a)) =
                        attributes.iter().find(|(s, q, _)| *s == ssid && q == p)
                {
                    let parts = [
                        a.pmin.get().map(Attr::Pmin),
                        a.pmax.get().map(Attr::Pmax),
                        a.gt.get().map(Attr::Gt),
                        a.lt.get().map(Attr::Lt),
                        a.st.get().map(Attr::St),
                        a.epmin.get().map(Attr::Epmin),
                        a.epmax.get().map(Attr::Epmax),
                    ];
                    for x in parts.into_iter().flatten() {
                        let _ = list.push(x);
                    }
                }
                links.link(p, &list);
            });
            if let Err(e) = result {
                failed = Some(e.into());
                return Err(CoapError::BufferTooSmall);
            }
            let chunk = links.finish();
            if chunk.more {
                failed = Some(Code::RequestEntityTooLarge);
                return Err(CoapError::BufferTooSmall);
            }
            w.truncate_payload(chunk.len)
        });
        if r.is_err() {
            self.respond_code(id, failed.unwrap_or(Code::InternalServerError));
        }
    }
}

/// Decode the whole payload once, so a malformed one is refused (4.00)
/// before the store sees a single value.
fn decode_checked<S: ObjectStore>(
    store: &S,
    format: ContentFormat,
    path: &Path,
    payload: &[u8],
) -> Result<(), Code> {
    let mut scratch = [0u8; 256];
    let types = |p: &Path| store.data_type(p);
    let dec = Decoder::new(format, path, payload, &mut scratch, types).map_err(Code::from)?;
    for item in dec {
        item.map_err(Code::from)?;
    }
    Ok(())
}

/// Run `f` with an iterator over the (checked) values of `payload`.
fn with_values<S: ObjectStore, T>(
    store: &mut S,
    format: ContentFormat,
    path: &Path,
    payload: &[u8],
    f: impl FnOnce(&mut S, &mut dyn Iterator<Item = (Path, crate::value::Value<'_>)>) -> Result<T, Code>,
) -> Result<T, Code> {
    // Resolve types from a snapshot-free view: the declared types are
    // looked up before the store is borrowed mutably.
    let mut types: Vec<(Path, crate::value::DataType), 32> = Vec::new();
    {
        let mut scratch = [0u8; 256];
        if let Ok(dec) = Decoder::new(format, path, payload, &mut scratch, formats::NoTypes) {
            for (p, _) in dec.flatten() {
                if let Some(t) = store.data_type(&p) {
                    let _ = types.push((p, t));
                }
            }
        }
    }
    let resolver = |p: &Path| types.iter().find(|(q, _)| q == p).map(|(_, t)| *t);
    let mut scratch = [0u8; 256];
    let dec = Decoder::new(format, path, payload, &mut scratch, resolver).map_err(Code::from)?;
    let mut values = dec.filter_map(Result::ok);
    f(store, &mut values)
}

fn write_values<S: ObjectStore>(
    store: &mut S,
    caller: Caller,
    path: &Path,
    mode: WriteMode,
    format: ContentFormat,
    payload: &[u8],
) -> Result<(), Code> {
    with_values(store, format, path, payload, |store, values| {
        store.write(caller, path, mode, values).map_err(Code::from)
    })
}
