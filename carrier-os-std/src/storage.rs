//! Storage for the desktop port: [`DirStorage`] (one file per key in a
//! directory, crash-safe replace) and [`MemStorage`] (the simulation's
//! "flash", kept across simulated power cuts).
//!
//! Guarantee (the [`carrier_os::Storage`] contract): after a cut at any
//! point of a write, a record reads back as its old value (or absent) or its
//! new value, never a mix and never a truncated file.
//!
//! How `DirStorage` keeps it: each record is `<key>.rec` holding a header
//! (magic, length, CRC-32) and the value. A write goes to `<key>.tmp`, is
//! `fsync`ed, renamed over `<key>.rec` (atomic on POSIX file systems), and the
//! directory is `fsync`ed so the rename itself is durable. Opening the
//! directory removes stray `.tmp` files. A record whose header or CRC does
//! not match (a medium fault, not something our write order can produce) is
//! reported as [`StorageError::Corrupt`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use carrier_os::storage::{Key, Storage, StorageError};

/// Largest record both storages accept.
pub const MAX_VALUE_LEN: usize = 4096;

const MAGIC: &[u8; 4] = b"COS1";
const HEADER_LEN: usize = 12;

/// A point of a [`DirStorage`] write at which a simulated power cut can stop
/// it (test hook, see [`DirStorage::arm_power_cut`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CutPoint {
    /// Before anything happened.
    BeforeCreate,
    /// The temporary file exists, empty.
    AfterCreate,
    /// Half of the record's bytes are in the temporary file.
    MidWrite,
    /// All bytes written, not yet `fsync`ed.
    AfterWrite,
    /// The temporary file is `fsync`ed.
    AfterFsync,
    /// Renamed over the record, directory not yet `fsync`ed.
    AfterRename,
    /// Everything done (the call would return `Ok`).
    AfterDirFsync,
}

impl CutPoint {
    /// Every point, in the order a write passes them.
    pub const ALL: [CutPoint; 7] = [
        CutPoint::BeforeCreate,
        CutPoint::AfterCreate,
        CutPoint::MidWrite,
        CutPoint::AfterWrite,
        CutPoint::AfterFsync,
        CutPoint::AfterRename,
        CutPoint::AfterDirFsync,
    ];
}

/// Records as files in a directory.
#[derive(Debug)]
pub struct DirStorage {
    dir: PathBuf,
    fsync: bool,
    cut: Option<CutPoint>,
    dead: bool,
}

/// Whether a cut at `point` was armed: then the storage is dead.
struct Cut;

impl DirStorage {
    /// Opens (creating if needed) the directory `dir`, with `fsync`s on.
    ///
    /// Removes temporary files a cut write left behind.
    ///
    /// # Errors
    /// The directory cannot be created or listed.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                fs::remove_file(&path)?;
            }
        }
        Ok(DirStorage { dir, fsync: true, cut: None, dead: false })
    }

    /// Turns `fsync` off (for simulations where the process never really
    /// loses power); atomicity against a cut of the *process* remains.
    pub fn without_fsync(mut self) -> Self {
        self.fsync = false;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Test hook: the next write stops at `point` as if power were cut there;
    /// that call and every later call fail with [`StorageError::Io`] ("the
    /// device is off"). Reopen the directory to model the reboot.
    pub fn arm_power_cut(&mut self, point: CutPoint) {
        self.cut = Some(point);
    }

    fn record_path(&self, key: Key) -> PathBuf {
        self.dir.join(format!("{:04x}.rec", key.0))
    }

    fn temp_path(&self, key: Key) -> PathBuf {
        self.dir.join(format!("{:04x}.tmp", key.0))
    }

    fn reached(&mut self, point: CutPoint) -> Result<(), Cut> {
        if self.cut == Some(point) {
            self.cut = None;
            self.dead = true;
            return Err(Cut);
        }
        Ok(())
    }

    fn sync_dir(&self) -> io::Result<()> {
        if self.fsync {
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(())
    }

    fn write_record(&mut self, key: Key, value: &[u8]) -> Result<(), WriteFailure> {
        let len = u32::try_from(value.len()).map_err(|_| WriteFailure::Io)?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + value.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&carrier_os::crc32(0, value).to_le_bytes());
        bytes.extend_from_slice(value);

        self.reached(CutPoint::BeforeCreate)?;
        let tmp = self.temp_path(key);
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        self.reached(CutPoint::AfterCreate)?;
        let (first, second) = bytes.split_at(bytes.len() / 2);
        file.write_all(first)?;
        self.reached(CutPoint::MidWrite)?;
        file.write_all(second)?;
        self.reached(CutPoint::AfterWrite)?;
        if self.fsync {
            file.sync_all()?;
        }
        drop(file);
        self.reached(CutPoint::AfterFsync)?;
        fs::rename(&tmp, self.record_path(key))?;
        self.reached(CutPoint::AfterRename)?;
        self.sync_dir()?;
        self.reached(CutPoint::AfterDirFsync)?;
        Ok(())
    }
}

enum WriteFailure {
    Cut,
    Io,
}

impl From<Cut> for WriteFailure {
    fn from(_: Cut) -> Self {
        WriteFailure::Cut
    }
}

impl From<io::Error> for WriteFailure {
    fn from(e: io::Error) -> Self {
        log::warn!("storage write failed: {e}");
        WriteFailure::Io
    }
}

/// Parses a record file: header, length and CRC must agree.
fn parse_record(bytes: &[u8]) -> Result<&[u8], StorageError> {
    let (header, value) = bytes.split_at_checked(HEADER_LEN).ok_or(StorageError::Corrupt)?;
    let (magic, rest) = header.split_first_chunk::<4>().ok_or(StorageError::Corrupt)?;
    let (len, crc) = rest.split_first_chunk::<4>().ok_or(StorageError::Corrupt)?;
    let crc: [u8; 4] = crc.try_into().map_err(|_| StorageError::Corrupt)?;
    if magic != MAGIC
        || usize::try_from(u32::from_le_bytes(*len)).ok() != Some(value.len())
        || u32::from_le_bytes(crc) != carrier_os::crc32(0, value)
    {
        return Err(StorageError::Corrupt);
    }
    Ok(value)
}

fn copy_out(value: &[u8], buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
    let out =
        buf.get_mut(..value.len()).ok_or(StorageError::BufferTooSmall { len: value.len() })?;
    out.copy_from_slice(value);
    Ok(Some(value.len()))
}

fn check_len(value: &[u8]) -> Result<(), StorageError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(StorageError::TooLarge { len: value.len(), max: MAX_VALUE_LEN });
    }
    Ok(())
}

impl Storage for DirStorage {
    const MAX_VALUE_LEN: usize = MAX_VALUE_LEN;

    fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        if self.dead {
            return Err(StorageError::Io);
        }
        let bytes = match fs::read(self.record_path(key)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(_) => return Err(StorageError::Io),
        };
        copy_out(parse_record(&bytes)?, buf)
    }

    fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError> {
        if self.dead {
            return Err(StorageError::Io);
        }
        check_len(value)?;
        match self.write_record(key, value) {
            Ok(()) => Ok(()),
            Err(WriteFailure::Cut | WriteFailure::Io) => {
                let _ = fs::remove_file(self.temp_path(key));
                Err(StorageError::Io)
            }
        }
    }

    fn delete(&mut self, key: Key) -> Result<(), StorageError> {
        if self.dead {
            return Err(StorageError::Io);
        }
        match fs::remove_file(self.record_path(key)) {
            Ok(()) => self.sync_dir().map_err(|_| StorageError::Io),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(_) => Err(StorageError::Io),
        }
    }
}

/// The simulation's non-volatile memory: a record map shared between a
/// device and its next incarnation after a power cut.
pub type Flash = Rc<RefCell<BTreeMap<u16, Vec<u8>>>>;

/// Records in a [`Flash`] map. Each `set` replaces a whole value in one step,
/// so a simulated power cut (which happens between calls) never splits one.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    flash: Flash,
    writes: u64,
}

impl MemStorage {
    /// Storage over `flash` (shared: clone the `Rc` to keep it across a cut).
    pub fn new(flash: Flash) -> Self {
        MemStorage { flash, writes: 0 }
    }
    /// The underlying map.
    pub fn flash(&self) -> &Flash {
        &self.flash
    }
    /// Completed `set`/`delete` calls since creation.
    pub fn writes(&self) -> u64 {
        self.writes
    }
}

impl Storage for MemStorage {
    const MAX_VALUE_LEN: usize = MAX_VALUE_LEN;

    fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        match self.flash.borrow().get(&key.0) {
            None => Ok(None),
            Some(v) => copy_out(v, buf),
        }
    }

    fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError> {
        check_len(value)?;
        self.flash.borrow_mut().insert(key.0, value.to_vec());
        self.writes += 1;
        Ok(())
    }

    fn delete(&mut self, key: Key) -> Result<(), StorageError> {
        self.flash.borrow_mut().remove(&key.0);
        self.writes += 1;
        Ok(())
    }
}

/// Writes `bytes` to `path` with the same temp-file, `fsync`, rename,
/// directory-`fsync` sequence (for the key-store and DFU metadata files).
///
/// # Errors
/// Any I/O failure; the old file is then unchanged.
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    const K: Key = Key(0xCA10);

    fn read(s: &mut DirStorage) -> Result<Option<Vec<u8>>, StorageError> {
        let mut buf = [0u8; MAX_VALUE_LEN];
        s.get(K, &mut buf).map(|o| o.map(|n| buf[..n].to_vec()))
    }

    #[test]
    fn a_cut_at_every_step_leaves_the_old_or_the_new_value() {
        let old = b"old value: registered with server 1".to_vec();
        let new: Vec<u8> = (0..3000u32).map(|i| (i * 31 % 251) as u8).collect();
        for point in CutPoint::ALL {
            let dir = TestDir::new("cut");
            let mut s = DirStorage::open(dir.path()).unwrap();
            s.set(K, &old).unwrap();
            s.arm_power_cut(point);
            assert_eq!(
                s.set(K, &new),
                Err(StorageError::Io),
                "{point:?}: the cut write reports failure"
            );
            assert_eq!(read(&mut s), Err(StorageError::Io), "{point:?}: a cut device is off");
            drop(s);
            let mut s = DirStorage::open(dir.path()).unwrap();
            let got = read(&mut s).unwrap().expect("a record that existed must not vanish");
            // Up to the rename the old value must be there; from the rename on, the new one.
            let expect_new = matches!(point, CutPoint::AfterRename | CutPoint::AfterDirFsync);
            assert_eq!(got, if expect_new { new.clone() } else { old.clone() }, "{point:?}");
            let leftovers: Vec<_> =
                fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(
                leftovers.len(),
                1,
                "{point:?}: reopen must remove temp files: {leftovers:?}"
            );
        }
    }

    #[test]
    fn a_cut_first_write_leaves_the_record_absent_or_complete() {
        for point in CutPoint::ALL {
            let dir = TestDir::new("cut-first");
            let mut s = DirStorage::open(dir.path()).unwrap();
            s.arm_power_cut(point);
            let _ = s.set(K, b"first ever value");
            let mut s = DirStorage::open(dir.path()).unwrap();
            let got = read(&mut s).unwrap();
            assert!(
                got.is_none() || got.as_deref() == Some(&b"first ever value"[..]),
                "{point:?}: {got:?}"
            );
        }
    }

    #[test]
    fn a_torn_or_flipped_record_is_reported_corrupt_not_returned() {
        let dir = TestDir::new("corrupt");
        let mut s = DirStorage::open(dir.path()).unwrap();
        s.set(K, b"0123456789").unwrap();
        let path = s.record_path(K);
        let mut bytes = fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&mut s), Err(StorageError::Corrupt));
        s.set(K, b"0123456789").unwrap();
        let mut bytes = fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&mut s), Err(StorageError::Corrupt));
        fs::write(&path, b"COS").unwrap();
        assert_eq!(read(&mut s), Err(StorageError::Corrupt));
    }

    proptest::proptest! {
        #[test]
        fn any_record_file_parses_to_its_value_or_corrupt_never_a_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Ok(v) = parse_record(&bytes) {
                // Only a well-formed record parses, and it gives exactly its tail.
                proptest::prop_assert_eq!(v, &bytes[HEADER_LEN..]);
                proptest::prop_assert_eq!(&bytes[..4], MAGIC);
            }
        }

        #[test]
        fn a_written_record_reads_back_exactly(value in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut s = MemStorage::new(Flash::default());
            s.set(K, &value).unwrap();
            let mut buf = [0u8; 300];
            proptest::prop_assert_eq!(s.get(K, &mut buf), Ok(Some(value.len())));
            proptest::prop_assert_eq!(&buf[..value.len()], &value[..]);
        }
    }

    #[test]
    fn a_record_file_round_trips_through_the_parser() {
        let dir = TestDir::new("roundtrip");
        let mut s = DirStorage::open(dir.path()).unwrap();
        s.set(K, b"abc").unwrap();
        let bytes = fs::read(s.record_path(K)).unwrap();
        // magic, length 3 (LE), CRC-32 of "abc" (0x352441c2, LE), value.
        assert_eq!(bytes, b"COS1\x03\x00\x00\x00\xc2\x41\x24\x35abc");
        assert_eq!(parse_record(&bytes), Ok(&b"abc"[..]));
    }

    #[test]
    fn dir_storage_passes_the_conformance_suite() {
        let dir = TestDir::new("conf");
        let s = DirStorage::open(dir.path()).unwrap();
        let path = dir.path().to_path_buf();
        carrier_os::conformance::storage_suite(s, |s| {
            drop(s);
            DirStorage::open(&path).unwrap()
        });
    }

    #[test]
    fn mem_storage_passes_the_conformance_suite_and_survives_a_cut() {
        let flash = Flash::default();
        let s = MemStorage::new(flash.clone());
        carrier_os::conformance::storage_suite(s, |s| {
            drop(s); // RAM gone; the flash map lives on
            MemStorage::new(flash.clone())
        });
    }
}
