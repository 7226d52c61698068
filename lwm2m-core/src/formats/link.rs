//! CoRE link format, `application/link-format` (content format 40;
//! RFC 6690 §2, §5) with the LwM2M attributes (OMA-TS-LightweightM2M_Core
//! 1.1 §5.1.2 notification attributes `pmin pmax gt lt st epmin epmax`,
//! §6.2.1/§5.2.7 `ver dim ssid uri`) as Register, Update, Discover and
//! Bootstrap-Discover use them.
//!
//! [`LinkWriter`] streams links into a [`Window`]
//! (`</1/0>,</3/0>;ver=1.1,…`); [`LinkParser`] iterates the links of a
//! payload (the server side), each with an iterator over its attributes.
//! Quoted attribute values are returned without their quotes and with any
//! `\` escapes left in place (RFC 6690 values here never need them).
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::{Chunk, DecodeError, Window};
use crate::path::{Path, PathError};
use core::fmt::{self, Write};

/// A link attribute LwM2M uses, or any other one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attr<'a> {
    /// `pmin`: minimum period, seconds.
    Pmin(u32),
    /// `pmax`: maximum period, seconds.
    Pmax(u32),
    /// `gt`: greater-than threshold.
    Gt(f64),
    /// `lt`: less-than threshold.
    Lt(f64),
    /// `st`: step.
    St(f64),
    /// `epmin`: minimum evaluation period, seconds.
    Epmin(u32),
    /// `epmax`: maximum evaluation period, seconds.
    Epmax(u32),
    /// `ver`: object version (`1.1`).
    Ver(&'a str),
    /// `dim`: number of instances of a multiple-instance resource.
    Dim(u16),
    /// `ssid`: short server ID (Bootstrap-Discover).
    Ssid(u16),
    /// `uri`: server URI (Bootstrap-Discover), written quoted.
    Uri(&'a str),
    /// `rt`: resource type (`oma.lwm2m`), written quoted.
    Rt(&'a str),
    /// `ct`: content format.
    Ct(u16),
    /// Any other attribute, name and optional value as they appear (a
    /// quoted value without its quotes).
    Other(&'a str, Option<&'a str>),
}

impl<'a> Attr<'a> {
    /// The attribute name.
    pub fn name(&self) -> &'a str {
        match self {
            Attr::Pmin(_) => "pmin",
            Attr::Pmax(_) => "pmax",
            Attr::Gt(_) => "gt",
            Attr::Lt(_) => "lt",
            Attr::St(_) => "st",
            Attr::Epmin(_) => "epmin",
            Attr::Epmax(_) => "epmax",
            Attr::Ver(_) => "ver",
            Attr::Dim(_) => "dim",
            Attr::Ssid(_) => "ssid",
            Attr::Uri(_) => "uri",
            Attr::Rt(_) => "rt",
            Attr::Ct(_) => "ct",
            Attr::Other(n, _) => n,
        }
    }

    /// Interprets a parsed `name[=value]`.
    ///
    /// # Errors
    /// [`DecodeError::Syntax`] when a known attribute has a malformed value.
    pub fn parse(name: &'a str, value: Option<&'a str>) -> Result<Attr<'a>, DecodeError> {
        let bad = DecodeError::Syntax;
        let v = || value.ok_or(bad);
        let num = |s: &str| -> Result<f64, DecodeError> {
            let ok = !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
            if !ok {
                return Err(bad);
            }
            let x: f64 = s.parse().map_err(|_| bad)?;
            if x.is_finite() { Ok(x) } else { Err(bad) }
        };
        let uint = |s: &str| -> Result<u32, DecodeError> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad);
            }
            s.parse().map_err(|_| bad)
        };
        let u16_ =
            |s: &str| -> Result<u16, DecodeError> { u16::try_from(uint(s)?).map_err(|_| bad) };
        Ok(match name {
            "pmin" => Attr::Pmin(uint(v()?)?),
            "pmax" => Attr::Pmax(uint(v()?)?),
            "gt" => Attr::Gt(num(v()?)?),
            "lt" => Attr::Lt(num(v()?)?),
            "st" => Attr::St(num(v()?)?),
            "epmin" => Attr::Epmin(uint(v()?)?),
            "epmax" => Attr::Epmax(uint(v()?)?),
            "ver" => Attr::Ver(v()?),
            "dim" => Attr::Dim(u16_(v()?)?),
            "ssid" => Attr::Ssid(u16_(v()?)?),
            "uri" => Attr::Uri(v()?),
            "rt" => Attr::Rt(v()?),
            "ct" => Attr::Ct(u16_(v()?)?),
            _ => Attr::Other(name, value),
        })
    }
}

impl fmt::Display for Attr<'_> {
    /// `name=value` as the link format writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match *self {
            Attr::Pmin(n) | Attr::Pmax(n) | Attr::Epmin(n) | Attr::Epmax(n) => {
                write!(f, "{name}={n}")
            }
            Attr::Gt(x) | Attr::Lt(x) | Attr::St(x) => write!(f, "{name}={x}"),
            Attr::Dim(n) | Attr::Ssid(n) | Attr::Ct(n) => write!(f, "{name}={n}"),
            Attr::Ver(s) => write!(f, "{name}={s}"),
            Attr::Uri(s) | Attr::Rt(s) => write!(f, "{name}=\"{s}\""),
            Attr::Other(n, Some(v)) => write!(f, "{n}={v}"),
            Attr::Other(n, None) => f.write_str(n),
        }
    }
}

/// Streams links into a window.
#[derive(Debug)]
pub struct LinkWriter<'b> {
    out: Window<'b>,
    first: bool,
}

impl<'b> LinkWriter<'b> {
    /// A writer into `out`.
    pub fn new(out: Window<'b>) -> LinkWriter<'b> {
        LinkWriter { out, first: true }
    }

    /// Writes `<target>;attr;…` (target as given, e.g. `/` or `/rd`).
    pub fn link_str(&mut self, target: &str, attrs: &[Attr<'_>]) {
        if !self.first {
            self.out.put_u8(b',');
        }
        self.first = false;
        self.out.put_u8(b'<');
        self.out.put(target.as_bytes());
        self.out.put_u8(b'>');
        for a in attrs {
            // fmt::Write into a Window never fails.
            let _ = write!(self.out, ";{a}");
        }
    }

    /// Writes `<path>;attr;…`.
    pub fn link(&mut self, target: &Path, attrs: &[Attr<'_>]) {
        let text = super::senml::path_text(target);
        self.link_str(&text, attrs);
    }

    /// Writes `<prefix path>` for a server that uses an alternate path
    /// (`</lwm2m/3/0>`); `prefix` has no trailing `/`.
    pub fn link_under(&mut self, prefix: &str, target: &Path, attrs: &[Attr<'_>]) {
        let mut s: heapless::String<80> = heapless::String::new();
        let _ = s.push_str(prefix);
        let _ = write!(s, "{target}");
        self.link_str(&s, attrs);
    }

    /// Ends the payload.
    pub fn finish(self) -> Chunk {
        self.out.finish()
    }
}

/// One parsed link: its target and raw attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    /// The URI reference between `<` and `>`.
    pub target: &'a str,
    params: &'a str,
}

impl<'a> Link<'a> {
    /// The target as a LwM2M path (after removing an alternate-path `prefix`,
    /// `""` for none).
    ///
    /// # Errors
    /// [`PathError`] when the target is not a path below `prefix`.
    pub fn path(&self, prefix: &str) -> Result<Path, PathError> {
        let t = self.target.strip_prefix(prefix).ok_or(PathError::MissingSlash)?;
        Path::parse(if t.is_empty() { "/" } else { t })
    }

    /// The attributes, in order.
    pub fn attrs(&self) -> Attrs<'a> {
        Attrs { rest: self.params }
    }
}

/// Iterates the `;name[=value]` attributes of a link.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest.strip_prefix(';')?;
        let end = split_point(rest, b';');
        let (param, tail) = rest.split_at_checked(end)?;
        self.rest = tail;
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => {
                (n, Some(v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v)))
            }
            None => (param, None),
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*'))
        {
            self.rest = "";
            return Some(Err(DecodeError::Syntax));
        }
        Some(Attr::parse(name, value))
    }
}

/// The index of the first `stop` byte outside quotes (or the length).
fn split_point(s: &str, stop: u8) -> usize {
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if b == stop && !quoted => return i,
            _ => {}
        }
    }
    s.len()
}

/// Iterates the links of a link-format payload.
#[derive(Debug, Clone)]
pub struct LinkParser<'a> {
    rest: &'a str,
    failed: bool,
}

impl<'a> LinkParser<'a> {
    /// A parser over `payload`.
    ///
    /// # Errors
    /// [`DecodeError::Utf8`] when the payload is not UTF-8.
    pub fn new(payload: &'a [u8]) -> Result<LinkParser<'a>, DecodeError> {
        Ok(LinkParser { rest: core::str::from_utf8(payload)?, failed: false })
    }

    fn link(&mut self) -> Result<Link<'a>, DecodeError> {
        let s = self.rest.trim_start();
        let s = s.strip_prefix('<').ok_or(DecodeError::Syntax)?;
        let (target, after) = s.split_once('>').ok_or(DecodeError::Truncated)?;
        let end = split_point(after, b',');
        let (params, tail) = after.split_at_checked(end).ok_or(DecodeError::Syntax)?;
        let params = params.trim_end();
        if !params.is_empty() && !params.starts_with(';') {
            return Err(DecodeError::Syntax);
        }
        if params.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
            return Err(DecodeError::Truncated);
        }
        self.rest = tail.strip_prefix(',').unwrap_or(tail);
        Ok(Link { target, params })
    }
}

impl<'a> Iterator for LinkParser<'a> {
    type Item = Result<Link<'a>, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.trim().is_empty() {
            return None;
        }
        let r = self.link();
        self.failed = r.is_err();
        Some(r)
    }
}
