//! Property tests: decode(encode(x)) == x for every format, resumable
//! windows reassemble the encoding, and no decoder panics on any bytes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::formats::link::{Attr, LinkParser, LinkWriter};
use lwm2m_core::formats::{Decoder, Encoder, FormatError, NoTypes, Window, encode};
use lwm2m_core::path::{MAX_ID, Path};
use lwm2m_core::value::{DataType, Value};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// An owned value, so strategies can produce it.
#[derive(Debug, Clone, PartialEq)]
enum Owned {
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    Boolean(bool),
    String(String),
    Opaque(Vec<u8>),
    Time(i64),
    Objlnk(u16, u16),
    Corelnk(String),
    None,
}

impl Owned {
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Integer(n) => Value::Integer(*n),
            Owned::Unsigned(n) => Value::UnsignedInteger(*n),
            Owned::Float(x) => Value::Float(*x),
            Owned::Boolean(b) => Value::Boolean(*b),
            Owned::String(s) => Value::String(s),
            Owned::Opaque(b) => Value::Opaque(b),
            Owned::Time(t) => Value::Time(*t),
            Owned::Objlnk(o, i) => Value::Objlnk(*o, *i),
            Owned::Corelnk(s) => Value::Corelnk(s),
            Owned::None => Value::None,
        }
    }
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        any::<f32>().prop_filter("finite", |x| x.is_finite()).prop_map(f64::from),
        (-1000i32..1000).prop_map(f64::from),
        Just(0.5),
        Just(-0.0),
    ]
}

fn owned(t: DataType) -> BoxedStrategy<Owned> {
    match t {
        DataType::Integer => {
            prop_oneof![any::<i64>(), -300i64..300].prop_map(Owned::Integer).boxed()
        }
        DataType::UnsignedInteger => {
            prop_oneof![any::<u64>(), 0u64..300].prop_map(Owned::Unsigned).boxed()
        }
        DataType::Float => float().prop_map(Owned::Float).boxed(),
        DataType::Boolean => any::<bool>().prop_map(Owned::Boolean).boxed(),
        DataType::String => ".{0,12}".prop_map(Owned::String).boxed(),
        DataType::Opaque => {
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Owned::Opaque).boxed()
        }
        DataType::Time => any::<i64>().prop_map(Owned::Time).boxed(),
        DataType::Objlnk => {
            (any::<u16>(), any::<u16>()).prop_map(|(o, i)| Owned::Objlnk(o, i)).boxed()
        }
        DataType::Corelnk => "</[0-9]{1,3}/[0-9]>(;ver=1.1)?".prop_map(Owned::Corelnk).boxed(),
        DataType::None => Just(Owned::None).boxed(),
    }
}

fn data_type() -> impl Strategy<Value = DataType> {
    proptest::sample::select(DataType::ALL.to_vec())
}

/// One resource: a type and either one value or instances.
#[derive(Debug, Clone)]
struct Resource {
    t: DataType,
    single: Option<Owned>,
    multi: BTreeMap<u16, Owned>,
}

fn resource() -> impl Strategy<Value = Resource> {
    data_type().prop_flat_map(|t| {
        prop_oneof![
            owned(t).prop_map(move |v| Resource { t, single: Some(v), multi: BTreeMap::new() }),
            proptest::collection::btree_map(0..=MAX_ID, owned(t), 1..4)
                .prop_map(move |m| Resource { t, single: None, multi: m }),
        ]
    })
}

/// An object with instances of resources, as a sorted list of (path, value)
/// plus the declared types.
#[derive(Debug, Clone)]
struct Tree {
    object: u16,
    instances: BTreeMap<u16, BTreeMap<u16, Resource>>,
}

impl Tree {
    fn items(&self) -> Vec<(Path, Owned)> {
        let mut v = Vec::new();
        for (&i, res) in &self.instances {
            for (&r, rs) in res {
                if let Some(x) = &rs.single {
                    v.push((Path::resource(self.object, i, r).unwrap(), x.clone()));
                }
                for (&ri, x) in &rs.multi {
                    v.push((Path::resource_instance(self.object, i, r, ri).unwrap(), x.clone()));
                }
            }
        }
        v
    }

    fn types(&self) -> impl Fn(&Path) -> Option<DataType> + '_ {
        move |p: &Path| {
            let rs = self.instances.get(&p.instance_id()?)?.get(&p.resource_id()?)?;
            Some(rs.t)
        }
    }
}

fn tree() -> impl Strategy<Value = Tree> {
    (
        0..=MAX_ID,
        proptest::collection::btree_map(
            0..=MAX_ID,
            proptest::collection::btree_map(0..=MAX_ID, resource(), 1..5),
            1..3,
        ),
    )
        .prop_map(|(object, instances)| Tree { object, instances })
}

const MULTI: [ContentFormat; 4] = [
    ContentFormat::Lwm2mTlv,
    ContentFormat::SenmlJson,
    ContentFormat::SenmlCbor,
    ContentFormat::Lwm2mCbor,
];

fn encode_items(
    format: ContentFormat,
    base: &Path,
    items: &[(Path, Owned)],
    buf: &mut [u8],
    offset: usize,
) -> Result<lwm2m_core::formats::Chunk, FormatError> {
    encode(format, base, Window::at(buf, offset), |enc: &mut dyn Encoder| {
        for (p, v) in items {
            enc.write(p, &v.value())?;
        }
        Ok::<(), FormatError>(())
    })
}

fn round_trip(format: ContentFormat, base: &Path, tree: &Tree, items: &[(Path, Owned)]) {
    let mut buf = vec![0u8; 64 * 1024];
    let c = encode_items(format, base, items, &mut buf, 0).unwrap();
    assert!(!c.more);
    let mut scratch = vec![0u8; 64 * 1024];
    let got: Vec<(Path, Value<'_>)> =
        Decoder::new(format, base, &buf[..c.len], &mut scratch, tree.types())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{format}: {e:?}"));
    let want: Vec<(Path, Value<'_>)> = items.iter().map(|(p, v)| (*p, v.value())).collect();
    assert_eq!(got, want, "{format}");
}

/// A test-side LwM2M JSON writer (the crate only reads LwM2M JSON), in the
/// shape of the TS 1.0 §6.4.4 examples.
fn lwm2m_json(base: &Path, items: &[(Path, Owned)]) -> String {
    fn esc(s: &str) -> String {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }
    fn b64(d: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut o = String::new();
        for c in d.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= c.len() {
                    o.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
                } else {
                    o.push('=');
                }
            }
        }
        o
    }
    let bn = format!("{base}/");
    let mut out = format!("{{\"bn\":{},\"e\":[", esc(&bn));
    for (k, (path, v)) in items.iter().enumerate() {
        let full = path.to_string();
        let n = full.strip_prefix(&bn).unwrap();
        if k > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"n\":{}", esc(n)));
        match v {
            Owned::Integer(x) | Owned::Time(x) => out.push_str(&format!(",\"v\":{x}")),
            Owned::Unsigned(x) => out.push_str(&format!(",\"v\":{x}")),
            Owned::Float(x) => out.push_str(&format!(",\"v\":{x:?}")),
            Owned::Boolean(b) => out.push_str(&format!(",\"bv\":{b}")),
            Owned::String(s) | Owned::Corelnk(s) => out.push_str(&format!(",\"sv\":{}", esc(s))),
            Owned::Opaque(d) => out.push_str(&format!(",\"sv\":\"{}\"", b64(d))),
            Owned::Objlnk(o, i) => out.push_str(&format!(",\"ov\":\"{o}:{i}\"")),
            Owned::None => {}
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn lwm2m_json_written_like_a_10_server_decodes_to_the_values(tree in tree()) {
        let base = Path::object(tree.object).unwrap();
        let items = tree.items();
        let text = lwm2m_json(&base, &items);
        let mut scratch = vec![0u8; text.len()];
        let got: Vec<(Path, Value<'_>)> =
            Decoder::new(ContentFormat::Lwm2mJson, &base, text.as_bytes(), &mut scratch, tree.types())
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{e:?} in {text}"));
        let want: Vec<(Path, Value<'_>)> = items.iter().map(|(p, v)| (*p, v.value())).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn every_format_round_trips_an_object(tree in tree()) {
        let items = tree.items();
        let base = Path::object(tree.object).unwrap();
        for f in MULTI {
            round_trip(f, &base, &tree, &items);
        }
    }

    #[test]
    fn every_format_round_trips_one_instance(tree in tree()) {
        let (&iid, _) = tree.instances.iter().next().unwrap();
        let base = Path::instance(tree.object, iid).unwrap();
        let items: Vec<_> = tree.items().into_iter().filter(|(p, _)| base.contains(p)).collect();
        for f in MULTI {
            round_trip(f, &base, &tree, &items);
        }
    }

    #[test]
    fn single_values_round_trip_in_text_and_opaque(t in data_type().prop_filter("text has no opaque", |t| *t != DataType::Opaque)
        .prop_flat_map(owned), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let base = Path::resource(3, 0, 1).unwrap();
        let ty = t.value().data_type();
        let tree = Tree { object: 3, instances: BTreeMap::from([(0, BTreeMap::from([(1, Resource { t: ty, single: None, multi: BTreeMap::new() })]))]) };
        let items = vec![(base, t)];
        round_trip(ContentFormat::TextPlain, &base, &tree, &items);
        for f in MULTI {
            round_trip(f, &base, &tree, &items);
        }
        let items = vec![(base, Owned::Opaque(bytes))];
        round_trip(ContentFormat::OctetStream, &base, &tree, &items);
    }

    #[test]
    fn windows_of_any_size_reassemble_the_encoding(tree in tree(), size in 1usize..64) {
        let items = tree.items();
        let base = Path::object(tree.object).unwrap();
        for f in MULTI {
            let mut whole = vec![0u8; 64 * 1024];
            let full = encode_items(f, &base, &items, &mut whole, 0).unwrap();
            let mut joined = Vec::new();
            let mut off = 0;
            loop {
                let mut buf = vec![0u8; size];
                let c = encode_items(f, &base, &items, &mut buf, off).unwrap();
                joined.extend_from_slice(&buf[..c.len]);
                off += c.len;
                if !c.more { break; }
            }
            prop_assert_eq!(&joined[..], &whole[..full.len]);
        }
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256),
                                               depth in 0usize..=4) {
        let base = Path::new(&[3, 0, 7, 1][..depth]).unwrap();
        for f in [ContentFormat::TextPlain, ContentFormat::OctetStream, ContentFormat::Lwm2mTlv,
                  ContentFormat::SenmlJson, ContentFormat::SenmlCbor, ContentFormat::Lwm2mCbor,
                  ContentFormat::Lwm2mJson] {
            let mut scratch = [0u8; 64];
            for item in Decoder::new(f, &base, &bytes, &mut scratch, NoTypes).unwrap().take(1000) {
                let _ = item;
            }
            let mut scratch = [0u8; 64];
            let typed = |_: &Path| Some(DataType::Integer);
            for item in Decoder::new(f, &base, &bytes, &mut scratch, typed).unwrap().take(1000) {
                let _ = item;
            }
        }
        if let Ok(parser) = LinkParser::new(&bytes) {
            for link in parser.take(1000).flatten() {
                let _ = link.path("");
                for a in link.attrs().take(1000) { let _ = a; }
            }
        }
    }

    #[test]
    fn text_like_inputs_never_panic_json_and_link_decoders(s in r#"[\[\]{}",:0-9a-z\\/;<>= .eE+-]{0,80}"#) {
        let base = Path::ROOT;
        for f in [ContentFormat::SenmlJson, ContentFormat::Lwm2mJson] {
            let mut scratch = [0u8; 32];
            for item in Decoder::new(f, &base, s.as_bytes(), &mut scratch, NoTypes).unwrap().take(1000) {
                let _ = item;
            }
        }
        for link in LinkParser::new(s.as_bytes()).unwrap().take(1000).flatten() {
            for a in link.attrs().take(1000) { let _ = a; }
        }
    }

    #[test]
    fn link_format_round_trips(links in proptest::collection::vec(
        (proptest::collection::vec(0..=MAX_ID, 0..=4),
         proptest::collection::vec(prop_oneof![
            any::<u32>().prop_map(Attr::Pmin),
            any::<u32>().prop_map(Attr::Pmax),
            (-1000i32..1000).prop_map(|x| Attr::Gt(f64::from(x) / 4.0)),
            (-1000i32..1000).prop_map(|x| Attr::Lt(f64::from(x) / 4.0)),
            (0i32..1000).prop_map(|x| Attr::St(f64::from(x) / 8.0)),
            any::<u32>().prop_map(Attr::Epmin),
            any::<u32>().prop_map(Attr::Epmax),
            Just(Attr::Ver("1.1")),
            any::<u16>().prop_map(Attr::Dim),
            any::<u16>().prop_map(Attr::Ssid),
            Just(Attr::Uri("coaps://example.com:5684")),
            any::<u16>().prop_map(Attr::Ct),
         ], 0..4)), 0..6)) {
        let mut buf = vec![0u8; 4096];
        let mut w = LinkWriter::new(Window::new(&mut buf));
        for (ids, attrs) in &links {
            w.link(&Path::new(ids).unwrap(), attrs);
        }
        let c = w.finish();
        let parsed: Vec<_> = LinkParser::new(&buf[..c.len]).unwrap().map(|l| l.unwrap()).collect();
        prop_assert_eq!(parsed.len(), links.len());
        for (l, (ids, attrs)) in parsed.iter().zip(&links) {
            prop_assert_eq!(l.path("").unwrap(), Path::new(ids).unwrap());
            let got: Vec<_> = l.attrs().map(|a| a.unwrap()).collect();
            prop_assert_eq!(&got, attrs);
        }
    }
}
