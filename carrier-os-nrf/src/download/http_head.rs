//! The HTTP/1.1 response head of a ranged firmware download: status line,
//! `Content-Length`, `Content-Range`, `Transfer-Encoding` (RFC 9112 §4,
//! §5, §6; RFC 9110 §14.4 for `Content-Range`).
//!
//! Owns [`ResponseHead`] and [`parse_head`]: a view over the received
//! bytes, no allocation. Field names compare case-insensitively (RFC 9110
//! §5.1); obsolete line folding is refused (RFC 9112 §5.2 allows that);
//! every number is checked for overflow.
//!
//! Guarantee: any input gives a head, "incomplete" or an error, never a
//! panic (fuzzed: `fuzz-nrf` target `http_head`).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// What a response head says about the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code (three digits).
    pub status: u16,
    /// `Content-Length`.
    pub content_length: Option<u64>,
    /// `Content-Range: bytes first-last/complete` (`complete` `None` for `*`).
    pub content_range: Option<ContentRange>,
    /// `Transfer-Encoding` ends in `chunked`.
    pub chunked: bool,
}

/// A satisfied byte range (RFC 9110 §14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First byte position.
    pub first: u64,
    /// Last byte position (inclusive).
    pub last: u64,
    /// Length of the whole representation, if known.
    pub complete: Option<u64>,
}

/// Why a head is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Not `HTTP/1.x NNN ...`.
    StatusLine,
    /// A header line without a colon, with folding, or not text.
    HeaderLine,
    /// A `Content-Length` or `Content-Range` that does not parse, or two
    /// different `Content-Length` values (RFC 9112 §6.3 item 5).
    Value,
}

/// Decimal digits only, without overflow.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

fn content_range(v: &str) -> Option<ContentRange> {
    let rest = v.strip_prefix("bytes ")?;
    let (range, complete) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let (first, last) = (number(first)?, number(last)?);
    let complete = match complete {
        "*" => None,
        c => Some(number(c)?),
    };
    if last < first || complete.is_some_and(|c| last >= c) {
        return None;
    }
    Some(ContentRange { first, last, complete })
}

/// Parses the head at the start of `bytes`. `Ok(None)`: the blank line
/// that ends the head has not arrived yet. `Ok(Some((head, n)))`: the body
/// starts at `bytes[n..]`.
///
/// # Errors
/// [`HeadError`] for a malformed head.
pub fn parse_head(bytes: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = bytes.get(..end).ok_or(HeadError::StatusLine)?;
    let text = core::str::from_utf8(head).map_err(|_| HeadError::HeaderLine)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or(HeadError::StatusLine)?;
    let rest = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .ok_or(HeadError::StatusLine)?;
    let code = rest.get(..3).ok_or(HeadError::StatusLine)?;
    if rest.len() > 3 && !rest.get(3..).is_some_and(|r| r.starts_with(' ')) {
        return Err(HeadError::StatusLine);
    }
    let status = number(code)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| (100..=599).contains(n))
        .ok_or(HeadError::StatusLine)?;
    let mut out =
        ResponseHead { status, content_length: None, content_range: None, chunked: false };
    for line in lines {
        if line.starts_with([' ', '\t']) {
            return Err(HeadError::HeaderLine);
        }
        let (name, value) = line.split_once(':').ok_or(HeadError::HeaderLine)?;
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("content-length") {
            let n = number(value).ok_or(HeadError::Value)?;
            if out.content_length.is_some_and(|m| m != n) {
                return Err(HeadError::Value);
            }
            out.content_length = Some(n);
        } else if name.eq_ignore_ascii_case("content-range") {
            // `bytes */complete` (unsatisfied-range, with a 416) says no
            // range; it is checked and carries nothing else.
            match value.strip_prefix("bytes */") {
                Some(complete) => {
                    number(complete).ok_or(HeadError::Value)?;
                }
                None => out.content_range = Some(content_range(value).ok_or(HeadError::Value)?),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            out.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim_matches([' ', '\t']).eq_ignore_ascii_case("chunked"));
        }
    }
    Ok(Some((out, end + 4)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn partial_content_head_gives_status_length_and_range() {
        // RFC 9110 §15.3.7's single-part 206 example, with CRLF line ends.
        let raw = b"HTTP/1.1 206 Partial Content\r\n\
Date: Wed, 15 Nov 1995 06:25:24 GMT\r\n\
Last-Modified: Wed, 15 Nov 1995 04:58:08 GMT\r\n\
Content-Range: bytes 21010-47021/47022\r\n\
Content-Length: 26012\r\n\
Content-Type: image/gif\r\n\r\nGIF";
        let (head, body) = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 206);
        assert_eq!(head.content_length, Some(26012));
        assert_eq!(
            head.content_range,
            Some(ContentRange { first: 21010, last: 47021, complete: Some(47022) })
        );
        assert!(!head.chunked);
        assert_eq!(&raw[body..], b"GIF");
    }

    #[test]
    fn an_unfinished_head_asks_for_more() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"), Ok(None));
        assert_eq!(parse_head(b""), Ok(None));
    }

    #[test]
    fn names_are_case_insensitive_and_chunked_is_seen() {
        let raw = b"HTTP/1.1 200 OK\r\ntransfer-ENCODING: gzip, Chunked\r\n\r\n";
        let (head, _) = parse_head(raw).unwrap().unwrap();
        assert!(head.chunked);
        assert_eq!(head.content_length, None);
    }

    #[test]
    fn malformed_heads_are_refused() {
        let bad = |raw: &[u8]| parse_head(raw).err();
        assert_eq!(bad(b"HTTP/2 200 OK\r\n\r\n"), Some(HeadError::StatusLine));
        assert_eq!(bad(b"HTTP/1.1 20 OK\r\n\r\n"), Some(HeadError::StatusLine));
        assert_eq!(bad(b"HTTP/1.1 2000 OK\r\n\r\n"), Some(HeadError::StatusLine));
        assert_eq!(bad(b"HTTP/1.1 099\r\n\r\n"), Some(HeadError::StatusLine));
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"), Some(HeadError::HeaderLine));
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n"), Some(HeadError::HeaderLine));
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), Some(HeadError::Value));
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Some(HeadError::Value)
        );
        assert_eq!(
            bad(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Some(HeadError::Value)
        );
        assert_eq!(
            bad(b"HTTP/1.1 206 x\r\nContent-Range: bytes 10-5/20\r\n\r\n"),
            Some(HeadError::Value)
        );
        assert_eq!(
            bad(b"HTTP/1.1 206 x\r\nContent-Range: bytes 0-20/20\r\n\r\n"),
            Some(HeadError::Value),
            "last-byte-pos must be below complete-length"
        );
        assert_eq!(bad(b"HTTP/1.1 200 OK\r\n\xff: x\r\n\r\n"), Some(HeadError::HeaderLine));
    }

    #[test]
    fn unknown_length_range_and_reason_less_status_parse() {
        let (head, _) =
            parse_head(b"HTTP/1.1 206\r\nContent-Range: bytes 5-9/*\r\n\r\n").unwrap().unwrap();
        assert_eq!(head.content_range, Some(ContentRange { first: 5, last: 9, complete: None }));
        let (head, _) = parse_head(
            b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */47022\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!((head.status, head.content_range), (416, None));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_head(&bytes);
        }

        #[test]
        fn content_length_round_trips(n in proptest::num::u64::ANY) {
            let raw = std::format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n");
            let (head, used) = parse_head(raw.as_bytes()).unwrap().unwrap();
            proptest::prop_assert_eq!(head.content_length, Some(n));
            proptest::prop_assert_eq!(used, raw.len());
        }
    }
}
