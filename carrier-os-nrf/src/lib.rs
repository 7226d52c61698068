//! # carrier-os-nrf — the nRF91 port
//!
//! `carrier-os` implemented over the nRF91 modem: AT commands as typed
//! requests and response parsers (no allocation), modem sockets with DTLS
//! offloaded by security tag, modem-delta and application DFU, and storage
//! on flash. The binding to the modem library (`nrf-modem`) is compiled only
//! for the device target (`cfg(target_os = "none")`); on the host the same
//! code runs over a transcript-driven fake modem.
//!
//! Layering: depends on `carrier-os` alone, so it is interchangeable with
//! `carrier-os-std` behind the same traits.
//!
//! - [`at`]: typed AT commands, response framing, parsers, notifications.
//! - [`channel`]: the [`channel::AtChannel`] contract.
//! - [`transcript`]: the scripted channel the host build runs on.
//! - [`modem`]: [`modem::AtModem`], the typed modem operations.
//!
//! Guarantees: no heap, no panic on anything the modem, SIM or network
//! sends, no `unsafe`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod at;
pub mod channel;
pub mod dfu;
pub mod modem;
pub mod port;
pub mod storage;
pub mod transcript;
pub mod transport;

#[cfg(all(target_os = "none", feature = "nrf-modem"))]
pub mod device;
