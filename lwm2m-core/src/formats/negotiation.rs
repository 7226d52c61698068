//! Content-format negotiation (OMA-TS-LightweightM2M_Core 1.1 §7.1, §7.4;
//! RFC 7252 §5.10.4 Accept, §5.10.3 Content-Format).
//!
//! - A response format comes from the request's Accept option; without one,
//!   a single resource (instance) value goes as text/plain and anything
//!   larger in the caller's default (TLV for LwM2M 1.0 servers, SenML CBOR
//!   for 1.1). An Accept naming a format we cannot produce is 4.06.
//! - A request payload's Content-Format must be one we can decode, else 4.15.
//!
//! Nothing here panics.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::coap::numbers::{Code, ContentFormat};
use core::fmt;

/// A content format we cannot use for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NegotiationError {
    /// The Accept option asks for a format we cannot produce here: 4.06.
    NotAcceptable(ContentFormat),
    /// The request payload is in a format we cannot decode: 4.15.
    UnsupportedContentFormat(ContentFormat),
    /// A request with a payload but no Content-Format option: 4.00.
    MissingContentFormat,
}

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NegotiationError::NotAcceptable(c) => write!(f, "cannot produce {c}"),
            NegotiationError::UnsupportedContentFormat(c) => write!(f, "cannot decode {c}"),
            NegotiationError::MissingContentFormat => f.write_str("payload without Content-Format"),
        }
    }
}

impl core::error::Error for NegotiationError {}

impl From<NegotiationError> for Code {
    fn from(e: NegotiationError) -> Code {
        match e {
            NegotiationError::NotAcceptable(_) => Code::NotAcceptable,
            NegotiationError::UnsupportedContentFormat(_) => Code::UnsupportedContentFormat,
            NegotiationError::MissingContentFormat => Code::BadRequest,
        }
    }
}

/// `true` if [`super::encode`] can produce `format` for a target that is a
/// single value (`single`) or several values.
pub fn can_encode(format: ContentFormat, single: bool) -> bool {
    match format {
        ContentFormat::TextPlain | ContentFormat::OctetStream => single,
        ContentFormat::Lwm2mTlv
        | ContentFormat::SenmlJson
        | ContentFormat::SenmlCbor
        | ContentFormat::Lwm2mCbor => true,
        _ => false,
    }
}

/// `true` if [`super::Decoder`] can read `format`.
pub fn can_decode(format: ContentFormat) -> bool {
    matches!(
        format,
        ContentFormat::TextPlain
            | ContentFormat::OctetStream
            | ContentFormat::Lwm2mTlv
            | ContentFormat::SenmlJson
            | ContentFormat::SenmlCbor
            | ContentFormat::Lwm2mCbor
            | ContentFormat::Lwm2mJson
    )
}

/// The format of a Read/Observe response.
///
/// `single` is true when the target is one resource value (a single-instance
/// resource or a resource instance); `default_multiple` is the format for
/// everything else when the request has no Accept option.
///
/// # Errors
/// [`NegotiationError::NotAcceptable`] when `accept` cannot be produced.
pub fn response_format(
    accept: Option<ContentFormat>,
    single: bool,
    default_multiple: ContentFormat,
) -> Result<ContentFormat, NegotiationError> {
    let format = match accept {
        Some(f) => f,
        None if single => ContentFormat::TextPlain,
        None => default_multiple,
    };
    if can_encode(format, single) {
        Ok(format)
    } else {
        Err(NegotiationError::NotAcceptable(format))
    }
}

/// The format of a request payload (Write, Create, Execute arguments excluded).
///
/// # Errors
/// [`NegotiationError::MissingContentFormat`] without the option,
/// [`NegotiationError::UnsupportedContentFormat`] when it cannot be decoded.
pub fn request_format(
    content_format: Option<ContentFormat>,
) -> Result<ContentFormat, NegotiationError> {
    match content_format {
        None => Err(NegotiationError::MissingContentFormat),
        Some(f) if can_decode(f) => Ok(f),
        Some(f) => Err(NegotiationError::UnsupportedContentFormat(f)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn default_is_text_for_one_value_and_the_callers_choice_otherwise() {
        assert_eq!(
            response_format(None, true, ContentFormat::Lwm2mTlv),
            Ok(ContentFormat::TextPlain)
        );
        assert_eq!(
            response_format(None, false, ContentFormat::SenmlCbor),
            Ok(ContentFormat::SenmlCbor)
        );
        assert_eq!(
            response_format(Some(ContentFormat::SenmlJson), true, ContentFormat::Lwm2mTlv),
            Ok(ContentFormat::SenmlJson)
        );
    }

    #[test]
    fn unproducible_accept_is_4_06_and_undecodable_payload_4_15() {
        let e = response_format(Some(ContentFormat::TextPlain), false, ContentFormat::Lwm2mTlv);
        assert_eq!(e, Err(NegotiationError::NotAcceptable(ContentFormat::TextPlain)));
        assert_eq!(Code::from(e.unwrap_err()), Code::NotAcceptable);
        let e = response_format(Some(ContentFormat::Lwm2mJson), false, ContentFormat::Lwm2mTlv);
        assert_eq!(Code::from(e.unwrap_err()), Code::NotAcceptable);
        let e = response_format(Some(ContentFormat::Unknown(9999)), true, ContentFormat::Lwm2mTlv);
        assert_eq!(Code::from(e.unwrap_err()), Code::NotAcceptable);
        let e = request_format(Some(ContentFormat::Json)).unwrap_err();
        assert_eq!(Code::from(e), Code::UnsupportedContentFormat);
        assert_eq!(request_format(Some(ContentFormat::Lwm2mJson)), Ok(ContentFormat::Lwm2mJson));
        assert_eq!(Code::from(request_format(None).unwrap_err()), Code::BadRequest);
    }
}
