//! Persistence: round trips of every record, and what happens to corrupt,
//! truncated, unknown-version, misplaced and unreadable records (factory
//! defaults plus a reported error, never a panic, never a half-read state).

mod common;

use std::collections::BTreeMap;

use common::*;
use lwm2m_core::value::Value;
use lwm2m_objects::objects::{AclInstance, ApnProfile, FirmwareState, UpdateResult};
use lwm2m_objects::persist::{FORMAT_VERSION, HEADER_LEN, RECORD_BUF_LEN, crc32};
use lwm2m_objects::{
    AccessRights, Caller, ObjectStore, Record, RecordError, SaveError, Storage, StorageError,
    WriteMode,
};
use proptest::prelude::*;

#[derive(Default)]
struct MemStorage {
    records: BTreeMap<u16, Vec<u8>>,
    fail_reads: bool,
    fail_writes: bool,
    writes: usize,
}

impl Storage for MemStorage {
    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        if self.fail_reads {
            return Err(StorageError::Io);
        }
        let Some(r) = self.records.get(&key) else { return Ok(None) };
        let dst = buf.get_mut(..r.len()).ok_or(StorageError::TooLarge)?;
        dst.copy_from_slice(r);
        Ok(Some(r.len()))
    }
    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError> {
        if self.fail_writes {
            return Err(StorageError::Io);
        }
        self.writes += 1;
        self.records.insert(key, data.to_vec());
        Ok(())
    }
    fn delete(&mut self, key: u16) -> Result<(), StorageError> {
        self.records.remove(&key);
        Ok(())
    }
}

/// A store with every persisted part away from its defaults.
fn populated() -> ObjectStore {
    let mut s = store_with(&[101, 102]);
    let mut a = AclInstance::new(0, 3, 0, 101);
    a.set(0, AccessRights::READ).unwrap();
    a.set(102, AccessRights(5)).unwrap();
    s.access_control_mut().put(a).unwrap();
    let mut apn = ApnProfile::new(0);
    apn.apn = "iot.example".try_into().unwrap();
    apn.secret = "hunter2".try_into().unwrap();
    apn.pdn_type = 1;
    s.apn_profiles_mut().put(apn).unwrap();
    write(
        &mut s,
        Caller::Server(101),
        WriteMode::Replace,
        "/1/0/2",
        &[("/1/0/2", Value::Integer(5))],
    )
    .unwrap();
    write(
        &mut s,
        Caller::Server(101),
        WriteMode::Replace,
        "/5/0/1",
        &[("/5/0/1", Value::String("coap://fw/x"))],
    )
    .unwrap_err(); // two servers, no ACL on /5/0: refused
    s.update_firmware(|f| {
        f.set_state(FirmwareState::Downloaded);
        f.package_name = "app".try_into().unwrap();
    });
    s.set_app_data(0, 3, Some(b"\x00\x01\x02")).unwrap();
    s.create_app_data_instance(1).unwrap();
    s.set_app_data(1, 0, Some(b"hello")).unwrap();
    s.set_event_log_data(0, b"event log bytes").unwrap();
    s.set_server_options_fingerprint(0xDEAD_BEEF_0123_4567);
    s
}

/// Every slot of a record as the store would write it.
fn encoded(s: &ObjectStore, r: Record) -> Vec<Option<Vec<u8>>> {
    let mut buf = [0u8; RECORD_BUF_LEN];
    (0..r.slots())
        .map(|slot| s.encode_record(r, slot, &mut buf).unwrap().map(|n| buf[..n].to_vec()))
        .collect()
}

fn key(r: Record) -> u16 {
    r.key(0)
}

fn saved(s: &mut ObjectStore) -> MemStorage {
    let mut st = MemStorage::default();
    let mut buf = [0u8; RECORD_BUF_LEN];
    s.save(&mut st, &mut buf).unwrap();
    st
}

fn loaded(st: &mut MemStorage) -> (ObjectStore, lwm2m_objects::LoadReport) {
    let mut s = ObjectStore::new();
    let mut buf = [0u8; RECORD_BUF_LEN];
    let report = s.load(st, &mut buf);
    (s, report)
}

#[test]
fn every_record_round_trips() {
    let mut s = populated();
    let mut st = saved(&mut s);
    // 8 records; Security and App Data with one value per instance (3 + 2).
    assert_eq!(st.records.len(), 6 + 3 + 2);
    assert!(!s.needs_save());
    let (t, report) = loaded(&mut st);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.loaded, 8);
    for r in Record::ALL {
        assert_eq!(encoded(&s, r), encoded(&t, r), "{r:?}");
    }
    assert_eq!(t.security(), s.security());
    assert_eq!(t.server(), s.server());
    assert_eq!(t.access_control(), s.access_control());
    assert_eq!(t.apn_profiles(), s.apn_profiles());
    assert_eq!(t.firmware().state(), FirmwareState::Downloaded);
    assert_eq!(t.firmware().package_name.as_str(), "app");
    assert_eq!(t.app_data(), s.app_data());
    assert_eq!(t.event_log(), s.event_log());
    assert_eq!(t.server_options_fingerprint(), 0xDEAD_BEEF_0123_4567);
    assert_eq!(t.security().server_account(102).unwrap().secret_key.expose(), PSK_102);
    assert!(!t.needs_save(), "a clean load leaves nothing to save");
}

#[test]
fn save_writes_only_dirty_records() {
    let mut s = populated();
    let mut st = saved(&mut s);
    let mut buf = [0u8; RECORD_BUF_LEN];
    st.writes = 0;
    s.save(&mut st, &mut buf).unwrap();
    assert_eq!(st.writes, 0);
    s.set_event_log_data(0, b"more").unwrap();
    s.save(&mut st, &mut buf).unwrap();
    assert_eq!(st.writes, 1);
    assert_eq!(Some(st.records[&key(Record::EventLog)].clone()), encoded(&s, Record::EventLog)[0]);
}

#[test]
fn a_corrupt_record_becomes_factory_defaults_and_is_reported() {
    let mut s = populated();
    let mut st = saved(&mut s);
    let rec = st.records.get_mut(&Record::Security.key(1)).unwrap();
    let last = rec.len() - 1;
    rec[last] ^= 0x40; // one payload bit
    let (t, report) = loaded(&mut st);
    assert_eq!(report.errors.as_slice(), &[(Record::Security, RecordError::Corrupt)]);
    assert_eq!(report.loaded, 7);
    assert_eq!(
        t.security(),
        ObjectStore::new().security(),
        "factory defaults, not a half-read object"
    );
    assert_eq!(t.server(), s.server(), "the other records still load");
    assert!(t.needs_save(), "the bad record is rewritten by the next save");
}

#[test]
fn a_truncated_record_is_detected() {
    let mut s = populated();
    let full = saved(&mut s);
    for cut in [0, 1, HEADER_LEN - 1, HEADER_LEN, HEADER_LEN + 3] {
        let mut st = MemStorage { records: full.records.clone(), ..Default::default() };
        st.records.get_mut(&key(Record::AppData)).unwrap().truncate(cut);
        let (t, report) = loaded(&mut st);
        assert_eq!(
            report.errors.as_slice(),
            &[(Record::AppData, RecordError::Truncated)],
            "cut at {cut}"
        );
        assert_eq!(t.app_data(), ObjectStore::new().app_data());
        assert_eq!(t.event_log(), s.event_log());
    }
}

#[test]
fn an_unknown_version_or_misplaced_record_is_refused() {
    let mut s = populated();
    let full = saved(&mut s);
    let mut st = MemStorage { records: full.records.clone(), ..Default::default() };
    st.records.get_mut(&key(Record::Server)).unwrap()[0] = FORMAT_VERSION + 1;
    let (t, report) = loaded(&mut st);
    assert_eq!(
        report.errors.as_slice(),
        &[(Record::Server, RecordError::UnknownVersion(FORMAT_VERSION + 1))]
    );
    assert_eq!(t.server_count(), 0);

    let mut st = MemStorage { records: full.records.clone(), ..Default::default() };
    let server = st.records[&key(Record::Server)].clone();
    st.records.insert(key(Record::Security), server);
    let (_, report) = loaded(&mut st);
    assert_eq!(report.errors.as_slice(), &[(Record::Security, RecordError::WrongRecord)]);
}

/// A record with a valid header and CRC around `payload`.
fn framed(r: Record, slot: usize, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap().to_le_bytes();
    let mut rec = vec![FORMAT_VERSION, r.key(slot) as u8, len[0], len[1]];
    let crc = crc32(&[&rec[..4], payload]);
    rec.extend_from_slice(&crc.to_le_bytes());
    rec.extend_from_slice(payload);
    rec
}

#[test]
fn a_well_framed_record_with_an_undecodable_payload_is_corrupt() {
    let mut s = populated();
    let full = saved(&mut s);
    // Valid header and CRC around CBOR that is not a Security instance.
    let mut st = MemStorage { records: full.records.clone(), ..Default::default() };
    st.records.insert(Record::Security.key(2), framed(Record::Security, 2, &[0x82, 0x01, 0x02]));
    let (t, report) = loaded(&mut st);
    assert_eq!(report.errors.as_slice(), &[(Record::Security, RecordError::Corrupt)]);
    assert!(t.security().instances().is_empty(), "one bad slot resets the whole object");
    // Two slots holding the same instance ID: corrupt, not merged.
    let mut st = MemStorage { records: full.records.clone(), ..Default::default() };
    let first = st.records[&Record::Security.key(0)].clone();
    st.records.insert(Record::Security.key(1), framed(Record::Security, 1, &first[HEADER_LEN..]));
    let (_, report) = loaded(&mut st);
    assert_eq!(report.errors.as_slice(), &[(Record::Security, RecordError::Corrupt)]);
    // Trailing bytes after the declared payload are corrupt too.
    let mut st = MemStorage { records: full.records.clone(), ..Default::default() };
    st.records.get_mut(&key(Record::Server)).unwrap().push(0);
    let (_, report) = loaded(&mut st);
    assert_eq!(report.errors.as_slice(), &[(Record::Server, RecordError::Corrupt)]);
}

#[test]
fn storage_failures_are_reported_not_fatal() {
    let mut s = populated();
    let mut st = saved(&mut s);
    st.fail_reads = true;
    let (t, report) = loaded(&mut st);
    assert_eq!(report.errors.len(), 8);
    assert!(report.errors.iter().all(|(_, e)| *e == RecordError::Storage(StorageError::Io)));
    assert_eq!(t.server_count(), 0);

    s.mark_all_for_save();
    let mut st = MemStorage { fail_writes: true, ..Default::default() };
    let mut buf = [0u8; RECORD_BUF_LEN];
    let e = s.save(&mut st, &mut buf).unwrap_err();
    assert!(matches!(e, SaveError::Storage(_, StorageError::Io)));
    assert!(s.needs_save(), "failed records stay dirty");
    let mut small = [0u8; 16];
    assert!(matches!(
        s.save(&mut MemStorage::default(), &mut small),
        Err(SaveError::BufferTooSmall(_))
    ));
}

#[test]
fn missing_records_mean_factory_defaults_without_error() {
    let (t, report) = loaded(&mut MemStorage::default());
    assert!(report.is_clean());
    assert_eq!(report.loaded, 0);
    assert_eq!(t.device().battery_status(), 5);
}

/// Loads `st` after replacing `r`'s first slot with `bytes`; checks the
/// outcome is the stored state or factory defaults for `r`, never a mix,
/// and that every other record still loads.
fn load_with_replaced(r: Record, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let mut s = populated();
    let mut st = saved(&mut s);
    st.records.insert(key(r), bytes);
    let (t, report) = loaded(&mut st);
    for other in Record::ALL.iter().filter(|x| **x != r) {
        prop_assert_eq!(encoded(&t, *other), encoded(&s, *other), "{:?}", other);
    }
    if report.errors.iter().any(|(x, _)| *x == r) {
        prop_assert_eq!(encoded(&t, r), encoded(&ObjectStore::new(), r));
    } else {
        // It decoded: whatever it holds re-encodes and reloads identically.
        let mut t2 = t;
        t2.mark_all_for_save();
        let mut st2 = saved(&mut t2);
        let (t3, report) = loaded(&mut st2);
        prop_assert!(report.is_clean());
        prop_assert_eq!(encoded(&t3, r), encoded(&t2, r));
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_never_half_apply(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        which in 0usize..8,
    ) {
        load_with_replaced(Record::ALL[which], bytes)?;
    }

    #[test]
    fn well_framed_arbitrary_payloads_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        which in 0usize..8,
    ) {
        let r = Record::ALL[which];
        load_with_replaced(r, framed(r, 0, &payload))?;
    }

    #[test]
    fn one_flipped_bit_is_always_detected(bit in 0usize..8192, which in 0usize..8) {
        let mut s = populated();
        let r = Record::ALL[which];
        let mut st = saved(&mut s);
        let rec = st.records.get_mut(&key(r)).unwrap();
        let bit = bit % (rec.len() * 8);
        rec[bit / 8] ^= 1 << (bit % 8);
        let (_, report) = loaded(&mut st);
        prop_assert_eq!(report.errors.len(), 1);
        prop_assert_eq!(report.errors[0].0, r);
    }
}

#[test]
fn firmware_result_survives_a_reboot() {
    let mut s = ObjectStore::new();
    s.update_firmware(|f| f.set_result(UpdateResult::INTEGRITY_FAILURE));
    let mut st = saved(&mut s);
    let (t, report) = loaded(&mut st);
    assert!(report.is_clean());
    assert_eq!(t.firmware().result(), UpdateResult::INTEGRITY_FAILURE);
    assert_eq!(t.firmware().state(), FirmwareState::Idle);
}

#[test]
fn factory_reset_clears_persisted_state_and_saves_it() {
    let mut s = populated();
    let mut st = saved(&mut s);
    s.factory_reset();
    assert_eq!(s.server_count(), 0);
    assert!(s.security().instances().is_empty());
    assert_eq!(s.server_options_fingerprint(), 0);
    let mut buf = [0u8; RECORD_BUF_LEN];
    s.save(&mut st, &mut buf).unwrap();
    let (t, report) = loaded(&mut st);
    assert!(report.is_clean());
    assert!(t.security().instances().is_empty());
    assert_eq!(t.app_data(), ObjectStore::new().app_data());
}
