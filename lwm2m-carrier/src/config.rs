//! The configuration the application hands to the library (`carrier-api.md`
//! §1, app-integration.txt "Configuration"), a builder for it, and its
//! validation.
//!
//! [`Config`] is `carrier_profiles::UserConfig`: one type, field for field the
//! original's `lwm2m_carrier_config_t`, with `Default` equal to the original's
//! build-time defaults. Validation is `carrier_profiles::resolve` — the only
//! place the configuration rules live. A refused configuration gives a
//! [`ConfigError`] naming the field *and* the ERROR event the original emits:
//! type CONFIGURATION (3.7.0: no longer RUN) with the spec's errno, or type
//! CONNECT (`-ENOTSUP`) when the SIM belongs to no enabled carrier.

pub use carrier_profiles::{
    Binding, Carrier, CarrierSet, ConfigError, DeviceOptions, Effective, Field, LgUplusOptions,
    PdnType, SerialNumberType, UserConfig as Config,
};

use crate::errno::Errno;
use crate::event::{ErrorKind, Event};

/// The ERROR event the original emits for a refused configuration.
///
/// CONFIGURATION with `-E2BIG`, `-EFAULT`, `-ENOENT`, `-EINVAL` or `-EBADR`
/// (`carrier-api.md` §3); a SIM of no enabled carrier is CONNECT `-ENOTSUP`.
pub fn config_error_event(error: &ConfigError) -> Event<'static> {
    let kind = if error.is_connect_error() { ErrorKind::Connect } else { ErrorKind::Configuration };
    // Every errno carrier-profiles reports is in our table; EINVAL is the safe reading otherwise.
    let value = Errno::from_code(error.errno()).unwrap_or(Errno::Inval);
    Event::Error { kind, value }
}

/// Builds a [`Config`] field by field, starting from the original's defaults.
///
/// ```
/// use lwm2m_carrier::config::{ConfigBuilder, CarrierSet};
/// let config = ConfigBuilder::new()
///     .carriers(CarrierSet::GENERIC)
///     .server_uri("coaps://bootstrap.example.com:5784")
///     .bootstrap_server(true)
///     .server_sec_tag(42)
///     .build();
/// assert_eq!(config.server_sec_tag, 42);
/// assert_eq!(config.session_idle_timeout_s, 60);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[must_use]
pub struct ConfigBuilder<'a> {
    config: Config<'a>,
}

impl<'a> ConfigBuilder<'a> {
    /// The original's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Starts from an existing configuration.
    pub fn from_config(config: Config<'a>) -> Self {
        ConfigBuilder { config }
    }
    /// `carriers_enabled`.
    pub fn carriers(mut self, set: CarrierSet) -> Self {
        self.config.carriers_enabled = set;
        self
    }
    /// `server_uri`.
    pub fn server_uri(mut self, uri: &'a str) -> Self {
        self.config.server_uri = uri;
        self
    }
    /// `is_bootstrap_server`.
    pub fn bootstrap_server(mut self, yes: bool) -> Self {
        self.config.is_bootstrap_server = yes;
        self
    }
    /// `server_sec_tag`.
    pub fn server_sec_tag(mut self, tag: u32) -> Self {
        self.config.server_sec_tag = tag;
        self
    }
    /// `server_binding`.
    pub fn server_binding(mut self, binding: Binding) -> Self {
        self.config.server_binding = binding;
        self
    }
    /// `server_lifetime` (seconds; 0 = factory value).
    pub fn server_lifetime_s(mut self, s: i32) -> Self {
        self.config.server_lifetime_s = s;
        self
    }
    /// `session_idle_timeout` (seconds; 0 → 60, −1 disables).
    pub fn session_idle_timeout_s(mut self, s: i32) -> Self {
        self.config.session_idle_timeout_s = s;
        self
    }
    /// `coap_con_interval` (seconds; 0 → 86400, −1 always CON).
    pub fn coap_con_interval_s(mut self, s: i32) -> Self {
        self.config.coap_con_interval_s = s;
        self
    }
    /// `firmware_download_timeout` (minutes; push only).
    pub fn firmware_download_timeout_min(mut self, min: u16) -> Self {
        self.config.firmware_download_timeout_min = min;
        self
    }
    /// `apn` and `pdn_type`.
    pub fn apn(mut self, apn: &'a str, pdn_type: PdnType) -> Self {
        self.config.apn = apn;
        self.config.pdn_type = pdn_type;
        self
    }
    /// `disable_queue_mode`.
    pub fn queue_mode(mut self, on: bool) -> Self {
        self.config.disable_queue_mode = !on;
        self
    }
    /// `disable_auto_register`.
    pub fn auto_register(mut self, on: bool) -> Self {
        self.config.disable_auto_register = !on;
        self
    }
    /// The settings layer's `auto_startup`.
    pub fn auto_startup(mut self, on: bool) -> Self {
        self.config.auto_startup = on;
        self
    }
    /// Device object overrides.
    pub fn device(mut self, device: DeviceOptions<'a>) -> Self {
        self.config.device = device;
        self
    }
    /// LG U+ options.
    pub fn lg_uplus(mut self, options: LgUplusOptions<'a>) -> Self {
        self.config.lg_uplus = options;
        self
    }
    /// The configuration.
    pub fn build(self) -> Config<'a> {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier_profiles::{Detected, resolve};
    use std::string::String;

    const IMEI: &str = "352656100000001";

    fn detected() -> Detected<'static> {
        Detected { imei: IMEI, imsi: Some("901700000000001"), ..Detected::default() }
    }

    #[test]
    fn builder_defaults_are_the_originals() {
        let c = ConfigBuilder::new().build();
        assert_eq!(c, Config::default());
        assert_eq!(c.session_idle_timeout_s, 60);
        assert_eq!(c.coap_con_interval_s, 86_400);
        assert!(c.is_bootstrap_server);
        assert!(!c.disable_auto_register && !c.disable_queue_mode);
    }

    #[test]
    fn refused_configurations_name_the_field_and_give_the_spec_error_event() {
        let long_apn: String = "a".repeat(64);
        let long_uri = std::format!("coaps://{}", "h".repeat(250));
        let generic = ConfigBuilder::new().carriers(CarrierSet::GENERIC);
        let cases: [(Config<'_>, Field, ErrorKind, Errno); 6] = [
            (
                generic.server_uri("coaps://bs.example").apn(&long_apn, PdnType::Ipv4v6).build(),
                Field::Apn,
                ErrorKind::Configuration,
                Errno::TooBig,
            ),
            (
                generic.server_uri(&long_uri).build(),
                Field::ServerUri,
                ErrorKind::Configuration,
                Errno::TooBig,
            ),
            (
                generic.server_uri("http://bs.example").build(),
                Field::ServerUri,
                ErrorKind::Configuration,
                Errno::Inval,
            ),
            (
                generic.server_uri("coaps://bs.example").session_idle_timeout_s(86_401).build(),
                Field::SessionIdleTimeout,
                ErrorKind::Configuration,
                Errno::Inval,
            ),
            (
                generic
                    .server_uri("coaps://dm.example")
                    .bootstrap_server(false)
                    .server_binding(Binding(0x80))
                    .build(),
                Field::ServerBinding,
                ErrorKind::Configuration,
                Errno::BadR,
            ),
            // A SIM of no enabled carrier (Verizon only, generic SIM): CONNECT -ENOTSUP.
            (
                ConfigBuilder::new().carriers(CarrierSet::VERIZON).build(),
                Field::CarriersEnabled,
                ErrorKind::Connect,
                Errno::NotSup,
            ),
        ];
        for (config, field, kind, value) in cases {
            let err = resolve(&config, &detected()).expect_err("must be refused");
            assert_eq!(err.field(), field, "{err:?}");
            assert_eq!(config_error_event(&err), Event::Error { kind, value }, "{err:?}");
        }
    }

    #[test]
    fn a_generic_configuration_with_a_bootstrap_uri_resolves() {
        let c = ConfigBuilder::new()
            .carriers(CarrierSet::GENERIC)
            .server_uri("coaps://bs.example:5784")
            .server_sec_tag(7)
            .build();
        let eff = resolve(&c, &detected()).unwrap();
        assert!(eff.server.is_bootstrap);
        assert_eq!(eff.server.uri, Some("coaps://bs.example:5784"));
    }
}
