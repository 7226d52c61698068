//! `carrier_os::Random` for the nRF91: a xoshiro128++ generator seeded from
//! measured timing jitter.
//!
//! Owns the generator and the seeding rule; the samples come from the
//! caller (on a device, `device::entropy` times modem round trips with the
//! CPU cycle counter).
//!
//! **Why jitter, and how strong.** The nRF9160's only true random number
//! generator is inside CryptoCell 310, which is a secure-only peripheral:
//! a non-secure application (the only kind `nrf-modem` runs in) reaches it
//! only through the secure firmware's PSA service (`psa_generate_random` of
//! TF-M), which an image built without TF-M does not have. `AT%XMODEMUUID`
//! and the IMEI are identifiers, not entropy. The source used instead is
//! the time an AT round trip to the modem takes, counted in 64 MHz CPU
//! cycles: the modem core runs on its own clock and scheduler, so the low
//! bits of each duration vary from one round trip to the next. Nothing here
//! measures that variation on hardware, so the claim is deliberately
//! modest: the seed mixes 64 samples; at an assumed 1 bit of min-entropy
//! per sample that is 64 bits, enough for what the carrier client uses
//! randomness for (CoAP message IDs and tokens against off-path spoofing,
//! RFC 7252 §5.3.1, and retry jitter). It is **not** a key generator; DTLS
//! randoms are made by the modem itself. An application that links TF-M
//! should seed with [`SeededRandom::from_seed`] from `psa_generate_random`.
//!
//! Guarantee: never fails, never blocks, never returns a stuck sequence (an
//! all-zero state is replaced by a fixed non-zero one before use).

use carrier_os::random::Random;

/// Timing samples the seed mixes.
pub const JITTER_SAMPLES: usize = 64;

/// xoshiro128++ (Blackman & Vigna), 128-bit state.
#[derive(Debug, Clone)]
pub struct SeededRandom {
    s: [u32; 4],
}

/// MurmurHash3's 32-bit finaliser: every input bit affects every output bit.
const fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

impl SeededRandom {
    /// A generator from 16 seed bytes (e.g. from a TRNG).
    pub fn from_seed(seed: [u8; 16]) -> Self {
        let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3] = seed;
        let mut r = Self {
            s: [
                u32::from_le_bytes([a0, a1, a2, a3]),
                u32::from_le_bytes([b0, b1, b2, b3]),
                u32::from_le_bytes([c0, c1, c2, c3]),
                u32::from_le_bytes([d0, d1, d2, d3]),
            ],
        };
        if r.s == [0; 4] {
            r.s = [0x9e37_79b9, 0x7f4a_7c15, 0xf39c_c060, 0x5ced_c834];
        }
        r
    }

    /// A generator seeded from timing samples: `sample` is called
    /// [`JITTER_SAMPLES`] times and each returned duration is folded into
    /// the state through a finaliser and a generator step, so that the
    /// seed depends on every bit of every sample.
    pub fn from_jitter(mut sample: impl FnMut() -> u32) -> Self {
        let mut r = Self::from_seed([0; 16]);
        for i in 0..JITTER_SAMPLES {
            let d = sample();
            let word = fmix32(d ^ (i as u32).wrapping_mul(0x9e37_79b9));
            if let Some(s) = r.s.get_mut(i % 4) {
                *s ^= word;
            }
            if r.s == [0; 4] {
                r.s = [1, 0, 0, 0];
            }
            let _ = r.next();
        }
        r
    }

    fn next(&mut self) -> u32 {
        let [s0, s1, s2, s3] = self.s;
        let out = s0.wrapping_add(s3).rotate_left(7).wrapping_add(s0);
        let t = s1 << 9;
        let mut s = [s0, s1, s2 ^ s0, s3 ^ s1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        self.s = s;
        out
    }
}

impl Random for SeededRandom {
    fn random_u32(&mut self) -> u32 {
        self.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro128plusplus_matches_the_reference_sequence() {
        // Reference implementation (prng.di.unimi.it/xoshiro128plusplus.c)
        // with s = {1, 2, 3, 4}: first outputs 641, 1573767, 3222811527.
        let mut r = SeededRandom { s: [1, 2, 3, 4] };
        assert_eq!(r.random_u32(), 641);
        assert_eq!(r.random_u32(), 1_573_767);
        assert_eq!(r.random_u32(), 3_222_811_527);
    }

    #[test]
    fn all_zero_seed_is_replaced_by_a_working_state() {
        let mut r = SeededRandom::from_seed([0; 16]);
        let a = r.random_u32();
        let b = r.random_u32();
        assert!(a != 0 || b != 0);
        assert_ne!(a, b);
    }

    #[test]
    fn one_bit_of_one_jitter_sample_changes_the_output() {
        let base: std::vec::Vec<u32> = (0..64u32).map(|i| 20_000 + i * 7).collect();
        let mut flipped = base.clone();
        flipped[40] ^= 1;
        let mut it = base.iter().copied();
        let mut a = SeededRandom::from_jitter(|| it.next().unwrap_or(0));
        let mut it = flipped.iter().copied();
        let mut b = SeededRandom::from_jitter(|| it.next().unwrap_or(0));
        let xa: std::vec::Vec<u32> = (0..4).map(|_| a.random_u32()).collect();
        let xb: std::vec::Vec<u32> = (0..4).map(|_| b.random_u32()).collect();
        assert_ne!(xa, xb);
    }

    #[test]
    fn seeding_takes_exactly_jitter_samples_samples() {
        let mut calls = 0;
        let _ = SeededRandom::from_jitter(|| {
            calls += 1;
            calls
        });
        assert_eq!(calls, JITTER_SAMPLES as u32);
    }

    #[test]
    fn constant_jitter_still_gives_a_non_repeating_stream() {
        let mut r = SeededRandom::from_jitter(|| 0);
        let v: std::vec::Vec<u32> = (0..16).map(|_| r.random_u32()).collect();
        let mut d = v.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), v.len());
    }
}
