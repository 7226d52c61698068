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

/// The base name the encoders put in a record: the request path and a `/`
/// (`/3/0/`), the path itself when the record is the request path (a single
/// resource), and none for the root (names are then full paths).
fn base_name(base: &Path, first: &Path) -> heapless::String<MAX_NAME> {
    if base.is_root() {
        return heapless::String::new();
    }
    let mut s = path_text(base);
    if first != base {
        let _ = s.push('/');
    }
    s
}

/// Output naming: which base name is in force, and what each record says.
#[derive(Debug, Default)]
pub(crate) struct Names {
    bn: Option<heapless::String<MAX_NAME>>,
}

impl Names {
    /// For the next record at `path`: the base name to write in it (the
    /// first record's, or a new one when the base name in force is not a
    /// prefix of the path) and the name relative to the base name.
    pub(crate) fn next(
        &mut self,
        base: &Path,
        path: &Path,
    ) -> (Option<heapless::String<MAX_NAME>>, heapless::String<MAX_NAME>) {
        let full = path_text(path);
        let new_bn = match &self.bn {
            Some(bn) if full.starts_with(bn.as_str()) => None,
            None => Some(base_name(base, path)).filter(|b| !b.is_empty()),
            Some(_) => Some(base_name(base, path)),
        };
        let bn = match (&new_bn, &mut self.bn) {
            (Some(b), slot) => slot.insert(b.clone()),
            (None, Some(b)) => b,
            (None, slot) => slot.insert(heapless::String::new()),
        };
        let mut n = heapless::String::new();
        let _ = n.push_str(full.strip_prefix(bn.as_str()).unwrap_or(&full));
        (new_bn, n)
    }

    /// `true` before the first record.
    pub(crate) fn is_first(&self) -> bool {
        self.bn.is_none()
    }
}
