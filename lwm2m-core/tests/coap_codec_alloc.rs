//! Proof that the CoAP codec allocates nothing: a counting global allocator
//! (`stats_alloc`) wraps the system allocator for this test binary, and the
//! allocation count across encode, decode, emit, option iteration, the
//! `coap-message` traits and `Display` (into a fixed buffer) must stay zero.
//!
//! One `#[test]` only, so no other test allocates meanwhile.

use core::fmt::Write as _;
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::coap::{Message, MessageType, MessageWriter, Repr, Token};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// `core::fmt::Write` into a fixed array (formatting without a `String`).
struct FixedBuf {
    buf: [u8; 512],
    len: usize,
}

impl core::fmt::Write for FixedBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A register request, decoded, re-emitted and printed; returns a checksum
/// so nothing is optimised away.
fn codec_round(buf: &mut [u8], out: &mut [u8], text: &mut FixedBuf) -> usize {
    let token = Token::new(&[0xde, 0xad, 0xbe, 0xef]).unwrap();
    let mut w = MessageWriter::new(buf, MessageType::Con, Code::Post, 0x1234, token).unwrap();
    w.add_uri_path("/rd").unwrap();
    w.add_content_format(ContentFormat::LinkFormat).unwrap();
    w.add_uri_query("ep=urn:imei:490154203237518").unwrap();
    w.add_uri_query("lt=86400").unwrap();
    w.add_uri_query("lwm2m=1.1").unwrap();
    w.add_uri_query("b=U").unwrap();
    w.add_uint(OptionNumber::Block1, 0x0e).unwrap();
    w.set_payload(b"</1/0>,</3/0>,</4/0>,</5/0>").unwrap();
    let bytes = w.finish();

    let msg = Message::new_checked(&*bytes).unwrap();
    let repr = Repr::parse(&msg).unwrap();
    let n = repr.emit(&mut Message::new_unchecked(&mut out[..repr.buffer_len()])).unwrap();
    let opts = repr.options.iter().map(|o| o.value.len()).sum::<usize>();
    let queries = repr.options.get_all(OptionNumber::UriQuery).count();
    let crit = repr.first_unknown_critical().is_none() as usize;
    let handler = handler_view(&repr);
    text.len = 0;
    write!(text, "{repr}").unwrap();
    write!(text, "{msg}").unwrap();
    n + opts + queries + crit + handler + text.len
}

fn handler_view<M: coap_message::ReadableMessage>(m: &M) -> usize {
    use coap_message::MessageOption as _;
    m.options().map(|o| usize::from(o.number())).sum::<usize>() + m.payload().len()
}

#[test]
fn encode_and_decode_allocate_nothing() {
    let mut buf = [0u8; 512];
    let mut out = [0u8; 512];
    let mut text = FixedBuf { buf: [0; 512], len: 0 };

    // Warm up once (lazy statics), then count. The counter is global: the
    // test harness's own thread may allocate a few bytes while we run. The
    // codec is deterministic, so if one round allocated, every window of
    // ROUNDS rounds would show at least ROUNDS allocations; the harness
    // noise is a handful. So: every window stays below ROUNDS, and at least
    // one of several windows is exactly zero.
    const ROUNDS: usize = 1000;
    let expected = codec_round(&mut buf, &mut out, &mut text);
    let mut windows = Vec::with_capacity(8);
    for _ in 0..8 {
        let region = Region::new(GLOBAL);
        let mut sum = 0;
        for _ in 0..ROUNDS {
            sum += codec_round(&mut buf, &mut out, &mut text);
        }
        let stats = region.change();
        assert_eq!(sum, expected * ROUNDS);
        windows.push(stats);
    }
    for stats in &windows {
        assert!(stats.allocations < ROUNDS, "the CoAP codec allocates: {stats:?}");
    }
    assert!(
        windows.iter().any(|s| (s.allocations, s.reallocations, s.bytes_allocated) == (0, 0, 0)),
        "no allocation-free window: {windows:?}"
    );
    // The round really did something: the register request is in the text.
    let line = core::str::from_utf8(&text.buf[..text.len]).unwrap();
    assert!(line.starts_with("CON 0.02 mid=0x1234 tok=deadbeef Uri-Path:\"rd\""), "{line}");

    // And the counter does count: a Vec allocates.
    let region = Region::new(GLOBAL);
    let v = core::hint::black_box(vec![1u8; 16]);
    assert!(region.change().allocations >= 1);
    drop(v);
}
