//! [`NrfPort`]: the nRF91 port's parts on one value, so that it is a
//! `carrier_os::Port` (every trait on one value, as the runtime takes
//! `&mut impl Port`).
//!
//! Owns nothing but the delegation: each trait goes to the field that
//! implements it. On a device the fields are `device::RtcClock`,
//! [`FlashStorage`](crate::storage::FlashStorage) over `device::Nvmc`,
//! [`SeededRandom`](crate::random::SeededRandom), a [`log`](crate::log)
//! sink, [`NrfModem`](crate::port::NrfModem),
//! [`NrfTransport`](crate::transport::NrfTransport) over
//! `device::DeviceSockets`, [`CoapDownload`](crate::download::CoapDownload) and
//! [`NrfDfu`](crate::dfu::NrfDfu); on the host the same struct holds the
//! fakes.
//!
//! Guarantee: adds no behaviour, so each part's contract is the port's.

use core::fmt;
use core::task::Poll;

use crate::download::PortDownload;
use carrier_os::dfu::{Dfu, DfuError, ImageType, UpdateOutcome};
use carrier_os::download::{Download, DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::log::{Level, Log};
use carrier_os::modem::{
    Bearer, Counters, Identity, IdentityString, LinkRequest, LinkState, Modem, ModemError,
    NetworkInfo, NetworkTime, PdnConfig, PdnId, PdnState, Psk, SecTag, SimFile, SmsInfo,
};
use carrier_os::random::Random;
use carrier_os::storage::{Key, Storage, StorageError};
use carrier_os::time::{Clock, Instant};
use carrier_os::transport::{Endpoint, SocketId, Transport, TransportError};
use carrier_os::wait::{Wait, Wake};

/// The port: one field per trait group.
#[derive(Debug)]
pub struct NrfPort<C, S, R, L, M, T, D, F> {
    /// `Clock` (and `Wait`).
    pub clock: C,
    /// `Storage`.
    pub storage: S,
    /// `Random`.
    pub random: R,
    /// `Log`.
    pub log: L,
    /// `Modem`.
    pub modem: M,
    /// `Transport`.
    pub transport: T,
    /// `Download`: a [`PortDownload`] that borrows `transport` and `clock`
    /// for each call (one socket table for the session and the download).
    pub download: D,
    /// `Dfu`.
    pub dfu: F,
}

impl<C: Clock, S, R, L, M, T, D, F> Clock for NrfPort<C, S, R, L, M, T, D, F> {
    fn now(&self) -> Instant {
        self.clock.now()
    }
}

/// Waits until `deadline` or the download's own deadline (a CoAP
/// retransmission), whichever comes first; waking for the download's is
/// reported as `Io`, so `Deadline` still means the caller's deadline passed.
impl<C: Wait + Clock, S, R, L, M, T, D: PortDownload<T, C>, F> Wait
    for NrfPort<C, S, R, L, M, T, D, F>
{
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
        let until = match (deadline, self.download.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match self.clock.wait_until(until) {
            Wake::Deadline if deadline.is_none_or(|d| self.clock.now() < d) => Wake::Io,
            wake => wake,
        }
    }
}

impl<C, S: Storage, R, L, M, T, D, F> Storage for NrfPort<C, S, R, L, M, T, D, F> {
    const MAX_VALUE_LEN: usize = S::MAX_VALUE_LEN;
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

impl<C, S, R: Random, L, M, T, D, F> Random for NrfPort<C, S, R, L, M, T, D, F> {
    fn random_u32(&mut self) -> u32 {
        self.random.random_u32()
    }
    fn fill_random(&mut self, buf: &mut [u8]) {
        self.random.fill_random(buf);
    }
}

impl<C, S, R, L: Log, M, T, D, F> Log for NrfPort<C, S, R, L, M, T, D, F> {
    fn log(&mut self, level: Level, args: fmt::Arguments<'_>) {
        self.log.log(level, args);
    }
}

impl<C, S, R, L, M: Modem, T, D, F> Modem for NrfPort<C, S, R, L, M, T, D, F> {
    fn identity(&mut self, item: Identity) -> Result<IdentityString, ModemError> {
        self.modem.identity(item)
    }
    fn request_link(&mut self, req: LinkRequest) -> Result<(), ModemError> {
        self.modem.request_link(req)
    }
    fn link_state(&mut self) -> LinkState {
        self.modem.link_state()
    }
    fn set_preferred_bearer(&mut self, bearer: Option<Bearer>) -> Result<(), ModemError> {
        self.modem.set_preferred_bearer(bearer)
    }
    fn pdn_activate(&mut self, config: &PdnConfig<'_>) -> Result<PdnId, ModemError> {
        self.modem.pdn_activate(config)
    }
    fn pdn_state(&mut self, pdn: PdnId) -> PdnState {
        self.modem.pdn_state(pdn)
    }
    fn pdn_deactivate(&mut self, pdn: PdnId) -> Result<(), ModemError> {
        self.modem.pdn_deactivate(pdn)
    }
    fn network_info(&mut self) -> Result<NetworkInfo, ModemError> {
        self.modem.network_info()
    }
    fn counters(&mut self) -> Result<Counters, ModemError> {
        self.modem.counters()
    }
    fn reset_counters(&mut self) -> Result<(), ModemError> {
        self.modem.reset_counters()
    }
    fn network_time(&mut self) -> Result<NetworkTime, ModemError> {
        self.modem.network_time()
    }
    fn sim_read(&mut self, file: &SimFile<'_>, buf: &mut [u8]) -> Result<usize, ModemError> {
        self.modem.sim_read(file, buf)
    }
    fn psk_store(
        &mut self,
        tag: SecTag,
        identity: Option<&[u8]>,
        psk: &Psk,
    ) -> Result<(), ModemError> {
        self.modem.psk_store(tag, identity, psk)
    }
    fn psk_exists(&mut self, tag: SecTag) -> Result<bool, ModemError> {
        self.modem.psk_exists(tag)
    }
    fn psk_delete(&mut self, tag: SecTag) -> Result<(), ModemError> {
        self.modem.psk_delete(tag)
    }
    fn sms_receive(&mut self, buf: &mut [u8]) -> Result<Option<SmsInfo>, ModemError> {
        self.modem.sms_receive(buf)
    }
    fn restart(&mut self) -> Result<(), ModemError> {
        self.modem.restart()
    }
}

impl<C, S, R, L, M, T: Transport, D, F> Transport for NrfPort<C, S, R, L, M, T, D, F> {
    fn open(&mut self, endpoint: &Endpoint) -> Result<SocketId, TransportError> {
        self.transport.open(endpoint)
    }
    fn poll_open(&mut self, socket: SocketId) -> Poll<Result<(), TransportError>> {
        self.transport.poll_open(socket)
    }
    fn send(&mut self, socket: SocketId, datagram: &[u8]) -> Poll<Result<(), TransportError>> {
        self.transport.send(socket, datagram)
    }
    fn recv(&mut self, socket: SocketId, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        self.transport.recv(socket, buf)
    }
    fn close(&mut self, socket: SocketId) {
        self.transport.close(socket);
    }
    fn connection_id_in_use(&mut self, socket: SocketId) -> bool {
        self.transport.connection_id_in_use(socket)
    }
}

impl<C: Clock, S, R, L, M, T, D: PortDownload<T, C>, F> Download
    for NrfPort<C, S, R, L, M, T, D, F>
{
    fn start_download(&mut self, req: &DownloadRequest<'_>) -> Result<(), DownloadError> {
        self.download.start(&mut self.transport, &self.clock, req)
    }
    fn poll_download(&mut self, buf: &mut [u8]) -> Poll<Result<DownloadProgress, DownloadError>> {
        self.download.poll(&mut self.transport, &self.clock, buf)
    }
    fn download_size(&mut self) -> Option<u64> {
        self.download.size()
    }
    fn abort_download(&mut self) {
        self.download.abort(&mut self.transport);
    }
}

impl<C, S, R, L, M, T, D, F: Dfu> Dfu for NrfPort<C, S, R, L, M, T, D, F> {
    const DETECT_LEN: usize = F::DETECT_LEN;
    fn dfu_detect(&self, first_bytes: &[u8]) -> Option<ImageType> {
        self.dfu.dfu_detect(first_bytes)
    }
    fn dfu_start(&mut self, image: ImageType, size: Option<u64>) -> Result<u64, DfuError> {
        self.dfu.dfu_start(image, size)
    }
    fn dfu_write(&mut self, data: &[u8]) -> Result<(), DfuError> {
        self.dfu.dfu_write(data)
    }
    fn dfu_offset(&mut self) -> u64 {
        self.dfu.dfu_offset()
    }
    fn dfu_finish(&mut self, crc32: Option<u32>) -> Result<(), DfuError> {
        self.dfu.dfu_finish(crc32)
    }
    fn dfu_schedule(&mut self) -> Result<(), DfuError> {
        self.dfu.dfu_schedule()
    }
    fn dfu_reset(&mut self) -> Result<(), DfuError> {
        self.dfu.dfu_reset()
    }
    fn dfu_take_outcome(&mut self) -> Result<Option<UpdateOutcome>, DfuError> {
        self.dfu.dfu_take_outcome()
    }
}
