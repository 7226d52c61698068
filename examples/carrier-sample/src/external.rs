//! `--server URI`: the device alone, against any LwM2M 1.1 server
//! (bootstrap with `--bootstrap`), with `--psk-identity`/`--psk` in the
//! modem's security tag for a `coaps://` URI.
//!
//! It prints the device's events, and after REGISTERED answers the server
//! for a moment (or, with `--forever`, until Ctrl-C) and de-registers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use carrier_profiles::CarrierSet;

use crate::args::Args;
use crate::device::{self, Command, Report, Setup};
use crate::out::{Out, Stop, Who};

/// The security tag holding the `--psk` key.
const SEC_TAG: u32 = 7;
/// Registering (and bootstrapping first) must happen within this.
const REGISTER_WITHIN: StdDuration = StdDuration::from_secs(60);
/// How long the device answers the server before de-registering (without `--forever`).
const STAY: StdDuration = StdDuration::from_secs(2);

/// Runs the device against `--server`.
///
/// # Errors
/// [`Stop::Failed`] when the device did not register or de-register in
/// time; [`Stop::Closed`] when stdout went away.
pub fn run(args: &Args, out: &Out, stop: &AtomicBool) -> Result<(), Stop> {
    let server = args.server.as_ref().ok_or("no --server")?;
    let started = StdInstant::now();
    let dir = crate::state_dir(args);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let profile = crate::device_profile(args);
    let endpoint = format!("urn:imei:{}", profile.imei);
    let sec_tag = match (&args.psk, server.secure) {
        (Some(psk), true) => {
            let identity = args.psk_identity.as_deref().unwrap_or(&endpoint);
            crate::provision_key(&dir, SEC_TAG, identity.as_bytes(), &psk.0)?;
            out.line(Who::Device, format!("PSK identity {identity} in security tag {SEC_TAG}"))?;
            Some(SEC_TAG)
        }
        _ => None,
    };
    let role = if args.bootstrap { "Bootstrap-Server" } else { "LwM2M server" };
    out.line(Who::Device, format!("endpoint {endpoint}, {role} {}", server.uri))?;
    out.line(Who::Device, format!("state in {}", dir.display()))?;
    let setup = Setup {
        dir: dir.clone(),
        profile,
        server_uri: server.uri.clone(),
        bootstrap: args.bootstrap,
        sec_tag,
        lifetime_s: args.lifetime,
        carriers: CarrierSet::only(args.carrier.carrier()),
        seed: std::process::id() | 1,
        deadline: None,
    };
    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>();
    let (rep_tx, rep_rx) = mpsc::channel::<Report>();
    std::thread::scope(|scope| {
        let setup = &setup;
        let device = scope.spawn(move || device::run(setup, &cmd_rx, &rep_tx, stop));
        let result = watch(out, &rep_rx, &cmd_tx, stop, started, args.forever);
        // Without a command channel the device stops (registered or not).
        drop(cmd_tx);
        let device_result = device.join().map_err(|_| Stop::from("the device thread panicked"))?;
        result.and(device_result.map_err(Stop::Failed))
    })
}

fn line(out: &Out, r: &Report) -> Result<(), Stop> {
    match r {
        Report::Event(l) => out.line(Who::Device, l),
        Report::Registered => out.line(Who::Device, "REGISTERED"),
        Report::Rebooting => out.line(Who::Device, "restarting from its storage"),
        Report::FotaSuccess => out.line(Who::Device, "FOTA_SUCCESS"),
        Report::Deregistered => out.line(Who::Device, "DEREGISTERED"),
        Report::Stopped(why) => out.line(Who::Device, why),
    }
}

fn watch(
    out: &Out,
    rep: &mpsc::Receiver<Report>,
    cmd: &mpsc::Sender<Command>,
    stop: &AtomicBool,
    started: StdInstant,
    forever: bool,
) -> Result<(), Stop> {
    let tick = StdDuration::from_millis(100);
    let mut registered_at: Option<StdInstant> = None;
    let mut leaving = false;
    loop {
        match rep.recv_timeout(tick) {
            Ok(r @ (Report::Deregistered | Report::Stopped(_))) => {
                line(out, &r)?;
                return out.done(&format!("done in {:.1} s", started.elapsed().as_secs_f32()));
            }
            Ok(r) => {
                if matches!(r, Report::Registered) {
                    registered_at.get_or_insert_with(StdInstant::now);
                    if forever {
                        line(out, &r)?;
                        out.line(Who::Sample, "registered; press Ctrl-C to de-register and quit")?;
                        continue;
                    }
                }
                line(out, &r)?;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err("the device stopped".into());
            }
        }
        if stop.load(Ordering::Relaxed) {
            // The device thread de-registers by itself when `stop` is set.
            if registered_at.is_none() {
                return Ok(());
            }
            continue;
        }
        match registered_at {
            None if started.elapsed() > REGISTER_WITHIN && !forever => {
                return Err(format!("not registered after {} s", REGISTER_WITHIN.as_secs()).into());
            }
            Some(at) if !forever && !leaving && at.elapsed() >= STAY => {
                leaving = true;
                out.line(Who::App, "de-register")?;
                cmd.send(Command::Deregister).map_err(|_| "device gone")?;
            }
            Some(_) if leaving && started.elapsed() > REGISTER_WITHIN + STAY * 5 => {
                return Err("the device did not de-register in time".into());
            }
            _ => {}
        }
    }
}
