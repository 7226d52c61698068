//! Typed values read from AT responses, each with its parser.
//!
//! Owns the response syntax and value ranges of the nRF91 AT Commands
//! reference: identity (§4: `+CGSN`, `+CIMI`, `%XICCID`, `+CNUM`,
//! `+CGMI`, `+CGMM`, `+CGMR`, `%HWVERSION`, `%2DID`), `+CFUN` (§5.1),
//! `+CESQ` (§5.5), `%XSNRSQ` (§5.8), `+CRSM` (§5.9), `%XCBAND` (§5.14),
//! `%XCONNSTAT` (§5.22), `%CMNG` (§5.28), `+CCLK`/`%CCLK` (§5.31–5.32),
//! packet domain (`+CEREG`, `+CGDCONT`, `+CGACT`, `+CGPADDR`,
//! `%XGETPDNID`, `%XNEWCID`; 3GPP TS 27.007 §10.1) and `%XMONITOR`.
//!
//! Guarantee: no parser here panics on any input; values outside the
//! reference's ranges are [`ResponseError::BadField`], values longer than
//! their fixed capacity are [`ResponseError::TooLong`]. Parsers ignore
//! trailing parameters they do not know, because newer modem firmware
//! appends parameters to existing responses.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::net::{Ipv4Addr, Ipv6Addr};

use heapless::String;

use super::fields::Fields;
use super::response::{Response, ResponseError};

/// Copies `s` into a fixed-capacity string.
fn fixed<const N: usize>(s: &str) -> Result<String<N>, ResponseError> {
    String::try_from(s).map_err(|_| ResponseError::TooLong)
}

/// Printable ASCII, no quotes: what identity strings consist of.
fn printable(s: &str, index: u8) -> Result<&str, ResponseError> {
    if !s.is_empty() && s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"') {
        Ok(s)
    } else {
        Err(ResponseError::BadField { index })
    }
}

fn digits(s: &str, min: usize, max: usize) -> Result<&str, ResponseError> {
    if (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(ResponseError::BadField { index: 0 })
    }
}

// ---------------------------------------------------------------- identity

/// IMEI: 15 decimal digits (`AT+CGSN=1` → `+CGSN: "352656100367872"`).
pub fn parse_imei(r: &Response<'_>) -> Result<String<15>, ResponseError> {
    fixed(digits(r.info("+CGSN:")?.quoted()?, 15, 15)?)
}

/// IMSI: 6 to 15 digits, on a bare line (`AT+CIMI` → `244070000000000`).
pub fn parse_imsi(r: &Response<'_>) -> Result<String<15>, ResponseError> {
    fixed(digits(r.bare()?, 6, 15)?)
}

/// ICCID: 18 to 22 characters, digits with an optional trailing `F` pad
/// (`AT%XICCID` → `%XICCID: 8901234567012345678F`).
pub fn parse_iccid(r: &Response<'_>) -> Result<String<22>, ResponseError> {
    let s = r.info("%XICCID:")?.text()?;
    let ok = (18..=22).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'F' || b == b'f');
    if ok { fixed(s) } else { Err(ResponseError::BadField { index: 0 }) }
}

/// MSISDN from `+CNUM: [<alpha>],"<number>",<type>`; `None` when the SIM
/// holds no number (the response is a lone `OK`).
pub fn parse_msisdn(r: &Response<'_>) -> Result<Option<String<20>>, ResponseError> {
    let Some(mut f) = r.info_all("+CNUM:").next() else { return Ok(None) };
    let _alpha = f.next_raw();
    let number = f.quoted()?;
    let valid = !number.is_empty()
        && number.len() <= 20
        && number.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'+'));
    if valid { fixed(number).map(Some) } else { Err(ResponseError::BadField { index: 1 }) }
}

/// A bare identity line (`+CGMI`, `+CGMM`, `+CGMR`), printable ASCII.
pub fn parse_bare_text(r: &Response<'_>) -> Result<String<64>, ResponseError> {
    fixed(printable(r.bare()?, 0)?)
}

/// `%HWVERSION: nRF9160 SICA B1A` (unquoted, may contain spaces).
pub fn parse_hw_version(r: &Response<'_>) -> Result<String<64>, ResponseError> {
    let mut f = r.info("%HWVERSION:")?;
    let raw = f.next_raw().ok_or(ResponseError::MissingLine)?;
    fixed(printable(super::fields::unquote(raw).unwrap_or(raw), 0)?)
}

/// `%2DID: <id>` (quoted or not): the SiP 2D identifier.
pub fn parse_two_did(r: &Response<'_>) -> Result<String<32>, ResponseError> {
    fixed(printable(r.info("%2DID:")?.text()?, 0)?)
}

// ---------------------------------------------------------- functional mode

/// `+CFUN` functional modes (reference §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FunctionalMode {
    /// 0: power off, settings stored to NVM.
    PowerOff,
    /// 1: normal (LTE and/or GNSS per `%XSYSTEMMODE`).
    Normal,
    /// 4: offline (flight) mode; credentials may be written.
    Offline,
    /// 20: LTE off, GNSS unchanged.
    DeactivateLte,
    /// 21: LTE on, GNSS unchanged.
    ActivateLte,
    /// 30: GNSS off.
    DeactivateGnss,
    /// 31: GNSS on.
    ActivateGnss,
    /// 40: UICC off.
    DeactivateUicc,
    /// 41: UICC on.
    ActivateUicc,
    /// 44: offline with the UICC kept on.
    OfflineUiccOn,
    /// A value this crate does not know.
    Unknown(u8),
}

impl From<u8> for FunctionalMode {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::PowerOff,
            1 => Self::Normal,
            4 => Self::Offline,
            20 => Self::DeactivateLte,
            21 => Self::ActivateLte,
            30 => Self::DeactivateGnss,
            31 => Self::ActivateGnss,
            40 => Self::DeactivateUicc,
            41 => Self::ActivateUicc,
            44 => Self::OfflineUiccOn,
            n => Self::Unknown(n),
        }
    }
}

impl From<FunctionalMode> for u8 {
    fn from(m: FunctionalMode) -> u8 {
        match m {
            FunctionalMode::PowerOff => 0,
            FunctionalMode::Normal => 1,
            FunctionalMode::Offline => 4,
            FunctionalMode::DeactivateLte => 20,
            FunctionalMode::ActivateLte => 21,
            FunctionalMode::DeactivateGnss => 30,
            FunctionalMode::ActivateGnss => 31,
            FunctionalMode::DeactivateUicc => 40,
            FunctionalMode::ActivateUicc => 41,
            FunctionalMode::OfflineUiccOn => 44,
            FunctionalMode::Unknown(n) => n,
        }
    }
}

impl FunctionalMode {
    /// Whether the modem is "activated" in the sense of `%CMNG`: write and
    /// delete are allowed only in power-off or offline modes (§5.28).
    pub fn allows_credential_write(self) -> bool {
        matches!(self, Self::PowerOff | Self::Offline | Self::OfflineUiccOn)
    }
}

/// `+CFUN: <fun>`.
pub fn parse_cfun(r: &Response<'_>) -> Result<FunctionalMode, ResponseError> {
    r.info("+CFUN:")?.int::<u8>().map(FunctionalMode::from)
}

// ---------------------------------------------------------- registration

/// `<stat>` of `+CEREG` (3GPP TS 27.007 §10.1.22; 90 is Nordic's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RegistrationStatus {
    /// 0: not registered, not searching.
    NotRegistered,
    /// 1: registered, home network.
    Home,
    /// 2: not registered, searching.
    Searching,
    /// 3: registration denied.
    Denied,
    /// 4: unknown (e.g. out of coverage).
    Unknown,
    /// 5: registered, roaming.
    Roaming,
    /// 90: not registered because the UICC failed.
    UiccFailure,
    /// A value this crate does not know.
    Other(u8),
}

impl From<u8> for RegistrationStatus {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::NotRegistered,
            1 => Self::Home,
            2 => Self::Searching,
            3 => Self::Denied,
            4 => Self::Unknown,
            5 => Self::Roaming,
            90 => Self::UiccFailure,
            n => Self::Other(n),
        }
    }
}

impl RegistrationStatus {
    /// Registered on the home network or roaming.
    pub fn is_registered(self) -> bool {
        matches!(self, Self::Home | Self::Roaming)
    }
}

/// `<AcT>`: access technology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AccessTechnology {
    /// 7: E-UTRAN (LTE-M).
    LteM,
    /// 9: E-UTRAN NB-S1 (NB-IoT).
    NbIot,
    /// A value this crate does not know.
    Other(u8),
}

impl From<u8> for AccessTechnology {
    fn from(v: u8) -> Self {
        match v {
            7 => Self::LteM,
            9 => Self::NbIot,
            n => Self::Other(n),
        }
    }
}

/// A `+CEREG` report (read response or notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Registration {
    /// Registration status.
    pub status: RegistrationStatus,
    /// Tracking area code.
    pub tac: Option<u16>,
    /// E-UTRAN cell ID (28 bits).
    pub cell_id: Option<u32>,
    /// Access technology.
    pub act: Option<AccessTechnology>,
    /// `<cause_type>,<reject_cause>` when the network rejected us.
    pub reject_cause: Option<(u8, u16)>,
    /// Active time (T3324), raw GPRS-timer-2 octet.
    pub active_time: Option<u8>,
    /// Periodic TAU (T3412 extended), raw GPRS-timer-3 octet.
    pub periodic_tau: Option<u8>,
}

impl Registration {
    /// Parses the parameters after `+CEREG: ` of a notification
    /// (`<stat>[,[<tac>],[<ci>],[<AcT>][,<cause_type>],[<reject_cause>][,[<Active-Time>],[<Periodic-TAU>]]]]`).
    pub fn parse_fields(f: &mut Fields<'_>) -> Result<Self, ResponseError> {
        let status = RegistrationStatus::from(f.int::<u8>()?);
        let tac = f
            .opt_hex_u32()?
            .map(u16::try_from)
            .transpose()
            .map_err(|_| ResponseError::BadField { index: 1 })?;
        let cell_id = f.opt_hex_u32()?;
        let act = f.opt_int::<u8>()?.map(AccessTechnology::from);
        let cause_type = f.opt_int::<u8>()?;
        let cause = f.opt_int::<u16>()?;
        let active_time = f.opt_bits_u8()?;
        let periodic_tau = f.opt_bits_u8()?;
        Ok(Self {
            status,
            tac,
            cell_id,
            act,
            reject_cause: cause_type.zip(cause),
            active_time,
            periodic_tau,
        })
    }
}

/// `AT+CEREG?` → `+CEREG: <n>,<stat>[,…]`.
pub fn parse_cereg_read(r: &Response<'_>) -> Result<Registration, ResponseError> {
    let mut f = r.info("+CEREG:")?;
    let _n: u8 = f.int()?;
    Registration::parse_fields(&mut f)
}

// ---------------------------------------------------------- PDN

/// PDN type of `+CGDCONT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PdnType {
    /// `"IP"`.
    Ipv4,
    /// `"IPV6"`.
    Ipv6,
    /// `"IPV4V6"`.
    Ipv4v6,
    /// `"Non-IP"`.
    NonIp,
}

impl PdnType {
    /// The string used on the AT line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "IP",
            Self::Ipv6 => "IPV6",
            Self::Ipv4v6 => "IPV4V6",
            Self::NonIp => "Non-IP",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "IP" => Self::Ipv4,
            "IPV6" => Self::Ipv6,
            "IPV4V6" => Self::Ipv4v6,
            "Non-IP" => Self::NonIp,
            _ => return None,
        })
    }
}

/// One `+CGDCONT: <cid>,"<type>","<apn>","<addr>",…` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdnContext {
    /// Context identifier.
    pub cid: u8,
    /// PDN type; `None` when the context is defined without one.
    pub pdn_type: Option<PdnType>,
    /// APN (up to 100 octets, 3GPP TS 23.003 §9.1).
    pub apn: String<100>,
}

/// All contexts of `AT+CGDCONT?`, as an iterator of results.
pub fn pdn_contexts<'a>(
    r: &Response<'a>,
) -> impl Iterator<Item = Result<PdnContext, ResponseError>> + 'a {
    r.info_all("+CGDCONT:").map(|mut f| {
        let cid = f.int::<u8>()?;
        let pdn_type = match f.opt_quoted()? {
            None | Some("") => None,
            Some(t) => Some(PdnType::parse(t).ok_or(ResponseError::BadField { index: 1 })?),
        };
        let apn = fixed(f.opt_quoted()?.unwrap_or(""))?;
        Ok(PdnContext { cid, pdn_type, apn })
    })
}

/// `+CGACT: <cid>,<state>` lines of `AT+CGACT?`: `(cid, active)`.
pub fn pdn_activation<'a>(
    r: &Response<'a>,
) -> impl Iterator<Item = Result<(u8, bool), ResponseError>> + 'a {
    r.info_all("+CGACT:").map(|mut f| {
        let cid = f.int::<u8>()?;
        match f.int::<u8>()? {
            0 => Ok((cid, false)),
            1 => Ok((cid, true)),
            _ => Err(ResponseError::BadField { index: 1 }),
        }
    })
}

/// `%XGETPDNID: <pdn_id>`.
pub fn parse_pdn_id(r: &Response<'_>) -> Result<u8, ResponseError> {
    r.info("%XGETPDNID:")?.int()
}

/// `%XNEWCID: <cid>`.
pub fn parse_new_cid(r: &Response<'_>) -> Result<u8, ResponseError> {
    r.info("%XNEWCID:")?.int()
}

/// Addresses of one context from `+CGPADDR: <cid>[,"<v4>"[,"<v6>"]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdnAddresses {
    /// Context identifier.
    pub cid: u8,
    /// IPv4 address, if the context has one.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address, if the context has one.
    pub ipv6: Option<Ipv6Addr>,
}

/// `+CGPADDR`: the first address field may be v4 or v6; the second is v6.
pub fn parse_pdn_addresses(r: &Response<'_>) -> Result<PdnAddresses, ResponseError> {
    let mut f = r.info("+CGPADDR:")?;
    let cid = f.int::<u8>()?;
    let mut out = PdnAddresses { cid, ipv4: None, ipv6: None };
    for index in 1..=2u8 {
        match f.opt_quoted()? {
            None | Some("") => {}
            Some(a) => {
                if let Ok(v4) = a.parse::<Ipv4Addr>() {
                    out.ipv4 = Some(v4);
                } else if let Ok(v6) = a.parse::<Ipv6Addr>() {
                    out.ipv6 = Some(v6);
                } else {
                    return Err(ResponseError::BadField { index });
                }
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------- radio and cell

/// A PLMN (MCC and MNC) from a `"26295"`-style string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Plmn {
    /// Mobile country code.
    pub mcc: u16,
    /// Mobile network code.
    pub mnc: u16,
    /// Whether the MNC has three digits (matters for display and for
    /// matching SIM records).
    pub mnc_three_digits: bool,
}

impl Plmn {
    /// Parses 5 or 6 decimal digits.
    pub fn parse(s: &str) -> Option<Self> {
        if !(5..=6).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (mcc, mnc) = s.split_at_checked(3)?;
        Some(Self {
            mcc: mcc.parse().ok()?,
            mnc: mnc.parse().ok()?,
            mnc_three_digits: mnc.len() == 3,
        })
    }
}

/// RSRP index of `+CESQ`/`%XMONITOR` (0..=97) to dBm, upper bound of the
/// band as Nordic's `lte_lc` reports it; 255 (not known) is `None`.
pub fn rsrp_dbm(index: u8) -> Option<i16> {
    (index <= 97).then(|| i16::from(index) - 140)
}

/// SNR index of `%XSNRSQ`/`%XMONITOR` (0..=49) to dB; 127 is `None`.
pub fn snr_db(index: u8) -> Option<i8> {
    (index <= 49).then(|| index as i8 - 24)
}

/// Serving cell part of `%XMONITOR`, present while registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingCell {
    /// Operator full name.
    pub operator_full: String<32>,
    /// Operator short name.
    pub operator_short: String<16>,
    /// PLMN.
    pub plmn: Plmn,
    /// Tracking area code.
    pub tac: u16,
    /// Access technology.
    pub act: AccessTechnology,
    /// E-UTRA band.
    pub band: u8,
    /// E-UTRAN cell ID.
    pub cell_id: u32,
    /// Physical cell ID.
    pub phys_cell_id: u16,
    /// EARFCN.
    pub earfcn: u32,
    /// RSRP in dBm.
    pub rsrp_dbm: Option<i16>,
    /// SNR in dB.
    pub snr_db: Option<i8>,
}

/// `%XMONITOR: <reg_status>[,<full_name>,<short_name>,<plmn>,<tac>,<AcT>,
/// <band>,<cell_id>,<phys_cell_id>,<EARFCN>,<rsrp>,<snr>,…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitor {
    /// Registration status.
    pub status: RegistrationStatus,
    /// Serving cell, when the modem reports one.
    pub cell: Option<ServingCell>,
}

/// Parses `%XMONITOR`.
pub fn parse_monitor(r: &Response<'_>) -> Result<Monitor, ResponseError> {
    let mut f = r.info("%XMONITOR:")?;
    let status = RegistrationStatus::from(f.int::<u8>()?);
    let Some(full) = f.opt_quoted()? else { return Ok(Monitor { status, cell: None }) };
    let operator_full = fixed(full)?;
    let operator_short = fixed(f.opt_quoted()?.unwrap_or(""))?;
    let plmn = Plmn::parse(f.quoted()?).ok_or(ResponseError::BadField { index: 3 })?;
    let tac = f
        .opt_hex_u32()?
        .and_then(|t| u16::try_from(t).ok())
        .ok_or(ResponseError::BadField { index: 4 })?;
    let act = AccessTechnology::from(f.int::<u8>()?);
    let band = f.int::<u8>()?;
    let cell_id = f.opt_hex_u32()?.ok_or(ResponseError::BadField { index: 7 })?;
    let phys_cell_id = f.int::<u16>()?;
    let earfcn = f.int::<u32>()?;
    let rsrp_dbm = rsrp_dbm(f.int::<u8>()?);
    let snr_db = snr_db(f.int::<u8>()?);
    Ok(Monitor {
        status,
        cell: Some(ServingCell {
            operator_full,
            operator_short,
            plmn,
            tac,
            act,
            band,
            cell_id,
            phys_cell_id,
            earfcn,
            rsrp_dbm,
            snr_db,
        }),
    })
}

/// `+CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>`: `(rsrq_index,
/// rsrp_dbm)`; index 255 is `None`.
pub fn parse_cesq(r: &Response<'_>) -> Result<(Option<u8>, Option<i16>), ResponseError> {
    let mut f = r.info("+CESQ:")?;
    for _ in 0..4 {
        let _: u8 = f.int()?;
    }
    let rsrq: u8 = f.int()?;
    let rsrp: u8 = f.int()?;
    Ok(((rsrq <= 34).then_some(rsrq), rsrp_dbm(rsrp)))
}

/// `%XSNRSQ: <snr>,<srxlev>,<ce_level>` → SNR in dB.
pub fn parse_snr(r: &Response<'_>) -> Result<Option<i8>, ResponseError> {
    r.info("%XSNRSQ:")?.int::<u8>().map(snr_db)
}

/// `%XCBAND: <band>`; 0 (not available) is `None`.
pub fn parse_band(r: &Response<'_>) -> Result<Option<u8>, ResponseError> {
    let band: u8 = r.info("%XCBAND:")?.int()?;
    Ok((band != 0).then_some(band))
}

// ---------------------------------------------------------- time

/// Network time from `+CCLK`/`%CCLK` (`"yy/MM/dd,hh:mm:ss±zz"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NetworkTime {
    /// Year (2000 + yy).
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59.
    pub second: u8,
    /// Offset of local time from UTC in quarter hours (−48..=48); `None`
    /// for 99 ("not set").
    pub tz_quarters: Option<i8>,
    /// Daylight-saving adjustment in hours (`%CCLK` only).
    pub dst_hours: Option<u8>,
}

impl NetworkTime {
    fn parse_str(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 20 {
            return None;
        }
        let two = |i: usize| -> Option<u8> {
            let hi = b.get(i)?.checked_sub(b'0').filter(|d| *d < 10)?;
            let lo = b.get(i + 1)?.checked_sub(b'0').filter(|d| *d < 10)?;
            Some(hi * 10 + lo)
        };
        let sep = |i: usize, c: u8| b.get(i) == Some(&c);
        if !(sep(2, b'/') && sep(5, b'/') && sep(8, b',') && sep(11, b':') && sep(14, b':')) {
            return None;
        }
        let (yy, month, day, hour, minute, second) =
            (two(0)?, two(3)?, two(6)?, two(9)?, two(12)?, two(15)?);
        let sign: i8 = match b.get(17)? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let zz = two(18)?;
        let tz_quarters = match zz {
            99 => None,
            0..=48 => Some(sign * zz as i8),
            _ => return None,
        };
        let valid = (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(Self {
            year: 2000 + u16::from(yy),
            month,
            day,
            hour,
            minute,
            second,
            tz_quarters,
            dst_hours: None,
        })
    }

    /// Seconds since 1970-01-01T00:00:00Z. The modem reports local time;
    /// the zone offset is subtracted. Without a zone, the time is taken
    /// as UTC.
    pub fn unix_seconds(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (y, m, d) = (i64::from(self.year), i64::from(self.month), i64::from(self.day));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let local = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        local - i64::from(self.tz_quarters.unwrap_or(0)) * 900
    }
}

/// `%CCLK: "<time>"[,<dst>]`.
pub fn parse_nordic_clock(r: &Response<'_>) -> Result<NetworkTime, ResponseError> {
    let mut f = r.info("%CCLK:")?;
    let mut t = NetworkTime::parse_str(f.quoted()?).ok_or(ResponseError::BadField { index: 0 })?;
    t.dst_hours = match f.opt_int::<u8>()? {
        None => None,
        Some(h @ 0..=2) => Some(h),
        Some(_) => return Err(ResponseError::BadField { index: 1 }),
    };
    Ok(t)
}

/// `+CCLK: "<time>"`.
pub fn parse_clock(r: &Response<'_>) -> Result<NetworkTime, ResponseError> {
    NetworkTime::parse_str(r.info("+CCLK:")?.quoted()?).ok_or(ResponseError::BadField { index: 0 })
}

// ---------------------------------------------------------- credentials

/// `%CMNG` credential types (§5.28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CredentialType {
    /// 0: root CA certificate.
    RootCa,
    /// 1: client certificate.
    ClientCertificate,
    /// 2: client private key.
    ClientPrivateKey,
    /// 3: pre-shared key (hex).
    Psk,
    /// 4: PSK identity.
    PskIdentity,
    /// 5: public key.
    PublicKey,
    /// A value this crate does not know.
    Other(u8),
}

impl From<u8> for CredentialType {
    fn from(v: u8) -> Self {
        match v {
            0 => Self::RootCa,
            1 => Self::ClientCertificate,
            2 => Self::ClientPrivateKey,
            3 => Self::Psk,
            4 => Self::PskIdentity,
            5 => Self::PublicKey,
            n => Self::Other(n),
        }
    }
}

impl From<CredentialType> for u8 {
    fn from(t: CredentialType) -> u8 {
        match t {
            CredentialType::RootCa => 0,
            CredentialType::ClientCertificate => 1,
            CredentialType::ClientPrivateKey => 2,
            CredentialType::Psk => 3,
            CredentialType::PskIdentity => 4,
            CredentialType::PublicKey => 5,
            CredentialType::Other(n) => n,
        }
    }
}

/// One `%CMNG: <tag>,<type>[,"<sha>"]` list line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CredentialEntry {
    /// Security tag.
    pub tag: u32,
    /// Credential type.
    pub kind: CredentialType,
}

/// The lines of a `%CMNG=1` list.
pub fn credentials<'a>(
    r: &Response<'a>,
) -> impl Iterator<Item = Result<CredentialEntry, ResponseError>> + 'a {
    r.info_all("%CMNG:").map(|mut f| {
        let tag: u32 = f.int()?;
        if tag > 2_147_483_647 {
            return Err(ResponseError::BadField { index: 0 });
        }
        Ok(CredentialEntry { tag, kind: CredentialType::from(f.int::<u8>()?) })
    })
}

// ---------------------------------------------------------- SIM

/// `+CRSM` commands (§5.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SimCommand {
    /// 176.
    ReadBinary,
    /// 178.
    ReadRecord,
    /// 192.
    GetResponse,
    /// 242.
    Status,
}

impl From<SimCommand> for u8 {
    fn from(c: SimCommand) -> u8 {
        match c {
            SimCommand::ReadBinary => 176,
            SimCommand::ReadRecord => 178,
            SimCommand::GetResponse => 192,
            SimCommand::Status => 242,
        }
    }
}

/// `+CRSM: <sw1>,<sw2>[,"<hex>"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimResponse<'a> {
    /// Status word 1.
    pub sw1: u8,
    /// Status word 2.
    pub sw2: u8,
    /// Response data, hex, possibly empty.
    pub data_hex: &'a str,
}

impl SimResponse<'_> {
    /// `90 00` (normal ending) or `91 xx` (normal ending with proactive
    /// command pending), ETSI TS 102 221 §10.2.1.
    pub fn is_success(&self) -> bool {
        self.sw1 == 0x90 && self.sw2 == 0 || self.sw1 == 0x91
    }

    /// Decodes the data into `out`, returning the byte count.
    ///
    /// # Errors
    /// [`ResponseError::BadField`] for odd length or non-hex characters,
    /// [`ResponseError::TooLong`] when `out` is too small.
    pub fn decode(&self, out: &mut [u8]) -> Result<usize, ResponseError> {
        decode_hex(self.data_hex, out, 2)
    }
}

/// Hex string to bytes; `index` names the field for errors.
pub fn decode_hex(hex: &str, out: &mut [u8], index: u8) -> Result<usize, ResponseError> {
    let bad = ResponseError::BadField { index };
    if !hex.len().is_multiple_of(2) {
        return Err(bad);
    }
    let n = hex.len() / 2;
    let dst = out.get_mut(..n).ok_or(ResponseError::TooLong)?;
    for (d, pair) in dst.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let s = core::str::from_utf8(pair).map_err(|_| bad)?;
        *d = u8::from_str_radix(s, 16).map_err(|_| bad)?;
    }
    Ok(n)
}

/// Parses `+CRSM`.
pub fn parse_crsm<'a>(r: &Response<'a>) -> Result<SimResponse<'a>, ResponseError> {
    let mut f = r.info("+CRSM:")?;
    let sw1 = f.int()?;
    let sw2 = f.int()?;
    let data_hex = f.opt_quoted()?.unwrap_or("");
    if !data_hex.bytes().all(|b| b.is_ascii_hexdigit()) || !data_hex.len().is_multiple_of(2) {
        return Err(ResponseError::BadField { index: 2 });
    }
    Ok(SimResponse { sw1, sw2, data_hex })
}

// ---------------------------------------------------------- statistics

/// `%XCONNSTAT: <SMS Tx>,<SMS Rx>,<Data Tx>,<Data Rx>,<Packet max>,<Packet average>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnStats {
    /// SMS sent.
    pub sms_tx: u32,
    /// SMS received.
    pub sms_rx: u32,
    /// Data sent, kilobytes.
    pub data_tx_kb: u32,
    /// Data received, kilobytes.
    pub data_rx_kb: u32,
    /// Largest packet, bytes.
    pub packet_max: u32,
    /// Average packet, bytes.
    pub packet_average: u32,
}

/// Parses `%XCONNSTAT?`.
pub fn parse_conn_stats(r: &Response<'_>) -> Result<ConnStats, ResponseError> {
    let mut f = r.info("%XCONNSTAT:")?;
    Ok(ConnStats {
        sms_tx: f.int()?,
        sms_rx: f.int()?,
        data_tx_kb: f.int()?,
        data_rx_kb: f.int()?,
        packet_max: f.int()?,
        packet_average: f.int()?,
    })
}

/// `+CMGS: <mr>`: message reference of a sent SMS.
pub fn parse_sms_sent(r: &Response<'_>) -> Result<u8, ResponseError> {
    r.info("+CMGS:")?.int()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn cclk_reference_example_converts_to_utc() {
        // nRF91 AT reference §5.31: "18/12/06,22:10:00+08" is local time
        // two hours (8 quarters) ahead of UTC.
        let t = NetworkTime::parse_str("18/12/06,22:10:00+08").unwrap();
        assert_eq!(t.tz_quarters, Some(8));
        // 2018-12-06T20:10:00Z
        assert_eq!(t.unix_seconds(), 1_544_127_000);
    }

    #[test]
    fn cclk_rejects_impossible_dates() {
        assert_eq!(NetworkTime::parse_str("18/13/06,22:10:00+08"), None);
        assert_eq!(NetworkTime::parse_str("18/12/06,22:10:00+49"), None);
        assert_eq!(NetworkTime::parse_str("18/12/06,22:10:00"), None);
    }

    #[test]
    fn plmn_with_two_and_three_digit_mnc() {
        assert_eq!(Plmn::parse("26295"), Some(Plmn { mcc: 262, mnc: 95, mnc_three_digits: false }));
        assert_eq!(
            Plmn::parse("310410"),
            Some(Plmn { mcc: 310, mnc: 410, mnc_three_digits: true })
        );
        assert_eq!(Plmn::parse("2629"), None);
    }

    #[test]
    fn signal_indices_map_to_reference_units() {
        assert_eq!(rsrp_dbm(62), Some(-78));
        assert_eq!(rsrp_dbm(255), None);
        assert_eq!(snr_db(39), Some(15));
        assert_eq!(snr_db(127), None);
    }
}
