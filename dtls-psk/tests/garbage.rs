//! Arbitrary bytes from the network never panic a client or a server, in
//! any session state, and never produce a connected session.

use std::net::SocketAddr;

use dtls_psk::{Client, Config, Event, Instant, Psk, Server, SessionState};
use proptest::prelude::*;

const KEY: [u8; 16] = [0x42; 16];

fn peer() -> SocketAddr {
    "198.51.100.1:1234".parse().unwrap()
}

/// A record-shaped prefix makes proptest reach tinydtls's record parser
/// (content type 20..=23, version DTLS 1.2) rather than its first check.
fn datagram() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        (20u8..=23, any::<[u8; 8]>(), proptest::collection::vec(any::<u8>(), 0..120)).prop_map(
            |(ct, seq, body)| {
                let len = u16::try_from(body.len()).unwrap();
                let mut d = vec![ct, 0xfe, 0xfd];
                d.extend_from_slice(&seq);
                d.extend_from_slice(&len.to_be_bytes());
                d.extend_from_slice(&body);
                d
            }
        ),
    ]
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=n for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn handshaking_client_survives_arbitrary_datagrams(datagrams in proptest::collection::vec(datagram(), 1..8)) {
        let mut c = Client::new(b"id", Psk::new(&KEY).unwrap(), Config::default()).unwrap();
        let now = Instant::from_millis(0);
        c.connect(now).unwrap();
        for d in &datagrams {
            c.handle_datagram(now, d);
            c.handle_timeout(now);
        }
        while c.poll_transmit().is_some() {}
        while let Some(e) = c.poll_event() {
            prop_assert_ne!(e, Event::Connected);
        }
        prop_assert_ne!(c.state(), SessionState::Connected);
    }

    #[test]
    fn server_survives_arbitrary_datagrams(datagrams in proptest::collection::vec(datagram(), 1..8)) {
        let mut s = Server::new(|_: &[u8]| Some(Psk::new(&KEY).unwrap()), Config::default()).unwrap();
        let now = Instant::from_millis(0);
        for d in &datagrams {
            s.handle_datagram(now, peer(), d);
            s.handle_timeout(now);
        }
        while s.poll_transmit().is_some() {}
        while let Some((_, e)) = s.poll_event() {
            prop_assert_ne!(e, Event::Connected);
        }
        prop_assert!(s.recv().is_none());
    }
}
