//! The negative-errno values of the original C API, as a typed enum.
//!
//! The original library reports failures as negative `errno` numbers from the
//! newlib table (the nRF modem library uses the same numbers). The Rust API
//! is typed, but the numbers stay reachable through [`Errno::code`] for any
//! C-compatible layer, for shell output and for logs
//! (`carrier-api.md` §3, "Errno values").
//!
//! Nothing here panics.

use core::fmt;

/// An error number of the original API. [`Errno::code`] gives the positive
/// newlib number; the C API returned its negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Errno {
    /// EPERM 1: operation not permitted (e.g. carrier requirement not met).
    Perm,
    /// ENOENT 2: no such entry (object not initialised, sec tag absent).
    NoEnt,
    /// EIO 5: I/O error, internal or unknown failure.
    Io,
    /// E2BIG 7: argument (string, URL) too long.
    TooBig,
    /// EBADF 9: bad descriptor; a wrong image for the DFU target.
    BadF,
    /// EAGAIN 11: try again.
    Again,
    /// ENOMEM 12: out of memory / capacity.
    NoMem,
    /// EACCES 13: access denied (semaphore init failed, DFU not started).
    Acces,
    /// EFAULT 14: operator-specific item invalid or missing; applying an update failed.
    Fault,
    /// EBUSY 16: busy.
    Busy,
    /// ENODEV 19: no such device (power source not listed, no internal battery).
    NoDev,
    /// EINVAL 22: invalid argument.
    Inval,
    /// EFBIG 27: image too large.
    FBig,
    /// EBADR 51: invalid request descriptor (bad binding or PDN type, nothing scheduled).
    ///
    /// **Unconfirmed** in the original: EBADR is not in the modem's errno table;
    /// newlib and picolibc use 51, and so do we.
    BadR,
    /// ECONNREFUSED 111: connection refused.
    ConnRefused,
    /// ENETUNREACH 114: network unreachable.
    NetUnreach,
    /// ENETDOWN 115: network down, download cannot resume.
    NetDown,
    /// ETIMEDOUT 116: timed out.
    TimedOut,
    /// EHOSTUNREACH 118: host unreachable, all attempts exhausted.
    HostUnreach,
    /// EINPROGRESS 119: operation already in progress.
    InProgress,
    /// EALREADY 120: already scheduled.
    Already,
    /// ENOTSUP 134: not supported.
    NotSup,
    /// ECANCELED 140: cancelled.
    Canceled,
}

impl Errno {
    /// Every value, in table order.
    pub const ALL: [Errno; 23] = [
        Errno::Perm,
        Errno::NoEnt,
        Errno::Io,
        Errno::TooBig,
        Errno::BadF,
        Errno::Again,
        Errno::NoMem,
        Errno::Acces,
        Errno::Fault,
        Errno::Busy,
        Errno::NoDev,
        Errno::Inval,
        Errno::FBig,
        Errno::BadR,
        Errno::ConnRefused,
        Errno::NetUnreach,
        Errno::NetDown,
        Errno::TimedOut,
        Errno::HostUnreach,
        Errno::InProgress,
        Errno::Already,
        Errno::NotSup,
        Errno::Canceled,
    ];

    /// The positive newlib number (the C API returns `-code()`).
    pub const fn code(self) -> i32 {
        match self {
            Errno::Perm => 1,
            Errno::NoEnt => 2,
            Errno::Io => 5,
            Errno::TooBig => 7,
            Errno::BadF => 9,
            Errno::Again => 11,
            Errno::NoMem => 12,
            Errno::Acces => 13,
            Errno::Fault => 14,
            Errno::Busy => 16,
            Errno::NoDev => 19,
            Errno::Inval => 22,
            Errno::FBig => 27,
            Errno::BadR => 51,
            Errno::ConnRefused => 111,
            Errno::NetUnreach => 114,
            Errno::NetDown => 115,
            Errno::TimedOut => 116,
            Errno::HostUnreach => 118,
            Errno::InProgress => 119,
            Errno::Already => 120,
            Errno::NotSup => 134,
            Errno::Canceled => 140,
        }
    }

    /// The value from a positive or negative errno number, if it is one of ours.
    pub fn from_code(code: i32) -> Option<Errno> {
        let positive = code.checked_abs()?;
        Errno::ALL.into_iter().find(|e| e.code() == positive)
    }

    /// The symbolic name, `"ETIMEDOUT"`.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Perm => "EPERM",
            Errno::NoEnt => "ENOENT",
            Errno::Io => "EIO",
            Errno::TooBig => "E2BIG",
            Errno::BadF => "EBADF",
            Errno::Again => "EAGAIN",
            Errno::NoMem => "ENOMEM",
            Errno::Acces => "EACCES",
            Errno::Fault => "EFAULT",
            Errno::Busy => "EBUSY",
            Errno::NoDev => "ENODEV",
            Errno::Inval => "EINVAL",
            Errno::FBig => "EFBIG",
            Errno::BadR => "EBADR",
            Errno::ConnRefused => "ECONNREFUSED",
            Errno::NetUnreach => "ENETUNREACH",
            Errno::NetDown => "ENETDOWN",
            Errno::TimedOut => "ETIMEDOUT",
            Errno::HostUnreach => "EHOSTUNREACH",
            Errno::InProgress => "EINPROGRESS",
            Errno::Already => "EALREADY",
            Errno::NotSup => "ENOTSUP",
            Errno::Canceled => "ECANCELED",
        }
    }
}

impl fmt::Display for Errno {
    /// `-116 (ETIMEDOUT)`: the value as the original's logs print it, and its name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-{} ({})", self.code(), self.name())
    }
}

impl core::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_newlib_table_of_the_spec() {
        // carrier-api.md §3, "Errno values".
        let table = [
            ("EPERM", 1),
            ("ENOENT", 2),
            ("EIO", 5),
            ("E2BIG", 7),
            ("EBADF", 9),
            ("EAGAIN", 11),
            ("ENOMEM", 12),
            ("EACCES", 13),
            ("EFAULT", 14),
            ("EBUSY", 16),
            ("ENODEV", 19),
            ("EINVAL", 22),
            ("EFBIG", 27),
            ("EBADR", 51),
            ("ECONNREFUSED", 111),
            ("ENETUNREACH", 114),
            ("ENETDOWN", 115),
            ("ETIMEDOUT", 116),
            ("EHOSTUNREACH", 118),
            ("EINPROGRESS", 119),
            ("EALREADY", 120),
            ("ENOTSUP", 134),
            ("ECANCELED", 140),
        ];
        assert_eq!(table.len(), Errno::ALL.len());
        for (e, (name, code)) in Errno::ALL.iter().zip(table) {
            assert_eq!((e.name(), e.code()), (name, code));
        }
    }

    #[test]
    fn from_code_accepts_both_signs_and_rejects_unknown() {
        assert_eq!(Errno::from_code(-116), Some(Errno::TimedOut));
        assert_eq!(Errno::from_code(116), Some(Errno::TimedOut));
        assert_eq!(Errno::from_code(3), None);
        assert_eq!(Errno::from_code(i32::MIN), None);
    }
}
