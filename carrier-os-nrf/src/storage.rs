//! `carrier_os::Storage` on NOR flash: a key-value map in a flash range,
//! kept by `sequential-storage` 8.
//!
//! Owns the record format and the flash adapters. Each record is stored
//! under its `u16` key as one tag byte followed by the value: tag 1 is a
//! live record (so an empty value exists and differs from absence), tag 0
//! is a deletion marker — deleting writes a new item instead of rewriting
//! an old word, so plain (not multi-write) NOR flash such as the nRF91's
//! NVMC is enough. `sequential-storage` writes a new item before the old
//! one stops counting, which gives the atomic-replace contract: a power cut
//! leaves the old value or the new one.
//!
//! The map runs on `embedded-storage-async` flash; [`BlockingFlash`] adapts
//! any blocking `embedded-storage` 0.3 NOR flash (the nRF91 NVMC driver is
//! blocking). Futures are driven to completion in place: flash operations
//! of a blocking flash complete without waiting, so a future that stays
//! pending is reported as [`StorageError::Io`] instead of spinning.
//!
//! Guarantee: nothing here panics on flash contents; corruption is
//! [`StorageError::Corrupt`].

use core::future::Future;
use core::ops::Range;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use carrier_os::storage::{Key, MIN_VALUE_LEN, Storage, StorageError};
use embedded_storage::nor_flash as blocking;
use embedded_storage_async::nor_flash as nor;
use sequential_storage::cache::{Cache, Uncached};
use sequential_storage::map::{MapConfig, MapStorage};

/// Longest value stored, in bytes (the `carrier-os` minimum).
pub const MAX_VALUE_LEN: usize = MIN_VALUE_LEN;

/// Work buffer: key (2) + tag (1) + value, rounded up for word alignment.
const BUF_LEN: usize = MAX_VALUE_LEN + 2 + 1 + 32;

const TAG_LIVE: u8 = 1;
const TAG_DELETED: u8 = 0;

/// Polls `f` until it completes; `None` if it stays pending.
fn complete<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return Some(v);
        }
    }
    None
}

fn map_err<E>(e: sequential_storage::Error<E>) -> StorageError {
    match e {
        sequential_storage::Error::FullStorage => StorageError::Full,
        sequential_storage::Error::Corrupted { .. } => StorageError::Corrupt,
        sequential_storage::Error::SerializationError(_) => StorageError::Corrupt,
        _ => StorageError::Io,
    }
}

/// Key-value storage in a range of NOR flash.
pub struct FlashStorage<F: nor::NorFlash> {
    map: MapStorage<u16, F, Cache<Uncached, Uncached, Uncached, u16>>,
    buf: [u8; BUF_LEN],
}

impl<F: nor::NorFlash> FlashStorage<F> {
    /// Storage over `range` of `flash` (page-aligned, at least two pages).
    ///
    /// # Errors
    /// [`StorageError::Io`] if the range is not valid for this flash.
    pub fn new(flash: F, range: Range<u32>) -> Result<Self, StorageError> {
        let config = MapConfig::try_new(range).map_err(|_| StorageError::Io)?;
        Ok(Self { map: MapStorage::new(flash, config, Cache::new_uncached()), buf: [0; BUF_LEN] })
    }

    /// Gives the flash back (to reopen it, as after a reboot).
    pub fn into_flash(self) -> F {
        self.map.destroy().0
    }
}

impl<F: nor::NorFlash> Storage for FlashStorage<F> {
    const MAX_VALUE_LEN: usize = MAX_VALUE_LEN;

    fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        let fetched = complete(self.map.fetch_item::<&[u8]>(&mut self.buf, &key.0))
            .ok_or(StorageError::Io)?
            .map_err(map_err)?;
        let Some(item) = fetched else { return Ok(None) };
        match item.split_first() {
            Some((&TAG_LIVE, value)) => {
                let out = buf
                    .get_mut(..value.len())
                    .ok_or(StorageError::BufferTooSmall { len: value.len() })?;
                out.copy_from_slice(value);
                Ok(Some(value.len()))
            }
            Some((&TAG_DELETED, [])) => Ok(None),
            _ => Err(StorageError::Corrupt),
        }
    }

    fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(StorageError::TooLarge { len: value.len(), max: MAX_VALUE_LEN });
        }
        let mut item = [0u8; MAX_VALUE_LEN + 1];
        let (tag, rest) = item.split_first_mut().ok_or(StorageError::Io)?;
        *tag = TAG_LIVE;
        rest.get_mut(..value.len()).ok_or(StorageError::Io)?.copy_from_slice(value);
        let record: &[u8] = item.get(..=value.len()).ok_or(StorageError::Io)?;
        complete(self.map.store_item(&mut self.buf, &key.0, &record))
            .ok_or(StorageError::Io)?
            .map_err(map_err)
    }

    fn delete(&mut self, key: Key) -> Result<(), StorageError> {
        let mut probe = [0u8; 0];
        match self.get(key, &mut probe) {
            Ok(None) => return Ok(()),
            Ok(Some(_)) | Err(StorageError::BufferTooSmall { .. }) => {}
            Err(e) => return Err(e),
        }
        let marker: &[u8] = &[TAG_DELETED];
        complete(self.map.store_item(&mut self.buf, &key.0, &marker))
            .ok_or(StorageError::Io)?
            .map_err(map_err)
    }
}

/// Adapts a blocking `embedded-storage` 0.3 NOR flash to the async traits
/// `sequential-storage` uses. Every operation completes on first poll.
#[derive(Debug)]
pub struct BlockingFlash<F>(pub F);

impl<F: blocking::ErrorType> nor::ErrorType for BlockingFlash<F> {
    type Error = F::Error;
}

impl<F: blocking::ReadNorFlash> nor::ReadNorFlash for BlockingFlash<F> {
    const READ_SIZE: usize = F::READ_SIZE;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl<F: blocking::NorFlash> nor::NorFlash for BlockingFlash<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.erase(from, to)
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, bytes)
    }
}

/// NOR flash in RAM with real NOR rules (erase sets `0xFF`, a write can
/// only clear bits, 4-byte words, 4 KiB pages like the nRF91): the host
/// stand-in for the NVMC.
#[derive(Debug, Clone)]
pub struct RamFlash<const N: usize> {
    bytes: [u8; N],
}

impl<const N: usize> Default for RamFlash<N> {
    fn default() -> Self {
        Self { bytes: [0xff; N] }
    }
}

/// Why a [`RamFlash`] operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamFlashError(blocking::NorFlashErrorKind);

impl blocking::NorFlashError for RamFlashError {
    fn kind(&self) -> blocking::NorFlashErrorKind {
        self.0
    }
}

impl<const N: usize> RamFlash<N> {
    fn range(&mut self, offset: u32, len: usize, align: usize) -> Result<&mut [u8], RamFlashError> {
        let start = usize::try_from(offset)
            .map_err(|_| RamFlashError(blocking::NorFlashErrorKind::OutOfBounds))?;
        if !start.is_multiple_of(align) || !len.is_multiple_of(align) {
            return Err(RamFlashError(blocking::NorFlashErrorKind::NotAligned));
        }
        let end = start
            .checked_add(len)
            .ok_or(RamFlashError(blocking::NorFlashErrorKind::OutOfBounds))?;
        self.bytes
            .get_mut(start..end)
            .ok_or(RamFlashError(blocking::NorFlashErrorKind::OutOfBounds))
    }
}

impl<const N: usize> blocking::ErrorType for RamFlash<N> {
    type Error = RamFlashError;
}

impl<const N: usize> blocking::ReadNorFlash for RamFlash<N> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let src = self.range(offset, bytes.len(), 1)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize> blocking::NorFlash for RamFlash<N> {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let len =
            to.checked_sub(from).ok_or(RamFlashError(blocking::NorFlashErrorKind::OutOfBounds))?;
        let len = usize::try_from(len)
            .map_err(|_| RamFlashError(blocking::NorFlashErrorKind::OutOfBounds))?;
        self.range(from, len, Self::ERASE_SIZE)?.fill(0xff);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let dst = self.range(offset, bytes.len(), Self::WRITE_SIZE)?;
        for (d, s) in dst.iter_mut().zip(bytes) {
            *d &= *s;
        }
        Ok(())
    }
}
