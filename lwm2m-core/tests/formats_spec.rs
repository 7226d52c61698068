//! Byte-exact tests against the examples of OMA-TS-LightweightM2M_Core
//! (TLV §7.4.3, SenML JSON §7.4.4, SenML CBOR §7.4.5, LwM2M JSON 1.0 §6.4.4),
//! RFC 6690 (link format) and RFC 8428 (SenML base values).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::formats::link::{Attr, LinkParser, LinkWriter};
use lwm2m_core::formats::senml_json::SenmlJsonDecoder;
use lwm2m_core::formats::{
    Chunk, DecodeError, Decoder, EncodeError, Encoder, NegotiationError, NoTypes, Window, encode,
};
use lwm2m_core::path::Path;
use lwm2m_core::value::{DataType, Value};

mod formats_fixtures;
use formats_fixtures::{device, device_types};

#[derive(Debug)]
enum TestError {
    #[allow(dead_code)]
    Encode(EncodeError),
    #[allow(dead_code)]
    Negotiation(NegotiationError),
}
impl From<EncodeError> for TestError {
    fn from(e: EncodeError) -> Self {
        TestError::Encode(e)
    }
}
impl From<NegotiationError> for TestError {
    fn from(e: NegotiationError) -> Self {
        TestError::Negotiation(e)
    }
}

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

fn encode_all(
    format: ContentFormat,
    base: &Path,
    items: &[(Path, Value<'_>)],
    buf: &mut [u8],
) -> Result<Chunk, TestError> {
    encode(format, base, Window::new(buf), |enc: &mut dyn Encoder| {
        for (path, v) in items {
            enc.write(path, v)?;
        }
        Ok(())
    })
}

fn decode_all<'a>(
    format: ContentFormat,
    base: &Path,
    payload: &'a [u8],
    scratch: &'a mut [u8],
    types: impl Fn(&Path) -> Option<DataType>,
) -> Result<Vec<(Path, Value<'a>)>, DecodeError> {
    Decoder::new(format, base, payload, scratch, types).unwrap().collect()
}

/// OMA-TS-LightweightM2M_Core, TLV example "Read on Device Object Instance
/// /3/0", as published (binding "U" under identifier 0x0F).
const TS_DEVICE_TLV: [u8; 121] = [
    0xC8, 0x00, 0x14, 0x4F, 0x70, 0x65, 0x6E, 0x20, 0x4D, 0x6F, 0x62, 0x69, 0x6C, 0x65, 0x20, 0x41,
    0x6C, 0x6C, 0x69, 0x61, 0x6E, 0x63, 0x65, 0xC8, 0x01, 0x16, 0x4C, 0x69, 0x67, 0x68, 0x74, 0x77,
    0x65, 0x69, 0x67, 0x68, 0x74, 0x20, 0x4D, 0x32, 0x4D, 0x20, 0x43, 0x6C, 0x69, 0x65, 0x6E, 0x74,
    0xC8, 0x02, 0x09, 0x33, 0x34, 0x35, 0x30, 0x30, 0x30, 0x31, 0x32, 0x33, 0xC3, 0x03, 0x31, 0x2E,
    0x30, 0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05, 0x88, 0x07, 0x08, 0x42, 0x00, 0x0E, 0xD8,
    0x42, 0x01, 0x13, 0x88, 0x87, 0x08, 0x41, 0x00, 0x7D, 0x42, 0x01, 0x03, 0x84, 0xC1, 0x09, 0x64,
    0xC1, 0x0A, 0x0F, 0x83, 0x0B, 0x41, 0x00, 0x00, 0xC4, 0x0D, 0x51, 0x82, 0x42, 0x8F, 0xC6, 0x0E,
    0x2B, 0x30, 0x32, 0x3A, 0x30, 0x30, 0xC1, 0x0F, 0x55,
];

#[test]
fn tlv_read_of_device_instance_matches_the_ts_bytes() {
    let mut buf = [0xa5u8; 200];
    let c = encode_all(ContentFormat::Lwm2mTlv, &p("/3/0"), &device(15), &mut buf).unwrap();
    assert_eq!(&buf[..c.len], &TS_DEVICE_TLV[..]);
    assert!(!c.more);
    assert!(buf[c.len..].iter().all(|&b| b == 0xa5));
}

#[test]
fn tlv_device_instance_decodes_to_the_ts_values() {
    let got =
        decode_all(ContentFormat::Lwm2mTlv, &p("/3/0"), &TS_DEVICE_TLV, &mut [], device_types);
    assert_eq!(got.unwrap(), device(15));
}

#[test]
fn tlv_without_types_yields_raw_bytes() {
    let got = decode_all(ContentFormat::Lwm2mTlv, &p("/3/0"), &TS_DEVICE_TLV, &mut [], |_| None);
    let got = got.unwrap();
    assert_eq!(got[9], (p("/3/0/8/1"), Value::Opaque(&[0x03, 0x84])));
    assert_eq!(got[13], (p("/3/0/13"), Value::Opaque(&[0x51, 0x82, 0x42, 0x8F])));
}

/// TS TLV example: Read on the Access Control object /2 (two instances, the
/// ACL multiple resource, a 16-bit resource instance identifier).
const TS_ACCESS_CONTROL_TLV: [u8; 38] = [
    0x08, 0x00, 0x0E, 0xC1, 0x00, 0x01, 0xC1, 0x01, 0x00, 0x83, 0x02, 0x41, 0x7F, 0x07, 0xC1, 0x03,
    0x7F, 0x08, 0x02, 0x12, 0xC1, 0x00, 0x03, 0xC1, 0x01, 0x00, 0x87, 0x02, 0x41, 0x7F, 0x07, 0x61,
    0x01, 0x36, 0x01, 0xC1, 0x03, 0x7F,
];

fn access_control() -> Vec<(Path, Value<'static>)> {
    vec![
        (p("/2/0/0"), Value::Integer(1)),
        (p("/2/0/1"), Value::Integer(0)),
        (p("/2/0/2/127"), Value::Integer(7)),
        (p("/2/0/3"), Value::Integer(127)),
        (p("/2/2/0"), Value::Integer(3)),
        (p("/2/2/1"), Value::Integer(0)),
        (p("/2/2/2/127"), Value::Integer(7)),
        (p("/2/2/2/310"), Value::Integer(1)),
        (p("/2/2/3"), Value::Integer(127)),
    ]
}

#[test]
fn tlv_read_of_access_control_object_matches_the_ts_bytes() {
    let mut buf = [0u8; 64];
    let c = encode_all(ContentFormat::Lwm2mTlv, &p("/2"), &access_control(), &mut buf).unwrap();
    assert_eq!(&buf[..c.len], &TS_ACCESS_CONTROL_TLV[..]);
    let ints = |_: &Path| Some(DataType::Integer);
    let got = decode_all(ContentFormat::Lwm2mTlv, &p("/2"), &TS_ACCESS_CONTROL_TLV, &mut [], ints);
    assert_eq!(got.unwrap(), access_control());
}

/// TS TLV example: Read on object 66 with object links (the second one is
/// the "no link" value 65535:65535).
const TS_OBJLNK_TLV: [u8; 82] = [
    0x08, 0x00, 0x26, 0xC8, 0x00, 0x0B, 0x6D, 0x79, 0x53, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65, 0x20,
    0x31, 0xC8, 0x01, 0x0F, 0x49, 0x6E, 0x74, 0x65, 0x72, 0x6E, 0x65, 0x74, 0x2E, 0x31, 0x35, 0x2E,
    0x32, 0x33, 0x34, 0xC4, 0x02, 0x00, 0x43, 0x00, 0x00, 0x08, 0x01, 0x26, 0xC8, 0x00, 0x0B, 0x6D,
    0x79, 0x53, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65, 0x20, 0x32, 0xC8, 0x01, 0x0F, 0x49, 0x6E, 0x74,
    0x65, 0x72, 0x6E, 0x65, 0x74, 0x2E, 0x31, 0x35, 0x2E, 0x32, 0x33, 0x35, 0xC4, 0x02, 0xFF, 0xFF,
    0xFF, 0xFF,
];

#[test]
fn tlv_object_links_match_the_ts_example() {
    let items = vec![
        (p("/66/0/0"), Value::String("myService 1")),
        (p("/66/0/1"), Value::String("Internet.15.234")),
        (p("/66/0/2"), Value::Objlnk(67, 0)),
        (p("/66/1/0"), Value::String("myService 2")),
        (p("/66/1/1"), Value::String("Internet.15.235")),
        (p("/66/1/2"), Value::Objlnk(65535, 65535)),
    ];
    let mut buf = [0u8; 100];
    let c = encode_all(ContentFormat::Lwm2mTlv, &p("/66"), &items, &mut buf).unwrap();
    assert_eq!(&buf[..c.len], &TS_OBJLNK_TLV[..]);
    let types = |q: &Path| match q.resource_id() {
        Some(2) => Some(DataType::Objlnk),
        _ => Some(DataType::String),
    };
    let got = decode_all(ContentFormat::Lwm2mTlv, &p("/66"), &TS_OBJLNK_TLV, &mut [], types);
    assert_eq!(got.unwrap(), items);
}

#[test]
fn tlv_rejects_elements_that_do_not_fit_the_request_path() {
    // A resource TLV sent to an object path: needs an instance around it.
    let r =
        decode_all(ContentFormat::Lwm2mTlv, &p("/3"), &[0xC1, 0x09, 0x64], &mut [], device_types);
    assert_eq!(r, Err(DecodeError::OutsideBase));
    // Resource 9 sent to /3/0/10.
    let r = decode_all(
        ContentFormat::Lwm2mTlv,
        &p("/3/0/10"),
        &[0xC1, 0x09, 0x64],
        &mut [],
        device_types,
    );
    assert_eq!(r, Err(DecodeError::OutsideBase));
    // A length running past the end.
    let r = decode_all(
        ContentFormat::Lwm2mTlv,
        &p("/3/0"),
        &[0xC8, 0x00, 0x14, 0x4F],
        &mut [],
        device_types,
    );
    assert_eq!(r, Err(DecodeError::Truncated));
    // An object instance inside a multiple resource.
    let r = decode_all(
        ContentFormat::Lwm2mTlv,
        &p("/3/0"),
        &[0x82, 0x06, 0x00, 0x00],
        &mut [],
        device_types,
    );
    assert_eq!(r, Err(DecodeError::Unexpected));
    assert_eq!(Code::from(DecodeError::Unexpected), Code::BadRequest);
}

/// TS SenML JSON example: Read on /3/0.
const TS_DEVICE_SENML_JSON: &str = concat!(
    r#"[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},"#,
    r#"{"n":"1","vs":"Lightweight M2M Client"},"#,
    r#"{"n":"2","vs":"345000123"},"#,
    r#"{"n":"3","vs":"1.0"},"#,
    r#"{"n":"6/0","v":1},"#,
    r#"{"n":"6/1","v":5},"#,
    r#"{"n":"7/0","v":3800},"#,
    r#"{"n":"7/1","v":5000},"#,
    r#"{"n":"8/0","v":125},"#,
    r#"{"n":"8/1","v":900},"#,
    r#"{"n":"9","v":100},"#,
    r#"{"n":"10","v":15},"#,
    r#"{"n":"11/0","v":0},"#,
    r#"{"n":"13","v":1367491215},"#,
    r#"{"n":"14","vs":"+02:00"},"#,
    r#"{"n":"16","vs":"U"}]"#,
);

#[test]
fn senml_json_read_of_device_instance_matches_the_ts_example() {
    let mut buf = [0u8; 600];
    let c = encode_all(ContentFormat::SenmlJson, &p("/3/0"), &device(16), &mut buf).unwrap();
    assert_eq!(core::str::from_utf8(&buf[..c.len]).unwrap(), TS_DEVICE_SENML_JSON);
    let got = decode_all(
        ContentFormat::SenmlJson,
        &p("/3/0"),
        TS_DEVICE_SENML_JSON.as_bytes(),
        &mut [],
        device_types,
    );
    assert_eq!(got.unwrap(), device(16));
}

/// TS SenML CBOR example: Read on /3/0 (the CBOR of the SenML JSON above,
/// labels -2 bn, 0 n, 2 v, 3 vs).
const TS_DEVICE_SENML_CBOR_HEX: &str = "90a321652f332f302f00613003744f70656e204d6f62696c6520416c6c69616e6365a200613103764c69676874776569676874204d324d20436c69656e74a20061320369333435303030313233a20061330363312e30a20063362f300201a20063362f310205a20063372f3002190ed8a20063372f3102191388a20063382f3002187da20063382f3102190384a2006139021864a200623130020fa2006431312f300200a200623133021a5182428fa20062313403662b30323a3030a200623136036155";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn senml_cbor_read_of_device_instance_matches_the_ts_example() {
    let expected = unhex(TS_DEVICE_SENML_CBOR_HEX);
    let mut buf = [0u8; 400];
    let c = encode_all(ContentFormat::SenmlCbor, &p("/3/0"), &device(16), &mut buf).unwrap();
    assert_eq!(&buf[..c.len], &expected[..]);
    let got = decode_all(ContentFormat::SenmlCbor, &p("/3/0"), &expected, &mut [], device_types);
    assert_eq!(got.unwrap(), device(16));
}

#[test]
fn senml_base_time_adds_to_record_times_per_rfc8428() {
    // RFC 8428 §4.5.3 / §5.1.4-style timestamped values under one base name.
    let payload =
        br#"[{"bn":"/3303/0/5700","bt":25462634,"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1}]"#;
    let mut d = SenmlJsonDecoder::new(&p("/3303/0"), payload, &mut [], NoTypes);
    let times: Vec<_> = core::iter::from_fn(|| d.next_record()).map(|r| r.unwrap()).collect();
    assert_eq!(times.len(), 3);
    assert!(times.iter().all(|r| r.path == p("/3303/0/5700")));
    assert_eq!(times[0].time, Some(25462629.0));
    assert_eq!(times[1].time, Some(25462604.0));
    assert_eq!(times[2].time, Some(25462634.0));
    assert_eq!(times[1].value, Value::Float(22.9));
}

#[test]
fn senml_must_understand_labels_and_foreign_names_are_refused() {
    let got = decode_all(
        ContentFormat::SenmlJson,
        &p("/"),
        br#"[{"n":"/3/0/9","v":1,"x_":1}]"#,
        &mut [],
        |_| None,
    );
    assert_eq!(got, Err(DecodeError::Unsupported));
    // RFC 8428 §5.1.1's name is not a LwM2M path.
    let got = decode_all(
        ContentFormat::SenmlJson,
        &p("/"),
        br#"[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]"#,
        &mut [],
        |_| None,
    );
    assert!(matches!(got, Err(DecodeError::Path(_))));
    // Outside the request path.
    let got = decode_all(
        ContentFormat::SenmlJson,
        &p("/3/0"),
        br#"[{"n":"/4/0/1","v":1}]"#,
        &mut [],
        |_| None,
    );
    assert_eq!(got, Err(DecodeError::OutsideBase));
}

/// LwM2M JSON (TS 1.0 §6.4.4 example, Read on /3/0), written by a 1.0 server.
const TS10_DEVICE_JSON: &str = r#"{"bn":"/3/0/","e":[
    {"n":"0","sv":"Open Mobile Alliance"},{"n":"1","sv":"Lightweight M2M Client"},
    {"n":"2","sv":"345000123"},{"n":"3","sv":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},
    {"n":"7/0","v":3800},{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},
    {"n":"9","v":100},{"n":"10","v":15},{"n":"11/0","v":0},{"n":"13","v":1367491215},
    {"n":"14","sv":"+02:00"},{"n":"16","sv":"U"}]}"#;

#[test]
fn lwm2m_json_of_a_10_server_decodes_to_the_ts_values() {
    let got = decode_all(
        ContentFormat::Lwm2mJson,
        &p("/3/0"),
        TS10_DEVICE_JSON.as_bytes(),
        &mut [],
        device_types,
    );
    assert_eq!(got.unwrap(), device(16));
    let objlnk =
        br#"{"bn":"/66/0/","e":[{"n":"2","ov":"67:0"},{"n":"3","bv":true},{"n":"4","sv":"AAEC"}]}"#;
    let types = |q: &Path| match q.resource_id() {
        Some(4) => Some(DataType::Opaque),
        _ => None,
    };
    let mut scratch = [0u8; 8];
    let got =
        decode_all(ContentFormat::Lwm2mJson, &p("/66/0"), objlnk, &mut scratch, types).unwrap();
    assert_eq!(
        got,
        vec![
            (p("/66/0/2"), Value::Objlnk(67, 0)),
            (p("/66/0/3"), Value::Boolean(true)),
            (p("/66/0/4"), Value::Opaque(&[0, 1, 2])),
        ]
    );
}

#[test]
fn lwm2m_cbor_nests_maps_under_the_request_path() {
    let items = [
        (p("/3/0/6/0"), Value::Integer(1)),
        (p("/3/0/6/1"), Value::Integer(5)),
        (p("/3/0/9"), Value::Integer(100)),
        (p("/3/0/13"), Value::Time(1367491215)),
    ];
    let mut buf = [0u8; 64];
    let c = encode_all(ContentFormat::Lwm2mCbor, &p("/3/0"), &items, &mut buf).unwrap();
    // {[3, 0]: {6: {0: 1, 1: 5}, 9: 100, 13: 1(1367491215)}} with indefinite maps.
    let expected =
        unhex("bf820300bf06bf00010105ff091864 0dc11a5182428fffff".replace(' ', "").as_str());
    assert_eq!(&buf[..c.len], &expected[..]);
    let got =
        decode_all(ContentFormat::Lwm2mCbor, &p("/3/0"), &expected, &mut [], device_types).unwrap();
    assert_eq!(got, items);
    // Definite maps and single-id keys decode the same: {3: {0: {9: 100}}}.
    let definite = unhex("a103a100a1091864");
    let got =
        decode_all(ContentFormat::Lwm2mCbor, &p("/3/0"), &definite, &mut [], device_types).unwrap();
    assert_eq!(got, vec![(p("/3/0/9"), Value::Integer(100))]);
}

#[test]
fn single_resource_read_in_every_multi_value_format() {
    let one = [(p("/3/0/9"), Value::Integer(100))];
    let base = p("/3/0/9");
    let mut buf = [0u8; 64];
    let c = encode_all(ContentFormat::SenmlJson, &base, &one, &mut buf).unwrap();
    assert_eq!(&buf[..c.len], br#"[{"bn":"/3/0/9","v":100}]"#);
    let c = encode_all(ContentFormat::Lwm2mTlv, &base, &one, &mut buf).unwrap();
    assert_eq!(&buf[..c.len], &[0xC1, 0x09, 0x64]);
    let c = encode_all(ContentFormat::TextPlain, &base, &one, &mut buf).unwrap();
    assert_eq!(&buf[..c.len], b"100");
    for f in [
        ContentFormat::SenmlJson,
        ContentFormat::SenmlCbor,
        ContentFormat::Lwm2mCbor,
        ContentFormat::Lwm2mTlv,
    ] {
        let c = encode_all(f, &base, &one, &mut buf).unwrap();
        let got = decode_all(f, &base, &buf[..c.len], &mut [], device_types).unwrap();
        assert_eq!(got, one, "{f}");
    }
}

#[test]
fn blockwise_windows_reassemble_the_whole_encoding() {
    for f in [
        ContentFormat::Lwm2mTlv,
        ContentFormat::SenmlJson,
        ContentFormat::SenmlCbor,
        ContentFormat::Lwm2mCbor,
    ] {
        let mut whole = [0u8; 600];
        let full = encode_all(f, &p("/3/0"), &device(16), &mut whole).unwrap();
        let mut joined = Vec::new();
        let mut block = 0;
        loop {
            let mut buf = [0u8; 16];
            let c =
                encode(f, &p("/3/0"), Window::at(&mut buf, block * 16), |enc: &mut dyn Encoder| {
                    for (path, v) in device(16) {
                        enc.write(&path, &v)?;
                    }
                    Ok::<(), TestError>(())
                })
                .unwrap();
            joined.extend_from_slice(&buf[..c.len]);
            block += 1;
            if !c.more {
                break;
            }
        }
        assert_eq!(joined, &whole[..full.len], "{f}");
    }
}

#[test]
fn unsupported_formats_map_to_4_06_and_4_15() {
    let mut buf = [0u8; 8];
    let e = encode_all(ContentFormat::Lwm2mJson, &p("/3/0"), &device(16), &mut buf).unwrap_err();
    assert!(matches!(
        e,
        TestError::Negotiation(NegotiationError::NotAcceptable(ContentFormat::Lwm2mJson))
    ));
    let e = Decoder::new(ContentFormat::Json, &p("/3/0"), b"{}", &mut [], NoTypes).err().unwrap();
    assert_eq!(Code::from(e), Code::UnsupportedContentFormat);
    // Opaque data cannot be text: 4.06.
    let e = encode_all(
        ContentFormat::TextPlain,
        &p("/5/0/0"),
        &[(p("/5/0/0"), Value::Opaque(b"x"))],
        &mut buf,
    );
    assert!(matches!(e, Err(TestError::Encode(EncodeError::UnsupportedType))));
    assert_eq!(Code::from(EncodeError::UnsupportedType), Code::NotAcceptable);
}

#[test]
fn link_format_register_payload_and_discover_are_written_as_the_ts_shows() {
    let mut buf = [0u8; 128];
    let mut w = LinkWriter::new(Window::new(&mut buf));
    w.link_str("/", &[Attr::Rt("oma.lwm2m"), Attr::Ct(11543)]);
    w.link(&p("/1/0"), &[]);
    w.link(&p("/3/0"), &[Attr::Ver("1.1")]);
    w.link(&p("/3/0/7"), &[Attr::Dim(2), Attr::Pmin(10), Attr::Gt(50.0), Attr::Lt(42.2)]);
    let c = w.finish();
    assert_eq!(
        core::str::from_utf8(&buf[..c.len]).unwrap(),
        r#"</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>;ver=1.1,</3/0/7>;dim=2;pmin=10;gt=50;lt=42.2"#
    );
}

#[test]
fn link_format_parses_rfc6690_examples() {
    // RFC 6690 §5, first example.
    let payload = br#"</sensors/temp>;if="sensor",</sensors/light>;if="sensor""#;
    let links: Vec<_> = LinkParser::new(payload).unwrap().map(|l| l.unwrap()).collect();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].target, "/sensors/temp");
    let attrs: Vec<_> = links[1].attrs().map(|a| a.unwrap()).collect();
    assert_eq!(attrs, vec![Attr::Other("if", Some("sensor"))]);
    // RFC 6690 §5: a quoted value with a comma and a link with several params.
    let payload = br#"</t>;anchor="/sensors/temp";rel="describedby",</a>;title="x, y";ct=40"#;
    let links: Vec<_> = LinkParser::new(payload).unwrap().map(|l| l.unwrap()).collect();
    assert_eq!(links.len(), 2);
    let attrs: Vec<_> = links[1].attrs().map(|a| a.unwrap()).collect();
    assert_eq!(attrs, vec![Attr::Other("title", Some("x, y")), Attr::Ct(40)]);
}

#[test]
fn link_format_parses_a_bootstrap_discover_with_lwm2m_attributes() {
    let payload = br#"</>;lwm2m=1.1,</0/0>;ssid=101;uri="coap://server1.example.com",</1/0>;ssid=101,</3/0>;ver=1.1;pmin=5;pmax=60;epmin=1;epmax=30;st=0.5"#;
    let links: Vec<_> = LinkParser::new(payload).unwrap().map(|l| l.unwrap()).collect();
    assert_eq!(
        links.iter().map(|l| l.path("").unwrap()).collect::<Vec<_>>(),
        vec![p("/"), p("/0/0"), p("/1/0"), p("/3/0")]
    );
    let a: Vec<_> = links[1].attrs().map(|a| a.unwrap()).collect();
    assert_eq!(a, vec![Attr::Ssid(101), Attr::Uri("coap://server1.example.com")]);
    let a: Vec<_> = links[3].attrs().map(|a| a.unwrap()).collect();
    assert_eq!(
        a,
        vec![
            Attr::Ver("1.1"),
            Attr::Pmin(5),
            Attr::Pmax(60),
            Attr::Epmin(1),
            Attr::Epmax(30),
            Attr::St(0.5)
        ]
    );
    // Malformed: missing '>' / unterminated quote / bad numeric attribute.
    assert!(LinkParser::new(b"</3/0;ver=1").unwrap().next().unwrap().is_err());
    assert!(LinkParser::new(br#"</3/0>;uri="x"#).unwrap().next().unwrap().is_err());
    let l = LinkParser::new(b"</3/0>;pmin=x").unwrap().next().unwrap().unwrap();
    assert_eq!(l.attrs().next().unwrap(), Err(DecodeError::Syntax));
}

#[test]
fn senml_writes_a_new_base_name_when_a_record_leaves_the_current_one() {
    // The request path itself after a deeper record: "/3/0/" is no prefix of "/3/0".
    let items = [(p("/3/0/1"), Value::Integer(1)), (p("/3/0"), Value::Integer(2))];
    let mut buf = [0u8; 128];
    let c = encode_all(ContentFormat::SenmlJson, &p("/3/0"), &items, &mut buf).unwrap();
    assert_eq!(&buf[..c.len], br#"[{"bn":"/3/0/","n":"1","v":1},{"bn":"/3/0","v":2}]"#);
    for f in [ContentFormat::SenmlJson, ContentFormat::SenmlCbor] {
        let c = encode_all(f, &p("/3/0"), &items, &mut buf).unwrap();
        let got = decode_all(f, &p("/3/0"), &buf[..c.len], &mut [], |_| None).unwrap();
        assert_eq!(got, items, "{f}");
    }
}
