//! The device binding: [`AtChannel`] over `nrf-modem` (placeholder until the
//! port is wired; see `ModemAt`).

use crate::channel::{AtChannel, ChannelError};

/// The AT channel of the real modem library.
///
/// `nrf_modem::send_at_blocking` returns the whole response, final result
/// code included; notifications are delivered by the library's own
/// notification stream and are not polled here.
#[derive(Debug, Default)]
pub struct ModemAt;

impl AtChannel for ModemAt {
    fn exchange(&mut self, command: &str, response: &mut [u8]) -> Result<usize, ChannelError> {
        let text = nrf_modem::send_at_blocking::<{ crate::modem::RESPONSE_CAPACITY }>(command)
            .map_err(|_| ChannelError::Unavailable)?;
        let bytes = text.as_bytes();
        let dst = response.get_mut(..bytes.len()).ok_or(ChannelError::Overflow)?;
        dst.copy_from_slice(bytes);
        Ok(bytes.len())
    }

    fn poll_notification(&mut self, _buf: &mut [u8]) -> Option<usize> {
        None
    }
}
