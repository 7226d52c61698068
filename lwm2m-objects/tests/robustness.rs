//! Arbitrary operations from arbitrary callers on arbitrary paths with
//! arbitrary values: the store never panics, never reports an internal
//! error, and never hands a DM server anything under `/0`.

mod common;

use common::*;
use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_objects::{Caller, Link, ObjectError, Operation, StaticDeviceInfo};
use proptest::prelude::*;

fn any_path() -> impl Strategy<Value = Path> {
    let oid = prop_oneof![
        proptest::sample::select(vec![0u16, 1, 2, 3, 4, 5, 6, 7, 10, 11, 16, 19, 20]),
        0u16..30
    ];
    (
        oid,
        proptest::option::of(0u16..4),
        proptest::option::of(0u16..40),
        proptest::option::of(0u16..4),
    )
        .prop_map(|(o, i, r, ri)| {
            let mut ids = vec![o];
            if let Some(i) = i {
                ids.push(i);
                if let Some(r) = r {
                    ids.push(r);
                    if let Some(ri) = ri {
                        ids.push(ri);
                    }
                }
            }
            Path::new(&ids).unwrap()
        })
}

#[derive(Debug, Clone)]
enum V {
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    Time(i64),
    Link(u16, u16),
}

impl V {
    fn value(&self) -> Value<'_> {
        match self {
            V::Int(n) => Value::Integer(*n),
            V::Uint(n) => Value::UnsignedInteger(*n),
            V::Float(x) => Value::Float(*x),
            V::Bool(b) => Value::Boolean(*b),
            V::Str(s) => Value::String(s),
            V::Bytes(b) => Value::Opaque(b),
            V::Time(t) => Value::Time(*t),
            V::Link(o, i) => Value::Objlnk(*o, *i),
        }
    }
}

fn any_value() -> impl Strategy<Value = V> {
    prop_oneof![
        any::<i64>().prop_map(V::Int),
        (-5i64..300).prop_map(V::Int),
        any::<u64>().prop_map(V::Uint),
        any::<f64>().prop_map(V::Float),
        any::<bool>().prop_map(V::Bool),
        "[ -~]{0,300}".prop_map(V::Str),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(V::Bytes),
        any::<i64>().prop_map(V::Time),
        (any::<u16>(), any::<u16>()).prop_map(|(o, i)| V::Link(o, i)),
    ]
}

fn any_op() -> impl Strategy<Value = Operation> {
    proptest::sample::select(ALL_OPERATIONS.to_vec())
}

fn any_caller() -> impl Strategy<Value = Caller> {
    proptest::sample::select(vec![
        Caller::Bootstrap,
        Caller::Server(101),
        Caller::Server(102),
        Caller::Server(7),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn arbitrary_operations_never_panic_or_leak_security(
        two_servers in any::<bool>(),
        steps in proptest::collection::vec(
            (any_caller(), any_op(), any_path(), proptest::collection::vec((any_path(), any_value()), 0..4)),
            1..8,
        ),
    ) {
        let mut s = if two_servers { store_with(&[101, 102]) } else { store_with(&[101]) };
        let mut info = StaticDeviceInfo::default();
        for (caller, op, path, items) in steps {
            let access = match s.authorize(caller, op, path) {
                Ok(a) => a,
                Err(e) => {
                    prop_assert!(!matches!(e, ObjectError::Internal(_)), "{e:?}");
                    continue;
                }
            };
            let items: Vec<(Path, Value<'_>)> = items.iter().map(|(p, v)| (*p, v.value())).collect();
            let dm = matches!(caller, Caller::Server(_));
            let result = match op {
                Operation::Read | Operation::Observe => s.read(&access, &info, &mut |p: Path, _v: Value<'_>| {
                    assert!(!(dm && p.object_id() == Some(0)), "DM read {p}");
                    Ok(())
                }),
                Operation::Discover => s.discover(&access, &mut |l: Link<'_>| {
                    assert!(!(dm && l.path.object_id() == Some(0)), "DM discovered {}", l.path);
                    Ok(())
                }),
                Operation::WriteAttributes => s.write_attributes(&access),
                Operation::Write(_) => s.write(&access, &mut info, &items),
                Operation::Execute => s.execute(&access, &mut info, b""),
                Operation::Create => s.create(&access, &mut info, None, &items).map(|_| ()),
                Operation::Delete => s.delete(&access),
            };
            if let Err(e) = result {
                prop_assert!(!matches!(e, ObjectError::Internal(_)), "{op:?} {path}: {e:?}");
            }
            while s.poll_event().is_some() {}
            while s.poll_changed().is_some() {}
        }
        s.registration_links(&mut |l: Link<'_>| {
            assert_ne!(l.path.object_id(), Some(0));
            Ok(())
        }).unwrap();
    }
}
