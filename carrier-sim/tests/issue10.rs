//! Issue 10 in simulation, many seeds: the runtime with its LwM2M session
//! on simulated devices against one sans-IO `lwm2m_server::Server`, on a
//! lossy, duplicating, reordering network (carrier-api.md §2 event order,
//! §2.1 deferred reasons with the operator's schedule; OMA LwM2M 1.1 §6.1
//! bootstrap, §6.2 registration, §E.6 firmware push).
//!
//! Seeds and devices are kept small so that the whole file runs in a few
//! seconds in debug; the big runs are in `cargo xtask report`.

use carrier_os::time::Duration;
use carrier_profiles::Failure;
use carrier_profiles::operators::DEFAULT_RETRY;
use carrier_sim::{DeviceEvent, DeviceLog, Faults, NetConfig, Outcome, Scenario, run};
use lwm2m_carrier::{DeferredReason, Event};

const SEEDS: u64 = 20;

/// 5 % loss, 5 % duplication, 5 % reordering.
fn lossy() -> NetConfig {
    NetConfig { loss_permille: 50, dup_permille: 50, reorder_permille: 50, ..NetConfig::default() }
}

fn scenario(seed: u64) -> Scenario {
    Scenario { seed, net: lossy(), duration: Duration::from_secs(3600), ..Scenario::default() }
}

/// The carrier events after the `n`-th boot (1-based), deferrals left out.
fn after_boot(d: &DeviceLog, n: usize, keep_deferred: bool) -> Vec<Event<'static>> {
    let mut boots = 0;
    d.events
        .iter()
        .filter_map(|(_, e)| match e {
            DeviceEvent::Boot => {
                boots += 1;
                None
            }
            DeviceEvent::Carrier(e) if boots == n => Some(*e),
            _ => None,
        })
        .filter(|e| keep_deferred || !matches!(e, Event::Deferred { .. }))
        .collect()
}

/// Every DEFERRED event's timeout is one of its reason's schedule steps.
fn deferrals_follow_the_schedule(o: &Outcome) {
    for d in &o.devices {
        for e in d.carrier_events() {
            let Event::Deferred { reason, timeout } = e else { continue };
            let failure = match reason {
                DeferredReason::BootstrapNoRoute => Failure::BootstrapNoRoute,
                DeferredReason::BootstrapConnect => Failure::BootstrapConnect,
                DeferredReason::BootstrapSequence => Failure::BootstrapSequence,
                DeferredReason::ServerNoRoute => Failure::ServerNoRoute,
                DeferredReason::ServerConnect => Failure::ServerConnect,
                DeferredReason::ServerRegistration => Failure::ServerRegistration,
                other => panic!("seed {}: unexpected deferral {other:?}", o.seed),
            };
            let delays = DEFAULT_RETRY.schedule(failure).delays_s;
            assert!(
                delays.contains(&u32::try_from(timeout.as_millis() / 1000).unwrap()),
                "seed {}: {reason:?} deferred {timeout:?}, schedule {delays:?}",
                o.seed
            );
        }
    }
}

const FIRST_BOOT: [Event<'static>; 4] =
    [Event::LteLinkDown, Event::Bootstrapped, Event::LteLinkUp, Event::Registered];

#[test]
fn first_boot_bootstraps_then_registers_in_order_over_many_lossy_seeds() {
    for seed in 0..SEEDS {
        let o = run(&scenario(seed));
        let d = &o.devices[0];
        assert_eq!(after_boot(d, 1, false), FIRST_BOOT, "seed {seed}: {:?}", d.events);
        assert!(d.registered, "seed {seed}");
        assert_eq!(o.server_counts.get("bootstrap-finished"), Some(&1), "seed {seed}");
        deferrals_follow_the_schedule(&o);
    }
}

#[test]
fn a_power_cut_keeps_the_bootstrap_and_registers_from_stored_state() {
    for seed in 0..SEEDS {
        let o = run(&Scenario { power_cut_at: Some(Duration::from_secs(1200)), ..scenario(seed) });
        let d = &o.devices[0];
        assert_eq!(after_boot(d, 1, false), FIRST_BOOT, "seed {seed}");
        assert!(d.events.contains(&(1_200_000, DeviceEvent::PowerCut)), "seed {seed}");
        assert_eq!(after_boot(d, 2, false), [Event::Registered], "seed {seed}: {:?}", d.events);
        assert_eq!(o.server_counts.get("bootstrap-finished"), Some(&1), "seed {seed}");
        deferrals_follow_the_schedule(&o);
    }
}

#[test]
fn changed_server_options_factory_reset_and_bootstrap_again() {
    for seed in 0..SEEDS {
        let o = run(&Scenario {
            power_cut_at: Some(Duration::from_secs(1200)),
            change_options_at_reboot: true,
            ..scenario(seed)
        });
        let d = &o.devices[0];
        assert_eq!(after_boot(d, 1, false), FIRST_BOOT, "seed {seed}");
        assert_eq!(after_boot(d, 2, false), FIRST_BOOT, "seed {seed}: {:?}", d.events);
        assert_eq!(o.server_counts.get("bootstrap-finished"), Some(&2), "seed {seed}");
        deferrals_follow_the_schedule(&o);
    }
}

/// The first event after boot is the deferral `reason` with the first
/// step of its schedule; the device then registers.
fn defers_first_then_registers(s: impl Fn(u64) -> Scenario, reason: DeferredReason, f: Failure) {
    let first =
        lwm2m_core::time::Duration::from_secs(u64::from(DEFAULT_RETRY.step(f, 0).unwrap().delay_s));
    for seed in 0..SEEDS {
        let o = run(&s(seed));
        let d = &o.devices[0];
        let events = after_boot(d, 1, true);
        assert_eq!(
            events.first(),
            Some(&Event::Deferred { reason, timeout: first }),
            "seed {seed}: {:?}",
            d.events
        );
        assert!(d.registered, "seed {seed}: {:?}", d.events);
        deferrals_follow_the_schedule(&o);
    }
}

#[test]
fn a_dtls_handshake_failure_defers_bootstrap_connect() {
    defers_first_then_registers(
        |seed| Scenario {
            faults: Faults { dtls_failures: 1, ..Faults::default() },
            ..scenario(seed)
        },
        DeferredReason::BootstrapConnect,
        Failure::BootstrapConnect,
    );
}

#[test]
fn an_unresolvable_bootstrap_server_defers_bootstrap_no_route() {
    defers_first_then_registers(
        |seed| Scenario { bootstrap_dns_from: Some(Duration::from_secs(60)), ..scenario(seed) },
        DeferredReason::BootstrapNoRoute,
        Failure::BootstrapNoRoute,
    );
}

#[test]
fn an_outage_after_the_handshake_defers_bootstrap_sequence() {
    // The modelled handshake ends at 2.24 s and the Bootstrap-Request leaves
    // then; the outage swallows it and every retransmission.
    defers_first_then_registers(
        |seed| Scenario {
            outage: Some((Duration::from_millis(2245), Duration::from_secs(300))),
            ..scenario(seed)
        },
        DeferredReason::BootstrapSequence,
        Failure::BootstrapSequence,
    );
}

#[test]
fn an_outage_from_power_on_times_the_handshake_out_and_defers_bootstrap_connect() {
    defers_first_then_registers(
        |seed| Scenario {
            outage: Some((Duration::ZERO, Duration::from_secs(60))),
            ..scenario(seed)
        },
        DeferredReason::BootstrapConnect,
        Failure::BootstrapConnect,
    );
}

#[test]
fn a_firmware_push_is_applied_after_the_reboot_over_many_lossy_seeds() {
    for seed in 0..SEEDS {
        let o = run(&Scenario {
            fota_at: Some(Duration::from_secs(600)),
            duration: Duration::from_secs(3 * 3600),
            ..scenario(seed)
        });
        let d = &o.devices[0];
        let second = after_boot(d, 2, false);
        let first = after_boot(d, 1, false);
        let start = first.iter().position(|e| *e == Event::FotaStart { uri: None });
        assert!(start.is_some(), "seed {seed}: {:?} {:?}", d.events, o.answers);
        assert_eq!(
            first.get(start.unwrap() + 1..),
            Some(&[Event::LtePowerOff, Event::Reboot][..]),
            "seed {seed}"
        );
        assert_eq!(second, [Event::FotaSuccess, Event::Registered], "seed {seed}: {:?}", d.events);
        assert_eq!(
            o.answers.iter().map(|a| (a.1.as_str(), a.2.as_str())).collect::<Vec<_>>(),
            [("write-blockwise /5/0/0 4096 B", "2.04"), ("execute /5/0/2", "2.04")],
            "seed {seed}"
        );
    }
}

#[test]
fn reads_in_every_format_and_two_notifications_reach_the_server() {
    let o = run(&Scenario { probe: true, net: NetConfig::default(), ..scenario(1) });
    let answers: Vec<(&str, &str)> =
        o.answers.iter().map(|a| (a.1.as_str(), a.2.split(' ').next().unwrap())).collect();
    assert_eq!(
        answers,
        [
            ("read /3/0 11542", "2.05"),
            ("read /3/0 110", "2.05"),
            ("read /3/0 112", "2.05"),
            ("read /3/0 11544", "2.05"),
            ("read /3/0/0 0", "2.05"),
            ("observe /3/0/9", "2.05"),
        ]
    );
    assert_eq!(o.server_counts.get("notification"), Some(&2), "{:?}", o.server_counts);
    // A clean network: every CON answered.
    assert_eq!(o.wire.lost_con, [0, 0]);
}

#[test]
fn the_same_seed_gives_the_same_outcome_and_another_seed_another_trace() {
    let s = |seed| Scenario { devices: 3, trace: true, probe: true, ..scenario(seed) };
    let a = run(&s(7));
    let b = run(&s(7));
    assert_eq!(a.deterministic(), b.deterministic());
    assert_eq!(a.trace, b.trace);
    let c = run(&s(8));
    assert_ne!(a.trace, c.trace);
}
