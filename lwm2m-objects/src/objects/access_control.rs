//! LwM2M Access Control (object 2, Core TS §E.3 and §7.3.1): per object
//! instance, an owner and per-server access rights. This module holds the
//! data; the decision ([`AccessControl::rights`]) is applied by
//! [`crate::ObjectStore::authorize`].

use super::{Instance, Instances, to_int, to_u16, upsert_by};
use crate::config::{ACL_ENTRIES, ACL_INSTANCES};
use crate::error::ObjectError;
use crate::model::{AccessRights, DeviceInfo, Object, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, access_control as r};
use heapless::Vec;
use lwm2m_core::value::Value;

/// One Access Control instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclInstance {
    /// Instance ID.
    pub id: u16,
    /// `/2/i/0` Object ID of the target.
    pub object_id: u16,
    /// `/2/i/1` Object Instance ID of the target; 65535 means "the object"
    /// and carries the Create right.
    pub instance_id: u16,
    /// `/2/i/2` ACL: `(short server ID, rights)`; SSID 0 is the default entry
    /// for servers without their own.
    pub entries: Vec<(u16, AccessRights), ACL_ENTRIES>,
    /// `/2/i/3` Access Control Owner (SSID; 65535 when the Bootstrap-Server made it).
    pub owner: u16,
}

impl AclInstance {
    /// An instance for target `(object_id, instance_id)` owned by `owner`, no entries.
    pub fn new(id: u16, object_id: u16, instance_id: u16, owner: u16) -> Self {
        AclInstance { id, object_id, instance_id, entries: Vec::new(), owner }
    }

    /// Sets the rights of `ssid` (0 = default entry).
    ///
    /// # Errors
    /// [`ObjectError::Full`] when [`ACL_ENTRIES`] entries exist already.
    pub fn set(&mut self, ssid: u16, rights: AccessRights) -> Result<(), ObjectError> {
        upsert_by(&mut self.entries, (ssid, rights), |e| e.0)
    }

    /// The rights of server `ssid` on the target, Core TS 1.1 §7.3.1: its
    /// own ACL entry if there is one; otherwise full instance rights (R, W,
    /// E, D) if it is the Access Control Owner; otherwise the default entry
    /// (resource instance 0); otherwise none.
    pub fn rights_of(&self, ssid: u16) -> AccessRights {
        if let Some(e) = self.entries.iter().find(|e| e.0 == ssid && ssid != 0) {
            return e.1;
        }
        if self.owner == ssid {
            return AccessRights::OWNER;
        }
        self.entries.iter().find(|e| e.0 == 0).map_or(AccessRights::NONE, |e| e.1)
    }
}

impl Instance for AclInstance {
    fn id(&self) -> u16 {
        self.id
    }
}

/// The Access Control object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessControl {
    pub(crate) instances: Instances<AclInstance, ACL_INSTANCES>,
}

impl AccessControl {
    /// Every instance, ascending.
    pub fn instances(&self) -> &[AclInstance] {
        self.instances.as_slice()
    }
    /// The instance governing `(object_id, instance_id)`.
    pub fn find(&self, object_id: u16, instance_id: u16) -> Option<&AclInstance> {
        self.instances.iter().find(|a| a.object_id == object_id && a.instance_id == instance_id)
    }
    /// Instance `id`.
    pub fn get(&self, id: u16) -> Option<&AclInstance> {
        self.instances.get(id)
    }
    /// Inserts or replaces an instance.
    ///
    /// # Errors
    /// [`ObjectError::Full`] when all [`ACL_INSTANCES`] are used.
    pub fn put(&mut self, inst: AclInstance) -> Result<(), ObjectError> {
        self.instances.put(inst)
    }
    /// The lowest free instance ID.
    pub fn free_id(&self) -> Option<u16> {
        (0..=lwm2m_core::path::MAX_ID).find(|id| self.get(*id).is_none())
    }
    /// Removes the instances that govern `(object_id, instance_id)`.
    pub(crate) fn remove_target(&mut self, object_id: u16, instance_id: u16) {
        self.instances.retain(|a| !(a.object_id == object_id && a.instance_id == instance_id));
    }
}

const SUPPORTED: &[u16] = &[r::OBJECT_ID, r::OBJECT_INSTANCE_ID, r::ACL, r::ACCESS_CONTROL_OWNER];

impl Object for AccessControl {
    fn def(&self) -> &'static ObjectDef {
        &registry::ACCESS_CONTROL
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
        let a = self.get(iid).ok_or(ObjectError::NotFound)?;
        match rid {
            r::OBJECT_ID => out(None, Value::Integer(i64::from(a.object_id))),
            r::OBJECT_INSTANCE_ID => out(None, Value::Integer(i64::from(a.instance_id))),
            r::ACL => a.entries.iter().try_for_each(|(ssid, rights)| {
                out(Some(*ssid), Value::Integer(i64::from(rights.0)))
            }),
            r::ACCESS_CONTROL_OWNER => out(None, Value::Integer(i64::from(a.owner))),
            _ => Err(ObjectError::NotFound),
        }
    }
    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        ri: Option<u16>,
        v: Value<'_>,
        _cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        let a = self.instances.get_mut(iid)?;
        match (rid, ri) {
            (r::OBJECT_ID, None) => a.object_id = to_u16(v)?,
            (r::OBJECT_INSTANCE_ID, None) => a.instance_id = to_u16(v)?,
            (r::ACL, Some(ssid)) => {
                let bits = u8::try_from(to_int(v)?).map_err(|_| ObjectError::BadValue)?;
                if bits > AccessRights::ALL.0 {
                    return Err(ObjectError::BadValue);
                }
                a.set(ssid, AccessRights(bits))?;
            }
            (r::ACCESS_CONTROL_OWNER, None) => a.owner = to_u16(v)?,
            _ => return Err(ObjectError::BadValue),
        }
        Ok(())
    }
    fn clear_multiple(&mut self, iid: u16, rid: u16) -> Result<(), ObjectError> {
        if rid != r::ACL {
            return Err(ObjectError::MethodNotAllowed);
        }
        self.instances.get_mut(iid)?.entries.clear();
        Ok(())
    }
    fn reset_instance(&mut self, iid: u16) {
        if let Ok(a) = self.instances.get_mut(iid) {
            a.entries.clear();
        }
    }
    fn create(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances
            .create_with(iid, |i| AclInstance::new(i, 0, 0, lwm2m_core::path::RESERVED_ID))
    }
    fn delete(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.remove(iid)
    }
}
