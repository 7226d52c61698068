//! The output side of every encoder: a byte window over the logical encoding.
//!
//! Guarantee: writing any amount of data never panics and never fails; bytes
//! outside the window are counted, not stored.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::fmt;

/// Keeps bytes `[offset, offset + buf.len())` of everything written to it
/// and counts the rest (see the [module docs](super) for block-wise use).
#[derive(Debug)]
pub struct Window<'b> {
    buf: &'b mut [u8],
    offset: usize,
    /// Logical position: bytes produced so far by the whole encoding.
    pos: usize,
}

/// What one walk left in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Chunk {
    /// Bytes written at the start of the caller's buffer.
    pub len: usize,
    /// `true` if the encoding goes on past the end of the window (the next
    /// block starts at `offset + len`).
    pub more: bool,
    /// Bytes of the logical encoding produced by the walk (the total size
    /// when the walk ran to the end).
    pub produced: usize,
}

impl<'b> Window<'b> {
    /// A window on the start of the encoding.
    pub fn new(buf: &'b mut [u8]) -> Window<'b> {
        Window::at(buf, 0)
    }

    /// A window on bytes `[offset, offset + buf.len())` of the encoding.
    pub fn at(buf: &'b mut [u8], offset: usize) -> Window<'b> {
        Window { buf, offset, pos: 0 }
    }

    /// Appends bytes to the logical encoding.
    pub fn put(&mut self, bytes: &[u8]) {
        let start = self.pos;
        self.pos = self.pos.saturating_add(bytes.len());
        // Intersection of [start, pos) with [offset, offset + len).
        let lo = start.max(self.offset);
        let hi = self.pos.min(self.offset.saturating_add(self.buf.len()));
        if lo >= hi {
            return;
        }
        let src = bytes.get(lo - start..hi - start);
        let dst = self.buf.get_mut(lo - self.offset..hi - self.offset);
        if let (Some(src), Some(dst)) = (src, dst) {
            dst.copy_from_slice(src);
        }
    }

    /// Appends one byte.
    pub fn put_u8(&mut self, b: u8) {
        self.put(&[b]);
    }

    /// Bytes produced so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// `true` once bytes beyond the window were produced: the window is
    /// complete and more follows, so the walk may stop.
    pub fn is_full(&self) -> bool {
        self.pos > self.offset.saturating_add(self.buf.len())
    }

    /// The result of the walk.
    pub fn finish(self) -> Chunk {
        let end = self.pos.min(self.offset.saturating_add(self.buf.len()));
        Chunk { len: end.saturating_sub(self.offset), more: self.is_full(), produced: self.pos }
    }
}

impl fmt::Write for Window<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

impl minicbor::encode::Write for Window<'_> {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.put(buf);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_only_its_slice_and_counts_the_rest() {
        let data: [u8; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        for offset in 0..12 {
            for size in 0..6 {
                for split in 0..=10 {
                    let mut buf = [0xa5u8; 6];
                    let mut w = Window::at(&mut buf[..size], offset);
                    w.put(&data[..split]);
                    w.put(&data[split..]);
                    let c = w.finish();
                    let lo = offset.min(10);
                    let hi = (offset + size).min(10);
                    assert_eq!(c.len, hi - lo);
                    assert_eq!(&buf[..c.len], &data[lo..hi]);
                    assert!(buf[c.len..].iter().all(|&b| b == 0xa5));
                    assert_eq!(c.more, offset + size < 10);
                    assert_eq!(c.produced, 10);
                }
            }
        }
    }
}
