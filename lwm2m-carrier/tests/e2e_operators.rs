//! The six operator profiles from first boot to registered, each against a
//! server acting out that operator's bootstrap (issue 10, scenario 6;
//! `carriers.md` §1–§8), over real loopback with DTLS-PSK to both servers.
//!
//! The device's simulated SIM belongs to the operator (its IMSI's MCC-MNC;
//! the std port answers `%XOPERID` from it, T-Mobile having no value and
//! being found by the IMSI). The configuration is the certification set-up
//! of `carriers.md` §1.4: only that carrier enabled, the custom server
//! options pointing at the test Bootstrap-Server, its PSK in tag 7. The
//! Bootstrap-Server runs `lwm2m_server::operators::plan_for(operator)`.
//! Each test checks that the runtime took the operator's profile (carrier,
//! endpoint name, registration behaviour) and registered with what the
//! operator's server provisioned.

#![allow(clippy::std_instead_of_core)]
mod loopback;

use carrier_os::time::Clock;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::testdir::TestDir;
use loopback::*;
use lwm2m_carrier::api::Request;
use lwm2m_carrier::config::{Carrier, CarrierSet, ConfigBuilder, LgUplusOptions, SerialNumberType};
use lwm2m_carrier::{Event, Phase};
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::path::Path;
use lwm2m_server::operators::{Operator, plan_for};

const BS_IDENTITY: &[u8] = b"carrier-bootstrap";
const BS_KEY: &[u8] = b"bootstrap-secret";
const DM_IDENTITY: &[u8] = b"carrier-dm";
const DM_KEY: &[u8] = b"dm-secret-012345";

/// A SIM of `imsi_prefix` (MCC-MNC) in the generic test device.
fn sim(imsi_prefix: &str) -> DeviceProfile {
    let mut p = DeviceProfile::generic(7);
    let digits = 15 - imsi_prefix.len();
    p.imsi = Some(format!("{imsi_prefix}{:0digits$}", 7));
    p
}

struct Outcome {
    events: Vec<Event<'static>>,
    carrier: Option<Carrier>,
    bootstrap_endpoint: String,
    registration: lwm2m_server::Registration,
    /// `/11/0/1` as the DM server reads it (None: not found).
    apn: Option<String>,
    /// `/3/0/2` (Serial Number) as the DM server reads it.
    serial: String,
}

/// First boot of a device with `profile` and `carrier` alone enabled,
/// against the DTLS Bootstrap-Server running `operator`'s plan and the DM
/// server it provisions; SoftBank's application asks for the registration.
fn first_boot(operator: Operator, carrier: Carrier, profile: DeviceProfile) -> Outcome {
    let (dm, dm_uri) = dtls_server(DM_IDENTITY, DM_KEY, None);
    let plan = plan_for(operator, &dm_uri, Some((DM_IDENTITY, DM_KEY)));
    let (bs, bs_uri) = dtls_server(BS_IDENTITY, BS_KEY, Some(plan));
    let dir = TestDir::new(&format!("e2e-operator-{operator:?}"));
    // LG U+: the 2DID as serial number when the SiP has one.
    let serial_type = if profile.serial_2did.is_some() {
        SerialNumberType::TwoDid
    } else {
        SerialNumberType::Imei
    };
    provision_bootstrap_key(dir.path(), &[7], BS_IDENTITY, BS_KEY);
    let config = ConfigBuilder::new()
        .carriers(CarrierSet::only(carrier))
        .server_uri(&bs_uri)
        .bootstrap_server(true)
        .server_sec_tag(7)
        .lg_uplus(LgUplusOptions { service_code: "LGU01", device_serial_no_type: serial_type })
        .build();
    // Verizon's Bootstrap-Server hold-off is 10 s: allow for it.
    let (mut rt, mut port, mut events) =
        boot_device_until(dir.path(), profile, config, 40, |phase, events| {
            events.contains(&Event::Registered) || phase == Phase::WaitRegisterRequest
        });
    if rt.phase() == Phase::WaitRegisterRequest {
        rt.request(port.now(), Request::Register).unwrap();
        let end = deadline(&port, 20);
        while !events.contains(&Event::Registered) {
            assert!(port.now() < end, "not registered after REGISTER: {events:?}");
            poll_once(&mut rt, &mut port, &mut events);
        }
    }
    let mut bootstrap_endpoint = String::new();
    while let Some(ev) = bs.next_event(std::time::Duration::from_millis(200)) {
        if let lwm2m_server::ServerEvent::BootstrapRequested { endpoint } = ev {
            bootstrap_endpoint = endpoint;
        }
    }
    let registrations = dm.registrations();
    assert_eq!(registrations.len(), 1, "{registrations:?}");
    let registration = registrations[0].clone();
    let (apn, serial) = while_device_runs(&mut rt, &mut port, &mut events, || {
        let read = |path: Path| {
            let format = Some(ContentFormat::TextPlain);
            let r = dm
                .request(
                    &registration.endpoint,
                    lwm2m_server::Request::Read { path, format },
                    std::time::Duration::from_secs(10),
                )
                .unwrap();
            (r.code == Code::Content).then(|| String::from_utf8(r.payload).unwrap())
        };
        (read(Path::resource(11, 0, 1).unwrap()), read(Path::resource(3, 0, 2).unwrap()))
    });
    let carrier = rt.api().carrier();
    bs.stop();
    dm.stop();
    Outcome { events, carrier, bootstrap_endpoint, registration, apn, serial: serial.unwrap() }
}

const FIRST_BOOT: [Event<'static>; 4] =
    [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered];

#[test]
fn verizon_sim_bootstraps_as_imei_msisdn_and_gets_the_admin_apn() {
    let profile = sim("311480");
    let (imei, msisdn) = (profile.imei.clone(), profile.msisdn.clone().unwrap());
    let o = first_boot(Operator::Verizon, Carrier::Verizon, profile);
    assert_eq!(o.carrier, Some(Carrier::Verizon));
    assert_eq!(o.events, FIRST_BOOT);
    // carriers.md §4: urn:imei-msisdn:<IMEI>-<MSISDN>, for bootstrap and registration.
    let ep = format!("urn:imei-msisdn:{imei}-{msisdn}");
    assert_eq!((o.bootstrap_endpoint.as_str(), o.registration.endpoint.as_str()), (&*ep, &*ep));
    assert_eq!(o.registration.lifetime_s, 3600);
    assert_eq!(o.apn.as_deref(), Some("VZWADMIN"), "the APN profile Verizon's server wrote");
}

#[test]
fn t_mobile_sim_found_by_its_imsi_bootstraps_and_registers() {
    let profile = sim("310260");
    let imei = profile.imei.clone();
    let o = first_boot(Operator::TMobile, Carrier::TMobile, profile);
    assert_eq!(o.carrier, Some(Carrier::TMobile), "no %XOPERID value: detected by IMSI");
    assert_eq!(o.events, FIRST_BOOT);
    assert_eq!(o.registration.endpoint, format!("urn:imei:{imei}"));
    assert_eq!(o.registration.lifetime_s, 3600);
    assert_eq!(o.apn, None, "no APN profile provisioned");
    assert_eq!(o.serial, imei, "serial number = IMEI");
}

#[test]
fn softbank_sim_bootstraps_then_registers_when_the_application_asks() {
    let profile = sim("44020");
    let imei = profile.imei.clone();
    let o = first_boot(Operator::SoftBank, Carrier::SoftBank, profile);
    assert_eq!(o.carrier, Some(Carrier::SoftBank));
    // carriers.md §6: auto-register off: bootstrap, then nothing until
    // the application's REGISTER request.
    assert_eq!(o.events, FIRST_BOOT);
    assert_eq!(o.registration.endpoint, format!("urn:imei:{imei}"));
    assert_eq!(o.registration.lifetime_s, 3600);
    assert!(o.registration.queue_mode, "SoftBank's server provisions queue mode (UQ)");
}

#[test]
fn lg_uplus_sim_bootstraps_and_registers_with_the_2did_as_serial_number() {
    let mut profile = sim("45006");
    profile.serial_2did = Some("2DID-0123456789".into());
    let imei = profile.imei.clone();
    let o = first_boot(Operator::LgUplus, Carrier::LgUplus, profile);
    assert_eq!(o.carrier, Some(Carrier::LgUplus));
    assert_eq!(o.events, FIRST_BOOT);
    assert_eq!(o.registration.endpoint, format!("urn:imei:{imei}"));
    // carriers.md §7: Device Serial Number = the SiP 2DID when configured.
    assert_eq!(o.serial, "2DID-0123456789");
}

#[test]
fn bell_canada_sim_bootstraps_and_registers() {
    let profile = sim("302610");
    let imei = profile.imei.clone();
    let o = first_boot(Operator::BellCanada, Carrier::BellCanada, profile);
    assert_eq!(o.carrier, Some(Carrier::BellCanada));
    assert_eq!(o.events, FIRST_BOOT);
    assert_eq!(o.registration.endpoint, format!("urn:imei:{imei}"));
}

#[test]
fn generic_sim_bootstraps_and_registers_with_the_custom_server() {
    let profile = sim("00101");
    let imei = profile.imei.clone();
    let o = first_boot(Operator::Generic, Carrier::Generic, profile);
    assert_eq!(o.carrier, Some(Carrier::Generic));
    assert_eq!(o.events, FIRST_BOOT);
    assert_eq!(o.registration.endpoint, format!("urn:imei:{imei}"));
    assert_eq!(o.registration.lifetime_s, 3600);
}
