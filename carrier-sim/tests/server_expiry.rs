//! The sans-IO server core in virtual time: once `handle_timeout` has run
//! at the instant `poll_timeout` named, that instant is done with —
//! `poll_timeout` must name a later one (or none). Otherwise a driver in
//! virtual time, where the clock moves only to the next deadline, is due at
//! the same instant for ever (RFC-independent; the sans-IO contract of
//! `/work/wt/briefs/server-core-api.md`: "`handle_timeout`: … registration
//! expiry due at `now`").
//!
//! A regression test: carrier-sim found this broken (fixed since).

use core::net::SocketAddr;
use lwm2m_core::coap::endpoint::{Config, Endpoint};
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::Instant;
use lwm2m_server::{Server, ServerConfig};

#[test]
fn handle_timeout_at_the_named_instant_moves_poll_timeout_on() {
    let server_addr: SocketAddr = "192.0.2.1:5683".parse().unwrap();
    let client_addr: SocketAddr = "192.0.2.2:56830".parse().unwrap();
    let mut server = Server::new(ServerConfig::default());
    let mut client = Endpoint::new(Config::default(), XorShiftRng::new(7));
    let t0 = Instant::from_millis(1_000);
    client
        .request(t0, server_addr, true, Code::Post, |w| {
            w.add_uri_path("rd")?;
            w.add_content_format(ContentFormat::LinkFormat)?;
            w.add_uri_query("ep=expiry")?;
            w.add_uri_query("lt=60")?;
            w.add_uri_query("lwm2m=1.1")?;
            w.set_payload(b"</3/0>")
        })
        .unwrap();
    let mut buf = [0u8; 1280];
    let t = client.poll_transmit(t0, &mut buf).unwrap();
    server.handle_datagram(t0, client_addr, &buf[..t.len]);
    while server.poll_transmit(t0, &mut buf).is_some() {}
    while server.poll_event().is_some() {}
    assert_eq!(server.registrations().count(), 1);
    // Follow the server's own deadlines, as a virtual-time driver does.
    let mut last = None;
    for _ in 0..100 {
        let Some(due) = server.poll_timeout() else { return };
        assert_ne!(Some(due), last, "handle_timeout({due:?}) left poll_timeout at {due:?}");
        server.handle_timeout(due);
        while server.poll_transmit(due, &mut buf).is_some() {}
        while server.poll_event().is_some() {}
        last = Some(due);
    }
    panic!("poll_timeout never settled");
}
