//! Block-wise transfer (RFC 7959): the Block1/Block2 option value, block-size
//! negotiation, and the four transfer roles as small state machines over
//! caller-provided buffers.
//!
//! | role | type | RFC 7959 |
//! |---|---|---|
//! | server, large response | [`serve_block2`] over a [`Block2Source`] (a `&[u8]` body or a resumable producer) | §2.4, Figures 2–4 |
//! | client, large response | [`Block2Reassembler`] | §2.4, §3.1 |
//! | server, large request | [`Block1Receiver`] (2.31, 4.08, 4.13 + Size1) | §2.5, §2.9, Figures 6–8 |
//! | client, large request | [`Block1Sender`] | §2.5, §3.2 |
//!
//! These are helpers the application (or the LwM2M layer) calls around the
//! [endpoint](super::endpoint): the endpoint moves single messages reliably,
//! and each block is one ordinary request/response exchange. The helpers keep
//! no timers and allocate nothing.
//!
//! Guarantee: nothing here panics on any input; every malformed option value
//! or out-of-order block is a [`BlockError`] that maps to the CoAP response
//! RFC 7959 prescribes (`From<BlockError> for Code`).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::numbers::Code;
use core::fmt;

/// The block-size exponent SZX of RFC 7959 §2.2: a block holds
/// `2^(SZX + 4)` bytes, 16 to 1024. The value 7 is reserved and cannot be
/// represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Szx {
    /// 16 bytes (SZX 0).
    S16 = 0,
    /// 32 bytes (SZX 1).
    S32 = 1,
    /// 64 bytes (SZX 2).
    S64 = 2,
    /// 128 bytes (SZX 3).
    S128 = 3,
    /// 256 bytes (SZX 4).
    S256 = 4,
    /// 512 bytes (SZX 5).
    S512 = 5,
    /// 1024 bytes (SZX 6).
    S1024 = 6,
}

impl Szx {
    /// The largest block size (1024 bytes).
    pub const MAX: Szx = Szx::S1024;

    /// The exponent from its 3-bit wire value; `None` for the reserved 7.
    pub const fn from_raw(raw: u8) -> Option<Szx> {
        Some(match raw {
            0 => Szx::S16,
            1 => Szx::S32,
            2 => Szx::S64,
            3 => Szx::S128,
            4 => Szx::S256,
            5 => Szx::S512,
            6 => Szx::S1024,
            _ => return None,
        })
    }

    /// The 3-bit wire value.
    pub const fn raw(self) -> u8 {
        self as u8
    }

    /// The block size in bytes, `2^(SZX + 4)`.
    pub const fn size(self) -> usize {
        1usize << (self as u8 + 4)
    }

    /// The exponent whose block size is exactly `size` bytes, if any.
    pub const fn from_size(size: usize) -> Option<Szx> {
        Szx::from_raw(match size {
            16 => 0,
            32 => 1,
            64 => 2,
            128 => 3,
            256 => 4,
            512 => 5,
            1024 => 6,
            _ => 7,
        })
    }

    /// The largest exponent whose block fits in `bytes` (at least [`Szx::S16`]).
    pub const fn fitting(bytes: usize) -> Szx {
        let mut szx = Szx::S1024;
        while szx.size() > bytes {
            szx = match Szx::from_raw(szx as u8 - 1) {
                Some(s) => s,
                None => return Szx::S16,
            };
            if szx as u8 == 0 {
                break;
            }
        }
        szx
    }

    /// Size negotiation (RFC 7959 §2.3, §2.4): the block size both sides use
    /// is the smaller of the peer's request and our own maximum — a peer may
    /// ask for less than we offer, never for more.
    pub fn negotiate(self, peer: Szx) -> Szx {
        self.min(peer)
    }
}

impl fmt::Display for Szx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.size())
    }
}

/// The largest block number a 3-byte option value can carry (20 bits).
pub const MAX_NUM: u32 = (1 << 20) - 1;

/// The value of a Block1 or Block2 option (RFC 7959 §2.2): block number
/// `NUM`, more flag `M`, size exponent `SZX`.
///
/// On the wire it is a CoAP uint of 0–3 bytes, `NUM << 4 | M << 3 | SZX`;
/// a zero-length value means `NUM = 0, M = 0, SZX = 0`. Displayed as RFC
/// 7959 writes it in its figures: `NUM/M/SIZE`, e.g. `2/0/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BlockValue {
    /// The block number, `NUM` (0 ..= [`MAX_NUM`]).
    pub num: u32,
    /// The more flag, `M`: further blocks follow.
    pub more: bool,
    /// The block size.
    pub szx: Szx,
}

impl BlockValue {
    /// A block value; `None` when `num` exceeds [`MAX_NUM`].
    pub const fn new(num: u32, more: bool, szx: Szx) -> Option<BlockValue> {
        if num > MAX_NUM { None } else { Some(BlockValue { num, more, szx }) }
    }

    /// Decode an option value (the option's bytes, a big-endian uint).
    ///
    /// # Errors
    /// [`BlockError::ValueTooLong`] for more than 3 bytes,
    /// [`BlockError::ReservedSzx`] for SZX 7.
    pub fn parse(value: &[u8]) -> Result<BlockValue, BlockError> {
        if value.len() > 3 {
            return Err(BlockError::ValueTooLong);
        }
        let uint = value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        BlockValue::from_uint(uint)
    }

    /// Decode from the option's integer value (already read as a uint).
    ///
    /// # Errors
    /// [`BlockError::ValueTooLong`] if `uint` needs more than 24 bits,
    /// [`BlockError::ReservedSzx`] for SZX 7.
    pub fn from_uint(uint: u32) -> Result<BlockValue, BlockError> {
        if uint > 0x00ff_ffff {
            return Err(BlockError::ValueTooLong);
        }
        let szx = Szx::from_raw((uint & 0x7) as u8).ok_or(BlockError::ReservedSzx)?;
        Ok(BlockValue { num: uint >> 4, more: uint & 0x8 != 0, szx })
    }

    /// The option's integer value, `NUM << 4 | M << 3 | SZX`.
    pub const fn to_uint(self) -> u32 {
        ((self.num & MAX_NUM) << 4) | ((self.more as u32) << 3) | self.szx as u32
    }

    /// Bytes [`emit`](Self::emit) writes: the shortest uint encoding (0–3).
    pub const fn buffer_len(self) -> usize {
        match self.to_uint() {
            0 => 0,
            1..=0xff => 1,
            0x100..=0xffff => 2,
            _ => 3,
        }
    }

    /// Write the shortest uint encoding into `buf` and return the bytes
    /// written; `None` if `buf` is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit(self, buf: &mut [u8]) -> Option<usize> {
        let n = self.buffer_len();
        let bytes = self.to_uint().to_be_bytes();
        let src = bytes.get(4 - n..)?;
        buf.get_mut(..n)?.copy_from_slice(src);
        Some(n)
    }

    /// The block's size in bytes.
    pub const fn size(self) -> usize {
        self.szx.size()
    }

    /// The byte offset of the block in the whole body, `NUM * size`.
    pub const fn offset(self) -> usize {
        self.num as usize * self.szx.size()
    }
}

impl fmt::Display for BlockValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.num, u8::from(self.more), self.szx.size())
    }
}

/// What went wrong in a block-wise transfer. Each variant maps to the CoAP
/// response RFC 7959 prescribes (see `From<BlockError> for Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BlockError {
    /// The option value is longer than 3 bytes (RFC 7959 §2.2).
    #[error("block option value longer than 3 bytes")]
    ValueTooLong,
    /// SZX 7 is reserved (RFC 7959 §2.2).
    #[error("block option with reserved SZX 7")]
    ReservedSzx,
    /// A block number needs more than 20 bits.
    #[error("block number exceeds 2^20 - 1")]
    NumTooLarge,
    /// A Block2 request for a block that starts beyond the end of the body.
    #[error("requested block starts beyond the end of the body")]
    OutOfRange,
    /// A Block1 block that does not continue the body received so far
    /// (RFC 7959 §2.9.2: 4.08 Request Entity Incomplete).
    #[error("block does not continue the body received so far")]
    Incomplete,
    /// The body exceeds the buffer of `capacity` bytes (RFC 7959 §2.9.3:
    /// 4.13 Request Entity Too Large, with Size1 = `capacity`).
    #[error("body exceeds the capacity of {capacity} bytes")]
    TooLarge {
        /// The largest body the receiver accepts (sent as Size1).
        capacity: u32,
    },
    /// A block with `M` set whose payload is not exactly one block long.
    #[error("non-final block payload is not exactly one block long")]
    BadBlockSize,
    /// A response block that is not the one requested (wrong number or a
    /// larger size than requested).
    #[error("response carries an unexpected block")]
    UnexpectedBlock,
    /// The ETag changed between blocks of one Block2 transfer: the
    /// representation changed underneath, the transfer must restart (RFC
    /// 7959 §2.4).
    #[error("ETag changed during a block-wise transfer")]
    EtagChanged,
}

impl From<BlockError> for Code {
    fn from(e: BlockError) -> Code {
        match e {
            // Block options are critical: a value we cannot use is a bad option.
            BlockError::ValueTooLong
            | BlockError::ReservedSzx
            | BlockError::NumTooLarge
            | BlockError::OutOfRange => Code::BadOption,
            BlockError::Incomplete => Code::RequestEntityIncomplete,
            BlockError::TooLarge { .. } => Code::RequestEntityTooLarge,
            BlockError::BadBlockSize | BlockError::UnexpectedBlock | BlockError::EtagChanged => {
                Code::BadRequest
            }
        }
    }
}

/// A body served block by block (Block2 server side): a whole `&[u8]` in
/// memory, or a resumable producer that regenerates or reads from storage
/// the bytes at any offset (a firmware image, a large object dump).
pub trait Block2Source {
    /// Copy up to `buf.len()` bytes of the body starting at `offset` into
    /// `buf`. Returns the bytes copied and whether more of the body follows
    /// after them. An `offset` at or past the end returns
    /// [`BlockError::OutOfRange`] (except offset 0 of an empty body).
    ///
    /// # Errors
    /// [`BlockError::OutOfRange`], or whatever the producer cannot deliver.
    fn read_at(&mut self, offset: usize, buf: &mut [u8]) -> Result<(usize, bool), BlockError>;

    /// The total body length, if known: sent as Size2 with the first block
    /// (RFC 7959 §4).
    fn total_len(&self) -> Option<usize> {
        None
    }
}

impl Block2Source for &[u8] {
    fn read_at(&mut self, offset: usize, buf: &mut [u8]) -> Result<(usize, bool), BlockError> {
        if offset > 0 && offset >= self.len() {
            return Err(BlockError::OutOfRange);
        }
        let rest = self.get(offset..).ok_or(BlockError::OutOfRange)?;
        let n = rest.len().min(buf.len());
        let (src, after) = rest.split_at_checked(n).ok_or(BlockError::OutOfRange)?;
        buf.get_mut(..n).ok_or(BlockError::OutOfRange)?.copy_from_slice(src);
        Ok((n, !after.is_empty()))
    }

    fn total_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

/// One Block2 response: the block option to send (if any), the payload
/// length written to the caller's buffer, and Size2 (if known) for the first
/// block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Block2Slice {
    /// The Block2 option of the response; `None` when the request carried no
    /// Block2 option and the whole body fits in one message.
    pub block: Option<BlockValue>,
    /// Payload bytes written at the start of the output buffer.
    pub len: usize,
    /// The Size2 option to send (RFC 7959 §4): the total length, on the
    /// first block only.
    pub size2: Option<u32>,
}

/// Serve one Block2 response (RFC 7959 §2.4).
///
/// `request` is the Block2 option of the request (`None` if absent),
/// `max_szx` our largest block size. The block size used is the smaller of
/// the two (§2.4: "A server MUST use the block size indicated or a smaller
/// size"); with a smaller size than requested, the block number is
/// recomputed so that the offset stays `NUM * size` of the request (late
/// negotiation, Figure 4). The payload goes to the start of `out`, which
/// must hold `max_szx.size()` bytes (a shorter `out` lowers the size).
///
/// # Errors
/// [`BlockError::OutOfRange`] for a block that starts past the end (answer
/// 4.02 Bad Option); the source's own errors.
pub fn serve_block2<S: Block2Source + ?Sized>(
    source: &mut S,
    request: Option<BlockValue>,
    max_szx: Szx,
    out: &mut [u8],
) -> Result<Block2Slice, BlockError> {
    let ours = max_szx.min(Szx::fitting(out.len()));
    let (offset, szx) = match request {
        Some(req) => (req.offset(), ours.negotiate(req.szx)),
        None => (0, ours),
    };
    let num = u32::try_from(offset / szx.size()).map_err(|_| BlockError::NumTooLarge)?;
    if num > MAX_NUM {
        return Err(BlockError::NumTooLarge);
    }
    let window = out.get_mut(..szx.size()).ok_or(BlockError::OutOfRange)?;
    let (len, more) = source.read_at(offset, window)?;
    let size2 =
        if offset == 0 { source.total_len().and_then(|n| u32::try_from(n).ok()) } else { None };
    let block = match (request, more) {
        (None, false) => None,
        _ => Some(BlockValue { num, more, szx }),
    };
    let size2 = if block.is_some() { size2 } else { None };
    Ok(Block2Slice { block, len, size2 })
}

/// What a block-wise receiver needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Reassembly {
    /// Request this block next (same request, this Block2 option).
    Next(BlockValue),
    /// The whole body (`len` bytes) is in the buffer.
    Complete(usize),
}

/// Client side of Block2 (RFC 7959 §2.4): collects the blocks of a response
/// body into a caller buffer and says which block to request next.
///
/// Size negotiation: the reassembler asks for `preferred` (or smaller, if
/// the server chose smaller); the server may answer any size up to what was
/// asked. The first response may come without an early Block2 request.
///
/// Consistency: feed each response's ETag to
/// [`check_etag`](Self::check_etag); a change between blocks means the
/// representation changed and the body so far is discarded.
#[derive(Debug, Clone)]
pub struct Block2Reassembler<B> {
    buf: B,
    len: usize,
    preferred: Szx,
    asked: Option<Szx>,
    etag: Option<heapless::Vec<u8, 8>>,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Block2Reassembler<B> {
    /// A reassembler writing into `buf` (a `&mut [u8]`, an array, a
    /// `heapless::Vec`… anything `AsMut<[u8]>`), preferring blocks of
    /// `preferred`.
    pub fn new(buf: B, preferred: Szx) -> Self {
        Block2Reassembler { buf, len: 0, preferred, asked: None, etag: None }
    }

    /// The Block2 option for an initial request with early negotiation
    /// (RFC 7959 Figure 3): `0/0/preferred`.
    pub fn first_request(&mut self) -> BlockValue {
        self.asked = Some(self.preferred);
        BlockValue { num: 0, more: false, szx: self.preferred }
    }

    /// Feed one response: its Block2 option (if any), its Size2 option (if
    /// any) and its payload.
    ///
    /// # Errors
    /// [`BlockError::TooLarge`] when the body would overflow the buffer
    /// (also detected early from Size2), [`BlockError::UnexpectedBlock`] for
    /// a block other than the next one or larger than asked,
    /// [`BlockError::BadBlockSize`] for a short non-final block.
    pub fn handle(
        &mut self,
        block: Option<BlockValue>,
        size2: Option<u32>,
        payload: &[u8],
    ) -> Result<Reassembly, BlockError> {
        let capacity = u32::try_from(self.buf.as_ref().len()).unwrap_or(u32::MAX);
        if size2.is_some_and(|s| s > capacity) {
            return Err(BlockError::TooLarge { capacity });
        }
        let Some(block) = block else {
            // Not block-wise: the payload is the whole body.
            if self.len != 0 {
                return Err(BlockError::UnexpectedBlock);
            }
            self.append(payload, capacity)?;
            return Ok(Reassembly::Complete(self.len));
        };
        if block.offset() != self.len || self.asked.is_some_and(|a| block.szx > a) {
            return Err(BlockError::UnexpectedBlock);
        }
        if block.more && payload.len() != block.size() {
            return Err(BlockError::BadBlockSize);
        }
        if payload.len() > block.size() {
            return Err(BlockError::BadBlockSize);
        }
        self.append(payload, capacity)?;
        if !block.more {
            return Ok(Reassembly::Complete(self.len));
        }
        let szx = self.preferred.negotiate(block.szx);
        self.asked = Some(szx);
        let num = u32::try_from(self.len / szx.size()).map_err(|_| BlockError::NumTooLarge)?;
        let next = BlockValue::new(num, false, szx).ok_or(BlockError::NumTooLarge)?;
        Ok(Reassembly::Next(next))
    }

    fn append(&mut self, payload: &[u8], capacity: u32) -> Result<(), BlockError> {
        let end = self.len.checked_add(payload.len()).ok_or(BlockError::TooLarge { capacity })?;
        let dst =
            self.buf.as_mut().get_mut(self.len..end).ok_or(BlockError::TooLarge { capacity })?;
        dst.copy_from_slice(payload);
        self.len = end;
        Ok(())
    }

    /// The bytes received so far.
    pub fn body(&self) -> &[u8] {
        self.buf.as_ref().get(..self.len).unwrap_or_default()
    }

    /// Start over (a new transfer into the same buffer).
    pub fn reset(&mut self) {
        self.len = 0;
        self.asked = None;
        self.etag = None;
    }

    /// Check a response's ETag option (RFC 7252 §5.10.6, at most 8 bytes)
    /// against the first block's. On a change the transfer is reset, so
    /// the caller restarts from block 0.
    ///
    /// # Errors
    /// [`BlockError::EtagChanged`].
    pub fn check_etag(&mut self, etag: Option<&[u8]>) -> Result<(), BlockError> {
        let etag = etag.and_then(|e| heapless::Vec::from_slice(e).ok());
        if self.len == 0 {
            self.etag = etag;
            return Ok(());
        }
        if etag != self.etag {
            self.reset();
            return Err(BlockError::EtagChanged);
        }
        Ok(())
    }
}

/// What the server answers to one Block1 request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Block1Outcome {
    /// Answer 2.31 Continue with this Block1 option (RFC 7959 §2.3).
    Continue(BlockValue),
    /// The whole body is in the buffer ([`Block1Receiver::body`]); process
    /// it and answer with the final code and this Block1 option.
    Complete(BlockValue),
}

/// Server side of Block1 (RFC 7959 §2.5): an atomic receiver collecting a
/// request body in order into a caller buffer.
///
/// The caller keeps one receiver per transfer (keyed by peer and resource)
/// and answers each block with what [`handle`](Self::handle) returns; an
/// error maps to its response code with `Code::from`, and
/// [`BlockError::TooLarge`] carries the Size1 to send with 4.13.
#[derive(Debug, Clone)]
pub struct Block1Receiver<B> {
    buf: B,
    len: usize,
    max_szx: Szx,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Block1Receiver<B> {
    /// A receiver writing into `buf` (anything `AsMut<[u8]>`), preferring
    /// blocks of at most `max_szx`.
    pub fn new(buf: B, max_szx: Szx) -> Self {
        Block1Receiver { buf, len: 0, max_szx }
    }

    /// Feed one request block: its Block1 option, the Size1 option (the
    /// announced total, if any) and the payload.
    ///
    /// A block with `NUM = 0` starts a new body. The reply's Block1 option
    /// carries our preferred size if it is smaller than the client's (§2.3,
    /// Figure 7: the client then continues with the block number counted in
    /// the smaller size).
    ///
    /// # Errors
    /// [`BlockError::Incomplete`] (4.08) for a gap or a block out of order,
    /// [`BlockError::TooLarge`] (4.13 + Size1) for a body that does not fit,
    /// [`BlockError::BadBlockSize`] (4.00) for a short non-final block.
    pub fn handle(
        &mut self,
        block: BlockValue,
        size1: Option<u32>,
        payload: &[u8],
    ) -> Result<Block1Outcome, BlockError> {
        let capacity = u32::try_from(self.buf.as_ref().len()).unwrap_or(u32::MAX);
        if block.num == 0 {
            self.len = 0;
        }
        if size1.is_some_and(|s| s > capacity) {
            return Err(BlockError::TooLarge { capacity });
        }
        if block.offset() != self.len {
            return Err(BlockError::Incomplete);
        }
        if (block.more && payload.len() != block.size()) || payload.len() > block.size() {
            return Err(BlockError::BadBlockSize);
        }
        let end = self.len.checked_add(payload.len()).ok_or(BlockError::TooLarge { capacity })?;
        let dst =
            self.buf.as_mut().get_mut(self.len..end).ok_or(BlockError::TooLarge { capacity })?;
        dst.copy_from_slice(payload);
        self.len = end;
        let reply =
            BlockValue { num: block.num, more: block.more, szx: self.max_szx.negotiate(block.szx) };
        Ok(if block.more { Block1Outcome::Continue(reply) } else { Block1Outcome::Complete(reply) })
    }

    /// The body received so far (the whole body after
    /// [`Block1Outcome::Complete`]).
    pub fn body(&self) -> &[u8] {
        self.buf.as_ref().get(..self.len).unwrap_or_default()
    }

    /// Forget the body received so far.
    pub fn reset(&mut self) {
        self.len = 0;
    }
}

/// What the client does after a response to one Block1 request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Block1Progress {
    /// Send [`Block1Sender::current`] next.
    Next,
    /// The transfer ended with this final response code (success or not).
    Done(Code),
}

/// Client side of Block1 (RFC 7959 §2.5): slices a request body into
/// blocks and follows the server's size preference.
#[derive(Debug, Clone)]
pub struct Block1Sender<'a> {
    body: &'a [u8],
    szx: Szx,
    offset: usize,
}

impl<'a> Block1Sender<'a> {
    /// A sender of `body` in blocks of `szx`.
    pub fn new(body: &'a [u8], szx: Szx) -> Self {
        Block1Sender { body, szx, offset: 0 }
    }

    /// The Block1 option and payload of the request to send now.
    ///
    /// # Errors
    /// [`BlockError::NumTooLarge`] if the body needs more than 2^20 blocks.
    pub fn current(&self) -> Result<(BlockValue, &'a [u8]), BlockError> {
        let size = self.szx.size();
        let rest = self.body.get(self.offset..).unwrap_or_default();
        let (chunk, after) = rest.split_at_checked(size.min(rest.len())).unwrap_or((rest, &[]));
        let num = u32::try_from(self.offset / size).map_err(|_| BlockError::NumTooLarge)?;
        let block =
            BlockValue::new(num, !after.is_empty(), self.szx).ok_or(BlockError::NumTooLarge)?;
        Ok((block, chunk))
    }

    /// The Size1 option to send with the first block: the body length.
    pub fn size1(&self) -> Option<u32> {
        u32::try_from(self.body.len()).ok()
    }

    /// Feed the response to [`current`](Self::current): its code and Block1
    /// option.
    ///
    /// 2.31 Continue (or a 2.xx to a non-final block, the non-atomic case)
    /// advances; a smaller SZX in the response is adopted for the following
    /// blocks (§2.3). 4.13 with a smaller Block1 SZX restarts the transfer
    /// at that size (§2.9.3). Any other response ends the transfer.
    ///
    /// # Errors
    /// [`BlockError::UnexpectedBlock`] when the response acknowledges a block
    /// other than the one sent, or continues past the end of the body.
    pub fn handle_response(
        &mut self,
        code: Code,
        block1: Option<BlockValue>,
    ) -> Result<Block1Progress, BlockError> {
        let (sent, chunk) = self.current()?;
        if code == Code::RequestEntityTooLarge {
            if let Some(b) = block1.filter(|b| b.szx < self.szx) {
                self.szx = b.szx;
                self.offset = 0;
                return Ok(Block1Progress::Next);
            }
            return Ok(Block1Progress::Done(code));
        }
        if !code.is_success() {
            return Ok(Block1Progress::Done(code));
        }
        if block1.is_some_and(|b| b.num != sent.num) {
            return Err(BlockError::UnexpectedBlock);
        }
        if !sent.more {
            if code == Code::Continue {
                return Err(BlockError::UnexpectedBlock);
            }
            return Ok(Block1Progress::Done(code));
        }
        self.offset = self.offset.saturating_add(chunk.len());
        if let Some(b) = block1 {
            self.szx = self.szx.negotiate(b.szx);
        }
        Ok(Block1Progress::Next)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn b(num: u32, more: bool, size: usize) -> BlockValue {
        BlockValue::new(num, more, Szx::from_size(size).unwrap()).unwrap()
    }

    #[test]
    fn option_value_decodes_per_rfc7959_section_2_2() {
        // Zero-length value: NUM 0, M 0, SZX 0.
        assert_eq!(BlockValue::parse(&[]), Ok(b(0, false, 16)));
        // 0x0e = NUM 0, M 1, SZX 6 (1024).
        assert_eq!(BlockValue::parse(&[0x0e]), Ok(b(0, true, 1024)));
        // 0x1b = NUM 1, M 1, SZX 3 (128).
        assert_eq!(BlockValue::parse(&[0x1b]), Ok(b(1, true, 128)));
        // Two bytes: NUM 0x123, M 0, SZX 2.
        assert_eq!(BlockValue::parse(&[0x12, 0x32]), Ok(b(0x123, false, 64)));
        // Three bytes: the largest NUM.
        assert_eq!(BlockValue::parse(&[0xff, 0xff, 0xf6]), Ok(b(MAX_NUM, false, 1024)));
    }

    #[test]
    fn reserved_szx_and_long_values_are_errors() {
        assert_eq!(BlockValue::parse(&[0x07]), Err(BlockError::ReservedSzx));
        assert_eq!(BlockValue::parse(&[0x00, 0x00, 0x00, 0x06]), Err(BlockError::ValueTooLong));
        assert_eq!(BlockValue::from_uint(0x0100_0000), Err(BlockError::ValueTooLong));
        assert_eq!(BlockValue::new(MAX_NUM + 1, false, Szx::S16), None);
        assert_eq!(Code::from(BlockError::ReservedSzx), Code::BadOption);
    }

    #[test]
    fn option_value_emits_shortest_uint() {
        let mut buf = [0xa5u8; 4];
        assert_eq!(b(0, false, 16).emit(&mut buf), Some(0));
        assert_eq!(b(2, false, 128).emit(&mut buf), Some(1));
        assert_eq!(buf[0], 0x23);
        assert_eq!(b(0x123, true, 64).emit(&mut buf), Some(2));
        assert_eq!(&buf[..2], &[0x12, 0x3a]);
        assert_eq!(b(MAX_NUM, false, 1024).emit(&mut buf), Some(3));
        assert_eq!(&buf[..3], &[0xff, 0xff, 0xf6]);
        assert_eq!(b(MAX_NUM, false, 1024).emit(&mut buf[..2]), None);
        for uint in [0u32, 1, 0x1e, 0x3fe, 0xfff_fff6] {
            if let Ok(v) = BlockValue::from_uint(uint) {
                let n = v.emit(&mut buf).unwrap();
                assert_eq!(BlockValue::parse(&buf[..n]), Ok(v));
            }
        }
    }

    #[test]
    fn szx_sizes_and_negotiation() {
        assert_eq!(Szx::S16.size(), 16);
        assert_eq!(Szx::S1024.size(), 1024);
        assert_eq!(Szx::from_raw(7), None);
        assert_eq!(Szx::from_size(100), None);
        assert_eq!(Szx::fitting(100), Szx::S64);
        assert_eq!(Szx::fitting(5000), Szx::S1024);
        assert_eq!(Szx::fitting(3), Szx::S16);
        // A peer may ask for less, never more.
        assert_eq!(Szx::S1024.negotiate(Szx::S64), Szx::S64);
        assert_eq!(Szx::S64.negotiate(Szx::S1024), Szx::S64);
        assert_eq!(std::format!("{}", b(2, false, 128)), "2/0/128");
    }

    extern crate std;

    /// Serves `body` to requests carrying `reqs`, returning the response block options.
    fn serve_all(
        body: &[u8],
        max: Szx,
        reqs: &[Option<BlockValue>],
    ) -> std::vec::Vec<(Option<BlockValue>, usize)> {
        let mut src = body;
        let mut out = [0u8; 1024];
        reqs.iter()
            .map(|r| {
                let s = serve_block2(&mut src, *r, max, &mut out).unwrap();
                (s.block, s.len)
            })
            .collect()
    }

    #[test]
    fn block2_simple_get_matches_rfc7959_figure_2() {
        // Figure 2: a 300-byte body, server block size 128.
        let body = [7u8; 300];
        let got =
            serve_all(&body, Szx::S128, &[None, Some(b(1, false, 128)), Some(b(2, false, 128))]);
        assert_eq!(
            got,
            [
                (Some(b(0, true, 128)), 128),
                (Some(b(1, true, 128)), 128),
                (Some(b(2, false, 128)), 44)
            ]
        );
    }

    #[test]
    fn block2_early_negotiation_matches_rfc7959_figure_3() {
        // Figure 3: the client asks for 64-byte blocks up front; 380 bytes.
        let body = [1u8; 380];
        let reqs = [
            Some(b(0, false, 64)),
            Some(b(1, false, 64)),
            Some(b(4, false, 64)),
            Some(b(5, false, 64)),
        ];
        let got = serve_all(&body, Szx::S128, &reqs);
        assert_eq!(
            got,
            [
                (Some(b(0, true, 64)), 64),
                (Some(b(1, true, 64)), 64),
                (Some(b(4, true, 64)), 64),
                (Some(b(5, false, 64)), 60)
            ]
        );
    }

    #[test]
    fn block2_late_negotiation_matches_rfc7959_figure_4() {
        // Figure 4: first block at 128, then the client switches to 64 at NUM 2.
        let body = [2u8; 350];
        let reqs = [
            None,
            Some(b(2, false, 64)),
            Some(b(3, false, 64)),
            Some(b(4, false, 64)),
            Some(b(5, false, 64)),
        ];
        let got = serve_all(&body, Szx::S128, &reqs);
        assert_eq!(got[0], (Some(b(0, true, 128)), 128));
        assert_eq!(got[1], (Some(b(2, true, 64)), 64));
        assert_eq!(got[4], (Some(b(5, false, 64)), 30));
    }

    #[test]
    fn block2_server_uses_smaller_size_and_keeps_offset() {
        // Client asks for 256-byte block 1 (offset 256); we serve at most 64:
        // the same offset is block 4 of 64.
        let body = [3u8; 600];
        let got = serve_all(&body, Szx::S64, &[Some(b(1, false, 256))]);
        assert_eq!(got, [(Some(b(4, true, 64)), 64)]);
    }

    #[test]
    fn block2_small_body_needs_no_option_and_out_of_range_is_4_02() {
        let body = [0u8; 10];
        assert_eq!(serve_all(&body, Szx::S64, &[None]), [(None, 10)]);
        let mut src: &[u8] = &body;
        let mut out = [0u8; 64];
        let e = serve_block2(&mut src, Some(b(1, false, 16)), Szx::S64, &mut out).unwrap_err();
        assert_eq!(Code::from(e), Code::BadOption);
        let s = serve_block2(&mut src, None, Szx::S1024, &mut out).unwrap();
        assert_eq!(s.size2, None);
    }

    #[test]
    fn block2_first_block_carries_size2() {
        let body = [0u8; 100];
        let mut src: &[u8] = &body;
        let mut out = [0u8; 32];
        let s = serve_block2(&mut src, None, Szx::S1024, &mut out).unwrap();
        assert_eq!((s.block, s.len, s.size2), (Some(b(0, true, 32)), 32, Some(100)));
        let s = serve_block2(&mut src, Some(b(1, false, 32)), Szx::S1024, &mut out).unwrap();
        assert_eq!(s.size2, None);
    }

    /// A producer that generates bytes on demand: `offset % 251`.
    struct Counter(usize);
    impl Block2Source for Counter {
        fn read_at(&mut self, offset: usize, buf: &mut [u8]) -> Result<(usize, bool), BlockError> {
            if offset >= self.0 {
                return Err(BlockError::OutOfRange);
            }
            let n = buf.len().min(self.0 - offset);
            for (i, byte) in buf[..n].iter_mut().enumerate() {
                *byte = ((offset + i) % 251) as u8;
            }
            Ok((n, offset + n < self.0))
        }
    }

    #[test]
    fn block2_round_trip_through_reassembler_with_producer() {
        let mut src = Counter(2000);
        let mut store = [0u8; 4096];
        let mut r = Block2Reassembler::new(&mut store, Szx::S256);
        let mut out = [0u8; 1024];
        let mut req = None;
        let mut rounds = 0;
        let len = loop {
            rounds += 1;
            let s = serve_block2(&mut src, req, Szx::S512, &mut out).unwrap();
            match r.handle(s.block, s.size2, &out[..s.len]).unwrap() {
                Reassembly::Next(next) => req = Some(next),
                Reassembly::Complete(n) => break n,
            }
        };
        assert_eq!(len, 2000);
        // First block at 512 (the server's size), then 256 as the client prefers.
        assert_eq!(rounds, 1 + (2000usize - 512).div_ceil(256));
        assert!(r.body().iter().enumerate().all(|(i, v)| *v == (i % 251) as u8));
    }

    #[test]
    fn block2_reassembler_rejects_overflow_gaps_and_bigger_blocks() {
        let mut store = [0u8; 100];
        let mut r = Block2Reassembler::new(&mut store, Szx::S64);
        assert_eq!(
            r.handle(Some(b(0, true, 64)), Some(500), &[0; 64]),
            Err(BlockError::TooLarge { capacity: 100 })
        );
        assert_eq!(Code::from(BlockError::TooLarge { capacity: 100 }), Code::RequestEntityTooLarge);
        assert_eq!(
            r.handle(Some(b(0, true, 64)), None, &[0; 64]),
            Ok(Reassembly::Next(b(1, false, 64)))
        );
        // A gap: block 2 instead of 1.
        assert_eq!(
            r.handle(Some(b(2, true, 64)), None, &[0; 64]),
            Err(BlockError::UnexpectedBlock)
        );
        // Larger than asked.
        assert_eq!(
            r.handle(Some(b(0, true, 128)), None, &[0; 128]),
            Err(BlockError::UnexpectedBlock)
        );
        // Short non-final block.
        assert_eq!(r.handle(Some(b(1, true, 64)), None, &[0; 10]), Err(BlockError::BadBlockSize));
        // The rest overflows the 100-byte buffer.
        assert_eq!(
            r.handle(Some(b(1, true, 64)), None, &[0; 64]),
            Err(BlockError::TooLarge { capacity: 100 })
        );
        r.reset();
        assert_eq!(r.first_request(), b(0, false, 64));
        assert_eq!(r.handle(None, None, b"small"), Ok(Reassembly::Complete(5)));
        assert_eq!(r.body(), b"small");
    }

    #[test]
    fn block2_reassembler_restarts_when_the_etag_changes() {
        let mut r = Block2Reassembler::new([0u8; 256], Szx::S16);
        r.check_etag(Some(b"v1")).unwrap();
        assert_eq!(
            r.handle(Some(b(0, true, 16)), None, &[1; 16]),
            Ok(Reassembly::Next(b(1, false, 16)))
        );
        r.check_etag(Some(b"v1")).unwrap();
        assert_eq!(
            r.handle(Some(b(1, true, 16)), None, &[2; 16]),
            Ok(Reassembly::Next(b(2, false, 16)))
        );
        assert_eq!(r.check_etag(Some(b"v2")), Err(BlockError::EtagChanged));
        assert!(r.body().is_empty(), "the stale part is discarded");
        r.check_etag(Some(b"v2")).unwrap();
        assert_eq!(r.handle(Some(b(0, false, 16)), None, &[3; 5]), Ok(Reassembly::Complete(5)));
    }

    #[test]
    fn block1_atomic_put_matches_rfc7959_figure_6() {
        // Figure 6: PUT 0/1/128 -> 2.31 0/1/128; 1/1/128 -> 2.31 1/1/128; 2/0/128 -> 2.04 2/0/128.
        let body: std::vec::Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let mut sender = Block1Sender::new(&body, Szx::S128);
        let mut store = [0u8; 512];
        let mut rx = Block1Receiver::new(&mut store, Szx::S1024);
        let mut trace = std::vec::Vec::new();
        loop {
            let (blk, chunk) = sender.current().unwrap();
            let (code, reply) = match rx.handle(blk, None, chunk).unwrap() {
                Block1Outcome::Continue(r) => (Code::Continue, r),
                Block1Outcome::Complete(r) => (Code::Changed, r),
            };
            trace.push((blk, code, reply));
            if let Block1Progress::Done(c) = sender.handle_response(code, Some(reply)).unwrap() {
                assert_eq!(c, Code::Changed);
                break;
            }
        }
        assert_eq!(
            trace,
            [
                (b(0, true, 128), Code::Continue, b(0, true, 128)),
                (b(1, true, 128), Code::Continue, b(1, true, 128)),
                (b(2, false, 128), Code::Changed, b(2, false, 128)),
            ]
        );
        assert_eq!(rx.body(), &body[..]);
    }

    #[test]
    fn block1_late_negotiation_matches_rfc7959_figure_7() {
        // Figure 7: PUT 0/1/128 -> 2.31 0/1/32; then 4/1/32, 5/1/32, 6/0/32 -> 2.04.
        let body = [9u8; 200];
        let mut sender = Block1Sender::new(&body, Szx::S128);
        let mut store = [0u8; 512];
        let mut rx = Block1Receiver::new(&mut store, Szx::S32);
        let mut sent = std::vec::Vec::new();
        loop {
            let (blk, chunk) = sender.current().unwrap();
            sent.push(blk);
            let (code, reply) = match rx.handle(blk, None, chunk).unwrap() {
                Block1Outcome::Continue(r) => (Code::Continue, r),
                Block1Outcome::Complete(r) => (Code::Changed, r),
            };
            if blk.num == 0 {
                assert_eq!(reply, b(0, true, 32));
            }
            if let Block1Progress::Done(_) = sender.handle_response(code, Some(reply)).unwrap() {
                break;
            }
        }
        assert_eq!(sent, [b(0, true, 128), b(4, true, 32), b(5, true, 32), b(6, false, 32)]);
        assert_eq!(rx.body(), &body[..]);
    }

    #[test]
    fn block1_gap_gets_4_08_and_oversize_gets_4_13_with_size1() {
        let mut store = [0u8; 100];
        let mut rx = Block1Receiver::new(&mut store, Szx::S64);
        assert!(matches!(
            rx.handle(b(0, true, 32), None, &[0; 32]),
            Ok(Block1Outcome::Continue(_))
        ));
        // Block 2 while block 1 is missing (RFC 7959 §2.9.2, Figure 8).
        let e = rx.handle(b(2, true, 32), None, &[0; 32]).unwrap_err();
        assert_eq!((e, Code::from(e)), (BlockError::Incomplete, Code::RequestEntityIncomplete));
        // Announced size too big: 4.13 with Size1 = our capacity (§2.9.3).
        let e = rx.handle(b(0, true, 32), Some(1000), &[0; 32]).unwrap_err();
        assert_eq!(e, BlockError::TooLarge { capacity: 100 });
        // Unannounced, discovered on overflow.
        rx.reset();
        for n in 0..3 {
            let _ = rx.handle(b(n, true, 32), None, &[0; 32]).unwrap();
        }
        assert_eq!(
            rx.handle(b(3, true, 32), None, &[0; 32]),
            Err(BlockError::TooLarge { capacity: 100 })
        );
        assert_eq!(rx.handle(b(0, true, 32), None, &[0; 5]), Err(BlockError::BadBlockSize));
    }

    #[test]
    fn block1_sender_restarts_smaller_after_4_13_and_stops_on_error() {
        let body = [0u8; 300];
        let mut s = Block1Sender::new(&body, Szx::S256);
        assert_eq!(s.size1(), Some(300));
        assert_eq!(
            s.handle_response(Code::RequestEntityTooLarge, Some(b(0, false, 64))),
            Ok(Block1Progress::Next)
        );
        assert_eq!(s.current().unwrap().0, b(0, true, 64));
        assert_eq!(
            s.handle_response(Code::Continue, Some(b(1, true, 64))),
            Err(BlockError::UnexpectedBlock)
        );
        assert_eq!(
            s.handle_response(Code::Forbidden, None),
            Ok(Block1Progress::Done(Code::Forbidden))
        );
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn block_value_round_trips(num in 0..=MAX_NUM, more in any::<bool>(), szx in 0u8..7) {
                let v = BlockValue::new(num, more, Szx::from_raw(szx).unwrap()).unwrap();
                let mut buf = [0xa5u8; 3];
                let n = v.emit(&mut buf).unwrap();
                prop_assert_eq!(n, v.buffer_len());
                prop_assert_eq!(BlockValue::parse(&buf[..n]), Ok(v));
            }

            #[test]
            fn arbitrary_option_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..6)) {
                if let Ok(v) = BlockValue::parse(&bytes) {
                    let mut buf = [0u8; 3];
                    let n = v.emit(&mut buf).unwrap();
                    prop_assert_eq!(BlockValue::parse(&buf[..n]), Ok(v));
                }
            }

            #[test]
            fn arbitrary_blocks_never_panic_the_helpers(
                steps in proptest::collection::vec((any::<u32>(), any::<Option<u32>>(), 0usize..1100), 1..12),
            ) {
                let mut rx = Block1Receiver::new([0u8; 300], Szx::S64);
                let mut re = Block2Reassembler::new([0u8; 300], Szx::S64);
                let body = [7u8; 500];
                let payload = [1u8; 1100];
                for (uint, size, len) in steps {
                    let Ok(b) = BlockValue::from_uint(uint & 0x00ff_ffff) else { continue };
                    let _ = rx.handle(b, size, &payload[..len]);
                    let _ = re.handle(Some(b), size, &payload[..len]);
                    let mut out = [0u8; 1024];
                    let mut src: &[u8] = &body;
                    let _ = serve_block2(&mut src, Some(b), Szx::S1024, &mut out);
                    let mut tx = Block1Sender::new(&body, b.szx);
                    let _ = tx.handle_response(Code::from((uint >> 24) as u8), Some(b));
                    let _ = tx.current();
                }
            }
        }
    }
}
