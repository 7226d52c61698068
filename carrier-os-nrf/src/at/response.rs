//! A complete AT response: information lines followed by one final result
//! code, with unsolicited lines and garbage possibly interleaved.
//!
//! Owns the framing rules of nRF91 AT Commands reference §2.4 and 3GPP TS
//! 27.007 §9.2: a response ends with `OK`, `ERROR`, `+CME ERROR: <n>` or
//! `+CMS ERROR: <n>`; lines are separated by `<CR><LF>`. The modem may
//! deliver a notification (`+CEREG: …`, `%CESQ: …`) between the lines of
//! a response, and a line that is not valid UTF-8 is garbage, kept aside
//! rather than rejected.
//!
//! Guarantee: [`Response::parse`] never panics; a response whose last line
//! is not a final result code is [`ResponseError::Incomplete`].
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::fmt;

use super::fields::Fields;

/// What went wrong while reading a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseError {
    /// The response has no final result code as its last line.
    #[error("response has no final result code")]
    Incomplete,
    /// A final result code appeared before the last line.
    #[error("final result code before the end of the response")]
    EarlyFinal,
    /// The information line the command must produce is absent.
    #[error("expected information line is missing")]
    MissingLine,
    /// A parameter could not be read (0-based index).
    #[error("parameter {index} is malformed")]
    BadField {
        /// 0-based index of the offending parameter.
        index: u8,
    },
    /// A value does not fit the fixed capacity it is stored in.
    #[error("value exceeds its fixed capacity")]
    TooLong,
}

/// The final result code that ends every AT response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Final {
    /// `OK`.
    Ok,
    /// `ERROR` (also what `+CMEE=0` turns every error into).
    Error,
    /// `+CME ERROR: <n>`: mobile equipment error, see [`super::Cme`].
    CmeError(u16),
    /// `+CMS ERROR: <n>`: SMS service error (3GPP TS 27.005 §3.2.5).
    CmsError(u16),
}

impl Final {
    /// Parses one line as a final result code, `None` if it is not one.
    pub fn parse_line(line: &str) -> Option<Final> {
        match line {
            "OK" => Some(Final::Ok),
            "ERROR" => Some(Final::Error),
            _ => {
                if let Some(n) = line.strip_prefix("+CME ERROR:") {
                    n.trim().parse().ok().map(Final::CmeError)
                } else if let Some(n) = line.strip_prefix("+CMS ERROR:") {
                    n.trim().parse().ok().map(Final::CmsError)
                } else {
                    None
                }
            }
        }
    }
}

impl fmt::Display for Final {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Final::Ok => f.write_str("OK"),
            Final::Error => f.write_str("ERROR"),
            Final::CmeError(n) => write!(f, "+CME ERROR: {n}"),
            Final::CmsError(n) => write!(f, "+CMS ERROR: {n}"),
        }
    }
}

/// One line of a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// A UTF-8 line (trimmed of `<CR>` and surrounding spaces).
    Text(&'a str),
    /// Bytes that are not UTF-8: kept for logging, never interpreted.
    Garbage(&'a [u8]),
}

/// Iterator over the non-empty lines of a byte buffer.
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    /// Lines of `bytes`, split on `<LF>`, `<CR>` trimmed, empty lines skipped.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (line, tail) = match self.rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let (l, t) = self.rest.split_at_checked(i)?;
                    (l, t.get(1..).unwrap_or(&[]))
                }
                None => (self.rest, &[][..]),
            };
            self.rest = tail;
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            return Some(match core::str::from_utf8(line) {
                Ok(s) => Line::Text(s),
                Err(_) => Line::Garbage(line),
            });
        }
    }
}

/// A framed response: body lines plus the final result code.
///
/// Parse with [`Response::parse`], then read information lines with
/// [`Response::info`] (prefixed, `+CGSN: …`) or [`Response::bare`]
/// (unprefixed, `Nordic Semiconductor ASA`). Lines that belong to neither
/// (notifications interleaved by the modem, garbage) are available through
/// [`Response::others`] so the caller can route notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    body: &'a [u8],
    final_code: Final,
}

impl<'a> Response<'a> {
    /// Frames `bytes` as a response. Never panics.
    ///
    /// # Errors
    /// [`ResponseError::Incomplete`] if the last non-empty line is not a final
    /// result code, [`ResponseError::EarlyFinal`] if one appears earlier.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ResponseError> {
        // Find the last non-empty line.
        let trimmed = bytes.trim_ascii_end();
        let start = trimmed.iter().rposition(|&b| b == b'\n').map_or(0, |i| i.saturating_add(1));
        let (body, last) = trimmed.split_at_checked(start).ok_or(ResponseError::Incomplete)?;
        let last =
            core::str::from_utf8(last.trim_ascii()).map_err(|_| ResponseError::Incomplete)?;
        let final_code = Final::parse_line(last).ok_or(ResponseError::Incomplete)?;
        let response = Self { body, final_code };
        if response.lines().any(|l| matches!(l, Line::Text(t) if Final::parse_line(t).is_some())) {
            return Err(ResponseError::EarlyFinal);
        }
        Ok(response)
    }

    /// The final result code.
    pub fn final_code(&self) -> Final {
        self.final_code
    }

    /// `Ok(())` for `OK`, the final code otherwise.
    ///
    /// # Errors
    /// The non-`OK` final result code.
    pub fn result(&self) -> Result<(), Final> {
        match self.final_code {
            Final::Ok => Ok(()),
            other => Err(other),
        }
    }

    /// All body lines, in order.
    pub fn lines(&self) -> Lines<'a> {
        Lines::new(self.body)
    }

    /// Parameters of every information line starting with `prefix`
    /// (e.g. `"+CGDCONT:"`).
    pub fn info_all(&self, prefix: &'static str) -> impl Iterator<Item = Fields<'a>> + 'a {
        self.lines().filter_map(move |l| match l {
            Line::Text(t) => t.strip_prefix(prefix).map(|p| Fields::new(p.trim_start())),
            Line::Garbage(_) => None,
        })
    }

    /// Parameters of the first information line starting with `prefix`.
    ///
    /// # Errors
    /// [`ResponseError::MissingLine`] when no line has that prefix.
    pub fn info(&self, prefix: &'static str) -> Result<Fields<'a>, ResponseError> {
        self.info_all(prefix).next().ok_or(ResponseError::MissingLine)
    }

    /// The first unprefixed line (one not starting with `+`, `%` or `#`),
    /// as answered by `+CGMI`, `+CGMM`, `+CGMR`, `+CIMI`.
    ///
    /// # Errors
    /// [`ResponseError::MissingLine`] when there is none.
    pub fn bare(&self) -> Result<&'a str, ResponseError> {
        self.lines()
            .find_map(|l| match l {
                Line::Text(t) if !t.starts_with(['+', '%', '#']) => Some(t),
                _ => None,
            })
            .ok_or(ResponseError::MissingLine)
    }

    /// Lines that are neither an information line with `prefix` nor a bare
    /// line: notifications the modem interleaved, and garbage.
    pub fn others(&self, prefix: &'static str) -> impl Iterator<Item = Line<'a>> + 'a {
        self.lines().filter(move |l| match l {
            Line::Text(t) => t.starts_with(['+', '%', '#']) && !t.starts_with(prefix),
            Line::Garbage(_) => true,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn ok_response_with_one_information_line() {
        // nRF91 AT reference, +CGSN example.
        let r = Response::parse(b"+CGSN: \"352656100367872\"\r\nOK\r\n").unwrap();
        assert_eq!(r.final_code(), Final::Ok);
        assert_eq!(r.info("+CGSN:").unwrap().quoted(), Ok("352656100367872"));
    }

    #[test]
    fn cme_error_is_a_final_code_with_its_number() {
        let r = Response::parse(b"+CME ERROR: 513\r\n").unwrap();
        assert_eq!(r.result(), Err(Final::CmeError(513)));
    }

    #[test]
    fn response_without_final_code_is_incomplete() {
        assert_eq!(Response::parse(b"+CGSN: \"1\"\r\n"), Err(ResponseError::Incomplete));
        assert_eq!(Response::parse(b""), Err(ResponseError::Incomplete));
    }

    #[test]
    fn interleaved_notification_and_garbage_are_set_aside() {
        let r = Response::parse(b"+CEREG: 2\r\n\xff\xfe\r\n+CFUN: 1\r\nOK\r\n").unwrap();
        assert_eq!(r.info("+CFUN:").unwrap().int::<u8>(), Ok(1));
        let mut others = r.others("+CFUN:");
        assert_eq!(others.next(), Some(Line::Text("+CEREG: 2")));
        assert_eq!(others.next(), Some(Line::Garbage(b"\xff\xfe")));
        assert_eq!(others.next(), None);
    }

    #[test]
    fn final_code_in_the_middle_is_rejected() {
        assert_eq!(Response::parse(b"OK\r\n+CFUN: 1\r\nOK\r\n"), Err(ResponseError::EarlyFinal));
    }
}
