//! Randomness: the platform's random source (`carrier-api.md` §5 "Random").
//!
//! The runtime seeds its protocol generator (message IDs, tokens, jitter)
//! from here; a simulation port returns a seeded sequence so runs repeat.

/// A source of random numbers.
pub trait Random {
    /// A random 32-bit value.
    ///
    /// Contract: MUST NOT fail or block. On a device it SHOULD come from a
    /// hardware entropy source; a simulation port MAY return a seeded
    /// deterministic sequence (that is what makes its traces repeatable).
    fn random_u32(&mut self) -> u32;

    /// Fills `buf` with random bytes (default: from [`random_u32`](Random::random_u32)).
    fn fill_random(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(4) {
            let r = self.random_u32().to_le_bytes();
            for (b, r) in chunk.iter_mut().zip(r) {
                *b = r;
            }
        }
    }
}
