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
use lwm2m_core::value::{DataType, Value};

const FORMATS: [ContentFormat; 4] = [
    ContentFormat::Lwm2mTlv,
    ContentFormat::SenmlJson,
    ContentFormat::SenmlCbor,
    ContentFormat::Lwm2mCbor,
];

fn device() -> [(Path, Value<'static>); 16] {
    let r = |rid: u16| Path::resource(3, 0, rid).unwrap();
    let ri = |rid: u16, i: u16| Path::resource_instance(3, 0, rid, i).unwrap();
    [
        (r(0), Value::String("Open Mobile Alliance")),
        (r(1), Value::String("Lightweight M2M Client")),
        (r(2), Value::String("345000123")),
        (r(3), Value::String("1.0")),
        (ri(6, 0), Value::Integer(1)),
        (ri(6, 1), Value::Integer(5)),
        (ri(7, 0), Value::Integer(3800)),
        (ri(7, 1), Value::Integer(5000)),
        (ri(8, 0), Value::Integer(125)),
        (ri(8, 1), Value::Integer(900)),
        (r(9), Value::Integer(100)),
        (r(10), Value::Integer(15)),
        (ri(11, 0), Value::Integer(0)),
        (r(13), Value::Time(1367491215)),
        (r(14), Value::String("+02:00")),
        (r(16), Value::String("U")),
    ]
}

fn types(p: &Path) -> Option<DataType> {
    match p.resource_id()? {
        0..=3 | 14..=16 => Some(DataType::String),
        13 => Some(DataType::Time),
        _ => Some(DataType::Integer),
    }
}

fn encode_device(format: ContentFormat, buf: &mut [u8]) -> usize {
    let base = Path::instance(3, 0).unwrap();
    let items = device();
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
        let d = Decoder::new(format, &base, black_box(&buf[..n]), &mut scratch, types).unwrap();
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
