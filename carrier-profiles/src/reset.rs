//! Factory-reset triggers that can be decided from one start to the next (carriers.md §11).
//!
//! Owns [`StartRecord`] (what the runtime stores at each start) and [`factory_reset_reason`].
//! Implements §11 items 1–3: a change of any server option (via
//! [`crate::server_options_fingerprint`]), a change of operator, and on Verizon a change of
//! MSISDN. Server-initiated re-bootstrap and storage erase are runtime events, not decided
//! here. Guarantee: pure and total.

use crate::carrier::Carrier;
use crate::operators::Profile;

/// What the runtime stores at every start and compares at the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StartRecord<'a> {
    /// The operator in use ([`crate::Effective::carrier`]); store it as [`Carrier::bit`].
    pub carrier: Carrier,
    /// [`crate::UserConfig::server_options_fingerprint`].
    pub server_options_fingerprint: u64,
    /// The MSISDN used to form the endpoint name, when the operator needs one.
    pub msisdn: Option<&'a str>,
}

/// Why stored bootstrap state must be discarded (factory reset, then bootstrap again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FactoryResetReason {
    /// "Changing one or more server options will trigger a factory reset."
    ServerOptionsChanged,
    /// The SIM now belongs to another operator (the early library reloaded the factory
    /// configuration and bootstrapped again) \[E\].
    CarrierChanged,
    /// Verizon: the MSISDN differs from the stored one \[E\].
    MsisdnChanged,
}

/// Compare the last start with this one. `stored` is `None` on the first start (nothing to
/// reset: the client bootstraps anyway). An MSISDN counts only for operators that require it,
/// and only when both are known (a not-yet-readable MSISDN is a deferral, not a change).
pub fn factory_reset_reason(
    stored: Option<&StartRecord<'_>>,
    current: &StartRecord<'_>,
    profile: &Profile,
) -> Option<FactoryResetReason> {
    let stored = stored?;
    if stored.carrier != current.carrier {
        Some(FactoryResetReason::CarrierChanged)
    } else if stored.server_options_fingerprint != current.server_options_fingerprint {
        Some(FactoryResetReason::ServerOptionsChanged)
    } else if profile.msisdn_required
        && matches!((stored.msisdn, current.msisdn), (Some(a), Some(b)) if a != b)
    {
        Some(FactoryResetReason::MsisdnChanged)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators::{GENERIC, VERIZON};

    const BASE: StartRecord<'static> = StartRecord {
        carrier: Carrier::Verizon,
        server_options_fingerprint: 1,
        msisdn: Some("15551234567"),
    };

    #[test]
    fn factory_reset_triggers() {
        let table = [
            (None, BASE, &VERIZON, None),
            (Some(BASE), BASE, &VERIZON, None),
            (
                Some(BASE),
                StartRecord { carrier: Carrier::Generic, ..BASE },
                &GENERIC,
                Some(FactoryResetReason::CarrierChanged),
            ),
            (
                Some(BASE),
                StartRecord { server_options_fingerprint: 2, ..BASE },
                &VERIZON,
                Some(FactoryResetReason::ServerOptionsChanged),
            ),
            (
                Some(BASE),
                StartRecord { msisdn: Some("15550000000"), ..BASE },
                &VERIZON,
                Some(FactoryResetReason::MsisdnChanged),
            ),
            // MSISDN not readable yet: not a change.
            (Some(BASE), StartRecord { msisdn: None, ..BASE }, &VERIZON, None),
            // Operators without MSISDN requirement ignore it.
            (
                Some(StartRecord { carrier: Carrier::Generic, ..BASE }),
                StartRecord { carrier: Carrier::Generic, msisdn: Some("1"), ..BASE },
                &GENERIC,
                None,
            ),
        ];
        for (stored, current, profile, expected) in table {
            assert_eq!(
                factory_reset_reason(stored.as_ref(), &current, profile),
                expected,
                "{stored:?} -> {current:?}"
            );
        }
    }
}
