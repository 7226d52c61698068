//! Test helpers: a store with server accounts, and read/write/discover
//! wrappers that collect results as text.
#![allow(dead_code)]

use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_objects::objects::{SecretKey, SecurityInstance, SecurityMode, ServerInstance};
use lwm2m_objects::{
    Caller, Link, ObjectError, ObjectStore, Operation, StaticDeviceInfo, WriteMode,
};

/// Every operation of the object model.
pub const ALL_OPERATIONS: [Operation; 9] = [
    Operation::Read,
    Operation::Observe,
    Operation::Discover,
    Operation::WriteAttributes,
    Operation::Write(WriteMode::Replace),
    Operation::Write(WriteMode::PartialUpdate),
    Operation::Execute,
    Operation::Create,
    Operation::Delete,
];

pub const PSK_101: &[u8] = b"psk-of-server-101-SECRET";
pub const PSK_102: &[u8] = b"psk-of-server-102-SECRET";
pub const PSK_BS: &[u8] = b"psk-of-bootstrap-SECRET";

pub fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

/// A store with a bootstrap account (/0/0) and `ssids.len()` DM servers
/// (/0/1.. and /1/0..), each with a PSK.
pub fn store_with(ssids: &[u16]) -> ObjectStore {
    let mut s = ObjectStore::new();
    let mut bs = SecurityInstance::new(0);
    bs.uri = "coaps://bs.example:5684".try_into().unwrap();
    bs.bootstrap = true;
    bs.mode = SecurityMode::Psk;
    bs.identity = heapless::Vec::from_slice(b"bs-identity").unwrap();
    bs.secret_key = SecretKey::new(PSK_BS).unwrap();
    s.security_mut().put(bs).unwrap();
    for (i, ssid) in ssids.iter().enumerate() {
        let id = u16::try_from(i).unwrap();
        let mut sec = SecurityInstance::new(id + 1);
        sec.uri = "coaps://dm.example:5684".try_into().unwrap();
        sec.mode = SecurityMode::Psk;
        sec.ssid = Some(*ssid);
        sec.identity = heapless::Vec::from_slice(b"dm-identity").unwrap();
        sec.secret_key = SecretKey::new(if i == 0 { PSK_101 } else { PSK_102 }).unwrap();
        s.security_mut().put(sec).unwrap();
        s.server_mut().put(ServerInstance::new(id, *ssid)).unwrap();
    }
    s
}

pub type Values = Vec<(String, String)>;

pub fn read_as(
    store: &ObjectStore,
    caller: Caller,
    op: Operation,
    path: &str,
) -> Result<Values, ObjectError> {
    let access = store.authorize(caller, op, p(path))?;
    let info = StaticDeviceInfo::default();
    let mut out = Vec::new();
    store.read(&access, &info, &mut |p: Path, v: Value<'_>| {
        out.push((p.to_string(), v.to_string()));
        Ok(())
    })?;
    Ok(out)
}

pub fn read(store: &ObjectStore, caller: Caller, path: &str) -> Result<Values, ObjectError> {
    read_as(store, caller, Operation::Read, path)
}

/// The single value at a resource path.
pub fn value(store: &ObjectStore, caller: Caller, path: &str) -> Result<String, ObjectError> {
    let v = read(store, caller, path)?;
    assert_eq!(v.len(), 1, "{path}: {v:?}");
    Ok(v[0].1.clone())
}

pub fn write(
    store: &mut ObjectStore,
    caller: Caller,
    mode: WriteMode,
    path: &str,
    items: &[(&str, Value<'_>)],
) -> Result<(), ObjectError> {
    let access = store.authorize(caller, Operation::Write(mode), p(path))?;
    let items: Vec<(Path, Value<'_>)> = items.iter().map(|(s, v)| (p(s), *v)).collect();
    let mut info = StaticDeviceInfo::default();
    store.write(&access, &mut info, &items)
}

pub fn execute(store: &mut ObjectStore, caller: Caller, path: &str) -> Result<(), ObjectError> {
    let access = store.authorize(caller, Operation::Execute, p(path))?;
    let mut info = StaticDeviceInfo::default();
    store.execute(&access, &mut info, b"")
}

/// Links as text: `</3/0/6>;dim=1`, `</1>;ver=1.2`, `</0/1>;ssid=101;uri="…"`.
pub fn link_text(l: &Link<'_>) -> String {
    let mut s = format!("<{}>", l.path);
    if let Some(v) = l.version {
        s += &format!(";ver={v}");
    }
    if let Some(d) = l.dim {
        s += &format!(";dim={d}");
    }
    if let Some(d) = l.ssid {
        s += &format!(";ssid={d}");
    }
    if let Some(u) = l.uri {
        s += &format!(";uri=\"{u}\"");
    }
    s
}

pub fn discover(
    store: &ObjectStore,
    caller: Caller,
    path: &str,
) -> Result<Vec<String>, ObjectError> {
    let access = store.authorize(caller, Operation::Discover, p(path))?;
    let mut out = Vec::new();
    store.discover(&access, &mut |l: Link<'_>| {
        out.push(link_text(&l));
        Ok(())
    })?;
    Ok(out)
}

pub fn registration(store: &ObjectStore) -> Vec<String> {
    let mut out = Vec::new();
    store
        .registration_links(&mut |l: Link<'_>| {
            out.push(link_text(&l));
            Ok(())
        })
        .unwrap();
    out
}

pub fn events(store: &mut ObjectStore) -> Vec<lwm2m_objects::ObjectEvent> {
    core::iter::from_fn(|| store.poll_event()).collect()
}

pub fn changed(store: &mut ObjectStore) -> Vec<String> {
    let mut v: Vec<String> =
        core::iter::from_fn(|| store.poll_changed()).map(|p| p.to_string()).collect();
    v.sort();
    v
}
