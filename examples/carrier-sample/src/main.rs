//! `carrier-sample` — a device's life, end to end, on the desktop.
//!
//! With no arguments it starts two embedded `lwm2m-server`s on 127.0.0.1 —
//! the Bootstrap-Server behind DTLS 1.2 PSK and the DM server it
//! provisions — and a device in generic mode on the std port
//! (`carrier_os_std::real::RealPort`: real UDP sockets, a simulated modem
//! and SIM, storage in a directory) running the carrier runtime with the
//! LwM2M session, and prints what happens (`demo.rs`): link up,
//! bootstrapped, registered, the server reading `/3/0`, observing the
//! battery level while the application changes it, a firmware image pushed
//! block-wise with a progress bar, reboot into it, de-registration.
//!
//! The device's storage outlives the run (`--state-dir`, by default a
//! per-user state directory), so the second run registers without
//! bootstrap. `--server` points the device at any LwM2M 1.1 server instead
//! (`external.rs`); `--forever` stays registered until Ctrl-C;
//! `--simulate` runs the same library in `carrier-sim`'s deterministic
//! simulation and prints its summary table (`simulate.rs`);
//! `--coap-demo` runs the older CoAP-layer demo (`coap_demo.rs`).
//! Options and their checks: `args.rs`.
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core)]

mod args;
mod coap_demo;
mod demo;
mod device;
mod external;
mod out;
mod simulate;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use carrier_os::modem::{Psk, SecTag};
use carrier_os_std::profile::{Credential, DeviceProfile, KeyStore};
use clap::{CommandFactory, Parser};

use crate::args::Args;
use crate::out::{Out, Stop};

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => refuse(&e),
    };
    if args.coap_demo {
        return coap_demo::main();
    }
    if args.server.as_ref().is_some_and(|s| s.secure) && args.psk.is_none() {
        Args::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "a coaps:// server needs --psk HEX (or CARRIER_SAMPLE_PSK)",
            )
            .exit();
    }
    let out = Out::stdout();
    if args.simulate {
        return match simulate::run(&args, &out) {
            Ok(()) | Err(Stop::Closed) => ExitCode::SUCCESS,
            Err(Stop::Failed(e)) => {
                eprintln!("carrier-sample: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let stop = Arc::new(AtomicBool::new(false));
    if args.forever {
        let flag = Arc::clone(&stop);
        if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)) {
            eprintln!("carrier-sample: cannot catch Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    }
    let result = match &args.server {
        Some(_) => external::run(&args, &out, &stop),
        None => demo::run(&args, &out, &stop),
    };
    match result {
        Ok(()) | Err(Stop::Closed) => ExitCode::SUCCESS,
        Err(Stop::Failed(e)) => {
            eprintln!("carrier-sample: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints clap's `error:` line (and the possible values, if it lists
/// them), then the usage, and exits 2 — or shows `--help`/`--version`.
fn refuse(e: &clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        e.exit();
    }
    let text = e.to_string();
    let usage = Args::command().render_usage();
    let mut err = std::io::stderr().lock();
    for line in text.lines().take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more"))
    {
        if !line.trim().is_empty() {
            let _ = writeln!(err, "{line}");
        }
    }
    let _ = writeln!(err, "\n{usage}\n\nFor more information, try '--help'.");
    std::process::exit(2)
}

/// `--state-dir`, else `$XDG_STATE_HOME/carrier-sample`, else
/// `$HOME/.local/state/carrier-sample`, else one in the temporary directory.
fn state_dir(args: &Args) -> PathBuf {
    if let Some(d) = &args.state_dir {
        return d.clone();
    }
    let non_empty = |v: std::ffi::OsString| (!v.is_empty()).then(|| PathBuf::from(v));
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").and_then(non_empty) {
        return d.join("carrier-sample");
    }
    if let Some(h) = std::env::var_os("HOME").and_then(non_empty) {
        return h.join(".local").join("state").join("carrier-sample");
    }
    std::env::temp_dir().join("carrier-sample")
}

/// The simulated modem and SIM: device 1 of the generic profile, with the
/// IMSI and network of `--carrier`'s operator and the IMEI of `--endpoint`.
fn device_profile(args: &Args) -> DeviceProfile {
    let mut profile = DeviceProfile::generic(1);
    let carrier = args.carrier.carrier();
    if let Some(plmn) = carrier_profiles::profile(carrier).detection.home_plmns.first()
        && let (Some(mcc), Some(mnc)) = (plmn.get(..3), plmn.get(3..))
    {
        // A 15-digit IMSI: the operator's home PLMN, then the subscriber number.
        let msin = "0000000001";
        profile.imsi = Some(format!("{plmn}{}", msin.get(plmn.len() - 5..).unwrap_or(msin)));
        profile.network.mcc = mcc.parse().unwrap_or(profile.network.mcc);
        profile.network.mnc = mnc.parse().unwrap_or(profile.network.mnc);
    }
    if let Some(imei) = &args.endpoint {
        profile.imei.clone_from(imei);
    }
    profile
}

/// Stores `identity` + `key` in the modem's security tag `tag` (the std
/// port's `keys.toml`), leaving the tags the library wrote alone.
fn provision_key(
    dir: &std::path::Path,
    tag: u32,
    identity: &[u8],
    key: &[u8],
) -> Result<(), String> {
    let mut keys = KeyStore::open(dir.join("keys.toml")).map_err(|e| format!("keys: {e}"))?;
    let psk = Psk::new(key).ok_or("a PSK has 1 to 64 bytes")?;
    keys.insert(SecTag(tag), Credential { identity: Some(identity.to_vec()), psk })
        .map_err(|e| format!("keys: {e}"))
}
