//! # lwm2m-carrier — the library applications call
//!
//! The configuration, the events, the application API and the runtime that
//! drives the protocol core (`lwm2m-core`), the objects (`lwm2m-objects`) and
//! the operator profile (`carrier-profiles`) over any `carrier-os`
//! implementation: start-up, operator detection, bootstrap, registration,
//! lifetime updates, retries with deferral events, and firmware update.
//!
//! Layering: the only crate that ties core, objects, profiles and the port
//! traits together. `#![no_std]`; runs on any `carrier-os` port.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;
pub mod api;
pub mod config;
pub mod errno;
pub mod event;
pub mod runtime;
pub mod session;

pub use config::{Config, ConfigBuilder, ConfigError, config_error_event};
pub use errno::Errno;
pub use event::{AppDataKind, DeferredReason, ErrorKind, Event, ModemDomainEvent};
pub use runtime::{Phase, Runtime};
pub use session::{DmAccount, Session, SessionOutcome};
