//! The operators this library knows and the `carriers_enabled` bitmask.
//!
//! Owns [`Carrier`] (one value per operator table, plus generic mode) and
//! [`CarrierSet`] (the bitmask of `lwm2m_carrier_config_t.carriers_enabled`,
//! carrier-api.md §1, carriers.md §1.4). Guarantee: every function here is
//! total — any `u32` is accepted and classified, nothing panics.

use core::fmt;

/// An operator profile: one of the supported carriers, or generic mode (a custom server).
///
/// AT&T is deliberately absent: its support was deprecated in library 3.3.0 and removed from
/// the newest enabled-carrier list (carriers.md §9); its bit `0x04` is reserved
/// ([`CarrierSet::RESERVED_ATT`]) and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Carrier {
    /// Generic mode: no operator table, the custom server options describe the server.
    Generic,
    /// Verizon (US).
    Verizon,
    /// T-Mobile (US).
    TMobile,
    /// SoftBank (Japan).
    SoftBank,
    /// LG U+ (South Korea).
    LgUplus,
    /// Bell Canada.
    BellCanada,
}

impl Carrier {
    /// Every carrier, generic first, in bit order of [`CarrierSet`].
    pub const ALL: [Carrier; 6] = [
        Carrier::Generic,
        Carrier::Verizon,
        Carrier::LgUplus,
        Carrier::TMobile,
        Carrier::SoftBank,
        Carrier::BellCanada,
    ];

    /// The bit of this carrier in `carriers_enabled` (carrier-api.md §1).
    pub const fn bit(self) -> u32 {
        match self {
            Carrier::Generic => CarrierSet::GENERIC.0,
            Carrier::Verizon => CarrierSet::VERIZON.0,
            Carrier::LgUplus => CarrierSet::LG_UPLUS.0,
            Carrier::TMobile => CarrierSet::T_MOBILE.0,
            Carrier::SoftBank => CarrierSet::SOFTBANK.0,
            Carrier::BellCanada => CarrierSet::BELL_CA.0,
        }
    }

    /// The carrier of a single `carriers_enabled` bit (how a stored carrier is read back).
    pub const fn from_bit(bit: u32) -> Option<Carrier> {
        match bit {
            0x01 => Some(Carrier::Generic),
            0x02 => Some(Carrier::Verizon),
            0x08 => Some(Carrier::LgUplus),
            0x10 => Some(Carrier::TMobile),
            0x20 => Some(Carrier::SoftBank),
            0x40 => Some(Carrier::BellCanada),
            _ => None,
        }
    }

    /// Human-readable name, as the original's shell prints it ("LG U+", "Bell Canada").
    pub const fn name(self) -> &'static str {
        match self {
            Carrier::Generic => "Generic",
            Carrier::Verizon => "Verizon",
            Carrier::TMobile => "T-Mobile",
            Carrier::SoftBank => "SoftBank",
            Carrier::LgUplus => "LG U+",
            Carrier::BellCanada => "Bell Canada",
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `carriers_enabled` bitmask, stored raw exactly as the application gave it.
///
/// `0` and all-ones both mean "every carrier except AT&T" (carriers.md §1.4); use
/// [`CarrierSet::normalized`] before asking membership questions, or just
/// [`CarrierSet::contains`], which normalises itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CarrierSet(pub u32);

impl CarrierSet {
    /// Generic mode (custom server).
    pub const GENERIC: CarrierSet = CarrierSet(0x01);
    /// Verizon.
    pub const VERIZON: CarrierSet = CarrierSet(0x02);
    /// AT&T — retired; setting it is a configuration error, never reused.
    pub const RESERVED_ATT: CarrierSet = CarrierSet(0x04);
    /// LG U+.
    pub const LG_UPLUS: CarrierSet = CarrierSet(0x08);
    /// T-Mobile.
    pub const T_MOBILE: CarrierSet = CarrierSet(0x10);
    /// SoftBank.
    pub const SOFTBANK: CarrierSet = CarrierSet(0x20);
    /// Bell Canada (0x40 per the v2.9.0 and 3.7.0 headers, carrier-api.md §8).
    pub const BELL_CA: CarrierSet = CarrierSet(0x40);
    /// Every carrier this library supports (generic included).
    pub const ALL_SUPPORTED: CarrierSet = CarrierSet(0x01 | 0x02 | 0x08 | 0x10 | 0x20 | 0x40);
    /// The "no bits set" value, meaning every supported carrier.
    pub const DEFAULT: CarrierSet = CarrierSet(0);

    /// The set with only `carrier`.
    pub const fn only(carrier: Carrier) -> CarrierSet {
        CarrierSet(carrier.bit())
    }

    /// The union of two sets.
    #[must_use]
    pub const fn with(self, carrier: Carrier) -> CarrierSet {
        CarrierSet(self.0 | carrier.bit())
    }

    /// `0` and `u32::MAX` become [`CarrierSet::ALL_SUPPORTED`]; any other value is kept.
    pub const fn normalized(self) -> CarrierSet {
        if self.0 == 0 || self.0 == u32::MAX { CarrierSet::ALL_SUPPORTED } else { self }
    }

    /// Bits that name no supported carrier (the retired AT&T bit included), after
    /// normalisation; `0` when the mask is valid.
    pub const fn unknown_bits(self) -> u32 {
        self.normalized().0 & !CarrierSet::ALL_SUPPORTED.0
    }

    /// Whether `carrier` is enabled (after normalisation).
    pub const fn contains(self, carrier: Carrier) -> bool {
        self.normalized().0 & carrier.bit() != 0
    }

    /// Number of enabled supported carriers, generic included (after normalisation).
    pub const fn count(self) -> u32 {
        (self.normalized().0 & CarrierSet::ALL_SUPPORTED.0).count_ones()
    }

    /// The single enabled carrier, if exactly one is enabled.
    pub fn single(self) -> Option<Carrier> {
        if self.count() != 1 {
            return None;
        }
        Carrier::ALL.into_iter().find(|c| self.contains(*c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_bits_match_the_c_header() {
        let expected = [
            (Carrier::Generic, 0x01),
            (Carrier::Verizon, 0x02),
            (Carrier::LgUplus, 0x08),
            (Carrier::TMobile, 0x10),
            (Carrier::SoftBank, 0x20),
            (Carrier::BellCanada, 0x40),
        ];
        for (c, bit) in expected {
            assert_eq!(c.bit(), bit, "{c}");
            assert_eq!(Carrier::from_bit(bit), Some(c));
        }
        assert_eq!(Carrier::from_bit(0x04), None);
        assert_eq!(Carrier::from_bit(0x03), None);
    }

    #[test]
    fn zero_and_all_ones_enable_every_carrier_except_att() {
        for raw in [0, u32::MAX] {
            let set = CarrierSet(raw);
            for c in Carrier::ALL {
                assert!(set.contains(c), "{raw:#x} {c}");
            }
            assert_eq!(set.unknown_bits(), 0);
            assert_eq!(set.normalized().0 & CarrierSet::RESERVED_ATT.0, 0);
        }
    }

    #[test]
    fn single_is_some_only_for_exactly_one_bit() {
        assert_eq!(CarrierSet::only(Carrier::Verizon).single(), Some(Carrier::Verizon));
        assert_eq!(CarrierSet::GENERIC.single(), Some(Carrier::Generic));
        assert_eq!(CarrierSet::VERIZON.with(Carrier::TMobile).single(), None);
        assert_eq!(CarrierSet(0).single(), None);
    }

    #[test]
    fn att_bit_is_unknown() {
        assert_eq!(CarrierSet(0x04 | 0x02).unknown_bits(), 0x04);
        assert_eq!(CarrierSet(0x80).unknown_bits(), 0x80);
    }
}
