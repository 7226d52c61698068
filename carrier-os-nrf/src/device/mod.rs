//! The device binding: [`AtChannel`] over the `nrf-modem` library.
//!
//! Compiled only for `target_os = "none"` with the `nrf-modem` feature (and
//! a chip feature). Commands go through `nrf_modem::send_at_blocking`,
//! which returns the whole response including the final result code;
//! notifications come from an `nrf_modem::AtNotificationStream` the
//! application creates, pins and registers after `nrf_modem::init`, and
//! are polled here with a no-op waker (the port's outer loop re-polls after
//! every wake-up, so no waker is needed).
//!
//! The rest of the device port lives in the submodules: [`sockets`]
//! (`ModemSockets` over `nrf-modem`'s UDP, DTLS and non-IP sockets),
//! [`entropy`] (the random seed), `clock` (`Clock` + `Wait` on RTC1) and
//! `flash` (`NorFlash` on the NVMC), the last two with the chip's PAC
//! (`nrf9160-pac`, or `nrf9120-pac` for the nRF9161 and nRF9151). `unsafe` is allowed only in `delta_dfu`, `flash` and `sockets`,
//! each block with its SAFETY argument.

#[cfg(any(feature = "nrf9160", feature = "nrf9161", feature = "nrf9151"))]
pub mod clock;
mod delta_dfu;
pub mod entropy;
#[cfg(any(feature = "nrf9160", feature = "nrf9161", feature = "nrf9151"))]
pub mod flash;

#[cfg(all(not(feature = "nrf9160"), any(feature = "nrf9161", feature = "nrf9151")))]
use nrf9120_pac as pac;
/// The chip's registers: RTC, CLOCK and NVMC are the same on the three.
#[cfg(feature = "nrf9160")]
use nrf9160_pac as pac;
pub mod sockets;

pub use delta_dfu::NrfModemDelta;

use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use futures_core::Stream;
use nrf_modem::AtNotificationStream;

use crate::channel::{AtChannel, ChannelError};
use crate::modem::RESPONSE_CAPACITY;

/// Longest notification kept, in bytes (`%XMONITOR`-sized).
pub const NOTIFICATION_CAPACITY: usize = 256;
/// Notifications queued by the library between two polls.
pub const NOTIFICATION_QUEUE: usize = 8;

/// The notification stream type [`ModemAt`] polls.
pub type Notifications = AtNotificationStream<NOTIFICATION_CAPACITY, NOTIFICATION_QUEUE>;

/// The AT channel of the real modem library.
pub struct ModemAt<'s> {
    notifications: Option<Pin<&'s mut Notifications>>,
}

impl<'s> ModemAt<'s> {
    /// A channel without notifications (link state then only changes by
    /// request).
    pub fn new() -> Self {
        Self { notifications: None }
    }

    /// A channel that also delivers notifications from `stream` (created
    /// with `AtNotificationStream::new().await`, pinned and registered).
    pub fn with_notifications(stream: Pin<&'s mut Notifications>) -> Self {
        Self { notifications: Some(stream) }
    }
}

impl Default for ModemAt<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl AtChannel for ModemAt<'_> {
    fn exchange(&mut self, command: &str, response: &mut [u8]) -> Result<usize, ChannelError> {
        let text = nrf_modem::send_at_blocking::<RESPONSE_CAPACITY>(command)
            .map_err(|_| ChannelError::Unavailable)?;
        let bytes = text.as_bytes();
        let dst = response.get_mut(..bytes.len()).ok_or(ChannelError::Overflow)?;
        dst.copy_from_slice(bytes);
        Ok(bytes.len())
    }

    fn poll_notification(&mut self, buf: &mut [u8]) -> Option<usize> {
        let stream = self.notifications.as_mut()?;
        let mut cx = Context::from_waker(Waker::noop());
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(text)) => {
                let bytes = text.as_bytes();
                let dst = buf.get_mut(..bytes.len())?;
                dst.copy_from_slice(bytes);
                Some(bytes.len())
            }
            _ => None,
        }
    }
}
