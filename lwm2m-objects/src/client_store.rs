//! The object model behind the LwM2M client endpoint: [`ClientStore`]
//! implements `lwm2m_core::client::ObjectStore` (the protocol layer's view)
//! on top of [`ObjectStore`] (this crate's model).
//!
//! Guarantee: every operation a server sends goes through
//! [`ObjectStore::authorize`] first — the adapter cannot reach a store
//! operation without the [`AccessChecked`](crate::model::AccessChecked)
//! capability — so access control (OMA-TS-LightweightM2M_Core 1.1 §7.3.1,
//! §E.3) is the object model's, never the endpoint's. Errors map one to one
//! ([`store_error`]); nothing here panics on any path, value or caller.
//!
//! The store needs the platform's [`DeviceInfo`] for the Device object's
//! modem-owned resources (`/3/0/0`, `/3/0/13`, …), so the adapter carries one
//! next to the objects.
//!
//! One deliberate difference from the trait's wording: a device-management
//! server touching the Security object (`/0`) is refused with
//! [`StoreError::Unauthorized`] (4.01), the object model's documented answer
//! (the ACL denies every right on `/0`), not 4.04.

use crate::error::ObjectError;
use crate::model::{Caller, DeviceInfo, Link, Operation, StaticDeviceInfo, WriteMode};
use crate::store::{OBJECT_IDS, ObjectStore};
use heapless::Vec;
use lwm2m_core::client::{
    Account, Caller as CoreCaller, ObjectInfo, ObjectStore as CoreStore, StoreError,
    WriteMode as CoreWriteMode,
};
use lwm2m_core::formats::Encoder;
use lwm2m_core::path::Path;
use lwm2m_core::value::{DataType, Value};

/// Bytes of a block-wise pushed firmware package (`/5/0/0`) the store holds
/// until the runtime takes them (two 1024-byte blocks).
pub const PUSH_BUFFER: usize = 2048;

/// Values one Write or Create may carry (an instance of the largest object
/// written whole, with room for multiple-resource instances).
pub const MAX_WRITE_ITEMS: usize = 64;

/// The object model with the platform information it reads from, as the
/// client endpoint's store.
#[derive(Debug)]
pub struct ClientStore<I: DeviceInfo = StaticDeviceInfo> {
    /// The objects.
    pub objects: ObjectStore,
    /// What the modem provides (manufacturer, IMEI, time, …).
    pub info: I,
    /// Pushed firmware bytes not taken yet, and whether the package ended.
    pushed: Vec<u8, PUSH_BUFFER>,
    pushed_last: bool,
}

impl ClientStore<StaticDeviceInfo> {
    /// `objects` with [`StaticDeviceInfo::default`] as the platform.
    pub fn new(objects: ObjectStore) -> Self {
        Self::with_info(objects, StaticDeviceInfo::default())
    }
}

impl<I: DeviceInfo> ClientStore<I> {
    /// `objects` read with `info` as the platform.
    pub fn with_info(objects: ObjectStore, info: I) -> Self {
        ClientStore { objects, info, pushed: Vec::new(), pushed_last: false }
    }

    /// The firmware bytes pushed block-wise to `/5/0/0` since the last call,
    /// copied to the start of `out` (as many as fit), and whether they end
    /// the package. The store only moves the Firmware Update state machine;
    /// the bytes are the DFU target's (the runtime's) to write.
    pub fn take_pushed(&mut self, out: &mut [u8]) -> Option<(usize, bool)> {
        if self.pushed.is_empty() && !self.pushed_last {
            return None;
        }
        let n = self.pushed.len().min(out.len());
        let (head, _) = self.pushed.split_at_checked(n)?;
        out.get_mut(..n)?.copy_from_slice(head);
        let rest: Vec<u8, PUSH_BUFFER> = Vec::from_slice(self.pushed.get(n..)?).ok()?;
        self.pushed = rest;
        let last = self.pushed.is_empty() && self.pushed_last;
        if last {
            self.pushed_last = false;
        }
        Some((n, last))
    }
}

/// The protocol layer's name for an object-layer error (both map to the
/// same CoAP code).
pub fn store_error(e: ObjectError) -> StoreError {
    match e {
        ObjectError::NotFound => StoreError::NotFound,
        ObjectError::MethodNotAllowed => StoreError::MethodNotAllowed,
        ObjectError::Unauthorized => StoreError::Unauthorized,
        ObjectError::BadValue | ObjectError::AlreadyExists => StoreError::BadValue,
        ObjectError::Full => StoreError::Full,
        // An encoder that cannot take more: the trait reports encoder errors
        // as BadValue (the endpoint sizes its buffer, so this is a value that
        // does not fit the format).
        ObjectError::SinkFull => StoreError::BadValue,
        ObjectError::Internal(_) => StoreError::Internal,
    }
}

fn caller(c: CoreCaller) -> Caller {
    match c {
        CoreCaller::Bootstrap => Caller::Bootstrap,
        CoreCaller::Server(ssid) => Caller::Server(ssid),
    }
}

fn collect<'a>(
    values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
) -> Result<Vec<(Path, Value<'a>), MAX_WRITE_ITEMS>, StoreError> {
    let mut items = Vec::new();
    for item in values {
        items.push(item).map_err(|_| StoreError::Full)?;
    }
    Ok(items)
}

impl<I: DeviceInfo> CoreStore for ClientStore<I> {
    fn objects(&self, visit: &mut dyn FnMut(ObjectInfo<'_>)) {
        for oid in OBJECT_IDS {
            let Some(obj) = self.objects.obj(oid) else { continue };
            let mut ids: Vec<u16, 32> = Vec::new();
            obj.for_each_instance(&mut |i| {
                let _ = ids.push(i);
            });
            visit(ObjectInfo { id: oid, version: obj.def().version, instances: &ids });
        }
    }

    fn accounts(&self, visit: &mut dyn FnMut(Account<'_>)) {
        for sec in self.objects.security().instances() {
            let server = sec.ssid.and_then(|ssid| self.objects.server().by_ssid(ssid));
            let (lifetime_s, binding, queue_mode) = match server {
                Some(s) if !sec.bootstrap => (
                    u32::try_from(s.lifetime_s).unwrap_or(0),
                    s.binding.as_str(),
                    s.binding.contains('Q'),
                ),
                _ => (0, "U", false),
            };
            visit(Account {
                security_instance: sec.id,
                server_uri: sec.uri.as_str(),
                bootstrap: sec.bootstrap,
                ssid: if sec.bootstrap { None } else { sec.ssid },
                lifetime_s,
                binding,
                queue_mode,
            });
        }
    }

    fn data_type(&self, path: &Path) -> Option<DataType> {
        self.objects.resource_def(path).map(|d| d.data_type)
    }

    fn read(&self, who: CoreCaller, path: &Path, out: &mut dyn Encoder) -> Result<(), StoreError> {
        let access =
            self.objects.authorize(caller(who), Operation::Read, *path).map_err(store_error)?;
        self.objects
            .read(&access, &self.info, &mut |p: Path, v: Value<'_>| {
                out.write(&p, &v).map_err(|_| ObjectError::SinkFull)
            })
            .map_err(store_error)
    }

    fn write<'a>(
        &mut self,
        who: CoreCaller,
        path: &Path,
        mode: CoreWriteMode,
        values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<(), StoreError> {
        let mode = match mode {
            CoreWriteMode::Replace => WriteMode::Replace,
            CoreWriteMode::Partial => WriteMode::PartialUpdate,
        };
        let items = collect(values)?;
        let access = self
            .objects
            .authorize(caller(who), Operation::Write(mode), *path)
            .map_err(store_error)?;
        self.objects.write(&access, &mut self.info, &items).map_err(store_error)
    }

    fn execute(&mut self, who: CoreCaller, path: &Path, args: &[u8]) -> Result<(), StoreError> {
        let access =
            self.objects.authorize(caller(who), Operation::Execute, *path).map_err(store_error)?;
        self.objects.execute(&access, &mut self.info, args).map_err(store_error)
    }

    fn create<'a>(
        &mut self,
        who: CoreCaller,
        object: u16,
        instance: Option<u16>,
        values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<u16, StoreError> {
        let target = Path::object(object).map_err(|_| StoreError::NotFound)?;
        // The endpoint passes values under `/O/I` with the requested (or a
        // placeholder) instance; the store wants them under the new instance.
        let items = collect(values)?;
        let access =
            self.objects.authorize(caller(who), Operation::Create, target).map_err(store_error)?;
        let created = match instance {
            Some(_) => self.objects.create(&access, &mut self.info, instance, &items),
            None => {
                // Re-home the values onto the lowest free instance the store picks.
                let free = self.lowest_free(object)?;
                let mut moved: Vec<(Path, Value<'a>), MAX_WRITE_ITEMS> = Vec::new();
                for (p, v) in &items {
                    let p = rehome(p, object, free).ok_or(StoreError::BadValue)?;
                    moved.push((p, *v)).map_err(|_| StoreError::Full)?;
                }
                self.objects.create(&access, &mut self.info, Some(free), &moved)
            }
        };
        created.map_err(store_error)?.instance_id().ok_or(StoreError::Internal)
    }

    fn delete(&mut self, who: CoreCaller, path: &Path) -> Result<(), StoreError> {
        let access =
            self.objects.authorize(caller(who), Operation::Delete, *path).map_err(store_error)?;
        self.objects.delete(&access).map_err(store_error)
    }

    fn write_block(
        &mut self,
        who: CoreCaller,
        path: &Path,
        offset: usize,
        bytes: &[u8],
        last: bool,
    ) -> Result<(), StoreError> {
        // Only the Firmware Update Package is written block-wise: the first
        // block writes `/5/0/0` (authorized, moving the object to
        // Downloading and raising `FirmwarePackage`); every block's bytes
        // wait for [`ClientStore::take_pushed`].
        let package = Path::resource(5, 0, 0).map_err(|_| StoreError::Internal)?;
        if *path != package {
            return Err(StoreError::MethodNotAllowed);
        }
        let access = self
            .objects
            .authorize(caller(who), Operation::Write(WriteMode::Replace), *path)
            .map_err(store_error)?;
        if offset == 0 {
            self.pushed.clear();
            self.pushed_last = false;
            let item = [(package, Value::Opaque(bytes))];
            self.objects.write(&access, &mut self.info, &item).map_err(store_error)?;
        }
        self.pushed.extend_from_slice(bytes).map_err(|_| StoreError::Full)?;
        self.pushed_last = last;
        Ok(())
    }

    fn discover(
        &self,
        who: CoreCaller,
        path: &Path,
        visit: &mut dyn FnMut(&Path, Option<u16>),
    ) -> Result<(), StoreError> {
        let access =
            self.objects.authorize(caller(who), Operation::Discover, *path).map_err(store_error)?;
        self.objects
            .discover(&access, &mut |link: Link<'_>| {
                visit(&link.path, link.dim);
                Ok(())
            })
            .map_err(store_error)
    }
}

impl<I: DeviceInfo> ClientStore<I> {
    fn lowest_free(&self, object: u16) -> Result<u16, StoreError> {
        let obj = self.objects.obj(object).ok_or(StoreError::NotFound)?;
        (0..lwm2m_core::path::MAX_ID).find(|i| !obj.has_instance(*i)).ok_or(StoreError::Full)
    }
}

/// `path` (`/O/x/R[/RI]` or `/O/R…` as a decoder produced it under the
/// object) moved to instance `iid`.
fn rehome(path: &Path, object: u16, iid: u16) -> Option<Path> {
    if path.object_id() != Some(object) {
        return None;
    }
    let rid = path.resource_id()?;
    match path.resource_instance_id() {
        Some(ri) => Path::resource_instance(object, iid, rid, ri).ok(),
        None => Path::resource(object, iid, rid).ok(),
    }
}
