//! The store with the content-format codecs of `lwm2m-core`: a Read streams
//! straight into an encoder, and a decoded Write payload is typed by the
//! store's resource tables.

mod common;

use common::*;
use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::formats::{Decoder, FormatError, Window, encode};
use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_objects::{Caller, ObjectError, Operation, StaticDeviceInfo, WriteMode};

const DM: Caller = Caller::Server(101);

#[test]
fn read_streams_into_a_tlv_encoder() {
    let s = store_with(&[101]);
    let info = StaticDeviceInfo::default();
    let base = p("/3/0/9");
    let access = s.authorize(DM, Operation::Read, base).unwrap();
    let mut buf = [0u8; 16];
    let chunk = encode(ContentFormat::Lwm2mTlv, &base, Window::new(&mut buf), |enc| {
        s.read(&access, &info, &mut |p: Path, v: Value<'_>| {
            enc.write(&p, &v).map_err(|_| ObjectError::SinkFull)
        })
        .map_err(|_| FormatError::from(lwm2m_core::formats::EncodeError::OutsideBase))
    })
    .unwrap();
    // TS §7.4.3: resource 9 with a one-byte integer value 0.
    assert_eq!(&buf[..chunk.len], &[0xC1, 0x09, 0x00]);
}

#[test]
fn tlv_write_payload_is_typed_by_the_store() {
    let mut s = store_with(&[101]);
    let base = p("/1/0");
    // TLV: resource 1 (Lifetime) = 0x012C (300), resource 6 (Notification Storing) = 1 (Boolean).
    let payload = [0xC2, 0x01, 0x01, 0x2C, 0xC1, 0x06, 0x01];
    let mut scratch = [0u8; 0];
    let items: Vec<(Path, Value<'_>)> = {
        Decoder::new(ContentFormat::Lwm2mTlv, &base, &payload, &mut scratch, &s)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        items,
        vec![(p("/1/0/1"), Value::Integer(300)), (p("/1/0/6"), Value::Boolean(true))]
    );
    let access = s.authorize(DM, Operation::Write(WriteMode::PartialUpdate), base).unwrap();
    s.write(&access, &mut StaticDeviceInfo::default(), &items).unwrap();
    assert_eq!(value(&s, DM, "/1/0/1").unwrap(), "300");
}
