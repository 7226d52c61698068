//! Shared harness of the content-format fuzz targets: decode the input under
//! a request path chosen by its first byte; when that succeeds and the format
//! has an encoder, encode the items and check that decoding the result gives
//! the same items (STYLE §5: parse(emit(parse(x))) == parse(x)).
#![allow(dead_code)]

use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::formats::{Decoder, Encoder, FormatError, Window, encode};
use lwm2m_core::path::Path;
use lwm2m_core::value::{DataType, Value};

/// The request path and declared type picked by the first input byte.
pub fn setup(data: &[u8]) -> Option<(Path, Option<DataType>, &[u8])> {
    let (&sel, rest) = data.split_first()?;
    let base = Path::new(&[3, 0, 7, 1][..usize::from(sel & 0x07).min(4)]).ok()?;
    let t = match sel >> 4 {
        0 => None,
        n => DataType::ALL.get(usize::from(n - 1)).copied(),
    };
    Some((base, t, rest))
}

fn items<'a>(
    format: ContentFormat,
    base: &Path,
    payload: &'a [u8],
    scratch: &'a mut [u8],
    t: Option<DataType>,
) -> Option<Vec<(Path, Value<'a>)>> {
    Decoder::new(format, base, payload, scratch, move |_: &Path| t)
        .ok()?
        .take(100_000)
        .collect::<Result<Vec<_>, _>>()
        .ok()
}

/// NaN-aware comparison of item lists.
fn same(a: &[(Path, Value<'_>)], b: &[(Path, Value<'_>)]) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Decodes `data`; on success re-encodes (when `reencode`) and compares.
pub fn check(format: ContentFormat, data: &[u8], reencode: bool) {
    let Some((base, t, payload)) = setup(data) else { return };
    let mut scratch = vec![0u8; payload.len()];
    let Some(first) = items(format, &base, payload, &mut scratch, t) else { return };
    if !reencode {
        return;
    }
    let mut buf = vec![0u8; payload.len() * 4 + 1024];
    let encoded = encode(format, &base, Window::new(&mut buf), |enc: &mut dyn Encoder| {
        for (p, v) in &first {
            enc.write(p, v)?;
        }
        Ok::<(), FormatError>(())
    });
    // Not every decodable payload is encodable (a NaN in JSON, a value next
    // to its own children in LwM2M CBOR): only successful encodings are compared.
    let Ok(chunk) = encoded else { return };
    assert!(!chunk.more, "re-encoding did not fit");
    let mut scratch2 = vec![0u8; chunk.len];
    let second = items(format, &base, &buf[..chunk.len], &mut scratch2, t)
        .unwrap_or_else(|| panic!("{format}: our own encoding does not decode"));
    assert!(same(&first, &second), "{format}: {first:?} != {second:?}");
}
