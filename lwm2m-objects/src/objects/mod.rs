//! The objects of generic mode, one module each, plus the small value
//! helpers they share. Each object keeps its state in fixed-capacity fields
//! and implements the crate-private `Object` trait; paths, metadata checks,
//! access control and change tracking live in [`crate::store`].
//!
//! Values reaching an object's `write` were already coerced to the
//! resource's registry type and checked against its registry range by the
//! store; the objects check what the registry cannot say (string capacity,
//! enumerations, cross-resource rules). Nothing here panics on any value.

/// The two instance-listing methods of `Object` for an object that keeps
/// its instances in an [`Instances`] field named `instances`.
macro_rules! multi_instance {
    () => {
        fn for_each_instance(&self, f: &mut dyn FnMut(u16)) {
            self.instances.for_each_id(f);
        }
        fn has_instance(&self, iid: u16) -> bool {
            self.instances.get(iid).is_some()
        }
    };
}

mod access_control;
mod apn;
mod app_data;
mod cellular;
mod connectivity;
mod device;
mod event_log;
mod firmware;
mod location;
mod portfolio;
mod security;
mod server;
mod statistics;

pub use access_control::{AccessControl, AclInstance};
pub use apn::{ApnProfile, ApnProfiles};
pub use app_data::{AppDataInstance, BinaryAppData};
pub use cellular::CellularConnectivity;
pub use connectivity::ConnectivityMonitoring;
pub use device::{Device, PowerSource, SOFTWARE_VERSION};
pub use event_log::{EventLog, EventLogInstance};
pub use firmware::{FirmwareState, FirmwareUpdate, UpdateResult};
pub use location::Location;
pub use portfolio::{Portfolio, PortfolioInstance};
pub use security::{SecretKey, Security, SecurityInstance, SecurityMode};
pub use server::{Server, ServerInstance};
pub use statistics::ConnectivityStatistics;

use crate::error::ObjectError;
use heapless::{String, Vec};
use lwm2m_core::value::Value;

pub(crate) fn to_string<const N: usize>(v: Value<'_>) -> Result<String<N>, ObjectError> {
    v.as_str().and_then(|s| String::try_from(s).ok()).ok_or(ObjectError::BadValue)
}

pub(crate) fn to_bytes<const N: usize>(v: Value<'_>) -> Result<Vec<u8, N>, ObjectError> {
    v.as_bytes().and_then(|b| Vec::from_slice(b).ok()).ok_or(ObjectError::BadValue)
}

pub(crate) fn to_int(v: Value<'_>) -> Result<i64, ObjectError> {
    v.as_i64()
        .or_else(|| v.as_u64().and_then(|n| i64::try_from(n).ok()))
        .ok_or(ObjectError::BadValue)
}

pub(crate) fn to_u16(v: Value<'_>) -> Result<u16, ObjectError> {
    u16::try_from(to_int(v)?).map_err(|_| ObjectError::BadValue)
}

pub(crate) fn to_bool(v: Value<'_>) -> Result<bool, ObjectError> {
    v.as_bool().ok_or(ObjectError::BadValue)
}

/// An object instance with an instance ID.
pub trait Instance {
    /// The instance ID.
    fn id(&self) -> u16;
}

/// The instances of a multiple-instance object: at most `N`, kept in
/// ascending ID order, IDs unique. Every capacity overflow is
/// [`ObjectError::Full`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instances<T, const N: usize>(Vec<T, N>);

impl<T, const N: usize> Default for Instances<T, N> {
    fn default() -> Self {
        Instances(Vec::new())
    }
}

impl<T: Instance, const N: usize> Instances<T, N> {
    /// The instances, ascending.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
    /// The instances, ascending.
    pub fn iter(&self) -> core::slice::Iter<'_, T> {
        self.0.iter()
    }
    /// Number of instances.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Instance `id`.
    pub fn get(&self, id: u16) -> Option<&T> {
        self.0.iter().find(|t| t.id() == id)
    }
    pub(crate) fn get_mut(&mut self, id: u16) -> Result<&mut T, ObjectError> {
        self.0.iter_mut().find(|t| t.id() == id).ok_or(ObjectError::NotFound)
    }
    /// Inserts `t`, replacing the instance with the same ID.
    ///
    /// # Errors
    /// [`ObjectError::Full`] when `N` instances exist already.
    pub fn put(&mut self, t: T) -> Result<(), ObjectError> {
        upsert_by(&mut self.0, t, Instance::id)
    }
    /// Adds a fresh instance `id` made by `make`.
    ///
    /// # Errors
    /// [`ObjectError::AlreadyExists`]; [`ObjectError::Full`].
    pub(crate) fn create_with(
        &mut self,
        id: u16,
        make: impl FnOnce(u16) -> T,
    ) -> Result<(), ObjectError> {
        if self.get(id).is_some() {
            return Err(ObjectError::AlreadyExists);
        }
        self.put(make(id))
    }
    /// Removes instance `id`.
    ///
    /// # Errors
    /// [`ObjectError::NotFound`].
    pub(crate) fn remove(&mut self, id: u16) -> Result<(), ObjectError> {
        let pos = self.0.iter().position(|t| t.id() == id).ok_or(ObjectError::NotFound)?;
        self.0.remove(pos);
        Ok(())
    }
    pub(crate) fn retain(&mut self, f: impl FnMut(&T) -> bool) {
        let mut f = f;
        self.0.retain(|t| f(t));
    }
    pub(crate) fn for_each_id(&self, f: &mut dyn FnMut(u16)) {
        self.0.iter().for_each(|t| f(t.id()));
    }
}

/// Inserts `item` into `v` (sorted ascending by `key`, keys unique),
/// replacing an item with the same key.
///
/// # Errors
/// [`ObjectError::Full`] when a new key does not fit.
pub(crate) fn upsert_by<T, const N: usize>(
    v: &mut Vec<T, N>,
    item: T,
    key: impl Fn(&T) -> u16,
) -> Result<(), ObjectError> {
    let k = key(&item);
    match v.iter().position(|x| key(x) >= k) {
        Some(pos) if v.get(pos).is_some_and(|x| key(x) == k) => {
            if let Some(slot) = v.get_mut(pos) {
                *slot = item;
            }
            Ok(())
        }
        Some(pos) => v.insert(pos, item).map_err(|_| ObjectError::Full),
        None => v.push(item).map_err(|_| ObjectError::Full),
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a Instances<T, N> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
