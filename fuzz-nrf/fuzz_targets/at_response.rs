//! Arbitrary bytes as a modem response: framing and every typed parser
//! must return a value or an error, never panic.
#![no_main]

use carrier_os_nrf::at::{Response, types};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = Response::parse(data) else { return };
    let _ = r.result();
    for _ in r.lines() {}
    for _ in r.others("+CFUN:") {}
    let _ = types::parse_imei(&r);
    let _ = types::parse_imsi(&r);
    let _ = types::parse_iccid(&r);
    let _ = types::parse_msisdn(&r);
    let _ = types::parse_bare_text(&r);
    let _ = types::parse_hw_version(&r);
    let _ = types::parse_two_did(&r);
    let _ = types::parse_cfun(&r);
    let _ = types::parse_cereg_read(&r);
    for _ in types::pdn_contexts(&r) {}
    for _ in types::pdn_activation(&r) {}
    let _ = types::parse_pdn_id(&r);
    let _ = types::parse_new_cid(&r);
    let _ = types::parse_pdn_addresses(&r);
    let _ = types::parse_monitor(&r);
    let _ = types::parse_cesq(&r);
    let _ = types::parse_snr(&r);
    let _ = types::parse_band(&r);
    if let Ok(t) = types::parse_nordic_clock(&r) {
        let _ = t.unix_seconds();
    }
    if let Ok(t) = types::parse_clock(&r) {
        let _ = t.unix_seconds();
    }
    for _ in types::credentials(&r) {}
    if let Ok(sim) = types::parse_crsm(&r) {
        let mut out = [0u8; 64];
        let _ = sim.decode(&mut out);
    }
    let _ = types::parse_conn_stats(&r);
    let _ = types::parse_sms_sent(&r);
});
