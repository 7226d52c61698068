//! Generic mode without a Bootstrap-Server: the DM server configured
//! directly (URI and PSK security tag in the configuration, carrier-api.md
//! §1 `server_uri`, `is_bootstrap_server = false`) is registered with on the
//! first boot (app-integration "Registration": automatic).
//!
//! Fails on lwm2m-carrier 0.1.0 (runtime bug, see the `sim` helper's
//! report): the runtime opens the DTLS socket to the configured server but
//! never puts that account into the objects it lends the LwM2M engine, so
//! `Lwm2mSession::start_register` finds no account and the runtime defers
//! SERVER_REGISTRATION on every attempt.

use carrier_os::time::Duration;
use carrier_sim::{Scenario, run};
use lwm2m_carrier::Event;

#[test]
#[ignore = "runtime bug: a directly configured DM server is never registered with"]
fn a_directly_configured_dm_server_is_registered_with_on_first_boot() {
    let o = run(&Scenario {
        bootstrap: false,
        duration: Duration::from_secs(600),
        ..Scenario::default()
    });
    let d = &o.devices[0];
    assert_eq!(d.carrier_events(), [Event::Registered], "{:?}", d.events);
    assert_eq!(o.server_counts.get("registered"), Some(&1));
}
