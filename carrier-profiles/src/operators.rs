//! The operator tables: one `const` [`Profile`] per operator, every fact of carriers.md in one
//! place.
//!
//! Owns [`Profile`] and its parts ([`FactoryServer`], [`Detection`], [`PskSource`], …) and the
//! six tables [`VERIZON`], [`T_MOBILE`], [`SOFTBANK`], [`LG_UPLUS`], [`BELL_CANADA`],
//! [`GENERIC`]. Implements carriers.md §2–§8 and §10. Facts tagged there as **unconfirmed** are
//! marked so in the doc comment of the value, with the choice made and why: the choice is always
//! the one a certified product needs (fail loudly rather than guess an address, keep the
//! behaviour of the published library where it is known).
//!
//! Guarantee: the tables are `const` data; looking them up never panics.

use crate::carrier::Carrier;
use crate::config::Binding;
use crate::endpoint::EndpointFormat;
use crate::retry::{AfterLast, RetryPolicy, RetrySchedule};

/// LwM2M object IDs used in the tables (OMA registry; 10250 is LG U+'s App Data Container).
pub mod object {
    /// LwM2M Security.
    pub const SECURITY: u16 = 0;
    /// LwM2M Server.
    pub const SERVER: u16 = 1;
    /// Access Control.
    pub const ACCESS_CONTROL: u16 = 2;
    /// Device.
    pub const DEVICE: u16 = 3;
    /// Connectivity Monitoring.
    pub const CONNECTIVITY_MONITORING: u16 = 4;
    /// Firmware Update.
    pub const FIRMWARE_UPDATE: u16 = 5;
    /// Location.
    pub const LOCATION: u16 = 6;
    /// Connectivity Statistics.
    pub const CONNECTIVITY_STATISTICS: u16 = 7;
    /// Cellular Connectivity.
    pub const CELLULAR_CONNECTIVITY: u16 = 10;
    /// APN Connection Profile.
    pub const APN_CONNECTION_PROFILE: u16 = 11;
    /// Portfolio (AT&T only; not enabled by any table here).
    pub const PORTFOLIO: u16 = 16;
    /// Binary App Data Container.
    pub const BINARY_APP_DATA_CONTAINER: u16 = 19;
    /// Event Log.
    pub const EVENT_LOG: u16 = 20;
    /// LG U+ App Data Container.
    pub const APP_DATA_CONTAINER: u16 = 10250;
}

/// How the carrier is recognised (carriers.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Detection {
    /// `AT%XOPERID` values of this carrier (early library source \[E\]).
    pub operator_ids: &'static [u8],
    /// Home MCC+MNC prefixes of the IMSI (public PLMN assignments; **unconfirmed** as library
    /// behaviour, used only when the modem gives no operator ID).
    pub home_plmns: &'static [&'static str],
    /// ICCID issuer prefixes ("89" + country + issuer; **unconfirmed**, last fallback).
    pub iccid_prefixes: &'static [&'static str],
}

/// Role of a factory-configured server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerRole {
    /// LwM2M Bootstrap-Server.
    Bootstrap,
    /// Device-management server.
    DeviceManagement,
    /// Verizon's diagnostics device-management server.
    Diagnostics,
}

/// Where the PSK (and identity) of a server come from when `server_sec_tag` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PskSource {
    /// Verizon common factory bootstrap key (32 bytes, provisioned by the port — the key
    /// material is not part of this crate); identity = the endpoint name.
    VerizonBootstrapKey,
    /// Verizon diagnostics: identity = IMEI, PSK = SHA-256(IMEI ‖ short server ID as `%3d`),
    /// i.e. SHA-256 of the ASCII IMEI followed by `"101"` \[E\].
    VerizonDiagnosticsDerived,
    /// "Applied automatically" by the library/modem for this carrier \[N\]; the derivation is not
    /// public (**unconfirmed**), so the port must provision the key into the carrier's tag.
    CarrierProvisioned,
    /// Generic: only a user security tag can hold the PSK.
    UserSecTagOnly,
}

/// A factory-configured server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FactoryServer {
    /// Role.
    pub role: ServerRole,
    /// Short Server ID.
    pub short_server_id: u16,
    /// Live URI.
    pub uri: &'static str,
    /// Certification / test URI (reach it with the server options, only this carrier enabled).
    pub test_uri: Option<&'static str>,
    /// Credentials when `server_sec_tag` is 0.
    pub psk: PskSource,
    /// Modem security tag the library writes these keys to.
    pub sec_tag: u32,
    /// Lifetime in seconds (`None`: provisioned by bootstrap).
    pub lifetime_s: Option<u32>,
    /// LwM2M binding string (`None`: provisioned by bootstrap).
    pub binding: Option<&'static str>,
    /// Default minimum period (s).
    pub pmin_s: Option<u32>,
    /// Default maximum period (s).
    pub pmax_s: Option<u32>,
    /// Notification storing when disabled or offline.
    pub notification_storing: bool,
    /// Client hold-off time before contacting this server (s).
    pub hold_off_s: u32,
}

/// A vendor-specific resource an operator adds to a standard object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct VendorResource {
    /// Object ID.
    pub object: u16,
    /// Resource ID.
    pub resource: u16,
    /// What it carries.
    pub name: &'static str,
}

/// What the custom APN (`apn`) means under this operator (app-integration.txt, CUSTOM_APN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CustomApnUse {
    /// Used when the default / carrier APN fails.
    Fallback,
    /// Used instead of the default APN, which becomes the fallback (generic mode).
    ReplacesDefault,
    /// Not used at all.
    Ignored,
}

/// Auto-register policy (app-integration.txt, AUTO_REGISTER).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AutoRegister {
    /// Always registers on its own; `disable_auto_register` is ignored.
    Always,
    /// Never on its own: the application requests REGISTER (SoftBank).
    Never,
    /// On unless `disable_auto_register` (generic mode only).
    Configurable,
}

/// One operator's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Profile {
    /// The operator.
    pub carrier: Carrier,
    /// How it is recognised.
    pub detection: Detection,
    /// Factory servers; the first is the one the client starts with. Empty when the live address
    /// is not public: then the server options must be applied to this carrier (only it enabled,
    /// with `server_uri`) or [`crate::resolve`] fails with
    /// [`crate::ConfigError::FactoryServerUnknown`].
    pub servers: &'static [FactoryServer],
    /// Whether the factory start server is a bootstrap server (true for every carrier but
    /// SoftBank: "all carriers except SoftBank use bootstrap", carrier-api.md §2 BOOTSTRAPPED).
    pub factory_bootstrap: bool,
    /// Credentials for a server given by `server_uri` when `server_sec_tag` is 0.
    pub psk: PskSource,
    /// Operator's device-management APN (`None`: network default).
    pub apn: Option<&'static str>,
    /// Meaning of the custom APN.
    pub custom_apn: CustomApnUse,
    /// Factory lifetime (s) for a device-management server given by the server options with
    /// `server_lifetime_s` 0.
    pub lifetime_s: u32,
    /// Factory binding for such a server with `server_binding` 0.
    pub binding: Binding,
    /// Objects enabled, by object ID.
    pub objects: &'static [u16],
    /// Operator-specific resources in standard objects.
    pub vendor_resources: &'static [VendorResource],
    /// Auto-register policy.
    pub auto_register: AutoRegister,
    /// Firmware-download timeout (minutes, push delivery only) when the configuration says 0.
    pub firmware_download_timeout_min: Option<u16>,
    /// Endpoint-name format.
    pub endpoint: EndpointFormat,
    /// The MSISDN must be read before bootstrap (deferral SIM_MSISDN until it is); a change of
    /// MSISDN forces a factory reset.
    pub msisdn_required: bool,
    /// Retry and back-off schedules.
    pub retry: RetryPolicy,
    /// Session idle timeout (s) when the configuration says 0.
    pub session_idle_timeout_s: u32,
    /// Manufacturer and model may be overridden by the device options.
    pub identity_overridable: bool,
    /// Device type (/3/0/17) is always the IMEI.
    pub device_type_is_imei: bool,
    /// Separator between the library version and the application's software version (/3/0/19).
    pub software_version_separator: char,
    /// Bootstraps at every start (LG U+), not only the first.
    pub bootstrap_every_start: bool,
    /// The application may request REGISTER / DEREGISTER.
    pub register_requests: bool,
    /// After the first DM connection the application must use requests to reboot or to take
    /// the link up/down (LG U+).
    pub requests_mandatory: bool,
    /// Needs application DFU (MCUboot) support.
    pub needs_application_dfu: bool,
    /// Delay between FOTA Update execution and reboot, so the server's observation of /5/0/3
    /// gets its answer (s).
    pub fota_reboot_delay_s: u32,
    /// Security tags the library reserves for its own keys (inclusive range).
    pub reserved_sec_tags: Option<(u32, u32)>,
}

/// Generic PDN schedule and the Verizon one: 2 s, 1 min, 30 min, last repeats \[E\].
const PDN_SCHEDULE: RetrySchedule =
    RetrySchedule { delays_s: &[2, 60, 30 * 60], after_last: AfterLast::RepeatLast };

/// 2, 4, 6, 8 min then stop until the next power-up \[E\]; "retry limit for BS reached
/// (−ETIMEDOUT) → retried after next reboot" \[N\] holds for every carrier.
const BOOTSTRAP_SCHEDULE: RetrySchedule =
    RetrySchedule { delays_s: &[120, 240, 360, 480], after_last: AfterLast::Stop };

/// 2, 4, 6, 8 min, 24 h, then wrap to 2 min \[E\].
const SERVER_SCHEDULE: RetrySchedule =
    RetrySchedule { delays_s: &[120, 240, 360, 480, 86_400], after_last: AfterLast::Wrap };

/// Verizon's retry policy \[E\]. Waiting for the MSISDN follows the PDN schedule (the MSISDN
/// arrives with the network; exact pacing **unconfirmed**, "retry at next network connection").
pub const VERIZON_RETRY: RetryPolicy =
    RetryPolicy { pdn: PDN_SCHEDULE, bootstrap: BOOTSTRAP_SCHEDULE, server: SERVER_SCHEDULE };

/// Every other carrier and generic mode: not documented (**unconfirmed**). Chosen: Verizon's
/// schedules, as carriers.md §10 recommends — they are the only certified ones known, and a
/// bootstrap server that never answers is not hammered for ever.
pub const DEFAULT_RETRY: RetryPolicy = VERIZON_RETRY;

const BASE_OBJECTS: &[u16] = &[
    object::SECURITY,
    object::SERVER,
    object::ACCESS_CONTROL,
    object::DEVICE,
    object::CONNECTIVITY_MONITORING,
    object::FIRMWARE_UPDATE,
    object::LOCATION,
    object::CONNECTIVITY_STATISTICS,
    object::CELLULAR_CONNECTIVITY,
    object::APN_CONNECTION_PROFILE,
];

/// Generic mode objects: 0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 19, 20 \[N\].
pub const GENERIC_OBJECTS: &[u16] = &[
    object::SECURITY,
    object::SERVER,
    object::ACCESS_CONTROL,
    object::DEVICE,
    object::CONNECTIVITY_MONITORING,
    object::FIRMWARE_UPDATE,
    object::LOCATION,
    object::CONNECTIVITY_STATISTICS,
    object::CELLULAR_CONNECTIVITY,
    object::APN_CONNECTION_PROFILE,
    object::BINARY_APP_DATA_CONTAINER,
    object::EVENT_LOG,
];

/// SoftBank: the generic set — 19 and 20 are enabled "for SoftBank (and Generic)" since 3.3.0.
/// The rest of the list is **unconfirmed**; chosen equal to generic, a superset costs nothing.
const SOFTBANK_OBJECTS: &[u16] = GENERIC_OBJECTS;

/// LG U+: the base set plus App Data Container 10250 \[N/H\]; base set **unconfirmed**.
const LG_UPLUS_OBJECTS: &[u16] = &[
    object::SECURITY,
    object::SERVER,
    object::ACCESS_CONTROL,
    object::DEVICE,
    object::CONNECTIVITY_MONITORING,
    object::FIRMWARE_UPDATE,
    object::LOCATION,
    object::CONNECTIVITY_STATISTICS,
    object::CELLULAR_CONNECTIVITY,
    object::APN_CONNECTION_PROFILE,
    object::APP_DATA_CONTAINER,
];

/// Verizon's vendor resource. Resource ID **unconfirmed**: 30000 is the commonly used value;
/// the early source shows it in Device, Connectivity Monitoring and Server ("IsRegistered",
/// "ClientHoldOffTimer" in Server) \[E\].
pub const VERIZON_VENDOR_RESOURCE_ID: u16 = 30_000;

const VERIZON_VENDOR_RESOURCES: &[VendorResource] = &[
    VendorResource {
        object: object::SERVER,
        resource: VERIZON_VENDOR_RESOURCE_ID,
        name: "Verizon server extension (IsRegistered, ClientHoldOffTimer)",
    },
    VendorResource {
        object: object::DEVICE,
        resource: VERIZON_VENDOR_RESOURCE_ID,
        name: "Verizon device extension",
    },
    VendorResource {
        object: object::CONNECTIVITY_MONITORING,
        resource: VERIZON_VENDOR_RESOURCE_ID,
        name: "Verizon connectivity extension",
    },
];

/// Verizon's factory servers \[E\]: bootstrap (100) and diagnostics (101). The device-management
/// (102) and repository (1000) servers come from bootstrap.
pub const VERIZON_SERVERS: &[FactoryServer] = &[
    FactoryServer {
        role: ServerRole::Bootstrap,
        short_server_id: 100,
        uri: "coaps://boot.lwm2m.vzwdm.com:5684",
        test_uri: Some("coaps://ddocdpboot.do.motive.com:5684"),
        psk: PskSource::VerizonBootstrapKey,
        sec_tag: 25,
        lifetime_s: None,
        binding: None,
        pmin_s: None,
        pmax_s: None,
        notification_storing: false,
        hold_off_s: 10,
    },
    FactoryServer {
        role: ServerRole::Diagnostics,
        short_server_id: 101,
        uri: "coaps://diag.lwm2m.vzwdm.com:5684",
        test_uri: None,
        psk: PskSource::VerizonDiagnosticsDerived,
        sec_tag: 27,
        lifetime_s: Some(86_400),
        binding: Some("UQS"),
        pmin_s: Some(300),
        pmax_s: Some(6000),
        notification_storing: true,
        hold_off_s: 30,
    },
];

/// Verizon \[E\]\[N\].
pub const VERIZON: Profile = Profile {
    carrier: Carrier::Verizon,
    detection: Detection {
        operator_ids: &[1],
        // 311-480 Verizon Wireless; 311-270 also listed for Verizon in a public table [O].
        home_plmns: &["311480", "311270"],
        iccid_prefixes: &[],
    },
    servers: VERIZON_SERVERS,
    factory_bootstrap: true,
    psk: PskSource::VerizonBootstrapKey,
    apn: Some("VZWADMIN"),
    // carriers.md §2 says "fallback APN", the newest header (carrier-api.md §1) says "Ignored in
    // Verizon operation". Chosen: ignored — the newest published behaviour, and Verizon
    // certification requires device management over its admin APN only.
    custom_apn: CustomApnUse::Ignored,
    // A DM server given by the options with lifetime 0: the only Verizon lifetime on record is
    // the diagnostics server's 86400 s [E]; the DM lifetime normally comes from bootstrap.
    lifetime_s: 86_400,
    binding: Binding::UDP,
    // Beyond Security/Server/ACL/Device/ConnMon/Firmware the list is **unconfirmed**; chosen
    // equal to the base set (Verizon uses APN Connection Profile for its class-2/3 APNs).
    objects: BASE_OBJECTS,
    vendor_resources: VERIZON_VENDOR_RESOURCES,
    auto_register: AutoRegister::Always,
    firmware_download_timeout_min: None,
    endpoint: EndpointFormat::UrnImeiMsisdn,
    msisdn_required: true,
    retry: VERIZON_RETRY,
    session_idle_timeout_s: 60,
    identity_overridable: false,
    device_type_is_imei: false,
    software_version_separator: '\n',
    bootstrap_every_start: false,
    register_requests: false,
    requests_mandatory: false,
    needs_application_dfu: false,
    fota_reboot_delay_s: 6,
    reserved_sec_tags: Some((25, 28)),
};

/// T-Mobile US \[N\]. No URI, key, lifetime or endpoint fact is public (**unconfirmed**):
/// no factory server (certification and production both go through the server options with only
/// T-Mobile enabled), endpoint `urn:imei:` (as carriers.md suggests), factory bootstrap assumed
/// (every carrier but SoftBank bootstraps).
pub const T_MOBILE: Profile = Profile {
    carrier: Carrier::TMobile,
    detection: Detection {
        // No %XOPERID value seen in the early source (**unconfirmed**).
        operator_ids: &[],
        // 310-260 and the 310-160…310-800 family listed together in a public table [O].
        home_plmns: &[
            "310160", "310200", "310210", "310220", "310230", "310240", "310250", "310260",
            "310270", "310310", "310490", "310660", "310800",
        ],
        iccid_prefixes: &[],
    },
    servers: &[],
    factory_bootstrap: true,
    psk: PskSource::CarrierProvisioned,
    apn: None,
    custom_apn: CustomApnUse::Fallback,
    lifetime_s: 3600,
    binding: Binding::UDP,
    objects: BASE_OBJECTS,
    vendor_resources: &[],
    auto_register: AutoRegister::Always,
    firmware_download_timeout_min: None,
    endpoint: EndpointFormat::UrnImei,
    msisdn_required: false,
    retry: DEFAULT_RETRY,
    session_idle_timeout_s: 60,
    identity_overridable: false,
    device_type_is_imei: false,
    software_version_separator: '\n',
    bootstrap_every_start: false,
    register_requests: false,
    requests_mandatory: false,
    needs_application_dfu: false,
    fota_reboot_delay_s: 3,
    reserved_sec_tags: None,
};

/// SoftBank \[N\]\[H\]\[S\].
pub const SOFTBANK: Profile = Profile {
    carrier: Carrier::SoftBank,
    detection: Detection { operator_ids: &[7], home_plmns: &["44020"], iccid_prefixes: &[] },
    // Live address not public (**unconfirmed**).
    servers: &[],
    // "All carriers except SoftBank use bootstrap" (carrier-api.md §2): a DM server directly.
    factory_bootstrap: false,
    psk: PskSource::CarrierProvisioned,
    apn: None,
    custom_apn: CustomApnUse::Fallback,
    lifetime_s: 3600,
    // carriers.md: "likely N" from the sample's NB-IoT + non-IP overlay (**unconfirmed**).
    // Chosen: U, because with no public address the only SoftBank server reachable here is one
    // given by `server_uri`, which is an IP server; an NIDD product sets `server_binding` N.
    binding: Binding::UDP,
    objects: SOFTBANK_OBJECTS,
    vendor_resources: &[],
    auto_register: AutoRegister::Never,
    firmware_download_timeout_min: Some(30),
    // **unconfirmed**; `urn:imei:` like every carrier without a documented format.
    endpoint: EndpointFormat::UrnImei,
    msisdn_required: false,
    retry: DEFAULT_RETRY,
    session_idle_timeout_s: 60,
    identity_overridable: false,
    device_type_is_imei: true,
    software_version_separator: ':',
    bootstrap_every_start: false,
    register_requests: true,
    requests_mandatory: false,
    needs_application_dfu: true,
    fota_reboot_delay_s: 3,
    reserved_sec_tags: None,
};

/// LG U+ \[N\]\[H\].
pub const LG_UPLUS: Profile = Profile {
    carrier: Carrier::LgUplus,
    detection: Detection { operator_ids: &[10], home_plmns: &["45006"], iccid_prefixes: &[] },
    servers: &[],
    factory_bootstrap: true,
    psk: PskSource::CarrierProvisioned,
    apn: None,
    custom_apn: CustomApnUse::Ignored,
    lifetime_s: 3600,
    binding: Binding::UDP,
    objects: LG_UPLUS_OBJECTS,
    vendor_resources: &[],
    auto_register: AutoRegister::Always,
    firmware_download_timeout_min: None,
    // **unconfirmed**; the serial number (IMEI or 2DID) is reported in Device /3/0/2.
    endpoint: EndpointFormat::UrnImei,
    msisdn_required: false,
    retry: DEFAULT_RETRY,
    session_idle_timeout_s: 60,
    identity_overridable: true,
    device_type_is_imei: false,
    software_version_separator: '\n',
    bootstrap_every_start: true,
    register_requests: false,
    requests_mandatory: true,
    needs_application_dfu: true,
    fota_reboot_delay_s: 3,
    reserved_sec_tags: None,
};

/// Bell Canada \[N\]. No URI, key, lifetime or endpoint fact found (**unconfirmed**): treated
/// like T-Mobile.
pub const BELL_CANADA: Profile = Profile {
    carrier: Carrier::BellCanada,
    detection: Detection {
        operator_ids: &[9],
        home_plmns: &["302610"],
        // Public ICCID-prefix list: Bell IINs 89 1 236 / 89 1 369 / 89 1 789 [O].
        iccid_prefixes: &["891236", "891369", "891789"],
    },
    servers: &[],
    factory_bootstrap: true,
    psk: PskSource::CarrierProvisioned,
    apn: None,
    custom_apn: CustomApnUse::Fallback,
    lifetime_s: 3600,
    binding: Binding::UDP,
    objects: BASE_OBJECTS,
    vendor_resources: &[],
    auto_register: AutoRegister::Always,
    firmware_download_timeout_min: None,
    endpoint: EndpointFormat::UrnImei,
    msisdn_required: false,
    retry: DEFAULT_RETRY,
    session_idle_timeout_s: 60,
    identity_overridable: false,
    device_type_is_imei: false,
    software_version_separator: '\n',
    bootstrap_every_start: false,
    register_requests: false,
    requests_mandatory: false,
    needs_application_dfu: false,
    fota_reboot_delay_s: 3,
    reserved_sec_tags: None,
};

/// Generic mode \[N\]: no factory server, lifetime 1 h, binding U, `urn:imei:` \[E\].
pub const GENERIC: Profile = Profile {
    carrier: Carrier::Generic,
    detection: Detection { operator_ids: &[], home_plmns: &[], iccid_prefixes: &[] },
    servers: &[],
    factory_bootstrap: false,
    psk: PskSource::UserSecTagOnly,
    apn: None,
    custom_apn: CustomApnUse::ReplacesDefault,
    lifetime_s: 3600,
    binding: Binding::UDP,
    objects: GENERIC_OBJECTS,
    vendor_resources: &[],
    auto_register: AutoRegister::Configurable,
    firmware_download_timeout_min: None,
    endpoint: EndpointFormat::UrnImei,
    msisdn_required: false,
    retry: DEFAULT_RETRY,
    session_idle_timeout_s: 60,
    identity_overridable: true,
    device_type_is_imei: false,
    software_version_separator: '\n',
    bootstrap_every_start: false,
    register_requests: true,
    requests_mandatory: false,
    needs_application_dfu: false,
    fota_reboot_delay_s: 3,
    reserved_sec_tags: None,
};

/// The tables of the detectable carriers, in detection order.
pub const CARRIER_PROFILES: &[&Profile] =
    &[&VERIZON, &T_MOBILE, &SOFTBANK, &LG_UPLUS, &BELL_CANADA];

/// The table of `carrier`.
pub const fn profile(carrier: Carrier) -> &'static Profile {
    match carrier {
        Carrier::Generic => &GENERIC,
        Carrier::Verizon => &VERIZON,
        Carrier::TMobile => &T_MOBILE,
        Carrier::SoftBank => &SOFTBANK,
        Carrier::LgUplus => &LG_UPLUS,
        Carrier::BellCanada => &BELL_CANADA,
    }
}

impl Profile {
    /// Whether object `id` is enabled for this operator.
    pub fn has_object(&self, id: u16) -> bool {
        self.objects.contains(&id)
    }

    /// The factory server the client starts with, if its address is public.
    pub fn start_server(&self) -> Option<&'static FactoryServer> {
        self.servers.first()
    }
}
