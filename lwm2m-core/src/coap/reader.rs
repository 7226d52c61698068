//! A non-panicking cursor over a byte slice, for every variable-length part
//! of a wire format (the model is rustls's `msgs/codec.rs` `Reader`).
//!
//! Guarantee: nothing here panics on any input. Every read either returns the
//! bytes asked for, or `None` and leaves the cursor where it was, so length
//! checks live here instead of in each parser.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// A cursor over `&'a [u8]`: reads advance it, failed reads do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// The next `n` bytes, or `None` (cursor unchanged) if fewer remain.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// The next `N` bytes as an array, or `None` if fewer remain.
    pub fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.rest.split_first_chunk::<N>()?;
        self.rest = tail;
        Some(*head)
    }

    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.take_array::<1>().map(|[b]| b)
    }

    /// A big-endian `u16` (network byte order).
    pub fn u16_be(&mut self) -> Option<u16> {
        self.take_array::<2>().map(u16::from_be_bytes)
    }

    /// A reader over the next `n` bytes (a length-prefixed section); the
    /// outer cursor moves past them.
    pub fn sub(&mut self, n: usize) -> Option<Reader<'a>> {
        self.take(n).map(Reader::new)
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Everything that is left; the cursor ends up empty.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    /// The unread bytes, without consuming them.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Number of unread bytes.
    pub fn len(&self) -> usize {
        self.rest.len()
    }

    /// No bytes left.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// `Some(())` if every byte was read, `None` if bytes remain.
    pub fn finish(self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests may panic")]
mod tests {
    use super::*;

    #[test]
    fn failed_reads_leave_the_cursor_in_place() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.take(3), None);
        assert_eq!(r.take_array::<4>(), None);
        assert_eq!(r.u16_be(), Some(0x0203));
        assert_eq!(r.u8(), None);
        assert_eq!(r.finish(), Some(()));
    }

    #[test]
    fn sub_reader_covers_exactly_n_bytes_and_finish_rejects_leftovers() {
        let mut r = Reader::new(&[2, 0xaa, 0xbb, 0xcc]);
        let n = usize::from(r.u8().unwrap());
        let mut s = r.sub(n).unwrap();
        assert_eq!(s.rest(), &[0xaa, 0xbb]);
        assert_eq!(r.peek(), Some(0xcc));
        assert_eq!(r.finish(), None);
    }
}
