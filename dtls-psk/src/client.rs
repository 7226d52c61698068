//! The client role: one DTLS 1.2 PSK session with one server
//! (RFC 6347, cipher suite TLS_PSK_WITH_AES_128_CCM_8 per RFC 7925 §4.2).
//!
//! Guarantee: no input (datagram bytes, call order, time values) makes a
//! [`Client`] panic or wait forever; a handshake that cannot finish ends in
//! [`Event::HandshakeTimeout`] at `connect` time + `Config::handshake_timeout`
//! or earlier with [`Event::Alert`]/[`Event::Closed`].

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::event::{AlertDescription, AlertLevel, Event, Stats};
use crate::ffi::{Credentials, Engine, RawEvent};
use crate::psk::{Psk, check_identity};
use crate::time::{Duration, Instant};
use crate::{Config, NewError, SendError, SessionState, alert_from_return, earliest};

/// tinydtls addresses sessions by socket address; the client has one peer,
/// and the caller owns the real address, so a fixed placeholder is used.
const PEER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// Record sequence numbers skipped per stall repeat: a repeat must carry a
/// new sequence number (RFC 6347 §4.2.4) that tinydtls will not use for the
/// records it sends next; those then arrive "out of order" but inside the
/// receiver's replay window (at least 32, RFC 6347 §4.1.2.6).
const STALL_SEQ_STEP: u64 = 4;

/// `datagram` with its record sequence number raised by `offset`, if it is a
/// single plaintext (epoch 0) record — the only kind whose header is not
/// authenticated and may be rewritten (RFC 6347 §4.1: type, version, epoch,
/// 48-bit sequence number, length).
fn with_later_sequence(datagram: &[u8], offset: u64) -> Option<Vec<u8>> {
    let (header, body) = datagram.split_at_checked(13)?;
    let epoch = header.get(3..5)?;
    let length = header.get(11..13)?;
    if epoch != [0, 0] || usize::from(u16::from_be_bytes([length[0], length[1]])) != body.len() {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.get_mut(2..)?.copy_from_slice(header.get(5..11)?);
    let raised = u64::from_be_bytes(seq).checked_add(offset)?;
    if raised >= 1 << 48 {
        return None;
    }
    let mut out = datagram.to_vec();
    out.get_mut(5..11)?.copy_from_slice(raised.to_be_bytes().get(2..)?);
    Some(out)
}

/// A DTLS-PSK client session, sans-IO.
///
/// After any `handle_*`, `connect`, `send` or `close` call, drain
/// [`poll_transmit`](Self::poll_transmit) (datagrams for the server),
/// [`poll_event`](Self::poll_event) and [`recv`](Self::recv), then wait
/// until [`poll_timeout`](Self::poll_timeout) or the next datagram:
///
/// ```
/// # use dtls_psk::{Client, Config, Psk, Instant};
/// let mut client = Client::new(b"device-1", Psk::new(&[7; 16])?, Config::default())?;
/// client.connect(Instant::from_millis(0))?;
/// while let Some(datagram) = client.poll_transmit() {
///     // socket.send(&datagram)
/// #   assert_eq!(datagram[0], 22); // a handshake record: the ClientHello
/// }
/// assert!(client.poll_timeout().is_some()); // retransmission / give-up deadline
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Client {
    engine: Engine,
    config: Config,
    state: SessionState,
    handshake_deadline: Option<Instant>,
    /// When the handshake last moved (connect, restart, or a datagram in).
    last_progress: Instant,
    /// Stall repeats so far (see `stall_deadline`).
    restarts: u32,
    /// Our latest handshake flight as sent, for stall repeats.
    last_flight: Vec<Vec<u8>>,
    /// `stats.datagrams_received` when `last_flight` was started.
    flight_marker: u64,
    events: VecDeque<Event>,
    stats: Stats,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that authenticates as `identity` with `psk`. Nothing is sent
    /// until [`connect`](Self::connect).
    ///
    /// # Errors
    /// [`NewError::Credential`] for an identity tinydtls cannot carry,
    /// [`NewError::OutOfMemory`] if tinydtls could not allocate its context.
    pub fn new(identity: &[u8], psk: Psk, config: Config) -> Result<Self, NewError> {
        check_identity(identity)?;
        let engine = Engine::new(Credentials::Client { identity: identity.to_vec(), psk }, false)
            .map_err(|_| NewError::OutOfMemory)?;
        Ok(Client {
            engine,
            config,
            state: SessionState::Idle,
            handshake_deadline: None,
            last_progress: Instant::ZERO,
            restarts: 0,
            last_flight: Vec::new(),
            flight_marker: 0,
            events: VecDeque::new(),
            stats: Stats::default(),
        })
    }

    /// Starts a handshake (a ClientHello goes out). Allowed when idle or
    /// after the previous session ended; this is how a closed or timed-out
    /// session is replaced by a new one.
    ///
    /// # Errors
    /// [`SendError::Busy`] while a handshake runs or a session is open,
    /// [`SendError::Rejected`] if tinydtls refused.
    pub fn connect(&mut self, now: Instant) -> Result<(), SendError> {
        if matches!(self.state, SessionState::Handshaking | SessionState::Connected) {
            return Err(SendError::Busy);
        }
        if !self.engine.connect(now, PEER) {
            return Err(SendError::Rejected);
        }
        self.state = SessionState::Handshaking;
        self.handshake_deadline = Some(now + self.config.handshake_timeout);
        self.last_progress = now;
        self.restarts = 0;
        self.collect();
        Ok(())
    }

    /// Feeds one datagram received from the server. Records that fail
    /// authentication or parsing are dropped silently, as RFC 6347
    /// §4.1.2.7 requires.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        self.stats.datagrams_received += 1;
        self.stats.bytes_received += datagram.len() as u64;
        let rc = self.engine.handle_message(now, PEER, datagram);
        self.last_progress = now;
        self.collect();
        if let Some((level, description)) = alert_from_return(rc) {
            self.events.push_back(Event::Alert { level, description, sent_by_us: true });
            if level == AlertLevel::Fatal {
                self.end(Event::Closed);
            }
        }
    }

    /// Runs due timers: handshake retransmission (tinydtls's RFC 6347 flight
    /// timer, 2 s doubling), the close_notify wait, and the give-up deadline.
    /// Calling it early or twice does nothing harmful.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Give-up first, so nothing is resent into an abandoned handshake.
        if self.state == SessionState::Handshaking
            && self.handshake_deadline.is_some_and(|d| now >= d)
        {
            self.engine.reset(now, PEER);
            self.engine.shared().transmits.clear();
            self.engine.shared().events.clear();
            self.end(Event::HandshakeTimeout);
        }
        if self.stall_deadline().is_some_and(|d| now >= d) {
            self.restarts = self.restarts.saturating_add(1);
            self.last_progress = now;
            let offset = u64::from(self.restarts) * STALL_SEQ_STEP;
            let repeat: Vec<Vec<u8>> =
                self.last_flight.iter().filter_map(|d| with_later_sequence(d, offset)).collect();
            let transmits = &mut self.engine.shared().transmits;
            transmits.extend(repeat.into_iter().map(|d| (PEER, d)));
        }
        self.engine.fire_timers(now);
        self.collect();
        if self.state == SessionState::Closing && !self.engine.has_peer(PEER) {
            self.end(Event::Closed);
        }
    }

    /// The next instant [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let give_up =
            if self.state == SessionState::Handshaking { self.handshake_deadline } else { None };
        earliest(earliest(self.engine.retransmit_at(), give_up), self.stall_deadline())
    }

    /// tinydtls stops retransmitting its flight as soon as the first
    /// message of the server's next flight arrives (dtls.c,
    /// `handle_handshake_msg`). If the rest of that flight is lost and the
    /// server only retransmits when it hears from us (libcoap with GnuTLS
    /// does that), neither side would ever send again. So while a handshake
    /// has no retransmission queued and nothing arrives for 2 s (doubling
    /// per repeat, at most 32 s), the client repeats its last flight itself,
    /// as RFC 6347 §4.2.4 wants (see [`with_later_sequence`]).
    fn stall_deadline(&self) -> Option<Instant> {
        if self.state != SessionState::Handshaking || self.engine.retransmit_at().is_some() {
            return None;
        }
        Some(self.last_progress + Duration::from_millis(2_000 << self.restarts.min(4)))
    }

    /// The next datagram to send to the server.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let (_, datagram) = self.engine.shared().transmits.pop_front()?;
        if self.state == SessionState::Handshaking {
            self.note_flight(&datagram);
        }
        self.stats.datagrams_sent += 1;
        self.stats.bytes_sent += datagram.len() as u64;
        Some(datagram)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next decrypted application datagram from the server.
    #[must_use]
    pub fn recv(&mut self) -> Option<Vec<u8>> {
        self.engine.shared().received.pop_front().map(|(_, data)| data)
    }

    /// Encrypts `data` as one application-data record (one datagram).
    ///
    /// # Errors
    /// [`SendError::NotConnected`] unless [`Event::Connected`] was reported
    /// and the session has not ended; [`SendError::TooLong`] above
    /// [`crate::MAX_APP_DATA`]; [`SendError::Rejected`] if tinydtls refused.
    pub fn send(&mut self, now: Instant, data: &[u8]) -> Result<(), SendError> {
        if self.state != SessionState::Connected {
            return Err(SendError::NotConnected);
        }
        if data.len() > crate::MAX_APP_DATA {
            return Err(SendError::TooLong(data.len()));
        }
        if self.engine.write(now, PEER, data) { Ok(()) } else { Err(SendError::Rejected) }
    }

    /// Sends close_notify. [`Event::Closed`] follows when the server answers
    /// with its close_notify or after tinydtls's 2 s wait. Does nothing when
    /// no session is open.
    pub fn close(&mut self, now: Instant) {
        match self.state {
            SessionState::Connected => {
                self.engine.close(now, PEER);
                self.state = SessionState::Closing;
                self.collect();
            }
            SessionState::Handshaking => {
                self.engine.reset(now, PEER);
                self.end(Event::Closed);
            }
            SessionState::Idle | SessionState::Closing | SessionState::Closed => {}
        }
    }

    /// Where the session stands.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Datagram and byte counts since [`Client::new`].
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Keeps the datagrams of our current flight: a datagram sent after one
    /// was received starts a new flight.
    fn note_flight(&mut self, datagram: &[u8]) {
        if self.stats.datagrams_received != self.flight_marker {
            self.flight_marker = self.stats.datagrams_received;
            self.last_flight.clear();
        }
        // tinydtls's own retransmission of a record replaces the earlier
        // copy (same length and body, newer sequence number).
        match self.last_flight.iter_mut().find(|d| d.get(11..) == datagram.get(11..)) {
            Some(earlier) => *earlier = datagram.to_vec(),
            None => self.last_flight.push(datagram.to_vec()),
        }
    }

    fn end(&mut self, event: Event) {
        if !matches!(self.state, SessionState::Closed | SessionState::Idle) {
            self.state = SessionState::Closed;
            self.handshake_deadline = None;
            self.events.push_back(event);
        }
    }

    /// Turns what the callbacks reported into events and state changes.
    fn collect(&mut self) {
        while let Some((_, raw)) = self.engine.shared().events.pop_front() {
            match raw {
                RawEvent::Connected => {
                    if self.state == SessionState::Handshaking {
                        self.state = SessionState::Connected;
                        self.handshake_deadline = None;
                        self.events.push_back(Event::Connected);
                    }
                }
                RawEvent::Alert { level, description } => {
                    let level = AlertLevel::from(level);
                    let description = AlertDescription(description);
                    if description == AlertDescription::CLOSE_NOTIFY {
                        self.end(Event::Closed);
                    } else {
                        self.events.push_back(Event::Alert {
                            level,
                            description,
                            sent_by_us: false,
                        });
                        if level == AlertLevel::Fatal {
                            self.end(Event::Closed);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_later_sequence;

    /// A handshake record, epoch 0, sequence number 2, 3-byte body
    /// (RFC 6347 §4.1 header layout).
    const RECORD: &[u8] = b"\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03abc";

    #[test]
    fn raises_the_sequence_number_of_a_plaintext_record_only() {
        assert_eq!(
            with_later_sequence(RECORD, 4).as_deref(),
            Some(&b"\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x06\x00\x03abc"[..])
        );
        // Epoch 1: authenticated header, must not be touched.
        assert_eq!(
            with_later_sequence(b"\x16\xfe\xfd\x00\x01\x00\x00\x00\x00\x00\x02\x00\x03abc", 4),
            None
        );
        // Two records, or a length that does not match: not a single record.
        assert_eq!(with_later_sequence(&[RECORD, RECORD].concat(), 4), None);
        assert_eq!(with_later_sequence(&RECORD[..15], 4), None);
        assert_eq!(with_later_sequence(&RECORD[..5], 4), None);
        // The 48-bit sequence number must not wrap.
        assert_eq!(
            with_later_sequence(b"\x16\xfe\xfd\x00\x00\xff\xff\xff\xff\xff\xfe\x00\x03abc", 4),
            None
        );
    }
}
