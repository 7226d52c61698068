//! Retry and back-off schedules, and the reason each deferral reports.
//!
//! Owns [`DeferredReason`] (the ten reasons of the DEFERRED event, carrier-api.md §2.1, reused
//! by `lwm2m-carrier`), [`Failure`] (what went wrong, which fixes the reason) and
//! [`RetrySchedule`] / [`RetryPolicy`] (carriers.md §10). Guarantee: [`RetrySchedule::step`]
//! is total for every attempt number — it never panics or overflows.

use core::fmt;

/// Why a bootstrap or registration attempt was deferred (the `reason` of the DEFERRED event).
///
/// Numbers are the original's `LWM2M_CARRIER_DEFERRED_*` values (carrier-api.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum DeferredReason {
    /// Nothing to do; with a 24 h timeout the application can carry on.
    NoReason = 0,
    /// The PDN could not be activated (SIM or temporary network problem).
    PdnActivate = 1,
    /// No route to the bootstrap server.
    BootstrapNoRoute = 2,
    /// DTLS handshake with the bootstrap server failed (check the PSK).
    BootstrapConnect = 3,
    /// The bootstrap sequence was not completed by the server.
    BootstrapSequence = 4,
    /// No route to the device-management server.
    ServerNoRoute = 5,
    /// DTLS handshake with the device-management server failed.
    ServerConnect = 6,
    /// The server did not answer or rejected the registration.
    ServerRegistration = 7,
    /// The server is in maintenance or throttling (Verizon).
    ServiceUnavailable = 8,
    /// Waiting for the SIM MSISDN to become readable.
    SimMsisdn = 9,
}

impl DeferredReason {
    /// All ten reasons, in numeric order.
    pub const ALL: [DeferredReason; 10] = [
        DeferredReason::NoReason,
        DeferredReason::PdnActivate,
        DeferredReason::BootstrapNoRoute,
        DeferredReason::BootstrapConnect,
        DeferredReason::BootstrapSequence,
        DeferredReason::ServerNoRoute,
        DeferredReason::ServerConnect,
        DeferredReason::ServerRegistration,
        DeferredReason::ServiceUnavailable,
        DeferredReason::SimMsisdn,
    ];

    /// The C value of the reason.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The reason for a C value; `None` for a value the original never defined.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Self::NoReason),
            1 => Some(Self::PdnActivate),
            2 => Some(Self::BootstrapNoRoute),
            3 => Some(Self::BootstrapConnect),
            4 => Some(Self::BootstrapSequence),
            5 => Some(Self::ServerNoRoute),
            6 => Some(Self::ServerConnect),
            7 => Some(Self::ServerRegistration),
            8 => Some(Self::ServiceUnavailable),
            9 => Some(Self::SimMsisdn),
            _ => None,
        }
    }

    /// The original sample's log text for the reason (carrier-api.md §2.1).
    pub const fn text(self) -> &'static str {
        match self {
            Self::NoReason => "No reason given",
            Self::PdnActivate => "Failed to activate PDN",
            Self::BootstrapNoRoute => "No route to bootstrap server",
            Self::BootstrapConnect => "Failed to connect to bootstrap server",
            Self::BootstrapSequence => "Bootstrap sequence not completed",
            Self::ServerNoRoute => "No route to server",
            Self::ServerConnect => "Failed to connect to server",
            Self::ServerRegistration => "Server registration sequence not completed",
            Self::ServiceUnavailable => "Server in maintenance mode",
            Self::SimMsisdn => "Waiting for SIM MSISDN",
        }
    }
}

impl fmt::Display for DeferredReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// A failed step of start-up, bootstrap or registration: fixes both the deferral reason and
/// which schedule of the [`RetryPolicy`] paces the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// PDN activation failed.
    PdnActivation,
    /// The MSISDN could not be read yet (Verizon needs it for the endpoint name).
    MsisdnUnavailable,
    /// The bootstrap server could not be reached.
    BootstrapNoRoute,
    /// The DTLS handshake with the bootstrap server failed.
    BootstrapConnect,
    /// The bootstrap server did not finish the bootstrap sequence.
    BootstrapSequence,
    /// The device-management server could not be reached.
    ServerNoRoute,
    /// The DTLS handshake with the device-management server failed.
    ServerConnect,
    /// Registration was not answered or was rejected.
    ServerRegistration,
    /// The server reported maintenance / throttling (CoAP 5.03).
    ServiceUnavailable,
}

impl Failure {
    /// The deferral reason this failure reports (carriers.md §10, §12.3).
    pub const fn deferred_reason(self) -> DeferredReason {
        match self {
            Failure::PdnActivation => DeferredReason::PdnActivate,
            Failure::MsisdnUnavailable => DeferredReason::SimMsisdn,
            Failure::BootstrapNoRoute => DeferredReason::BootstrapNoRoute,
            Failure::BootstrapConnect => DeferredReason::BootstrapConnect,
            Failure::BootstrapSequence => DeferredReason::BootstrapSequence,
            Failure::ServerNoRoute => DeferredReason::ServerNoRoute,
            Failure::ServerConnect => DeferredReason::ServerConnect,
            Failure::ServerRegistration => DeferredReason::ServerRegistration,
            Failure::ServiceUnavailable => DeferredReason::ServiceUnavailable,
        }
    }

    /// Whether this failure concerns the bootstrap server (its schedule may stop for good).
    pub const fn is_bootstrap(self) -> bool {
        matches!(
            self,
            Failure::BootstrapNoRoute | Failure::BootstrapConnect | Failure::BootstrapSequence
        )
    }
}

/// What happens after the last delay of a [`RetrySchedule`] was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AfterLast {
    /// Keep using the last delay for ever.
    RepeatLast,
    /// Start again from the first delay.
    Wrap,
    /// Give up until the next power-up (ERROR CONNECT / BOOTSTRAP −ETIMEDOUT).
    Stop,
}

/// A back-off schedule: the delays before attempts 1, 2, 3, … and what follows the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetrySchedule {
    /// Delays in seconds, in order. Never empty in the tables of this crate.
    pub delays_s: &'static [u32],
    /// Behaviour once `delays_s` is exhausted.
    pub after_last: AfterLast,
}

/// One step of a schedule: wait `delay_s`, report `reason` in the DEFERRED event, try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetryStep {
    /// Seconds until the next attempt (the DEFERRED event's `timeout`).
    pub delay_s: u32,
    /// The DEFERRED event's `reason`.
    pub reason: DeferredReason,
}

impl RetrySchedule {
    /// The delay before retry number `attempt` (0 = first retry after the first failure), or
    /// `None` when the schedule has stopped (or is empty).
    pub fn delay_s(&self, attempt: u32) -> Option<u32> {
        let len = u32::try_from(self.delays_s.len()).ok()?;
        if len == 0 {
            return None;
        }
        let index = if attempt < len {
            attempt
        } else {
            match self.after_last {
                AfterLast::RepeatLast => len - 1,
                AfterLast::Wrap => attempt % len,
                AfterLast::Stop => return None,
            }
        };
        self.delays_s.get(usize::try_from(index).ok()?).copied()
    }
}

/// Every schedule of one operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetryPolicy {
    /// PDN activation (and waiting for the MSISDN, which arrives with the network).
    pub pdn: RetrySchedule,
    /// Bootstrap server: no route, handshake, sequence.
    pub bootstrap: RetrySchedule,
    /// Device-management servers: no route, handshake, registration, unavailable.
    pub server: RetrySchedule,
}

impl RetryPolicy {
    /// The schedule that paces retries after `failure`.
    pub const fn schedule(&self, failure: Failure) -> &RetrySchedule {
        match failure {
            Failure::PdnActivation | Failure::MsisdnUnavailable => &self.pdn,
            Failure::BootstrapNoRoute | Failure::BootstrapConnect | Failure::BootstrapSequence => {
                &self.bootstrap
            }
            Failure::ServerNoRoute
            | Failure::ServerConnect
            | Failure::ServerRegistration
            | Failure::ServiceUnavailable => &self.server,
        }
    }

    /// The deferral to report after the `attempt`-th consecutive `failure` (0-based), or `None`
    /// when retries are exhausted until the next power-up (the runtime then reports ERROR
    /// CONNECT / BOOTSTRAP instead of DEFERRED).
    pub fn step(&self, failure: Failure, attempt: u32) -> Option<RetryStep> {
        let delay_s = self.schedule(failure).delay_s(attempt)?;
        Some(RetryStep { delay_s, reason: failure.deferred_reason() })
    }
}

/// Retry after a failed PSK provisioning (−EACCES: the link was up while keys were written):
/// 24 hours (app-integration.txt, ERROR BOOTSTRAP table).
pub const PSK_PROVISIONING_RETRY_S: u32 = 24 * 60 * 60;

/// How often a FOTA waiting for battery charge re-checks the battery: 1 minute (carriers.md §10,
/// was 5 min before 0.10.2).
pub const FOTA_BATTERY_CHECK_INTERVAL_S: u32 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_reason_codes_round_trip_and_match_the_c_values() {
        for (i, r) in DeferredReason::ALL.iter().enumerate() {
            assert_eq!(r.code(), i as u32);
            assert_eq!(DeferredReason::from_code(i as u32), Some(*r));
        }
        assert_eq!(DeferredReason::from_code(10), None);
        assert_eq!(DeferredReason::SimMsisdn.code(), 9);
        assert_eq!(DeferredReason::ServiceUnavailable.code(), 8);
    }

    #[test]
    fn deferred_reason_texts_are_the_samples() {
        assert_eq!(DeferredReason::PdnActivate.text(), "Failed to activate PDN");
        assert_eq!(DeferredReason::SimMsisdn.text(), "Waiting for SIM MSISDN");
    }

    #[test]
    fn schedule_repeat_wrap_stop() {
        let d = &[1, 2, 3];
        let repeat = RetrySchedule { delays_s: d, after_last: AfterLast::RepeatLast };
        let wrap = RetrySchedule { delays_s: d, after_last: AfterLast::Wrap };
        let stop = RetrySchedule { delays_s: d, after_last: AfterLast::Stop };
        let got = |s: &RetrySchedule| [0, 1, 2, 3, 4, 5].map(|a| s.delay_s(a));
        assert_eq!(got(&repeat), [Some(1), Some(2), Some(3), Some(3), Some(3), Some(3)]);
        assert_eq!(got(&wrap), [Some(1), Some(2), Some(3), Some(1), Some(2), Some(3)]);
        assert_eq!(got(&stop), [Some(1), Some(2), Some(3), None, None, None]);
        assert_eq!(wrap.delay_s(u32::MAX), Some(1)); // u32::MAX % 3 == 0
        let empty = RetrySchedule { delays_s: &[], after_last: AfterLast::Wrap };
        assert_eq!(empty.delay_s(0), None);
    }
}
