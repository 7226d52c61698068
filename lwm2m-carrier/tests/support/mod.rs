//! An in-test port with a virtual clock and injectable faults, a scripted
//! protocol engine, and the outer loop with an application that follows the
//! LTE_LINK_UP / LTE_LINK_DOWN events.
#![allow(dead_code)]

use core::cell::Cell;
use core::fmt;
use core::task::Poll;
use std::collections::{HashMap, VecDeque};
use std::vec::Vec;

use carrier_os::dfu::{Dfu, DfuError, ImageType, UpdateOutcome};
use carrier_os::download::{Download, DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::log::{Level, Log};
use carrier_os::modem::*;
use carrier_os::random::Random;
use carrier_os::storage::{Key, Storage, StorageError};
use carrier_os::time::{Clock, Instant};
use carrier_os::transport::{Endpoint, SocketId, Transport, TransportError};
use lwm2m_carrier::session::{DmAccount, RegisterParams, Session, SessionOutcome};
use lwm2m_carrier::{Errno, Event, Runtime};
use lwm2m_core::path::Path;
use lwm2m_objects::ObjectStore;

/// Generic mode against a bootstrap server, PSK in security tag 7.
pub fn generic_config() -> lwm2m_carrier::Config<'static> {
    lwm2m_carrier::ConfigBuilder::new()
        .carriers(lwm2m_carrier::config::CarrierSet::GENERIC)
        .server_uri("coaps://bs.example:5784")
        .server_sec_tag(7)
        .build()
}

pub const IMEI: &str = "352656100000001";
pub const GENERIC_IMSI: &str = "901700000000001";
pub const VERIZON_IMSI: &str = "311480000000001";

#[derive(Default)]
pub struct TestPort {
    pub now_ms: Cell<u64>,
    pub storage: HashMap<Key, Vec<u8>>,
    pub link: Option<bool>, // None = down, Some(_) = up
    pub imsi: String,
    pub msisdn: Option<String>,
    /// PDN activations to reject before one succeeds.
    pub pdn_rejects: u32,
    pub pdn_requests: Vec<Option<String>>,
    pub psks: HashMap<u32, Vec<u8>>,
    /// Per host: errors the next opens end with (front first).
    pub open_faults: HashMap<String, VecDeque<TransportError>>,
    pub opened: Vec<(String, Instant)>,
    pub closed: Vec<SocketId>,
    sockets: HashMap<u8, Option<TransportError>>,
    next_socket: u8,
    pub connection_id: bool,
    pub refuse_keys: bool,
    /// The file at `coap://fw.example/…`.
    pub firmware: Vec<u8>,
    pub download_at: Option<usize>,
    pub download_starts: Vec<u64>,
    /// The connection drops once when the download reaches this offset.
    pub drop_download_at: Option<usize>,
    pub dfu: Vec<u8>,
    pub dfu_image: Option<ImageType>,
    pub dfu_scheduled: bool,
    pub dfu_outcome: Option<UpdateOutcome>,
    /// What `%XOPERID` answers (`None`: the port cannot tell).
    pub operator_id: Option<u8>,
    /// The SIM refuses the ICCID read.
    pub iccid_unreadable: bool,
    /// The MSISDN read fails with this instead of "not available yet".
    pub msisdn_error: Option<ModemError>,
    /// Every datagram sent, in order.
    pub sent: Vec<Vec<u8>>,
    /// Transparent SIM files by path (smartcard bootstrap).
    pub sim_files: HashMap<Vec<u16>, Vec<u8>>,
}

impl TestPort {
    pub fn new(imsi: &str) -> Self {
        TestPort { imsi: imsi.into(), link: Some(false), ..TestPort::default() }
    }
    pub fn fault(&mut self, host: &str, e: TransportError, times: usize) {
        let q = self.open_faults.entry(host.into()).or_default();
        for _ in 0..times {
            q.push_back(e);
        }
    }
    pub fn opens_of(&self, host: &str) -> Vec<Instant> {
        self.opened.iter().filter(|(h, _)| h == host).map(|(_, t)| *t).collect()
    }
}

impl Clock for TestPort {
    fn now(&self) -> Instant {
        Instant::from_millis(self.now_ms.get())
    }
}
impl Random for TestPort {
    fn random_u32(&mut self) -> u32 {
        4
    }
}
impl Log for TestPort {
    fn log(&mut self, _: Level, _: fmt::Arguments<'_>) {}
}
impl Storage for TestPort {
    const MAX_VALUE_LEN: usize = 1024;
    fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        let Some(v) = self.storage.get(&key) else { return Ok(None) };
        let out = buf.get_mut(..v.len()).ok_or(StorageError::BufferTooSmall { len: v.len() })?;
        out.copy_from_slice(v);
        Ok(Some(v.len()))
    }
    fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError> {
        self.storage.insert(key, value.to_vec());
        Ok(())
    }
    fn delete(&mut self, key: Key) -> Result<(), StorageError> {
        self.storage.remove(&key);
        Ok(())
    }
}

fn ident(s: &str) -> IdentityString {
    IdentityString::try_from(s).unwrap()
}

impl Modem for TestPort {
    fn identity(&mut self, item: Identity) -> Result<IdentityString, ModemError> {
        match item {
            Identity::Imei => Ok(ident(IMEI)),
            Identity::Imsi => Ok(ident(&self.imsi)),
            Identity::Iccid if self.iccid_unreadable => Err(ModemError::Failure),
            Identity::Iccid => Ok(ident("8901260000000000001")),
            Identity::Msisdn => self
                .msisdn
                .as_deref()
                .map(ident)
                .ok_or(self.msisdn_error.unwrap_or(ModemError::NotAvailable)),
            Identity::FirmwareVersion => Ok(ident("mfw_nrf9161_2.0.2")),
            Identity::Manufacturer => Ok(ident("Nordic Semiconductor ASA")),
            Identity::Model => Ok(ident("nRF9161")),
            Identity::HardwareVersion => Ok(ident("nRF9161 LACA ADA")),
            _ => Err(ModemError::NotSupported),
        }
    }
    fn request_link(&mut self, req: LinkRequest) -> Result<(), ModemError> {
        self.link = match req {
            LinkRequest::Up => Some(false),
            LinkRequest::Down | LinkRequest::PowerOff => None,
        };
        Ok(())
    }
    fn sim_read(&mut self, file: &SimFile<'_>, buf: &mut [u8]) -> Result<usize, ModemError> {
        let data =
            self.sim_files.get(file.path).ok_or(ModemError::SimStatus { sw1: 0x6A, sw2: 0x82 })?;
        let SimRead::Binary { offset } = file.read else { return Err(ModemError::InvalidArgument) };
        let data =
            data.get(usize::from(offset)..).ok_or(ModemError::SimStatus { sw1: 0x6B, sw2: 0 })?;
        let n = data.len().min(buf.len()).min(256);
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
    fn operator_id(&mut self) -> Result<u8, ModemError> {
        self.operator_id.ok_or(ModemError::NotSupported)
    }
    fn link_state(&mut self) -> LinkState {
        match self.link {
            Some(roaming) => LinkState::Up { roaming },
            None => LinkState::Down,
        }
    }
    fn pdn_activate(&mut self, config: &PdnConfig<'_>) -> Result<PdnId, ModemError> {
        self.pdn_requests.push(config.apn.map(str::to_owned));
        Ok(PdnId(1))
    }
    fn pdn_state(&mut self, _: PdnId) -> PdnState {
        if self.pdn_rejects > 0 {
            self.pdn_rejects -= 1;
            PdnState::Rejected { esm_cause: 33 }
        } else {
            PdnState::Active(PdnType::Ipv4v6)
        }
    }
    fn pdn_deactivate(&mut self, _: PdnId) -> Result<(), ModemError> {
        Ok(())
    }
    fn network_info(&mut self) -> Result<NetworkInfo, ModemError> {
        Ok(NetworkInfo::default())
    }
    fn counters(&mut self) -> Result<Counters, ModemError> {
        Ok(Counters::default())
    }
    fn reset_counters(&mut self) -> Result<(), ModemError> {
        Ok(())
    }
    fn network_time(&mut self) -> Result<NetworkTime, ModemError> {
        Err(ModemError::NotAvailable)
    }
    fn psk_store(&mut self, tag: SecTag, _: Option<&[u8]>, psk: &Psk) -> Result<(), ModemError> {
        // The modem refuses key writes while the link is up (%CMNG needs CFUN=4).
        if self.link.is_some() || self.refuse_keys {
            return Err(ModemError::LinkUp);
        }
        self.psks.insert(tag.0, psk.secret_bytes().to_vec());
        Ok(())
    }
    fn psk_exists(&mut self, tag: SecTag) -> Result<bool, ModemError> {
        Ok(self.psks.contains_key(&tag.0))
    }
    fn psk_delete(&mut self, tag: SecTag) -> Result<(), ModemError> {
        // Same rule as writes.
        if self.link.is_some() || self.refuse_keys {
            return Err(ModemError::LinkUp);
        }
        self.psks.remove(&tag.0);
        Ok(())
    }
    fn restart(&mut self) -> Result<(), ModemError> {
        Ok(())
    }
}

impl Transport for TestPort {
    fn open(&mut self, endpoint: &Endpoint) -> Result<SocketId, TransportError> {
        self.opened.push((endpoint.host.as_str().to_owned(), self.now()));
        let fault = self.open_faults.get_mut(endpoint.host.as_str()).and_then(VecDeque::pop_front);
        if let Some(TransportError::NoRoute | TransportError::DnsFailed) = fault {
            return Err(fault.unwrap());
        }
        self.next_socket += 1;
        self.sockets.insert(self.next_socket, fault);
        Ok(SocketId(self.next_socket))
    }
    fn poll_open(&mut self, socket: SocketId) -> Poll<Result<(), TransportError>> {
        match self.sockets.get(&socket.0) {
            Some(Some(e)) => Poll::Ready(Err(*e)),
            Some(None) => Poll::Ready(Ok(())),
            None => Poll::Ready(Err(TransportError::InvalidSocket)),
        }
    }
    fn send(&mut self, _: SocketId, data: &[u8]) -> Poll<Result<(), TransportError>> {
        self.sent.push(data.to_vec());
        Poll::Ready(Ok(()))
    }
    fn recv(&mut self, _: SocketId, _: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        Poll::Pending
    }
    fn close(&mut self, socket: SocketId) {
        self.closed.push(socket);
        self.sockets.remove(&socket.0);
    }
    fn connection_id_in_use(&mut self, _: SocketId) -> bool {
        self.connection_id
    }
}

impl Download for TestPort {
    fn start_download(&mut self, req: &DownloadRequest<'_>) -> Result<(), DownloadError> {
        if !req.uri.starts_with("coap://fw.example/") {
            return Err(DownloadError::NoRoute);
        }
        self.download_starts.push(req.offset);
        self.download_at = Some(usize::try_from(req.offset).unwrap());
        Ok(())
    }
    fn poll_download(&mut self, buf: &mut [u8]) -> Poll<Result<DownloadProgress, DownloadError>> {
        let Some(at) = self.download_at else {
            return Poll::Ready(Err(DownloadError::NotStarted));
        };
        if self.drop_download_at == Some(at) {
            self.drop_download_at = None;
            self.download_at = None;
            return Poll::Ready(Err(DownloadError::Disconnected));
        }
        let rest = &self.firmware[at..];
        if rest.is_empty() {
            self.download_at = None;
            return Poll::Ready(Ok(DownloadProgress::Done));
        }
        // 100-byte fragments, cut at the drop point.
        let mut n = rest.len().min(100).min(buf.len());
        if let Some(d) = self.drop_download_at.filter(|d| *d > at) {
            n = n.min(d - at);
        }
        buf[..n].copy_from_slice(&rest[..n]);
        self.download_at = Some(at + n);
        Poll::Ready(Ok(DownloadProgress::Fragment { len: n }))
    }
    fn download_size(&mut self) -> Option<u64> {
        Some(self.firmware.len() as u64)
    }
    fn abort_download(&mut self) {
        self.download_at = None;
    }
}

impl Dfu for TestPort {
    const DETECT_LEN: usize = 4;
    fn dfu_detect(&self, first: &[u8]) -> Option<ImageType> {
        match first.get(..4)? {
            b"MODM" => Some(ImageType::ModemDelta),
            b"APPL" => Some(ImageType::Application),
            _ => None,
        }
    }
    fn dfu_start(&mut self, image: ImageType, _: Option<u64>) -> Result<u64, DfuError> {
        self.dfu_image = Some(image);
        Ok(self.dfu.len() as u64)
    }
    fn dfu_write(&mut self, data: &[u8]) -> Result<(), DfuError> {
        self.dfu_image.ok_or(DfuError::NotStarted)?;
        self.dfu.extend_from_slice(data);
        Ok(())
    }
    fn dfu_offset(&mut self) -> u64 {
        self.dfu.len() as u64
    }
    fn dfu_finish(&mut self, _: Option<u32>) -> Result<(), DfuError> {
        self.dfu_image.ok_or(DfuError::NotStarted).map(|_| ())
    }
    fn dfu_schedule(&mut self) -> Result<(), DfuError> {
        self.dfu_scheduled = true;
        Ok(())
    }
    fn dfu_reset(&mut self) -> Result<(), DfuError> {
        self.dfu.clear();
        self.dfu_image = None;
        Ok(())
    }
    fn dfu_take_outcome(&mut self) -> Result<Option<UpdateOutcome>, DfuError> {
        Ok(self.dfu_outcome.take())
    }
}

/// The protocol engine, scripted: each start answers with the next scripted
/// outcome of its kind (default: success).
#[derive(Debug, Default)]
pub struct ScriptedSession {
    pub bootstrap: VecDeque<SessionOutcome>,
    pub register: VecDeque<SessionOutcome>,
    pub calls: Vec<&'static str>,
    pub sent: Vec<Path>,
    pub params: Vec<RegisterParams>,
    pub sending: bool,
    /// Datagrams the engine has for the peer (e.g. notifications).
    pub tx: VecDeque<Vec<u8>>,
    /// Outcomes handed out at the next poll, as if the server had acted.
    pub pending: VecDeque<SessionOutcome>,
}

pub fn dm_account() -> DmAccount {
    DmAccount {
        uri: "coaps://dm.example:5684".try_into().unwrap(),
        ssid: 101,
        lifetime_s: 600,
        psk_identity: heapless::Vec::from_slice(IMEI.as_bytes()).unwrap(),
        psk: Psk::new(b"dm-secret"),
    }
}

impl Session for ScriptedSession {
    fn start_bootstrap(&mut self, _: Instant, _: &str) {
        self.calls.push("bootstrap");
        let o = self.bootstrap.pop_front().unwrap_or(SessionOutcome::Bootstrapped(dm_account()));
        self.pending.push_back(o);
    }
    fn start_register(
        &mut self,
        _: Instant,
        _: &str,
        params: &RegisterParams,
        _: &mut ObjectStore,
    ) {
        self.calls.push("register");
        self.params.push(*params);
        let o = self.register.pop_front().unwrap_or(SessionOutcome::Registered);
        self.pending.push_back(o);
    }
    fn start_update(&mut self, _: Instant, _: &mut ObjectStore) {
        self.calls.push("update");
        self.pending.push_back(SessionOutcome::Updated);
    }
    fn start_deregister(&mut self, _: Instant) {
        self.calls.push("deregister");
        self.pending.push_back(SessionOutcome::Deregistered);
    }
    fn start_send(&mut self, _: Instant, path: &Path, _: &mut ObjectStore) -> Result<(), Errno> {
        if self.sending {
            return Err(Errno::InProgress);
        }
        self.sending = true;
        self.sent.push(*path);
        Ok(())
    }
    fn handle_datagram(&mut self, _: Instant, _: &[u8], _: &mut ObjectStore) {}
    fn poll_transmit(&mut self, _: Instant, buf: &mut [u8]) -> Option<usize> {
        let d = self.tx.pop_front()?;
        buf[..d.len()].copy_from_slice(&d);
        Some(d.len())
    }
    fn wants_transmit(&self) -> bool {
        !self.tx.is_empty()
    }
    fn poll_outcome(&mut self, _: Instant, _: &mut ObjectStore) -> Option<SessionOutcome> {
        self.pending.pop_front()
    }
    fn deadline(&self) -> Option<Instant> {
        None
    }
}

/// The application: follows the link events unless told to ignore them.
#[derive(Debug, Default)]
pub struct App {
    pub events: Vec<(u64, Event<'static>)>,
    /// The bytes of each APP_DATA event, in order (the event keeps an empty slice).
    pub app_data: Vec<Vec<u8>>,
    pub ignore_link_down: bool,
}

impl App {
    /// An owned copy of the event: APP_DATA bytes go to `app_data`.
    pub fn keep(&mut self, e: Event<'_>) -> Event<'static> {
        match e {
            Event::AppData { path, kind, data } => {
                self.app_data.push(data.to_vec());
                Event::AppData { path, kind, data: &[] }
            }
            Event::FotaStart { uri } => {
                Event::FotaStart { uri: uri.map(|u| &*Box::leak(u.to_owned().into_boxed_str())) }
            }
            Event::LteLinkUp => Event::LteLinkUp,
            Event::LteLinkDown => Event::LteLinkDown,
            Event::LtePowerOff => Event::LtePowerOff,
            Event::Bootstrapped => Event::Bootstrapped,
            Event::Registered => Event::Registered,
            Event::Deregistered => Event::Deregistered,
            Event::Deferred { reason, timeout } => Event::Deferred { reason, timeout },
            Event::FotaSuccess => Event::FotaSuccess,
            Event::Reboot => Event::Reboot,
            Event::ModemDomain(d) => Event::ModemDomain(d),
            Event::ModemInit => Event::ModemInit,
            Event::ModemShutdown => Event::ModemShutdown,
            Event::ErrorCodeReset => Event::ErrorCodeReset,
            Event::Error { kind, value } => Event::Error { kind, value },
            other => panic!("unexpected event {other:?}"),
        }
    }

    pub fn list(&self) -> Vec<Event<'static>> {
        self.events.iter().map(|(_, e)| *e).collect()
    }
}

/// The outer loop until virtual time `until_ms`: poll, hand the events to
/// the application, jump the clock to the next deadline.
pub fn run(
    rt: &mut Runtime<'_, ScriptedSession>,
    port: &mut TestPort,
    app: &mut App,
    until_ms: u64,
) {
    loop {
        let next = rt.poll(port);
        let mut any = false;
        while let Some(e) = rt.poll_event() {
            any = true;
            let e = app.keep(e);
            app.events.push((port.now_ms.get(), e));
            match e {
                Event::LteLinkDown if !app.ignore_link_down => {
                    port.request_link(LinkRequest::Down).unwrap();
                }
                Event::LteLinkUp => port.request_link(LinkRequest::Up).unwrap(),
                _ => {}
            }
        }
        if any {
            continue;
        }
        match next {
            Some(t) if t.as_millis() <= until_ms => {
                port.now_ms.set(port.now_ms.get().max(t.as_millis()));
            }
            _ => {
                port.now_ms.set(until_ms);
                rt.poll(port);
                while let Some(e) = rt.poll_event() {
                    let e = app.keep(e);
                    app.events.push((port.now_ms.get(), e));
                }
                return;
            }
        }
    }
}
