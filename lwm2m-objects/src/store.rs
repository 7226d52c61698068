//! The object store of generic mode: every object, the dispatcher of the
//! Device Management and Bootstrap interfaces (OMA-TS-LightweightM2M_Core
//! 1.1 §6.3, §6.1.7), access control (§7.3.1, §E.3), change tracking for
//! Observe (§6.4) and the events the runtime acts on.
//!
//! ## Calling recipe
//! 1. `let access = store.authorize(caller, op, path)?;` — the only way to
//!    get an [`AccessChecked`].
//! 2. `store.read(&access, &info, &mut sink)` / `write` / `execute` /
//!    `create` / `delete` / `discover` with that capability.
//! 3. Drain `poll_event()` (reboot, FOTA, triggers …) and `poll_changed()`
//!    (paths to notify observers of), and `save()` the dirty records.
//!
//! An error maps to its CoAP response with `Code::from(err)`.
//!
//! ```
//! use lwm2m_core::{coap::numbers::Code, path::Path, value::Value};
//! use lwm2m_objects::objects::ServerInstance;
//! use lwm2m_objects::{Caller, ObjectError, ObjectEvent, ObjectStore, Operation, StaticDeviceInfo};
//!
//! let mut store = ObjectStore::new();
//! store.server_mut().put(ServerInstance::new(0, 101)).unwrap();
//! let mut info = StaticDeviceInfo::default();
//! let dm = Caller::Server(101);
//!
//! // Read /3/0/17 (Device Type) into a sink.
//! let access = store.authorize(dm, Operation::Read, Path::resource(3, 0, 17).unwrap()).unwrap();
//! let mut got = None;
//! store
//!     .read(&access, &info, &mut |p: Path, v: Value<'_>| {
//!         got = Some((p, v.to_string()));
//!         Ok(())
//!     })
//!     .unwrap();
//! assert_eq!(got, Some((Path::resource(3, 0, 17).unwrap(), "Module".into())));
//!
//! // Execute /3/0/4 (Reboot): the runtime sees an event.
//! let access = store.authorize(dm, Operation::Execute, Path::resource(3, 0, 4).unwrap()).unwrap();
//! store.execute(&access, &mut info, b"").unwrap();
//! assert_eq!(store.poll_event(), Some(ObjectEvent::Reboot));
//!
//! // The Security object does not exist for a DM server: 4.01.
//! let e = store.authorize(dm, Operation::Read, Path::object(0).unwrap()).unwrap_err();
//! assert_eq!(Code::from(e), Code::Unauthorized);
//! ```
//!
//! ## Guarantees
//! - The Security object (`/0`) is invisible to device-management servers:
//!   every operation on it from [`Caller::Server`] is refused with 4.01, it
//!   is never listed by [`ObjectStore::registration_links`], and the secret
//!   key is never produced by any read.
//! - Writes are validated in full (path, operation, type, registry range)
//!   before the first value is applied.
//! - Nothing here panics on any input.

use crate::config::{CHANGED_PATHS, EVENTS};
use crate::error::ObjectError;
use crate::model::{
    AccessChecked, AccessRights, Caller, DeviceInfo, DiscoverSink, Link, Object, ObjectEvent,
    Operation, ReadSink, WriteContext, WriteMode,
};
use crate::objects::*;
use crate::registry::{self, Operations, ResourceDef};
use heapless::{Deque, Vec};
use lwm2m_core::path::{Level, MAX_ID, Path, RESERVED_ID};
use lwm2m_core::value::Value;

/// The objects this store carries, ascending.
pub const OBJECT_IDS: [u16; 13] = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 16, 19, 20];

/// The twelve objects enabled in generic mode (app-integration.txt, "Objects").
pub const GENERIC_OBJECTS: [u16; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 19, 20];

/// Objects whose instances a device-management server may Create and Delete.
const DM_CREATABLE: [u16; 3] = [11, 16, 19];

/// Events waiting for the runtime.
#[derive(Debug, Default)]
pub(crate) struct Events {
    queue: Deque<ObjectEvent, EVENTS>,
    lost: u32,
}

impl Events {
    pub(crate) fn push(&mut self, e: ObjectEvent) {
        if self.queue.push_back(e).is_err() {
            self.lost = self.lost.saturating_add(1);
        }
    }
}

/// Paths whose values changed since the runtime last drained them.
#[derive(Debug, Default)]
struct Changes {
    paths: Vec<Path, CHANGED_PATHS>,
    overflow: bool,
}

impl Changes {
    fn mark(&mut self, p: Path) {
        if self.overflow || self.paths.iter().any(|q| q.contains(&p)) {
            return;
        }
        self.paths.retain(|q| !p.contains(q));
        if self.paths.push(p).is_err() {
            self.overflow = true;
        }
    }
}

/// What [`ObjectStore::save`] must write: one bit per [`crate::persist::Record`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DirtyRecords(pub(crate) u16);

/// Device information with no values: used where the store fingerprints
/// objects that do not depend on the modem.
struct NoInfo;

impl DeviceInfo for NoInfo {
    fn manufacturer(&self) -> &str {
        ""
    }
    fn model_number(&self) -> &str {
        ""
    }
    fn serial_number(&self) -> &str {
        ""
    }
    fn firmware_version(&self) -> &str {
        ""
    }
    fn hardware_version(&self) -> &str {
        ""
    }
    fn current_time(&self) -> i64 {
        0
    }
    fn utc_offset(&self) -> &str {
        ""
    }
    fn timezone(&self) -> &str {
        ""
    }
    fn set_current_time(&mut self, _: i64) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
    fn set_utc_offset(&mut self, _: &str) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
    fn set_timezone(&mut self, _: &str) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
}

/// Per-resource fingerprints of a single-instance object, to find what changed.
type Fingerprints = Vec<(u16, u64), 32>;

/// Every object of generic mode, with access control, change tracking and
/// events. See the module documentation for the calling recipe.
#[derive(Debug)]
pub struct ObjectStore {
    pub(crate) security: Security,
    pub(crate) server: Server,
    pub(crate) acl: AccessControl,
    pub(crate) device: Device,
    pub(crate) connectivity: ConnectivityMonitoring,
    pub(crate) firmware: FirmwareUpdate,
    pub(crate) location: Location,
    pub(crate) statistics: ConnectivityStatistics,
    pub(crate) cellular: CellularConnectivity,
    pub(crate) apn: ApnProfiles,
    pub(crate) portfolio: Portfolio,
    pub(crate) app_data: BinaryAppData,
    pub(crate) event_log: EventLog,
    pub(crate) fingerprint: u64,
    enabled: u16,
    changes: Changes,
    pub(crate) events: Events,
    pub(crate) dirty: DirtyRecords,
}

impl Default for ObjectStore {
    fn default() -> Self {
        Self::new()
    }
}

fn index_of(oid: u16) -> Option<usize> {
    OBJECT_IDS.iter().position(|o| *o == oid)
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

fn hash_value(h: &mut u64, ri: Option<u16>, v: &Value<'_>) {
    fnv(h, &ri.unwrap_or(RESERVED_ID).to_le_bytes());
    match v {
        Value::Integer(n) | Value::Time(n) => fnv(h, &n.to_le_bytes()),
        Value::UnsignedInteger(n) => fnv(h, &n.to_le_bytes()),
        Value::Float(x) => fnv(h, &x.to_bits().to_le_bytes()),
        Value::Boolean(b) => fnv(h, &[u8::from(*b)]),
        Value::String(s) | Value::Corelnk(s) => fnv(h, s.as_bytes()),
        Value::Opaque(b) => fnv(h, b),
        Value::Objlnk(o, i) => {
            fnv(h, &o.to_le_bytes());
            fnv(h, &i.to_le_bytes());
        }
        Value::None => fnv(h, &[0xff]),
    }
}

/// Checks a value against a resource definition: type (with the exact
/// conversions of [`Value::coerce`]) and the registry's `min..max` range
/// (a numeric bound for numbers, a length bound for strings and opaque).
fn check_value<'v>(def: &ResourceDef, v: Value<'v>) -> Result<Value<'v>, ObjectError> {
    let v = v.coerce(def.data_type)?;
    if let Some((lo, hi)) = def.numeric_range() {
        let n = match v {
            Value::Integer(n) | Value::Time(n) => Some(i128::from(n)),
            Value::UnsignedInteger(n) => Some(i128::from(n)),
            Value::String(s) => Some(s.len() as i128),
            Value::Opaque(b) => Some(b.len() as i128),
            _ => None,
        };
        if let Some(n) = n
            && (n < i128::from(lo) || n > i128::from(hi))
        {
            return Err(ObjectError::BadValue);
        }
    }
    Ok(v)
}

impl ObjectStore {
    /// A store in factory state with the twelve generic-mode objects enabled:
    /// no server accounts, Device defaults (power source DC, battery status
    /// 5, device type "Module", software version [`SOFTWARE_VERSION`]),
    /// Location 0, one empty Event Log instance and one empty Binary App
    /// Data Container instance.
    pub fn new() -> Self {
        let mut s = ObjectStore {
            security: Security::default(),
            server: Server::default(),
            acl: AccessControl::default(),
            device: Device::default(),
            connectivity: ConnectivityMonitoring::default(),
            firmware: FirmwareUpdate::default(),
            location: Location::default(),
            statistics: ConnectivityStatistics::default(),
            cellular: CellularConnectivity::default(),
            apn: ApnProfiles::default(),
            portfolio: Portfolio::default(),
            app_data: BinaryAppData::default(),
            event_log: EventLog::default(),
            fingerprint: 0,
            enabled: 0,
            changes: Changes::default(),
            events: Events::default(),
            dirty: DirtyRecords::default(),
        };
        for oid in GENERIC_OBJECTS {
            s.set_enabled(oid, true);
        }
        s
    }

    /// Enables or disables object `oid` (operators enable different sets;
    /// Portfolio 16 is off in generic mode). A disabled object answers 4.04
    /// and is not listed. Unknown IDs are ignored.
    pub fn set_enabled(&mut self, oid: u16, on: bool) {
        if let Some(i) = index_of(oid) {
            if on {
                self.enabled |= 1 << i;
            } else {
                self.enabled &= !(1 << i);
            }
        }
    }

    /// Whether object `oid` is carried and enabled.
    pub fn is_enabled(&self, oid: u16) -> bool {
        index_of(oid).is_some_and(|i| self.enabled & (1 << i) != 0)
    }

    pub(crate) fn obj(&self, oid: u16) -> Option<&dyn Object> {
        if !self.is_enabled(oid) {
            return None;
        }
        Some(match oid {
            0 => &self.security,
            1 => &self.server,
            2 => &self.acl,
            3 => &self.device,
            4 => &self.connectivity,
            5 => &self.firmware,
            6 => &self.location,
            7 => &self.statistics,
            10 => &self.cellular,
            11 => &self.apn,
            16 => &self.portfolio,
            19 => &self.app_data,
            20 => &self.event_log,
            _ => return None,
        })
    }

    fn obj_mut(&mut self, oid: u16) -> Option<&mut dyn Object> {
        self.parts_mut(oid).map(|(o, _)| o)
    }

    /// Object `oid` and the event queue, borrowed apart.
    fn parts_mut(&mut self, oid: u16) -> Option<(&mut dyn Object, &mut Events)> {
        if !self.is_enabled(oid) {
            return None;
        }
        let obj: &mut dyn Object = match oid {
            0 => &mut self.security,
            1 => &mut self.server,
            2 => &mut self.acl,
            3 => &mut self.device,
            4 => &mut self.connectivity,
            5 => &mut self.firmware,
            6 => &mut self.location,
            7 => &mut self.statistics,
            10 => &mut self.cellular,
            11 => &mut self.apn,
            16 => &mut self.portfolio,
            19 => &mut self.app_data,
            20 => &mut self.event_log,
            _ => return None,
        };
        Some((obj, &mut self.events))
    }

    /// The definition of a resource this store implements, for content-format
    /// decoders that need the type of `/O/I/R` (TLV, text/plain, opaque).
    pub fn resource_def(&self, path: &Path) -> Option<&'static ResourceDef> {
        let obj = self.obj(path.object_id()?)?;
        let rid = path.resource_id()?;
        if !obj.supported().contains(&rid) {
            return None;
        }
        obj.def().resource(rid)
    }

    // ----------------------------------------------------------------------
    // Access control
    // ----------------------------------------------------------------------

    /// The number of device-management servers (Server object instances).
    pub fn server_count(&self) -> usize {
        self.server.instances.len()
    }

    /// The rights of DM server `ssid` on object instance `(oid, iid)`
    /// (`iid` 65535: the object itself, which carries the Create right).
    ///
    /// Core TS 1.1 §7.3.1: with a single DM server no access control applies
    /// ("single-server shortcut": all rights). Otherwise the Access Control
    /// instance for the target decides ([`AclInstance::rights_of`]); without
    /// one, no rights. A server always has R/W/E/D on its own Server object
    /// instance (it configures its own registration). The Security object is
    /// never accessible.
    pub fn rights(&self, ssid: u16, oid: u16, iid: u16) -> AccessRights {
        if oid == registry::SECURITY.id {
            return AccessRights::NONE;
        }
        if self.server_count() <= 1 {
            return AccessRights::ALL;
        }
        if oid == registry::SERVER.id && self.server.get(iid).is_some_and(|s| s.ssid == ssid) {
            return AccessRights::OWNER;
        }
        self.acl.find(oid, iid).map_or(AccessRights::NONE, |a| a.rights_of(ssid))
    }

    /// The access-control check: may `caller` perform `op` on `path`?
    /// On success returns the capability the operation needs.
    ///
    /// # Errors
    /// [`ObjectError::Unauthorized`] (4.01) when access control refuses,
    /// including every DM-server access to `/0`; [`ObjectError::NotFound`]
    /// (4.04) for an unknown, disabled or absent target;
    /// [`ObjectError::MethodNotAllowed`] (4.05) when the operation does not
    /// apply to the target (Write to a read-only resource, Execute of a
    /// readable one, Delete of a single-instance object, …);
    /// [`ObjectError::AlreadyExists`] (4.00) for Create on an existing instance.
    pub fn authorize(
        &self,
        caller: Caller,
        op: Operation,
        path: Path,
    ) -> Result<AccessChecked, ObjectError> {
        match caller {
            Caller::Bootstrap => self.authorize_bootstrap(op, &path)?,
            Caller::Server(ssid) => self.authorize_server(ssid, op, &path)?,
        }
        Ok(AccessChecked { caller, operation: op, path })
    }

    fn authorize_server(&self, ssid: u16, op: Operation, path: &Path) -> Result<(), ObjectError> {
        let Some(oid) = path.object_id() else {
            // No DM operation targets the root.
            return Err(ObjectError::MethodNotAllowed);
        };
        // Only a configured server has rights, and never on Security.
        if oid == registry::SECURITY.id || self.server.by_ssid(ssid).is_none() {
            return Err(ObjectError::Unauthorized);
        }
        let obj = self.obj(oid).ok_or(ObjectError::NotFound)?;
        let level = path.level();
        match op {
            Operation::Execute if level != Level::Resource => {
                return Err(ObjectError::MethodNotAllowed);
            }
            Operation::Create if level != Level::Object && level != Level::Instance => {
                return Err(ObjectError::MethodNotAllowed);
            }
            Operation::Delete if level != Level::Instance => {
                return Err(ObjectError::MethodNotAllowed);
            }
            Operation::Write(_) if level == Level::Object => {
                return Err(ObjectError::MethodNotAllowed);
            }
            Operation::Create | Operation::Delete if !DM_CREATABLE.contains(&oid) => {
                return Err(ObjectError::MethodNotAllowed);
            }
            _ => {}
        }
        if op == Operation::Create {
            if let Some(iid) = path.instance_id()
                && obj.has_instance(iid)
            {
                return Err(ObjectError::AlreadyExists);
            }
            return self.require(ssid, oid, RESERVED_ID, AccessRights::CREATE);
        }
        let Some(iid) = path.instance_id() else {
            // Object-level Read/Observe/Discover/Write-Attributes: allowed;
            // the operation lists only the instances the caller may read.
            return Ok(());
        };
        if !obj.has_instance(iid) {
            return Err(ObjectError::NotFound);
        }
        if let Some(rid) = path.resource_id() {
            if !obj.supported().contains(&rid) {
                return Err(ObjectError::NotFound);
            }
            let def = obj
                .def()
                .resource(rid)
                .ok_or(ObjectError::Internal("supported resource without definition"))?;
            if path.resource_instance_id().is_some() && !def.multiple {
                return Err(ObjectError::NotFound);
            }
            let allowed = match op {
                Operation::Read | Operation::Observe => def.operations.readable(),
                Operation::Write(_) => def.operations.writable(),
                Operation::Execute => def.operations.executable(),
                _ => true,
            };
            if !allowed {
                return Err(ObjectError::MethodNotAllowed);
            }
        }
        if oid == registry::ACCESS_CONTROL.id {
            // §7.3.1: only the Access Control Owner may change an ACL instance;
            // every server may read them.
            return match op {
                Operation::Write(_) => {
                    let owner = self.acl.get(iid).map(|a| a.owner);
                    if owner == Some(ssid) || self.server_count() <= 1 {
                        Ok(())
                    } else {
                        Err(ObjectError::Unauthorized)
                    }
                }
                _ => Ok(()),
            };
        }
        self.require(ssid, oid, iid, AccessRights::needed_for(op))
    }

    fn require(
        &self,
        ssid: u16,
        oid: u16,
        iid: u16,
        need: AccessRights,
    ) -> Result<(), ObjectError> {
        if self.rights(ssid, oid, iid).contains(need) {
            Ok(())
        } else {
            Err(ObjectError::Unauthorized)
        }
    }

    fn authorize_bootstrap(&self, op: Operation, path: &Path) -> Result<(), ObjectError> {
        let level = path.level();
        let Some(oid) = path.object_id() else {
            // Bootstrap-Discover and Bootstrap-Delete may target "/".
            return match op {
                Operation::Discover | Operation::Delete => Ok(()),
                _ => Err(ObjectError::MethodNotAllowed),
            };
        };
        let obj = self.obj(oid).ok_or(ObjectError::NotFound)?;
        match op {
            // §5.2.7.5 (1.1): Bootstrap-Read only on the Server and Access Control objects.
            Operation::Read => {
                if oid != registry::SERVER.id && oid != registry::ACCESS_CONTROL.id {
                    return Err(ObjectError::MethodNotAllowed);
                }
            }
            Operation::Discover if level != Level::Object => {
                return Err(ObjectError::MethodNotAllowed);
            }
            Operation::Write(_) => {
                if let Some(rid) = path.resource_id() {
                    let def = obj.def().resource(rid).ok_or(ObjectError::NotFound)?;
                    if !obj.supported().contains(&rid) {
                        return Err(ObjectError::NotFound);
                    }
                    if def.operations.executable() {
                        return Err(ObjectError::MethodNotAllowed);
                    }
                }
                // The instance need not exist: a Bootstrap-Write creates it.
                return Ok(());
            }
            Operation::Delete if level > Level::Instance => {
                return Err(ObjectError::MethodNotAllowed);
            }
            Operation::Delete | Operation::Discover => {}
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        if let Some(iid) = path.instance_id()
            && !obj.has_instance(iid)
        {
            return Err(ObjectError::NotFound);
        }
        if let Some(rid) = path.resource_id()
            && !obj.supported().contains(&rid)
        {
            return Err(ObjectError::NotFound);
        }
        Ok(())
    }

    fn may_read_instance(&self, caller: Caller, oid: u16, iid: u16) -> bool {
        match caller {
            Caller::Bootstrap => true,
            Caller::Server(_) if oid == registry::ACCESS_CONTROL.id => true,
            Caller::Server(ssid) => self.rights(ssid, oid, iid).contains(AccessRights::READ),
        }
    }

    // ----------------------------------------------------------------------
    // Read, Observe, Discover
    // ----------------------------------------------------------------------

    /// Read or Observe: every readable value under the checked path goes to
    /// `sink`, in path order. An object-level read lists only the instances
    /// the caller may read.
    ///
    /// # Errors
    /// [`ObjectError::NotFound`] when a resource or resource instance has no
    /// value; the sink's own error; [`ObjectError::Internal`] for a
    /// capability made for another operation.
    pub fn read(
        &self,
        access: &AccessChecked,
        info: &dyn DeviceInfo,
        sink: &mut dyn ReadSink,
    ) -> Result<(), ObjectError> {
        if !matches!(access.operation, Operation::Read | Operation::Observe) {
            return Err(ObjectError::Internal("read with a capability for another operation"));
        }
        let path = access.path;
        let oid = path.object_id().ok_or(ObjectError::MethodNotAllowed)?;
        if oid == registry::SECURITY.id && matches!(access.caller, Caller::Server(_)) {
            return Err(ObjectError::Unauthorized);
        }
        let obj = self.obj(oid).ok_or(ObjectError::NotFound)?;
        match (path.instance_id(), path.resource_id()) {
            (None, _) => {
                let mut ids: Vec<u16, 32> = Vec::new();
                obj.for_each_instance(&mut |i| {
                    let _ = ids.push(i);
                });
                for iid in ids {
                    if self.may_read_instance(access.caller, oid, iid) {
                        self.read_instance(obj, oid, iid, info, sink)?;
                    }
                }
                Ok(())
            }
            (Some(iid), None) => self.read_instance(obj, oid, iid, info, sink),
            (Some(iid), Some(rid)) => {
                let want = path.resource_instance_id();
                let mut produced = false;
                self.read_resource(obj, oid, iid, rid, info, &mut |p, v| {
                    if want.is_none() || p.resource_instance_id() == want {
                        produced = true;
                        sink.value(p, v)?;
                    }
                    Ok(())
                })?;
                if produced { Ok(()) } else { Err(ObjectError::NotFound) }
            }
        }
    }

    fn read_instance(
        &self,
        obj: &dyn Object,
        oid: u16,
        iid: u16,
        info: &dyn DeviceInfo,
        sink: &mut dyn ReadSink,
    ) -> Result<(), ObjectError> {
        for rid in obj.supported() {
            let readable = obj.def().resource(*rid).is_some_and(|d| d.operations.readable());
            if readable {
                self.read_resource(obj, oid, iid, *rid, info, &mut |p, v| sink.value(p, v))?;
            }
        }
        Ok(())
    }

    fn read_resource(
        &self,
        obj: &dyn Object,
        oid: u16,
        iid: u16,
        rid: u16,
        info: &dyn DeviceInfo,
        sink: &mut dyn FnMut(Path, Value<'_>) -> Result<(), ObjectError>,
    ) -> Result<(), ObjectError> {
        let base = Path::resource(oid, iid, rid).map_err(|_| ObjectError::NotFound)?;
        obj.read(iid, rid, info, &mut |ri, v| {
            let p = match ri {
                Some(ri) => {
                    base.child(ri).map_err(|_| ObjectError::Internal("resource instance 65535"))?
                }
                None => base,
            };
            sink(p, v)
        })
    }

    /// Discover (Core TS §6.3.4) and Bootstrap-Discover (§5.2.7.6): the
    /// links under the checked path. For a DM server: `/O` lists the object,
    /// its readable instances and their resources; `/O/I` the instance and
    /// its resources; `/O/I/R` the resource (with `dim` for a multiple one).
    /// For the Bootstrap-Server: `/` lists every enabled object and instance,
    /// `/O` one object, with `ssid`/`uri` on Security and Server instances.
    ///
    /// # Errors
    /// The sink's error; [`ObjectError::Internal`] for a capability made for another operation.
    pub fn discover(
        &self,
        access: &AccessChecked,
        sink: &mut dyn DiscoverSink,
    ) -> Result<(), ObjectError> {
        if access.operation != Operation::Discover {
            return Err(ObjectError::Internal("discover with a capability for another operation"));
        }
        let path = access.path;
        match access.caller {
            Caller::Bootstrap => match path.object_id() {
                None => OBJECT_IDS.iter().try_for_each(|oid| self.bootstrap_links(*oid, sink)),
                Some(oid) => self.bootstrap_links(oid, sink),
            },
            Caller::Server(_) => {
                let oid = path.object_id().ok_or(ObjectError::MethodNotAllowed)?;
                if oid == registry::SECURITY.id {
                    return Err(ObjectError::Unauthorized);
                }
                let obj = self.obj(oid).ok_or(ObjectError::NotFound)?;
                match (path.instance_id(), path.resource_id()) {
                    (None, _) => {
                        let mut link = Link::at(path);
                        link.version = version_attr(obj);
                        sink.link(link)?;
                        let mut ids: Vec<u16, 32> = Vec::new();
                        obj.for_each_instance(&mut |i| {
                            let _ = ids.push(i);
                        });
                        for iid in ids {
                            if self.may_read_instance(access.caller, oid, iid) {
                                self.discover_instance(obj, oid, iid, sink)?;
                            }
                        }
                        Ok(())
                    }
                    (Some(iid), None) => self.discover_instance(obj, oid, iid, sink),
                    (Some(iid), Some(rid)) => self.discover_resource(obj, oid, iid, rid, sink),
                }
            }
        }
    }

    fn discover_instance(
        &self,
        obj: &dyn Object,
        oid: u16,
        iid: u16,
        sink: &mut dyn DiscoverSink,
    ) -> Result<(), ObjectError> {
        sink.link(Link::at(Path::instance(oid, iid).map_err(|_| ObjectError::NotFound)?))?;
        obj.supported().iter().try_for_each(|rid| self.discover_resource(obj, oid, iid, *rid, sink))
    }

    fn discover_resource(
        &self,
        obj: &dyn Object,
        oid: u16,
        iid: u16,
        rid: u16,
        sink: &mut dyn DiscoverSink,
    ) -> Result<(), ObjectError> {
        let def = obj.def().resource(rid).ok_or(ObjectError::NotFound)?;
        let mut link = Link::at(Path::resource(oid, iid, rid).map_err(|_| ObjectError::NotFound)?);
        if def.multiple {
            let mut n: u16 = 0;
            obj.read(iid, rid, &NoInfo, &mut |_, _| {
                n = n.saturating_add(1);
                Ok(())
            })?;
            link.dim = Some(n);
        }
        sink.link(link)
    }

    fn bootstrap_links(&self, oid: u16, sink: &mut dyn DiscoverSink) -> Result<(), ObjectError> {
        let Some(obj) = self.obj(oid) else { return Ok(()) };
        let mut link = Link::at(Path::object(oid).map_err(|_| ObjectError::NotFound)?);
        link.version = version_attr(obj);
        sink.link(link)?;
        let mut ids: Vec<u16, 32> = Vec::new();
        obj.for_each_instance(&mut |i| {
            let _ = ids.push(i);
        });
        for iid in ids {
            let mut link = Link::at(Path::instance(oid, iid).map_err(|_| ObjectError::NotFound)?);
            if oid == registry::SECURITY.id {
                let s = self.security.get(iid);
                link.ssid = s.and_then(|s| if s.bootstrap { None } else { s.ssid });
                link.uri = s.map(|s| s.uri.as_str());
            } else if oid == registry::SERVER.id {
                link.ssid = self.server.get(iid).map(|s| s.ssid);
            }
            sink.link(link)?;
        }
        Ok(())
    }

    /// The object list of a Register or Update (Core TS §5.3.1, §6.2.1):
    /// every enabled object except Security (`/0` is never listed); an
    /// object with instances as its instance links (preceded by `/O` with
    /// `ver` when the object version is not 1.0), one without as `/O`.
    ///
    /// # Errors
    /// The sink's error.
    pub fn registration_links(&self, sink: &mut dyn DiscoverSink) -> Result<(), ObjectError> {
        for oid in OBJECT_IDS {
            if oid == registry::SECURITY.id {
                continue;
            }
            let Some(obj) = self.obj(oid) else { continue };
            let mut ids: Vec<u16, 32> = Vec::new();
            obj.for_each_instance(&mut |i| {
                let _ = ids.push(i);
            });
            let version = version_attr(obj);
            if ids.is_empty() || version.is_some() {
                let mut link = Link::at(Path::object(oid).map_err(|_| ObjectError::NotFound)?);
                link.version = version;
                sink.link(link)?;
            }
            for iid in ids {
                sink.link(Link::at(Path::instance(oid, iid).map_err(|_| ObjectError::NotFound)?))?;
            }
        }
        Ok(())
    }

    /// Write-Attributes: the target exists and the caller may read it (the
    /// check did both); the attributes themselves belong to the endpoint.
    ///
    /// # Errors
    /// [`ObjectError::Internal`] for a capability made for another operation.
    pub fn write_attributes(&self, access: &AccessChecked) -> Result<(), ObjectError> {
        if access.operation != Operation::WriteAttributes {
            return Err(ObjectError::Internal(
                "write-attributes with a capability for another operation",
            ));
        }
        Ok(())
    }

    // ----------------------------------------------------------------------
    // Write, Execute, Create, Delete
    // ----------------------------------------------------------------------

    /// Write (Replace or Partial Update, from the capability) of `items`,
    /// each a resource or resource-instance path under the checked path with
    /// its value. Every item is validated first — path below the target,
    /// resource implemented and writable by the caller, value of the
    /// resource's type and inside its registry range — and nothing is
    /// applied if one fails. A Bootstrap-Write creates a missing instance.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] (4.00) for a value or path that does not fit;
    /// [`ObjectError::NotFound`] (4.04) for an unknown resource;
    /// [`ObjectError::MethodNotAllowed`] (4.05) for a read-only resource;
    /// [`ObjectError::Full`] when a capacity is exceeded while applying.
    pub fn write(
        &mut self,
        access: &AccessChecked,
        info: &mut dyn DeviceInfo,
        items: &[(Path, Value<'_>)],
    ) -> Result<(), ObjectError> {
        let Operation::Write(mode) = access.operation else {
            return Err(ObjectError::Internal("write with a capability for another operation"));
        };
        let target = access.path;
        let oid = target.object_id().ok_or(ObjectError::MethodNotAllowed)?;
        self.validate_items(access.caller, oid, &target, items)?;
        let before = self.snapshot(oid);
        // Replace: empty the target first (Core TS §6.3.3).
        if mode == WriteMode::Replace {
            let obj = self.obj_mut(oid).ok_or(ObjectError::NotFound)?;
            match (target.instance_id(), target.resource_id()) {
                (Some(iid), None) if obj.has_instance(iid) => obj.reset_instance(iid),
                (Some(iid), Some(rid)) if target.resource_instance_id().is_none() => {
                    let multiple = obj.def().resource(rid).is_some_and(|d| d.multiple);
                    if multiple {
                        obj.clear_multiple(iid, rid)?;
                    }
                }
                _ => {}
            }
        }
        let result = self.apply_items(access.caller, oid, info, items);
        self.after_change(oid, before);
        result
    }

    fn validate_items(
        &self,
        caller: Caller,
        oid: u16,
        target: &Path,
        items: &[(Path, Value<'_>)],
    ) -> Result<(), ObjectError> {
        let obj = self.obj(oid).ok_or(ObjectError::NotFound)?;
        for (p, v) in items {
            if !target.contains(p) || p.resource_id().is_none() {
                return Err(ObjectError::BadValue);
            }
            let (Some(iid), Some(rid)) = (p.instance_id(), p.resource_id()) else {
                return Err(ObjectError::BadValue);
            };
            if !obj.supported().contains(&rid) {
                return Err(ObjectError::NotFound);
            }
            let def = obj.def().resource(rid).ok_or(ObjectError::NotFound)?;
            let writable = match caller {
                Caller::Server(_) => def.operations.writable(),
                Caller::Bootstrap => def.operations != Operations::E,
            };
            if !writable {
                return Err(ObjectError::MethodNotAllowed);
            }
            if matches!(caller, Caller::Server(_)) && !obj.has_instance(iid) {
                return Err(ObjectError::NotFound);
            }
            if def.multiple != p.resource_instance_id().is_some() {
                return Err(ObjectError::BadValue);
            }
            check_value(def, *v)?;
        }
        Ok(())
    }

    fn apply_items(
        &mut self,
        _caller: Caller,
        oid: u16,
        info: &mut dyn DeviceInfo,
        items: &[(Path, Value<'_>)],
    ) -> Result<(), ObjectError> {
        for (p, v) in items {
            let (Some(iid), Some(rid)) = (p.instance_id(), p.resource_id()) else {
                return Err(ObjectError::BadValue);
            };
            let def = self.resource_def(p).ok_or(ObjectError::NotFound)?;
            let v = check_value(def, *v)?;
            let created = {
                let obj = self.obj_mut(oid).ok_or(ObjectError::NotFound)?;
                if obj.has_instance(iid) {
                    false
                } else {
                    obj.create(iid)?;
                    true
                }
            };
            if created {
                self.events.push(ObjectEvent::InstancesChanged);
            }
            let (obj, events) = self.parts_mut(oid).ok_or(ObjectError::NotFound)?;
            let mut cx = WriteContext { info, events };
            obj.write(iid, rid, p.resource_instance_id(), v, &mut cx)?;
            if oid != registry::SECURITY.id {
                self.changes.mark(p.truncated(3));
            }
        }
        Ok(())
    }

    /// Execute of the checked resource. The outcome reaches the runtime as
    /// an [`ObjectEvent`] (Reboot, Factory Reset, Update, triggers…).
    /// Arguments (Core TS §5.4.5) are accepted and not interpreted.
    ///
    /// # Errors
    /// [`ObjectError::MethodNotAllowed`] when the object refuses in its
    /// current state (Firmware Update's Update before Downloaded).
    pub fn execute(
        &mut self,
        access: &AccessChecked,
        info: &mut dyn DeviceInfo,
        _args: &[u8],
    ) -> Result<(), ObjectError> {
        if access.operation != Operation::Execute {
            return Err(ObjectError::Internal("execute with a capability for another operation"));
        }
        let p = access.path;
        let (Some(oid), Some(iid), Some(rid)) = (p.object_id(), p.instance_id(), p.resource_id())
        else {
            return Err(ObjectError::MethodNotAllowed);
        };
        let before = self.snapshot(oid);
        let (obj, events) = self.parts_mut(oid).ok_or(ObjectError::NotFound)?;
        let mut cx = WriteContext { info, events };
        let r = obj.execute(iid, rid, &mut cx);
        self.after_change(oid, before);
        r
    }

    /// Create (Core TS §6.3.5) of instance `iid` (or the lowest free ID)
    /// of the checked object, with `items` as its initial values (under
    /// `/O/iid`). All or nothing: if a value fails, the instance is removed
    /// again. When a DM server creates an instance and more than one DM
    /// server exists, an Access Control instance owned by the creator is
    /// made for it (§7.3.1).
    ///
    /// # Errors
    /// [`ObjectError::AlreadyExists`] (4.00), [`ObjectError::Full`] (4.13),
    /// and the errors of [`ObjectStore::write`].
    pub fn create(
        &mut self,
        access: &AccessChecked,
        info: &mut dyn DeviceInfo,
        iid: Option<u16>,
        items: &[(Path, Value<'_>)],
    ) -> Result<Path, ObjectError> {
        if access.operation != Operation::Create {
            return Err(ObjectError::Internal("create with a capability for another operation"));
        }
        let oid = access.path.object_id().ok_or(ObjectError::MethodNotAllowed)?;
        let obj = self.obj(oid).ok_or(ObjectError::NotFound)?;
        let iid = match iid.or(access.path.instance_id()) {
            Some(i) => i,
            None => (0..=MAX_ID).find(|i| !obj.has_instance(*i)).ok_or(ObjectError::Full)?,
        };
        if obj.has_instance(iid) {
            return Err(ObjectError::AlreadyExists);
        }
        let target = Path::instance(oid, iid).map_err(|_| ObjectError::BadValue)?;
        // Validate against the instance-to-be: writability and values.
        for (p, v) in items {
            if !target.contains(p) {
                return Err(ObjectError::BadValue);
            }
            let def = self.resource_def(p).ok_or(ObjectError::NotFound)?;
            if def.operations.executable() || def.multiple != p.resource_instance_id().is_some() {
                return Err(ObjectError::BadValue);
            }
            check_value(def, *v)?;
        }
        self.obj_mut(oid).ok_or(ObjectError::NotFound)?.create(iid)?;
        let mut result = self.apply_items(access.caller, oid, info, items);
        if result.is_ok()
            && let Caller::Server(ssid) = access.caller
            && self.server_count() > 1
        {
            result = self.add_acl(oid, iid, ssid);
        }
        if let Err(e) = result {
            if let Some(obj) = self.obj_mut(oid) {
                let _ = obj.delete(iid);
            }
            return Err(e);
        }
        self.changes.mark(Path::object(oid).map_err(|_| ObjectError::NotFound)?);
        self.mark_record(oid);
        self.events.push(ObjectEvent::InstancesChanged);
        Ok(target)
    }

    fn add_acl(&mut self, oid: u16, iid: u16, owner: u16) -> Result<(), ObjectError> {
        let id = self.acl.free_id().ok_or(ObjectError::Full)?;
        self.acl.put(AclInstance::new(id, oid, iid, owner))?;
        self.mark_record(registry::ACCESS_CONTROL.id);
        Ok(())
    }

    /// Delete (Core TS §6.3.6) and Bootstrap-Delete (§5.2.7.3) of the checked
    /// path. A DM server deletes one instance (and its Access Control
    /// instance). The Bootstrap-Server may delete `/`, `/O` or `/O/I`; the
    /// Bootstrap-Server account itself and single-instance objects survive.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] (4.00) when the Bootstrap-Server targets its
    /// own account; [`ObjectError::MethodNotAllowed`] for an object whose
    /// instances cannot be deleted.
    pub fn delete(&mut self, access: &AccessChecked) -> Result<(), ObjectError> {
        if access.operation != Operation::Delete {
            return Err(ObjectError::Internal("delete with a capability for another operation"));
        }
        let p = access.path;
        match (access.caller, p.object_id(), p.instance_id()) {
            (_, Some(oid), Some(iid)) => {
                if oid == registry::SECURITY.id
                    && self.security.get(iid).is_some_and(|s| s.bootstrap)
                {
                    return Err(ObjectError::BadValue);
                }
                self.obj_mut(oid).ok_or(ObjectError::NotFound)?.delete(iid)?;
                self.acl.remove_target(oid, iid);
                self.after_delete(oid);
                Ok(())
            }
            (Caller::Bootstrap, Some(oid), None) => {
                self.delete_all(oid);
                Ok(())
            }
            (Caller::Bootstrap, None, _) => {
                for oid in OBJECT_IDS {
                    self.delete_all(oid);
                }
                Ok(())
            }
            _ => Err(ObjectError::MethodNotAllowed),
        }
    }

    fn delete_all(&mut self, oid: u16) {
        let bootstrap: Option<u16> = self.security.bootstrap_account().map(|s| s.id);
        let Some(obj) = self.obj_mut(oid) else { return };
        let mut ids: Vec<u16, 32> = Vec::new();
        obj.for_each_instance(&mut |i| {
            let _ = ids.push(i);
        });
        let mut any = false;
        for iid in ids {
            if oid == registry::SECURITY.id && Some(iid) == bootstrap {
                continue;
            }
            // Single-instance objects refuse Delete and survive, as the TS asks for Device.
            any |= obj.delete(iid).is_ok();
        }
        if any {
            if oid != registry::ACCESS_CONTROL.id {
                self.acl.instances.retain(|a| a.object_id != oid);
            }
            self.after_delete(oid);
        }
    }

    fn after_delete(&mut self, oid: u16) {
        if let Ok(p) = Path::object(oid)
            && oid != registry::SECURITY.id
        {
            self.changes.mark(p);
        }
        self.mark_record(oid);
        self.mark_record(registry::ACCESS_CONTROL.id);
        self.events.push(ObjectEvent::InstancesChanged);
    }

    // ----------------------------------------------------------------------
    // Change tracking and events
    // ----------------------------------------------------------------------

    /// Fingerprints of every readable resource of a single-instance object.
    fn snapshot(&self, oid: u16) -> Option<Fingerprints> {
        let obj = self.obj(oid)?;
        if obj.def().multiple {
            return None;
        }
        let mut out = Fingerprints::new();
        for rid in obj.supported() {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            let _ = obj.read(0, *rid, &NoInfo, &mut |ri, v| {
                hash_value(&mut h, ri, &v);
                Ok(())
            });
            let _ = out.push((*rid, h));
        }
        Some(out)
    }

    fn after_change(&mut self, oid: u16, before: Option<Fingerprints>) {
        self.mark_record(oid);
        let (Some(before), Some(after)) = (before, self.snapshot(oid)) else { return };
        for ((rid, a), (_, b)) in before.iter().zip(after.iter()) {
            if a != b
                && let Ok(p) = Path::resource(oid, 0, *rid)
            {
                self.changes.mark(p);
            }
        }
    }

    /// The next event for the runtime.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ObjectEvent> {
        self.events.queue.pop_front()
    }

    /// Events dropped because the queue ([`EVENTS`]) was full: should stay 0
    /// when the runtime drains after every operation.
    pub fn events_lost(&self) -> u32 {
        self.events.lost
    }

    /// The next changed path (resource, or object when instances came or
    /// went) for the endpoint's observations. The root path `/` means more
    /// changed than the set holds ([`CHANGED_PATHS`]): re-check every observation.
    #[must_use]
    pub fn poll_changed(&mut self) -> Option<Path> {
        if self.changes.overflow {
            self.changes.overflow = false;
            self.changes.paths.clear();
            return Some(Path::ROOT);
        }
        self.changes.paths.pop()
    }

    /// Marks a path changed for observers (for values the runtime changes
    /// outside the store, e.g. time).
    pub fn mark_changed(&mut self, path: Path) {
        if path.object_id() != Some(registry::SECURITY.id) {
            self.changes.mark(path);
        }
    }

    fn with_single<R>(&mut self, oid: u16, f: impl FnOnce(&mut Self) -> R) -> R {
        let before = self.snapshot(oid);
        let r = f(self);
        self.after_change(oid, before);
        r
    }

    // ----------------------------------------------------------------------
    // Typed access for the runtime and the application API
    // ----------------------------------------------------------------------

    /// The Security object (server URIs and credentials, for the runtime).
    pub fn security(&self) -> &Security {
        &self.security
    }
    /// Changes the Security object (factory configuration); marks it for saving.
    pub fn security_mut(&mut self) -> &mut Security {
        self.mark_record(registry::SECURITY.id);
        &mut self.security
    }
    /// The Server object.
    pub fn server(&self) -> &Server {
        &self.server
    }
    /// Changes the Server object; marks it for saving.
    pub fn server_mut(&mut self) -> &mut Server {
        self.mark_record(registry::SERVER.id);
        &mut self.server
    }
    /// The Access Control object.
    pub fn access_control(&self) -> &AccessControl {
        &self.acl
    }
    /// Changes the Access Control object; marks it for saving.
    pub fn access_control_mut(&mut self) -> &mut AccessControl {
        self.mark_record(registry::ACCESS_CONTROL.id);
        &mut self.acl
    }
    /// The APN Connection Profile object.
    pub fn apn_profiles(&self) -> &ApnProfiles {
        &self.apn
    }
    /// Changes the APN profiles; marks them for saving.
    pub fn apn_profiles_mut(&mut self) -> &mut ApnProfiles {
        self.mark_record(registry::APN_CONNECTION_PROFILE.id);
        &mut self.apn
    }
    /// The Device object.
    pub fn device(&self) -> &Device {
        &self.device
    }
    /// The Firmware Update object.
    pub fn firmware(&self) -> &FirmwareUpdate {
        &self.firmware
    }
    /// The Location object.
    pub fn location(&self) -> &Location {
        &self.location
    }
    /// The Connectivity Monitoring object.
    pub fn connectivity_monitoring(&self) -> &ConnectivityMonitoring {
        &self.connectivity
    }
    /// The Connectivity Statistics object.
    pub fn connectivity_statistics(&self) -> &ConnectivityStatistics {
        &self.statistics
    }
    /// The Cellular Connectivity object.
    pub fn cellular(&self) -> &CellularConnectivity {
        &self.cellular
    }
    /// The Binary App Data Container object.
    pub fn app_data(&self) -> &BinaryAppData {
        &self.app_data
    }
    /// The Event Log object.
    pub fn event_log(&self) -> &EventLog {
        &self.event_log
    }
    /// The Portfolio object.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// Changes the Device object (application API: battery, power sources,
    /// error codes…); the resources that changed are marked for observers.
    pub fn update_device<R>(&mut self, f: impl FnOnce(&mut Device) -> R) -> R {
        self.with_single(registry::DEVICE.id, |s| f(&mut s.device))
    }
    /// Changes Connectivity Monitoring (runtime, from the modem).
    pub fn update_connectivity_monitoring<R>(
        &mut self,
        f: impl FnOnce(&mut ConnectivityMonitoring) -> R,
    ) -> R {
        self.with_single(registry::CONNECTIVITY_MONITORING.id, |s| f(&mut s.connectivity))
    }
    /// Changes Connectivity Statistics (runtime, from the modem).
    pub fn update_connectivity_statistics<R>(
        &mut self,
        f: impl FnOnce(&mut ConnectivityStatistics) -> R,
    ) -> R {
        self.with_single(registry::CONNECTIVITY_STATISTICS.id, |s| f(&mut s.statistics))
    }
    /// Changes Cellular Connectivity (runtime, from the modem).
    pub fn update_cellular<R>(&mut self, f: impl FnOnce(&mut CellularConnectivity) -> R) -> R {
        self.with_single(registry::CELLULAR_CONNECTIVITY.id, |s| f(&mut s.cellular))
    }
    /// Changes Location (application API).
    pub fn update_location<R>(&mut self, f: impl FnOnce(&mut Location) -> R) -> R {
        self.with_single(registry::LOCATION.id, |s| f(&mut s.location))
    }
    /// Changes Firmware Update (runtime: download progress, results); marks it for saving.
    pub fn update_firmware<R>(&mut self, f: impl FnOnce(&mut FirmwareUpdate) -> R) -> R {
        self.with_single(registry::FIRMWARE_UPDATE.id, |s| f(&mut s.firmware))
    }

    /// Application API `app_data_set`: sets (`Some`) or deletes (`None`)
    /// entry `/19/iid/0/ri` (carrier API §4.6; instance 0 exists from the start).
    ///
    /// # Errors
    /// [`ObjectError::Full`] when the data or entries exceed the capacity;
    /// [`ObjectError::NotFound`] without instance `iid` or with object 19
    /// disabled (carrier API −ENOENT).
    pub fn set_app_data(
        &mut self,
        iid: u16,
        ri: u16,
        bytes: Option<&[u8]>,
    ) -> Result<(), ObjectError> {
        if !self.is_enabled(registry::BINARY_APP_DATA_CONTAINER.id) {
            return Err(ObjectError::NotFound);
        }
        self.app_data.get_mut(iid)?.set(ri, bytes)?;
        let p = Path::resource(registry::BINARY_APP_DATA_CONTAINER.id, iid, 0)
            .map_err(|_| ObjectError::BadValue)?;
        self.changes.mark(p);
        self.mark_record(registry::BINARY_APP_DATA_CONTAINER.id);
        Ok(())
    }

    /// Application API `log_data_set`: replaces LogData `/20/iid/4014`.
    ///
    /// # Errors
    /// [`ObjectError::Full`] beyond [`crate::config::EVENT_LOG_LEN`] bytes;
    /// [`ObjectError::NotFound`] without that instance or with object 20 disabled.
    pub fn set_event_log_data(&mut self, iid: u16, bytes: &[u8]) -> Result<(), ObjectError> {
        if !self.is_enabled(registry::EVENT_LOG.id) {
            return Err(ObjectError::NotFound);
        }
        self.event_log.get_mut(iid)?.set_data(bytes)?;
        let p = Path::resource(registry::EVENT_LOG.id, iid, registry::event_log::LOG_DATA)
            .map_err(|_| ObjectError::BadValue)?;
        self.changes.mark(p);
        self.mark_record(registry::EVENT_LOG.id);
        Ok(())
    }

    /// Creates Binary App Data Container instance `iid` (the runtime, for
    /// operators that use more than instance 0).
    ///
    /// # Errors
    /// [`ObjectError::AlreadyExists`], [`ObjectError::Full`].
    pub fn create_app_data_instance(&mut self, iid: u16) -> Result<(), ObjectError> {
        Object::create(&mut self.app_data, iid)?;
        self.mark_record(registry::BINARY_APP_DATA_CONTAINER.id);
        self.events.push(ObjectEvent::InstancesChanged);
        Ok(())
    }

    /// Application API for Portfolio: creates instance `iid`.
    ///
    /// # Errors
    /// [`ObjectError::AlreadyExists`], [`ObjectError::Full`], [`ObjectError::NotFound`] when disabled.
    pub fn create_portfolio(&mut self, iid: u16) -> Result<(), ObjectError> {
        if !self.is_enabled(registry::PORTFOLIO.id) {
            return Err(ObjectError::NotFound);
        }
        Object::create(&mut self.portfolio, iid)?;
        self.events.push(ObjectEvent::InstancesChanged);
        Ok(())
    }

    /// Application API for Portfolio: sets identity `/16/iid/0/ri`.
    ///
    /// # Errors
    /// [`ObjectError::NotFound`] without the instance; the errors of [`PortfolioInstance::set`].
    pub fn set_portfolio_identity(
        &mut self,
        iid: u16,
        ri: u16,
        text: &str,
    ) -> Result<(), ObjectError> {
        self.portfolio.get_mut(iid)?.set(ri, text)?;
        if let Ok(p) = Path::resource(registry::PORTFOLIO.id, iid, 0) {
            self.changes.mark(p);
        }
        Ok(())
    }

    /// The server-options fingerprint the runtime persists (an opaque value:
    /// when it changes between boots, the runtime performs a factory reset).
    pub fn server_options_fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Sets the server-options fingerprint; marks it for saving.
    pub fn set_server_options_fingerprint(&mut self, fp: u64) {
        if fp != self.fingerprint {
            self.fingerprint = fp;
            self.dirty.0 |= crate::persist::Record::Fingerprint.bit();
        }
    }

    pub(crate) fn mark_record(&mut self, oid: u16) {
        if let Some(r) = crate::persist::Record::for_object(oid) {
            self.dirty.0 |= r.bit();
        }
    }
}

/// Lets the content-format decoders (TLV, text/plain) type what they read
/// from the resource tables: `Decoder::new(format, &base, payload, scratch, &store)`.
impl lwm2m_core::formats::TypeResolver for &ObjectStore {
    fn data_type(&self, path: &Path) -> Option<lwm2m_core::value::DataType> {
        self.resource_def(path).map(|d| d.data_type)
    }
}

fn version_attr(obj: &dyn Object) -> Option<&'static str> {
    let v = obj.def().version;
    if v == "1.0" { None } else { Some(v) }
}
