//! The modelled modem and SIM, shared by the real and the simulated mode.
//!
//! [`ModemModel`] answers every [`carrier_os::Modem`] question from a
//! [`DeviceProfile`], a [`KeyStore`] and a set of injectable [`Faults`]. It
//! never reads a clock: every method takes `now`, so the real mode passes
//! the host's monotonic time and the simulation its virtual time, and both
//! behave the same. Attach and PDN activation take the profile's
//! `attach_ms`/`pdn_ms`; [`ModemModel::next_change`] tells the port's wait
//! when the next state change is due.
//!
//! Guarantee: nothing here panics on any input; PSK writes are refused while
//! the link is not down, as the nRF91 refuses `%CMNG` writes.

use std::collections::{BTreeMap, VecDeque};

use carrier_os::modem::{
    Counters, Identity, IdentityString, LinkRequest, LinkState, ModemError, NetworkInfo,
    NetworkTime, PdnConfig, PdnId, PdnState, PdnType, Psk, SecTag, SimFile, SimRead, SmsInfo,
};
use carrier_os::time::{Duration, Instant};

use crate::profile::{Credential, DeviceProfile, KeyStore, decode_hex};

/// Faults a test injects into a device (both modes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// The next this many link-up requests end in [`LinkState::Denied`].
    pub link_denials: u32,
    /// The next this many PDN activations with an APN are rejected with
    /// `pdn_reject_cause`.
    pub pdn_rejections: u32,
    /// ESM cause for injected rejections (default 0 → 33 "not subscribed").
    pub pdn_reject_cause: u8,
    /// The next this many DTLS handshakes fail (alert).
    pub dtls_failures: u32,
    /// The next this many DTLS handshakes time out.
    pub dtls_timeouts: u32,
    /// Extra delay before the MSISDN becomes readable, on top of the
    /// profile's `msisdn_after_s`.
    pub msisdn_delay: Duration,
    /// The next download drops its connection after this many bytes.
    pub download_drop_after: Option<u64>,
}

#[derive(Debug, Clone)]
struct Pdn {
    apn: Option<String>,
    requested: PdnType,
    ready_at: Instant,
    state: PdnState,
}

/// The modelled modem (see the module doc).
#[derive(Debug)]
pub struct ModemModel {
    profile: DeviceProfile,
    keys: KeyStore,
    /// Injected faults; tests change them at any time.
    pub faults: Faults,
    link: LinkState,
    attach_at: Option<Instant>,
    first_up: Option<Instant>,
    pdns: BTreeMap<u8, Pdn>,
    counters: Counters,
    boot: Instant,
    boot_unix_s: i64,
    sms: VecDeque<(SmsInfo, Vec<u8>)>,
}

fn ident(s: &str) -> Result<IdentityString, ModemError> {
    IdentityString::try_from(s).map_err(|_| ModemError::Failure)
}

impl ModemModel {
    /// A modem booted at `now`, whose network clock reads `boot_unix_s` then
    /// (unless the profile fixes the network time).
    pub fn new(profile: DeviceProfile, keys: KeyStore, now: Instant, boot_unix_s: i64) -> Self {
        let boot_unix_s = profile.network.time_unix_s.unwrap_or(boot_unix_s);
        ModemModel {
            profile,
            keys,
            faults: Faults::default(),
            link: LinkState::Down,
            attach_at: None,
            first_up: None,
            pdns: BTreeMap::new(),
            counters: Counters::default(),
            boot: now,
            boot_unix_s,
            sms: VecDeque::new(),
        }
    }

    /// The profile.
    pub fn profile(&self) -> &DeviceProfile {
        &self.profile
    }

    /// The key store (to hand to the next boot after a power cut).
    pub fn into_keys(self) -> KeyStore {
        self.keys
    }

    /// The credentials of `tag` (for the DTLS layer).
    pub fn credential(&self, tag: SecTag) -> Option<&Credential> {
        self.keys.get(tag)
    }

    /// The CA certificate chain (PEM) of `tag` (for the HTTPS download).
    pub fn ca_pem(&self, tag: SecTag) -> Option<&str> {
        self.keys.ca_pem(tag)
    }

    /// Moves timed state forward to `now`; returns true if anything changed.
    pub fn advance(&mut self, now: Instant) -> bool {
        let mut changed = false;
        if let Some(at) = self.attach_at
            && now >= at
        {
            self.attach_at = None;
            changed = true;
            if self.faults.link_denials > 0 {
                self.faults.link_denials -= 1;
                self.link = LinkState::Denied;
            } else {
                self.link = LinkState::Up { roaming: self.profile.network.roaming };
                self.first_up.get_or_insert(now);
            }
        }
        let up = self.link.is_up();
        for pdn in self.pdns.values_mut() {
            if pdn.state == PdnState::Activating && up && now >= pdn.ready_at {
                pdn.state = PdnState::Active(granted(pdn.requested, &self.profile));
                changed = true;
            }
        }
        changed
    }

    /// When the next timed change (attach, PDN activation) is due.
    pub fn next_change(&self) -> Option<Instant> {
        let pdn = self
            .pdns
            .values()
            .filter(|p| p.state == PdnState::Activating)
            .map(|p| p.ready_at)
            .min();
        match (self.attach_at, pdn) {
            (Some(a), Some(p)) => Some(a.min(p)),
            (a, p) => a.or(p),
        }
    }

    /// Counts bytes sent (the transport calls this).
    pub fn count_tx(&mut self, n: usize) {
        self.counters.tx_bytes = self.counters.tx_bytes.saturating_add(n as u64);
    }

    /// Counts bytes received.
    pub fn count_rx(&mut self, n: usize) {
        self.counters.rx_bytes = self.counters.rx_bytes.saturating_add(n as u64);
    }

    /// [`carrier_os::Modem::identity`].
    pub fn identity(&mut self, now: Instant, item: Identity) -> Result<IdentityString, ModemError> {
        self.advance(now);
        let p = &self.profile;
        let sim = |v: &Option<String>| match (&p.imsi, v) {
            (None, _) => Err(ModemError::NoSim),
            (Some(_), Some(v)) => ident(v),
            (Some(_), None) => Err(ModemError::NotAvailable),
        };
        match item {
            Identity::Imei => ident(&p.imei),
            Identity::Imsi => sim(&p.imsi),
            Identity::Iccid => sim(&p.iccid),
            Identity::Msisdn => {
                let delay = Duration::from_secs(p.msisdn_after_s) + self.faults.msisdn_delay;
                match self.first_up {
                    Some(t) if now >= t + delay => sim(&p.msisdn),
                    _ if p.imsi.is_none() => Err(ModemError::NoSim),
                    _ => Err(ModemError::NotAvailable),
                }
            }
            Identity::Manufacturer => ident(&p.manufacturer),
            Identity::Model => ident(&p.model),
            Identity::FirmwareVersion => ident(&p.firmware_version),
            Identity::HardwareVersion => ident(&p.hardware_version),
            Identity::Serial2Did => {
                p.serial_2did.as_deref().map_or(Err(ModemError::NotSupported), ident)
            }
            _ => Err(ModemError::NotSupported),
        }
    }

    /// [`carrier_os::Modem::operator_id`]: what `AT%XOPERID` answers for the
    /// profile's SIM, classified by the IMSI's MCC-MNC (carriers.md §1.2–§1.3:
    /// Verizon 311-480/311-270 → 1, AT&T 310-410/310-170 → 2, FirstNet
    /// 313-100 → 3, SoftBank 440-20 → 7, Bell Canada 302-610 → 9, LG U+
    /// 450-06 → 10; anything else, T-Mobile included, → 0).
    pub fn operator_id(&self) -> Result<u8, ModemError> {
        let imsi = self.profile.imsi.as_deref().ok_or(ModemError::NoSim)?;
        const TABLE: [(&str, u8); 8] = [
            ("311480", 1),
            ("311270", 1),
            ("310410", 2),
            ("310170", 2),
            ("313100", 3),
            ("44020", 7),
            ("302610", 9),
            ("45006", 10),
        ];
        Ok(TABLE.iter().find(|(plmn, _)| imsi.starts_with(plmn)).map_or(0, |(_, id)| *id))
    }

    /// [`carrier_os::Modem::request_link`].
    pub fn request_link(&mut self, now: Instant, req: LinkRequest) -> Result<(), ModemError> {
        self.advance(now);
        match req {
            LinkRequest::Up => {
                if self.profile.imsi.is_none() {
                    return Err(ModemError::NoSim);
                }
                if !self.link.is_up() && self.attach_at.is_none() {
                    self.link = LinkState::Searching;
                    self.attach_at = Some(now + Duration::from_millis(self.profile.attach_ms));
                }
            }
            LinkRequest::Down | LinkRequest::PowerOff => self.drop_link(),
        }
        Ok(())
    }

    fn drop_link(&mut self) {
        self.link = LinkState::Down;
        self.attach_at = None;
        self.pdns.clear();
    }

    /// [`carrier_os::Modem::link_state`].
    pub fn link_state(&mut self, now: Instant) -> LinkState {
        self.advance(now);
        self.link
    }

    /// [`carrier_os::Modem::pdn_activate`].
    pub fn pdn_activate(
        &mut self,
        now: Instant,
        config: &PdnConfig<'_>,
    ) -> Result<PdnId, ModemError> {
        self.advance(now);
        if !self.link.is_up() {
            return Err(ModemError::LinkDown);
        }
        let Some(apn) = config.apn else { return Ok(PdnId::DEFAULT) };
        if apn.is_empty() || apn.len() > carrier_os::modem::APN_LEN {
            return Err(ModemError::InvalidArgument);
        }
        if let Some((id, _)) = self.pdns.iter().find(|(_, p)| p.apn.as_deref() == Some(apn)) {
            return Ok(PdnId(*id));
        }
        let id = (1..=10u8).find(|i| !self.pdns.contains_key(i)).ok_or(ModemError::Pdn)?;
        let state = if self.faults.pdn_rejections > 0 {
            self.faults.pdn_rejections -= 1;
            let cause =
                if self.faults.pdn_reject_cause == 0 { 33 } else { self.faults.pdn_reject_cause };
            PdnState::Rejected { esm_cause: cause }
        } else {
            PdnState::Activating
        };
        let ready_at = now + Duration::from_millis(self.profile.pdn_ms);
        self.pdns
            .insert(id, Pdn { apn: Some(apn.into()), requested: config.pdn_type, ready_at, state });
        Ok(PdnId(id))
    }

    /// [`carrier_os::Modem::pdn_state`].
    pub fn pdn_state(&mut self, now: Instant, pdn: PdnId) -> PdnState {
        self.advance(now);
        if !self.link.is_up() {
            return PdnState::Inactive;
        }
        if pdn == PdnId::DEFAULT {
            let ty = if self.profile.network.ipv4.is_some() && self.profile.network.ipv6.is_some() {
                PdnType::Ipv4v6
            } else if self.profile.network.ipv6.is_some() {
                PdnType::Ipv6
            } else {
                PdnType::Ipv4
            };
            return PdnState::Active(ty);
        }
        self.pdns.get(&pdn.0).map_or(PdnState::Inactive, |p| p.state)
    }

    /// [`carrier_os::Modem::pdn_deactivate`].
    pub fn pdn_deactivate(&mut self, pdn: PdnId) -> Result<(), ModemError> {
        if pdn != PdnId::DEFAULT {
            self.pdns.remove(&pdn.0);
        }
        Ok(())
    }

    /// [`carrier_os::Modem::network_info`].
    pub fn network_info(&mut self, now: Instant) -> Result<NetworkInfo, ModemError> {
        if !self.link_state(now).is_up() {
            return Err(ModemError::LinkDown);
        }
        let n = &self.profile.network;
        let mut ip_addresses = heapless::Vec::new();
        for ip in
            n.ipv4.map(std::net::IpAddr::V4).into_iter().chain(n.ipv6.map(std::net::IpAddr::V6))
        {
            let _ = ip_addresses.push(ip);
        }
        Ok(NetworkInfo {
            mcc: n.mcc,
            mnc: n.mnc,
            cell_id: n.cell_id,
            tac: n.tac,
            rsrp_dbm: n.rsrp_dbm,
            snr_db: n.snr_db,
            band: n.band,
            bearer: Some(n.bearer()),
            ip_addresses,
        })
    }

    /// [`carrier_os::Modem::counters`].
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// [`carrier_os::Modem::reset_counters`].
    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
    }

    /// [`carrier_os::Modem::network_time`]: available once attached.
    pub fn network_time(&mut self, now: Instant) -> Result<NetworkTime, ModemError> {
        self.advance(now);
        if self.first_up.is_none() {
            return Err(ModemError::NotAvailable);
        }
        let elapsed = i64::try_from((now - self.boot).as_secs()).unwrap_or(i64::MAX);
        Ok(NetworkTime {
            unix_s: self.boot_unix_s.saturating_add(elapsed),
            utc_offset_min: self.profile.network.utc_offset_min,
        })
    }

    /// [`carrier_os::Modem::sim_read`].
    pub fn sim_read(&self, file: &SimFile<'_>, buf: &mut [u8]) -> Result<usize, ModemError> {
        if self.profile.imsi.is_none() {
            return Err(ModemError::NoSim);
        }
        let not_found = ModemError::SimStatus { sw1: 0x6A, sw2: 0x82 };
        let f = self.profile.sim_files.iter().find(|f| f.path == file.path).ok_or(not_found)?;
        let data = match file.read {
            SimRead::Record { number } => {
                let idx = usize::from(number).checked_sub(1).ok_or(ModemError::InvalidArgument)?;
                // 6A 83: record not found.
                f.records.get(idx).ok_or(ModemError::SimStatus { sw1: 0x6A, sw2: 0x83 })?
            }
            SimRead::Binary { .. } => {
                f.binary.as_ref().ok_or(ModemError::SimStatus { sw1: 0x69, sw2: 0x81 })?
            }
        };
        let data = decode_hex(data).ok_or(ModemError::Failure)?;
        let data = match file.read {
            SimRead::Binary { offset } => data
                .get(usize::from(offset)..)
                .ok_or(ModemError::SimStatus { sw1: 0x6B, sw2: 0x00 })?,
            SimRead::Record { .. } => &data[..],
        };
        let out = buf.get_mut(..data.len()).ok_or(ModemError::BufferTooSmall)?;
        out.copy_from_slice(data);
        Ok(data.len())
    }

    fn require_link_down(&mut self, now: Instant) -> Result<(), ModemError> {
        if self.link_state(now) != LinkState::Down {
            return Err(ModemError::LinkUp);
        }
        Ok(())
    }

    /// [`carrier_os::Modem::psk_store`].
    pub fn psk_store(
        &mut self,
        now: Instant,
        tag: SecTag,
        identity: Option<&[u8]>,
        psk: &Psk,
    ) -> Result<(), ModemError> {
        self.require_link_down(now)?;
        if identity.is_some_and(|i| i.len() > carrier_os::modem::PSK_IDENTITY_LEN) {
            return Err(ModemError::InvalidArgument);
        }
        let cred = Credential { identity: identity.map(<[u8]>::to_vec), psk: psk.clone() };
        self.keys.insert(tag, cred).map_err(|_| ModemError::Failure)
    }

    /// [`carrier_os::Modem::psk_exists`].
    pub fn psk_exists(&self, tag: SecTag) -> bool {
        self.keys.get(tag).is_some()
    }

    /// [`carrier_os::Modem::psk_delete`].
    pub fn psk_delete(&mut self, now: Instant, tag: SecTag) -> Result<(), ModemError> {
        self.require_link_down(now)?;
        self.keys.remove(tag).map_err(|_| ModemError::Failure)
    }

    /// Delivers an SMS-DELIVER to the modem (test input; the real mode has
    /// no SMS network). Returns false if the originator is too long.
    pub fn inject_sms(&mut self, originator: &str, app_port: Option<u16>, payload: &[u8]) -> bool {
        let Ok(originator) = heapless::String::try_from(originator) else { return false };
        self.sms
            .push_back((SmsInfo { len: payload.len(), originator, app_port }, payload.to_vec()));
        true
    }

    /// True if an SMS waits.
    pub fn has_sms(&self) -> bool {
        !self.sms.is_empty()
    }

    /// [`carrier_os::Modem::sms_receive`].
    pub fn sms_receive(&mut self, buf: &mut [u8]) -> Result<Option<SmsInfo>, ModemError> {
        let Some((info, payload)) = self.sms.pop_front() else { return Ok(None) };
        self.counters.sms_rx = self.counters.sms_rx.saturating_add(1);
        let out = buf.get_mut(..payload.len()).ok_or(ModemError::BufferTooSmall)?;
        out.copy_from_slice(&payload);
        Ok(Some(info))
    }

    /// [`carrier_os::Modem::restart`]: link down, PDNs gone.
    pub fn restart(&mut self) {
        self.drop_link();
    }
}

fn granted(requested: PdnType, p: &DeviceProfile) -> PdnType {
    match requested {
        PdnType::Ipv4v6 if p.network.ipv6.is_none() => PdnType::Ipv4,
        PdnType::Ipv4v6 if p.network.ipv4.is_none() => PdnType::Ipv6,
        t => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ModemModel {
        let mut p = DeviceProfile::generic(1);
        p.msisdn_after_s = 30;
        ModemModel::new(p, KeyStore::in_memory(), Instant::ZERO, 1_767_225_600)
    }

    #[test]
    fn msisdn_appears_only_after_the_configured_delay_from_first_attach() {
        let mut m = model();
        let t0 = Instant::ZERO;
        assert_eq!(m.identity(t0, Identity::Msisdn), Err(ModemError::NotAvailable));
        m.request_link(t0, LinkRequest::Up).unwrap();
        let up = Instant::from_millis(2000);
        assert!(m.link_state(up).is_up());
        assert_eq!(
            m.identity(up + Duration::from_millis(29_999), Identity::Msisdn),
            Err(ModemError::NotAvailable)
        );
        assert_eq!(
            m.identity(up + Duration::from_secs(30), Identity::Msisdn).unwrap(),
            "15550000001"
        );
    }

    #[test]
    fn injected_link_denial_and_pdn_rejection_show_in_the_states() {
        let mut m = model();
        m.faults.link_denials = 1;
        m.faults.pdn_rejections = 1;
        m.request_link(Instant::ZERO, LinkRequest::Up).unwrap();
        assert_eq!(m.link_state(Instant::from_millis(1999)), LinkState::Searching);
        assert_eq!(m.link_state(Instant::from_millis(2000)), LinkState::Denied);
        m.request_link(Instant::from_millis(2000), LinkRequest::Up).unwrap();
        assert!(m.link_state(Instant::from_millis(4000)).is_up(), "the second attempt attaches");
        let cfg = PdnConfig { apn: Some("vzwadmin"), pdn_type: PdnType::Ipv4v6 };
        let id = m.pdn_activate(Instant::from_millis(4000), &cfg).unwrap();
        assert_eq!(
            m.pdn_state(Instant::from_millis(9000), id),
            PdnState::Rejected { esm_cause: 33 }
        );
        m.pdn_deactivate(id).unwrap();
        let id = m.pdn_activate(Instant::from_millis(9000), &cfg).unwrap();
        assert_eq!(m.pdn_state(Instant::from_millis(9000), id), PdnState::Activating);
        assert_eq!(m.next_change(), Some(Instant::from_millis(9500)));
        assert_eq!(m.pdn_state(Instant::from_millis(9500), id), PdnState::Active(PdnType::Ipv4));
    }

    #[test]
    fn an_injected_sms_is_received_once_and_counted() {
        let mut m = model();
        assert!(m.inject_sms("+15550001", Some(2948), b"\x01wakeup"));
        let mut small = [0u8; 3];
        assert_eq!(m.sms_receive(&mut small), Err(ModemError::BufferTooSmall), "too long: dropped");
        assert!(m.inject_sms("+15550001", Some(2948), b"wake"));
        let mut buf = [0u8; 16];
        let info = m.sms_receive(&mut buf).unwrap().unwrap();
        assert_eq!(
            (info.len, info.app_port, info.originator.as_str()),
            (4, Some(2948), "+15550001")
        );
        assert_eq!(&buf[..4], b"wake");
        assert_eq!(m.sms_receive(&mut buf), Ok(None));
        assert_eq!(m.counters().sms_rx, 2);
    }

    #[test]
    fn operator_id_classifies_the_sim_like_xoperid() {
        let with_imsi = |imsi: Option<&str>| {
            let mut p = DeviceProfile::generic(1);
            p.imsi = imsi.map(Into::into);
            ModemModel::new(p, KeyStore::in_memory(), Instant::ZERO, 0).operator_id()
        };
        assert_eq!(with_imsi(Some("311480123456789")), Ok(1), "Verizon");
        assert_eq!(with_imsi(Some("440201234567890")), Ok(7), "SoftBank");
        assert_eq!(with_imsi(Some("302610123456789")), Ok(9), "Bell Canada");
        assert_eq!(with_imsi(Some("450061234567890")), Ok(10), "LG U+");
        assert_eq!(with_imsi(Some("310260123456789")), Ok(0), "T-Mobile has no value");
        assert_eq!(with_imsi(Some("001010000000001")), Ok(0), "test network");
        assert_eq!(with_imsi(None), Err(ModemError::NoSim));
    }

    #[test]
    fn sim_reads_return_records_and_sim_status_words() {
        let mut p = DeviceProfile::generic(1);
        p.sim_files.push(crate::profile::SimFileProfile {
            path: vec![0x3F00, 0x7FFF, 0x6F42],
            records: vec!["0102".into()],
            binary: None,
        });
        let m = ModemModel::new(p, KeyStore::in_memory(), Instant::ZERO, 0);
        let mut buf = [0u8; 8];
        let rec =
            |n| SimFile { path: &[0x3F00, 0x7FFF, 0x6F42], read: SimRead::Record { number: n } };
        assert_eq!(m.sim_read(&rec(1), &mut buf), Ok(2));
        assert_eq!(&buf[..2], [1, 2]);
        assert_eq!(
            m.sim_read(&rec(2), &mut buf),
            Err(ModemError::SimStatus { sw1: 0x6A, sw2: 0x83 })
        );
        let other = SimFile { path: &[0x3F00, 0x6F07], read: SimRead::Binary { offset: 0 } };
        assert_eq!(
            m.sim_read(&other, &mut buf),
            Err(ModemError::SimStatus { sw1: 0x6A, sw2: 0x82 })
        );
    }
}
