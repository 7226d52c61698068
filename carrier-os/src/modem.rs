//! The modem: identity, LTE link, PDN, network information, counters, network
//! time, SIM file reads, security-tag credentials and SMS.
//!
//! Owns the [`Modem`] trait and its value types. Mirrors the "Modem / AT /
//! PDN", "SMS" and UICC parts of the original's OS abstraction
//! (`carrier-api.md` §5) plus what the objects Device (3), Connectivity
//! Monitoring (4), Connectivity Statistics (7) and Cellular Connectivity (10)
//! read from the modem.
//!
//! Operations that take network time (link up, PDN activation) are *started*
//! by one call and *observed* by another ([`Modem::link_state`],
//! [`Modem::pdn_state`]); nothing here blocks on the network. Queries (identity,
//! radio information) are synchronous and bounded: one AT command round trip
//! on a modem, a table lookup on a simulation.

use core::fmt;
use core::net::IpAddr;

use heapless::{String, Vec};
use thiserror::Error;

/// Capacity of an identity string (longest: a firmware version string).
pub const IDENTITY_LEN: usize = 64;

/// A bounded identity string (IMEI, ICCID, version …).
pub type IdentityString = String<IDENTITY_LEN>;

/// Which identity item to read. Each is a printable ASCII string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Identity {
    /// IMEI: exactly 15 decimal digits (`AT+CGSN`).
    Imei,
    /// IMSI of the SIM: 6 to 15 decimal digits (`AT+CIMI`). MCC+MNC at its
    /// start decide the operator.
    Imsi,
    /// ICCID of the SIM: 18 to 20 characters, decimal digits except a
    /// trailing `F` pad allowed (`AT%XICCID`).
    Iccid,
    /// MSISDN (subscriber number, `AT+CNUM`): digits with an optional leading
    /// `+`. May become readable only some time after the SIM is activated; until
    /// then the read fails with [`ModemError::NotAvailable`].
    Msisdn,
    /// Modem manufacturer (`AT+CGMI`).
    Manufacturer,
    /// Modem model (`AT+CGMM`).
    Model,
    /// Modem firmware version (`AT+CGMR`).
    FirmwareVersion,
    /// Hardware version (`AT%HWVERSION`).
    HardwareVersion,
    /// The SiP's 2DID serial number (`AT%2DID`), used as device serial number
    /// by LG U+ when configured.
    Serial2Did,
}

/// A requested LTE link state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LinkRequest {
    /// Radio on, attach (`AT+CFUN=1`).
    Up,
    /// Radio offline, SIM kept (`AT+CFUN=4`).
    Down,
    /// Radio powered off (`AT+CFUN=0`).
    PowerOff,
}

/// The LTE link as the modem reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LinkState {
    /// Radio off or offline.
    Down,
    /// Radio on, searching or attaching.
    Searching,
    /// Registered on a network.
    Up {
        /// Registered as roaming (`+CEREG: 5`).
        roaming: bool,
    },
    /// Registration denied by the network (`+CEREG: 3`); the modem keeps
    /// trying only when asked again.
    Denied,
}

impl LinkState {
    /// True if registered (home or roaming).
    pub const fn is_up(self) -> bool {
        matches!(self, LinkState::Up { .. })
    }
}

/// The radio access technology ("bearer").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Bearer {
    /// LTE-M (Cat-M1).
    LteM,
    /// NB-IoT (Cat-NB1).
    NbIot,
}

/// The PDN type (IP family) asked for when activating a PDN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PdnType {
    /// IPv4 only.
    Ipv4,
    /// IPv6 only.
    Ipv6,
    /// Dual stack.
    Ipv4v6,
    /// Non-IP data delivery.
    NonIp,
}

/// Capacity of an APN name.
pub const APN_LEN: usize = 64;

/// What to activate. `apn: None` means the default bearer (CID 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PdnConfig<'a> {
    /// The access point name, or `None` for the default PDN.
    pub apn: Option<&'a str>,
    /// Requested family.
    pub pdn_type: PdnType,
}

/// A PDN context handle (the modem's CID on an nRF91).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PdnId(pub u8);

impl PdnId {
    /// The default PDN (CID 0), active whenever the link is up.
    pub const DEFAULT: PdnId = PdnId(0);
}

/// State of a PDN context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PdnState {
    /// Not active (never activated, deactivated, or the link went down).
    Inactive,
    /// Activation requested, waiting for the network.
    Activating,
    /// Active with the family the network granted.
    Active(PdnType),
    /// The network rejected activation with this ESM cause (3GPP TS 24.301
    /// §9.9.4.4; e.g. 27 "missing or unknown APN", 33 "requested service
    /// option not subscribed").
    Rejected {
        /// ESM cause code.
        esm_cause: u8,
    },
}

/// Radio and network information (Connectivity Monitoring, object 4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NetworkInfo {
    /// Mobile country code of the serving network.
    pub mcc: u16,
    /// Mobile network code of the serving network.
    pub mnc: u16,
    /// E-UTRAN cell identity (28 bits).
    pub cell_id: u32,
    /// Tracking area code.
    pub tac: u16,
    /// RSRP in dBm, if measured.
    pub rsrp_dbm: Option<i16>,
    /// SNR in dB, if measured.
    pub snr_db: Option<i16>,
    /// LTE band, if known.
    pub band: Option<u16>,
    /// Current bearer, if attached.
    pub bearer: Option<Bearer>,
    /// IP addresses of the default PDN (v4 and/or v6).
    #[cfg_attr(feature = "defmt", defmt(Debug2Format))]
    pub ip_addresses: Vec<IpAddr, 2>,
}

/// Data counters since the last [`Modem::reset_counters`] (Connectivity
/// Statistics, object 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Bytes sent over IP/non-IP.
    pub tx_bytes: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// SMS sent.
    pub sms_tx: u32,
    /// SMS received.
    pub sms_rx: u32,
}

/// Time announced by the network (NITZ, `AT+CCLK?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NetworkTime {
    /// UTC time, seconds since 1970-01-01.
    pub unix_s: i64,
    /// Local offset from UTC in minutes (the modem gives quarter hours).
    pub utc_offset_min: i16,
}

/// Which elementary file of the SIM to read, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SimFile<'a> {
    /// File identifiers from the MF down to the EF, e.g. `[0x3F00, 0x7FFF,
    /// 0x6F??]`. Ports address the file with `AT+CRSM` (file id = last
    /// element, path = the rest).
    pub path: &'a [u16],
    /// Transparent (binary) or linear-fixed (record) read.
    pub read: SimRead,
}

/// The kind of SIM read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SimRead {
    /// READ BINARY from this byte offset.
    Binary {
        /// Byte offset into the EF.
        offset: u16,
    },
    /// READ RECORD of this 1-based record number.
    Record {
        /// Record number (1-based).
        number: u8,
    },
}

/// A modem security tag (`AT%CMNG` sec_tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SecTag(pub u32);

/// Longest PSK accepted, in bytes.
pub const PSK_LEN: usize = 64;
/// Longest PSK identity accepted, in bytes.
pub const PSK_IDENTITY_LEN: usize = 128;

/// A pre-shared key. Its `Debug` (and `defmt::Format`) print only the length:
/// keys never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Psk(Vec<u8, PSK_LEN>);

impl Psk {
    /// Wraps `key`; `None` if it is empty or longer than [`PSK_LEN`].
    pub fn new(key: &[u8]) -> Option<Self> {
        if key.is_empty() {
            return None;
        }
        Vec::from_slice(key).ok().map(Psk)
    }
    /// The key bytes. Handle with care: never log them.
    pub fn secret_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Psk(<redacted {} bytes>)", self.0.len())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Psk {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Psk(<redacted {} bytes>)", self.0.len())
    }
}

impl Drop for Psk {
    // Best effort: without `unsafe` (volatile writes) the compiler may elide
    // this, so ports that keep keys in RAM longer should use `zeroize`.
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            *b = 0;
        }
    }
}

/// Capacity of an SMS originating address.
pub const SMS_ADDRESS_LEN: usize = 24;

/// Metadata of a received SMS-DELIVER (payload in the caller's buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SmsInfo {
    /// Payload length in the caller's buffer.
    pub len: usize,
    /// Originating address.
    pub originator: String<SMS_ADDRESS_LEN>,
    /// Destination application port from the UDH, if present.
    pub app_port: Option<u16>,
}

/// What the modem could not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ModemError {
    /// The item is not available yet (MSISDN not issued, no network time
    /// received, not attached); retry later.
    #[error("not available yet")]
    NotAvailable,
    /// No SIM, or the SIM failed.
    #[error("SIM not present or failed")]
    NoSim,
    /// The operation needs the link down (credential writes) and it is up.
    #[error("refused while the LTE link is up")]
    LinkUp,
    /// The operation needs the link up and it is down.
    #[error("LTE link is down")]
    LinkDown,
    /// The port or modem does not support this operation.
    #[error("not supported")]
    NotSupported,
    /// A PDN context could not be created or configured (bad APN, no free
    /// context); activation rejections by the network show in
    /// [`PdnState::Rejected`] instead.
    #[error("PDN context could not be set up")]
    Pdn,
    /// The security tag does not exist.
    #[error("security tag not found")]
    NoSuchSecTag,
    /// An argument was out of range (too long identity, bad SIM path).
    #[error("invalid argument")]
    InvalidArgument,
    /// The caller's buffer is too short.
    #[error("buffer too small")]
    BufferTooSmall,
    /// The SIM answered a file read with an error status (SW1 SW2).
    #[error("SIM returned status {sw1:#04x} {sw2:#04x}")]
    SimStatus {
        /// Status word 1.
        sw1: u8,
        /// Status word 2.
        sw2: u8,
    },
    /// The modem returned an error or an answer the port could not parse.
    #[error("modem failure")]
    Failure,
}

/// The modem.
///
/// Calls MUST NOT block on the network. Queries complete in bounded time
/// (one AT round trip). Long operations are started here and observed with
/// [`link_state`](Modem::link_state) / [`pdn_state`](Modem::pdn_state); a
/// change of either MUST wake [`Wait::wait_until`](crate::wait::Wait).
pub trait Modem {
    /// Reads an identity item.
    ///
    /// Contract: MUST return the value described on each [`Identity`]
    /// variant, or [`ModemError::NotAvailable`] while it cannot be read yet
    /// (MSISDN before activation), [`ModemError::NoSim`] for SIM items without
    /// a SIM, [`ModemError::NotSupported`] for an item the hardware lacks.
    fn identity(&mut self, item: Identity) -> Result<IdentityString, ModemError>;

    /// Requests a link state. Returns at once.
    ///
    /// Contract: MUST NOT wait for the network; progress shows in
    /// [`link_state`](Modem::link_state). `Down` and `PowerOff` MUST take
    /// effect before this returns (the link state reads `Down` right after),
    /// and deactivate every PDN.
    fn request_link(&mut self, req: LinkRequest) -> Result<(), ModemError>;

    /// The current link state. MUST NOT block.
    fn link_state(&mut self) -> LinkState;

    /// Asks for a preferred bearer (`AT%XSYSTEMMODE`); `None` restores the
    /// application's own preference. Default: [`ModemError::NotSupported`].
    fn set_preferred_bearer(&mut self, bearer: Option<Bearer>) -> Result<(), ModemError> {
        let _ = bearer;
        Err(ModemError::NotSupported)
    }

    /// The modem's classification of the SIM's operator (`AT%XOPERID`): 0 not
    /// identified, 1 Verizon, 2–5 AT&T, 6 China Telecom, 7 SoftBank,
    /// 8 Telstra, 9 Bell Canada, 10 LG U+ (carriers.md §1.2). The runtime
    /// detects the operator from this first and falls back to the IMSI's
    /// MCC-MNC when it is 0 or unsupported.
    ///
    /// Contract: [`ModemError::NoSim`] without a SIM. Default:
    /// [`ModemError::NotSupported`].
    fn operator_id(&mut self) -> Result<u8, ModemError> {
        Err(ModemError::NotSupported)
    }

    /// Starts activation of a PDN and returns its handle.
    ///
    /// Contract: `apn: None` MUST return [`PdnId::DEFAULT`] (active whenever
    /// the link is up). Otherwise MUST return at once with a context whose
    /// [`pdn_state`](Modem::pdn_state) reads `Activating` (or already
    /// `Active`/`Rejected`); activating the same APN twice MAY return the
    /// same id. Fails with [`ModemError::LinkDown`] if the link is not up.
    fn pdn_activate(&mut self, config: &PdnConfig<'_>) -> Result<PdnId, ModemError>;

    /// State of a PDN. MUST read `Inactive` for an unknown id and for every
    /// PDN while the link is down. MUST NOT block.
    fn pdn_state(&mut self, pdn: PdnId) -> PdnState;

    /// Deactivates and frees a PDN context. Idempotent; the default PDN is
    /// left alone.
    fn pdn_deactivate(&mut self, pdn: PdnId) -> Result<(), ModemError>;

    /// Radio and network information.
    /// MUST fail with [`ModemError::LinkDown`] while the link is not up.
    fn network_info(&mut self) -> Result<NetworkInfo, ModemError>;

    /// Data counters since the last reset. MUST be monotonic between resets.
    fn counters(&mut self) -> Result<Counters, ModemError>;

    /// Resets [`counters`](Modem::counters) to zero.
    fn reset_counters(&mut self) -> Result<(), ModemError>;

    /// Time announced by the network; [`ModemError::NotAvailable`] until the
    /// network sent it.
    fn network_time(&mut self) -> Result<NetworkTime, ModemError>;

    /// Reads a SIM elementary file (smartcard bootstrap) into `buf`, returning
    /// the number of bytes read.
    ///
    /// Contract: MUST return [`ModemError::SimStatus`] with the SIM's status
    /// word when the SIM refuses (e.g. `6A 82` file not found) and
    /// [`ModemError::NoSim`] without a SIM. Default: `NotSupported`.
    fn sim_read(&mut self, file: &SimFile<'_>, buf: &mut [u8]) -> Result<usize, ModemError> {
        let _ = (file, buf);
        Err(ModemError::NotSupported)
    }

    /// Stores a PSK (and optional identity) in security tag `tag`, replacing
    /// what it held.
    ///
    /// Contract: MUST be refused with [`ModemError::LinkUp`] while the link
    /// is not [`LinkState::Down`] (the nRF91 modem refuses `%CMNG` writes
    /// while active; the runtime requests `LinkRequest::Down` first, as the
    /// original emits LTE_LINK_DOWN before writing keys). MUST NOT log the key.
    fn psk_store(
        &mut self,
        tag: SecTag,
        identity: Option<&[u8]>,
        psk: &Psk,
    ) -> Result<(), ModemError>;

    /// True if security tag `tag` holds a PSK.
    fn psk_exists(&mut self, tag: SecTag) -> Result<bool, ModemError>;

    /// Deletes the PSK and identity of `tag`; idempotent. Same link rule as
    /// [`psk_store`](Modem::psk_store).
    fn psk_delete(&mut self, tag: SecTag) -> Result<(), ModemError>;

    /// Takes the next received SMS-DELIVER, payload into `buf`.
    ///
    /// Contract: MUST return `Ok(None)` at once if none is waiting; an SMS
    /// whose payload does not fit is dropped with
    /// [`ModemError::BufferTooSmall`]. Default: never any SMS.
    fn sms_receive(&mut self, buf: &mut [u8]) -> Result<Option<SmsInfo>, ModemError> {
        let _ = buf;
        Ok(None)
    }

    /// Shuts the modem down and starts it again (applies a scheduled modem
    /// firmware delta). The link MUST read `Down` afterwards and every PDN
    /// and socket is gone.
    fn restart(&mut self) -> Result<(), ModemError>;
}
