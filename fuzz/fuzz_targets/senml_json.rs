//! Fuzz target: the SenmlJson decoder (and re-encoding round trip) never panics.
#![no_main]

#[path = "common/formats.rs"]
mod formats;

use libfuzzer_sys::fuzz_target;
use lwm2m_core::coap::numbers::ContentFormat;

fuzz_target!(|data: &[u8]| {
    formats::check(ContentFormat::SenmlJson, data, true);
});
