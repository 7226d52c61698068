//! Injected randomness.
//!
//! The core never owns an entropy source. Message-ID starts, tokens and the
//! ACK_RANDOM_FACTOR jitter of RFC 7252 §4.8 come from an [`Rng`] the caller
//! supplies, so two runs with the same seed and the same inputs produce the
//! same bytes on the wire. [`XorShiftRng`] is a small deterministic generator
//! for tests and simulations; a device should feed a hardware RNG.

/// A source of random 32-bit words.
pub trait Rng {
    /// The next random word. MUST NOT block and MUST NOT fail.
    fn next_u32(&mut self) -> u32;

    /// Fill `dest` with random bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(4) {
            let word = self.next_u32().to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(word) {
                *d = s;
            }
        }
    }

    /// A value uniformly-ish distributed in `0..bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u32) -> u32 {
        if bound == 0 {
            0
        } else {
            // Multiply-shift reduction (Lemire): bias below 2^-32 * bound.
            ((u64::from(self.next_u32()) * u64::from(bound)) >> 32) as u32
        }
    }
}

impl<R: Rng + ?Sized> Rng for &mut R {
    fn next_u32(&mut self) -> u32 {
        (**self).next_u32()
    }
}

/// xorshift32: deterministic, tiny, **not** cryptographic. For tests and the
/// simulation, where the same seed must give the same trace.
#[derive(Debug, Clone)]
pub struct XorShiftRng {
    state: u32,
}

impl XorShiftRng {
    /// A generator from `seed` (a zero seed is replaced, xorshift needs a non-zero state).
    pub const fn new(seed: u32) -> Self {
        XorShiftRng { state: if seed == 0 { 0x9E37_79B9 } else { seed } }
    }
}

impl Rng for XorShiftRng {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = XorShiftRng::new(42);
        let mut b = XorShiftRng::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u32(), b.next_u32());
        }
        let mut c = XorShiftRng::new(43);
        assert_ne!(XorShiftRng::new(42).next_u32(), c.next_u32());
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = XorShiftRng::new(7);
        for bound in [1u32, 2, 3, 1000, u32::MAX] {
            for _ in 0..100 {
                assert!(r.below(bound) < bound);
            }
        }
        assert_eq!(r.below(0), 0);
    }
}
