//! The real mode: the desktop as a device.
//!
//! [`RealPort`] implements every `carrier-os` trait with real parts: UDP
//! over std sockets (IPv4 and IPv6), non-IP as an in-process datagram pipe
//! ([`NiddPeer`] is the network's end), storage in a directory
//! ([`DirStorage`]), a DFU target in files ([`DirArea`]), firmware download
//! over HTTP(S) (`ureq`, on a background thread, resumed with a `Range`
//! request), and the modem and SIM from a device-profile file through
//! [`ModemModel`], with the security tags in `keys.toml`.
//!
//! Every trait method returns at once: DNS lookups, socket reads and HTTP
//! transfers run on helper threads that fill queues and signal one condition
//! variable; [`Wait::wait_until`] sleeps on it until the deadline, the next
//! modelled modem change, or a signal. A "reboot" is dropping the port and
//! calling [`RealPort::open`] again on the same directory.
//!
//! DTLS-PSK (feature `dtls`, on by default) runs through `dtls-psk` on the
//! caller's thread: the helper thread only moves raw records, and every
//! transport call first feeds them to the session (see `real_dtls.rs`).
//! Without the feature, opening a DTLS socket fails with
//! [`TransportError::Unsupported`]. DTLS Connection ID is not available
//! (tinydtls lacks it): the request is ignored.
//!
//! Firmware download over `coap://` and `coaps://` runs Block2 GETs on a
//! helper thread through `lwm2m-core`'s CoAP endpoint (see
//! `coap_download.rs`), resumed at the block holding the stored offset.
//!
//! Firmware download over `https://` is the HTTP path with rustls: it trusts
//! only the CA certificates stored for the request's security tag, and is
//! refused with [`DownloadError::NoCredentials`] without them or when the
//! handshake fails (see `https.rs`).

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io::{self, Read};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::SystemTime;

use carrier_os::download::{Download, DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::log::{Level, Log};
use carrier_os::modem::{LinkRequest, PdnState};
use carrier_os::random::Random;
use carrier_os::storage::{Key, Storage, StorageError};
use carrier_os::time::{Clock, Instant};
use carrier_os::transport::{
    Endpoint, Family, MAX_DATAGRAM, Security, SocketId, Transport, TransportError,
};
use carrier_os::wait::{AsyncWait, Wait, Wake};

#[path = "real_dtls.rs"]
mod tls;

#[path = "coap_download.rs"]
mod coap;

#[path = "https.rs"]
mod https;

use self::tls::Phase;
use crate::dfu::{DfuTarget, DirArea};
use crate::modem::{Faults, ModemModel};
use crate::profile::{DeviceProfile, KeyStore, ProfileError};
use crate::sim::SimRng;
use crate::storage::DirStorage;

/// How long a helper thread blocks in one socket read before it checks
/// whether its socket was closed.
const READ_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// DTLS handshake limit: tinydtls's first five flight timeouts (2 + 4 + 8 +
/// 16 + 32 s), as `dtls-psk` defaults to.
pub const DEFAULT_DTLS_HANDSHAKE_TIMEOUT: carrier_os::time::Duration =
    carrier_os::time::Duration::from_secs(62);

/// Datagrams queued per socket before new ones are dropped (as a full UDP
/// receive buffer does).
const RX_QUEUE: usize = 64;

/// Locks, recovering the data if a helper thread panicked while holding it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The wake-up signal shared with helper threads: a generation counter
/// with a condition variable (blocking waits) and wakers (async waits).
#[derive(Debug, Default)]
struct Signal {
    generation: Mutex<u64>,
    cv: Condvar,
    wakers: Mutex<Vec<Waker>>,
    /// The async wait's deadline, served by the timer thread.
    timer: Mutex<TimerSlot>,
    timer_cv: Condvar,
}

#[derive(Debug, Default)]
struct TimerSlot {
    at: Option<std::time::Instant>,
    running: bool,
    stop: bool,
}

impl Signal {
    fn notify(&self) {
        *lock(&self.generation) += 1;
        self.cv.notify_all();
        for w in lock(&self.wakers).drain(..) {
            w.wake();
        }
    }

    fn register(&self, waker: &Waker) {
        let mut ws = lock(&self.wakers);
        if !ws.iter().any(|w| w.will_wake(waker)) {
            ws.push(waker.clone());
        }
    }
}

/// The timer thread of async waits: sleeps until the requested instant,
/// then signals (which wakes the wakers).
fn timer_thread(signal: Arc<Signal>) {
    let mut slot = lock(&signal.timer);
    loop {
        if slot.stop {
            return;
        }
        let now = std::time::Instant::now();
        slot = match slot.at {
            Some(at) if at <= now => {
                slot.at = None;
                drop(slot);
                signal.notify();
                lock(&signal.timer)
            }
            Some(at) => signal
                .timer_cv
                .wait_timeout(slot, at - now)
                .map_or_else(|e| e.into_inner().0, |(g, _)| g),
            None => signal.timer_cv.wait(slot).unwrap_or_else(std::sync::PoisonError::into_inner),
        };
    }
}

#[derive(Debug)]
enum OpenState {
    Opening,
    Open,
    Failed(TransportError),
}

#[derive(Debug)]
struct SockShared {
    state: OpenState,
    rx: VecDeque<Vec<u8>>,
}

#[derive(Debug)]
enum SockKind {
    Udp { socket: Arc<Mutex<Option<Arc<UdpSocket>>>>, stop: Arc<AtomicBool> },
    NonIp,
}

#[derive(Debug)]
struct RealSock {
    kind: SockKind,
    shared: Arc<Mutex<SockShared>>,
    /// `poll_open` has reported the end of opening (for wake-ups).
    open_seen: bool,
    /// The DTLS session over the raw socket, if secured.
    dtls: Option<tls::Session>,
}

impl RealSock {
    fn udp(&self) -> Option<Arc<UdpSocket>> {
        match &self.kind {
            SockKind::Udp { socket, .. } => lock(socket).clone(),
            SockKind::NonIp => None,
        }
    }

    /// The state and data the caller sees (after DTLS, if any).
    fn view(&self) -> (Phase, bool) {
        if let Some(d) = &self.dtls {
            return (d.phase(), d.has_data());
        }
        let sh = lock(&self.shared);
        let phase = match sh.state {
            OpenState::Opening => Phase::Opening,
            OpenState::Open => Phase::Open,
            OpenState::Failed(e) => Phase::Failed(e),
        };
        (phase, !sh.rx.is_empty())
    }

    /// Runs the DTLS session (if any) on what the helper thread received.
    fn pump(&mut self, now: Instant) {
        let udp = self.udp();
        let Some(d) = self.dtls.as_mut() else { return };
        let mut sh = lock(&self.shared);
        let failed = match sh.state {
            OpenState::Failed(e) => Some(e),
            _ => None,
        };
        d.pump(now, udp.as_deref(), failed, &mut sh.rx);
    }
}

/// The network's end of the non-IP pipe: what an operator's NIDD/SCEF would
/// see. Cloneable; usable from another thread.
#[derive(Debug, Clone)]
pub struct NiddPeer {
    to_device: Arc<Mutex<Option<Arc<Mutex<SockShared>>>>>,
    from_device: Arc<Mutex<VecDeque<Vec<u8>>>>,
    signal: Arc<Signal>,
}

impl NiddPeer {
    /// Sends a datagram to the device's open non-IP socket; dropped if none
    /// is open.
    pub fn send(&self, data: &[u8]) {
        if let Some(sh) = lock(&self.to_device).as_ref() {
            lock(sh).rx.push_back(data.to_vec());
            self.signal.notify();
        }
    }
    /// Takes the next datagram the device sent.
    pub fn recv(&self) -> Option<Vec<u8>> {
        lock(&self.from_device).pop_front()
    }
}

#[derive(Debug, Default)]
struct DlShared {
    chunks: VecDeque<Vec<u8>>,
    size: Option<u64>,
    end: Option<Result<(), DownloadError>>,
}

#[derive(Debug)]
struct HttpDownload {
    shared: Arc<Mutex<DlShared>>,
    stop: Arc<AtomicBool>,
    finished: bool,
}

/// The desktop as a device (see the module doc).
#[derive(Debug)]
pub struct RealPort {
    epoch: std::time::Instant,
    signal: Arc<Signal>,
    modem: ModemModel,
    storage: DirStorage,
    dfu: DfuTarget<DirArea>,
    rng: SimRng,
    sockets: BTreeMap<u8, RealSock>,
    download: Option<HttpDownload>,
    nidd: NiddPeer,
    modem_changed: bool,
    dtls_handshake_timeout: carrier_os::time::Duration,
}

impl RealPort {
    /// Starts the device whose state lives in `dir` (`storage/`, `dfu/`,
    /// `keys.toml`), with the modem and SIM of `profile`.
    ///
    /// # Errors
    /// The directory or key store cannot be opened.
    pub fn open(dir: &Path, profile: DeviceProfile) -> Result<Self, ProfileError> {
        let io_err = |path: PathBuf| move |source| ProfileError::Io { path, source };
        let storage = DirStorage::open(dir.join("storage")).map_err(io_err(dir.join("storage")))?;
        let area = DirArea::open(dir.join("dfu")).map_err(io_err(dir.join("dfu")))?;
        let dfu = DfuTarget::boot(area)
            .map_err(|_| ProfileError::Invalid { field: "dfu", reason: "DFU area unreadable" })?;
        let keys = KeyStore::open(dir.join("keys.toml"))?;
        let unix =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        let signal = Arc::new(Signal::default());
        Ok(RealPort {
            epoch: std::time::Instant::now(),
            modem: ModemModel::new(profile, keys, Instant::ZERO, i64::try_from(unix).unwrap_or(0)),
            storage,
            dfu,
            rng: SimRng::new(seed),
            sockets: BTreeMap::new(),
            download: None,
            nidd: NiddPeer {
                to_device: Arc::default(),
                from_device: Arc::default(),
                signal: signal.clone(),
            },
            signal,
            modem_changed: false,
            dtls_handshake_timeout: DEFAULT_DTLS_HANDSHAKE_TIMEOUT,
        })
    }

    /// Sets how long a DTLS handshake may take before `poll_open` reports
    /// [`TransportError::HandshakeTimedOut`] (default
    /// [`DEFAULT_DTLS_HANDSHAKE_TIMEOUT`]).
    pub fn set_dtls_handshake_timeout(&mut self, timeout: carrier_os::time::Duration) {
        self.dtls_handshake_timeout = timeout;
    }

    /// The network's end of the non-IP pipe.
    pub fn nidd_peer(&self) -> NiddPeer {
        self.nidd.clone()
    }

    /// Delivers an SMS to the device's modem (wakes its wait).
    pub fn inject_sms(&mut self, originator: &str, app_port: Option<u16>, payload: &[u8]) -> bool {
        self.modem.inject_sms(originator, app_port, payload)
    }

    /// Injected faults (link denial, PDN rejection, MSISDN delay, download drop).
    pub fn faults_mut(&mut self) -> &mut Faults {
        &mut self.modem.faults
    }

    /// Test hook: the next storage write is cut at `point` (see
    /// [`DirStorage::arm_power_cut`]).
    pub fn arm_storage_power_cut(&mut self, point: crate::storage::CutPoint) {
        self.storage.arm_power_cut(point);
    }

    fn now_(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    fn io_ready(&mut self) -> bool {
        let now = self.now_();
        if self.modem.advance(now) {
            self.modem_changed = true;
        }
        if std::mem::take(&mut self.modem_changed) || self.modem.has_sms() {
            return true;
        }
        for s in self.sockets.values_mut() {
            s.pump(now);
        }
        let sock = self.sockets.values().any(|s| {
            let (phase, data) = s.view();
            data || (!s.open_seen && phase != Phase::Opening)
        });
        let dl = self.download.as_ref().is_some_and(|d| {
            let sh = lock(&d.shared);
            !d.finished && (!sh.chunks.is_empty() || sh.end.is_some())
        });
        sock || dl
    }

    fn link_ok(&mut self) -> Result<(), TransportError> {
        let now = self.now_();
        if self.modem.link_state(now).is_up() { Ok(()) } else { Err(TransportError::LinkDown) }
    }
}

impl Clock for RealPort {
    fn now(&self) -> Instant {
        self.now_()
    }
}

impl Wait for RealPort {
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
        loop {
            let generation = *lock(&self.signal.generation);
            if self.io_ready() {
                return Wake::Io;
            }
            let now = self.now_();
            if deadline.is_some_and(|d| now >= d) {
                return Wake::Deadline;
            }
            let next = [deadline, self.next_own_deadline()].into_iter().flatten().min();
            let guard = lock(&self.signal.generation);
            if *guard != generation {
                continue;
            }
            let timeout =
                next.map(|t| std::time::Duration::from_millis((t - now).as_millis().max(1)));
            // A poisoned lock only means a helper thread panicked; the
            // counter is still meaningful, so the result is not needed.
            match timeout {
                Some(t) => drop(self.signal.cv.wait_timeout(guard, t)),
                None => drop(self.signal.cv.wait(guard)),
            }
        }
    }
}

impl RealPort {
    /// The earliest instant the port itself has work (modem model, DTLS timers).
    fn next_own_deadline(&self) -> Option<Instant> {
        let dtls = self.sockets.values().filter_map(|s| s.dtls.as_ref()?.next_timeout()).min();
        [self.modem.next_change(), dtls].into_iter().flatten().min()
    }

    /// Asks the timer thread (started on first use) to signal at `t`.
    fn arm_timer(&mut self, t: Instant) {
        let at = self.epoch + std::time::Duration::from_millis(t.as_millis());
        let mut slot = lock(&self.signal.timer);
        if slot.at.is_none_or(|cur| at < cur) {
            slot.at = Some(at);
        }
        if !slot.running {
            slot.running = true;
            let signal = self.signal.clone();
            if std::thread::Builder::new()
                .name("wait-timer".into())
                .spawn(move || timer_thread(signal))
                .is_err()
            {
                slot.running = false;
            }
        }
        drop(slot);
        self.signal.timer_cv.notify_all();
    }
}

impl AsyncWait for RealPort {
    /// Executor-agnostic: helper threads wake the task's waker; a deadline
    /// is served by one timer thread the port starts on first use.
    fn wait_until_async(&mut self, deadline: Option<Instant>) -> impl Future<Output = Wake> {
        std::future::poll_fn(move |cx| {
            // Register first: an event between the check and the return
            // then still wakes us.
            self.signal.register(cx.waker());
            if self.io_ready() {
                return Poll::Ready(Wake::Io);
            }
            if deadline.is_some_and(|d| self.now_() >= d) {
                return Poll::Ready(Wake::Deadline);
            }
            if let Some(t) = [deadline, self.next_own_deadline()].into_iter().flatten().min() {
                self.arm_timer(t);
            }
            Poll::Pending
        })
    }
}

impl Random for RealPort {
    fn random_u32(&mut self) -> u32 {
        (self.rng.next_u64() >> 32) as u32
    }
}

impl Log for RealPort {
    fn log(&mut self, level: Level, args: std::fmt::Arguments<'_>) {
        let level = match level {
            Level::Error => log::Level::Error,
            Level::Warn => log::Level::Warn,
            Level::Info => log::Level::Info,
            Level::Debug => log::Level::Debug,
            Level::Trace => log::Level::Trace,
        };
        log::log!(target: "lwm2m_os", level, "{args}");
    }
}

impl Storage for RealPort {
    const MAX_VALUE_LEN: usize = crate::storage::MAX_VALUE_LEN;
    fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        self.storage.get(key, buf)
    }
    fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError> {
        self.storage.set(key, value)
    }
    fn delete(&mut self, key: Key) -> Result<(), StorageError> {
        self.storage.delete(key)
    }
}

crate::delegate::modelled_modem_and_dfu!(RealPort);

impl RealPort {
    fn model_now(&mut self) -> Instant {
        self.now_()
    }
    fn powered(&self) -> bool {
        true
    }
    fn on_link_request(&mut self, req: LinkRequest) {
        log::debug!(target: "lwm2m_os", "link request {req:?}");
    }
    fn close_all_sockets(&mut self) {
        let ids: Vec<u8> = self.sockets.keys().copied().collect();
        for id in ids {
            self.close(SocketId(id));
        }
    }
}

fn map_io(e: &io::Error) -> TransportError {
    match e.kind() {
        io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::AddrNotAvailable => TransportError::NoRoute,
        io::ErrorKind::ConnectionRefused => TransportError::Closed,
        _ => TransportError::Io,
    }
}

/// The helper thread of one UDP socket: resolve, bind, connect, then read
/// until stopped.
fn udp_thread(
    host: String,
    port: u16,
    family: Family,
    shared: Arc<Mutex<SockShared>>,
    slot: Arc<Mutex<Option<Arc<UdpSocket>>>>,
    stop: Arc<AtomicBool>,
    signal: Arc<Signal>,
) {
    let fail = |e: TransportError| {
        lock(&shared).state = OpenState::Failed(e);
        signal.notify();
    };
    let addrs: Vec<SocketAddr> = match (host.as_str(), port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(_) => return fail(TransportError::DnsFailed),
    };
    let pick = |v6: bool| addrs.iter().find(|a| a.is_ipv6() == v6).copied();
    let addr = match family {
        Family::Ipv4 => pick(false),
        Family::Ipv6 => pick(true),
        _ => pick(true).or(pick(false)),
    };
    let Some(addr) = addr else { return fail(TransportError::DnsFailed) };
    let bind: SocketAddr =
        if addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse().unwrap_or(addr);
    let sock = match UdpSocket::bind(bind).and_then(|s| s.connect(addr).map(|()| s)) {
        Ok(s) => s,
        Err(e) => return fail(map_io(&e)),
    };
    if sock.set_read_timeout(Some(READ_POLL)).is_err() {
        return fail(TransportError::Io);
    }
    let sock = Arc::new(sock);
    *lock(&slot) = Some(sock.clone());
    lock(&shared).state = OpenState::Open;
    signal.notify();
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        // Timeouts (READ_POLL) let us check `stop`; ICMP errors from
        // earlier sends are not fatal for a datagram socket: both are ignored.
        if let Ok(n) = sock.recv(&mut buf) {
            let mut sh = lock(&shared);
            if sh.rx.len() < RX_QUEUE {
                sh.rx.push_back(buf.get(..n).unwrap_or_default().to_vec());
            }
            drop(sh);
            signal.notify();
        }
    }
}

impl Transport for RealPort {
    fn open(&mut self, endpoint: &Endpoint) -> Result<SocketId, TransportError> {
        self.link_ok()?;
        let id =
            (0..16u8).find(|i| !self.sockets.contains_key(i)).ok_or(TransportError::NoSocket)?;
        let dtls = match endpoint.security {
            Security::None => None,
            Security::DtlsPsk { sec_tag, .. } => {
                let cred = self.modem.credential(sec_tag).ok_or(TransportError::NoCredentials)?;
                Some(tls::Session::new(cred, self.dtls_handshake_timeout)?)
            }
        };
        let now = self.now_();
        if endpoint.family == Family::NonIp {
            if dtls.is_some() {
                return Err(TransportError::Unsupported);
            }
            let shared =
                Arc::new(Mutex::new(SockShared { state: OpenState::Open, rx: VecDeque::new() }));
            let mut slot = lock(&self.nidd.to_device);
            if slot.is_some() {
                return Err(TransportError::NoSocket);
            }
            *slot = Some(shared.clone());
            drop(slot);
            self.sockets.insert(
                id,
                RealSock { kind: SockKind::NonIp, shared, open_seen: false, dtls: None },
            );
            return Ok(SocketId(id));
        }
        if !matches!(self.modem.pdn_state(now, endpoint.pdn), PdnState::Active(_)) {
            return Err(TransportError::NoRoute);
        }
        let shared =
            Arc::new(Mutex::new(SockShared { state: OpenState::Opening, rx: VecDeque::new() }));
        let slot = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let (host, port, family) =
            (endpoint.host.as_str().to_owned(), endpoint.port, endpoint.family);
        let (sh, sl, st, sig) = (shared.clone(), slot.clone(), stop.clone(), self.signal.clone());
        std::thread::Builder::new()
            .name(format!("udp-{id}"))
            .spawn(move || udp_thread(host, port, family, sh, sl, st, sig))
            .map_err(|_| TransportError::NoSocket)?;
        self.sockets.insert(
            id,
            RealSock { kind: SockKind::Udp { socket: slot, stop }, shared, open_seen: false, dtls },
        );
        Ok(SocketId(id))
    }

    fn poll_open(&mut self, socket: SocketId) -> Poll<Result<(), TransportError>> {
        let now = self.now_();
        let Some(s) = self.sockets.get_mut(&socket.0) else {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        };
        s.pump(now);
        let r = match s.view().0 {
            Phase::Opening => return Poll::Pending,
            Phase::Open => Ok(()),
            Phase::Failed(e) => Err(e),
        };
        s.open_seen = true;
        Poll::Ready(r)
    }

    fn send(&mut self, socket: SocketId, datagram: &[u8]) -> Poll<Result<(), TransportError>> {
        if !self.sockets.contains_key(&socket.0) {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        }
        if let Err(e) = self.link_ok() {
            return Poll::Ready(Err(e));
        }
        if datagram.len() > MAX_DATAGRAM {
            return Poll::Ready(Err(TransportError::TooLarge));
        }
        let now = self.now_();
        let Some(s) = self.sockets.get_mut(&socket.0) else {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        };
        s.pump(now);
        match s.view().0 {
            Phase::Opening => return Poll::Pending,
            Phase::Failed(e) => return Poll::Ready(Err(e)),
            Phase::Open => {}
        }
        let udp = s.udp();
        let result = match (&s.kind, s.dtls.as_mut(), udp) {
            (_, Some(d), Some(udp)) => d.send(now, &udp, datagram),
            (_, Some(_), None) => return Poll::Pending,
            (SockKind::NonIp, None, _) => {
                lock(&self.nidd.from_device).push_back(datagram.to_vec());
                Ok(())
            }
            (SockKind::Udp { .. }, None, sock) => {
                let Some(sock) = sock else { return Poll::Pending };
                match sock.send(datagram) {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                    // An ICMP "port unreachable" from an earlier datagram
                    // surfaces here on Linux; the datagram itself was not sent.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        sock.send(datagram).map(|_| ()).map_err(|e| map_io(&e))
                    }
                    Err(e) => Err(map_io(&e)),
                }
            }
        };
        if result.is_ok() {
            self.modem.count_tx(datagram.len());
        }
        Poll::Ready(result)
    }

    fn recv(&mut self, socket: SocketId, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        if !self.sockets.contains_key(&socket.0) {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        }
        if let Err(e) = self.link_ok() {
            return Poll::Ready(Err(e));
        }
        let now = self.now_();
        let Some(s) = self.sockets.get_mut(&socket.0) else {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        };
        s.pump(now);
        if let Phase::Failed(e) = s.view().0 {
            return Poll::Ready(Err(e));
        }
        let d = match s.dtls.as_mut() {
            Some(d) => d.pop(),
            None => lock(&s.shared).rx.pop_front(),
        };
        let Some(d) = d else { return Poll::Pending };
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        self.modem.count_rx(d.len());
        Poll::Ready(Ok(n))
    }

    fn close(&mut self, socket: SocketId) {
        let now = self.now_();
        let Some(mut s) = self.sockets.remove(&socket.0) else { return };
        let udp = s.udp();
        if let Some(d) = s.dtls.as_mut() {
            d.close(now, udp.as_deref());
        }
        match s.kind {
            SockKind::Udp { stop, .. } => stop.store(true, Ordering::Relaxed),
            SockKind::NonIp => *lock(&self.nidd.to_device) = None,
        }
    }
}

impl Drop for RealPort {
    fn drop(&mut self) {
        lock(&self.signal.timer).stop = true;
        self.signal.timer_cv.notify_all();
        let ids: Vec<u8> = self.sockets.keys().copied().collect();
        for id in ids {
            self.close(SocketId(id));
        }
        self.abort_download();
    }
}

/// Parses `bytes <start>-<end>/<total>` into `(start, total)`.
fn content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

fn http_thread(
    uri: String,
    tls: Option<ureq::tls::TlsConfig>,
    offset: u64,
    shared: Arc<Mutex<DlShared>>,
    stop: Arc<AtomicBool>,
    drop_after: Option<u64>,
    signal: Arc<Signal>,
) {
    let end = |r: Result<(), DownloadError>| {
        lock(&shared).end = Some(r);
        signal.notify();
    };
    let mut config = ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(10)))
        .timeout_recv_response(Some(std::time::Duration::from_secs(30)))
        .timeout_recv_body(Some(std::time::Duration::from_secs(30)))
        .http_status_as_error(false);
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    let agent = config.build().new_agent();
    let mut req = agent.get(&uri);
    if offset > 0 {
        req = req.header("Range", &format!("bytes={offset}-"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(e) if https::is_handshake_failure(&e) => return end(Err(DownloadError::NoCredentials)),
        Err(ureq::Error::HostNotFound | ureq::Error::ConnectionFailed) => {
            return end(Err(DownloadError::NoRoute));
        }
        Err(ureq::Error::Timeout(_)) => return end(Err(DownloadError::TimedOut)),
        Err(ureq::Error::BadUri(_) | ureq::Error::Http(_)) => {
            return end(Err(DownloadError::InvalidUri));
        }
        Err(ureq::Error::Io(e)) => return end(Err(map_dl_io(&e))),
        Err(_) => return end(Err(DownloadError::Io)),
    };
    let status = resp.status().as_u16();
    let header =
        |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut skip = 0u64;
    let size = match status {
        206 => match header("content-range").as_deref().and_then(content_range) {
            Some((start, total)) if start == offset => total,
            _ => return end(Err(DownloadError::Refused { status })),
        },
        // The server ignored the Range: skip what we already have.
        200 => {
            skip = offset;
            header("content-length").and_then(|l| l.parse().ok())
        }
        _ => return end(Err(DownloadError::Refused { status })),
    };
    lock(&shared).size = size;
    let mut reader = resp.into_body().into_with_config().limit(64 * 1024 * 1024).reader();
    let mut delivered = 0u64;
    let mut buf = vec![0u8; 1024];
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match reader.read(&mut buf) {
            Ok(0) => return end(Ok(())),
            Ok(n) => {
                let mut chunk = buf.get(..n).unwrap_or_default();
                let drop_now = skip == 0 && drop_after.is_some_and(|d| delivered + n as u64 >= d);
                if skip > 0 {
                    let s = usize::try_from(skip.min(n as u64)).unwrap_or(n);
                    chunk = chunk.get(s..).unwrap_or_default();
                    skip -= s as u64;
                }
                if drop_now {
                    let keep = usize::try_from(drop_after.unwrap_or(0).saturating_sub(delivered))
                        .unwrap_or(0);
                    chunk = chunk.get(..keep.min(chunk.len())).unwrap_or_default();
                }
                if !chunk.is_empty() {
                    delivered += chunk.len() as u64;
                    lock(&shared).chunks.push_back(chunk.to_vec());
                    signal.notify();
                }
                if drop_now {
                    return end(Err(DownloadError::Disconnected));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return end(Err(map_dl_io(&e))),
        }
    }
}

fn map_dl_io(e: &io::Error) -> DownloadError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => DownloadError::TimedOut,
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable => DownloadError::NoRoute,
        _ => DownloadError::Disconnected,
    }
}

impl Download for RealPort {
    fn start_download(&mut self, req: &DownloadRequest<'_>) -> Result<(), DownloadError> {
        if self.download.as_ref().is_some_and(|d| !d.finished) {
            return Err(DownloadError::Busy);
        }
        if req.uri.len() > 255 {
            return Err(DownloadError::UriTooLong);
        }
        let (scheme, _) = req.uri.split_once("://").ok_or(DownloadError::InvalidUri)?;
        let secure_http = scheme.eq_ignore_ascii_case("https");
        let coap = if secure_http || scheme.eq_ignore_ascii_case("http") {
            None
        } else {
            Some(coap::Target::parse(req.uri)?)
        };
        let tls = if secure_http {
            let tag = req.sec_tag.ok_or(DownloadError::NoCredentials)?;
            Some(https::tls_config(self.modem.ca_pem(tag).ok_or(DownloadError::NoCredentials)?)?)
        } else {
            None
        };
        let credential = match &coap {
            Some(t) if t.secure => {
                if !cfg!(feature = "dtls") {
                    return Err(DownloadError::UnsupportedScheme);
                }
                let tag = req.sec_tag.ok_or(DownloadError::NoCredentials)?;
                let cred = self.modem.credential(tag).filter(|c| c.identity.is_some());
                Some(cred.ok_or(DownloadError::NoCredentials)?.clone())
            }
            _ => None,
        };
        if self.link_ok().is_err() {
            return Err(DownloadError::NoRoute);
        }
        self.abort_download();
        let shared = Arc::new(Mutex::new(DlShared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (uri, offset) = (req.uri.to_owned(), req.offset);
        let drop_after = self.modem.faults.download_drop_after.take();
        let (sh, st, sig) = (shared.clone(), stop.clone(), self.signal.clone());
        let spawned = match coap {
            None => std::thread::Builder::new()
                .name("http-download".into())
                .spawn(move || http_thread(uri, tls, offset, sh, st, drop_after, sig)),
            Some(target) => {
                let job = coap::Job {
                    target,
                    offset,
                    credential,
                    handshake_timeout: self.dtls_handshake_timeout,
                    drop_after,
                    seed: self.random_u32(),
                    shared: sh,
                    stop: st,
                    signal: sig,
                };
                std::thread::Builder::new()
                    .name("coap-download".into())
                    .spawn(move || coap::run(&job))
            }
        };
        spawned.map_err(|_| DownloadError::Io)?;
        self.download = Some(HttpDownload { shared, stop, finished: false });
        Ok(())
    }

    fn poll_download(&mut self, buf: &mut [u8]) -> Poll<Result<DownloadProgress, DownloadError>> {
        let Some(d) = self.download.as_mut().filter(|d| !d.finished) else {
            return Poll::Ready(Err(DownloadError::NotStarted));
        };
        let mut sh = lock(&d.shared);
        if let Some(mut chunk) = sh.chunks.pop_front() {
            if buf.is_empty() {
                sh.chunks.push_front(chunk);
                return Poll::Pending;
            }
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            if n < chunk.len() {
                sh.chunks.push_front(chunk.split_off(n));
            }
            drop(sh);
            self.modem.count_rx(n);
            return Poll::Ready(Ok(DownloadProgress::Fragment { len: n }));
        }
        match sh.end {
            None => Poll::Pending,
            Some(r) => {
                drop(sh);
                d.finished = true;
                Poll::Ready(r.map(|()| DownloadProgress::Done))
            }
        }
    }

    fn download_size(&mut self) -> Option<u64> {
        self.download.as_ref().and_then(|d| lock(&d.shared).size)
    }

    fn abort_download(&mut self) {
        if let Some(d) = self.download.take() {
            d.stop.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_is_parsed_or_refused() {
        assert_eq!(content_range("bytes 100-199/1000"), Some((100, Some(1000))));
        assert_eq!(content_range("bytes 100-199/*"), Some((100, None)));
        assert_eq!(content_range("items 1-2/3"), None);
        assert_eq!(content_range("bytes x-1/2"), None);
    }
}
