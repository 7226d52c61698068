//! The LwM2M 1.1 data types (OMA-TS-LightweightM2M_Core 1.1, Appendix C):
//! [`Value`] for a resource value in flight, [`DataType`] for the type a
//! resource is declared with (the `<Type>` element of the registry XML).
//!
//! A `Value` borrows its text and bytes: encoders read from the object store
//! without copying, decoders point into the received payload.
//!
//! [`Value::coerce`] converts a value that a self-describing format decoded
//! (SenML says "a number", "a string") into the type the resource is declared
//! with; it refuses anything lossy. Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::coap::numbers::Code;
use core::fmt;

/// One LwM2M resource value.
///
/// `Float` compares with `==` on `f64`, so a NaN value is never equal to
/// itself; compare `to_bits()` where that matters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Integer: signed, up to 64 bits.
    Integer(i64),
    /// Unsigned Integer: up to 64 bits (LwM2M 1.1).
    UnsignedInteger(u64),
    /// Float: 32 or 64 bits on the wire, carried as `f64`.
    Float(f64),
    /// Boolean.
    Boolean(bool),
    /// String: UTF-8 text.
    String(&'a str),
    /// Opaque: a byte sequence.
    Opaque(&'a [u8]),
    /// Time: seconds since 1970-01-01T00:00Z, signed.
    Time(i64),
    /// Objlnk: a reference to an object instance, `(object, instance)`;
    /// `(65535, 65535)` is the "no link" value of the TS.
    Objlnk(u16, u16),
    /// Corelnk: a CoRE link-format string (RFC 6690).
    Corelnk(&'a str),
    /// None: the value of an executable resource (no content).
    None,
}

impl Value<'_> {
    /// The data type of this value.
    pub const fn data_type(&self) -> DataType {
        match self {
            Value::Integer(_) => DataType::Integer,
            Value::UnsignedInteger(_) => DataType::UnsignedInteger,
            Value::Float(_) => DataType::Float,
            Value::Boolean(_) => DataType::Boolean,
            Value::String(_) => DataType::String,
            Value::Opaque(_) => DataType::Opaque,
            Value::Time(_) => DataType::Time,
            Value::Objlnk(..) => DataType::Objlnk,
            Value::Corelnk(_) => DataType::Corelnk,
            Value::None => DataType::None,
        }
    }
}

impl<'a> Value<'a> {
    /// The number of an Integer or Time value.
    pub const fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(n) | Value::Time(n) => Some(*n),
            _ => None,
        }
    }

    /// The number of an Unsigned Integer value.
    pub const fn as_u64(&self) -> Option<u64> {
        match self {
            Value::UnsignedInteger(n) => Some(*n),
            _ => None,
        }
    }

    /// The number of a Float value.
    pub const fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// The flag of a Boolean value.
    pub const fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The text of a String or Corelnk value.
    pub const fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::String(s) | Value::Corelnk(s) => Some(*s),
            _ => None,
        }
    }

    /// The bytes of an Opaque value.
    pub const fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Opaque(b) => Some(*b),
            _ => None,
        }
    }

    /// The `(object, instance)` of an Objlnk value.
    pub const fn as_objlnk(&self) -> Option<(u16, u16)> {
        match self {
            Value::Objlnk(o, i) => Some((*o, *i)),
            _ => None,
        }
    }

    /// Converts a value into the declared type `to`, when that is exact:
    /// numbers between Integer, Unsigned Integer, Time and Float (a float only
    /// into an integer type when it has no fraction and fits), String ↔
    /// Corelnk, a String `"O:I"` into an Objlnk. Same type is the identity.
    ///
    /// # Errors
    /// [`ValueError::TypeMismatch`] when the value cannot become that type,
    /// [`ValueError::OutOfRange`] when a number does not fit.
    pub fn coerce(self, to: DataType) -> Result<Value<'a>, ValueError> {
        if self.data_type() == to {
            return Ok(self);
        }
        let v = match (self, to) {
            (Value::Integer(n) | Value::Time(n), DataType::Integer) => Value::Integer(n),
            (Value::Integer(n) | Value::Time(n), DataType::Time) => Value::Time(n),
            (Value::Integer(n) | Value::Time(n), DataType::UnsignedInteger) => {
                Value::UnsignedInteger(u64::try_from(n).map_err(|_| ValueError::OutOfRange)?)
            }
            (Value::UnsignedInteger(n), DataType::Integer) => {
                Value::Integer(i64::try_from(n).map_err(|_| ValueError::OutOfRange)?)
            }
            (Value::UnsignedInteger(n), DataType::Time) => {
                Value::Time(i64::try_from(n).map_err(|_| ValueError::OutOfRange)?)
            }
            #[expect(clippy::cast_precision_loss, reason = "Float is an approximate type")]
            (Value::Integer(n) | Value::Time(n), DataType::Float) => Value::Float(n as f64),
            #[expect(clippy::cast_precision_loss, reason = "Float is an approximate type")]
            (Value::UnsignedInteger(n), DataType::Float) => Value::Float(n as f64),
            (Value::Float(f), DataType::Integer) => Value::Integer(float_to_i64(f)?),
            (Value::Float(f), DataType::Time) => Value::Time(float_to_i64(f)?),
            (Value::Float(f), DataType::UnsignedInteger) => {
                let n = float_to_i64(f)?;
                Value::UnsignedInteger(u64::try_from(n).map_err(|_| ValueError::OutOfRange)?)
            }
            (Value::String(s), DataType::Corelnk) => Value::Corelnk(s),
            (Value::Corelnk(s), DataType::String) => Value::String(s),
            (Value::String(s), DataType::Objlnk) => {
                let (o, i) = parse_objlnk(s).ok_or(ValueError::TypeMismatch)?;
                Value::Objlnk(o, i)
            }
            _ => return Err(ValueError::TypeMismatch),
        };
        Ok(v)
    }
}

/// Parses the text form of an Objlnk, `"O:I"` (two decimal u16).
pub fn parse_objlnk(s: &str) -> Option<(u16, u16)> {
    let (o, i) = s.split_once(':')?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(o) || !digits(i) {
        return None;
    }
    Some((o.parse().ok()?, i.parse().ok()?))
}

/// An `f64` with no fractional part that fits an `i64`.
fn float_to_i64(f: f64) -> Result<i64, ValueError> {
    // 2^63 is exactly representable; the open upper bound keeps `as` exact.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&f) {
        return Err(ValueError::OutOfRange);
    }
    #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
    let n = f as i64;
    #[expect(clippy::cast_precision_loss, reason = "exactness is what we test")]
    if n as f64 == f { Ok(n) } else { Err(ValueError::TypeMismatch) }
}

impl fmt::Display for Value<'_> {
    /// The text/plain representation (OMA-TS-LightweightM2M_Core §7.4.1):
    /// decimal numbers, `1`/`0` for booleans, `O:I` for object links; opaque
    /// data is shown as hex here (text/plain itself cannot carry it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(n) | Value::Time(n) => write!(f, "{n}"),
            Value::UnsignedInteger(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Boolean(b) => f.write_str(if *b { "1" } else { "0" }),
            Value::String(s) | Value::Corelnk(s) => f.write_str(s),
            Value::Opaque(b) => b.iter().try_for_each(|x| write!(f, "{x:02x}")),
            Value::Objlnk(o, i) => write!(f, "{o}:{i}"),
            Value::None => Ok(()),
        }
    }
}

/// The data type a resource is declared with (registry XML `<Type>`,
/// OMA-TS-LightweightM2M_Core 1.1 Appendix C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataType {
    /// `String`.
    String,
    /// `Integer`.
    Integer,
    /// `Unsigned Integer`.
    UnsignedInteger,
    /// `Float`.
    Float,
    /// `Boolean`.
    Boolean,
    /// `Opaque`.
    Opaque,
    /// `Time`.
    Time,
    /// `Objlnk`.
    Objlnk,
    /// `Corelnk`.
    Corelnk,
    /// The empty `<Type></Type>` of executable resources.
    None,
}

impl DataType {
    /// Every data type, in the order of the registry schema.
    pub const ALL: [DataType; 10] = [
        DataType::String,
        DataType::Integer,
        DataType::Float,
        DataType::Boolean,
        DataType::Opaque,
        DataType::Time,
        DataType::Objlnk,
        DataType::UnsignedInteger,
        DataType::Corelnk,
        DataType::None,
    ];

    /// The spelling of the registry XML `<Type>` element (`""` for None).
    pub const fn registry_name(self) -> &'static str {
        match self {
            DataType::String => "String",
            DataType::Integer => "Integer",
            DataType::UnsignedInteger => "Unsigned Integer",
            DataType::Float => "Float",
            DataType::Boolean => "Boolean",
            DataType::Opaque => "Opaque",
            DataType::Time => "Time",
            DataType::Objlnk => "Objlnk",
            DataType::Corelnk => "Corelnk",
            DataType::None => "",
        }
    }

    /// The type for a registry XML `<Type>` text (surrounding whitespace
    /// ignored); `None` if the schema does not list it.
    pub fn from_registry_name(s: &str) -> Option<DataType> {
        let s = s.trim();
        DataType::ALL.into_iter().find(|t| t.registry_name() == s)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::None => f.write_str("none"),
            t => f.write_str(t.registry_name()),
        }
    }
}

/// Why a value could not take the requested type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValueError {
    /// The value is of a kind the type cannot hold.
    TypeMismatch,
    /// The number does not fit the type.
    OutOfRange,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueError::TypeMismatch => "value does not match the resource type",
            ValueError::OutOfRange => "value out of range for the resource type",
        })
    }
}

impl core::error::Error for ValueError {}

impl From<ValueError> for Code {
    /// A written value of the wrong type is a 4.00 Bad Request (TS §6.3.3).
    fn from(_: ValueError) -> Code {
        Code::BadRequest
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn registry_names_round_trip_and_match_the_xsd() {
        for t in DataType::ALL {
            assert_eq!(DataType::from_registry_name(t.registry_name()), Some(t));
        }
        assert_eq!(
            DataType::from_registry_name("Unsigned Integer"),
            Some(DataType::UnsignedInteger)
        );
        assert_eq!(DataType::from_registry_name(""), Some(DataType::None));
        assert_eq!(DataType::from_registry_name(" Objlnk "), Some(DataType::Objlnk));
        assert_eq!(DataType::from_registry_name("integer"), None);
    }

    #[test]
    fn every_value_reports_its_type() {
        assert_eq!(Value::Integer(-1).data_type(), DataType::Integer);
        assert_eq!(Value::UnsignedInteger(1).data_type(), DataType::UnsignedInteger);
        assert_eq!(Value::Objlnk(3, 0).data_type(), DataType::Objlnk);
        assert_eq!(Value::Corelnk("</3>").data_type(), DataType::Corelnk);
        assert_eq!(Value::None.data_type(), DataType::None);
    }

    #[test]
    fn coerce_is_exact_or_refuses() {
        assert_eq!(Value::Integer(5).coerce(DataType::Time), Ok(Value::Time(5)));
        assert_eq!(
            Value::Integer(-5).coerce(DataType::UnsignedInteger),
            Err(ValueError::OutOfRange)
        );
        assert_eq!(
            Value::UnsignedInteger(u64::MAX).coerce(DataType::Integer),
            Err(ValueError::OutOfRange)
        );
        assert_eq!(Value::Float(3.0).coerce(DataType::Integer), Ok(Value::Integer(3)));
        assert_eq!(Value::Float(3.5).coerce(DataType::Integer), Err(ValueError::TypeMismatch));
        assert_eq!(Value::Float(1e300).coerce(DataType::Integer), Err(ValueError::OutOfRange));
        assert_eq!(Value::Float(f64::NAN).coerce(DataType::Time), Err(ValueError::OutOfRange));
        assert_eq!(Value::Integer(2).coerce(DataType::Float), Ok(Value::Float(2.0)));
        assert_eq!(Value::String("3:0").coerce(DataType::Objlnk), Ok(Value::Objlnk(3, 0)));
        assert_eq!(Value::String("3:").coerce(DataType::Objlnk), Err(ValueError::TypeMismatch));
        assert_eq!(Value::String("x").coerce(DataType::Corelnk), Ok(Value::Corelnk("x")));
        assert_eq!(Value::Boolean(true).coerce(DataType::Integer), Err(ValueError::TypeMismatch));
        assert_eq!(Value::Opaque(b"a").coerce(DataType::Opaque), Ok(Value::Opaque(b"a")));
    }

    #[test]
    fn displays_as_text_plain() {
        assert_eq!(Value::Boolean(true).to_string(), "1");
        assert_eq!(Value::Objlnk(66, 65535).to_string(), "66:65535");
        assert_eq!(Value::Integer(-42).to_string(), "-42");
        assert_eq!(Value::Opaque(&[0xde, 0xad]).to_string(), "dead");
    }

    #[test]
    fn accessors_answer_only_for_their_type() {
        assert_eq!(Value::Time(5).as_i64(), Some(5));
        assert_eq!(Value::UnsignedInteger(5).as_i64(), None);
        assert_eq!(Value::UnsignedInteger(5).as_u64(), Some(5));
        assert_eq!(Value::Float(0.5).as_f64(), Some(0.5));
        assert_eq!(Value::Boolean(true).as_bool(), Some(true));
        assert_eq!(Value::Corelnk("</1>").as_str(), Some("</1>"));
        assert_eq!(Value::Opaque(b"ab").as_bytes(), Some(&b"ab"[..]));
        assert_eq!(Value::String("ab").as_bytes(), None);
        assert_eq!(Value::Objlnk(1, 2).as_objlnk(), Some((1, 2)));
        assert_eq!(Value::None.as_str(), None);
    }

    #[test]
    fn objlnk_text_needs_two_u16() {
        assert_eq!(parse_objlnk("65535:65535"), Some((65535, 65535)));
        assert_eq!(parse_objlnk("65536:0"), None);
        assert_eq!(parse_objlnk("+1:0"), None);
        assert_eq!(parse_objlnk("1"), None);
    }
}
