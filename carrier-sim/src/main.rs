//! `carrier-sim`: runs one simulation scenario (or many seeds of it) and
//! prints a summary table, or JSON with `--json` (what `cargo xtask
//! report` reads).

#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core)]

use carrier_os::time::Duration;
use carrier_sim::{NetConfig, Scenario, run};
use clap::Parser;

/// Deterministic simulation of lwm2m-carrier devices against one lwm2m-server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// First seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of seeds to run (seed, seed+1, …); the JSON is then one
    /// object per line.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Devices per run.
    #[arg(long, default_value_t = 1)]
    devices: u32,
    /// Virtual hours to run.
    #[arg(long, default_value_t = 1.0)]
    hours: f64,
    /// Loss, percent.
    #[arg(long, default_value_t = 0)]
    loss: u32,
    /// Duplication, percent.
    #[arg(long, default_value_t = 0)]
    dup: u32,
    /// Reordering, percent.
    #[arg(long, default_value_t = 0)]
    reorder: u32,
    /// Configure the DM server directly (PSK) instead of bootstrapping.
    #[arg(long)]
    no_bootstrap: bool,
    /// Registration lifetime, s (Update 30 s before it ends).
    #[arg(long, default_value_t = 3630)]
    lifetime: u32,
    /// Spread power-on over this many seconds.
    #[arg(long, default_value_t = 0)]
    spread: u64,
    /// Push a firmware image to device 1 at this virtual hour.
    #[arg(long)]
    fota_at_hours: Option<f64>,
    /// Cut the power of every device at this virtual hour (NVM kept).
    #[arg(long)]
    power_cut_at_hours: Option<f64>,
    /// Firmware image size, bytes.
    #[arg(long, default_value_t = 4096)]
    fota_size: usize,
    /// Read /3/0 in every format, observe /3/0/9 and change it (device 1).
    #[arg(long)]
    probe: bool,
    /// Series sampling step, s.
    #[arg(long, default_value_t = 10)]
    step: u64,
    /// Print JSON (without per-device event logs unless --events).
    #[arg(long)]
    json: bool,
    /// Keep per-device event logs in the JSON.
    #[arg(long)]
    events: bool,
    /// Print the world's trace (every datagram and device log line) to stderr.
    #[arg(long)]
    trace: bool,
    /// Print `size_of` of the client's state types (JSON) and exit.
    #[arg(long)]
    sizes: bool,
}

/// The process's peak resident set (VmHWM, KiB) from /proc/self/status.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    line.split_whitespace().next()?.parse().ok()
}

fn ms(hours: f64) -> Duration {
    Duration::from_millis((hours * 3_600_000.0) as u64)
}

fn main() {
    let a = Args::parse();
    if a.sizes {
        type Session = lwm2m_carrier::session::lwm2m::Lwm2mSession<lwm2m_core::rng::XorShiftRng>;
        let sizes = serde_json::json!({
            "runtime": size_of::<lwm2m_carrier::Runtime<'static, Session>>(),
            "session": size_of::<Session>(),
            "config": size_of::<lwm2m_carrier::Config<'static>>(),
        });
        println!("{sizes}");
        return;
    }
    for seed in a.seed..a.seed.saturating_add(a.seeds.max(1)) {
        let s = Scenario {
            seed,
            devices: a.devices,
            duration: ms(a.hours),
            net: NetConfig {
                loss_permille: a.loss * 10,
                dup_permille: a.dup * 10,
                reorder_permille: a.reorder * 10,
                ..NetConfig::default()
            },
            bootstrap: !a.no_bootstrap,
            lifetime_s: a.lifetime,
            power_on_spread: Duration::from_secs(a.spread),
            fota_at: a.fota_at_hours.map(ms),
            fota_size: a.fota_size,
            power_cut_at: a.power_cut_at_hours.map(ms),
            probe: a.probe,
            trace: a.trace,
            series_step: Duration::from_secs(a.step.max(1)),
            ..Scenario::default()
        };
        let mut o = run(&s);
        if a.trace {
            eprint!("{}", o.trace);
        }
        if a.json {
            if !a.events {
                for d in &mut o.devices {
                    d.events.clear();
                }
                o.server_events.clear();
            }
            match serde_json::to_value(&o) {
                Ok(mut j) => {
                    if let Some(m) = j.as_object_mut() {
                        m.insert("peak_rss_kib".into(), peak_rss_kib().into());
                    }
                    println!("{j}");
                }
                Err(e) => eprintln!("json: {e}"),
            }
        } else {
            println!("{}", o.summary());
        }
    }
}
