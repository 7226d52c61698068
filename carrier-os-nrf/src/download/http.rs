//! HTTP(S) firmware download with `Range` (RFC 9110 §14.2) over a small
//! stream-socket interface, [`StreamSockets`], whose device binding is the
//! modem's TCP and TLS sockets (`device::sockets`; TLS offloaded to the
//! modem with the CA certificate of the security tag).
//!
//! Owns the request (`GET <target> HTTP/1.1`, `Host`, `Range:
//! bytes=<offset>-` when resuming, `Connection: close`) and the reading of
//! the response: the head by [`super::http_head::parse_head`],
//! then the body up to `Content-Length` (or the end of the connection when
//! there is none).
//!
//! Guarantees:
//! - The first byte delivered is byte `offset` of the file: a 206 must
//!   carry `Content-Range` starting at `offset` (else `Io`); a 200 to a
//!   ranged request (a server that ignores `Range`) has its first `offset`
//!   bytes skipped; 416 and any other status outside 2xx are
//!   `Refused { status }`.
//! - The size is `Content-Range`'s complete length, or `offset +
//!   Content-Length`.
//! - A connection that ends before `Content-Length` is `Disconnected`
//!   (resumable); `Transfer-Encoding: chunked` is refused with `Io` (not
//!   implemented: servers answer ranged requests with a length).
//! - No panic on anything the server sends.
//!
//! Limits: no redirects (3xx is `Refused`), no time-out of its own (the
//! modem's TCP gives up on a dead peer).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::fmt::Write;
use core::task::Poll;

use carrier_os::download::{DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::modem::PdnId;
use carrier_os::transport::TransportError;
use heapless::{String, Vec};

use super::http_head::parse_head;
use super::{Scheme, URI_LEN, Uri, from_transport};

/// Longest response head accepted.
pub const HEAD_MAX: usize = 1024;

/// What a stream socket is opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSpec<'a> {
    /// Host name or IP literal.
    pub host: &'a str,
    /// TCP port.
    pub port: u16,
    /// The PDN.
    pub pdn: PdnId,
    /// TLS with the CA certificate(s) of this security tag, verifying the
    /// server's certificate against `host`.
    pub tls: Option<u32>,
}

/// Stream sockets (TCP, TLS), polled without blocking.
pub trait StreamSockets {
    /// A socket.
    type Stream: Copy;
    /// Starts connecting (DNS, TCP, TLS handshake).
    ///
    /// # Errors
    /// What is known at once.
    fn stream_connect(&mut self, spec: &StreamSpec<'_>) -> Result<Self::Stream, TransportError>;
    /// Progress of the connect.
    fn stream_poll_connect(&mut self, s: Self::Stream) -> Poll<Result<(), TransportError>>;
    /// Writes some of `data`; how much.
    fn stream_write(&mut self, s: Self::Stream, data: &[u8])
    -> Poll<Result<usize, TransportError>>;
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn stream_read(
        &mut self,
        s: Self::Stream,
        buf: &mut [u8],
    ) -> Poll<Result<usize, TransportError>>;
    /// Closes.
    fn stream_close(&mut self, s: Self::Stream);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Connecting,
    Writing,
    Head,
    Body,
    Done,
    Failed(DownloadError),
}

/// The HTTP(S) downloader over stream handles `H`.
#[derive(Debug)]
pub struct HttpDownload<H> {
    stream: Option<H>,
    phase: Phase,
    request: String<{ URI_LEN + 192 }>,
    written: usize,
    head: Vec<u8, HEAD_MAX>,
    /// Body bytes received past the head, not yet delivered.
    body_start: usize,
    offset: u64,
    /// Bytes still to skip (a 200 to a ranged request).
    skip: u64,
    /// Body bytes still expected (`None`: until the end of the stream).
    remaining: Option<u64>,
    size: Option<u64>,
    got_any: bool,
}

impl<H: Copy> Default for HttpDownload<H> {
    fn default() -> Self {
        Self {
            stream: None,
            phase: Phase::Idle,
            request: String::new(),
            written: 0,
            head: Vec::new(),
            body_start: 0,
            offset: 0,
            skip: 0,
            remaining: None,
            size: None,
            got_any: false,
        }
    }
}

impl<H: Copy> HttpDownload<H> {
    /// Starts the download of `uri` (`http`/`https`, split already).
    ///
    /// # Errors
    /// `Busy`, `NoCredentials` (https without a tag), `UriTooLong`, or the
    /// socket's refusal.
    pub fn start<S: StreamSockets<Stream = H>>(
        &mut self,
        net: &mut S,
        uri: &Uri,
        req: &DownloadRequest<'_>,
    ) -> Result<(), DownloadError> {
        if self.stream.is_some() {
            return Err(DownloadError::Busy);
        }
        let tls = match (uri.scheme, req.sec_tag) {
            (Scheme::Http, _) => None,
            (Scheme::Https, Some(tag)) => Some(tag.0),
            (Scheme::Https, None) => return Err(DownloadError::NoCredentials),
            _ => return Err(DownloadError::UnsupportedScheme),
        };
        let mut request = String::new();
        let target = if uri.target.starts_with('/') { uri.target.as_str() } else { "/" };
        let target_query = if uri.target.starts_with('?') { uri.target.as_str() } else { "" };
        let long = |_| DownloadError::UriTooLong;
        write!(request, "GET {target}{target_query} HTTP/1.1\r\nHost: ").map_err(long)?;
        if uri.host.contains(':') {
            write!(request, "[{}]", uri.host).map_err(long)?;
        } else {
            request.push_str(&uri.host).map_err(|_| DownloadError::UriTooLong)?;
        }
        if uri.port != uri.scheme.default_port() {
            write!(request, ":{}", uri.port).map_err(long)?;
        }
        request.push_str("\r\n").map_err(|_| DownloadError::UriTooLong)?;
        if req.offset > 0 {
            write!(request, "Range: bytes={}-\r\n", req.offset).map_err(long)?;
        }
        request.push_str("Connection: close\r\n\r\n").map_err(|_| DownloadError::UriTooLong)?;
        let spec = StreamSpec { host: &uri.host, port: uri.port, pdn: req.pdn, tls };
        let stream = net.stream_connect(&spec).map_err(|e| from_transport(e, false))?;
        *self = Self {
            stream: Some(stream),
            phase: Phase::Connecting,
            request,
            offset: req.offset,
            ..Self::default()
        };
        Ok(())
    }

    /// Whether a download is in progress (its socket is open).
    pub fn is_active(&self) -> bool {
        self.stream.is_some()
    }

    /// Total size, once the head has arrived.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Stops and closes; idempotent.
    pub fn abort<S: StreamSockets<Stream = H>>(&mut self, net: &mut S) {
        if let Some(s) = self.stream.take() {
            net.stream_close(s);
        }
        self.phase = Phase::Idle;
    }

    fn fail(&mut self, e: DownloadError) -> Option<Poll<Result<DownloadProgress, DownloadError>>> {
        self.phase = Phase::Failed(e);
        None
    }

    /// Judges the head; the body may start in `head[body_start..]`.
    fn on_head(&mut self, status: u16, length: Option<u64>, range: Option<(u64, Option<u64>)>) {
        let e = match status {
            206 => match range {
                Some((first, complete)) if first == self.offset => {
                    self.size = complete.or(length.and_then(|l| self.offset.checked_add(l)));
                    self.remaining = length;
                    None
                }
                _ => Some(DownloadError::Io),
            },
            200..=299 => {
                // The whole file: skip what the caller has.
                self.skip = self.offset;
                self.size = length;
                self.remaining = length;
                if length.is_some_and(|l| l < self.offset) {
                    Some(DownloadError::Refused { status: 416 })
                } else {
                    None
                }
            }
            _ => Some(DownloadError::Refused { status }),
        };
        self.phase = match e {
            Some(e) => Phase::Failed(e),
            None if self.remaining == Some(0) => Phase::Done,
            None => Phase::Body,
        };
    }

    /// Hands body bytes in `data` to the caller, after skipping; returns
    /// the bytes consumed from `data` and the bytes written to `buf`.
    fn deliver(&mut self, data: &[u8], buf: &mut [u8]) -> (usize, usize) {
        let limit = self
            .remaining
            .map_or(data.len(), |r| usize::try_from(r).map_or(data.len(), |r| r.min(data.len())));
        let data = data.get(..limit).unwrap_or(&[]);
        let skip = usize::try_from(self.skip).map_or(data.len(), |s| s.min(data.len()));
        self.skip -= skip as u64;
        let rest = data.get(skip..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        let consumed = skip + n;
        if let Some(r) = self.remaining.as_mut() {
            *r = r.saturating_sub(consumed as u64);
            if *r == 0 {
                self.phase = Phase::Done;
            }
        }
        (consumed, n)
    }

    fn step<S: StreamSockets<Stream = H>>(
        &mut self,
        net: &mut S,
        buf: &mut [u8],
    ) -> Option<Poll<Result<DownloadProgress, DownloadError>>> {
        let Some(stream) = self.stream else {
            let e = match self.phase {
                Phase::Failed(e) => e,
                _ => DownloadError::NotStarted,
            };
            self.phase = Phase::Idle;
            return Some(Poll::Ready(Err(e)));
        };
        match self.phase {
            Phase::Idle => Some(Poll::Ready(Err(DownloadError::NotStarted))),
            Phase::Failed(e) => {
                self.abort(net);
                Some(Poll::Ready(Err(e)))
            }
            Phase::Done => {
                self.abort(net);
                Some(Poll::Ready(Ok(DownloadProgress::Done)))
            }
            Phase::Connecting => match net.stream_poll_connect(stream) {
                Poll::Pending => Some(Poll::Pending),
                Poll::Ready(Ok(())) => {
                    self.phase = Phase::Writing;
                    None
                }
                Poll::Ready(Err(e)) => self.fail(from_transport(e, false)),
            },
            Phase::Writing => {
                let rest = self.request.as_bytes().get(self.written..).unwrap_or(&[]);
                match net.stream_write(stream, rest) {
                    Poll::Pending => Some(Poll::Pending),
                    Poll::Ready(Ok(0)) if !rest.is_empty() => self.fail(DownloadError::Io),
                    Poll::Ready(Ok(n)) => {
                        self.written = self.written.saturating_add(n);
                        if self.written >= self.request.len() {
                            self.phase = Phase::Head;
                        }
                        None
                    }
                    Poll::Ready(Err(e)) => self.fail(from_transport(e, false)),
                }
            }
            Phase::Head => {
                let mut chunk = [0u8; 256];
                let room = (HEAD_MAX - self.head.len()).min(chunk.len());
                if room == 0 {
                    return self.fail(DownloadError::Io);
                }
                let n = match net.stream_read(stream, chunk.get_mut(..room).unwrap_or(&mut [])) {
                    Poll::Pending => return Some(Poll::Pending),
                    Poll::Ready(Ok(0)) => return self.fail(DownloadError::Disconnected),
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) => return self.fail(from_transport(e, false)),
                };
                if self.head.extend_from_slice(chunk.get(..n).unwrap_or(&[])).is_err() {
                    return self.fail(DownloadError::Io);
                }
                match parse_head(&self.head) {
                    Ok(None) => None,
                    Err(_) => self.fail(DownloadError::Io),
                    Ok(Some((head, used))) => {
                        if head.chunked {
                            return self.fail(DownloadError::Io);
                        }
                        self.body_start = used;
                        let range = head.content_range.map(|r| (r.first, r.complete));
                        self.on_head(head.status, head.content_length, range);
                        None
                    }
                }
            }
            Phase::Body => {
                // Body bytes that came with the head first.
                if self.body_start < self.head.len() {
                    let head = core::mem::take(&mut self.head);
                    let pending = head.get(self.body_start..).unwrap_or(&[]);
                    let (consumed, n) = self.deliver(pending, buf);
                    self.body_start += consumed;
                    self.head = head;
                    if n > 0 {
                        self.got_any = true;
                        return Some(Poll::Ready(Ok(DownloadProgress::Fragment { len: n })));
                    }
                    return None;
                }
                let mut scratch = [0u8; 512];
                let want = if self.skip > 0 { scratch.len() } else { buf.len() };
                let target: &mut [u8] = if self.skip > 0 { &mut scratch } else { buf };
                let n = match net.stream_read(stream, target.get_mut(..want).unwrap_or(&mut [])) {
                    Poll::Pending => return Some(Poll::Pending),
                    Poll::Ready(Ok(0)) => {
                        return if self.remaining.is_none() {
                            self.phase = Phase::Done;
                            None
                        } else {
                            self.fail(DownloadError::Disconnected)
                        };
                    }
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) => {
                        return self.fail(from_transport(e, true));
                    }
                };
                if self.skip > 0 {
                    let data = scratch.get(..n).unwrap_or(&[]);
                    let skip = usize::try_from(self.skip).map_or(n, |s| s.min(n));
                    self.skip -= skip as u64;
                    if let Some(r) = self.remaining.as_mut() {
                        *r = r.saturating_sub(skip as u64);
                    }
                    // Bytes past the skip go back through the head buffer.
                    self.head.clear();
                    self.body_start = 0;
                    if self.head.extend_from_slice(data.get(skip..).unwrap_or(&[])).is_err() {
                        return self.fail(DownloadError::Io);
                    }
                    return None;
                }
                // Bytes read straight into the caller's buffer.
                let n = self.remaining.map_or(n, |r| usize::try_from(r).map_or(n, |r| r.min(n)));
                if let Some(r) = self.remaining.as_mut() {
                    *r -= n as u64;
                    if *r == 0 {
                        self.phase = Phase::Done;
                    }
                }
                self.got_any = true;
                Some(Poll::Ready(Ok(DownloadProgress::Fragment { len: n })))
            }
        }
    }

    /// The next fragment, as `carrier_os::download::Download::poll_download`.
    pub fn poll<S: StreamSockets<Stream = H>>(
        &mut self,
        net: &mut S,
        buf: &mut [u8],
    ) -> Poll<Result<DownloadProgress, DownloadError>> {
        if buf.is_empty() {
            return Poll::Ready(Err(DownloadError::Io));
        }
        for _ in 0..16 {
            if let Some(p) = self.step(net, buf) {
                return p;
            }
        }
        Poll::Pending
    }
}
