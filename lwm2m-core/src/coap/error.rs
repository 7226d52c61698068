//! The error of the CoAP wire layer: why bytes are not a CoAP message, or why
//! a message does not fit a caller's buffer (RFC 7252 §3, §3.1, §4.1).
//!
//! Every variant is a fact about the input, `Copy`, and names no heap. What a
//! format error means for the exchange (ignore it, answer RST, or 4.00) is the
//! endpoint's decision (RFC 7252 §4.2, §4.3); [`Error::is_format_error`] tells
//! it which errors came from the peer.

use core::fmt;

/// A CoAP message could not be decoded or encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before the header, the token, an option header or an
    /// option value they announce.
    Truncated,
    /// The version field is not 1 (RFC 7252 §3: "Implementations of this
    /// specification MUST set this field to 1 (01 binary)"; other versions
    /// are silently ignored).
    BadVersion,
    /// Token length 9–15: "Lengths 9-15 are reserved, MUST NOT be sent, and
    /// MUST be processed as a message format error" (RFC 7252 §3).
    BadTokenLength,
    /// Option delta nibble 15 in a byte that is not the payload marker 0xFF
    /// (RFC 7252 §3.1: reserved, "MUST be processed as a message format error").
    BadOptionDelta,
    /// Option length nibble 15 (RFC 7252 §3.1: reserved, message format error).
    BadOptionLength,
    /// The option deltas add up to an option number above 65535.
    OptionNumberOverflow,
    /// A payload marker 0xFF followed by no payload (RFC 7252 §3: "MUST be
    /// processed as a message format error").
    EmptyPayload,
    /// Code 0.00 with a token, options or payload (RFC 7252 §4.1: an Empty
    /// message "MUST NOT be sent" with anything after the message ID, and "MUST
    /// be processed as a message format error").
    EmptyWithContent,
    /// The caller's buffer is too small for the message being written.
    BufferTooSmall,
    /// Options must be written in ascending number order, and before the
    /// payload: an option with a lower number than the previous one, or after
    /// the payload, was refused.
    OptionOutOfOrder,
}

impl Error {
    /// `true` for errors in bytes that came from a peer (a "message format
    /// error" in RFC 7252 terms), `false` for errors in writing our own.
    pub fn is_format_error(self) -> bool {
        !matches!(self, Error::BufferTooSmall | Error::OptionOutOfOrder)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "CoAP message truncated",
            Error::BadVersion => "CoAP version is not 1",
            Error::BadTokenLength => "CoAP token length above 8",
            Error::BadOptionDelta => "CoAP option delta uses reserved nibble 15",
            Error::BadOptionLength => "CoAP option length uses reserved nibble 15",
            Error::OptionNumberOverflow => "CoAP option number above 65535",
            Error::EmptyPayload => "CoAP payload marker without payload",
            Error::EmptyWithContent => "CoAP empty message (0.00) with token, options or payload",
            Error::BufferTooSmall => "buffer too small for CoAP message",
            Error::OptionOutOfOrder => "CoAP option out of order",
        })
    }
}

impl core::error::Error for Error {}

/// For the `coap-message` union error: our code and option number
/// conversions cannot fail.
impl From<core::convert::Infallible> for Error {
    fn from(never: core::convert::Infallible) -> Error {
        match never {}
    }
}

/// Rendering a write error into a response (the `coap-message` error contract):
/// a peer's format error becomes 4.00 Bad Request, our own failure to write
/// becomes 5.00 Internal Server Error. No diagnostic payload is added, so the
/// rendering itself cannot run out of room after the code is set.
impl coap_message::error::RenderableOnMinimal for Error {
    type Error<IE: coap_message::error::RenderableOnMinimal + fmt::Debug> = IE;

    fn render<M: coap_message::MinimalWritableMessage>(
        self,
        message: &mut M,
    ) -> Result<(), Self::Error<M::UnionError>> {
        use coap_message::Code as _;
        let code = if self.is_format_error() {
            coap_numbers::code::BAD_REQUEST
        } else {
            coap_numbers::code::INTERNAL_SERVER_ERROR
        };
        let code = M::Code::new(code).map_err(M::convert_code_error)?;
        message.set_code(code);
        Ok(())
    }
}
