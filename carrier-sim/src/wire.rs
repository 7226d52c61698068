//! Wire counters: every datagram the simulated network carries, counted in
//! bytes and datagrams per direction, per device and per message kind, and
//! the Confirmable messages that were never answered.
//!
//! The counters see the network through `World::set_tap`: a datagram is
//! counted when its sender hands it to the network (before loss), so a
//! retransmission counts again and a lost datagram still cost its sender.
//! The bytes are CoAP's (RFC 7252 §3): the simulation models DTLS (its
//! handshake time and failures) without framing it, so record overhead is
//! not in these figures.
//!
//! Message kinds are named from the CoAP header and options alone: a
//! request by method and Uri-Path (`register`, `update`, `read /3/0
//! tlv`, …), a response by the request with the same token, an empty ACK by
//! the Confirmable with the same message ID (RFC 7252 §4.2), a response
//! carrying Observe to an already answered Observe as `notify <path>`
//! (RFC 7641 §3.2).
//!
//! Lost CON: a Confirmable message (one sender, one message ID) for which
//! no ACK or RST with that message ID ever reached its sender — whatever
//! the number of retransmissions — and whose exchange lifetime
//! (EXCHANGE_LIFETIME, 247 s, RFC 7252 §4.8.2) ended before the run did.
//! That is the wire's view of "the exchange ended in a timeout": both
//! endpoints' CONs count, as [`WireCounters::lost_con`] per direction.
//!
//! Guarantee: no datagram makes this module panic (malformed ones are
//! counted as `malformed`).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use carrier_os::time::{Duration, Instant};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::coap::{MessageType, Repr};
use serde::Serialize;

/// RFC 7252 §4.8.2 EXCHANGE_LIFETIME with the default parameters.
pub const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);

/// Bytes and datagrams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Datagrams.
    pub datagrams: u64,
    /// Bytes (CoAP message, no UDP/IP or DTLS framing).
    pub bytes: u64,
}

impl Count {
    fn add(&mut self, len: usize) {
        self.datagrams += 1;
        self.bytes += len as u64;
    }
}

impl core::ops::Add for Count {
    type Output = Count;
    fn add(self, o: Count) -> Count {
        Count { datagrams: self.datagrams + o.datagrams, bytes: self.bytes + o.bytes }
    }
}

impl core::ops::Sub for Count {
    type Output = Count;
    fn sub(self, o: Count) -> Count {
        Count {
            datagrams: self.datagrams.saturating_sub(o.datagrams),
            bytes: self.bytes.saturating_sub(o.bytes),
        }
    }
}

/// Uplink (device → server) and downlink (server → device).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpDown {
    /// Device → server.
    pub up: Count,
    /// Server → device.
    pub down: Count,
}

impl UpDown {
    /// Both directions together.
    pub fn total(&self) -> Count {
        self.up + self.down
    }
}

impl core::ops::Sub for UpDown {
    type Output = UpDown;
    fn sub(self, o: UpDown) -> UpDown {
        UpDown { up: self.up - o.up, down: self.down - o.down }
    }
}

/// One message kind's traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    /// `up` or `down`.
    pub dir: &'static str,
    /// The kind (see the module doc).
    pub kind: String,
    /// Its traffic.
    pub count: Count,
}

/// What the wire carried in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WireCounters {
    /// All traffic.
    pub total: UpDown,
    /// Per direction and kind, sorted.
    pub kinds: Vec<KindCount>,
    /// Confirmable messages sent (distinct message IDs), up and down.
    pub con_sent: [u64; 2],
    /// Lost CONs (module doc), up and down.
    pub lost_con: [u64; 2],
    /// Lost CONs by kind.
    pub lost_con_kinds: BTreeMap<String, u64>,
    /// Datagrams delivered after loss, duplication and outages, up and down.
    pub delivered: [u64; 2],
}

#[derive(Debug)]
struct ConState {
    kind: String,
    first: Instant,
    answered: bool,
}

/// The tap's state (module doc).
#[derive(Debug)]
pub(crate) struct Wire {
    servers: Vec<SocketAddr>,
    total: UpDown,
    kinds: BTreeMap<(bool, String), Count>,
    per_device: HashMap<IpAddr, UpDown>,
    /// Request kind by (device address, token), with the number of
    /// responses seen and when it was last used.
    tokens: HashMap<(SocketAddr, Vec<u8>), (String, u32, Instant)>,
    cons: HashMap<(SocketAddr, SocketAddr, u16), ConState>,
    con_sent: [u64; 2],
    delivered_count: [u64; 2],
    /// Addresses datagrams were delivered to since the last take.
    pub(crate) delivered: Vec<SocketAddr>,
    /// Bootstrap-Server addresses (their writes are bootstrap writes).
    bootstrap: Vec<SocketAddr>,
    lost_settled: [u64; 2],
    lost_settled_kinds: BTreeMap<String, u64>,
}

fn format_name(cf: u32) -> String {
    match cf {
        0 => "text".into(),
        42 => "opaque".into(),
        60 => "cbor".into(),
        110 => "senml-json".into(),
        112 => "senml-cbor".into(),
        11542 => "tlv".into(),
        11543 => "lwm2m-json".into(),
        11544 => "lwm2m-cbor".into(),
        n => format!("cf{n}"),
    }
}

fn uri_path(r: &Repr<'_>) -> String {
    let mut p = String::new();
    for o in r.options.get_all(OptionNumber::UriPath) {
        p.push('/');
        p.push_str(o.value_str().unwrap_or("?"));
    }
    if p.is_empty() { "/".into() } else { p }
}

impl Wire {
    pub(crate) fn new(servers: Vec<SocketAddr>, bootstrap: Vec<SocketAddr>) -> Self {
        Wire {
            servers,
            total: UpDown::default(),
            kinds: BTreeMap::new(),
            per_device: HashMap::new(),
            tokens: HashMap::new(),
            cons: HashMap::new(),
            con_sent: [0; 2],
            delivered_count: [0; 2],
            delivered: Vec::new(),
            bootstrap,
            lost_settled: [0; 2],
            lost_settled_kinds: BTreeMap::new(),
        }
    }

    /// Traffic of the device at `ip` so far.
    pub(crate) fn device(&self, ip: IpAddr) -> UpDown {
        self.per_device.get(&ip).copied().unwrap_or_default()
    }

    fn request_kind(&self, up: bool, server: SocketAddr, r: &Repr<'_>) -> String {
        let path = uri_path(r);
        let observe = r.options.get_uint(OptionNumber::Observe);
        let block1 = r.options.get(OptionNumber::Block1).is_some();
        let first = path.split('/').nth(1).unwrap_or("");
        if up {
            return match (r.code, first) {
                (Code::Post, "bs") => "bootstrap-request".into(),
                (Code::Post, "rd") if path == "/rd" => "register".into(),
                (Code::Post, "rd") => "update".into(),
                (Code::Delete, "rd") => "deregister".into(),
                (Code::Post, "dp") => "send".into(),
                (Code::Get, _) => "client-get".into(),
                (c, _) => format!("client {c} {path}"),
            };
        }
        let accept =
            r.options.get_uint(OptionNumber::Accept).map(|f| format!(" {}", format_name(f)));
        let accept = accept.unwrap_or_default();
        if self.bootstrap.contains(&server) {
            return match r.code {
                Code::Post => "bootstrap-finish".into(),
                Code::Delete => "bootstrap-delete".into(),
                Code::Put => "bootstrap-write".into(),
                c => format!("bootstrap {c}"),
            };
        }
        match (r.code, observe) {
            (Code::Get, Some(0)) => format!("observe {path}{accept}"),
            (Code::Get, Some(_)) => format!("cancel-observe {path}"),
            (Code::Get, None) => format!("read {path}{accept}"),
            (Code::Put | Code::Post, _) if block1 => format!("write-block {path}"),
            (Code::Put, _) => format!("write {path}"),
            (Code::Post, _) if path.split('/').count() == 4 => format!("execute {path}"),
            (c, _) => format!("{c} {path}"),
        }
    }

    /// A datagram handed to the network.
    pub(crate) fn sent(&mut self, at: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let up = self.servers.contains(&to);
        let (device, server) = if up { (from, to) } else { (to, from) };
        let dev = self.per_device.entry(device.ip()).or_default();
        if up {
            dev.up.add(data.len());
            self.total.up.add(data.len());
        } else {
            dev.down.add(data.len());
            self.total.down.add(data.len());
        }
        let kind = match Repr::decode(data) {
            Err(_) => "malformed".to_string(),
            Ok(r) => self.kind_of(at, up, device, server, &r),
        };
        if let Ok(r) = Repr::decode(data)
            && r.msg_type == MessageType::Con
        {
            let key = (from, to, r.message_id);
            let fresh = self.cons.get(&key).is_none_or(|c| at >= c.first + EXCHANGE_LIFETIME);
            if fresh {
                if let Some(old) = self.cons.remove(&key) {
                    self.settle_one(old, up);
                }
                self.con_sent[usize::from(!up)] += 1;
                self.cons.insert(key, ConState { kind: kind.clone(), first: at, answered: false });
            }
        }
        self.kinds.entry((up, kind)).or_default().add(data.len());
    }

    fn kind_of(
        &mut self,
        at: Instant,
        up: bool,
        device: SocketAddr,
        server: SocketAddr,
        r: &Repr<'_>,
    ) -> String {
        let (from, to) = if up { (device, server) } else { (server, device) };
        if r.code == Code::Empty {
            return match r.msg_type {
                MessageType::Rst => "rst".into(),
                MessageType::Con => "ping".into(),
                _ => match self.cons.get(&(to, from, r.message_id)) {
                    Some(c) => format!("{} ack", c.kind),
                    None => "ack".into(),
                },
            };
        }
        let key = (device, r.token.as_bytes().to_vec());
        if r.code.is_request() {
            let kind = self.request_kind(up, server, r);
            self.tokens.insert(key, (kind.clone(), 0, at));
            return kind;
        }
        match self.tokens.get_mut(&key) {
            Some((kind, seen, last)) => {
                *seen += 1;
                *last = at;
                match kind.strip_prefix("observe ") {
                    Some(rest) if *seen > 1 && r.options.get(OptionNumber::Observe).is_some() => {
                        let path = rest.split(' ').next().unwrap_or(rest);
                        format!("notify {path}")
                    }
                    _ => format!("{kind} response"),
                }
            }
            None => "response".into(),
        }
    }

    /// A datagram arrived in an inbox.
    pub(crate) fn delivered(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let up = self.servers.contains(&to);
        self.delivered_count[usize::from(!up)] += 1;
        self.delivered.push(to);
        if let Ok(r) = Repr::decode(data)
            && matches!(r.msg_type, MessageType::Ack | MessageType::Rst)
            && let Some(c) = self.cons.get_mut(&(to, from, r.message_id))
        {
            c.answered = true;
        }
    }

    fn settle_one(&mut self, c: ConState, up: bool) {
        if !c.answered {
            self.lost_settled[usize::from(!up)] += 1;
            *self.lost_settled_kinds.entry(c.kind).or_default() += 1;
        }
    }

    /// Forgets exchanges and tokens older than the exchange lifetime
    /// (observations are kept), counting the unanswered CONs among them.
    pub(crate) fn prune(&mut self, now: Instant) {
        let old: Vec<_> = self
            .cons
            .iter()
            .filter(|(_, c)| c.first + EXCHANGE_LIFETIME <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in old {
            if let Some(c) = self.cons.remove(&k) {
                let up = self.servers.contains(&k.1);
                self.settle_one(c, up);
            }
        }
        self.tokens.retain(|_, (kind, _, last)| {
            kind.starts_with("observe ") || *last + EXCHANGE_LIFETIME > now
        });
    }

    /// The counters at the end of a run at `now`.
    pub(crate) fn finish(&mut self, now: Instant) -> WireCounters {
        self.prune(now);
        let con_lost_kinds = self.lost_settled_kinds.clone();
        WireCounters {
            total: self.total,
            kinds: self
                .kinds
                .iter()
                .map(|((up, kind), count)| KindCount {
                    dir: if *up { "up" } else { "down" },
                    kind: kind.clone(),
                    count: *count,
                })
                .collect(),
            con_sent: self.con_sent,
            lost_con: self.lost_settled,
            lost_con_kinds: con_lost_kinds,
            delivered: self.delivered_count,
        }
    }
}
