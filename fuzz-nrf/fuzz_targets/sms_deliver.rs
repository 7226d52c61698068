//! Arbitrary bytes as an SMS-DELIVER PDU: decoded or refused, never a
//! panic, and a decoded payload always fits the buffer it was given.
#![no_main]

use carrier_os_nrf::at::sms::parse_deliver;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = [0u8; 200];
    if let Ok(d) = parse_deliver(data, &mut out) {
        assert!(d.len <= out.len());
    }
    let mut small = [0u8; 3];
    let _ = parse_deliver(data, &mut small);
});
