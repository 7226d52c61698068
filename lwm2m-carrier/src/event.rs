//! The events the library hands to the application (`carrier-api.md` §2).
//!
//! The set, the numbers and the payloads are the original library's (version
//! 3.7.0 numbering): an application ported from C sees the same events in the
//! same order. [`Event::number`] gives the C value for logs and C layers.
//!
//! Events borrow their payloads (a firmware URI, app data) from the runtime
//! that produced them, so no event allocates.

use core::fmt;

use crate::errno::Errno;
pub use carrier_profiles::DeferredReason;
use lwm2m_core::path::Path;
use lwm2m_core::time::Duration;

/// One event for the application.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// 1 — the library needs the LTE link: bring it up (CFUN=1). Emitted after
    /// bootstrap keys are written, after FOTA clears flash, around a Verizon
    /// bearer change, and after a `LinkUp` request.
    LteLinkUp,
    /// 2 — the library needs the link down (CFUN=4) until the next `LteLinkUp`:
    /// before keys are written, before FOTA clears flash, after a `LinkDown` request.
    LteLinkDown,
    /// 3 — power the radio off (CFUN=0): before a reboot or a modem firmware update.
    LtePowerOff,
    /// 4 — bootstrap finished.
    Bootstrapped,
    /// 5 — registered with the device-management server(s).
    Registered,
    /// 6 — de-registered (after a `Deregister` request; LG U+ and SoftBank after `LinkDown`).
    Deregistered,
    /// 7 — a bootstrap or registration attempt failed and will be retried after `timeout`.
    Deferred {
        /// Why the attempt failed.
        reason: DeferredReason,
        /// Time until the next attempt.
        timeout: Duration,
    },
    /// 8 — a firmware update starts: close the application's own TLS/DTLS
    /// sockets now (the modem has few secure sockets).
    FotaStart {
        /// The package URI for a pull update; `None` when the server pushes the package.
        uri: Option<&'a str>,
    },
    /// 9 — the firmware update succeeded.
    FotaSuccess,
    /// 10 — the library wants to reboot (SIM switched carrier, application
    /// image to apply, Device Reboot executed). The handler may postpone it.
    Reboot,
    /// 11 — a modem domain notification (deprecated in the original).
    ModemDomain(ModemDomainEvent),
    /// 12 — the server wrote, or started or stopped observing, application data
    /// (`/19/x/0/y` Binary App Data Container or `/10250/0/1` App Data Container).
    AppData {
        /// The resource (instance) concerned.
        path: Path,
        /// What happened.
        kind: AppDataKind,
        /// The data written (empty for observe start/stop).
        data: &'a [u8],
    },
    /// 13 — during a modem FOTA: initialise the modem library.
    ModemInit,
    /// 14 — during a modem FOTA: shut the modem library down.
    ModemShutdown,
    /// 15 — the server executed Reset Error Code (`/3/0/12`): re-add the error
    /// codes that still apply.
    ErrorCodeReset,
    /// 20 — an error; see [`ErrorKind`] for the recovery rule of each type.
    Error {
        /// The error type.
        kind: ErrorKind,
        /// The reason, as the original's negative errno.
        value: Errno,
    },
}

impl Event<'_> {
    /// The C event number (`carrier-api.md` §2, 3.5.0+ numbering).
    pub const fn number(&self) -> u32 {
        match self {
            Event::LteLinkUp => 1,
            Event::LteLinkDown => 2,
            Event::LtePowerOff => 3,
            Event::Bootstrapped => 4,
            Event::Registered => 5,
            Event::Deregistered => 6,
            Event::Deferred { .. } => 7,
            Event::FotaStart { .. } => 8,
            Event::FotaSuccess => 9,
            Event::Reboot => 10,
            Event::ModemDomain(_) => 11,
            Event::AppData { .. } => 12,
            Event::ModemInit => 13,
            Event::ModemShutdown => 14,
            Event::ErrorCodeReset => 15,
            Event::Error { .. } => 20,
        }
    }

    /// The name the original's sample prints for the event.
    pub const fn name(&self) -> &'static str {
        match self {
            Event::LteLinkUp => "LTE link up",
            Event::LteLinkDown => "LTE link down",
            Event::LtePowerOff => "LTE power off",
            Event::Bootstrapped => "Bootstrapped",
            Event::Registered => "Registered",
            Event::Deregistered => "Deregistered",
            Event::Deferred { .. } => "Deferred",
            Event::FotaStart { .. } => "FOTA start",
            Event::FotaSuccess => "FOTA success",
            Event::Reboot => "Reboot",
            Event::ModemDomain(_) => "Modem domain event",
            Event::AppData { .. } => "App data",
            Event::ModemInit => "Modem init",
            Event::ModemShutdown => "Modem shutdown",
            Event::ErrorCodeReset => "Error code reset",
            Event::Error { .. } => "Error",
        }
    }
}

impl fmt::Display for Event<'_> {
    /// One line, as the original's sample logs it: `Deferred (Reason: Failed
    /// to activate PDN, timeout: 60 seconds)`, `Error (Bootstrap error, reason -116 (ETIMEDOUT))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Event::Deferred { reason, timeout } => {
                write!(f, " (Reason: {}, timeout: {} seconds)", reason.text(), timeout.as_secs())
            }
            Event::FotaStart { uri: Some(uri) } => write!(f, " ({uri})"),
            Event::ModemDomain(d) => write!(f, " ({d:?})"),
            Event::AppData { path, kind, data } => {
                write!(f, " ({kind:?} {path}, {} bytes)", data.len())
            }
            Event::Error { kind, value } => write!(f, " ({}, reason {value})", kind.text()),
            _ => Ok(()),
        }
    }
}

/// The type of an [`Event::Error`] (`carrier-api.md` §3), with its C value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// 1 — the application failed to bring the link up; the library retries later.
    LteLinkUpFail,
    /// 2 — the application failed to take the link down.
    LteLinkDownFail,
    /// 3 — bootstrap failed; retried through the deferred logic. Values:
    /// `ETIMEDOUT`, `EACCES` (PSK provisioning refused while the link is up:
    /// retried after 24 h), `EFAULT` (MSISDN/ICCID missing: retried on the
    /// next network connection).
    Bootstrap,
    /// 4 — a firmware update failed (`EPERM`, `ENOMEM`, `EBADF`, …); the
    /// Firmware Update object reports the result to the server.
    FotaFail,
    /// 5 — the configuration is invalid; the library does not run.
    Configuration,
    /// 6 — initialisation failed (fatal).
    Init,
    /// 7 — reserved: "run failed" in 3.1.0–3.6.x, folded into
    /// [`ErrorKind::Configuration`] since 3.7.0. Never emitted.
    Run,
    /// 8 — connecting failed: `EHOSTUNREACH` all attempts exhausted (no retry
    /// until restart), `ENOTSUP` subscriber not supported, `EPERM` carrier
    /// requirement not met.
    Connect,
}

impl ErrorKind {
    /// The C value.
    pub const fn number(self) -> u32 {
        match self {
            ErrorKind::LteLinkUpFail => 1,
            ErrorKind::LteLinkDownFail => 2,
            ErrorKind::Bootstrap => 3,
            ErrorKind::FotaFail => 4,
            ErrorKind::Configuration => 5,
            ErrorKind::Init => 6,
            ErrorKind::Run => 7,
            ErrorKind::Connect => 8,
        }
    }

    /// The text the original's sample prints.
    pub const fn text(self) -> &'static str {
        match self {
            ErrorKind::LteLinkUpFail => "Failed to connect to the LTE network",
            ErrorKind::LteLinkDownFail => "Failed to disconnect from the LTE network",
            ErrorKind::Bootstrap => "Bootstrap error",
            ErrorKind::FotaFail => "Modem firmware update failed",
            ErrorKind::Configuration => "Illegal object configuration detected",
            ErrorKind::Init => "Initialization failure",
            ErrorKind::Run => "Configuration failure",
            ErrorKind::Connect => "Connection failure",
        }
    }
}

/// The payload of [`Event::ModemDomain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ModemDomainEvent {
    /// 0 — the modem is overheated.
    MeOverheated,
    /// 1 — the modem's battery is low.
    MeBatteryLow,
    /// 2 — reset loop detected: attach restricted for 30 minutes.
    ResetLoop,
}

/// What happened to application data ([`Event::AppData`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AppDataKind {
    /// 0 — the server wrote data.
    DataWrite,
    /// 1 — the server started observing the resource.
    ObserveStart,
    /// 2 — the server stopped observing the resource.
    ObserveStop,
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn event_numbers_follow_the_3_5_numbering() {
        // carrier-api.md §2: DEREGISTERED = 6 and ERROR_CODE_RESET = 15 since 3.5.0.
        let deferred =
            Event::Deferred { reason: DeferredReason::NoReason, timeout: Duration::ZERO };
        let error = Event::Error { kind: ErrorKind::Init, value: Errno::Io };
        let numbered = [
            (Event::LteLinkUp, 1),
            (Event::LteLinkDown, 2),
            (Event::LtePowerOff, 3),
            (Event::Bootstrapped, 4),
            (Event::Registered, 5),
            (Event::Deregistered, 6),
            (deferred, 7),
            (Event::FotaStart { uri: None }, 8),
            (Event::FotaSuccess, 9),
            (Event::Reboot, 10),
            (Event::ModemDomain(ModemDomainEvent::ResetLoop), 11),
            (Event::ModemInit, 13),
            (Event::ModemShutdown, 14),
            (Event::ErrorCodeReset, 15),
            (error, 20),
        ];
        for (event, number) in numbered {
            assert_eq!(event.number(), number, "{event:?}");
        }
    }

    #[test]
    fn error_kind_numbers_follow_the_spec() {
        let kinds = [
            (ErrorKind::LteLinkUpFail, 1),
            (ErrorKind::LteLinkDownFail, 2),
            (ErrorKind::Bootstrap, 3),
            (ErrorKind::FotaFail, 4),
            (ErrorKind::Configuration, 5),
            (ErrorKind::Init, 6),
            (ErrorKind::Run, 7),
            (ErrorKind::Connect, 8),
        ];
        for (kind, n) in kinds {
            assert_eq!(kind.number(), n);
        }
    }

    #[test]
    fn deferred_and_error_print_like_the_original_sample() {
        let e = Event::Deferred {
            reason: DeferredReason::PdnActivate,
            timeout: Duration::from_secs(60),
        };
        assert_eq!(e.to_string(), "Deferred (Reason: Failed to activate PDN, timeout: 60 seconds)");
        let e = Event::Error { kind: ErrorKind::Bootstrap, value: Errno::TimedOut };
        assert_eq!(e.to_string(), "Error (Bootstrap error, reason -116 (ETIMEDOUT))");
    }
}
