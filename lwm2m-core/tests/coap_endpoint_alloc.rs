//! Proof that the endpoint allocates nothing: a counting global allocator
//! (`stats_alloc`) wraps the system allocator for this test binary, and a
//! round of client and server work — a Block2 GET answered piggybacked, an
//! Observe notification, a CON retransmitted to exhaustion, malformed input
//! answered with RST, a duplicate answered from the cache — must not touch
//! the heap.
//!
//! One `#[test]` only, so no other test allocates meanwhile.
#![allow(clippy::std_instead_of_core)]

use lwm2m_core::coap::block::{Block2Reassembler, BlockValue, Reassembly, Szx, serve_block2};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config, Endpoint, Event};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::coap::observe::ObserverRegistry;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration, Instant};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

type Ep = Endpoint<u8, XorShiftRng>;
const CLIENT: u8 = 1;
const SERVER: u8 = 2;
const DEAD: u8 = 3;

struct World {
    client: Ep,
    server: Ep,
    observers: ObserverRegistry<u8, u8, 2>,
    body: [u8; 3000],
    store: [u8; 4096],
    buf: [u8; MAX_MESSAGE_LEN],
    now: Instant,
}

/// Move every datagram of `from` to `to`; returns how many.
fn pump(from: &mut Ep, from_addr: u8, to: &mut Ep, now: Instant, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while let Some(t) = from.poll_transmit(now, buf) {
        if t.remote != DEAD {
            to.handle_datagram(now, from_addr, &buf[..t.len]);
        }
        n += 1;
    }
    n
}

/// One round of work; returns a checksum so nothing is optimised away.
fn round(w: &mut World) -> usize {
    let mut sum = 0;
    w.now += Duration::from_secs(1);
    let now = w.now;

    // Block2 GET, block by block, through both endpoints.
    let mut r = Block2Reassembler::new(&mut w.store[..], Szx::S512);
    let mut block = r.first_request();
    loop {
        let ex = w
            .client
            .request(now, SERVER, true, Code::Get, |m| {
                m.add_uri_path("/fw/image")?;
                m.add_uint(OptionNumber::Block2, block.to_uint())
            })
            .unwrap();
        sum += pump(&mut w.client, CLIENT, &mut w.server, now, &mut w.buf);
        let Some(Event::Request { id, request, .. }) = w.server.poll_event() else { panic!() };
        let asked =
            BlockValue::parse(request.options.get(OptionNumber::Block2).unwrap().value).unwrap();
        let mut payload = [0u8; 1024];
        let mut src: &[u8] = &w.body;
        let slice = serve_block2(&mut src, Some(asked), Szx::S1024, &mut payload).unwrap();
        w.server
            .respond(id, Code::Content, |m| {
                m.add_uint(OptionNumber::Block2, slice.block.unwrap().to_uint())?;
                m.set_payload(&payload[..slice.len])
            })
            .unwrap();
        sum += pump(&mut w.server, SERVER, &mut w.client, now, &mut w.buf);
        let Some(Event::Response { exchange, response, .. }) = w.client.poll_event() else {
            panic!()
        };
        assert_eq!(exchange, ex);
        let b2 = BlockValue::parse(response.options.get(OptionNumber::Block2).unwrap().value).ok();
        let payload_len = response.payload.len();
        let mut copy = [0u8; 1024];
        copy[..payload_len].copy_from_slice(response.payload);
        match r.handle(b2, None, &copy[..payload_len]).unwrap() {
            Reassembly::Next(next) => block = next,
            Reassembly::Complete(n) => {
                sum += n;
                break;
            }
        }
    }

    // A notification to the observer registered before counting.
    let (id, _) = w.observers.iter().next().map(|(id, o)| (id, o.seq())).unwrap();
    w.server
        .notify(now, &mut w.observers, id, false, Code::Content, |m| m.set_payload(b"42"))
        .unwrap();
    sum += pump(&mut w.server, SERVER, &mut w.client, now, &mut w.buf);
    while let Some(ev) = w.client.poll_event() {
        if let Event::Response { response, .. } = ev {
            sum += response.payload.len();
        }
    }

    // A CON to a dead peer: retransmitted MAX_RETRANSMIT times, then Timeout.
    let _ = w.client.request(now, DEAD, true, Code::Post, |m| m.set_payload(b"hello")).unwrap();
    let mut t = now;
    loop {
        sum += pump(&mut w.client, CLIENT, &mut w.server, t, &mut w.buf);
        let Some(deadline) = w.client.poll_timeout() else { break };
        t = deadline;
        w.client.handle_timeout(t);
        if let Some(Event::Timeout { .. }) = w.client.poll_event() {
            break;
        }
    }

    // Malformed CON (token length 9): RST. A duplicate CON: cached answer.
    w.server.handle_datagram(now, CLIENT, &[0x49, 0x01, 0xab, 0xcd]);
    sum += pump(&mut w.server, SERVER, &mut w.client, now, &mut w.buf);
    let _ = w.client.poll_event();
    let con = [0x41, 0x01, 0x12, (now.as_millis() / 1000) as u8, 0xab];
    w.server.handle_datagram(now, CLIENT, &con);
    if let Some(Event::Request { id, .. }) = w.server.poll_event() {
        w.server.respond(id, Code::NotFound, |_| Ok(())).unwrap();
    }
    w.server.handle_datagram(now, CLIENT, &con);
    while w.server.poll_transmit(now, &mut w.buf).is_some() {
        sum += 1;
    }
    w.now = t;
    sum
}

#[test]
fn endpoint_allocates_nothing() {
    let mut w = Box::new(World {
        client: Endpoint::new(Config::default(), XorShiftRng::new(1)),
        server: Endpoint::new(Config::default(), XorShiftRng::new(2)),
        // NON notifications only: the rounds span simulated days.
        observers: ObserverRegistry::new(Duration::from_hours(24 * 365 * 100)),
        body: [0x5a; 3000],
        store: [0; 4096],
        buf: [0; MAX_MESSAGE_LEN],
        now: Instant::from_secs(1),
    });
    // The observation the rounds notify (client side too, so notifications
    // are delivered, not RST).
    let now = w.now;
    let _ = w
        .client
        .request(now, SERVER, true, Code::Get, |m| m.add_uint(OptionNumber::Observe, 0))
        .unwrap();
    pump(&mut w.client, CLIENT, &mut w.server, now, &mut w.buf);
    let Some(Event::Request { id, request, .. }) = w.server.poll_event() else { panic!() };
    let token = request.token;
    let (_, seq) = w.observers.register(CLIENT, token.as_bytes(), 0, now).unwrap();
    w.server.respond(id, Code::Content, |m| m.add_uint(OptionNumber::Observe, seq)).unwrap();
    let World { server, client, buf, .. } = &mut *w;
    pump(server, SERVER, client, now, buf);
    let _ = w.client.poll_event();

    // Warm up once, then count. The counter is global and the harness's own
    // thread may allocate a little meanwhile; the endpoint is deterministic,
    // so if a round allocated, every window of ROUNDS rounds would count at
    // least ROUNDS allocations. So: every window stays below ROUNDS, and at
    // least one window is exactly zero.
    const ROUNDS: usize = 200;
    let expected = round(&mut w);
    let mut windows = [0usize; 5];
    for win in windows.iter_mut() {
        let region = Region::new(GLOBAL);
        for _ in 0..ROUNDS {
            assert_eq!(round(&mut w), expected);
        }
        *win = region.change().allocations;
    }
    assert!(windows.iter().all(|a| *a < ROUNDS), "allocations per window: {windows:?}");
    assert!(windows.contains(&0), "allocations per window: {windows:?}");
}
