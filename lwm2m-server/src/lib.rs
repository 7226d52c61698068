//! # lwm2m-server — a small LwM2M bootstrap and device-management server
//!
//! Built on `lwm2m-core`'s CoAP endpoint and codecs: accepts bootstrap
//! requests (and acts out a per-endpoint [`BootstrapPlan`]: Delete `/0`,
//! `/1`, `/2`, Write Security (NoSec or PSK), Server and Access Control
//! instances and the plan's extra writes, Bootstrap-Finish), registrations
//! (with lifetime expiry; a Register or Update too large for one datagram
//! arrives block-wise and is reassembled, RFC 7959 §2.5), Updates,
//! De-registrations and Send, and issues Read, Write, Write-Attributes,
//! Execute, Create, Delete, Discover, Observe, Read-/Write-Composite and
//! Observe-Composite.
//!
//! Queue mode (TS §6.5): a request for a client registered with `Q` that
//! has been silent for [`ServerConfig::queue_idle`] is held and sent right
//! after the client's next datagram (its Register-Update).
//!
//! Shape: [`Server`] is the whole server, sans-IO: it takes datagrams and
//! `now`, hands back datagrams to send, its next deadline and
//! [`ServerEvent`]s, and reads no clock, so a simulation can drive it in
//! virtual time (a simulated day in milliseconds, thousands of devices in one
//! process). [`spawn`] runs a [`Server`] on its own thread over a
//! [`transport::Transport`] with the wall clock and returns a
//! [`ServerHandle`]: commands go in through [`ServerHandle::request`],
//! everything that happens comes out as [`ServerEvent`]s.
//!
//! Firmware push is [`Request::WriteBlockwise`] of `/5/0/0`; firmware pull
//! is a Write of the Package URI (`/5/0/1`) naming a file of
//! [`ServerConfig::files`], which the server serves over CoAP Block2.
//!
//! Transports: [`transport::UdpTransport`] (`coap://`) and
//! [`transport::DtlsTransport`] (`coaps://`, `dtls-psk` server sessions
//! keyed by peer address, PSK identities looked up in a `PskStore`).
//!
//! Not yet: HTTP for firmware pull.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::std_instead_of_core)]

pub mod memstore;
pub mod operators;
pub mod transport;

use lwm2m_core::coap::block::{BlockValue, Szx, serve_block2};
use lwm2m_core::coap::endpoint::config::{MAX_EXCHANGES, MAX_MESSAGE_LEN};
use lwm2m_core::coap::endpoint::{
    Config as CoapConfig, Endpoint, EndpointError, Event as CoapEvent, ExchangeId, RequestId,
};
use lwm2m_core::coap::message::Repr;
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::formats::{self, Decoder, NoTypes, Window};
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::Instant as CoreInstant;
use lwm2m_core::value::Value;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use transport::Transport;

/// A DM operation the server sends to a registered client.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Read (GET), with an Accept format.
    Read {
        /// Target.
        path: Path,
        /// Accept.
        format: Option<ContentFormat>,
    },
    /// Write: PUT (replace) or POST (partial update) of an encoded payload.
    Write {
        /// Target.
        path: Path,
        /// Payload format.
        format: ContentFormat,
        /// Encoded payload.
        payload: Vec<u8>,
        /// PUT (true) or POST (false).
        replace: bool,
    },
    /// Write-Attributes (PUT with queries such as `pmin=2`).
    WriteAttributes {
        /// Target.
        path: Path,
        /// `name=value` or bare `name` (unset).
        attributes: Vec<String>,
    },
    /// A block-wise Write (RFC 7959 Block1, PUT) of a large opaque value,
    /// such as a firmware image to `/5/0/0` (firmware push); the answer is
    /// the response to the last block.
    WriteBlockwise {
        /// Target resource.
        path: Path,
        /// Payload format (application/octet-stream for firmware).
        format: ContentFormat,
        /// The whole body.
        payload: Vec<u8>,
        /// Block size: 16, 32, …, 1024.
        block_size: usize,
    },
    /// Read-Composite: FETCH `/` listing `paths` in SenML (`format` is
    /// SenML CBOR or SenML JSON, used for request and answer).
    ReadComposite {
        /// The paths to read.
        paths: Vec<Path>,
        /// SenML CBOR or SenML JSON.
        format: ContentFormat,
    },
    /// Write-Composite: iPATCH `/` with a SenML payload (see [`encode_senml`]).
    WriteComposite {
        /// SenML CBOR or SenML JSON.
        format: ContentFormat,
        /// The encoded records.
        payload: Vec<u8>,
    },
    /// Execute (POST) with plain-text arguments.
    Execute {
        /// Resource.
        path: Path,
        /// Arguments.
        args: Vec<u8>,
    },
    /// Create (POST on an object).
    Create {
        /// Object path.
        path: Path,
        /// Payload format.
        format: ContentFormat,
        /// Encoded instance.
        payload: Vec<u8>,
    },
    /// Delete an instance.
    Delete {
        /// Target.
        path: Path,
    },
    /// Discover (GET with Accept: link-format).
    Discover {
        /// Target.
        path: Path,
    },
    /// Observe (GET with Observe = 0); notifications arrive as
    /// [`ServerEvent::Notification`].
    Observe {
        /// Target.
        path: Path,
        /// Accept.
        format: Option<ContentFormat>,
    },
    /// Cancel an observation (GET with Observe = 1 on the same token).
    CancelObserve {
        /// Target.
        path: Path,
    },
    /// Observe-Composite (TS 1.1 §6.4.2): FETCH `/` with Observe = 0
    /// listing `paths` in SenML (`format`, for request and notifications);
    /// notifications arrive as [`ServerEvent::Notification`] with path `/`.
    ObserveComposite {
        /// The paths observed together.
        paths: Vec<Path>,
        /// SenML CBOR or SenML JSON.
        format: ContentFormat,
    },
    /// Cancel the Observe-Composite of exactly these `paths`: the server
    /// forgets it and answers its next notification with RST, which ends
    /// it at the client (RFC 7641 §3.6). Answered 2.02, or 4.04 when no
    /// such observation exists.
    CancelObserveComposite {
        /// The paths of the observation.
        paths: Vec<Path>,
    },
}

/// A client's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Response code.
    pub code: Code,
    /// Its Content-Format, if any.
    pub content_format: Option<ContentFormat>,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Response {
    /// The payload decoded to `(path, value)` text pairs (untyped: TLV
    /// values come out as opaque bytes).
    pub fn values(&self, base: &Path) -> Vec<(Path, String)> {
        decode_text(self.content_format, base, &self.payload)
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(cf) = self.content_format {
            write!(f, " [{cf}] {} B", self.payload.len())?;
        }
        Ok(())
    }
}

/// Decode a payload to printable `(path, value)` pairs.
pub fn decode_text(
    format: Option<ContentFormat>,
    base: &Path,
    payload: &[u8],
) -> Vec<(Path, String)> {
    let Some(format) = format else { return vec![] };
    if format == ContentFormat::LinkFormat {
        return vec![(*base, String::from_utf8_lossy(payload).into_owned())];
    }
    let mut scratch = [0u8; 512];
    let Ok(dec) = Decoder::new(format, base, payload, &mut scratch, NoTypes) else { return vec![] };
    dec.filter_map(Result::ok).map(|(p, v)| (p, value_text(&v))).collect()
}

fn value_text(v: &Value<'_>) -> String {
    match v {
        Value::Integer(i) | Value::Time(i) => i.to_string(),
        Value::UnsignedInteger(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) | Value::Corelnk(s) => format!("{s:?}"),
        Value::Opaque(b) => {
            format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
        }
        Value::Objlnk(o, i) => format!("{o}:{i}"),
        Value::None => "none".into(),
    }
}

/// How a server account authenticates: Security-object resources 2
/// (Security Mode), 3 (Public Key or Identity) and 5 (Secret Key), TS §E.1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SecurityMode {
    /// NoSec (mode 3): plain `coap://`.
    #[default]
    NoSec,
    /// Pre-Shared Key (mode 0): the PSK identity in 0/x/3, the key in 0/x/5.
    Psk {
        /// PSK identity (written as opaque bytes).
        identity: Vec<u8>,
        /// The pre-shared key.
        key: Vec<u8>,
    },
}

impl SecurityMode {
    /// The Security Mode resource value (0/x/2).
    pub fn mode(&self) -> i64 {
        match self {
            SecurityMode::Psk { .. } => 0,
            SecurityMode::NoSec => 3,
        }
    }
}

/// Access Control rights (TS §E.3, resource 2/x/2): Read (with Observe,
/// Discover, Write-Attributes), Write, Execute, Delete on an instance.
pub const ACL_FULL_INSTANCE_RIGHTS: i64 = 0b0_1111;
/// Access Control rights: Create, the only right of an object-level
/// instance (Object Instance ID 65535).
pub const ACL_CREATE: i64 = 0b1_0000;

/// One Security + Server account a bootstrap plan writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAccount {
    /// Security instance ID (not 0: that is the Bootstrap-Server's).
    pub security_instance: u16,
    /// Server instance ID.
    pub server_instance: u16,
    /// `coap://127.0.0.1:port`.
    pub uri: String,
    /// Short Server ID.
    pub ssid: u16,
    /// Lifetime in seconds.
    pub lifetime_s: u32,
    /// Binding.
    pub binding: String,
    /// NoSec or PSK (Security resources 2, 3, 5).
    pub security: SecurityMode,
    /// Default Minimum Period (1/x/2), seconds: `pmin` of observations
    /// without their own.
    pub default_pmin_s: Option<u32>,
    /// Default Maximum Period (1/x/3), seconds: `pmax` of observations
    /// without their own.
    pub default_pmax_s: Option<u32>,
    /// Queue mode: the binding written is the account's with `Q` added
    /// (`UQ`), which the client announces as `Q` when it registers. (Not
    /// resource 1/x/23: in LwM2M 1.1 that is Mute Send.)
    pub queue_mode: bool,
    /// The object instances this server manages besides its own Server
    /// instance (which always gets one): an Access Control instance each,
    /// owned by this SSID with full rights (R, W, E, D); instance 65535
    /// means the object itself (the Create right).
    pub managed: Vec<(u16, u16)>,
}

impl ServerAccount {
    /// A NoSec account: Security instance 1, Server instance 0, binding
    /// `U`, managing (besides its Server instance) the Device instance 3/0.
    pub fn new(uri: &str, ssid: u16, lifetime_s: u32) -> ServerAccount {
        ServerAccount {
            security_instance: 1,
            server_instance: 0,
            uri: uri.into(),
            ssid,
            lifetime_s,
            binding: "U".into(),
            security: SecurityMode::NoSec,
            default_pmin_s: None,
            default_pmax_s: None,
            queue_mode: false,
            managed: vec![(3, 0)],
        }
    }

    /// This account with PSK security.
    pub fn with_psk(mut self, identity: &[u8], key: &[u8]) -> ServerAccount {
        self.security = SecurityMode::Psk { identity: identity.to_vec(), key: key.to_vec() };
        self
    }

    fn security_values(&self) -> Vec<(u16, Value<'_>)> {
        let mut v = vec![
            (0u16, Value::String(&self.uri)),
            (1, Value::Boolean(false)),
            (2, Value::Integer(self.security.mode())),
        ];
        if let SecurityMode::Psk { identity, key } = &self.security {
            v.push((3, Value::Opaque(identity)));
            v.push((5, Value::Opaque(key)));
        }
        v.push((10, Value::Integer(i64::from(self.ssid))));
        v
    }

    /// The Binding resource (1/x/7) written: with `Q` when in queue mode.
    fn binding_written(&self) -> String {
        let mut b = self.binding.clone();
        if self.queue_mode && !b.contains('Q') {
            b.push('Q');
        }
        b
    }

    fn server_values<'a>(&'a self, binding: &'a str) -> Vec<(u16, Value<'a>)> {
        let mut v = vec![
            (0u16, Value::Integer(i64::from(self.ssid))),
            (1, Value::Integer(i64::from(self.lifetime_s))),
        ];
        if let Some(pmin) = self.default_pmin_s {
            v.push((2, Value::Integer(i64::from(pmin))));
        }
        if let Some(pmax) = self.default_pmax_s {
            v.push((3, Value::Integer(i64::from(pmax))));
        }
        v.push((6, Value::Boolean(false)));
        v.push((7, Value::String(binding)));
        v
    }
}

/// One step of a bootstrap plan: a Bootstrap-Delete or -Write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapStep {
    /// DELETE or PUT.
    pub code: Code,
    /// Target.
    pub path: Path,
    /// Payload format (PUT only).
    pub format: ContentFormat,
    /// Encoded payload (empty for DELETE).
    pub payload: Vec<u8>,
}

/// What the Bootstrap-Server does for one endpoint (TS §5.2.7, §6.1):
/// Delete `/0`, `/1` and `/2` (the client keeps its Bootstrap-Server
/// Security instance), Write each account's Security instance (URI,
/// security mode and PSK credentials, SSID) and Server instance
/// (lifetime, default `pmin`/`pmax`, binding, queue mode) in TLV, an
/// Access Control instance (object 2) per managed object instance, owned
/// by the account's SSID with full rights, then the `extra` writes in
/// order, then Bootstrap-Finish. A write larger than one datagram is
/// left out (no block-wise Bootstrap-Write).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootstrapPlan {
    /// The accounts to provision.
    pub accounts: Vec<ServerAccount>,
    /// Further Bootstrap-Writes after the accounts (an operator's APN
    /// profile, Device resources, …): target, payload format, payload.
    pub extra: Vec<(Path, ContentFormat, Vec<u8>)>,
}

impl BootstrapPlan {
    /// One NoSec DM account at `uri` with SSID 101.
    pub fn single(uri: &str, lifetime_s: u32) -> BootstrapPlan {
        BootstrapPlan { accounts: vec![ServerAccount::new(uri, 101, lifetime_s)], extra: vec![] }
    }

    /// One PSK DM account at `uri` (`coaps://…`) with SSID 101.
    pub fn single_psk(uri: &str, lifetime_s: u32, identity: &[u8], key: &[u8]) -> BootstrapPlan {
        let account = ServerAccount::new(uri, 101, lifetime_s).with_psk(identity, key);
        BootstrapPlan { accounts: vec![account], extra: vec![] }
    }

    /// The requests of the plan, in order (Bootstrap-Finish not included).
    pub fn steps(&self) -> Vec<BootstrapStep> {
        let delete = |object: u16| BootstrapStep {
            code: Code::Delete,
            path: Path::object(object).unwrap_or(Path::ROOT),
            format: ContentFormat::Lwm2mTlv,
            payload: vec![],
        };
        let write = |path: Path, payload: Vec<u8>| BootstrapStep {
            code: Code::Put,
            path,
            format: ContentFormat::Lwm2mTlv,
            payload,
        };
        let mut steps = vec![delete(0), delete(1), delete(2)];
        let mut acl_instance = 0u16;
        for a in &self.accounts {
            let Ok(sec) = Path::instance(0, a.security_instance) else { continue };
            let Ok(srv) = Path::instance(1, a.server_instance) else { continue };
            steps.push(write(sec, encode_tlv(&sec, &a.security_values())));
            let binding = a.binding_written();
            steps.push(write(srv, encode_tlv(&srv, &a.server_values(&binding))));
            let own = core::iter::once((1, a.server_instance));
            for (object, instance) in own.chain(a.managed.iter().copied()) {
                let id = acl_instance;
                acl_instance = acl_instance.saturating_add(1);
                let (Ok(acl), Ok(entry)) = (Path::instance(2, id), Path::new(&[2, id, 2, a.ssid]))
                else {
                    continue;
                };
                let rights =
                    if instance == u16::MAX { ACL_CREATE } else { ACL_FULL_INSTANCE_RIGHTS };
                let resources = [
                    (acl.child(0), Value::Integer(i64::from(object))),
                    (acl.child(1), Value::Integer(i64::from(instance))),
                    (Ok(entry), Value::Integer(rights)),
                    (acl.child(3), Value::Integer(i64::from(a.ssid))),
                ];
                let records: Vec<(Path, Value<'_>)> =
                    resources.into_iter().filter_map(|(p, v)| Some((p.ok()?, v))).collect();
                steps.push(write(acl, encode_tlv_records(&acl, &records)));
            }
        }
        for (path, format, payload) in &self.extra {
            steps.push(BootstrapStep {
                code: Code::Put,
                path: *path,
                format: *format,
                payload: payload.clone(),
            });
        }
        steps
    }
}

/// Encode `(path, value)` records in SenML (`format`) with full names, as
/// Write-Composite and Read-Composite requests carry them (a
/// `Value::None` is a record without value: a path to read).
pub fn encode_senml(format: ContentFormat, records: &[(Path, Value<'_>)]) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    match formats::encode(format, &Path::ROOT, Window::new(&mut buf), |enc| {
        for (p, v) in records {
            enc.write(p, v)?;
        }
        Ok::<(), formats::FormatError>(())
    }) {
        Ok(chunk) if !chunk.more => {
            buf.truncate(chunk.len);
            buf
        }
        _ => vec![],
    }
}

/// Encode resources of one instance as TLV.
pub fn encode_tlv(instance: &Path, resources: &[(u16, Value<'_>)]) -> Vec<u8> {
    let records: Vec<(Path, Value<'_>)> =
        resources.iter().filter_map(|(id, v)| Some((instance.child(*id).ok()?, *v))).collect();
    encode_tlv_records(instance, &records)
}

/// Encode one resource value as TLV (for a Write of a single resource).
pub fn encode_resource_tlv(path: &Path, value: &Value<'_>) -> Vec<u8> {
    encode_tlv_records(path, &[(*path, *value)])
}

/// Encode `(path, value)` records under `base` as TLV (resource instances,
/// `/O/I/R/RI`, group into their multiple resource). Empty if they do not
/// encode.
pub fn encode_tlv_records(base: &Path, records: &[(Path, Value<'_>)]) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    let r = formats::encode(ContentFormat::Lwm2mTlv, base, Window::new(&mut buf), |enc| {
        for (p, v) in records {
            enc.write(p, v)?;
        }
        Ok::<(), formats::FormatError>(())
    });
    match r {
        Ok(chunk) if !chunk.more => {
            buf.truncate(chunk.len);
            buf
        }
        _ => vec![],
    }
}

/// A registration the DM server holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Endpoint client name.
    pub endpoint: String,
    /// Location given out (`/rd/N`).
    pub location: String,
    /// Where the client is.
    pub addr: SocketAddr,
    /// Lifetime in seconds.
    pub lifetime_s: u32,
    /// Binding.
    pub binding: String,
    /// Queue mode (`Q`).
    pub queue_mode: bool,
    /// LwM2M version.
    pub version: String,
    /// The object links of the last Register/Update payload.
    pub objects: String,
}

/// Names the answer of one [`Server::request`] in [`ServerEvent::Response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// Something the server saw or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// The answer to a [`Server::request`]: the client's response, or why
    /// there is none. ([`ServerHandle`] turns these into the return value of
    /// [`ServerHandle::request`]; its events never include them.)
    Response {
        /// The request's ticket.
        ticket: Ticket,
        /// The client's answer or the failure.
        result: Result<Response, ServerError>,
    },
    /// A Bootstrap-Request arrived.
    BootstrapRequested {
        /// Endpoint.
        endpoint: String,
    },
    /// The client answered Bootstrap-Finish.
    BootstrapFinished {
        /// Endpoint.
        endpoint: String,
        /// Its answer (2.04, or 4.06 when the plan left no usable account).
        code: Code,
    },
    /// A Register was accepted.
    Registered {
        /// The registration.
        registration: Registration,
        /// Size of the Register request datagram.
        request_len: usize,
        /// Size of its payload (the object links).
        payload_len: usize,
    },
    /// An Update was accepted.
    Updated {
        /// Endpoint.
        endpoint: String,
        /// Size of the Update request datagram.
        request_len: usize,
    },
    /// A De-register was accepted.
    Deregistered {
        /// Endpoint.
        endpoint: String,
    },
    /// A registration expired (no Update within its lifetime).
    Expired {
        /// Endpoint.
        endpoint: String,
    },
    /// A notification of an observation.
    Notification {
        /// Endpoint.
        endpoint: String,
        /// Observed path.
        path: Path,
        /// The notification.
        response: Response,
    },
    /// A Send (`POST /dp`) arrived.
    Sent {
        /// Endpoint.
        endpoint: String,
        /// The reported values.
        response: Response,
    },
}

impl fmt::Display for ServerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerEvent::Response { ticket, result } => match result {
                Ok(r) => write!(f, "response #{} {r}", ticket.0),
                Err(e) => write!(f, "response #{} failed: {e}", ticket.0),
            },
            ServerEvent::BootstrapRequested { endpoint } => {
                write!(f, "bootstrap-request ep={endpoint}")
            }
            ServerEvent::BootstrapFinished { endpoint, code } => {
                write!(f, "bootstrap-finish ep={endpoint} -> {code}")
            }
            ServerEvent::Registered { registration: r, request_len, payload_len } => write!(
                f,
                "registered ep={} at {} lt={} b={}{} lwm2m={} objects={} ({request_len} B request, {payload_len} B payload)",
                r.endpoint,
                r.location,
                r.lifetime_s,
                r.binding,
                if r.queue_mode { " Q" } else { "" },
                r.version,
                r.objects
            ),
            ServerEvent::Updated { endpoint, request_len } => {
                write!(f, "updated ep={endpoint} ({request_len} B request)")
            }
            ServerEvent::Deregistered { endpoint } => write!(f, "deregistered ep={endpoint}"),
            ServerEvent::Expired { endpoint } => write!(f, "expired ep={endpoint}"),
            ServerEvent::Notification { endpoint, path, response } => {
                write!(f, "notify ep={endpoint} {path} {response}")?;
                for (p, v) in response.values(path) {
                    write!(f, " {p}={v}")?;
                }
                Ok(())
            }
            ServerEvent::Sent { endpoint, response } => {
                write!(f, "send ep={endpoint} {response}")?;
                for (p, v) in response.values(&Path::ROOT) {
                    write!(f, " {p}={v}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerError {
    /// No such registered endpoint.
    #[error("endpoint {0} is not registered")]
    UnknownEndpoint(String),
    /// The client did not answer (CoAP timeout).
    #[error("no response")]
    Timeout,
    /// The server loop is gone.
    #[error("server stopped")]
    Stopped,
    /// The CoAP endpoint refused (no free exchange slot, message too large).
    #[error("coap: {0}")]
    Coap(String),
}

/// Settings of [`spawn`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// CoAP transmission parameters.
    pub coap: CoapConfig,
    /// Bootstrap plan per endpoint name; `default_plan` for the others.
    pub plans: HashMap<String, BootstrapPlan>,
    /// Plan for endpoints without their own (None: refuse bootstrap with 4.04).
    pub default_plan: Option<BootstrapPlan>,
    /// Seed of the CoAP endpoint's randomness.
    pub seed: u32,
    /// Files served over CoAP GET with Block2 (RFC 7959), by Uri-Path
    /// (`"fw/app.bin"`): firmware pull writes
    /// `coap://<server>/fw/app.bin` into the Package URI (5/0/1).
    pub files: HashMap<String, Vec<u8>>,
    /// Queue mode (TS §6.5): a client registered with `Q` and silent this
    /// long is taken to be asleep; DM requests for it wait until it sends
    /// something (its Register-Update). Default: CoAP MAX_TRANSMIT_WAIT,
    /// 93 s.
    pub queue_idle: lwm2m_core::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            coap: CoapConfig::default(),
            plans: HashMap::new(),
            default_plan: None,
            seed: 0x5eed,
            files: HashMap::new(),
            queue_idle: lwm2m_core::time::Duration::from_secs(93),
        }
    }
}

enum Command {
    Request { endpoint: String, request: Request, reply: Sender<Result<Response, ServerError>> },
    Registrations { reply: Sender<Vec<Registration>> },
    Stop,
}

/// The running server: send commands, receive events.
pub struct ServerHandle {
    addr: SocketAddr,
    commands: Sender<Command>,
    events: Receiver<ServerEvent>,
    /// Events received by `wait_for` but not picked, oldest first.
    backlog: std::sync::Mutex<std::collections::VecDeque<ServerEvent>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle").field("addr", &self.addr).finish()
    }
}

impl ServerHandle {
    /// The address clients send to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Send `request` to `endpoint` and wait for its answer (at most `timeout`).
    ///
    /// # Errors
    /// [`ServerError`].
    pub fn request(
        &self,
        endpoint: &str,
        request: Request,
        timeout: Duration,
    ) -> Result<Response, ServerError> {
        let (tx, rx) = mpsc::channel();
        self.commands
            .send(Command::Request { endpoint: endpoint.into(), request, reply: tx })
            .map_err(|_| ServerError::Stopped)?;
        rx.recv_timeout(timeout).map_err(|_| ServerError::Timeout)?
    }

    /// The URI under which the server serves file `name` of
    /// [`ServerConfig::files`] (what firmware pull writes to 5/0/1).
    pub fn file_uri(&self, name: &str) -> String {
        format!("coap://{}/{name}", self.addr)
    }

    /// The current registrations.
    pub fn registrations(&self) -> Vec<Registration> {
        let (tx, rx) = mpsc::channel();
        if self.commands.send(Command::Registrations { reply: tx }).is_err() {
            return vec![];
        }
        rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default()
    }

    /// The next event, waiting at most `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<ServerEvent> {
        if let Some(ev) = self.backlog.lock().ok().and_then(|mut b| b.pop_front()) {
            return Some(ev);
        }
        self.events.recv_timeout(timeout).ok()
    }

    /// Wait (at most `timeout`) for the first event `pick` accepts, looking
    /// at events not picked by earlier calls first; the events it passes
    /// over stay for later calls (in a lossy network a later step's event
    /// can come before an earlier one's).
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut pick: impl FnMut(&ServerEvent) -> Option<T>,
    ) -> Option<T> {
        let Ok(mut backlog) = self.backlog.lock() else { return None };
        if let Some(i) = backlog.iter().position(|e| pick(e).is_some()) {
            return backlog.remove(i).and_then(|e| pick(&e));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let ev = self.events.recv_timeout(left).ok()?;
            if let Some(t) = pick(&ev) {
                return Some(t);
            }
            backlog.push_back(ev);
        }
    }

    /// Stop the loop and join its thread.
    pub fn stop(mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Run a [`Server`] over `transport` on a new thread, with the wall clock.
///
/// # Errors
/// The transport's `local_addr` error.
pub fn spawn<T: Transport + Send + 'static>(
    transport: T,
    config: ServerConfig,
) -> std::io::Result<ServerHandle> {
    let addr = transport.local_addr()?;
    let (ctx, crx) = mpsc::channel();
    let (etx, erx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("lwm2m-server".into())
        .spawn(move || run(Server::new(config), transport, &crx, &etx))?;
    Ok(ServerHandle {
        addr,
        commands: ctx,
        events: erx,
        backlog: Default::default(),
        thread: Some(thread),
    })
}

enum Pending {
    Command {
        reply: Ticket,
    },
    Block1 {
        reply: Ticket,
        addr: SocketAddr,
        transfer: Block1Transfer,
    },
    /// A Read whose answer comes block-wise (RFC 7959 Block2): the body so far.
    Read {
        reply: Ticket,
        addr: SocketAddr,
        path: Path,
        format: Option<ContentFormat>,
        body: Vec<u8>,
    },
    /// An observation: `path`, or for an Observe-Composite `/` and `paths`.
    Observe {
        endpoint: String,
        path: Path,
        paths: Vec<Path>,
        reply: Option<Ticket>,
    },
    Bootstrap {
        endpoint: String,
        addr: SocketAddr,
        next: usize,
        finish_sent: bool,
    },
}

/// The thread loop of [`spawn`]: commands in, the [`Server`] driven with
/// the wall clock (milliseconds since the loop started), answers routed back
/// to each [`ServerHandle::request`] caller, every other event forwarded.
fn run<T: Transport>(
    mut server: Server,
    mut transport: T,
    commands: &Receiver<Command>,
    events: &Sender<ServerEvent>,
) {
    let start = Instant::now();
    let now =
        || CoreInstant::from_millis(u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX));
    let mut replies: HashMap<Ticket, Sender<Result<Response, ServerError>>> = HashMap::new();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let mut rx = [0u8; 2048];
    loop {
        loop {
            match commands.try_recv() {
                Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => return,
                Ok(Command::Registrations { reply }) => {
                    let _ = reply.send(server.registrations().cloned().collect());
                }
                Ok(Command::Request { endpoint, request, reply }) => {
                    let ticket = server.request(now(), &endpoint, request);
                    replies.insert(ticket, reply);
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        let t = now();
        server.handle_timeout(t);
        while let Some((to, len)) = server.poll_transmit(t, &mut buf) {
            if let Some(bytes) = buf.get(..len) {
                let _ = transport.send(to, bytes);
            }
        }
        while let Some(ev) = server.poll_event() {
            match ev {
                ServerEvent::Response { ticket, result } => {
                    if let Some(reply) = replies.remove(&ticket) {
                        let _ = reply.send(result);
                    }
                }
                other => {
                    let _ = events.send(other);
                }
            }
        }
        // Wake for the next deadline, and at least every 20 ms for commands.
        let wait = server.poll_timeout().map_or(Duration::from_millis(20), |at| {
            Duration::from_millis(at.saturating_duration_since(t).as_millis())
                .min(Duration::from_millis(20))
        });
        match transport.recv(&mut rx, wait) {
            Ok(Some((n, from))) => {
                if let Some(bytes) = rx.get(..n) {
                    server.handle_datagram(now(), from, bytes);
                }
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

/// The bootstrap and device-management server, sans-IO.
///
/// Feed it every datagram ([`Server::handle_datagram`]) and call
/// [`Server::handle_timeout`] when [`Server::poll_timeout`] is due; after
/// either, send what [`Server::poll_transmit`] gives and take the
/// [`Server::poll_event`]s. DM requests go in through [`Server::request`];
/// their answers come back as [`ServerEvent::Response`]. Time is the
/// caller's `now` only: the same inputs give the same outputs.
pub struct Server {
    endpoint: Endpoint<SocketAddr, XorShiftRng>,
    config: ServerConfig,
    events: VecDeque<ServerEvent>,
    /// Each registration with the time of its last Register or Update.
    registrations: HashMap<String, (Registration, CoreInstant)>,
    next_location: u32,
    next_ticket: u64,
    pending: HashMap<ExchangeId, Pending>,
    plans_running: HashMap<String, Vec<BootstrapStep>>,
    /// Bootstrap steps waiting for a free exchange slot (the CoAP endpoint
    /// has `MAX_EXCHANGES` outstanding CONs): (endpoint, address, step),
    /// oldest first, sent as exchanges complete.
    stalled_steps: VecDeque<(String, SocketAddr, usize)>,
    /// When each peer last sent a datagram (queue mode: is it listening?).
    heard: HashMap<SocketAddr, CoreInstant>,
    /// Requests for sleeping queue-mode clients, by endpoint, oldest first.
    held: HashMap<String, VecDeque<(Request, Ticket)>>,
    /// Bodies of block-wise requests being received (RFC 7959 §2.5), by
    /// peer and Uri-Path.
    block1_rx: HashMap<(SocketAddr, String), Vec<u8>>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("registrations", &self.registrations.len())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

fn content_format(r: &Repr<'_>) -> Option<ContentFormat> {
    r.options
        .get_uint(OptionNumber::ContentFormat)
        .and_then(|v| u16::try_from(v).ok())
        .map(ContentFormat::from)
}

fn response_of(r: &Repr<'_>) -> Response {
    Response { code: r.code, content_format: content_format(r), payload: r.payload.to_vec() }
}

/// The largest block-wise request body the server reassembles (a Register
/// payload of a few thousand object instances).
pub const MAX_BLOCK1_BODY: usize = 64 * 1024;

/// How long past its lifetime a registration is kept (a late Update in flight).
const EXPIRY_GRACE_MS: u64 = 2_000;

impl Server {
    /// A server with `config`, no registrations, its CoAP endpoint seeded
    /// with `config.seed`.
    pub fn new(config: ServerConfig) -> Server {
        Server {
            endpoint: Endpoint::new(config.coap, XorShiftRng::new(config.seed)),
            config,
            events: VecDeque::new(),
            registrations: HashMap::new(),
            next_location: 0,
            next_ticket: 0,
            pending: HashMap::new(),
            plans_running: HashMap::new(),
            stalled_steps: VecDeque::new(),
            heard: HashMap::new(),
            held: HashMap::new(),
            block1_rx: HashMap::new(),
        }
    }

    /// A datagram from `from` arrived at `now` (plain CoAP: a DTLS transport
    /// hands over what it decrypted).
    ///
    /// A queue-mode client that was asleep is awake now: requests held for
    /// it go out after this datagram is handled (after the answer to its
    /// Register-Update, TS §6.5).
    pub fn handle_datagram(&mut self, now: CoreInstant, from: SocketAddr, bytes: &[u8]) {
        self.endpoint.handle_datagram(now, from, bytes);
        self.drain(now, bytes.len());
        self.heard.insert(from, now);
        let awake: Vec<String> = self
            .registrations
            .iter()
            .filter(|(ep, (r, _))| r.addr == from && self.held.contains_key(*ep))
            .map(|(ep, _)| ep.clone())
            .collect();
        for ep in awake {
            for (request, ticket) in self.held.remove(&ep).unwrap_or_default() {
                self.start_request(now, ep.clone(), request, ticket);
            }
        }
    }

    /// Whether `endpoint` is a queue-mode client that has been silent for
    /// the queue-mode idle period, so not listening (TS §6.5).
    pub fn is_asleep(&self, now: CoreInstant, endpoint: &str) -> bool {
        let Some((r, registered)) = self.registrations.get(endpoint) else { return false };
        let heard = self.heard.get(&r.addr).copied().map_or(*registered, |h| h.max(*registered));
        r.queue_mode && now >= heard + self.config.queue_idle
    }

    /// Requests waiting for `endpoint` to wake (queue mode).
    pub fn held_requests(&self, endpoint: &str) -> usize {
        self.held.get(endpoint).map_or(0, VecDeque::len)
    }

    /// The registration of `endpoint` ended: requests held for it fail.
    fn drop_held(&mut self, endpoint: &str) {
        for (_, ticket) in self.held.remove(endpoint).unwrap_or_default() {
            self.answer(ticket, Err(ServerError::UnknownEndpoint(endpoint.to_owned())));
        }
    }

    /// Retransmissions, exchange timeouts and registration expiry due at `now`.
    pub fn handle_timeout(&mut self, now: CoreInstant) {
        self.endpoint.handle_timeout(now);
        self.drain(now, 0);
        self.expire(now);
    }

    /// Sends bootstrap steps that waited for a free exchange slot, oldest
    /// first, while slots are free.
    fn resume_stalled(&mut self, now: CoreInstant) {
        while self.endpoint.exchanges_in_flight() < MAX_EXCHANGES {
            let Some((endpoint, addr, index)) = self.stalled_steps.pop_front() else { return };
            self.bootstrap_step(now, endpoint, addr, index);
        }
    }

    /// The next datagram to send, written into `buf`: its destination and length.
    pub fn poll_transmit(
        &mut self,
        now: CoreInstant,
        buf: &mut [u8],
    ) -> Option<(SocketAddr, usize)> {
        self.endpoint.poll_transmit(now, buf).map(|t| (t.remote, t.len))
    }

    /// When [`Server::handle_timeout`] is next due: the earliest CoAP timer
    /// or registration expiry.
    pub fn poll_timeout(&self) -> Option<CoreInstant> {
        let expiry = self.registrations.values().map(|(r, at)| Self::expires_at(r, *at)).min();
        match (self.endpoint.poll_timeout(), expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing that happened, oldest first.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The current registrations.
    pub fn registrations(&self) -> impl Iterator<Item = &Registration> {
        self.registrations.values().map(|(r, _)| r)
    }

    /// The registration of `endpoint`, if it is registered.
    pub fn registration(&self, endpoint: &str) -> Option<&Registration> {
        self.registrations.get(endpoint).map(|(r, _)| r)
    }

    fn expires_at(r: &Registration, at: CoreInstant) -> CoreInstant {
        at + lwm2m_core::time::Duration::from_millis(
            u64::from(r.lifetime_s).saturating_mul(1000).saturating_add(EXPIRY_GRACE_MS),
        )
    }

    fn emit(&mut self, ev: ServerEvent) {
        self.events.push_back(ev);
    }

    fn answer(&mut self, ticket: Ticket, result: Result<Response, ServerError>) {
        self.emit(ServerEvent::Response { ticket, result });
    }

    fn expire(&mut self, now: CoreInstant) {
        let mut expired: Vec<String> = self
            .registrations
            .iter()
            .filter(|(_, (r, at))| now >= Self::expires_at(r, *at))
            .map(|(k, _)| k.clone())
            .collect();
        expired.sort();
        for ep in expired {
            self.registrations.remove(&ep);
            self.drop_held(&ep);
            self.emit(ServerEvent::Expired { endpoint: ep });
        }
    }

    /// Send `request` to the registered `endpoint`; its answer comes later as
    /// [`ServerEvent::Response`] with the returned ticket (at once, with
    /// [`ServerError::UnknownEndpoint`], when it is not registered).
    ///
    /// For a queue-mode client that [is asleep](Self::is_asleep) the request
    /// is held and sent right after the client's next datagram (its
    /// Register-Update), TS §6.5.
    pub fn request(&mut self, now: CoreInstant, endpoint: &str, request: Request) -> Ticket {
        let reply = Ticket(self.next_ticket);
        self.next_ticket += 1;
        if self.is_asleep(now, endpoint) {
            self.held.entry(endpoint.to_owned()).or_default().push_back((request, reply));
        } else {
            self.start_request(now, endpoint.to_owned(), request, reply);
        }
        reply
    }

    fn start_request(
        &mut self,
        now: CoreInstant,
        endpoint: String,
        request: Request,
        reply: Ticket,
    ) {
        let Some((reg, _)) = self.registrations.get(&endpoint) else {
            self.answer(reply, Err(ServerError::UnknownEndpoint(endpoint)));
            return;
        };
        let addr = reg.addr;
        let path_str = |p: &Path| p.to_string();
        let result = match &request {
            Request::Read { path, format } | Request::Observe { path, format } => {
                let observe = matches!(request, Request::Observe { .. });
                self.endpoint.request(now, addr, true, Code::Get, |w| {
                    if observe {
                        w.add_uint(OptionNumber::Observe, 0)?;
                    }
                    w.add_path(OptionNumber::UriPath, &path_str(path))?;
                    if let Some(f) = format {
                        w.add_uint(OptionNumber::Accept, u32::from(f.raw()))?;
                    }
                    Ok(())
                })
            }
            Request::CancelObserve { path } => {
                self.cancel_observation(&endpoint, path, &[], reply);
                return;
            }
            Request::Write { path, format, payload, replace } => {
                let code = if *replace { Code::Put } else { Code::Post };
                self.endpoint.request(now, addr, true, code, |w| {
                    w.add_path(OptionNumber::UriPath, &path_str(path))?;
                    w.add_content_format(*format)?;
                    w.set_payload(payload)
                })
            }
            Request::ReadComposite { paths, format }
            | Request::ObserveComposite { paths, format } => {
                let observe = matches!(request, Request::ObserveComposite { .. });
                let list: Vec<(Path, Value<'_>)> =
                    paths.iter().map(|p| (*p, Value::None)).collect();
                let payload = encode_senml(*format, &list);
                self.endpoint.request(now, addr, true, Code::Fetch, |w| {
                    if observe {
                        w.add_uint(OptionNumber::Observe, 0)?;
                    }
                    w.add_content_format(*format)?;
                    w.add_uint(OptionNumber::Accept, u32::from(format.raw()))?;
                    w.set_payload(&payload)
                })
            }
            Request::CancelObserveComposite { paths } => {
                self.cancel_observation(&endpoint, &Path::ROOT, paths, reply);
                return;
            }
            Request::WriteComposite { format, payload } => {
                self.endpoint.request(now, addr, true, Code::IPatch, |w| {
                    w.add_content_format(*format)?;
                    w.set_payload(payload)
                })
            }
            Request::WriteBlockwise { path, format, payload, block_size } => {
                let Some(szx) = Szx::from_size(*block_size) else {
                    self.answer(
                        reply,
                        Err(ServerError::Coap(format!("bad block size {block_size}"))),
                    );
                    return;
                };
                let transfer = Block1Transfer {
                    path: *path,
                    format: *format,
                    payload: payload.clone(),
                    szx,
                    num: 0,
                };
                match transfer.send(&mut self.endpoint, now, addr) {
                    Ok(exchange) => {
                        self.pending.insert(exchange, Pending::Block1 { reply, addr, transfer });
                    }
                    Err(e) => {
                        self.answer(reply, Err(ServerError::Coap(e.to_string())));
                    }
                }
                return;
            }
            Request::WriteAttributes { path, attributes } => {
                self.endpoint.request(now, addr, true, Code::Put, |w| {
                    w.add_path(OptionNumber::UriPath, &path_str(path))?;
                    for a in attributes {
                        w.add_uri_query(a)?;
                    }
                    Ok(())
                })
            }
            Request::Execute { path, args } => {
                self.endpoint.request(now, addr, true, Code::Post, |w| {
                    w.add_path(OptionNumber::UriPath, &path_str(path))?;
                    if !args.is_empty() {
                        w.add_content_format(ContentFormat::TextPlain)?;
                        w.set_payload(args)?;
                    }
                    Ok(())
                })
            }
            Request::Create { path, format, payload } => {
                self.endpoint.request(now, addr, true, Code::Post, |w| {
                    w.add_path(OptionNumber::UriPath, &path_str(path))?;
                    w.add_content_format(*format)?;
                    w.set_payload(payload)
                })
            }
            Request::Delete { path } => self.endpoint.request(now, addr, true, Code::Delete, |w| {
                w.add_path(OptionNumber::UriPath, &path_str(path))
            }),
            Request::Discover { path } => self.endpoint.request(now, addr, true, Code::Get, |w| {
                w.add_path(OptionNumber::UriPath, &path_str(path))?;
                w.add_uint(OptionNumber::Accept, u32::from(ContentFormat::LinkFormat.raw()))
            }),
        };
        match result {
            Ok(exchange) => {
                let pending = match request {
                    Request::Observe { path, .. } => {
                        Pending::Observe { endpoint, path, paths: vec![], reply: Some(reply) }
                    }
                    Request::ObserveComposite { paths, .. } => {
                        Pending::Observe { endpoint, path: Path::ROOT, paths, reply: Some(reply) }
                    }
                    Request::Read { path, format } => {
                        Pending::Read { reply, addr, path, format, body: vec![] }
                    }
                    _ => Pending::Command { reply },
                };
                self.pending.insert(exchange, pending);
            }
            Err(e) => {
                self.answer(reply, Err(ServerError::Coap(e.to_string())));
            }
        }
    }

    /// Cancel the observation of `path` (`/` and `paths` for an
    /// Observe-Composite) by `endpoint`: forget it; its next notification
    /// is answered with RST, which cancels it at the client (RFC 7641
    /// §3.6). Answered 2.02, or 4.04 when there is no such observation.
    fn cancel_observation(&mut self, endpoint: &str, path: &Path, paths: &[Path], reply: Ticket) {
        let found: Vec<ExchangeId> = self
            .pending
            .iter()
            .filter(|(_, p)| {
                matches!(p, Pending::Observe { endpoint: e, path: q, paths: qs, .. }
                    if e == endpoint && q == path && qs.as_slice() == paths)
            })
            .map(|(k, _)| *k)
            .collect();
        for e in &found {
            self.pending.remove(e);
            self.endpoint.forget(*e);
        }
        let code = if found.is_empty() { Code::NotFound } else { Code::Deleted };
        self.answer(reply, Ok(Response { code, content_format: None, payload: vec![] }));
    }

    fn drain(&mut self, now: CoreInstant, datagram_len: usize) {
        while let Some(ev) = self.endpoint.poll_event() {
            match ev {
                CoapEvent::Request { id, remote, request } => {
                    let owned = OwnedRequest::from(&request);
                    self.on_request(now, id, remote, owned, datagram_len);
                }
                CoapEvent::Response { exchange, response, .. } => {
                    let block2 = response.options.get_uint(OptionNumber::Block2);
                    let r = response_of(&response);
                    if let Some(Pending::Read { .. }) = self.pending.get(&exchange) {
                        self.on_read_block(now, exchange, r, block2);
                    } else {
                        self.on_response(now, exchange, Ok(r));
                    }
                }
                CoapEvent::Timeout { exchange, .. }
                | CoapEvent::Reset { exchange: Some(exchange), .. } => {
                    self.on_response(now, exchange, Err(ServerError::Timeout));
                }
                _ => {}
            }
        }
        self.resume_stalled(now);
    }

    fn on_response(
        &mut self,
        now: CoreInstant,
        exchange: ExchangeId,
        r: Result<Response, ServerError>,
    ) {
        let Some(p) = self.pending.remove(&exchange) else { return };
        match p {
            Pending::Command { reply } | Pending::Read { reply, .. } => {
                self.answer(reply, r);
            }
            Pending::Block1 { reply, addr, mut transfer } => {
                let size = transfer.szx.size();
                let sent = (transfer.num as usize + 1).saturating_mul(size);
                match r {
                    Ok(rsp) if rsp.code == Code::Continue && sent < transfer.payload.len() => {
                        transfer.num += 1;
                        match transfer.send(&mut self.endpoint, now, addr) {
                            Ok(exchange) => {
                                self.pending
                                    .insert(exchange, Pending::Block1 { reply, addr, transfer });
                            }
                            Err(e) => {
                                self.answer(reply, Err(ServerError::Coap(e.to_string())));
                            }
                        }
                    }
                    other => {
                        self.answer(reply, other);
                    }
                }
            }
            Pending::Observe { endpoint, path, paths, reply } => match reply {
                Some(reply) => {
                    let ok = r.as_ref().is_ok_and(|r| r.code == Code::Content);
                    self.answer(reply, r);
                    if ok {
                        self.pending.insert(
                            exchange,
                            Pending::Observe { endpoint, path, paths, reply: None },
                        );
                    }
                }
                None => {
                    if let Ok(response) = r {
                        self.emit(ServerEvent::Notification {
                            endpoint: endpoint.clone(),
                            path,
                            response,
                        });
                        self.pending.insert(
                            exchange,
                            Pending::Observe { endpoint, path, paths, reply: None },
                        );
                    }
                }
            },
            Pending::Bootstrap { endpoint, addr, next, finish_sent } => {
                if finish_sent {
                    let code = r.map(|r| r.code).unwrap_or(Code::GatewayTimeout);
                    self.plans_running.remove(&endpoint);
                    self.emit(ServerEvent::BootstrapFinished { endpoint, code });
                } else {
                    self.bootstrap_step(now, endpoint, addr, next);
                }
            }
        }
    }

    /// One response to a Read: the whole answer, or a block of it (RFC 7959
    /// §2.4: ask for the next block with the size the client chose).
    fn on_read_block(
        &mut self,
        now: CoreInstant,
        exchange: ExchangeId,
        r: Response,
        block2: Option<u32>,
    ) {
        let Some(Pending::Read { reply, addr, path, format, mut body }) =
            self.pending.remove(&exchange)
        else {
            return;
        };
        let block = block2.and_then(|v| BlockValue::from_uint(v).ok());
        body.extend_from_slice(&r.payload);
        match block {
            Some(b) if b.more && r.code == Code::Content && body.len() == b.offset() + b.size() => {
                let next =
                    BlockValue::new(b.num + 1, false, b.szx).map(BlockValue::to_uint).unwrap_or(0);
                let sent = self.endpoint.request(now, addr, true, Code::Get, |w| {
                    w.add_path(OptionNumber::UriPath, &path.to_string())?;
                    if let Some(f) = format {
                        w.add_uint(OptionNumber::Accept, u32::from(f.raw()))?;
                    }
                    w.add_uint(OptionNumber::Block2, next)
                });
                match sent {
                    Ok(e) => {
                        self.pending.insert(e, Pending::Read { reply, addr, path, format, body });
                    }
                    Err(e) => {
                        self.answer(reply, Err(ServerError::Coap(e.to_string())));
                    }
                }
            }
            _ => {
                self.answer(reply, Ok(Response { payload: body, ..r }));
            }
        }
    }

    /// Forgets a running bootstrap sequence of `endpoint`: its outstanding
    /// exchange and any step waiting for a slot.
    fn abandon_bootstrap(&mut self, endpoint: &str) {
        let exchanges: Vec<ExchangeId> = self
            .pending
            .iter()
            .filter(|(_, p)| matches!(p, Pending::Bootstrap { endpoint: e, .. } if e == endpoint))
            .map(|(k, _)| *k)
            .collect();
        for e in exchanges {
            self.pending.remove(&e);
            self.endpoint.forget(e);
        }
        self.stalled_steps.retain(|(e, _, _)| e != endpoint);
        self.plans_running.remove(endpoint);
    }

    fn bootstrap_step(
        &mut self,
        now: CoreInstant,
        endpoint: String,
        addr: SocketAddr,
        index: usize,
    ) {
        let step = self.plans_running.get(&endpoint).and_then(|s| s.get(index)).cloned();
        let (result, finish) = match step {
            Some(BootstrapStep { code, path, format, payload }) => (
                self.endpoint.request(now, addr, true, code, |w| {
                    w.add_path(OptionNumber::UriPath, &path.to_string())?;
                    if !payload.is_empty() {
                        w.add_content_format(format)?;
                        w.set_payload(&payload)?;
                    }
                    Ok(())
                }),
                false,
            ),
            None => {
                (self.endpoint.request(now, addr, true, Code::Post, |w| w.add_uri_path("bs")), true)
            }
        };
        match result {
            Ok(exchange) => {
                self.pending.insert(
                    exchange,
                    Pending::Bootstrap { endpoint, addr, next: index + 1, finish_sent: finish },
                );
            }
            // A write that does not fit one datagram is left out rather than
            // stalling the plan before Bootstrap-Finish.
            // No free exchange slot (many devices bootstrapping at once):
            // the step waits for one, it is not lost.
            Err(EndpointError::QueueFull) => {
                self.stalled_steps.push_back((endpoint, addr, index));
            }
            Err(_) if !finish => self.bootstrap_step(now, endpoint, addr, index + 1),
            Err(_) => {
                self.plans_running.remove(&endpoint);
            }
        }
    }

    fn on_request(
        &mut self,
        now: CoreInstant,
        id: RequestId,
        remote: SocketAddr,
        req: OwnedRequest,
        len: usize,
    ) {
        let mut req = req;
        if let Some(value) = req.block1 {
            match self.reassemble(id, remote, &req, value) {
                Some(body) => req.payload = body,
                None => return,
            }
        }
        let query = |name: &str| {
            req.queries.iter().find_map(|q| {
                q.strip_prefix(name).and_then(|v| v.strip_prefix('=')).map(str::to_owned)
            })
        };
        let segs: Vec<&str> = req.path.iter().map(String::as_str).collect();
        match (req.code, segs.as_slice()) {
            (Code::Post, ["bs"]) => {
                let Some(ep) = query("ep") else {
                    let _ = self.endpoint.respond(id, Code::BadRequest, |_| Ok(()));
                    return;
                };
                let plan =
                    self.config.plans.get(&ep).or(self.config.default_plan.as_ref()).cloned();
                let Some(plan) = plan else {
                    let _ = self.endpoint.respond(id, Code::NotFound, |_| Ok(()));
                    return;
                };
                let _ = self.endpoint.respond(id, Code::Changed, |_| Ok(()));
                self.emit(ServerEvent::BootstrapRequested { endpoint: ep.clone() });
                // A retransmission of the same request is answered from the
                // endpoint's deduplication cache and never gets here; a new
                // Bootstrap-Request (the client gave up on the previous
                // sequence and retried) starts the plan again from the top.
                if self.plans_running.contains_key(&ep) {
                    self.abandon_bootstrap(&ep);
                }
                self.plans_running.insert(ep.clone(), plan.steps());
                self.bootstrap_step(now, ep, remote, 0);
            }
            (Code::Post, ["rd"]) => {
                let Some(ep) = query("ep") else {
                    let _ = self.endpoint.respond(id, Code::BadRequest, |_| Ok(()));
                    return;
                };
                self.next_location += 1;
                let location = format!("/rd/{}", self.next_location);
                let objects = String::from_utf8_lossy(&req.payload).into_owned();
                let registration = Registration {
                    endpoint: ep.clone(),
                    location: location.clone(),
                    addr: remote,
                    lifetime_s: query("lt").and_then(|v| v.parse().ok()).unwrap_or(86400),
                    binding: query("b").unwrap_or_else(|| "U".into()),
                    queue_mode: req.queries.iter().any(|q| q == "Q"),
                    version: query("lwm2m").unwrap_or_else(|| "1.0".into()),
                    objects,
                };
                let _ = self.endpoint.respond(id, Code::Created, |w| {
                    w.add_path(OptionNumber::LocationPath, &location)?;
                    match req.block1 {
                        Some(b) => w.add_uint(OptionNumber::Block1, b),
                        None => Ok(()),
                    }
                });
                // A registration replaces the previous one of the same endpoint (TS §6.2.1).
                self.registrations.insert(ep, (registration.clone(), now));
                let payload_len = req.payload.len();
                self.emit(ServerEvent::Registered { registration, request_len: len, payload_len });
            }
            (Code::Post, ["rd", loc]) | (Code::Delete, ["rd", loc]) => {
                let location = format!("/rd/{loc}");
                let Some(ep) = self
                    .registrations
                    .iter()
                    .find(|(_, (r, _))| r.location == location)
                    .map(|(k, _)| k.clone())
                else {
                    let _ = self.endpoint.respond(id, Code::NotFound, |_| Ok(()));
                    return;
                };
                if req.code == Code::Delete {
                    self.registrations.remove(&ep);
                    self.drop_held(&ep);
                    let _ = self.endpoint.respond(id, Code::Deleted, |_| Ok(()));
                    self.emit(ServerEvent::Deregistered { endpoint: ep });
                    return;
                }
                if let Some((r, at)) = self.registrations.get_mut(&ep) {
                    *at = now;
                    r.addr = remote;
                    if let Some(lt) = query("lt").and_then(|v| v.parse().ok()) {
                        r.lifetime_s = lt;
                    }
                    if let Some(b) = query("b") {
                        r.binding = b;
                    }
                    if !req.payload.is_empty() {
                        r.objects = String::from_utf8_lossy(&req.payload).into_owned();
                    }
                }
                let _ = self.endpoint.respond(id, Code::Changed, |w| match req.block1 {
                    Some(b) => w.add_uint(OptionNumber::Block1, b),
                    None => Ok(()),
                });
                self.emit(ServerEvent::Updated { endpoint: ep, request_len: len });
            }
            (Code::Post, ["dp"]) => {
                let ep = self
                    .registrations
                    .iter()
                    .find(|(_, (r, _))| r.addr == remote)
                    .map(|(k, _)| k.clone());
                let Some(ep) = ep else {
                    let _ = self.endpoint.respond(id, Code::NotFound, |_| Ok(()));
                    return;
                };
                let _ = self.endpoint.respond(id, Code::Changed, |_| Ok(()));
                let response = Response {
                    code: Code::Post,
                    content_format: req.content_format,
                    payload: req.payload,
                };
                self.emit(ServerEvent::Sent { endpoint: ep, response });
            }
            (Code::Get, _) if self.config.files.contains_key(&req.path.join("/")) => {
                self.serve_file(id, &req);
            }
            _ => {
                let _ = self.endpoint.respond(id, Code::NotFound, |_| Ok(()));
            }
        }
    }

    /// One block of a block-wise request from a client (RFC 7959 §2.5,
    /// a Register or Update whose object list exceeds a datagram): 2.31
    /// Continue echoing the block while more follow; the whole body once
    /// the last block arrives. A block out of sequence is 4.08 Request
    /// Entity Incomplete, a body beyond [`MAX_BLOCK1_BODY`] 4.13.
    fn reassemble(
        &mut self,
        id: RequestId,
        remote: SocketAddr,
        req: &OwnedRequest,
        value: u32,
    ) -> Option<Vec<u8>> {
        let block = match BlockValue::from_uint(value) {
            Ok(b) => b,
            Err(e) => {
                let _ = self.endpoint.respond(id, Code::from(e), |_| Ok(()));
                return None;
            }
        };
        let key = (remote, req.path.join("/"));
        if block.num == 0 {
            self.block1_rx.insert(key.clone(), Vec::new());
        }
        let received = self.block1_rx.get(&key).map(Vec::len);
        let fits = |len: usize| len.saturating_add(req.payload.len()) <= MAX_BLOCK1_BODY;
        let code = match received {
            Some(len) if block.offset() == len && fits(len) => None,
            Some(len) if block.offset() == len => Some(Code::RequestEntityTooLarge),
            _ => Some(Code::RequestEntityIncomplete),
        };
        if let Some(code) = code {
            self.block1_rx.remove(&key);
            let _ = self.endpoint.respond(id, code, |_| Ok(()));
            return None;
        }
        let body = self.block1_rx.get_mut(&key)?;
        body.extend_from_slice(&req.payload);
        if block.more {
            let _ = self
                .endpoint
                .respond(id, Code::Continue, |w| w.add_uint(OptionNumber::Block1, value));
            return None;
        }
        self.block1_rx.remove(&key)
    }

    /// One Block2 response of a served file (RFC 7959 §2.4).
    fn serve_file(&mut self, id: RequestId, req: &OwnedRequest) {
        let Some(file) = self.config.files.get(&req.path.join("/")) else { return };
        let block = match req.block2.map(BlockValue::from_uint).transpose() {
            Ok(b) => b,
            Err(e) => {
                let _ = self.endpoint.respond(id, Code::from(e), |_| Ok(()));
                return;
            }
        };
        let mut out = [0u8; 1024];
        let mut source: &[u8] = file;
        match serve_block2(&mut source, block, Szx::S1024, &mut out) {
            Ok(slice) => {
                let payload = out.get(..slice.len).unwrap_or(&[]);
                let _ = self.endpoint.respond(id, Code::Content, |w| {
                    w.add_content_format(ContentFormat::OctetStream)?;
                    if let Some(b) = slice.block {
                        w.add_uint(OptionNumber::Block2, b.to_uint())?;
                    }
                    if let Some(size) = slice.size2 {
                        w.add_uint(OptionNumber::Size2, size)?;
                    }
                    w.set_payload(payload)
                });
            }
            Err(e) => {
                let _ = self.endpoint.respond(id, Code::from(e), |_| Ok(()));
            }
        }
    }
}

/// A block-wise Write in progress.
struct Block1Transfer {
    path: Path,
    format: ContentFormat,
    payload: Vec<u8>,
    szx: Szx,
    num: u32,
}

impl Block1Transfer {
    fn send(
        &self,
        endpoint: &mut Endpoint<SocketAddr, XorShiftRng>,
        now: CoreInstant,
        addr: SocketAddr,
    ) -> Result<ExchangeId, lwm2m_core::coap::endpoint::EndpointError> {
        let size = self.szx.size();
        let start = (self.num as usize).saturating_mul(size).min(self.payload.len());
        let end = start.saturating_add(size).min(self.payload.len());
        let more = end < self.payload.len();
        let block = BlockValue::new(self.num, more, self.szx).map(BlockValue::to_uint).unwrap_or(0);
        let chunk = self.payload.get(start..end).unwrap_or(&[]);
        let path = self.path.to_string();
        endpoint.request(now, addr, true, Code::Put, |w| {
            w.add_path(OptionNumber::UriPath, &path)?;
            w.add_content_format(self.format)?;
            w.add_uint(OptionNumber::Block1, block)?;
            if self.num == 0 {
                w.add_uint(
                    OptionNumber::Size1,
                    u32::try_from(self.payload.len()).unwrap_or(u32::MAX),
                )?;
            }
            w.set_payload(chunk)
        })
    }
}

/// The parts of a client request the server keeps after the endpoint's
/// receive buffer moves on.
struct OwnedRequest {
    code: Code,
    path: Vec<String>,
    queries: Vec<String>,
    content_format: Option<ContentFormat>,
    block1: Option<u32>,
    block2: Option<u32>,
    payload: Vec<u8>,
}

impl From<&Repr<'_>> for OwnedRequest {
    fn from(r: &Repr<'_>) -> Self {
        let strings = |n: OptionNumber| -> Vec<String> {
            r.options.get_all(n).map(|o| String::from_utf8_lossy(o.value).into_owned()).collect()
        };
        OwnedRequest {
            code: r.code,
            path: strings(OptionNumber::UriPath),
            queries: strings(OptionNumber::UriQuery),
            content_format: content_format(r),
            block1: r.options.get_uint(OptionNumber::Block1),
            block2: r.options.get_uint(OptionNumber::Block2),
            payload: r.payload.to_vec(),
        }
    }
}
