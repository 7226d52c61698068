//! The persistent settings behind `carrier_config` (carrier-api.md §6.2
//! "Settings persistence"): one record per key of the original's
//! `carrier_config` subtree, kept in `<state-dir>/carrier_config` as
//! `key=value` lines and replaced crash-safely on every change
//! (`carrier_os_std::storage::write_file_atomically`).
//!
//! Guarantee: a key absent from the file reads as its build-time default;
//! setting an empty string deletes the key; a string longer than its limit is
//! refused (the original's `-ENOMEM`) and nothing is stored. An unreadable or
//! malformed line is ignored (that key keeps its default), never a panic.
//! [`Settings::user_config`] is the original's `custom_init` overlay.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use carrier_profiles::{
    APN_MAX_LEN, Binding, DEVICE_STRING_MAX_LEN, DeviceOptions, LgUplusOptions, PdnType,
    SERVER_URI_MAX_LEN, SERVICE_CODE_MAX_LEN, SerialNumberType, UserConfig,
};
use carrier_profiles::{Carrier, CarrierSet};

/// Name of the settings file inside the state directory (the original's subtree name).
pub const FILE_NAME: &str = "carrier_config";

/// `carriers_enabled` value meaning "every carrier" (the original settings layer's
/// `UINT32_MAX`); `0` means none.
pub const CARRIERS_ALL: u32 = u32::MAX;

/// A string setting: its key and its limit in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// `server_uri` (≤ 255).
    ServerUri,
    /// `apn` (≤ 63).
    Apn,
    /// `service_code` (≤ 5).
    ServiceCode,
    /// `manufacturer` (≤ 32).
    Manufacturer,
    /// `model_number` (≤ 32).
    ModelNumber,
    /// `device_type` (≤ 32).
    DeviceType,
    /// `hardware_version` (≤ 32).
    HardwareVersion,
    /// `software_version` (≤ 32).
    SoftwareVersion,
}

impl Text {
    /// The settings key.
    pub const fn key(self) -> &'static str {
        match self {
            Text::ServerUri => "server_uri",
            Text::Apn => "apn",
            Text::ServiceCode => "service_code",
            Text::Manufacturer => "manufacturer",
            Text::ModelNumber => "model_number",
            Text::DeviceType => "device_type",
            Text::HardwareVersion => "hardware_version",
            Text::SoftwareVersion => "software_version",
        }
    }

    /// Longest accepted value, in characters.
    pub const fn max_len(self) -> usize {
        match self {
            Text::ServerUri => SERVER_URI_MAX_LEN,
            Text::Apn => APN_MAX_LEN,
            Text::ServiceCode => SERVICE_CODE_MAX_LEN,
            _ => DEVICE_STRING_MAX_LEN,
        }
    }
}

/// A string longer than its setting's limit (the original's `-ENOMEM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    /// The limit in characters.
    pub max: usize,
}

/// The settings, as stored records (key → value text).
#[derive(Debug, Clone)]
pub struct Settings {
    path: Option<PathBuf>,
    records: BTreeMap<String, String>,
}

impl Settings {
    /// Settings kept in memory only (tests of the overlay).
    #[cfg(test)]
    pub fn in_memory() -> Self {
        Settings { path: None, records: BTreeMap::new() }
    }

    /// Load the settings kept in `dir` (created when missing).
    ///
    /// # Errors
    /// The directory cannot be created or the file cannot be read.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let mut records = BTreeMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('=')
                        && let Some(v) = unescape(v)
                    {
                        records.insert(k.to_owned(), v);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Settings { path: Some(path), records })
    }

    fn save(&self) -> io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let mut text = String::new();
        for (k, v) in &self.records {
            text.push_str(k);
            text.push('=');
            text.push_str(&escape(v));
            text.push('\n');
        }
        carrier_os_std::storage::write_file_atomically(path, text.as_bytes())
    }

    fn put(&mut self, key: &str, value: String) -> io::Result<()> {
        self.records.insert(key.to_owned(), value);
        self.save()
    }

    fn delete(&mut self, key: &str) -> io::Result<()> {
        self.records.remove(key);
        self.save()
    }

    fn num<T: core::str::FromStr>(&self, key: &str, default: T) -> T {
        self.records.get(key).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    fn flag(&self, key: &str, default: bool) -> bool {
        match self.records.get(key).map(String::as_str) {
            Some("1") => true,
            Some("0") => false,
            _ => default,
        }
    }

    /// Store a switch.
    ///
    /// # Errors
    /// The settings file cannot be written.
    pub fn set_flag(&mut self, key: Flag, on: bool) -> io::Result<()> {
        self.put(key.key(), if on { "1" } else { "0" }.to_owned())
    }

    /// Store a number under `key`.
    ///
    /// # Errors
    /// The settings file cannot be written.
    pub fn set_number(&mut self, key: Number, value: i64) -> io::Result<()> {
        self.put(key.key(), value.to_string())
    }

    /// Store a string; an empty one deletes the key.
    ///
    /// # Errors
    /// `Ok(Err(TooLong))` when the value exceeds the limit (nothing stored);
    /// `Err` when the settings file cannot be written.
    pub fn set_text(&mut self, key: Text, value: &str) -> io::Result<Result<(), TooLong>> {
        if value.chars().count() > key.max_len() {
            return Ok(Err(TooLong { max: key.max_len() }));
        }
        if value.is_empty() {
            self.delete(key.key())?
        } else {
            self.put(key.key(), value.to_owned())?
        }
        Ok(Ok(()))
    }

    /// A switch's value (its default when absent).
    pub fn get_flag(&self, key: Flag) -> bool {
        self.flag(key.key(), key.default())
    }

    /// A string's value (empty when absent).
    pub fn text(&self, key: Text) -> &str {
        self.records.get(key.key()).map_or("", String::as_str)
    }

    /// `carriers_enabled`: [`CARRIERS_ALL`] by default.
    pub fn carriers_enabled(&self) -> u32 {
        self.num(Number::CarriersEnabled.key(), CARRIERS_ALL)
    }
    /// `server_sec_tag`.
    pub fn server_sec_tag(&self) -> u32 {
        self.num(Number::ServerSecTag.key(), 0)
    }
    /// `server_lifetime` (seconds).
    pub fn server_lifetime(&self) -> i32 {
        self.num(Number::ServerLifetime.key(), 0)
    }
    /// `server_binding` bitmask; a single stored `U`/`N` character (pre-3.5.0) is migrated.
    pub fn server_binding(&self) -> Binding {
        let key = Number::ServerBinding.key();
        match self.records.get(key).map(String::as_str) {
            Some("U") => Binding::UDP,
            Some("N") => Binding::NON_IP,
            _ => Binding(self.num(key, 0)),
        }
    }
    /// `session_idle_timeout` (seconds).
    pub fn session_idle_timeout(&self) -> i32 {
        self.num(Number::SessionIdleTimeout.key(), 60)
    }
    /// `coap_con_interval` (seconds).
    pub fn coap_con_interval(&self) -> i32 {
        self.num(Number::CoapConInterval.key(), 86_400)
    }
    /// `pdn_type` (0..=3).
    pub fn pdn_type(&self) -> PdnType {
        PdnType::from_raw(self.num(Number::PdnType.key(), 0)).unwrap_or(PdnType::Ipv4v6)
    }
    /// `device_serial_no_type` (0 IMEI, 1 2DID).
    pub fn device_serial_no_type(&self) -> u8 {
        self.num(Number::DeviceSerialNoType.key(), 0)
    }
    /// `firmware_download_timeout` (minutes).
    pub fn firmware_download_timeout(&self) -> u16 {
        self.num(Number::FirmwareDownloadTimeout.key(), 0)
    }

    /// The carriers of `carriers_enabled` as a library [`CarrierSet`]: "all" is the
    /// library's 0; unknown bits are dropped.
    pub fn carrier_set(&self) -> CarrierSet {
        let raw = self.carriers_enabled();
        if raw == CARRIERS_ALL {
            CarrierSet::DEFAULT
        } else {
            CarrierSet(raw & CarrierSet::ALL_SUPPORTED.0)
        }
    }

    /// Whether `carrier` is among the enabled carriers.
    pub fn carrier_enabled(&self, carrier: Carrier) -> bool {
        self.carriers_enabled() & carrier.bit() != 0
    }

    /// The original's `custom_init`: the build-time configuration with the stored
    /// custom settings laid over it (when `enable_custom_config_settings`), and the
    /// device settings (when `enable_custom_device_settings`).
    pub fn user_config(&self) -> UserConfig<'_> {
        let mut c =
            UserConfig { auto_startup: self.get_flag(Flag::AutoStartup), ..UserConfig::default() };
        if self.get_flag(Flag::CustomConfig) {
            c.carriers_enabled = self.carrier_set();
            c.server_uri = self.text(Text::ServerUri);
            c.is_bootstrap_server = self.get_flag(Flag::IsBootstrapServer);
            c.server_sec_tag = self.server_sec_tag();
            c.server_lifetime_s = self.server_lifetime();
            c.server_binding = self.server_binding();
            c.session_idle_timeout_s = self.session_idle_timeout();
            c.coap_con_interval_s = self.coap_con_interval();
            c.firmware_download_timeout_min = self.firmware_download_timeout();
            c.apn = self.text(Text::Apn);
            c.pdn_type = self.pdn_type();
            c.disable_queue_mode = !self.get_flag(Flag::QueueMode);
            c.disable_auto_register = !self.get_flag(Flag::AutoRegister);
            c.lg_uplus = LgUplusOptions {
                service_code: self.text(Text::ServiceCode),
                device_serial_no_type: SerialNumberType::from_raw(self.device_serial_no_type())
                    .unwrap_or_default(),
            };
        }
        if self.get_flag(Flag::CustomDevice) {
            c.device = DeviceOptions {
                manufacturer: self.text(Text::Manufacturer),
                model_number: self.text(Text::ModelNumber),
                device_type: self.text(Text::DeviceType),
                hardware_version: self.text(Text::HardwareVersion),
                software_version: self.text(Text::SoftwareVersion),
            };
        }
        c
    }
}

/// A yes/no setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// `auto_startup` (default off).
    AutoStartup,
    /// `enable_custom_config_settings` (default on).
    CustomConfig,
    /// `enable_custom_device_settings` (default off).
    CustomDevice,
    /// `is_bootstrap_server` (default on: the library's build-time default,
    /// Kconfig `IS_BOOTSTRAP_SERVER` y, carrier-api.md §1.1 — the same value
    /// as `UserConfig::default()`; it only matters once a URI is set).
    IsBootstrapServer,
    /// `queue_mode` (default on).
    QueueMode,
    /// `auto_register` (default on).
    AutoRegister,
}

impl Flag {
    const fn key(self) -> &'static str {
        match self {
            Flag::AutoStartup => "auto_startup",
            Flag::CustomConfig => "enable_custom_config_settings",
            Flag::CustomDevice => "enable_custom_device_settings",
            Flag::IsBootstrapServer => "is_bootstrap_server",
            Flag::QueueMode => "queue_mode",
            Flag::AutoRegister => "auto_register",
        }
    }
    /// The value before the user sets it: the library's defaults
    /// (`UserConfig::default()`), so the shell and the library agree.
    fn default(self) -> bool {
        let library = UserConfig::default();
        match self {
            Flag::AutoStartup => library.auto_startup,
            Flag::CustomConfig => true,
            Flag::CustomDevice => false,
            Flag::IsBootstrapServer => library.is_bootstrap_server,
            Flag::QueueMode => !library.disable_queue_mode,
            Flag::AutoRegister => !library.disable_auto_register,
        }
    }
}

/// A numeric setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    /// `carriers_enabled`.
    CarriersEnabled,
    /// `server_sec_tag`.
    ServerSecTag,
    /// `server_lifetime`.
    ServerLifetime,
    /// `server_binding`.
    ServerBinding,
    /// `session_idle_timeout`.
    SessionIdleTimeout,
    /// `coap_con_interval`.
    CoapConInterval,
    /// `pdn_type`.
    PdnType,
    /// `device_serial_no_type`.
    DeviceSerialNoType,
    /// `firmware_download_timeout`.
    FirmwareDownloadTimeout,
}

impl Number {
    const fn key(self) -> &'static str {
        match self {
            Number::CarriersEnabled => "carriers_enabled",
            Number::ServerSecTag => "server_sec_tag",
            Number::ServerLifetime => "server_lifetime",
            Number::ServerBinding => "server_binding",
            Number::SessionIdleTimeout => "session_idle_timeout",
            Number::CoapConInterval => "coap_con_interval",
            Number::PdnType => "pdn_type",
            Number::DeviceSerialNoType => "device_serial_no_type",
            Number::FirmwareDownloadTimeout => "firmware_download_timeout",
        }
    }
}

/// Values are one line each: `\` and newlines are escaped.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(v: &str) -> Option<String> {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_original_settings_defaults() {
        let s = Settings::in_memory();
        assert!(!s.get_flag(Flag::AutoStartup));
        assert!(s.get_flag(Flag::CustomConfig));
        assert!(!s.get_flag(Flag::CustomDevice));
        assert_eq!(s.carriers_enabled(), CARRIERS_ALL);
        assert_eq!(s.session_idle_timeout(), 60);
        assert_eq!(s.coap_con_interval(), 86_400);
        let c = s.user_config();
        assert_eq!(c.carriers_enabled, CarrierSet::DEFAULT);
        assert!(!c.disable_queue_mode);
        assert!(!c.disable_auto_register);
    }

    #[test]
    fn custom_settings_apply_only_when_enabled() {
        let mut s = Settings::in_memory();
        s.set_text(Text::Apn, "iot.example").unwrap().unwrap();
        s.set_text(Text::Manufacturer, "ACME").unwrap().unwrap();
        assert_eq!(s.user_config().apn, "iot.example");
        assert_eq!(s.user_config().device.manufacturer, "");
        s.set_flag(Flag::CustomDevice, true).unwrap();
        s.set_flag(Flag::CustomConfig, false).unwrap();
        assert_eq!(s.user_config().apn, "");
        assert_eq!(s.user_config().device.manufacturer, "ACME");
    }

    #[test]
    fn too_long_strings_are_refused_and_empty_deletes() {
        let mut s = Settings::in_memory();
        assert_eq!(s.set_text(Text::ServiceCode, "123456").unwrap(), Err(TooLong { max: 5 }));
        s.set_text(Text::ServiceCode, "12345").unwrap().unwrap();
        assert_eq!(s.text(Text::ServiceCode), "12345");
        s.set_text(Text::ServiceCode, "").unwrap().unwrap();
        assert!(!s.records.contains_key("service_code"));
    }

    #[test]
    fn legacy_binding_character_is_migrated() {
        let mut s = Settings::in_memory();
        s.records.insert("server_binding".into(), "N".into());
        assert_eq!(s.server_binding(), Binding::NON_IP);
    }

    #[test]
    fn escaping_round_trips_and_bad_escapes_are_rejected() {
        for v in ["a=b", "x\\y", "line\nbreak", ""] {
            assert_eq!(unescape(&escape(v)).as_deref(), Some(v));
        }
        assert_eq!(unescape("bad\\q"), None);
    }
}
