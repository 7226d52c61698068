//! Interoperability with an independent CoAP implementation: the runtime with
//! the LwM2M session on the desktop port (real sockets) registers with a
//! device-management server written on Python's aiocoap
//! (`tests/interop/aiocoap_dm_server.py`), which shares none of our code. The
//! script checks the Register (TS 1.1 §6.2.1), a Read of `/3/0` in SenML JSON
//! (RFC 8428, parsed by Python's `json`), a text Read, Discover, a Write read
//! back, Write-Attributes + Observe with pmax-driven notifications (RFC 7641),
//! and that `/0` stays hidden from a DM server; then the device de-registers.
//!
//! Needs `python3` with `aiocoap` (PyPI). When it is missing the test FAILS
//! naming what to install (`cargo xtask test` installs it as root).

#![allow(clippy::std_instead_of_core)]
use carrier_os::modem::{LinkRequest, Modem};
use carrier_os::time::{Clock, Duration};
use carrier_os::wait::Wait;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use carrier_os_std::testdir::TestDir;
use lwm2m_carrier::api::{ModemInitResult, Request};
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder};
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Event, Runtime};
use lwm2m_core::rng::XorShiftRng;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// The battery level the script expects to read (its `BATTERY`).
const BATTERY: u8 = 57;

fn require_aiocoap() {
    let ok = Command::new("python3")
        .args(["-c", "import aiocoap"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this interop test needs python3 with aiocoap: `python3 -m pip install aiocoap` \
         (PyPI), or run `cargo xtask test` as root, which installs it"
    );
}

/// A UDP port free on 127.0.0.1 right now (the script binds it next).
fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn registers_with_an_aiocoap_dm_server_and_passes_its_checks() {
    require_aiocoap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/aiocoap_dm_server.py");
    let port_no = free_port();
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port_no.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The script's stderr (a traceback, or aiocoap's log with AIOCOAP_DEBUG=1).
    let stderr_pipe = child.stderr.take().unwrap();
    let stderr_text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr_reader = {
        let text = stderr_text.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut t = text.lock().unwrap();
                t.push_str(&line);
                t.push('\n');
            }
        })
    };
    let stderr = || stderr_text.lock().unwrap().clone();
    // Wait for the script to listen before the device starts.
    let first = rx.recv_timeout(std::time::Duration::from_secs(20));
    assert!(
        first.as_deref().is_ok_and(|l| l.starts_with("LISTENING")),
        "aiocoap server did not start: {first:?}"
    );

    let dir = TestDir::new("interop-aiocoap");
    let uri = format!("coap://127.0.0.1:{port_no}");
    // A DM server, not a Bootstrap-Server (the Kconfig default with a URI is "bootstrap").
    let config = ConfigBuilder::new()
        .carriers(CarrierSet::GENERIC)
        .server_uri(&uri)
        .bootstrap_server(false)
        .build();
    let mut port = RealPort::open(dir.path(), DeviceProfile::generic(1)).unwrap();
    let mut rt = Runtime::new(config, Lwm2mSession::new(XorShiftRng::new(0xa10c)));
    rt.on_modem_init(Ok(ModemInitResult::Success));
    port.request_link(LinkRequest::Up).unwrap();

    let mut lines = Vec::new();
    let mut events = Vec::new();
    let mut deregister_asked = false;
    let mut battery_set = false;
    let end = port.now().checked_add(Duration::from_secs(60)).unwrap();
    loop {
        assert!(port.now() < end, "no result in 60 s; script said {lines:#?}; events {events:?}");
        let next = rt.poll(&mut port);
        // The objects exist once the runtime has started (the API answers
        // -ENOENT before); the battery level needs the internal battery (1)
        // among the power sources.
        if !battery_set && rt.api().set_power_sources(&[0, 1]).is_ok() {
            rt.api().set_battery_level(BATTERY).unwrap();
            battery_set = true;
        }
        while let Some(e) = rt.poll_event() {
            match e {
                Event::LteLinkDown => port.request_link(LinkRequest::Down).unwrap(),
                Event::LteLinkUp => port.request_link(LinkRequest::Up).unwrap(),
                _ => {}
            }
            events.push(format!("{e:?}"));
        }
        while let Ok(line) = rx.try_recv() {
            lines.push(line);
        }
        if !deregister_asked && lines.iter().any(|l| l.starts_with("RESULT")) {
            // The script has made its checks: leave as a device does.
            let asked = rt.request(port.now(), Request::Deregister);
            assert_eq!(
                asked,
                Ok(()),
                "De-register refused; script {lines:#?}; events {events:?}\n{}",
                stderr()
            );
            deregister_asked = true;
        }
        if lines.iter().any(|l| l == "DEREGISTERED" || l == "NO-DEREGISTER") {
            break;
        }
        let cap = port.now().checked_add(Duration::from_millis(20));
        port.wait_until(match (next, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        });
    }
    let status = child.wait().unwrap();
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    stderr_reader.join().unwrap();
    let stderr = stderr();

    let failed: Vec<&String> = lines.iter().filter(|l| l.starts_with("FAIL")).collect();
    assert!(failed.is_empty(), "aiocoap's checks failed: {failed:#?}\nall: {lines:#?}\n{stderr}");
    for name in [
        "register-query",
        "register-links",
        "read-senml-json-code",
        "senml-battery",
        "senml-device-type",
        "read-text",
        "discover",
        "write-read-back",
        "write-attributes",
        "observe-notifications",
        "security-hidden",
    ] {
        assert!(
            lines.iter().any(|l| *l == format!("CHECK {name} ok")),
            "check {name} did not run: {lines:#?}\n{stderr}"
        );
    }
    assert!(lines.iter().any(|l| l == "RESULT ok"), "{lines:#?}");
    assert!(lines.iter().any(|l| l == "DEREGISTERED"), "De-register reached aiocoap: {lines:#?}");
    assert!(events.iter().any(|e| e == "Registered"), "{events:?}");
    assert!(events.iter().any(|e| e == "Deregistered"), "{events:?}");
    assert!(status.success(), "script exit {status}\n{stderr}");
}
