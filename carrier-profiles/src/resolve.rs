//! Configuration resolution: user configuration + detected identity → effective settings.
//!
//! Owns [`resolve`] and [`Effective`] with its parts. Implements every rule of
//! app-integration.txt "Configuration" / "Server options" and carrier-api.md §1; each rule is
//! quoted (or paraphrased) where it is applied, and the crate's `tests/rules.rs` has one
//! table-driven test per rule. Guarantee: pure, total, no allocation — any [`UserConfig`] and
//! any [`Detected`] give either an [`Effective`] or a [`ConfigError`] naming the field.

use crate::carrier::{Carrier, CarrierSet};
use crate::config::{
    APN_MAX_LEN, Binding, DEVICE_STRING_MAX_LEN, PdnType, SERVER_URI_MAX_LEN, SERVICE_CODE_MAX_LEN,
    SerialNumberType, TIMER_MAX_S, UserConfig, check_len,
};
use crate::detect::{Detected, detect_subscriber};
use crate::endpoint::{EndpointError, EndpointFormat, EndpointName, endpoint_name};
use crate::error::{ConfigError, Field};
use crate::operators::{
    AutoRegister, CustomApnUse, FactoryServer, Profile, PskSource, ServerRole, object, profile,
};
use crate::retry::RetryPolicy;
use crate::uri::parse_server_uri;

/// Default CoAP CON interval: 24 h (app-integration.txt, COAP_CON_INTERVAL).
pub const DEFAULT_CON_INTERVAL_S: u32 = 86_400;
/// When a non-default PDP context (CID ≠ 0) is in use and nothing is scheduled within this
/// many seconds, the context is released (carrier-api.md §1, `session_idle_timeout`).
pub const CUSTOM_PDN_RELEASE_IDLE_S: u32 = 15 * 60;
/// Prefix of the library part of Software Version (/3/0/19): `LwM2M_carrier_<version>`.
pub const LIBRARY_VERSION_PREFIX: &str = "LwM2M_carrier_";
/// Default Device Type (/3/0/17).
pub const DEFAULT_DEVICE_TYPE: &str = "Module";

/// Whether, and to what, the server options of the configuration apply (carriers bitmask rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerOptionsUse {
    /// Generic is enabled and the SIM is outside the other enabled carriers: the options
    /// describe the custom server.
    Generic,
    /// Exactly one carrier is enabled (and it is not generic): the options override that
    /// carrier's factory settings (how certification servers are reached).
    SingleCarrier(Carrier),
    /// Generic is enabled but the SIM belongs to another enabled carrier: options not used.
    IgnoredOtherCarrier,
    /// Several carriers are enabled and generic is not one of them: options ignored.
    IgnoredSeveralCarriers,
}

impl ServerOptionsUse {
    /// Whether the server options are in effect.
    pub const fn applies(self) -> bool {
        matches!(self, ServerOptionsUse::Generic | ServerOptionsUse::SingleCarrier(_))
    }
}

/// Where the server the client starts with comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerSource {
    /// LwM2M bootstrap data on the SIM (it wins over every other setting); the runtime reads it.
    Smartcard,
    /// The operator's factory server.
    Factory,
    /// The configuration's server options.
    Custom,
}

/// Credentials of the start server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Credentials {
    /// The PSK (and possibly identity) in this modem security tag (`server_sec_tag`).
    SecTag(u32),
    /// Security tag 0: the library applies the carrier's credentials automatically.
    Automatic(PskSource),
    /// From the SIM's bootstrap data.
    Smartcard,
    /// No security (`coap://` or non-IP).
    NoSec,
}

/// The server the client starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServerSetting<'a> {
    /// Where it comes from.
    pub source: ServerSource,
    /// Its URI: `None` with [`ServerSource::Smartcard`] or a non-IP server without URI.
    pub uri: Option<&'a str>,
    /// A Bootstrap-Server (the client bootstraps first) rather than a DM server.
    pub is_bootstrap: bool,
    /// Short Server ID for factory servers; `None` when bootstrap or the runtime assigns one.
    pub short_server_id: Option<u16>,
    /// Credentials.
    pub credentials: Credentials,
    /// Registration lifetime (s); `None` for a bootstrap server (bootstrap provisions it).
    pub lifetime_s: Option<u32>,
    /// Binding; `None` for a bootstrap server (bootstrap provisions it).
    pub binding: Option<Binding>,
    /// Client hold-off before contacting it (s).
    pub hold_off_s: u32,
}

/// One APN choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Apn<'a> {
    /// The network's default APN (default PDP context).
    NetworkDefault,
    /// The operator's device-management APN.
    Carrier(&'static str),
    /// The configuration's custom APN with its PDN type.
    Custom {
        /// APN name.
        name: &'a str,
        /// PDN type.
        pdn_type: PdnType,
    },
}

/// The APN to activate and the one to fall back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApnSettings<'a> {
    /// Tried first.
    pub primary: Apn<'a>,
    /// Tried when the primary fails.
    pub fallback: Option<Apn<'a>>,
}

/// Session idle timeout in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IdleTimeout {
    /// Close the DTLS session after this many seconds without traffic.
    After(u32),
    /// Never close for inactivity (−1).
    Disabled,
}

/// Notification confirmability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConInterval {
    /// Send a notification as CON at least this often (s), NON otherwise (RFC 7641 §4.5).
    Every(u32),
    /// Every notification is CON (−1).
    Always,
}

/// Device object values (/3/0/0, /1, /2, /17, /18, /19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceInfo<'a> {
    /// Manufacturer (/3/0/0).
    pub manufacturer: &'a str,
    /// Model number (/3/0/1).
    pub model_number: &'a str,
    /// Serial number (/3/0/2): the IMEI, or the 2DID for LG U+ when chosen.
    pub serial_number: &'a str,
    /// Device type (/3/0/17).
    pub device_type: &'a str,
    /// Hardware version (/3/0/18).
    pub hardware_version: &'a str,
    /// Application part of the software version; /3/0/19 =
    /// `LwM2M_carrier_<version>` + [`DeviceInfo::software_version_separator`] + this (the
    /// separator is omitted when this is empty).
    pub software_version: &'a str,
    /// `'\n'`, or `':'` for SoftBank.
    pub software_version_separator: char,
}

impl DeviceInfo<'_> {
    /// Write Software Version (/3/0/19): `LwM2M_carrier_<library_version>`, then, when the
    /// application gave one, the separator and its software version.
    ///
    /// # Errors
    /// Whatever `out` reports (a full `heapless::String`, for example).
    pub fn write_software_version(
        &self,
        out: &mut impl core::fmt::Write,
        library_version: &str,
    ) -> core::fmt::Result {
        out.write_str(LIBRARY_VERSION_PREFIX)?;
        out.write_str(library_version)?;
        if !self.software_version.is_empty() {
            out.write_char(self.software_version_separator)?;
            out.write_str(self.software_version)?;
        }
        Ok(())
    }
}

/// LG U+ settings in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LgUplusSettings<'a> {
    /// The service code (non-empty, ≤ 5 characters). The spec says it is reflected in the
    /// Device object's Model Number; how it is combined there is **unconfirmed**, so the
    /// objects layer decides and this crate hands it over unchanged.
    pub service_code: &'a str,
    /// Which serial number is reported.
    pub serial_number_type: SerialNumberType,
}

/// The effective settings: what the runtime does with this configuration on this SIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Effective<'a> {
    /// The operator profile in use (generic when the SIM is no enabled carrier).
    pub carrier: Carrier,
    /// The carrier the SIM belongs to, enabled or not (`None`: no supported carrier).
    pub subscriber: Option<Carrier>,
    /// Its table.
    pub profile: &'static Profile,
    /// Whether and how the server options apply.
    pub server_options: ServerOptionsUse,
    /// The server the client starts with.
    pub server: ServerSetting<'a>,
    /// Further factory servers (Verizon's diagnostics server).
    pub additional_servers: &'static [FactoryServer],
    /// APNs.
    pub apn: ApnSettings<'a>,
    /// DTLS session idle timeout (not applied with DTLS Connection ID; see
    /// [`Effective::session_idle_timeout_s`]).
    pub session_idle_timeout: IdleTimeout,
    /// CoAP CON interval for notifications.
    pub coap_con_interval: ConInterval,
    /// Firmware-download timeout in minutes (push delivery only); `None` = no timeout.
    pub firmware_download_timeout_min: Option<u16>,
    /// Announce queue mode to the server.
    pub queue_mode: bool,
    /// Register without waiting for an application REGISTER request.
    pub auto_register: bool,
    /// Endpoint-name format.
    pub endpoint: EndpointFormat,
    /// The MSISDN must be read before bootstrap.
    pub msisdn_required: bool,
    /// Device object values.
    pub device: DeviceInfo<'a>,
    /// LG U+ settings, in LG U+ operation only.
    pub lg_uplus: Option<LgUplusSettings<'a>>,
}

impl<'a> Effective<'a> {
    /// The idle timeout to apply now: `None` when disabled or when the DTLS session uses a
    /// Connection ID ("This configuration does not apply when the DTLS session is using
    /// Connection ID").
    pub const fn session_idle_timeout_s(&self, connection_id_in_use: bool) -> Option<u32> {
        match self.session_idle_timeout {
            IdleTimeout::After(s) if !connection_id_in_use => Some(s),
            _ => None,
        }
    }

    /// The APNs for a server that does or does not support the APN Connection Profile object:
    /// "If the connected device management server does not support the APN Connection Profile
    /// object, this configuration [the custom APN] is ignored."
    pub fn apn_for_server(&self, server_supports_apn_profile: bool) -> ApnSettings<'a> {
        if server_supports_apn_profile {
            self.apn
        } else {
            ApnSettings { primary: default_apn(self.profile), fallback: None }
        }
    }

    /// The endpoint client name for this SIM.
    ///
    /// # Errors
    /// See [`endpoint_name`]; `MsisdnUnavailable` means "defer with SIM_MSISDN".
    pub fn endpoint_name(&self, detected: &Detected<'_>) -> Result<EndpointName, EndpointError> {
        endpoint_name(self.endpoint, detected.imei, detected.msisdn)
    }

    /// The retry schedules of the operator.
    pub const fn retry(&self) -> &'static RetryPolicy {
        &self.profile.retry
    }

    /// Whether object `id` is enabled.
    pub fn has_object(&self, id: u16) -> bool {
        self.profile.has_object(id)
    }
}

fn default_apn(profile: &Profile) -> Apn<'static> {
    match profile.apn {
        Some(apn) => Apn::Carrier(apn),
        None => Apn::NetworkDefault,
    }
}

/// Resolve a configuration against what the modem and SIM report.
///
/// # Errors
/// A [`ConfigError`] naming the field at fault — see the variants. Structural checks (string
/// lengths, ranges, unknown bits, URI syntax) apply whatever the SIM. Combination checks on the
/// server options apply whenever the options are in effect for this SIM, even when SIM
/// bootstrap data then overrides them (so one firmware does not fail only with some SIMs) —
/// except "no server to reach" ([`ConfigError::GenericNeedsUri`],
/// [`ConfigError::FactoryServerUnknown`]), which SIM bootstrap data answers.
pub fn resolve<'a>(
    config: &UserConfig<'a>,
    detected: &Detected<'a>,
) -> Result<Effective<'a>, ConfigError> {
    check_structure(config)?;

    let enabled = config.carriers_enabled;
    let subscriber = detect_subscriber(detected);
    let carrier = match subscriber {
        Some(c) if enabled.contains(c) => c,
        // "If the SIM's subscriber ID matches no enabled carrier and GENERIC is on, run in
        // generic mode against server_uri."
        _ if enabled.contains(Carrier::Generic) => Carrier::Generic,
        _ => return Err(ConfigError::SubscriberNotEnabled { subscriber }),
    };
    let profile = profile(carrier);
    let server_options = options_use(enabled, carrier);

    // "The configuration in the SIM will take precedence over any other configuration. For
    // example, if a bootstrap server URI is fetched from the SIM, the configuration set by
    // CUSTOM_URI is ignored."
    let smartcard = config.bootstrap_from_smartcard && detected.smartcard_bootstrap;
    let (server, additional_servers) =
        match (start_server(config, profile, server_options), smartcard) {
            (Ok(found), false) => found,
            // With SIM bootstrap data, "there is no server to reach" is not an error; options that
            // contradict themselves still are.
            (
                Ok(_)
                | Err(ConfigError::GenericNeedsUri | ConfigError::FactoryServerUnknown { .. }),
                true,
            ) => (smartcard_server(), additional_servers(profile)),
            // Generic only implied by the default mask and nothing configured for it: this SIM
            // is not supported, rather than the configuration being wrong.
            (Err(ConfigError::GenericNeedsUri), false) if implicit_generic(enabled) => {
                return Err(ConfigError::UnsupportedSubscriber { subscriber });
            }
            (Err(e), _) => return Err(e),
        };

    let custom_uri_in_effect = server_options.applies() && !config.server_uri.is_empty();
    let apn = apn_settings(config, profile, custom_uri_in_effect);
    if let (Some(binding), Apn::Custom { pdn_type, .. }) = (server.binding, custom_apn_in(&apn)) {
        // "The APN must be UDP (IP) or non-IP respectively."
        if !binding.is_carried_by(pdn_type) {
            return Err(ConfigError::BindingApnMismatch { binding, pdn_type });
        }
    }

    let lg_uplus = if carrier == Carrier::LgUplus {
        // "Missing code in LG U+ network → configuration error (EFAULT)."
        if config.lg_uplus.service_code.is_empty() {
            return Err(ConfigError::MissingServiceCode);
        }
        Some(LgUplusSettings {
            service_code: config.lg_uplus.service_code,
            serial_number_type: config.lg_uplus.device_serial_no_type,
        })
    } else {
        None
    };

    let device = device_info(config, detected, profile, lg_uplus)?;

    Ok(Effective {
        carrier,
        subscriber,
        profile,
        server_options,
        server,
        additional_servers,
        apn,
        session_idle_timeout: match config.session_idle_timeout_s {
            // "Leaving this configuration empty (0) sets it to a default of 60 seconds."
            0 => IdleTimeout::After(profile.session_idle_timeout_s),
            // "Setting this configuration to -1 disables the session idle timeout."
            -1 => IdleTimeout::Disabled,
            s => IdleTimeout::After(s.unsigned_abs()),
        },
        coap_con_interval: match config.coap_con_interval_s {
            // "Leaving this configuration empty (0) sets it to a default of 24 hours."
            0 => ConInterval::Every(DEFAULT_CON_INTERVAL_S),
            // "Setting this to -1 will always use Confirmable notifications."
            -1 => ConInterval::Always,
            s => ConInterval::Every(s.unsigned_abs()),
        },
        // "Leaving this configuration empty (0) disables the timer for unknown subscriber IDs,
        // and set it to 30 minutes for the SoftBank subscriber ID." Push delivery only.
        firmware_download_timeout_min: match config.firmware_download_timeout_min {
            0 => profile.firmware_download_timeout_min,
            m => Some(m),
        },
        queue_mode: !config.disable_queue_mode,
        // "Auto register is disabled for the SoftBank Subscriber ID, and enabled for other
        // Subscriber IDs. Auto register can be disabled if the library is operating in Generic
        // mode."
        auto_register: match profile.auto_register {
            AutoRegister::Always => true,
            AutoRegister::Never => false,
            AutoRegister::Configurable => !config.disable_auto_register,
        },
        endpoint: profile.endpoint,
        msisdn_required: profile.msisdn_required,
        device,
        lg_uplus,
    })
}

/// Factory servers after the start server (Verizon's diagnostics server).
fn additional_servers(profile: &'static Profile) -> &'static [FactoryServer] {
    profile.servers.get(1..).unwrap_or(&[])
}

fn smartcard_server<'a>() -> ServerSetting<'a> {
    ServerSetting {
        source: ServerSource::Smartcard,
        uri: None,
        is_bootstrap: true,
        short_server_id: None,
        credentials: Credentials::Smartcard,
        lifetime_s: None,
        binding: None,
        hold_off_s: 0,
    }
}

fn custom_apn_in<'a>(apn: &ApnSettings<'a>) -> Apn<'a> {
    match (apn.primary, apn.fallback) {
        (c @ Apn::Custom { .. }, _) | (_, Some(c @ Apn::Custom { .. })) => c,
        _ => Apn::NetworkDefault,
    }
}

/// Lengths, ranges, bits and URI syntax.
fn check_structure(config: &UserConfig<'_>) -> Result<(), ConfigError> {
    check_len(Field::ServerUri, config.server_uri, SERVER_URI_MAX_LEN)?;
    check_len(Field::Apn, config.apn, APN_MAX_LEN)?;
    check_len(Field::LgUplusServiceCode, config.lg_uplus.service_code, SERVICE_CODE_MAX_LEN)?;
    let d = &config.device;
    for (field, value) in [
        (Field::Manufacturer, d.manufacturer),
        (Field::ModelNumber, d.model_number),
        (Field::DeviceType, d.device_type),
        (Field::HardwareVersion, d.hardware_version),
        (Field::SoftwareVersion, d.software_version),
    ] {
        check_len(field, value, DEVICE_STRING_MAX_LEN)?;
    }
    let bits = config.carriers_enabled.unknown_bits();
    if bits != 0 {
        return Err(ConfigError::UnknownCarrierBits { bits });
    }
    if config.server_binding.unknown_bits() != 0 {
        return Err(ConfigError::InvalidBinding { bits: config.server_binding.0 });
    }
    if !(-1..=TIMER_MAX_S).contains(&config.session_idle_timeout_s) {
        return Err(ConfigError::InvalidSessionIdleTimeout {
            value: config.session_idle_timeout_s,
        });
    }
    if !(-1..=TIMER_MAX_S).contains(&config.coap_con_interval_s) {
        return Err(ConfigError::InvalidCoapConInterval { value: config.coap_con_interval_s });
    }
    if config.server_lifetime_s < 0 {
        return Err(ConfigError::InvalidLifetime { value: config.server_lifetime_s });
    }
    if !config.server_uri.is_empty() {
        parse_server_uri(config.server_uri)?;
    }
    Ok(())
}

/// `carriers_enabled` 0 or all-ones: every carrier, generic included, without the application
/// having asked for generic mode.
const fn implicit_generic(enabled: CarrierSet) -> bool {
    enabled.0 == 0 || enabled.0 == u32::MAX
}

/// The carriers-bitmask rule for the server options.
fn options_use(enabled: CarrierSet, carrier: Carrier) -> ServerOptionsUse {
    if enabled.contains(Carrier::Generic) {
        // "If you select GENERIC, all the server settings apply when outside of the other
        // enabled carrier network."
        if carrier == Carrier::Generic {
            ServerOptionsUse::Generic
        } else {
            ServerOptionsUse::IgnoredOtherCarrier
        }
    } else if let Some(single) = enabled.single() {
        // "If only one carrier is selected, then the configurations listed in Server options
        // are applied to the selected carrier."
        ServerOptionsUse::SingleCarrier(single)
    } else {
        // "If multiple carriers are enabled, but GENERIC is not one of them, then all server
        // settings are ignored."
        ServerOptionsUse::IgnoredSeveralCarriers
    }
}

/// The start server (before smartcard precedence) and the additional factory servers.
fn start_server<'a>(
    config: &UserConfig<'a>,
    profile: &'static Profile,
    use_: ServerOptionsUse,
) -> Result<(ServerSetting<'a>, &'static [FactoryServer]), ConfigError> {
    let additional = additional_servers(profile);
    if !use_.applies() {
        return factory_server(profile, None).map(|s| (s, additional));
    }

    let user_tag = (config.server_sec_tag != 0).then_some(config.server_sec_tag);

    if !config.server_uri.is_empty() {
        let uri = parse_server_uri(config.server_uri)?;
        let is_bootstrap = config.is_bootstrap_server;
        let credentials = match (uri.secure, user_tag) {
            (false, _) => Credentials::NoSec,
            (true, Some(tag)) => Credentials::SecTag(tag),
            // "0 → library picks the carrier's own credentials" — generic has none.
            (true, None) if profile.psk == PskSource::UserSecTagOnly => {
                return Err(ConfigError::MissingSecTag);
            }
            (true, None) => Credentials::Automatic(profile.psk),
        };
        let (lifetime_s, binding) = if is_bootstrap {
            // Lifetime and binding: "ignored if a bootstrap server is configured".
            (None, None)
        } else {
            (Some(lifetime(config, profile)), Some(binding(config, profile)))
        };
        let server = ServerSetting {
            source: ServerSource::Custom,
            uri: Some(config.server_uri),
            is_bootstrap,
            short_server_id: None,
            credentials,
            lifetime_s,
            binding,
            hold_off_s: 0,
        };
        // A custom server replaces the factory start server; Verizon's diagnostics server stays.
        return Ok((server, additional));
    }

    // No URI: "is_bootstrap_server is ignored if server_uri is not set".
    let factory_is_bootstrap = profile.factory_bootstrap;
    if !factory_is_bootstrap {
        // Binding applies (no bootstrap server): "If UDP binding is configured, a URI must also
        // be set."
        if config.server_binding.has_udp() {
            return Err(ConfigError::BindingUdpNeedsUri);
        }
        let binding = binding(config, profile);
        if binding.is_non_ip_only() {
            // Non-IP needs no URI: the server is reached over NIDD.
            let server = ServerSetting {
                source: ServerSource::Custom,
                uri: None,
                is_bootstrap: false,
                short_server_id: None,
                credentials: Credentials::NoSec,
                lifetime_s: Some(lifetime(config, profile)),
                binding: Some(binding),
                hold_off_s: 0,
            };
            return Ok((server, additional));
        }
        if profile.carrier == Carrier::Generic {
            // "For GENERIC, no valid factory configuration has been set. At a minimum, a URI
            // must be set, unless the binding is non-IP."
            return Err(ConfigError::GenericNeedsUri);
        }
    }
    factory_server(profile, user_tag).map(|mut s| {
        if !s.is_bootstrap {
            s.lifetime_s = Some(lifetime(config, profile));
            s.binding = Some(binding(config, profile));
        }
        (s, additional)
    })
}

/// The operator's factory start server; `user_tag` overrides its credentials.
fn factory_server<'a>(
    profile: &'static Profile,
    user_tag: Option<u32>,
) -> Result<ServerSetting<'a>, ConfigError> {
    let Some(f) = profile.start_server() else {
        return Err(if profile.carrier == Carrier::Generic {
            ConfigError::GenericNeedsUri
        } else {
            ConfigError::FactoryServerUnknown { carrier: profile.carrier }
        });
    };
    let is_bootstrap = f.role == ServerRole::Bootstrap;
    Ok(ServerSetting {
        source: ServerSource::Factory,
        uri: Some(f.uri),
        is_bootstrap,
        short_server_id: Some(f.short_server_id),
        credentials: match user_tag {
            Some(tag) => Credentials::SecTag(tag),
            None => Credentials::Automatic(f.psk),
        },
        lifetime_s: f.lifetime_s,
        binding: None,
        hold_off_s: f.hold_off_s,
    })
}

/// "If this configuration is left empty (0) the factory configuration is used … For generic
/// operation, the default is 1 hour."
fn lifetime(config: &UserConfig<'_>, profile: &Profile) -> u32 {
    match config.server_lifetime_s {
        0 => profile.lifetime_s,
        s => s.unsigned_abs(),
    }
}

/// "If this configuration is left empty (0) the factory configuration is used … For generic
/// operation, the default is UDP."
fn binding(config: &UserConfig<'_>, profile: &Profile) -> Binding {
    if config.server_binding == Binding::FACTORY { profile.binding } else { config.server_binding }
}

/// Custom APN rules (app-integration.txt, CUSTOM_APN and PDN_TYPE).
fn apn_settings<'a>(
    config: &UserConfig<'a>,
    profile: &'static Profile,
    custom_uri_in_effect: bool,
) -> ApnSettings<'a> {
    let default = default_apn(profile);
    let use_ = if config.apn.is_empty() || !profile.has_object(object::APN_CONNECTION_PROFILE) {
        // No custom APN (then "PDN type … is ignored"), or no APN Connection Profile object.
        CustomApnUse::Ignored
    } else if profile.custom_apn == CustomApnUse::Fallback && custom_uri_in_effect {
        // "If CUSTOM_URI is set (generic), CUSTOM_APN is used instead of the default APN."
        CustomApnUse::ReplacesDefault
    } else {
        profile.custom_apn
    };
    let custom = Apn::Custom { name: config.apn, pdn_type: config.pdn_type };
    match use_ {
        CustomApnUse::Ignored => ApnSettings { primary: default, fallback: None },
        // "If CUSTOM_URI is not set (normal), this configuration provides a fallback APN."
        CustomApnUse::Fallback => ApnSettings { primary: default, fallback: Some(custom) },
        // "The default APN becomes the fallback APN."
        CustomApnUse::ReplacesDefault => ApnSettings { primary: custom, fallback: Some(default) },
    }
}

/// Device options override the detected values, within each operator's limits.
fn device_info<'a>(
    config: &UserConfig<'a>,
    detected: &Detected<'a>,
    profile: &Profile,
    lg_uplus: Option<LgUplusSettings<'a>>,
) -> Result<DeviceInfo<'a>, ConfigError> {
    let d = &config.device;
    let pick = |user: &'a str, found: &'a str| if user.is_empty() { found } else { user };
    // "Override allowed only for LG U+ and generic" (manufacturer, model number).
    let (manufacturer, model_number) = if profile.identity_overridable {
        (pick(d.manufacturer, detected.manufacturer), pick(d.model_number, detected.model_number))
    } else {
        (detected.manufacturer, detected.model_number)
    };
    let serial_number = match lg_uplus.map(|l| l.serial_number_type) {
        Some(SerialNumberType::TwoDid) => {
            detected.sip_2did.filter(|s| !s.is_empty()).ok_or(ConfigError::TwoDidUnavailable)?
        }
        _ => detected.imei,
    };
    Ok(DeviceInfo {
        manufacturer,
        model_number,
        serial_number,
        // "SoftBank: always the IMEI, cannot be set."
        device_type: if profile.device_type_is_imei {
            detected.imei
        } else {
            pick(d.device_type, DEFAULT_DEVICE_TYPE)
        },
        hardware_version: pick(d.hardware_version, detected.hardware_version),
        software_version: d.software_version,
        software_version_separator: profile.software_version_separator,
    })
}
