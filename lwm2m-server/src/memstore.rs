//! A small in-memory [`ObjectStore`] for examples and tests of the device
//! side: resources as owned values in a sorted map, instances per object,
//! Security (0) hidden from device-management servers (TS §E.1). It
//! implements no access-control list; `lwm2m-objects` is the real model.

use lwm2m_core::client::{Account, Caller, ObjectInfo, ObjectStore, StoreError, WriteMode};
use lwm2m_core::formats::Encoder;
use lwm2m_core::path::Path;
use lwm2m_core::value::{DataType, Value};
use std::collections::{BTreeMap, BTreeSet};

/// An owned resource value.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    /// Integer.
    Int(i64),
    /// Unsigned integer.
    Uint(u64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// String.
    Str(String),
    /// Opaque.
    Bytes(Vec<u8>),
    /// Time.
    Time(i64),
    /// Object link.
    Objlnk(u16, u16),
}

impl Owned {
    fn borrow(&self) -> Value<'_> {
        match self {
            Owned::Int(v) => Value::Integer(*v),
            Owned::Uint(v) => Value::UnsignedInteger(*v),
            Owned::Float(v) => Value::Float(*v),
            Owned::Bool(v) => Value::Boolean(*v),
            Owned::Str(s) => Value::String(s),
            Owned::Bytes(b) => Value::Opaque(b),
            Owned::Time(t) => Value::Time(*t),
            Owned::Objlnk(o, i) => Value::Objlnk(*o, *i),
        }
    }

    fn from_value(v: &Value<'_>) -> Option<Owned> {
        Some(match *v {
            Value::Integer(i) => Owned::Int(i),
            Value::UnsignedInteger(u) => Owned::Uint(u),
            Value::Float(f) => Owned::Float(f),
            Value::Boolean(b) => Owned::Bool(b),
            Value::String(s) | Value::Corelnk(s) => Owned::Str(s.to_owned()),
            Value::Opaque(b) => Owned::Bytes(b.to_vec()),
            Value::Time(t) => Owned::Time(t),
            Value::Objlnk(o, i) => Owned::Objlnk(o, i),
            Value::None => return None,
        })
    }

    fn data_type(&self) -> DataType {
        self.borrow().data_type()
    }
}

/// Resources as a sorted map; see the module doc.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    /// Object ID → version.
    pub objects: BTreeMap<u16, &'static str>,
    /// Existing instances.
    pub instances: BTreeSet<(u16, u16)>,
    /// Resource values (resource or resource-instance paths).
    pub values: BTreeMap<Path, Owned>,
    /// Executable resources.
    pub executable: BTreeSet<Path>,
    /// Executions so far, in order.
    pub executed: Vec<(Caller, Path)>,
    /// Bodies written block-wise (firmware images), by path.
    pub blockwise: BTreeMap<Path, Vec<u8>>,
}

fn p(ids: &[u16]) -> Path {
    Path::new(ids).unwrap_or(Path::ROOT)
}

impl MemoryStore {
    /// A device with a Bootstrap-Server account (Security instance 0 at
    /// `bootstrap_uri`) and a Device object (3/0) with manufacturer, model,
    /// battery level (3/0/9 = `battery`), memory free, reboot (3/0/4,
    /// executable) and binding modes; Server (1) and Firmware Update (5)
    /// exist without instances.
    pub fn device(bootstrap_uri: &str, battery: i64) -> MemoryStore {
        let mut s = MemoryStore::default();
        s.objects.insert(0, "1.1");
        s.objects.insert(1, "1.1");
        s.objects.insert(3, "1.1");
        s.objects.insert(5, "1.0");
        s.instances.insert((5, 0));
        s.instances.insert((0, 0));
        s.values.insert(p(&[0, 0, 0]), Owned::Str(bootstrap_uri.into()));
        s.values.insert(p(&[0, 0, 1]), Owned::Bool(true));
        s.values.insert(p(&[0, 0, 2]), Owned::Int(3));
        s.instances.insert((3, 0));
        s.values.insert(p(&[3, 0, 0]), Owned::Str("Nordic-ish".into()));
        s.values.insert(p(&[3, 0, 1]), Owned::Str("carrier-rs".into()));
        s.values.insert(p(&[3, 0, 2]), Owned::Str("SN-0001".into()));
        s.values.insert(p(&[3, 0, 3]), Owned::Str("0.1.0".into()));
        s.executable.insert(p(&[3, 0, 4]));
        s.values.insert(p(&[3, 0, 9]), Owned::Int(battery));
        s.values.insert(p(&[3, 0, 10]), Owned::Int(15));
        s.values.insert(p(&[3, 0, 11, 0]), Owned::Int(0));
        s.values.insert(p(&[3, 0, 16]), Owned::Str("U".into()));
        s
    }

    fn exists(&self, path: &Path) -> bool {
        match (path.object_id(), path.instance_id(), path.resource_id()) {
            (Some(o), None, _) => self.objects.contains_key(&o),
            (Some(o), Some(i), None) => self.instances.contains(&(o, i)),
            (Some(_), Some(_), Some(_)) => {
                self.executable.contains(path) || self.values.keys().any(|k| path.contains(k))
            }
            _ => true,
        }
    }

    fn visible(caller: Caller, path: &Path) -> bool {
        caller == Caller::Bootstrap || path.object_id() != Some(0)
    }

    fn str_at(&self, ids: &[u16]) -> Option<&str> {
        match self.values.get(&p(ids)) {
            Some(Owned::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn int_at(&self, ids: &[u16]) -> Option<i64> {
        match self.values.get(&p(ids)) {
            Some(Owned::Int(i)) => Some(*i),
            Some(Owned::Uint(u)) => i64::try_from(*u).ok(),
            _ => None,
        }
    }
}

impl ObjectStore for MemoryStore {
    fn objects(&self, visit: &mut dyn FnMut(ObjectInfo<'_>)) {
        for (&id, &version) in &self.objects {
            let instances: Vec<u16> =
                self.instances.iter().filter(|(o, _)| *o == id).map(|(_, i)| *i).collect();
            visit(ObjectInfo { id, version, instances: &instances });
        }
    }

    fn accounts(&self, visit: &mut dyn FnMut(Account<'_>)) {
        for &(o, i) in &self.instances {
            if o != 0 {
                continue;
            }
            let bootstrap = matches!(self.values.get(&p(&[0, i, 1])), Some(Owned::Bool(true)));
            let ssid = self.int_at(&[0, i, 10]).and_then(|v| u16::try_from(v).ok());
            let server = ssid.and_then(|ssid| {
                self.instances
                    .iter()
                    .find(|&&(o, j)| o == 1 && self.int_at(&[1, j, 0]) == Some(i64::from(ssid)))
            });
            let (lifetime_s, binding, queue_mode) = match server {
                Some(&(_, j)) => {
                    let binding = self.str_at(&[1, j, 7]).unwrap_or("U");
                    (
                        self.int_at(&[1, j, 1]).and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
                        binding,
                        // Queue mode is the binding's Q (1/x/23 is Mute Send).
                        binding.contains('Q'),
                    )
                }
                None => (0, "U", false),
            };
            visit(Account {
                security_instance: i,
                server_uri: self.str_at(&[0, i, 0]).unwrap_or(""),
                bootstrap,
                ssid: if bootstrap { None } else { ssid },
                lifetime_s,
                binding,
                queue_mode,
            });
        }
    }

    fn data_type(&self, path: &Path) -> Option<DataType> {
        if let Some(v) = self.values.get(path) {
            return Some(v.data_type());
        }
        // Types of the resources a Bootstrap-Server writes (registry XML).
        Some(match (path.object_id()?, path.resource_id()?) {
            (0, 0) | (1, 7) => DataType::String,
            (0, 1) | (1, 6) | (1, 23) => DataType::Boolean,
            (0, 3..=5) => DataType::Opaque,
            (0, 2) | (0, 10) | (1, 0..=3) | (0, 11) | (0, 12) | (2, 0..=3) => DataType::Integer,
            _ => return None,
        })
    }

    fn read(&self, caller: Caller, path: &Path, out: &mut dyn Encoder) -> Result<(), StoreError> {
        if !Self::visible(caller, path) || !self.exists(path) {
            return Err(StoreError::NotFound);
        }
        if self.executable.contains(path) {
            return Err(StoreError::MethodNotAllowed);
        }
        for (k, v) in self.values.iter().filter(|(k, _)| path.contains(k)) {
            let instance_exists = match (k.object_id(), k.instance_id()) {
                (Some(o), Some(i)) => self.instances.contains(&(o, i)),
                _ => false,
            };
            if instance_exists {
                out.write(k, &v.borrow()).map_err(|_| StoreError::BadValue)?;
            }
        }
        Ok(())
    }

    fn write<'a>(
        &mut self,
        caller: Caller,
        path: &Path,
        mode: WriteMode,
        values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<(), StoreError> {
        if !Self::visible(caller, path) {
            return Err(StoreError::NotFound);
        }
        let (Some(o), Some(i)) = (path.object_id(), path.instance_id()) else {
            // Bootstrap Write on an object: instances come with the values.
            let collected: Vec<(Path, Owned)> =
                values.filter_map(|(k, v)| Owned::from_value(&v).map(|v| (k, v))).collect();
            for (k, v) in collected {
                if let (Some(o), Some(i)) = (k.object_id(), k.instance_id()) {
                    self.instances.insert((o, i));
                }
                self.values.insert(k, v);
            }
            return Ok(());
        };
        if !self.instances.contains(&(o, i)) {
            if caller != Caller::Bootstrap {
                return Err(StoreError::NotFound);
            }
            self.instances.insert((o, i));
        }
        let collected: Vec<(Path, Owned)> =
            values.filter_map(|(k, v)| Owned::from_value(&v).map(|v| (k, v))).collect();
        if mode == WriteMode::Replace && path.depth() == 3 {
            self.values.retain(|k, _| !path.contains(k));
        }
        for (k, v) in collected {
            self.values.insert(k, v);
        }
        Ok(())
    }

    fn execute(&mut self, caller: Caller, path: &Path, _args: &[u8]) -> Result<(), StoreError> {
        if !self.executable.contains(path) {
            return Err(if self.exists(path) {
                StoreError::MethodNotAllowed
            } else {
                StoreError::NotFound
            });
        }
        self.executed.push((caller, *path));
        Ok(())
    }

    fn create<'a>(
        &mut self,
        caller: Caller,
        object: u16,
        instance: Option<u16>,
        values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<u16, StoreError> {
        if !self.objects.contains_key(&object) || !Self::visible(caller, &p(&[object])) {
            return Err(StoreError::NotFound);
        }
        let id = match instance {
            Some(i) if self.instances.contains(&(object, i)) => return Err(StoreError::BadValue),
            Some(i) => i,
            None => (0..u16::MAX)
                .find(|i| !self.instances.contains(&(object, *i)))
                .ok_or(StoreError::Full)?,
        };
        self.instances.insert((object, id));
        for (k, v) in values {
            if let (Some(r), Some(v)) = (k.resource_id(), Owned::from_value(&v)) {
                let target = match k.resource_instance_id() {
                    Some(ri) => p(&[object, id, r, ri]),
                    None => p(&[object, id, r]),
                };
                self.values.insert(target, v);
            }
        }
        Ok(id)
    }

    fn delete(&mut self, caller: Caller, path: &Path) -> Result<(), StoreError> {
        let (Some(o), Some(i)) = (path.object_id(), path.instance_id()) else {
            return Err(StoreError::MethodNotAllowed);
        };
        if !Self::visible(caller, path) || !self.instances.remove(&(o, i)) {
            return Err(StoreError::NotFound);
        }
        self.values.retain(|k, _| !path.contains(k));
        Ok(())
    }

    fn write_block(
        &mut self,
        caller: Caller,
        path: &Path,
        offset: usize,
        bytes: &[u8],
        _last: bool,
    ) -> Result<(), StoreError> {
        if !Self::visible(caller, path) || path.depth() != 3 {
            return Err(StoreError::NotFound);
        }
        let body = self.blockwise.entry(*path).or_default();
        if offset == 0 {
            body.clear();
        }
        if offset != body.len() {
            return Err(StoreError::BadValue);
        }
        body.extend_from_slice(bytes);
        Ok(())
    }

    fn discover(
        &self,
        caller: Caller,
        path: &Path,
        visit: &mut dyn FnMut(&Path, Option<u16>),
    ) -> Result<(), StoreError> {
        if !Self::visible(caller, path) || !self.exists(path) {
            return Err(StoreError::NotFound);
        }
        visit(path, None);
        let mut resources: BTreeMap<Path, u16> = BTreeMap::new();
        for k in self.values.keys().chain(self.executable.iter()).filter(|k| path.contains(k)) {
            if k.depth() >= 2 {
                let inst = k.truncated(2);
                if inst != *path && path.depth() < 2 {
                    resources.entry(inst).or_insert(0);
                }
            }
            if k.depth() >= 3 && k.truncated(3) != *path {
                let e = resources.entry(k.truncated(3)).or_insert(0);
                if k.depth() == 4 {
                    *e += 1;
                }
            }
        }
        for (k, dim) in resources {
            visit(&k, (k.depth() == 3 && dim > 0).then_some(dim));
        }
        Ok(())
    }
}
