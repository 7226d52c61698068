//! [`ModemDeltaDfu`] over libmodem's delta-DFU API
//! (`nrf_modem_delta_dfu_*`, reached through `nrf_modem::nrfxlib_sys`),
//! which the safe `nrf-modem` crate does not wrap.
//!
//! This is the only module of the crate with `unsafe`. Invariants each
//! call relies on:
//! - every function is a plain C call into libmodem that is sound to call at
//!   any time: before `nrf_modem::init` (or after a shutdown) it returns
//!   `-NRF_EPERM`/`-NRF_ESHUTDOWN`, it does not touch undefined memory;
//! - `nrf_modem_delta_dfu_offset` and `_area` write one `size_t` through the
//!   pointer, which is a live `&mut usize` (`size_t` is `usize` on the
//!   target);
//! - `nrf_modem_delta_dfu_write` reads exactly `len` bytes from `src`, given
//!   as a live slice's pointer and length, and copies them into shared
//!   memory before returning (it keeps no reference);
//! - libmodem serialises these calls internally; `&mut self` keeps one user.
#![allow(unsafe_code)]

use nrf_modem::nrfxlib_sys as sys;

use crate::dfu::ModemDeltaDfu;
use carrier_os::dfu::DfuError;

/// libmodem's `NRF_MODEM_DELTA_DFU_ERASE_PENDING`.
const ERASE_PENDING: i32 = 17;
/// libmodem's `NRF_MODEM_DELTA_DFU_INVALID_HEADER_DATA`,
/// `_INVALID_DATA`, `_INVALID_UUID`, `_INCOMPLETE_DATA`.
const INTEGRITY: [i32; 4] = [3, 5, 9, 19];

fn check(rc: i32) -> Result<(), DfuError> {
    match rc {
        0 => Ok(()),
        ERASE_PENDING => Err(DfuError::Busy),
        rc if INTEGRITY.contains(&rc) => Err(DfuError::Integrity),
        _ => Err(DfuError::Io),
    }
}

/// The modem's delta-DFU service.
#[derive(Debug, Default)]
pub struct NrfModemDelta {
    writing: bool,
    result: Option<bool>,
}

impl NrfModemDelta {
    /// `init_result`: the delta-DFU outcome `nrf_modem::init` reported at
    /// this start (`None` if no update was applied).
    pub fn new(init_result: Option<bool>) -> Self {
        Self { writing: false, result: init_result }
    }
}

impl ModemDeltaDfu for NrfModemDelta {
    fn offset(&mut self) -> Result<u64, DfuError> {
        let mut off: usize = 0;
        // SAFETY: see module doc; `off` is a live `usize`.
        check(unsafe { sys::nrf_modem_delta_dfu_offset(&mut off) })?;
        Ok(off as u64)
    }

    fn area_size(&mut self) -> Result<u64, DfuError> {
        let mut size: usize = 0;
        // SAFETY: see module doc; `size` is a live `usize`.
        check(unsafe { sys::nrf_modem_delta_dfu_area(&mut size) })?;
        Ok(size as u64)
    }

    fn erase(&mut self) -> Result<(), DfuError> {
        if self.writing {
            // SAFETY: see module doc; no pointers.
            check(unsafe { sys::nrf_modem_delta_dfu_write_done() })?;
            self.writing = false;
        }
        // SAFETY: see module doc; no pointers.
        check(unsafe { sys::nrf_modem_delta_dfu_erase() })
    }

    fn begin(&mut self) -> Result<(), DfuError> {
        if !self.writing {
            // SAFETY: see module doc; no pointers.
            check(unsafe { sys::nrf_modem_delta_dfu_write_init() })?;
            self.writing = true;
        }
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<(), DfuError> {
        if !self.writing {
            return Err(DfuError::NotStarted);
        }
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: see module doc; pointer and length of a live slice.
        check(unsafe { sys::nrf_modem_delta_dfu_write(data.as_ptr().cast(), data.len()) })
    }

    fn end(&mut self) -> Result<(), DfuError> {
        if self.writing {
            // SAFETY: see module doc; no pointers.
            check(unsafe { sys::nrf_modem_delta_dfu_write_done() })?;
            self.writing = false;
        }
        Ok(())
    }

    fn schedule(&mut self) -> Result<(), DfuError> {
        // SAFETY: see module doc; no pointers.
        check(unsafe { sys::nrf_modem_delta_dfu_update() })
    }

    fn take_result(&mut self) -> Option<bool> {
        self.result.take()
    }
}
