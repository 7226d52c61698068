//! Binary App Data Container (object 19, OMA 19 v1.0): opaque data entries
//! `/19/i/0/ri` the server and the application exchange. Capacity is fixed
//! ([`APP_DATA_INSTANCES`] × [`APP_DATA_ENTRIES`] × [`APP_DATA_LEN`] bytes);
//! a write beyond it fails with [`ObjectError::Full`] (4.13), never truncates.

use super::{Instance, Instances, upsert_by};
use crate::config::{APP_DATA_ENTRIES, APP_DATA_INSTANCES, APP_DATA_LEN};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, binary_app_data_container as r};
use heapless::Vec;
use lwm2m_core::value::Value;

/// One container instance: `(resource instance ID, bytes)`, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDataInstance {
    /// Instance ID.
    pub id: u16,
    /// `/19/i/0/ri` entries.
    pub data: Vec<(u16, Vec<u8, APP_DATA_LEN>), APP_DATA_ENTRIES>,
}

impl AppDataInstance {
    /// An empty container.
    pub fn new(id: u16) -> Self {
        AppDataInstance { id, data: Vec::new() }
    }
    /// Sets entry `ri`; `None` deletes it (carrier API `app_data_set`).
    ///
    /// # Errors
    /// [`ObjectError::Full`] when the bytes or the entry count exceed the capacity.
    pub fn set(&mut self, ri: u16, bytes: Option<&[u8]>) -> Result<(), ObjectError> {
        let Some(bytes) = bytes else {
            self.data.retain(|(i, _)| *i != ri);
            return Ok(());
        };
        let v = Vec::from_slice(bytes).map_err(|_| ObjectError::Full)?;
        upsert_by(&mut self.data, (ri, v), |e| e.0)
    }
    /// Entry `ri`.
    pub fn get(&self, ri: u16) -> Option<&[u8]> {
        self.data.iter().find(|(i, _)| *i == ri).map(|(_, d)| d.as_slice())
    }
}

impl Instance for AppDataInstance {
    fn id(&self) -> u16 {
        self.id
    }
}

/// The Binary App Data Container object (instance 0 exists by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryAppData {
    pub(crate) instances: Instances<AppDataInstance, APP_DATA_INSTANCES>,
}

impl Default for BinaryAppData {
    fn default() -> Self {
        let mut instances = Instances::default();
        let _ = instances.put(AppDataInstance::new(0));
        BinaryAppData { instances }
    }
}

impl BinaryAppData {
    /// Every instance, ascending.
    pub fn instances(&self) -> &[AppDataInstance] {
        self.instances.as_slice()
    }
    /// Instance `id`.
    pub fn get(&self, id: u16) -> Option<&AppDataInstance> {
        self.instances.get(id)
    }
    pub(crate) fn get_mut(&mut self, id: u16) -> Result<&mut AppDataInstance, ObjectError> {
        self.instances.get_mut(id)
    }
}

const SUPPORTED: &[u16] = &[r::DATA];

impl Object for BinaryAppData {
    fn def(&self) -> &'static ObjectDef {
        &registry::BINARY_APP_DATA_CONTAINER
    }
    fn supported(&self) -> &'static [u16] {
        SUPPORTED
    }
    multi_instance!();
    fn read(
        &self,
        iid: u16,
        rid: u16,
        _info: &dyn DeviceInfo,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ObjectError> {
        let p = self.get(iid).ok_or(ObjectError::NotFound)?;
        match rid {
            r::DATA => p.data.iter().try_for_each(|(ri, d)| out(Some(*ri), Value::Opaque(d))),
            _ => Err(ObjectError::NotFound),
        }
    }
    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        ri: Option<u16>,
        v: Value<'_>,
        cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        let (r::DATA, Some(ri), Value::Opaque(bytes)) = (rid, ri, v) else {
            return Err(ObjectError::BadValue);
        };
        self.get_mut(iid)?.set(ri, Some(bytes))?;
        cx.emit(ObjectEvent::AppDataWritten { instance: iid, resource_instance: ri });
        Ok(())
    }
    fn clear_multiple(&mut self, iid: u16, _rid: u16) -> Result<(), ObjectError> {
        self.get_mut(iid)?.data.clear();
        Ok(())
    }
    fn reset_instance(&mut self, iid: u16) {
        if let Ok(p) = self.get_mut(iid) {
            p.data.clear();
        }
    }
    fn create(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.create_with(iid, AppDataInstance::new)
    }
    fn delete(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.remove(iid)
    }
}
