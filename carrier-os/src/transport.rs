//! Datagram transport: UDP, DTLS-PSK by security tag (optionally with a DTLS
//! Connection ID), or non-IP.
//!
//! Owns the [`Transport`] trait. A socket is *connected* to one peer (the
//! client only ever talks to its servers). Opening is started by
//! [`Transport::open`] and completed by [`Transport::poll_open`] (DNS lookup
//! and DTLS handshake happen in between); sending and receiving never block.
//! Mirrors the socket use of the original (modem sockets with DTLS offload,
//! `SO_SEC_TAG_LIST`, `SO_DTLS_CID`).

use core::task::Poll;

use heapless::String;
use thiserror::Error;

use crate::modem::{PdnId, SecTag};

/// A socket handle, valid from [`Transport::open`] until
/// [`Transport::close`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SocketId(pub u8);

/// Longest host name accepted.
pub const HOST_LEN: usize = 128;

/// The largest datagram the runtime sends or expects (a CoAP message with a
/// 1024-byte block plus headers, below the nRF91's 1280-byte DTLS limit).
pub const MAX_DATAGRAM: usize = 1280;

/// Whether the socket is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Security {
    /// Plain UDP (or non-IP).
    None,
    /// DTLS 1.2 with the PSK (and identity) held in `sec_tag`.
    DtlsPsk {
        /// The credentials.
        sec_tag: SecTag,
        /// Negotiate a DTLS Connection ID (RFC 9146) if the peer supports it.
        connection_id: bool,
    },
}

/// Where and how to open a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Endpoint {
    /// Peer host: a DNS name or an IP literal (IPv6 without brackets).
    /// Ignored for non-IP.
    pub host: String<HOST_LEN>,
    /// Peer UDP port. Ignored for non-IP.
    pub port: u16,
    /// The PDN to use.
    pub pdn: PdnId,
    /// IP family preference, or non-IP.
    pub family: Family,
    /// Security.
    pub security: Security,
}

/// Address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Family {
    /// Whatever the name resolves to, IPv6 preferred.
    Any,
    /// IPv4 only.
    Ipv4,
    /// IPv6 only.
    Ipv6,
    /// Non-IP data delivery over the PDN (no host or port).
    NonIp,
}

/// What the transport could not do. The runtime maps these to deferred
/// reasons: `NoRoute`/`DnsFailed` → "no route", `HandshakeFailed`/
/// `HandshakeTimedOut` → "connect", `LinkDown` → retry after link up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TransportError {
    /// The host name could not be resolved.
    #[error("DNS lookup failed")]
    DnsFailed,
    /// No route to the peer (network or host unreachable, PDN not active).
    #[error("no route to peer")]
    NoRoute,
    /// The LTE link is down (or went down; the socket is dead).
    #[error("link down")]
    LinkDown,
    /// The DTLS handshake was refused (alert, bad PSK, bad identity).
    #[error("DTLS handshake failed")]
    HandshakeFailed,
    /// The DTLS handshake got no answer in time.
    #[error("DTLS handshake timed out")]
    HandshakeTimedOut,
    /// The security tag holds no usable PSK.
    #[error("security tag has no credentials")]
    NoCredentials,
    /// The session ended (DTLS close_notify/fatal alert, peer unreachable
    /// reported by ICMP); open a new socket.
    #[error("connection closed")]
    Closed,
    /// All sockets are in use.
    #[error("no free socket")]
    NoSocket,
    /// The handle is not open.
    #[error("invalid socket")]
    InvalidSocket,
    /// The datagram is larger than the transport carries.
    #[error("datagram too large")]
    TooLarge,
    /// The endpoint is malformed (bad IP literal, family not supported).
    #[error("invalid endpoint")]
    InvalidEndpoint,
    /// The port does not support this kind of socket (e.g. DTLS or non-IP).
    #[error("not supported by this port")]
    Unsupported,
    /// Another failure of the platform's network stack.
    #[error("transport I/O error")]
    Io,
}

/// Datagram sockets.
///
/// Readiness: the arrival of a datagram and the completion of an `open`
/// MUST wake [`Wait::wait_until`](crate::wait::Wait::wait_until).
pub trait Transport {
    /// Starts opening a socket to `endpoint`. Returns at once.
    ///
    /// Contract: MUST NOT block on DNS or a handshake; those progress in the
    /// background (or inside [`poll_open`](Transport::poll_open)). Fails at
    /// once only for what is known without the network (no free socket,
    /// invalid endpoint, [`TransportError::LinkDown`]).
    fn open(&mut self, endpoint: &Endpoint) -> Result<SocketId, TransportError>;

    /// Progress of an `open`.
    ///
    /// Contract: MUST return `Pending` while resolving or handshaking,
    /// `Ready(Ok(()))` once datagrams can be sent, `Ready(Err(e))` if opening
    /// failed (the handle then stays valid until `close`). After
    /// `Ready(Ok(()))` it MUST keep returning it while the socket lives.
    /// Ports MAY do handshake work inside this call but MUST NOT block.
    fn poll_open(&mut self, socket: SocketId) -> Poll<Result<(), TransportError>>;

    /// Sends one datagram.
    ///
    /// Contract: either the whole datagram is queued (`Ready(Ok)`), or
    /// nothing is and the call returns `Pending` (buffers full; retry after a
    /// wake-up) or an error. MUST NOT block.
    fn send(&mut self, socket: SocketId, datagram: &[u8]) -> Poll<Result<(), TransportError>>;

    /// Receives one datagram into `buf`, returning its length.
    ///
    /// Contract: MUST return `Pending` at once if none is waiting. A datagram
    /// longer than `buf` is truncated to `buf.len()` (the rest is dropped),
    /// as UDP does. Datagrams from other peers than the connected one MUST
    /// NOT be returned.
    fn recv(&mut self, socket: SocketId, buf: &mut [u8]) -> Poll<Result<usize, TransportError>>;

    /// Closes the socket (DTLS: sends close_notify). Idempotent; the handle
    /// is invalid afterwards and MAY be reused by a later `open`.
    fn close(&mut self, socket: SocketId);

    /// The DTLS Connection ID was negotiated on this socket.
    /// Default: `false`.
    fn connection_id_in_use(&mut self, socket: SocketId) -> bool {
        let _ = socket;
        false
    }
}
