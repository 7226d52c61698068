//! CoAP(S) block-wise firmware download over a `carrier_os` Transport.
//!
//! Owns the Block2 GET sequence of RFC 7959 §2.4 with the reliability of
//! RFC 7252 §4.2: one confirmable GET at a time, retransmitted after
//! ACK_TIMEOUT (2 s, randomised up to ×1.5) with doubling, at most
//! MAX_RETRANSMIT (4) times (§4.8); an empty ACK turns the exchange into a
//! separate response (§5.2.2), which is acknowledged and awaited for up to
//! MAX_TRANSMIT_WAIT (93 s). `coaps` is the transport's DTLS-PSK socket with
//! the request's security tag (offloaded to the modem on the device). The
//! message codec is `lwm2m_core::coap` (CoAP sits below LwM2M; the std
//! port's downloader uses the same layer).
//!
//! Guarantees:
//! - A download started at `offset` first asks for block `offset / 1024`
//!   (SZX 6) and skips the bytes of it the caller already has, so the first
//!   byte delivered is byte `offset` of the file. A smaller block size from
//!   the server is followed (RFC 7959 §2.2, §2.4); a block at another
//!   position, larger than asked, or short while more follow ends the
//!   download with `Io`.
//! - Every byte of a block reaches the caller, whatever the size of the
//!   caller's buffer, before the next block is asked for (flow control: a
//!   slow flash write never has the network outrun it).
//! - Response codes other than 2.05 are `Refused { status: class*100 +
//!   detail }`; no answer is `TimedOut` before the first block and
//!   `Disconnected` (resumable) after; an RST is `Io` / `Disconnected`.
//! - No input panics: every datagram is decoded by `Repr::decode` and read
//!   with checked arithmetic.
//!
//! The retransmission deadline is not part of the runtime's; it is offered
//! through `PortDownload::deadline`, and `NrfPort`'s `Wait` wakes up for it.
//!
//! Limits: no ETag check across a resume; Uri-Host is sent for host names
//! only.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::net::IpAddr;
use core::task::Poll;

use carrier_os::download::{DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::transport::{Endpoint, Family, MAX_DATAGRAM, Security, SocketId, Transport};
use heapless::Vec;
use lwm2m_core::coap::block::{BlockValue, Szx};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::coap::{MessageType, MessageWriter, Repr, Token};

use super::{PortDownload, Scheme, Uri, from_transport};

/// The block size asked for (RFC 7959 §2.2: SZX 6, 1024 bytes).
pub const PREFERRED_SZX: Szx = Szx::S1024;
/// ACK_TIMEOUT (RFC 7252 §4.8).
pub const ACK_TIMEOUT: Duration = Duration::from_millis(2000);
/// MAX_RETRANSMIT (RFC 7252 §4.8).
pub const MAX_RETRANSMIT: u8 = 4;
/// MAX_TRANSMIT_WAIT (RFC 7252 §4.8.2): how long a separate response is
/// waited for after an empty ACK.
pub const SEPARATE_WAIT: Duration = Duration::from_secs(93);

const BLOCK_MAX: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Opening,
    /// The request for the block at `pos` is due (again, if `retries` > 0).
    Send {
        retries: u8,
        timeout: Duration,
    },
    Waiting {
        deadline: Instant,
        retries: u8,
        timeout: Duration,
        acked: bool,
    },
    /// The last block was received; `Done` once its bytes are taken.
    Last,
    Failed(DownloadError),
}

/// The CoAP(S) downloader (one download at a time).
#[derive(Debug)]
pub struct CoapDownload {
    uri: Option<Uri>,
    socket: Option<SocketId>,
    phase: Phase,
    /// Byte position of the block asked for next.
    pos: u64,
    szx: Szx,
    /// Bytes at `pos` the caller already has.
    skip: u64,
    size: Option<u64>,
    got_any: bool,
    held: Vec<u8, BLOCK_MAX>,
    held_from: usize,
    mid: u16,
    token: [u8; 4],
    rng: u32,
}

impl CoapDownload {
    /// A downloader; `seed` (from the port's `Random`) makes message IDs,
    /// tokens and retransmission jitter.
    pub fn new(seed: u32) -> Self {
        let rng = seed | 1;
        Self {
            uri: None,
            socket: None,
            phase: Phase::Idle,
            pos: 0,
            szx: PREFERRED_SZX,
            skip: 0,
            size: None,
            got_any: false,
            held: Vec::new(),
            held_from: 0,
            mid: 0,
            token: [0; 4],
            rng,
        }
    }

    /// Whether a download is in progress (its socket is open).
    pub fn is_active(&self) -> bool {
        self.socket.is_some()
    }

    fn next_random(&mut self) -> u32 {
        // xorshift32: jitter and identifiers, not secrets.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        self.rng
    }

    fn new_exchange(&mut self) {
        let r = self.next_random();
        self.mid = (r >> 16) as u16;
        self.token = self.next_random().to_be_bytes();
    }

    fn first_timeout(&mut self) -> Duration {
        let jitter = u64::from(self.next_random()) % (ACK_TIMEOUT.as_millis() / 2 + 1);
        Duration::from_millis(ACK_TIMEOUT.as_millis() + jitter)
    }

    fn lost(&self, e: DownloadError) -> DownloadError {
        if self.got_any { DownloadError::Disconnected } else { e }
    }

    /// Encodes the GET for the block at `pos` into `buf`.
    fn encode_request(&self, buf: &mut [u8]) -> Result<usize, DownloadError> {
        let uri = self.uri.as_ref().ok_or(DownloadError::NotStarted)?;
        let size = self.szx.size() as u64;
        let num = u32::try_from(self.pos / size).map_err(|_| DownloadError::Io)?;
        let block = BlockValue::new(num, false, self.szx).ok_or(DownloadError::Io)?;
        let token = Token::new(&self.token).ok_or(DownloadError::Io)?;
        let mut w = MessageWriter::new(buf, MessageType::Con, Code::Get, self.mid, token)
            .map_err(|_| DownloadError::Io)?;
        let bad = |_| DownloadError::InvalidUri;
        if uri.host.parse::<IpAddr>().is_err() {
            w.add_str(OptionNumber::UriHost, &uri.host).map_err(bad)?;
        }
        for segment in uri.path_segments() {
            w.add_str(OptionNumber::UriPath, segment).map_err(bad)?;
        }
        for item in uri.query_items() {
            w.add_str(OptionNumber::UriQuery, item).map_err(bad)?;
        }
        w.add_uint(OptionNumber::Block2, block.to_uint()).map_err(|_| DownloadError::Io)?;
        Ok(w.len())
    }

    /// Takes one response; returns whether more blocks follow.
    fn accept(
        &mut self,
        code: Code,
        block2: Option<&[u8]>,
        size2: Option<u32>,
        payload: &[u8],
    ) -> Result<bool, DownloadError> {
        if code != Code::Content {
            let status = u16::from(code.class()) * 100 + u16::from(code.detail());
            return Err(DownloadError::Refused { status });
        }
        let more = match block2 {
            // The whole representation at once (RFC 7959 §2.4 lets a
            // server ignore Block2): it starts at byte 0.
            None if self.pos == 0 => false,
            None => return Err(DownloadError::Io),
            Some(raw) => {
                let block = BlockValue::parse(raw).map_err(|_| DownloadError::Io)?;
                let wrong_place = block.offset() as u64 != self.pos;
                let too_big = block.szx > self.szx || payload.len() > block.size();
                let short = block.more && payload.len() != block.size();
                if wrong_place || too_big || short {
                    return Err(DownloadError::Io);
                }
                self.szx = block.szx;
                block.more
            }
        };
        let len = payload.len() as u64;
        let skip = self.skip.min(len);
        self.skip -= skip;
        let from = usize::try_from(skip).map_err(|_| DownloadError::Io)?;
        let data = payload.get(from..).ok_or(DownloadError::Io)?;
        self.held = Vec::from_slice(data).map_err(|_| DownloadError::Io)?;
        self.held_from = 0;
        self.pos = self.pos.checked_add(len).ok_or(DownloadError::Io)?;
        self.got_any = true;
        if let Some(total) = size2 {
            self.size = Some(u64::from(total));
        } else if !more {
            self.size = Some(self.pos);
        }
        Ok(more)
    }

    /// One datagram from the server while waiting.
    fn on_datagram<T: Transport>(&mut self, net: &mut T, now: Instant, bytes: &[u8]) {
        let Phase::Waiting { retries, timeout, acked, .. } = self.phase else { return };
        let Ok(msg) = Repr::decode(bytes) else { return };
        let ours = msg.token.as_bytes() == self.token;
        let response = match msg.msg_type {
            MessageType::Rst if msg.message_id == self.mid && !acked => {
                self.phase = Phase::Failed(self.lost(DownloadError::Io));
                return;
            }
            MessageType::Ack if msg.message_id == self.mid && msg.code == Code::Empty => {
                let deadline = now + SEPARATE_WAIT;
                self.phase = Phase::Waiting { deadline, retries, timeout, acked: true };
                return;
            }
            MessageType::Ack if msg.message_id == self.mid && ours => msg,
            MessageType::Con | MessageType::Non if ours && msg.code != Code::Empty => {
                if msg.msg_type == MessageType::Con {
                    self.send_empty(net, MessageType::Ack, msg.message_id);
                }
                msg
            }
            MessageType::Con => {
                // Not ours (or a retransmitted separate response to an
                // earlier block, whose token is gone): reject it with an
                // RST so the server stops retransmitting (RFC 7252 §4.2).
                self.send_empty(net, MessageType::Rst, msg.message_id);
                return;
            }
            _ => return,
        };
        let block2 = response.options.get(OptionNumber::Block2).map(|o| o.value);
        let size2 = response.options.get_uint(OptionNumber::Size2);
        self.phase = match self.accept(response.code, block2, size2, response.payload) {
            Ok(true) => {
                self.new_exchange();
                let timeout = self.first_timeout();
                Phase::Send { retries: 0, timeout }
            }
            Ok(false) => Phase::Last,
            Err(e) => Phase::Failed(e),
        };
    }

    /// Sends an empty ACK or RST; a lost one makes the server retransmit,
    /// so a refused send needs no handling.
    fn send_empty<T: Transport>(&self, net: &mut T, ty: MessageType, mid: u16) {
        let mut buf = [0u8; 4];
        if let (Some(socket), Ok(n)) = (self.socket, Repr::empty(ty, mid).encode_into(&mut buf)) {
            let _ = net.send(socket, buf.get(..n).unwrap_or(&[]));
        }
    }

    fn close<T: Transport>(&mut self, net: &mut T) {
        if let Some(s) = self.socket.take() {
            net.close(s);
        }
    }

    /// Advances the state machine once; `Some` ends this poll.
    fn step<T: Transport>(
        &mut self,
        net: &mut T,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Poll<Result<DownloadProgress, DownloadError>>> {
        if let Some(rest) = self.held.get(self.held_from..)
            && !rest.is_empty()
        {
            let n = rest.len().min(buf.len());
            if n == 0 {
                return Some(Poll::Ready(Err(DownloadError::Io)));
            }
            let (dst, src) = (buf.get_mut(..n)?, rest.get(..n)?);
            dst.copy_from_slice(src);
            self.held_from += n;
            return Some(Poll::Ready(Ok(DownloadProgress::Fragment { len: n })));
        }
        let Some(socket) = self.socket else {
            return Some(Poll::Ready(Err(match self.phase {
                Phase::Failed(e) => {
                    self.phase = Phase::Idle;
                    e
                }
                _ => DownloadError::NotStarted,
            })));
        };
        match self.phase {
            Phase::Idle => Some(Poll::Ready(Err(DownloadError::NotStarted))),
            Phase::Failed(e) => {
                self.close(net);
                self.phase = Phase::Idle;
                Some(Poll::Ready(Err(e)))
            }
            Phase::Last => {
                self.close(net);
                self.phase = Phase::Idle;
                Some(Poll::Ready(Ok(DownloadProgress::Done)))
            }
            Phase::Opening => match net.poll_open(socket) {
                Poll::Pending => Some(Poll::Pending),
                Poll::Ready(Ok(())) => {
                    let timeout = self.first_timeout();
                    self.phase = Phase::Send { retries: 0, timeout };
                    None
                }
                Poll::Ready(Err(e)) => {
                    self.phase = Phase::Failed(from_transport(e, self.got_any));
                    None
                }
            },
            Phase::Send { retries, timeout } => {
                let mut tx = [0u8; 512];
                let len = match self.encode_request(&mut tx) {
                    Ok(len) => len,
                    Err(e) => {
                        self.phase = Phase::Failed(e);
                        return None;
                    }
                };
                match net.send(socket, tx.get(..len).unwrap_or(&[])) {
                    Poll::Pending => Some(Poll::Pending),
                    Poll::Ready(Ok(())) => {
                        let deadline = now + timeout;
                        self.phase = Phase::Waiting { deadline, retries, timeout, acked: false };
                        None
                    }
                    Poll::Ready(Err(e)) => {
                        self.phase = Phase::Failed(from_transport(e, self.got_any));
                        None
                    }
                }
            }
            Phase::Waiting { deadline, retries, timeout, acked } => {
                let mut rx = [0u8; MAX_DATAGRAM];
                match net.recv(socket, &mut rx) {
                    Poll::Ready(Ok(n)) => {
                        self.on_datagram(net, now, rx.get(..n).unwrap_or(&[]));
                        return None;
                    }
                    Poll::Ready(Err(e)) => {
                        self.phase = Phase::Failed(from_transport(e, self.got_any));
                        return None;
                    }
                    Poll::Pending => {}
                }
                if now < deadline {
                    return Some(Poll::Pending);
                }
                self.phase = if acked || retries >= MAX_RETRANSMIT {
                    Phase::Failed(self.lost(DownloadError::TimedOut))
                } else {
                    Phase::Send { retries: retries + 1, timeout: timeout + timeout }
                };
                None
            }
        }
    }
}

impl<T: Transport, C: Clock> PortDownload<T, C> for CoapDownload {
    fn start(
        &mut self,
        net: &mut T,
        _clock: &C,
        req: &DownloadRequest<'_>,
    ) -> Result<(), DownloadError> {
        if self.socket.is_some() {
            return Err(DownloadError::Busy);
        }
        let uri = Uri::parse(req.uri)?;
        let security = match (uri.scheme, req.sec_tag) {
            (Scheme::Coap, _) => Security::None,
            (Scheme::Coaps, Some(sec_tag)) => Security::DtlsPsk { sec_tag, connection_id: false },
            (Scheme::Coaps, None) => return Err(DownloadError::NoCredentials),
            (Scheme::Http | Scheme::Https, _) => return Err(DownloadError::UnsupportedScheme),
        };
        let size = PREFERRED_SZX.size() as u64;
        // NUM is 20 bits (RFC 7959 §2.2): the block holding `offset` must
        // be askable.
        if BlockValue::new(
            u32::try_from(req.offset / size).unwrap_or(u32::MAX),
            false,
            PREFERRED_SZX,
        )
        .is_none()
        {
            return Err(DownloadError::Refused { status: 416 });
        }
        let endpoint = Endpoint {
            host: uri.host.clone(),
            port: uri.port,
            pdn: req.pdn,
            family: Family::Any,
            security,
        };
        let socket = net.open(&endpoint).map_err(|e| from_transport(e, false))?;
        *self = Self { rng: self.rng, ..Self::new(self.rng) };
        self.socket = Some(socket);
        self.uri = Some(uri);
        self.pos = req.offset - req.offset % size;
        self.skip = req.offset % size;
        self.phase = Phase::Opening;
        self.new_exchange();
        Ok(())
    }

    fn poll(
        &mut self,
        net: &mut T,
        clock: &C,
        buf: &mut [u8],
    ) -> Poll<Result<DownloadProgress, DownloadError>> {
        // Each step either ends the poll or changes the phase; a handful
        // covers open → send → receive → deliver.
        for _ in 0..8 {
            if let Some(p) = self.step(net, clock.now(), buf) {
                return p;
            }
        }
        Poll::Pending
    }

    fn size(&self) -> Option<u64> {
        self.size
    }

    fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting { deadline, .. } => Some(deadline),
            _ => None,
        }
    }

    fn abort(&mut self, net: &mut T) {
        self.close(net);
        self.held.clear();
        self.held_from = 0;
        self.phase = Phase::Idle;
    }
}
