//! Location (object 6, Core TS §E.7): position and velocity the
//! application sets (carrier API §4.5); every value defaults to 0. Updated
//! through [`crate::ObjectStore::update_location`].

use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ValueOut};
use crate::registry::{self, ObjectDef, location as r};
use heapless::Vec;
use lwm2m_core::value::Value;

/// The Location object (single instance 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    /// `/6/0/0` Latitude, degrees, −90..=90.
    pub latitude: f64,
    /// `/6/0/1` Longitude, degrees, −180..=180.
    pub longitude: f64,
    /// `/6/0/2` Altitude, m.
    pub altitude: f64,
    /// `/6/0/3` Radius (uncertainty), m.
    pub radius: f64,
    /// `/6/0/4` Velocity, 3GPP TS 23.032 encoding.
    pub velocity: Vec<u8, 8>,
    /// `/6/0/5` Timestamp, Unix seconds.
    pub timestamp: i64,
    /// `/6/0/6` Speed, m/s.
    pub speed: f64,
}

impl Location {
    /// Sets the position as `location_set` does (carrier API §4.5).
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] for a latitude outside −90..=90, a longitude
    /// outside −180..=180, a non-finite number, or a timestamp older than the current one.
    pub fn set_position(
        &mut self,
        lat: f64,
        lon: f64,
        alt: f64,
        timestamp: i64,
        radius: f64,
    ) -> Result<(), ObjectError> {
        let ok = (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon)
            && alt.is_finite()
            && radius.is_finite()
            && radius >= 0.0
            && timestamp >= self.timestamp;
        if !ok {
            return Err(ObjectError::BadValue);
        }
        self.latitude = lat;
        self.longitude = lon;
        self.altitude = alt;
        self.timestamp = timestamp;
        self.radius = radius;
        Ok(())
    }
}

const SUPPORTED: &[u16] =
    &[r::LATITUDE, r::LONGITUDE, r::ALTITUDE, r::RADIUS, r::VELOCITY, r::TIMESTAMP, r::SPEED];

impl Object for Location {
    fn def(&self) -> &'static ObjectDef {
        &registry::LOCATION
    }
    fn supported(&self) -> &'static [u16] {
        SUPPORTED
    }
    fn read(
        &self,
        _iid: u16,
        rid: u16,
        _info: &dyn DeviceInfo,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ObjectError> {
        match rid {
            r::LATITUDE => out(None, Value::Float(self.latitude)),
            r::LONGITUDE => out(None, Value::Float(self.longitude)),
            r::ALTITUDE => out(None, Value::Float(self.altitude)),
            r::RADIUS => out(None, Value::Float(self.radius)),
            r::VELOCITY => out(None, Value::Opaque(&self.velocity)),
            r::TIMESTAMP => out(None, Value::Time(self.timestamp)),
            r::SPEED => out(None, Value::Float(self.speed)),
            _ => Err(ObjectError::NotFound),
        }
    }
}
