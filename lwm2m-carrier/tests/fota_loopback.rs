//! Firmware update end to end over real loopback sockets (issue 10,
//! scenario 5): the runtime with the LwM2M session on the desktop port
//! (`RealPort`: DFU target in files, CoAP Block2 and HTTP downloads)
//! against `lwm2m_server::spawn` as Bootstrap-Server, DM server and CoAP
//! file server, and a small HTTP file server in this file that records
//! the `Range` of every request (`carrier-api.md` §7, carriers.md §12.2,
//! OMA-TS-LightweightM2M_Core 1.1 §E.6 Firmware Update).
//!
//! A power cut or reboot is a new `RealPort` and `Runtime` over the same
//! directory (storage, DFU files). Every wait is bounded by a deadline on
//! the port's clock; nothing asserts on elapsed time.

#![allow(clippy::std_instead_of_core)]
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use carrier_os::dfu::{Dfu, ImageType, UpdateOutcome};
use carrier_os::modem::{LinkRequest, Modem, SecTag};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::wait::Wait;
use carrier_os_std::dfu::{test_app_image, test_unbootable_app_image};
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use carrier_os_std::testdir::TestDir;
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder};
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Errno, ErrorKind, Event, Runtime};
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_server::transport::{DtlsTransport, Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, Request, Response, ServerConfig, ServerHandle};

type Rt<'c> = Runtime<'c, Lwm2mSession<XorShiftRng>>;

/// One boot of the device: runtime, port, and the events it gave (Debug text).
struct Device<'c> {
    rt: Rt<'c>,
    port: RealPort,
    events: Vec<String>,
    /// The application saw REBOOT and would now restart.
    reboot: bool,
}

fn ev(e: &Event<'_>) -> String {
    format!("{e:?}")
}

impl<'c> Device<'c> {
    /// Boots over `dir` (a power-on) and runs until REGISTERED.
    fn boot(dir: &std::path::Path, bs_uri: &'c str) -> Self {
        let config = ConfigBuilder::new()
            .carriers(CarrierSet::GENERIC)
            .server_uri(bs_uri)
            .bootstrap_server(true)
            .build();
        let mut port = RealPort::open(dir, DeviceProfile::generic(1)).unwrap();
        let mut rt = Runtime::new(config, Lwm2mSession::new(XorShiftRng::new(0x5eed)));
        rt.on_modem_init(Ok(ModemInitResult::Success));
        port.request_link(LinkRequest::Up).unwrap();
        let mut d = Device { rt, port, events: Vec::new(), reboot: false };
        d.run_until(20, |d| d.saw(&Event::Registered));
        d
    }

    fn saw(&self, e: &Event<'_>) -> bool {
        self.events.contains(&ev(e))
    }

    /// One turn of the application's loop: poll, follow the link requests,
    /// re-initialise the modem when asked (what `carrier-sample` does).
    fn poll_once(&mut self) {
        let next = self.rt.poll(&mut self.port);
        let mut modem_init = false;
        while let Some(e) = self.rt.poll_event() {
            match e {
                Event::LteLinkDown => self.port.request_link(LinkRequest::Down).unwrap(),
                Event::LteLinkUp => self.port.request_link(LinkRequest::Up).unwrap(),
                Event::ModemInit => modem_init = true,
                Event::Reboot => self.reboot = true,
                _ => {}
            }
            self.events.push(ev(&e));
        }
        if modem_init {
            // The modem library restarts; it applies a scheduled delta and
            // reports the result of that as its init result.
            self.port.restart().unwrap();
            let result = match self.port.dfu_take_outcome() {
                Ok(Some(UpdateOutcome::Applied(ImageType::ModemDelta))) => ModemInitResult::Updated,
                Ok(Some(UpdateOutcome::Failed(ImageType::ModemDelta))) => {
                    ModemInitResult::UpdateFailed
                }
                _ => ModemInitResult::Success,
            };
            self.rt.on_modem_init(Ok(result));
        }
        // Never sleep past 20 ms: the servers answer on their own threads.
        let cap = self.port.now().checked_add(Duration::from_millis(20));
        let until = match (next, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.port.wait_until(until);
    }

    fn deadline(&self, s: u64) -> Instant {
        self.port.now().checked_add(Duration::from_secs(s)).unwrap()
    }

    /// Runs the device until `done` (bounded by `s` seconds).
    fn run_until(&mut self, s: u64, done: impl Fn(&mut Self) -> bool) {
        let end = self.deadline(s);
        while !done(self) {
            assert!(self.port.now() < end, "timed out; events so far: {:?}", self.events);
            self.poll_once();
        }
    }

    /// Runs the device on its own thread while `f` (the server's side)
    /// runs on this one; `f`'s result.
    fn run_while<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            let device = s.spawn(|| {
                let end = self.deadline(20);
                while !done.load(Ordering::Acquire) {
                    assert!(self.port.now() < end, "the device loop ran out of time");
                    self.poll_once();
                }
            });
            let r = f();
            done.store(true, Ordering::Release);
            device.join().unwrap();
            r
        })
    }

    fn firmware_state(&mut self) -> u8 {
        self.rt.api().objects().unwrap().firmware().state().as_u8()
    }
}

/// A server on loopback UDP that bootstraps every endpoint to itself and
/// serves `files` over CoAP Block2.
fn server(files: &[(&str, Vec<u8>)]) -> (ServerHandle, String) {
    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let uri = format!("coap://{}", transport.local_addr().unwrap());
    let config = ServerConfig {
        default_plan: Some(BootstrapPlan::single(&uri, 600)),
        files: files.iter().map(|(n, b)| ((*n).to_owned(), b.clone())).collect(),
        ..Default::default()
    };
    (lwm2m_server::spawn(transport, config).unwrap(), uri)
}

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn endpoint(server: &ServerHandle) -> String {
    server.registrations().last().unwrap().endpoint.clone()
}

fn path(o: u16, i: u16, r: u16) -> Path {
    Path::resource(o, i, r).unwrap()
}

/// The server reads `/5/0/<r>` as text while the device runs.
fn read_firmware(d: &mut Device<'_>, server: &ServerHandle, r: u16) -> String {
    let ep = endpoint(server);
    let read = Request::Read { path: path(5, 0, r), format: Some(ContentFormat::TextPlain) };
    let rsp = d.run_while(|| server.request(&ep, read, TIMEOUT)).unwrap();
    assert_eq!(rsp.code, Code::Content, "read /5/0/{r}");
    String::from_utf8(rsp.payload).unwrap()
}

fn server_request(d: &mut Device<'_>, server: &ServerHandle, request: Request) -> Response {
    let ep = endpoint(server);
    d.run_while(|| server.request(&ep, request, TIMEOUT)).unwrap()
}

fn write_package_uri(d: &mut Device<'_>, server: &ServerHandle, uri: &str) {
    let write = Request::Write {
        path: path(5, 0, 1),
        format: ContentFormat::TextPlain,
        payload: uri.as_bytes().to_vec(),
        replace: true,
    };
    assert_eq!(server_request(d, server, write).code, Code::Changed);
}

fn push(d: &mut Device<'_>, server: &ServerHandle, image: &[u8]) -> Response {
    let write = Request::WriteBlockwise {
        path: path(5, 0, 0),
        format: ContentFormat::OctetStream,
        payload: image.to_vec(),
        block_size: 512,
    };
    server_request(d, server, write)
}

fn execute_update(d: &mut Device<'_>, server: &ServerHandle) {
    let exec = Request::Execute { path: path(5, 0, 2), args: Vec::new() };
    assert_eq!(server_request(d, server, exec).code, Code::Changed);
}

/// A test modem delta: the delta magic at offset 4 and a pattern.
fn modem_delta(len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
    v[4..8].copy_from_slice(&0x7544_656d_u32.to_le_bytes());
    v
}

/// Executes Update of a downloaded application image, sees REBOOT, and
/// power-cycles the device into the new image: the next boot's events.
fn update_and_reboot<'c>(
    d: Device<'c>,
    server: &ServerHandle,
    dir: &std::path::Path,
    bs: &'c str,
) -> Device<'c> {
    let mut d = d;
    execute_update(&mut d, server);
    d.run_until(5, |d| d.reboot);
    let n = d.events.len();
    assert_eq!(d.events[n - 2..], [ev(&Event::LtePowerOff), ev(&Event::Reboot)]);
    assert_eq!(read_firmware(&mut d, server, 3), "3", "Updating until the reboot");
    drop(d);
    Device::boot(dir, bs)
}

#[test]
fn pull_over_coap_downloads_then_update_reboots_into_the_image_and_reports_success() {
    let image = test_app_image(6000);
    let (server, bs) = server(&[("fw/app.bin", image.clone())]);
    let dir = TestDir::new("fota-pull-coap-app");
    let mut d = Device::boot(dir.path(), &bs);
    // The server observes State (as Verizon's does) and sees it move.
    let observe = Request::Observe { path: path(5, 0, 3), format: Some(ContentFormat::TextPlain) };
    let first = server_request(&mut d, &server, observe);
    assert_eq!((first.code, first.payload.as_slice()), (Code::Content, &b"0"[..]), "Idle");
    let uri = server.file_uri("fw/app.bin");
    write_package_uri(&mut d, &server, &uri);
    d.run_until(10, |d| d.firmware_state() == 2);
    assert!(d.saw(&Event::FotaStart { uri: Some(&uri) }), "{:?}", d.events);
    assert_eq!(read_firmware(&mut d, &server, 3), "2", "Downloaded");
    let states: Vec<Vec<u8>> = d.run_while(|| {
        let mut states = Vec::new();
        while let Some(e) = server.next_event(std::time::Duration::from_millis(500)) {
            if let lwm2m_server::ServerEvent::Notification { response, .. } = e {
                states.push(response.payload);
            }
        }
        states
    });
    assert_eq!(states, [b"1".to_vec(), b"2".to_vec()], "notified Downloading, then Downloaded");
    let d = update_and_reboot(d, &server, dir.path(), &bs);
    // The new image runs: FOTA_SUCCESS before REGISTERED, Update Result 1, State Idle.
    assert_eq!(d.events, [ev(&Event::FotaSuccess), ev(&Event::Registered)]);
    let mut d = d;
    assert_eq!(read_firmware(&mut d, &server, 5), "1", "Update Result: success");
    assert_eq!(read_firmware(&mut d, &server, 3), "0", "Idle");
    let installed = std::fs::read(dir.path().join("dfu/active.bin")).unwrap();
    assert!(installed == image, "the installed application is the pulled image");
    server.stop();
}

#[test]
fn push_is_acknowledged_block_by_block_then_reboot_reports_success() {
    let image = test_app_image(3000);
    let (server, bs) = server(&[]);
    let dir = TestDir::new("fota-push-app");
    let mut d = Device::boot(dir.path(), &bs);
    assert_eq!(push(&mut d, &server, &image).code, Code::Changed, "last block: 2.04");
    assert!(d.saw(&Event::FotaStart { uri: None }), "{:?}", d.events);
    // Every block was in the DFU target before it was acknowledged: the
    // whole image is there when the last answer arrives.
    let stored = std::fs::read(dir.path().join("dfu/image.bin")).unwrap();
    assert!(stored == image, "the DFU target holds the pushed image");
    assert_eq!(read_firmware(&mut d, &server, 3), "2", "Downloaded");
    let mut d = update_and_reboot(d, &server, dir.path(), &bs);
    assert_eq!(d.events, [ev(&Event::FotaSuccess), ev(&Event::Registered)]);
    assert_eq!(read_firmware(&mut d, &server, 5), "1");
    server.stop();
}

#[test]
fn a_pushed_image_of_unknown_type_is_refused_at_its_first_block_with_enotsup() {
    let (server, bs) = server(&[]);
    let dir = TestDir::new("fota-push-unknown");
    let mut d = Device::boot(dir.path(), &bs);
    let junk: Vec<u8> = (0..2000).map(|i| (i % 200) as u8 + 1).collect();
    let rsp = push(&mut d, &server, &junk);
    assert_eq!(rsp.code, Code::InternalServerError, "the refused block is answered 5.00");
    let fail = Event::Error { kind: ErrorKind::FotaFail, value: Errno::NotSup };
    assert!(d.saw(&fail), "{:?}", d.events);
    assert_eq!(read_firmware(&mut d, &server, 5), "6", "Unsupported package type");
    assert_eq!(read_firmware(&mut d, &server, 3), "0", "Idle");
    server.stop();
}

#[test]
fn a_wrong_application_image_is_not_applied_and_gives_fota_fail_ebadf() {
    let (server, bs) = server(&[]);
    let dir = TestDir::new("fota-push-wrong");
    let mut d = Device::boot(dir.path(), &bs);
    assert_eq!(push(&mut d, &server, &test_unbootable_app_image(3000)).code, Code::Changed);
    let mut d = update_and_reboot(d, &server, dir.path(), &bs);
    let fail = Event::Error { kind: ErrorKind::FotaFail, value: Errno::BadF };
    assert_eq!(d.events, [ev(&fail), ev(&Event::Registered)]);
    assert_eq!(read_firmware(&mut d, &server, 5), "8", "Firmware update failed");
    assert!(!dir.path().join("dfu/active.bin").exists(), "the old application still runs");
    server.stop();
}

/// Delivers a modem delta (`pull` or push), executes Update and lets the
/// modem restart apply it: the FOTA events in order, then the server's view.
fn modem_delta_update(pull: bool, dir_name: &str) {
    let delta = modem_delta(5000);
    let (server, bs) = server(&[("fw/modem.bin", delta.clone())]);
    let dir = TestDir::new(dir_name);
    let mut d = Device::boot(dir.path(), &bs);
    let before = d.events.len();
    let uri = server.file_uri("fw/modem.bin");
    if pull {
        write_package_uri(&mut d, &server, &uri);
        d.run_until(10, |d| d.firmware_state() == 2);
    } else {
        assert_eq!(push(&mut d, &server, &delta).code, Code::Changed);
    }
    assert_eq!(read_firmware(&mut d, &server, 3), "2", "Downloaded");
    execute_update(&mut d, &server);
    d.run_until(5, |d| d.saw(&Event::FotaSuccess));
    d.run_until(5, |d| d.events.last() == Some(&ev(&Event::LteLinkUp)));
    let start = Event::FotaStart { uri: pull.then_some(uri.as_str()) };
    assert_eq!(
        d.events[before..],
        [
            ev(&start),
            ev(&Event::LtePowerOff),
            ev(&Event::ModemShutdown),
            ev(&Event::ModemInit),
            ev(&Event::FotaSuccess),
            ev(&Event::LteLinkUp),
        ]
    );
    // The modem restart closed the sockets: the device tells the server
    // its new address with an Update on a new one.
    let updated = d.run_while(|| {
        std::iter::from_fn(|| server.next_event(TIMEOUT))
            .any(|e| matches!(e, lwm2m_server::ServerEvent::Updated { .. }))
    });
    assert!(updated, "an Update after the modem restart");
    assert_eq!(read_firmware(&mut d, &server, 5), "1");
    // Reported once: the next start has nothing to say about it.
    drop(d);
    let d = Device::boot(dir.path(), &bs);
    assert_eq!(d.events, [ev(&Event::Registered)]);
    server.stop();
}

#[test]
fn modem_delta_pull_is_applied_by_the_modem_restart_and_reports_success() {
    modem_delta_update(true, "fota-pull-modem");
}

#[test]
fn modem_delta_push_is_applied_by_the_modem_restart_and_reports_success() {
    modem_delta_update(false, "fota-push-modem");
}

#[test]
fn pull_over_coaps_uses_the_download_security_tag() {
    const IDENTITY: &[u8] = b"fota-device";
    const KEY: &[u8] = b"firmware-secret!";
    let image = test_app_image(4000);
    let keys = |identity: &[u8]| (identity == IDENTITY).then(|| dtls_psk::Psk::new(KEY).unwrap());
    let transport = DtlsTransport::bind("127.0.0.1:0".parse().unwrap(), keys).unwrap();
    let files_uri = format!("coaps://{}/fw/app.bin", transport.local_addr().unwrap());
    let config = ServerConfig {
        files: [("fw/app.bin".to_owned(), image.clone())].into_iter().collect(),
        ..Default::default()
    };
    let files = lwm2m_server::spawn(transport, config).unwrap();
    let (server, bs) = server(&[]);
    let dir = TestDir::new("fota-pull-coaps");
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let keys_toml = format!(
        "[[tag]]\nsec_tag = 9\nidentity_hex = \"{}\"\npsk_hex = \"{}\"\n",
        hex(IDENTITY),
        hex(KEY)
    );
    std::fs::write(dir.path().join("keys.toml"), keys_toml).unwrap();
    let mut d = Device::boot(dir.path(), &bs);
    // Without the tag the secure download is refused: FOTA_FAIL -ECONNREFUSED.
    write_package_uri(&mut d, &server, &files_uri);
    let refused = Event::Error { kind: ErrorKind::FotaFail, value: Errno::ConnRefused };
    d.run_until(5, |d| d.saw(&refused));
    d.rt.set_download_sec_tag(Some(SecTag(9)));
    write_package_uri(&mut d, &server, &files_uri);
    d.run_until(20, |d| d.firmware_state() == 2);
    let stored = std::fs::read(dir.path().join("dfu/image.bin")).unwrap();
    assert!(stored == image, "the image came over DTLS, whole");
    files.stop();
    server.stop();
}

/// An HTTP/1.1 file server on loopback: every request's `Range` start is
/// recorded; the first request without a Range gets `stall_at` bytes of
/// the body and then nothing until `release` fires (a power cut happens
/// meanwhile).
struct HttpFile {
    uri: String,
    ranges: Arc<Mutex<Vec<Option<u64>>>>,
    release: mpsc::Sender<()>,
}

fn http_file(body: Vec<u8>, stall_at: usize) -> HttpFile {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}/fw/app.bin", listener.local_addr().unwrap());
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let (release, released) = mpsc::channel::<()>();
    let seen = ranges.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("range: bytes=") {
                    range = v.trim().trim_end_matches('-').parse::<u64>().ok();
                }
            }
            let first = seen.lock().unwrap().is_empty();
            seen.lock().unwrap().push(range);
            let start = range.unwrap_or(0) as usize;
            let len = body.len();
            let head = match range {
                Some(s) => format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {s}-{}/{len}\r\nConnection: close\r\n\r\n",
                    len - start,
                    len - 1
                ),
                None => {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
                }
            };
            let _ = stream.write_all(head.as_bytes());
            if first && range.is_none() {
                let _ = stream.write_all(&body[..stall_at]);
                let _ = stream.flush();
                let _ = released.recv_timeout(std::time::Duration::from_secs(30));
            } else {
                let _ = stream.write_all(&body[start..]);
            }
        }
    });
    HttpFile { uri, ranges, release }
}

#[test]
fn a_power_cut_mid_download_resumes_from_the_stored_offset_after_the_reboot() {
    const CUT_AT: usize = 3000;
    let image = test_app_image(10_000);
    let http = http_file(image.clone(), CUT_AT);
    let (server, bs) = server(&[]);
    let dir = TestDir::new("fota-pull-power-cut");
    let mut d = Device::boot(dir.path(), &bs);
    write_package_uri(&mut d, &server, &http.uri);
    d.run_until(10, |d| d.port.dfu_offset() == CUT_AT as u64);
    assert_eq!(d.firmware_state(), 1, "Downloading");
    // Power cut: the device is gone with the download half done.
    drop(d);
    http.release.send(()).unwrap();
    let mut d = Device::boot(dir.path(), &bs);
    d.run_until(10, |d| d.firmware_state() == 2);
    // The pull resumed after REGISTERED (FOTA_START again: the application
    // closes its TLS sockets) from the offset the DFU target kept.
    assert_eq!(
        d.events,
        [ev(&Event::Registered), ev(&Event::FotaStart { uri: Some(&http.uri) })],
        "events of the second boot"
    );
    assert_eq!(*http.ranges.lock().unwrap(), [None, Some(CUT_AT as u64)], "request ranges");
    let stored = std::fs::read(dir.path().join("dfu/image.bin")).unwrap();
    assert!(stored == image, "the resumed image is whole and in order");
    assert_eq!(read_firmware(&mut d, &server, 3), "2", "Downloaded");
    let mut d = update_and_reboot(d, &server, dir.path(), &bs);
    assert_eq!(d.events, [ev(&Event::FotaSuccess), ev(&Event::Registered)]);
    assert_eq!(read_firmware(&mut d, &server, 5), "1");
    server.stop();
}

/// A UDP relay in front of the CoAP file server that records the sender
/// and byte offset (Block2 NUM × size) of every GET it forwards.
struct CoapRelay {
    uri: String,
    offsets: Arc<Mutex<Vec<(SocketAddr, u64)>>>,
}

fn coap_relay(server: SocketAddr, file: &str) -> CoapRelay {
    use lwm2m_core::coap::block::BlockValue;
    use lwm2m_core::coap::message::Repr;
    use lwm2m_core::coap::numbers::OptionNumber;
    let front = UdpSocket::bind("127.0.0.1:0").unwrap();
    let back = UdpSocket::bind("127.0.0.1:0").unwrap();
    back.connect(server).unwrap();
    let uri = format!("coap://{}/{file}", front.local_addr().unwrap());
    let offsets = Arc::new(Mutex::new(Vec::new()));
    let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let (front2, back2, seen, client2) =
        (front.try_clone().unwrap(), back.try_clone().unwrap(), offsets.clone(), client.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = front2.recv_from(&mut buf) {
            *client2.lock().unwrap() = Some(from);
            if let Ok(req) = Repr::decode(&buf[..n])
                && req.code == Code::Get
            {
                let block = req.options.get_uint(OptionNumber::Block2).map(BlockValue::from_uint);
                let offset = match block {
                    Some(Ok(b)) => u64::from(b.num) * b.size() as u64,
                    _ => 0,
                };
                seen.lock().unwrap().push((from, offset));
            }
            let _ = back2.send(&buf[..n]);
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok(n) = back.recv(&mut buf) {
            if let Some(to) = *client.lock().unwrap() {
                let _ = front.send_to(&buf[..n], to);
            }
        }
    });
    CoapRelay { uri, offsets }
}

#[test]
fn a_power_cut_mid_coap_download_resumes_at_the_block_holding_the_kept_offset() {
    let image = test_app_image(30_000);
    let (server, bs) = server(&[("fw/app.bin", image.clone())]);
    let addr: SocketAddr = bs.trim_start_matches("coap://").parse().unwrap();
    let relay = coap_relay(addr, "fw/app.bin");
    let dir = TestDir::new("fota-pull-coap-power-cut");
    let mut d = Device::boot(dir.path(), &bs);
    write_package_uri(&mut d, &server, &relay.uri);
    d.run_until(10, |d| d.port.dfu_offset() >= 10_000);
    let kept = d.port.dfu_offset();
    drop(d);
    assert!(kept < image.len() as u64, "cut mid-download at {kept}");
    let mut d = Device::boot(dir.path(), &bs);
    d.run_until(10, |d| d.firmware_state() == 2);
    let gets = relay.offsets.lock().unwrap().clone();
    let first_run = gets[0].0;
    assert_eq!(gets[0].1, 0, "the first run starts at block 0");
    // The new run (a new socket) asks first for the block holding the kept
    // offset (RFC 7959 §2.4: Block2 NUM of the wanted block), not block 0.
    let (_, resumed) = *gets.iter().find(|(from, _)| *from != first_run).unwrap();
    assert!(
        resumed <= kept && kept - resumed < 1024 && resumed > 0,
        "resumed at {resumed} with {kept} kept: {gets:?}"
    );
    let stored = std::fs::read(dir.path().join("dfu/image.bin")).unwrap();
    assert!(stored == image, "the resumed image is whole and in order");
    server.stop();
}
