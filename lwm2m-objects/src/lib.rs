//! # lwm2m-objects — the LwM2M object model
//!
//! The objects a server sees — Security (0), Server (1), Access Control (2),
//! Device (3), Connectivity Monitoring (4), Firmware Update (5), Location (6),
//! Connectivity Statistics (7), Cellular Connectivity (10), APN Connection
//! Profile (11), Binary App Data Container (19), Event Log (20), and
//! Portfolio (16) when an operator enables it — with resource tables checked
//! against the OMA registry, access control, and persistence of the state
//! that must survive a reboot.
//!
//! ## Shape
//! - [`registry`]: `const` resource metadata (ID, name, operations,
//!   multiplicity, mandatory, type, range, units), equal to the OMA XML
//!   (`tests/registry_conformance.rs`).
//! - [`ObjectStore`]: every object plus the dispatcher of Read, Observe,
//!   Discover, Write-Attributes, Write (Replace / Partial Update), Execute,
//!   Create and Delete, for device-management servers and the
//!   Bootstrap-Server. Every operation takes an [`AccessChecked`] that only
//!   [`ObjectStore::authorize`] (the access-control check) can create.
//!   Reads stream `(Path, Value)` pairs into a [`ReadSink`]; effects the
//!   runtime must carry out come out of [`ObjectStore::poll_event`]; paths
//!   whose values changed come out of [`ObjectStore::poll_changed`].
//! - [`persist`]: records with version and CRC-32 through a [`Storage`]
//!   trait; bad records become factory defaults and a reported error.
//!
//! ## Guarantees
//! - `#![no_std]`, no heap: every capacity is a constant in [`config`].
//! - No panics on input from servers or storage; errors map to CoAP codes
//!   with `Code::from(ObjectError)` (4.04, 4.05, 4.01, 4.00, 4.13).
//! - The Security object and the PSK are invisible to device-management
//!   servers, and the PSK never appears in `Debug` output.
//!
//! Layering: depends on `lwm2m-core` (paths, values, CoAP codes) only; knows
//! nothing of operators, ports or sockets.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod client_store;
pub mod config;
pub mod error;
pub mod model;
pub mod objects;
pub mod persist;
pub mod registry;
pub mod store;

pub use error::ObjectError;
pub use model::{
    AccessChecked, AccessRights, Caller, DeviceInfo, DiscoverSink, Link, ObjectEvent, Operation,
    ReadSink, StaticDeviceInfo, WriteMode,
};
pub use persist::{LoadReport, Record, RecordError, SaveError, Storage, StorageError};
pub use store::ObjectStore;
