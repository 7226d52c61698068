//! Every CoAP number of the workspace, in one module: codes, option numbers
//! and content formats (RFC 7252 §12, RFC 7959 §6, RFC 7641 §7, the IANA
//! "CoRE Parameters" registry as `coap-numbers` carries it, and the OMA LwM2M
//! content formats).
//!
//! The values come from the `coap-numbers` crate; nothing here is typed from
//! a table by hand. Each registry is an enum with an `Unknown(n)` variant and
//! lossless conversions both ways: an unknown number is data, not an error —
//! whether it is acceptable (a critical option, say) is decided one layer up.
//!
//! Nothing here panics.

use coap_numbers::{code as c, content_format as cf, option as o};
use core::fmt;

/// Declares a registry enum with an `Unknown(raw)` variant and lossless
/// `From` conversions both ways (smoltcp's `enum_with_unknown!` idea).
macro_rules! enum_with_unknown {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($raw:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A number this registry does not name (kept as it came).
            Unknown($raw),
        }

        impl From<$raw> for $name {
            fn from(raw: $raw) -> Self {
                match raw {
                    // `const { .. }`: every value is computed at compile time, so a
                    // registry lookup (and its failure) never happens at run time.
                    $( x if x == const { $value } => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $raw {
            fn from(v: $name) -> $raw {
                match v {
                    $( $name::$variant => const { $value }, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

enum_with_unknown! {
    /// A CoAP message code (RFC 7252 §3, §12.1): class `c` and detail `dd`,
    /// written `c.dd`.
    pub enum Code(u8) {
        /// 0.00 Empty message (ACK, RST, ping).
        Empty = c::EMPTY,
        /// 0.01 GET.
        Get = c::GET,
        /// 0.02 POST.
        Post = c::POST,
        /// 0.03 PUT.
        Put = c::PUT,
        /// 0.04 DELETE.
        Delete = c::DELETE,
        /// 0.05 FETCH (RFC 8132), LwM2M Read-Composite and Observe-Composite.
        Fetch = c::FETCH,
        /// 0.06 PATCH (RFC 8132).
        Patch = c::PATCH,
        /// 0.07 iPATCH (RFC 8132), LwM2M Write-Composite.
        IPatch = c::IPATCH,
        /// 2.01 Created.
        Created = c::CREATED,
        /// 2.02 Deleted.
        Deleted = c::DELETED,
        /// 2.03 Valid.
        Valid = c::VALID,
        /// 2.04 Changed.
        Changed = c::CHANGED,
        /// 2.05 Content.
        Content = c::CONTENT,
        /// 2.31 Continue (RFC 7959 §2.9.1).
        Continue = c::CONTINUE,
        /// 4.00 Bad Request.
        BadRequest = c::BAD_REQUEST,
        /// 4.01 Unauthorized.
        Unauthorized = c::UNAUTHORIZED,
        /// 4.02 Bad Option.
        BadOption = c::BAD_OPTION,
        /// 4.03 Forbidden.
        Forbidden = c::FORBIDDEN,
        /// 4.04 Not Found.
        NotFound = c::NOT_FOUND,
        /// 4.05 Method Not Allowed.
        MethodNotAllowed = c::METHOD_NOT_ALLOWED,
        /// 4.06 Not Acceptable.
        NotAcceptable = c::NOT_ACCEPTABLE,
        /// 4.08 Request Entity Incomplete (RFC 7959 §2.9.2).
        RequestEntityIncomplete = c::REQUEST_ENTITY_INCOMPLETE,
        /// 4.09 Conflict.
        Conflict = c::CONFLICT,
        /// 4.12 Precondition Failed.
        PreconditionFailed = c::PRECONDITION_FAILED,
        /// 4.13 Request Entity Too Large.
        RequestEntityTooLarge = c::REQUEST_ENTITY_TOO_LARGE,
        /// 4.15 Unsupported Content-Format.
        UnsupportedContentFormat = c::UNSUPPORTED_CONTENT_FORMAT,
        /// 5.00 Internal Server Error.
        InternalServerError = c::INTERNAL_SERVER_ERROR,
        /// 5.01 Not Implemented.
        NotImplemented = c::NOT_IMPLEMENTED,
        /// 5.02 Bad Gateway.
        BadGateway = c::BAD_GATEWAY,
        /// 5.03 Service Unavailable.
        ServiceUnavailable = c::SERVICE_UNAVAILABLE,
        /// 5.04 Gateway Timeout.
        GatewayTimeout = c::GATEWAY_TIMEOUT,
        /// 5.05 Proxying Not Supported.
        ProxyingNotSupported = c::PROXYING_NOT_SUPPORTED,
    }
}

impl Code {
    /// The raw byte.
    pub fn raw(self) -> u8 {
        self.into()
    }

    /// The class, `c` of `c.dd` (0 request, 2 success, 4 client error, 5 server error).
    pub fn class(self) -> u8 {
        self.raw() >> 5
    }

    /// The detail, `dd` of `c.dd`.
    pub fn detail(self) -> u8 {
        self.raw() & 0x1f
    }

    /// 0.00: the code of an empty message.
    pub fn is_empty(self) -> bool {
        self.raw() == 0
    }

    /// A request code (0.01–0.31).
    pub fn is_request(self) -> bool {
        matches!(self.raw(), 0x01..=0x1f)
    }

    /// A response code (2.xx, 4.xx, 5.xx).
    pub fn is_response(self) -> bool {
        matches!(self.class(), 2 | 4 | 5)
    }

    /// A success response (2.xx).
    pub fn is_success(self) -> bool {
        self.class() == 2
    }

    /// The registered name ("Content", "Not Found"), if any.
    pub fn name(self) -> Option<&'static str> {
        c::to_name(self.raw())
    }
}

impl fmt::Display for Code {
    /// `2.05`, or `2.05 Content` with the alternate flag (`{:#}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.class(), self.detail())?;
        match (f.alternate(), self.name()) {
            (true, Some(name)) => write!(f, " {name}"),
            _ => Ok(()),
        }
    }
}

enum_with_unknown! {
    /// A CoAP option number (RFC 7252 §5.10, §12.2; RFC 7641; RFC 7959).
    pub enum OptionNumber(u16) {
        /// If-Match.
        IfMatch = o::IF_MATCH,
        /// Uri-Host.
        UriHost = o::URI_HOST,
        /// ETag.
        ETag = o::ETAG,
        /// If-None-Match.
        IfNoneMatch = o::IF_NONE_MATCH,
        /// Observe (RFC 7641).
        Observe = o::OBSERVE,
        /// Uri-Port.
        UriPort = o::URI_PORT,
        /// Location-Path.
        LocationPath = o::LOCATION_PATH,
        /// Uri-Path.
        UriPath = o::URI_PATH,
        /// Content-Format.
        ContentFormat = o::CONTENT_FORMAT,
        /// Max-Age.
        MaxAge = o::MAX_AGE,
        /// Uri-Query.
        UriQuery = o::URI_QUERY,
        /// Accept.
        Accept = o::ACCEPT,
        /// Location-Query.
        LocationQuery = o::LOCATION_QUERY,
        /// Block2 (RFC 7959).
        Block2 = o::BLOCK2,
        /// Block1 (RFC 7959).
        Block1 = o::BLOCK1,
        /// Size2 (RFC 7959).
        Size2 = o::SIZE2,
        /// Proxy-Uri.
        ProxyUri = o::PROXY_URI,
        /// Proxy-Scheme.
        ProxyScheme = o::PROXY_SCHEME,
        /// Size1.
        Size1 = o::SIZE1,
        /// No-Response (RFC 7967).
        NoResponse = o::NO_RESPONSE,
    }
}

impl OptionNumber {
    /// The raw number.
    pub fn raw(self) -> u16 {
        self.into()
    }

    /// Critical options (odd numbers, RFC 7252 §5.4.1) must be understood:
    /// an unrecognised critical option in a CON request gets 4.02 Bad Option,
    /// in a CON response or NON message the message is rejected.
    pub fn is_critical(self) -> bool {
        self.raw() & 1 == 1
    }

    /// The registered name ("Uri-Path"), if any.
    pub fn name(self) -> Option<&'static str> {
        o::to_name(self.raw())
    }
}

impl fmt::Display for OptionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Option({})", self.raw()),
        }
    }
}

/// A content-format number looked up by its media type in `coap-numbers`.
/// Only ever evaluated in `const` context (see `enum_with_unknown!`), so a
/// media type the registry lacks fails the build, never the device.
const fn media(media_type: &str) -> u16 {
    match cf::from_str(media_type) {
        Some(n) => n,
        None => panic!("media type missing from the coap-numbers registry"),
    }
}

enum_with_unknown! {
    /// A content format (CoAP Content-Format / Accept values) that LwM2M uses
    /// (OMA-TS-LightweightM2M_Core 1.1 §7).
    pub enum ContentFormat(u16) {
        /// 0: `text/plain;charset=utf-8`.
        TextPlain = media("text/plain; charset=utf-8"),
        /// 40: `application/link-format` (RFC 6690).
        LinkFormat = media("application/link-format"),
        /// 42: `application/octet-stream`.
        OctetStream = media("application/octet-stream"),
        /// 50: `application/json`.
        Json = media("application/json"),
        /// 60: `application/cbor`.
        Cbor = media("application/cbor"),
        /// 110: `application/senml+json` (RFC 8428).
        SenmlJson = media("application/senml+json"),
        /// 112: `application/senml+cbor` (RFC 8428).
        SenmlCbor = media("application/senml+cbor"),
        /// 11542: `application/vnd.oma.lwm2m+tlv`.
        Lwm2mTlv = media("application/vnd.oma.lwm2m+tlv"),
        /// 11543: `application/vnd.oma.lwm2m+json` (LwM2M 1.0 JSON).
        Lwm2mJson = media("application/vnd.oma.lwm2m+json"),
        /// 11544: `application/vnd.oma.lwm2m+cbor` (LwM2M 1.1 CBOR).
        Lwm2mCbor = media("application/vnd.oma.lwm2m+cbor"),
    }
}

impl ContentFormat {
    /// The raw number.
    pub fn raw(self) -> u16 {
        self.into()
    }

    /// The media type ("application/senml+cbor"), if registered.
    pub fn media_type(self) -> Option<&'static str> {
        cf::to_str(self.raw())
    }
}

impl fmt::Display for ContentFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.media_type() {
            Some(m) => f.write_str(m),
            None => write!(f, "content-format {}", self.raw()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_round_trips_every_byte() {
        for raw in 0..=u8::MAX {
            assert_eq!(u8::from(Code::from(raw)), raw);
        }
    }

    #[test]
    fn code_class_and_detail_follow_rfc7252_section_3() {
        // RFC 7252 §12.1.2: 2.05 Content is 0x45, 4.04 Not Found is 0x84.
        assert_eq!(Code::from(0x45), Code::Content);
        assert_eq!(Code::from(0x84), Code::NotFound);
        assert_eq!((Code::NotFound.class(), Code::NotFound.detail()), (4, 4));
        assert!(Code::Get.is_request() && !Code::Get.is_response());
        assert!(Code::Empty.is_empty());
    }

    #[test]
    fn code_displays_as_c_dd() {
        extern crate std;
        use std::format;
        assert_eq!(format!("{}", Code::Content), "2.05");
        assert_eq!(format!("{:#}", Code::ServiceUnavailable), "5.03 Service Unavailable");
        assert_eq!(format!("{}", Code::from(0x31)), "1.17");
    }

    #[test]
    fn option_numbers_match_rfc_and_criticality_is_the_low_bit() {
        assert_eq!(OptionNumber::UriPath.raw(), 11);
        assert_eq!(OptionNumber::Block2.raw(), 23);
        assert_eq!(OptionNumber::Block1.raw(), 27);
        assert_eq!(OptionNumber::Observe.raw(), 6);
        assert!(OptionNumber::UriPath.is_critical());
        assert!(!OptionNumber::ContentFormat.is_critical());
        assert_eq!(OptionNumber::from(9999), OptionNumber::Unknown(9999));
        for raw in 0..=u16::MAX {
            assert_eq!(u16::from(OptionNumber::from(raw)), raw);
        }
    }

    #[test]
    fn lwm2m_content_formats_have_their_registered_numbers() {
        // OMA-TS-LightweightM2M_Core 1.1, Table 7.2-1.
        assert_eq!(ContentFormat::TextPlain.raw(), 0);
        assert_eq!(ContentFormat::LinkFormat.raw(), 40);
        assert_eq!(ContentFormat::OctetStream.raw(), 42);
        assert_eq!(ContentFormat::SenmlJson.raw(), 110);
        assert_eq!(ContentFormat::SenmlCbor.raw(), 112);
        assert_eq!(ContentFormat::Lwm2mTlv.raw(), 11542);
        assert_eq!(ContentFormat::Lwm2mJson.raw(), 11543);
        assert_eq!(ContentFormat::Lwm2mCbor.raw(), 11544);
        assert_eq!(ContentFormat::from(11542), ContentFormat::Lwm2mTlv);
        assert_eq!(ContentFormat::from(1), ContentFormat::Unknown(1));
    }
}
