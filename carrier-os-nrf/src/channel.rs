//! The AT channel: the one primitive the port needs from the modem library
//! to control the modem.
//!
//! Owns the contract between the typed AT layer and whatever carries the
//! text: `nrf-modem`'s `send_at_blocking` on the device
//! (`device` module, device target only), the scripted [`crate::transcript::Transcript`] on
//! the host.

use core::fmt;

/// Why an exchange on the AT channel failed (not a modem `ERROR`: those are
/// responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChannelError {
    /// The response did not fit the buffer.
    #[error("AT response exceeds the buffer")]
    Overflow,
    /// The modem library is not initialised or has shut down.
    #[error("modem library not available")]
    Unavailable,
    /// The modem library reported an error (its code).
    #[error("modem library error {0}")]
    Library(i32),
    /// A scripted channel received a command the script does not expect.
    #[error("command not expected by the transcript (step {step})")]
    Unexpected {
        /// Index of the transcript exchange that did not match.
        step: u16,
    },
    /// A scripted channel has no exchange left.
    #[error("transcript exhausted")]
    Exhausted,
}

/// A channel that carries one AT command and returns its complete response.
pub trait AtChannel {
    /// Sends `command` (without line terminator) and writes the complete
    /// response, final result code included, into `response`.
    ///
    /// Implementations MUST return only after the final result code has been
    /// received, MUST NOT split one response across calls, and MAY include
    /// notification lines that arrived in between (the parser sets them
    /// aside).
    ///
    /// # Errors
    /// [`ChannelError`] when the exchange itself failed.
    fn exchange(&mut self, command: &str, response: &mut [u8]) -> Result<usize, ChannelError>;

    /// Takes the next pending notification into `buf`, returning its length,
    /// or `None` when there is none. MUST NOT block.
    fn poll_notification(&mut self, buf: &mut [u8]) -> Option<usize>;
}

impl<T: AtChannel + ?Sized> AtChannel for &mut T {
    fn exchange(&mut self, command: &str, response: &mut [u8]) -> Result<usize, ChannelError> {
        (**self).exchange(command, response)
    }
    fn poll_notification(&mut self, buf: &mut [u8]) -> Option<usize> {
        (**self).poll_notification(buf)
    }
}

/// Printable form of a command for logs (hides `%CMNG` content, which may
/// be a key).
pub struct Redacted<'a>(pub &'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.strip_prefix("AT%CMNG=0,") {
            Some(rest) => {
                let head = rest.split('"').next().unwrap_or("");
                write!(f, "AT%CMNG=0,{head}\"<redacted>\"")
            }
            None => f.write_str(self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Redacted;

    #[test]
    fn credential_content_never_reaches_a_log_line() {
        let shown = format!("{}", Redacted("AT%CMNG=0,25,3,\"000102030405\""));
        assert_eq!(shown, "AT%CMNG=0,25,3,\"<redacted>\"");
        assert_eq!(format!("{}", Redacted("AT+CFUN?")), "AT+CFUN?");
    }
}
