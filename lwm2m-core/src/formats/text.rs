//! `text/plain;charset=utf-8` (content format 0) for one resource value
//! (OMA-TS-LightweightM2M_Core 1.1 §7.4.1): decimal numbers, `1`/`0`
//! booleans, `O:I` object links, raw UTF-8 strings. Opaque values are not
//! representable (use application/octet-stream).
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{Chunk, DecodeError, EncodeError, Encoder, TypeResolver, Window};
use crate::path::{Level, Path};
use crate::value::{DataType, Value, ValueError, parse_objlnk};
use core::fmt::Write;

/// Encodes exactly one value as text.
#[derive(Debug)]
pub struct TextEncoder<'b> {
    out: Window<'b>,
    written: bool,
}

impl<'b> TextEncoder<'b> {
    /// An encoder writing into `out`.
    pub fn new(out: Window<'b>) -> TextEncoder<'b> {
        TextEncoder { out, written: false }
    }

    /// Ends the encoding.
    ///
    /// # Errors
    /// [`EncodeError::Empty`] if no value was written.
    pub fn finish(self) -> Result<Chunk, EncodeError> {
        if !self.written {
            return Err(EncodeError::Empty);
        }
        Ok(self.out.finish())
    }
}

/// Writes the text form of `v` (shared with the link-format and JSON writers).
pub(crate) fn write_text(out: &mut Window<'_>, v: &Value<'_>) -> Result<(), EncodeError> {
    // Window's fmt::Write never fails; the results below are always Ok.
    let _ = match v {
        Value::Integer(n) | Value::Time(n) => write!(out, "{n}"),
        Value::UnsignedInteger(n) => write!(out, "{n}"),
        Value::Float(x) => {
            if !x.is_finite() {
                return Err(EncodeError::NonFiniteFloat);
            }
            // `{:?}` is the shortest text that parses back to the same f64,
            // and keeps a `.0` or an exponent so it still reads as a float.
            write!(out, "{x:?}")
        }
        Value::Boolean(b) => out.write_str(if *b { "1" } else { "0" }),
        Value::String(s) | Value::Corelnk(s) => out.write_str(s),
        Value::Objlnk(o, i) => write!(out, "{o}:{i}"),
        Value::None => Ok(()),
        Value::Opaque(_) => return Err(EncodeError::UnsupportedType),
    };
    Ok(())
}

impl Encoder for TextEncoder<'_> {
    fn write(&mut self, _path: &Path, value: &Value<'_>) -> Result<(), EncodeError> {
        if self.written {
            return Err(EncodeError::MultipleValues);
        }
        write_text(&mut self.out, value)?;
        self.written = true;
        Ok(())
    }
}

/// Parses the text form of a value of type `t`.
///
/// # Errors
/// [`DecodeError::Value`] when the text is not a value of that type.
pub fn parse_text(s: &str, t: DataType) -> Result<Value<'_>, DecodeError> {
    let bad = DecodeError::Value(ValueError::TypeMismatch);
    Ok(match t {
        DataType::String => Value::String(s),
        DataType::Corelnk => Value::Corelnk(s),
        DataType::Integer => Value::Integer(parse_int(s).ok_or(bad)?),
        DataType::Time => Value::Time(parse_int(s).ok_or(bad)?),
        DataType::UnsignedInteger => {
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad);
            }
            Value::UnsignedInteger(s.parse().map_err(|_| bad)?)
        }
        DataType::Float => {
            let ok = !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
            if !ok {
                return Err(bad);
            }
            let x: f64 = s.parse().map_err(|_| bad)?;
            if !x.is_finite() {
                return Err(DecodeError::Value(ValueError::OutOfRange));
            }
            Value::Float(x)
        }
        DataType::Boolean => match s {
            "1" => Value::Boolean(true),
            "0" => Value::Boolean(false),
            _ => return Err(bad),
        },
        DataType::Objlnk => {
            let (o, i) = parse_objlnk(s).ok_or(bad)?;
            Value::Objlnk(o, i)
        }
        DataType::None => {
            if !s.is_empty() {
                return Err(bad);
            }
            Value::None
        }
        DataType::Opaque => return Err(DecodeError::Value(ValueError::TypeMismatch)),
    })
}

/// A decimal i64: optional `-`, digits only.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Decodes a text/plain payload: one `(base, value)` item, typed by the
/// resolver (a `String` without a type).
#[derive(Debug)]
pub struct TextDecoder<'a, R> {
    base: Path,
    payload: Option<&'a [u8]>,
    types: R,
}

impl<'a, R: TypeResolver> TextDecoder<'a, R> {
    /// A decoder for a payload sent to `base` (a resource or resource instance).
    pub fn new(base: &Path, payload: &'a [u8], types: R) -> TextDecoder<'a, R> {
        TextDecoder { base: *base, payload: Some(payload), types }
    }
}

impl<'a, R: TypeResolver> Iterator for TextDecoder<'a, R> {
    type Item = Result<(Path, Value<'a>), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        let payload = self.payload.take()?;
        if !matches!(self.base.level(), Level::Resource | Level::ResourceInstance) {
            return Some(Err(DecodeError::Unexpected));
        }
        let r = core::str::from_utf8(payload).map_err(DecodeError::from).and_then(|s| {
            match self.types.data_type(&self.base) {
                Some(t) => parse_text(s, t),
                None => Ok(Value::String(s)),
            }
        });
        Some(r.map(|v| (self.base, v)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    fn enc(v: Value<'_>) -> Result<([u8; 48], usize), EncodeError> {
        let mut buf = [0xa5u8; 48];
        let mut e = TextEncoder::new(Window::new(&mut buf));
        e.write(&Path::resource(3, 0, 0).unwrap(), &v)?;
        let n = e.finish()?.len;
        Ok((buf, n))
    }

    #[test]
    fn text_plain_values_follow_ts_7_4_1() {
        let cases: [(Value<'_>, &str); 9] = [
            (Value::Integer(-1367491215), "-1367491215"),
            (Value::UnsignedInteger(u64::MAX), "18446744073709551615"),
            (Value::Float(3.5), "3.5"),
            (Value::Float(-2.0), "-2.0"),
            (Value::Boolean(true), "1"),
            (Value::Boolean(false), "0"),
            (Value::String("Open Mobile Alliance"), "Open Mobile Alliance"),
            (Value::Objlnk(66, 65535), "66:65535"),
            (Value::Time(1367491215), "1367491215"),
        ];
        for (v, text) in cases {
            let (buf, n) = enc(v).unwrap();
            assert_eq!(&buf[..n], text.as_bytes());
            assert_eq!(parse_text(text, v.data_type()).unwrap(), v);
        }
    }

    #[test]
    fn text_refuses_opaque_nan_and_a_second_value() {
        assert_eq!(enc(Value::Opaque(b"x")).unwrap_err(), EncodeError::UnsupportedType);
        assert_eq!(enc(Value::Float(f64::NAN)).unwrap_err(), EncodeError::NonFiniteFloat);
        let mut buf = [0u8; 8];
        let mut e = TextEncoder::new(Window::new(&mut buf));
        let p = Path::resource(1, 0, 1).unwrap();
        e.write(&p, &Value::Integer(1)).unwrap();
        assert_eq!(e.write(&p, &Value::Integer(2)), Err(EncodeError::MultipleValues));
    }

    #[test]
    fn text_decoding_checks_the_declared_type() {
        let p = Path::resource(1, 0, 1).unwrap();
        let int = |_: &Path| Some(DataType::Integer);
        let mut d = TextDecoder::new(&p, b"86400", int);
        assert_eq!(d.next().unwrap().unwrap(), (p, Value::Integer(86400)));
        assert!(d.next().is_none());
        for bad in [&b"12a"[..], b"", b"+1", b" 1", b"99999999999999999999"] {
            assert!(TextDecoder::new(&p, bad, int).next().unwrap().is_err(), "{bad:?}");
        }
        let boolean = |_: &Path| Some(DataType::Boolean);
        assert!(TextDecoder::new(&p, b"true", boolean).next().unwrap().is_err());
        assert_eq!(
            TextDecoder::new(&p, &[0xff], super::super::NoTypes).next().unwrap(),
            Err(DecodeError::Utf8)
        );
        let inst = Path::instance(1, 0).unwrap();
        assert_eq!(
            TextDecoder::new(&inst, b"1", int).next().unwrap(),
            Err(DecodeError::Unexpected)
        );
    }
}
