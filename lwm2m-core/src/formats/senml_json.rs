//! SenML JSON, `application/senml+json` (content format 110; RFC 8428 §5 as
//! profiled by OMA-TS-LightweightM2M_Core 1.1 §7.4.4).
//!
//! Output: `[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1",…}]`
//! — the base name in the first record, names relative to it, numbers in
//! `v` (floats always with a fraction or exponent, so they read back as
//! floats), `vs` strings, `vb` booleans, `vd` base64url opaque data and
//! `vlo` object links (`"O:I"`). Written by hand into the window (no
//! intermediate document); read with a small lexer that borrows strings from
//! the payload and unescapes into a caller scratch buffer only when needed.
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::json::{Lexer, write_base64url, write_string};
use super::senml::{Bases, Fields, Names, Record};
use super::{
    Chunk, DecodeError, EncodeError, Encoder, TypeResolver, Window, check_below, step_item,
};
use crate::path::Path;
use crate::value::{Value, parse_objlnk};
use core::fmt::Write;

/// Streams SenML JSON records into a window.
#[derive(Debug)]
pub struct SenmlJsonEncoder<'b> {
    base: Path,
    out: Window<'b>,
    names: Names,
}

impl<'b> SenmlJsonEncoder<'b> {
    /// An encoder for a response to a request on `base`.
    pub fn new(base: &Path, out: Window<'b>) -> SenmlJsonEncoder<'b> {
        SenmlJsonEncoder { base: *base, out, names: Names::default() }
    }

    /// Closes the array.
    pub fn finish(mut self) -> Chunk {
        if self.names.is_first() {
            self.out.put_u8(b'[');
        }
        self.out.put_u8(b']');
        self.out.finish()
    }

    /// Writes one record with a time (`t`, seconds) for Send and timestamped
    /// notifications.
    ///
    /// # Errors
    /// As [`Encoder::write`]; a non-finite time is [`EncodeError::NonFiniteFloat`].
    pub fn write_timed(
        &mut self,
        path: &Path,
        value: &Value<'_>,
        time: Option<f64>,
    ) -> Result<(), EncodeError> {
        check_below(&self.base, path)?;
        if let Value::Float(x) = value
            && !x.is_finite()
        {
            return Err(EncodeError::NonFiniteFloat);
        }
        if time.is_some_and(|t| !t.is_finite()) {
            return Err(EncodeError::NonFiniteFloat);
        }
        let out = &mut self.out;
        out.put(if self.names.is_first() { b"[{" } else { b",{" });
        let (bn, n) = self.names.next(&self.base, path);
        let mut sep = "";
        if let Some(bn) = bn {
            out.put(b"\"bn\":");
            write_string(out, &bn);
            sep = ",";
        }
        if !n.is_empty() {
            out.put(sep.as_bytes());
            out.put(b"\"n\":");
            write_string(out, &n);
            sep = ",";
        }
        if let Some(t) = time {
            let _ = write!(out, "{sep}\"t\":{t:?}");
            sep = ",";
        }
        if !matches!(value, Value::None) {
            out.put(sep.as_bytes());
        }
        // fmt::Write into a Window never fails.
        let _ = match value {
            Value::Integer(n) | Value::Time(n) => write!(out, "\"v\":{n}"),
            Value::UnsignedInteger(n) => write!(out, "\"v\":{n}"),
            Value::Float(x) => write!(out, "\"v\":{x:?}"),
            Value::Boolean(b) => write!(out, "\"vb\":{b}"),
            Value::String(s) | Value::Corelnk(s) => {
                out.put(b"\"vs\":");
                write_string(out, s);
                Ok(())
            }
            Value::Opaque(d) => {
                out.put(b"\"vd\":\"");
                write_base64url(out, d);
                out.put_u8(b'"');
                Ok(())
            }
            Value::Objlnk(o, i) => write!(out, "\"vlo\":\"{o}:{i}\""),
            // A record without a value (a path list, as in Read-Composite).
            Value::None => Ok(()),
        };
        out.put_u8(b'}');
        Ok(())
    }
}

impl Encoder for SenmlJsonEncoder<'_> {
    fn write(&mut self, path: &Path, value: &Value<'_>) -> Result<(), EncodeError> {
        self.write_timed(path, value, None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Records,
    Done,
}

/// Reads SenML JSON records.
#[derive(Debug)]
pub struct SenmlJsonDecoder<'a, R> {
    lex: Lexer<'a>,
    base: Path,
    types: R,
    bases: Bases<'a>,
    state: State,
}

impl<'a, R: TypeResolver> SenmlJsonDecoder<'a, R> {
    /// A decoder for `payload` sent to `base`; escaped strings and opaque
    /// data are decoded into `scratch`.
    pub fn new(base: &Path, payload: &'a [u8], scratch: &'a mut [u8], types: R) -> Self {
        SenmlJsonDecoder {
            lex: Lexer::new(payload, scratch),
            base: *base,
            types,
            bases: Bases::default(),
            state: State::Start,
        }
    }

    /// The next record with its time.
    pub fn next_record(&mut self) -> Option<Result<Record<'a>, DecodeError>> {
        let (item, end) = step_item(self.step());
        if end {
            self.state = State::Done;
        }
        item
    }

    fn step(&mut self) -> Result<Option<Record<'a>>, DecodeError> {
        match self.state {
            State::Done => return Ok(None),
            State::Start => {
                self.lex.expect(b'[')?;
                self.state = State::Records;
                if self.lex.eat(b']') {
                    return self.end();
                }
            }
            State::Records => {
                if !self.lex.eat(b',') {
                    self.lex.expect(b']')?;
                    return self.end();
                }
            }
        }
        self.record().map(Some)
    }

    fn end(&mut self) -> Result<Option<Record<'a>>, DecodeError> {
        if self.lex.at_end() { Ok(None) } else { Err(DecodeError::Syntax) }
    }

    fn record(&mut self) -> Result<Record<'a>, DecodeError> {
        let lex = &mut self.lex;
        lex.expect(b'{')?;
        let mut f = Fields::default();
        if !lex.eat(b'}') {
            loop {
                let key = lex.string()?;
                lex.expect(b':')?;
                match key {
                    "bn" => self.bases.bn = lex.string()?,
                    "bt" => self.bases.bt = Some(lex.number()?.as_f64()?),
                    "n" => f.n = Some(lex.string()?),
                    "t" => f.t = Some(lex.number()?.as_f64()?),
                    "v" => f.set_value(lex.number()?.value()?)?,
                    "vs" => f.set_value(Value::String(lex.string()?))?,
                    "vb" => {
                        f.set_value(Value::Boolean(lex.literal()?.ok_or(DecodeError::Syntax)?))?
                    }
                    "vd" => {
                        let text = lex.string()?;
                        f.set_value(Value::Opaque(lex.base64(text)?))?;
                    }
                    "vlo" => {
                        let (o, i) = parse_objlnk(lex.string()?).ok_or(DecodeError::Syntax)?;
                        f.set_value(Value::Objlnk(o, i))?;
                    }
                    // RFC 8428 §4.4: labels ending in '_' must be understood.
                    k if k.ends_with('_') => return Err(DecodeError::Unsupported),
                    _ => lex.skip_value(0)?,
                }
                if !lex.eat(b',') {
                    lex.expect(b'}')?;
                    break;
                }
            }
        }
        f.resolve(&self.bases, &self.base, &self.types)
    }
}

impl<'a, R: TypeResolver> Iterator for SenmlJsonDecoder<'a, R> {
    type Item = Result<(Path, Value<'a>), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().map(|r| r.map(|r| (r.path, r.value)))
    }
}
