//! `application/octet-stream` (content format 42): the raw bytes of one
//! Opaque resource (OMA-TS-LightweightM2M_Core 1.1 §7.4.2).
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{Chunk, DecodeError, EncodeError, Encoder, Window};
use crate::path::{Level, Path};
use crate::value::Value;

/// Encodes exactly one Opaque value.
#[derive(Debug)]
pub struct OpaqueEncoder<'b> {
    out: Window<'b>,
    written: bool,
}

impl<'b> OpaqueEncoder<'b> {
    /// An encoder writing into `out`.
    pub fn new(out: Window<'b>) -> OpaqueEncoder<'b> {
        OpaqueEncoder { out, written: false }
    }

    /// Ends the encoding.
    ///
    /// # Errors
    /// [`EncodeError::Empty`] if no value was written.
    pub fn finish(self) -> Result<Chunk, EncodeError> {
        if !self.written {
            return Err(EncodeError::Empty);
        }
        Ok(self.out.finish())
    }
}

impl Encoder for OpaqueEncoder<'_> {
    fn write(&mut self, _path: &Path, value: &Value<'_>) -> Result<(), EncodeError> {
        if self.written {
            return Err(EncodeError::MultipleValues);
        }
        match value {
            Value::Opaque(b) => self.out.put(b),
            _ => return Err(EncodeError::UnsupportedType),
        }
        self.written = true;
        Ok(())
    }
}

/// Decodes an octet-stream payload: one `(base, Opaque)` item.
#[derive(Debug)]
pub struct OpaqueDecoder<'a> {
    base: Path,
    payload: Option<&'a [u8]>,
}

impl<'a> OpaqueDecoder<'a> {
    /// A decoder for a payload sent to `base` (a resource or resource instance).
    pub fn new(base: &Path, payload: &'a [u8]) -> OpaqueDecoder<'a> {
        OpaqueDecoder { base: *base, payload: Some(payload) }
    }
}

impl<'a> Iterator for OpaqueDecoder<'a> {
    type Item = Result<(Path, Value<'a>), DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        let payload = self.payload.take()?;
        if !matches!(self.base.level(), Level::Resource | Level::ResourceInstance) {
            return Some(Err(DecodeError::Unexpected));
        }
        Some(Ok((self.base, Value::Opaque(payload))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn opaque_is_the_bytes_themselves_in_both_directions() {
        let p = Path::resource(5, 0, 0).unwrap();
        let data = [0u8, 1, 0xff, 0x80];
        let mut buf = [0xa5u8; 8];
        let mut e = OpaqueEncoder::new(Window::new(&mut buf));
        e.write(&p, &Value::Opaque(&data)).unwrap();
        let c = e.finish().unwrap();
        assert_eq!(&buf[..c.len], &data);
        assert_eq!(buf[4..], [0xa5; 4]);
        let mut d = OpaqueDecoder::new(&p, &data);
        assert_eq!(d.next().unwrap().unwrap(), (p, Value::Opaque(&data)));
        assert!(d.next().is_none());
        let mut e = OpaqueEncoder::new(Window::new(&mut buf));
        assert_eq!(e.write(&p, &Value::String("x")), Err(EncodeError::UnsupportedType));
    }
}
