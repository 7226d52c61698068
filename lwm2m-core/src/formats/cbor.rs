//! CBOR helpers shared by SenML CBOR and LwM2M CBOR (RFC 8949 on
//! `minicbor`): value writing and reading with LwM2M's type mapping.
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{DecodeError, Window};
use crate::value::Value;
use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

/// CBOR tag 1: epoch-based date/time (RFC 8949 §3.4.2).
pub(crate) const TAG_EPOCH_TIME: u64 = 1;

impl From<minicbor::decode::Error> for DecodeError {
    fn from(e: minicbor::decode::Error) -> DecodeError {
        if e.is_end_of_input() { DecodeError::Truncated } else { DecodeError::Syntax }
    }
}

/// Writes a float in the shortest of binary32/binary64 that keeps its value.
pub(crate) fn put_float(e: &mut Encoder<&mut Window<'_>>, x: f64) {
    #[expect(clippy::cast_possible_truncation, reason = "exactness checked next")]
    let single = x as f32;
    // Writing into a Window cannot fail.
    let _ = if f64::from(single) == x || x.is_nan() { e.f32(single) } else { e.f64(x) };
}

/// Reads a number: integers as Integer (or UnsignedInteger above i64::MAX),
/// floats of any width as Float.
pub(crate) fn number<'a>(d: &mut Decoder<'a>) -> Result<Value<'a>, DecodeError> {
    Ok(match d.datatype()? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
            let n = d.u64()?;
            match i64::try_from(n) {
                Ok(i) => Value::Integer(i),
                Err(_) => Value::UnsignedInteger(n),
            }
        }
        Type::I8 | Type::I16 | Type::I32 | Type::I64 => Value::Integer(d.i64()?),
        Type::F16 => Value::Float(half(d)?),
        Type::F32 => Value::Float(f64::from(d.f32()?)),
        Type::F64 => Value::Float(d.f64()?),
        Type::Int => return Err(DecodeError::Value(crate::value::ValueError::OutOfRange)),
        _ => return Err(DecodeError::Syntax),
    })
}

/// Reads a binary16 float (RFC 8949 §3.3; minicbor decodes it only with its
/// `half` feature, so we do it here).
fn half(d: &mut Decoder<'_>) -> Result<f64, DecodeError> {
    let pos = d.position();
    let b = d.input().get(pos..pos.saturating_add(3)).ok_or(DecodeError::Truncated)?;
    let [_, hi, lo] = <[u8; 3]>::try_from(b).map_err(|_| DecodeError::Truncated)?;
    d.set_position(pos + 3);
    let bits = u16::from_be_bytes([hi, lo]);
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let mant = f64::from(bits & 0x3ff);
    let mag = match exp {
        0 => mant * pow2(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + mant / 1024.0) * pow2(e - 15),
    };
    Ok(sign * mag)
}

/// 2^e for the small exponents of binary16 (no `powi` in `core`).
fn pow2(e: i32) -> f64 {
    let biased = u64::try_from(e.saturating_add(1023)).unwrap_or(0);
    f64::from_bits(biased << 52)
}

/// A number as `f64` (SenML times).
pub(crate) fn float(d: &mut Decoder<'_>) -> Result<f64, DecodeError> {
    super::number_as_f64(number(d)?)
}

/// Reads the header of a map or array: `Some(n)` definite, `None` indefinite.
pub(crate) fn map_len(d: &mut Decoder<'_>) -> Result<Option<u64>, DecodeError> {
    match d.datatype()? {
        Type::Map | Type::MapIndef => Ok(d.map()?),
        _ => Err(DecodeError::Syntax),
    }
}

/// In a map of length `len` with `done` entries read: is there another entry?
/// Consumes the break of an indefinite map.
pub(crate) fn more(d: &mut Decoder<'_>, len: Option<u64>, done: u64) -> Result<bool, DecodeError> {
    match len {
        Some(n) => Ok(done < n),
        None => {
            if d.datatype()? == Type::Break {
                d.set_position(d.position().saturating_add(1));
                Ok(false)
            } else {
                Ok(true)
            }
        }
    }
}
