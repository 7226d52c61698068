//! The CoAP message on the wire (RFC 7252 §3, §4.1): a zero-copy view
//! [`Message`] over a buffer, and the validated value [`Repr`] with
//! `parse` / `buffer_len` / `emit`.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Ver| T |  TKL  |      Code     |          Message ID           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Token (if any, TKL bytes) ...
//! |   Options (if any) ...
//! |1 1 1 1 1 1 1 1|    Payload (if any) ...
//! ```
//!
//! ```
//! use lwm2m_core::coap::numbers::Code;
//! use lwm2m_core::coap::{Message, MessageType, MessageWriter, Repr, Token};
//!
//! // Build (RFC 7252 Appendix A, Figure 16) ...
//! let mut buf = [0u8; 64];
//! let mut w = MessageWriter::new(&mut buf, MessageType::Con, Code::Get, 0x7d34, Token::EMPTY)?;
//! w.add_uri_path("/temperature")?;
//! let bytes = w.finish();
//!
//! // ... receive: bytes from the network always go through `new_checked`.
//! let msg = Message::new_checked(&*bytes)?;
//! let repr = Repr::parse(&msg)?;
//! assert_eq!(repr.to_string(), "CON 0.01 mid=0x7d34 tok=- Uri-Path:\"temperature\" [0 B]");
//!
//! // ... and emit the value again.
//! let mut out = [0u8; 64];
//! let n = repr.emit(&mut Message::new_unchecked(&mut out[..repr.buffer_len()]))?;
//! assert_eq!(out[..n], *bytes);
//! # Ok::<(), lwm2m_core::coap::Error>(())
//! ```
//!
//! Guarantees: nothing here panics on any input bytes. After
//! [`Message::check_len`] succeeds no accessor panics; on a view made with
//! [`Message::new_unchecked`] only the fixed-header accessors can panic, and
//! only on a buffer shorter than [`HEADER_LEN`]. [`Repr::emit`] never panics;
//! it fails with [`Error::BufferTooSmall`] on a view shorter than
//! [`Repr::buffer_len`].
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Error;
use super::numbers::{Code, OptionNumber};
use super::option::{Options, OptionsIter, PAYLOAD_MARKER, RawOption, write_hex};
use core::fmt;

/// Byte offsets of the fixed header (RFC 7252 §3).
mod field {
    use core::ops::Range;
    /// Version (2 bits), type (2 bits), token length (4 bits).
    pub const VER_T_TKL: usize = 0;
    /// Code `c.dd`.
    pub const CODE: usize = 1;
    /// Message ID, network byte order.
    pub const MID: Range<usize> = 2..4;
    /// The token starts here.
    pub const TOKEN: usize = 4;
}

/// Length of the fixed header (version, type, TKL, code, message ID).
pub const HEADER_LEN: usize = field::TOKEN;
/// The only CoAP version (RFC 7252 §3).
pub const VERSION: u8 = 1;
/// Largest token (RFC 7252 §3: lengths 9–15 are reserved).
pub const MAX_TOKEN_LEN: usize = 8;

/// The message type (RFC 7252 §3, §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MessageType {
    /// Confirmable (0).
    Con,
    /// Non-confirmable (1).
    Non,
    /// Acknowledgement (2).
    Ack,
    /// Reset (3).
    Rst,
}

impl MessageType {
    /// From the 2-bit field (only the low two bits of `bits` are used).
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => MessageType::Con,
            1 => MessageType::Non,
            2 => MessageType::Ack,
            _ => MessageType::Rst,
        }
    }

    /// The 2-bit field value.
    pub const fn bits(self) -> u8 {
        match self {
            MessageType::Con => 0,
            MessageType::Non => 1,
            MessageType::Ack => 2,
            MessageType::Rst => 3,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageType::Con => "CON",
            MessageType::Non => "NON",
            MessageType::Ack => "ACK",
            MessageType::Rst => "RST",
        })
    }
}

/// A token: 0 to 8 opaque bytes (RFC 7252 §5.3.1). `Copy`; equality is on
/// the used bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Token {
    // Bytes past `len` are always zero, so the derived `Eq` is byte equality.
    bytes: [u8; MAX_TOKEN_LEN],
    len: u8,
}

impl Token {
    /// The empty token.
    pub const EMPTY: Token = Token { bytes: [0; MAX_TOKEN_LEN], len: 0 };

    /// A token with these bytes, or `None` if there are more than 8.
    pub fn new(bytes: &[u8]) -> Option<Token> {
        let mut t = Token::EMPTY;
        t.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        t.len = u8::try_from(bytes.len()).ok()?;
        Some(t)
    }

    /// The token bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of bytes (0–8).
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// The empty token.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl TryFrom<&[u8]> for Token {
    type Error = Error;
    fn try_from(bytes: &[u8]) -> Result<Token, Error> {
        Token::new(bytes).ok_or(Error::BadTokenLength)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({self})")
    }
}

impl fmt::Display for Token {
    /// Lowercase hex, `-` for the empty token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        self.as_bytes().iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Token {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]:x}", self.as_bytes())
    }
}

/// A view of a CoAP message in a buffer (RFC 7252 §3): zero copy, read
/// accessors for any `T: AsRef<[u8]>`, setters for `T: AsMut<[u8]>`.
///
/// Bytes from the network go through [`Message::new_checked`]; then no
/// accessor panics. The view does not judge meaning (version, the Empty
/// message rule): [`Repr::parse`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// A view without any check. Fixed-header accessors panic on a buffer
    /// shorter than [`HEADER_LEN`]; the others never panic (they return
    /// empty or stop early on malformed bytes).
    pub const fn new_unchecked(buffer: T) -> Message<T> {
        Message { buffer }
    }

    /// A view over bytes that passed [`check_len`](Self::check_len).
    ///
    /// # Errors
    /// As [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Message<T>, Error> {
        let msg = Message::new_unchecked(buffer);
        msg.check_len()?;
        Ok(msg)
    }

    /// A view over bytes that hold at least the fixed header, nothing more
    /// checked: enough for [`msg_type`](Self::msg_type),
    /// [`message_id`](Self::message_id) and [`code`](Self::code) of a
    /// datagram that failed [`check_len`](Self::check_len), so the endpoint
    /// can reject a malformed CON with a matching RST (RFC 7252 §4.2).
    ///
    /// # Errors
    /// [`Error::Truncated`] below [`HEADER_LEN`] bytes (such a datagram
    /// cannot even be answered and is silently ignored, §4.2).
    pub fn new_header_checked(buffer: T) -> Result<Message<T>, Error> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Message::new_unchecked(buffer))
    }

    /// Checks every length the accessors rely on: the fixed header, the token
    /// length (at most 8) and its bytes, the option framing (reserved nibble
    /// 15, extensions, values within the buffer, numbers ≤ 65535) and that a
    /// payload marker is followed by a payload (RFC 7252 §3, §3.1).
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadTokenLength`],
    /// [`Error::BadOptionDelta`], [`Error::BadOptionLength`],
    /// [`Error::OptionNumberOverflow`], [`Error::EmptyPayload`].
    pub fn check_len(&self) -> Result<(), Error> {
        let bytes = self.buffer.as_ref();
        let (&[ver_t_tkl, ..], tail) =
            bytes.split_first_chunk::<HEADER_LEN>().ok_or(Error::Truncated)?;
        let tkl = usize::from(ver_t_tkl & 0x0f);
        if tkl > MAX_TOKEN_LEN {
            return Err(Error::BadTokenLength);
        }
        let (_token, rest) = tail.split_at_checked(tkl).ok_or(Error::Truncated)?;
        Options::split(rest).map(drop)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole buffer.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    #[expect(clippy::indexing_slicing, reason = "fixed header; guarded by check_len")]
    fn header_byte(&self, at: usize) -> u8 {
        self.buffer.as_ref()[at]
    }

    /// The version field (1 for RFC 7252).
    pub fn version(&self) -> u8 {
        self.header_byte(field::VER_T_TKL) >> 6
    }

    /// The message type.
    pub fn msg_type(&self) -> MessageType {
        MessageType::from_bits(self.header_byte(field::VER_T_TKL) >> 4)
    }

    /// The token length field (0–15 as on the wire; ≤ 8 after `check_len`).
    pub fn token_len(&self) -> u8 {
        self.header_byte(field::VER_T_TKL) & 0x0f
    }

    /// The code.
    pub fn code(&self) -> Code {
        Code::from(self.header_byte(field::CODE))
    }

    /// The message ID.
    pub fn message_id(&self) -> u16 {
        let hi = self.header_byte(field::MID.start);
        let lo = self.header_byte(field::MID.start + 1);
        u16::from_be_bytes([hi, lo])
    }

    fn token_end(&self) -> usize {
        field::TOKEN + usize::from(self.token_len())
    }

    /// The token bytes (empty if the buffer is shorter than TKL says).
    pub fn token(&self) -> &[u8] {
        self.buffer.as_ref().get(field::TOKEN..self.token_end()).unwrap_or(&[])
    }

    /// Everything after the token: options, marker, payload.
    fn tail(&self) -> &[u8] {
        self.buffer.as_ref().get(self.token_end()..).unwrap_or(&[])
    }

    /// The options in wire order (stops early on malformed bytes, which
    /// `check_len` rules out).
    pub fn options(&self) -> OptionsIter<'_> {
        match Options::split(self.tail()) {
            Ok((opts, _)) => opts.iter(),
            Err(_) => OptionsIter::over(self.tail()),
        }
    }

    /// The payload (empty if there is none, or the options are malformed).
    pub fn payload(&self) -> &[u8] {
        Options::split(self.tail()).map_or(&[], |(_, p)| p)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Message<T> {
    #[expect(clippy::indexing_slicing, reason = "fixed header; guarded by check_len")]
    fn header_byte_mut(&mut self, at: usize) -> &mut u8 {
        &mut self.buffer.as_mut()[at]
    }

    /// Sets the version field (only the low two bits of `version` are used).
    pub fn set_version(&mut self, version: u8) {
        let b = self.header_byte_mut(field::VER_T_TKL);
        *b = (*b & 0x3f) | ((version & 0b11) << 6);
    }

    /// Sets the message type.
    pub fn set_msg_type(&mut self, t: MessageType) {
        let b = self.header_byte_mut(field::VER_T_TKL);
        *b = (*b & 0xcf) | (t.bits() << 4);
    }

    /// Sets the token length field (only the low four bits are used).
    pub fn set_token_len(&mut self, len: u8) {
        let b = self.header_byte_mut(field::VER_T_TKL);
        *b = (*b & 0xf0) | (len & 0x0f);
    }

    /// Sets the code.
    pub fn set_code(&mut self, code: Code) {
        *self.header_byte_mut(field::CODE) = code.raw();
    }

    /// Sets the message ID.
    pub fn set_message_id(&mut self, mid: u16) {
        let [hi, lo] = mid.to_be_bytes();
        *self.header_byte_mut(field::MID.start) = hi;
        *self.header_byte_mut(field::MID.start + 1) = lo;
    }

    /// The token bytes, as many as the token length field says (empty if
    /// the buffer is shorter).
    pub fn token_mut(&mut self) -> &mut [u8] {
        let end = self.token_end();
        self.buffer.as_mut().get_mut(field::TOKEN..end).unwrap_or(&mut [])
    }

    /// Everything after the token (options, marker, payload) for writing.
    pub fn tail_mut(&mut self) -> &mut [u8] {
        let start = self.token_end();
        self.buffer.as_mut().get_mut(start..).unwrap_or(&mut [])
    }
}

/// A parsed, validated CoAP message (RFC 7252 §3, §4.1): header fields, token,
/// the options as their wire bytes, and the payload, borrowed from the
/// datagram.
///
/// `Repr` implements [`coap_message::ReadableMessage`], so request handlers
/// see code, options and payload, never the token or message ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    /// Message type.
    pub msg_type: MessageType,
    /// Code.
    pub code: Code,
    /// Message ID.
    pub message_id: u16,
    /// Token (0–8 bytes).
    pub token: Token,
    /// Options, ascending, as on the wire.
    pub options: Options<'a>,
    /// Payload (empty: no payload marker is sent).
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a view, judging what the view does not: the version must be 1,
    /// and an Empty message (0.00) must end after the message ID.
    ///
    /// # Errors
    /// Any error of [`Message::check_len`], plus [`Error::BadVersion`] and
    /// [`Error::EmptyWithContent`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(msg: &Message<&'a T>) -> Result<Repr<'a>, Error> {
        Repr::decode(msg.buffer.as_ref())
    }

    /// Parses a datagram: [`Message::new_checked`] then [`Repr::parse`].
    ///
    /// # Errors
    /// As [`Repr::parse`].
    pub fn decode(bytes: &'a [u8]) -> Result<Repr<'a>, Error> {
        let (&[ver_t_tkl, code, mid_hi, mid_lo], tail) =
            bytes.split_first_chunk::<HEADER_LEN>().ok_or(Error::Truncated)?;
        let tkl = usize::from(ver_t_tkl & 0x0f);
        if tkl > MAX_TOKEN_LEN {
            return Err(Error::BadTokenLength);
        }
        let (token, rest) = tail.split_at_checked(tkl).ok_or(Error::Truncated)?;
        let (options, payload) = Options::split(rest)?;
        if ver_t_tkl >> 6 != VERSION {
            return Err(Error::BadVersion);
        }
        let code = Code::from(code);
        if code.is_empty() && !(token.is_empty() && rest.is_empty()) {
            return Err(Error::EmptyWithContent);
        }
        Ok(Repr {
            msg_type: MessageType::from_bits(ver_t_tkl >> 4),
            code,
            message_id: u16::from_be_bytes([mid_hi, mid_lo]),
            token: Token::try_from(token)?,
            options,
            payload,
        })
    }

    /// An Empty message (0.00, no token): an ACK, a RST, or a CoAP ping (CON).
    pub fn empty(msg_type: MessageType, message_id: u16) -> Repr<'static> {
        Repr {
            msg_type,
            code: Code::Empty,
            message_id,
            token: Token::EMPTY,
            options: Options::EMPTY,
            payload: &[],
        }
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        let payload = if self.payload.is_empty() { 0 } else { 1 + self.payload.len() };
        HEADER_LEN + self.token.len() + self.options.as_bytes().len() + payload
    }

    /// Writes the message at the start of the view and returns its length
    /// ([`buffer_len`](Self::buffer_len)). Never panics.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if the view is shorter than `buffer_len()`
    /// (the buffer content is then unspecified).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, msg: &mut Message<T>) -> Result<usize, Error> {
        self.encode_into(msg.buffer.as_mut())
    }

    /// Writes the message at the start of `buf`; see [`emit`](Self::emit).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn encode_into(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let (header, rest) =
            out.split_first_chunk_mut::<HEADER_LEN>().ok_or(Error::BufferTooSmall)?;
        let [mid_hi, mid_lo] = self.message_id.to_be_bytes();
        // Token::len() ≤ 8, so the cast keeps every bit.
        *header = [
            (VERSION << 6) | (self.msg_type.bits() << 4) | (self.token.len() as u8),
            self.code.raw(),
            mid_hi,
            mid_lo,
        ];
        let rest = put(rest, self.token.as_bytes())?;
        let rest = put(rest, self.options.as_bytes())?;
        if !self.payload.is_empty() {
            let rest = put(rest, &[PAYLOAD_MARKER])?;
            put(rest, self.payload)?;
        }
        Ok(len)
    }

    /// The first critical option this codec does not recognise (see
    /// [`Options::first_unknown_critical`]); a CON request carrying one is
    /// answered with 4.02 Bad Option (RFC 7252 §5.4.1).
    pub fn first_unknown_critical(&self) -> Option<OptionNumber> {
        self.options.first_unknown_critical()
    }
}

/// Copies `src` to the start of `out` and returns what is left of `out`.
fn put<'o>(out: &'o mut [u8], src: &[u8]) -> Result<&'o mut [u8], Error> {
    let (head, tail) = out.split_at_mut_checked(src.len()).ok_or(Error::BufferTooSmall)?;
    head.copy_from_slice(src);
    Ok(tail)
}

impl fmt::Display for Repr<'_> {
    /// One line: `CON 0.01 mid=0x1234 tok=ab12 Uri-Path:"rd" [12 B]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} mid=0x{:04x} tok={}",
            self.msg_type, self.code, self.message_id, self.token
        )?;
        for opt in self.options {
            write!(f, " {opt}")?;
        }
        write!(f, " [{} B]", self.payload.len())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Repr<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "{} {=u8}.{=u8:02} mid={=u16:#06x} tok={}",
            self.msg_type,
            self.code.class(),
            self.code.detail(),
            self.message_id,
            self.token
        );
        for opt in self.options {
            defmt::write!(f, " {}", opt);
        }
        defmt::write!(f, " [{=usize} B]", self.payload.len());
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Message<T> {
    /// The [`Repr`] line, or `malformed CoAP (<error>) [n B]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.buffer.as_ref();
        match Repr::decode(bytes) {
            Ok(repr) => fmt::Display::fmt(&repr, f),
            Err(e) => {
                write!(f, "malformed CoAP ({e}) [{} B] ", bytes.len())?;
                write_hex(f, bytes.get(..HEADER_LEN).unwrap_or(bytes))
            }
        }
    }
}

#[cfg(feature = "defmt")]
impl<T: AsRef<[u8]>> defmt::Format for Message<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        let bytes = self.buffer.as_ref();
        match Repr::decode(bytes) {
            Ok(repr) => defmt::write!(f, "{}", repr),
            Err(e) => defmt::write!(f, "malformed CoAP ({}) [{=usize} B]", e, bytes.len()),
        }
    }
}

impl coap_message::Code for Code {
    type Error = core::convert::Infallible;
    fn new(code: u8) -> Result<Code, core::convert::Infallible> {
        Ok(Code::from(code))
    }
}

impl coap_message::OptionNumber for OptionNumber {
    type Error = core::convert::Infallible;
    fn new(number: u16) -> Result<OptionNumber, core::convert::Infallible> {
        Ok(OptionNumber::from(number))
    }
}

impl coap_message::ReadableMessage for Repr<'_> {
    type Code = Code;
    type MessageOption<'b>
        = RawOption<'b>
    where
        Self: 'b;
    type OptionsIter<'b>
        = OptionsIter<'b>
    where
        Self: 'b;

    fn code(&self) -> Code {
        self.code
    }

    fn options(&self) -> OptionsIter<'_> {
        self.options.iter()
    }

    fn payload(&self) -> &[u8] {
        self.payload
    }
}

/// Options of a parsed message are in wire order, which is ascending.
impl coap_message::WithSortedOptions for Repr<'_> {}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn header_fields_read_from_rfc_7252_figure_16() {
        // RFC 7252 Appendix A, Figure 16: CON GET, MID 0x7d34, Uri-Path "temperature".
        let bytes = [
            0x40, 0x01, 0x7d, 0x34, 0xbb, b't', b'e', b'm', b'p', b'e', b'r', b'a', b't', b'u',
            b'r', b'e',
        ];
        let msg = Message::new_checked(&bytes[..]).unwrap();
        assert_eq!(msg.version(), 1);
        assert_eq!(msg.msg_type(), MessageType::Con);
        assert_eq!(msg.code(), Code::Get);
        assert_eq!(msg.message_id(), 0x7d34);
        assert_eq!(msg.token(), b"");
        let opt = msg.options().next().unwrap();
        assert_eq!((opt.number, opt.value), (OptionNumber::UriPath, &b"temperature"[..]));
        assert_eq!(msg.payload(), b"");
    }

    #[test]
    fn setters_write_the_fields_the_getters_read() {
        let mut buf = [0u8; 6];
        let mut msg = Message::new_unchecked(&mut buf[..]);
        msg.set_version(1);
        msg.set_msg_type(MessageType::Rst);
        msg.set_token_len(2);
        msg.set_code(Code::Content);
        msg.set_message_id(0xbeef);
        msg.token_mut().copy_from_slice(&[0xab, 0xcd]);
        assert_eq!(buf, [0x72, 0x45, 0xbe, 0xef, 0xab, 0xcd]);
    }

    #[test]
    fn header_of_a_malformed_con_is_readable_to_build_the_rst() {
        // CON 0.01 MID 0xbeef with token length 9: a format error, but the
        // type and MID are there to reject it with RST.
        let bytes = [0x49, 0x01, 0xbe, 0xef, 0, 0];
        assert_eq!(Message::new_checked(&bytes[..]), Err(Error::BadTokenLength));
        let msg = Message::new_header_checked(&bytes[..]).unwrap();
        assert_eq!((msg.msg_type(), msg.message_id()), (MessageType::Con, 0xbeef));
        assert_eq!(msg.token(), b"");
        assert_eq!(msg.payload(), b"");
        assert_eq!(Message::new_header_checked(&bytes[..3]), Err(Error::Truncated));
    }

    #[test]
    fn token_rejects_more_than_eight_bytes() {
        assert!(Token::new(&[0; 8]).is_some());
        assert!(Token::new(&[0; 9]).is_none());
        assert_eq!(Token::try_from(&[0u8; 9][..]), Err(Error::BadTokenLength));
    }

    #[test]
    fn display_is_one_line_with_options_and_payload_size() {
        let bytes = [
            0x42, 0x02, 0x12, 0x34, 0xab, 0x12, 0xb2, b'r', b'd', 0x11, 40, 0x37, b'e', b'p', b'=',
            b'n', b'o', b'd', b'e', 0xff, b'<', b'/', b'1', b'>',
        ];
        let repr = Repr::decode(&bytes).unwrap();
        assert_eq!(
            format!("{repr}"),
            "CON 0.02 mid=0x1234 tok=ab12 Uri-Path:\"rd\" Content-Format:40 Uri-Query:\"ep=node\" [4 B]"
        );
        let msg = Message::new_unchecked(&[0x80u8, 0, 0, 0][..]);
        assert_eq!(format!("{msg}"), "malformed CoAP (CoAP version is not 1) [4 B] 0x80000000");
    }
}
