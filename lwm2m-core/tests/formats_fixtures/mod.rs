//! The Device object instance of the TS content-format examples, shared by
//! the format tests and the format benchmark.
#![allow(dead_code, clippy::unwrap_used, reason = "test fixture")]

use lwm2m_core::path::Path;
use lwm2m_core::value::{DataType, Value};

/// The Device object instance of the TS examples, as (relative path, value).
/// `binding_id` is where "U" goes: resource 15 in the TLV example bytes of
/// the TS, 16 (Binding Modes) in its SenML examples.
pub fn device(binding_id: u16) -> Vec<(Path, Value<'static>)> {
    let r = |rid: u16| Path::resource(3, 0, rid).unwrap();
    let ri = |rid: u16, i: u16| Path::resource_instance(3, 0, rid, i).unwrap();
    vec![
        (r(0), Value::String("Open Mobile Alliance")),
        (r(1), Value::String("Lightweight M2M Client")),
        (r(2), Value::String("345000123")),
        (r(3), Value::String("1.0")),
        (ri(6, 0), Value::Integer(1)),
        (ri(6, 1), Value::Integer(5)),
        (ri(7, 0), Value::Integer(3800)),
        (ri(7, 1), Value::Integer(5000)),
        (ri(8, 0), Value::Integer(125)),
        (ri(8, 1), Value::Integer(900)),
        (r(9), Value::Integer(100)),
        (r(10), Value::Integer(15)),
        (ri(11, 0), Value::Integer(0)),
        (r(13), Value::Time(1367491215)),
        (r(14), Value::String("+02:00")),
        (r(binding_id), Value::String("U")),
    ]
}

/// Declared types of the Device object (registry 3.xml) for the resources above.
pub fn device_types(path: &Path) -> Option<DataType> {
    match (path.object_id()?, path.resource_id()?) {
        (3, 0..=3 | 14..=16) => Some(DataType::String),
        (3, 6..=11) => Some(DataType::Integer),
        (3, 13) => Some(DataType::Time),
        _ => None,
    }
}
