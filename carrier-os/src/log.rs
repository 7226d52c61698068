//! Logging: where the runtime's log lines go.
//!
//! The original removed logging from its OS layer (library 0.21.0) and logs
//! through the platform logger under the module name `lwm2m_os`
//! (`carrier-api.md` §5 "Logging"). We keep one tiny trait so that the
//! simulation can put log lines into its deterministic trace; a port with a
//! global logger (`log`, `defmt`) forwards to it.
//!
//! Secrets (PSKs) MUST NOT be passed to [`Log::log`]; [`crate::modem::Psk`]
//! has a redacting `Debug` so that a careless `{:?}` prints no key.

use core::fmt;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Level {
    /// Something failed.
    Error,
    /// Something unexpected that the runtime recovers from.
    Warn,
    /// Milestones (registered, FOTA started).
    Info,
    /// Details for developers.
    Debug,
    /// Everything, including datagram summaries.
    Trace,
}

/// A log sink.
pub trait Log {
    /// Records one log line.
    ///
    /// Contract: MUST NOT block on I/O for long (buffer or drop instead) and
    /// MUST NOT fail; dropping lines under pressure is allowed.
    fn log(&mut self, level: Level, args: fmt::Arguments<'_>);
}
