//! # carrier-os-std — the desktop port
//!
//! `carrier-os` for desktops, in two modes: a real mode (std UDP sockets,
//! DTLS-PSK through `dtls-psk`, storage in a directory with atomic writes, a
//! modem and SIM described by a device-profile file, firmware download, DFU
//! into files) and a deterministic simulation mode (virtual clock, in-process
//! network with seeded faults, power cuts).
//!
//! Layering: depends on `carrier-os` and `dtls-psk`; knows nothing of LwM2M.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod delegate;
pub mod dfu;
pub mod modem;
pub mod profile;
pub mod real;
pub mod sim;
pub mod storage;
pub mod testdir;
