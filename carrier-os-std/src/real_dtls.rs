//! DTLS-PSK for the real mode's sockets, through `dtls-psk` (tinydtls).
//!
//! A [`Session`] sits between a socket's raw UDP queue (filled by its helper
//! thread) and the caller: [`Session::pump`] feeds received records to the
//! sans-IO client, runs its timers on the port's clock, sends what it wants
//! sent, and turns its events into the `carrier-os` error distinctions
//! (handshake refused vs timed out vs session closed). Without the `dtls`
//! feature the type is uninhabited and opening a DTLS socket fails with
//! [`TransportError::Unsupported`].
//!
//! Not supported (limits of `dtls-psk`/tinydtls): DTLS Connection ID (a
//! request for it is ignored, `connection_id_in_use` stays false), keys
//! longer than 16 bytes and identities longer than 32 bytes (refused as
//! `Unsupported`).

use std::collections::VecDeque;
use std::net::UdpSocket;

use carrier_os::time::{Duration, Instant};
use carrier_os::transport::TransportError;

use crate::profile::Credential;

#[cfg(feature = "dtls")]
pub(crate) use enabled::Session;

#[cfg(not(feature = "dtls"))]
pub(crate) use disabled::Session;

/// Where a session stands, as the transport reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the UDP socket or the handshake.
    Opening,
    /// Application data flows.
    Open,
    /// Ended.
    Failed(TransportError),
}

#[cfg(feature = "dtls")]
mod enabled {
    use super::*;
    use dtls_psk::{AlertLevel, Client, Config, Event, SessionState};

    fn t(now: Instant) -> dtls_psk::Instant {
        dtls_psk::Instant::from_millis(now.as_millis())
    }

    /// One client session (see the module doc).
    pub(crate) struct Session {
        client: Client,
        started: bool,
        phase: Phase,
        plain: VecDeque<Vec<u8>>,
    }

    impl std::fmt::Debug for Session {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Session")
                .field("phase", &self.phase)
                .field("started", &self.started)
                .finish()
        }
    }

    impl Session {
        /// A session authenticating with `cred`.
        pub(crate) fn new(
            cred: &Credential,
            handshake_timeout: Duration,
        ) -> Result<Self, TransportError> {
            let identity = cred.identity.as_deref().ok_or(TransportError::NoCredentials)?;
            let psk = dtls_psk::Psk::new(cred.psk.secret_bytes())
                .map_err(|_| TransportError::Unsupported)?;
            let config = Config {
                handshake_timeout: dtls_psk::Duration::from_millis(handshake_timeout.as_millis()),
                ..Config::default()
            };
            let client =
                Client::new(identity, psk, config).map_err(|_| TransportError::Unsupported)?;
            Ok(Session { client, started: false, phase: Phase::Opening, plain: VecDeque::new() })
        }

        /// Runs the session: `udp` is the connected socket once it exists,
        /// `udp_failed` its opening error, `raw` the received datagrams.
        pub(crate) fn pump(
            &mut self,
            now: Instant,
            udp: Option<&UdpSocket>,
            udp_failed: Option<TransportError>,
            raw: &mut VecDeque<Vec<u8>>,
        ) {
            if let Phase::Failed(_) = self.phase {
                raw.clear();
                return;
            }
            if let Some(e) = udp_failed {
                self.phase = Phase::Failed(e);
                return;
            }
            let Some(udp) = udp else { return };
            if !self.started {
                self.started = true;
                if self.client.connect(t(now)).is_err() {
                    self.phase = Phase::Failed(TransportError::HandshakeFailed);
                    return;
                }
            }
            for d in raw.drain(..) {
                self.client.handle_datagram(t(now), &d);
            }
            if self.client.poll_timeout().is_some_and(|d| d <= t(now)) {
                self.client.handle_timeout(t(now));
            }
            self.flush(udp);
            let handshaking = self.phase == Phase::Opening;
            while let Some(ev) = self.client.poll_event() {
                let failed = match ev {
                    Event::Connected => {
                        self.phase = Phase::Open;
                        continue;
                    }
                    Event::HandshakeTimeout => TransportError::HandshakeTimedOut,
                    Event::Alert { level: AlertLevel::Warning, .. } => continue,
                    Event::Alert { .. } | Event::Closed if handshaking => {
                        TransportError::HandshakeFailed
                    }
                    Event::Alert { .. } | Event::Closed => TransportError::Closed,
                };
                if !matches!(self.phase, Phase::Failed(_)) {
                    self.phase = Phase::Failed(failed);
                }
            }
            if self.phase == Phase::Open && self.client.state() == SessionState::Closed {
                self.phase = Phase::Failed(TransportError::Closed);
            }
            while let Some(d) = self.client.recv() {
                self.plain.push_back(d);
            }
        }

        fn flush(&mut self, udp: &UdpSocket) {
            while let Some(d) = self.client.poll_transmit() {
                // Lost datagrams are DTLS's business (it retransmits).
                let _ = udp.send(&d);
            }
        }

        /// The state the transport reports.
        pub(crate) fn phase(&self) -> Phase {
            self.phase
        }

        /// When [`Session::pump`] has timer work.
        pub(crate) fn next_timeout(&self) -> Option<Instant> {
            self.client.poll_timeout().map(|d| Instant::from_millis(d.as_millis()))
        }

        /// True if decrypted data waits.
        pub(crate) fn has_data(&self) -> bool {
            !self.plain.is_empty()
        }

        /// The next decrypted datagram.
        pub(crate) fn pop(&mut self) -> Option<Vec<u8>> {
            self.plain.pop_front()
        }

        /// Encrypts and sends one datagram.
        pub(crate) fn send(
            &mut self,
            now: Instant,
            udp: &UdpSocket,
            data: &[u8],
        ) -> Result<(), TransportError> {
            match self.client.send(t(now), data) {
                Ok(()) => {
                    self.flush(udp);
                    Ok(())
                }
                Err(dtls_psk::SendError::TooLong(_)) => Err(TransportError::TooLarge),
                Err(_) => Err(TransportError::Closed),
            }
        }

        /// Sends close_notify.
        pub(crate) fn close(&mut self, now: Instant, udp: Option<&UdpSocket>) {
            self.client.close(t(now));
            if let Some(udp) = udp {
                self.flush(udp);
            }
        }
    }
}

#[cfg(not(feature = "dtls"))]
mod disabled {
    use super::*;

    /// Uninhabited: DTLS is compiled out.
    #[derive(Debug)]
    pub(crate) enum Session {}

    impl Session {
        pub(crate) fn new(_: &Credential, _: Duration) -> Result<Self, TransportError> {
            Err(TransportError::Unsupported)
        }
        pub(crate) fn pump(
            &mut self,
            _: Instant,
            _: Option<&UdpSocket>,
            _: Option<TransportError>,
            _: &mut VecDeque<Vec<u8>>,
        ) {
            match *self {}
        }
        pub(crate) fn phase(&self) -> Phase {
            match *self {}
        }
        pub(crate) fn next_timeout(&self) -> Option<Instant> {
            match *self {}
        }
        pub(crate) fn has_data(&self) -> bool {
            match *self {}
        }
        pub(crate) fn pop(&mut self) -> Option<Vec<u8>> {
            match *self {}
        }
        pub(crate) fn send(
            &mut self,
            _: Instant,
            _: &UdpSocket,
            _: &[u8],
        ) -> Result<(), TransportError> {
            match *self {}
        }
        pub(crate) fn close(&mut self, _: Instant, _: Option<&UdpSocket>) {
            match *self {}
        }
    }
}
