//! Endpoint client names (the `ep` of Bootstrap-Request and Register).
//!
//! Owns [`EndpointFormat`] and [`endpoint_name`]. Implements carriers.md §2 "Endpoint name" and
//! §4 (Verizon `urn:imei-msisdn:`), RFC 7254 IMEI URNs. Guarantee: the name is built into a
//! fixed-capacity string with no allocation; malformed identities are typed errors.

use core::fmt::Write;

use crate::detect::is_digits;

/// Capacity of an endpoint name: `urn:imei-msisdn:` (16) + 15 + `-` + 15 = 47, rounded up.
pub const ENDPOINT_NAME_CAPACITY: usize = 64;

/// An endpoint client name.
pub type EndpointName = heapless::String<ENDPOINT_NAME_CAPACITY>;

/// How an operator forms the endpoint client name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EndpointFormat {
    /// `urn:imei:<IMEI>`.
    UrnImei,
    /// `urn:imei-msisdn:<IMEI>-<MSISDN>` (Verizon); needs the MSISDN.
    UrnImeiMsisdn,
}

impl EndpointFormat {
    /// Whether the MSISDN is part of the name (the runtime must wait for it).
    pub const fn needs_msisdn(self) -> bool {
        matches!(self, EndpointFormat::UrnImeiMsisdn)
    }
}

/// Why no endpoint name could be formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EndpointError {
    /// The IMEI is not 15 ASCII digits.
    #[error("IMEI must be 15 digits")]
    InvalidImei,
    /// The format needs an MSISDN and none is available yet (defer with SIM_MSISDN).
    #[error("MSISDN not available yet")]
    MsisdnUnavailable,
    /// The MSISDN is not 1 to 15 ASCII digits (an optional leading `+` is dropped).
    #[error("MSISDN must be 1 to 15 digits")]
    InvalidMsisdn,
}

/// Form the endpoint name for `format` from the modem IMEI and the SIM MSISDN.
///
/// # Errors
/// [`EndpointError::InvalidImei`], [`EndpointError::MsisdnUnavailable`] (the runtime defers with
/// [`crate::DeferredReason::SimMsisdn`]) or [`EndpointError::InvalidMsisdn`].
pub fn endpoint_name(
    format: EndpointFormat,
    imei: &str,
    msisdn: Option<&str>,
) -> Result<EndpointName, EndpointError> {
    if imei.len() != 15 || !is_digits(imei) {
        return Err(EndpointError::InvalidImei);
    }
    let mut out = EndpointName::new();
    // Cannot overflow: the longest name is 47 bytes, checked digits only.
    let overflow = |_| EndpointError::InvalidImei;
    match format {
        EndpointFormat::UrnImei => write!(out, "urn:imei:{imei}").map_err(overflow)?,
        EndpointFormat::UrnImeiMsisdn => {
            let msisdn = msisdn.ok_or(EndpointError::MsisdnUnavailable)?;
            let msisdn = msisdn.strip_prefix('+').unwrap_or(msisdn);
            if msisdn.len() > 15 || !is_digits(msisdn) {
                return Err(EndpointError::InvalidMsisdn);
            }
            write!(out, "urn:imei-msisdn:{imei}-{msisdn}")
                .map_err(|_| EndpointError::InvalidMsisdn)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMEI: &str = "352656100367872";

    #[test]
    fn urn_imei() {
        assert_eq!(
            endpoint_name(EndpointFormat::UrnImei, IMEI, None).unwrap(),
            "urn:imei:352656100367872"
        );
    }

    #[test]
    fn urn_imei_msisdn_for_verizon() {
        let ep = endpoint_name(EndpointFormat::UrnImeiMsisdn, IMEI, Some("+15551234567")).unwrap();
        assert_eq!(ep, "urn:imei-msisdn:352656100367872-15551234567");
    }

    #[test]
    fn missing_msisdn_defers() {
        assert_eq!(
            endpoint_name(EndpointFormat::UrnImeiMsisdn, IMEI, None),
            Err(EndpointError::MsisdnUnavailable)
        );
    }

    #[test]
    fn bad_identities_are_errors() {
        assert_eq!(
            endpoint_name(EndpointFormat::UrnImei, "35265610036787", None),
            Err(EndpointError::InvalidImei)
        );
        assert_eq!(
            endpoint_name(EndpointFormat::UrnImei, "35265610036787a", None),
            Err(EndpointError::InvalidImei)
        );
        assert_eq!(
            endpoint_name(EndpointFormat::UrnImeiMsisdn, IMEI, Some("1234567890123456")),
            Err(EndpointError::InvalidMsisdn)
        );
        assert_eq!(
            endpoint_name(EndpointFormat::UrnImeiMsisdn, IMEI, Some("")),
            Err(EndpointError::InvalidMsisdn)
        );
    }
}
