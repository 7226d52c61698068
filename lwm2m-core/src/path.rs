//! LwM2M paths: `/`, `/O`, `/O/I`, `/O/I/R`, `/O/I/R/RI`
//! (OMA-TS-LightweightM2M_Core 1.1 §6.1 and §6.4).
//!
//! A [`Path`] is a small `Copy` value: up to four 16-bit identifiers. Every
//! identifier is in `0..=65534`; 65535 is reserved by the specification
//! ("MAX_ID 65535 is a reserved value and MUST NOT be used for
//! identifying an Object, Object Instance, Resource or Resource Instance")
//! and is refused with [`PathError::Reserved`]. A `Path` can only be built
//! through a checked constructor, so every `Path` in the program is valid.
//!
//! Paths order like their identifier lists (a parent sorts before its
//! children, siblings by identifier), which is the order LwM2M encoders walk
//! an object tree.
//!
//! Nothing here panics on any input.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::coap::numbers::Code;
use core::cmp::Ordering;
use core::fmt;
use core::str::FromStr;

/// The largest identifier a path may carry; 65535 (`MAX_ID`) is reserved.
pub const MAX_ID: u16 = 65534;

/// The reserved identifier 65535 (`MAX_ID` in the TS).
pub const RESERVED_ID: u16 = 65535;

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathError {
    /// The text did not start with `/`.
    MissingSlash,
    /// An empty segment (`//`, or a trailing `/` after an identifier).
    EmptySegment,
    /// A segment was not a decimal number.
    NotANumber,
    /// An identifier above 65535.
    OutOfRange,
    /// The reserved identifier 65535.
    Reserved,
    /// More than four identifiers.
    TooDeep,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::MissingSlash => "path does not start with '/'",
            PathError::EmptySegment => "empty path segment",
            PathError::NotANumber => "path segment is not a decimal number",
            PathError::OutOfRange => "path identifier above 65535",
            PathError::Reserved => "path identifier 65535 is reserved",
            PathError::TooDeep => "path has more than four identifiers",
        })
    }
}

impl core::error::Error for PathError {}

impl From<PathError> for Code {
    /// A request whose path cannot be a LwM2M path is a 4.00 Bad Request.
    fn from(_: PathError) -> Code {
        Code::BadRequest
    }
}

/// How deep a path goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Level {
    /// `/`
    Root,
    /// `/O`
    Object,
    /// `/O/I`
    Instance,
    /// `/O/I/R`
    Resource,
    /// `/O/I/R/RI`
    ResourceInstance,
}

/// A LwM2M path of zero to four identifiers, each in `0..=65534`.
///
/// Invariant: `ids[len..]` are zero, `len <= 4`, every used id `<= MAX_ID`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Path {
    ids: [u16; 4],
    len: u8,
}

impl Path {
    /// The root path `/`.
    pub const ROOT: Path = Path { ids: [0; 4], len: 0 };

    /// A path from up to four identifiers.
    ///
    /// # Errors
    /// [`PathError::TooDeep`] for more than four, [`PathError::Reserved`] for 65535.
    #[expect(clippy::indexing_slicing, reason = "i < ids.len() <= 4 (const fn: no iterators)")]
    pub const fn new(ids: &[u16]) -> Result<Path, PathError> {
        if ids.len() > 4 {
            return Err(PathError::TooDeep);
        }
        let mut out = [0u16; 4];
        let mut i = 0;
        while i < ids.len() {
            if ids[i] > MAX_ID {
                return Err(PathError::Reserved);
            }
            out[i] = ids[i];
            i += 1;
        }
        Ok(Path { ids: out, len: ids.len() as u8 })
    }

    /// `/O`.
    ///
    /// # Errors
    /// [`PathError::Reserved`] if an identifier is 65535.
    pub const fn object(o: u16) -> Result<Path, PathError> {
        Path::new(&[o])
    }

    /// `/O/I`.
    ///
    /// # Errors
    /// [`PathError::Reserved`] if an identifier is 65535.
    pub const fn instance(o: u16, i: u16) -> Result<Path, PathError> {
        Path::new(&[o, i])
    }

    /// `/O/I/R`.
    ///
    /// # Errors
    /// [`PathError::Reserved`] if an identifier is 65535.
    pub const fn resource(o: u16, i: u16, r: u16) -> Result<Path, PathError> {
        Path::new(&[o, i, r])
    }

    /// `/O/I/R/RI`.
    ///
    /// # Errors
    /// [`PathError::Reserved`] if an identifier is 65535.
    pub const fn resource_instance(o: u16, i: u16, r: u16, ri: u16) -> Result<Path, PathError> {
        Path::new(&[o, i, r, ri])
    }

    /// Parses `/`, `/3`, `/3/0`, `/3/0/7`, `/3/0/7/1`. Identifiers are
    /// decimal (leading zeros accepted); a trailing `/` after an identifier
    /// is an [`PathError::EmptySegment`].
    ///
    /// # Errors
    /// Any [`PathError`] but `TooDeep` is possible, and `TooDeep` too.
    pub fn parse(s: &str) -> Result<Path, PathError> {
        let rest = s.strip_prefix('/').ok_or(PathError::MissingSlash)?;
        if rest.is_empty() {
            return Ok(Path::ROOT);
        }
        Path::from_segments(rest.split('/'))
    }

    /// Builds a path from CoAP Uri-Path option values (one identifier per
    /// segment, RFC 7252 §6.5). No segments is the root path.
    ///
    /// # Errors
    /// [`PathError::EmptySegment`], [`PathError::NotANumber`],
    /// [`PathError::OutOfRange`], [`PathError::Reserved`], [`PathError::TooDeep`].
    pub fn from_segments<I, S>(segments: I) -> Result<Path, PathError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut path = Path::ROOT;
        for seg in segments {
            let id = parse_id(seg.as_ref())?;
            path = path.child(id)?;
        }
        Ok(path)
    }

    /// This path with one more identifier (`/3/0` → `/3/0/7`).
    ///
    /// # Errors
    /// [`PathError::TooDeep`] below a resource instance, [`PathError::Reserved`] for 65535.
    pub const fn child(&self, id: u16) -> Result<Path, PathError> {
        if id > MAX_ID {
            return Err(PathError::Reserved);
        }
        let mut ids = self.ids;
        match self.len {
            0 => ids[0] = id,
            1 => ids[1] = id,
            2 => ids[2] = id,
            3 => ids[3] = id,
            _ => return Err(PathError::TooDeep),
        }
        Ok(Path { ids, len: self.len + 1 })
    }

    /// The path one level up; the root is its own parent.
    pub fn parent(&self) -> Path {
        let mut p = *self;
        if p.len > 0 {
            p.len -= 1;
            if let Some(slot) = p.ids.get_mut(usize::from(p.len)) {
                *slot = 0;
            }
        }
        p
    }

    /// The identifiers, outermost first.
    pub fn ids(&self) -> &[u16] {
        self.ids.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The number of identifiers (0 for the root, 4 for a resource instance).
    pub const fn depth(&self) -> usize {
        self.len as usize
    }

    /// `true` for the root path `/`.
    pub const fn is_root(&self) -> bool {
        self.len == 0
    }

    /// The level of the path.
    pub const fn level(&self) -> Level {
        match self.len {
            0 => Level::Root,
            1 => Level::Object,
            2 => Level::Instance,
            3 => Level::Resource,
            _ => Level::ResourceInstance,
        }
    }

    /// The object identifier, if the path has one.
    pub fn object_id(&self) -> Option<u16> {
        self.ids().first().copied()
    }

    /// The object instance identifier, if the path has one.
    pub fn instance_id(&self) -> Option<u16> {
        self.ids().get(1).copied()
    }

    /// The resource identifier, if the path has one.
    pub fn resource_id(&self) -> Option<u16> {
        self.ids().get(2).copied()
    }

    /// The resource instance identifier, if the path has one.
    pub fn resource_instance_id(&self) -> Option<u16> {
        self.ids().get(3).copied()
    }

    /// The path cut to at most `len` identifiers (`/3/0/7/1`.truncated(2) is `/3/0`).
    pub fn truncated(&self, len: usize) -> Path {
        let mut p = *self;
        while p.depth() > len {
            p = p.parent();
        }
        p
    }

    /// `true` if `prefix` is this path or one of its ancestors
    /// (`/3/0/7`.starts_with(`/3`) is true; every path starts with `/`).
    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.ids().starts_with(prefix.ids())
    }

    /// `true` if `other` is this path or lies below it: the target of an
    /// operation on `self` covers `other`.
    pub fn contains(&self, other: &Path) -> bool {
        other.starts_with(self)
    }
}

/// Parses one decimal identifier (no sign, no spaces).
fn parse_id(seg: &[u8]) -> Result<u16, PathError> {
    if seg.is_empty() {
        return Err(PathError::EmptySegment);
    }
    let mut v: u32 = 0;
    for &b in seg {
        let d = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            _ => return Err(PathError::NotANumber),
        };
        v = v.saturating_mul(10).saturating_add(d);
    }
    match u16::try_from(v) {
        Ok(RESERVED_ID) => Err(PathError::Reserved),
        Ok(id) => Ok(id),
        Err(_) => Err(PathError::OutOfRange),
    }
}

impl Ord for Path {
    /// Lexicographic on the identifiers: a parent before its children,
    /// siblings by identifier (`/3` < `/3/0` < `/3/0/0` < `/3/1` < `/4`).
    fn cmp(&self, other: &Path) -> Ordering {
        self.ids().cmp(other.ids())
    }
}

impl PartialOrd for Path {
    fn partial_cmp(&self, other: &Path) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Default for Path {
    fn default() -> Path {
        Path::ROOT
    }
}

impl FromStr for Path {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Path, PathError> {
        Path::parse(s)
    }
}

impl TryFrom<&[u16]> for Path {
    type Error = PathError;
    fn try_from(ids: &[u16]) -> Result<Path, PathError> {
        Path::new(ids)
    }
}

impl fmt::Display for Path {
    /// `/` for the root, `/3/0/7/1` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str("/");
        }
        for id in self.ids() {
            write!(f, "/{id}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Path {
    fn format(&self, f: defmt::Formatter<'_>) {
        // Same shape as `Display`: `/`, `/3`, `/3/0/7`.
        if self.ids().is_empty() {
            defmt::write!(f, "/");
        }
        for id in self.ids() {
            defmt::write!(f, "/{=u16}", id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn parses_every_level() {
        assert_eq!(Path::parse("/").unwrap(), Path::ROOT);
        assert_eq!(Path::parse("/3").unwrap(), Path::object(3).unwrap());
        assert_eq!(Path::parse("/3/0").unwrap(), Path::instance(3, 0).unwrap());
        assert_eq!(Path::parse("/3/0/7").unwrap(), Path::resource(3, 0, 7).unwrap());
        let ri = Path::parse("/3/0/7/1").unwrap();
        assert_eq!(ri, Path::resource_instance(3, 0, 7, 1).unwrap());
        assert_eq!(ri.level(), Level::ResourceInstance);
        assert_eq!(
            (ri.object_id(), ri.instance_id(), ri.resource_id(), ri.resource_instance_id()),
            (Some(3), Some(0), Some(7), Some(1))
        );
        assert_eq!(Path::parse("/65534").unwrap().ids(), &[65534]);
    }

    #[test]
    fn id_65535_is_reserved_everywhere() {
        assert_eq!(Path::parse("/65535"), Err(PathError::Reserved));
        assert_eq!(Path::object(65535), Err(PathError::Reserved));
        assert_eq!(Path::resource(3, 0, 65535), Err(PathError::Reserved));
        assert_eq!(Path::from_segments([b"3", b"65535".as_slice()]), Err(PathError::Reserved));
        assert_eq!(Path::ROOT.child(65535), Err(PathError::Reserved));
    }

    #[test]
    fn malformed_text_is_refused_with_a_reason() {
        assert_eq!(Path::parse(""), Err(PathError::MissingSlash));
        assert_eq!(Path::parse("3/0"), Err(PathError::MissingSlash));
        assert_eq!(Path::parse("/3/"), Err(PathError::EmptySegment));
        assert_eq!(Path::parse("//3"), Err(PathError::EmptySegment));
        assert_eq!(Path::parse("/3/x"), Err(PathError::NotANumber));
        assert_eq!(Path::parse("/-1"), Err(PathError::NotANumber));
        assert_eq!(Path::parse("/+1"), Err(PathError::NotANumber));
        assert_eq!(Path::parse("/65536"), Err(PathError::OutOfRange));
        assert_eq!(Path::parse("/99999999999999999999"), Err(PathError::OutOfRange));
        assert_eq!(Path::parse("/1/2/3/4/5"), Err(PathError::TooDeep));
        assert_eq!(Code::from(PathError::TooDeep), Code::BadRequest);
    }

    #[test]
    fn uri_path_segments_build_paths() {
        assert_eq!(Path::from_segments::<[&[u8]; 0], &[u8]>([]).unwrap(), Path::ROOT);
        assert_eq!(Path::from_segments(["3", "0", "13"]).unwrap().to_string(), "/3/0/13");
        assert_eq!(Path::from_segments(["3", ""]), Err(PathError::EmptySegment));
    }

    #[test]
    fn displays_like_the_ts() {
        assert_eq!(Path::ROOT.to_string(), "/");
        assert_eq!(Path::resource_instance(3, 0, 7, 1).unwrap().to_string(), "/3/0/7/1");
        assert_eq!(std::format!("{:?}", Path::object(5).unwrap()), "Path(/5)");
    }

    #[test]
    fn parent_sorts_before_children_and_siblings_by_id() {
        let mut v: Vec<Path> = ["/4", "/3/1", "/3/0/0", "/3", "/3/0", "/", "/3/0/0/0", "/10"]
            .iter()
            .map(|s| Path::parse(s).unwrap())
            .collect();
        v.sort();
        let s: Vec<_> = v.iter().map(|p| p.to_string()).collect();
        assert_eq!(s, ["/", "/3", "/3/0", "/3/0/0", "/3/0/0/0", "/3/1", "/4", "/10"]);
    }

    #[test]
    fn prefix_helpers() {
        let r = Path::resource(3, 0, 7).unwrap();
        assert!(r.starts_with(&Path::ROOT));
        assert!(r.starts_with(&Path::object(3).unwrap()));
        assert!(r.starts_with(&r));
        assert!(!r.starts_with(&Path::object(30).unwrap()));
        assert!(!Path::object(3).unwrap().starts_with(&r));
        assert!(Path::instance(3, 0).unwrap().contains(&r));
        assert!(!Path::instance(3, 1).unwrap().contains(&r));
        assert_eq!(r.parent(), Path::instance(3, 0).unwrap());
        assert_eq!(Path::ROOT.parent(), Path::ROOT);
        assert_eq!(r.truncated(1), Path::object(3).unwrap());
        assert_eq!(r.child(2).unwrap().child(1), Err(PathError::TooDeep));
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(ids in proptest::collection::vec(0u16..=MAX_ID, 0..=4)) {
            let p = Path::new(&ids).unwrap();
            prop_assert_eq!(Path::parse(&p.to_string()).unwrap(), p);
            prop_assert_eq!(p.ids(), ids.as_slice());
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = Path::parse(&s);
        }

        #[test]
        fn order_matches_id_list_order(a in proptest::collection::vec(0u16..=MAX_ID, 0..=4),
                                       b in proptest::collection::vec(0u16..=MAX_ID, 0..=4)) {
            let (pa, pb) = (Path::new(&a).unwrap(), Path::new(&b).unwrap());
            prop_assert_eq!(pa.cmp(&pb), a.cmp(&b));
            prop_assert_eq!(pa == pb, a == b);
        }
    }
}
