//! # lwm2m-core — the sans-IO CoAP and LwM2M protocol core
//!
//! This crate is the bottom layer of `lwm2m-carrier-rs`. It knows CoAP
//! (RFC 7252, block-wise transfer RFC 7959, Observe RFC 7641) and LwM2M 1.1
//! (paths, data types, content formats, the client endpoint), and nothing of
//! operators, operating systems or sockets.
//!
//! ## Guarantees
//! - **Sans-IO.** Nothing here blocks, sleeps, reads a clock or opens a
//!   socket. Time comes in as [`time::Instant`] values, datagrams come in as
//!   byte slices, and everything to send leaves through `poll_*` methods into
//!   caller-provided buffers.
//! - **No heap.** Without the `alloc` feature nothing allocates; capacities are
//!   fixed (`heapless`, const generics) and overflow into typed errors.
//! - **No panics on input.** Decoders return errors; they never index out of
//!   bounds or unwrap data that came from the wire.
//! - **No unsafe.** `#![forbid(unsafe_code)]`.
//!
//! ## What it may depend on
//! `coap-numbers`, `coap-message`, `heapless`, `minicbor`, `serde-json-core`,
//! `thiserror` — never on another crate of this workspace.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("features `defmt` and `log` are exclusive: enable at most one of them");

// Must stay the first module: macro_rules! are scoped textually.
#[macro_use]
mod fmt;

pub mod client;
pub mod coap;
pub mod formats;
pub mod path;
pub mod rng;
pub mod time;
pub mod value;
