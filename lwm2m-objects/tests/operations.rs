//! Every operation of the Device Management interface against the generic
//! store with one DM server (SSID 101, so the single-server shortcut
//! applies), and every error code the object layer answers with.

mod common;

use common::*;
use lwm2m_core::coap::numbers::Code;
use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_objects::objects::{FirmwareState, PowerSource, SOFTWARE_VERSION};
use lwm2m_objects::registry;
use lwm2m_objects::{Caller, ObjectError, ObjectEvent, Operation, StaticDeviceInfo, WriteMode};

const DM: Caller = Caller::Server(101);

#[test]
fn device_reads_the_documented_defaults() {
    let s = store_with(&[101]);
    // app-integration.txt "Resources".
    assert_eq!(read(&s, DM, "/3/0/6").unwrap(), vec![("/3/0/6/0".into(), "0".into())]); // DC
    assert_eq!(read(&s, DM, "/3/0/7").unwrap(), vec![("/3/0/7/0".into(), "0".into())]);
    assert_eq!(read(&s, DM, "/3/0/8").unwrap(), vec![("/3/0/8/0".into(), "0".into())]);
    assert_eq!(value(&s, DM, "/3/0/9").unwrap(), "0");
    assert_eq!(value(&s, DM, "/3/0/20").unwrap(), "5"); // not installed
    assert_eq!(value(&s, DM, "/3/0/21").unwrap(), "0");
    assert_eq!(read(&s, DM, "/3/0/11").unwrap(), vec![("/3/0/11/0".into(), "0".into())]); // no error
    assert_eq!(value(&s, DM, "/3/0/17").unwrap(), "Module");
    assert_eq!(
        value(&s, DM, "/3/0/19").unwrap(),
        format!("LwM2M_carrier_{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(SOFTWARE_VERSION, format!("LwM2M_carrier_{}", env!("CARGO_PKG_VERSION")));
    // From the modem (DeviceInfo) unless overridden.
    let info = StaticDeviceInfo::default();
    assert_eq!(value(&s, DM, "/3/0/0").unwrap(), info.manufacturer);
    assert_eq!(value(&s, DM, "/3/0/18").unwrap(), info.hardware_version);
    // Location 0.
    assert_eq!(value(&s, DM, "/6/0/0").unwrap(), "0");
    assert_eq!(value(&s, DM, "/6/0/1").unwrap(), "0");
}

#[test]
fn application_overrides_replace_modem_strings() {
    let mut s = store_with(&[101]);
    s.update_device(|d| d.set_manufacturer(Some("ACME"))).unwrap();
    assert_eq!(value(&s, DM, "/3/0/0").unwrap(), "ACME");
    assert_eq!(changed(&mut s), vec!["/3/0/0"]);
    s.update_device(|d| d.set_manufacturer(None)).unwrap();
    assert_eq!(value(&s, DM, "/3/0/0").unwrap(), StaticDeviceInfo::default().manufacturer);
}

#[test]
fn unknown_object_instance_resource_or_resource_instance_is_4_04() {
    let s = store_with(&[101]);
    for path in
        ["/9", "/9/0", "/3/1", "/3/1/0", "/3/0/99", "/3/0/22", "/3/0/11/7", "/1/5", "/16", "/10250"]
    {
        let e = read(&s, DM, path).unwrap_err();
        assert_eq!(e, ObjectError::NotFound, "{path}");
        assert_eq!(Code::from(e), Code::NotFound);
    }
    // A single resource has no resource instances.
    assert_eq!(read(&s, DM, "/3/0/9/0").unwrap_err(), ObjectError::NotFound);
    // A resource without a value (pmin never written) is not found either.
    assert_eq!(read(&s, DM, "/1/0/2").unwrap_err(), ObjectError::NotFound);
}

#[test]
fn read_only_resource_refuses_write_with_4_05() {
    let mut s = store_with(&[101]);
    for path in ["/3/0/9", "/3/0/0", "/5/0/3", "/4/0/2", "/1/0/0"] {
        let e =
            write(&mut s, DM, WriteMode::Replace, path, &[(path, Value::Integer(1))]).unwrap_err();
        assert_eq!(e, ObjectError::MethodNotAllowed, "{path}");
        assert_eq!(Code::from(e), Code::MethodNotAllowed);
    }
    // The same inside an instance-level write.
    let e = write(&mut s, DM, WriteMode::PartialUpdate, "/3/0", &[("/3/0/9", Value::Integer(1))])
        .unwrap_err();
    assert_eq!(e, ObjectError::MethodNotAllowed);
}

#[test]
fn execute_and_read_need_the_right_kind_of_resource() {
    let mut s = store_with(&[101]);
    assert_eq!(execute(&mut s, DM, "/3/0/9").unwrap_err(), ObjectError::MethodNotAllowed);
    assert_eq!(read(&s, DM, "/3/0/4").unwrap_err(), ObjectError::MethodNotAllowed);
    assert_eq!(read(&s, DM, "/5/0/0").unwrap_err(), ObjectError::MethodNotAllowed); // Package is W only
    assert_eq!(execute(&mut s, DM, "/3/0").unwrap_err(), ObjectError::MethodNotAllowed);
    assert_eq!(execute(&mut s, DM, "/3/0/99").unwrap_err(), ObjectError::NotFound);
    // An instance read leaves out the write-only and executable resources.
    let all = read(&s, DM, "/3/0").unwrap();
    assert!(!all.iter().any(|(p, _)| p == "/3/0/4" || p == "/3/0/12"));
    assert!(all.iter().any(|(p, v)| p == "/3/0/17" && v == "Module"));
}

#[test]
fn writes_are_type_and_range_checked_with_4_00() {
    let mut s = store_with(&[101]);
    let cases: &[(&str, Value<'_>)] = &[
        ("/1/0/1", Value::String("soon")),  // Lifetime is an Integer
        ("/1/0/6", Value::Integer(1)),      // Boolean
        ("/1/0/1", Value::Integer(-1)),     // negative lifetime
        ("/1/0/7", Value::String("X")),     // not a binding
        ("/1/0/7", Value::String("")),      // empty binding
        ("/10/0/1", Value::Integer(65536)), // registry range 0..65535
        ("/5/0/1", Value::Opaque(b"x")),    // URI is a String
    ];
    for (path, v) in cases {
        let e = write(&mut s, DM, WriteMode::Replace, path, &[(path, *v)]).unwrap_err();
        assert_eq!(e, ObjectError::BadValue, "{path} = {v:?}");
        assert_eq!(Code::from(e), Code::BadRequest);
    }
    let long = "u".repeat(256); // registry range 0..255 for the package URI
    let e = write(&mut s, DM, WriteMode::Replace, "/5/0/1", &[("/5/0/1", Value::String(&long))])
        .unwrap_err();
    assert_eq!(e, ObjectError::BadValue);
    // A failed write changed nothing.
    assert_eq!(value(&s, DM, "/1/0/1").unwrap(), "3600");
    assert_eq!(value(&s, DM, "/1/0/7").unwrap(), "U");
}

#[test]
fn write_validates_every_item_before_applying_any() {
    let mut s = store_with(&[101]);
    let e = write(
        &mut s,
        DM,
        WriteMode::PartialUpdate,
        "/1/0",
        &[("/1/0/1", Value::Integer(600)), ("/1/0/6", Value::String("yes"))],
    )
    .unwrap_err();
    assert_eq!(e, ObjectError::BadValue);
    assert_eq!(value(&s, DM, "/1/0/1").unwrap(), "3600", "lifetime must not change");
    // An item outside the target path is refused too.
    let e = write(&mut s, DM, WriteMode::PartialUpdate, "/1/0", &[("/3/0/13", Value::Time(5))])
        .unwrap_err();
    assert_eq!(e, ObjectError::BadValue);
}

#[test]
fn integer_values_coerce_into_the_declared_type() {
    let mut s = store_with(&[101]);
    // A SenML decoder hands numbers as floats or integers; Time takes an integer.
    write(&mut s, DM, WriteMode::Replace, "/3/0/13", &[("/3/0/13", Value::Integer(1_700_000_000))])
        .unwrap();
    write(&mut s, DM, WriteMode::Replace, "/1/0/1", &[("/1/0/1", Value::Float(120.0))]).unwrap();
    assert_eq!(value(&s, DM, "/1/0/1").unwrap(), "120");
    assert_eq!(
        write(&mut s, DM, WriteMode::Replace, "/1/0/1", &[("/1/0/1", Value::Float(1.5))])
            .unwrap_err(),
        ObjectError::BadValue
    );
}

#[test]
fn replace_resets_unlisted_resources_partial_update_keeps_them() {
    let mut s = store_with(&[101]);
    write(
        &mut s,
        DM,
        WriteMode::PartialUpdate,
        "/1/0",
        &[("/1/0/2", Value::Integer(10)), ("/1/0/3", Value::Integer(60))],
    )
    .unwrap();
    write(&mut s, DM, WriteMode::PartialUpdate, "/1/0", &[("/1/0/1", Value::Integer(300))])
        .unwrap();
    assert_eq!(value(&s, DM, "/1/0/2").unwrap(), "10");
    write(&mut s, DM, WriteMode::Replace, "/1/0", &[("/1/0/1", Value::Integer(400))]).unwrap();
    assert_eq!(value(&s, DM, "/1/0/1").unwrap(), "400");
    assert_eq!(read(&s, DM, "/1/0/2").unwrap_err(), ObjectError::NotFound, "pmin reset by Replace");
    assert_eq!(value(&s, DM, "/1/0/0").unwrap(), "101", "the SSID survives");
}

#[test]
fn replace_of_a_multiple_resource_drops_unwritten_instances() {
    let mut s = store_with(&[101]);
    s.set_app_data(0, 0, Some(b"aa")).unwrap();
    s.set_app_data(0, 1, Some(b"bb")).unwrap();
    write(&mut s, DM, WriteMode::PartialUpdate, "/19/0/0", &[("/19/0/0/2", Value::Opaque(b"cc"))])
        .unwrap();
    assert_eq!(read(&s, DM, "/19/0/0").unwrap().len(), 3);
    write(&mut s, DM, WriteMode::Replace, "/19/0/0", &[("/19/0/0/5", Value::Opaque(b"dd"))])
        .unwrap();
    assert_eq!(read(&s, DM, "/19/0/0").unwrap(), vec![("/19/0/0/5".into(), "6464".into())]);
    assert!(
        events(&mut s).contains(&ObjectEvent::AppDataWritten { instance: 0, resource_instance: 5 })
    );
    // A multiple resource needs resource-instance paths.
    let e = write(&mut s, DM, WriteMode::Replace, "/19/0/0", &[("/19/0/0", Value::Opaque(b"x"))])
        .unwrap_err();
    assert_eq!(e, ObjectError::BadValue);
}

#[test]
fn device_executes_produce_events_and_reset_error_code_clears_codes() {
    let mut s = store_with(&[101]);
    s.update_device(|d| {
        d.add_error_code(4).unwrap();
        d.add_error_code(7).unwrap();
    });
    let _ = changed(&mut s);
    assert_eq!(read(&s, DM, "/3/0/11").unwrap().len(), 2);
    execute(&mut s, DM, "/3/0/12").unwrap();
    assert_eq!(read(&s, DM, "/3/0/11").unwrap(), vec![("/3/0/11/0".into(), "0".into())]);
    assert_eq!(changed(&mut s), vec!["/3/0/11"]);
    execute(&mut s, DM, "/3/0/4").unwrap();
    execute(&mut s, DM, "/3/0/5").unwrap();
    assert_eq!(
        events(&mut s),
        vec![ObjectEvent::ErrorCodesReset, ObjectEvent::Reboot, ObjectEvent::FactoryReset]
    );
}

#[test]
fn firmware_update_state_machine() {
    let mut s = store_with(&[101]);
    // Update before a package is downloaded: not allowed.
    assert_eq!(execute(&mut s, DM, "/5/0/2").unwrap_err(), ObjectError::MethodNotAllowed);
    write(
        &mut s,
        DM,
        WriteMode::Replace,
        "/5/0/1",
        &[("/5/0/1", Value::String("coap://fw.example/app.bin"))],
    )
    .unwrap();
    assert_eq!(events(&mut s), vec![ObjectEvent::FirmwareDownload]);
    assert_eq!(s.firmware().package_uri(), "coap://fw.example/app.bin");
    assert_eq!(value(&s, DM, "/5/0/3").unwrap(), "1"); // Downloading
    s.update_firmware(|f| f.set_state(FirmwareState::Downloaded));
    assert_eq!(changed(&mut s), vec!["/5/0/1", "/5/0/3"]);
    execute(&mut s, DM, "/5/0/2").unwrap();
    assert_eq!(events(&mut s), vec![ObjectEvent::FirmwareUpdate]);
    assert_eq!(s.firmware().state(), FirmwareState::Updating);
    // An empty URI resets the state machine.
    s.update_firmware(|f| f.set_state(FirmwareState::Downloading));
    write(&mut s, DM, WriteMode::Replace, "/5/0/1", &[("/5/0/1", Value::String(""))]).unwrap();
    assert_eq!(s.firmware().state(), FirmwareState::Idle);
    assert_eq!(events(&mut s), vec![ObjectEvent::FirmwareCancel]);
    // Package push starts a download too.
    write(
        &mut s,
        DM,
        WriteMode::Replace,
        "/5/0/0",
        &[("/5/0/0", Value::Opaque(b"\x3d\xb8\xf3\x96"))],
    )
    .unwrap();
    assert_eq!(events(&mut s), vec![ObjectEvent::FirmwarePackage]);
}

#[test]
fn server_executes_and_registration_relevant_writes_produce_events() {
    let mut s = store_with(&[101]);
    execute(&mut s, DM, "/1/0/8").unwrap();
    execute(&mut s, DM, "/1/0/4").unwrap();
    write(&mut s, DM, WriteMode::Replace, "/1/0/1", &[("/1/0/1", Value::Integer(7200))]).unwrap();
    write(&mut s, DM, WriteMode::Replace, "/1/0/1", &[("/1/0/1", Value::Integer(7200))]).unwrap(); // unchanged
    assert_eq!(
        events(&mut s),
        vec![
            ObjectEvent::RegistrationUpdateTrigger { ssid: 101 },
            ObjectEvent::ServerDisable { ssid: 101 },
            ObjectEvent::ServerSettingsChanged { ssid: 101 },
        ]
    );
}

#[test]
fn create_and_delete_apn_profiles() {
    let mut s = store_with(&[101]);
    let mut info = StaticDeviceInfo::default();
    let access = s.authorize(DM, Operation::Create, p("/11")).unwrap();
    let created = s
        .create(
            &access,
            &mut info,
            None,
            &[
                (p("/11/0/0"), Value::String("internet")),
                (p("/11/0/1"), Value::String("iot.example")),
            ],
        )
        .unwrap();
    assert_eq!(created, p("/11/0"));
    assert_eq!(value(&s, DM, "/11/0/1").unwrap(), "iot.example");
    assert!(events(&mut s).contains(&ObjectEvent::InstancesChanged));
    assert!(registration(&s).contains(&"</11/0>".to_string()));
    // Creating it again: 4.00.
    let e = s.authorize(DM, Operation::Create, p("/11/0")).unwrap_err();
    assert_eq!((e, Code::from(e)), (ObjectError::AlreadyExists, Code::BadRequest));
    // A bad value in the Create payload leaves no instance behind.
    let access = s.authorize(DM, Operation::Create, p("/11")).unwrap();
    let e =
        s.create(&access, &mut info, Some(1), &[(p("/11/1/4"), Value::Integer(9))]).unwrap_err();
    assert_eq!(e, ObjectError::BadValue);
    assert_eq!(read(&s, DM, "/11/1").unwrap_err(), ObjectError::NotFound);
    // Delete.
    let access = s.authorize(DM, Operation::Delete, p("/11/0")).unwrap();
    s.delete(&access).unwrap();
    assert_eq!(read(&s, DM, "/11/0").unwrap_err(), ObjectError::NotFound);
    assert_eq!(s.authorize(DM, Operation::Delete, p("/11/0")).unwrap_err(), ObjectError::NotFound);
}

#[test]
fn create_and_delete_are_refused_on_fixed_objects() {
    let s = store_with(&[101]);
    for (op, path) in [
        (Operation::Create, "/3"),
        (Operation::Delete, "/3/0"),
        (Operation::Delete, "/1/0"),
        (Operation::Delete, "/11"),
        (Operation::Write(WriteMode::Replace), "/3"),
    ] {
        let e = s.authorize(DM, op, p(path)).unwrap_err();
        assert_eq!(e, ObjectError::MethodNotAllowed, "{op:?} {path}");
    }
}

#[test]
fn capacity_errors_are_4_13_and_change_nothing() {
    let mut s = store_with(&[101]);
    let big = [0u8; lwm2m_objects::config::APP_DATA_LEN + 1];
    let e = s.set_app_data(0, 0, Some(&big)).unwrap_err();
    assert_eq!((e, Code::from(e)), (ObjectError::Full, Code::RequestEntityTooLarge));
    for ri in 0..lwm2m_objects::config::APP_DATA_ENTRIES as u16 {
        s.set_app_data(0, ri, Some(b"x")).unwrap();
    }
    assert_eq!(s.set_app_data(0, 99, Some(b"x")).unwrap_err(), ObjectError::Full);
    assert_eq!(s.app_data().get(0).unwrap().get(99), None);
    // The application writes only into existing instances (carrier API −ENOENT).
    assert_eq!(s.set_app_data(1, 0, Some(b"x")).unwrap_err(), ObjectError::NotFound);
    s.create_app_data_instance(1).unwrap();
    s.set_app_data(1, 0, Some(b"x")).unwrap();
    let log = [0u8; lwm2m_objects::config::EVENT_LOG_LEN + 1];
    s.set_event_log_data(0, b"boot ok").unwrap();
    assert_eq!(s.set_event_log_data(0, &log).unwrap_err(), ObjectError::Full);
    assert_eq!(s.event_log().get(0).unwrap().data.as_slice(), b"boot ok");
}

#[test]
fn discover_lists_resources_with_dim_and_versions() {
    let s = store_with(&[101]);
    let links = discover(&s, DM, "/3/0").unwrap();
    assert_eq!(links[0], "</3/0>");
    assert!(links.contains(&"</3/0/6>;dim=1".to_string()), "{links:?}");
    assert!(links.contains(&"</3/0/11>;dim=1".to_string()));
    assert!(links.contains(&"</3/0/4>".to_string()));
    assert!(!links.iter().any(|l| l.starts_with("</3/0/22>")), "ExtDevInfo is not implemented");
    let links = discover(&s, DM, "/1").unwrap();
    assert_eq!(links[0], format!("</1>;ver={}", registry::SERVER.version));
    assert_eq!(discover(&s, DM, "/3/0/7").unwrap(), vec!["</3/0/7>;dim=1"]);
}

#[test]
fn every_generic_object_implements_all_its_mandatory_resources() {
    let mut s = store_with(&[101]);
    s.set_app_data(0, 0, Some(b"x")).unwrap();
    s.access_control_mut().put(lwm2m_objects::objects::AclInstance::new(0, 3, 0, 101)).unwrap();
    let mut info = StaticDeviceInfo::default();
    let access = s.authorize(DM, Operation::Create, p("/11")).unwrap();
    s.create(&access, &mut info, Some(0), &[]).unwrap();
    for def in
        registry::ALL.iter().filter(|d| lwm2m_objects::store::GENERIC_OBJECTS.contains(&d.id))
    {
        if def.id == 0 {
            continue; // invisible to DM servers: checked through the bootstrap discover below
        }
        let links = discover(&s, DM, &format!("/{}/0", def.id)).unwrap();
        for r in def.resources.iter().filter(|r| r.mandatory) {
            let want = format!("</{}/0/{}>", def.id, r.id);
            assert!(
                links.iter().any(|l| l.starts_with(&want)),
                "{} ({}) lacks {} {}",
                def.id,
                def.name,
                r.id,
                r.name
            );
        }
    }
    for r in registry::SECURITY.resources.iter().filter(|r| r.mandatory) {
        assert!(
            s.resource_def(&p(&format!("/0/0/{}", r.id))).is_some(),
            "Security lacks {}",
            r.name
        );
    }
}

#[test]
fn registration_object_list_never_lists_security() {
    let s = store_with(&[101]);
    let links = registration(&s);
    assert!(!links.iter().any(|l| l.starts_with("</0")), "{links:?}");
    assert!(links.contains(&"</1/0>".to_string()) || links.contains(&"</1>;ver=1.2".to_string()));
    assert!(links.contains(&"</3/0>".to_string()));
    assert!(links.contains(&"</19/0>".to_string()));
    for oid in [1, 2, 3, 4, 5, 6, 7, 10, 11, 19, 20] {
        assert!(links.iter().any(|l| l.starts_with(&format!("</{oid}>")) || l.starts_with(&format!("</{oid}/"))), "{oid}");
    }
    assert!(!links.iter().any(|l| l.starts_with("</16")), "Portfolio is off in generic mode");
}

#[test]
fn observe_and_write_attributes_follow_read_rules_and_changes_are_reported() {
    let mut s = store_with(&[101]);
    s.update_device(|d| d.set_power_sources(&[PowerSource::Dc, PowerSource::InternalBattery]))
        .unwrap();
    let _ = changed(&mut s);
    assert_eq!(
        read_as(&s, DM, Operation::Observe, "/3/0/9").unwrap(),
        vec![("/3/0/9".into(), "0".into())]
    );
    let access = s.authorize(DM, Operation::WriteAttributes, p("/3/0/9")).unwrap();
    s.write_attributes(&access).unwrap();
    s.update_device(|d| d.set_battery_level(42)).unwrap();
    s.update_device(|d| d.set_battery_level(42)).unwrap(); // no change
    assert_eq!(changed(&mut s), vec!["/3/0/9"]);
    assert_eq!(s.update_device(|d| d.set_battery_level(101)).unwrap_err(), ObjectError::BadValue);
    assert_eq!(s.update_device(|d| d.set_battery_status(7)).unwrap_err(), ObjectError::BadValue);
    s.update_device(|d| d.set_battery_status(1)).unwrap();
    assert_eq!(value(&s, DM, "/3/0/20").unwrap(), "1");
    assert_eq!(changed(&mut s), vec!["/3/0/20"]);
    // A capability is bound to its operation.
    let access = s.authorize(DM, Operation::Read, p("/3/0/9")).unwrap();
    assert!(matches!(s.write_attributes(&access), Err(ObjectError::Internal(_))));
}

#[test]
fn battery_setters_need_an_internal_battery() {
    let mut s = store_with(&[101]);
    assert_eq!(s.update_device(|d| d.set_battery_level(50)).unwrap_err(), ObjectError::NotFound);
    assert_eq!(
        s.update_device(|d| d.set_voltage(PowerSource::Usb, 5000)).unwrap_err(),
        ObjectError::NotFound
    );
    s.update_device(|d| d.set_power_sources(&[PowerSource::InternalBattery, PowerSource::Usb]))
        .unwrap();
    s.update_device(|d| d.set_voltage(PowerSource::Usb, 5000)).unwrap();
    assert_eq!(
        read(&s, DM, "/3/0/7").unwrap(),
        vec![("/3/0/7/0".into(), "0".into()), ("/3/0/7/1".into(), "5000".into())]
    );
    assert_eq!(
        value(&s, DM, "/3/0/20").unwrap(),
        "6",
        "set_power_sources resets the status to Unknown"
    );
}

#[test]
fn device_time_writes_go_to_the_platform() {
    let mut s = store_with(&[101]);
    let mut info = StaticDeviceInfo::default();
    let access = s.authorize(DM, Operation::Write(WriteMode::Replace), p("/3/0/15")).unwrap();
    s.write(&access, &mut info, &[(p("/3/0/15"), Value::String("Europe/Oslo"))]).unwrap();
    assert_eq!(info.timezone.as_str(), "Europe/Oslo");
}

#[test]
fn no_dm_operation_targets_the_root() {
    let s = store_with(&[101]);
    for op in [Operation::Read, Operation::Discover, Operation::Observe, Operation::Delete] {
        assert_eq!(s.authorize(DM, op, Path::ROOT).unwrap_err(), ObjectError::MethodNotAllowed);
    }
}

#[test]
fn resource_instance_read_returns_just_that_instance() {
    let mut s = store_with(&[101]);
    s.update_device(|d| d.set_power_sources(&[PowerSource::Dc, PowerSource::Usb])).unwrap();
    assert_eq!(read(&s, DM, "/3/0/6/1").unwrap(), vec![("/3/0/6/1".into(), "5".into())]);
}
