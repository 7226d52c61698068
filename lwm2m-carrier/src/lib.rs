//! # lwm2m-carrier — the library applications call
//!
//! The configuration, the events, the application API and the runtime that
//! drives the protocol engine, the objects (`lwm2m-objects`) and the
//! operator profile (`carrier-profiles`) over any `carrier-os` port:
//! start-up, operator detection, factory reset when the server options
//! changed, PDN activation, bootstrap, DM key provisioning with the link
//! down, registration, updates, the session idle timeout, deferred retries
//! on each operator's schedule, and firmware update (pull and push).
//!
//! ## Shape
//! - [`config`]: [`Config`] (= `carrier_profiles::UserConfig`, the original's
//!   `lwm2m_carrier_config_t` with its defaults), [`ConfigBuilder`], and
//!   [`config_error_event`] (ERROR CONFIGURATION with the spec's errno).
//! - [`event`]: [`Event`] and its payloads, numbered as the original 3.7.0.
//! - [`api`]: [`api::AppApi`], the setters of `carrier-api.md` §4 with the
//!   spec's [`Errno`] per case, and the hook/request types
//!   ([`api::ModemInitResult`], [`api::CfunMode`], [`api::Request`]).
//! - [`runtime`]: [`Runtime`], sans-IO over `carrier_os::Port`. The outer loop:
//!
//! ```text
//! let mut rt = Runtime::new(config, session);      // or with_custom_init(..)
//! rt.on_modem_init(Ok(ModemInitResult::Success));  // from the modem-library hook
//! loop {
//!     let next = rt.poll(&mut port);               // all the work due now
//!     while let Some(event) = rt.poll_event() { handle(event, &mut port) }
//!     port.wait_until(next);                       // the only wait
//! }
//! ```
//!   Application calls go to `rt.api()` (Device, Location, app data, …),
//!   `rt.request(now, Request::…)`, `rt.data_send(now, path)` and
//!   `rt.firmware_block(..)` (push FOTA, from the engine).
//! - [`session`]: the [`Session`] seam to the LwM2M protocol engine
//!   (bootstrap, register, update, de-register, Send over the runtime's
//!   socket); the runtime maps its [`SessionOutcome`]s to the deferred
//!   reasons. [`session::lwm2m::Lwm2mSession`] is the engine over
//!   `lwm2m_core::client::Client` with the object model as its store (the
//!   runtime's objects are lent to it per call).
//! - [`smartcard`]: bootstrap from smartcard — the SIM's PKCS#15 directory
//!   and EF(LwM2M_Bootstrap), read through `Modem::sim_read` and written
//!   into the objects like a Bootstrap-Write.
//!
//! Layering: the only crate that ties core, objects, profiles and the port
//! traits together. `#![no_std]`, no allocation; runs on any `carrier-os` port.
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
pub mod smartcard;

pub use config::{Config, ConfigBuilder, ConfigError, config_error_event};
pub use errno::Errno;
pub use event::{AppDataKind, DeferredReason, ErrorKind, Event, ModemDomainEvent};
pub use runtime::{Phase, Runtime};
pub use session::{DmAccount, Session, SessionOutcome};
