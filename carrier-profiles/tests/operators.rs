//! Each operator's detection and table, asserted against carriers.md.

mod common;

use carrier_profiles::operators::{
    self, AutoRegister, CustomApnUse, PskSource, ServerRole, object,
};
use carrier_profiles::{
    AfterLast, Binding, Carrier, CarrierSet, ConfigError, Credentials, DeferredReason, Detected,
    EndpointFormat, Failure, ServerSource, UserConfig, detect_subscriber, resolve,
};
use common::*;

fn detect_by_id(id: u8) -> Option<Carrier> {
    detect_subscriber(&Detected { operator_id: Some(id), ..Detected::default() })
}

fn detect_by_imsi(imsi: &str) -> Option<Carrier> {
    detect_subscriber(&Detected { imsi: Some(imsi), ..Detected::default() })
}

#[test]
fn operator_ids_from_xoperid_select_the_carrier() {
    // carriers.md §1.2: 1 Verizon, 7 SoftBank, 9 Bell Canada, 10 LG U+; AT&T (2..5), China
    // Telecom 6, Telstra 8 and 0 are not carriers of this library.
    let table = [
        (0, None),
        (1, Some(Carrier::Verizon)),
        (2, None),
        (3, None),
        (4, None),
        (5, None),
        (6, None),
        (7, Some(Carrier::SoftBank)),
        (8, None),
        (9, Some(Carrier::BellCanada)),
        (10, Some(Carrier::LgUplus)),
        (11, None),
    ];
    for (id, expected) in table {
        assert_eq!(detect_by_id(id), expected, "%XOPERID {id}");
    }
}

#[test]
fn imsi_home_plmn_selects_the_carrier_when_the_modem_gives_no_operator_id() {
    let table = [
        ("311480123456789", Some(Carrier::Verizon)),
        ("311270123456789", Some(Carrier::Verizon)),
        ("310260123456789", Some(Carrier::TMobile)),
        ("310160123456789", Some(Carrier::TMobile)),
        ("310800123456789", Some(Carrier::TMobile)),
        ("440201234567890", Some(Carrier::SoftBank)),
        ("450061234567890", Some(Carrier::LgUplus)),
        ("302610123456789", Some(Carrier::BellCanada)),
        // AT&T 310-410, 310-170, FirstNet 313-100: generic.
        ("310410123456789", None),
        ("310170123456789", None),
        ("313100123456789", None),
        // Another Japanese / Korean operator: generic.
        ("440101234567890", None),
        ("450051234567890", None),
    ];
    for (imsi, expected) in table {
        assert_eq!(detect_by_imsi(imsi), expected, "IMSI {imsi}");
    }
}

#[test]
fn bell_canada_iccid_issuers_are_detected() {
    for iccid in ["8912360000000000001", "8913690000000000001", "8917890000000000001"] {
        let d = Detected { iccid: Some(iccid), ..Detected::default() };
        assert_eq!(detect_subscriber(&d), Some(Carrier::BellCanada), "{iccid}");
    }
    let d = Detected { iccid: Some("8912370000000000001"), ..Detected::default() };
    assert_eq!(detect_subscriber(&d), None);
}

#[test]
fn fixture_sims_are_detected_as_their_carrier() {
    for c in [
        Carrier::Verizon,
        Carrier::TMobile,
        Carrier::SoftBank,
        Carrier::LgUplus,
        Carrier::BellCanada,
    ] {
        assert_eq!(detect_subscriber(&sim(Some(c))), Some(c));
    }
    assert_eq!(detect_subscriber(&foreign_sim()), None);
}

#[test]
fn verizon_table() {
    let p = &operators::VERIZON;
    assert_eq!(p.carrier, Carrier::Verizon);
    let [bs, diag] = p.servers else { panic!("Verizon has two factory servers") };
    assert_eq!(bs.role, ServerRole::Bootstrap);
    assert_eq!(bs.short_server_id, 100);
    assert_eq!(bs.uri, "coaps://boot.lwm2m.vzwdm.com:5684");
    assert_eq!(bs.test_uri, Some("coaps://ddocdpboot.do.motive.com:5684"));
    assert_eq!(bs.psk, PskSource::VerizonBootstrapKey);
    assert_eq!(bs.sec_tag, 25);
    assert_eq!(bs.hold_off_s, 10);
    assert_eq!(diag.role, ServerRole::Diagnostics);
    assert_eq!(diag.short_server_id, 101);
    assert_eq!(diag.uri, "coaps://diag.lwm2m.vzwdm.com:5684");
    assert_eq!(diag.psk, PskSource::VerizonDiagnosticsDerived);
    assert_eq!(diag.sec_tag, 27);
    assert_eq!(diag.lifetime_s, Some(86_400));
    assert_eq!((diag.pmin_s, diag.pmax_s), (Some(300), Some(6000)));
    assert!(diag.notification_storing);
    assert_eq!(diag.binding, Some("UQS"));
    assert_eq!(diag.hold_off_s, 30);
    assert_eq!(p.reserved_sec_tags, Some((25, 28)));
    assert_eq!(p.apn, Some("VZWADMIN"));
    assert_eq!(p.endpoint, EndpointFormat::UrnImeiMsisdn);
    assert!(p.msisdn_required);
    assert_eq!(p.auto_register, AutoRegister::Always);
    assert_eq!(p.firmware_download_timeout_min, None);
    assert_eq!(p.fota_reboot_delay_s, 6);
    for obj in [object::SERVER, object::DEVICE, object::CONNECTIVITY_MONITORING] {
        assert!(p.vendor_resources.iter().any(|r| r.object == obj), "vendor resource in {obj}");
    }
    assert!(!p.identity_overridable);
}

#[test]
fn verizon_retry_schedules_and_reasons() {
    let r = &operators::VERIZON.retry;
    // PDN: 2 s, 1 min, 30 min, last repeats.
    let pdn: Vec<_> = (0..5).map(|a| r.step(Failure::PdnActivation, a).unwrap().delay_s).collect();
    assert_eq!(pdn, [2, 60, 1800, 1800, 1800]);
    // Connect/register: 2, 4, 6, 8 min, 24 h, then wrap to 2 min.
    let srv: Vec<_> = (0..7).map(|a| r.step(Failure::ServerConnect, a).unwrap().delay_s).collect();
    assert_eq!(srv, [120, 240, 360, 480, 86_400, 120, 240]);
    // Bootstrap server: 2, 4, 6, 8 min then stop until the next power-up.
    let bs: Vec<_> =
        (0..6).map(|a| r.step(Failure::BootstrapConnect, a).map(|s| s.delay_s)).collect();
    assert_eq!(bs, [Some(120), Some(240), Some(360), Some(480), None, None]);
    assert_eq!(r.bootstrap.after_last, AfterLast::Stop);
    // Each step reports the failure's reason.
    let reasons = [
        (Failure::PdnActivation, DeferredReason::PdnActivate),
        (Failure::MsisdnUnavailable, DeferredReason::SimMsisdn),
        (Failure::BootstrapNoRoute, DeferredReason::BootstrapNoRoute),
        (Failure::BootstrapConnect, DeferredReason::BootstrapConnect),
        (Failure::BootstrapSequence, DeferredReason::BootstrapSequence),
        (Failure::ServerNoRoute, DeferredReason::ServerNoRoute),
        (Failure::ServerConnect, DeferredReason::ServerConnect),
        (Failure::ServerRegistration, DeferredReason::ServerRegistration),
        (Failure::ServiceUnavailable, DeferredReason::ServiceUnavailable),
    ];
    for (failure, reason) in reasons {
        for attempt in 0..3 {
            assert_eq!(r.step(failure, attempt).unwrap().reason, reason, "{failure:?}");
        }
    }
}

#[test]
fn softbank_table() {
    let p = &operators::SOFTBANK;
    assert_eq!(p.auto_register, AutoRegister::Never);
    assert_eq!(p.firmware_download_timeout_min, Some(30));
    assert!(p.has_object(object::BINARY_APP_DATA_CONTAINER));
    assert!(p.has_object(object::EVENT_LOG));
    assert!(!p.has_object(object::APP_DATA_CONTAINER));
    assert!(p.device_type_is_imei);
    assert_eq!(p.software_version_separator, ':');
    assert!(!p.factory_bootstrap, "SoftBank is the one carrier without bootstrap");
    assert!(p.register_requests);
    assert!(p.needs_application_dfu);
    assert_eq!(p.custom_apn, CustomApnUse::Fallback);
    assert!(!p.msisdn_required);
}

#[test]
fn lg_uplus_table() {
    let p = &operators::LG_UPLUS;
    assert!(p.has_object(object::APP_DATA_CONTAINER));
    assert!(!p.has_object(object::BINARY_APP_DATA_CONTAINER));
    assert_eq!(p.custom_apn, CustomApnUse::Ignored);
    assert!(p.bootstrap_every_start);
    assert!(p.requests_mandatory);
    assert!(p.needs_application_dfu);
    assert!(p.identity_overridable);
    assert_eq!(p.auto_register, AutoRegister::Always);
    assert_eq!(p.firmware_download_timeout_min, None);
}

#[test]
fn t_mobile_and_bell_canada_tables() {
    for p in [&operators::T_MOBILE, &operators::BELL_CANADA] {
        assert_eq!(p.auto_register, AutoRegister::Always, "{}", p.carrier);
        assert_eq!(p.firmware_download_timeout_min, None);
        assert_eq!(p.custom_apn, CustomApnUse::Fallback);
        assert!(p.servers.is_empty(), "no public factory server");
        assert_eq!(p.psk, PskSource::CarrierProvisioned);
        assert!(!p.msisdn_required);
    }
}

#[test]
fn generic_table() {
    let p = &operators::GENERIC;
    assert_eq!(p.objects, &[0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 19, 20]);
    assert_eq!(p.lifetime_s, 3600);
    assert_eq!(p.binding, Binding::UDP);
    assert_eq!(p.auto_register, AutoRegister::Configurable);
    assert_eq!(p.custom_apn, CustomApnUse::ReplacesDefault);
    assert_eq!(p.endpoint, EndpointFormat::UrnImei);
    assert_eq!(p.psk, PskSource::UserSecTagOnly);
    assert!(p.servers.is_empty());
}

#[test]
fn every_profile_is_found_by_its_carrier() {
    for c in Carrier::ALL {
        assert_eq!(operators::profile(c).carrier, c);
    }
}

#[test]
fn verizon_sim_with_default_config_bootstraps_from_the_factory_server() {
    let e = resolve(&default_config(), &sim(Some(Carrier::Verizon))).unwrap();
    assert_eq!(e.carrier, Carrier::Verizon);
    assert_eq!(e.server.source, ServerSource::Factory);
    assert_eq!(e.server.uri, Some("coaps://boot.lwm2m.vzwdm.com:5684"));
    assert!(e.server.is_bootstrap);
    assert_eq!(e.server.short_server_id, Some(100));
    assert_eq!(e.server.credentials, Credentials::Automatic(PskSource::VerizonBootstrapKey));
    assert_eq!(e.server.hold_off_s, 10);
    assert_eq!(e.additional_servers.len(), 1);
    assert!(e.msisdn_required);
    assert_eq!(
        e.endpoint_name(&sim(Some(Carrier::Verizon))).unwrap(),
        "urn:imei-msisdn:352656100367872-15551234567"
    );
}

#[test]
fn carriers_without_public_servers_need_the_server_options() {
    for c in [Carrier::TMobile, Carrier::SoftBank, Carrier::LgUplus, Carrier::BellCanada] {
        let err = resolve(&default_config(), &sim(Some(c))).unwrap_err();
        assert_eq!(err, ConfigError::FactoryServerUnknown { carrier: c });
        // Certification style: only this carrier enabled, its server given.
        let cfg = UserConfig {
            carriers_enabled: CarrierSet::only(c),
            server_uri: "coaps://bs.example.net:5684",
            ..default_config()
        };
        let e = resolve(&cfg, &sim(Some(c))).unwrap();
        assert_eq!(e.carrier, c);
        assert_eq!(e.server.source, ServerSource::Custom);
        assert_eq!(e.server.credentials, Credentials::Automatic(PskSource::CarrierProvisioned));
        assert_eq!(e.endpoint_name(&sim(Some(c))).unwrap(), "urn:imei:352656100367872");
    }
}
