//! Encoding and decoding one Device object instance (/3/0, the TS example
//! values) in TLV, SenML JSON, SenML CBOR and LwM2M CBOR.
//!
//! `cargo bench -p lwm2m-core --bench formats` prints the encoded size of
//! each format first, then divan's timings.
#![allow(clippy::unwrap_used, reason = "benchmark")]

use divan::black_box;
use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::formats::{Decoder, Encoder, FormatError, Window, encode};
use lwm2m_core::path::Path;

#[path = "../tests/formats_fixtures/mod.rs"]
mod fixtures;
use fixtures::{device, device_types};

const FORMATS: [ContentFormat; 4] = [
    ContentFormat::Lwm2mTlv,
    ContentFormat::SenmlJson,
    ContentFormat::SenmlCbor,
    ContentFormat::Lwm2mCbor,
];

fn encode_device(format: ContentFormat, buf: &mut [u8]) -> usize {
    let base = Path::instance(3, 0).unwrap();
    let items = device(16);
    encode(format, &base, Window::new(buf), |enc: &mut dyn Encoder| {
        for (p, v) in &items {
            enc.write(p, v)?;
        }
        Ok::<(), FormatError>(())
    })
    .unwrap()
    .len
}

#[divan::bench(args = FORMATS)]
fn encode_device_instance(format: ContentFormat) -> usize {
    let mut buf = [0u8; 1024];
    encode_device(black_box(format), &mut buf)
}

#[divan::bench(args = FORMATS)]
fn decode_device_instance(bencher: divan::Bencher, format: ContentFormat) {
    let mut buf = [0u8; 1024];
    let n = encode_device(format, &mut buf);
    let base = Path::instance(3, 0).unwrap();
    bencher.bench_local(|| {
        let mut scratch = [0u8; 0];
        let d =
            Decoder::new(format, &base, black_box(&buf[..n]), &mut scratch, device_types).unwrap();
        d.fold(0usize, |n, item| {
            black_box(item.unwrap());
            n + 1
        })
    });
}

fn main() {
    for f in FORMATS {
        let mut buf = [0u8; 1024];
        println!("encoded size of /3/0 in {f}: {} bytes", encode_device(f, &mut buf));
    }
    divan::main();
}
