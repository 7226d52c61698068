//! The sample as a user runs it: `carrier-sample` with no arguments tells a
//! device's whole life against the embedded server and exits 0; the CoAP
//! demo stays reachable with `--coap-demo`.

#![allow(clippy::std_instead_of_core)]
use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_carrier-sample")).args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
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
fn no_arguments_shows_bootstrap_registration_read_observe_push_and_deregistration() {
    let (ok, text) = run(&[]);
    assert!(ok, "exit status not 0:\n{text}");
    // The device's events in the spec's order, then the server's operations.
    let mut at = line_of(&text, "LTE_LINK_DOWN", 0);
    at = line_of(&text, "BOOTSTRAPPED", at);
    at = line_of(&text, "LTE_LINK_UP", at);
    at = line_of(&text, "REGISTERED", at);
    at = line_of(&text, "READ /3/0 -> 2.05", at);
    at = line_of(&text, "/3/0/17 = \"Module\"", at);
    at = line_of(&text, "OBSERVE /3/0/9 -> 2.05", at);
    for level in [80, 65, 50] {
        at = line_of(&text, &format!("NOTIFY /3/0/9 battery {level} %"), at);
    }
    let push = line_of(&text, "FOTA_START", at);
    at = line_of(&text, "WRITE /5/0/0 -> 2.04", at);
    at = line_of(&text, "READ /5/0/3 (State) -> 2.05 [text/plain; charset=utf-8] 1 B: 2", at);
    at = line_of(&text, "EXECUTE /5/0/2 (Update) -> 2.04", at);
    at = line_of(&text, "REBOOT", at.max(push));
    line_of(&text, "DEREGISTERED", at);
}

#[test]
fn coap_demo_is_still_reachable() {
    let (ok, text) = run(&["--coap-demo"]);
    assert!(ok, "exit status not 0:\n{text}");
    assert!(text.contains("->"), "datagram lines expected:\n{text}");
}

#[test]
fn an_unknown_option_is_refused_with_the_usage() {
    let (ok, text) = run(&["--no-such-option"]);
    assert!(!ok);
    assert!(text.contains("Usage"), "{text}");
}
