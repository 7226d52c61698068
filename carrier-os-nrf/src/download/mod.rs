//! Firmware download for the nRF91 port (`carrier_os::Download`), resumable
//! from a byte offset: CoAP(S) block-wise ([`coap`], RFC 7959 Block2) over
//! the port's own datagram `Transport`, and HTTP(S) with `Range` ([`http`])
//! over the port's [`StreamSockets`]; [`AnyDownload`] picks by scheme.
//!
//! Owns the URI split ([`Uri`], RFC 3986 §3 as far as `coap[s]://` and
//! `http[s]://` need it) and the [`PortDownload`] seam: a download that
//! borrows the port's transport and clock for each call instead of owning
//! them, so that one socket table serves the LwM2M session and the download
//! (the modem offers few sockets) and the retransmission timer reads the
//! port's clock. [`NrfPort`](crate::assembly::NrfPort) turns a
//! `PortDownload` into `carrier_os::Download`.
//!
//! Guarantee: nothing from the network or the URI panics; every failure is
//! a `DownloadError` as documented on `carrier_os::download`.

pub mod coap;
pub mod http;
pub mod http_head;

use core::task::Poll;

use carrier_os::download::{DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::transport::{HOST_LEN, TransportError};
use heapless::String;

pub use coap::CoapDownload;
pub use http::{HttpDownload, StreamSockets, StreamSpec};

/// Longest URI accepted (`UriTooLong` beyond; the original's limit is 255).
pub const URI_LEN: usize = 255;

/// A download that borrows the port's transport `T` and clock `C`.
pub trait PortDownload<T, C> {
    /// Starts downloading `req.uri` from byte `req.offset`; returns at once.
    ///
    /// # Errors
    /// What is known at once: URI, scheme, credentials, no socket, busy.
    fn start(
        &mut self,
        net: &mut T,
        clock: &C,
        req: &DownloadRequest<'_>,
    ) -> Result<(), DownloadError>;
    /// The next fragment, with the contract of
    /// `carrier_os::download::Download::poll_download`.
    fn poll(
        &mut self,
        net: &mut T,
        clock: &C,
        buf: &mut [u8],
    ) -> Poll<Result<DownloadProgress, DownloadError>>;
    /// Total size, once known.
    fn size(&self) -> Option<u64>;
    /// Stops the download and closes its socket; idempotent.
    fn abort(&mut self, net: &mut T);
    /// When the download next needs a poll although nothing arrives (a
    /// retransmission); [`NrfPort`](crate::assembly::NrfPort)'s `Wait`
    /// wakes up for it, since the runtime's deadline does not include it.
    fn deadline(&self) -> Option<carrier_os::time::Instant> {
        None
    }
}

/// No download: every start is `UnsupportedScheme` (a port assembled
/// without one).
impl<T, C> PortDownload<T, C> for () {
    fn start(&mut self, _: &mut T, _: &C, _: &DownloadRequest<'_>) -> Result<(), DownloadError> {
        Err(DownloadError::UnsupportedScheme)
    }
    fn poll(
        &mut self,
        _: &mut T,
        _: &C,
        _: &mut [u8],
    ) -> Poll<Result<DownloadProgress, DownloadError>> {
        Poll::Ready(Err(DownloadError::NotStarted))
    }
    fn size(&self) -> Option<u64> {
        None
    }
    fn abort(&mut self, _: &mut T) {}
}

/// CoAP(S) and HTTP(S) downloads, one at a time, chosen by the URI's
/// scheme; the transport `T` carries both datagrams and streams.
#[derive(Debug)]
pub struct AnyDownload<H> {
    coap: CoapDownload,
    http: HttpDownload<H>,
    http_last: bool,
}

impl<H: Copy> AnyDownload<H> {
    /// A downloader; `seed` as for [`CoapDownload::new`].
    pub fn new(seed: u32) -> Self {
        Self { coap: CoapDownload::new(seed), http: HttpDownload::default(), http_last: false }
    }
}

impl<T, C, H> PortDownload<T, C> for AnyDownload<H>
where
    T: carrier_os::transport::Transport + StreamSockets<Stream = H>,
    C: carrier_os::time::Clock,
    H: Copy,
{
    fn start(
        &mut self,
        net: &mut T,
        clock: &C,
        req: &DownloadRequest<'_>,
    ) -> Result<(), DownloadError> {
        if self.coap.is_active() || self.http.is_active() {
            return Err(DownloadError::Busy);
        }
        let uri = Uri::parse(req.uri)?;
        self.http_last = matches!(uri.scheme, Scheme::Http | Scheme::Https);
        if self.http_last {
            self.http.start(net, &uri, req)
        } else {
            self.coap.start(net, clock, req)
        }
    }

    fn poll(
        &mut self,
        net: &mut T,
        clock: &C,
        buf: &mut [u8],
    ) -> Poll<Result<DownloadProgress, DownloadError>> {
        if self.http_last { self.http.poll(net, buf) } else { self.coap.poll(net, clock, buf) }
    }

    fn size(&self) -> Option<u64> {
        if self.http_last { self.http.size() } else { PortDownload::<T, C>::size(&self.coap) }
    }

    fn abort(&mut self, net: &mut T) {
        PortDownload::<T, C>::abort(&mut self.coap, net);
        self.http.abort(net);
    }

    fn deadline(&self) -> Option<carrier_os::time::Instant> {
        if self.http_last { None } else { PortDownload::<T, C>::deadline(&self.coap) }
    }
}

/// The scheme of a download URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `coap` (RFC 7252 §6.1).
    Coap,
    /// `coaps` (RFC 7252 §6.2).
    Coaps,
    /// `http` (RFC 9110 §4.2.1).
    Http,
    /// `https` (RFC 9110 §4.2.2).
    Https,
}

impl Scheme {
    /// The default port.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Coap => 5683,
            Scheme::Coaps => 5684,
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// Whether the scheme is secured (DTLS or TLS).
    pub const fn is_secure(self) -> bool {
        matches!(self, Scheme::Coaps | Scheme::Https)
    }
}

/// A split download URI: `scheme://host[:port][/path][?query]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String<HOST_LEN>,
    /// Port (the scheme's default when absent).
    pub port: u16,
    /// Path and query as written, starting with `/` (or empty).
    pub target: String<URI_LEN>,
}

impl Uri {
    /// Splits `uri`. Percent-encoding is kept as written; a fragment,
    /// userinfo, an empty host or a bad port is `InvalidUri`.
    ///
    /// # Errors
    /// `UriTooLong`, `UnsupportedScheme`, `InvalidUri`.
    pub fn parse(uri: &str) -> Result<Uri, DownloadError> {
        if uri.len() > URI_LEN {
            return Err(DownloadError::UriTooLong);
        }
        let (scheme, rest) = uri.split_once("://").ok_or(DownloadError::InvalidUri)?;
        let scheme = [
            ("coap", Scheme::Coap),
            ("coaps", Scheme::Coaps),
            ("http", Scheme::Http),
            ("https", Scheme::Https),
        ]
        .into_iter()
        .find(|(name, _)| scheme.eq_ignore_ascii_case(name))
        .map(|(_, s)| s)
        .ok_or(DownloadError::UnsupportedScheme)?;
        if rest.contains('#') {
            return Err(DownloadError::InvalidUri);
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at_checked(split).ok_or(DownloadError::InvalidUri)?;
        if authority.contains('@') {
            return Err(DownloadError::InvalidUri);
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, after) = v6.split_once(']').ok_or(DownloadError::InvalidUri)?;
                match after {
                    "" => (h, None),
                    p => (h, Some(p.strip_prefix(':').ok_or(DownloadError::InvalidUri)?)),
                }
            }
            None => match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            return Err(DownloadError::InvalidUri);
        }
        let port = match port {
            None | Some("") => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(DownloadError::InvalidUri),
            },
        };
        Ok(Uri {
            scheme,
            host: String::try_from(host).map_err(|_| DownloadError::UriTooLong)?,
            port,
            target: String::try_from(target).map_err(|_| DownloadError::UriTooLong)?,
        })
    }

    /// The path segments (`Uri-Path` options), without empty ones.
    pub fn path_segments(&self) -> impl Iterator<Item = &str> {
        let path = self.target.split('?').next().unwrap_or("");
        path.split('/').filter(|s| !s.is_empty())
    }

    /// The query items (`Uri-Query` options), without empty ones.
    pub fn query_items(&self) -> impl Iterator<Item = &str> {
        let query = self.target.split_once('?').map_or("", |(_, q)| q);
        query.split('&').filter(|s| !s.is_empty())
    }
}

/// A transport failure as a download failure; `got_any`: some bytes of
/// this run arrived, so losing the peer is resumable (`Disconnected`).
pub(crate) fn from_transport(e: TransportError, got_any: bool) -> DownloadError {
    match e {
        TransportError::DnsFailed | TransportError::NoRoute if !got_any => DownloadError::NoRoute,
        TransportError::HandshakeFailed | TransportError::NoCredentials => {
            DownloadError::NoCredentials
        }
        TransportError::HandshakeTimedOut => DownloadError::TimedOut,
        TransportError::InvalidEndpoint => DownloadError::InvalidUri,
        TransportError::Unsupported => DownloadError::UnsupportedScheme,
        TransportError::NoSocket | TransportError::TooLarge | TransportError::Io => {
            DownloadError::Io
        }
        _ => DownloadError::Disconnected,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn coap_uri_splits_into_host_default_port_path_and_query() {
        let u = Uri::parse("coap://fw.example.com/fw/v2/app.bin?tok=1&x=").unwrap();
        assert_eq!(u.scheme, Scheme::Coap);
        assert_eq!(u.host.as_str(), "fw.example.com");
        assert_eq!(u.port, 5683, "RFC 7252 §6.1 default port");
        assert_eq!(u.path_segments().collect::<std::vec::Vec<_>>(), ["fw", "v2", "app.bin"]);
        assert_eq!(u.query_items().collect::<std::vec::Vec<_>>(), ["tok=1", "x="]);
    }

    #[test]
    fn ipv6_literal_and_explicit_ports_are_parsed() {
        let u = Uri::parse("coaps://[2001:db8::1]:5700/a").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.scheme), ("2001:db8::1", 5700, Scheme::Coaps));
        let u = Uri::parse("HTTPS://h").unwrap();
        assert_eq!((u.port, u.target.as_str()), (443, ""));
        assert_eq!(Uri::parse("http://h:8080/x").unwrap().port, 8080);
    }

    #[test]
    fn malformed_uris_are_refused_with_the_right_error() {
        assert_eq!(Uri::parse("ftp://h/x"), Err(DownloadError::UnsupportedScheme));
        assert_eq!(Uri::parse("coap:/h"), Err(DownloadError::InvalidUri));
        assert_eq!(Uri::parse("coap:///x"), Err(DownloadError::InvalidUri));
        assert_eq!(Uri::parse("coap://h:99999/x"), Err(DownloadError::InvalidUri));
        assert_eq!(Uri::parse("coap://h:0/x"), Err(DownloadError::InvalidUri));
        assert_eq!(Uri::parse("coap://h:+1/x"), Err(DownloadError::InvalidUri));
        assert_eq!(Uri::parse("coap://u@h/x"), Err(DownloadError::InvalidUri));
        assert_eq!(Uri::parse("coap://h/x#frag"), Err(DownloadError::InvalidUri));
        assert_eq!(Uri::parse("coap://[::1/x"), Err(DownloadError::InvalidUri));
        let long = std::format!("coap://h/{}", "a".repeat(URI_LEN));
        assert_eq!(Uri::parse(&long), Err(DownloadError::UriTooLong));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_uris_never_panic(s in ".{0,300}") {
            let _ = Uri::parse(&s);
        }
    }
}
