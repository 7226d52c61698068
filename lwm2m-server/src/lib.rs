//! # lwm2m-server — a small LwM2M bootstrap and device-management server
//!
//! Built on `lwm2m-core`'s codecs (and `dtls-psk` for `coaps://`): accepts
//! bootstrap requests and registrations, issues Read, Write, Execute,
//! Observe, Write-Attributes, Create, Delete and Discover, pushes or points
//! to firmware, and acts out operator bootstrap sequences. It is the peer of
//! the examples, the end-to-end tests and the simulation.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::std_instead_of_core)]
