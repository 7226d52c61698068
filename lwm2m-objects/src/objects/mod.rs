//! The objects of generic mode, one module each, plus the small value
//! helpers they share. Each object keeps its state in fixed-capacity fields
//! and implements the crate-private `Object` trait; paths, metadata checks,
//! access control and change tracking live in [`crate::store`].
//!
//! Values reaching an object's `write` were already coerced to the
//! resource's registry type and checked against its registry range by the
//! store; the objects check what the registry cannot say (string capacity,
//! enumerations, cross-resource rules). Nothing here panics on any value.

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
    match v {
        Value::String(s) => String::try_from(s).map_err(|_| ObjectError::BadValue),
        _ => Err(ObjectError::BadValue),
    }
}

pub(crate) fn to_bytes<const N: usize>(v: Value<'_>) -> Result<Vec<u8, N>, ObjectError> {
    match v {
        Value::Opaque(b) => Vec::from_slice(b).map_err(|_| ObjectError::BadValue),
        _ => Err(ObjectError::BadValue),
    }
}

pub(crate) fn to_int(v: Value<'_>) -> Result<i64, ObjectError> {
    match v {
        Value::Integer(n) | Value::Time(n) => Ok(n),
        Value::UnsignedInteger(n) => i64::try_from(n).map_err(|_| ObjectError::BadValue),
        _ => Err(ObjectError::BadValue),
    }
}

pub(crate) fn to_u16(v: Value<'_>) -> Result<u16, ObjectError> {
    u16::try_from(to_int(v)?).map_err(|_| ObjectError::BadValue)
}

pub(crate) fn to_bool(v: Value<'_>) -> Result<bool, ObjectError> {
    match v {
        Value::Boolean(b) => Ok(b),
        _ => Err(ObjectError::BadValue),
    }
}
