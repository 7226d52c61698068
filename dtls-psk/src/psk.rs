//! Credentials: the pre-shared key ([`Psk`]) and the server's key lookup
//! ([`PskStore`]).
//!
//! Guarantee: a [`Psk`] overwrites its bytes with zeroes when dropped
//! (`zeroize`), and neither `Debug` nor `Display` ever print key material —
//! only the key length. Identities are not secret (RFC 4279 §2 sends them in
//! the clear) and are plain bytes.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Longest key accepted: the vendored tinydtls copies keys into a
/// `DTLS_PSK_MAX_KEY_LEN` buffer, which is 16 bytes (`DTLS_KEY_LENGTH`,
/// AES-128). RFC 4279 §5.3 asks implementations to accept up to 64 bytes;
/// this one cannot. LwM2M carrier PSKs are 16 bytes or shorter.
pub const MAX_PSK_LEN: usize = 16;

/// Longest identity accepted (tinydtls's `DTLS_PSK_MAX_CLIENT_IDENTITY_LEN`).
pub const MAX_IDENTITY_LEN: usize = 32;

/// A pre-shared key. Zeroed on drop; `Debug` shows only its length.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Psk {
    bytes: Vec<u8>,
}

/// A key or identity that tinydtls cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The key is empty.
    #[error("empty pre-shared key")]
    EmptyKey,
    /// The key is longer than [`MAX_PSK_LEN`].
    #[error("pre-shared key of {0} bytes is longer than {MAX_PSK_LEN}")]
    KeyTooLong(usize),
    /// The identity is empty or longer than [`MAX_IDENTITY_LEN`].
    #[error("PSK identity of {0} bytes is empty or longer than {MAX_IDENTITY_LEN}")]
    BadIdentityLength(usize),
}

impl Psk {
    /// Copies `key` into a new [`Psk`].
    ///
    /// # Errors
    /// [`CredentialError::EmptyKey`] or [`CredentialError::KeyTooLong`].
    pub fn new(key: &[u8]) -> Result<Self, CredentialError> {
        if key.is_empty() {
            return Err(CredentialError::EmptyKey);
        }
        if key.len() > MAX_PSK_LEN {
            return Err(CredentialError::KeyTooLong(key.len()));
        }
        Ok(Psk { bytes: key.to_vec() })
    }

    /// Key length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: an empty key cannot be built.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The key bytes, for handing to the DTLS engine only.
    pub(crate) fn secret(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Psk({} bytes, redacted)", self.bytes.len())
    }
}

pub(crate) fn check_identity(identity: &[u8]) -> Result<(), CredentialError> {
    if identity.is_empty() || identity.len() > MAX_IDENTITY_LEN {
        return Err(CredentialError::BadIdentityLength(identity.len()));
    }
    Ok(())
}

/// Where a [`Server`](crate::Server) finds the key for a PSK identity a
/// client presents (RFC 4279 §2, ClientKeyExchange).
///
/// Implemented for any `Fn(&[u8]) -> Option<Psk> + Send`. Returning `None`
/// makes the handshake fail with a fatal `decrypt_error` alert, which
/// RFC 4279 §2 allows in place of `unknown_psk_identity` and which does not
/// reveal whether the identity exists.
///
/// The lookup runs inside a tinydtls callback, with this crate's global
/// tinydtls lock held: a panic in it is caught and treated like `None`, and
/// it must not create or drive another [`Client`](crate::Client) or
/// [`Server`](crate::Server) (that would deadlock).
pub trait PskStore: Send {
    /// The key for `identity`, if the server knows one.
    fn psk_for(&self, identity: &[u8]) -> Option<Psk>;
}

impl<F> PskStore for F
where
    F: Fn(&[u8]) -> Option<Psk> + Send,
{
    fn psk_for(&self, identity: &[u8]) -> Option<Psk> {
        self(identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_length_but_no_key_bytes() {
        let psk = Psk::new(b"\x5e\xc7\x3e\x7a\x51\x42\xab\xcd").unwrap();
        let shown = format!("{psk:?} {psk:#?}");
        assert!(shown.contains("8 bytes"), "{shown}");
        for needle in ["5e", "5E", "94", "c7", "C7", "199", "0x", "[", "abcd"] {
            assert!(!shown.contains(needle), "Debug leaked {needle:?}: {shown}");
        }
    }

    #[test]
    fn zeroize_clears_the_key_bytes() {
        let mut psk = Psk::new(&[0xAA; 16]).unwrap();
        psk.zeroize();
        assert!(psk.bytes.iter().all(|b| *b == 0));
    }

    #[test]
    fn rejects_empty_and_oversized_keys() {
        assert_eq!(Psk::new(&[]), Err(CredentialError::EmptyKey));
        assert_eq!(Psk::new(&[1; 17]), Err(CredentialError::KeyTooLong(17)));
        assert!(Psk::new(&[1; 16]).is_ok());
        assert_eq!(check_identity(b""), Err(CredentialError::BadIdentityLength(0)));
        assert_eq!(check_identity(&[b'a'; 33]), Err(CredentialError::BadIdentityLength(33)));
    }
}
