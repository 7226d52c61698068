//! # dtls-psk — DTLS 1.2 with pre-shared keys, safe and sans-IO
//!
//! A small, safe wrapper over the vendored tinydtls (`tinydtls-sys` 0.2,
//! tinydtls commit 9d6cf54) for both roles: a [`Client`] session (identity +
//! key) and a [`Server`] that keeps sessions per peer address and looks keys
//! up by identity through a [`PskStore`]. Cipher suite
//! TLS_PSK_WITH_AES_128_CCM_8 only, as RFC 7925 §4.2 profiles it for
//! constrained devices. Interoperability with libcoap's OpenSSL and GnuTLS
//! builds is tested in `tests/libcoap.rs`.
//!
//! ## Shape
//!
//! Sans-IO like the CoAP layer: the caller owns the socket and the clock.
//! `handle_datagram(now, ..)` and `handle_timeout(now)` feed input;
//! `poll_transmit()`, `poll_event()`, `recv()` and `poll_timeout()` drain
//! output; `connect`, `send` and `close` are commands. After every input or
//! command, drain every `poll_*`. Time is [`Instant`] (milliseconds, caller's
//! epoch), so a simulation's virtual clock can drive it.
//!
//! ## What is and is not supported
//!
//! * Handshake retransmission: tinydtls's own flight timer (initial 2 s,
//!   doubling, at most 7 retransmissions; compiled into tinydtls, not
//!   configurable — RFC 6347 §4.2.4.1 suggests 1 s, RFC 7925 §11 9 s). It runs
//!   on the caller's `now` (see *Time* below). [`Config::handshake_timeout`]
//!   bounds the whole handshake.
//! * close_notify both ways; a new session after the old one closed
//!   ([`Client::connect`] again).
//! * **Not supported: DTLS Connection ID (RFC 9146).** The vendored tinydtls
//!   has no `connection_id` extension; a NAT rebinding needs a new handshake.
//! * **Not supported: keys longer than 16 bytes** ([`MAX_PSK_LEN`]) and
//!   identities longer than 32 bytes: tinydtls's buffers are that size.
//! * **Not supported: injected randomness.** tinydtls draws its randoms from
//!   `getrandom(2)`; handshake bytes differ from run to run.
//! * Records that fail to decrypt or parse are dropped silently
//!   (RFC 6347 §4.1.2.7), so a wrong key usually shows up as
//!   [`Event::HandshakeTimeout`] on the side that sent the last flight, or as
//!   a fatal alert when the peer sends one.
//!
//! ## Time
//!
//! tinydtls reads its clock through `dtls_ticks()` = `gettimeofday` minus a
//! global offset in whole seconds. Before every call the wrapper sets that
//! offset so tinydtls sees a clock private to the context that only advances
//! when [`Client::handle_timeout`] / [`Server::handle_timeout`] fire a due
//! deadline; the deadlines leave through `poll_timeout` on the caller's
//! clock. So retransmissions happen when the caller's `now` reaches them —
//! under a real or a virtual clock (the loopback tests use only virtual
//! time). Residues of the real clock, measured and documented rather than
//! hidden: a deadline can be off by a millisecond or two (tinydtls's
//! sub-second part is real), and on a [`Server`] another peer's
//! retransmission due within about 3 s of the one firing is sent with it.
//!
//! ## Deviations from plain tinydtls
//!
//! Each found by a test in this crate, each fixed in the wrapper (the
//! vendored C is not patched):
//!
//! * tinydtls forgets a handshake as soon as it is connected, so a server
//!   whose final flight (ChangeCipherSpec + Finished) is lost would ignore
//!   the client's retransmitted flight and the client could never finish.
//!   [`Server`] keeps that flight and resends it when the client's flight
//!   comes again, as RFC 6347 §4.2.4 asks, until application data arrives.
//! * A tinydtls server answers a retransmitted ClientHello (valid cookie)
//!   by restarting the handshake with a new ServerHello random while its
//!   timer may already have resent the old flight; a client that sees both
//!   finishes a handshake the server no longer has. [`Server`] answers a
//!   ClientHello identical to the one that opened a handshake in progress
//!   with its latest flight itself; a different one (a restarted client)
//!   still goes to tinydtls.
//! * The [`Server`] packs the records of one flight into one datagram
//!   (RFC 6347 §4.1.1), so a client never gets a Finished without its
//!   ChangeCipherSpec. The [`Client`] does not: GnuTLS (libcoap 4.3.1)
//!   ignores a retransmitted client final flight sent that way.
//! * tinydtls stops retransmitting as soon as the first message of the
//!   peer's next flight arrives. If the rest of that flight is lost and the
//!   server only retransmits when it hears from us (libcoap with GnuTLS),
//!   both sides would wait forever. The [`Client`] repeats its last flight
//!   itself after 2 s of silence (doubling), with the plaintext record
//!   sequence numbers raised so the repeat is a new record (RFC 6347
//!   §4.2.4).
//! * tinydtls reports `DTLS_EVENT_CONNECTED` again for each retransmitted
//!   client flight; [`Event::Connected`] is reported once per session.
//! * A client that restarts from the same address (a reboot) replaces its
//!   old server session: the server reports [`Event::Closed`] for the old one,
//!   then [`Event::Connected`] for the new one.
//! * `dtls_connect` on a peer tinydtls still knows destroys that peer and
//!   then uses it (a use-after-free; it showed up as a double free); the
//!   wrapper always removes the old peer first.
//!
//! ## Safety argument
//!
//! `unsafe` lives in `ffi.rs` only; each block has a `// SAFETY:` comment.
//! * Callbacks never unwind into C: their bodies run in `catch_unwind` and
//!   report `-1` on a panic; the server's key lookup is caught the same way.
//! * The callback state behind the context's `app` pointer and the handler
//!   table behind `h` are boxed before the context exists and freed only
//!   after `dtls_free_context`; no Rust reference to them is alive while
//!   tinydtls runs.
//! * tinydtls keeps process-wide state (a static cipher context, the log
//!   buffer, the clock offset), so every call into it holds one global
//!   mutex; `dtls_init` runs once under it (`std::sync::Once`). With that,
//!   [`Client`] and [`Server`] are `Send` (not `Sync`).
//! * C enums that tinydtls fills with values outside the bindgen enum (alert
//!   level `0` for events) are received as integers.
//! * [`Psk`] zeroes itself on drop; `Debug` prints only its length.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod event;
mod ffi;
mod psk;
mod server;
mod time;

pub use client::Client;
pub use event::{AlertDescription, AlertLevel, Event, Stats};
pub use psk::{CredentialError, MAX_IDENTITY_LEN, MAX_PSK_LEN, Psk, PskStore};
pub use server::Server;
pub use time::{Duration, Instant};

/// Largest application datagram [`Client::send`] / [`Server::send`] accept:
/// tinydtls's 1400-byte record buffer (`DTLS_MAX_BUF`) minus the 13-byte
/// record header, the 8-byte explicit nonce and the 8-byte CCM_8 tag.
pub const MAX_APP_DATA: usize = 1400 - 13 - 8 - 8;

/// Settings shared by both roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// How long a handshake may take, from `connect` (client) or from the
    /// cookie-verified ClientHello (server), before it is abandoned with
    /// [`Event::HandshakeTimeout`]. Default 62 s: tinydtls's first five
    /// flight timeouts (2 + 4 + 8 + 16 + 32 s).
    pub handshake_timeout: Duration,
    /// Server only: sessions kept at once; a further client is dropped after
    /// its cookie exchange. Default 64.
    pub max_sessions: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { handshake_timeout: Duration::from_secs(62), max_sessions: 64 }
    }
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// No session yet.
    Idle,
    /// Handshake flights in progress.
    Handshaking,
    /// Handshake done; application data flows.
    Connected,
    /// close_notify sent, waiting for the peer's.
    Closing,
    /// Ended (closed, failed or timed out); a client may `connect` again.
    Closed,
}

/// Why a [`Client`] or [`Server`] could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NewError {
    /// The identity or key cannot be used.
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// tinydtls could not allocate a context.
    #[error("tinydtls could not allocate a context")]
    OutOfMemory,
}

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No open session (handshake not finished, or session ended).
    #[error("no open DTLS session")]
    NotConnected,
    /// A handshake is running or a session is open already.
    #[error("a DTLS session is already active")]
    Busy,
    /// More than [`MAX_APP_DATA`] bytes.
    #[error("{0} bytes exceed the {MAX_APP_DATA}-byte record limit")]
    TooLong(usize),
    /// tinydtls refused (out of memory or internal state).
    #[error("tinydtls refused the operation")]
    Rejected,
}

/// The alert behind a negative `dtls_handle_message` result
/// (`dtls_alert_create`: `-((level << 8) | description)`), if it is one.
fn alert_from_return(rc: core::ffi::c_int) -> Option<(AlertLevel, AlertDescription)> {
    let code = rc.checked_neg()?;
    let level = u8::try_from(code >> 8).ok()?;
    if !(1..=2).contains(&level) {
        return None;
    }
    Some((AlertLevel::from(level), AlertDescription((code & 0xff) as u8)))
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_codes_decode_from_tinydtls_returns() {
        // dtls_alert_fatal_create(DTLS_ALERT_DECRYPT_ERROR) = -(0x200 | 51)
        assert_eq!(
            alert_from_return(-(0x200 | 51)),
            Some((AlertLevel::Fatal, AlertDescription::DECRYPT_ERROR))
        );
        assert_eq!(
            alert_from_return(-(0x100)),
            Some((AlertLevel::Warning, AlertDescription::CLOSE_NOTIFY))
        );
        assert_eq!(alert_from_return(0), None);
        assert_eq!(alert_from_return(-1), None);
        assert_eq!(alert_from_return(core::ffi::c_int::MIN), None);
    }

    #[test]
    fn client_and_server_are_send() {
        fn is_send<T: Send>() {}
        is_send::<Client>();
        is_send::<Server>();
    }
}
