//! What SenML JSON and SenML CBOR share (RFC 8428 §4, as profiled by
//! OMA-TS-LightweightM2M_Core 1.1 §7.4.4–7.4.5): records, base-name
//! resolution, and the choice of base name and names on output.
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{DecodeError, TypeResolver, typed};
use crate::path::{Path, PathError};
use crate::value::Value;
use core::fmt::Write;

/// The longest resolved name (`bn` + `n`) we accept; a valid LwM2M path has
/// at most 24 characters.
const MAX_NAME: usize = 48;

/// One SenML record as LwM2M reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record<'a> {
    /// Base name + name, as a path.
    pub path: Path,
    /// The value (`Value::None` for a record without one, as in a
    /// Read-Composite request).
    pub value: Value<'a>,
    /// Base time + time, when the record or an earlier one has either
    /// (seconds; RFC 8428 §4.5.3: values below 2^28 are relative to "now").
    pub time: Option<f64>,
}

/// The fields of one record, before resolution.
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    pub(crate) n: Option<&'a str>,
    pub(crate) t: Option<f64>,
    pub(crate) value: Option<Value<'a>>,
}

/// Base values carried from record to record.
#[derive(Debug, Default)]
pub(crate) struct Bases<'a> {
    pub(crate) bn: &'a str,
    pub(crate) bt: Option<f64>,
}

impl<'a> Fields<'a> {
    pub(crate) fn set_value(&mut self, v: Value<'a>) -> Result<(), DecodeError> {
        if self.value.replace(v).is_some() {
            // RFC 8428 §4.2: a record has at most one value field.
            return Err(DecodeError::Unexpected);
        }
        Ok(())
    }

    /// Resolves the record against the bases and the request path.
    pub(crate) fn resolve<R: TypeResolver>(
        self,
        bases: &Bases<'a>,
        base: &Path,
        types: &R,
    ) -> Result<Record<'a>, DecodeError> {
        let n = self.n.unwrap_or("");
        let mut name: heapless::String<MAX_NAME> = heapless::String::new();
        name.push_str(bases.bn).map_err(|_| PathError::TooDeep)?;
        name.push_str(n).map_err(|_| PathError::TooDeep)?;
        let path = Path::parse(&name)?;
        if !base.contains(&path) {
            return Err(DecodeError::OutsideBase);
        }
        let value = typed(types, &path, self.value.unwrap_or(Value::None))?;
        let time = match (bases.bt, self.t) {
            (None, None) => None,
            (bt, t) => Some(bt.unwrap_or(0.0) + t.unwrap_or(0.0)),
        };
        Ok(Record { path, value, time })
    }
}

/// The text form of a path.
pub(crate) fn path_text(p: &Path) -> heapless::String<MAX_NAME> {
    let mut s = heapless::String::new();
    // 24 characters at most: cannot overflow MAX_NAME.
    let _ = write!(s, "{p}");
    s
}

/// The base name the encoders put in the first record: the request path and
/// a `/` (`/3/0/`), the path itself when the first record is the request
/// path (a single resource), and none for the root (names are then full paths).
pub(crate) fn base_name(base: &Path, first: &Path) -> heapless::String<MAX_NAME> {
    if base.is_root() {
        return heapless::String::new();
    }
    let mut s = path_text(base);
    if first != base {
        let _ = s.push('/');
    }
    s
}

/// The name of `path` relative to the base name `bn` (empty when equal).
pub(crate) fn name_after<'s>(full: &'s str, bn: &str) -> &'s str {
    full.strip_prefix(bn).unwrap_or(full)
}
