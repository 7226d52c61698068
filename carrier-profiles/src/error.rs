//! Configuration errors: every invalid combination names the field at fault and says why.
//!
//! Owns [`ConfigError`] and [`Field`]. Guarantee: every variant has a fixed [`Field`], a
//! `Display` sentence that starts with the field's name, and the negative errno the original
//! reports in its ERROR CONFIGURATION event (carrier-api.md §1 "Validation outcomes", §3).

use core::fmt;

use crate::carrier::Carrier;
use crate::config::{Binding, PdnType};

/// A field of [`crate::UserConfig`], named as the Rust field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Field {
    /// `carriers_enabled`
    CarriersEnabled,
    /// `server_uri`
    ServerUri,
    /// `is_bootstrap_server`
    IsBootstrapServer,
    /// `server_sec_tag`
    ServerSecTag,
    /// `server_binding`
    ServerBinding,
    /// `server_lifetime_s`
    ServerLifetime,
    /// `session_idle_timeout_s`
    SessionIdleTimeout,
    /// `coap_con_interval_s`
    CoapConInterval,
    /// `firmware_download_timeout_min`
    FirmwareDownloadTimeout,
    /// `apn`
    Apn,
    /// `pdn_type`
    PdnType,
    /// `lg_uplus.service_code`
    LgUplusServiceCode,
    /// `lg_uplus.device_serial_no_type`
    LgUplusDeviceSerialNoType,
    /// `device.manufacturer`
    Manufacturer,
    /// `device.model_number`
    ModelNumber,
    /// `device.device_type`
    DeviceType,
    /// `device.hardware_version`
    HardwareVersion,
    /// `device.software_version`
    SoftwareVersion,
}

impl Field {
    /// The field's path in [`crate::UserConfig`].
    pub const fn name(self) -> &'static str {
        match self {
            Field::CarriersEnabled => "carriers_enabled",
            Field::ServerUri => "server_uri",
            Field::IsBootstrapServer => "is_bootstrap_server",
            Field::ServerSecTag => "server_sec_tag",
            Field::ServerBinding => "server_binding",
            Field::ServerLifetime => "server_lifetime_s",
            Field::SessionIdleTimeout => "session_idle_timeout_s",
            Field::CoapConInterval => "coap_con_interval_s",
            Field::FirmwareDownloadTimeout => "firmware_download_timeout_min",
            Field::Apn => "apn",
            Field::PdnType => "pdn_type",
            Field::LgUplusServiceCode => "lg_uplus.service_code",
            Field::LgUplusDeviceSerialNoType => "lg_uplus.device_serial_no_type",
            Field::Manufacturer => "device.manufacturer",
            Field::ModelNumber => "device.model_number",
            Field::DeviceType => "device.device_type",
            Field::HardwareVersion => "device.hardware_version",
            Field::SoftwareVersion => "device.software_version",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a server URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UriProblem {
    /// The scheme is neither `coap://` nor `coaps://`.
    Scheme,
    /// No host after the scheme.
    MissingHost,
    /// The port is not a number in 1..=65535.
    Port,
    /// An IPv6 literal lacks its closing `]`, or the host holds a character no host may hold.
    Host,
}

impl fmt::Display for UriProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriProblem::Scheme => "the scheme must be coap:// or coaps://",
            UriProblem::MissingHost => "the host is missing",
            UriProblem::Port => "the port must be a number from 1 to 65535",
            UriProblem::Host => "the host is malformed",
        })
    }
}

/// An invalid configuration (or one that cannot run on the detected SIM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// A string is longer than the original accepts.
    #[error("{field} is too long: {len} characters, at most {max} allowed")]
    TooLong {
        /// The field.
        field: Field,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// `carriers_enabled` has a bit that names no supported carrier (0x04 is retired AT&T).
    #[error(
        "carriers_enabled has unsupported bits {bits:#x} (0x04 was AT&T, which is not supported)"
    )]
    UnknownCarrierBits {
        /// The offending bits.
        bits: u32,
    },
    /// The SIM belongs to no enabled carrier and generic mode is not enabled.
    #[error("carriers_enabled does not include the SIM's carrier ({}) and generic mode is off", subscriber_name(*.subscriber))]
    SubscriberNotEnabled {
        /// The carrier the SIM belongs to, if recognised.
        subscriber: Option<Carrier>,
    },
    /// Generic mode is only implied (`carriers_enabled` 0 or all-ones) and no generic server is
    /// configured: the SIM is simply not supported ("generic mode is entered when … a server
    /// is configured", carriers.md §3). Reported like `SubscriberNotEnabled`.
    #[error("carriers_enabled: the SIM ({}) is no enabled carrier, and generic mode has no server (server_uri is empty)", subscriber_name(*.subscriber))]
    UnsupportedSubscriber {
        /// The carrier the SIM belongs to, if recognised.
        subscriber: Option<Carrier>,
    },
    /// The server URI cannot be used.
    #[error("server_uri is invalid: {problem}")]
    InvalidUri {
        /// Why.
        problem: UriProblem,
    },
    /// Generic operation without a server URI and without a non-IP binding.
    #[error("server_uri is required in generic mode unless server_binding is non-IP only")]
    GenericNeedsUri,
    /// The operator's factory server address is not public; this implementation cannot reach it
    /// unless the server options are applied to that carrier (only it enabled) with a URI.
    #[error(
        "server_uri is required for {carrier}: its factory server is not public (enable only {carrier} and set server_uri)"
    )]
    FactoryServerUnknown {
        /// The carrier.
        carrier: Carrier,
    },
    /// A `coaps://` URI with nothing to take the PSK from.
    #[error(
        "server_sec_tag is required: a coaps:// server URI in generic mode needs a security tag holding the PSK"
    )]
    MissingSecTag,
    /// UDP binding without a URI.
    #[error("server binding UDP needs a server URI (server_binding has U, server_uri is empty)")]
    BindingUdpNeedsUri,
    /// A binding bit other than UDP and non-IP.
    #[error("server_binding has unknown bits {bits:#x}: only U (0x01) and N (0x02) exist")]
    InvalidBinding {
        /// The raw value.
        bits: u8,
    },
    /// The custom APN's PDN type cannot carry the server binding.
    #[error("pdn_type {} of the custom APN does not match server_binding {}: U needs an IP PDN, N a non-IP PDN", pdn_type.name(), binding.as_str())]
    BindingApnMismatch {
        /// The binding in effect.
        binding: Binding,
        /// The custom APN's PDN type.
        pdn_type: PdnType,
    },
    /// `pdn_type` above 3.
    #[error("pdn_type {raw} is invalid: must be 0 (IPv4v6), 1 (IPv4), 2 (IPv6) or 3 (Non-IP)")]
    InvalidPdnType {
        /// The raw value.
        raw: u8,
    },
    /// `session_idle_timeout_s` outside −1..=86400.
    #[error("session_idle_timeout_s {value} is invalid: must be -1 or between 0 and 86400")]
    InvalidSessionIdleTimeout {
        /// The value.
        value: i32,
    },
    /// `coap_con_interval_s` outside −1..=86400.
    #[error("coap_con_interval_s {value} is invalid: must be -1 or between 0 and 86400")]
    InvalidCoapConInterval {
        /// The value.
        value: i32,
    },
    /// Negative `server_lifetime_s`.
    #[error("server_lifetime_s {value} is invalid: must not be negative")]
    InvalidLifetime {
        /// The value.
        value: i32,
    },
    /// LG U+ operation without a service code.
    #[error("lg_uplus.service_code is required in LG U+ operation")]
    MissingServiceCode,
    /// `lg_uplus.device_serial_no_type` above 1.
    #[error("lg_uplus.device_serial_no_type {raw} is invalid: must be 0 (IMEI) or 1 (2DID)")]
    InvalidSerialNumberType {
        /// The raw value.
        raw: u8,
    },
    /// 2DID chosen but the modem reported none.
    #[error("lg_uplus.device_serial_no_type is 2DID but the modem reported no 2DID serial number")]
    TwoDidUnavailable,
}

fn subscriber_name(c: Option<Carrier>) -> &'static str {
    match c {
        Some(c) => c.name(),
        None => "not a supported carrier",
    }
}

/// Negative errno values of the original's ERROR CONFIGURATION / CONNECT events.
pub mod errno {
    /// `-ENOENT`: security tag absent.
    pub const ENOENT: i32 = -2;
    /// `-E2BIG`: string too long.
    pub const E2BIG: i32 = -7;
    /// `-EFAULT`: operator-specific item invalid or missing.
    pub const EFAULT: i32 = -14;
    /// `-EINVAL`: illegal value or URI.
    pub const EINVAL: i32 = -22;
    /// `-EBADR`: invalid binding or PDN type. 51 as in newlib/picolibc (**unconfirmed** for the
    /// original, carrier-api.md §3).
    pub const EBADR: i32 = -51;
    /// `-ENOTSUP`: subscriber ID not supported (ERROR CONNECT).
    pub const ENOTSUP: i32 = -134;
}

impl ConfigError {
    /// The field at fault.
    pub const fn field(&self) -> Field {
        match self {
            ConfigError::TooLong { field, .. } => *field,
            ConfigError::UnknownCarrierBits { .. }
            | ConfigError::SubscriberNotEnabled { .. }
            | ConfigError::UnsupportedSubscriber { .. } => Field::CarriersEnabled,
            ConfigError::InvalidUri { .. }
            | ConfigError::GenericNeedsUri
            | ConfigError::FactoryServerUnknown { .. } => Field::ServerUri,
            ConfigError::MissingSecTag => Field::ServerSecTag,
            ConfigError::BindingUdpNeedsUri | ConfigError::InvalidBinding { .. } => {
                Field::ServerBinding
            }
            ConfigError::BindingApnMismatch { .. } | ConfigError::InvalidPdnType { .. } => {
                Field::PdnType
            }
            ConfigError::InvalidSessionIdleTimeout { .. } => Field::SessionIdleTimeout,
            ConfigError::InvalidCoapConInterval { .. } => Field::CoapConInterval,
            ConfigError::InvalidLifetime { .. } => Field::ServerLifetime,
            ConfigError::MissingServiceCode => Field::LgUplusServiceCode,
            ConfigError::InvalidSerialNumberType { .. } | ConfigError::TwoDidUnavailable => {
                Field::LgUplusDeviceSerialNoType
            }
        }
    }

    /// The negative errno the original reports for this case (carrier-api.md §1, §3).
    pub const fn errno(&self) -> i32 {
        match self {
            ConfigError::TooLong { .. } => errno::E2BIG,
            ConfigError::SubscriberNotEnabled { .. }
            | ConfigError::UnsupportedSubscriber { .. } => errno::ENOTSUP,
            ConfigError::FactoryServerUnknown { .. }
            | ConfigError::MissingServiceCode
            | ConfigError::TwoDidUnavailable => errno::EFAULT,
            ConfigError::MissingSecTag => errno::ENOENT,
            ConfigError::BindingUdpNeedsUri
            | ConfigError::InvalidBinding { .. }
            | ConfigError::BindingApnMismatch { .. }
            | ConfigError::InvalidPdnType { .. } => errno::EBADR,
            ConfigError::UnknownCarrierBits { .. }
            | ConfigError::InvalidUri { .. }
            | ConfigError::GenericNeedsUri
            | ConfigError::InvalidSessionIdleTimeout { .. }
            | ConfigError::InvalidCoapConInterval { .. }
            | ConfigError::InvalidLifetime { .. }
            | ConfigError::InvalidSerialNumberType { .. } => errno::EINVAL,
        }
    }

    /// Whether the original reports this as ERROR CONNECT (the SIM cannot be served) rather than
    /// ERROR CONFIGURATION.
    pub const fn is_connect_error(&self) -> bool {
        matches!(
            self,
            ConfigError::SubscriberNotEnabled { .. } | ConfigError::UnsupportedSubscriber { .. }
        )
    }
}
