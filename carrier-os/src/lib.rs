//! # carrier-os — the port traits
//!
//! What an operating system must provide to run the carrier client: time and
//! deadlines, key-value storage with atomic replace, randomness, logging, the
//! modem, datagram transport, firmware download and the DFU target. A port
//! implements these traits and nothing else; `carrier-os-std` (desktop) and
//! `carrier-os-nrf` (nRF91) are the two in this workspace.
//!
//! Layering: depends on nothing of this workspace and knows nothing of LwM2M.
//! `#![no_std]`.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
