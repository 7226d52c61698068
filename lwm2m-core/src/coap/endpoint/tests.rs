//! Unit tests of the endpoint: one RFC 7252 / RFC 7641 rule each, with the
//! peer played by byte literals and time driven through `now`.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]

extern crate std;
use std::string::ToString;
use std::vec::Vec;

use super::*;
use crate::coap::observe::ObserverRegistry;
use crate::rng::XorShiftRng;

type Ep = Endpoint<u8, XorShiftRng>;
const PEER: u8 = 7;

fn ep(seed: u32) -> Ep {
    Endpoint::new(Config::default(), XorShiftRng::new(seed))
}

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// Every datagram the endpoint has to send now.
fn drain(ep: &mut Ep, now: Instant) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    while let Some(t) = ep.poll_transmit(now, &mut buf) {
        out.push((t.remote, buf[..t.len].to_vec()));
    }
    out
}

/// One datagram, asserting there is exactly one.
fn one(ep: &mut Ep, now: Instant) -> Vec<u8> {
    let mut d = drain(ep, now);
    assert_eq!(d.len(), 1, "expected one datagram, got {d:?}");
    d.remove(0).1
}

fn no_event(ep: &mut Ep) {
    if let Some(e) = ep.poll_event() {
        panic!("unexpected event {e:?}");
    }
}

fn get_request(ep: &mut Ep, now: Instant, con: bool) -> ExchangeId {
    ep.request(now, PEER, con, Code::Get, |w| w.add_uri_path("temp")).unwrap()
}

#[test]
fn con_retransmits_with_doubling_timeout() {
    let mut c = ep(0x5eed);
    let t0 = at(10_000);
    let ex = get_request(&mut c, t0, true);
    let first = one(&mut c, t0);
    let mut sent_at = Vec::new();
    let mut now = t0;
    while let Some(deadline) = c.poll_timeout() {
        now = deadline;
        c.handle_timeout(now);
        for (_, bytes) in drain(&mut c, now) {
            assert_eq!(bytes, first, "a retransmission repeats the message byte for byte");
            sent_at.push(now);
        }
    }
    // MAX_RETRANSMIT = 4 retransmissions, at T, 3T, 7T, 15T with T the
    // initial timeout drawn from [ACK_TIMEOUT, ACK_TIMEOUT * 1.5].
    assert_eq!(sent_at.len(), 4);
    let t = (sent_at[0] - t0).as_millis();
    assert!((2000..=3000).contains(&t), "initial timeout {t} ms outside [2 s, 3 s]");
    let offsets: Vec<u64> = sent_at.iter().map(|s| (*s - t0).as_millis()).collect();
    assert_eq!(offsets, [t, 3 * t, 7 * t, 15 * t]);
    // Pinned for this seed, so a change in how the jitter is drawn shows:
    // the same seed must keep giving the same instants.
    assert_eq!(offsets, [2719, 8157, 19033, 40785]);
    // The k-th wait lies in [2 s, 3 s] * 2^k.
    let mut prev = t0;
    for (k, s) in sent_at.iter().enumerate() {
        let wait = (*s - prev).as_millis();
        assert!((2000 << k..=3000 << k).contains(&wait));
        prev = *s;
    }
    // Given up at 31T: a Timeout event, nothing more to wait for.
    assert_eq!((now - t0).as_millis(), 31 * t);
    match c.poll_event() {
        Some(Event::Timeout { exchange, remote: PEER, .. }) => assert_eq!(exchange, ex),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.exchanges_in_flight(), 0);
}

#[test]
fn retransmission_timing_is_reproducible_from_the_seed() {
    let timeouts = |seed| {
        let mut c = ep(seed);
        let _ = get_request(&mut c, at(0), true);
        let _ = drain(&mut c, at(0));
        c.poll_timeout().unwrap()
    };
    assert_eq!(timeouts(1), timeouts(1));
    let spread: std::collections::BTreeSet<_> = (1..20).map(timeouts).collect();
    assert!(spread.len() > 1, "the jitter must come from the RNG");
}

#[test]
fn handle_timeout_early_or_twice_does_nothing() {
    let mut c = ep(3);
    let _ = get_request(&mut c, at(0), true);
    let _ = drain(&mut c, at(0));
    let deadline = c.poll_timeout().unwrap();
    c.handle_timeout(at(1));
    assert!(drain(&mut c, at(1)).is_empty());
    c.handle_timeout(deadline);
    assert_eq!(drain(&mut c, deadline).len(), 1);
    c.handle_timeout(deadline);
    assert!(drain(&mut c, deadline).is_empty());
}

/// A CON GET /temp, MID 0x1234, token 0xab (RFC 7252 §3 layout).
const CON_GET: [u8; 10] = [0x41, 0x01, 0x12, 0x34, 0xab, 0xb4, b't', b'e', b'm', b'p'];

#[test]
fn piggybacked_response_answers_con_request() {
    let mut s = ep(1);
    s.handle_datagram(at(0), PEER, &CON_GET);
    let id = match s.poll_event() {
        Some(Event::Request { id, remote: PEER, request }) => {
            assert_eq!(request.code, Code::Get);
            assert_eq!(request.options.get(OptionNumber::UriPath).unwrap().value, b"temp");
            id
        }
        other => panic!("{other:?}"),
    };
    s.respond(id, Code::Content, |w| w.set_payload(b"22.5")).unwrap();
    // ACK 2.05, same MID and token, payload.
    assert_eq!(one(&mut s, at(0)), [0x61, 0x45, 0x12, 0x34, 0xab, 0xff, b'2', b'2', b'.', b'5']);
    assert_eq!(s.respond(id, Code::Content, |_| Ok(())), Err(EndpointError::UnknownRequest));
}

#[test]
fn duplicate_con_gets_cached_response() {
    let mut s = ep(1);
    s.handle_datagram(at(0), PEER, &CON_GET);
    let Some(Event::Request { id, .. }) = s.poll_event() else { panic!() };
    s.respond(id, Code::Content, |w| w.set_payload(b"v1")).unwrap();
    let first = one(&mut s, at(0));
    // The ACK was lost; the client retransmits within EXCHANGE_LIFETIME.
    s.handle_datagram(at(5_000), PEER, &CON_GET);
    no_event(&mut s);
    assert_eq!(one(&mut s, at(5_000)), first);
    // Before a response exists, a duplicate is ignored (no second event).
    s.handle_datagram(at(6_000), PEER, &[0x41, 0x01, 0x55, 0x55, 0xac, 0xb1, b'x']);
    let Some(Event::Request { .. }) = s.poll_event() else { panic!() };
    s.handle_datagram(at(6_500), PEER, &[0x41, 0x01, 0x55, 0x55, 0xac, 0xb1, b'x']);
    no_event(&mut s);
    assert!(drain(&mut s, at(6_500)).is_empty());
    // After EXCHANGE_LIFETIME (247 s) the same MID is a new message.
    s.handle_datagram(at(247_001), PEER, &CON_GET);
    assert!(matches!(s.poll_event(), Some(Event::Request { .. })));
}

#[test]
fn duplicate_from_another_peer_is_a_new_request() {
    let mut s = ep(1);
    s.handle_datagram(at(0), PEER, &CON_GET);
    let Some(Event::Request { id, .. }) = s.poll_event() else { panic!() };
    s.respond(id, Code::Content, |_| Ok(())).unwrap();
    let _ = drain(&mut s, at(0));
    s.handle_datagram(at(0), PEER + 1, &CON_GET);
    assert!(matches!(s.poll_event(), Some(Event::Request { remote, .. }) if remote == PEER + 1));
}

#[test]
fn unknown_critical_option_gets_4_02() {
    let mut s = ep(1);
    // CON GET, MID 0x1234, token 0x01, option 65001 (critical, experimental
    // range, unknown): delta 14 + two extension bytes 65001 - 269 = 0xfcdc.
    let con = [0x41, 0x01, 0x12, 0x34, 0x01, 0xe0, 0xfc, 0xdc];
    s.handle_datagram(at(0), PEER, &con);
    no_event(&mut s);
    // RFC 7252 §5.4.1: 4.02 Bad Option, piggybacked in the ACK.
    assert_eq!(one(&mut s, at(0)), [0x61, 0x82, 0x12, 0x34, 0x01]);
    // Its duplicate gets the same answer.
    s.handle_datagram(at(1), PEER, &con);
    assert_eq!(one(&mut s, at(1)), [0x61, 0x82, 0x12, 0x34, 0x01]);
    // In a NON request it is silently dropped.
    let non = [0x51, 0x01, 0x12, 0x35, 0x01, 0xe0, 0xfc, 0xdc];
    s.handle_datagram(at(2), PEER, &non);
    no_event(&mut s);
    assert!(drain(&mut s, at(2)).is_empty());
}

#[test]
fn unknown_elective_option_is_ignored() {
    let mut s = ep(1);
    // Option 65000 (elective, even): the request is delivered.
    s.handle_datagram(at(0), PEER, &[0x41, 0x01, 0x12, 0x34, 0x01, 0xe0, 0xfc, 0xdb]);
    assert!(matches!(s.poll_event(), Some(Event::Request { .. })));
}

#[test]
fn malformed_con_gets_rst() {
    let cases: [&[u8]; 5] = [
        // Token length 9 (reserved).
        &[0x49, 0x01, 0xab, 0xcd],
        // Payload marker without payload.
        &[0x40, 0x01, 0xab, 0xcd, 0xff],
        // Option delta nibble 15 that is not the payload marker.
        &[0x40, 0x01, 0xab, 0xcd, 0xf1, 0x00],
        // Truncated option value.
        &[0x40, 0x01, 0xab, 0xcd, 0xb4, b't'],
        // Reserved code class 1.
        &[0x40, 0x21, 0xab, 0xcd],
    ];
    for bytes in cases {
        let mut s = ep(1);
        s.handle_datagram(at(0), PEER, bytes);
        no_event(&mut s);
        assert_eq!(one(&mut s, at(0)), [0x70, 0x00, 0xab, 0xcd], "for {bytes:02x?}");
    }
}

#[test]
fn malformed_non_ack_and_other_versions_are_dropped_silently() {
    let cases: [&[u8]; 5] = [
        &[0x59, 0x01, 0xab, 0xcd],       // NON, token length 9
        &[0x60, 0x01, 0xab, 0xcd, 0xff], // ACK, marker without payload
        &[0x81, 0x01, 0xab, 0xcd, 0x00], // version 2
        &[0x40, 0x01, 0xab],             // shorter than a header
        &[],
    ];
    for bytes in cases {
        let mut s = ep(1);
        s.handle_datagram(at(0), PEER, bytes);
        no_event(&mut s);
        assert!(drain(&mut s, at(0)).is_empty(), "for {bytes:02x?}");
    }
}

#[test]
fn ping_gets_rst() {
    // RFC 7252 §4.3: an empty CON ("CoAP ping") is answered with RST.
    let mut s = ep(1);
    s.handle_datagram(at(0), PEER, &[0x40, 0x00, 0x00, 0x07]);
    assert_eq!(one(&mut s, at(0)), [0x70, 0x00, 0x00, 0x07]);
    no_event(&mut s);
}

#[test]
fn non_request_gets_non_response() {
    let mut s = ep(1);
    s.handle_datagram(at(0), PEER, &[0x51, 0x01, 0x20, 0x00, 0x77]);
    let Some(Event::Request { id, .. }) = s.poll_event() else { panic!() };
    s.respond(id, Code::Content, |w| w.set_payload(b"x")).unwrap();
    let r = one(&mut s, at(0));
    let repr = Repr::decode(&r).unwrap();
    assert_eq!(repr.msg_type, MessageType::Non);
    assert_eq!(repr.token.as_bytes(), [0x77]);
    assert_eq!(repr.code, Code::Content);
    // A duplicated NON is ignored (§4.5), not answered again.
    s.handle_datagram(at(1), PEER, &[0x51, 0x01, 0x20, 0x00, 0x77]);
    no_event(&mut s);
    assert!(drain(&mut s, at(1)).is_empty());
}

fn sent_request(c: &mut Ep, now: Instant) -> (ExchangeId, u16, Token) {
    let ex = get_request(c, now, true);
    let req = one(c, now);
    let r = Repr::decode(&req).unwrap();
    assert_eq!(r.msg_type, MessageType::Con);
    assert_eq!(r.token.len(), config::TOKEN_LEN);
    (ex, r.message_id, r.token)
}

fn bytes_of(repr: Repr<'_>) -> Vec<u8> {
    let mut b = std::vec![0u8; repr.buffer_len()];
    repr.encode_into(&mut b).unwrap();
    b
}

#[test]
fn piggybacked_response_matches_mid_and_token() {
    let mut c = ep(9);
    let (ex, mid, token) = sent_request(&mut c, at(0));
    // Same MID, wrong token: rejected, still waiting.
    let wrong = Repr {
        msg_type: MessageType::Ack,
        code: Code::Content,
        message_id: mid,
        token: Token::new(&[1]).unwrap(),
        options: crate::coap::Options::EMPTY,
        payload: b"no",
    };
    c.handle_datagram(at(10), PEER, &bytes_of(wrong));
    no_event(&mut c);
    let right = Repr { token, payload: b"yes", ..wrong };
    c.handle_datagram(at(20), PEER, &bytes_of(right));
    match c.poll_event() {
        Some(Event::Response { exchange, response, .. }) => {
            assert_eq!(exchange, ex);
            assert_eq!(response.payload, b"yes");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.poll_timeout(), None, "answered: no retransmission");
}

#[test]
fn separate_response_is_acked() {
    let mut c = ep(9);
    let (ex, mid, token) = sent_request(&mut c, at(0));
    // Empty ACK: stop retransmitting, wait for the response.
    c.handle_datagram(at(100), PEER, &bytes_of(Repr::empty(MessageType::Ack, mid)));
    no_event(&mut c);
    assert_eq!(c.poll_timeout(), Some(at(100) + Config::default().response_timeout));
    // The separate response, CON with the server's own MID 0x7777.
    let rsp = Repr {
        msg_type: MessageType::Con,
        code: Code::Content,
        message_id: 0x7777,
        token,
        options: crate::coap::Options::EMPTY,
        payload: b"late",
    };
    c.handle_datagram(at(2_000), PEER, &bytes_of(rsp));
    // RFC 7252 §5.2.2: the client ACKs it (empty ACK, the response's MID).
    assert_eq!(one(&mut c, at(2_000)), [0x60, 0x00, 0x77, 0x77]);
    match c.poll_event() {
        Some(Event::Response { exchange, response, .. }) => {
            assert_eq!((exchange, response.payload), (ex, &b"late"[..]));
        }
        other => panic!("{other:?}"),
    }
    // Its retransmission (our ACK was lost) is ACKed again, not delivered twice.
    c.handle_datagram(at(4_000), PEER, &bytes_of(rsp));
    assert_eq!(one(&mut c, at(4_000)), [0x60, 0x00, 0x77, 0x77]);
    no_event(&mut c);
}

#[test]
fn separate_response_with_unknown_token_gets_rst() {
    let mut c = ep(9);
    let rsp = Repr {
        msg_type: MessageType::Con,
        code: Code::Content,
        message_id: 0x0102,
        token: Token::new(&[9, 9]).unwrap(),
        options: crate::coap::Options::EMPTY,
        payload: b"?",
    };
    c.handle_datagram(at(0), PEER, &bytes_of(rsp));
    assert_eq!(one(&mut c, at(0)), [0x70, 0x00, 0x01, 0x02]);
    no_event(&mut c);
}

#[test]
fn rst_to_a_request_is_reported() {
    let mut c = ep(9);
    let (ex, mid, _) = sent_request(&mut c, at(0));
    c.handle_datagram(at(5), PEER, &bytes_of(Repr::empty(MessageType::Rst, mid)));
    assert_eq!(
        c.poll_event(),
        Some(Event::Reset { exchange: Some(ex), remote: PEER, message_id: mid })
    );
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn nstart_holds_a_second_con_until_the_first_completes() {
    let mut c = ep(9);
    let (_, mid, token) = sent_request(&mut c, at(0));
    let _second = get_request(&mut c, at(0), true);
    assert!(drain(&mut c, at(0)).is_empty(), "NSTART = 1: one outstanding CON per peer");
    // Another peer is not held back.
    let _ = c.request(at(0), PEER + 1, true, Code::Get, |_| Ok(())).unwrap();
    assert_eq!(drain(&mut c, at(0)).len(), 1);
    let ack = Repr {
        msg_type: MessageType::Ack,
        code: Code::Content,
        message_id: mid,
        token,
        options: crate::coap::Options::EMPTY,
        payload: &[],
    };
    c.handle_datagram(at(10), PEER, &bytes_of(ack));
    let _ = c.poll_event();
    let d = drain(&mut c, at(10));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0, PEER);
}

#[test]
fn deferred_request_gets_empty_ack_then_con_response() {
    let mut s = ep(4);
    s.handle_datagram(at(0), PEER, &CON_GET);
    let Some(Event::Request { id, .. }) = s.poll_event() else { panic!() };
    s.defer(id).unwrap();
    assert_eq!(one(&mut s, at(0)), [0x60, 0x00, 0x12, 0x34]);
    // The request's retransmission gets the empty ACK again.
    s.handle_datagram(at(100), PEER, &CON_GET);
    assert_eq!(one(&mut s, at(100)), [0x60, 0x00, 0x12, 0x34]);
    s.respond(id, Code::Content, |w| w.set_payload(b"done")).unwrap();
    let rsp = one(&mut s, at(1_000));
    let r = Repr::decode(&rsp).unwrap();
    assert_eq!(
        (r.msg_type, r.code, r.token.as_bytes()),
        (MessageType::Con, Code::Content, &[0xab][..])
    );
    assert_ne!(r.message_id, 0x1234, "a separate response has its own MID");
    // Unacknowledged: retransmitted.
    let d = s.poll_timeout().unwrap();
    s.handle_timeout(d);
    assert_eq!(one(&mut s, d), rsp);
    // ACKed: done.
    s.handle_datagram(d, PEER, &bytes_of(Repr::empty(MessageType::Ack, r.message_id)));
    assert!(matches!(s.poll_event(), Some(Event::Acknowledged { remote: PEER, .. })));
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn full_exchange_table_is_an_error_not_a_panic() {
    let mut c = ep(2);
    for i in 0..config::MAX_EXCHANGES {
        c.request(at(0), i as u8, false, Code::Get, |_| Ok(())).unwrap();
    }
    assert_eq!(c.request(at(0), 99, false, Code::Get, |_| Ok(())), Err(EndpointError::QueueFull));
    let big = [0u8; MAX_MESSAGE_LEN];
    let mut s = ep(2);
    assert_eq!(
        s.request(at(0), 1, true, Code::Put, |w| w.set_payload(&big)),
        Err(EndpointError::Message(Error::BufferTooSmall))
    );
}

/// A server-side observation: registered by GET Observe=0, notified.
fn observed(
    s: &mut Ep,
    reg: &mut ObserverRegistry<u8, &'static str, 2>,
    now: Instant,
) -> ObserverId {
    // CON GET /temp Observe=0 (empty uint), MID 0x0100, token 0x0b.
    s.handle_datagram(
        now,
        PEER,
        &[0x41, 0x01, 0x01, 0x00, 0x0b, 0x60, 0x54, b't', b'e', b'm', b'p'],
    );
    let Some(Event::Request { id, request, .. }) = s.poll_event() else { panic!() };
    assert_eq!(request.options.get_uint(OptionNumber::Observe), Some(0));
    let (obs, seq) = reg.register(PEER, request.token.as_bytes(), "/temp", now).unwrap();
    s.respond(id, Code::Content, |w| {
        w.add_uint(OptionNumber::Observe, seq)?;
        w.set_payload(b"20")
    })
    .unwrap();
    let _ = drain(s, now);
    obs
}

#[test]
fn observe_cancelled_by_rst() {
    let mut s = ep(5);
    let mut reg = ObserverRegistry::<u8, &'static str, 2>::default();
    let obs = observed(&mut s, &mut reg, at(0));
    s.notify(at(1_000), &mut reg, obs, false, Code::Content, |w| w.set_payload(b"21")).unwrap();
    let n = one(&mut s, at(1_000));
    let r = Repr::decode(&n).unwrap();
    assert_eq!(r.msg_type, MessageType::Non, "within con_interval: NON");
    assert_eq!(r.token.as_bytes(), [0x0b]);
    assert_eq!(r.options.get_uint(OptionNumber::Observe), Some(reg.get(obs).unwrap().seq()));
    // The client has forgotten the observation and RSTs the notification.
    s.handle_datagram(at(1_100), PEER, &bytes_of(Repr::empty(MessageType::Rst, r.message_id)));
    let Some(Event::Reset { remote, message_id, .. }) = s.poll_event() else { panic!() };
    assert_eq!(reg.cancel_by_mid(remote, message_id), Some("/temp"));
    assert!(reg.is_empty());
}

#[test]
fn con_notification_is_sent_after_con_interval_and_times_out_when_unacked() {
    let mut s = ep(5);
    let mut reg = ObserverRegistry::<u8, &'static str, 2>::new(Duration::from_secs(60));
    let obs = observed(&mut s, &mut reg, at(0));
    let ex =
        s.notify(at(60_000), &mut reg, obs, false, Code::Content, |w| w.set_payload(b"9")).unwrap();
    let n = one(&mut s, at(60_000));
    let mid = Repr::decode(&n).unwrap().message_id;
    assert_eq!(Repr::decode(&n).unwrap().msg_type, MessageType::Con);
    while let Some(d) = s.poll_timeout() {
        s.handle_timeout(d);
        let _ = drain(&mut s, d);
    }
    // RFC 7641 §4.5: an unacknowledged CON notification ends the observation.
    assert_eq!(
        s.poll_event(),
        Some(Event::Timeout { exchange: ex, remote: PEER, message_id: mid })
    );
    assert_eq!(reg.cancel_by_mid(PEER, mid), Some("/temp"));
}

/// The client sends CON GET /temp with Observe = 0; returns the exchange
/// and the datagram.
fn observe_temp(c: &mut Ep) -> (ExchangeId, Vec<u8>) {
    let ex = c
        .request(at(0), PEER, true, Code::Get, |w| {
            w.add_uint(OptionNumber::Observe, 0)?;
            w.add_uri_path("temp")
        })
        .unwrap();
    (ex, one(c, at(0)))
}

#[test]
fn client_observation_drops_reordered_notifications() {
    let mut c = ep(11);
    let (ex, req) = observe_temp(&mut c);
    let r = Repr::decode(&req).unwrap();
    let (mid, token) = (r.message_id, r.token);
    let observe = |seq: u32| {
        let mut opt = [0u8; 8];
        let v = crate::coap::UintValue::new(seq);
        let mut w =
            MessageWriter::new(&mut opt, MessageType::Ack, Code::Empty, 0, Token::EMPTY).unwrap();
        w.add_option(OptionNumber::Observe, v.as_bytes()).unwrap();
        let len = w.len();
        opt[4..len].to_vec()
    };
    let first_opts = observe(5);
    let ack = Repr {
        msg_type: MessageType::Ack,
        code: Code::Content,
        message_id: mid,
        token,
        options: crate::coap::Options::parse(&first_opts).unwrap(),
        payload: b"a",
    };
    c.handle_datagram(at(10), PEER, &bytes_of(ack));
    assert!(matches!(c.poll_event(), Some(Event::Response { exchange, .. }) if exchange == ex));
    assert_eq!(c.poll_timeout(), None, "an observation waits for notifications without deadline");
    let notif = |seq: u32, mid: u16, payload: &'static [u8]| (observe(seq), mid, payload);
    for (opts, nmid, payload, delivered) in [
        (notif(7, 0x0a00, b"b"), true),
        (notif(6, 0x0a01, b"late"), false), // reordered: older than 7
        (notif(8, 0x0a02, b"c"), true),
    ]
    .map(|((o, m, p), d)| (o, m, p, d))
    {
        let n = Repr {
            msg_type: MessageType::Non,
            code: Code::Content,
            message_id: nmid,
            token,
            options: crate::coap::Options::parse(&opts).unwrap(),
            payload,
        };
        c.handle_datagram(at(1_000), PEER, &bytes_of(n));
        match c.poll_event() {
            Some(Event::Response { response, .. }) => {
                assert!(delivered, "stale notification delivered");
                assert_eq!(response.payload, payload);
            }
            None => assert!(!delivered, "fresh notification dropped"),
            other => panic!("{other:?}"),
        }
    }
    // Forgotten: the next notification is rejected with RST.
    c.forget(ex);
    let opts = observe(9);
    let n = Repr {
        msg_type: MessageType::Non,
        code: Code::Content,
        message_id: 0x0a03,
        token,
        options: crate::coap::Options::parse(&opts).unwrap(),
        payload: b"d",
    };
    c.handle_datagram(at(2_000), PEER, &bytes_of(n));
    assert_eq!(one(&mut c, at(2_000)), [0x70, 0x00, 0x0a, 0x03]);
}

#[test]
fn undrained_event_holds_back_the_next_request() {
    let mut s = ep(1);
    s.handle_datagram(at(0), PEER, &CON_GET);
    // Not drained: a second request is left to its sender's retransmission.
    s.handle_datagram(at(1), PEER, &[0x41, 0x01, 0x99, 0x99, 0x01]);
    let Some(Event::Request { request, .. }) = s.poll_event() else { panic!() };
    assert_eq!(request.message_id, 0x1234);
    no_event(&mut s);
    s.handle_datagram(at(2), PEER, &[0x41, 0x01, 0x99, 0x99, 0x01]);
    assert!(matches!(s.poll_event(), Some(Event::Request { .. })));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_datagrams_never_panic(dgrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..20), seed in any::<u32>()) {
            let mut e = ep(seed);
            let _ = get_request(&mut e, at(0), true);
            let mut now = 0;
            for d in dgrams {
                now += 500;
                e.handle_datagram(at(now), PEER, &d);
                while let Some(ev) = e.poll_event() {
                    if let Event::Request { id, .. } = ev {
                        let _ = e.respond(id, Code::Content, |_| Ok(()));
                    }
                }
                e.handle_timeout(at(now));
                let _ = drain(&mut e, at(now));
            }
        }
    }
}

#[test]
fn observation_cancelled_by_get_with_observe_1_and_same_token() {
    let mut c = ep(12);
    let (obs, req) = observe_temp(&mut c);
    let r = Repr::decode(&req).unwrap();
    let opts = [0x61, 0x05]; // Observe: 5
    let ack = Repr {
        msg_type: MessageType::Ack,
        code: Code::Content,
        message_id: r.message_id,
        token: r.token,
        options: crate::coap::Options::parse(&opts).unwrap(),
        payload: b"a",
    };
    c.handle_datagram(at(1), PEER, &bytes_of(ack));
    let _ = c.poll_event().unwrap();
    let cancel = c.cancel_observation(obs, |w| w.add_uri_path("temp")).unwrap();
    let sent = one(&mut c, at(2));
    let s = Repr::decode(&sent).unwrap();
    assert_eq!((s.msg_type, s.code, s.token), (MessageType::Con, Code::Get, r.token));
    assert_eq!(s.options.get_uint(OptionNumber::Observe), Some(1));
    assert_eq!(s.options.get(OptionNumber::UriPath).unwrap().value, b"temp");
    // The plain response (no Observe) answers the cancellation.
    let rsp = Repr {
        message_id: s.message_id,
        options: crate::coap::Options::EMPTY,
        payload: b"b",
        ..ack
    };
    c.handle_datagram(at(3), PEER, &bytes_of(rsp));
    assert!(matches!(c.poll_event(), Some(Event::Response { exchange, .. }) if exchange == cancel));
    assert_eq!(c.cancel_observation(obs, |_| Ok(())), Err(EndpointError::UnknownRequest));
}

#[test]
fn events_display_one_line() {
    let mut s = ep(1);
    s.handle_datagram(at(0), PEER, &CON_GET);
    let line = s.poll_event().unwrap().to_string();
    assert!(line.starts_with("request req#1 from 7: CON 0.01 mid=0x1234 tok=ab"), "{line}");
    assert!(!line.contains('\n'));
}

#[test]
fn endpoint_memory_is_fixed_and_bounded() {
    // (1 + MAX_EXCHANGES + DEDUP_CAPACITY) message buffers plus bookkeeping.
    let buffers = (1 + config::MAX_EXCHANGES + config::DEDUP_CAPACITY) * MAX_MESSAGE_LEN;
    let size = core::mem::size_of::<Endpoint<core::net::SocketAddr, XorShiftRng>>();
    std::eprintln!("size_of Endpoint<SocketAddr, XorShiftRng> = {size} B (buffers {buffers} B)");
    assert!(size >= buffers && size < buffers + 2048, "{size}");
}

/// An RNG that always says the same thing.
struct Stuck;
impl crate::rng::Rng for Stuck {
    fn next_u32(&mut self) -> u32 {
        0
    }
}

#[test]
fn a_constant_rng_still_gets_distinct_tokens() {
    let mut c = Endpoint::<u8, Stuck>::new(Config::default(), Stuck);
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let mut tokens = Vec::new();
    for _ in 0..config::MAX_EXCHANGES {
        let _ = c.request(at(0), PEER, false, Code::Get, |_| Ok(())).unwrap();
        let t = c.poll_transmit(at(0), &mut buf).unwrap();
        tokens.push(Repr::decode(&buf[..t.len]).unwrap().token);
    }
    tokens.sort_by_key(|t| t.as_bytes().to_vec());
    tokens.dedup();
    assert_eq!(tokens.len(), config::MAX_EXCHANGES);
}

#[test]
fn con_notification_in_flight_is_replaced_not_queued() {
    let mut s = ep(5);
    let mut reg = ObserverRegistry::<u8, &'static str, 2>::default();
    let obs = observed(&mut s, &mut reg, at(0));
    let first =
        s.notify(at(1_000), &mut reg, obs, true, Code::Content, |w| w.set_payload(b"1")).unwrap();
    let n1 = Repr::decode(&one(&mut s, at(1_000))).unwrap().message_id;
    // Not acknowledged yet: the next state replaces it in the same slot.
    let second =
        s.notify(at(1_500), &mut reg, obs, false, Code::Content, |w| w.set_payload(b"2")).unwrap();
    assert_eq!(first, second);
    assert_eq!(s.exchanges_in_flight(), 1);
    assert!(
        drain(&mut s, at(1_500)).is_empty(),
        "the replacement waits for the retransmission timer"
    );
    // The retransmission carries the new state, still CON, with a new MID.
    let d = s.poll_timeout().unwrap();
    assert!(d >= at(3_000) && d <= at(4_000), "timer kept from the first transmission: {d}");
    s.handle_timeout(d);
    let rt = one(&mut s, d);
    let r = Repr::decode(&rt).unwrap();
    assert_eq!((r.msg_type, r.payload), (MessageType::Con, &b"2"[..]));
    assert_ne!(r.message_id, n1);
    assert_eq!(r.options.get_uint(OptionNumber::Observe), Some(reg.get(obs).unwrap().seq()));
    s.handle_datagram(d, PEER, &bytes_of(Repr::empty(MessageType::Ack, r.message_id)));
    assert_eq!(s.poll_event(), Some(Event::Acknowledged { exchange: first, remote: PEER }));
    assert_eq!(s.exchanges_in_flight(), 0);
}

#[test]
fn a_request_made_while_the_transmit_queue_is_full_is_still_sent() {
    let mut c = ep(21);
    // TRANSMIT_QUEUE_LEN CoAP pings (empty CON), each answered with RST
    // (RFC 7252 §4.3), fill the transmit queue before anything is polled.
    for i in 0..TRANSMIT_QUEUE_LEN {
        let mid = u16::try_from(0x100 + i).unwrap().to_be_bytes();
        c.handle_datagram(
            at(0),
            PEER + 1 + u8::try_from(i).unwrap(),
            &[0x40, 0x00, mid[0], mid[1]],
        );
    }
    // A new CON request now finds the queue full; it must not be lost (a
    // CON that never went out has no retransmission timer to recover it).
    let _ = c.request(at(0), PEER, true, Code::Get, |_| Ok(())).unwrap();
    let sent = drain(&mut c, at(0));
    assert_eq!(sent.len(), TRANSMIT_QUEUE_LEN + 1, "{sent:?}");
    let requests: Vec<&Vec<u8>> =
        sent.iter().filter(|(to, _)| *to == PEER).map(|(_, d)| d).collect();
    assert_eq!(requests.len(), 1, "the request went out once");
    assert_eq!(requests[0][0] & 0x30, 0x00, "a CON");
    assert_eq!(requests[0][1], 0x01, "GET");
    // And it is retransmitted like any other CON.
    assert!(c.poll_timeout().is_some_and(|t| t > at(0)), "a retransmission timer");
}
