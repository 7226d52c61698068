//! Building a CoAP message in a caller's buffer (RFC 7252 §3, §3.1, §3.2):
//! [`MessageWriter`] writes the header and token at once, then options in
//! **ascending number order** (repeats allowed), computing the deltas, then
//! the payload. It implements the `coap-message` write traits
//! ([`coap_message::MinimalWritableMessage`],
//! [`coap_message::MutableWritableMessage`]), so handlers build responses
//! without seeing tokens or message IDs.
//!
//! Ascending order is required rather than sorted on insert: every caller in
//! this workspace knows its options statically, the `coap-message` contract
//! asks for ascending order too, and it keeps writing O(1) per option with no
//! memmove. An option out of order is refused with
//! [`Error::OptionOutOfOrder`], never silently misplaced.
//!
//! Guarantee: nothing here panics; a full buffer is [`Error::BufferTooSmall`]
//! and leaves what was written before intact.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Error;
use super::message::{HEADER_LEN, MessageType, Repr, Token};
use super::numbers::{Code, ContentFormat, OptionNumber};
use super::option::{self, Options, PAYLOAD_MARKER, UintValue};
use super::reader::Reader;

/// Writes one CoAP message into a borrowed buffer; see the module doc.
#[derive(Debug)]
pub struct MessageWriter<'b> {
    buf: &'b mut [u8],
    /// Where the header and token end (options start).
    token_end: usize,
    /// Where the options written so far end.
    options_end: usize,
    /// Number of the last option written (deltas are from it).
    last_number: u16,
    /// Payload bytes after the marker; 0 means no marker.
    payload_len: usize,
}

impl<'b> MessageWriter<'b> {
    /// Starts a message: writes the header and the token.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `buf` cannot hold them.
    pub fn new(
        buf: &'b mut [u8],
        msg_type: MessageType,
        code: Code,
        message_id: u16,
        token: Token,
    ) -> Result<MessageWriter<'b>, Error> {
        let header =
            Repr { msg_type, code, message_id, token, options: Options::EMPTY, payload: &[] };
        let token_end = header.encode_into(buf)?;
        Ok(MessageWriter { buf, token_end, options_end: token_end, last_number: 0, payload_len: 0 })
    }

    /// Sets the code (header byte 1).
    pub fn set_code(&mut self, code: Code) {
        if let Some(b) = self.buf.get_mut(1) {
            *b = code.raw();
        }
    }

    /// Sets the message type.
    pub fn set_msg_type(&mut self, t: MessageType) {
        if let Some(b) = self.buf.first_mut() {
            *b = (*b & 0xcf) | (t.bits() << 4);
        }
    }

    /// Sets the message ID.
    pub fn set_message_id(&mut self, mid: u16) {
        if let Some(b) = self.buf.get_mut(2..HEADER_LEN) {
            b.copy_from_slice(&mid.to_be_bytes());
        }
    }

    /// Appends an option. Numbers must not decrease; equal numbers repeat
    /// the option (RFC 7252 §5.4.5).
    ///
    /// # Errors
    /// [`Error::OptionOutOfOrder`] for a lower number than the last one or
    /// after a payload; [`Error::BufferTooSmall`] if it does not fit (nothing
    /// is written then).
    pub fn add_option(&mut self, number: OptionNumber, value: &[u8]) -> Result<(), Error> {
        let number = number.raw();
        if self.payload_len != 0 {
            return Err(Error::OptionOutOfOrder);
        }
        let delta = number.checked_sub(self.last_number).ok_or(Error::OptionOutOfOrder)?;
        let out = self.buf.get_mut(self.options_end..).ok_or(Error::BufferTooSmall)?;
        let n = option::encode(out, delta, value)?;
        self.options_end += n;
        self.last_number = number;
        Ok(())
    }

    /// Appends a uint option in its minimal encoding (RFC 7252 §3.2):
    /// Observe, Content-Format, Accept, Max-Age, Block1/Block2, Size1/Size2.
    ///
    /// # Errors
    /// As [`add_option`](Self::add_option).
    pub fn add_uint(&mut self, number: OptionNumber, value: u32) -> Result<(), Error> {
        self.add_option(number, UintValue::new(value).as_bytes())
    }

    /// Appends a string option (Uri-Host, Uri-Query, Location-Query, …).
    ///
    /// # Errors
    /// As [`add_option`](Self::add_option).
    pub fn add_str(&mut self, number: OptionNumber, value: &str) -> Result<(), Error> {
        self.add_option(number, value.as_bytes())
    }

    /// Appends Content-Format.
    ///
    /// # Errors
    /// As [`add_option`](Self::add_option).
    pub fn add_content_format(&mut self, cf: ContentFormat) -> Result<(), Error> {
        self.add_uint(OptionNumber::ContentFormat, u32::from(cf.raw()))
    }

    /// Appends a path as one option per segment (RFC 7252 §6.5 step 8):
    /// `"/rd/5a3f"` → `rd`, `5a3f`. One leading `/` is dropped; `""` and
    /// `"/"` add nothing. `number` is Uri-Path or Location-Path.
    ///
    /// # Errors
    /// As [`add_option`](Self::add_option); on error some segments may have
    /// been written.
    pub fn add_path(&mut self, number: OptionNumber, path: &str) -> Result<(), Error> {
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.is_empty() {
            return Ok(());
        }
        path.split('/').try_for_each(|segment| self.add_str(number, segment))
    }

    /// Appends Uri-Path segments; see [`add_path`](Self::add_path).
    ///
    /// # Errors
    /// As [`add_option`](Self::add_option).
    pub fn add_uri_path(&mut self, path: &str) -> Result<(), Error> {
        self.add_path(OptionNumber::UriPath, path)
    }

    /// Appends one Uri-Query option (`"ep=urn:imei:…"`).
    ///
    /// # Errors
    /// As [`add_option`](Self::add_option).
    pub fn add_uri_query(&mut self, query: &str) -> Result<(), Error> {
        self.add_str(OptionNumber::UriQuery, query)
    }

    /// Sets the payload (replacing one set before); an empty payload means
    /// no payload marker (RFC 7252 §3). No option can follow a payload.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`]; the previous payload is then dropped.
    pub fn set_payload(&mut self, data: &[u8]) -> Result<(), Error> {
        self.payload_mut(data.len())?.copy_from_slice(data);
        Ok(())
    }

    /// Reserves a payload of `len` bytes and returns it to be filled in place
    /// (its content is whatever was in the buffer). `len == 0` removes the
    /// payload and its marker.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`]; the previous payload is then dropped.
    pub fn payload_mut(&mut self, len: usize) -> Result<&mut [u8], Error> {
        self.payload_len = 0;
        if len == 0 {
            return Ok(&mut []);
        }
        let start = self.options_end;
        let end =
            start.checked_add(1).and_then(|s| s.checked_add(len)).ok_or(Error::BufferTooSmall)?;
        let (marker, payload) = self
            .buf
            .get_mut(start..end)
            .and_then(<[u8]>::split_first_mut)
            .ok_or(Error::BufferTooSmall)?;
        *marker = PAYLOAD_MARKER;
        self.payload_len = len;
        Ok(payload)
    }

    /// Shortens the payload to `len` bytes (0 removes the marker too).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `len` is longer than the current payload.
    pub fn truncate_payload(&mut self, len: usize) -> Result<(), Error> {
        if len > self.payload_len {
            return Err(Error::BufferTooSmall);
        }
        self.payload_len = len;
        Ok(())
    }

    /// Bytes written so far (header, token, options, marker and payload).
    #[expect(clippy::len_without_is_empty, reason = "never empty: header is written")]
    pub fn len(&self) -> usize {
        if self.payload_len == 0 {
            self.options_end
        } else {
            self.options_end + 1 + self.payload_len
        }
    }

    /// Bytes still free for options, marker and payload.
    pub fn available_space(&self) -> usize {
        self.buf.len().saturating_sub(self.len())
    }

    /// The message written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len()).unwrap_or(&[])
    }

    /// The message as a [`Repr`] (for tracing what is about to be sent).
    ///
    /// # Errors
    /// [`Error::EmptyWithContent`] for an Empty (0.00) message given a token,
    /// options or payload; the writer itself builds nothing else malformed.
    pub fn repr(&self) -> Result<Repr<'_>, Error> {
        Repr::decode(self.as_bytes())
    }

    /// Ends writing and returns the message bytes.
    pub fn finish(self) -> &'b mut [u8] {
        let len = self.len();
        let buf = self.buf;
        let (msg, _) = buf.split_at_mut_checked(len).unwrap_or((&mut [], &mut []));
        msg
    }

    /// Calls `f` with each option's number and mutable value, in order.
    pub fn mutate_options(&mut self, mut f: impl FnMut(OptionNumber, &mut [u8])) {
        let mut pos = self.token_end;
        let mut number = 0u16;
        loop {
            // Our own options: well formed by construction, so the walk ends
            // at options_end; stop defensively on anything else.
            let Some(region) = self.buf.get(pos..self.options_end) else {
                return;
            };
            let mut r = Reader::new(region);
            let Ok(Some((delta, value_len))) = option::read_header(&mut r) else {
                return;
            };
            let consumed = region.len() - r.len();
            let Some(n) = number.checked_add(delta) else {
                return;
            };
            number = n;
            let value_start = pos + consumed;
            let value_end = value_start + usize::from(value_len);
            match self.buf.get_mut(value_start..value_end) {
                Some(v) => f(OptionNumber::from(number), v),
                None => return,
            }
            pos = value_end;
        }
    }
}

impl coap_message::MinimalWritableMessage for MessageWriter<'_> {
    type Code = Code;
    type OptionNumber = OptionNumber;
    type AddOptionError = Error;
    type SetPayloadError = Error;
    type UnionError = Error;

    fn set_code(&mut self, code: Code) {
        MessageWriter::set_code(self, code);
    }

    fn add_option(&mut self, number: OptionNumber, value: &[u8]) -> Result<(), Error> {
        MessageWriter::add_option(self, number, value)
    }

    fn set_payload(&mut self, data: &[u8]) -> Result<(), Error> {
        MessageWriter::set_payload(self, data)
    }

    fn promote_to_mutable_writable_message(
        &mut self,
    ) -> Option<
        &mut impl coap_message::MutableWritableMessage<
            Code = Code,
            OptionNumber = OptionNumber,
            AddOptionError = Error,
            SetPayloadError = Error,
            UnionError = Error,
        >,
    > {
        Some(self)
    }
}

impl coap_message::MutableWritableMessage for MessageWriter<'_> {
    fn available_space(&self) -> usize {
        MessageWriter::available_space(self)
    }

    fn payload_mut_with_len(&mut self, len: usize) -> Result<&mut [u8], Error> {
        self.payload_mut(len)
    }

    fn truncate(&mut self, len: usize) -> Result<(), Error> {
        self.truncate_payload(len)
    }

    fn mutate_options<F>(&mut self, callback: F)
    where
        F: FnMut(OptionNumber, &mut [u8]),
    {
        MessageWriter::mutate_options(self, callback);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;

    #[test]
    fn options_out_of_order_or_after_payload_are_refused() {
        let mut buf = [0u8; 32];
        let mut w =
            MessageWriter::new(&mut buf, MessageType::Con, Code::Get, 1, Token::EMPTY).unwrap();
        w.add_uri_path("a").unwrap();
        assert_eq!(w.add_uint(OptionNumber::Observe, 0), Err(Error::OptionOutOfOrder));
        w.add_uri_path("b").unwrap();
        w.set_payload(b"x").unwrap();
        assert_eq!(w.add_uri_query("q"), Err(Error::OptionOutOfOrder));
        assert_eq!(w.finish(), [0x40, 1, 0, 1, 0xb1, b'a', 0x01, b'b', 0xff, b'x']);
    }

    #[test]
    fn full_buffer_is_an_error_and_keeps_earlier_options() {
        let mut buf = [0u8; 7];
        let mut w =
            MessageWriter::new(&mut buf, MessageType::Non, Code::Get, 1, Token::EMPTY).unwrap();
        w.add_uri_path("ab").unwrap();
        assert_eq!(w.add_uri_path("c"), Err(Error::BufferTooSmall));
        assert_eq!(w.set_payload(b"x"), Err(Error::BufferTooSmall));
        assert_eq!(w.as_bytes(), [0x50, 1, 0, 1, 0xb2, b'a', b'b']);
        let mut tiny = [0u8; 5];
        let tok = Token::new(&[1, 2]).unwrap();
        assert!(MessageWriter::new(&mut tiny, MessageType::Con, Code::Get, 1, tok).is_err());
    }

    #[test]
    fn errors_render_as_4_00_for_peer_faults_and_5_00_for_ours() {
        use coap_message::error::RenderableOnMinimal as _;
        let mut buf = [0u8; 16];
        let mut w =
            MessageWriter::new(&mut buf, MessageType::Ack, Code::Empty, 1, Token::EMPTY).unwrap();
        Error::BadOptionDelta.render(&mut w).unwrap();
        assert_eq!(w.repr().unwrap().code, Code::BadRequest);
        Error::BufferTooSmall.render(&mut w).unwrap();
        assert_eq!(w.repr().unwrap().code, Code::InternalServerError);
    }

    #[test]
    fn mutate_options_visits_each_value_in_place() {
        let mut buf = [0u8; 400];
        let mut w =
            MessageWriter::new(&mut buf, MessageType::Con, Code::Get, 1, Token::EMPTY).unwrap();
        w.add_uint(OptionNumber::Observe, 5).unwrap();
        w.add_uri_path("/x/yz").unwrap();
        w.add_option(OptionNumber::Unknown(2000), &[0; 300]).unwrap();
        let mut seen = [0u16; 4];
        let mut i = 0;
        w.mutate_options(|n, v| {
            seen[i] = n.raw();
            i += 1;
            v.fill(b'Q');
        });
        assert_eq!(seen[..i], [6, 11, 11, 2000][..i]);
        assert_eq!(i, 4);
        let repr = w.repr().unwrap();
        assert!(repr.options.iter().all(|o| o.value.iter().all(|&b| b == b'Q')));
    }
}
