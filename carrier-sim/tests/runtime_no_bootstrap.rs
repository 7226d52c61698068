//! Generic mode without a Bootstrap-Server: the DM server configured
//! directly (URI and PSK security tag in the configuration, carrier-api.md
//! §1 `server_uri`, `is_bootstrap_server = false`) is registered with on the
//! first boot (app-integration "Registration": automatic).
//!
//! A regression test: carrier-sim found this broken (fixed since).

use carrier_os::time::Duration;
use carrier_sim::{Scenario, run};
use lwm2m_carrier::Event;

#[test]
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
