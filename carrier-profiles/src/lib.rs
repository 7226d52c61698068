//! # carrier-profiles — operator tables and configuration resolution
//!
//! This crate holds everything the LwM2M carrier client knows about operators, and nothing
//! else: which operator a SIM belongs to, what that operator's factory configuration is, and
//! what the application's configuration means on that SIM. It is pure — no I/O, no clock, no
//! allocation, no `unsafe` — so every rule is a table-driven test.
//!
//! ```text
//!  Detected (IMEI, %XOPERID, IMSI, ICCID, MSISDN, SIM bootstrap data, modem strings)
//!      │  detect_subscriber() ──► Carrier ──► operators::profile() ──► &'static Profile
//!      ▼
//!  resolve(&UserConfig, &Detected) ──► Effective   (or ConfigError naming the field)
//!      │   server to start with, APN + fallback, timers, auto-register, FOTA timeout,
//!      │   endpoint format, Device object values, retry schedules (via the profile)
//!      ▼
//!  lwm2m-carrier runtime: endpoint_name(), RetryPolicy::step() → DEFERRED(reason, timeout),
//!  server_options_fingerprint() stored across boots → factory reset when it changes
//! ```
//!
//! * [`operators`] — one `const` [`Profile`] per operator (Verizon, T-Mobile, SoftBank, LG U+,
//!   Bell Canada, generic): factory servers, APN, lifetime, binding, objects, vendor
//!   resources, auto-register, firmware-download timeout, endpoint format, retry schedules,
//!   MSISDN. Values the spec calls **unconfirmed** say so in their doc, with the choice made.
//! * [`detect_subscriber`] — the modem's operator ID first (what the original uses), the IMSI's
//!   MCC-MNC and the ICCID issuer as fallback.
//! * [`UserConfig`] — `lwm2m_carrier_config_t` field by field; `Default` = the original's.
//! * [`resolve`] — every configuration rule of the integration guide.
//! * [`server_options_fingerprint`] — 64-bit FNV-1a over the five server options in a documented
//!   order, stable across platforms and versions.
//! * [`DeferredReason`], [`Failure`], [`RetryPolicy`] — the DEFERRED event's reasons and the
//!   back-off schedules (carriers.md §10).
//! * [`factory_reset_reason`] — server options, operator or (Verizon) MSISDN changed since the
//!   last start (carriers.md §11).
//!
//! What it refuses: AT&T (retired; bit `0x04` is a configuration error), guessing operator
//! server addresses that are not public (a carrier without a known factory server needs the
//! server options applied to it, otherwise [`ConfigError::FactoryServerUnknown`]), and key
//! material (the port provisions PSKs; this crate only says where they come from).
//!
//! Layering: depends on nothing of this workspace. `#![no_std]`, no allocation; builds for
//! `thumbv8m.main-none-eabihf`. Nothing here panics on any input.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod carrier;
mod config;
mod detect;
mod endpoint;
mod error;
mod fingerprint;
pub mod operators;
mod reset;
mod resolve;
mod retry;
mod uri;

pub use carrier::{Carrier, CarrierSet};
pub use config::{
    APN_MAX_LEN, Binding, DEVICE_STRING_MAX_LEN, DeviceOptions, LgUplusOptions, PdnType,
    SERVER_URI_MAX_LEN, SERVICE_CODE_MAX_LEN, SerialNumberType, ServerOptions, TIMER_MAX_S,
    UserConfig,
};
pub use detect::{Detected, detect_subscriber};
pub use endpoint::{
    ENDPOINT_NAME_CAPACITY, EndpointError, EndpointFormat, EndpointName, endpoint_name,
};
pub use error::{ConfigError, Field, UriProblem, errno};
pub use fingerprint::{FINGERPRINT_FORMAT, server_options_fingerprint};
pub use operators::{Profile, profile};
pub use reset::{FactoryResetReason, StartRecord, factory_reset_reason};
pub use resolve::{
    Apn, ApnSettings, CUSTOM_PDN_RELEASE_IDLE_S, ConInterval, Credentials, DEFAULT_CON_INTERVAL_S,
    DEFAULT_DEVICE_TYPE, DeviceInfo, Effective, IdleTimeout, LIBRARY_VERSION_PREFIX,
    LgUplusSettings, ServerOptionsUse, ServerSetting, ServerSource, resolve,
};
pub use retry::{
    AfterLast, DeferredReason, FOTA_BATTERY_CHECK_INTERVAL_S, Failure, PSK_PROVISIONING_RETRY_S,
    RetryPolicy, RetrySchedule, RetryStep,
};
pub use uri::{COAP_PORT, COAPS_PORT, ServerUri, parse_server_uri};

impl UserConfig<'_> {
    /// [`server_options_fingerprint`] of this configuration's server options.
    pub fn server_options_fingerprint(&self) -> u64 {
        server_options_fingerprint(&self.server_options())
    }
}
