//! One table-driven test per configuration rule of app-integration.txt "Configuration" /
//! "Server options" (and carrier-api.md §1), named after the rule.

mod common;

use carrier_profiles::operators::PskSource;
use carrier_profiles::{
    Apn, ApnSettings, Binding, Carrier, CarrierSet, ConInterval, ConfigError, Credentials,
    Detected, IdleTimeout, PdnType, SerialNumberType, ServerOptionsUse, ServerSource, UserConfig,
    resolve,
};
use common::*;

const URI: &str = "coaps://dm.example.com:5684";

#[test]
fn smartcard_bootstrap_takes_precedence_over_custom_uri() {
    // (config switch, SIM has LwM2M bootstrap data, expected server source)
    let table = [
        (true, true, ServerSource::Smartcard),
        (true, false, ServerSource::Custom),
        (false, true, ServerSource::Custom),
        (false, false, ServerSource::Custom),
    ];
    for (switch, on_sim, expected) in table {
        let cfg = UserConfig { bootstrap_from_smartcard: switch, ..generic_config() };
        let sim = Detected { smartcard_bootstrap: on_sim, ..foreign_sim() };
        let e = resolve(&cfg, &sim).unwrap();
        assert_eq!(e.server.source, expected, "switch {switch} sim {on_sim}");
        if expected == ServerSource::Smartcard {
            assert_eq!(e.server.uri, None, "the custom URI is ignored");
            assert_eq!(e.server.credentials, Credentials::Smartcard);
            assert!(e.server.is_bootstrap);
        } else {
            assert_eq!(e.server.uri, Some(URI));
        }
    }
    // SIM data also wins over a carrier's factory server, and answers a missing server.
    let verizon = Detected { smartcard_bootstrap: true, ..sim(Some(Carrier::Verizon)) };
    assert_eq!(
        resolve(&default_config(), &verizon).unwrap().server.source,
        ServerSource::Smartcard
    );
    let tmobile = Detected { smartcard_bootstrap: true, ..sim(Some(Carrier::TMobile)) };
    assert_eq!(
        resolve(&default_config(), &tmobile).unwrap().server.source,
        ServerSource::Smartcard
    );
    let generic_no_uri = UserConfig { server_uri: "", ..generic_config() };
    let foreign = Detected { smartcard_bootstrap: true, ..foreign_sim() };
    assert_eq!(resolve(&generic_no_uri, &foreign).unwrap().server.source, ServerSource::Smartcard);
}

#[test]
fn session_idle_timeout_0_is_60s_minus_1_disables_and_not_applied_with_connection_id() {
    // (configured, connection ID in use, expected IdleTimeout, expected timeout to apply)
    let table = [
        (0, false, IdleTimeout::After(60), Some(60)),
        (0, true, IdleTimeout::After(60), None),
        (-1, false, IdleTimeout::Disabled, None),
        (-1, true, IdleTimeout::Disabled, None),
        (1, false, IdleTimeout::After(1), Some(1)),
        (300, false, IdleTimeout::After(300), Some(300)),
        (300, true, IdleTimeout::After(300), None),
        (86_400, false, IdleTimeout::After(86_400), Some(86_400)),
    ];
    for (value, cid, expected, applied) in table {
        let cfg = UserConfig { session_idle_timeout_s: value, ..generic_config() };
        let e = resolve(&cfg, &foreign_sim()).unwrap();
        assert_eq!(e.session_idle_timeout, expected, "{value}");
        assert_eq!(e.session_idle_timeout_s(cid), applied, "{value} cid {cid}");
    }
    for bad in [-2, 86_401, i32::MIN, i32::MAX] {
        let cfg = UserConfig { session_idle_timeout_s: bad, ..generic_config() };
        assert_eq!(
            resolve(&cfg, &foreign_sim()),
            Err(ConfigError::InvalidSessionIdleTimeout { value: bad })
        );
    }
}

#[test]
fn coap_con_interval_0_is_24h_and_minus_1_is_always_con() {
    let table = [
        (0, ConInterval::Every(86_400)),
        (-1, ConInterval::Always),
        (1, ConInterval::Every(1)),
        (3600, ConInterval::Every(3600)),
        (86_400, ConInterval::Every(86_400)),
    ];
    for (value, expected) in table {
        let cfg = UserConfig { coap_con_interval_s: value, ..generic_config() };
        assert_eq!(resolve(&cfg, &foreign_sim()).unwrap().coap_con_interval, expected, "{value}");
    }
    for bad in [-2, 86_401] {
        let cfg = UserConfig { coap_con_interval_s: bad, ..generic_config() };
        assert_eq!(
            resolve(&cfg, &foreign_sim()),
            Err(ConfigError::InvalidCoapConInterval { value: bad })
        );
    }
}

#[test]
fn custom_apn_is_fallback_in_normal_mode_and_replaces_the_default_in_generic_mode() {
    let custom = Apn::Custom { name: "iot.custom", pdn_type: PdnType::Ipv4v6 };
    // (carriers enabled, SIM, server_uri, expected APNs)
    let table = [
        // Generic mode: custom APN first, network default becomes the fallback.
        (
            CarrierSet::GENERIC,
            None,
            URI,
            ApnSettings { primary: custom, fallback: Some(Apn::NetworkDefault) },
        ),
        // A custom URI applied to a single carrier counts as "CUSTOM_URI is set".
        (
            CarrierSet::only(Carrier::TMobile),
            Some(Carrier::TMobile),
            URI,
            ApnSettings { primary: custom, fallback: Some(Apn::NetworkDefault) },
        ),
        // Custom URI configured but not in effect on this SIM (generic on, SIM is Verizon):
        // Verizon ignores the custom APN (newest header).
        (
            CarrierSet::GENERIC.with(Carrier::Verizon),
            Some(Carrier::Verizon),
            URI,
            ApnSettings { primary: Apn::Carrier("VZWADMIN"), fallback: None },
        ),
        // LG U+: "Custom APN is not used with an LG U+ SIM", even with a URI.
        (
            CarrierSet::only(Carrier::LgUplus),
            Some(Carrier::LgUplus),
            URI,
            ApnSettings { primary: Apn::NetworkDefault, fallback: None },
        ),
    ];
    for (enabled, carrier, uri, expected) in table {
        let cfg = UserConfig {
            carriers_enabled: enabled,
            server_uri: uri,
            apn: "iot.custom",
            ..generic_config()
        };
        let mut cfg = cfg;
        cfg.lg_uplus.service_code = "ABCDE";
        let e = resolve(&cfg, &sim(carrier)).unwrap();
        assert_eq!(e.apn, expected, "{enabled:?} {carrier:?} {uri:?}");
    }
    // Normal mode (no custom URI): the custom APN is the fallback. T-Mobile, SoftBank and Bell
    // have no public factory server, so the case is a NIDD SoftBank-only setup without URI.
    let cfg = UserConfig {
        carriers_enabled: CarrierSet::only(Carrier::SoftBank),
        server_uri: "",
        server_binding: Binding::NON_IP,
        apn: "iot.custom",
        pdn_type: PdnType::NonIp,
        ..UserConfig::default()
    };
    let e = resolve(&cfg, &sim(Some(Carrier::SoftBank))).unwrap();
    assert_eq!(
        e.apn,
        ApnSettings {
            primary: Apn::NetworkDefault,
            fallback: Some(Apn::Custom { name: "iot.custom", pdn_type: PdnType::NonIp })
        }
    );
}

#[test]
fn custom_apn_is_ignored_when_the_server_lacks_the_apn_connection_profile_object() {
    let cfg = UserConfig { apn: "iot.custom", ..generic_config() };
    let e = resolve(&cfg, &foreign_sim()).unwrap();
    // (server supports object 11, expected)
    let table = [
        (
            true,
            ApnSettings {
                primary: Apn::Custom { name: "iot.custom", pdn_type: PdnType::Ipv4v6 },
                fallback: Some(Apn::NetworkDefault),
            },
        ),
        (false, ApnSettings { primary: Apn::NetworkDefault, fallback: None }),
    ];
    for (supported, expected) in table {
        assert_eq!(e.apn_for_server(supported), expected, "{supported}");
    }
}

#[test]
fn pdn_type_defaults_to_ipv4v6_and_is_ignored_without_custom_apn() {
    assert_eq!(UserConfig::default().pdn_type, PdnType::Ipv4v6);
    // (apn, pdn_type, expected primary APN in generic mode)
    let table = [
        ("", PdnType::Ipv6, Apn::NetworkDefault),
        ("", PdnType::NonIp, Apn::NetworkDefault),
        ("iot", PdnType::Ipv4v6, Apn::Custom { name: "iot", pdn_type: PdnType::Ipv4v6 }),
        ("iot", PdnType::Ipv4, Apn::Custom { name: "iot", pdn_type: PdnType::Ipv4 }),
        ("iot", PdnType::Ipv6, Apn::Custom { name: "iot", pdn_type: PdnType::Ipv6 }),
    ];
    for (apn, pdn_type, expected) in table {
        let cfg = UserConfig { apn, pdn_type, ..generic_config() };
        let e = resolve(&cfg, &foreign_sim()).unwrap();
        assert_eq!(e.apn.primary, expected, "{apn:?} {pdn_type:?}");
        if apn.is_empty() {
            assert_eq!(e.apn.fallback, None);
        }
    }
}

#[test]
fn carriers_bitmask_decides_the_operator_and_where_server_options_apply() {
    let v = Carrier::Verizon;
    // (carriers_enabled, SIM, expected carrier, expected use of the server options)
    let table = [
        // Only one carrier: the options apply to it (certification servers).
        (CarrierSet::only(v), Some(v), Ok((v, ServerOptionsUse::SingleCarrier(v)))),
        // Generic enabled: options apply outside the other enabled networks…
        (CarrierSet::GENERIC.with(v), None, Ok((Carrier::Generic, ServerOptionsUse::Generic))),
        // …and not inside them.
        (CarrierSet::GENERIC.with(v), Some(v), Ok((v, ServerOptionsUse::IgnoredOtherCarrier))),
        // Default (0) and all-ones: every carrier, generic included.
        (CarrierSet::DEFAULT, Some(v), Ok((v, ServerOptionsUse::IgnoredOtherCarrier))),
        (CarrierSet(u32::MAX), Some(v), Ok((v, ServerOptionsUse::IgnoredOtherCarrier))),
        (CarrierSet::DEFAULT, None, Ok((Carrier::Generic, ServerOptionsUse::Generic))),
        // Several carriers without generic: options ignored.
        (
            CarrierSet::VERIZON.with(Carrier::TMobile),
            Some(v),
            Ok((v, ServerOptionsUse::IgnoredSeveralCarriers)),
        ),
        // The SIM's carrier is not enabled and generic is off: not supported.
        (
            CarrierSet::only(Carrier::TMobile),
            Some(v),
            Err(ConfigError::SubscriberNotEnabled { subscriber: Some(v) }),
        ),
        (
            CarrierSet::VERIZON.with(Carrier::TMobile),
            None,
            Err(ConfigError::SubscriberNotEnabled { subscriber: None }),
        ),
        // The SIM's carrier is not enabled but generic is: generic mode.
        (CarrierSet::GENERIC, Some(v), Ok((Carrier::Generic, ServerOptionsUse::Generic))),
    ];
    for (enabled, subscriber, expected) in table {
        let cfg = UserConfig { carriers_enabled: enabled, ..generic_config() };
        let got = resolve(&cfg, &sim(subscriber)).map(|e| (e.carrier, e.server_options));
        assert_eq!(got, expected, "{enabled:?} {subscriber:?}");
    }
    // A carrier SIM whose carrier is not enabled runs generic mode, and says which SIM it was.
    let cfg = UserConfig { carriers_enabled: CarrierSet::GENERIC, ..generic_config() };
    let e = resolve(&cfg, &sim(Some(v))).unwrap();
    assert_eq!((e.carrier, e.subscriber), (Carrier::Generic, Some(v)));
    // Where the options apply, they are what the client uses; where ignored, the factory is.
    let cfg = UserConfig { carriers_enabled: CarrierSet::only(v), ..generic_config() };
    assert_eq!(resolve(&cfg, &sim(Some(v))).unwrap().server.uri, Some(URI));
    let cfg = UserConfig {
        carriers_enabled: CarrierSet::VERIZON.with(Carrier::TMobile),
        ..generic_config()
    };
    let e = resolve(&cfg, &sim(Some(v))).unwrap();
    assert_eq!(e.server.source, ServerSource::Factory);
    assert_eq!(e.server.uri, Some("coaps://boot.lwm2m.vzwdm.com:5684"));
    assert_eq!(e.server.credentials, Credentials::Automatic(PskSource::VerizonBootstrapKey));
}

#[test]
fn lg_uplus_service_code_is_required_and_serial_number_is_imei_or_2did() {
    let base =
        UserConfig { carriers_enabled: CarrierSet::only(Carrier::LgUplus), ..generic_config() };
    // (service code, serial type, 2DID the modem reports, expected serial number or error)
    let table = [
        ("ABCDE", SerialNumberType::Imei, Some(TWO_DID), Ok(IMEI)),
        ("AB", SerialNumberType::TwoDid, Some(TWO_DID), Ok(TWO_DID)),
        ("AB", SerialNumberType::TwoDid, None, Err(ConfigError::TwoDidUnavailable)),
        ("AB", SerialNumberType::TwoDid, Some(""), Err(ConfigError::TwoDidUnavailable)),
        ("", SerialNumberType::Imei, Some(TWO_DID), Err(ConfigError::MissingServiceCode)),
    ];
    for (code, serial, two_did, expected) in table {
        let mut cfg = base;
        cfg.lg_uplus.service_code = code;
        cfg.lg_uplus.device_serial_no_type = serial;
        let sim = Detected { sip_2did: two_did, ..sim(Some(Carrier::LgUplus)) };
        let got = resolve(&cfg, &sim);
        match expected {
            Ok(serial_number) => {
                let e = got.unwrap();
                assert_eq!(e.device.serial_number, serial_number);
                let lg = e.lg_uplus.unwrap();
                assert_eq!((lg.service_code, lg.serial_number_type), (code, serial));
            }
            Err(err) => assert_eq!(got.unwrap_err(), err, "{code:?} {serial:?}"),
        }
    }
    // Outside LG U+ the service code is neither needed nor reported.
    let e = resolve(&generic_config(), &foreign_sim()).unwrap();
    assert_eq!(e.lg_uplus, None);
    assert_eq!(e.device.serial_number, IMEI);
}

#[test]
fn firmware_download_timeout_0_disables_except_30_min_for_softbank() {
    let softbank_cfg =
        UserConfig { carriers_enabled: CarrierSet::only(Carrier::SoftBank), ..generic_config() };
    // (config, SIM, configured minutes, expected)
    let table = [
        (generic_config(), None, 0, None),
        (generic_config(), None, 15, Some(15)),
        (softbank_cfg, Some(Carrier::SoftBank), 0, Some(30)),
        (softbank_cfg, Some(Carrier::SoftBank), 90, Some(90)),
        (default_config(), Some(Carrier::Verizon), 0, None),
        (default_config(), Some(Carrier::Verizon), 65_535, Some(65_535)),
    ];
    for (cfg, carrier, minutes, expected) in table {
        let cfg = UserConfig { firmware_download_timeout_min: minutes, ..cfg };
        let e = resolve(&cfg, &sim(carrier)).unwrap();
        assert_eq!(e.firmware_download_timeout_min, expected, "{carrier:?} {minutes}");
    }
}

#[test]
fn queue_mode_is_on_unless_disabled() {
    for (disable, expected) in [(false, true), (true, false)] {
        for (cfg, carrier) in [(generic_config(), None), (default_config(), Some(Carrier::Verizon))]
        {
            let cfg = UserConfig { disable_queue_mode: disable, ..cfg };
            assert_eq!(resolve(&cfg, &sim(carrier)).unwrap().queue_mode, expected);
        }
    }
}

#[test]
fn auto_register_is_off_for_softbank_and_can_be_disabled_only_in_generic_mode() {
    let softbank_cfg =
        UserConfig { carriers_enabled: CarrierSet::only(Carrier::SoftBank), ..generic_config() };
    let tmobile_cfg =
        UserConfig { carriers_enabled: CarrierSet::only(Carrier::TMobile), ..generic_config() };
    // (config, SIM, disable_auto_register, expected auto-register)
    let table = [
        (generic_config(), None, false, true),
        (generic_config(), None, true, false),
        (softbank_cfg, Some(Carrier::SoftBank), false, false),
        (softbank_cfg, Some(Carrier::SoftBank), true, false),
        (default_config(), Some(Carrier::Verizon), false, true),
        (default_config(), Some(Carrier::Verizon), true, true),
        (tmobile_cfg, Some(Carrier::TMobile), true, true),
    ];
    for (cfg, carrier, disable, expected) in table {
        let cfg = UserConfig { disable_auto_register: disable, ..cfg };
        assert_eq!(
            resolve(&cfg, &sim(carrier)).unwrap().auto_register,
            expected,
            "{carrier:?} {disable}"
        );
    }
}

#[test]
fn generic_mode_needs_a_uri_unless_the_binding_is_non_ip() {
    // (server_uri, server_binding, expected)
    let table = [
        ("", Binding::FACTORY, Err(ConfigError::GenericNeedsUri)),
        ("", Binding::UDP, Err(ConfigError::BindingUdpNeedsUri)),
        ("", Binding::UDP_AND_NON_IP, Err(ConfigError::BindingUdpNeedsUri)),
        ("", Binding::NON_IP, Ok((None, Some(Binding::NON_IP)))),
        (URI, Binding::FACTORY, Ok((Some(URI), Some(Binding::UDP)))),
        (URI, Binding::NON_IP, Ok((Some(URI), Some(Binding::NON_IP)))),
    ];
    for (uri, binding, expected) in table {
        let cfg = UserConfig { server_uri: uri, server_binding: binding, ..generic_config() };
        let got = resolve(&cfg, &foreign_sim()).map(|e| (e.server.uri, e.server.binding));
        assert_eq!(got, expected, "{uri:?} {binding:?}");
    }
    // With generic only implied by the default mask, no server means "SIM not supported".
    let cfg =
        UserConfig { carriers_enabled: CarrierSet::DEFAULT, server_uri: "", ..generic_config() };
    assert_eq!(
        resolve(&cfg, &foreign_sim()),
        Err(ConfigError::UnsupportedSubscriber { subscriber: None })
    );
}

#[test]
fn is_bootstrap_server_is_ignored_without_a_uri() {
    // (server_uri, is_bootstrap_server, binding, expected is_bootstrap)
    let table = [
        (URI, true, Binding::FACTORY, true),
        (URI, false, Binding::FACTORY, false),
        ("", true, Binding::NON_IP, false),
        ("", false, Binding::NON_IP, false),
    ];
    for (uri, flag, binding, expected) in table {
        let cfg = UserConfig {
            server_uri: uri,
            is_bootstrap_server: flag,
            server_binding: binding,
            ..generic_config()
        };
        assert_eq!(
            resolve(&cfg, &foreign_sim()).unwrap().server.is_bootstrap,
            expected,
            "{uri:?} {flag}"
        );
    }
    // A carrier's factory server keeps its own role whatever the flag says.
    for flag in [true, false] {
        let cfg = UserConfig {
            carriers_enabled: CarrierSet::only(Carrier::Verizon),
            server_uri: "",
            is_bootstrap_server: flag,
            ..generic_config()
        };
        assert!(resolve(&cfg, &sim(Some(Carrier::Verizon))).unwrap().server.is_bootstrap);
    }
}

#[test]
fn security_tag_0_means_automatic_credentials() {
    let vz = Some(Carrier::Verizon);
    let only_vz = CarrierSet::only(Carrier::Verizon);
    // (carriers, SIM, uri, sec tag, expected credentials)
    let table = [
        (CarrierSet::GENERIC, None, URI, 42, Ok(Credentials::SecTag(42))),
        (CarrierSet::GENERIC, None, "coap://dm.example.com", 0, Ok(Credentials::NoSec)),
        (CarrierSet::GENERIC, None, URI, 0, Err(ConfigError::MissingSecTag)),
        (only_vz, vz, "", 0, Ok(Credentials::Automatic(PskSource::VerizonBootstrapKey))),
        (only_vz, vz, "", 7, Ok(Credentials::SecTag(7))),
        (only_vz, vz, URI, 0, Ok(Credentials::Automatic(PskSource::VerizonBootstrapKey))),
        (only_vz, vz, URI, 7, Ok(Credentials::SecTag(7))),
        // Options not applied to this SIM: the tag is not used.
        (
            CarrierSet::DEFAULT,
            vz,
            URI,
            7,
            Ok(Credentials::Automatic(PskSource::VerizonBootstrapKey)),
        ),
    ];
    for (enabled, carrier, uri, tag, expected) in table {
        let cfg = UserConfig {
            carriers_enabled: enabled,
            server_uri: uri,
            server_sec_tag: tag,
            ..generic_config()
        };
        let got = resolve(&cfg, &sim(carrier)).map(|e| e.server.credentials);
        assert_eq!(got, expected, "{enabled:?} {uri:?} {tag}");
    }
}

#[test]
fn lifetime_0_is_the_factory_value_generic_1_hour_and_ignored_with_a_bootstrap_server() {
    let only = |c| CarrierSet::only(c);
    // (carriers, SIM, is_bootstrap_server, lifetime, expected lifetime)
    let table = [
        (CarrierSet::GENERIC, None, false, 0, Some(3600)),
        (CarrierSet::GENERIC, None, false, 120, Some(120)),
        (CarrierSet::GENERIC, None, true, 0, None),
        (CarrierSet::GENERIC, None, true, 120, None),
        // A DM server given to Verizon: factory lifetime 86400 s.
        (only(Carrier::Verizon), Some(Carrier::Verizon), false, 0, Some(86_400)),
        (only(Carrier::Verizon), Some(Carrier::Verizon), true, 120, None),
        (only(Carrier::TMobile), Some(Carrier::TMobile), false, 0, Some(3600)),
    ];
    for (enabled, carrier, bs, lifetime, expected) in table {
        let cfg = UserConfig {
            carriers_enabled: enabled,
            is_bootstrap_server: bs,
            server_lifetime_s: lifetime,
            ..generic_config()
        };
        let got = resolve(&cfg, &sim(carrier)).unwrap().server.lifetime_s;
        assert_eq!(got, expected, "{enabled:?} bs {bs} lifetime {lifetime}");
    }
    // Verizon's factory bootstrap server: the configured lifetime is ignored.
    let cfg = UserConfig {
        carriers_enabled: CarrierSet::only(Carrier::Verizon),
        server_uri: "",
        server_lifetime_s: 120,
        ..generic_config()
    };
    assert_eq!(resolve(&cfg, &sim(Some(Carrier::Verizon))).unwrap().server.lifetime_s, None);
    let cfg = UserConfig { server_lifetime_s: -1, ..generic_config() };
    assert_eq!(resolve(&cfg, &foreign_sim()), Err(ConfigError::InvalidLifetime { value: -1 }));
}

#[test]
fn binding_is_udp_or_non_ip_ignored_with_a_bootstrap_server_and_udp_needs_a_uri() {
    let only_vz = CarrierSet::only(Carrier::Verizon);
    let only_sb = CarrierSet::only(Carrier::SoftBank);
    // (carriers, SIM, uri, is_bootstrap_server, binding, expected effective binding)
    let table = [
        (CarrierSet::GENERIC, None, URI, false, Binding::FACTORY, Ok(Some(Binding::UDP))),
        (CarrierSet::GENERIC, None, URI, false, Binding::UDP, Ok(Some(Binding::UDP))),
        (CarrierSet::GENERIC, None, URI, false, Binding::NON_IP, Ok(Some(Binding::NON_IP))),
        (
            CarrierSet::GENERIC,
            None,
            URI,
            false,
            Binding::UDP_AND_NON_IP,
            Ok(Some(Binding::UDP_AND_NON_IP)),
        ),
        // Ignored with a bootstrap server (configured or factory).
        (CarrierSet::GENERIC, None, URI, true, Binding::NON_IP, Ok(None)),
        (only_vz, Some(Carrier::Verizon), "", false, Binding::UDP, Ok(None)),
        // UDP needs a URI where the binding applies.
        (
            only_sb,
            Some(Carrier::SoftBank),
            "",
            false,
            Binding::UDP,
            Err(ConfigError::BindingUdpNeedsUri),
        ),
        (only_sb, Some(Carrier::SoftBank), "", false, Binding::NON_IP, Ok(Some(Binding::NON_IP))),
        // Unknown bits.
        (
            CarrierSet::GENERIC,
            None,
            URI,
            false,
            Binding(0x04),
            Err(ConfigError::InvalidBinding { bits: 0x04 }),
        ),
    ];
    for (enabled, carrier, uri, bs, binding, expected) in table {
        let cfg = UserConfig {
            carriers_enabled: enabled,
            server_uri: uri,
            is_bootstrap_server: bs,
            server_binding: binding,
            ..generic_config()
        };
        let got = resolve(&cfg, &sim(carrier)).map(|e| e.server.binding);
        assert_eq!(got, expected, "{enabled:?} {uri:?} bs {bs} {binding:?}");
    }
}

#[test]
fn apn_pdn_type_must_match_the_binding() {
    // (binding, pdn_type, ok?)
    let table = [
        (Binding::UDP, PdnType::Ipv4v6, true),
        (Binding::UDP, PdnType::Ipv4, true),
        (Binding::UDP, PdnType::NonIp, false),
        (Binding::NON_IP, PdnType::NonIp, true),
        (Binding::NON_IP, PdnType::Ipv4v6, false),
        (Binding::UDP_AND_NON_IP, PdnType::NonIp, true),
        (Binding::UDP_AND_NON_IP, PdnType::Ipv6, true),
    ];
    for (binding, pdn_type, ok) in table {
        let cfg = UserConfig {
            server_binding: binding,
            apn: "iot",
            pdn_type,
            is_bootstrap_server: false,
            ..generic_config()
        };
        let got = resolve(&cfg, &foreign_sim());
        if ok {
            assert!(got.is_ok(), "{binding:?} {pdn_type:?}: {got:?}");
        } else {
            assert_eq!(got, Err(ConfigError::BindingApnMismatch { binding, pdn_type }));
        }
    }
}

#[test]
fn device_options_override_the_detected_values() {
    let mut cfg = generic_config();
    cfg.device.manufacturer = "ACME";
    cfg.device.model_number = "Widget 9";
    cfg.device.device_type = "Tracker";
    cfg.device.hardware_version = "rev C";
    cfg.device.software_version = "app 1.2.3";
    let only = |c| UserConfig { carriers_enabled: CarrierSet::only(c), ..cfg };
    let mut lg = only(Carrier::LgUplus);
    lg.lg_uplus.service_code = "ABCDE";
    // (config, SIM, manufacturer, model, device type, hw, separator)
    let table = [
        (cfg, None, "ACME", "Widget 9", "Tracker", "rev C", '\n'),
        (lg, Some(Carrier::LgUplus), "ACME", "Widget 9", "Tracker", "rev C", '\n'),
        // Manufacturer and model: LG U+ and generic only.
        (
            only(Carrier::TMobile),
            Some(Carrier::TMobile),
            MODEM_MANUFACTURER,
            MODEM_MODEL,
            "Tracker",
            "rev C",
            '\n',
        ),
        // SoftBank: device type is always the IMEI; ':' separates the software version.
        (
            only(Carrier::SoftBank),
            Some(Carrier::SoftBank),
            MODEM_MANUFACTURER,
            MODEM_MODEL,
            IMEI,
            "rev C",
            ':',
        ),
    ];
    for (cfg, carrier, manufacturer, model, device_type, hw, sep) in table {
        let d = resolve(&cfg, &sim(carrier)).unwrap().device;
        assert_eq!(d.manufacturer, manufacturer, "{carrier:?}");
        assert_eq!(d.model_number, model, "{carrier:?}");
        assert_eq!(d.device_type, device_type, "{carrier:?}");
        assert_eq!(d.hardware_version, hw, "{carrier:?}");
        assert_eq!(d.software_version, "app 1.2.3");
        assert_eq!(d.software_version_separator, sep);
    }
    // Nothing configured: the detected values, and device type "Module".
    let d = resolve(&generic_config(), &foreign_sim()).unwrap().device;
    assert_eq!(
        (d.manufacturer, d.model_number, d.device_type, d.hardware_version, d.software_version),
        (MODEM_MANUFACTURER, MODEM_MODEL, "Module", MODEM_HW, "")
    );
}

#[test]
fn software_version_is_library_version_separator_and_application_version() {
    let mut with_app = generic_config();
    with_app.device.software_version = "app 1.2.3";
    let softbank = UserConfig { carriers_enabled: CarrierSet::only(Carrier::SoftBank), ..with_app };
    // (config, SIM, expected /3/0/19)
    let table = [
        (generic_config(), None, "LwM2M_carrier_3.7.0"),
        (with_app, None, "LwM2M_carrier_3.7.0\napp 1.2.3"),
        (softbank, Some(Carrier::SoftBank), "LwM2M_carrier_3.7.0:app 1.2.3"),
    ];
    for (cfg, carrier, expected) in table {
        let device = resolve(&cfg, &sim(carrier)).unwrap().device;
        let mut out = heapless::String::<80>::new();
        device.write_software_version(&mut out, "3.7.0").unwrap();
        assert_eq!(out, expected);
    }
}
