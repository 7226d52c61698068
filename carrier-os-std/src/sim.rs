//! The deterministic simulation: a virtual clock, an in-process datagram
//! network with seeded faults, and simulated devices ([`SimPort`]) that
//! implement every `carrier-os` trait over it.
//!
//! One [`World`] holds the clock, the network (loss, duplication,
//! reordering, delay, outages), host names, server sockets ([`SimSocket`]),
//! echo services, firmware files and a trace. Many devices and servers live
//! in one world on one thread. Every random choice comes from the world's
//! seeded generator or the device's own seeded generator, and the trace
//! records every datagram (bytes in hex) and every device event, so the same
//! seed and the same driving code give a byte-identical trace.
//!
//! A device's non-volatile state ([`DeviceNvm`]: storage records, the
//! modem's security tags, the DFU area) outlives the device: a power cut
//! ([`SimPort::power_cut`], or [`SimPort::arm_power_cut_after_writes`] to cut
//! right after a chosen storage write) drops all RAM state, and
//! [`SimPort::boot`] starts again from the NVM as of its last completed write.
//!
//! DTLS is modelled, not encrypted: opening a DTLS socket checks the security
//! tag, the server's PSK (if registered with [`World::set_server_psk`]),
//! injected faults and outages, and takes two round trips; then datagrams
//! travel in clear.
//!
//! Guarantee: nothing here panics on any input from the code under test.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::task::Poll;

use carrier_os::download::{Download, DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::log::{Level, Log};
use carrier_os::modem::{LinkRequest, PdnState};
use carrier_os::random::Random;
use carrier_os::storage::{Key, Storage, StorageError};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::transport::{
    Endpoint, Family, MAX_DATAGRAM, Security, SocketId, Transport, TransportError,
};
use carrier_os::wait::{AsyncWait, Wait, Wake};

use crate::dfu::{DfuTarget, MemArea};
use crate::modem::{Faults, ModemModel};
use crate::profile::{DeviceProfile, KeyStore};
use crate::storage::{Flash, MemStorage};

/// Where non-IP datagrams of every device go (the operator's NIDD/SCEF end).
pub const NIDD_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 0);

/// Unix time at the virtual clock's zero (2026-01-01T00:00:00Z).
pub const START_UNIX_S: i64 = 1_767_225_600;

/// How long a modelled DTLS handshake waits before it times out.
pub const DTLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Network behaviour. Probabilities are in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// Probability that a datagram is lost.
    pub loss_permille: u32,
    /// Probability that a datagram is delivered twice.
    pub dup_permille: u32,
    /// Probability that a datagram is held back long enough to be overtaken.
    pub reorder_permille: u32,
    /// One-way delay range, ms (uniform).
    pub delay_ms: (u64, u64),
}

impl Default for NetConfig {
    /// A clean network with 20..=60 ms delay.
    fn default() -> Self {
        NetConfig { loss_permille: 0, dup_permille: 0, reorder_permille: 0, delay_ms: (20, 60) }
    }
}

/// The seeded generator of the simulation (xorshift64*, seeded by splitmix64).
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator for `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        SimRng(z | 1)
    }
    /// Next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// True with probability `permille`/1000.
    pub fn chance(&mut self, permille: u32) -> bool {
        self.next_u64() % 1000 < u64::from(permille)
    }
}

#[derive(Debug)]
struct Packet {
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

struct Net {
    now: Instant,
    seed: u64,
    rng: SimRng,
    cfg: NetConfig,
    seq: u64,
    in_flight: BTreeMap<(Instant, u64), Packet>,
    inboxes: BTreeMap<SocketAddr, VecDeque<(SocketAddr, Vec<u8>)>>,
    outages: Vec<(Instant, Instant)>,
    hosts: BTreeMap<String, IpAddr>,
    echo: BTreeSet<SocketAddr>,
    files: BTreeMap<String, Vec<u8>>,
    server_psks: BTreeMap<SocketAddr, (Vec<u8>, Vec<u8>)>,
    next_port: u16,
    trace: String,
    /// Whether [`Net::record`] keeps lines (off for big fleets).
    tracing: bool,
    /// Called for every datagram sent and every datagram delivered.
    tap: Option<Tap>,
}

impl core::fmt::Debug for Net {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Net")
            .field("now", &self.now)
            .field("seed", &self.seed)
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

/// A wire tap: called for every datagram sent and delivered.
type Tap = Box<dyn FnMut(&TapEvent<'_>)>;

/// What a wire tap ([`World::set_tap`]) sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapKind {
    /// A datagram was handed to the network (before loss and duplication).
    Sent,
    /// A datagram arrived in a socket's inbox (after loss, duplication,
    /// reordering and outages).
    Delivered,
}

/// One datagram as a wire tap sees it.
#[derive(Debug, Clone, Copy)]
pub struct TapEvent<'a> {
    /// Virtual time.
    pub at: Instant,
    /// Sent or delivered.
    pub kind: TapKind,
    /// Sender.
    pub from: SocketAddr,
    /// Receiver.
    pub to: SocketAddr,
    /// The datagram (plain CoAP: DTLS is modelled, not framed).
    pub data: &'a [u8],
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

impl Net {
    fn record(&mut self, line: std::fmt::Arguments<'_>) {
        if !self.tracing {
            return;
        }
        let _ = writeln!(self.trace, "{:>10} {line}", self.now.as_millis());
    }

    fn in_outage(&self, t: Instant) -> bool {
        self.outages.iter().any(|&(a, b)| t >= a && t < b)
    }

    fn tap(&mut self, kind: TapKind, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if let Some(tap) = self.tap.as_mut() {
            tap(&TapEvent { at: self.now, kind, from, to, data });
        }
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if self.tracing {
            self.record(format_args!("send {from} > {to} {}", hex(data)));
        }
        self.tap(TapKind::Sent, from, to, data);
        if self.in_outage(self.now) {
            self.record(format_args!("drop-outage {from} > {to}"));
            return;
        }
        if self.rng.chance(self.cfg.loss_permille) {
            self.record(format_args!("lost {from} > {to}"));
            return;
        }
        let copies = if self.rng.chance(self.cfg.dup_permille) { 2 } else { 1 };
        for _ in 0..copies {
            let (lo, hi) = self.cfg.delay_ms;
            let mut delay = self.rng.range(lo, hi);
            if self.rng.chance(self.cfg.reorder_permille) {
                delay += hi.saturating_mul(3);
            }
            let at = self.now + Duration::from_millis(delay);
            self.seq += 1;
            self.in_flight.insert((at, self.seq), Packet { from, to, data: data.to_vec() });
        }
        if copies == 2 {
            self.record(format_args!("dup {from} > {to}"));
        }
    }

    fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|(t, _)| *t)
    }

    fn advance_to(&mut self, t: Instant) {
        while let Some(entry) = self.in_flight.first_entry() {
            let at = entry.key().0;
            if at > t {
                break;
            }
            let p = entry.remove();
            self.now = self.now.max(at);
            if self.in_outage(at) {
                self.record(format_args!("drop-outage {} > {}", p.from, p.to));
            } else if self.echo.contains(&p.to) {
                self.record(format_args!("echo {} > {}", p.from, p.to));
                self.send(p.to, p.from, &p.data);
            } else if let Some(q) = self.inboxes.get_mut(&p.to) {
                q.push_back((p.from, p.data));
                if let Some(tap) = self.tap.as_mut()
                    && let Some((from, data)) = q.back()
                {
                    tap(&TapEvent {
                        at: self.now,
                        kind: TapKind::Delivered,
                        from: *from,
                        to: p.to,
                        data,
                    });
                }
                self.record(format_args!("deliver {} > {}", p.from, p.to));
            } else {
                self.record(format_args!("unreachable {} > {}", p.from, p.to));
            }
        }
        self.now = self.now.max(t);
    }
}

/// A shared handle to the simulated world (clock + network + services).
#[derive(Debug, Clone)]
pub struct World(Rc<RefCell<Net>>);

impl World {
    /// A world with `seed` and network behaviour `cfg`, clock at zero.
    pub fn new(seed: u64, cfg: NetConfig) -> Self {
        World(Rc::new(RefCell::new(Net {
            now: Instant::ZERO,
            seed,
            rng: SimRng::new(seed),
            cfg,
            seq: 0,
            in_flight: BTreeMap::new(),
            inboxes: BTreeMap::new(),
            outages: Vec::new(),
            hosts: BTreeMap::new(),
            echo: BTreeSet::new(),
            files: BTreeMap::new(),
            server_psks: BTreeMap::new(),
            next_port: 49152,
            trace: String::new(),
            tracing: true,
            tap: None,
        })))
    }

    /// Keeps (the default) or stops keeping the trace: a fleet of thousands
    /// of devices over simulated days would fill memory with it.
    pub fn set_tracing(&self, on: bool) {
        self.0.borrow_mut().tracing = on;
    }

    /// Calls `tap` for every datagram sent and every datagram delivered
    /// (wire counters). `tap` runs inside the world: it must not call back
    /// into it.
    pub fn set_tap(&self, tap: impl FnMut(&TapEvent<'_>) + 'static) {
        self.0.borrow_mut().tap = Some(Box::new(tap));
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.0.borrow().now
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.0.borrow().seed
    }

    /// Changes the network behaviour from now on.
    pub fn set_net_config(&self, cfg: NetConfig) {
        self.0.borrow_mut().cfg = cfg;
    }

    /// Drops every datagram sent or arriving in `[from, until)`.
    pub fn add_outage(&self, from: Instant, until: Instant) {
        self.0.borrow_mut().outages.push((from, until));
    }

    /// Makes `name` resolve to `ip`.
    pub fn add_host(&self, name: &str, ip: IpAddr) {
        self.0.borrow_mut().hosts.insert(name.into(), ip);
    }

    /// An echo service at `addr`: every datagram goes back to its sender.
    pub fn add_echo(&self, addr: SocketAddr) {
        self.0.borrow_mut().echo.insert(addr);
    }

    /// Serves `data` at `uri` for firmware downloads.
    pub fn add_file(&self, uri: &str, data: Vec<u8>) {
        self.0.borrow_mut().files.insert(uri.into(), data);
    }

    /// The server at `addr` accepts DTLS only with this identity and PSK.
    pub fn set_server_psk(&self, addr: SocketAddr, identity: &[u8], psk: &[u8]) {
        self.0.borrow_mut().server_psks.insert(addr, (identity.to_vec(), psk.to_vec()));
    }

    /// Binds a server socket at `addr`.
    pub fn bind(&self, addr: SocketAddr) -> SimSocket {
        self.0.borrow_mut().inboxes.entry(addr).or_default();
        SimSocket { world: self.clone(), addr }
    }

    /// When the next datagram arrives somewhere.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.0.borrow().next_delivery()
    }

    /// Moves the clock to `t` (never backwards), delivering what arrives
    /// until then.
    pub fn advance_to(&self, t: Instant) {
        self.0.borrow_mut().advance_to(t);
    }

    /// One step of a multi-device loop: unless a device already has
    /// something new ([`SimPort::io_ready`]), moves the clock to the earliest
    /// of `deadline`, the next datagram arrival and the devices' own next
    /// events. Returns the devices' indices that are ready afterwards.
    ///
    /// A driving loop polls every device (and server), collects their
    /// earliest deadline, calls this, and repeats.
    pub fn advance_devices<'a>(
        &self,
        devices: impl IntoIterator<Item = &'a mut SimPort>,
        deadline: Option<Instant>,
    ) -> Vec<usize> {
        let mut devices: Vec<&mut SimPort> = devices.into_iter().collect();
        let ready = |ds: &mut Vec<&mut SimPort>| -> Vec<usize> {
            ds.iter_mut().enumerate().filter_map(|(i, d)| d.io_ready().then_some(i)).collect()
        };
        let now_ready = ready(&mut devices);
        if !now_ready.is_empty() {
            return now_ready;
        }
        let own = devices.iter().filter_map(|d| d.next_internal_event()).min();
        let next = [deadline, self.next_delivery(), own].into_iter().flatten().min();
        if let Some(t) = next {
            self.advance_to(t.max(self.now()));
        }
        ready(&mut devices)
    }

    /// Adds a line to the trace.
    pub fn note(&self, line: std::fmt::Arguments<'_>) {
        self.0.borrow_mut().record(line);
    }

    /// The trace so far: one line per event, virtual ms first.
    pub fn trace(&self) -> String {
        self.0.borrow().trace.clone()
    }

    fn alloc_port(&self) -> u16 {
        let mut n = self.0.borrow_mut();
        let p = n.next_port;
        n.next_port = if p == u16::MAX { 49152 } else { p + 1 };
        p
    }
}

/// An unconnected server socket in the world.
#[derive(Debug)]
pub struct SimSocket {
    world: World,
    addr: SocketAddr,
}

impl SimSocket {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Sends a datagram to `to`.
    pub fn send_to(&self, to: SocketAddr, data: &[u8]) {
        self.world.0.borrow_mut().send(self.addr, to, data);
    }
    /// Takes the next received datagram.
    pub fn recv_from(&self) -> Option<(SocketAddr, Vec<u8>)> {
        self.world.0.borrow_mut().inboxes.get_mut(&self.addr)?.pop_front()
    }
}

impl Drop for SimSocket {
    fn drop(&mut self) {
        self.world.0.borrow_mut().inboxes.remove(&self.addr);
    }
}

/// A device's non-volatile memory: what survives a power cut.
#[derive(Debug, Clone, Default)]
pub struct DeviceNvm {
    /// Storage records.
    pub flash: Flash,
    /// The modem's security tags.
    pub keys: KeyStore,
    /// The DFU area.
    pub dfu: MemArea,
}

#[derive(Debug)]
enum SockState {
    Opening { ready_at: Instant, result: Result<(), TransportError> },
    Open,
    Failed(TransportError),
}

#[derive(Debug)]
struct SimSock {
    local: SocketAddr,
    peer: SocketAddr,
    state: SockState,
}

#[derive(Debug)]
struct SimDownload {
    data: Result<Vec<u8>, DownloadError>,
    pos: u64,
    next_at: Instant,
    drop_at: Option<u64>,
    done: bool,
}

/// Bytes a simulated download delivers per step.
pub const DOWNLOAD_CHUNK: usize = 512;

/// A simulated device: implements every `carrier-os` trait (see the module
/// doc).
#[derive(Debug)]
pub struct SimPort {
    world: World,
    id: u32,
    ip: IpAddr,
    modem: ModemModel,
    storage: MemStorage,
    dfu: DfuTarget<MemArea>,
    rng: SimRng,
    sockets: BTreeMap<u8, SimSock>,
    download: Option<SimDownload>,
    modem_changed: bool,
    cut_after_writes: Option<u64>,
    off: bool,
}

impl SimPort {
    /// Boots device `id` with `profile` from `nvm` (use `DeviceNvm::default()`
    /// for a factory-new device).
    pub fn boot(world: &World, id: u32, profile: DeviceProfile, nvm: DeviceNvm) -> Self {
        let now = world.now();
        let ip = profile
            .network
            .ipv4
            .map(IpAddr::V4)
            .or(profile.network.ipv6.map(IpAddr::V6))
            .unwrap_or(IpAddr::V4(Ipv4Addr::new(10, 255, (id >> 8) as u8, id as u8)));
        let dfu = DfuTarget::boot_mem(nvm.dfu.clone());
        world.note(format_args!("dev{id} boot"));
        let seed = world.seed() ^ (u64::from(id) << 32) ^ 0xD1CE;
        SimPort {
            world: world.clone(),
            id,
            ip,
            modem: ModemModel::new(profile, nvm.keys, now, START_UNIX_S),
            storage: MemStorage::new(nvm.flash),
            dfu,
            rng: SimRng::new(seed),
            sockets: BTreeMap::new(),
            download: None,
            modem_changed: false,
            cut_after_writes: None,
            off: false,
        }
    }

    /// The device's id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Delivers an SMS to the device's modem (wakes its wait).
    pub fn inject_sms(&mut self, originator: &str, app_port: Option<u16>, payload: &[u8]) -> bool {
        self.modem.inject_sms(originator, app_port, payload)
    }

    /// Injected faults of this device (change at any time).
    pub fn faults_mut(&mut self) -> &mut Faults {
        &mut self.modem.faults
    }

    /// Cuts the power: RAM state (sockets, link, PDNs, counters, the
    /// runtime's state) is gone; returns the NVM for [`SimPort::boot`].
    pub fn power_cut(self) -> DeviceNvm {
        self.world.note(format_args!("dev{} power-cut", self.id));
        let flash = self.storage.flash().clone();
        let dfu = self.dfu.into_area();
        for s in self.sockets.values() {
            self.world.0.borrow_mut().inboxes.remove(&s.local);
        }
        DeviceNvm { flash, keys: self.modem.into_keys(), dfu }
    }

    /// Cuts the power right after the `n`-th storage write from now
    /// completes (n ≥ 1): that write is kept, the device is off afterwards
    /// ([`SimPort::is_off`]); every later call fails or does nothing.
    pub fn arm_power_cut_after_writes(&mut self, n: u64) {
        self.cut_after_writes = Some(self.storage.writes() + n.max(1));
    }

    /// Sockets open or opening (a driver's diagnostics).
    pub fn socket_count(&self) -> usize {
        self.sockets.len()
    }

    /// The device lost power and must be rebooted.
    pub fn is_off(&self) -> bool {
        self.off
    }

    fn after_write(&mut self) {
        if self.cut_after_writes.is_some_and(|n| self.storage.writes() >= n) {
            self.off = true;
            self.cut_after_writes = None;
            self.world.note(format_args!("dev{} power-cut armed write done", self.id));
        }
    }

    fn now_(&self) -> Instant {
        self.world.now()
    }

    fn advance_modem(&mut self) {
        let now = self.now_();
        if self.modem.advance(now) {
            self.modem_changed = true;
            let state = self.modem.link_state(now);
            self.world.note(format_args!("dev{} link {state:?}", self.id));
        }
    }

    /// True if a poll of this device would give a new answer now.
    pub fn io_ready(&mut self) -> bool {
        if self.off {
            return true;
        }
        self.advance_modem();
        if std::mem::take(&mut self.modem_changed) || self.modem.has_sms() {
            return true;
        }
        let now = self.now_();
        let net = self.world.0.borrow();
        let sock_ready = self.sockets.values().any(|s| match &s.state {
            SockState::Opening { ready_at, .. } => now >= *ready_at,
            SockState::Open => {
                net.inboxes.get(&s.local).is_some_and(|q| q.iter().any(|(from, _)| *from == s.peer))
            }
            SockState::Failed(_) => false,
        });
        let dl_ready = self.download.as_ref().is_some_and(|d| !d.done && now >= d.next_at);
        sock_ready || dl_ready
    }

    /// The next time this device changes state on its own (attach, PDN,
    /// handshake end, download step).
    pub fn next_internal_event(&self) -> Option<Instant> {
        let socks = self.sockets.values().filter_map(|s| match s.state {
            SockState::Opening { ready_at, .. } => Some(ready_at),
            _ => None,
        });
        let dl = self.download.iter().filter(|d| !d.done).map(|d| d.next_at);
        socks.chain(dl).chain(self.modem.next_change()).min()
    }

    fn open_result(
        &mut self,
        endpoint: &Endpoint,
    ) -> Result<(SocketAddr, Instant, Result<(), TransportError>), TransportError> {
        let now = self.now_();
        let net_cfg = self.world.0.borrow().cfg;
        let rtt = Duration::from_millis(net_cfg.delay_ms.1.saturating_mul(2));
        let peer = if endpoint.family == Family::NonIp {
            NIDD_ADDR
        } else if let Ok(ip) = endpoint.host.parse::<IpAddr>() {
            SocketAddr::new(ip, endpoint.port)
        } else {
            match self.world.0.borrow().hosts.get(endpoint.host.as_str()) {
                Some(ip) => SocketAddr::new(*ip, endpoint.port),
                None => {
                    return Ok((NIDD_ADDR, now + rtt, Err(TransportError::DnsFailed)));
                }
            }
        };
        let family_ok = !matches!(
            (endpoint.family, peer.ip()),
            (Family::Ipv4, IpAddr::V6(_)) | (Family::Ipv6, IpAddr::V4(_))
        );
        if !family_ok {
            return Err(TransportError::InvalidEndpoint);
        }
        let Security::DtlsPsk { sec_tag, .. } = endpoint.security else {
            return Ok((peer, now, Ok(())));
        };
        let cred = self.modem.credential(sec_tag).ok_or(TransportError::NoCredentials)?.clone();
        let faults = &mut self.modem.faults;
        let net = self.world.0.borrow();
        let result = if faults.dtls_timeouts > 0 {
            faults.dtls_timeouts -= 1;
            (now + DTLS_HANDSHAKE_TIMEOUT, Err(TransportError::HandshakeTimedOut))
        } else if net.in_outage(now)
            || !net.inboxes.contains_key(&peer) && !net.echo.contains(&peer)
        {
            (now + DTLS_HANDSHAKE_TIMEOUT, Err(TransportError::HandshakeTimedOut))
        } else if faults.dtls_failures > 0 {
            faults.dtls_failures -= 1;
            (now + rtt, Err(TransportError::HandshakeFailed))
        } else {
            match net.server_psks.get(&peer) {
                Some((id, key))
                    if cred.identity.as_deref() != Some(id.as_slice())
                        || cred.psk.secret_bytes() != key.as_slice() =>
                {
                    (now + rtt, Err(TransportError::HandshakeFailed))
                }
                _ => (now + rtt + rtt, Ok(())),
            }
        };
        Ok((peer, result.0, result.1))
    }

    fn link_ok(&mut self) -> Result<(), TransportError> {
        if self.off {
            return Err(TransportError::LinkDown);
        }
        let now = self.now_();
        if !self.modem.link_state(now).is_up() {
            return Err(TransportError::LinkDown);
        }
        Ok(())
    }
}

impl Clock for SimPort {
    fn now(&self) -> Instant {
        self.world.now()
    }
}

impl Wait for SimPort {
    /// Advances the virtual clock to the earliest of `deadline`, the next
    /// datagram arrival anywhere, and this device's next own event; returns
    /// as soon as this device has something new. Without a deadline and with
    /// nothing pending anywhere, returns [`Wake::Io`] at once (a spurious
    /// wake-up; nothing could ever happen).
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
        loop {
            if self.io_ready() {
                return Wake::Io;
            }
            let now = self.now_();
            if deadline.is_some_and(|d| now >= d) {
                return Wake::Deadline;
            }
            let next = [deadline, self.world.next_delivery(), self.next_internal_event()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next else { return Wake::Io };
            self.world.advance_to(next.max(now));
        }
    }
}

impl AsyncWait for SimPort {
    /// The same as [`Wait::wait_until`]: virtual time never makes a task
    /// wait, so the future is ready on its first poll.
    fn wait_until_async(&mut self, deadline: Option<Instant>) -> impl Future<Output = Wake> {
        std::future::ready(Wait::wait_until(self, deadline))
    }
}

impl Random for SimPort {
    fn random_u32(&mut self) -> u32 {
        (self.rng.next_u64() >> 32) as u32
    }
}

impl Log for SimPort {
    fn log(&mut self, level: Level, args: std::fmt::Arguments<'_>) {
        self.world.note(format_args!("dev{} {level:?} {args}", self.id));
    }
}

impl Storage for SimPort {
    const MAX_VALUE_LEN: usize = crate::storage::MAX_VALUE_LEN;

    fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        if self.off {
            return Err(StorageError::Io);
        }
        self.storage.get(key, buf)
    }
    fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError> {
        if self.off {
            return Err(StorageError::Io);
        }
        self.storage.set(key, value)?;
        self.after_write();
        Ok(())
    }
    fn delete(&mut self, key: Key) -> Result<(), StorageError> {
        if self.off {
            return Err(StorageError::Io);
        }
        self.storage.delete(key)?;
        self.after_write();
        Ok(())
    }
}

crate::delegate::modelled_modem_and_dfu!(SimPort);

impl SimPort {
    fn model_now(&mut self) -> Instant {
        self.advance_modem();
        self.now_()
    }
    fn powered(&self) -> bool {
        !self.off
    }
    fn on_link_request(&mut self, req: LinkRequest) {
        self.world.note(format_args!("dev{} request-link {req:?}", self.id));
    }
    fn close_all_sockets(&mut self) {
        self.world.note(format_args!("dev{} modem-restart", self.id));
        let ids: Vec<u8> = self.sockets.keys().copied().collect();
        for id in ids {
            self.close(SocketId(id));
        }
    }
}

impl Transport for SimPort {
    fn open(&mut self, endpoint: &Endpoint) -> Result<SocketId, TransportError> {
        self.link_ok()?;
        let now = self.now_();
        if endpoint.family != Family::NonIp
            && !matches!(self.modem.pdn_state(now, endpoint.pdn), PdnState::Active(_))
        {
            return Err(TransportError::NoRoute);
        }
        let id =
            (0..8u8).find(|i| !self.sockets.contains_key(i)).ok_or(TransportError::NoSocket)?;
        let (peer, ready_at, result) = self.open_result(endpoint)?;
        let local = SocketAddr::new(self.ip, self.world.alloc_port());
        self.world.0.borrow_mut().inboxes.entry(local).or_default();
        self.world
            .note(format_args!("dev{} open {local} > {peer} {:?}", self.id, endpoint.security));
        self.sockets
            .insert(id, SimSock { local, peer, state: SockState::Opening { ready_at, result } });
        Ok(SocketId(id))
    }

    fn poll_open(&mut self, socket: SocketId) -> Poll<Result<(), TransportError>> {
        let now = self.now_();
        let dev = self.id;
        let Some(s) = self.sockets.get_mut(&socket.0) else {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        };
        if let SockState::Opening { ready_at, result } = s.state {
            if now < ready_at {
                return Poll::Pending;
            }
            self.world.note(format_args!("dev{dev} opened {} {result:?}", s.local));
            s.state = match result {
                Ok(()) => SockState::Open,
                Err(e) => SockState::Failed(e),
            };
        }
        match s.state {
            SockState::Failed(e) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn send(&mut self, socket: SocketId, datagram: &[u8]) -> Poll<Result<(), TransportError>> {
        let Some(s) = self.sockets.get(&socket.0) else {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        };
        let (local, peer) = (s.local, s.peer);
        match s.state {
            SockState::Open => {}
            SockState::Failed(e) => return Poll::Ready(Err(e)),
            SockState::Opening { .. } => return Poll::Pending,
        }
        if let Err(e) = self.link_ok() {
            return Poll::Ready(Err(e));
        }
        if datagram.len() > MAX_DATAGRAM {
            return Poll::Ready(Err(TransportError::TooLarge));
        }
        self.world.0.borrow_mut().send(local, peer, datagram);
        self.modem.count_tx(datagram.len());
        Poll::Ready(Ok(()))
    }

    fn recv(&mut self, socket: SocketId, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        let Some(s) = self.sockets.get(&socket.0) else {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        };
        if let SockState::Failed(e) = s.state {
            return Poll::Ready(Err(e));
        }
        let (local, peer) = (s.local, s.peer);
        if let Err(e) = self.link_ok() {
            return Poll::Ready(Err(e));
        }
        let data = {
            let mut net = self.world.0.borrow_mut();
            let Some(q) = net.inboxes.get_mut(&local) else { return Poll::Pending };
            // Datagrams from other peers are dropped, as a connected UDP socket does.
            q.retain(|(from, _)| *from == peer);
            q.pop_front()
        };
        let Some((_, data)) = data else { return Poll::Pending };
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        self.modem.count_rx(data.len());
        Poll::Ready(Ok(n))
    }

    fn close(&mut self, socket: SocketId) {
        if let Some(s) = self.sockets.remove(&socket.0) {
            self.world.0.borrow_mut().inboxes.remove(&s.local);
            self.world.note(format_args!("dev{} close {}", self.id, s.local));
        }
    }
}

impl Download for SimPort {
    fn start_download(&mut self, req: &DownloadRequest<'_>) -> Result<(), DownloadError> {
        if self.download.as_ref().is_some_and(|d| !d.done) {
            return Err(DownloadError::Busy);
        }
        if self.link_ok().is_err() {
            return Err(DownloadError::NoRoute);
        }
        let scheme = req.uri.split_once("://").map(|(s, _)| s).ok_or(DownloadError::InvalidUri)?;
        if !matches!(scheme, "http" | "https" | "coap" | "coaps") {
            return Err(DownloadError::UnsupportedScheme);
        }
        let now = self.now_();
        let data = match self.world.0.borrow().files.get(req.uri) {
            None => Err(DownloadError::Refused { status: 404 }),
            Some(d) if req.offset > d.len() as u64 => Err(DownloadError::Refused { status: 416 }),
            Some(d) => Ok(d.clone()),
        };
        let drop_at =
            self.modem.faults.download_drop_after.take().map(|n| req.offset.saturating_add(n));
        self.world.note(format_args!("dev{} download {} from {}", self.id, req.uri, req.offset));
        let rtt = Duration::from_millis(self.world.0.borrow().cfg.delay_ms.1.saturating_mul(2));
        self.download =
            Some(SimDownload { data, pos: req.offset, next_at: now + rtt, drop_at, done: false });
        Ok(())
    }

    fn poll_download(&mut self, buf: &mut [u8]) -> Poll<Result<DownloadProgress, DownloadError>> {
        let now = self.now_();
        let outage = self.world.0.borrow().in_outage(now);
        let link = self.link_ok();
        let rtt = Duration::from_millis(self.world.0.borrow().cfg.delay_ms.1.saturating_mul(2));
        let Some(d) = self.download.as_mut().filter(|d| !d.done) else {
            return Poll::Ready(Err(DownloadError::NotStarted));
        };
        if now < d.next_at {
            return Poll::Pending;
        }
        let data = match &d.data {
            Ok(data) => data,
            Err(e) => {
                d.done = true;
                return Poll::Ready(Err(*e));
            }
        };
        if outage || link.is_err() || d.drop_at.is_some_and(|at| d.pos >= at) {
            d.done = true;
            self.world.note(format_args!("dev{} download dropped at {}", self.id, d.pos));
            return Poll::Ready(Err(DownloadError::Disconnected));
        }
        let start = usize::try_from(d.pos).unwrap_or(usize::MAX);
        let Some(rest) = data.get(start..) else {
            d.done = true;
            return Poll::Ready(Err(DownloadError::Io));
        };
        if rest.is_empty() {
            d.done = true;
            return Poll::Ready(Ok(DownloadProgress::Done));
        }
        let mut n = rest.len().min(buf.len()).min(DOWNLOAD_CHUNK);
        if let Some(at) = d.drop_at {
            n = n.min(usize::try_from(at.saturating_sub(d.pos)).unwrap_or(usize::MAX).max(1));
        }
        buf[..n].copy_from_slice(&rest[..n]);
        d.pos += n as u64;
        d.next_at = now + rtt / 2;
        self.modem.count_rx(n);
        Poll::Ready(Ok(DownloadProgress::Fragment { len: n }))
    }

    fn download_size(&mut self) -> Option<u64> {
        self.download.as_ref().and_then(|d| d.data.as_ref().ok()).map(|d| d.len() as u64)
    }

    fn abort_download(&mut self) {
        self.download = None;
    }
}
