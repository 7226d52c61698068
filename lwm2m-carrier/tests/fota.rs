//! Pull FOTA through the runtime (carrier-api.md §7, carriers.md §12.2):
//! FOTA_START with the URI, download into the DFU target, resume after a
//! dropped connection, Update, the modem-delta and application event
//! sequences, and the FOTA_FAIL values.

mod fota_ops;
mod support;

use carrier_os::dfu::{ImageType, UpdateOutcome};
use fota_ops::server_op;
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::config::ConfigBuilder;
use lwm2m_carrier::{Errno, ErrorKind, Event, Runtime};
use lwm2m_core::value::Value;
use lwm2m_objects::objects::{ServerInstance, UpdateResult};
use support::*;

const URI: &str = "coap://fw.example/image.bin";

fn registered(firmware: &[u8]) -> (TestPort, Runtime<'static, ScriptedSession>, App) {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.firmware = firmware.to_vec();
    let mut app = App::default();
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Success));
    run(&mut rt, &mut port, &mut app, 10_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
    let store = rt.api().objects_mut().unwrap();
    store.server_mut().put(ServerInstance::new(0, 101)).unwrap();
    (port, rt, app)
}

fn image(magic: &[u8; 4], len: usize) -> Vec<u8> {
    let mut v = magic.to_vec();
    v.extend((0..len - 4).map(|i| (i % 251) as u8));
    v
}

fn result(rt: &mut Runtime<'_, ScriptedSession>) -> (u8, UpdateResult) {
    let fw = rt.api().objects().unwrap().firmware();
    (fw.state().as_u8(), fw.result())
}

#[test]
fn modem_delta_pull_fota_follows_the_3_3_event_order() {
    let firmware = image(b"MODM", 1000);
    let (mut port, mut rt, mut app) = registered(&firmware);
    let before = app.events.len();
    server_op(&mut rt, 1, Some(Value::String(URI)));
    run(&mut rt, &mut port, &mut app, 20_000);
    assert_eq!(port.dfu, firmware, "the whole image reached the DFU target");
    assert_eq!(result(&mut rt).0, 2, "Downloaded");
    server_op(&mut rt, 2, None);
    run(&mut rt, &mut port, &mut app, 30_000);
    assert!(port.dfu_scheduled);
    // The integration re-initialises the modem library, which applied the patch.
    rt.on_modem_init(Ok(ModemInitResult::Updated));
    run(&mut rt, &mut port, &mut app, 40_000);
    let uri_event = Event::FotaStart { uri: Some(URI) };
    assert_eq!(
        app.list()[before..],
        [
            uri_event,
            Event::LtePowerOff,
            Event::ModemShutdown,
            Event::ModemInit,
            Event::FotaSuccess,
            Event::LteLinkUp
        ]
    );
    assert_eq!(result(&mut rt), (0, UpdateResult::SUCCESS));
}

#[test]
fn a_dropped_download_resumes_at_the_dfu_offset() {
    let firmware = image(b"APPL", 1000);
    let (mut port, mut rt, mut app) = registered(&firmware);
    port.drop_download_at = Some(450);
    server_op(&mut rt, 1, Some(Value::String(URI)));
    run(&mut rt, &mut port, &mut app, 20_000);
    assert_eq!(port.download_starts, [0, 450]);
    assert_eq!(port.dfu, firmware);
    assert_eq!(result(&mut rt).0, 2, "Downloaded");
}

#[test]
fn an_application_image_reboots_and_reports_success_on_the_next_start() {
    let firmware = image(b"APPL", 300);
    let (mut port, mut rt, mut app) = registered(&firmware);
    let before = app.events.len();
    server_op(&mut rt, 1, Some(Value::String(URI)));
    run(&mut rt, &mut port, &mut app, 20_000);
    server_op(&mut rt, 2, None);
    run(&mut rt, &mut port, &mut app, 30_000);
    assert_eq!(app.list()[before + 1..], [Event::LtePowerOff, Event::Reboot]);
    drop(rt);
    // The bootloader applied the image; the new start reports it.
    port.dfu_outcome = Some(UpdateOutcome::Applied(ImageType::Application));
    let mut app = App::default();
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Success));
    run(&mut rt, &mut port, &mut app, 60_000);
    assert_eq!(app.list(), [Event::FotaSuccess, Event::Registered]);
    assert_eq!(result(&mut rt), (0, UpdateResult::SUCCESS));
}

#[test]
fn an_unknown_image_is_fota_fail_enotsup_and_unsupported_package() {
    let (mut port, mut rt, mut app) = registered(&image(b"JUNK", 300));
    server_op(&mut rt, 1, Some(Value::String(URI)));
    run(&mut rt, &mut port, &mut app, 20_000);
    assert_eq!(
        app.list().last(),
        Some(&Event::Error { kind: ErrorKind::FotaFail, value: Errno::NotSup })
    );
    assert_eq!(result(&mut rt), (0, UpdateResult::UNSUPPORTED_PACKAGE));
    assert!(port.dfu.is_empty());
}

#[test]
fn an_unreachable_package_uri_is_fota_fail_enetunreach() {
    let (mut port, mut rt, mut app) = registered(&image(b"MODM", 300));
    server_op(&mut rt, 1, Some(Value::String("coap://nowhere/x")));
    run(&mut rt, &mut port, &mut app, 20_000);
    assert_eq!(
        app.list().last(),
        Some(&Event::Error { kind: ErrorKind::FotaFail, value: Errno::NetUnreach })
    );
    assert_eq!(result(&mut rt), (0, UpdateResult::CONNECTION_LOST));
}

#[test]
fn a_modem_image_that_fails_to_apply_is_fota_fail_ebadf() {
    let (mut port, mut rt, mut app) = registered(&image(b"MODM", 300));
    server_op(&mut rt, 1, Some(Value::String(URI)));
    run(&mut rt, &mut port, &mut app, 20_000);
    server_op(&mut rt, 2, None);
    run(&mut rt, &mut port, &mut app, 30_000);
    rt.on_modem_init(Ok(ModemInitResult::UpdateFailed));
    run(&mut rt, &mut port, &mut app, 40_000);
    let n = app.events.len();
    assert_eq!(
        app.list()[n - 2..],
        [Event::Error { kind: ErrorKind::FotaFail, value: Errno::BadF }, Event::LteLinkUp]
    );
    assert_eq!(result(&mut rt), (0, UpdateResult::UPDATE_FAILED));
}

#[test]
fn a_pushed_package_gives_fota_start_without_uri_and_reaches_the_dfu() {
    let firmware = image(b"MODM", 700);
    let (mut port, mut rt, mut app) = registered(&[]);
    let before = app.events.len();
    // The first block arrives as a Write of /5/0/0.
    let (first, rest) = firmware.split_at(256);
    server_op(&mut rt, 0, Some(Value::Opaque(first)));
    run(&mut rt, &mut port, &mut app, 11_000);
    assert_eq!(app.list()[before..], [Event::FotaStart { uri: None }]);
    rt.firmware_block(&mut port, first, false).unwrap();
    let (second, third) = rest.split_at(256);
    rt.firmware_block(&mut port, second, false).unwrap();
    rt.firmware_block(&mut port, third, true).unwrap();
    assert_eq!(port.dfu, firmware);
    assert_eq!(result(&mut rt).0, 2, "Downloaded");
}

#[test]
fn a_pushed_unknown_image_is_refused_with_enotsup() {
    let (mut port, mut rt, mut app) = registered(&[]);
    let junk = image(b"JUNK", 100);
    server_op(&mut rt, 0, Some(Value::Opaque(&junk)));
    run(&mut rt, &mut port, &mut app, 11_000);
    assert_eq!(rt.firmware_block(&mut port, &junk, true), Err(Errno::NotSup));
    assert_eq!(
        rt.poll_event(),
        Some(Event::Error { kind: ErrorKind::FotaFail, value: Errno::NotSup })
    );
    assert_eq!(result(&mut rt), (0, UpdateResult::UNSUPPORTED_PACKAGE));
}

#[test]
fn a_push_download_slower_than_the_timeout_is_fota_fail_etimedout() {
    let mut port = TestPort::new(GENERIC_IMSI);
    let mut app = App::default();
    let config =
        ConfigBuilder::from_config(generic_config()).firmware_download_timeout_min(2).build();
    let mut rt = Runtime::new(config, ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Success));
    run(&mut rt, &mut port, &mut app, 10_000);
    rt.api().objects_mut().unwrap().server_mut().put(ServerInstance::new(0, 101)).unwrap();
    let first = image(b"APPL", 256);
    server_op(&mut rt, 0, Some(Value::Opaque(&first)));
    run(&mut rt, &mut port, &mut app, 10_000 + 119_000);
    assert_eq!(app.list().last(), Some(&Event::FotaStart { uri: None }), "not before 2 min");
    run(&mut rt, &mut port, &mut app, 10_000 + 121_000);
    assert_eq!(
        app.list().last(),
        Some(&Event::Error { kind: ErrorKind::FotaFail, value: Errno::TimedOut })
    );
    assert_eq!(rt.firmware_block(&mut port, &first, false), Err(Errno::BadR));
}

/// A new start over the same port (storage and DFU target survive).
fn power_on(
    port: &mut TestPort,
    app: &mut App,
    until_ms: u64,
) -> Runtime<'static, ScriptedSession> {
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Success));
    run(&mut rt, port, app, until_ms);
    rt
}

#[test]
fn a_pull_cut_by_a_power_cut_resumes_from_the_dfu_offset_once_registered() {
    let firmware = image(b"APPL", 10_000);
    let (mut port, mut rt, _) = registered(&firmware);
    server_op(&mut rt, 1, Some(Value::String(URI)));
    // A poll starts the download, the next moves part of the image (at
    // most 64 fragments of 100 bytes).
    rt.poll(&mut port);
    rt.poll(&mut port);
    let kept = port.dfu.len();
    assert!(kept > 0 && kept < firmware.len(), "cut mid-download at {kept}");
    drop(rt);
    port.link = Some(false);
    let mut app = App::default();
    let mut rt = power_on(&mut port, &mut app, 60_000);
    assert_eq!(port.download_starts, [0, kept as u64], "resumed at the kept offset");
    assert_eq!(port.dfu, firmware);
    assert_eq!(result(&mut rt).0, 2, "Downloaded");
    // FOTA_START again after REGISTERED: the application closes its TLS sockets.
    assert_eq!(app.list(), [Event::Registered, Event::FotaStart { uri: Some(URI) }]);
}

#[test]
fn a_push_cut_by_a_power_cut_is_fota_fail_enetdown_at_the_next_start() {
    let (mut port, mut rt, mut app) = registered(&[]);
    let first = image(b"APPL", 256);
    server_op(&mut rt, 0, Some(Value::Opaque(&first)));
    run(&mut rt, &mut port, &mut app, 11_000);
    rt.firmware_block(&mut port, &first, false).unwrap();
    drop(rt);
    port.link = Some(false);
    let mut app = App::default();
    let mut rt = power_on(&mut port, &mut app, 60_000);
    assert_eq!(
        app.list(),
        [Event::Error { kind: ErrorKind::FotaFail, value: Errno::NetDown }, Event::Registered]
    );
    assert_eq!(result(&mut rt), (0, UpdateResult::CONNECTION_LOST));
    assert!(port.dfu.is_empty(), "the partial image is discarded");
}

/// Downloads and executes an application image, then powers on again with
/// the DFU reporting `outcome` and the validation hook `validate`.
fn reboot_into_application(
    outcome: Option<UpdateOutcome>,
    validate: Option<lwm2m_carrier::runtime::ImageValidator>,
) -> (Vec<Event<'static>>, (u8, UpdateResult)) {
    let (mut port, mut rt, mut app) = registered(&image(b"APPL", 300));
    server_op(&mut rt, 1, Some(Value::String(URI)));
    run(&mut rt, &mut port, &mut app, 20_000);
    server_op(&mut rt, 2, None);
    run(&mut rt, &mut port, &mut app, 30_000);
    assert_eq!(result(&mut rt).0, 3, "Updating until the reboot");
    drop(rt);
    port.dfu_outcome = outcome;
    port.link = Some(false);
    let mut app = App::default();
    let mut rt = Runtime::new(generic_config(), ScriptedSession::default());
    if let Some(v) = validate {
        rt.set_image_validator(v);
    }
    rt.on_modem_init(Ok(ModemInitResult::Success));
    run(&mut rt, &mut port, &mut app, 60_000);
    (app.list(), result(&mut rt))
}

#[test]
fn the_validation_hook_refusing_the_new_image_is_fota_fail_ebadf() {
    let applied = Some(UpdateOutcome::Applied(ImageType::Application));
    let (events, result) = reboot_into_application(applied, Some(|_| false));
    let fail = Event::Error { kind: ErrorKind::FotaFail, value: Errno::BadF };
    assert_eq!(events, [fail, Event::Registered]);
    assert_eq!(result, (0, UpdateResult::UPDATE_FAILED));
    let (events, result) = reboot_into_application(applied, Some(|t| t == ImageType::Application));
    assert_eq!(events, [Event::FotaSuccess, Event::Registered], "a hook that accepts");
    assert_eq!(result, (0, UpdateResult::SUCCESS));
}

#[test]
fn an_application_image_that_did_not_come_up_is_fota_fail_ebadf() {
    let fail = Event::Error { kind: ErrorKind::FotaFail, value: Errno::BadF };
    let (events, result) = reboot_into_application(None, None);
    assert_eq!(events, [fail, Event::Registered], "nothing applied after the reboot");
    assert_eq!(result, (0, UpdateResult::UPDATE_FAILED));
    let failed = Some(UpdateOutcome::Failed(ImageType::Application));
    let (events, result) = reboot_into_application(failed, None);
    assert_eq!(events, [fail, Event::Registered], "the bootloader refused it");
    assert_eq!(result, (0, UpdateResult::UPDATE_FAILED));
}

#[test]
fn an_update_outcome_without_an_update_in_progress_is_not_reported() {
    let mut port = TestPort::new(GENERIC_IMSI);
    port.dfu_outcome = Some(UpdateOutcome::Applied(ImageType::ModemDelta));
    let mut app = App::default();
    let mut rt = power_on(&mut port, &mut app, 10_000);
    assert_eq!(app.list().last(), Some(&Event::Registered));
    assert!(!app.list().contains(&Event::FotaSuccess), "{:?}", app.list());
    assert_eq!(result(&mut rt), (0, UpdateResult::INITIAL));
    assert_eq!(port.dfu_outcome, None, "taken, so that it never surfaces later");
}

#[test]
fn softbank_push_download_times_out_after_its_default_30_minutes() {
    // carriers.md: firmware download timeout (push) 30 min by default on SoftBank.
    let config = ConfigBuilder::new()
        .carriers(lwm2m_carrier::config::CarrierSet::SOFTBANK)
        .server_uri("coaps://sb-dm.example:5684")
        .bootstrap_server(false)
        .server_sec_tag(7)
        .build();
    let mut port = TestPort::new("440200000000001");
    let mut app = App::default();
    let mut rt = Runtime::new(config, ScriptedSession::default());
    rt.on_modem_init(Ok(ModemInitResult::Success));
    run(&mut rt, &mut port, &mut app, 10_000);
    let now = carrier_os::time::Instant::from_millis(10_000);
    rt.request(now, lwm2m_carrier::api::Request::Register).unwrap();
    run(&mut rt, &mut port, &mut app, 20_000);
    assert_eq!(app.list(), [Event::Registered]);
    rt.api().objects_mut().unwrap().server_mut().put(ServerInstance::new(0, 101)).unwrap();
    let first = image(b"APPL", 256);
    server_op(&mut rt, 0, Some(Value::Opaque(&first)));
    run(&mut rt, &mut port, &mut app, 20_000 + 30 * 60_000 - 1_000);
    assert_eq!(app.list().last(), Some(&Event::FotaStart { uri: None }), "not before 30 min");
    run(&mut rt, &mut port, &mut app, 20_000 + 30 * 60_000 + 1_000);
    assert_eq!(
        app.list().last(),
        Some(&Event::Error { kind: ErrorKind::FotaFail, value: Errno::TimedOut })
    );
}

#[test]
fn a_downloaded_image_survives_a_power_cut_and_the_update_runs_after_it() {
    let firmware = image(b"APPL", 500);
    let (mut port, mut rt, mut app) = registered(&firmware);
    server_op(&mut rt, 1, Some(Value::String(URI)));
    run(&mut rt, &mut port, &mut app, 20_000);
    assert_eq!(result(&mut rt).0, 2, "Downloaded");
    drop(rt);
    port.link = Some(false);
    let mut app = App::default();
    let mut rt = power_on(&mut port, &mut app, 60_000);
    assert_eq!(result(&mut rt).0, 2, "still Downloaded after the power cut");
    assert_eq!(port.download_starts, [0], "nothing downloaded again");
    server_op(&mut rt, 2, None);
    run(&mut rt, &mut port, &mut app, 70_000);
    assert!(port.dfu_scheduled);
    assert_eq!(app.list()[1..], [Event::LtePowerOff, Event::Reboot]);
}
