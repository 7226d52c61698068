//! Arbitrary text as a modem transcript, driven through every `AtModem`
//! operation: the modem may answer anything, in any order; nothing panics.
#![no_main]

use carrier_os_nrf::at::types::{CredentialType, FunctionalMode, PdnType};
use carrier_os_nrf::modem::AtModem;
use carrier_os_nrf::transcript::Transcript;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(script) = core::str::from_utf8(data) else { return };
    let mut m = AtModem::new(Transcript::new(script));
    let mut out = [0u8; 32];
    let _ = m.imei();
    let _ = m.imsi();
    let _ = m.iccid();
    let _ = m.msisdn();
    let _ = m.manufacturer();
    let _ = m.hardware_version();
    let _ = m.two_did();
    let _ = m.functional_mode();
    let _ = m.set_functional_mode(FunctionalMode::Offline);
    let _ = m.registration();
    let _ = m.define_pdn(0, PdnType::Ipv4v6, "apn");
    let _ = m.pdn_context(0);
    let _ = m.pdn_active(0);
    let _ = m.pdn_addresses(0);
    let _ = m.monitor();
    let _ = m.signal_quality();
    let _ = m.network_time();
    let _ = m.write_psk(1, &[1, 2, 3]);
    let _ = m.delete_credential(1, CredentialType::Psk);
    let _ = m.credential_exists(1, CredentialType::Psk);
    let _ = m.list_credentials(|_| {});
    let _ = m.sim_read_binary(0x6F07, "", 0, 9, &mut out);
    let _ = m.sim_read_record(0x6F40, "", 1, 28, &mut out);
    let _ = m.conn_stats();
    let mut buf = [0u8; 64];
    while let Some(n) = m.poll_notification(&mut buf) {
        if let Ok(s) = core::str::from_utf8(n) {
            let _ = carrier_os_nrf::at::Urc::parse(s);
        }
    }
});
