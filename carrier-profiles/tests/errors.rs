//! Every invalid combination returns a `ConfigError` that names the field and says why.

mod common;

use carrier_profiles::{
    Binding, Carrier, CarrierSet, ConfigError, Field, PdnType, SerialNumberType, UriProblem,
    UserConfig, errno, resolve,
};
use common::*;

/// A syntactically valid URI of 256 characters, one over the limit.
fn long_uri() -> &'static str {
    let uri = format!("coaps://{}.com", "a".repeat(244));
    assert_eq!(uri.len(), 256);
    Box::leak(uri.into_boxed_str())
}

fn with_device(f: impl FnOnce(&mut UserConfig<'static>)) -> UserConfig<'static> {
    let mut c = generic_config();
    f(&mut c);
    c
}

#[test]
fn every_invalid_combination_names_its_field_and_says_why() {
    let g = generic_config;
    let t = sim(Some(Carrier::TMobile));
    let lg_sim = sim(Some(Carrier::LgUplus));
    let only_lg = CarrierSet::only(Carrier::LgUplus);
    // (config, SIM, expected error, expected field, expected errno, words the message must hold)
    let table: Vec<(UserConfig<'static>, _, ConfigError, Field, i32, &str)> = vec![
        (
            UserConfig { server_uri: long_uri(), ..g() },
            foreign_sim(),
            ConfigError::TooLong { field: Field::ServerUri, len: 256, max: 255 },
            Field::ServerUri,
            errno::E2BIG,
            "server_uri is too long: 256 characters, at most 255",
        ),
        (
            UserConfig {
                apn: "0123456789012345678901234567890123456789012345678901234567890123",
                ..g()
            },
            foreign_sim(),
            ConfigError::TooLong { field: Field::Apn, len: 64, max: 63 },
            Field::Apn,
            errno::E2BIG,
            "apn is too long",
        ),
        (
            with_device(|c| c.device.manufacturer = "0123456789012345678901234567890123"),
            foreign_sim(),
            ConfigError::TooLong { field: Field::Manufacturer, len: 34, max: 32 },
            Field::Manufacturer,
            errno::E2BIG,
            "device.manufacturer is too long",
        ),
        (
            with_device(|c| c.device.software_version = "0123456789012345678901234567890123"),
            foreign_sim(),
            ConfigError::TooLong { field: Field::SoftwareVersion, len: 34, max: 32 },
            Field::SoftwareVersion,
            errno::E2BIG,
            "device.software_version is too long",
        ),
        (
            with_device(|c| c.lg_uplus.service_code = "ABCDEF"),
            foreign_sim(),
            ConfigError::TooLong { field: Field::LgUplusServiceCode, len: 6, max: 5 },
            Field::LgUplusServiceCode,
            errno::E2BIG,
            "lg_uplus.service_code is too long",
        ),
        (
            UserConfig { carriers_enabled: CarrierSet(0x04 | 0x01), ..g() },
            foreign_sim(),
            ConfigError::UnknownCarrierBits { bits: 0x04 },
            Field::CarriersEnabled,
            errno::EINVAL,
            "carriers_enabled has unsupported bits 0x4",
        ),
        (
            UserConfig { carriers_enabled: CarrierSet::only(Carrier::Verizon), ..g() },
            t,
            ConfigError::SubscriberNotEnabled { subscriber: Some(Carrier::TMobile) },
            Field::CarriersEnabled,
            errno::ENOTSUP,
            "carriers_enabled does not include the SIM's carrier (T-Mobile)",
        ),
        (
            UserConfig { carriers_enabled: CarrierSet::DEFAULT, server_uri: "", ..g() },
            foreign_sim(),
            ConfigError::UnsupportedSubscriber { subscriber: None },
            Field::CarriersEnabled,
            errno::ENOTSUP,
            "generic mode has no server (server_uri is empty)",
        ),
        (
            UserConfig { server_uri: "http://dm.example.com", ..g() },
            foreign_sim(),
            ConfigError::InvalidUri { problem: UriProblem::Scheme },
            Field::ServerUri,
            errno::EINVAL,
            "server_uri is invalid: the scheme must be coap:// or coaps://",
        ),
        (
            UserConfig { server_uri: "coaps://dm.example.com:99999", ..g() },
            foreign_sim(),
            ConfigError::InvalidUri { problem: UriProblem::Port },
            Field::ServerUri,
            errno::EINVAL,
            "server_uri is invalid: the port",
        ),
        (
            UserConfig { server_uri: "", ..g() },
            foreign_sim(),
            ConfigError::GenericNeedsUri,
            Field::ServerUri,
            errno::EINVAL,
            "server_uri is required in generic mode unless server_binding is non-IP",
        ),
        (
            default_config(),
            t,
            ConfigError::FactoryServerUnknown { carrier: Carrier::TMobile },
            Field::ServerUri,
            errno::EFAULT,
            "server_uri is required for T-Mobile",
        ),
        (
            UserConfig { server_sec_tag: 0, ..g() },
            foreign_sim(),
            ConfigError::MissingSecTag,
            Field::ServerSecTag,
            errno::ENOENT,
            "server_sec_tag is required",
        ),
        (
            UserConfig { server_uri: "", server_binding: Binding::UDP, ..g() },
            foreign_sim(),
            ConfigError::BindingUdpNeedsUri,
            Field::ServerBinding,
            errno::EBADR,
            "server binding UDP needs a server URI",
        ),
        (
            UserConfig { server_binding: Binding(0x10), ..g() },
            foreign_sim(),
            ConfigError::InvalidBinding { bits: 0x10 },
            Field::ServerBinding,
            errno::EBADR,
            "server_binding has unknown bits 0x10",
        ),
        (
            UserConfig {
                server_binding: Binding::NON_IP,
                apn: "iot",
                pdn_type: PdnType::Ipv4,
                ..g()
            },
            foreign_sim(),
            ConfigError::BindingApnMismatch { binding: Binding::NON_IP, pdn_type: PdnType::Ipv4 },
            Field::PdnType,
            errno::EBADR,
            "pdn_type IPv4 of the custom APN does not match server_binding N",
        ),
        (
            UserConfig { session_idle_timeout_s: -5, ..g() },
            foreign_sim(),
            ConfigError::InvalidSessionIdleTimeout { value: -5 },
            Field::SessionIdleTimeout,
            errno::EINVAL,
            "session_idle_timeout_s -5 is invalid: must be -1 or between 0 and 86400",
        ),
        (
            UserConfig { coap_con_interval_s: 100_000, ..g() },
            foreign_sim(),
            ConfigError::InvalidCoapConInterval { value: 100_000 },
            Field::CoapConInterval,
            errno::EINVAL,
            "coap_con_interval_s 100000 is invalid",
        ),
        (
            UserConfig { server_lifetime_s: -60, ..g() },
            foreign_sim(),
            ConfigError::InvalidLifetime { value: -60 },
            Field::ServerLifetime,
            errno::EINVAL,
            "server_lifetime_s -60 is invalid: must not be negative",
        ),
        (
            UserConfig { carriers_enabled: only_lg, ..g() },
            lg_sim,
            ConfigError::MissingServiceCode,
            Field::LgUplusServiceCode,
            errno::EFAULT,
            "lg_uplus.service_code is required in LG U+ operation",
        ),
        (
            {
                let mut c = UserConfig { carriers_enabled: only_lg, ..g() };
                c.lg_uplus.service_code = "AB";
                c.lg_uplus.device_serial_no_type = SerialNumberType::TwoDid;
                c
            },
            carrier_profiles::Detected { sip_2did: None, ..lg_sim },
            ConfigError::TwoDidUnavailable,
            Field::LgUplusDeviceSerialNoType,
            errno::EFAULT,
            "lg_uplus.device_serial_no_type is 2DID but the modem reported no 2DID",
        ),
    ];
    for (cfg, sim, error, field, code, words) in table {
        let got = resolve(&cfg, &sim).unwrap_err();
        assert_eq!(got, error);
        assert_eq!(got.field(), field, "{got:?}");
        assert_eq!(got.errno(), code, "{got:?}");
        let text = got.to_string();
        assert!(text.contains(words), "{text:?} lacks {words:?}");
        assert!(
            text.contains(field.name()) || text.contains("server binding"),
            "{text:?} does not name {field}"
        );
    }
}

#[test]
fn raw_values_from_storage_name_their_field() {
    let e = PdnType::from_raw(9).unwrap_err();
    assert_eq!((e.field(), e.errno()), (Field::PdnType, errno::EBADR));
    assert_eq!(
        e.to_string(),
        "pdn_type 9 is invalid: must be 0 (IPv4v6), 1 (IPv4), 2 (IPv6) or 3 (Non-IP)"
    );
    let e = SerialNumberType::from_raw(2).unwrap_err();
    assert_eq!(e.field(), Field::LgUplusDeviceSerialNoType);
    assert!(e.to_string().starts_with("lg_uplus.device_serial_no_type 2 is invalid"));
    let e = Binding::from_stored(b'X').unwrap_err();
    assert_eq!(e.field(), Field::ServerBinding);
}

#[test]
fn subscriber_errors_are_connect_errors_and_the_rest_configuration_errors() {
    assert!(ConfigError::SubscriberNotEnabled { subscriber: None }.is_connect_error());
    assert!(ConfigError::UnsupportedSubscriber { subscriber: None }.is_connect_error());
    assert!(!ConfigError::GenericNeedsUri.is_connect_error());
    assert!(!ConfigError::MissingServiceCode.is_connect_error());
}

#[test]
fn a_valid_configuration_resolves() {
    assert!(resolve(&generic_config(), &foreign_sim()).is_ok());
    assert!(resolve(&default_config(), &sim(Some(Carrier::Verizon))).is_ok());
}
