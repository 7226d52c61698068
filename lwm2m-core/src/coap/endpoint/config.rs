//! The endpoint's capacities (compile-time constants, STYLE §6) and its
//! transmission parameters (run-time [`Config`], RFC 7252 §4.8).
//!
//! Every buffer the endpoint owns is sized here, so its RAM cost is
//! `(1 + MAX_EXCHANGES + DEDUP_CAPACITY) * MAX_MESSAGE_LEN` bytes plus small
//! bookkeeping; nothing is allocated at run time.

use crate::time::Duration;

/// Largest CoAP message the endpoint sends or accepts, in bytes: RFC 7252
/// §4.6's 1152 bytes, room for a 1024-byte block plus header and options.
/// Larger datagrams are dropped (a CON one answered with RST).
pub const MAX_MESSAGE_LEN: usize = 1152;

/// Outgoing messages the endpoint tracks at once: CON/NON requests awaiting
/// their response, CON separate responses and notifications awaiting their
/// ACK, and requests queued behind NSTART. One more gives `QueueFull`.
pub const MAX_EXCHANGES: usize = 4;

/// Received messages remembered for de-duplication over EXCHANGE_LIFETIME
/// (NON_LIFETIME for NON), each with the response it was given. When full,
/// the answered entry closest to expiry is replaced; when every entry is a
/// request the application has not answered yet, a new request is dropped
/// and left to its sender's retransmission.
pub const DEDUP_CAPACITY: usize = 4;

/// Events waiting for [`poll_event`](super::Endpoint::poll_event).
pub const EVENT_QUEUE_LEN: usize = 8;

/// Datagrams waiting for [`poll_transmit`](super::Endpoint::poll_transmit).
pub const TRANSMIT_QUEUE_LEN: usize = 12;

/// Length of the tokens the endpoint generates (RFC 7252 §5.3.1: random,
/// "at least 32 bits of randomness" when the transport is not secured).
pub const TOKEN_LEN: usize = 4;

/// Transmission parameters of RFC 7252 §4.8, with its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// ACK_TIMEOUT: the initial retransmission timeout's lower bound (2 s).
    pub ack_timeout: Duration,
    /// ACK_RANDOM_FACTOR in thousandths (1500 = 1.5): the initial timeout is
    /// drawn from `[ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR]`.
    pub ack_random_factor_permille: u32,
    /// MAX_RETRANSMIT: retransmissions of a CON before giving up (4).
    pub max_retransmit: u32,
    /// NSTART: outstanding CON messages per peer (1). Further ones wait.
    pub nstart: usize,
    /// MAX_LATENCY: the longest a datagram is assumed in flight (100 s).
    pub max_latency: Duration,
    /// PROCESSING_DELAY: the time a peer takes to ACK a CON (ACK_TIMEOUT).
    pub processing_delay: Duration,
    /// How long a request waits for its response once ACKed by an empty ACK
    /// (or, for a NON request, after sending). RFC 7252 sets no limit; the
    /// default is EXCHANGE_LIFETIME.
    pub response_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ack_timeout: Duration::from_secs(2),
            ack_random_factor_permille: 1500,
            max_retransmit: 4,
            nstart: 1,
            max_latency: Duration::from_secs(100),
            processing_delay: Duration::from_secs(2),
            response_timeout: Duration::from_secs(247),
        }
    }
}

impl Config {
    /// The largest initial timeout, ACK_TIMEOUT * ACK_RANDOM_FACTOR.
    pub fn max_initial_timeout(&self) -> Duration {
        let ms =
            self.ack_timeout.as_millis().saturating_mul(u64::from(self.ack_random_factor_permille));
        Duration::from_millis(ms / 1000)
    }

    /// MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR (45 s).
    pub fn max_transmit_span(&self) -> Duration {
        let factor = 1u64.checked_shl(self.max_retransmit).unwrap_or(u64::MAX).saturating_sub(1);
        self.max_initial_timeout().saturating_mul(factor)
    }

    /// EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY (247 s).
    pub fn exchange_lifetime(&self) -> Duration {
        self.max_transmit_span() + self.max_latency.saturating_mul(2) + self.processing_delay
    }

    /// NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY (145 s).
    pub fn non_lifetime(&self) -> Duration {
        self.max_transmit_span() + self.max_latency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_parameters_match_rfc7252_section_4_8_2() {
        let c = Config::default();
        assert_eq!(c.max_initial_timeout(), Duration::from_secs(3));
        assert_eq!(c.max_transmit_span(), Duration::from_secs(45));
        assert_eq!(c.exchange_lifetime(), Duration::from_secs(247));
        assert_eq!(c.non_lifetime(), Duration::from_secs(145));
    }
}
