//! Persistence of the state that must survive a reboot: Security, Server,
//! Access Control, APN profiles, Firmware Update state and package URI,
//! Binary App Data, Event Log, and the server-options fingerprint, through
//! the [`Storage`] trait (key → bytes, atomic replace). Every stored value
//! is at most [`MAX_RECORD_LEN`] bytes (the port contract of
//! `carrier-os::storage`: the runtime never writes more than 1024), so the
//! Security and Binary App Data objects keep one value per instance slot.
//!
//! ## Record format
//! ```text
//! 0      1        2            4              8
//! | ver  | key    | payload len | CRC-32       | payload (CBOR, minicbor) |
//! | u8=1 | u8     | u16 LE      | u32 LE       | len bytes                |
//! ```
//! The CRC-32 (IEEE 802.3, the DFU's CRC too) covers bytes 0..4 and the
//! payload. Each payload is a CBOR array written and read by the hand-written
//! `minicbor` `Encode`/`Decode` impls below, with every length checked
//! against the fixed capacity.
//!
//! ## Guarantee
//! [`ObjectStore::load`] never panics and never leaves a half-read object: a
//! record is decoded into a fresh value and assigned only when the whole
//! record is valid. A missing record means factory defaults; a truncated,
//! corrupt or unknown-version record is replaced by factory defaults,
//! reported in the [`LoadReport`], and marked to be rewritten by the next
//! [`ObjectStore::save`]. For the objects stored per slot, one bad slot
//! resets the whole object: a partial set of server accounts is never used.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::config::{
    ACL_ENTRIES, APN_PROFILES, APP_DATA_ENTRIES, SECURITY_INSTANCES, SERVER_INSTANCES,
};
use crate::model::AccessRights;
use crate::objects::*;
use crate::store::ObjectStore;
use core::fmt;
use heapless::{String, Vec};
use minicbor::decode::{self, Decoder};
use minicbor::encode::{self, Encoder, Write, write::Cursor};
use minicbor::{Decode, Encode};

/// The record format version written by this code.
pub const FORMAT_VERSION: u8 = 1;
/// Bytes of the record header.
pub const HEADER_LEN: usize = 8;
/// The longest stored value this code writes (a test fills every capacity
/// and checks it); ports must accept at least this much.
pub const MAX_RECORD_LEN: usize = 1024;
/// A scratch buffer of this many bytes holds any record.
pub const RECORD_BUF_LEN: usize = MAX_RECORD_LEN;

/// Why the storage could not do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StorageError {
    /// The medium failed (flash, file system).
    Io,
    /// The stored record does not fit the buffer given to [`Storage::read`].
    TooLarge,
    /// No space left for the record.
    Full,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StorageError::Io => "storage I/O failed",
            StorageError::TooLarge => "stored record larger than the buffer",
            StorageError::Full => "storage full",
        })
    }
}

impl core::error::Error for StorageError {}

/// A key-value store for records (the port's NVS, flash or files).
///
/// Keys are small integers ([`Record::key`], below 64); a port maps them
/// into its own key space (the original uses 0xCA00..0xCAFF).
pub trait Storage {
    /// Copies record `key` into `buf` and returns its length, or `None` if
    /// there is no such record.
    ///
    /// # Errors
    /// [`StorageError::TooLarge`] if the record is longer than `buf`; [`StorageError::Io`].
    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError>;
    /// Replaces record `key` with `data`. MUST be atomic: after a power
    /// cut, a read returns either the old or the new record, never a mix.
    ///
    /// # Errors
    /// [`StorageError::Io`], [`StorageError::Full`].
    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError>;
    /// Removes record `key` (absent is not an error).
    ///
    /// # Errors
    /// [`StorageError::Io`].
    fn delete(&mut self, key: u16) -> Result<(), StorageError>;
}

/// The persisted records: one per object (Security and Binary App Data:
/// one stored value per instance slot, [`Record::slots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Record {
    /// Security object (0), one value per instance.
    Security,
    /// Server object (1).
    Server,
    /// Access Control object (2).
    AccessControl,
    /// APN Connection Profile object (11).
    ApnProfiles,
    /// Firmware Update state, result, package URI, name and version (5).
    Firmware,
    /// Binary App Data Container (19), one value per instance.
    AppData,
    /// Event Log (20).
    EventLog,
    /// The server-options fingerprint.
    Fingerprint,
}

impl Record {
    /// Every record, in key order.
    pub const ALL: [Record; 8] = [
        Record::Security,
        Record::Server,
        Record::AccessControl,
        Record::ApnProfiles,
        Record::Firmware,
        Record::AppData,
        Record::EventLog,
        Record::Fingerprint,
    ];

    /// How many stored values the record uses.
    pub const fn slots(self) -> usize {
        match self {
            Record::Security => SECURITY_INSTANCES,
            Record::AppData => crate::config::APP_DATA_INSTANCES,
            _ => 1,
        }
    }

    /// The storage key of `slot` (below 64): 2..=8 for the single-value
    /// records, 16 + slot for Security, 32 + slot for Binary App Data.
    pub const fn key(self, slot: usize) -> u16 {
        let slot = if slot > 15 { 15 } else { slot as u16 };
        match self {
            Record::Security => 16 + slot,
            Record::Server => 2,
            Record::AccessControl => 3,
            Record::ApnProfiles => 4,
            Record::Firmware => 5,
            Record::AppData => 32 + slot,
            Record::EventLog => 7,
            Record::Fingerprint => 8,
        }
    }

    pub(crate) const fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub(crate) fn for_object(oid: u16) -> Option<Record> {
        Some(match oid {
            0 => Record::Security,
            1 => Record::Server,
            2 => Record::AccessControl,
            5 => Record::Firmware,
            11 => Record::ApnProfiles,
            19 => Record::AppData,
            20 => Record::EventLog,
            _ => return None,
        })
    }
}

/// Why a stored record was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecordError {
    /// Shorter than its header or its stated payload length.
    Truncated,
    /// CRC mismatch, a payload that does not decode, or bytes left over.
    Corrupt,
    /// Written by another format version.
    UnknownVersion(u8),
    /// The header's key byte is not the key the value was stored under.
    WrongRecord,
    /// The storage failed.
    Storage(StorageError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Truncated => f.write_str("record truncated"),
            RecordError::Corrupt => f.write_str("record corrupt"),
            RecordError::UnknownVersion(v) => write!(f, "record format version {v} unknown"),
            RecordError::WrongRecord => f.write_str("record stored under the wrong key"),
            RecordError::Storage(e) => write!(f, "storage: {e}"),
        }
    }
}

impl core::error::Error for RecordError {}

/// What [`ObjectStore::load`] found: the records that were bad and were
/// replaced by factory defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// `(record, why)` for each record replaced by defaults.
    pub errors: Vec<(Record, RecordError), 8>,
    /// Records found and used.
    pub loaded: u8,
}

impl LoadReport {
    /// `true` when every stored record was usable.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Why [`ObjectStore::save`] could not write every dirty record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SaveError {
    /// The scratch buffer is smaller than the encoded record.
    BufferTooSmall(Record),
    /// The storage refused the write.
    Storage(Record, StorageError),
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::BufferTooSmall(r) => write!(f, "scratch buffer too small for {r:?}"),
            SaveError::Storage(r, e) => write!(f, "saving {r:?}: {e}"),
        }
    }
}

impl core::error::Error for SaveError {}

// --------------------------------------------------------------------------
// CRC-32
// --------------------------------------------------------------------------

#[expect(clippy::indexing_slicing, reason = "const evaluation, i < 256")]
const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-32/ISO-HDLC (IEEE 802.3, zlib): reflected polynomial 0xEDB88320,
/// initial and final XOR 0xFFFFFFFF. `crc32(b"123456789") == 0xCBF43926`.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for part in parts {
        for b in *part {
            let idx = usize::from((c as u8) ^ b);
            c = CRC_TABLE.get(idx).copied().unwrap_or(0) ^ (c >> 8);
        }
    }
    !c
}

// --------------------------------------------------------------------------
// Framing
// --------------------------------------------------------------------------

/// Frames an encoded payload; returns the record length.
fn encode_record<T: Encode<()>>(
    record: Record,
    slot: usize,
    value: &T,
    buf: &mut [u8],
) -> Result<usize, SaveError> {
    let (header, body) =
        buf.split_at_mut_checked(HEADER_LEN).ok_or(SaveError::BufferTooSmall(record))?;
    let mut e = Encoder::new(Cursor::new(&mut *body));
    value.encode(&mut e, &mut ()).map_err(|_| SaveError::BufferTooSmall(record))?;
    let n = e.writer().position();
    let len = u16::try_from(n).map_err(|_| SaveError::BufferTooSmall(record))?;
    let key = u8::try_from(record.key(slot)).map_err(|_| SaveError::BufferTooSmall(record))?;
    let mut h = [FORMAT_VERSION, key, 0, 0, 0, 0, 0, 0];
    let [l0, l1] = len.to_le_bytes();
    h[2] = l0;
    h[3] = l1;
    let payload = body.get(..n).ok_or(SaveError::BufferTooSmall(record))?;
    let crc = crc32(&[h.get(..4).unwrap_or(&[]), payload]).to_le_bytes();
    h[4..8].copy_from_slice(&crc);
    header.copy_from_slice(&h);
    Ok(HEADER_LEN + n)
}

/// Checks the frame and decodes the payload, all or nothing.
fn decode_record<T: for<'b> Decode<'b, ()>>(
    record: Record,
    slot: usize,
    bytes: &[u8],
) -> Result<T, RecordError> {
    let (header, payload) =
        bytes.split_first_chunk::<HEADER_LEN>().ok_or(RecordError::Truncated)?;
    let [ver, key, l0, l1, c0, c1, c2, c3] = *header;
    if ver != FORMAT_VERSION {
        return Err(RecordError::UnknownVersion(ver));
    }
    if u16::from(key) != record.key(slot) {
        return Err(RecordError::WrongRecord);
    }
    let len = usize::from(u16::from_le_bytes([l0, l1]));
    if payload.len() < len {
        return Err(RecordError::Truncated);
    }
    if payload.len() > len {
        return Err(RecordError::Corrupt);
    }
    if crc32(&[&[ver, key, l0, l1], payload]) != u32::from_le_bytes([c0, c1, c2, c3]) {
        return Err(RecordError::Corrupt);
    }
    let mut d = Decoder::new(payload);
    let v = T::decode(&mut d, &mut ()).map_err(|_| RecordError::Corrupt)?;
    if d.position() != payload.len() {
        return Err(RecordError::Corrupt);
    }
    Ok(v)
}

// --------------------------------------------------------------------------
// Field helpers
// --------------------------------------------------------------------------

type EncResult<W> = Result<(), encode::Error<<W as Write>::Error>>;

fn array_of(d: &mut Decoder<'_>, n: u64) -> Result<(), decode::Error> {
    match d.array()? {
        Some(len) if len == n => Ok(()),
        _ => Err(decode::Error::message("unexpected array length")),
    }
}

fn array_len(d: &mut Decoder<'_>, max: usize) -> Result<usize, decode::Error> {
    let len = d.array()?.ok_or_else(|| decode::Error::message("indefinite array"))?;
    usize::try_from(len)
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| decode::Error::message("too many items"))
}

fn string<const N: usize>(d: &mut Decoder<'_>) -> Result<String<N>, decode::Error> {
    String::try_from(d.str()?).map_err(|_| decode::Error::message("string too long"))
}

fn bytes<const N: usize>(d: &mut Decoder<'_>) -> Result<Vec<u8, N>, decode::Error> {
    Vec::from_slice(d.bytes()?).map_err(|_| decode::Error::message("bytes too long"))
}

fn opt_i64(d: &mut Decoder<'_>) -> Result<Option<i64>, decode::Error> {
    if d.datatype()? == minicbor::data::Type::Null {
        d.null()?;
        Ok(None)
    } else {
        Ok(Some(d.i64()?))
    }
}

fn enc_opt_i64<W: Write>(e: &mut Encoder<W>, v: Option<i64>) -> EncResult<W> {
    match v {
        Some(n) => e.i64(n)?,
        None => e.null()?,
    };
    Ok(())
}

/// Adds a decoded instance; a repeated ID or one too many is corrupt data.
fn insert<T: Instance, const N: usize>(v: &mut Instances<T, N>, t: T) -> Result<(), decode::Error> {
    if v.get(t.id()).is_some() {
        return Err(decode::Error::message("duplicate instance"));
    }
    v.put(t).map_err(|_| decode::Error::message("capacity exceeded"))
}

// --------------------------------------------------------------------------
// Encode / Decode of each record
// --------------------------------------------------------------------------

impl<C> Encode<C> for SecurityInstance {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.array(10)?
            .u16(self.id)?
            .str(&self.uri)?
            .bool(self.bootstrap)?
            .i64(self.mode.as_i64())?
            .bytes(&self.identity)?
            .bytes(&self.server_public_key)?
            .bytes(self.secret_key.expose())?;
        enc_opt_i64(e, self.ssid.map(i64::from))?;
        e.i64(self.client_hold_off_s)?.i64(self.bootstrap_account_timeout_s)?;
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for SecurityInstance {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        array_of(d, 10)?;
        let mut s = SecurityInstance::new(d.u16()?);
        s.uri = string(d)?;
        s.bootstrap = d.bool()?;
        s.mode = SecurityMode::from_i64(d.i64()?)
            .ok_or_else(|| decode::Error::message("security mode"))?;
        s.identity = bytes(d)?;
        s.server_public_key = bytes(d)?;
        s.secret_key =
            SecretKey::new(d.bytes()?).map_err(|_| decode::Error::message("key too long"))?;
        s.ssid = opt_i64(d)?
            .map(u16::try_from)
            .transpose()
            .map_err(|_| decode::Error::message("ssid"))?;
        s.client_hold_off_s = d.i64()?;
        s.bootstrap_account_timeout_s = d.i64()?;
        Ok(s)
    }
}

impl<C> Encode<C> for Server {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.array(self.instances.len() as u64)?;
        for s in &self.instances {
            e.array(9)?.u16(s.id)?.u16(s.ssid)?.i64(s.lifetime_s)?;
            enc_opt_i64(e, s.pmin_s)?;
            enc_opt_i64(e, s.pmax_s)?;
            e.i64(s.disable_timeout_s)?
                .bool(s.notification_storing)?
                .str(&s.binding)?
                .bool(s.mute_send)?;
        }
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for Server {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        let n = array_len(d, SERVER_INSTANCES)?;
        let mut out = Server::default();
        for _ in 0..n {
            array_of(d, 9)?;
            let id = d.u16()?;
            let mut s = ServerInstance::new(id, d.u16()?);
            s.lifetime_s = d.i64()?;
            s.pmin_s = opt_i64(d)?;
            s.pmax_s = opt_i64(d)?;
            s.disable_timeout_s = d.i64()?;
            s.notification_storing = d.bool()?;
            s.binding = string(d)?;
            s.mute_send = d.bool()?;
            insert(&mut out.instances, s)?;
        }
        Ok(out)
    }
}

impl<C> Encode<C> for AccessControl {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.array(self.instances.len() as u64)?;
        for a in &self.instances {
            e.array(5)?.u16(a.id)?.u16(a.object_id)?.u16(a.instance_id)?.u16(a.owner)?;
            e.array(a.entries.len() as u64)?;
            for (ssid, rights) in &a.entries {
                e.array(2)?.u16(*ssid)?.u8(rights.0)?;
            }
        }
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for AccessControl {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        let n = array_len(d, crate::config::ACL_INSTANCES)?;
        let mut out = AccessControl::default();
        for _ in 0..n {
            array_of(d, 5)?;
            let (id, oid, iid, owner) = (d.u16()?, d.u16()?, d.u16()?, d.u16()?);
            let mut a = AclInstance::new(id, oid, iid, owner);
            let m = array_len(d, ACL_ENTRIES)?;
            for _ in 0..m {
                array_of(d, 2)?;
                let ssid = d.u16()?;
                let bits = d.u8()?;
                if bits > AccessRights::ALL.0 {
                    return Err(decode::Error::message("ACL bits"));
                }
                a.set(ssid, AccessRights(bits))
                    .map_err(|_| decode::Error::message("capacity exceeded"))?;
            }
            insert(&mut out.instances, a)?;
        }
        Ok(out)
    }
}

impl<C> Encode<C> for ApnProfiles {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.array(self.instances.len() as u64)?;
        for p in &self.instances {
            e.array(8)?
                .u16(p.id)?
                .str(&p.profile_name)?
                .str(&p.apn)?
                .bool(p.enabled)?
                .u8(p.auth_type)?
                .str(&p.user_name)?
                .str(&p.secret)?
                .u8(p.pdn_type)?;
        }
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for ApnProfiles {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        let n = array_len(d, APN_PROFILES)?;
        let mut out = ApnProfiles::default();
        for _ in 0..n {
            array_of(d, 8)?;
            let mut p = ApnProfile::new(d.u16()?);
            p.profile_name = string(d)?;
            p.apn = string(d)?;
            p.enabled = d.bool()?;
            p.auth_type = d.u8()?;
            p.user_name = string(d)?;
            p.secret = string(d)?;
            p.pdn_type = d.u8()?;
            if p.auth_type > 3 || p.pdn_type > 3 {
                return Err(decode::Error::message("enumeration out of range"));
            }
            insert(&mut out.instances, p)?;
        }
        Ok(out)
    }
}

/// The persisted part of Firmware Update.
struct FirmwareRecord {
    state: FirmwareState,
    result: UpdateResult,
    uri: String<{ crate::config::URI_LEN }>,
    name: String<{ crate::config::SHORT_STRING_LEN }>,
    version: String<{ crate::config::SHORT_STRING_LEN }>,
}

impl<C> Encode<C> for FirmwareRecord {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.array(5)?
            .u8(self.state.as_u8())?
            .u8(self.result.0)?
            .str(&self.uri)?
            .str(&self.name)?
            .str(&self.version)?;
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for FirmwareRecord {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        array_of(d, 5)?;
        Ok(FirmwareRecord {
            state: FirmwareState::from_u8(d.u8()?)
                .ok_or_else(|| decode::Error::message("firmware state"))?,
            result: UpdateResult(d.u8()?),
            uri: string(d)?,
            name: string(d)?,
            version: string(d)?,
        })
    }
}

impl<C> Encode<C> for AppDataInstance {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.array(2)?.u16(self.id)?.array(self.data.len() as u64)?;
        for (ri, data) in &self.data {
            e.array(2)?.u16(*ri)?.bytes(data)?;
        }
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for AppDataInstance {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        array_of(d, 2)?;
        let mut p = AppDataInstance::new(d.u16()?);
        let m = array_len(d, APP_DATA_ENTRIES)?;
        for _ in 0..m {
            array_of(d, 2)?;
            let ri = d.u16()?;
            if p.get(ri).is_some() {
                return Err(decode::Error::message("duplicate entry"));
            }
            p.set(ri, Some(d.bytes()?)).map_err(|_| decode::Error::message("capacity exceeded"))?;
        }
        Ok(p)
    }
}

impl<C> Encode<C> for EventLog {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.array(self.instances.len() as u64)?;
        for p in &self.instances {
            e.array(5)?.u16(p.id)?.u8(p.class)?.u8(p.status)?.bytes(&p.data)?.u8(p.format)?;
        }
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for EventLog {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        let n = array_len(d, crate::config::EVENT_LOG_INSTANCES)?;
        let mut out = EventLog { instances: Instances::default() };
        for _ in 0..n {
            array_of(d, 5)?;
            let mut p = EventLogInstance::new(d.u16()?);
            p.class = d.u8()?;
            p.status = d.u8()?;
            p.data = bytes(d)?;
            p.format = d.u8()?;
            insert(&mut out.instances, p)?;
        }
        Ok(out)
    }
}

/// The fingerprint record.
struct Fingerprint(u64);

impl<C> Encode<C> for Fingerprint {
    fn encode<W: Write>(&self, e: &mut Encoder<W>, _: &mut C) -> EncResult<W> {
        e.u64(self.0)?;
        Ok(())
    }
}

impl<'b, C> Decode<'b, C> for Fingerprint {
    fn decode(d: &mut Decoder<'b>, _: &mut C) -> Result<Self, decode::Error> {
        Ok(Fingerprint(d.u64()?))
    }
}

// --------------------------------------------------------------------------
// Store integration
// --------------------------------------------------------------------------

impl ObjectStore {
    /// Encodes slot `slot` of `record` from the current state into `buf`;
    /// returns its length, or `None` for an empty slot (no such instance).
    ///
    /// # Errors
    /// [`SaveError::BufferTooSmall`] when `buf` cannot hold it.
    pub fn encode_record(
        &self,
        record: Record,
        slot: usize,
        buf: &mut [u8],
    ) -> Result<Option<usize>, SaveError> {
        let n = match record {
            Record::Security => match self.security.instances.iter().nth(slot) {
                Some(inst) => encode_record(record, slot, inst, buf)?,
                None => return Ok(None),
            },
            Record::AppData => match self.app_data.instances.iter().nth(slot) {
                Some(inst) => encode_record(record, slot, inst, buf)?,
                None => return Ok(None),
            },
            _ if slot > 0 => return Ok(None),
            Record::Server => encode_record(record, slot, &self.server, buf)?,
            Record::AccessControl => encode_record(record, slot, &self.acl, buf)?,
            Record::ApnProfiles => encode_record(record, slot, &self.apn, buf)?,
            Record::Firmware => {
                let f = &self.firmware;
                let fr = FirmwareRecord {
                    state: f.state,
                    result: f.result,
                    uri: f.package_uri.clone(),
                    name: f.package_name.clone(),
                    version: f.package_version.clone(),
                };
                encode_record(record, slot, &fr, buf)?
            }
            Record::EventLog => encode_record(record, slot, &self.event_log, buf)?,
            Record::Fingerprint => {
                encode_record(record, slot, &Fingerprint(self.fingerprint), buf)?
            }
        };
        Ok(Some(n))
    }

    /// Reads every slot of `record` and replaces that part of the state —
    /// all or nothing. `Ok(false)`: nothing stored.
    fn load_record(
        &mut self,
        record: Record,
        storage: &mut dyn Storage,
        buf: &mut [u8],
    ) -> Result<bool, RecordError> {
        if matches!(record, Record::Security | Record::AppData) {
            let mut security = Security::default();
            let mut app_data = BinaryAppData { instances: Instances::default() };
            let mut found = false;
            for slot in 0..record.slots() {
                let Some(n) = storage.read(record.key(slot), buf).map_err(RecordError::Storage)?
                else {
                    continue;
                };
                found = true;
                let bytes = buf.get(..n).ok_or(RecordError::Storage(StorageError::TooLarge))?;
                if record == Record::Security {
                    let inst: SecurityInstance = decode_record(record, slot, bytes)?;
                    insert(&mut security.instances, inst).map_err(|_| RecordError::Corrupt)?;
                } else {
                    let inst: AppDataInstance = decode_record(record, slot, bytes)?;
                    insert(&mut app_data.instances, inst).map_err(|_| RecordError::Corrupt)?;
                }
            }
            if found {
                if record == Record::Security {
                    self.security = security;
                } else {
                    self.app_data = app_data;
                }
            }
            return Ok(found);
        }
        let Some(n) = storage.read(record.key(0), buf).map_err(RecordError::Storage)? else {
            return Ok(false);
        };
        let bytes = buf.get(..n).ok_or(RecordError::Storage(StorageError::TooLarge))?;
        match record {
            Record::Server => self.server = decode_record(record, 0, bytes)?,
            Record::AccessControl => self.acl = decode_record(record, 0, bytes)?,
            Record::ApnProfiles => self.apn = decode_record(record, 0, bytes)?,
            Record::Firmware => {
                let fr: FirmwareRecord = decode_record(record, 0, bytes)?;
                let f = &mut self.firmware;
                f.state = fr.state;
                f.result = fr.result;
                f.package_uri = fr.uri;
                f.package_name = fr.name;
                f.package_version = fr.version;
            }
            Record::EventLog => self.event_log = decode_record(record, 0, bytes)?,
            Record::Fingerprint => {
                self.fingerprint = decode_record::<Fingerprint>(record, 0, bytes)?.0;
            }
            Record::Security | Record::AppData => {}
        }
        Ok(true)
    }

    /// Factory defaults for one record's part (built in place: a whole
    /// fresh store would cost ~9 KiB of stack on the device).
    fn reset_record(&mut self, record: Record) {
        match record {
            Record::Security => self.security = Security::default(),
            Record::Server => self.server = Server::default(),
            Record::AccessControl => self.acl = AccessControl::default(),
            Record::ApnProfiles => self.apn = ApnProfiles::default(),
            Record::Firmware => self.firmware = FirmwareUpdate::default(),
            Record::AppData => self.app_data = BinaryAppData::default(),
            Record::EventLog => self.event_log = EventLog::default(),
            Record::Fingerprint => self.fingerprint = 0,
        }
    }

    /// Loads every record from `storage` (at start-up), using `buf`
    /// ([`RECORD_BUF_LEN`] bytes) as scratch. Missing records leave factory
    /// defaults; unusable ones are replaced by factory defaults, reported,
    /// and rewritten by the next [`ObjectStore::save`].
    pub fn load(&mut self, storage: &mut dyn Storage, buf: &mut [u8]) -> LoadReport {
        let mut report = LoadReport::default();
        for record in Record::ALL {
            match self.load_record(record, storage, buf) {
                Ok(false) => {}
                Ok(true) => report.loaded = report.loaded.saturating_add(1),
                Err(e) => {
                    self.reset_record(record);
                    self.dirty.0 |= record.bit();
                    let _ = report.errors.push((record, e));
                }
            }
        }
        report
    }

    /// Writes every record changed since the last save (or load) to
    /// `storage`, using `buf` ([`RECORD_BUF_LEN`] bytes) as scratch; slots
    /// of removed instances are deleted. A record that fails stays dirty and
    /// is retried by the next call.
    ///
    /// # Errors
    /// The first failure; the records before it were written.
    pub fn save(&mut self, storage: &mut dyn Storage, buf: &mut [u8]) -> Result<(), SaveError> {
        for record in Record::ALL {
            if self.dirty.0 & record.bit() == 0 {
                continue;
            }
            for slot in 0..record.slots() {
                let key = record.key(slot);
                match self.encode_record(record, slot, buf)? {
                    Some(n) => {
                        let bytes = buf.get(..n).ok_or(SaveError::BufferTooSmall(record))?;
                        storage.write(key, bytes).map_err(|e| SaveError::Storage(record, e))?;
                    }
                    None => storage.delete(key).map_err(|e| SaveError::Storage(record, e))?,
                }
            }
            self.dirty.0 &= !record.bit();
        }
        Ok(())
    }

    /// Returns every persisted part (server accounts, ACLs, APN profiles,
    /// firmware state, app data, event log, fingerprint) to factory
    /// defaults and marks every record for saving — the Device Factory
    /// Reset (`/3/0/5`) and the "server options changed" reset of the
    /// carrier library. Application-set Device values are kept.
    pub fn factory_reset(&mut self) {
        for r in Record::ALL {
            self.reset_record(r);
        }
        self.mark_all_for_save();
        self.events.push(crate::ObjectEvent::InstancesChanged);
    }

    /// Whether any record awaits [`ObjectStore::save`].
    pub fn needs_save(&self) -> bool {
        self.dirty.0 != 0
    }

    /// Marks every record for saving (after a factory reset, say).
    pub fn mark_all_for_save(&mut self) {
        for r in Record::ALL {
            self.dirty.0 |= r.bit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[]), 0);
    }
}
