//! LwM2M JSON, `application/vnd.oma.lwm2m+json` (content format 11543;
//! OMA-TS-LightweightM2M 1.0 §6.4.4), for reading what LwM2M 1.0 servers
//! write: `{"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},
//! {"n":"6/0","v":1},{"n":"x","bv":true},{"n":"y","ov":"3:0"}]}`.
//!
//! Entry fields: `n`, `v` (number), `sv` (string; Opaque resources carry
//! base64 here, decoded into the scratch buffer when the resolver says
//! Opaque), `bv`, `ov` (`"O:I"`), `t`. The decoder streams the `e` array;
//! `bn` and `bt` must come before `e` (every known writer puts them first):
//! a later `bn` is [`DecodeError::Unsupported`].
//!
//! Decoding only: we answer Reads in SenML or TLV. Nothing here panics on
//! any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::json::Lexer;
use super::senml::{Bases, Fields};
use super::{DecodeError, NoTypes, TypeResolver, step_item, typed};
use crate::path::Path;
use crate::value::{DataType, Value, parse_objlnk};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    FirstEntry,
    Entries,
    Done,
}

/// Reads LwM2M JSON entries as `(path, value)` items.
#[derive(Debug)]
pub struct Lwm2mJsonDecoder<'a, R> {
    lex: Lexer<'a>,
    base: Path,
    types: R,
    bases: Bases<'a>,
    state: State,
}

impl<'a, R: TypeResolver> Lwm2mJsonDecoder<'a, R> {
    /// A decoder for `payload` sent to `base`; escaped strings and base64
    /// opaque data are decoded into `scratch`.
    pub fn new(base: &Path, payload: &'a [u8], scratch: &'a mut [u8], types: R) -> Self {
        Lwm2mJsonDecoder {
            lex: Lexer::new(payload, scratch),
            base: *base,
            types,
            bases: Bases::default(),
            state: State::Start,
        }
    }

    /// Reads top-level members up to the `e` array (or the end).
    fn header(&mut self) -> Result<bool, DecodeError> {
        let lex = &mut self.lex;
        lex.expect(b'{')?;
        if lex.eat(b'}') {
            return Ok(false);
        }
        loop {
            let key = lex.string()?;
            lex.expect(b':')?;
            match key {
                "bn" => self.bases.bn = lex.string()?,
                "bt" => self.bases.bt = Some(lex.number()?.as_f64()?),
                "e" => {
                    lex.expect(b'[')?;
                    return Ok(true);
                }
                _ => lex.skip_value(0)?,
            }
            if !lex.eat(b',') {
                lex.expect(b'}')?;
                return Ok(false);
            }
        }
    }

    /// After the `e` array: the rest of the object.
    fn trailer(&mut self) -> Result<(), DecodeError> {
        let lex = &mut self.lex;
        while lex.eat(b',') {
            let key = lex.string()?;
            lex.expect(b':')?;
            if key == "bn" || key == "e" {
                return Err(DecodeError::Unsupported);
            }
            lex.skip_value(0)?;
        }
        lex.expect(b'}')?;
        if lex.at_end() { Ok(()) } else { Err(DecodeError::Syntax) }
    }

    fn entry(&mut self) -> Result<(Path, Value<'a>), DecodeError> {
        let lex = &mut self.lex;
        lex.expect(b'{')?;
        let mut f = Fields::default();
        if !lex.eat(b'}') {
            loop {
                let key = lex.string()?;
                lex.expect(b':')?;
                match key {
                    "n" => f.n = Some(lex.string()?),
                    "t" => f.t = Some(lex.number()?.as_f64()?),
                    "v" => f.set_value(lex.number()?.value()?)?,
                    "sv" => f.set_value(Value::String(lex.string()?))?,
                    "bv" => {
                        f.set_value(Value::Boolean(lex.literal()?.ok_or(DecodeError::Syntax)?))?
                    }
                    "ov" => {
                        let (o, i) = parse_objlnk(lex.string()?).ok_or(DecodeError::Syntax)?;
                        f.set_value(Value::Objlnk(o, i))?;
                    }
                    _ => lex.skip_value(0)?,
                }
                if !lex.eat(b',') {
                    lex.expect(b'}')?;
                    break;
                }
            }
        }
        let r = f.resolve(&self.bases, &self.base, &NoTypes)?;
        let value = match (r.value, self.types.data_type(&r.path)) {
            (Value::String(s), Some(DataType::Opaque)) => Value::Opaque(self.lex.base64(s)?),
            (v, _) => typed(&self.types, &r.path, v)?,
        };
        Ok((r.path, value))
    }

    fn step(&mut self) -> Result<Option<(Path, Value<'a>)>, DecodeError> {
        match self.state {
            State::Done => return Ok(None),
            State::Start => {
                if !self.header()? {
                    return if self.lex.at_end() { Ok(None) } else { Err(DecodeError::Syntax) };
                }
                self.state = State::FirstEntry;
                if self.lex.eat(b']') {
                    self.trailer()?;
                    return Ok(None);
                }
            }
            State::FirstEntry | State::Entries => {
                if !self.lex.eat(b',') {
                    self.lex.expect(b']')?;
                    self.trailer()?;
                    return Ok(None);
                }
            }
        }
        self.state = State::Entries;
        self.entry().map(Some)
    }
}

impl<'a, R: TypeResolver> Iterator for Lwm2mJsonDecoder<'a, R> {
    type Item = Result<(Path, Value<'a>), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        let (item, end) = step_item(self.step());
        if end {
            self.state = State::Done;
        }
        item
    }
}
