//! [`ModemSockets`] over `nrf-modem` 0.11's sockets: UDP, DTLS offloaded
//! to the modem by security tag, and non-IP, polled without blocking.
//!
//! Owns the socket slots and the translation of libmodem's errors into
//! `TransportError`. Every operation is `nrf-modem`'s own future polled
//! with a no-op waker: `send`/`recv` futures call `nrf_send`/`nrf_recv`
//! (the sockets are `O_NONBLOCK`) on their first poll and are dropped when
//! that poll says "would block", which loses nothing; an `open` keeps its
//! future (socket creation, DNS, binding to the PDN, DTLS handshake) in
//! its slot and is advanced by each `poll_connect`. Wake-ups come from the
//! modem's IPC interrupt (see `device::clock::signal_io`).
//!
//! Opening, per [`SocketSpec`]:
//! - IP: the host is resolved (an IP literal without DNS; a name with
//!   `nrf_getaddrinfo`, which **blocks inside that poll** for the modem's
//!   resolution time: libmodem has no non-blocking resolver, and
//!   `nrf-modem`'s asynchronous one needs embassy-time), a datagram socket
//!   of the address's family is created, bound to the PDN
//!   (`SO_BINDTOPDN` with the PDN ID from `AT%XGETPDNID`, except for the
//!   default context 0), and connected, so that the modem filters datagrams
//!   from other peers.
//! - DTLS: the same socket with protocol DTLS 1.2, the security tag as its
//!   only credential (`SO_SEC_TAG_LIST`), no certificate verification (a
//!   PSK authenticates both sides; there is no certificate to verify), no
//!   session cache, and `SO_SEC_DTLS_CID` = enabled when a Connection ID is
//!   asked for; `connect` runs the handshake in the modem.
//! - Non-IP: an `AF_PACKET` raw socket bound to the PDN (the modem's
//!   non-IP data delivery); host and port are ignored.
//! - Streams ([`StreamSockets`], for the HTTP(S) download): a TCP socket,
//!   or TLS 1.2 offloaded to the modem with the security tag's CA
//!   certificate, peer verification required and the host name set for
//!   SNI and the name check. The peer's orderly close reads as 0 bytes.
//!
//! One `nrf_modem::LteLink` is held for the life of [`DeviceSockets`]:
//! `nrf-modem` switches the modem off (`AT+CFUN=0`) when its count of
//! links drops to zero, which closing the last socket would otherwise do;
//! link up and down stay with the port's `+CFUN` requests.
//!
//! Whether the peer accepted a Connection ID is read with
//! `nrf_getsockopt(SO_SEC_DTLS_CID_STATUS)`, which `nrf-modem` 0.11 does not
//! wrap. Beware: `nrf-modem`'s `Socket` panics in `drop` if `nrf_close`
//! fails.
#![allow(unsafe_code)]

use core::future::Future;
use core::marker::PhantomPinned;
use core::net::{IpAddr, SocketAddr};
use core::pin::{Pin, pin};
use core::task::{Context, Poll, Waker};

use carrier_os::transport::{Family, HOST_LEN, TransportError};
use heapless::String;
use nrf_modem::nrfxlib_sys as sys;
use nrf_modem::socket::{Socket, SocketFamily, SocketOption, SocketProtocol, SocketType};
use nrf_modem::{Error, LteLink};

use super::ModemAt;
use crate::download::{StreamSockets, StreamSpec};
use crate::modem::AtModem;
use crate::transport::{MAX_SOCKETS, ModemSockets, SocketSpec};

/// What an open works from (owned: the future outlives the call).
#[derive(Debug)]
pub struct OpenSpec {
    host: String<HOST_LEN>,
    port: u16,
    pdn_id: Option<u8>,
    family: Family,
    dtls: Option<(u32, bool)>,
    /// A stream (TCP), with TLS by this security tag if `Some`.
    stream: Option<Option<u32>>,
}

/// An open socket.
#[derive(Debug)]
pub struct Conn {
    socket: Socket,
}

/// Opens one socket per [`OpenSpec`]; the future [`DeviceSockets`] stores.
pub async fn open(spec: OpenSpec) -> Result<Conn, Error> {
    if spec.family == Family::NonIp {
        let socket = Socket::create(SocketFamily::Raw, SocketType::Raw, SocketProtocol::IP).await?;
        if let Some(id) = spec.pdn_id {
            socket.set_option(SocketOption::BindToPdn(i32::from(id)))?;
        }
        return Ok(Conn { socket });
    }
    let ip: IpAddr = match spec.host.parse() {
        Ok(ip) => ip,
        Err(_) => nrf_modem::get_host_by_name(&spec.host).await?,
    };
    let family = match (ip, spec.family) {
        (IpAddr::V4(_), Family::Ipv4 | Family::Any) => SocketFamily::Ipv4,
        (IpAddr::V6(_), Family::Ipv6 | Family::Any) => SocketFamily::Ipv6,
        _ => return Err(Error::AddressNotFound),
    };
    let (kind, protocol) = match (spec.stream, spec.dtls) {
        (Some(None), _) => (SocketType::Stream, SocketProtocol::Tcp),
        (Some(Some(_)), _) => (SocketType::Stream, SocketProtocol::Tls1v2),
        (None, Some(_)) => (SocketType::Datagram, SocketProtocol::DTls1v2),
        (None, None) => (SocketType::Datagram, SocketProtocol::Udp),
    };
    let socket = Socket::create(family, kind, protocol).await?;
    if let Some(id) = spec.pdn_id {
        socket.set_option(SocketOption::BindToPdn(i32::from(id)))?;
    }
    if let Some(Some(tag)) = spec.stream {
        // HTTPS: the server's certificate is verified against the CA
        // certificate(s) of the tag and the host name.
        let tags = [tag];
        socket.set_option(SocketOption::TlsPeerVerify(2))?;
        socket.set_option(SocketOption::TlsTagList(&tags))?;
        socket.set_option(SocketOption::TlsHostName(&spec.host))?;
    }
    if let Some((tag, cid)) = spec.dtls {
        let tags = [tag];
        socket.set_option(SocketOption::TlsPeerVerify(0))?;
        socket.set_option(SocketOption::TlsSessionCache(0))?;
        socket.set_option(SocketOption::TlsTagList(&tags))?;
        if cid {
            socket.set_option(SocketOption::DtlsCid(sys::NRF_SO_SEC_DTLS_CID_ENABLED as i32))?;
        }
    }
    socket.connect(SocketAddr::new(ip, spec.port)).await?;
    Ok(Conn { socket })
}

/// Maps `nrf-modem`'s errors (libmodem errno values, `nrf_errno.h`).
fn map_error(e: &Error, dtls: bool) -> TransportError {
    let Error::NrfError(n) = e else {
        return match e {
            Error::AddressNotFound | Error::HostnameNotAscii | Error::HostnameTooLong => {
                TransportError::DnsFailed
            }
            Error::Disconnected => TransportError::Closed,
            Error::NoSecurityTag => TransportError::NoCredentials,
            Error::TlsPacketTooBig | Error::BufferTooSmall(_) => TransportError::TooLarge,
            Error::ModemNotInitialized => TransportError::LinkDown,
            _ => TransportError::Io,
        };
    };
    let n = u32::try_from(n.unsigned_abs()).unwrap_or(u32::MAX);
    match n {
        sys::NRF_ENETDOWN => TransportError::LinkDown,
        sys::NRF_ENETUNREACH | sys::NRF_EHOSTUNREACH => TransportError::NoRoute,
        sys::NRF_ETIMEDOUT if dtls => TransportError::HandshakeTimedOut,
        sys::NRF_ETIMEDOUT => TransportError::NoRoute,
        sys::NRF_ECONNREFUSED | sys::NRF_ECONNABORTED | sys::NRF_EACCES => {
            TransportError::HandshakeFailed
        }
        sys::NRF_ENOENT | sys::NRF_EINVAL if dtls => TransportError::NoCredentials,
        sys::NRF_ECONNRESET | sys::NRF_ENOTCONN => TransportError::Closed,
        sys::NRF_EMFILE | sys::NRF_ENOBUFS | sys::NRF_ENOMEM => TransportError::NoSocket,
        sys::NRF_EMSGSIZE => TransportError::TooLarge,
        sys::NRF_EAFNOSUPPORT | sys::NRF_EPROTONOSUPPORT => TransportError::Unsupported,
        _ => TransportError::Io,
    }
}

enum Slot<F> {
    Empty,
    Opening { future: F, dtls: bool },
    Open(Conn),
    Failed,
}

/// The socket slots; use pinned (`core::pin::pin!`), since an opening
/// socket's future lives in its slot. Made by [`sockets`].
pub struct DeviceSockets<F> {
    make: fn(OpenSpec) -> F,
    slots: [Slot<F>; MAX_SOCKETS],
    _link: LteLink,
    _pinned: PhantomPinned,
}

impl<F> core::fmt::Debug for DeviceSockets<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceSockets").finish_non_exhaustive()
    }
}

/// The device's sockets, holding `link` (see the module docs). Pin the
/// result and hand `Pin<&mut _>` to [`NrfTransport`](crate::transport::NrfTransport).
pub fn sockets(link: LteLink) -> DeviceSockets<impl Future<Output = Result<Conn, Error>>> {
    DeviceSockets {
        make: open,
        slots: [const { Slot::Empty }; MAX_SOCKETS],
        _link: link,
        _pinned: PhantomPinned,
    }
}

fn poll_once<T>(f: impl Future<Output = T>) -> Poll<T> {
    let f = pin!(f);
    f.poll(&mut Context::from_waker(Waker::noop()))
}

impl<F: Future<Output = Result<Conn, Error>>> DeviceSockets<F> {
    /// The pinned slot `h`.
    fn slot(self: Pin<&mut Self>, h: u8) -> Option<Pin<&mut Slot<F>>> {
        // SAFETY: structural pinning of `slots`: a slot's future is never
        // moved out; it is only dropped in place by `Pin::set` (which
        // replaces the whole slot) or with `self`. `DeviceSockets` is
        // `!Unpin` and implements no `Drop` that could move it.
        let this = unsafe { self.get_unchecked_mut() };
        let slot = this.slots.get_mut(usize::from(h))?;
        // SAFETY: `slot` is part of the pinned `self` (see above).
        Some(unsafe { Pin::new_unchecked(slot) })
    }

    /// Puts the open future of a new socket into a free slot.
    #[allow(clippy::too_many_arguments)]
    fn start(
        mut self: Pin<&mut Self>,
        host: &str,
        port: u16,
        pdn_cid: u8,
        family: Family,
        dtls: Option<(u32, bool)>,
        stream: Option<Option<u32>>,
        secure: bool,
    ) -> Result<u8, TransportError> {
        let host = String::try_from(host).map_err(|_| TransportError::InvalidEndpoint)?;
        let pdn_id = match pdn_cid {
            0 => None,
            cid => Some(
                AtModem::new(ModemAt::new()).pdn_id(cid).map_err(|_| TransportError::NoRoute)?,
            ),
        };
        let index = self
            .slots
            .iter()
            .position(|s| matches!(s, Slot::Empty))
            .ok_or(TransportError::NoSocket)?;
        let h = u8::try_from(index).map_err(|_| TransportError::NoSocket)?;
        let future = (self.make)(OpenSpec { host, port, pdn_id, family, dtls, stream });
        if let Some(mut slot) = self.as_mut().slot(h) {
            slot.set(Slot::Opening { future, dtls: secure });
        }
        Ok(h)
    }

    fn conn(self: Pin<&mut Self>, h: u8) -> Result<&Socket, TransportError> {
        // SAFETY: only a shared reference to the open socket is handed out;
        // nothing is moved.
        let this = unsafe { self.get_unchecked_mut() };
        match this.slots.get(usize::from(h)) {
            Some(Slot::Open(c)) => Ok(&c.socket),
            Some(Slot::Opening { .. }) => Err(TransportError::InvalidSocket),
            Some(Slot::Failed) => Err(TransportError::Closed),
            Some(Slot::Empty) | None => Err(TransportError::InvalidSocket),
        }
    }
}

impl<F: Future<Output = Result<Conn, Error>>> ModemSockets for Pin<&mut DeviceSockets<F>> {
    type Handle = u8;

    fn connect(&mut self, spec: &SocketSpec<'_>) -> Result<u8, TransportError> {
        let dtls = spec.dtls.is_some();
        self.as_mut().start(spec.host, spec.port, spec.pdn_cid, spec.family, spec.dtls, None, dtls)
    }

    fn poll_connect(&mut self, h: u8) -> Poll<Result<(), TransportError>> {
        let Some(mut slot) = self.as_mut().slot(h) else {
            return Poll::Ready(Err(TransportError::InvalidSocket));
        };
        // SAFETY: the future is polled in place, never moved; the slot is
        // replaced as a whole with `Pin::set` below.
        let polled = match unsafe { slot.as_mut().get_unchecked_mut() } {
            Slot::Opening { future, dtls } => {
                // SAFETY: `future` is inside the pinned slot.
                let future = unsafe { Pin::new_unchecked(future) };
                (future.poll(&mut Context::from_waker(Waker::noop())), *dtls)
            }
            Slot::Open(_) => return Poll::Ready(Ok(())),
            Slot::Failed => return Poll::Ready(Err(TransportError::Closed)),
            Slot::Empty => return Poll::Ready(Err(TransportError::InvalidSocket)),
        };
        match polled {
            (Poll::Pending, _) => Poll::Pending,
            (Poll::Ready(Ok(conn)), _) => {
                slot.set(Slot::Open(conn));
                Poll::Ready(Ok(()))
            }
            (Poll::Ready(Err(e)), dtls) => {
                slot.set(Slot::Failed);
                Poll::Ready(Err(map_error(&e, dtls)))
            }
        }
    }

    fn send(&mut self, h: u8, data: &[u8]) -> Poll<Result<(), TransportError>> {
        let socket = match self.as_mut().conn(h) {
            Ok(s) => s,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match poll_once(socket.write(data)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(n)) if n == data.len() => Poll::Ready(Ok(())),
            Poll::Ready(Ok(_)) => Poll::Ready(Err(TransportError::TooLarge)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(map_error(&e, false))),
        }
    }

    fn recv(&mut self, h: u8, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        let socket = match self.as_mut().conn(h) {
            Ok(s) => s,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match poll_once(socket.receive(buf)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(n)) => Poll::Ready(Ok(n)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(map_error(&e, false))),
        }
    }

    fn close(&mut self, h: u8) {
        if let Some(mut slot) = self.as_mut().slot(h) {
            slot.set(Slot::Empty);
        }
    }

    fn connection_id_in_use(&mut self, h: u8) -> bool {
        let Ok(socket) = self.as_mut().conn(h) else { return false };
        let mut status: i32 = 0;
        let mut len = core::mem::size_of::<i32>() as u32;
        // SAFETY: `fd` is an open libmodem socket (the slot is `Open`);
        // `status` and `len` are valid for writes, and `len` holds the size
        // of `status`, which is what `NRF_SO_SEC_DTLS_CID_STATUS` writes (an
        // int). libmodem keeps no pointer past the call.
        let r = unsafe {
            sys::nrf_getsockopt(
                socket.as_raw_fd(),
                sys::NRF_SOL_SECURE as i32,
                sys::NRF_SO_SEC_DTLS_CID_STATUS as i32,
                (&raw mut status).cast(),
                &raw mut len,
            )
        };
        r == 0 && status != sys::NRF_SO_SEC_DTLS_CID_STATUS_DISABLED as i32
    }
}

impl<F: Future<Output = Result<Conn, Error>>> StreamSockets for Pin<&mut DeviceSockets<F>> {
    type Stream = u8;

    fn stream_connect(&mut self, spec: &StreamSpec<'_>) -> Result<u8, TransportError> {
        let carrier_os::modem::PdnId(cid) = spec.pdn;
        let secure = spec.tls.is_some();
        self.as_mut().start(spec.host, spec.port, cid, Family::Any, None, Some(spec.tls), secure)
    }

    fn stream_poll_connect(&mut self, s: u8) -> Poll<Result<(), TransportError>> {
        self.poll_connect(s)
    }

    fn stream_write(&mut self, s: u8, data: &[u8]) -> Poll<Result<usize, TransportError>> {
        let socket = match self.as_mut().conn(s) {
            Ok(sock) => sock,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match poll_once(socket.write(data)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(n)) => Poll::Ready(Ok(n)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(map_error(&e, false))),
        }
    }

    fn stream_read(&mut self, s: u8, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        let socket = match self.as_mut().conn(s) {
            Ok(sock) => sock,
            Err(e) => return Poll::Ready(Err(e)),
        };
        match poll_once(socket.receive(buf)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(n)) => Poll::Ready(Ok(n)),
            // `nrf-modem` reports the peer's orderly close as `Disconnected`.
            Poll::Ready(Err(Error::Disconnected)) => Poll::Ready(Ok(0)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(map_error(&e, false))),
        }
    }

    fn stream_close(&mut self, s: u8) {
        self.close(s);
    }
}
