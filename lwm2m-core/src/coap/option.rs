//! CoAP options on the wire (RFC 7252 §3.1): the delta/length encoding with
//! its 13 (+1 byte) and 14 (+2 bytes) extensions, the validated option list of
//! a message, and the value formats of §3.2 (empty, opaque, uint, string).
//!
//! Guarantee: nothing here panics on any input. [`Options::split`] is the only
//! place that decides whether option bytes are well formed; an [`Options`]
//! value exists only for bytes it accepted, so iterating one cannot fail.
//!
//! Option numbers are [`OptionNumber`] from [`super::numbers`]; an unknown
//! number is data ([`OptionNumber::Unknown`]), not an error. Whether the
//! message may be processed with it (RFC 7252 §5.4.1) is asked with
//! [`Options::first_unknown_critical`].
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Error;
use super::numbers::OptionNumber;
use super::reader::Reader;
use core::fmt;
use core::ops::RangeInclusive;

/// The byte that ends the options and starts the payload (RFC 7252 §3).
pub const PAYLOAD_MARKER: u8 = 0xff;

/// Nibble value announcing one extension byte: value − 13 (RFC 7252 §3.1).
const EXT8: u8 = 13;
/// Nibble value announcing two extension bytes: value − 269 (RFC 7252 §3.1).
const EXT16: u8 = 14;
/// Smallest value carried with one extension byte.
const EXT8_BASE: u16 = 13;
/// Smallest value carried with two extension bytes.
const EXT16_BASE: u16 = 269;

/// One option of a message: its number and its raw value bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawOption<'a> {
    /// The option number.
    pub number: OptionNumber,
    /// The value as it is on the wire (no interpretation).
    pub value: &'a [u8],
}

impl<'a> RawOption<'a> {
    /// The value as an unsigned integer (RFC 7252 §3.2 "uint": big-endian,
    /// leading zero bytes allowed), or `None` if it does not fit in `u32`.
    pub fn value_uint(&self) -> Option<u32> {
        decode_uint(self.value)
    }

    /// The value as UTF-8 text (RFC 7252 §3.2 "string"), or `None`.
    pub fn value_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.value).ok()
    }
}

impl coap_message::MessageOption for RawOption<'_> {
    fn number(&self) -> u16 {
        self.number.raw()
    }

    fn value(&self) -> &[u8] {
        self.value
    }
}

/// The value format of an option (RFC 7252 §3.2, §5.10 table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValueFormat {
    /// Zero-length value (If-None-Match).
    Empty,
    /// Opaque bytes (If-Match, ETag).
    Opaque,
    /// Non-negative integer, big-endian, minimal length.
    Uint,
    /// UTF-8 text.
    String,
}

/// Format and permitted value length of a registered option (RFC 7252 §5.10
/// table 4, RFC 7641 §2 for Observe, RFC 7959 §2.1 and §4 for Block and
/// Size, RFC 7967 §2 for No-Response); `None` for an unknown number.
pub fn value_format(number: OptionNumber) -> Option<(ValueFormat, RangeInclusive<usize>)> {
    use OptionNumber as N;
    use ValueFormat as F;
    Some(match number {
        N::IfMatch => (F::Opaque, 0..=8),
        N::UriHost => (F::String, 1..=255),
        N::ETag => (F::Opaque, 1..=8),
        N::IfNoneMatch => (F::Empty, 0..=0),
        N::Observe => (F::Uint, 0..=3),
        N::UriPort => (F::Uint, 0..=2),
        N::LocationPath => (F::String, 0..=255),
        N::UriPath => (F::String, 0..=255),
        N::ContentFormat => (F::Uint, 0..=2),
        N::MaxAge => (F::Uint, 0..=4),
        N::UriQuery => (F::String, 0..=255),
        N::Accept => (F::Uint, 0..=2),
        N::LocationQuery => (F::String, 0..=255),
        N::Block2 => (F::Uint, 0..=3),
        N::Block1 => (F::Uint, 0..=3),
        N::Size2 => (F::Uint, 0..=4),
        N::ProxyUri => (F::String, 1..=1034),
        N::ProxyScheme => (F::String, 1..=255),
        N::Size1 => (F::Uint, 0..=4),
        N::NoResponse => (F::Uint, 0..=1),
        N::Unknown(_) => return None,
    })
}

/// Decodes a uint option value (RFC 7252 §3.2): big-endian; leading zero
/// bytes are accepted (a sender only SHOULD use the minimal length).
/// `None` if the value does not fit in `u32`.
pub fn decode_uint(value: &[u8]) -> Option<u32> {
    let significant = match value.iter().position(|&b| b != 0) {
        Some(i) => value.get(i..)?,
        None => return Some(0),
    };
    if significant.len() > 4 {
        return None;
    }
    Some(significant.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// A uint option value in its minimal encoding (RFC 7252 §3.2: "A sender
/// SHOULD represent the integer with as few bytes as possible, i.e., without
/// leading zero-bytes"; 0 is the empty value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UintValue {
    be: [u8; 4],
    start: u8,
}

impl UintValue {
    /// The minimal big-endian encoding of `value`.
    pub const fn new(value: u32) -> Self {
        UintValue {
            be: value.to_be_bytes(),
            // 0..=4 leading zero bytes; all four for 0, which encodes as empty.
            start: (value.leading_zeros() / 8) as u8,
        }
    }

    /// The encoded bytes (empty for 0).
    pub fn as_bytes(&self) -> &[u8] {
        self.be.get(usize::from(self.start)..).unwrap_or(&[])
    }
}

/// Number of bytes of extension for an option delta or length value.
fn ext_len(v: u16) -> usize {
    if v < EXT8_BASE {
        0
    } else if v < EXT16_BASE {
        1
    } else {
        2
    }
}

/// The nibble announcing `v`.
fn nibble(v: u16) -> u8 {
    match ext_len(v) {
        0 => v as u8 & 0x0f,
        1 => EXT8,
        _ => EXT16,
    }
}

/// Bytes the option with this delta and value length takes on the wire.
pub fn encoded_len(delta: u16, value_len: u16) -> usize {
    1 + ext_len(delta) + ext_len(value_len) + usize::from(value_len)
}

/// Writes one option (delta from the previous number, value) at the start of
/// `out` and returns how many bytes it took.
///
/// # Errors
/// [`Error::BufferTooSmall`] if `out` cannot hold it, or the value is longer
/// than 65535 bytes (longer values exist in the format, but not in a datagram).
pub fn encode(out: &mut [u8], delta: u16, value: &[u8]) -> Result<usize, Error> {
    let value_len = u16::try_from(value.len()).map_err(|_| Error::BufferTooSmall)?;
    let total = encoded_len(delta, value_len);
    let out = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    let (first, rest) = out.split_first_mut().ok_or(Error::BufferTooSmall)?;
    *first = (nibble(delta) << 4) | nibble(value_len);
    let rest = put_ext(rest, delta)?;
    let rest = put_ext(rest, value_len)?;
    rest.copy_from_slice(value);
    Ok(total)
}

fn put_ext(out: &mut [u8], v: u16) -> Result<&mut [u8], Error> {
    match ext_len(v) {
        0 => Ok(out),
        1 => {
            let (b, rest) = out.split_first_mut().ok_or(Error::BufferTooSmall)?;
            *b = (v - EXT8_BASE) as u8;
            Ok(rest)
        }
        _ => {
            let (b, rest) = out.split_first_chunk_mut::<2>().ok_or(Error::BufferTooSmall)?;
            *b = (v - EXT16_BASE).to_be_bytes();
            Ok(rest)
        }
    }
}

/// Reads the extension of a delta or length nibble.
fn read_ext(r: &mut Reader<'_>, nib: u8, reserved: Error) -> Result<u16, Error> {
    match nib {
        0..=12 => Ok(u16::from(nib)),
        EXT8 => r.u8().map(|b| u16::from(b) + EXT8_BASE).ok_or(Error::Truncated),
        EXT16 => r
            .u16_be()
            .ok_or(Error::Truncated)?
            .checked_add(EXT16_BASE)
            // 0xffff + 269 does not fit a u16: such a delta overflows any
            // option number and such a length exceeds any datagram.
            .ok_or(reserved_or_overflow(reserved)),
        _ => Err(reserved),
    }
}

fn reserved_or_overflow(reserved: Error) -> Error {
    match reserved {
        Error::BadOptionDelta => Error::OptionNumberOverflow,
        _ => Error::Truncated,
    }
}

/// Reads one option header: `(delta, value length)`. `Ok(None)` at the end of
/// the options (end of input or the payload marker, which is left unread).
pub(crate) fn read_header(r: &mut Reader<'_>) -> Result<Option<(u16, u16)>, Error> {
    let Some(head) = r.peek() else {
        return Ok(None);
    };
    if head == PAYLOAD_MARKER {
        return Ok(None);
    }
    r.u8();
    let delta = read_ext(r, head >> 4, Error::BadOptionDelta)?;
    let len = read_ext(r, head & 0x0f, Error::BadOptionLength)?;
    Ok(Some((delta, len)))
}

/// Reads one option after `prev` from `r`; `Ok(None)` at the end of options.
fn read_option<'a>(r: &mut Reader<'a>, prev: u16) -> Result<Option<RawOption<'a>>, Error> {
    let Some((delta, len)) = read_header(r)? else {
        return Ok(None);
    };
    let number = prev.checked_add(delta).ok_or(Error::OptionNumberOverflow)?;
    let value = r.take(usize::from(len)).ok_or(Error::Truncated)?;
    Ok(Some(RawOption { number: OptionNumber::from(number), value }))
}

/// The options of a message, as their wire bytes (from the first option
/// header up to, not including, the payload marker), known to be well formed.
///
/// Two `Options` are equal when their bytes are: the delta/length encoding has
/// exactly one form per value, so that is equality of the option lists (values
/// compare as raw bytes: a uint with a leading zero differs from one without).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options<'a> {
    bytes: &'a [u8],
}

impl<'a> Options<'a> {
    /// No options.
    pub const EMPTY: Options<'static> = Options { bytes: &[] };

    /// Splits what follows the token into options and payload (RFC 7252 §3).
    ///
    /// Returns the options and the payload (empty if there is no marker).
    ///
    /// # Errors
    /// [`Error::BadOptionDelta`], [`Error::BadOptionLength`] (reserved nibble
    /// 15), [`Error::Truncated`], [`Error::OptionNumberOverflow`], and
    /// [`Error::EmptyPayload`] for a marker with nothing after it.
    pub fn split(bytes: &'a [u8]) -> Result<(Options<'a>, &'a [u8]), Error> {
        let mut r = Reader::new(bytes);
        let mut number = 0u16;
        while let Some(opt) = read_option(&mut r, number)? {
            number = opt.number.raw();
        }
        let options_len = bytes.len() - r.len();
        let options = Options { bytes: bytes.get(..options_len).ok_or(Error::Truncated)? };
        match r.u8() {
            None => Ok((options, &[])),
            Some(_marker) if r.is_empty() => Err(Error::EmptyPayload),
            Some(_marker) => Ok((options, r.rest())),
        }
    }

    /// Parses a complete option list (no payload marker allowed).
    ///
    /// # Errors
    /// As [`Options::split`]; a payload marker gives [`Error::Truncated`]
    /// unless it is the last byte ([`Error::EmptyPayload`]).
    pub fn parse(bytes: &'a [u8]) -> Result<Options<'a>, Error> {
        match Options::split(bytes)? {
            (opts, []) => Ok(opts),
            _ => Err(Error::Truncated),
        }
    }

    /// The wire bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// No options at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The options in wire (ascending number) order.
    pub fn iter(&self) -> OptionsIter<'a> {
        OptionsIter { reader: Reader::new(self.bytes), number: 0 }
    }

    /// The first option with this number.
    pub fn get(&self, number: OptionNumber) -> Option<RawOption<'a>> {
        self.iter().find(|o| o.number == number)
    }

    /// Every option with this number, in order (Uri-Path segments, …).
    pub fn get_all(&self, number: OptionNumber) -> impl Iterator<Item = RawOption<'a>> + 'a {
        self.iter().filter(move |o| o.number == number)
    }

    /// The first option with this number as a uint; `None` if absent or
    /// longer than 4 significant bytes.
    pub fn get_uint(&self, number: OptionNumber) -> Option<u32> {
        self.get(number).and_then(|o| o.value_uint())
    }

    /// The first critical option (odd number, RFC 7252 §5.4.1) this codec
    /// does not recognise: an unknown number, or a registered option whose
    /// value length is outside the range of RFC 7252 §5.10 ("an option
    /// value whose length is outside the defined range MUST be treated like
    /// an unrecognized option", §5.4.3).
    ///
    /// The endpoint answers a CON request carrying one with 4.02 Bad Option
    /// and rejects any other message carrying one (§5.4.1). Unrecognised
    /// elective options are simply ignored by the layers above.
    pub fn first_unknown_critical(&self) -> Option<OptionNumber> {
        self.iter().find(|o| o.number.is_critical() && !is_recognised(o)).map(|o| o.number)
    }

    /// Like [`first_unknown_critical`](Self::first_unknown_critical) but with
    /// the caller's own list of understood critical options (a server that does
    /// not proxy does not understand Proxy-Uri, say).
    pub fn first_critical_not_in(&self, understood: &[OptionNumber]) -> Option<OptionNumber> {
        self.iter()
            .find(|o| {
                o.number.is_critical() && !(understood.contains(&o.number) && is_recognised(o))
            })
            .map(|o| o.number)
    }
}

/// A registered option with a value length inside its range.
fn is_recognised(o: &RawOption<'_>) -> bool {
    value_format(o.number).is_some_and(|(_, range)| range.contains(&o.value.len()))
}

impl<'a> IntoIterator for Options<'a> {
    type Item = RawOption<'a>;
    type IntoIter = OptionsIter<'a>;
    fn into_iter(self) -> OptionsIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Options<'a> {
    type Item = RawOption<'a>;
    type IntoIter = OptionsIter<'a>;
    fn into_iter(self) -> OptionsIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Options`]. Over bytes that [`Options::split`] did not
/// accept (a message view built with `new_unchecked`) it stops at the first
/// malformed option instead of failing.
#[derive(Debug, Clone)]
pub struct OptionsIter<'a> {
    reader: Reader<'a>,
    number: u16,
}

impl<'a> OptionsIter<'a> {
    pub(crate) fn over(bytes: &'a [u8]) -> Self {
        OptionsIter { reader: Reader::new(bytes), number: 0 }
    }
}

impl<'a> Iterator for OptionsIter<'a> {
    type Item = RawOption<'a>;

    fn next(&mut self) -> Option<RawOption<'a>> {
        match read_option(&mut self.reader, self.number) {
            Ok(Some(opt)) => {
                self.number = opt.number.raw();
                Some(opt)
            }
            Ok(None) | Err(_) => {
                // Fuse: an error or the marker ends the list for good.
                self.reader = Reader::new(&[]);
                None
            }
        }
    }
}

impl fmt::Display for RawOption<'_> {
    /// `Uri-Path:"rd"`, `Content-Format:40`, `ETag:0x1a2b`, `Block2:2/1/64`
    /// (num/more/size), `Option(65000):0x00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.number)?;
        let format = value_format(self.number).map(|(fmt, _)| fmt);
        match (format, self.value_uint()) {
            (Some(ValueFormat::Uint), Some(v))
                if matches!(self.number, OptionNumber::Block1 | OptionNumber::Block2) =>
            {
                // RFC 7959 §2.2: NUM | M | SZX, size = 2^(SZX+4); SZX 7 is reserved.
                let szx = v & 0x7;
                write!(f, "{}/{}/", v >> 4, (v >> 3) & 1)?;
                if szx == 7 { f.write_str("bad-szx") } else { write!(f, "{}", 16u32 << szx) }
            }
            (Some(ValueFormat::Uint), Some(v)) => write!(f, "{v}"),
            (Some(ValueFormat::String), _) if self.value_str().is_some() => {
                write!(f, "{:?}", self.value_str().unwrap_or_default())
            }
            (Some(ValueFormat::Empty), _) if self.value.is_empty() => f.write_str("-"),
            _ => write_hex(f, self.value),
        }
    }
}

/// `0x` and lowercase hex digits, or `-` for no bytes.
pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    if bytes.is_empty() {
        return f.write_str("-");
    }
    f.write_str("0x")?;
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

#[cfg(feature = "defmt")]
impl defmt::Format for RawOption<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}:{=[u8]:x}", self.number, self.value)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<RawOption<'_>, Error> {
        let (opts, payload) = Options::split(bytes)?;
        assert!(payload.is_empty());
        let mut it = opts.iter();
        let o = it.next().unwrap();
        assert_eq!(it.next(), None);
        Ok(o)
    }

    #[test]
    fn delta_and_length_nibbles_0_to_12_are_the_value() {
        // Uri-Path (11) "rd": delta 11, length 2.
        let o = one(&[0xb2, b'r', b'd']).unwrap();
        assert_eq!(o.number, OptionNumber::UriPath);
        assert_eq!(o.value, b"rd");
    }

    #[test]
    fn nibble_13_takes_one_extension_byte_minus_13() {
        // RFC 7252 §3.1: 13 → "An 8-bit unsigned integer ... indicates the
        // Option Delta minus 13". Delta 13 + 10 = 23 (Block2), length 13 + 0.
        let mut bytes = [0u8; 3 + 13];
        bytes[..3].copy_from_slice(&[0xdd, 10, 0]);
        let o = one(&bytes).unwrap();
        assert_eq!(o.number, OptionNumber::Block2);
        assert_eq!(o.value.len(), 13);
        let mut out = [0xa5; 16];
        assert_eq!(encode(&mut out, 23, &[0; 13]).unwrap(), 16);
        assert_eq!(out, bytes);
    }

    #[test]
    fn nibble_14_takes_two_extension_bytes_minus_269() {
        // Delta 269 + 0x0102 = 527, length 269 exactly (ext 0x0000).
        let mut bytes = [0u8; 5 + 269];
        bytes[..5].copy_from_slice(&[0xee, 0x01, 0x02, 0x00, 0x00]);
        let o = one(&bytes).unwrap();
        assert_eq!(o.number, OptionNumber::Unknown(527));
        assert_eq!(o.value.len(), 269);
        let mut out = [0xa5; 5 + 269];
        assert_eq!(encode(&mut out, 527, &[0; 269]).unwrap(), out.len());
        assert_eq!(out, bytes);
    }

    #[test]
    fn extension_boundaries_12_13_268_269_encode_as_rfc_7252_says() {
        let mut out = [0u8; 8];
        encode(&mut out, 12, &[]).unwrap();
        assert_eq!(out[0], 0xc0);
        encode(&mut out, 13, &[]).unwrap();
        assert_eq!(out[..2], [0xd0, 0x00]);
        encode(&mut out, 268, &[]).unwrap();
        assert_eq!(out[..2], [0xd0, 0xff]);
        encode(&mut out, 269, &[]).unwrap();
        assert_eq!(out[..3], [0xe0, 0x00, 0x00]);
        encode(&mut out, 65535, &[]).unwrap();
        assert_eq!(out[..3], [0xe0, 0xfe, 0xf2]);
    }

    #[test]
    fn reserved_delta_nibble_15_is_a_format_error() {
        assert_eq!(Options::split(&[0xf0]), Err(Error::BadOptionDelta));
        assert_eq!(Options::split(&[0xf1, 0]), Err(Error::BadOptionDelta));
    }

    #[test]
    fn reserved_length_nibble_15_is_a_format_error() {
        assert_eq!(Options::split(&[0xbf, 0, 0]), Err(Error::BadOptionLength));
    }

    #[test]
    fn truncated_option_value_or_extension_is_an_error() {
        assert_eq!(Options::split(&[0xb3, b'r', b'd']), Err(Error::Truncated));
        assert_eq!(Options::split(&[0xd0]), Err(Error::Truncated));
        assert_eq!(Options::split(&[0xe0, 0x00]), Err(Error::Truncated));
        assert_eq!(Options::split(&[0x0d]), Err(Error::Truncated));
    }

    #[test]
    fn option_numbers_above_65535_are_rejected() {
        // 65535 then delta 1.
        assert_eq!(Options::split(&[0xe0, 0xfe, 0xf2, 0x10]), Err(Error::OptionNumberOverflow));
        // Delta extension 0xffff + 269.
        assert_eq!(Options::split(&[0xe0, 0xff, 0xff]), Err(Error::OptionNumberOverflow));
    }

    #[test]
    fn payload_marker_splits_and_must_be_followed_by_payload() {
        let (opts, payload) = Options::split(&[0x60, 0xff, b'x']).unwrap();
        assert_eq!(opts.get(OptionNumber::Observe).unwrap().value, b"");
        assert_eq!(payload, b"x");
        assert_eq!(Options::split(&[0x60, 0xff]), Err(Error::EmptyPayload));
    }

    #[test]
    fn uint_values_are_minimal_big_endian() {
        assert_eq!(UintValue::new(0).as_bytes(), b"");
        assert_eq!(UintValue::new(1).as_bytes(), [1]);
        assert_eq!(UintValue::new(255).as_bytes(), [0xff]);
        assert_eq!(UintValue::new(256).as_bytes(), [1, 0]);
        assert_eq!(UintValue::new(11542).as_bytes(), [0x2d, 0x16]);
        assert_eq!(UintValue::new(0x01_0000).as_bytes(), [1, 0, 0]);
        assert_eq!(UintValue::new(u32::MAX).as_bytes(), [0xff; 4]);
        for v in [0, 1, 255, 256, 65535, 65536, 0xff_ffff, 0x100_0000, u32::MAX] {
            assert_eq!(decode_uint(UintValue::new(v).as_bytes()), Some(v));
        }
    }

    #[test]
    fn uint_decoding_accepts_leading_zeros_and_rejects_more_than_32_bits() {
        assert_eq!(decode_uint(&[0, 0, 0, 0, 0, 7]), Some(7));
        assert_eq!(decode_uint(&[1, 0, 0, 0, 0]), None);
    }

    #[test]
    fn unknown_critical_options_are_found_and_elective_ones_are_not() {
        // Option 9 (unassigned, critical), then 2000 (elective unknown).
        let mut buf = [0u8; 16];
        let n = encode(&mut buf, 9, b"x").unwrap();
        let m = encode(&mut buf[n..], 2000 - 9, b"").unwrap();
        let opts = Options::parse(&buf[..n + m]).unwrap();
        assert_eq!(opts.first_unknown_critical(), Some(OptionNumber::Unknown(9)));
        let mut alone = [0u8; 4];
        let k = encode(&mut alone, 2000, b"").unwrap();
        let opts = Options::parse(&alone[..k]).unwrap();
        assert_eq!(opts.get(OptionNumber::Unknown(2000)).unwrap().value, b"");
        assert_eq!(opts.first_unknown_critical(), None);
    }

    #[test]
    fn known_critical_option_with_a_length_out_of_range_counts_as_unknown() {
        // Uri-Host (3) with an empty value: RFC 7252 §5.10 requires 1..255.
        let opts = Options::parse(&[0x30]).unwrap();
        assert_eq!(opts.first_unknown_critical(), Some(OptionNumber::UriHost));
        // Block2 (23) with 4 bytes: RFC 7959 allows 0..3.
        let opts = Options::parse(&[0xd4, 10, 0, 0, 0, 0]).unwrap();
        assert_eq!(opts.first_unknown_critical(), Some(OptionNumber::Block2));
        assert_eq!(opts.first_critical_not_in(&[OptionNumber::Block2]), Some(OptionNumber::Block2));
        let opts = Options::parse(&[0xd3, 10, 0, 0, 0]).unwrap();
        assert_eq!(opts.first_critical_not_in(&[OptionNumber::Block2]), None);
        assert_eq!(opts.first_critical_not_in(&[OptionNumber::Block1]), Some(OptionNumber::Block2));
    }
}
