//! Waiting: the one call that blocks (or awaits), used only by the outer loop.
//!
//! Owns [`Wait`] (blocking) and [`AsyncWait`] (async). Everything else in
//! `carrier-os` returns at once; this is where a thread sleeps or a task
//! yields until the runtime's next deadline or until something happened.

use core::future::Future;

use crate::time::Instant;

/// Why [`Wait::wait_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Wake {
    /// The deadline passed.
    Deadline,
    /// Something may be ready: a datagram, an `open` or download progress, a
    /// link/PDN state change, an SMS. The runtime polls everything.
    Io,
}

/// Blocking wait, for a plain loop on a thread.
pub trait Wait {
    /// Blocks until `deadline` (`None`: no deadline) or until I/O readiness.
    ///
    /// Contract:
    /// - MUST return [`Wake::Io`] promptly after any event that makes a
    ///   `poll_*`/`recv`/state call of this port give a new answer (datagram
    ///   arrival, open completed or failed, download data, link or PDN state
    ///   change, SMS). Spurious `Io` wake-ups are allowed.
    /// - MUST return [`Wake::Deadline`] no earlier than `deadline` by the
    ///   port's [`Clock`](crate::time::Clock) when nothing happened; a deadline
    ///   already past returns at once.
    /// - MUST NOT lose a readiness event that happened before the call
    ///   (level-triggered: if data is waiting, return at once).
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake;
}

/// Async wait, for an executor (embassy, tokio, any `block_on`).
///
/// The method has its own name so that a port implementing both traits
/// never needs qualified calls.
pub trait AsyncWait {
    /// Same contract as [`Wait::wait_until`], as a future. The future MUST be
    /// cancel-safe: dropping it loses no event. It MUST NOT assume a
    /// particular executor or timer driver (a port brings its own, e.g.
    /// `embassy_time::Timer::at`, or a timer thread on a desktop).
    fn wait_until_async(&mut self, deadline: Option<Instant>) -> impl Future<Output = Wake>;
}
