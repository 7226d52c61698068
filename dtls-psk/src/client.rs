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
use crate::time::Instant;
use crate::{Config, NewError, SendError, SessionState, alert_from_return, earliest};

/// tinydtls addresses sessions by socket address; the client has one peer,
/// and the caller owns the real address, so a fixed placeholder is used.
const PEER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

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
        let engine = Engine::new(Credentials::Client { identity: identity.to_vec(), psk })
            .map_err(|_| NewError::OutOfMemory)?;
        Ok(Client {
            engine,
            config,
            state: SessionState::Idle,
            handshake_deadline: None,
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
        // An old tinydtls peer (closing) is replaced without a close_notify.
        if !self.engine.connect(now, PEER) {
            return Err(SendError::Rejected);
        }
        self.state = SessionState::Handshaking;
        self.handshake_deadline = Some(now + self.config.handshake_timeout);
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
        self.engine.fire_timers(now);
        self.collect();
        if self.state == SessionState::Handshaking
            && self.handshake_deadline.is_some_and(|d| now >= d)
        {
            self.engine.reset(now, PEER);
            self.engine.shared().transmits.clear();
            self.end(Event::HandshakeTimeout);
        }
        if self.state == SessionState::Closing && !self.engine.has_peer(PEER) {
            self.end(Event::Closed);
        }
    }

    /// The next instant [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let give_up =
            if self.state == SessionState::Handshaking { self.handshake_deadline } else { None };
        earliest(self.engine.retransmit_at(), give_up)
    }

    /// The next datagram to send to the server.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let (_, datagram) = self.engine.shared().transmits.pop_front()?;
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
