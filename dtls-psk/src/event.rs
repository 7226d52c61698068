//! What a session reports: [`Event`], with the alert it carries
//! ([`AlertLevel`], [`AlertDescription`], RFC 5246 §7.2), and the
//! per-session [`Stats`].
//!
//! Guarantee: every value an event can carry, including alert codes this
//! crate does not name, is representable (`Unknown(n)`, the raw
//! [`AlertDescription`] byte); nothing here panics.

use core::fmt;

/// Something that happened to a session; drain with `poll_event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Event {
    /// The handshake finished; application data may flow.
    Connected,
    /// The session ended: close_notify was exchanged (or ours went
    /// unanswered), or a fatal alert (reported just before) ended it. A new
    /// session needs a new handshake.
    Closed,
    /// An alert was received from the peer (`sent_by_us == false`) or sent
    /// to it because its messages were wrong (`sent_by_us == true`).
    /// close_notify is reported as [`Event::Closed`] instead.
    Alert {
        /// Warning or fatal.
        level: AlertLevel,
        /// What went wrong.
        description: AlertDescription,
        /// Who raised it.
        sent_by_us: bool,
    },
    /// The handshake did not finish within `Config::handshake_timeout`; the
    /// session was dropped.
    HandshakeTimeout,
}

/// An alert's level (RFC 5246 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    /// warning(1)
    Warning,
    /// fatal(2)
    Fatal,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for AlertLevel {
    fn from(v: u8) -> Self {
        match v {
            1 => AlertLevel::Warning,
            2 => AlertLevel::Fatal,
            n => AlertLevel::Unknown(n),
        }
    }
}

impl From<AlertLevel> for u8 {
    fn from(v: AlertLevel) -> u8 {
        match v {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
            AlertLevel::Unknown(n) => n,
        }
    }
}

/// An alert's description byte (RFC 5246 §7.2, RFC 4279 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    /// close_notify(0)
    pub const CLOSE_NOTIFY: Self = Self(0);
    /// unexpected_message(10)
    pub const UNEXPECTED_MESSAGE: Self = Self(10);
    /// bad_record_mac(20)
    pub const BAD_RECORD_MAC: Self = Self(20);
    /// handshake_failure(40)
    pub const HANDSHAKE_FAILURE: Self = Self(40);
    /// illegal_parameter(47)
    pub const ILLEGAL_PARAMETER: Self = Self(47);
    /// decode_error(50)
    pub const DECODE_ERROR: Self = Self(50);
    /// decrypt_error(51): a wrong PSK shows up as this (RFC 4279 §2).
    pub const DECRYPT_ERROR: Self = Self(51);
    /// protocol_version(70)
    pub const PROTOCOL_VERSION: Self = Self(70);
    /// insufficient_security(71)
    pub const INSUFFICIENT_SECURITY: Self = Self(71);
    /// internal_error(80)
    pub const INTERNAL_ERROR: Self = Self(80);
    /// unknown_psk_identity(115), RFC 4279 §2.
    pub const UNKNOWN_PSK_IDENTITY: Self = Self(115);

    /// The RFC's name, if this crate knows it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            22 => "record_overflow",
            40 => "handshake_failure",
            47 => "illegal_parameter",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            90 => "user_canceled",
            110 => "unsupported_extension",
            115 => "unknown_psk_identity",
            _ => return None,
        })
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}({})", self.0),
            None => write!(f, "alert({})", self.0),
        }
    }
}

/// Datagram and byte counts of one client or server, both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Datagrams handed out by `poll_transmit`.
    pub datagrams_sent: u64,
    /// Their total size in bytes (DTLS records, no UDP/IP headers).
    pub bytes_sent: u64,
    /// Datagrams given to `handle_datagram`.
    pub datagrams_received: u64,
    /// Their total size in bytes.
    pub bytes_received: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_level_round_trips_every_byte() {
        for v in 0..=u8::MAX {
            assert_eq!(u8::from(AlertLevel::from(v)), v);
        }
        assert_eq!(AlertLevel::from(2), AlertLevel::Fatal);
    }

    #[test]
    fn alert_description_displays_rfc_name() {
        assert_eq!(AlertDescription::DECRYPT_ERROR.to_string(), "decrypt_error(51)");
        assert_eq!(AlertDescription(200).to_string(), "alert(200)");
    }
}
