//! The `lwm2m-server` program driven from its command line: a device
//! bootstraps and registers with it over loopback UDP, the `--exec`
//! commands read `/3/0` in TLV, execute `/3/0/4` and observe `/3/0/9` with
//! `/3/0/10` as one Observe-Composite, and the program's
//! readable output says so. Bounded by the program's own `--deadline`.
#![allow(clippy::std_instead_of_core)]

mod common;

use common::{DeviceCmd, EP, run_device};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn program_prints_registration_and_runs_exec_commands() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lwm2m-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--lifetime",
            "60",
            "--deadline",
            "30",
            "--timeout",
            "10",
        ])
        .args(["--exec", &format!("read {EP} /3/0 tlv")])
        .args(["--exec", &format!("execute {EP} /3/0/4")])
        .args(["--exec", &format!("observe-composite {EP} /3/0/9 /3/0/10 senml-json")])
        .arg("--exit-after-exec")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run lwm2m-server");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .strip_prefix("listening on coap://")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("first line names the address: {first:?}"));
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (ev_tx, _ev_rx) = mpsc::channel();
    let deadline = Instant::now() + Duration::from_secs(40);
    let device = std::thread::spawn(move || run_device(addr, cmd_rx, ev_tx, deadline));
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    cmd_tx.send(DeviceCmd::Stop).unwrap();
    let store = device.join().unwrap();
    assert!(status.success(), "exit {status}; output:\n{rest}");
    assert!(rest.contains(&format!("bootstrap-finish ep={EP} -> 2.04")), "{rest}");
    assert!(rest.contains(&format!("registered ep={EP} at /rd/1 lt=60 b=U lwm2m=1.1")), "{rest}");
    assert!(rest.contains(&format!("< read {EP} /3/0 tlv: 2.05")), "{rest}");
    // TLV carries no types, so the program shows the raw bytes: 80 = 0x50.
    assert!(rest.contains("    /3/0/9 = 0x50"), "{rest}");
    assert!(rest.contains(&format!("< execute {EP} /3/0/4: 2.04")), "{rest}");
    let composite = format!(
        "< observe-composite {EP} /3/0/9 /3/0/10 senml-json: 2.05 [application/senml+json]"
    );
    assert!(rest.contains(&composite), "{rest}");
    assert!(rest.contains("    /3/0/9 = 80\n    /3/0/10 = 15"), "{rest}");
    assert_eq!(store.executed.len(), 1);
}
