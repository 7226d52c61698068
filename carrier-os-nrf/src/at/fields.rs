//! A cursor over the comma-separated parameters of one AT information line.
//!
//! Owns the lexical rules of nRF91 AT responses (nRF91 AT Commands reference,
//! §2.4 "Response"): parameters are separated by `,`, strings are enclosed
//! in `"` and may contain commas, an omitted parameter is an empty field,
//! and whitespace around a parameter is not significant (the reference's own
//! `%CMNG` examples carry a space after each comma).
//!
//! Guarantee: nothing here panics on any input; every accessor returns a
//! [`ResponseError::BadField`] naming the 0-based field index it choked on.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::str::FromStr;

use super::ResponseError;

/// Cursor over the parameters after `+CMD: `.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: Option<&'a str>,
    index: u8,
}

impl<'a> Fields<'a> {
    /// A cursor over `params` (the text after the `+CMD:` prefix).
    pub fn new(params: &'a str) -> Self {
        Self { rest: Some(params), index: 0 }
    }

    /// Index of the next field (0-based), for error reports.
    pub fn index(&self) -> u8 {
        self.index
    }

    fn bad(&self) -> ResponseError {
        ResponseError::BadField { index: self.index.saturating_sub(1) }
    }

    /// The next field as raw text, trimmed; `None` when all fields are used.
    pub fn next_raw(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        let mut in_quotes = false;
        let mut cut = None;
        for (i, b) in rest.bytes().enumerate() {
            match b {
                b'"' => in_quotes = !in_quotes,
                b',' if !in_quotes => {
                    cut = Some(i);
                    break;
                }
                _ => {}
            }
        }
        self.index = self.index.saturating_add(1);
        match cut {
            Some(i) => {
                let (field, tail) = rest.split_at_checked(i)?;
                self.rest = tail.get(1..);
                Some(field.trim())
            }
            None => {
                self.rest = None;
                Some(rest.trim())
            }
        }
    }

    /// A mandatory decimal integer.
    pub fn int<T: FromStr>(&mut self) -> Result<T, ResponseError> {
        match self.next_raw() {
            Some(raw) if !raw.is_empty() => raw.parse().map_err(|_| self.bad()),
            _ => Err(self.bad()),
        }
    }

    /// An optional decimal integer: a missing or empty field is `None`.
    pub fn opt_int<T: FromStr>(&mut self) -> Result<Option<T>, ResponseError> {
        match self.next_raw() {
            None => Ok(None),
            Some("") => Ok(None),
            Some(raw) => raw.parse().map(Some).map_err(|_| self.bad()),
        }
    }

    /// A mandatory quoted string, returned without its quotes.
    pub fn quoted(&mut self) -> Result<&'a str, ResponseError> {
        let raw = self.next_raw().ok_or_else(|| self.bad())?;
        unquote(raw).ok_or_else(|| self.bad())
    }

    /// An optional quoted string: a missing or empty field is `None`;
    /// `""` is `Some("")`.
    pub fn opt_quoted(&mut self) -> Result<Option<&'a str>, ResponseError> {
        match self.next_raw() {
            None | Some("") => Ok(None),
            Some(raw) => unquote(raw).map(Some).ok_or_else(|| self.bad()),
        }
    }

    /// A field that some firmware quotes and some does not: quotes are
    /// removed when present.
    pub fn text(&mut self) -> Result<&'a str, ResponseError> {
        let raw = self.next_raw().ok_or_else(|| self.bad())?;
        Ok(unquote(raw).unwrap_or(raw))
    }

    /// An optional quoted hexadecimal number (`"00B7"`); empty is `None`.
    pub fn opt_hex_u32(&mut self) -> Result<Option<u32>, ResponseError> {
        match self.opt_quoted()? {
            None | Some("") => Ok(None),
            Some(hex) if hex.len() <= 8 => {
                u32::from_str_radix(hex, 16).map(Some).map_err(|_| self.bad())
            }
            Some(_) => Err(self.bad()),
        }
    }

    /// An optional quoted 8-bit bit string (`"00100001"`); empty is `None`.
    pub fn opt_bits_u8(&mut self) -> Result<Option<u8>, ResponseError> {
        match self.opt_quoted()? {
            None | Some("") => Ok(None),
            Some(bits) if bits.len() == 8 => {
                u8::from_str_radix(bits, 2).map(Some).map_err(|_| self.bad())
            }
            Some(_) => Err(self.bad()),
        }
    }
}

/// `"abc"` → `abc`; `None` unless the text is enclosed in quotes with no
/// quote inside.
pub fn unquote(raw: &str) -> Option<&str> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('"') { None } else { Some(inner) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn quoted_commas_stay_inside_one_field() {
        let mut f = Fields::new(r#"1,"a,b",,7"#);
        assert_eq!(f.int::<u8>(), Ok(1));
        assert_eq!(f.quoted(), Ok("a,b"));
        assert_eq!(f.opt_int::<u8>(), Ok(None));
        assert_eq!(f.int::<u8>(), Ok(7));
        assert_eq!(f.next_raw(), None);
    }

    #[test]
    fn spaces_after_commas_are_ignored() {
        // nRF91 AT reference, %CMNG list example.
        let mut f = Fields::new(r#"12345678, 0, "978C02C4""#);
        assert_eq!(f.int::<u32>(), Ok(12_345_678));
        assert_eq!(f.int::<u8>(), Ok(0));
        assert_eq!(f.quoted(), Ok("978C02C4"));
    }

    #[test]
    fn bad_field_reports_its_index() {
        let mut f = Fields::new("1,x");
        assert_eq!(f.int::<u8>(), Ok(1));
        assert_eq!(f.int::<u8>(), Err(ResponseError::BadField { index: 1 }));
    }

    #[test]
    fn unterminated_quote_is_an_error_not_a_panic() {
        let mut f = Fields::new("\"abc");
        assert_eq!(f.quoted(), Err(ResponseError::BadField { index: 0 }));
    }
}
