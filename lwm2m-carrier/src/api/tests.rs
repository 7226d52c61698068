//! Table-driven tests: each setter, each errno of `carrier-api.md` §4.

extern crate std;
use super::*;
use lwm2m_core::path::Path;

fn generic() -> AppApi {
    let mut api = AppApi::new();
    api.attach(Carrier::Generic, ObjectStore::new());
    api
}

fn with(carrier: Carrier) -> AppApi {
    let mut api = AppApi::new();
    api.attach(carrier, ObjectStore::new());
    api
}

#[test]
fn every_setter_answers_enoent_before_the_carrier_is_known() {
    let mut api = AppApi::new();
    let results = [
        api.set_power_sources(&[0]),
        api.set_voltage(0, 1),
        api.set_current(0, 1),
        api.set_battery_level(1),
        api.set_battery_status(0),
        api.add_error_code(1),
        api.remove_error_code(1),
        api.set_memory_total(1),
        api.set_device_type("x"),
        api.set_hardware_version(Some("x")),
        api.set_software_version("x"),
        api.set_location(1.0, 1.0, 0.0, 1, 0.0),
        api.set_velocity(1, 1.0, f32::NAN, f32::NAN, f32::NAN),
        api.set_app_data(&[19, 0, 0, 0], Some(b"x")),
        api.set_log_data(Some(b"x")),
        api.create_portfolio(1),
    ];
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r, Err(Errno::NoEnt), "setter #{i}");
    }
}

#[test]
fn power_sources_errnos() {
    let cases: [(&[u8], Result<(), Errno>); 6] = [
        (&[0, 1], Ok(())),
        (&[0, 1, 2, 4, 5, 6, 7], Ok(())),
        (&[3], Err(Errno::Inval)),
        (&[8], Err(Errno::Inval)),
        (&[0, 1, 2, 4, 5, 6, 7, 0, 1], Err(Errno::TooBig)),
        (&[], Err(Errno::Inval)),
    ];
    for (list, want) in cases {
        assert_eq!(generic().set_power_sources(list), want, "{list:?}");
    }
}

#[test]
fn power_sources_reset_level_and_status_to_unknown() {
    let mut api = generic();
    api.set_power_sources(&[1]).unwrap();
    api.set_battery_level(80).unwrap();
    api.set_battery_status(0).unwrap();
    api.set_power_sources(&[0, 1]).unwrap();
    let d = api.objects().unwrap().device();
    assert_eq!((d.battery_level(), d.battery_status()), (0, 6));
}

#[test]
fn voltage_and_current_errnos() {
    let mut api = generic(); // default list: [DC]
    assert_eq!(api.set_voltage(0, 5000), Ok(()));
    assert_eq!(api.set_current(0, 120), Ok(()));
    assert_eq!(api.set_voltage(3, 5000), Err(Errno::Inval));
    assert_eq!(api.set_current(9, 1), Err(Errno::Inval));
    assert_eq!(api.set_voltage(1, 3700), Err(Errno::NoDev));
    assert_eq!(api.set_current(5, 1), Err(Errno::NoDev));
}

#[test]
fn battery_level_and_status_errnos() {
    let mut api = generic();
    assert_eq!(api.set_battery_level(101), Err(Errno::Inval));
    assert_eq!(api.set_battery_level(50), Err(Errno::NoDev), "no internal battery listed");
    assert_eq!(api.set_battery_status(7), Err(Errno::Inval));
    assert_eq!(api.set_battery_status(0), Err(Errno::NoDev));
    api.set_power_sources(&[1]).unwrap();
    for pct in [0, 100] {
        assert_eq!(api.set_battery_level(pct), Ok(()));
    }
    for status in 0..=6 {
        assert_eq!(api.set_battery_status(status), Ok(()));
    }
    assert_eq!(api.objects().unwrap().device().battery_level(), 100);
}

#[test]
fn error_code_add_and_remove_errnos() {
    let mut api = generic();
    assert_eq!(api.add_error_code(9), Err(Errno::Inval));
    assert_eq!(api.remove_error_code(0), Err(Errno::Inval));
    assert_eq!(api.remove_error_code(9), Err(Errno::Inval));
    assert_eq!(api.remove_error_code(3), Err(Errno::NoEnt), "not present");
    api.add_error_code(3).unwrap();
    api.add_error_code(3).unwrap(); // duplicate: no-op
    api.add_error_code(7).unwrap();
    assert_eq!(api.objects().unwrap().device().error_codes(), &[3, 7]);
    api.remove_error_code(3).unwrap();
    assert_eq!(api.objects().unwrap().device().error_codes(), &[7]);
    api.add_error_code(0).unwrap(); // clears
    assert_eq!(api.objects().unwrap().device().error_codes(), &[0]);
}

#[test]
fn memory_total_is_bounded_by_i32_max() {
    let mut api = generic();
    assert_eq!(api.set_memory_total(i32::MAX as u32), Ok(()));
    assert_eq!(api.set_memory_total(i32::MAX as u32 + 1), Err(Errno::Inval));
}

#[test]
fn device_strings_errnos_and_carrier_rules() {
    let long = "x".repeat(33);
    let mut api = generic();
    assert_eq!(api.set_device_type(&long), Err(Errno::TooBig));
    assert_eq!(api.set_device_type(""), Err(Errno::Inval));
    assert_eq!(api.set_device_type("Tracker"), Ok(()));
    assert_eq!(api.set_manufacturer(Some(&long)), Err(Errno::TooBig));
    assert_eq!(api.set_manufacturer(Some("ACME")), Ok(()));
    assert_eq!(api.set_model_number(Some("X1")), Ok(()));
    assert_eq!(api.set_hardware_version(Some(&long)), Err(Errno::TooBig));
    assert_eq!(api.set_software_version(&long), Err(Errno::TooBig));
    // Manufacturer/model overrides only in LG U+ and generic; SoftBank's device type is the IMEI.
    let mut vz = with(Carrier::Verizon);
    assert_eq!(vz.set_manufacturer(Some("ACME")), Err(Errno::Perm));
    assert_eq!(vz.set_model_number(Some("X1")), Err(Errno::Perm));
    assert_eq!(with(Carrier::LgUplus).set_manufacturer(Some("ACME")), Ok(()));
    assert_eq!(with(Carrier::SoftBank).set_device_type("Tracker"), Err(Errno::Perm));
}

#[test]
fn time_setters_and_reads() {
    let mut api = generic();
    let t0 = Instant::from_millis(5_000);
    assert_eq!(api.set_utc_time(t0, -1), Err(Errno::Inval));
    api.set_utc_time(t0, 1_700_000_000).unwrap();
    assert_eq!(api.time().utc_time(Instant::from_millis(65_000)), 1_700_000_060);
    assert_eq!(api.set_utc_offset(15 * 60), Err(Errno::Inval));
    api.set_utc_offset(-5 * 60).unwrap();
    assert_eq!(api.time().utc_offset_min(), -300);
    assert_eq!(api.set_timezone(""), Err(Errno::Inval));
    api.set_timezone("Europe/Oslo").unwrap();
    assert_eq!(api.time().timezone(), "Europe/Oslo");
}

#[test]
fn location_errnos() {
    let mut api = generic();
    let cases = [
        ((63.4, 10.4, 12.0, 100, 5.0), Ok(())),
        ((90.1, 0.0, 0.0, 100, 0.0), Err(Errno::Inval)),
        ((0.0, -180.5, 0.0, 100, 0.0), Err(Errno::Inval)),
        ((0.0, 0.0, 0.0, 100, -1.0), Err(Errno::Inval)),
        ((0.0, 0.0, f32::NAN, 100, 0.0), Err(Errno::Inval)),
        ((0.0, 0.0, 0.0, 99, 0.0), Err(Errno::Inval)), // timestamp backwards
        ((-90.0, 180.0, 0.0, 101, 0.0), Ok(())),
    ];
    for ((lat, lon, alt, ts, r), want) in cases {
        assert_eq!(api.set_location(lat, lon, alt, ts, r), want, "{lat} {lon} {alt} {ts} {r}");
    }
    let l = api.objects().unwrap().location();
    assert_eq!((l.latitude, l.longitude, l.timestamp), (-90.0, 180.0, 101));
}

#[test]
fn velocity_is_encoded_as_ts_23_032() {
    let mut api = generic();
    // 10 m/s = 36 km/h, heading 300 (0x12C: bearing MSB 1, low byte 0x2C).
    api.set_velocity(300, 10.0, f32::NAN, f32::NAN, f32::NAN).unwrap();
    assert_eq!(api.objects().unwrap().location().velocity.as_slice(), &[0x01, 0x2C, 0x00, 36]);
    // Downward 5 m/s = 18 km/h: type 1, D bit 0x02.
    api.set_velocity(10, 10.0, -5.0, f32::NAN, f32::NAN).unwrap();
    assert_eq!(api.objects().unwrap().location().velocity.as_slice(), &[0x12, 10, 0, 36, 18]);
    // Both, with uncertainties 1 m/s (3.6 → 4 km/h) and 2 m/s (7.2 → 7).
    api.set_velocity(0, 10.0, 5.0, 1.0, 2.0).unwrap();
    assert_eq!(api.objects().unwrap().location().velocity.as_slice(), &[0x30, 0, 0, 36, 18, 4, 7]);
    let speed = api.objects().unwrap().location().speed;
    assert!((speed - 125f64.sqrt()).abs() < 1e-9, "{speed}");
    for bad in
        [(360, 1.0, f32::NAN, f32::NAN), (0, -1.0, f32::NAN, f32::NAN), (0, 1.0, f32::NAN, -1.0)]
    {
        assert_eq!(api.set_velocity(bad.0, bad.1, bad.2, bad.3, f32::NAN), Err(Errno::Inval));
    }
}

#[test]
fn app_data_errnos() {
    let mut api = generic();
    assert_eq!(api.set_app_data(&[19, 0, 0, 0], Some(b"hello")), Ok(()));
    let stored = api.objects().unwrap().app_data().get(0).unwrap().get(0);
    assert_eq!(stored, Some(&b"hello"[..]));
    assert_eq!(api.set_app_data(&[19, 0, 0, 0], None), Ok(()), "absent buffer deletes");
    assert_eq!(api.set_app_data(&[19, 7, 0, 0], Some(b"x")), Err(Errno::NoEnt), "no instance 7");
    assert_eq!(api.set_app_data(&[19, 0, 2, 0], Some(b"x")), Err(Errno::Inval));
    assert_eq!(api.set_app_data(&[19, 0], Some(b"x")), Err(Errno::Inval));
    let big = [0u8; 4096];
    assert_eq!(api.set_app_data(&[19, 0, 0, 1], Some(&big)), Err(Errno::NoMem));
    // 10250 is LG U+'s.
    assert_eq!(api.set_app_data(&[10250, 0, 1], Some(b"x")), Err(Errno::NoEnt));
    let mut lg = with(Carrier::LgUplus);
    assert_eq!(lg.set_app_data(&[10250, 0, 1], Some(b"up")), Ok(()));
    assert_eq!(lg.app_data_container(), b"up");
}

#[test]
fn app_data_marks_the_resource_changed_for_observers() {
    let mut api = generic();
    while api.objects_mut().unwrap().poll_changed().is_some() {}
    api.set_app_data(&[19, 0, 0, 0], Some(b"x")).unwrap();
    let changed = api.objects_mut().unwrap().poll_changed();
    assert_eq!(changed, Some(Path::resource(19, 0, 0).unwrap()));
}

#[test]
fn battery_level_marks_3_0_9_changed() {
    let mut api = generic();
    api.set_power_sources(&[1]).unwrap();
    while api.objects_mut().unwrap().poll_changed().is_some() {}
    api.set_battery_level(42).unwrap();
    let mut seen = false;
    while let Some(p) = api.objects_mut().unwrap().poll_changed() {
        seen |= p == Path::resource(3, 0, 9).unwrap() || p == Path::instance(3, 0).unwrap();
    }
    assert!(seen, "/3/0/9 must be reported changed");
}

#[test]
fn log_data_errnos() {
    let mut api = generic();
    assert_eq!(api.set_log_data(None), Err(Errno::Inval));
    assert_eq!(api.set_log_data(Some(b"boot")), Ok(()));
    assert_eq!(api.set_log_data(Some(&[0u8; 4096])), Err(Errno::NoMem));
}

#[test]
fn portfolio_errnos() {
    let mut api = generic();
    api.objects_mut().unwrap().set_enabled(16, true);
    assert_eq!(api.create_portfolio(1), Ok(()));
    assert_eq!(api.create_portfolio(1), Err(Errno::Inval), "in use");
    assert_eq!(api.write_portfolio_identity(1, 0, "id-1"), Ok(()));
    assert_eq!(api.write_portfolio_identity(1, 4, "x"), Err(Errno::Inval));
    assert_eq!(api.write_portfolio_identity(1, 1, ""), Err(Errno::Inval));
    assert_eq!(api.write_portfolio_identity(2, 1, "x"), Err(Errno::NoEnt));
    assert_eq!(api.write_portfolio_identity(1, 1, &"x".repeat(300)), Err(Errno::TooBig));
    assert_eq!(api.read_portfolio_identity(1, 0, None), Ok(5));
    let mut small = [0u8; 4];
    assert_eq!(api.read_portfolio_identity(1, 0, Some(&mut small)), Err(Errno::NoMem));
    let mut buf = [0xFFu8; 8];
    assert_eq!(api.read_portfolio_identity(1, 0, Some(&mut buf)), Ok(5));
    assert_eq!(&buf[..5], b"id-1\0");
    assert_eq!(api.read_portfolio_identity(1, 9, None), Err(Errno::Inval));
    assert_eq!(api.read_portfolio_identity(3, 0, None), Err(Errno::NoEnt));
}

#[test]
fn cfun_mapping_follows_the_glue() {
    let table = [
        (0, CfunMode::PowerOff),
        (1, CfunMode::LteActivated),
        (21, CfunMode::LteActivated),
        (2, CfunMode::LteDeactivated),
        (4, CfunMode::LteDeactivated),
        (20, CfunMode::LteDeactivated),
        (44, CfunMode::LteDeactivated),
        (31, CfunMode::PowerOff),
        (-1, CfunMode::PowerOff),
    ];
    for (at, mode) in table {
        assert_eq!(CfunMode::from_at_cfun(at), mode, "CFUN={at}");
    }
    assert_eq!(
        [CfunMode::PowerOff, CfunMode::LteActivated, CfunMode::LteDeactivated]
            .map(CfunMode::number),
        [0, 1, 2]
    );
}

#[test]
fn modem_init_result_prefers_a_recorded_dfu_result() {
    use ModemInitResult as R;
    assert_eq!(R::from_modem_lib(true, None), Ok(R::Success));
    assert_eq!(R::from_modem_lib(false, None), Err(Errno::Io));
    assert_eq!(R::from_modem_lib(true, Some(true)), Ok(R::Updated));
    assert_eq!(R::from_modem_lib(false, Some(false)), Ok(R::UpdateFailed));
    assert_eq!([R::Success, R::Updated, R::UpdateFailed].map(R::number), [0, 1, 2]);
}

#[test]
fn request_from_raw() {
    assert_eq!(Request::from_raw(0), Ok(Request::Reboot));
    assert_eq!(Request::from_raw(4), Ok(Request::Deregister));
    assert_eq!(Request::from_raw(5), Err(Errno::Inval));
}
