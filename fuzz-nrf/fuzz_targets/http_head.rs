//! Arbitrary bytes as an HTTP response head (and a download URI): the
//! parsers return a value or an error, never panic, and a parsed head
//! never claims a body start past the input.
#![no_main]

use carrier_os_nrf::download::Uri;
use carrier_os_nrf::download::http_head::parse_head;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, body))) = parse_head(data) {
        assert!(body <= data.len());
        assert!((100..=599).contains(&head.status));
        if let Some(r) = head.content_range {
            assert!(r.first <= r.last);
        }
    }
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = Uri::parse(s).map(|u| (u.path_segments().count(), u.query_items().count()));
    }
});
