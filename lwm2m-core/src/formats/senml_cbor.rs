//! SenML CBOR, `application/senml+cbor` (content format 112; RFC 8428 §6 as
//! profiled by OMA-TS-LightweightM2M_Core 1.1 §7.4.5), on `minicbor`.
//!
//! An array of maps with integer labels: -2 `bn`, -3 `bt`, 0 `n`, 2 `v`,
//! 3 `vs`, 4 `vb`, 6 `t`, 8 `vd`, and the text label `"vlo"` for object links.
//! The encoder writes a definite-length array, so [`super::encode`] counts
//! records in a first walk ([`RecordCounter`]); integers and floats take
//! their shortest form, as the TS example does.
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::cbor::{float, map_len, more, number, put_float};
use super::senml::{Bases, Fields, Names, Record};
use super::{Chunk, DecodeError, EncodeError, Encoder, TypeResolver, Window, check_below};
use crate::path::Path;
use crate::value::{Value, parse_objlnk};
use core::fmt::Write;
use minicbor::data::Type;

/// SenML CBOR labels (RFC 8428 §6, Table 6).
mod label {
    pub(super) const BN: i64 = -2;
    pub(super) const BT: i64 = -3;
    pub(super) const N: i64 = 0;
    pub(super) const V: i64 = 2;
    pub(super) const VS: i64 = 3;
    pub(super) const VB: i64 = 4;
    pub(super) const T: i64 = 6;
    pub(super) const VD: i64 = 8;
    /// The LwM2M object-link value label is text (TS §7.4.5).
    pub(super) const VLO: &str = "vlo";
}

/// The measuring walk of SenML CBOR: counts records.
#[derive(Debug, Default)]
pub struct RecordCounter {
    records: u64,
}

impl RecordCounter {
    /// Records counted.
    pub fn records(&self) -> u64 {
        self.records
    }
}

impl Encoder for RecordCounter {
    fn write(&mut self, _: &Path, _: &Value<'_>) -> Result<(), EncodeError> {
        self.records = self.records.saturating_add(1);
        Ok(())
    }
}

/// Streams SenML CBOR records into a window.
#[derive(Debug)]
pub struct SenmlCborEncoder<'b> {
    base: Path,
    out: Window<'b>,
    planned: u64,
    written: u64,
    names: Names,
}

impl<'b> SenmlCborEncoder<'b> {
    /// An encoder for `records` records (counted by a [`RecordCounter`] walk)
    /// answering a request on `base`.
    pub fn new(base: &Path, records: u64, out: Window<'b>) -> SenmlCborEncoder<'b> {
        let mut out = out;
        let _ = minicbor::Encoder::new(&mut out).array(records);
        SenmlCborEncoder { base: *base, out, planned: records, written: 0, names: Names::default() }
    }

    /// Ends the encoding.
    ///
    /// # Errors
    /// [`EncodeError::WalkChanged`] if fewer records came than were counted.
    pub fn finish(self) -> Result<Chunk, EncodeError> {
        if self.written != self.planned {
            return Err(EncodeError::WalkChanged);
        }
        Ok(self.out.finish())
    }

    /// Writes one record with a time (`t`, seconds).
    ///
    /// # Errors
    /// As [`Encoder::write`].
    pub fn write_timed(
        &mut self,
        path: &Path,
        value: &Value<'_>,
        time: Option<f64>,
    ) -> Result<(), EncodeError> {
        check_below(&self.base, path)?;
        if self.written >= self.planned {
            return Err(EncodeError::WalkChanged);
        }
        self.written += 1;
        let (bn, n) = self.names.next(&self.base, path);
        let fields = u64::from(bn.is_some())
            + u64::from(!n.is_empty())
            + u64::from(time.is_some())
            + u64::from(!matches!(value, Value::None));
        let mut e = minicbor::Encoder::new(&mut self.out);
        // Writes into a Window cannot fail: results are ignored below.
        let _ = e.map(fields);
        if let Some(bn) = bn {
            let _ = e.i64(label::BN).and_then(|e| e.str(&bn));
        }
        if !n.is_empty() {
            let _ = e.i64(label::N).and_then(|e| e.str(&n));
        }
        if let Some(t) = time {
            let _ = e.i64(label::T);
            put_float(&mut e, t);
        }
        match *value {
            Value::Integer(x) | Value::Time(x) => {
                let _ = e.i64(label::V).and_then(|e| e.i64(x));
            }
            Value::UnsignedInteger(x) => {
                let _ = e.i64(label::V).and_then(|e| e.u64(x));
            }
            Value::Float(x) => {
                let _ = e.i64(label::V);
                put_float(&mut e, x);
            }
            Value::Boolean(b) => {
                let _ = e.i64(label::VB).and_then(|e| e.bool(b));
            }
            Value::String(s) | Value::Corelnk(s) => {
                let _ = e.i64(label::VS).and_then(|e| e.str(s));
            }
            Value::Opaque(d) => {
                let _ = e.i64(label::VD).and_then(|e| e.bytes(d));
            }
            Value::Objlnk(o, i) => {
                let mut s: heapless::String<12> = heapless::String::new();
                let _ = write!(s, "{o}:{i}");
                let _ = e.str(label::VLO).and_then(|e| e.str(&s));
            }
            Value::None => {}
        }
        Ok(())
    }
}

impl Encoder for SenmlCborEncoder<'_> {
    fn write(&mut self, path: &Path, value: &Value<'_>) -> Result<(), EncodeError> {
        self.write_timed(path, value, None)
    }
}

/// Reads SenML CBOR records.
#[derive(Debug)]
pub struct SenmlCborDecoder<'a, R> {
    d: minicbor::Decoder<'a>,
    base: Path,
    types: R,
    bases: Bases<'a>,
    /// `None` before the array header; then (length, records read).
    array: Option<(Option<u64>, u64)>,
    done: bool,
}

impl<'a, R: TypeResolver> SenmlCborDecoder<'a, R> {
    /// A decoder for `payload` sent to `base`.
    pub fn new(base: &Path, payload: &'a [u8], types: R) -> Self {
        SenmlCborDecoder {
            d: minicbor::Decoder::new(payload),
            base: *base,
            types,
            bases: Bases::default(),
            array: None,
            done: false,
        }
    }

    /// The next record with its time.
    pub fn next_record(&mut self) -> Option<Result<Record<'a>, DecodeError>> {
        if self.done {
            return None;
        }
        let (item, end) = super::step_item(self.step());
        self.done = end;
        item
    }

    fn step(&mut self) -> Result<Option<Record<'a>>, DecodeError> {
        let (len, read) = match self.array {
            Some(a) => a,
            None => {
                let len = match self.d.datatype()? {
                    Type::Array | Type::ArrayIndef => self.d.array()?,
                    _ => return Err(DecodeError::Syntax),
                };
                (len, 0)
            }
        };
        self.array = Some((len, read));
        if !more(&mut self.d, len, read)? {
            if self.d.position() != self.d.input().len() {
                return Err(DecodeError::Syntax);
            }
            return Ok(None);
        }
        self.array = Some((len, read.saturating_add(1)));
        self.record().map(Some)
    }

    fn record(&mut self) -> Result<Record<'a>, DecodeError> {
        let d = &mut self.d;
        let len = map_len(d)?;
        let mut f = Fields::default();
        let mut i = 0u64;
        while more(d, len, i)? {
            i = i.saturating_add(1);
            match d.datatype()? {
                Type::String => {
                    let k = d.str()?;
                    if k == label::VLO {
                        let (o, i) = parse_objlnk(d.str()?).ok_or(DecodeError::Syntax)?;
                        f.set_value(Value::Objlnk(o, i))?;
                    } else if k.ends_with('_') {
                        return Err(DecodeError::Unsupported);
                    } else {
                        d.skip()?;
                    }
                }
                Type::U8
                | Type::U16
                | Type::U32
                | Type::U64
                | Type::I8
                | Type::I16
                | Type::I32
                | Type::I64 => match d.i64()? {
                    label::BN => self.bases.bn = d.str()?,
                    label::BT => self.bases.bt = Some(float(d)?),
                    label::N => f.n = Some(d.str()?),
                    label::T => f.t = Some(float(d)?),
                    label::V => f.set_value(number(d)?)?,
                    label::VS => f.set_value(Value::String(d.str()?))?,
                    label::VB => f.set_value(Value::Boolean(d.bool()?))?,
                    label::VD => f.set_value(Value::Opaque(d.bytes()?))?,
                    _ => d.skip()?,
                },
                _ => return Err(DecodeError::Syntax),
            }
        }
        f.resolve(&self.bases, &self.base, &self.types)
    }
}

impl<'a, R: TypeResolver> Iterator for SenmlCborDecoder<'a, R> {
    type Item = Result<(Path, Value<'a>), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().map(|r| r.map(|r| (r.path, r.value)))
    }
}
