//! Operator detection from what the SIM, the modem and the network say.
//!
//! Owns [`Detected`] (the identity facts the runtime reads before resolving) and
//! [`detect_subscriber`]. Implements carriers.md §1: the modem's own operator classification
//! (`AT%XOPERID`) decides when present — that is what the original used — and the IMSI's
//! MCC-MNC and the ICCID issuer are the fallback (public PLMN/IIN assignments, **unconfirmed**
//! as library behaviour). Guarantee: any input, including garbage from a broken SIM, yields
//! `Some(carrier)` or `None`; nothing panics, nothing allocates.

use crate::carrier::Carrier;
use crate::operators::{self, Profile};

/// Identity facts read from the modem, the SIM and the network before [`crate::resolve`].
///
/// Every SIM-derived field is optional because a fresh or broken SIM may not deliver it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Detected<'a> {
    /// The modem's operator classification (`AT%XOPERID`): 0 = not identified.
    pub operator_id: Option<u8>,
    /// IMSI (15 digits; the first 5 or 6 are the home MCC-MNC).
    pub imsi: Option<&'a str>,
    /// ICCID (18–20 digits, issuer identification number first).
    pub iccid: Option<&'a str>,
    /// MSISDN, when the SIM / network has issued one (Verizon needs it).
    pub msisdn: Option<&'a str>,
    /// The modem IMEI (15 digits).
    pub imei: &'a str,
    /// The SIM holds LwM2M bootstrap data (UICC LwM2M file present and readable).
    pub smartcard_bootstrap: bool,
    /// Manufacturer read from the modem (e.g. "Nordic Semiconductor ASA").
    pub manufacturer: &'a str,
    /// Model read from the modem (e.g. "nRF9161").
    pub model_number: &'a str,
    /// Hardware version read from the modem (e.g. "nRF9161 LACA ADA").
    pub hardware_version: &'a str,
    /// The SiP 2DID serial number, when the platform can read it (LG U+).
    pub sip_2did: Option<&'a str>,
}

/// The carrier the SIM belongs to, or `None` when it is no supported carrier (generic).
///
/// Order: the modem's operator ID when it names a carrier (`0`/unknown values fall through),
/// then the IMSI's home MCC-MNC, then the ICCID issuer prefix. A field holding anything other
/// than ASCII digits is ignored as unreadable.
pub fn detect_subscriber(detected: &Detected<'_>) -> Option<Carrier> {
    let profiles = operators::CARRIER_PROFILES;
    let by_operator_id = || {
        let id = detected.operator_id.filter(|id| *id != 0)?;
        profiles.iter().copied().find(|p| p.detection.operator_ids.contains(&id))
    };
    let by_imsi = || {
        let imsi = detected.imsi.filter(|s| is_digits(s))?;
        find_prefix(profiles, imsi, |p| p.detection.home_plmns)
    };
    let by_iccid = || {
        let iccid = detected.iccid.map(iccid_digits).filter(|s| is_digits(s))?;
        find_prefix(profiles, iccid, |p| p.detection.iccid_prefixes)
    };
    by_operator_id().or_else(by_imsi).or_else(by_iccid).map(|p| p.carrier)
}

fn find_prefix(
    profiles: &[&'static Profile],
    value: &str,
    prefixes: impl Fn(&Profile) -> &'static [&'static str],
) -> Option<&'static Profile> {
    profiles.iter().copied().find(|p| prefixes(p).iter().any(|prefix| value.starts_with(prefix)))
}

/// ICCIDs read raw from EF_ICCID may end in an `F` filler nibble; drop it.
fn iccid_digits(iccid: &str) -> &str {
    iccid.trim_end_matches(['F', 'f'])
}

pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_imsi(imsi: &str) -> Option<Carrier> {
        detect_subscriber(&Detected { imsi: Some(imsi), ..Detected::default() })
    }

    #[test]
    fn operator_id_wins_over_imsi() {
        let d =
            Detected { operator_id: Some(7), imsi: Some("311480123456789"), ..Detected::default() };
        assert_eq!(detect_subscriber(&d), Some(Carrier::SoftBank));
    }

    #[test]
    fn operator_id_zero_or_unsupported_falls_back_to_imsi() {
        for id in [0, 2, 6, 8, 200] {
            let d = Detected {
                operator_id: Some(id),
                imsi: Some("450061234567890"),
                ..Detected::default()
            };
            assert_eq!(detect_subscriber(&d), Some(Carrier::LgUplus), "id {id}");
        }
    }

    #[test]
    fn garbage_imsi_is_generic() {
        assert_eq!(with_imsi("31148x"), None);
        assert_eq!(with_imsi(""), None);
        assert_eq!(with_imsi("é311480"), None);
    }

    #[test]
    fn iccid_filler_is_ignored() {
        let d = Detected { iccid: Some("8912360000000000001F"), ..Detected::default() };
        assert_eq!(detect_subscriber(&d), Some(Carrier::BellCanada));
    }
}
