//! Protocol time: [`Instant`] and [`Duration`] in milliseconds.
//!
//! The core never reads a clock. Every `handle_*` call takes `now: Instant`
//! from the caller, and every deadline leaves as an `Instant`. A port converts
//! its own clock (a monotonic millisecond counter, `std::time::Instant`, a
//! virtual simulation clock) into these values. The epoch is whatever the port
//! chooses; only differences carry meaning.
//!
//! Nothing here panics: arithmetic saturates.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A point in time, in milliseconds since a port-chosen epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant {
    millis: u64,
}

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration {
    millis: u64,
}

impl Instant {
    /// The epoch (0 ms).
    pub const ZERO: Instant = Instant { millis: 0 };

    /// An instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Instant { millis }
    }

    /// An instant `secs` seconds after the epoch (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Instant { millis: secs.saturating_mul(1000) }
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.millis
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration { millis: self.millis.saturating_sub(earlier.millis) }
    }

    /// `self + d`, or `None` on overflow.
    pub const fn checked_add(self, d: Duration) -> Option<Instant> {
        match self.millis.checked_add(d.millis) {
            Some(millis) => Some(Instant { millis }),
            None => None,
        }
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration { millis: 0 };
    /// The longest representable span.
    pub const MAX: Duration = Duration { millis: u64::MAX };

    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Duration { millis }
    }

    /// A span of `secs` seconds (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Duration { millis: secs.saturating_mul(1000) }
    }

    /// A span of `mins` minutes (saturating).
    pub const fn from_mins(mins: u64) -> Self {
        Duration::from_secs(mins.saturating_mul(60))
    }

    /// A span of `hours` hours (saturating).
    pub const fn from_hours(hours: u64) -> Self {
        Duration::from_secs(hours.saturating_mul(3600))
    }

    /// The span in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.millis
    }

    /// The span in whole seconds (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.millis / 1000
    }

    /// `self * k`, saturating.
    pub const fn saturating_mul(self, k: u64) -> Duration {
        Duration { millis: self.millis.saturating_mul(k) }
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturating addition: an instant never wraps.
    fn add(self, d: Duration) -> Instant {
        Instant { millis: self.millis.saturating_add(d.millis) }
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturating difference: zero when `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, rhs: Duration) -> Duration {
        Duration { millis: self.millis.saturating_add(rhs.millis) }
    }
}

impl Sub for Duration {
    type Output = Duration;
    fn sub(self, rhs: Duration) -> Duration {
        Duration { millis: self.millis.saturating_sub(rhs.millis) }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.millis / 1000, self.millis % 1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.millis / 1000, self.millis % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let end = Instant::from_millis(u64::MAX - 1);
        assert_eq!((end + Duration::from_secs(5)).as_millis(), u64::MAX);
        assert_eq!(Instant::from_millis(5) - Instant::from_millis(9), Duration::ZERO);
        assert_eq!(end.checked_add(Duration::from_millis(2)), None);
    }

    #[test]
    fn display_shows_seconds_with_millis() {
        extern crate std;
        use std::string::ToString;
        assert_eq!(Duration::from_millis(2500).to_string(), "2.500s");
        assert_eq!(Instant::from_millis(7).to_string(), "0.007s");
    }
}
