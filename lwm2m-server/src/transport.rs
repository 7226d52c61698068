//! How the server moves datagrams: a [`Transport`] of addressed datagrams.
//! Plain UDP ([`UdpTransport`]) today; a DTLS-PSK transport (sessions of
//! `dtls-psk` keyed by peer address) fits the same trait, since the CoAP
//! layer above only sees `(peer, bytes)`.

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
