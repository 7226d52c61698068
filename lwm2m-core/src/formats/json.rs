//! A small JSON lexer (RFC 8259) for the SenML JSON and LwM2M JSON readers,
//! and the JSON string writer of their encoders. Strings borrow from the
//! payload unless they hold escapes, which are undone (with
//! `serde_json_core::str::EscapedStr`) into a caller-supplied scratch buffer.
//!
//! Nothing here panics on any input; nesting of skipped values is bounded.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{DecodeError, Window};
use crate::value::Value;
use serde_json_core::str::{EscapedStr, EscapedStringFragment};

/// Deepest nesting of an ignored value.
const MAX_SKIP_DEPTH: usize = 8;

/// A JSON number lexeme.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Number<'a> {
    text: &'a str,
    integral: bool,
}

impl<'a> Number<'a> {
    /// Integer (i64, else u64) when written without fraction or exponent,
    /// Float otherwise.
    pub(crate) fn value(self) -> Result<Value<'a>, DecodeError> {
        if self.integral {
            if let Ok(n) = self.text.parse::<i64>() {
                return Ok(Value::Integer(n));
            }
            if let Ok(n) = self.text.parse::<u64>() {
                return Ok(Value::UnsignedInteger(n));
            }
        }
        let x: f64 = self.text.parse().map_err(|_| DecodeError::Syntax)?;
        // "1e999" parses to infinity, which no LwM2M Float can hold.
        if !x.is_finite() {
            return Err(DecodeError::Value(crate::value::ValueError::OutOfRange));
        }
        Ok(Value::Float(x))
    }

    /// The number as `f64` (times).
    pub(crate) fn as_f64(self) -> Result<f64, DecodeError> {
        super::number_as_f64(self.value()?)
    }
}

/// Cursor over a JSON text.
#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    scratch: &'a mut [u8],
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(s: &'a [u8], scratch: &'a mut [u8]) -> Lexer<'a> {
        Lexer { s, pos: 0, scratch }
    }

    fn byte(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// The next non-whitespace byte, not consumed.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.byte() {
            self.pos += 1;
        }
        self.byte()
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, b: u8) -> Result<(), DecodeError> {
        match self.peek() {
            Some(x) if x == b => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(DecodeError::Syntax),
            None => Err(DecodeError::Truncated),
        }
    }

    /// `true` when only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// A string, unescaped.
    pub(crate) fn string(&mut self) -> Result<&'a str, DecodeError> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.byte() {
                None => return Err(DecodeError::Truncated),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 2;
                }
                Some(0..0x20) => return Err(DecodeError::Syntax),
                Some(_) => self.pos += 1,
            }
        }
        let raw = self.s.get(start..self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        let raw = core::str::from_utf8(raw)?;
        if !escaped {
            return Ok(raw);
        }
        let scratch = core::mem::take(&mut self.scratch);
        let mut n = 0usize;
        for frag in EscapedStr(raw).fragments() {
            let mut tmp = [0u8; 4];
            let piece: &[u8] = match frag.map_err(|_| DecodeError::Syntax)? {
                EscapedStringFragment::NotEscaped(s) => s.as_bytes(),
                EscapedStringFragment::Escaped(c) => c.encode_utf8(&mut tmp).as_bytes(),
            };
            let end = n.checked_add(piece.len()).ok_or(DecodeError::ScratchFull)?;
            scratch.get_mut(n..end).ok_or(DecodeError::ScratchFull)?.copy_from_slice(piece);
            n = end;
        }
        let (head, tail) = scratch.split_at_mut(n.min(scratch.len()));
        self.scratch = tail;
        Ok(core::str::from_utf8(head)?)
    }

    /// Decodes base64 text into scratch space.
    pub(crate) fn base64(&mut self, text: &str) -> Result<&'a [u8], DecodeError> {
        let scratch = core::mem::take(&mut self.scratch);
        let n = decode_base64(text, scratch)?;
        let (head, tail) = scratch.split_at_mut(n.min(scratch.len()));
        self.scratch = tail;
        Ok(head)
    }

    /// A number.
    pub(crate) fn number(&mut self) -> Result<Number<'a>, DecodeError> {
        self.peek();
        let start = self.pos;
        let mut integral = true;
        if self.byte() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |l: &mut Lexer<'a>| {
            let s = l.pos;
            while let Some(b'0'..=b'9') = l.byte() {
                l.pos += 1;
            }
            if l.pos == s { Err(DecodeError::Syntax) } else { Ok(()) }
        };
        digits(self)?;
        if self.byte() == Some(b'.') {
            integral = false;
            self.pos += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.byte() {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.byte() {
                self.pos += 1;
            }
            digits(self)?;
        }
        let text = self.s.get(start..self.pos).ok_or(DecodeError::Truncated)?;
        Ok(Number { text: core::str::from_utf8(text)?, integral })
    }

    /// `true`, `false` or `null` (as `None`).
    pub(crate) fn literal(&mut self) -> Result<Option<bool>, DecodeError> {
        self.peek();
        let rest = self.s.get(self.pos..).unwrap_or(&[]);
        for (word, v) in [(&b"true"[..], Some(true)), (b"false", Some(false)), (b"null", None)] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Ok(v);
            }
        }
        if word_prefix(rest) { Err(DecodeError::Truncated) } else { Err(DecodeError::Syntax) }
    }

    /// Skips any value (for fields we ignore).
    pub(crate) fn skip_value(&mut self, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_SKIP_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        match self.peek() {
            None => Err(DecodeError::Truncated),
            Some(b'"') => self.string_skip(),
            Some(b'{') => {
                self.pos += 1;
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    self.string_skip()?;
                    self.expect(b':')?;
                    self.skip_value(depth + 1)?;
                    if !self.eat(b',') {
                        return self.expect(b'}');
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.eat(b',') {
                        return self.expect(b']');
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(|_| ()),
            Some(_) => self.literal().map(|_| ()),
        }
    }

    fn string_skip(&mut self) -> Result<(), DecodeError> {
        self.expect(b'"')?;
        loop {
            match self.byte() {
                None => return Err(DecodeError::Truncated),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
    }
}

fn word_prefix(rest: &[u8]) -> bool {
    !rest.is_empty() && [&b"true"[..], b"false", b"null"].iter().any(|w| w.starts_with(rest))
}

/// Writes `s` as a JSON string (quotes and escapes; non-ASCII stays UTF-8).
pub(crate) fn write_string(out: &mut Window<'_>, s: &str) {
    out.put_u8(b'"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..0x20 => None,
            _ => continue,
        };
        out.put(s.as_bytes().get(start..i).unwrap_or(&[]));
        match esc {
            Some(e) => out.put(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
                out.put(&[b'\\', b'u', b'0', b'0', hi, lo]);
            }
        }
        start = i + 1;
    }
    out.put(s.as_bytes().get(start..).unwrap_or(&[]));
    out.put_u8(b'"');
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Writes `data` as base64url without padding (RFC 4648 §5, as RFC 8428
/// §4.3 asks for "vd").
pub(crate) fn write_base64url(out: &mut Window<'_>, data: &[u8]) {
    let sym = |i: u32| B64URL.get((i & 63) as usize).copied().unwrap_or(b'A');
    for chunk in data.chunks(3) {
        let b = |k: usize| u32::from(chunk.get(k).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        let quad = [sym(n >> 18), sym(n >> 12), sym(n >> 6), sym(n)];
        out.put(quad.get(..chunk.len() + 1).unwrap_or(&quad));
    }
}

/// Decodes base64url or base64 (padding optional) into `dst`, returning the
/// bytes written. `dst` must hold `src.len() * 3 / 4` bytes.
pub(crate) fn decode_base64(src: &str, dst: &mut [u8]) -> Result<usize, DecodeError> {
    let src = src.trim_end_matches('=');
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut n = 0usize;
    for c in src.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return Err(DecodeError::Syntax),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = u8::try_from((acc >> bits) & 0xff).map_err(|_| DecodeError::Syntax)?;
            *dst.get_mut(n).ok_or(DecodeError::ScratchFull)? = byte;
            n += 1;
        }
    }
    // A single leftover symbol (6 bits) cannot end a base64 text, and the
    // leftover bits must be zero (RFC 4648 §3.5, canonical encoding).
    if bits >= 6 || acc & ((1 << bits) - 1) != 0 {
        return Err(DecodeError::Syntax);
    }
    Ok(n)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_test_vectors() {
        // RFC 4648 §10, written in the url-safe alphabet without padding.
        let vectors: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (data, text) in vectors {
            let mut buf = [0u8; 16];
            let mut w = Window::new(&mut buf);
            write_base64url(&mut w, data);
            let n = w.finish().len;
            assert_eq!(&buf[..n], text.as_bytes());
            let mut out = [0u8; 16];
            let m = decode_base64(text, &mut out).unwrap();
            assert_eq!(&out[..m], data);
        }
        let mut out = [0u8; 4];
        assert_eq!(decode_base64("Zm8=", &mut out).unwrap(), 2);
        assert!(decode_base64("Z", &mut out).is_err());
        assert!(decode_base64("Zh", &mut out).is_err(), "non-zero trailing bits");
        assert!(decode_base64("Zm9v!", &mut out).is_err());
    }

    #[test]
    fn escaped_strings_land_in_scratch_and_plain_ones_borrow() {
        let text = br#""a\"b\u00e9" "plain""#;
        let mut scratch = [0u8; 8];
        let mut l = Lexer::new(text, &mut scratch);
        assert_eq!(l.string().unwrap(), "a\"b\u{e9}");
        assert_eq!(l.string().unwrap(), "plain");
        let mut none: [u8; 0] = [];
        assert_eq!(Lexer::new(br#""\n""#, &mut none).string(), Err(DecodeError::ScratchFull));
    }

    #[test]
    fn json_strings_are_escaped_on_output() {
        let mut buf = [0u8; 32];
        let mut w = Window::new(&mut buf);
        write_string(&mut w, "a\"\\\n\u{1}é");
        let n = w.finish().len;
        assert_eq!(&buf[..n], "\"a\\\"\\\\\\n\\u0001é\"".as_bytes());
    }
}
