//! LwM2M content formats (OMA-TS-LightweightM2M_Core 1.1 §7.4, and §7.4.7 of
//! the 1.2 TS for LwM2M CBOR): text/plain, opaque, CoRE link format, TLV,
//! SenML JSON, SenML CBOR, LwM2M CBOR, and LwM2M JSON (reading only).
//!
//! # Encoding: a streaming walk into a byte window
//!
//! An encoder never builds a tree. The caller walks its data in path order
//! and hands each value to an [`Encoder`] (`write(path, value)`); the encoder
//! writes straight into the caller's buffer through a [`Window`].
//!
//! A `Window` is the resumable part: it receives the *whole* logical encoding
//! but keeps only the bytes `[offset, offset + buf.len())` of it, counting the
//! rest. To produce block `n` of size `s` of a block-wise Read (RFC 7959
//! Block2), walk the same data again with `Window::at(buf, n * s)`; the
//! returned [`Chunk`] says how many bytes landed and whether more follow.
//! The only requirement is that the data does not change between walks (the
//! CoAP layer pins that with an ETag, RFC 7959 §2.4). A walk may stop early
//! once [`Window::is_full`] reports that bytes beyond the window were produced.
//!
//! Formats whose containers carry their length in front (TLV object
//! instances and multiple resources, the record count of a SenML CBOR array)
//! need two walks: one that measures, one that emits. [`encode`] runs both
//! for you, for every format, from one walking closure:
//!
//! ```
//! use lwm2m_core::formats::{encode, FormatError, Window};
//! use lwm2m_core::coap::numbers::ContentFormat;
//! use lwm2m_core::{path::Path, value::Value};
//!
//! let base = Path::instance(3, 0).unwrap();
//! let mut buf = [0u8; 64];
//! let chunk = encode(ContentFormat::Lwm2mTlv, &base, Window::new(&mut buf), |enc| {
//!     enc.write(&Path::resource(3, 0, 9)?, &Value::Integer(100))?;
//!     enc.write(&Path::resource(3, 0, 10)?, &Value::Integer(15))?;
//!     Ok::<(), FormatError>(())
//! })
//! .unwrap();
//! assert_eq!(&buf[..chunk.len], &[0xC1, 0x09, 0x64, 0xC1, 0x0A, 0x0F]);
//! ```
//!
//! # Decoding: iterators over `(Path, Value)`
//!
//! Every decoder is an iterator of `Result<(Path, Value<'a>), DecodeError>`
//! borrowing from the payload. Formats that do not carry types (TLV,
//! text/plain) ask a [`TypeResolver`] for the declared type of each path;
//! self-describing formats use it to refine ("a number" → Time). Without a
//! type, TLV values come out as `Opaque` and text as `String`.
//!
//! # Guarantee
//! Nothing in this module panics on any input; every decoder has a fuzz
//! target (`fuzz/fuzz_targets/`). Errors convert into the CoAP response code
//! to send (`From<_> for Code`).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cbor;
mod json;
pub mod link;
pub mod lwm2m_cbor;
pub mod lwm2m_json;
pub mod negotiation;
pub mod opaque;
mod reader;
pub mod senml;
pub mod senml_cbor;
pub mod senml_json;
pub mod text;
pub mod tlv;
mod window;

pub use negotiation::{NegotiationError, request_format, response_format};
pub use window::{Chunk, Window};

use crate::coap::numbers::{Code, ContentFormat};
use crate::path::{Path, PathError};
use crate::value::{DataType, Value, ValueError};
use core::fmt;

/// Receives the values of a walk, in path order, and encodes them.
pub trait Encoder {
    /// Encodes one value at `path`.
    ///
    /// # Errors
    /// [`EncodeError`] when the format cannot carry this value at this path.
    fn write(&mut self, path: &Path, value: &Value<'_>) -> Result<(), EncodeError>;
}

/// Tells a decoder the declared type of a resource (from the object model).
pub trait TypeResolver {
    /// The declared type at `path` (a resource or resource instance), if known.
    fn data_type(&self, path: &Path) -> Option<DataType>;
}

impl<F: Fn(&Path) -> Option<DataType>> TypeResolver for F {
    fn data_type(&self, path: &Path) -> Option<DataType> {
        self(path)
    }
}

/// A [`TypeResolver`] that knows nothing: decoders fall back to what the
/// format itself says.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTypes;

impl TypeResolver for NoTypes {
    fn data_type(&self, _: &Path) -> Option<DataType> {
        None
    }
}

/// Why an encoder refused a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The path is not the request path or below it.
    OutsideBase,
    /// The format cannot represent a path at this depth for this request
    /// (TLV of the root, text/plain of an instance).
    Level,
    /// A single-value format (text/plain, opaque) was given a second value.
    MultipleValues,
    /// The format cannot carry this data type (opaque in text/plain, a string
    /// in application/octet-stream).
    UnsupportedType,
    /// A NaN or infinite float, which JSON cannot carry.
    NonFiniteFloat,
    /// More length-prefixed containers than [`tlv::MAX_CONTAINERS`].
    TooManyContainers,
    /// A container longer than the format can express (TLV: 16 MiB).
    TooLong,
    /// The emitting walk differed from the measuring walk (the data changed
    /// between the two walks of [`encode`]).
    WalkChanged,
    /// The walk produced no value, and the format needs one (text/plain, opaque).
    Empty,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::OutsideBase => "path outside the request path",
            EncodeError::Level => "path level not representable in this format",
            EncodeError::MultipleValues => "single-value format given several values",
            EncodeError::UnsupportedType => "data type not representable in this format",
            EncodeError::NonFiniteFloat => "non-finite float",
            EncodeError::TooManyContainers => "too many length-prefixed containers",
            EncodeError::TooLong => "container too long for the format",
            EncodeError::WalkChanged => "data changed between measuring and emitting walks",
            EncodeError::Empty => "no value to encode",
        })
    }
}

impl core::error::Error for EncodeError {}

impl From<PathError> for EncodeError {
    /// A walk that builds an invalid path is outside any request path.
    fn from(_: PathError) -> EncodeError {
        EncodeError::OutsideBase
    }
}

impl From<EncodeError> for Code {
    /// The requested format cannot carry the data: 4.06 Not Acceptable
    /// (TS §5.4: "the Client … responds 4.06 if it cannot represent the
    /// target in the requested Content-Format"); a walk that changed or
    /// overflowed fixed capacity is our fault: 5.00.
    fn from(e: EncodeError) -> Code {
        match e {
            EncodeError::TooManyContainers | EncodeError::WalkChanged | EncodeError::TooLong => {
                Code::InternalServerError
            }
            _ => Code::NotAcceptable,
        }
    }
}

/// Why a payload could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// The payload ended inside an element.
    Truncated,
    /// Not the syntax of the format.
    Syntax,
    /// A structure the format allows but not here (a TLV resource instance
    /// outside a multiple resource, a record without a value).
    Unexpected,
    /// Text that is not UTF-8.
    Utf8,
    /// A path that is not a valid LwM2M path.
    Path(PathError),
    /// A path outside the request path.
    OutsideBase,
    /// A value that does not fit its declared type.
    Value(ValueError),
    /// Nesting deeper than the decoder supports.
    TooDeep,
    /// The scratch buffer for unescaped strings is full.
    ScratchFull,
    /// A valid construct this decoder does not implement (a CBOR feature,
    /// a SenML field that must be understood).
    Unsupported,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("payload truncated"),
            DecodeError::Syntax => f.write_str("syntax error"),
            DecodeError::Unexpected => f.write_str("unexpected element"),
            DecodeError::Utf8 => f.write_str("invalid UTF-8"),
            DecodeError::Path(e) => write!(f, "bad path: {e}"),
            DecodeError::OutsideBase => f.write_str("path outside the request path"),
            DecodeError::Value(e) => write!(f, "bad value: {e}"),
            DecodeError::TooDeep => f.write_str("nesting too deep"),
            DecodeError::ScratchFull => f.write_str("scratch buffer full"),
            DecodeError::Unsupported => f.write_str("unsupported construct"),
        }
    }
}

impl core::error::Error for DecodeError {}

impl From<PathError> for DecodeError {
    fn from(e: PathError) -> DecodeError {
        DecodeError::Path(e)
    }
}

impl From<ValueError> for DecodeError {
    fn from(e: ValueError) -> DecodeError {
        DecodeError::Value(e)
    }
}

impl From<core::str::Utf8Error> for DecodeError {
    fn from(_: core::str::Utf8Error) -> DecodeError {
        DecodeError::Utf8
    }
}

impl From<DecodeError> for Code {
    /// A malformed payload is 4.00 Bad Request; strings too long for the
    /// scratch space are 4.13 Request Entity Too Large.
    fn from(e: DecodeError) -> Code {
        match e {
            DecodeError::ScratchFull => Code::RequestEntityTooLarge,
            _ => Code::BadRequest,
        }
    }
}

/// Any content-format failure, for callers that handle them in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FormatError {
    /// The format cannot be used for this request.
    Negotiation(NegotiationError),
    /// The data cannot be encoded in the chosen format.
    Encode(EncodeError),
    /// The payload cannot be decoded.
    Decode(DecodeError),
    /// A path built while walking was invalid.
    Path(PathError),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Negotiation(e) => e.fmt(f),
            FormatError::Encode(e) => e.fmt(f),
            FormatError::Decode(e) => e.fmt(f),
            FormatError::Path(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for FormatError {}

impl From<NegotiationError> for FormatError {
    fn from(e: NegotiationError) -> Self {
        FormatError::Negotiation(e)
    }
}

impl From<EncodeError> for FormatError {
    fn from(e: EncodeError) -> Self {
        FormatError::Encode(e)
    }
}

impl From<DecodeError> for FormatError {
    fn from(e: DecodeError) -> Self {
        FormatError::Decode(e)
    }
}

impl From<PathError> for FormatError {
    fn from(e: PathError) -> Self {
        FormatError::Path(e)
    }
}

impl From<FormatError> for Code {
    /// 4.06 / 4.15 for negotiation, 4.00 for bad payloads and paths, as each
    /// inner error maps.
    fn from(e: FormatError) -> Code {
        match e {
            FormatError::Negotiation(e) => e.into(),
            FormatError::Encode(e) => e.into(),
            FormatError::Decode(e) => e.into(),
            FormatError::Path(e) => e.into(),
        }
    }
}

/// Encodes one walk of the caller's data in `format`, for a request on `base`,
/// into `out`; runs the walk twice for formats that need a measuring pass
/// (TLV, SenML CBOR).
///
/// `walk` must produce the same values, in path order, each time it is
/// called. It may return early (with `Ok`) once `out` is full.
///
/// # Errors
/// [`NegotiationError::NotAcceptable`] (as `E`) when `format` has no encoder,
/// any [`EncodeError`] the format raises, or the walk's own error.
pub fn encode<E, F>(
    format: ContentFormat,
    base: &Path,
    out: Window<'_>,
    walk: F,
) -> Result<Chunk, E>
where
    E: From<EncodeError> + From<NegotiationError>,
    F: FnMut(&mut dyn Encoder) -> Result<(), E>,
{
    let mut walk = walk;
    match format {
        ContentFormat::TextPlain => {
            let mut enc = text::TextEncoder::new(out);
            walk(&mut enc)?;
            Ok(enc.finish()?)
        }
        ContentFormat::OctetStream => {
            let mut enc = opaque::OpaqueEncoder::new(out);
            walk(&mut enc)?;
            Ok(enc.finish()?)
        }
        ContentFormat::Lwm2mTlv => {
            let mut plan = tlv::Plan::new();
            let mut m = tlv::TlvEncoder::measure(base, &mut plan);
            walk(&mut m)?;
            m.finish()?;
            let mut enc = tlv::TlvEncoder::emit(base, &plan, out);
            walk(&mut enc)?;
            Ok(enc.finish()?)
        }
        ContentFormat::SenmlJson => {
            let mut enc = senml_json::SenmlJsonEncoder::new(base, out);
            walk(&mut enc)?;
            Ok(enc.finish())
        }
        ContentFormat::SenmlCbor => {
            let mut count = senml_cbor::RecordCounter::default();
            walk(&mut count)?;
            let mut enc = senml_cbor::SenmlCborEncoder::new(base, count.records(), out);
            walk(&mut enc)?;
            Ok(enc.finish()?)
        }
        ContentFormat::Lwm2mCbor => {
            let mut enc = lwm2m_cbor::Lwm2mCborEncoder::new(base, out);
            walk(&mut enc)?;
            Ok(enc.finish())
        }
        other => Err(NegotiationError::NotAcceptable(other).into()),
    }
}

/// A decoder for any supported request format: an iterator of
/// `Result<(Path, Value<'a>), DecodeError>`. After the first error the
/// iterator ends.
pub enum Decoder<'a, R: TypeResolver> {
    /// text/plain.
    Text(text::TextDecoder<'a, R>),
    /// application/octet-stream.
    Opaque(opaque::OpaqueDecoder<'a>),
    /// TLV.
    Tlv(tlv::TlvDecoder<'a, R>),
    /// SenML JSON.
    SenmlJson(senml_json::SenmlJsonDecoder<'a, R>),
    /// SenML CBOR.
    SenmlCbor(senml_cbor::SenmlCborDecoder<'a, R>),
    /// LwM2M CBOR.
    Lwm2mCbor(lwm2m_cbor::Lwm2mCborDecoder<'a, R>),
    /// LwM2M JSON (1.0).
    Lwm2mJson(lwm2m_json::Lwm2mJsonDecoder<'a, R>),
}

impl<'a, R: TypeResolver> Decoder<'a, R> {
    /// A decoder for a request payload of `format` sent to `base`.
    ///
    /// `scratch` holds JSON strings that contain escapes (other strings
    /// borrow from the payload); pass `&mut []` to refuse escaped strings.
    ///
    /// # Errors
    /// [`NegotiationError::UnsupportedContentFormat`] (4.15) when no decoder exists.
    pub fn new(
        format: ContentFormat,
        base: &Path,
        payload: &'a [u8],
        scratch: &'a mut [u8],
        types: R,
    ) -> Result<Self, NegotiationError> {
        Ok(match format {
            ContentFormat::TextPlain => Decoder::Text(text::TextDecoder::new(base, payload, types)),
            ContentFormat::OctetStream => {
                Decoder::Opaque(opaque::OpaqueDecoder::new(base, payload))
            }
            ContentFormat::Lwm2mTlv => Decoder::Tlv(tlv::TlvDecoder::new(base, payload, types)),
            ContentFormat::SenmlJson => {
                Decoder::SenmlJson(senml_json::SenmlJsonDecoder::new(base, payload, scratch, types))
            }
            ContentFormat::SenmlCbor => {
                Decoder::SenmlCbor(senml_cbor::SenmlCborDecoder::new(base, payload, types))
            }
            ContentFormat::Lwm2mCbor => {
                Decoder::Lwm2mCbor(lwm2m_cbor::Lwm2mCborDecoder::new(base, payload, types))
            }
            ContentFormat::Lwm2mJson => {
                Decoder::Lwm2mJson(lwm2m_json::Lwm2mJsonDecoder::new(base, payload, scratch, types))
            }
            other => return Err(NegotiationError::UnsupportedContentFormat(other)),
        })
    }
}

impl<'a, R: TypeResolver> Iterator for Decoder<'a, R> {
    type Item = Result<(Path, Value<'a>), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Decoder::Text(d) => d.next(),
            Decoder::Opaque(d) => d.next(),
            Decoder::Tlv(d) => d.next(),
            Decoder::SenmlJson(d) => d.next(),
            Decoder::SenmlCbor(d) => d.next(),
            Decoder::Lwm2mCbor(d) => d.next(),
            Decoder::Lwm2mJson(d) => d.next(),
        }
    }
}

/// Applies the declared type (if any) to a value a self-describing format
/// decoded.
fn typed<'a, R: TypeResolver>(
    types: &R,
    path: &Path,
    v: Value<'a>,
) -> Result<Value<'a>, DecodeError> {
    match types.data_type(path) {
        Some(t) => Ok(v.coerce(t)?),
        None => Ok(v),
    }
}

/// Turns one decoding step into an iterator item; the flag says the
/// iterator is finished (end of payload, or after the first error).
fn step_item<T>(r: Result<Option<T>, DecodeError>) -> (Option<Result<T, DecodeError>>, bool) {
    match r {
        Ok(Some(x)) => (Some(Ok(x)), false),
        Ok(None) => (None, true),
        Err(e) => (Some(Err(e)), true),
    }
}

/// A decoded number as `f64` (SenML and LwM2M JSON times).
fn number_as_f64(v: Value<'_>) -> Result<f64, DecodeError> {
    match v {
        #[expect(clippy::cast_precision_loss, reason = "SenML times are floats")]
        Value::Integer(n) => Ok(n as f64),
        #[expect(clippy::cast_precision_loss, reason = "SenML times are floats")]
        Value::UnsignedInteger(n) => Ok(n as f64),
        Value::Float(x) => Ok(x),
        _ => Err(DecodeError::Syntax),
    }
}

/// `path` relative to `base`, checked to lie at or below it.
fn check_below(base: &Path, path: &Path) -> Result<(), EncodeError> {
    if base.contains(path) { Ok(()) } else { Err(EncodeError::OutsideBase) }
}
