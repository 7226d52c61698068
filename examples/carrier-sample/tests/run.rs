//! The sample as a user runs it: `carrier-sample` with no arguments tells a
//! device's whole life against the embedded servers and exits 0, and a
//! second run over the same state registers without bootstrap; bad
//! arguments are refused with a one-line error and the usage; a closed
//! stdout ends it quietly; `--forever` de-registers on Ctrl-C; and the
//! device registers with a separately started `lwm2m-server` program, with
//! and without bootstrap, over CoAP and DTLS.

#![allow(clippy::std_instead_of_core)]
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SAMPLE: &str = env!("CARGO_BIN_EXE_carrier-sample");

/// A fresh state directory for one test (removed on drop).
struct StateDir(PathBuf);

impl StateDir {
    fn new(name: &str) -> StateDir {
        let d = std::env::temp_dir().join(format!("carrier-sample-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        StateDir(d)
    }
    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(SAMPLE)
        .args(args)
        .env_remove("CARRIER_SAMPLE_PSK")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Index of the first line containing `needle` at or after `from`.
fn line_of(text: &str, needle: &str, from: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no line with {needle:?} after line {from}:\n{text}"))
}

#[test]
fn default_run_shows_a_whole_life_and_the_second_run_skips_bootstrap() {
    let state = StateDir::new("life");
    let started = Instant::now();
    let (code, text, err) = run(&["--state-dir", state.arg()]);
    assert_eq!(code, Some(0), "exit status:\n{text}\n{err}");
    // No colour codes into a pipe.
    assert!(!text.contains('\x1b'), "escape codes in piped output:\n{text}");
    // The device's events in the spec's order, then the server's operations.
    // Both servers behind DTLS-PSK: the bootstrap writes the coaps:// DM account and its key.
    let mut at = line_of(&text, "device management on coaps://", 0);
    at = line_of(&text, "bootstrap on coaps://", at);
    at = line_of(&text, "LTE_LINK_DOWN", at);
    at = line_of(&text, "bootstrap-finish", at);
    at = line_of(&text, "BOOTSTRAPPED", at);
    at = line_of(&text, "LTE_LINK_UP", at);
    at = line_of(&text, "REGISTERED", at);
    at = line_of(&text, "READ /3/0 -> 2.05", at);
    at = line_of(&text, "/3/0/17 = \"Module\"", at);
    at = line_of(&text, "OBSERVE /3/0/9 -> 2.05", at);
    for level in [80, 65, 50] {
        at = line_of(&text, &format!("NOTIFY /3/0/9 battery {level} %"), at);
    }
    let pushing = line_of(&text, "WRITE /5/0/0: pushing a 8192 B application image", at);
    let push = line_of(&text, "push 100 %  8192/8192 B  16/16 blocks", pushing);
    at = line_of(&text, "WRITE /5/0/0 -> 2.04 (16 blocks)", push);
    at = line_of(&text, "READ /5/0/3 (State) -> 2.05 [text/plain; charset=utf-8] 1 B: 2", at);
    at = line_of(&text, "EXECUTE /5/0/2 (Update) -> 2.04", at);
    // FOTA_START when the push begins (or, with an older library, at Execute).
    line_of(&text, "FOTA_START", pushing);
    at = line_of(&text, "REBOOT", at);
    at = line_of(&text, "FOTA_SUCCESS", at);
    at = line_of(&text, "REGISTERED", at);
    at = line_of(
        &text,
        "READ /5/0/5 (Update Result) -> 2.05 [text/plain; charset=utf-8] 1 B: 1",
        at,
    );
    at = line_of(&text, "DEREGISTERED", at);
    line_of(&text, "deregistered ep=urn:imei:350000000000001", at);
    // After the reboot the device registered from its storage: one bootstrap in all.
    assert_eq!(text.matches("BOOTSTRAPPED").count(), 1, "{text}");

    // The second run over the same state: registered without bootstrap.
    let (code, text, err) = run(&["--state-dir", state.arg()]);
    assert_eq!(code, Some(0), "second run:\n{text}\n{err}");
    assert!(!text.contains("BOOTSTRAPPED") && !text.contains("bootstrap-request"), "{text}");
    let at = line_of(&text, "REGISTERED", 0);
    line_of(&text, "DEREGISTERED", at);
    assert!(started.elapsed() < Duration::from_secs(60), "two runs took {:?}", started.elapsed());
}

/// `--carrier verizon`: a Verizon SIM (IMSI 311-480); the library detects
/// the operator and names the endpoint as Verizon wants it
/// (`urn:imei-msisdn:`, carriers.md §4), and, as Verizon's library does not
/// de-register on request (EPERM), the run ends with the device registered.
#[test]
fn a_verizon_sim_registers_as_imei_msisdn() {
    let state = StateDir::new("verizon");
    let (code, text, err) = run(&["--carrier", "verizon", "--state-dir", state.arg()]);
    assert_eq!(code, Some(0), "{text}\n{err}");
    let at = line_of(&text, "SIM of Verizon (IMSI 311480", 0);
    let at = line_of(&text, "BOOTSTRAPPED", at);
    let at = line_of(&text, "registered ep=urn:imei-msisdn:350000000000001-", at);
    let at = line_of(&text, "FOTA_SUCCESS", at);
    line_of(&text, "refuses to de-register for this operator", at);
}

/// The refusal of a bad argument: `error:` first, then the usage, exit 2.
fn assert_refused(args: &[&str], what: &str) {
    let (code, text, err) = run(args);
    assert_eq!(code, Some(2), "{args:?}: {text}{err}");
    assert!(text.is_empty(), "{args:?} started anyway:\n{text}");
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("error:") && first.contains(what), "{args:?}:\n{err}");
    assert!(err.contains("Usage: carrier-sample"), "{args:?}: no usage:\n{err}");
}

#[test]
fn a_malformed_server_uri_is_refused_with_the_usage() {
    assert_refused(&["--server", "http://127.0.0.1:5683"], "coap://");
    assert_refused(&["--server", "coap://127.0.0.1:99999"], "port");
    assert_refused(&["--server", "coap://"], "host");
}

#[test]
fn an_odd_length_psk_is_refused_with_the_usage() {
    assert_refused(
        &["--server", "coaps://127.0.0.1:5684", "--psk", "abc"],
        "odd number of hex digits",
    );
}

#[test]
fn an_unknown_carrier_is_refused_with_the_usage() {
    assert_refused(&["--carrier", "vodafone"], "vodafone");
}

#[test]
fn a_coaps_server_without_a_psk_is_refused_with_the_usage() {
    assert_refused(&["--server", "coaps://127.0.0.1:5684"], "--psk");
}

#[test]
fn a_closed_stdout_ends_the_sample_quietly() {
    let state = StateDir::new("pipe");
    let mut child = Command::new(SAMPLE)
        .args(["--state-dir", state.arg()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `carrier-sample | head -1` does.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("server"), "{first}");
    drop(stdout);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "status {status:?}, stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Lines of a child's stdout as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; all lines seen so far go to `log`.
fn expect(rx: &mpsc::Receiver<String>, needle: &str, log: &mut String, within: Duration) -> String {
    let end = Instant::now() + within;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                log.push_str(&line);
                log.push('\n');
                if line.contains(needle) {
                    return line;
                }
            }
            Err(_) => panic!("no line with {needle:?} within {within:?}:\n{log}"),
        }
    }
}

#[test]
fn forever_stays_registered_until_ctrl_c_then_deregisters() {
    let state = StateDir::new("forever");
    let mut child = Command::new(SAMPLE)
        .args(["--state-dir", state.arg(), "--forever"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    let mut log = String::new();
    expect(&rx, "press Ctrl-C", &mut log, Duration::from_secs(30));
    // Still registered a while later (nothing de-registers by itself).
    assert!(
        rx.recv_timeout(Duration::from_millis(500))
            .is_err_and(|e| e == mpsc::RecvTimeoutError::Timeout),
        "{log}"
    );
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    expect(&rx, "DEREGISTERED", &mut log, Duration::from_secs(10));
    expect(&rx, "deregistered ep=", &mut log, Duration::from_secs(5));
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{status:?}\n{log}\n{err}");
}

/// The `lwm2m-server` program of this workspace: next to this package's
/// binary when the workspace was built, else built once for these tests.
fn server_program() -> PathBuf {
    let sample = PathBuf::from(SAMPLE);
    let dir = sample.parent().unwrap();
    let beside = dir.join(format!("lwm2m-server{}", std::env::consts::EXE_SUFFIX));
    if beside.exists() {
        return beside;
    }
    // A separate target directory: the one of this test run is locked by cargo.
    let target = dir.parent().unwrap().join("carrier-sample-tests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-q", "-p", "lwm2m-server", "--bin", "lwm2m-server"])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cannot run cargo to build lwm2m-server");
    assert!(status.success(), "cargo build -p lwm2m-server failed");
    target.join("debug").join(format!("lwm2m-server{}", std::env::consts::EXE_SUFFIX))
}

/// A running `lwm2m-server` on a free loopback port.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: String,
    uri: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(server_program())
            .args(["--listen", "127.0.0.1:0", "--timeout", "5"])
            .args(extra)
            .stdin(Stdio::piped()) // it quits when stdin closes
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = lines_of(&mut child);
        let mut log = String::new();
        let first = expect(&lines, "listening on ", &mut log, Duration::from_secs(10));
        let uri = first
            .split_whitespace()
            .nth(2)
            .unwrap_or_else(|| panic!("no URI in {first:?}"))
            .to_string();
        Server { child, lines, log, uri }
    }

    fn expect(&mut self, needle: &str) -> String {
        expect(&self.lines, needle, &mut self.log, Duration::from_secs(10))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = stdin.write_all(b"quit\n");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn registers_with_a_separately_started_lwm2m_server() {
    let mut server = Server::start(&[]);
    let state = StateDir::new("external");
    let (code, text, err) =
        run(&["--server", &server.uri, "--state-dir", state.arg(), "--lifetime", "120"]);
    assert_eq!(code, Some(0), "{text}\n{err}");
    let at = line_of(&text, "REGISTERED", 0);
    line_of(&text, "DEREGISTERED", at);
    assert!(!text.contains("BOOTSTRAPPED"), "{text}");
    let reg = server.expect("registered ep=urn:imei:350000000000001");
    assert!(reg.contains("lt=120"), "{reg}");
    server.expect("deregistered ep=urn:imei:350000000000001");
}

#[test]
fn bootstraps_from_a_separately_started_lwm2m_server() {
    let mut server = Server::start(&[]);
    let state = StateDir::new("external-bs");
    let (code, text, err) =
        run(&["--server", &server.uri, "--bootstrap", "--state-dir", state.arg()]);
    assert_eq!(code, Some(0), "{text}\n{err}");
    let at = line_of(&text, "BOOTSTRAPPED", 0);
    let at = line_of(&text, "REGISTERED", at);
    line_of(&text, "DEREGISTERED", at);
    server.expect("bootstrap-request ep=urn:imei:350000000000001");
    server.expect("bootstrap-finish ep=urn:imei:350000000000001 -> 2.04");
    server.expect("registered ep=urn:imei:350000000000001");
    server.expect("deregistered ep=urn:imei:350000000000001");
}

#[test]
fn registers_over_dtls_with_a_separately_started_lwm2m_server() {
    let identity = "sample-test-device";
    let key = "000102030405060708090a0b0c0d0e0f";
    let mut server = Server::start(&["--psk", &format!("{identity}={key}")]);
    assert!(server.uri.starts_with("coaps://"), "{}", server.uri);
    let state = StateDir::new("external-dtls");
    let out = Command::new(SAMPLE)
        .args(["--server", &server.uri, "--psk-identity", identity, "--state-dir", state.arg()])
        .env("CARRIER_SAMPLE_PSK", key) // the key from the environment, not the command line
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    line_of(&text, "REGISTERED", 0);
    server.expect("registered ep=urn:imei:350000000000001");
    server.expect("deregistered ep=urn:imei:350000000000001");
}

/// `--simulate`: the same seed gives the same table (but for the wall time),
/// another seed another trace; every device registers at 10 % loss.
#[test]
fn simulate_is_deterministic_per_seed_and_prints_a_summary_table() {
    let sim = |seed: &str| {
        let args = ["--simulate", "--days", "1", "--devices", "3", "--loss", "10", "--seed", seed];
        let (code, text, err) = run(&args);
        assert_eq!(code, Some(0), "{text}\n{err}");
        line_of(&text, "simulating 3 device(s) for 1 day(s) at 10 % loss", 0);
        line_of(&text, "ever registered      3 / 3", 0);
        line_of(&text, "uplink ", 0);
        // The trace without what names the seed or measures the wall clock.
        text.lines()
            .filter(|l| {
                !l.starts_with("wall time") && !l.starts_with("seed") && !l.contains("simulating")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let a = sim("7");
    assert_eq!(a, sim("7"), "same seed, different tables");
    assert_ne!(a, sim("8"), "another seed, the same table");
}
