//! Notification attributes (OMA-TS-LightweightM2M_Core 1.1 §5.1.2: `pmin`,
//! `pmax`, `gt`, `lt`, `st`, `epmin`, `epmax`) as Write-Attributes sets them
//! and as the client applies them to an observation (§5.1.2.1: attributes
//! of a resource override those of its instance, which override those of
//! its object), and the rule deciding when a notification is due.
//!
//! Nothing here panics: query strings come from the network and are parsed
//! with the link-format attribute parser.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::formats::link::Attr;
use crate::formats::{DecodeError, EncodeError, Encoder};
use crate::path::Path;
use crate::time::{Duration, Instant};
use crate::value::Value;

/// One attribute: unset, set, or being removed (a bare `pmin` in the query).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Setting<T> {
    /// Not mentioned: the level above applies.
    #[default]
    Inherit,
    /// Set at this level.
    Set(T),
}

impl<T: Copy> Setting<T> {
    pub(crate) fn or(self, parent: Setting<T>) -> Setting<T> {
        match self {
            Setting::Set(_) => self,
            Setting::Inherit => parent,
        }
    }

    /// The value, if set.
    pub fn get(self) -> Option<T> {
        match self {
            Setting::Set(v) => Some(v),
            Setting::Inherit => None,
        }
    }
}

/// The notification attributes attached to one path for one server.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[allow(missing_docs, reason = "field names are the TS attribute names")]
pub struct Attributes {
    pub pmin: Setting<u32>,
    pub pmax: Setting<u32>,
    pub gt: Setting<f64>,
    pub lt: Setting<f64>,
    pub st: Setting<f64>,
    pub epmin: Setting<u32>,
    pub epmax: Setting<u32>,
}

/// A Write-Attributes query the client refuses (4.00 Bad Request, TS §5.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AttributeError {
    /// Not a notification attribute, or a malformed value.
    Syntax,
    /// `pmax < pmin`, `epmax < epmin`, or `lt + 2·st >= gt` (TS §5.1.2 rules).
    Inconsistent,
    /// `gt`, `lt` or `st` on something that is not a numeric resource.
    NotNumeric,
}

impl From<DecodeError> for AttributeError {
    fn from(_: DecodeError) -> Self {
        AttributeError::Syntax
    }
}

impl Attributes {
    /// Apply one Uri-Query of a Write-Attributes request: `pmin=10` sets,
    /// a bare `pmin` removes (TS §5.4.4: "an attribute without a value is
    /// unset").
    ///
    /// # Errors
    /// [`AttributeError::Syntax`] for anything but the seven notification
    /// attributes.
    pub fn apply_query(&mut self, query: &str) -> Result<(), AttributeError> {
        let (name, value) = match query.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (query, None),
        };
        if value.is_none() {
            match name {
                "pmin" => self.pmin = Setting::Inherit,
                "pmax" => self.pmax = Setting::Inherit,
                "gt" => self.gt = Setting::Inherit,
                "lt" => self.lt = Setting::Inherit,
                "st" => self.st = Setting::Inherit,
                "epmin" => self.epmin = Setting::Inherit,
                "epmax" => self.epmax = Setting::Inherit,
                _ => return Err(AttributeError::Syntax),
            }
            return Ok(());
        }
        match Attr::parse(name, value)? {
            Attr::Pmin(v) => self.pmin = Setting::Set(v),
            Attr::Pmax(v) => self.pmax = Setting::Set(v),
            Attr::Gt(v) => self.gt = Setting::Set(v),
            Attr::Lt(v) => self.lt = Setting::Set(v),
            Attr::St(v) if v >= 0.0 => self.st = Setting::Set(v),
            Attr::Epmin(v) => self.epmin = Setting::Set(v),
            Attr::Epmax(v) => self.epmax = Setting::Set(v),
            _ => return Err(AttributeError::Syntax),
        }
        Ok(())
    }

    /// Check the consistency rules of TS §5.1.2.
    ///
    /// # Errors
    /// [`AttributeError::Inconsistent`].
    pub fn validate(&self) -> Result<(), AttributeError> {
        if let (Some(pmin), Some(pmax)) = (self.pmin.get(), self.pmax.get())
            && pmax < pmin
        {
            return Err(AttributeError::Inconsistent);
        }
        if let (Some(epmin), Some(epmax)) = (self.epmin.get(), self.epmax.get())
            && epmax < epmin
        {
            return Err(AttributeError::Inconsistent);
        }
        if let (Some(gt), Some(lt)) = (self.gt.get(), self.lt.get()) {
            let st = self.st.get().unwrap_or(0.0);
            if lt + 2.0 * st >= gt {
                return Err(AttributeError::Inconsistent);
            }
        }
        Ok(())
    }

    /// Whether any value-based attribute (`gt`, `lt`, `st`) is set.
    pub fn has_value_conditions(&self) -> bool {
        self.gt.get().is_some() || self.lt.get().is_some() || self.st.get().is_some()
    }

    /// These attributes with every unset one taken from `parent`.
    pub fn inherit(&self, parent: &Attributes) -> Attributes {
        Attributes {
            pmin: self.pmin.or(parent.pmin),
            pmax: self.pmax.or(parent.pmax),
            gt: self.gt.or(parent.gt),
            lt: self.lt.or(parent.lt),
            st: self.st.or(parent.st),
            epmin: self.epmin.or(parent.epmin),
            epmax: self.epmax.or(parent.epmax),
        }
    }

    /// `pmin` as a duration (0 when unset).
    pub fn pmin(&self) -> Duration {
        Duration::from_secs(u64::from(self.pmin.get().unwrap_or(0)))
    }

    /// `epmin` as a duration (0 when unset).
    pub fn epmin(&self) -> Duration {
        Duration::from_secs(u64::from(self.epmin.get().unwrap_or(0)))
    }

    /// `epmax` as a duration, if set and non-zero.
    pub fn epmax(&self) -> Option<Duration> {
        self.epmax.get().filter(|&s| s > 0).map(|s| Duration::from_secs(u64::from(s)))
    }

    /// `pmax` as a duration, if set and non-zero (TS: "pmax = 0 … ignored").
    pub fn pmax(&self) -> Option<Duration> {
        self.pmax.get().filter(|&s| s > 0).map(|s| Duration::from_secs(u64::from(s)))
    }

    /// Whether a change from the last notified value `last` to `now_value`
    /// satisfies the value conditions (TS §5.1.2): crossing `gt` or `lt`
    /// (in either direction), or moving by at least `st`. With no value
    /// condition every change counts.
    pub fn value_condition_met(&self, last: Option<f64>, now_value: Option<f64>) -> bool {
        if !self.has_value_conditions() {
            return true;
        }
        let (Some(last), Some(v)) = (last, now_value) else {
            return true;
        };
        let crossed = |t: f64| (last <= t) != (v <= t);
        if self.gt.get().is_some_and(crossed) || self.lt.get().is_some_and(crossed) {
            return true;
        }
        self.st.get().is_some_and(|st| (v - last).abs() >= st)
    }
}

/// When the observation next needs attention (TS §5.1.2, RFC 7641 §4.2):
/// a changed value once `pmin` has passed since the last notification and
/// `epmin` since the last evaluation; an evaluation `epmax` after the last
/// one; a notification `pmax` after the last one regardless.
pub fn next_due(
    attrs: &Attributes,
    last_sent: Instant,
    last_eval: Instant,
    changed: bool,
) -> Option<Instant> {
    let later = |a: Instant, b: Instant| if a > b { a } else { b };
    let by_change = changed.then(|| later(last_sent + attrs.pmin(), last_eval + attrs.epmin()));
    let by_epmax = attrs.epmax().map(|e| later(last_eval + e, last_sent + attrs.pmin()));
    let by_pmax = attrs.pmax().map(|p| last_sent + p);
    [by_change, by_epmax, by_pmax].into_iter().flatten().min()
}

/// An [`Encoder`] that keeps the first numeric value of a walk (for the
/// `gt`/`lt`/`st` comparison) and counts the values.
#[derive(Debug, Default, Clone, Copy)]
pub struct NumericProbe {
    /// The first numeric value seen.
    pub value: Option<f64>,
    /// Values seen.
    pub count: usize,
    /// The path of the first value.
    pub first: Option<Path>,
}

impl Encoder for NumericProbe {
    fn write(&mut self, path: &Path, value: &Value<'_>) -> Result<(), EncodeError> {
        if self.count == 0 {
            self.first = Some(*path);
        }
        self.count += 1;
        if self.value.is_none() {
            #[allow(clippy::cast_precision_loss, reason = "thresholds are compared as f64 (TS)")]
            let v = match *value {
                Value::Integer(i) | Value::Time(i) => Some(i as f64),
                Value::UnsignedInteger(u) => Some(u as f64),
                Value::Float(f) => Some(f),
                _ => None,
            };
            self.value = v;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bare_attribute_unsets_and_valued_attribute_sets() {
        let mut a = Attributes::default();
        a.apply_query("pmin=5").unwrap();
        a.apply_query("gt=50.5").unwrap();
        assert_eq!(a.pmin, Setting::Set(5));
        assert_eq!(a.gt, Setting::Set(50.5));
        a.apply_query("pmin").unwrap();
        assert_eq!(a.pmin, Setting::Inherit);
        assert_eq!(a.apply_query("foo=1"), Err(AttributeError::Syntax));
        assert_eq!(a.apply_query("pmin=-1"), Err(AttributeError::Syntax));
    }

    #[test]
    fn pmax_below_pmin_is_inconsistent() {
        let mut a = Attributes::default();
        a.apply_query("pmin=10").unwrap();
        a.apply_query("pmax=5").unwrap();
        assert_eq!(a.validate(), Err(AttributeError::Inconsistent));
    }

    #[test]
    fn lt_plus_twice_st_must_stay_below_gt() {
        let mut a = Attributes::default();
        for q in ["gt=10", "lt=5", "st=3"] {
            a.apply_query(q).unwrap();
        }
        assert_eq!(a.validate(), Err(AttributeError::Inconsistent));
        a.apply_query("st=2").unwrap();
        assert_eq!(a.validate(), Ok(()));
    }

    #[test]
    fn resource_attributes_override_instance_attributes() {
        let mut inst = Attributes::default();
        inst.apply_query("pmin=1").unwrap();
        inst.apply_query("pmax=60").unwrap();
        let mut res = Attributes::default();
        res.apply_query("pmax=30").unwrap();
        let eff = res.inherit(&inst);
        assert_eq!(eff.pmin.get(), Some(1));
        assert_eq!(eff.pmax.get(), Some(30));
    }

    #[test]
    fn threshold_crossing_and_step_trigger_notifications() {
        let mut a = Attributes::default();
        a.apply_query("gt=50").unwrap();
        assert!(a.value_condition_met(Some(40.0), Some(60.0)));
        assert!(a.value_condition_met(Some(60.0), Some(40.0)));
        assert!(!a.value_condition_met(Some(40.0), Some(45.0)));
        let mut s = Attributes::default();
        s.apply_query("st=5").unwrap();
        assert!(!s.value_condition_met(Some(10.0), Some(14.0)));
        assert!(s.value_condition_met(Some(10.0), Some(15.0)));
    }

    #[test]
    fn due_at_pmin_after_change_or_pmax_without() {
        let mut a = Attributes::default();
        a.apply_query("pmin=2").unwrap();
        a.apply_query("pmax=10").unwrap();
        let t = Instant::from_secs(100);
        assert_eq!(next_due(&a, t, t, true), Some(Instant::from_secs(102)));
        assert_eq!(next_due(&a, t, t, false), Some(Instant::from_secs(110)));
        assert_eq!(next_due(&Attributes::default(), t, t, false), None);
    }

    #[test]
    fn epmin_delays_evaluation_and_epmax_forces_one() {
        let mut a = Attributes::default();
        a.apply_query("epmin=5").unwrap();
        a.apply_query("epmax=20").unwrap();
        let t = Instant::from_secs(100);
        // A change 1 s after the last evaluation waits for epmin.
        assert_eq!(next_due(&a, t, t, true), Some(Instant::from_secs(105)));
        // Without a signalled change, an evaluation is due at epmax.
        assert_eq!(next_due(&a, t, t, false), Some(Instant::from_secs(120)));
    }
}
