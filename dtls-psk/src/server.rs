//! The server role: DTLS 1.2 PSK sessions with many clients, one per peer
//! socket address, keys found by identity through a [`PskStore`]
//! (RFC 6347 with the stateless cookie exchange of §4.2.1; RFC 4279 §2).
//!
//! Guarantee: no datagram from any address makes a [`Server`] panic; a
//! client whose handshake stalls is dropped with
//! [`Event::HandshakeTimeout`] at most `Config::handshake_timeout` after it
//! proved its address (returned the cookie); at most
//! `Config::max_sessions` sessions exist at once.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use crate::event::{AlertDescription, AlertLevel, Event, Stats};
use crate::ffi::{Credentials, Engine, RawEvent};
use crate::psk::PskStore;
use crate::time::Instant;
use crate::{Config, NewError, SendError, SessionState, alert_from_return, earliest};

#[derive(Debug, Clone)]
struct Peer {
    state: SessionState,
    handshake_deadline: Option<Instant>,
    /// Our last handshake flight (ChangeCipherSpec + Finished), kept until
    /// the client proves it has it by sending application data.
    final_flight: Vec<Vec<u8>>,
    /// The handshake message of the ClientHello (with cookie) that opened
    /// the session, to recognise its retransmissions.
    client_hello: Vec<u8>,
    /// Our latest flight to this peer while handshaking, as sent.
    flight: Vec<Vec<u8>>,
    /// Bumped by every input for this peer; a transmit after a bump starts
    /// a new `flight`.
    inputs: u64,
    flight_marker: u64,
}

/// DTLS content types (RFC 6347 §4.1) that carry handshake traffic.
const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_HANDSHAKE: u8 = 22;

/// Whether `datagram` starts with a plaintext (epoch 0) ClientHello record:
/// content type 22, epoch 0 (bytes 3..5), handshake type 1 at byte 13
/// (RFC 6347 §4.1, §4.2.2).
fn is_client_hello(datagram: &[u8]) -> bool {
    datagram.first() == Some(&CT_HANDSHAKE)
        && datagram.get(3..5) == Some(&[0, 0][..])
        && datagram.get(13) == Some(&1)
}

/// A DTLS-PSK server, sans-IO, for any number of client addresses.
///
/// After any `handle_*`, `send` or `close` call, drain
/// [`poll_transmit`](Self::poll_transmit) (datagrams with their
/// destination), [`poll_event`](Self::poll_event) and
/// [`recv`](Self::recv), then wait until [`poll_timeout`](Self::poll_timeout)
/// or the next datagram.
pub struct Server {
    engine: Engine,
    config: Config,
    peers: HashMap<SocketAddr, Peer>,
    events: VecDeque<(SocketAddr, Event)>,
    stats: Stats,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("sessions", &self.peers.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server that finds keys through `store`.
    ///
    /// # Errors
    /// [`NewError::OutOfMemory`] if tinydtls could not allocate its context.
    pub fn new(store: impl PskStore + 'static, config: Config) -> Result<Self, NewError> {
        let engine = Engine::new(Credentials::Server { store: Box::new(store) }, true)
            .map_err(|_| NewError::OutOfMemory)?;
        Ok(Server {
            engine,
            config,
            peers: HashMap::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        })
    }

    /// Feeds one datagram from `peer`. A ClientHello without a valid cookie
    /// is answered statelessly with a HelloVerifyRequest; records that fail
    /// authentication or parsing are dropped silently (RFC 6347 §4.1.2.7).
    pub fn handle_datagram(&mut self, now: Instant, peer: SocketAddr, datagram: &[u8]) {
        self.stats.datagrams_received += 1;
        self.stats.bytes_received += datagram.len() as u64;
        let was_connected = self.session_state(peer) == SessionState::Connected;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.inputs += 1;
        }
        if self.repeat_flight_for_client_hello(peer, datagram) {
            return;
        }
        let queued_before = self.engine.shared().transmits.len();
        let received_before = self.engine.shared().received.len();
        let rc = self.engine.handle_message(now, peer, datagram);
        if was_connected && is_client_hello(datagram) && self.engine.peer_handshaking(peer) {
            // The client started over from the same address (a reboot, say):
            // tinydtls replaced the old session, so it has ended.
            self.end(peer, Event::Closed);
        } else if was_connected {
            self.repeat_final_flight(peer, datagram, received_before);
        }
        if !self.peers.contains_key(&peer) && self.engine.has_peer(peer) {
            if self.peers.len() >= self.config.max_sessions {
                self.engine.reset(now, peer);
                self.drop_transmits_to(peer);
                return;
            }
            let deadline = now + self.config.handshake_timeout;
            let state = Peer {
                state: SessionState::Handshaking,
                handshake_deadline: Some(deadline),
                final_flight: Vec::new(),
                client_hello: datagram.get(13..).unwrap_or_default().to_vec(),
                flight: Vec::new(),
                inputs: 1,
                flight_marker: 0,
            };
            self.peers.insert(peer, state);
        }
        self.collect();
        if !was_connected && self.session_state(peer) == SessionState::Connected {
            let flight: Vec<Vec<u8>> = self
                .engine
                .shared()
                .transmits
                .iter()
                .skip(queued_before)
                .filter(|(to, _)| *to == peer)
                .map(|(_, d)| d.clone())
                .collect();
            if let Some(p) = self.peers.get_mut(&peer) {
                p.final_flight = flight;
            }
        }
        if let Some((level, description)) = alert_from_return(rc) {
            self.events.push_back((peer, Event::Alert { level, description, sent_by_us: true }));
            if level == AlertLevel::Fatal {
                self.end(peer, Event::Closed);
            }
        }
    }

    /// Runs due timers: retransmission of handshake flights, close_notify
    /// waits, and handshake give-up deadlines. Calling it early or twice
    /// does nothing harmful.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<SocketAddr> = self
            .peers
            .iter()
            .filter(|(_, p)| {
                p.state == SessionState::Handshaking
                    && p.handshake_deadline.is_some_and(|d| now >= d)
            })
            .map(|(a, _)| *a)
            .collect();
        for peer in expired {
            self.engine.reset(now, peer);
            self.drop_transmits_to(peer);
            self.end(peer, Event::HandshakeTimeout);
        }
        // Retransmissions after give-ups, so an abandoned handshake is not
        // resent at its deadline. A retransmitted flight replaces the saved
        // one (same messages, newer record sequence numbers).
        for p in self.peers.values_mut() {
            p.inputs += 1;
        }
        self.engine.fire_timers(now);
        self.collect();
        let gone: Vec<SocketAddr> = self
            .peers
            .iter()
            .filter(|(_, p)| p.state == SessionState::Closing)
            .map(|(a, _)| *a)
            .collect();
        for peer in gone {
            if !self.engine.has_peer(peer) {
                self.end(peer, Event::Closed);
            }
        }
    }

    /// The next instant [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let give_up = self.peers.values().filter_map(|p| p.handshake_deadline).min();
        earliest(self.engine.retransmit_at(), give_up)
    }

    /// The next datagram to send, with its destination.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        let (peer, datagram) = self.engine.shared().transmits.pop_front()?;
        if let Some(p) = self.peers.get_mut(&peer).filter(|p| p.state == SessionState::Handshaking)
        {
            if p.flight_marker != p.inputs {
                p.flight_marker = p.inputs;
                p.flight.clear();
            }
            p.flight.push(datagram.clone());
        }
        self.stats.datagrams_sent += 1;
        self.stats.bytes_sent += datagram.len() as u64;
        Some((peer, datagram))
    }

    /// The next event, with the peer it concerns.
    pub fn poll_event(&mut self) -> Option<(SocketAddr, Event)> {
        self.events.pop_front()
    }

    /// The next decrypted application datagram, with its origin.
    #[must_use]
    pub fn recv(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.engine.shared().received.pop_front()
    }

    /// Encrypts `data` to a connected `peer` as one datagram.
    ///
    /// # Errors
    /// [`SendError::NotConnected`] if `peer` has no open session,
    /// [`SendError::TooLong`] above [`crate::MAX_APP_DATA`],
    /// [`SendError::Rejected`] if tinydtls refused.
    pub fn send(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) -> Result<(), SendError> {
        if self.session_state(peer) != SessionState::Connected {
            return Err(SendError::NotConnected);
        }
        if data.len() > crate::MAX_APP_DATA {
            return Err(SendError::TooLong(data.len()));
        }
        if self.engine.write(now, peer, data) { Ok(()) } else { Err(SendError::Rejected) }
    }

    /// Sends close_notify to `peer`; [`Event::Closed`] follows. Does
    /// nothing for an unknown peer.
    pub fn close(&mut self, now: Instant, peer: SocketAddr) {
        match self.session_state(peer) {
            SessionState::Connected => {
                self.engine.close(now, peer);
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.state = SessionState::Closing;
                }
                self.collect();
            }
            SessionState::Handshaking => {
                self.engine.reset(now, peer);
                self.end(peer, Event::Closed);
            }
            SessionState::Idle | SessionState::Closing | SessionState::Closed => {}
        }
    }

    /// Where the session with `peer` stands ([`SessionState::Idle`] if there
    /// is none).
    pub fn session_state(&self, peer: SocketAddr) -> SessionState {
        self.peers.get(&peer).map_or(SessionState::Idle, |p| p.state)
    }

    /// The PSK identity `peer` authenticated with (known once its key was
    /// looked up; authenticated once [`Event::Connected`] was reported).
    pub fn peer_identity(&mut self, peer: SocketAddr) -> Option<Vec<u8>> {
        self.engine.shared().identities.get(&peer).cloned()
    }

    /// Number of sessions (handshaking, open or closing).
    pub fn session_count(&self) -> usize {
        self.peers.len()
    }

    /// Datagram and byte counts since [`Server::new`], all peers together.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// tinydtls forgets a handshake once it is connected, so when our final
    /// flight is lost the client's retransmitted flight is ignored and the
    /// client can never finish. RFC 6347 §4.2.4 wants the server to resend
    /// its last flight when the client's last flight arrives again; this
    /// does that with the flight saved at connection time (the same
    /// records: the client never saw them, so no replay check rejects them).
    /// tinydtls answers a retransmitted ClientHello (valid cookie) by
    /// starting the handshake over with a new ServerHello random, while its
    /// timer may already have resent the old flight: a client that got both
    /// completes a handshake the server no longer has. So a ClientHello
    /// identical to the one that opened a session still in handshake is
    /// answered here, by repeating our latest flight (records the client
    /// has already seen are dropped by its replay check), and tinydtls
    /// never sees it. A different ClientHello (a restarted client) goes
    /// through. Returns whether the datagram was consumed.
    fn repeat_flight_for_client_hello(&mut self, peer: SocketAddr, datagram: &[u8]) -> bool {
        let Some(p) = self.peers.get(&peer) else { return false };
        if p.state != SessionState::Handshaking
            || !is_client_hello(datagram)
            || datagram.get(13..) != Some(p.client_hello.as_slice())
        {
            return false;
        }
        let flight = p.flight.clone();
        let transmits = &mut self.engine.shared().transmits;
        transmits.extend(flight.into_iter().map(|d| (peer, d)));
        true
    }

    fn repeat_final_flight(&mut self, peer: SocketAddr, datagram: &[u8], received_before: usize) {
        let got_app_data = self.engine.shared().received.len() > received_before;
        let Some(p) = self.peers.get_mut(&peer) else { return };
        if got_app_data {
            p.final_flight = Vec::new();
            return;
        }
        let is_handshake = matches!(datagram.first(), Some(&CT_HANDSHAKE | &CT_CHANGE_CIPHER_SPEC))
            && !is_client_hello(datagram);
        if is_handshake && !p.final_flight.is_empty() {
            let flight = p.final_flight.clone();
            let transmits = &mut self.engine.shared().transmits;
            transmits.extend(flight.into_iter().map(|d| (peer, d)));
        }
    }

    fn drop_transmits_to(&mut self, peer: SocketAddr) {
        self.engine.shared().transmits.retain(|(to, _)| *to != peer);
    }

    fn end(&mut self, peer: SocketAddr, event: Event) {
        if self.peers.remove(&peer).is_some() {
            self.engine.shared().identities.remove(&peer);
            self.events.push_back((peer, event));
        }
    }

    fn collect(&mut self) {
        while let Some((peer, raw)) = self.engine.shared().events.pop_front() {
            match raw {
                RawEvent::Connected => {
                    // tinydtls repeats the event for every retransmitted
                    // client flight; report the first only.
                    if let Some(p) =
                        self.peers.get_mut(&peer).filter(|p| p.state == SessionState::Handshaking)
                    {
                        p.state = SessionState::Connected;
                        p.handshake_deadline = None;
                        self.events.push_back((peer, Event::Connected));
                    }
                }
                RawEvent::Alert { level, description } => {
                    let level = AlertLevel::from(level);
                    let description = AlertDescription(description);
                    if description == AlertDescription::CLOSE_NOTIFY {
                        self.end(peer, Event::Closed);
                    } else {
                        self.events.push_back((
                            peer,
                            Event::Alert { level, description, sent_by_us: false },
                        ));
                        if level == AlertLevel::Fatal {
                            self.end(peer, Event::Closed);
                        }
                    }
                }
            }
        }
    }
}
