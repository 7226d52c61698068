//! Footprint of the generic-mode object store: `size_of::<ObjectStore>()`
//! and the bytes of its serialised state, factory-fresh and with every
//! capacity filled. Run with `--nocapture` to see the numbers:
//! `cargo test -p lwm2m-objects --test footprint -- --nocapture`.

use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_objects::config::*;
use lwm2m_objects::objects::*;
use lwm2m_objects::persist::{MAX_RECORD_LEN, RECORD_BUF_LEN};
use lwm2m_objects::{
    AccessRights, Caller, ObjectStore, Operation, Record, StaticDeviceInfo, WriteMode,
};

/// Per record: (total bytes over its slots, largest single stored value).
fn record_sizes(s: &ObjectStore) -> Vec<(Record, usize, usize)> {
    let mut buf = vec![0u8; RECORD_BUF_LEN];
    Record::ALL
        .iter()
        .map(|r| {
            let sizes: Vec<usize> = (0..r.slots())
                .filter_map(|slot| {
                    s.encode_record(*r, slot, &mut buf).expect("fits RECORD_BUF_LEN")
                })
                .collect();
            (*r, sizes.iter().sum(), sizes.iter().copied().max().unwrap_or(0))
        })
        .collect()
}

/// Every persisted capacity filled to the brim.
fn full() -> ObjectStore {
    let mut s = ObjectStore::new();
    let uri: String = "u".repeat(URI_LEN);
    for i in 0..SECURITY_INSTANCES as u16 {
        let mut sec = SecurityInstance::new(i);
        sec.uri = uri.as_str().try_into().unwrap();
        sec.mode = SecurityMode::Psk;
        sec.identity = heapless::Vec::from_slice(&[0xAA; PSK_IDENTITY_LEN]).unwrap();
        sec.server_public_key = heapless::Vec::from_slice(&[0xBB; KEY_LEN]).unwrap();
        sec.secret_key = SecretKey::new(&[0xCC; KEY_LEN]).unwrap();
        sec.ssid = Some(60000 + i);
        sec.client_hold_off_s = i64::MAX;
        sec.bootstrap_account_timeout_s = i64::MAX;
        s.security_mut().put(sec).unwrap();
    }
    for i in 0..SERVER_INSTANCES as u16 {
        let mut srv = ServerInstance::new(i, 60000 + i);
        srv.lifetime_s = i64::MAX;
        srv.pmin_s = Some(i64::MAX);
        srv.pmax_s = Some(i64::MAX);
        srv.binding = "UQSN".try_into().unwrap();
        s.server_mut().put(srv).unwrap();
    }
    for i in 0..ACL_INSTANCES as u16 {
        let mut a = AclInstance::new(60000 + i, 60000, 60000, 60000);
        for e in 0..ACL_ENTRIES as u16 {
            a.set(60000 + e, AccessRights::ALL).unwrap();
        }
        s.access_control_mut().put(a).unwrap();
    }
    let short: String = "s".repeat(SHORT_STRING_LEN);
    for i in 0..APN_PROFILES as u16 {
        let mut p = ApnProfile::new(60000 + i);
        p.profile_name = short.as_str().try_into().unwrap();
        p.apn = "a".repeat(APN_LEN).as_str().try_into().unwrap();
        p.user_name = short.as_str().try_into().unwrap();
        p.secret = short.as_str().try_into().unwrap();
        s.apn_profiles_mut().put(p).unwrap();
    }
    let access = s
        .authorize(
            Caller::Bootstrap,
            Operation::Write(WriteMode::Replace),
            Path::parse("/5/0/1").unwrap(),
        )
        .unwrap();
    let mut info = StaticDeviceInfo::default();
    s.write(&access, &mut info, &[(Path::parse("/5/0/1").unwrap(), Value::String(&uri))]).unwrap();
    s.update_firmware(|f| {
        f.set_state(FirmwareState::Downloaded);
        f.package_name = short.as_str().try_into().unwrap();
        f.package_version = short.as_str().try_into().unwrap();
    });
    for i in 0..APP_DATA_INSTANCES as u16 {
        // Instance 0 exists from the start.
        let iid = if i == 0 { 0 } else { 60000 + i };
        if i > 0 {
            s.create_app_data_instance(iid).unwrap();
        }
        for ri in 0..APP_DATA_ENTRIES as u16 {
            s.set_app_data(iid, 60000 + ri, Some(&[0xDD; APP_DATA_LEN])).unwrap();
        }
    }
    s.set_event_log_data(0, &[0xEE; EVENT_LOG_LEN]).unwrap();
    s.set_server_options_fingerprint(u64::MAX);
    s
}

#[test]
fn report_store_size_and_serialised_state() {
    let size = core::mem::size_of::<ObjectStore>();
    println!("size_of::<ObjectStore>() = {size} bytes (host {}-bit)", usize::BITS);
    for (name, n) in [
        ("Security", core::mem::size_of::<Security>()),
        ("Server", core::mem::size_of::<Server>()),
        ("AccessControl", core::mem::size_of::<AccessControl>()),
        ("Device", core::mem::size_of::<Device>()),
        ("ConnectivityMonitoring", core::mem::size_of::<ConnectivityMonitoring>()),
        ("FirmwareUpdate", core::mem::size_of::<FirmwareUpdate>()),
        ("Location", core::mem::size_of::<Location>()),
        ("ConnectivityStatistics", core::mem::size_of::<ConnectivityStatistics>()),
        ("CellularConnectivity", core::mem::size_of::<CellularConnectivity>()),
        ("ApnProfiles", core::mem::size_of::<ApnProfiles>()),
        ("Portfolio", core::mem::size_of::<Portfolio>()),
        ("BinaryAppData", core::mem::size_of::<BinaryAppData>()),
        ("EventLog", core::mem::size_of::<EventLog>()),
    ] {
        println!("  {name:<24} {n:>6} bytes");
    }
    let fresh = record_sizes(&ObjectStore::new());
    let filled = record_sizes(&full());
    println!(
        "serialised state (8-byte header + CBOR per stored value), factory / every capacity filled (largest value):"
    );
    for ((r, a, _), (_, b, max)) in fresh.iter().zip(&filled) {
        println!("  {:<16} {a:>5} / {b:>5} bytes ({max})", format!("{r:?}"));
        assert!(*max <= MAX_RECORD_LEN, "{r:?} writes a {max}-byte value > MAX_RECORD_LEN");
    }
    let total_fresh: usize = fresh.iter().map(|x| x.1).sum();
    let total_full: usize = filled.iter().map(|x| x.1).sum();
    println!("  {:<16} {total_fresh:>5} / {total_full:>5} bytes", "total");
    // The carrier library's storage partition is 12 KiB (carrier-api.md §5).
    assert!(total_full <= 12 * 1024, "full state {total_full} B exceeds the 12 KiB partition");
    assert!(size < 32 * 1024, "the store grew past 32 KiB: {size}");
}
