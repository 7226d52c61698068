//! `carrier_os::Transport` for the nRF91: datagram sockets offloaded to the
//! modem, DTLS done by the modem with the PSK of a security tag, and
//! non-IP data delivery over a Non-IP PDN.
//!
//! Owns the socket table and the endpoint rules (an IP endpoint needs a
//! host and a port; a non-IP one has neither); the sockets themselves
//! come from a [`ModemSockets`] implementation — the modem library's
//! socket API on a device (`device::sockets`: UDP, DTLS where the modem
//! runs the handshake with the credentials stored by `%CMNG` under the
//! security tag, and `AF_PACKET` for non-IP), [`host::EchoSockets`] on the
//! host. The same table also lends its sockets to the HTTP(S) download as
//! streams when the sockets implement
//! [`StreamSockets`](crate::download::StreamSockets).
//!
//! Guarantee: no panic on any input; a handle that is not open is
//! `TransportError::InvalidSocket`, never an index out of bounds.

use core::task::Poll;

use carrier_os::modem::PdnId;
use carrier_os::transport::{
    Endpoint, Family, MAX_DATAGRAM, Security, SocketId, Transport, TransportError,
};

/// Sockets open at once (the nRF91 modem offers 8; the runtime uses one per
/// server plus a download).
pub const MAX_SOCKETS: usize = 4;

/// What a socket is opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketSpec<'a> {
    /// Host name or IP literal.
    pub host: &'a str,
    /// UDP port (0 for non-IP).
    pub port: u16,
    /// The PDN's context identifier (the binding maps it to the modem's PDN
    /// ID with `AT%XGETPDNID`).
    pub pdn_cid: u8,
    /// IPv4, IPv6, either, or non-IP (a packet socket bound to the PDN;
    /// `host` and `port` are then meaningless).
    pub family: Family,
    /// DTLS with the credentials of this security tag, and whether to ask
    /// for a Connection ID.
    pub dtls: Option<(u32, bool)>,
}

/// The modem library's datagram sockets.
///
/// Contract: every method returns at once; `connect` starts DNS and (for
/// DTLS) the handshake, `poll_connect` reports their end.
pub trait ModemSockets {
    /// A socket of the library.
    type Handle: Copy;
    /// Starts opening a socket.
    ///
    /// # Errors
    /// What is known at once (no socket, bad endpoint, link down).
    fn connect(&mut self, spec: &SocketSpec<'_>) -> Result<Self::Handle, TransportError>;
    /// Progress of `connect`.
    fn poll_connect(&mut self, h: Self::Handle) -> Poll<Result<(), TransportError>>;
    /// Queues one datagram whole, or nothing.
    fn send(&mut self, h: Self::Handle, data: &[u8]) -> Poll<Result<(), TransportError>>;
    /// Takes one datagram, truncated to `buf`.
    fn recv(&mut self, h: Self::Handle, buf: &mut [u8]) -> Poll<Result<usize, TransportError>>;
    /// Closes (DTLS: close_notify).
    fn close(&mut self, h: Self::Handle);
    /// Whether a DTLS Connection ID is in use.
    fn connection_id_in_use(&mut self, h: Self::Handle) -> bool;
}

/// The nRF91 transport over `S`.
#[derive(Debug)]
pub struct NrfTransport<S: ModemSockets> {
    sockets: S,
    table: [Option<S::Handle>; MAX_SOCKETS],
}

impl<S: ModemSockets> NrfTransport<S> {
    /// A transport with no socket open.
    pub fn new(sockets: S) -> Self {
        Self { sockets, table: [None; MAX_SOCKETS] }
    }

    /// The sockets underneath.
    pub fn sockets(&mut self) -> &mut S {
        &mut self.sockets
    }

    fn handle(&self, id: SocketId) -> Result<S::Handle, TransportError> {
        self.table.get(usize::from(id.0)).copied().flatten().ok_or(TransportError::InvalidSocket)
    }
}

impl<S: ModemSockets> Transport for NrfTransport<S> {
    fn open(&mut self, endpoint: &Endpoint) -> Result<SocketId, TransportError> {
        // Non-IP (the modem's `AF_PACKET` sockets on a Non-IP PDN) has no
        // host or port; an IP endpoint needs both.
        if endpoint.family != Family::NonIp && (endpoint.host.is_empty() || endpoint.port == 0) {
            return Err(TransportError::InvalidEndpoint);
        }
        let (index, slot) = self
            .table
            .iter_mut()
            .enumerate()
            .find(|(_, s)| s.is_none())
            .ok_or(TransportError::NoSocket)?;
        let id = SocketId(u8::try_from(index).map_err(|_| TransportError::NoSocket)?);
        let PdnId(pdn_cid) = endpoint.pdn;
        let spec = SocketSpec {
            host: &endpoint.host,
            port: endpoint.port,
            pdn_cid,
            family: endpoint.family,
            dtls: match endpoint.security {
                Security::None => None,
                Security::DtlsPsk { sec_tag, connection_id } => Some((sec_tag.0, connection_id)),
            },
        };
        *slot = Some(self.sockets.connect(&spec)?);
        Ok(id)
    }

    fn poll_open(&mut self, socket: SocketId) -> Poll<Result<(), TransportError>> {
        match self.handle(socket) {
            Ok(h) => self.sockets.poll_connect(h),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn send(&mut self, socket: SocketId, datagram: &[u8]) -> Poll<Result<(), TransportError>> {
        if datagram.len() > MAX_DATAGRAM {
            return Poll::Ready(Err(TransportError::TooLarge));
        }
        match self.handle(socket) {
            Ok(h) => self.sockets.send(h, datagram),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn recv(&mut self, socket: SocketId, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        match self.handle(socket) {
            Ok(h) => self.sockets.recv(h, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn close(&mut self, socket: SocketId) {
        if let Some(slot) = self.table.get_mut(usize::from(socket.0))
            && let Some(h) = slot.take()
        {
            self.sockets.close(h);
        }
    }

    fn connection_id_in_use(&mut self, socket: SocketId) -> bool {
        self.handle(socket).is_ok_and(|h| self.sockets.connection_id_in_use(h))
    }
}

impl<S: ModemSockets + crate::download::StreamSockets> crate::download::StreamSockets
    for NrfTransport<S>
{
    type Stream = S::Stream;
    fn stream_connect(
        &mut self,
        spec: &crate::download::StreamSpec<'_>,
    ) -> Result<S::Stream, TransportError> {
        self.sockets.stream_connect(spec)
    }
    fn stream_poll_connect(&mut self, s: S::Stream) -> Poll<Result<(), TransportError>> {
        self.sockets.stream_poll_connect(s)
    }
    fn stream_write(&mut self, s: S::Stream, data: &[u8]) -> Poll<Result<usize, TransportError>> {
        self.sockets.stream_write(s, data)
    }
    fn stream_read(&mut self, s: S::Stream, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        self.sockets.stream_read(s, buf)
    }
    fn stream_close(&mut self, s: S::Stream) {
        self.sockets.stream_close(s);
    }
}

/// Host stand-in for the modem's sockets.
pub mod host {
    use super::{Family, ModemSockets, SocketSpec, TransportError};
    use core::task::Poll;
    use heapless::{Deque, Vec};

    /// Sockets whose peer echoes every datagram; `connect` takes one
    /// `poll_connect` to complete (as a handshake would) and a security tag
    /// listed in `known_tags` is required for DTLS.
    #[derive(Debug, Default)]
    pub struct EchoSockets {
        open: [bool; 8],
        connected: [bool; 8],
        queue: Deque<(u8, Vec<u8, 1280>), 4>,
        /// Security tags that hold a PSK.
        pub known_tags: Vec<u32, 4>,
    }

    impl ModemSockets for EchoSockets {
        type Handle = u8;

        fn connect(&mut self, spec: &SocketSpec<'_>) -> Result<u8, TransportError> {
            if let Some((tag, _)) = spec.dtls
                && !self.known_tags.contains(&tag)
            {
                return Err(TransportError::NoCredentials);
            }
            if spec.family == Family::NonIp && spec.dtls.is_some() {
                return Err(TransportError::InvalidEndpoint);
            }
            let (i, slot) = self
                .open
                .iter_mut()
                .enumerate()
                .find(|(_, o)| !**o)
                .ok_or(TransportError::NoSocket)?;
            *slot = true;
            let h = u8::try_from(i).map_err(|_| TransportError::NoSocket)?;
            if let Some(c) = self.connected.get_mut(i) {
                *c = false;
            }
            Ok(h)
        }

        fn poll_connect(&mut self, h: u8) -> Poll<Result<(), TransportError>> {
            match self.connected.get_mut(usize::from(h)) {
                Some(c) if *c => Poll::Ready(Ok(())),
                Some(c) => {
                    *c = true;
                    Poll::Pending
                }
                None => Poll::Ready(Err(TransportError::InvalidSocket)),
            }
        }

        fn send(&mut self, h: u8, data: &[u8]) -> Poll<Result<(), TransportError>> {
            let Ok(d) = Vec::from_slice(data) else {
                return Poll::Ready(Err(TransportError::TooLarge));
            };
            match self.queue.push_back((h, d)) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(_) => Poll::Pending,
            }
        }

        fn recv(&mut self, h: u8, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
            if !self.queue.iter().any(|(s, _)| *s == h) {
                return Poll::Pending;
            }
            // Take the datagram for this socket, keep the others in order.
            let mut taken = None;
            for _ in 0..self.queue.len() {
                let Some(item) = self.queue.pop_front() else { break };
                if taken.is_none() && item.0 == h {
                    taken = Some(item.1);
                } else {
                    let _ = self.queue.push_back(item);
                }
            }
            let Some(d) = taken else { return Poll::Pending };
            let n = d.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), d.get(..n)) {
                dst.copy_from_slice(src);
            }
            Poll::Ready(Ok(n))
        }

        fn close(&mut self, h: u8) {
            if let Some(o) = self.open.get_mut(usize::from(h)) {
                *o = false;
            }
            self.queue.retain(|(s, _)| *s != h);
        }

        fn connection_id_in_use(&mut self, _h: u8) -> bool {
            false
        }
    }
}
