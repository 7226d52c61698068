//! # carrier-profiles — operator tables and configuration resolution
//!
//! Pure functions and `const` tables: how an operator (Verizon, T-Mobile,
//! SoftBank, LG U+, Bell Canada, or generic) is detected from the SIM and
//! network, its factory settings, and the resolution of a user configuration
//! plus the detected operator into the effective settings, following every
//! rule of the original library's integration guide.
//!
//! Layering: depends on nothing of this workspace. `#![no_std]`, no allocation.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
