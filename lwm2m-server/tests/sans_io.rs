//! The sans-IO [`Server`] in virtual time: no socket, no thread, no clock.
//! A bare CoAP endpoint plays the client; every instant is a value, so the
//! lifetime expiry (TS §6.2.2: the registration is removed when the
//! lifetime passes without an Update) is checked to the millisecond.
#![allow(clippy::std_instead_of_core)]

use lwm2m_core::coap::endpoint::{Config, Endpoint, Event};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration, Instant};
use lwm2m_server::{Request, Server, ServerConfig, ServerError, ServerEvent};
use std::net::SocketAddr;

const SERVER: &str = "192.0.2.1:5683";
const CLIENT: &str = "192.0.2.2:56830";

struct Pair {
    server: Server,
    client: Endpoint<SocketAddr, XorShiftRng>,
    server_addr: SocketAddr,
    client_addr: SocketAddr,
}

impl Pair {
    fn new() -> Pair {
        Pair {
            server: Server::new(ServerConfig::default()),
            client: Endpoint::new(Config::default(), XorShiftRng::new(7)),
            server_addr: SERVER.parse().unwrap(),
            client_addr: CLIENT.parse().unwrap(),
        }
    }

    /// Move every datagram both ways until neither side has one.
    fn flush(&mut self, now: Instant) {
        let mut buf = [0u8; 1280];
        loop {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(now, &mut buf) {
                assert_eq!(t.remote, self.server_addr);
                self.server.handle_datagram(now, self.client_addr, &buf[..t.len]);
                moved = true;
            }
            while let Some((to, len)) = self.server.poll_transmit(now, &mut buf) {
                assert_eq!(to, self.client_addr);
                self.client.handle_datagram(now, self.server_addr, &buf[..len]);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    fn events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }

    fn register(&mut self, now: Instant, lifetime_s: u32) -> String {
        self.client
            .request(now, self.server_addr, true, Code::Post, |w| {
                // Options in number order: Uri-Path 11, Content-Format 12, Uri-Query 15.
                w.add_uri_path("rd")?;
                w.add_content_format(ContentFormat::LinkFormat)?;
                w.add_uri_query("ep=sans-io")?;
                w.add_uri_query(&format!("lt={lifetime_s}"))?;
                w.add_uri_query("lwm2m=1.1")?;
                w.set_payload(b"</3/0>")
            })
            .unwrap();
        self.flush(now);
        let mut location = None;
        while let Some(ev) = self.client.poll_event() {
            if let Event::Response { response, .. } = ev {
                assert_eq!(response.code, Code::Created);
                let parts: Vec<String> = response
                    .options
                    .get_all(OptionNumber::LocationPath)
                    .map(|o| String::from_utf8(o.value.to_vec()).unwrap())
                    .collect();
                location = Some(parts.join("/"));
            }
        }
        location.expect("2.01 Created with a Location-Path")
    }
}

#[test]
fn register_then_read_answer_carries_the_ticket() {
    let mut p = Pair::new();
    let t0 = Instant::from_millis(1_000);
    p.register(t0, 60);
    let events = p.events();
    assert!(
        matches!(&events[..], [ServerEvent::Registered { registration, .. }]
            if registration.endpoint == "sans-io" && registration.lifetime_s == 60),
        "{events:?}"
    );

    let path = Path::instance(3, 0).unwrap();
    let ticket = p.server.request(t0, "sans-io", Request::Read { path, format: None });
    p.flush(t0);
    // The client answers the Read with 2.05 and a text payload.
    let mut answered = false;
    while let Some(ev) = p.client.poll_event() {
        if let Event::Request { id, request, .. } = ev {
            assert_eq!(request.code, Code::Get);
            answered = true;
            p.client
                .respond(id, Code::Content, |w| {
                    w.add_content_format(ContentFormat::TextPlain)?;
                    w.set_payload(b"42")
                })
                .unwrap();
            break;
        }
    }
    assert!(answered, "the Read reached the client");
    p.flush(t0);
    let events = p.events();
    match &events[..] {
        [ServerEvent::Response { ticket: t, result: Ok(r) }] => {
            assert_eq!(*t, ticket);
            assert_eq!(r.code, Code::Content);
            assert_eq!(r.payload, b"42");
        }
        other => panic!("expected one Response, got {other:?}"),
    }
}

#[test]
fn request_to_an_unregistered_endpoint_is_answered_at_once() {
    let mut p = Pair::new();
    let ticket = p.server.request(
        Instant::from_millis(0),
        "nobody",
        Request::Discover { path: Path::object(3).unwrap() },
    );
    assert_eq!(
        p.events(),
        vec![ServerEvent::Response {
            ticket,
            result: Err(ServerError::UnknownEndpoint("nobody".into()))
        }]
    );
    let mut buf = [0u8; 64];
    assert!(p.server.poll_transmit(Instant::from_millis(0), &mut buf).is_none());
    assert_ne!(
        ticket,
        p.server.request(
            Instant::from_millis(0),
            "nobody",
            Request::Discover { path: Path::object(3).unwrap() }
        )
    );
}

#[test]
fn registration_expires_after_its_lifetime_in_virtual_time() {
    let mut p = Pair::new();
    let t0 = Instant::from_millis(5_000);
    p.register(t0, 30);
    p.events();
    // Nothing else is pending, so the server's next deadline is the expiry:
    // the lifetime plus a grace of at most a few seconds for a late Update.
    let due = p.server.poll_timeout().expect("an expiry deadline");
    assert!(due >= t0 + Duration::from_secs(30), "{due:?}");
    assert!(due <= t0 + Duration::from_secs(35), "{due:?}");

    // Just before the deadline: still registered.
    let before = Instant::from_millis(due.as_millis() - 1);
    p.server.handle_timeout(before);
    assert!(p.events().is_empty());
    assert_eq!(p.server.registrations().count(), 1);

    // Past it: expired, exactly once.
    let after = due + Duration::from_millis(1);
    p.server.handle_timeout(after);
    assert_eq!(p.events(), vec![ServerEvent::Expired { endpoint: "sans-io".into() }]);
    assert_eq!(p.server.registrations().count(), 0);
    p.server.handle_timeout(after + Duration::from_secs(60));
    assert!(p.events().is_empty());
}

#[test]
fn an_update_moves_the_expiry() {
    let mut p = Pair::new();
    let t0 = Instant::from_millis(0);
    let location = p.register(t0, 30);
    p.events();
    let first = p.server.poll_timeout().unwrap();
    let t1 = t0 + Duration::from_secs(20);
    p.client
        .request(t1, p.server_addr, true, Code::Post, |w| {
            w.add_path(OptionNumber::UriPath, &location)
        })
        .unwrap();
    p.flush(t1);
    assert!(matches!(&p.events()[..], [ServerEvent::Updated { .. }]));
    let second = p.server.poll_timeout().unwrap();
    assert_eq!(second.as_millis() - first.as_millis(), 20_000);
    p.server.handle_timeout(first + Duration::from_secs(1));
    assert!(p.events().is_empty(), "the Update kept the registration");
}

/// Twelve devices ask for bootstrap at the same instant: three times more
/// than the server's CoAP endpoint has exchange slots (`MAX_EXCHANGES`).
/// Every one of them must still get its whole plan and Bootstrap-Finish —
/// a step that finds no free slot waits for one (found by `carrier-sim`'s
/// 10 000-device fleet, where 4 % of the devices never finished bootstrap).
#[test]
fn a_burst_of_bootstrap_requests_larger_than_the_exchange_table_all_finish() {
    use lwm2m_core::coap::endpoint::config::MAX_EXCHANGES;
    use lwm2m_server::BootstrapPlan;
    const DEVICES: usize = 3 * MAX_EXCHANGES;
    let server_addr: SocketAddr = SERVER.parse().unwrap();
    let plan = BootstrapPlan::single("coap://192.0.2.1:5683", 300);
    let steps = plan.steps().len();
    let mut server =
        Server::new(ServerConfig { default_plan: Some(plan), ..ServerConfig::default() });
    let mut devices: Vec<(SocketAddr, Endpoint<SocketAddr, XorShiftRng>)> = (0..DEVICES)
        .map(|i| {
            let addr: SocketAddr = format!("192.0.2.{}:5683", 10 + i).parse().unwrap();
            (addr, Endpoint::new(Config::default(), XorShiftRng::new(100 + i as u32)))
        })
        .collect();
    let now = Instant::from_millis(0);
    for (i, (_, ep)) in devices.iter_mut().enumerate() {
        ep.request(now, server_addr, true, Code::Post, |w| {
            w.add_uri_path("bs")?;
            w.add_uri_query(&format!("ep=dev{i}"))
        })
        .unwrap();
    }
    // Every device answers every server request as it arrives (2.02 for
    // Delete, 2.04 otherwise), all in the same instant: no timer needs to run.
    let mut seen = vec![0usize; DEVICES];
    let mut buf = [0u8; 1280];
    let mut answer = |i: usize, ep: &mut Endpoint<SocketAddr, XorShiftRng>| {
        let mut ids = Vec::new();
        while let Some(ev) = ep.poll_event() {
            if let Event::Request { id, request, .. } = ev {
                ids.push((id, request.code));
            }
        }
        for (id, code) in ids {
            seen[i] += 1;
            let code = if code == Code::Delete { Code::Deleted } else { Code::Changed };
            ep.respond(id, code, |_| Ok(())).unwrap();
        }
    };
    for _ in 0..1000 {
        let mut moved = false;
        for (addr, ep) in devices.iter_mut() {
            while let Some(t) = ep.poll_transmit(now, &mut buf) {
                server.handle_datagram(now, *addr, &buf[..t.len]);
                moved = true;
            }
        }
        while let Some((to, len)) = server.poll_transmit(now, &mut buf) {
            let i = devices.iter().position(|(a, _)| *a == to).unwrap();
            devices[i].1.handle_datagram(now, server_addr, &buf[..len]);
            answer(i, &mut devices[i].1);
            moved = true;
        }
        if !moved {
            break;
        }
    }
    let finished: Vec<String> = std::iter::from_fn(|| server.poll_event())
        .filter_map(|e| match e {
            ServerEvent::BootstrapFinished { endpoint, code: Code::Changed } => Some(endpoint),
            _ => None,
        })
        .collect();
    assert_eq!(
        finished.len(),
        DEVICES,
        "finished: {finished:?}; requests seen per device: {seen:?}"
    );
    // The plan's steps plus Bootstrap-Finish reached every device.
    assert_eq!(seen, vec![steps + 1; DEVICES]);
}
