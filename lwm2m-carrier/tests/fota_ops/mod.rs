//! What the FOTA tests with a scripted engine share: the DM server's
//! Write and Execute of `/5/0/<r>` applied to the runtime's objects as the
//! protocol engine would (server SSID 101).

use lwm2m_carrier::{Runtime, Session};
use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_objects::objects::ServerInstance;
use lwm2m_objects::{Caller, Operation, StaticDeviceInfo, WriteMode};

/// Writes `value` to `/5/0/<r>`, or executes it when `None`.
pub fn server_op<S: Session>(rt: &mut Runtime<'_, S>, r: u16, value: Option<Value<'_>>) {
    let path = Path::resource(5, 0, r).unwrap();
    let store = rt.api().objects_mut().unwrap();
    if store.server().by_ssid(101).is_none() {
        store.server_mut().put(ServerInstance::new(0, 101)).unwrap();
    }
    let op =
        if value.is_some() { Operation::Write(WriteMode::Replace) } else { Operation::Execute };
    let access = store.authorize(Caller::Server(101), op, path).unwrap();
    match value {
        Some(v) => store.write(&access, &mut StaticDeviceInfo::default(), &[(path, v)]).unwrap(),
        None => store.execute(&access, &mut StaticDeviceInfo::default(), &[]).unwrap(),
    }
}
