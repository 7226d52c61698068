//! CoAP(S) block-wise firmware download for the real mode.
//!
//! Owns the `coap://` and `coaps://` branch of [`RealPort`]'s
//! [`Download`](carrier_os::download::Download): the URI (RFC 7252 §6.1,
//! §6.4), the Block2 GET sequence (RFC 7959 §2.4) and the mapping of its
//! failures onto [`DownloadError`]. Fragments travel through the same queue
//! as the HTTP path, so `poll_download` behaves identically for both.
//!
//! Guarantees:
//! - A download started at `offset` asks first for block
//!   `offset / 1024` (SZX 6) and skips the `offset % 1024` bytes of it the
//!   caller already has; the first byte delivered is byte `offset` of the
//!   file. A server that answers with a smaller block size (RFC 7959 §2.4)
//!   is followed from then on; a block whose position is not the one asked
//!   for ends the download with [`DownloadError::Io`].
//! - At most [`MAX_QUEUED`] blocks wait in the queue: the helper thread
//!   asks for the next block only once the caller has taken enough, so a
//!   slow flash write is never outrun by the network.
//! - No input from the wire panics: options and payloads are read with
//!   `get(..)` and checked arithmetic.
//!
//! Errors, chosen to match the HTTP path: a response other than 2.05
//! Content is [`DownloadError::Refused`] with the CoAP code as
//! `class * 100 + detail` (4.04 → 404, as HTTP's 404); an unresolvable or
//! unreachable host (ICMP port unreachable before any block) is
//! [`DownloadError::NoRoute`]; a CON that MAX_RETRANSMIT retransmissions
//! do not get answered is [`DownloadError::TimedOut`]; a failed DTLS
//! handshake is [`DownloadError::NoCredentials`]; an RST to the GET is
//! [`DownloadError::Io`]. Once at least one block
//! of this run has arrived, losing the peer (time-out, ICMP unreachable,
//! RST, DTLS close) is [`DownloadError::Disconnected`] instead: the
//! runtime resumes from the offset it stored.
//!
//! Layering: CoAP sits below LwM2M, so the std port may use the CoAP
//! message layer of `lwm2m-core` (`lwm2m_core::coap` only: the sans-IO
//! [`Endpoint`] and the block-wise types); it knows nothing of LwM2M.
//! `coaps://` runs DTLS-PSK through the same session type as the real
//! transport, with the PSK and identity of the request's security tag.
//!
//! Not supported: percent-encoded URI segments (sent as written), ETag
//! checks across a resume (the server's file is trusted not to change),
//! Block2 late negotiation upwards.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use carrier_os::download::DownloadError;
use lwm2m_core::coap::MessageWriter;
use lwm2m_core::coap::block::{BlockValue, Szx};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config, Endpoint, Event};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::Instant;

use super::tls::{Phase, Session};
use super::{DlShared, Signal, lock, map_dl_io};
use crate::profile::Credential;

/// Default port of `coap://` (RFC 7252 §6.1).
pub(crate) const COAP_PORT: u16 = 5683;
/// Default port of `coaps://` (RFC 7252 §6.2).
pub(crate) const COAPS_PORT: u16 = 5684;
/// Blocks waiting in the queue before the next one is asked for.
pub(crate) const MAX_QUEUED: usize = 4;
/// The block size asked for first (RFC 7959 §2.2: SZX 6, 1024 bytes).
const PREFERRED: Szx = Szx::S1024;
/// How long one socket read blocks before the loop runs its timers and
/// checks for an abort.
const RECV_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// A parsed `coap://` or `coaps://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// True for `coaps`.
    pub secure: bool,
    /// Host name or address literal (without IPv6 brackets).
    pub host: String,
    /// UDP port.
    pub port: u16,
    /// Uri-Path segments.
    pub path: Vec<String>,
    /// Uri-Query items.
    pub query: Vec<String>,
}

impl Target {
    /// Parses `coap[s]://host[:port]/path[?query]` (RFC 7252 §6.4, without
    /// percent-decoding). A fragment is refused.
    pub(crate) fn parse(uri: &str) -> Result<Target, DownloadError> {
        let (scheme, rest) = uri.split_once("://").ok_or(DownloadError::InvalidUri)?;
        let secure = if scheme.eq_ignore_ascii_case("coaps") {
            true
        } else if scheme.eq_ignore_ascii_case("coap") {
            false
        } else {
            return Err(DownloadError::UnsupportedScheme);
        };
        if rest.contains('#') {
            return Err(DownloadError::InvalidUri);
        }
        let (authority, path_query) =
            rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or(DownloadError::InvalidUri)?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(DownloadError::InvalidUri);
        }
        let port = match port {
            None | Some("") => {
                if secure {
                    COAPS_PORT
                } else {
                    COAP_PORT
                }
            }
            Some(p) => p.parse().map_err(|_| DownloadError::InvalidUri)?,
        };
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        let path = path.strip_prefix('/').unwrap_or(path);
        let path =
            if path.is_empty() { vec![] } else { path.split('/').map(str::to_owned).collect() };
        let query = query.split('&').filter(|q| !q.is_empty()).map(str::to_owned).collect();
        Ok(Target { secure, host: host.to_owned(), port, path, query })
    }
}

/// Where the block sequence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// Byte position of the block asked for next.
    pos: u64,
    /// Block size in use.
    szx: Szx,
    /// Bytes at the start of the next block the caller already has.
    skip: u64,
    /// Where the caller started.
    offset: u64,
}

/// What one response gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepted<'p> {
    /// New bytes for the caller.
    pub data: &'p [u8],
    /// Further blocks follow.
    pub more: bool,
}

impl Cursor {
    /// The cursor of a download resumed at `offset`.
    pub(crate) fn new(offset: u64) -> Result<Cursor, DownloadError> {
        let size = PREFERRED.size() as u64;
        let cursor =
            Cursor { pos: offset - offset % size, szx: PREFERRED, skip: offset % size, offset };
        // NUM is 20 bits (RFC 7959 §2.2): offsets past 1 GiB cannot be asked for.
        cursor.request().ok_or(DownloadError::Io)?;
        Ok(cursor)
    }

    /// The Block2 option of the next request.
    pub(crate) fn request(&self) -> Option<BlockValue> {
        let num = u32::try_from(self.pos / self.szx.size() as u64).ok()?;
        BlockValue::new(num, false, self.szx)
    }

    /// Takes one response: its code, its Block2 option value (if any) and
    /// its payload; returns the bytes that are new to the caller.
    pub(crate) fn accept<'p>(
        &mut self,
        code: Code,
        block2: Option<&[u8]>,
        payload: &'p [u8],
    ) -> Result<Accepted<'p>, DownloadError> {
        if code != Code::Content {
            let status = u16::from(code.class()) * 100 + u16::from(code.detail());
            return Err(DownloadError::Refused { status });
        }
        let Some(raw) = block2 else {
            // The whole representation in one response (RFC 7959 §2.4: a
            // server may ignore Block2 when the body fits): skip what the
            // caller has.
            let from = usize::try_from(self.offset).map_err(|_| DownloadError::Io)?;
            let data = payload.get(from..).ok_or(DownloadError::Io)?;
            self.pos = payload.len() as u64;
            self.skip = 0;
            return Ok(Accepted { data, more: false });
        };
        let block = BlockValue::parse(raw).map_err(|_| DownloadError::Io)?;
        if block.offset() as u64 != self.pos
            || block.szx > self.szx
            || payload.len() > block.size()
            || (block.more && payload.len() != block.size())
        {
            return Err(DownloadError::Io);
        }
        let skip = usize::try_from(self.skip).map_err(|_| DownloadError::Io)?;
        let data = payload.get(skip..).ok_or(DownloadError::Io)?;
        self.skip = 0;
        self.szx = block.szx;
        self.pos = self.pos.checked_add(payload.len() as u64).ok_or(DownloadError::Io)?;
        Ok(Accepted { data, more: block.more })
    }
}

/// Everything the helper thread needs.
#[derive(Debug)]
pub(crate) struct Job {
    pub target: Target,
    pub offset: u64,
    /// The security tag's credentials, for `coaps`.
    pub credential: Option<Credential>,
    pub handshake_timeout: carrier_os::time::Duration,
    /// Fault injection: end with `Disconnected` after this many bytes.
    pub drop_after: Option<u64>,
    /// Seed of the CoAP endpoint's tokens and message IDs.
    pub seed: u32,
    pub shared: Arc<Mutex<DlShared>>,
    pub stop: Arc<AtomicBool>,
    pub signal: Arc<Signal>,
}

/// The helper thread: runs the transfer and records how it ended.
pub(crate) fn run(job: &Job) {
    let r = transfer(job);
    if !job.stop.load(Ordering::Relaxed) {
        lock(&job.shared).end = Some(r);
        job.signal.notify();
    }
}

/// Plain UDP or a DTLS session over it.
enum Link {
    Plain,
    Dtls { session: Box<Session>, raw: VecDeque<Vec<u8>> },
}

/// Failures once part of the file has arrived are a lost connection.
fn lost(got_any: bool, e: DownloadError) -> DownloadError {
    if got_any { DownloadError::Disconnected } else { e }
}

fn transfer(job: &Job) -> Result<(), DownloadError> {
    let t = &job.target;
    let addr = (t.host.as_str(), t.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(DownloadError::NoRoute)?;
    let bind: SocketAddr = if addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }
        .parse()
        .map_err(|_| DownloadError::Io)?;
    let sock = UdpSocket::bind(bind)
        .and_then(|s| s.connect(addr).map(|()| s))
        .map_err(|_| DownloadError::NoRoute)?;
    sock.set_read_timeout(Some(RECV_POLL)).map_err(|_| DownloadError::Io)?;
    let mut link = match &job.credential {
        None => Link::Plain,
        Some(c) => Link::Dtls {
            session: Box::new(
                Session::new(c, job.handshake_timeout).map_err(|_| DownloadError::NoCredentials)?,
            ),
            raw: VecDeque::new(),
        },
    };
    let epoch = std::time::Instant::now();
    let now =
        || Instant::from_millis(u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX));
    let os_now = |n: Instant| carrier_os::time::Instant::from_millis(n.as_millis());
    let mut ep: Endpoint<SocketAddr, XorShiftRng> =
        Endpoint::new(Config::default(), XorShiftRng::new(job.seed));
    let mut cursor = Cursor::new(job.offset)?;
    let mut in_flight = false;
    let mut got_any = false;
    let mut delivered = 0u64;
    let mut tx = vec![0u8; MAX_MESSAGE_LEN];
    let mut rx = vec![0u8; 2048];
    let mut plain: Vec<Vec<u8>> = Vec::new();
    loop {
        if job.stop.load(Ordering::Relaxed) {
            if let Link::Dtls { session, .. } = &mut link {
                session.close(os_now(now()), Some(&sock));
            }
            return Ok(());
        }
        let n = now();
        // The DTLS session: handshake, timers, decrypted records.
        let ready = match &mut link {
            Link::Plain => true,
            Link::Dtls { session, raw } => {
                session.pump(os_now(n), Some(&sock), None, raw);
                while let Some(d) = session.pop() {
                    plain.push(d);
                }
                match session.phase() {
                    Phase::Opening => false,
                    Phase::Open => true,
                    Phase::Failed(carrier_os::transport::TransportError::HandshakeTimedOut) => {
                        return Err(DownloadError::TimedOut);
                    }
                    Phase::Failed(carrier_os::transport::TransportError::Closed) => {
                        return Err(lost(got_any, DownloadError::Disconnected));
                    }
                    Phase::Failed(_) => return Err(lost(got_any, DownloadError::NoCredentials)),
                }
            }
        };
        if ready && !in_flight && lock(&job.shared).chunks.len() < MAX_QUEUED {
            let block = cursor.request().ok_or(DownloadError::Io)?;
            ep.request(n, addr, true, Code::Get, |w: &mut MessageWriter<'_>| {
                t.path.iter().try_for_each(|s| w.add_str(OptionNumber::UriPath, s))?;
                t.query.iter().try_for_each(|q| w.add_str(OptionNumber::UriQuery, q))?;
                w.add_uint(OptionNumber::Block2, block.to_uint())
            })
            .map_err(|_| DownloadError::InvalidUri)?;
            in_flight = true;
        }
        while let Some(out) = ep.poll_transmit(n, &mut tx) {
            let bytes = tx.get(..out.len).unwrap_or_default();
            let sent = match &mut link {
                Link::Plain => sock.send(bytes).map(drop).map_err(|e| map_dl_io(&e)),
                Link::Dtls { session, .. } => {
                    session.send(os_now(n), &sock, bytes).map_err(|_| DownloadError::Disconnected)
                }
            };
            // A refused send (ICMP seen on the connected socket) is the
            // same loss as a refused receive.
            sent.map_err(|e| lost(got_any, e))?;
        }
        match sock.recv(&mut rx) {
            Ok(len) => {
                let d = rx.get(..len).unwrap_or_default().to_vec();
                match &mut link {
                    Link::Plain => plain.push(d),
                    Link::Dtls { raw, .. } => raw.push_back(d),
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(lost(got_any, map_dl_io(&e))),
        }
        let n = now();
        for d in plain.drain(..) {
            ep.handle_datagram(n, addr, &d);
        }
        if ep.poll_timeout().is_some_and(|d| d <= n) {
            ep.handle_timeout(n);
        }
        while let Some(ev) = ep.poll_event() {
            match ev {
                Event::Response { response, .. } => {
                    in_flight = false;
                    let block2 = response.options.get(OptionNumber::Block2).map(|o| o.value);
                    let size2 = response.options.get_uint(OptionNumber::Size2);
                    let step = cursor.accept(response.code, block2, response.payload)?;
                    got_any = true;
                    let mut data = step.data;
                    let cut = job.drop_after.is_some_and(|d| delivered + data.len() as u64 >= d);
                    if cut {
                        let keep = job.drop_after.unwrap_or(0).saturating_sub(delivered);
                        data = data.get(..usize::try_from(keep).unwrap_or(0)).unwrap_or(data);
                    }
                    delivered += data.len() as u64;
                    let mut sh = lock(&job.shared);
                    if let Some(total) = size2 {
                        sh.size = Some(u64::from(total));
                    } else if !step.more {
                        sh.size = Some(cursor.pos);
                    }
                    if !data.is_empty() {
                        sh.chunks.push_back(data.to_vec());
                    }
                    drop(sh);
                    job.signal.notify();
                    if cut {
                        return Err(DownloadError::Disconnected);
                    }
                    if !step.more {
                        if let Link::Dtls { session, .. } = &mut link {
                            session.close(os_now(n), Some(&sock));
                        }
                        return Ok(());
                    }
                }
                Event::Timeout { .. } => return Err(lost(got_any, DownloadError::TimedOut)),
                Event::Reset { .. } => return Err(lost(got_any, DownloadError::Io)),
                Event::Request { .. } | Event::Acknowledged { .. } => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn uris_are_split_into_host_port_path_and_query() {
        let t = Target::parse("coap://127.0.0.1:5690/fw/app.bin?v=2&x").unwrap();
        assert_eq!(
            t,
            Target {
                secure: false,
                host: "127.0.0.1".into(),
                port: 5690,
                path: vec!["fw".into(), "app.bin".into()],
                query: vec!["v=2".into(), "x".into()],
            }
        );
        let t = Target::parse("COAPS://[::1]/a").unwrap();
        assert_eq!((t.secure, t.host.as_str(), t.port), (true, "::1", COAPS_PORT));
        assert_eq!(Target::parse("coap://h").unwrap().port, COAP_PORT);
        assert_eq!(Target::parse("coap://h").unwrap().path, Vec::<String>::new());
        assert_eq!(Target::parse("coap://:5683/a"), Err(DownloadError::InvalidUri));
        assert_eq!(Target::parse("coap://h:99999/a"), Err(DownloadError::InvalidUri));
        assert_eq!(Target::parse("coap://h/a#frag"), Err(DownloadError::InvalidUri));
        assert_eq!(Target::parse("http://h/a"), Err(DownloadError::UnsupportedScheme));
    }

    #[test]
    fn a_resume_asks_for_the_block_holding_the_offset_and_skips_the_stored_bytes() {
        let mut c = Cursor::new(2048 + 100).unwrap();
        assert_eq!(c.request(), BlockValue::new(2, false, Szx::S1024));
        let block = [0x2e]; // NUM 2, M 1, SZX 6 (RFC 7959 §2.2)
        let payload = [7u8; 1024];
        let got = c.accept(Code::Content, Some(&block), &payload).unwrap();
        assert_eq!((got.data.len(), got.more), (1024 - 100, true));
        assert_eq!(c.request(), BlockValue::new(3, false, Szx::S1024));
    }

    #[test]
    fn a_smaller_block_size_from_the_server_is_followed() {
        let mut c = Cursor::new(0).unwrap();
        let block = BlockValue::new(0, true, Szx::S256).unwrap().to_uint().to_be_bytes();
        let got = c.accept(Code::Content, Some(&block[3..]), &[1u8; 256]).unwrap();
        assert_eq!((got.data.len(), got.more), (256, true));
        assert_eq!(c.request(), BlockValue::new(1, false, Szx::S256));
    }

    #[test]
    fn a_block_at_the_wrong_position_or_short_with_more_is_refused() {
        let mut c = Cursor::new(1024).unwrap();
        assert_eq!(c.accept(Code::Content, Some(&[0x0e]), &[0u8; 1024]), Err(DownloadError::Io));
        let mut c = Cursor::new(0).unwrap();
        assert_eq!(c.accept(Code::Content, Some(&[0x0e]), &[0u8; 10]), Err(DownloadError::Io));
        assert_eq!(c.accept(Code::Content, Some(&[0x0f]), &[]), Err(DownloadError::Io));
    }

    #[test]
    fn error_codes_are_refused_with_the_coap_code_as_status() {
        let mut c = Cursor::new(0).unwrap();
        assert_eq!(
            c.accept(Code::NotFound, None, &[]),
            Err(DownloadError::Refused { status: 404 })
        );
    }

    #[test]
    fn a_response_without_block2_is_the_whole_body() {
        let mut c = Cursor::new(3).unwrap();
        let got = c.accept(Code::Content, None, b"abcdef").unwrap();
        assert_eq!((got.data, got.more), (&b"def"[..], false));
        let mut c = Cursor::new(10).unwrap();
        assert_eq!(c.accept(Code::Content, None, b"abc"), Err(DownloadError::Io));
    }

    #[test]
    fn offsets_past_the_block_number_range_are_refused() {
        assert_eq!(Cursor::new(1 << 30), Err(DownloadError::Io));
        assert!(Cursor::new((1 << 30) - 1).is_ok());
    }
}
