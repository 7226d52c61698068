//! `carrier_os::Log` for the nRF91: `defmt` (feature `defmt`) or nothing.
//!
//! Owns the two sinks; the `defmt` global logger (RTT, UART) is the
//! application's choice, as in any `defmt` firmware.
//!
//! Guarantee: never blocks beyond the logger's own buffering, never fails.

use carrier_os::log::{Level, Log};
use core::fmt;

/// Drops every line (the default: no logging cost in the image).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLog;

impl Log for NoLog {
    fn log(&mut self, _level: Level, _args: fmt::Arguments<'_>) {}
}

/// Forwards lines to `defmt` at the same level, formatted on the device
/// (`defmt::Display2Format`), since the runtime's lines are `core::fmt`.
#[cfg(feature = "defmt")]
#[derive(Debug, Default, Clone, Copy)]
pub struct DefmtLog;

#[cfg(feature = "defmt")]
impl Log for DefmtLog {
    fn log(&mut self, level: Level, args: fmt::Arguments<'_>) {
        let line = defmt::Display2Format(&args);
        match level {
            Level::Error => defmt::error!("{}", line),
            Level::Warn => defmt::warn!("{}", line),
            Level::Info => defmt::info!("{}", line),
            Level::Debug => defmt::debug!("{}", line),
            Level::Trace => defmt::trace!("{}", line),
        }
    }
}
