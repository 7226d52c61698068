//! How the server moves datagrams: a [`Transport`] of addressed datagrams.
//! Plain UDP ([`UdpTransport`], `coap://`) and DTLS-PSK ([`DtlsTransport`],
//! `coaps://`: `dtls-psk` server sessions keyed by peer address) behind the
//! same trait, since the CoAP layer above only sees `(peer, bytes)`.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// A datagram transport for the server loop.
pub trait Transport {
    /// Send one datagram to `to`.
    ///
    /// # Errors
    /// The socket's error.
    fn send(&mut self, to: SocketAddr, bytes: &[u8]) -> io::Result<()>;

    /// Wait up to `timeout` for one datagram; `Ok(None)` when none came.
    ///
    /// # Errors
    /// The socket's error (a timeout is `Ok(None)`, not an error).
    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>>;

    /// The local address peers send to.
    ///
    /// # Errors
    /// The socket's error.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// Plain CoAP over UDP (`coap://`).
#[derive(Debug)]
pub struct UdpTransport {
    socket: UdpSocket,
}

impl UdpTransport {
    /// Bind to `addr` (`127.0.0.1:0` for an ephemeral port).
    ///
    /// # Errors
    /// The bind error.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpTransport> {
        Ok(UdpTransport { socket: UdpSocket::bind(addr)? })
    }
}

impl Transport for UdpTransport {
    fn send(&mut self, to: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        self.socket.send_to(bytes, to).map(|_| ())
    }

    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>> {
        self.socket.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match self.socket.recv_from(buf) {
            Ok((n, from)) => Ok(Some((n, from))),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                Ok(None)
            }
            // ICMP port unreachable from a vanished peer: not fatal.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

/// CoAP over DTLS-PSK (`coaps://`): a UDP socket and the `dtls-psk`
/// server, one session per peer address. The CoAP layer above sees
/// decrypted datagrams addressed by peer, as over plain UDP.
pub struct DtlsTransport {
    socket: UdpSocket,
    dtls: dtls_psk::Server,
    start: std::time::Instant,
}

impl std::fmt::Debug for DtlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DtlsTransport").field("socket", &self.socket).finish()
    }
}

impl DtlsTransport {
    /// Bind to `addr`, accepting clients whose PSK identity `keys` knows.
    ///
    /// # Errors
    /// The bind error, or the DTLS context could not be created.
    pub fn bind(
        addr: SocketAddr,
        keys: impl dtls_psk::PskStore + 'static,
    ) -> io::Result<DtlsTransport> {
        let dtls = dtls_psk::Server::new(keys, dtls_psk::Config::default())
            .map_err(|e| io::Error::other(format!("dtls: {e:?}")))?;
        Ok(DtlsTransport { socket: UdpSocket::bind(addr)?, dtls, start: std::time::Instant::now() })
    }

    fn now(&self) -> dtls_psk::Instant {
        dtls_psk::Instant::from_millis(
            u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX),
        )
    }

    fn flush(&mut self) -> io::Result<()> {
        while let Some((peer, bytes)) = self.dtls.poll_transmit() {
            self.socket.send_to(&bytes, peer)?;
        }
        // Session events (connected, closed, alerts) matter to no one above.
        while self.dtls.poll_event().is_some() {}
        Ok(())
    }
}

impl Transport for DtlsTransport {
    fn send(&mut self, to: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        let now = self.now();
        self.dtls.send(now, to, bytes).map_err(|e| io::Error::other(format!("dtls: {e:?}")))?;
        self.flush()
    }

    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>> {
        let deadline = std::time::Instant::now() + timeout;
        let mut raw = [0u8; 2048];
        loop {
            if let Some((peer, data)) = self.dtls.recv() {
                let n = data.len().min(buf.len());
                buf.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(data.get(..n).unwrap_or_default());
                return Ok(Some((n, peer)));
            }
            let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) else {
                return Ok(None);
            };
            let mut wait = left;
            if let Some(at) = self.dtls.poll_timeout() {
                let ms = at.saturating_duration_since(self.now()).as_millis();
                wait = wait.min(Duration::from_millis(ms));
            }
            self.socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
            match self.socket.recv_from(&mut raw) {
                Ok((n, from)) => {
                    let now = self.now();
                    self.dtls.handle_datagram(now, from, raw.get(..n).unwrap_or_default());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    let now = self.now();
                    self.dtls.handle_timeout(now);
                }
                Err(e) => return Err(e),
            }
            self.flush()?;
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}
