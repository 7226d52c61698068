//! Arbitrary text as a notification: never panics.
#![no_main]

use carrier_os_nrf::at::Urc;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = Urc::parse(text);
    }
});
