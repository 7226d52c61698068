//! The server-options fingerprint: how the runtime notices, between boots, that a server option
//! changed — which must trigger a factory reset and a new bootstrap (app-integration.txt "Server
//! options" note; carriers.md §11 item 1).
//!
//! Owns [`server_options_fingerprint`]. Guarantee: the value is a pure function of the five
//! server options, identical on every platform, endianness and crate version; if the encoding
//! ever has to change, [`FINGERPRINT_FORMAT`] changes with it, so stored values from older
//! firmware simply compare unequal (one extra factory reset, never a missed one).
//!
//! # Algorithm (stable; do not change without bumping [`FINGERPRINT_FORMAT`])
//!
//! 64-bit FNV-1a (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`), over these bytes
//! in this order:
//!
//! | # | bytes | value |
//! |---|---|---|
//! | 1 | 1 | [`FINGERPRINT_FORMAT`] (1) |
//! | 2 | 2, little-endian | byte length of `server_uri` |
//! | 3 | that many | `server_uri`, UTF-8, exactly as configured |
//! | 4 | 1 | `is_bootstrap_server` (0 or 1) |
//! | 5 | 4, little-endian | `server_sec_tag` |
//! | 6 | 4, little-endian | `server_lifetime_s` (two's complement) |
//! | 7 | 1 | `server_binding` bits |
//!
//! The length prefix keeps `("ab", …)` and `("a", "b"…)` apart; URIs longer than 65535 bytes
//! (already rejected by [`crate::resolve`]) have their length saturated, which can only make the
//! fingerprint change more often.
//!
//! The raw options are hashed, not the effective ones: the original resets on "changing one or
//! more server options", whatever their effect on the current SIM.

use crate::config::ServerOptions;

/// Version of the fingerprint encoding, hashed first.
pub const FINGERPRINT_FORMAT: u8 = 1;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a state.
#[derive(Debug, Clone, Copy)]
struct Fnv1a64(u64);

impl Fnv1a64 {
    const fn new() -> Self {
        Fnv1a64(FNV_OFFSET_BASIS)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }
}

/// The fingerprint of the server options (see the module doc for the exact algorithm).
///
/// Store it at start-up; when the stored value differs from the current one, perform a factory
/// reset and bootstrap again.
pub fn server_options_fingerprint(options: &ServerOptions<'_>) -> u64 {
    let mut h = Fnv1a64::new();
    h.write(&[FINGERPRINT_FORMAT]);
    let uri = options.server_uri.as_bytes();
    let len = u16::try_from(uri.len()).unwrap_or(u16::MAX);
    h.write(&len.to_le_bytes());
    h.write(uri);
    h.write(&[u8::from(options.is_bootstrap_server)]);
    h.write(&options.server_sec_tag.to_le_bytes());
    h.write(&options.server_lifetime_s.to_le_bytes());
    h.write(&[options.server_binding.0]);
    h.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fnv(bytes: &[u8]) -> u64 {
        let mut h = Fnv1a64::new();
        h.write(bytes);
        h.0
    }

    /// Published FNV-1a 64-bit test vectors (Fowler/Noll/Vo reference test suite).
    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
