//! `carrier_os::Modem` for the nRF91, over [`AtModem`].
//!
//! Owns the mapping from the port contract (`carrier-os` `modem` module) to
//! AT commands: link requests are `+CFUN`, link state follows `+CEREG`
//! notifications (`AT+CEREG=5`, enabled by [`NrfModem::init`]), PDNs are
//! `%XNEWCID` + `+CGDCONT` + `+CGACT`, network information is `%XMONITOR`
//! plus `+CGPADDR`, counters are `%XCONNSTAT`, keys are `%CMNG` and are
//! refused while `+CFUN?` shows the modem active.
//!
//! Guarantee: nothing here panics on modem output; every failure maps to a
//! `ModemError`. Nothing blocks on the network: each call is a bounded
//! number of AT round trips.

use carrier_os::modem::{
    Bearer, Counters, Identity, IdentityString, LinkRequest, LinkState, Modem, ModemError,
    NetworkInfo, NetworkTime, PdnConfig, PdnId, PdnState, PdnType, Psk, SecTag, SimFile, SimRead,
    SmsInfo,
};
use core::fmt::Write;
use core::net::IpAddr;
use heapless::{Deque, String, Vec};

use crate::at::types::{
    self, AccessTechnology, CredentialType, FunctionalMode, RegistrationStatus,
};
use crate::at::{CeregReporting, Cme, PdnEvent, Urc, sms};
use crate::channel::AtChannel;
use crate::modem::{AtError, AtModem, CredentialError};

/// PDN contexts the port tracks besides the default one.
pub const MAX_PDNS: usize = 4;

/// Received SMS kept until [`Modem::sms_receive`] takes them.
pub const SMS_QUEUE: usize = 2;

/// Longest SMS PDU kept: SMSC (12) + SMS-DELIVER (164) octets, in hex.
const SMS_HEX_LEN: usize = 2 * (12 + 164);

/// The nRF91 modem as a `carrier_os::Modem`.
#[derive(Debug)]
pub struct NrfModem<C> {
    at: AtModem<C>,
    link: LinkState,
    default_type: PdnType,
    pdns: Vec<(u8, PdnState), MAX_PDNS>,
    sms: Deque<String<SMS_HEX_LEN>, SMS_QUEUE>,
}

fn map_at(e: AtError) -> ModemError {
    match e {
        AtError::Rejected(_) if e.cme() == Some(Cme::SimNotInserted) => ModemError::NoSim,
        AtError::SimStatus { sw1, sw2 } => ModemError::SimStatus { sw1, sw2 },
        AtError::Command(_) => ModemError::InvalidArgument,
        _ => ModemError::Failure,
    }
}

fn map_credential(e: CredentialError) -> ModemError {
    match e {
        CredentialError::LinkActive => ModemError::LinkUp,
        CredentialError::TooLong => ModemError::InvalidArgument,
        CredentialError::NotFound => ModemError::NoSuchSecTag,
        CredentialError::MemoryFull | CredentialError::At(_) => ModemError::Failure,
    }
}

fn to_identity<const N: usize>(s: &String<N>) -> Result<IdentityString, ModemError> {
    IdentityString::try_from(s.as_str()).map_err(|_| ModemError::Failure)
}

fn at_pdn_type(t: PdnType) -> types::PdnType {
    match t {
        PdnType::Ipv4 => types::PdnType::Ipv4,
        PdnType::Ipv6 => types::PdnType::Ipv6,
        PdnType::Ipv4v6 => types::PdnType::Ipv4v6,
        PdnType::NonIp => types::PdnType::NonIp,
    }
}

fn os_pdn_type(t: types::PdnType) -> PdnType {
    match t {
        types::PdnType::Ipv4 => PdnType::Ipv4,
        types::PdnType::Ipv6 => PdnType::Ipv6,
        types::PdnType::Ipv4v6 => PdnType::Ipv4v6,
        types::PdnType::NonIp => PdnType::NonIp,
    }
}

impl<C: AtChannel> NrfModem<C> {
    /// Wraps an AT modem. Call [`NrfModem::init`] once before use.
    pub fn new(at: AtModem<C>) -> Self {
        Self {
            at,
            link: LinkState::Down,
            default_type: PdnType::Ipv4v6,
            pdns: Vec::new(),
            sms: Deque::new(),
        }
    }

    /// Enables `+CEREG` notifications (level 5) and connection statistics.
    ///
    /// # Errors
    /// `ModemError::Failure` if the modem refuses.
    pub fn init(&mut self) -> Result<(), ModemError> {
        self.at.set_registration_reporting(CeregReporting::LocationCausePsm).map_err(map_at)?;
        self.at.set_conn_stats(true).map_err(map_at)
    }

    /// The AT modem underneath (for operations the trait does not cover).
    pub fn at(&mut self) -> &mut AtModem<C> {
        &mut self.at
    }

    fn set_down(&mut self) {
        self.link = LinkState::Down;
        self.pdns.clear();
    }

    /// Applies every pending notification to the cached link and PDN state.
    fn drain_notifications(&mut self) {
        let mut buf = [0u8; 512];
        loop {
            let Some(bytes) = self.at.poll_notification(&mut buf) else { return };
            let Ok(text) = core::str::from_utf8(bytes) else { continue };
            match Urc::parse(text) {
                Ok(Urc::Registration(r)) => self.on_registration(r.status),
                Ok(Urc::Pdn(PdnEvent::Deactivated(cid))) => {
                    if let Some(entry) = self.pdns.iter_mut().find(|(c, _)| *c == cid) {
                        entry.1 = PdnState::Inactive;
                    }
                }
                Ok(Urc::Pdn(PdnEvent::Detached)) => self.set_down(),
                Ok(Urc::Sms { pdu_hex, .. }) => {
                    // A full queue or an oversized PDU drops the SMS, as
                    // the modem does when nobody reads it.
                    if let Ok(pdu) = String::try_from(pdu_hex) {
                        let _ = self.sms.push_back(pdu);
                    }
                }
                _ => {}
            }
        }
    }

    fn on_registration(&mut self, status: RegistrationStatus) {
        if matches!(self.link, LinkState::Down) {
            // A late notification after a Down request changes nothing.
            return;
        }
        let was_up = self.link.is_up();
        self.link = match status {
            RegistrationStatus::Home => LinkState::Up { roaming: false },
            RegistrationStatus::Roaming => LinkState::Up { roaming: true },
            RegistrationStatus::Denied => LinkState::Denied,
            _ => LinkState::Searching,
        };
        if !self.link.is_up() {
            for entry in self.pdns.iter_mut() {
                entry.1 = PdnState::Inactive;
            }
        } else if !was_up {
            // The family the network granted the default bearer.
            if let Ok(Some(types::PdnContext { pdn_type: Some(t), .. })) = self.at.pdn_context(0) {
                self.default_type = os_pdn_type(t);
            }
        }
    }
}

impl<C: AtChannel> Modem for NrfModem<C> {
    fn identity(&mut self, item: Identity) -> Result<IdentityString, ModemError> {
        let at = &mut self.at;
        match item {
            Identity::Imei => to_identity(&at.imei().map_err(map_at)?),
            Identity::Imsi => to_identity(&at.imsi().map_err(map_at)?),
            Identity::Iccid => to_identity(&at.iccid().map_err(map_at)?),
            Identity::Msisdn => match at.msisdn().map_err(map_at)? {
                Some(m) => to_identity(&m),
                None => Err(ModemError::NotAvailable),
            },
            Identity::Manufacturer => to_identity(&at.manufacturer().map_err(map_at)?),
            Identity::Model => to_identity(&at.model().map_err(map_at)?),
            Identity::FirmwareVersion => to_identity(&at.firmware_version().map_err(map_at)?),
            Identity::HardwareVersion => to_identity(&at.hardware_version().map_err(map_at)?),
            Identity::Serial2Did => match at.two_did().map_err(map_at)? {
                Some(s) => to_identity(&s),
                None => Err(ModemError::NotSupported),
            },
            _ => Err(ModemError::NotSupported),
        }
    }

    fn request_link(&mut self, req: LinkRequest) -> Result<(), ModemError> {
        let mode = match req {
            LinkRequest::Up => FunctionalMode::Normal,
            LinkRequest::Down => FunctionalMode::Offline,
            LinkRequest::PowerOff => FunctionalMode::PowerOff,
        };
        self.at.set_functional_mode(mode).map_err(map_at)?;
        match req {
            LinkRequest::Up => {
                if matches!(self.link, LinkState::Down) {
                    self.link = LinkState::Searching;
                }
            }
            LinkRequest::Down | LinkRequest::PowerOff => {
                // Notifications queued before the mode change are stale.
                self.drain_notifications();
                self.set_down();
            }
        }
        Ok(())
    }

    fn link_state(&mut self) -> LinkState {
        self.drain_notifications();
        self.link
    }

    fn pdn_activate(&mut self, config: &PdnConfig<'_>) -> Result<PdnId, ModemError> {
        if !self.link_state().is_up() {
            return Err(ModemError::LinkDown);
        }
        let Some(apn) = config.apn else { return Ok(PdnId::DEFAULT) };
        if self.pdns.is_full() {
            return Err(ModemError::Pdn);
        }
        let cid = self.at.new_cid().map_err(|_| ModemError::Pdn)?;
        self.at.define_pdn(cid, at_pdn_type(config.pdn_type), apn).map_err(|e| match e {
            AtError::Command(_) => ModemError::InvalidArgument,
            _ => ModemError::Pdn,
        })?;
        let state = match self.at.activate_pdn(cid, true) {
            Ok(()) => PdnState::Active(config.pdn_type),
            // The modem reports the ESM cause of a rejected activation as
            // the `+CME ERROR` code.
            Err(AtError::Rejected(crate::at::Final::CmeError(n))) => {
                PdnState::Rejected { esm_cause: u8::try_from(n).unwrap_or(0) }
            }
            Err(_) => PdnState::Rejected { esm_cause: 0 },
        };
        self.pdns.push((cid, state)).map_err(|_| ModemError::Pdn)?;
        Ok(PdnId(cid))
    }

    fn pdn_state(&mut self, pdn: PdnId) -> PdnState {
        if !self.link_state().is_up() {
            return PdnState::Inactive;
        }
        if pdn == PdnId::DEFAULT {
            return PdnState::Active(self.default_type);
        }
        self.pdns.iter().find(|(c, _)| *c == pdn.0).map_or(PdnState::Inactive, |(_, s)| *s)
    }

    fn pdn_deactivate(&mut self, pdn: PdnId) -> Result<(), ModemError> {
        if pdn == PdnId::DEFAULT {
            return Ok(());
        }
        let Some(i) = self.pdns.iter().position(|(c, _)| *c == pdn.0) else { return Ok(()) };
        if matches!(self.pdns.get(i), Some((_, PdnState::Active(_)))) && self.link.is_up() {
            self.at.activate_pdn(pdn.0, false).map_err(map_at)?;
        }
        self.pdns.swap_remove(i);
        Ok(())
    }

    fn network_info(&mut self) -> Result<NetworkInfo, ModemError> {
        if !self.link_state().is_up() {
            return Err(ModemError::LinkDown);
        }
        let monitor = self.at.monitor().map_err(map_at)?;
        let cell = monitor.cell.ok_or(ModemError::NotAvailable)?;
        let addrs = self.at.pdn_addresses(0).map_err(map_at)?;
        let mut ip_addresses = Vec::new();
        if let Some(v4) = addrs.ipv4 {
            let _ = ip_addresses.push(IpAddr::V4(v4));
        }
        if let Some(v6) = addrs.ipv6 {
            let _ = ip_addresses.push(IpAddr::V6(v6));
        }
        Ok(NetworkInfo {
            mcc: cell.plmn.mcc,
            mnc: cell.plmn.mnc,
            cell_id: cell.cell_id,
            tac: cell.tac,
            rsrp_dbm: cell.rsrp_dbm,
            snr_db: cell.snr_db.map(i16::from),
            band: (cell.band != 0).then_some(u16::from(cell.band)),
            bearer: match cell.act {
                AccessTechnology::LteM => Some(Bearer::LteM),
                AccessTechnology::NbIot => Some(Bearer::NbIot),
                AccessTechnology::Other(_) => None,
            },
            ip_addresses,
        })
    }

    fn counters(&mut self) -> Result<Counters, ModemError> {
        let s = self.at.conn_stats().map_err(map_at)?;
        Ok(Counters {
            tx_bytes: u64::from(s.data_tx_kb) * 1024,
            rx_bytes: u64::from(s.data_rx_kb) * 1024,
            sms_tx: s.sms_tx,
            sms_rx: s.sms_rx,
        })
    }

    fn reset_counters(&mut self) -> Result<(), ModemError> {
        self.at.set_conn_stats(false).map_err(map_at)?;
        self.at.set_conn_stats(true).map_err(map_at)
    }

    fn network_time(&mut self) -> Result<NetworkTime, ModemError> {
        let t = self.at.network_time().map_err(map_at)?.ok_or(ModemError::NotAvailable)?;
        Ok(NetworkTime {
            unix_s: t.unix_seconds(),
            utc_offset_min: i16::from(t.tz_quarters.unwrap_or(0)) * 15,
        })
    }

    fn sim_read(&mut self, file: &SimFile<'_>, buf: &mut [u8]) -> Result<usize, ModemError> {
        let (&file_id, parents) = file.path.split_last().ok_or(ModemError::InvalidArgument)?;
        let mut path: String<32> = String::new();
        for id in parents {
            write!(path, "{id:04X}").map_err(|_| ModemError::InvalidArgument)?;
        }
        let len = u8::try_from(buf.len()).unwrap_or(u8::MAX);
        let n = match file.read {
            SimRead::Binary { offset } => self.at.sim_read_binary(file_id, &path, offset, len, buf),
            SimRead::Record { number } => self.at.sim_read_record(file_id, &path, number, len, buf),
        };
        n.map_err(|e| match e {
            AtError::Response(crate::at::ResponseError::TooLong) => ModemError::BufferTooSmall,
            e => map_at(e),
        })
    }

    fn psk_store(
        &mut self,
        tag: SecTag,
        identity: Option<&[u8]>,
        psk: &Psk,
    ) -> Result<(), ModemError> {
        self.at.write_psk(tag.0, psk.secret_bytes()).map_err(map_credential)?;
        if let Some(id) = identity {
            let id = core::str::from_utf8(id).map_err(|_| ModemError::InvalidArgument)?;
            self.at.write_psk_identity(tag.0, id).map_err(map_credential)?;
        }
        Ok(())
    }

    fn psk_exists(&mut self, tag: SecTag) -> Result<bool, ModemError> {
        self.at.credential_exists(tag.0, CredentialType::Psk).map_err(map_at)
    }

    fn psk_delete(&mut self, tag: SecTag) -> Result<(), ModemError> {
        for kind in [CredentialType::Psk, CredentialType::PskIdentity] {
            match self.at.delete_credential(tag.0, kind) {
                Ok(()) | Err(CredentialError::NotFound) => {}
                Err(e) => return Err(map_credential(e)),
            }
        }
        Ok(())
    }

    fn sms_receive(&mut self, buf: &mut [u8]) -> Result<Option<SmsInfo>, ModemError> {
        self.drain_notifications();
        let Some(hex) = self.sms.pop_front() else { return Ok(None) };
        let mut pdu = [0u8; SMS_HEX_LEN / 2];
        let n = types::decode_hex(&hex, &mut pdu, 0).map_err(|_| ModemError::Failure)?;
        let pdu = pdu.get(..n).ok_or(ModemError::Failure)?;
        match sms::parse_deliver(pdu, buf) {
            Ok(d) => Ok(Some(SmsInfo {
                len: d.len,
                originator: String::try_from(d.originator.as_str())
                    .map_err(|_| ModemError::Failure)?,
                app_port: d.app_port,
            })),
            Err(sms::SmsError::BufferTooSmall) => Err(ModemError::BufferTooSmall),
            Err(_) => Err(ModemError::Failure),
        }
    }

    fn restart(&mut self) -> Result<(), ModemError> {
        self.at.set_functional_mode(FunctionalMode::PowerOff).map_err(map_at)?;
        self.drain_notifications();
        self.set_down();
        Ok(())
    }
}
