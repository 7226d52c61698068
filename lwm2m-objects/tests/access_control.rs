//! Access control with two device-management servers (SSID 101 and 102) and
//! a Bootstrap-Server (OMA-TS-LightweightM2M_Core 1.1 §7.3.1, §E.3), and
//! the invisibility of the Security object and its PSKs.

mod common;

use common::*;
use lwm2m_core::coap::numbers::Code;
use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_objects::objects::AclInstance;
use lwm2m_objects::{
    AccessRights, Caller, Link, ObjectError, Operation, StaticDeviceInfo, WriteMode,
};

const A: Caller = Caller::Server(101);
const B: Caller = Caller::Server(102);
const BS: Caller = Caller::Bootstrap;

fn acl(id: u16, oid: u16, iid: u16, owner: u16, entries: &[(u16, AccessRights)]) -> AclInstance {
    let mut a = AclInstance::new(id, oid, iid, owner);
    for (ssid, r) in entries {
        a.set(*ssid, *r).unwrap();
    }
    a
}

const R: AccessRights = AccessRights::READ;
const RE: AccessRights = AccessRights(1 | 4);
const C: AccessRights = AccessRights::CREATE;

#[test]
fn with_two_servers_no_acl_instance_means_no_access() {
    let mut s = store_with(&[101, 102]);
    for caller in [A, B] {
        let e = read(&s, caller, "/3/0").unwrap_err();
        assert_eq!((e, Code::from(e)), (ObjectError::Unauthorized, Code::Unauthorized));
        assert_eq!(execute(&mut s, caller, "/3/0/4").unwrap_err(), ObjectError::Unauthorized);
    }
    // An object-level read lists only what the caller may read: nothing here.
    assert_eq!(read(&s, A, "/3").unwrap(), vec![]);
}

#[test]
fn owner_gets_full_instance_rights_explicit_entries_rule_the_others() {
    let mut s = store_with(&[101, 102]);
    s.access_control_mut().put(acl(0, 3, 0, 101, &[(102, R)])).unwrap();
    // Owner A: read, write, execute.
    assert!(read(&s, A, "/3/0/9").is_ok());
    write(&mut s, A, WriteMode::Replace, "/3/0/15", &[("/3/0/15", Value::String("UTC"))]).unwrap();
    execute(&mut s, A, "/3/0/4").unwrap();
    // B: read only.
    assert!(read(&s, B, "/3/0/9").is_ok());
    assert!(read_as(&s, B, Operation::Observe, "/3/0/9").is_ok());
    assert!(discover(&s, B, "/3/0").is_ok());
    assert_eq!(execute(&mut s, B, "/3/0/4").unwrap_err(), ObjectError::Unauthorized);
    let e = write(&mut s, B, WriteMode::Replace, "/3/0/15", &[("/3/0/15", Value::String("X"))])
        .unwrap_err();
    assert_eq!(e, ObjectError::Unauthorized);
}

#[test]
fn default_entry_applies_to_servers_without_their_own() {
    let mut s = store_with(&[101, 102]);
    // Owner 101 restricts itself to read; the default (ri 0) grants read + execute.
    s.access_control_mut().put(acl(0, 3, 0, 101, &[(0, RE), (101, R)])).unwrap();
    execute(&mut s, B, "/3/0/4").unwrap();
    assert_eq!(
        execute(&mut s, A, "/3/0/4").unwrap_err(),
        ObjectError::Unauthorized,
        "own entry beats ownership"
    );
    assert_eq!(s.rights(102, 3, 0), RE);
    assert_eq!(s.rights(101, 3, 0), R);
}

#[test]
fn a_server_manages_its_own_server_instance_only() {
    let mut s = store_with(&[101, 102]);
    assert_eq!(value(&s, A, "/1/0/0").unwrap(), "101");
    assert_eq!(read(&s, A, "/1/1").unwrap_err(), ObjectError::Unauthorized);
    write(&mut s, B, WriteMode::Replace, "/1/1/1", &[("/1/1/1", Value::Integer(60))]).unwrap();
    let e = write(&mut s, B, WriteMode::Replace, "/1/0/1", &[("/1/0/1", Value::Integer(60))])
        .unwrap_err();
    assert_eq!(e, ObjectError::Unauthorized);
    // Object-level read: only its own instance.
    let own: Vec<String> = read(&s, A, "/1").unwrap().into_iter().map(|(p, _)| p).collect();
    assert!(own.iter().all(|p| p.starts_with("/1/0/")), "{own:?}");
    assert!(!own.is_empty());
}

#[test]
fn create_needs_the_create_right_and_makes_the_creator_owner() {
    let mut s = store_with(&[101, 102]);
    let mut info = StaticDeviceInfo::default();
    assert_eq!(s.authorize(A, Operation::Create, p("/11")).unwrap_err(), ObjectError::Unauthorized);
    // Object-level ACL instance (instance ID 65535) grants B the Create right.
    s.access_control_mut().put(acl(0, 11, 65535, 65535, &[(102, C)])).unwrap();
    let access = s.authorize(B, Operation::Create, p("/11")).unwrap();
    let path =
        s.create(&access, &mut info, None, &[(p("/11/0/0"), Value::String("b-apn"))]).unwrap();
    assert_eq!(path, p("/11/0"));
    let made = s.access_control().find(11, 0).expect("an ACL instance for the new instance");
    assert_eq!(made.owner, 102);
    assert_eq!(value(&s, B, "/11/0/0").unwrap(), "b-apn");
    assert_eq!(read(&s, A, "/11/0").unwrap_err(), ObjectError::Unauthorized);
    // Owner deletes; the ACL instance goes with it.
    let access = s.authorize(B, Operation::Delete, p("/11/0")).unwrap();
    s.delete(&access).unwrap();
    assert!(s.access_control().find(11, 0).is_none());
}

#[test]
fn only_the_acl_owner_may_change_an_acl_instance() {
    let mut s = store_with(&[101, 102]);
    s.access_control_mut().put(acl(0, 3, 0, 101, &[(102, R)])).unwrap();
    // Both may read it.
    assert!(read(&s, B, "/2/0").is_ok());
    let e =
        write(&mut s, B, WriteMode::PartialUpdate, "/2/0/2", &[("/2/0/2/102", Value::Integer(31))])
            .unwrap_err();
    assert_eq!(e, ObjectError::Unauthorized);
    write(&mut s, A, WriteMode::PartialUpdate, "/2/0/2", &[("/2/0/2/102", Value::Integer(5))])
        .unwrap();
    assert_eq!(s.rights(102, 3, 0), RE);
    execute(&mut s, B, "/3/0/4").unwrap();
    // ACL values are range-checked: 0..31.
    let e =
        write(&mut s, A, WriteMode::PartialUpdate, "/2/0/2", &[("/2/0/2/102", Value::Integer(32))])
            .unwrap_err();
    assert_eq!(e, ObjectError::BadValue);
}

#[test]
fn an_unknown_server_has_no_rights_even_alone() {
    let s = store_with(&[101]);
    let e = s.authorize(Caller::Server(999), Operation::Read, p("/3/0")).unwrap_err();
    assert_eq!(e, ObjectError::Unauthorized);
}

#[test]
fn single_server_needs_no_acl() {
    let mut s = store_with(&[101]);
    assert!(read(&s, A, "/3/0").is_ok());
    execute(&mut s, A, "/3/0/4").unwrap();
    assert_eq!(s.rights(101, 11, 65535), AccessRights::ALL);
    // …but never on Security.
    assert_eq!(s.rights(101, 0, 1), AccessRights::NONE);
}

#[test]
fn bootstrap_server_is_not_subject_to_access_control() {
    let mut s = store_with(&[101, 102]);
    // Bootstrap-Write of a new Security instance and a Server instance.
    write(
        &mut s,
        BS,
        WriteMode::Replace,
        "/0/3",
        &[
            ("/0/3/0", Value::String("coaps://third.example")),
            ("/0/3/1", Value::Boolean(false)),
            ("/0/3/2", Value::Integer(0)),
            ("/0/3/3", Value::Opaque(b"id3")),
            ("/0/3/5", Value::Opaque(b"psk3")),
            ("/0/3/10", Value::Integer(103)),
        ],
    )
    .unwrap();
    assert_eq!(s.security().server_account(103).unwrap().secret_key.expose(), b"psk3");
    // Bootstrap-Read of the Server object (allowed in 1.1), of Security (not).
    assert!(read(&s, BS, "/1").is_ok());
    assert_eq!(read(&s, BS, "/0").unwrap_err(), ObjectError::MethodNotAllowed);
    assert_eq!(read(&s, BS, "/3/0").unwrap_err(), ObjectError::MethodNotAllowed);
    // Bootstrap-Discover of "/" shows Security instances with ssid and uri.
    let links = discover(&s, BS, "/").unwrap();
    assert!(
        links.contains(&"</0/1>;ssid=101;uri=\"coaps://dm.example:5684\"".to_string()),
        "{links:?}"
    );
    assert!(links.contains(&"</1/1>;ssid=102".to_string()), "{links:?}");
    // Bootstrap-Delete "/" keeps its own account and the Device object.
    let access = s.authorize(BS, Operation::Delete, Path::ROOT).unwrap();
    s.delete(&access).unwrap();
    assert_eq!(s.security().instances().len(), 1);
    assert!(s.security().instances()[0].bootstrap);
    assert_eq!(s.server_count(), 0);
    assert!(s.device().error_codes() == [0]);
    // Deleting its own account is refused with 4.00.
    let access = s.authorize(BS, Operation::Delete, p("/0/0")).unwrap();
    assert_eq!(s.delete(&access).unwrap_err(), ObjectError::BadValue);
    // Execute is not a bootstrap operation.
    assert_eq!(
        s.authorize(BS, Operation::Execute, p("/3/0/4")).unwrap_err(),
        ObjectError::MethodNotAllowed
    );
}

#[test]
fn security_object_refuses_every_dm_operation() {
    let mut s = store_with(&[101, 102]);
    let info = StaticDeviceInfo::default();
    let mut paths = vec!["/0".to_string()];
    for i in 0..4 {
        paths.push(format!("/0/{i}"));
        for r in 0..32 {
            paths.push(format!("/0/{i}/{r}"));
        }
    }
    let ops = ALL_OPERATIONS;
    for caller in [A, B] {
        for path in &paths {
            for op in ops {
                let e = s.authorize(caller, op, p(path)).unwrap_err();
                assert_eq!(e, ObjectError::Unauthorized, "{caller:?} {op:?} {path}");
            }
        }
    }
    // Even with an ACL instance that names /0/1 and grants everything.
    s.access_control_mut()
        .put(acl(0, 0, 1, 101, &[(101, AccessRights::ALL), (0, AccessRights::ALL)]))
        .unwrap();
    assert_eq!(
        s.authorize(A, Operation::Read, p("/0/1/5")).unwrap_err(),
        ObjectError::Unauthorized
    );
    let _ = info;
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn no_dm_server_path_can_read_a_psk() {
    let mut s = store_with(&[101, 102]);
    // Give both servers wide rights everywhere that has an ACL, to make the test bite.
    for (id, oid) in [(0u16, 1u16), (1, 2), (2, 3), (3, 4), (4, 5), (5, 11)] {
        s.access_control_mut().put(acl(id, oid, 0, 101, &[(0, AccessRights::ALL)])).unwrap();
    }
    let secrets = [PSK_101, PSK_102, PSK_BS];
    let leaked = |text: &str| {
        secrets
            .iter()
            .any(|k| text.contains(&hex(k)) || text.contains(core::str::from_utf8(k).unwrap()))
    };
    let mut all_paths = vec![];
    for oid in lwm2m_objects::store::OBJECT_IDS {
        all_paths.push(format!("/{oid}"));
        for iid in 0..4 {
            all_paths.push(format!("/{oid}/{iid}"));
            for rid in 0..32 {
                all_paths.push(format!("/{oid}/{iid}/{rid}"));
            }
        }
    }
    let mut answered = 0;
    for caller in [A, B] {
        for path in &all_paths {
            for op in [Operation::Read, Operation::Observe] {
                if let Ok(values) = read_as(&s, caller, op, path) {
                    answered += 1;
                    for (p, v) in &values {
                        assert!(!p.starts_with("/0/"), "{caller:?} read {p}");
                        assert!(!leaked(v), "{caller:?} {op:?} {path}: {p} = {v}");
                    }
                }
            }
            if let Ok(links) = discover(&s, caller, path) {
                assert!(links.iter().all(|l| !l.starts_with("</0") && !leaked(l)), "{links:?}");
            }
        }
    }
    assert!(answered > 100, "the sweep must actually read things ({answered})");
    let reg = registration(&s);
    assert!(reg.iter().all(|l| !l.starts_with("</0") && !leaked(l)), "{reg:?}");
    // Debug output of the whole store, and of the Security object, redacts keys.
    let dbg = format!("{s:?} {:#?}", s.security());
    assert!(!leaked(&dbg), "Debug leaks a PSK");
    for k in secrets {
        assert!(!dbg.contains(&format!("{:?}", k.to_vec())), "Debug leaks PSK bytes");
    }
    // The runtime still gets the key through the typed accessor.
    assert_eq!(s.security().server_account(101).unwrap().secret_key.expose(), PSK_101);
}

#[test]
fn discover_of_an_object_lists_only_readable_instances() {
    let mut s = store_with(&[101, 102]);
    s.access_control_mut().put(acl(0, 11, 65535, 65535, &[(0, AccessRights::ALL)])).unwrap();
    let mut info = StaticDeviceInfo::default();
    for caller in [A, B] {
        let access = s.authorize(caller, Operation::Create, p("/11")).unwrap();
        s.create(&access, &mut info, None, &[]).unwrap();
    }
    let mut links_a = Vec::new();
    let access = s.authorize(A, Operation::Discover, p("/11")).unwrap();
    s.discover(&access, &mut |l: Link<'_>| {
        links_a.push(l.path.to_string());
        Ok(())
    })
    .unwrap();
    assert!(
        links_a.contains(&"/11/0".to_string()) && !links_a.contains(&"/11/1".to_string()),
        "{links_a:?}"
    );
}
