//! Unsolicited result codes (notifications) the port listens to.
//!
//! Owns the notification syntax of `+CEREG` (3GPP TS 27.007 §10.1.22),
//! `+CGEV` (§10.1.19, the `ME PDN ACT`/`DEACT` and detach events),
//! `+CSCON` (§10.1.32, RRC connection), `%CESQ` and `%XSIM` (nRF91 AT
//! reference §5.6, §5.17) and `+CMT` (3GPP TS 27.005 §3.4.1, PDU mode:
//! a header line, then the PDU in hex on the next line).
//!
//! Guarantee: [`Urc::parse`] never panics; a notification it does not know
//! is [`Urc::Other`], one it knows but cannot read is an error.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fields::Fields;
use super::response::ResponseError;
use super::types::{Registration, rsrp_dbm};

/// A packet-domain event from `+CGEV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PdnEvent {
    /// `ME PDN ACT <cid>`.
    Activated(u8),
    /// `ME PDN DEACT <cid>` or `NW PDN DEACT <cid>`.
    Deactivated(u8),
    /// `NW DETACH` / `ME DETACH`.
    Detached,
    /// `IPV6 <cid>`: IPv6 link is up.
    Ipv6Up(u8),
    /// Any other event.
    Other,
}

/// A parsed notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urc<'a> {
    /// `+CEREG: …`.
    Registration(Registration),
    /// `+CGEV: …`.
    Pdn(PdnEvent),
    /// `+CSCON: <mode>`: RRC connected (`true`) or idle.
    RrcConnected(bool),
    /// `%CESQ: <rsrp>,<idx>,<rsrq>,<idx>`: RSRP in dBm.
    Signal(Option<i16>),
    /// `%XSIM: <state>`: UICC initialised.
    Uicc(bool),
    /// `+CMT: [<alpha>],<length>` followed by the PDU line.
    Sms {
        /// TPDU length in octets.
        tpdu_len: u8,
        /// The PDU in hex (SMSC part first).
        pdu_hex: &'a str,
    },
    /// A notification this crate does not interpret.
    Other(&'a str),
}

impl<'a> Urc<'a> {
    /// Parses one notification (for `+CMT`, both of its lines).
    ///
    /// # Errors
    /// [`ResponseError`] when a known notification is malformed.
    pub fn parse(text: &'a str) -> Result<Self, ResponseError> {
        let text = text.trim();
        if let Some(p) = text.strip_prefix("+CEREG:") {
            let mut f = Fields::new(p.trim_start());
            return Registration::parse_fields(&mut f).map(Urc::Registration);
        }
        if let Some(p) = text.strip_prefix("+CGEV:") {
            return Ok(Urc::Pdn(parse_cgev(p.trim())?));
        }
        if let Some(p) = text.strip_prefix("+CSCON:") {
            let mut f = Fields::new(p.trim_start());
            return match f.int::<u8>()? {
                0 => Ok(Urc::RrcConnected(false)),
                1 => Ok(Urc::RrcConnected(true)),
                _ => Err(ResponseError::BadField { index: 0 }),
            };
        }
        if let Some(p) = text.strip_prefix("%CESQ:") {
            let mut f = Fields::new(p.trim_start());
            return Ok(Urc::Signal(rsrp_dbm(f.int::<u8>()?)));
        }
        if let Some(p) = text.strip_prefix("%XSIM:") {
            let mut f = Fields::new(p.trim_start());
            return match f.int::<u8>()? {
                0 => Ok(Urc::Uicc(false)),
                1 => Ok(Urc::Uicc(true)),
                _ => Err(ResponseError::BadField { index: 0 }),
            };
        }
        if let Some(p) = text.strip_prefix("+CMT:") {
            let (header, pdu) = p.split_once('\n').ok_or(ResponseError::MissingLine)?;
            let mut f = Fields::new(header.trim());
            let _alpha = f.next_raw();
            let tpdu_len: u8 = f.int()?;
            let pdu_hex = pdu.trim();
            if pdu_hex.is_empty()
                || !pdu_hex.len().is_multiple_of(2)
                || !pdu_hex.bytes().all(|b| b.is_ascii_hexdigit())
                || pdu_hex.len() / 2 < usize::from(tpdu_len)
            {
                return Err(ResponseError::BadField { index: 2 });
            }
            return Ok(Urc::Sms { tpdu_len, pdu_hex });
        }
        Ok(Urc::Other(text))
    }
}

fn parse_cgev(p: &str) -> Result<PdnEvent, ResponseError> {
    let cid = |rest: &str| -> Result<u8, ResponseError> {
        let first = rest.split([' ', ',']).next().unwrap_or("");
        first.trim().parse().map_err(|_| ResponseError::BadField { index: 0 })
    };
    if let Some(r) = p.strip_prefix("ME PDN ACT ") {
        Ok(PdnEvent::Activated(cid(r)?))
    } else if let Some(r) =
        p.strip_prefix("ME PDN DEACT ").or_else(|| p.strip_prefix("NW PDN DEACT "))
    {
        Ok(PdnEvent::Deactivated(cid(r)?))
    } else if p == "NW DETACH" || p == "ME DETACH" {
        Ok(PdnEvent::Detached)
    } else if let Some(r) = p.strip_prefix("IPV6 ") {
        Ok(PdnEvent::Ipv6Up(cid(r)?))
    } else {
        Ok(PdnEvent::Other)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::super::types::{AccessTechnology, RegistrationStatus};
    use super::*;

    #[test]
    fn cereg_notification_with_psm_timers() {
        let u =
            Urc::parse("+CEREG: 1,\"002F\",\"0012BEEF\",7,,,\"00000110\",\"00011110\"").unwrap();
        let Urc::Registration(r) = u else { panic!("{u:?}") };
        assert_eq!(r.status, RegistrationStatus::Home);
        assert_eq!(r.tac, Some(0x2f));
        assert_eq!(r.cell_id, Some(0x0012_beef));
        assert_eq!(r.act, Some(AccessTechnology::LteM));
        assert_eq!(r.reject_cause, None);
        assert_eq!(r.active_time, Some(0b0000_0110));
        assert_eq!(r.periodic_tau, Some(0b0001_1110));
    }

    #[test]
    fn cgev_pdn_events() {
        assert_eq!(Urc::parse("+CGEV: ME PDN ACT 0"), Ok(Urc::Pdn(PdnEvent::Activated(0))));
        assert_eq!(Urc::parse("+CGEV: ME PDN DEACT 1"), Ok(Urc::Pdn(PdnEvent::Deactivated(1))));
        assert_eq!(Urc::parse("+CGEV: NW DETACH"), Ok(Urc::Pdn(PdnEvent::Detached)));
    }

    #[test]
    fn cmt_pdu_shorter_than_its_length_is_refused() {
        assert_eq!(Urc::parse("+CMT: \"\",20\r\n0011"), Err(ResponseError::BadField { index: 2 }));
    }
}
