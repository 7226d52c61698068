//! CoAP codec benchmarks (divan): encoding and decoding a typical LwM2M
//! Register request and a 1 KiB Block2 response.
//!
//! `cargo bench -p lwm2m-core --bench coap`. The message sizes are printed
//! first; divan reports time per operation and throughput. `decode_*` is
//! `Repr::decode` alone (one pass over the options); `decode_and_walk_*` adds
//! what a receiver then does (checked view, parse, iterate every option, ask
//! for unknown critical options).

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::coap::{Message, MessageType, MessageWriter, Repr, Token};

/// The link-format payload of a Register (OMA-TS-LightweightM2M_Core 1.1
/// §6.2.1): the root with its rt/ct, and 12 object instances.
const OBJECTS: &[u8] = b"</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</1/1>,</3/0>,</4/0>,</5/0>,\
</6/0>,</7/0>,</10/0>,</10/1>,</3303/0>,</10264/0>,</10256/0>";

fn register_request(buf: &mut [u8]) -> usize {
    let token = Token::new(&[0x6b, 0x1f, 0x02, 0x9a]).unwrap_or_default();
    let Ok(mut w) = MessageWriter::new(buf, MessageType::Con, Code::Post, 0x3e21, token) else {
        return 0;
    };
    let ok = w.add_uri_path("/rd").is_ok()
        && w.add_content_format(ContentFormat::LinkFormat).is_ok()
        && w.add_uri_query("ep=urn:imei:490154203237518").is_ok()
        && w.add_uri_query("lt=86400").is_ok()
        && w.add_uri_query("lwm2m=1.1").is_ok()
        && w.add_uri_query("b=U").is_ok()
        && w.set_payload(OBJECTS).is_ok();
    if ok { w.len() } else { 0 }
}

fn block2_response(buf: &mut [u8], body: &[u8]) -> usize {
    let token = Token::new(&[0x6b, 0x1f, 0x02, 0x9b]).unwrap_or_default();
    let Ok(mut w) = MessageWriter::new(buf, MessageType::Ack, Code::Content, 0x3e22, token) else {
        return 0;
    };
    // Block2 NUM 2, M 1, SZX 6 (1024 bytes), RFC 7959 §2.2; Size2 4000.
    let ok = w.add_content_format(ContentFormat::Lwm2mTlv).is_ok()
        && w.add_uint(OptionNumber::Block2, (2 << 4) | (1 << 3) | 6).is_ok()
        && w.add_uint(OptionNumber::Size2, 4000).is_ok()
        && w.set_payload(body).is_ok();
    if ok { w.len() } else { 0 }
}

/// What a receiver does: check the view, parse, walk every option, ask for
/// unknown critical options.
fn decode_and_walk(bytes: &[u8]) -> usize {
    let Ok(msg) = Message::new_checked(bytes) else {
        return 0;
    };
    let Ok(repr) = Repr::parse(&msg) else {
        return 0;
    };
    let opts: usize = repr.options.iter().map(|o| o.value.len()).sum();
    opts + repr.payload.len() + usize::from(repr.first_unknown_critical().is_none())
}

fn main() {
    let mut buf = [0u8; 1280];
    let reg = register_request(&mut buf);
    let body = [0x5au8; 1024];
    let blk = block2_response(&mut buf, &body);
    println!("register request: {reg} B; Block2 response: {blk} B (payload 1024 B)");
    divan::main();
}

#[divan::bench]
fn encode_register(b: Bencher) {
    let mut buf = [0u8; 1280];
    let len = register_request(&mut buf);
    b.counter(BytesCount::new(len)).bench_local(|| register_request(black_box(&mut buf)));
}

/// Benchmark inputs, built once: a buffer and the message length in it.
enum Input {
    Register,
    Block2,
}

impl Input {
    fn build(&self) -> ([u8; 1280], usize) {
        let mut buf = [0u8; 1280];
        let len = match self {
            Input::Register => register_request(&mut buf),
            Input::Block2 => block2_response(&mut buf, &[0x5a; 1024]),
        };
        (buf, len)
    }
}

fn bench_decode(b: Bencher, input: Input) {
    let (buf, len) = input.build();
    let bytes = &buf[..len];
    b.counter(BytesCount::new(len))
        .bench_local(|| Repr::decode(black_box(bytes)).map(|r| r.payload.len()));
}

fn bench_decode_and_walk(b: Bencher, input: Input) {
    let (buf, len) = input.build();
    let bytes = &buf[..len];
    b.counter(BytesCount::new(len)).bench_local(|| decode_and_walk(black_box(bytes)));
}

#[divan::bench]
fn decode_register(b: Bencher) {
    bench_decode(b, Input::Register);
}

#[divan::bench]
fn decode_and_walk_register(b: Bencher) {
    bench_decode_and_walk(b, Input::Register);
}

#[divan::bench]
fn encode_block2_1k(b: Bencher) {
    let mut buf = [0u8; 1280];
    let body = [0x5au8; 1024];
    let len = block2_response(&mut buf, &body);
    b.counter(BytesCount::new(len))
        .bench_local(|| block2_response(black_box(&mut buf), black_box(&body)));
}

#[divan::bench]
fn decode_block2_1k(b: Bencher) {
    bench_decode(b, Input::Block2);
}

#[divan::bench]
fn decode_and_walk_block2_1k(b: Bencher) {
    bench_decode_and_walk(b, Input::Block2);
}

#[divan::bench]
fn reemit_register(b: Bencher) {
    // Repr::emit of a parsed message (what a cache re-send costs).
    let (bytes, len) = Input::Register.build();
    let mut out = [0u8; 1280];
    b.bench_local(|| match Repr::decode(black_box(&bytes[..len])) {
        Ok(repr) => repr.encode_into(black_box(&mut out)).unwrap_or(0),
        Err(_) => 0,
    });
}
