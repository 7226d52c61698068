//! The AT layer: typed requests, response framing and typed parsers, and
//! notifications, without allocation.
//!
//! Owns everything that turns between Rust values and nRF91 AT text
//! (nRF91 AT Commands reference; 3GPP TS 27.007 and 27.005 for the
//! standard commands). Nothing in this module performs I/O: a
//! [`Command`] is emitted into a fixed buffer, the bytes the modem returns
//! are framed by [`Response::parse`] and read by the `parse_*` functions of
//! [`types`]; notifications go through [`Urc::parse`].
//!
//! Guarantee: nothing here panics on any input (fuzzed, see
//! `docs/fuzzing-nrf.md`).

pub mod command;
pub mod fields;
pub mod response;
pub mod sms;
pub mod types;
pub mod urc;

pub use command::{COMMAND_CAPACITY, CeregReporting, Command, CommandError, CommandLine};
pub use fields::Fields;
pub use response::{Final, Line, Lines, Response, ResponseError};
pub use urc::{PdnEvent, Urc};

/// Nordic's `+CME ERROR` codes (nRF91 AT reference §5.28 and the
/// proprietary range), plus the 3GPP ones the port reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Cme {
    /// 3: operation not allowed.
    NotAllowed,
    /// 4: operation not supported.
    NotSupported,
    /// 10: SIM not inserted.
    SimNotInserted,
    /// 513: not found.
    NotFound,
    /// 514: no access.
    NoAccess,
    /// 515: memory full.
    MemoryFull,
    /// 518: not allowed in active state.
    NotAllowedInActiveState,
    /// 519: already exists.
    AlreadyExists,
    /// 527: invalid content.
    InvalidContent,
    /// Any other code.
    Unknown(u16),
}

impl From<u16> for Cme {
    fn from(n: u16) -> Self {
        match n {
            3 => Self::NotAllowed,
            4 => Self::NotSupported,
            10 => Self::SimNotInserted,
            513 => Self::NotFound,
            514 => Self::NoAccess,
            515 => Self::MemoryFull,
            518 => Self::NotAllowedInActiveState,
            519 => Self::AlreadyExists,
            527 => Self::InvalidContent,
            n => Self::Unknown(n),
        }
    }
}

impl From<Cme> for u16 {
    fn from(c: Cme) -> u16 {
        match c {
            Cme::NotAllowed => 3,
            Cme::NotSupported => 4,
            Cme::SimNotInserted => 10,
            Cme::NotFound => 513,
            Cme::NoAccess => 514,
            Cme::MemoryFull => 515,
            Cme::NotAllowedInActiveState => 518,
            Cme::AlreadyExists => 519,
            Cme::InvalidContent => 527,
            Cme::Unknown(n) => n,
        }
    }
}
