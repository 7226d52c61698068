//! `--simulate`: the same library in the deterministic simulation of
//! `carrier-sim` — devices on simulated ports (virtual clock, an
//! in-process network with seeded loss), one LwM2M server, all in virtual
//! time — and the summary table at the end.
//!
//! Guarantee: the same `--days --devices --loss --seed` print the same
//! table (but for the wall-time line); nothing touches the network.

use carrier_sim::{NetConfig, Scenario};

use crate::args::Args;
use crate::out::{Out, Stop, Who};

/// Runs the simulation of `args` and prints its summary.
///
/// # Errors
/// [`Stop::Closed`] when stdout went away.
pub fn run(args: &Args, out: &Out) -> Result<(), Stop> {
    // --loss is a percentage; the network counts per mille.
    let loss_permille = (args.loss * 10.0).round().clamp(0.0, 1000.0) as u32;
    let scenario = Scenario {
        seed: args.seed,
        devices: args.devices,
        duration: Scenario::days(u64::from(args.days)),
        net: NetConfig { loss_permille, ..NetConfig::default() },
        ..Scenario::default()
    };
    out.line(
        Who::Sample,
        format!(
            "simulating {} device(s) for {} day(s) at {} % loss, seed {} (virtual time)",
            args.devices, args.days, args.loss, args.seed
        ),
    )?;
    let outcome = carrier_sim::run(&scenario);
    out.raw(&outcome.summary().to_string())
}
