//! Resource metadata of the OMA objects this crate implements: ID, name,
//! operations, multiplicity, mandatory flag, data type, range and units —
//! one [`ObjectDef`] per object, as the OMA LwM2M registry defines it
//! (OMA-TS-LightweightM2M_Core §6.1 "Resource Model", Appendix D/E).
//!
//! The tables in `tables.rs` are plain `const` data, committed to the
//! repository (nothing is read at build time). They are the newest object
//! versions of the registry snapshot kept in `lwm2m-objects/registry/`, and
//! `tests/registry_conformance.rs` parses those XML files and fails on any
//! difference, naming the object, resource and field.
//!
//! Nothing here panics; the numeric-range parser returns `None` for range
//! texts that are not `min..max`.

mod tables;

pub use tables::*;

use lwm2m_core::value::DataType;

/// The operations a resource supports (registry `<Operations>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operations {
    /// Empty in the registry: not reachable through the device-management
    /// interface at all (every Security resource; only the Bootstrap-Server
    /// writes them).
    None,
    /// Read only.
    R,
    /// Write only.
    W,
    /// Read and write.
    RW,
    /// Execute.
    E,
}

impl Operations {
    /// Whether a device-management server may Read (also Observe, Discover values).
    pub const fn readable(self) -> bool {
        matches!(self, Operations::R | Operations::RW)
    }

    /// Whether a device-management server may Write.
    pub const fn writable(self) -> bool {
        matches!(self, Operations::W | Operations::RW)
    }

    /// Whether the resource is executable.
    pub const fn executable(self) -> bool {
        matches!(self, Operations::E)
    }

    /// The registry spelling: `""`, `"R"`, `"W"`, `"RW"`, `"E"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operations::None => "",
            Operations::R => "R",
            Operations::W => "W",
            Operations::RW => "RW",
            Operations::E => "E",
        }
    }
}

/// One resource of an object definition (registry `<Item>`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceDef {
    /// Resource ID.
    pub id: u16,
    /// Registry name, whitespace-normalised.
    pub name: &'static str,
    /// Supported operations.
    pub operations: Operations,
    /// `true` for a multiple-instance resource.
    pub multiple: bool,
    /// `true` if the registry marks the resource mandatory.
    pub mandatory: bool,
    /// Data type; [`DataType::None`] for executable resources.
    pub data_type: DataType,
    /// Registry `<RangeEnumeration>` text, verbatim (whitespace-normalised).
    pub range: &'static str,
    /// Registry `<Units>` text, verbatim.
    pub units: &'static str,
}

impl ResourceDef {
    /// The range as inclusive integer bounds, when the registry writes it
    /// as `min..max` (e.g. `"0..100"`); `None` for free text (`"8-Bits"`,
    /// `"16,32,48"`) or no range.
    pub fn numeric_range(&self) -> Option<(i64, i64)> {
        let (lo, hi) = self.range.split_once("..")?;
        Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
    }
}

/// One object definition (registry `<Object>`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectDef {
    /// Object ID.
    pub id: u16,
    /// Registry name.
    pub name: &'static str,
    /// `<ObjectVersion>` (`"1.0"` when the file omits it).
    pub version: &'static str,
    /// `<LWM2MVersion>` (`"1.0"` when the file omits it).
    pub lwm2m_version: &'static str,
    /// `true` for a multiple-instance object.
    pub multiple: bool,
    /// `true` if the registry marks the object mandatory.
    pub mandatory: bool,
    /// Every resource the registry defines, by ascending ID.
    pub resources: &'static [ResourceDef],
}

impl ObjectDef {
    /// The definition of resource `id`, if the object has one.
    pub fn resource(&self, id: u16) -> Option<&'static ResourceDef> {
        self.resources.iter().find(|r| r.id == id)
    }
}

/// The definition of object `id`, if this crate carries one.
pub fn object(id: u16) -> Option<&'static ObjectDef> {
    ALL.iter().copied().find(|o| o.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_range_parses_min_max_only() {
        assert_eq!(DEVICE.resource(device::BATTERY_LEVEL).unwrap().numeric_range(), Some((0, 100)));
        assert_eq!(EVENT_LOG.resource(event_log::LOG_STATUS).unwrap().numeric_range(), None);
        assert_eq!(DEVICE.resource(device::MANUFACTURER).unwrap().numeric_range(), None);
    }

    #[test]
    fn object_lookup_finds_the_twelve_generic_objects() {
        for id in [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 19, 20] {
            assert_eq!(object(id).map(|o| o.id), Some(id));
        }
        assert!(object(9).is_none());
    }
}
