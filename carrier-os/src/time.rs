//! Time as values: [`Instant`] and [`Duration`], milliseconds in a `u64`.
//!
//! This module owns the port's notion of time. It is deliberately the same unit
//! and representation as `lwm2m_core::time` (milliseconds, `u64`), so the
//! runtime converts with `Instant::from_millis(x.as_millis())` and nothing is
//! lost. `carrier-os` does not depend on `lwm2m-core` (ports must not see the
//! protocol), hence the separate types.
//!
//! Guarantee: nothing here panics; arithmetic saturates.

use core::fmt;
use core::ops::{Add, Sub};

/// A point on the port's monotonic clock, in milliseconds since an arbitrary
/// epoch fixed at boot (normally the boot itself).
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
    /// The clock's epoch.
    pub const ZERO: Instant = Instant { millis: 0 };
    /// The farthest representable instant ("never").
    pub const MAX: Instant = Instant { millis: u64::MAX };

    /// An instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Instant { millis }
    }
    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.millis
    }
    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.millis.saturating_sub(earlier.millis))
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
    /// No time.
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
    /// The span in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.millis
    }
    /// The span in whole seconds (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.millis / 1000
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturates at [`Instant::MAX`].
    fn add(self, d: Duration) -> Instant {
        Instant { millis: self.millis.saturating_add(d.millis) }
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at [`Duration::ZERO`].
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_since(earlier)
    }
}

impl Add for Duration {
    type Output = Duration;
    /// Saturates at [`Duration::MAX`].
    fn add(self, o: Duration) -> Duration {
        Duration { millis: self.millis.saturating_add(o.millis) }
    }
}

impl core::ops::Div<u64> for Duration {
    type Output = Duration;
    /// Division by zero gives [`Duration::ZERO`].
    fn div(self, rhs: u64) -> Duration {
        Duration { millis: self.millis.checked_div(rhs).unwrap_or(0) }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.millis / 1000, self.millis % 1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.millis)
    }
}

/// The monotonic clock.
pub trait Clock {
    /// The current time.
    ///
    /// Contract:
    /// - MUST be monotonic: a call never returns less than any earlier call.
    /// - MUST NOT fail, block or allocate; it may be called from any context.
    /// - MUST return a value (normally [`Instant::ZERO`] or more) even before
    ///   the rest of the port is initialised.
    /// - MUST keep counting while the device sleeps in
    ///   [`Wait::wait_until`](crate::wait::Wait::wait_until).
    fn now(&self) -> Instant;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(Instant::MAX + Duration::from_millis(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Instant::from_millis(5), Duration::ZERO);
        assert_eq!(Instant::MAX.checked_add(Duration::from_millis(1)), None);
        assert_eq!(Duration::from_secs(u64::MAX), Duration::MAX);
        assert_eq!(Instant::from_millis(1500) - Instant::from_millis(500), Duration::from_secs(1));
    }
}
