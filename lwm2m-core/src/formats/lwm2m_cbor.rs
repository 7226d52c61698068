//! LwM2M CBOR, `application/vnd.oma.lwm2m+cbor` (content format 11544;
//! OMA-TS-LightweightM2M_Core 1.2 §7.4.7), on `minicbor`.
//!
//! Nested maps keyed by path identifiers: a key is one identifier (an
//! unsigned integer) or several at once (an array of them), and a value is
//! either another map or a resource value. Values map to CBOR as: Integer →
//! integer, Unsigned Integer → unsigned, Float → shortest float, Boolean →
//! bool, String/Corelnk → text, Opaque → bytes, Time → tag 1 + integer,
//! Objlnk → text `"O:I"`, None → null.
//!
//! The encoder writes the request path as one array key at the top
//! (`{[3, 0]: {0: "Open Mobile Alliance", …}}`) and one map per deeper level,
//! using indefinite-length maps so it streams in one walk. The decoder
//! accepts definite and indefinite maps and any split of the path into keys.
//!
//! Nothing here panics on any input; nesting is bounded by the path depth.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::cbor::{TAG_EPOCH_TIME, map_len, more, number, put_float};
use super::{DecodeError, EncodeError, Encoder, TypeResolver, Window, check_below, typed};
use crate::path::{Path, PathError};
use crate::value::{Value, ValueError};
use core::fmt::Write;
use minicbor::data::{Tag, Type};

const BREAK: u8 = 0xff;
const MAP_INDEF: u8 = 0xbf;

/// Streams LwM2M CBOR into a window.
#[derive(Debug)]
pub struct Lwm2mCborEncoder<'b> {
    base: Path,
    out: Window<'b>,
    started: bool,
    /// The base container map is open (a deeper path was written).
    base_open: bool,
    /// Identifiers of the maps open below the base container.
    open: heapless::Vec<u16, 4>,
    /// A value was written for the base path itself.
    leaf_done: bool,
}

impl<'b> Lwm2mCborEncoder<'b> {
    /// An encoder for a response to a request on `base`.
    pub fn new(base: &Path, out: Window<'b>) -> Lwm2mCborEncoder<'b> {
        Lwm2mCborEncoder {
            base: *base,
            out,
            started: false,
            base_open: false,
            open: heapless::Vec::new(),
            leaf_done: false,
        }
    }

    /// Closes the open maps.
    pub fn finish(mut self) -> super::Chunk {
        if !self.started {
            self.out.put_u8(0xa0); // {}
            return self.out.finish();
        }
        for _ in 0..self.open.len() {
            self.out.put_u8(BREAK);
        }
        if self.base_open && !self.base.is_root() {
            self.out.put_u8(BREAK);
        }
        self.out.put_u8(BREAK);
        self.out.finish()
    }

    fn key(&mut self, ids: &[u16]) {
        let mut e = minicbor::Encoder::new(&mut self.out);
        // Writes into a Window cannot fail.
        let _ = match ids {
            [one] => e.u16(*one).map(|_| ()),
            many => {
                let _ = e.array(many.len() as u64);
                many.iter().try_for_each(|id| e.u16(*id).map(|_| ()))
            }
        };
    }

    fn value(&mut self, v: &Value<'_>) {
        let mut e = minicbor::Encoder::new(&mut self.out);
        let _ = match *v {
            Value::Integer(n) => e.i64(n).map(|_| ()),
            Value::UnsignedInteger(n) => e.u64(n).map(|_| ()),
            Value::Float(x) => {
                put_float(&mut e, x);
                Ok(())
            }
            Value::Boolean(b) => e.bool(b).map(|_| ()),
            Value::String(s) | Value::Corelnk(s) => e.str(s).map(|_| ()),
            Value::Opaque(b) => e.bytes(b).map(|_| ()),
            Value::Time(t) => e.tag(Tag::new(TAG_EPOCH_TIME)).and_then(|e| e.i64(t)).map(|_| ()),
            Value::Objlnk(o, i) => {
                let mut s: heapless::String<12> = heapless::String::new();
                let _ = write!(s, "{o}:{i}");
                e.str(&s).map(|_| ())
            }
            Value::None => e.null().map(|_| ()),
        };
    }
}

impl Encoder for Lwm2mCborEncoder<'_> {
    fn write(&mut self, path: &Path, value: &Value<'_>) -> Result<(), EncodeError> {
        check_below(&self.base, path)?;
        if self.leaf_done {
            return Err(EncodeError::MultipleValues);
        }
        let rel = path.ids().get(self.base.depth()..).unwrap_or(&[]);
        if !self.started {
            self.started = true;
            self.out.put_u8(MAP_INDEF);
            if !self.base.is_root() {
                let base = self.base;
                self.key(base.ids());
                if rel.is_empty() {
                    self.value(value);
                    self.leaf_done = true;
                    return Ok(());
                }
                self.out.put_u8(MAP_INDEF);
            }
            self.base_open = true;
        } else if rel.is_empty() {
            return Err(EncodeError::MultipleValues);
        }
        let (last, parents) = rel.split_last().ok_or(EncodeError::Level)?;
        let common = self.open.iter().zip(parents).take_while(|(a, b)| a == b).count();
        while self.open.len() > common {
            self.open.pop();
            self.out.put_u8(BREAK);
        }
        for &id in parents.get(common..).unwrap_or(&[]) {
            self.key(&[id]);
            self.out.put_u8(MAP_INDEF);
            self.open.push(id).map_err(|_| EncodeError::Level)?;
        }
        self.key(&[*last]);
        self.value(value);
        Ok(())
    }
}

/// One open map while decoding.
#[derive(Debug, Clone, Copy)]
struct Level {
    prefix: Path,
    len: Option<u64>,
    read: u64,
}

/// Reads LwM2M CBOR into `(path, value)` items.
#[derive(Debug)]
pub struct Lwm2mCborDecoder<'a, R> {
    d: minicbor::Decoder<'a>,
    base: Path,
    types: R,
    stack: heapless::Vec<Level, 5>,
    started: bool,
    done: bool,
}

impl<'a, R: TypeResolver> Lwm2mCborDecoder<'a, R> {
    /// A decoder for `payload` sent to `base`.
    pub fn new(base: &Path, payload: &'a [u8], types: R) -> Self {
        Lwm2mCborDecoder {
            d: minicbor::Decoder::new(payload),
            base: *base,
            types,
            stack: heapless::Vec::new(),
            started: false,
            done: false,
        }
    }

    fn push_map(&mut self, prefix: Path) -> Result<(), DecodeError> {
        let len = map_len(&mut self.d)?;
        self.stack.push(Level { prefix, len, read: 0 }).map_err(|_| DecodeError::TooDeep)
    }

    fn key(&mut self, prefix: Path) -> Result<Path, DecodeError> {
        let d = &mut self.d;
        match d.datatype()? {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => Ok(prefix.child(id(d.u64()?)?)?),
            Type::Array | Type::ArrayIndef => {
                let len = d.array()?;
                let mut p = prefix;
                let mut i = 0u64;
                loop {
                    match len {
                        Some(n) if i >= n => break,
                        None if d.datatype()? == Type::Break => {
                            d.set_position(d.position().saturating_add(1));
                            break;
                        }
                        _ => {}
                    }
                    p = p.child(id(d.u64()?)?)?;
                    i = i.saturating_add(1);
                }
                if i == 0 {
                    return Err(DecodeError::Syntax);
                }
                Ok(p)
            }
            _ => Err(DecodeError::Syntax),
        }
    }

    fn leaf(&mut self) -> Result<Value<'a>, DecodeError> {
        let d = &mut self.d;
        Ok(match d.datatype()? {
            Type::Bool => Value::Boolean(d.bool()?),
            Type::Null => {
                d.null()?;
                Value::None
            }
            Type::String => Value::String(d.str()?),
            Type::Bytes => Value::Opaque(d.bytes()?),
            Type::Tag => {
                if d.tag()? != Tag::new(TAG_EPOCH_TIME) {
                    return Err(DecodeError::Unsupported);
                }
                match number(d)? {
                    Value::Integer(t) => Value::Time(t),
                    _ => return Err(DecodeError::Value(ValueError::TypeMismatch)),
                }
            }
            Type::StringIndef | Type::BytesIndef => return Err(DecodeError::Unsupported),
            _ => number(d)?,
        })
    }

    fn step(&mut self) -> Result<Option<(Path, Value<'a>)>, DecodeError> {
        if !self.started {
            self.started = true;
            self.push_map(Path::ROOT)?;
        }
        loop {
            let Some(top) = self.stack.last().copied() else {
                if self.d.position() != self.d.input().len() {
                    return Err(DecodeError::Syntax);
                }
                return Ok(None);
            };
            if !more(&mut self.d, top.len, top.read)? {
                self.stack.pop();
                continue;
            }
            if let Some(t) = self.stack.last_mut() {
                t.read = t.read.saturating_add(1);
            }
            let path = self.key(top.prefix)?;
            match self.d.datatype()? {
                Type::Map | Type::MapIndef => self.push_map(path)?,
                _ => {
                    let v = self.leaf()?;
                    if !self.base.contains(&path) {
                        return Err(DecodeError::OutsideBase);
                    }
                    return Ok(Some((path, typed(&self.types, &path, v)?)));
                }
            }
        }
    }
}

fn id(n: u64) -> Result<u16, DecodeError> {
    let id = u16::try_from(n).map_err(|_| PathError::OutOfRange)?;
    Ok(id)
}

impl<'a, R: TypeResolver> Iterator for Lwm2mCborDecoder<'a, R> {
    type Item = Result<(Path, Value<'a>), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (item, end) = super::step_item(self.step());
        self.done = end;
        item
    }
}
