//! `embedded-storage` NOR flash over the nRF91's NVMC (non-secure; nRF9160, nRF9161, nRF9151).
//!
//! Owns NVMC_NS and the rules of the internal flash (nRF9160 Product
//! Specification, "NVMC"): 4 KiB pages erased to `0xFF` by writing
//! `0xFFFF_FFFF` to a word of the page with `CONFIGNS.WEN = Een`; 32-bit
//! word writes with `WEN = Wen`, each waited for with `READY`; reads are
//! plain memory reads. A non-secure image can only program pages the
//! secure firmware's SPU configuration marks non-secure, which is why
//! [`Nvmc::new`] takes the window it may touch.
//!
//! Guarantee: every access outside the window, unaligned, or beyond the
//! end is an error before any register is written; a write of bytes never
//! programs a bit from 0 to 1 (NOR semantics are the caller's, as the
//! `embedded-storage` contract says).
#![allow(unsafe_code)]

use core::ops::Range;

use super::pac::NVMC_NS;
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash, check_erase, check_read,
    check_write,
};

/// Erase page size.
pub const PAGE_SIZE: usize = 4096;
/// Write granularity: one 32-bit word.
pub const WORD_SIZE: usize = 4;

/// A window `[base, base + len)` of the internal flash, addressed from 0.
pub struct Nvmc<'a> {
    nvmc: &'a NVMC_NS,
    base: u32,
    len: u32,
}

impl core::fmt::Debug for Nvmc<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Nvmc").field("base", &self.base).field("len", &self.len).finish()
    }
}

/// What the flash refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NvmcError(NorFlashErrorKind);

impl NorFlashError for NvmcError {
    fn kind(&self) -> NorFlashErrorKind {
        self.0
    }
}

impl<'a> Nvmc<'a> {
    /// The window `range` (absolute flash addresses) of the internal flash.
    /// `None` unless the range is page-aligned and non-empty.
    ///
    /// Several windows may share one `NVMC_NS` (storage and the DFU slot),
    /// since each operation completes before the next starts; the ranges
    /// must not overlap.
    pub fn new(nvmc: &'a NVMC_NS, range: Range<u32>) -> Option<Self> {
        let len = range.end.checked_sub(range.start)?;
        let page = PAGE_SIZE as u32;
        if len == 0 || !range.start.is_multiple_of(page) || !len.is_multiple_of(page) {
            return None;
        }
        Some(Self { nvmc, base: range.start, len })
    }

    fn wait_ready(&self) {
        while self.nvmc.ready.read().ready().bit_is_clear() {}
    }

    /// Writes one word at absolute address `addr` (word-aligned, inside the
    /// window, checked by the callers).
    fn write_word(&self, addr: u32, word: u32) {
        self.wait_ready();
        // SAFETY: `addr` is word-aligned and lies in this window of the
        // internal flash, which `new`'s caller guarantees is non-secure
        // application flash not holding running code; a volatile store is
        // how the NVMC is told to program a word while WEN is set.
        unsafe { core::ptr::write_volatile(addr as usize as *mut u32, word) };
        self.wait_ready();
    }
}

impl ErrorType for Nvmc<'_> {
    type Error = NvmcError;
}

impl ReadNorFlash for Nvmc<'_> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        check_read(self, offset, bytes.len()).map_err(NvmcError)?;
        let start = self.base + offset;
        // SAFETY: `check_read` proved `offset + bytes.len() <= len`, so the
        // whole source lies in this window of memory-mapped flash, which is
        // always readable and is not aliased by a `&mut` (flash is never a
        // Rust object); `bytes` is a distinct RAM buffer.
        let src = unsafe { core::slice::from_raw_parts(start as usize as *const u8, bytes.len()) };
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len as usize
    }
}

impl NorFlash for Nvmc<'_> {
    const WRITE_SIZE: usize = WORD_SIZE;
    const ERASE_SIZE: usize = PAGE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        check_erase(self, from, to).map_err(NvmcError)?;
        self.nvmc.configns.write(|w| w.wen().een());
        for page in (from..to).step_by(PAGE_SIZE) {
            self.write_word(self.base + page, 0xFFFF_FFFF);
        }
        self.nvmc.configns.write(|w| w.wen().ren());
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        check_write(self, offset, bytes.len()).map_err(NvmcError)?;
        self.nvmc.configns.write(|w| w.wen().wen());
        let mut addr = self.base + offset;
        for chunk in bytes.chunks_exact(WORD_SIZE) {
            let mut w = [0u8; WORD_SIZE];
            w.copy_from_slice(chunk);
            self.write_word(addr, u32::from_le_bytes(w));
            addr += WORD_SIZE as u32;
        }
        self.nvmc.configns.write(|w| w.wen().ren());
        Ok(())
    }
}
