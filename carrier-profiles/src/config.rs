//! The application's configuration record, field by field as the original's
//! `lwm2m_carrier_config_t` (carrier-api.md §1, app-integration.txt "Configuration").
//!
//! Owns [`UserConfig`] and its small value types ([`Binding`], [`PdnType`],
//! [`SerialNumberType`]). Guarantee: nothing here validates or panics — every raw value is
//! representable, and [`crate::resolve`] is the one place that judges it. Conversions from the
//! raw C numbers ([`PdnType::from_raw`], …) return a [`ConfigError`] naming the field.

use crate::carrier::CarrierSet;
use crate::error::{ConfigError, Field};

/// Longest server URI the original accepts (characters).
pub const SERVER_URI_MAX_LEN: usize = 255;
/// Longest custom APN (characters).
pub const APN_MAX_LEN: usize = 63;
/// Longest device string (manufacturer, model, device type, hardware / software version).
pub const DEVICE_STRING_MAX_LEN: usize = 32;
/// Longest LG U+ service code.
pub const SERVICE_CODE_MAX_LEN: usize = 5;
/// Largest session idle timeout and CoAP CON interval the original accepts (24 h, seconds).
pub const TIMER_MAX_S: i32 = 86_400;

/// Server binding bitmask (`server_binding`, carrier-api.md §1): UDP `0x01`, non-IP `0x02`.
///
/// `Binding::FACTORY` (0) means "use the factory value" (generic: UDP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Binding(pub u8);

impl Binding {
    /// No binding chosen: the factory value applies.
    pub const FACTORY: Binding = Binding(0);
    /// UDP (LwM2M binding letter `U`).
    pub const UDP: Binding = Binding(0x01);
    /// Non-IP (LwM2M binding letter `N`).
    pub const NON_IP: Binding = Binding(0x02);
    /// Both UDP and non-IP (`UN`).
    pub const UDP_AND_NON_IP: Binding = Binding(0x03);

    /// Whether UDP is part of the binding.
    pub const fn has_udp(self) -> bool {
        self.0 & Self::UDP.0 != 0
    }

    /// Whether non-IP is part of the binding.
    pub const fn has_non_ip(self) -> bool {
        self.0 & Self::NON_IP.0 != 0
    }

    /// Exactly non-IP (no UDP): the only binding that works without a server URI.
    pub const fn is_non_ip_only(self) -> bool {
        self.0 == Self::NON_IP.0
    }

    /// Whether a PDN of `pdn_type` can carry this binding: UDP needs an IP PDN, non-IP a non-IP
    /// PDN, `UN` either ("The APN … must be UDP (IP) or non-IP respectively"). The factory
    /// value (0) is not judged.
    pub const fn is_carried_by(self, pdn_type: PdnType) -> bool {
        self.0 == 0
            || (self.has_udp() && pdn_type.is_ip())
            || (self.has_non_ip() && !pdn_type.is_ip())
    }

    /// Bits that name no binding; `0` for a valid value.
    pub const fn unknown_bits(self) -> u8 {
        self.0 & !Self::UDP_AND_NON_IP.0
    }

    /// Migrate a setting stored by firmware older than 3.5.0, which held one character
    /// `'U'` or `'N'` (carrier-api.md §8). `0` stays "factory"; a value that is already a valid
    /// bitmask is kept; anything else is an error naming `server_binding`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidBinding`] for any other byte.
    pub const fn from_stored(byte: u8) -> Result<Binding, ConfigError> {
        match byte {
            b'U' => Ok(Self::UDP),
            b'N' => Ok(Self::NON_IP),
            0..=3 => Ok(Binding(byte)),
            other => Err(ConfigError::InvalidBinding { bits: other }),
        }
    }

    /// The LwM2M binding string (`"U"`, `"N"`, `"UN"`, or `""` for factory).
    pub const fn as_str(self) -> &'static str {
        match (self.has_udp(), self.has_non_ip()) {
            (true, true) => "UN",
            (true, false) => "U",
            (false, true) => "N",
            (false, false) => "",
        }
    }
}

/// PDN type of the custom APN (`pdn_type`). Numbers are the configuration's, which differ from
/// the OS layer's PDN family numbers (carrier-api.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum PdnType {
    /// IPv4 and IPv6 (the default).
    #[default]
    Ipv4v6 = 0,
    /// IPv4 only.
    Ipv4 = 1,
    /// IPv6 only.
    Ipv6 = 2,
    /// Non-IP (NIDD).
    NonIp = 3,
}

impl PdnType {
    /// From the C value.
    ///
    /// # Errors
    /// [`ConfigError::InvalidPdnType`] for values above 3.
    pub const fn from_raw(raw: u8) -> Result<PdnType, ConfigError> {
        match raw {
            0 => Ok(PdnType::Ipv4v6),
            1 => Ok(PdnType::Ipv4),
            2 => Ok(PdnType::Ipv6),
            3 => Ok(PdnType::NonIp),
            other => Err(ConfigError::InvalidPdnType { raw: other }),
        }
    }

    /// Whether the PDN carries IP (anything but non-IP).
    pub const fn is_ip(self) -> bool {
        !matches!(self, PdnType::NonIp)
    }

    /// The shell's name for the type ("IPv4v6", "IPv4", "IPv6", "Non-IP").
    pub const fn name(self) -> &'static str {
        match self {
            PdnType::Ipv4v6 => "IPv4v6",
            PdnType::Ipv4 => "IPv4",
            PdnType::Ipv6 => "IPv6",
            PdnType::NonIp => "Non-IP",
        }
    }
}

/// LG U+ device serial number source (`lg_uplus.device_serial_no_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum SerialNumberType {
    /// The modem IMEI (the default, value 0).
    #[default]
    Imei = 0,
    /// The SiP "2DID" two-dimensional barcode serial (value 1).
    TwoDid = 1,
}

impl SerialNumberType {
    /// From the C value.
    ///
    /// # Errors
    /// [`ConfigError::InvalidSerialNumberType`] for values above 1.
    pub const fn from_raw(raw: u8) -> Result<SerialNumberType, ConfigError> {
        match raw {
            0 => Ok(SerialNumberType::Imei),
            1 => Ok(SerialNumberType::TwoDid),
            other => Err(ConfigError::InvalidSerialNumberType { raw: other }),
        }
    }
}

/// LG U+ options (`lwm2m_carrier_lg_uplus_config_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LgUplusOptions<'a> {
    /// Service code from LG U+ (≤ 5 characters). Required in LG U+ operation.
    pub service_code: &'a str,
    /// Which serial number identifies the device to LG U+.
    pub device_serial_no_type: SerialNumberType,
}

/// Device object overrides (Device /3/0/0, /1, /17, /18, /19). Empty = keep the detected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceOptions<'a> {
    /// Manufacturer (/3/0/0); honoured in LG U+ and generic operation only.
    pub manufacturer: &'a str,
    /// Model number (/3/0/1); honoured in LG U+ and generic operation only.
    pub model_number: &'a str,
    /// Device type (/3/0/17); default "Module"; SoftBank always reports the IMEI.
    pub device_type: &'a str,
    /// Hardware version (/3/0/18); default read from the modem.
    pub hardware_version: &'a str,
    /// Software version suffix: /3/0/19 = library version + separator + this.
    pub software_version: &'a str,
}

/// The application's configuration, mirroring `lwm2m_carrier_config_t` field by field.
///
/// Strings are borrowed (the C library keeps pointers; here the borrow checker enforces what the
/// C documentation asks for). Raw numbers keep the C meaning of `0` ("default") and `-1`
/// ("disabled" / "always"), so settings stored by the original's shell load unchanged.
///
/// [`Default`] is the original's build-time defaults (carrier-api.md §1.1):
/// all carriers, smartcard bootstrap on, `is_bootstrap_server` on, queue mode on,
/// auto-register on, session idle timeout 60 s, CON interval 86400 s, everything else empty/0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UserConfig<'a> {
    /// `carriers_enabled`: where the library runs and where the server options apply.
    pub carriers_enabled: CarrierSet,
    /// Use LwM2M bootstrap data on the SIM when present (`CONFIG_LWM2M_CARRIER_BOOTSTRAP_SMARTCARD`,
    /// the pre-3.6 `!disable_bootstrap_from_smartcard`). Default on: since 3.6.0 the original
    /// always tries it when UICC support is built in.
    pub bootstrap_from_smartcard: bool,
    /// `is_bootstrap_server`: `server_uri` is a bootstrap server. Ignored without a URI.
    /// Default on (Kconfig `IS_BOOTSTRAP_SERVER` y).
    pub is_bootstrap_server: bool,
    /// `server_uri`: custom server (≤ 255 characters, `coap://` or `coaps://`).
    pub server_uri: &'a str,
    /// `server_sec_tag`: modem security tag with the PSK (and optionally the identity);
    /// 0 = the library chooses the carrier's credentials.
    pub server_sec_tag: u32,
    /// `server_binding`: UDP / non-IP bitmask; 0 = factory value.
    pub server_binding: Binding,
    /// `server_lifetime` in seconds; 0 = factory value (generic: 3600).
    pub server_lifetime_s: i32,
    /// `session_idle_timeout` in seconds: 0 → 60, −1 → disabled, range −1..=86400.
    pub session_idle_timeout_s: i32,
    /// `coap_con_interval` in seconds: 0 → 86400, −1 → every notification CON, range −1..=86400.
    pub coap_con_interval_s: i32,
    /// `firmware_download_timeout` in minutes: 0 → disabled (SoftBank: 30). Push delivery only.
    pub firmware_download_timeout_min: u16,
    /// `apn`: custom APN (≤ 63 characters); empty = none.
    pub apn: &'a str,
    /// `pdn_type` of the custom APN; ignored without `apn`.
    pub pdn_type: PdnType,
    /// `disable_queue_mode`: do not announce queue mode (binding `UQ`/`NQ`) to the server.
    pub disable_queue_mode: bool,
    /// `disable_auto_register`: wait for an explicit REGISTER request. Honoured in generic
    /// operation only (SoftBank never auto-registers; other carriers always do).
    pub disable_auto_register: bool,
    /// Settings-layer switch of the original's shell (`auto_startup`, default off): the runtime
    /// waits before starting until it is set. [`crate::resolve`] does not look at it.
    pub auto_startup: bool,
    /// Device object overrides.
    pub device: DeviceOptions<'a>,
    /// LG U+ options.
    pub lg_uplus: LgUplusOptions<'a>,
}

impl Default for UserConfig<'_> {
    fn default() -> Self {
        UserConfig {
            carriers_enabled: CarrierSet::DEFAULT,
            bootstrap_from_smartcard: true,
            is_bootstrap_server: true,
            server_uri: "",
            server_sec_tag: 0,
            server_binding: Binding::FACTORY,
            server_lifetime_s: 0,
            session_idle_timeout_s: 60,
            coap_con_interval_s: TIMER_MAX_S,
            firmware_download_timeout_min: 0,
            apn: "",
            pdn_type: PdnType::Ipv4v6,
            disable_queue_mode: false,
            disable_auto_register: false,
            auto_startup: false,
            device: DeviceOptions::default(),
            lg_uplus: LgUplusOptions::default(),
        }
    }
}

impl<'a> UserConfig<'a> {
    /// The server options, the only part of the configuration whose change forces a factory
    /// reset (carriers.md §11).
    pub const fn server_options(&self) -> ServerOptions<'a> {
        ServerOptions {
            server_uri: self.server_uri,
            is_bootstrap_server: self.is_bootstrap_server,
            server_sec_tag: self.server_sec_tag,
            server_lifetime_s: self.server_lifetime_s,
            server_binding: self.server_binding,
        }
    }
}

/// The five server options of [`UserConfig`] (app-integration.txt "Server options").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerOptions<'a> {
    /// `server_uri`.
    pub server_uri: &'a str,
    /// `is_bootstrap_server`.
    pub is_bootstrap_server: bool,
    /// `server_sec_tag`.
    pub server_sec_tag: u32,
    /// `server_lifetime` (seconds).
    pub server_lifetime_s: i32,
    /// `server_binding`.
    pub server_binding: Binding,
}

/// Length check shared by every string option.
pub(crate) fn check_len(field: Field, value: &str, max: usize) -> Result<(), ConfigError> {
    let len = value.chars().count();
    if len > max { Err(ConfigError::TooLong { field, len, max }) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_equal_the_original_build_time_defaults() {
        let c = UserConfig::default();
        assert_eq!(c.carriers_enabled.0, 0);
        assert!(c.bootstrap_from_smartcard);
        assert!(c.is_bootstrap_server);
        assert_eq!(c.server_uri, "");
        assert_eq!(c.server_sec_tag, 0);
        assert_eq!(c.server_binding, Binding::FACTORY);
        assert_eq!(c.server_lifetime_s, 0);
        assert_eq!(c.session_idle_timeout_s, 60);
        assert_eq!(c.coap_con_interval_s, 86_400);
        assert_eq!(c.firmware_download_timeout_min, 0);
        assert_eq!(c.apn, "");
        assert_eq!(c.pdn_type, PdnType::Ipv4v6);
        assert!(!c.disable_queue_mode);
        assert!(!c.disable_auto_register);
        assert!(!c.auto_startup);
        assert_eq!(c.lg_uplus.device_serial_no_type, SerialNumberType::Imei);
        assert_eq!(c.device, DeviceOptions::default());
    }

    #[test]
    fn legacy_binding_characters_migrate() {
        assert_eq!(Binding::from_stored(b'U'), Ok(Binding::UDP));
        assert_eq!(Binding::from_stored(b'N'), Ok(Binding::NON_IP));
        assert_eq!(Binding::from_stored(3), Ok(Binding::UDP_AND_NON_IP));
        assert_eq!(Binding::from_stored(0), Ok(Binding::FACTORY));
        assert_eq!(Binding::from_stored(b'S'), Err(ConfigError::InvalidBinding { bits: b'S' }));
    }

    #[test]
    fn raw_pdn_and_serial_types_convert_or_name_the_field() {
        assert_eq!(PdnType::from_raw(3), Ok(PdnType::NonIp));
        let e = PdnType::from_raw(4).unwrap_err();
        assert_eq!(e.field(), Field::PdnType);
        assert_eq!(SerialNumberType::from_raw(1), Ok(SerialNumberType::TwoDid));
        assert_eq!(
            SerialNumberType::from_raw(2).unwrap_err().field(),
            Field::LgUplusDeviceSerialNoType
        );
    }
}
