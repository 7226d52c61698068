//! Key-value storage with atomic replace.
//!
//! Owns the [`Storage`] trait: small records addressed by a 16-bit [`Key`],
//! each replaced atomically. Mirrors the original's storage OS calls (read,
//! write, delete of records with ids `0xCA00..=0xCAFF`, NVS on a 12 KiB
//! partition; `carrier-api.md` §5 "Storage").
//!
//! Guarantee of every conforming port: after a power cut at any instant, a
//! record reads back as either its last completely written value or the value
//! before it — never a mix, never a truncated value.

use thiserror::Error;

/// A record identifier.
///
/// The runtime uses keys in [`Key::RUNTIME_RANGE`] (the original's
/// `0xCA00..=0xCAFF`); ports MUST accept every `u16` so that applications can
/// keep their own records beside the runtime's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Key(pub u16);

impl Key {
    /// The key range reserved for the carrier runtime.
    pub const RUNTIME_RANGE: core::ops::RangeInclusive<u16> = 0xCA00..=0xCAFF;
}

impl core::fmt::Display for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

/// The smallest [`Storage::MAX_VALUE_LEN`] a port may declare; the runtime
/// never writes a record larger than this.
pub const MIN_VALUE_LEN: usize = 1024;

/// What the storage could not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StorageError {
    /// The value is longer than [`Storage::MAX_VALUE_LEN`]; nothing was written.
    #[error("value of {len} bytes exceeds the record limit of {max}")]
    TooLarge {
        /// Length offered.
        len: usize,
        /// The port's limit.
        max: usize,
    },
    /// The caller's buffer is shorter than the stored record; nothing was read.
    #[error("record of {len} bytes does not fit the buffer")]
    BufferTooSmall {
        /// Length of the stored record.
        len: usize,
    },
    /// The storage area is full; the old value (if any) is unchanged.
    #[error("storage full")]
    Full,
    /// The stored record failed its integrity check (it is treated as absent
    /// by the runtime after this error).
    #[error("stored record is corrupt")]
    Corrupt,
    /// The medium failed (flash write/erase error, file-system error).
    #[error("storage I/O error")]
    Io,
}

/// Key-value storage with atomic replace.
///
/// Calls are synchronous: they MUST complete in bounded time (a flash page
/// write or a file `fsync`), never wait for the network, and never return
/// "would block".
pub trait Storage {
    /// The longest value the port stores, in bytes. MUST be at least
    /// [`MIN_VALUE_LEN`].
    const MAX_VALUE_LEN: usize;

    /// Reads the record `key` into `buf`.
    ///
    /// Contract:
    /// - MUST return `Ok(None)` if the record does not exist (never written or
    ///   deleted) and `Ok(Some(len))` with the record in `buf[..len]`
    ///   otherwise. A record of length 0 exists and is distinct from absence.
    /// - MUST return [`StorageError::BufferTooSmall`] with the record's length
    ///   if `buf` is shorter, leaving the record unchanged.
    /// - MUST return the value of the last [`set`](Storage::set) that
    ///   returned `Ok`, including across power cuts and reboots.
    fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError>;

    /// Replaces the record `key` with `value`, atomically.
    ///
    /// Contract:
    /// - When this returns `Ok`, the value MUST be durable: a power cut right
    ///   after the return still reads back `value`.
    /// - A power cut or error during the call MUST leave the record as either
    ///   the old value (or absent) or `value`, never anything else.
    /// - A value longer than [`MAX_VALUE_LEN`](Storage::MAX_VALUE_LEN) MUST be
    ///   refused with [`StorageError::TooLarge`] and leave the old value.
    /// - MUST NOT change any other record.
    fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError>;

    /// Deletes the record `key`.
    ///
    /// Contract: deleting an absent record MUST succeed (idempotent); after
    /// `Ok`, [`get`](Storage::get) MUST return `Ok(None)`, durably.
    fn delete(&mut self, key: Key) -> Result<(), StorageError>;
}
