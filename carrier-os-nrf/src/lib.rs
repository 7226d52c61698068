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
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
