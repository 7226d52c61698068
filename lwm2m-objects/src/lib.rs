//! # lwm2m-objects — the LwM2M object model
//!
//! The objects a server sees — Security (0), Server (1), Access Control (2),
//! Device (3), Connectivity Monitoring (4), Firmware Update (5), Location (6),
//! Connectivity Statistics (7), Cellular Connectivity (10), APN Connection
//! Profile (11), Binary App Data Container (19), Event Log (20) — with
//! resource tables checked against the OMA registry, access control, and
//! persistence of the state that must survive a reboot.
//!
//! Layering: depends on `lwm2m-core` (paths, values, formats) only; knows
//! nothing of operators, ports or sockets. `#![no_std]`, fixed capacities.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod registry;
