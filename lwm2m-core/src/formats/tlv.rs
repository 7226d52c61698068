//! OMA TLV, `application/vnd.oma.lwm2m+tlv` (content format 11542,
//! OMA-TS-LightweightM2M_Core 1.1 §7.4.3).
//!
//! Each element is a type byte (bits 7–6: 00 Object Instance, 01 Resource
//! Instance, 10 Multiple Resource, 11 Resource with Value; bit 5: 16-bit
//! identifier; bits 4–3: length field of 0–3 bytes; bits 2–0: the length when
//! it fits), the identifier, the length, and the value.
//!
//! TLV carries no types: the decoder asks a [`TypeResolver`] and yields
//! `Opaque` for unknown resources. Which elements may appear at the top level
//! depends on the request path, so both directions take it (`base`).
//!
//! The encoder emits minimal lengths, minimal two's-complement integers
//! (1, 2, 4 or 8 bytes) and a 4-byte float when the value is exactly a
//! binary32. Container lengths (object instances, multiple resources) are
//! measured by a first walk into a [`Plan`] of at most [`MAX_CONTAINERS`]
//! entries.
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::reader::Reader;
use super::{Chunk, DecodeError, EncodeError, Encoder, TypeResolver, Window, check_below};
use crate::path::Path;
use crate::value::{DataType, Value, ValueError};

/// Most length-prefixed containers one TLV encoding may hold.
pub const MAX_CONTAINERS: usize = 64;

/// Identifier type of a TLV element (type byte bits 7–6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// 00: Object Instance, containing resources.
    ObjectInstance,
    /// 01: Resource Instance, inside a Multiple Resource.
    ResourceInstance,
    /// 10: Multiple Resource, containing resource instances.
    MultipleResource,
    /// 11: Resource with Value.
    Resource,
}

impl Kind {
    const fn bits(self) -> u8 {
        match self {
            Kind::ObjectInstance => 0b00,
            Kind::ResourceInstance => 0b01,
            Kind::MultipleResource => 0b10,
            Kind::Resource => 0b11,
        }
    }

    const fn from_bits(b: u8) -> Kind {
        match b & 0b11 {
            0b00 => Kind::ObjectInstance,
            0b01 => Kind::ResourceInstance,
            0b10 => Kind::MultipleResource,
            _ => Kind::Resource,
        }
    }
}

/// Container lengths measured by the first walk.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    lens: heapless::Vec<u32, MAX_CONTAINERS>,
}

impl Plan {
    /// An empty plan.
    pub const fn new() -> Plan {
        Plan { lens: heapless::Vec::new() }
    }
}

/// The bytes of a TLV element header: type, identifier, length.
fn header(kind: Kind, id: u16, len: usize) -> Result<([u8; 6], usize), EncodeError> {
    let mut h = [0u8; 6];
    let mut n = 1;
    let mut t = kind.bits() << 6;
    let [id_hi, id_lo] = id.to_be_bytes();
    if id > 0xff {
        t |= 1 << 5;
        h[1] = id_hi;
        h[2] = id_lo;
        n += 2;
    } else {
        h[1] = id_lo;
        n += 1;
    }
    let len32 = u32::try_from(len).map_err(|_| EncodeError::TooLong)?;
    let [_, l2, l1, l0] = len32.to_be_bytes();
    let len_bytes: &[u8] = match len32 {
        0..=7 => {
            t |= l0;
            &[]
        }
        8..=0xff => {
            t |= 0b01 << 3;
            &[l0]
        }
        0x100..=0xffff => {
            t |= 0b10 << 3;
            &[l1, l0]
        }
        0x1_0000..=0xff_ffff => {
            t |= 0b11 << 3;
            &[l2, l1, l0]
        }
        _ => return Err(EncodeError::TooLong),
    };
    for &b in len_bytes {
        if let Some(slot) = h.get_mut(n) {
            *slot = b;
        }
        n += 1;
    }
    h[0] = t;
    Ok((h, n))
}

fn header_len(id: u16, len: usize) -> usize {
    let id_len = if id > 0xff { 2 } else { 1 };
    let len_len = match len {
        0..=7 => 0,
        8..=0xff => 1,
        0x100..=0xffff => 2,
        _ => 3,
    };
    1 + id_len + len_len
}

/// The value bytes of a TLV element.
enum Bytes<'v> {
    Borrowed(&'v [u8]),
    Inline([u8; 8], usize),
}

impl Bytes<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Borrowed(b) => b,
            Bytes::Inline(a, n) => a.get(..*n).unwrap_or(&[]),
        }
    }
}

fn int_bytes(n: i64) -> Bytes<'static> {
    let be = n.to_be_bytes();
    let len = if i8::try_from(n).is_ok() {
        1
    } else if i16::try_from(n).is_ok() {
        2
    } else if i32::try_from(n).is_ok() {
        4
    } else {
        8
    };
    tail(be, len)
}

fn uint_bytes(n: u64) -> Bytes<'static> {
    let len = if u8::try_from(n).is_ok() {
        1
    } else if u16::try_from(n).is_ok() {
        2
    } else if u32::try_from(n).is_ok() {
        4
    } else {
        8
    };
    tail(n.to_be_bytes(), len)
}

/// The last `len` bytes of a big-endian u64, left-aligned.
fn tail(be: [u8; 8], len: usize) -> Bytes<'static> {
    let mut a = [0u8; 8];
    if let (Some(dst), Some(src)) = (a.get_mut(..len), be.get(8 - len..)) {
        dst.copy_from_slice(src);
    }
    Bytes::Inline(a, len)
}

fn value_bytes<'v>(v: &Value<'v>) -> Bytes<'v> {
    match *v {
        Value::Integer(n) | Value::Time(n) => int_bytes(n),
        Value::UnsignedInteger(n) => uint_bytes(n),
        Value::Float(x) => {
            #[expect(clippy::cast_possible_truncation, reason = "exactness checked next")]
            let single = x as f32;
            if f64::from(single) == x {
                tail(u64::from(single.to_bits()).to_be_bytes(), 4)
            } else {
                tail(x.to_bits().to_be_bytes(), 8)
            }
        }
        Value::Boolean(b) => tail([0, 0, 0, 0, 0, 0, 0, u8::from(b)], 1),
        Value::String(s) | Value::Corelnk(s) => Bytes::Borrowed(s.as_bytes()),
        Value::Opaque(b) => Bytes::Borrowed(b),
        Value::Objlnk(o, i) => {
            let [a, b] = o.to_be_bytes();
            let [c, d] = i.to_be_bytes();
            tail([0, 0, 0, 0, a, b, c, d], 4)
        }
        Value::None => Bytes::Inline([0; 8], 0),
    }
}

/// Decodes the value bytes of a TLV element as type `t`.
///
/// # Errors
/// [`DecodeError::Value`] for a length the type does not allow,
/// [`DecodeError::Utf8`] for text that is not UTF-8.
pub fn decode_value(bytes: &[u8], t: DataType) -> Result<Value<'_>, DecodeError> {
    let mismatch = DecodeError::Value(ValueError::TypeMismatch);
    let be = |b: &[u8]| b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
    let signed = |b: &[u8]| -> Result<i64, DecodeError> {
        let raw = be(b);
        #[expect(clippy::cast_possible_wrap, reason = "two's complement reinterpretation")]
        Ok(match b.len() {
            1 => i64::from(raw as u8 as i8),
            2 => i64::from(raw as u16 as i16),
            4 => i64::from(raw as u32 as i32),
            8 => raw as i64,
            _ => return Err(mismatch),
        })
    };
    Ok(match t {
        DataType::Integer => Value::Integer(signed(bytes)?),
        DataType::Time => Value::Time(signed(bytes)?),
        DataType::UnsignedInteger => match bytes.len() {
            1 | 2 | 4 | 8 => Value::UnsignedInteger(be(bytes)),
            _ => return Err(mismatch),
        },
        DataType::Float => match bytes.len() {
            4 => Value::Float(f64::from(f32::from_bits(
                u32::try_from(be(bytes)).map_err(|_| mismatch)?,
            ))),
            8 => Value::Float(f64::from_bits(be(bytes))),
            _ => return Err(mismatch),
        },
        DataType::Boolean => match bytes {
            [0] => Value::Boolean(false),
            [1] => Value::Boolean(true),
            _ => return Err(mismatch),
        },
        DataType::String => Value::String(core::str::from_utf8(bytes)?),
        DataType::Corelnk => Value::Corelnk(core::str::from_utf8(bytes)?),
        DataType::Opaque => Value::Opaque(bytes),
        DataType::Objlnk => match bytes {
            [a, b, c, d] => {
                Value::Objlnk(u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))
            }
            _ => return Err(mismatch),
        },
        DataType::None => {
            if !bytes.is_empty() {
                return Err(mismatch);
            }
            Value::None
        }
    })
}

#[derive(Debug, Clone, Copy)]
struct Open {
    id: u16,
    idx: usize,
    len: usize,
}

#[derive(Debug)]
enum Mode<'p, 'b> {
    Measure(&'p mut Plan),
    Emit { plan: &'p Plan, out: Window<'b> },
}

/// The TLV encoder: one instance measures (first walk), another emits.
#[derive(Debug)]
pub struct TlvEncoder<'p, 'b> {
    base: Path,
    mode: Mode<'p, 'b>,
    inst: Option<Open>,
    multi: Option<Open>,
    next: usize,
}

impl<'p, 'b> TlvEncoder<'p, 'b> {
    /// The measuring encoder of the first walk: records container lengths.
    pub fn measure(base: &Path, plan: &'p mut Plan) -> TlvEncoder<'p, 'b> {
        plan.lens.clear();
        TlvEncoder { base: *base, mode: Mode::Measure(plan), inst: None, multi: None, next: 0 }
    }

    /// The emitting encoder of the second walk.
    pub fn emit(base: &Path, plan: &'p Plan, out: Window<'b>) -> TlvEncoder<'p, 'b> {
        TlvEncoder { base: *base, mode: Mode::Emit { plan, out }, inst: None, multi: None, next: 0 }
    }

    /// Closes open containers and returns what the window holds (an empty
    /// chunk for a measuring encoder).
    ///
    /// # Errors
    /// [`EncodeError::WalkChanged`] if the emitting walk differs from the plan.
    pub fn finish(mut self) -> Result<Chunk, EncodeError> {
        self.close_multi()?;
        self.close_inst()?;
        match self.mode {
            Mode::Measure(_) => Ok(Chunk { len: 0, more: false, produced: 0 }),
            Mode::Emit { plan, out } => {
                if self.next != plan.lens.len() {
                    return Err(EncodeError::WalkChanged);
                }
                Ok(out.finish())
            }
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        if let Mode::Emit { out, .. } = &mut self.mode {
            out.put(bytes);
        }
    }

    /// Adds `n` bytes to the innermost open container.
    fn account(&mut self, n: usize) {
        if let Some(m) = &mut self.multi {
            m.len = m.len.saturating_add(n);
        } else if let Some(i) = &mut self.inst {
            i.len = i.len.saturating_add(n);
        }
    }

    fn open(&mut self, kind: Kind, id: u16) -> Result<Open, EncodeError> {
        let idx = self.next;
        self.next += 1;
        let planned = match &mut self.mode {
            Mode::Measure(plan) => {
                plan.lens.push(0).map_err(|_| EncodeError::TooManyContainers)?;
                0
            }
            Mode::Emit { plan, .. } => {
                let len = plan.lens.get(idx).copied().ok_or(EncodeError::WalkChanged)?;
                usize::try_from(len).map_err(|_| EncodeError::TooLong)?
            }
        };
        if matches!(self.mode, Mode::Emit { .. }) {
            let (h, n) = header(kind, id, planned)?;
            self.put(h.get(..n).unwrap_or(&[]));
        }
        Ok(Open { id, idx, len: 0 })
    }

    fn close(&mut self, c: Open) -> Result<(), EncodeError> {
        let len32 = u32::try_from(c.len).map_err(|_| EncodeError::TooLong)?;
        if len32 > 0xff_ffff {
            return Err(EncodeError::TooLong);
        }
        match &mut self.mode {
            Mode::Measure(plan) => {
                if let Some(slot) = plan.lens.get_mut(c.idx) {
                    *slot = len32;
                }
            }
            Mode::Emit { plan, .. } => {
                if plan.lens.get(c.idx) != Some(&len32) {
                    return Err(EncodeError::WalkChanged);
                }
            }
        }
        Ok(())
    }

    fn close_multi(&mut self) -> Result<(), EncodeError> {
        if let Some(m) = self.multi.take() {
            self.close(m)?;
            let total = header_len(m.id, m.len).saturating_add(m.len);
            self.account(total);
        }
        Ok(())
    }

    fn close_inst(&mut self) -> Result<(), EncodeError> {
        if let Some(i) = self.inst.take() {
            self.close(i)?;
        }
        Ok(())
    }
}

impl Encoder for TlvEncoder<'_, '_> {
    fn write(&mut self, path: &Path, value: &Value<'_>) -> Result<(), EncodeError> {
        check_below(&self.base, path)?;
        let b = self.base.depth();
        let d = path.depth();
        if b == 0 || d < 3 {
            return Err(EncodeError::Level);
        }
        let want_inst = if b == 1 { path.instance_id() } else { None };
        let want_multi = if d == 4 && b <= 3 { path.resource_id() } else { None };

        if self.inst.map(|i| i.id) != want_inst {
            self.close_multi()?;
            self.close_inst()?;
        }
        if self.multi.map(|m| m.id) != want_multi {
            self.close_multi()?;
        }
        if let (None, Some(id)) = (self.inst, want_inst) {
            self.inst = Some(self.open(Kind::ObjectInstance, id)?);
        }
        if let (None, Some(id)) = (self.multi, want_multi) {
            // The multiple resource's header counts in its instance.
            let m = self.open(Kind::MultipleResource, id)?;
            self.multi = Some(m);
        }

        let (kind, id) = match (d, path.resource_instance_id(), path.resource_id()) {
            (4, Some(ri), _) => (Kind::ResourceInstance, ri),
            (_, _, Some(r)) => (Kind::Resource, r),
            _ => return Err(EncodeError::Level),
        };
        let bytes = value_bytes(value);
        let v = bytes.as_slice();
        let (h, n) = header(kind, id, v.len())?;
        self.put(h.get(..n).unwrap_or(&[]));
        self.put(v);
        self.account(n.saturating_add(v.len()));
        Ok(())
    }
}

/// One parsed TLV element.
fn element<'a>(r: &mut Reader<'a>) -> Result<(Kind, u16, Reader<'a>), DecodeError> {
    let t = r.u8()?;
    let kind = Kind::from_bits(t >> 6);
    let id_len = if t & 0x20 != 0 { 2 } else { 1 };
    let id = u16::try_from(r.uint_be(id_len)?).map_err(|_| DecodeError::Syntax)?;
    let len = match (t >> 3) & 0b11 {
        0 => u64::from(t & 0b111),
        n => r.uint_be(usize::from(n))?,
    };
    let len = usize::try_from(len).map_err(|_| DecodeError::Truncated)?;
    Ok((kind, id, r.sub(len)?))
}

/// For a Create on `/O`: the identifier of the Object Instance TLV the
/// payload starts with, or `None` when it holds bare resources and the
/// client picks the instance identifier (TS §6.3.6). Decode the first case
/// with base `/O` and the second with base `/O/<new id>`.
///
/// # Errors
/// [`DecodeError`] when the first element is malformed.
pub fn leading_instance_id(payload: &[u8]) -> Result<Option<u16>, DecodeError> {
    let mut r = Reader::new(payload);
    if r.is_empty() {
        return Ok(None);
    }
    let (kind, id, _) = element(&mut r)?;
    Ok((kind == Kind::ObjectInstance).then_some(id))
}

/// Decodes a TLV payload sent to `base` into `(path, value)` items.
#[derive(Debug)]
pub struct TlvDecoder<'a, R> {
    base: Path,
    types: R,
    top: Reader<'a>,
    inst: Option<(u16, Reader<'a>)>,
    multi: Option<(Path, Reader<'a>)>,
    done: bool,
}

impl<'a, R: TypeResolver> TlvDecoder<'a, R> {
    /// A decoder for `payload` sent to `base`.
    pub fn new(base: &Path, payload: &'a [u8], types: R) -> TlvDecoder<'a, R> {
        TlvDecoder {
            base: *base,
            types,
            top: Reader::new(payload),
            inst: None,
            multi: None,
            done: false,
        }
    }

    fn value(&self, path: Path, bytes: Reader<'a>) -> Result<(Path, Value<'a>), DecodeError> {
        let raw = bytes.into_rest();
        match self.types.data_type(&path) {
            Some(t) => Ok((path, decode_value(raw, t)?)),
            None => Ok((path, Value::Opaque(raw))),
        }
    }

    /// The instance path items at this point belong to.
    fn instance(&self) -> Result<Path, DecodeError> {
        match (self.inst.as_ref().map(|(iid, _)| *iid), self.base.object_id()) {
            (Some(iid), Some(o)) => Ok(Path::instance(o, iid)?),
            _ => Ok(self.base.truncated(2)),
        }
    }

    fn step(&mut self) -> Result<Option<(Path, Value<'a>)>, DecodeError> {
        let b = self.base.depth();
        loop {
            if let Some((prefix, r)) = &mut self.multi {
                if r.is_empty() {
                    self.multi = None;
                    continue;
                }
                let prefix = *prefix;
                let (kind, id, v) = element(r)?;
                if kind != Kind::ResourceInstance {
                    return Err(DecodeError::Unexpected);
                }
                return self.value(prefix.child(id)?, v).map(Some);
            }
            if let Some((_, r)) = &mut self.inst {
                if r.is_empty() {
                    self.inst = None;
                    continue;
                }
                let (kind, id, v) = element(r)?;
                let path = self.instance()?.child(id)?;
                match kind {
                    Kind::Resource => return self.value(path, v).map(Some),
                    Kind::MultipleResource => self.multi = Some((path, v)),
                    _ => return Err(DecodeError::Unexpected),
                }
                continue;
            }
            if self.top.is_empty() {
                return Ok(None);
            }
            let (kind, id, v) = element(&mut self.top)?;
            let same = |level: usize| self.base.ids().get(level) == Some(&id);
            match (kind, b) {
                (Kind::ObjectInstance, 1) => self.inst = Some((id, v)),
                (Kind::ObjectInstance, 2) if same(1) => self.inst = Some((id, v)),
                (Kind::Resource, 2) => {
                    return self.value(self.base.child(id)?, v).map(Some);
                }
                (Kind::Resource, 3) if same(2) => return self.value(self.base, v).map(Some),
                (Kind::MultipleResource, 2) => self.multi = Some((self.base.child(id)?, v)),
                (Kind::MultipleResource, 3) if same(2) => self.multi = Some((self.base, v)),
                (Kind::ResourceInstance, 3) => {
                    return self.value(self.base.child(id)?, v).map(Some);
                }
                (Kind::ResourceInstance, 4) if same(3) => {
                    return self.value(self.base, v).map(Some);
                }
                (_, 0) => return Err(DecodeError::Unexpected),
                _ => return Err(DecodeError::OutsideBase),
            }
        }
    }
}

impl<'a, R: TypeResolver> Iterator for TlvDecoder<'a, R> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn header_uses_the_shortest_length_field() {
        let h = |k, id, len| {
            let (b, n) = header(k, id, len).unwrap();
            b[..n].to_vec()
        };
        extern crate std;
        use std::vec;
        assert_eq!(h(Kind::Resource, 0, 20), vec![0xC8, 0x00, 0x14]);
        assert_eq!(h(Kind::Resource, 3, 3), vec![0xC3, 0x03]);
        assert_eq!(h(Kind::ResourceInstance, 310, 1), vec![0x61, 0x01, 0x36]);
        assert_eq!(h(Kind::ObjectInstance, 0, 0x100), vec![0x10, 0x00, 0x01, 0x00]);
        assert_eq!(h(Kind::MultipleResource, 1, 0x10000), vec![0x98, 0x01, 0x01, 0x00, 0x00]);
        assert_eq!(header(Kind::Resource, 1, 0x100_0000), Err(EncodeError::TooLong));
    }

    #[test]
    fn create_payloads_tell_whether_they_name_the_instance() {
        assert_eq!(leading_instance_id(&[0x08, 0x05, 0x03, 0xC1, 0x00, 0x01]), Ok(Some(5)));
        assert_eq!(leading_instance_id(&[0xC1, 0x00, 0x01]), Ok(None));
        assert_eq!(leading_instance_id(&[]), Ok(None));
        assert_eq!(leading_instance_id(&[0x08, 0x05, 0x03]), Err(DecodeError::Truncated));
    }

    #[test]
    fn integers_take_the_smallest_twos_complement_width() {
        let w = |n| value_bytes(&Value::Integer(n)).as_slice().to_vec();
        extern crate std;
        use std::vec;
        assert_eq!(w(127), vec![0x7f]);
        assert_eq!(w(128), vec![0x00, 0x80]);
        assert_eq!(w(-128), vec![0x80]);
        assert_eq!(w(-129), vec![0xff, 0x7f]);
        assert_eq!(w(1367491215), vec![0x51, 0x82, 0x42, 0x8f]);
        assert_eq!(w(i64::MIN).len(), 8);
        for n in [0, 127, 128, -129, 70000, -70000, i64::MAX, i64::MIN] {
            assert_eq!(decode_value(&w(n), DataType::Integer).unwrap(), Value::Integer(n));
        }
        assert!(decode_value(&[1, 2, 3], DataType::Integer).is_err());
    }
}
