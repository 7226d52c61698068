//! The DFU target of the desktop port: images written into a [`DfuArea`]
//! (files in a directory for the real mode, memory that survives a simulated
//! power cut for the simulation), applied at "reboot".
//!
//! A reboot is modelled by constructing a new [`DfuTarget`] over the same
//! area ([`DfuTarget::boot`]): a scheduled application image is installed
//! then, and [`carrier_os::Dfu::dfu_take_outcome`] reports it once. A
//! scheduled modem delta is applied by [`DfuTarget::apply_modem_update`],
//! which the port calls from `Modem::restart`.
//!
//! Image types are detected as the nRF91 does (`carrier-api.md` §7):
//! MCUboot's `IMAGE_MAGIC` 0x96f3b83d (little-endian) at offset 0 is an
//! application; the modem delta magic 0x7544656d (little-endian) at offset 4
//! is a modem delta; the SoftBank divided-file magic 0x424ad2dc at offset 0
//! is an application file.
//!
//! The "bootloader" checks an application image before it installs it, as
//! MCUboot reads its header: `ih_hdr_size` (u16 LE at 8) at least 32 bytes
//! and `ih_hdr_size + ih_img_size` (u32 LE at 12) within the image. An
//! image that fails keeps the old application and is reported
//! `Failed(Application)` — the runtime's FOTA_FAIL −EBADF ("the firmware
//! could not be applied"). [`test_app_image`] builds a valid one,
//! [`test_unbootable_app_image`] one whose header claims more than it has.

use std::cell::RefCell;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::rc::Rc;

use carrier_os::dfu::{Dfu, DfuError, ImageType, UpdateOutcome};
use serde::{Deserialize, Serialize};

const MCUBOOT_MAGIC: u32 = 0x96f3_b83d;
const MODEM_DELTA_MAGIC: u32 = 0x7544_656d;
const SOFTBANK_MAGIC: u32 = 0x424a_d2dc;

/// Largest image accepted by default (1 MiB, the nRF9160's secondary slot is
/// about that size).
pub const DEFAULT_MAX_IMAGE: u64 = 1024 * 1024;

/// Persistent DFU state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Type of the image being written (`app`, `modem`, `app-file`).
    pub image: Option<String>,
    /// `dfu_finish` succeeded.
    pub finished: bool,
    /// `dfu_schedule` succeeded.
    pub scheduled: bool,
    /// Outcome to report once (`applied:<type>` / `failed:<type>`).
    pub outcome: Option<String>,
}

fn type_name(t: ImageType) -> &'static str {
    match t {
        ImageType::Application => "app",
        ImageType::ModemDelta => "modem",
        ImageType::ApplicationFile => "app-file",
    }
}

fn type_from(s: &str) -> Option<ImageType> {
    match s {
        "app" => Some(ImageType::Application),
        "modem" => Some(ImageType::ModemDelta),
        "app-file" => Some(ImageType::ApplicationFile),
        _ => None,
    }
}

/// Where the DFU target keeps its image and state.
pub trait DfuArea {
    /// Loads the state (default if none).
    fn load_meta(&mut self) -> io::Result<Meta>;
    /// Stores the state atomically.
    fn store_meta(&mut self, meta: &Meta) -> io::Result<()>;
    /// Bytes of the image stored.
    fn image_len(&mut self) -> io::Result<u64>;
    /// Appends to the image; durable when it returns.
    fn append(&mut self, data: &[u8]) -> io::Result<()>;
    /// Drops the image.
    fn clear_image(&mut self) -> io::Result<()>;
    /// The whole image.
    fn read_image(&mut self) -> io::Result<Vec<u8>>;
    /// Makes the image the running application (copy to the active slot).
    fn install(&mut self) -> io::Result<()>;
}

/// A [`DfuArea`] in a directory: `meta.toml`, `image.bin` (being written)
/// and `active.bin` (the "installed" application).
#[derive(Debug)]
pub struct DirArea {
    dir: PathBuf,
}

impl DirArea {
    /// Opens (creating) `dir`.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(DirArea { dir })
    }
    /// The installed application image, if any.
    pub fn active_image(&self) -> Option<Vec<u8>> {
        fs::read(self.dir.join("active.bin")).ok()
    }
}

impl DfuArea for DirArea {
    fn load_meta(&mut self) -> io::Result<Meta> {
        match fs::read_to_string(self.dir.join("meta.toml")) {
            Ok(t) => toml::from_str(&t).map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Meta::default()),
            Err(e) => Err(e),
        }
    }
    fn store_meta(&mut self, meta: &Meta) -> io::Result<()> {
        let text = toml::to_string(meta).map_err(io::Error::other)?;
        crate::storage::write_file_atomically(&self.dir.join("meta.toml"), text.as_bytes())
    }
    fn image_len(&mut self) -> io::Result<u64> {
        match fs::metadata(self.dir.join("image.bin")) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let mut f =
            OpenOptions::new().create(true).append(true).open(self.dir.join("image.bin"))?;
        f.write_all(data)?;
        f.sync_data()
    }
    fn clear_image(&mut self) -> io::Result<()> {
        match fs::remove_file(self.dir.join("image.bin")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
    fn read_image(&mut self) -> io::Result<Vec<u8>> {
        match fs::read(self.dir.join("image.bin")) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            r => r,
        }
    }
    fn install(&mut self) -> io::Result<()> {
        let image = self.read_image()?;
        crate::storage::write_file_atomically(&self.dir.join("active.bin"), &image)
    }
}

/// The contents of a [`MemArea`].
#[derive(Debug, Clone, Default)]
pub struct MemAreaState {
    /// State.
    pub meta: Meta,
    /// Image being written.
    pub image: Vec<u8>,
    /// Installed application.
    pub active: Vec<u8>,
}

/// A [`DfuArea`] in memory, shared across simulated power cuts.
#[derive(Debug, Clone, Default)]
pub struct MemArea(pub Rc<RefCell<MemAreaState>>);

impl DfuArea for MemArea {
    fn load_meta(&mut self) -> io::Result<Meta> {
        Ok(self.0.borrow().meta.clone())
    }
    fn store_meta(&mut self, meta: &Meta) -> io::Result<()> {
        self.0.borrow_mut().meta = meta.clone();
        Ok(())
    }
    fn image_len(&mut self) -> io::Result<u64> {
        Ok(self.0.borrow().image.len() as u64)
    }
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.borrow_mut().image.extend_from_slice(data);
        Ok(())
    }
    fn clear_image(&mut self) -> io::Result<()> {
        self.0.borrow_mut().image.clear();
        Ok(())
    }
    fn read_image(&mut self) -> io::Result<Vec<u8>> {
        Ok(self.0.borrow().image.clone())
    }
    fn install(&mut self) -> io::Result<()> {
        let mut s = self.0.borrow_mut();
        s.active = s.image.clone();
        Ok(())
    }
}

impl DfuTarget<MemArea> {
    /// [`DfuTarget::boot`] over memory, which has no I/O to fail.
    pub fn boot_mem(area: MemArea) -> Self {
        let keep = area.clone();
        Self::boot(area).unwrap_or(DfuTarget {
            area: keep,
            meta: Meta::default(),
            started: false,
            max_size: DEFAULT_MAX_IMAGE,
        })
    }
}

/// The DFU target over an area (see the module doc).
#[derive(Debug)]
pub struct DfuTarget<A: DfuArea> {
    area: A,
    meta: Meta,
    started: bool,
    max_size: u64,
}

fn io(e: io::Error) -> DfuError {
    log::warn!("DFU area I/O error: {e}");
    DfuError::Io
}

impl<A: DfuArea> DfuTarget<A> {
    /// Starts ("boots") over `area`: a scheduled application image is
    /// installed now and its outcome kept for `dfu_take_outcome`.
    ///
    /// # Errors
    /// The area cannot be read or written.
    pub fn boot(mut area: A) -> Result<Self, DfuError> {
        let mut meta = area.load_meta().map_err(io)?;
        if meta.scheduled
            && meta.image.as_deref().and_then(type_from) == Some(ImageType::Application)
        {
            let bootable = area.read_image().is_ok_and(|image| mcuboot_header_ok(&image));
            let outcome = match bootable.then(|| area.install()) {
                Some(Ok(())) => "applied:app",
                _ => "failed:app",
            };
            meta = Meta { outcome: Some(outcome.into()), ..Meta::default() };
            area.clear_image().map_err(io)?;
            area.store_meta(&meta).map_err(io)?;
        }
        Ok(DfuTarget { area, meta, started: false, max_size: DEFAULT_MAX_IMAGE })
    }

    /// Sets the largest image accepted.
    pub fn with_max_size(mut self, max: u64) -> Self {
        self.max_size = max;
        self
    }

    /// The area (to hand to the next boot).
    pub fn into_area(self) -> A {
        self.area
    }

    /// Applies a scheduled modem delta (called on a modem restart).
    ///
    /// # Errors
    /// The area cannot be written.
    pub fn apply_modem_update(&mut self) -> Result<(), DfuError> {
        if self.meta.scheduled
            && self.meta.image.as_deref().and_then(type_from) == Some(ImageType::ModemDelta)
        {
            self.meta = Meta { outcome: Some("applied:modem".into()), ..Meta::default() };
            self.area.clear_image().map_err(io)?;
            self.area.store_meta(&self.meta).map_err(io)?;
            self.started = false;
        }
        Ok(())
    }

    fn save(&mut self) -> Result<(), DfuError> {
        self.area.store_meta(&self.meta).map_err(io)
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)?.try_into().ok().map(u32::from_le_bytes)
}

/// Whether an application image's MCUboot header fits it (see the module doc).
pub fn mcuboot_header_ok(image: &[u8]) -> bool {
    let hdr_size = image.get(8..10).and_then(|b| b.try_into().ok()).map(u16::from_le_bytes);
    let (Some(hdr_size), Some(img_size)) = (hdr_size, le32(image, 12)) else { return false };
    hdr_size >= 32 && u64::from(hdr_size).saturating_add(u64::from(img_size)) <= image.len() as u64
}

/// Detects the image type from its first bytes (see the module doc).
pub fn detect(first: &[u8]) -> Option<ImageType> {
    if first.len() < 8 {
        return None;
    }
    match (le32(first, 0)?, le32(first, 4)?) {
        (MCUBOOT_MAGIC, _) => Some(ImageType::Application),
        (_, MODEM_DELTA_MAGIC) => Some(ImageType::ModemDelta),
        (SOFTBANK_MAGIC, _) => Some(ImageType::ApplicationFile),
        _ => None,
    }
}

impl<A: DfuArea> Dfu for DfuTarget<A> {
    const DETECT_LEN: usize = 8;

    fn dfu_detect(&self, first_bytes: &[u8]) -> Option<ImageType> {
        detect(first_bytes)
    }

    fn dfu_start(&mut self, image: ImageType, size: Option<u64>) -> Result<u64, DfuError> {
        if size.is_some_and(|s| s > self.max_size) {
            return Err(DfuError::TooLarge);
        }
        let same = self.meta.image.as_deref() == Some(type_name(image)) && !self.meta.finished;
        let offset = if same { self.area.image_len().map_err(io)? } else { 0 };
        if offset == 0 {
            self.area.clear_image().map_err(io)?;
            self.meta = Meta {
                image: Some(type_name(image).into()),
                outcome: self.meta.outcome.take(),
                ..Meta::default()
            };
            self.save()?;
        }
        self.started = true;
        Ok(offset)
    }

    fn dfu_write(&mut self, data: &[u8]) -> Result<(), DfuError> {
        if !self.started || self.meta.finished {
            return Err(DfuError::NotStarted);
        }
        let len = self.area.image_len().map_err(io)?;
        if len.saturating_add(data.len() as u64) > self.max_size {
            return Err(DfuError::TooLarge);
        }
        self.area.append(data).map_err(io)
    }

    fn dfu_offset(&mut self) -> u64 {
        self.area.image_len().unwrap_or(0)
    }

    fn dfu_finish(&mut self, crc32: Option<u32>) -> Result<(), DfuError> {
        if !self.started {
            return Err(DfuError::NotStarted);
        }
        let image = self.area.read_image().map_err(io)?;
        let wanted_type = self.meta.image.as_deref().and_then(type_from);
        if detect(&image) != wanted_type || crc32.is_some_and(|c| c != carrier_os::crc32(0, &image))
        {
            self.dfu_reset()?;
            return Err(DfuError::Integrity);
        }
        self.meta.finished = true;
        self.save()
    }

    fn dfu_schedule(&mut self) -> Result<(), DfuError> {
        if !self.meta.finished {
            return Err(DfuError::Incomplete);
        }
        self.meta.scheduled = true;
        self.save()
    }

    fn dfu_reset(&mut self) -> Result<(), DfuError> {
        self.area.clear_image().map_err(io)?;
        self.meta = Meta { outcome: self.meta.outcome.take(), ..Meta::default() };
        self.started = false;
        self.save()
    }

    fn dfu_take_outcome(&mut self) -> Result<Option<UpdateOutcome>, DfuError> {
        let Some(o) = self.meta.outcome.take() else { return Ok(None) };
        self.save()?;
        let (kind, ty) = o.split_once(':').ok_or(DfuError::Io)?;
        let ty = type_from(ty).ok_or(DfuError::Io)?;
        Ok(Some(if kind == "applied" {
            UpdateOutcome::Applied(ty)
        } else {
            UpdateOutcome::Failed(ty)
        }))
    }
}

/// A test application image of `len` bytes (at least 32): an MCUboot
/// header (magic, 32-byte header, image size `len - 32`) and a pattern.
pub fn test_app_image(len: usize) -> Vec<u8> {
    app_image_claiming(len, len.saturating_sub(32))
}

/// A test application image the bootloader refuses: its header claims one
/// byte more than follows it.
pub fn test_unbootable_app_image(len: usize) -> Vec<u8> {
    app_image_claiming(len, len.saturating_sub(31))
}

fn app_image_claiming(len: usize, img_size: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|i| (i * 13 % 256) as u8).collect();
    let mut header = [0u8; 16];
    header[..4].copy_from_slice(&MCUBOOT_MAGIC.to_le_bytes());
    header[8..10].copy_from_slice(&32u16.to_le_bytes());
    header[12..16].copy_from_slice(&u32::try_from(img_size).unwrap_or(u32::MAX).to_le_bytes());
    let n = header.len().min(v.len());
    v[..n].copy_from_slice(&header[..n]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    #[test]
    fn detection_uses_the_nrf91_magics() {
        assert_eq!(detect(&[0x3d, 0xb8, 0xf3, 0x96, 0, 0, 0, 0]), Some(ImageType::Application));
        assert_eq!(detect(&[0, 0, 0, 0, 0x6d, 0x65, 0x44, 0x75]), Some(ImageType::ModemDelta));
        assert_eq!(detect(&[0xdc, 0xd2, 0x4a, 0x42, 0, 0, 0, 0]), Some(ImageType::ApplicationFile));
        assert_eq!(detect(&[0x3d, 0xb8, 0xf3, 0x96, 0, 0, 0]), None, "needs 8 bytes");
    }

    #[test]
    fn dir_dfu_passes_the_conformance_suite() {
        let dir = TestDir::new("dfu");
        let t = DfuTarget::boot(DirArea::open(dir.path()).unwrap()).unwrap();
        let image = test_app_image(3000);
        carrier_os::conformance::dfu_suite(t, &image, |t| DfuTarget::boot(t.into_area()).unwrap());
    }

    #[test]
    fn mem_dfu_passes_the_conformance_suite() {
        let t = DfuTarget::boot(MemArea::default()).unwrap();
        let image = test_app_image(3000);
        carrier_os::conformance::dfu_suite(t, &image, |t| DfuTarget::boot(t.into_area()).unwrap());
    }

    #[test]
    fn a_scheduled_application_is_installed_at_reboot_and_reported_once() {
        let dir = TestDir::new("dfu-boot");
        let mut t = DfuTarget::boot(DirArea::open(dir.path()).unwrap()).unwrap();
        let image = test_app_image(5000);
        assert_eq!(t.dfu_start(ImageType::Application, None), Ok(0));
        t.dfu_write(&image).unwrap();
        t.dfu_finish(Some(carrier_os::crc32(0, &image))).unwrap();
        t.dfu_schedule().unwrap();
        assert_eq!(t.dfu_take_outcome(), Ok(None), "nothing applied before the reboot");
        let mut t = DfuTarget::boot(t.into_area()).unwrap();
        assert_eq!(t.dfu_take_outcome(), Ok(Some(UpdateOutcome::Applied(ImageType::Application))));
        assert_eq!(t.dfu_take_outcome(), Ok(None), "reported exactly once");
        let mut t = DfuTarget::boot(t.into_area()).unwrap();
        assert_eq!(t.dfu_take_outcome(), Ok(None), "and not again after another reboot");
        assert_eq!(t.into_area().active_image(), Some(image));
    }

    #[test]
    fn an_application_image_with_a_bad_header_is_not_installed_and_reported_failed() {
        let mut t = DfuTarget::boot(MemArea::default()).unwrap();
        let image = test_unbootable_app_image(2000);
        assert_eq!(t.dfu_start(ImageType::Application, None), Ok(0));
        t.dfu_write(&image).unwrap();
        t.dfu_finish(None).unwrap();
        t.dfu_schedule().unwrap();
        let area = t.into_area();
        let mut t = DfuTarget::boot(area.clone()).unwrap();
        assert_eq!(t.dfu_take_outcome(), Ok(Some(UpdateOutcome::Failed(ImageType::Application))));
        assert!(area.0.borrow().active.is_empty(), "the old application keeps running");
    }

    #[test]
    fn mcuboot_header_sizes_must_fit_the_image() {
        assert!(mcuboot_header_ok(&test_app_image(100)));
        assert!(!mcuboot_header_ok(&test_unbootable_app_image(100)));
        let mut short_header = test_app_image(100);
        short_header[8..10].copy_from_slice(&31u16.to_le_bytes());
        assert!(!mcuboot_header_ok(&short_header), "a header is at least 32 bytes");
        assert!(!mcuboot_header_ok(&test_app_image(100)[..15]), "truncated header");
    }

    #[test]
    fn a_scheduled_modem_delta_is_applied_by_a_modem_restart() {
        let mut t = DfuTarget::boot(MemArea::default()).unwrap();
        let mut delta = vec![0u8; 100];
        delta[4..8].copy_from_slice(&MODEM_DELTA_MAGIC.to_le_bytes());
        assert_eq!(t.dfu_detect(&delta), Some(ImageType::ModemDelta));
        t.dfu_start(ImageType::ModemDelta, Some(100)).unwrap();
        t.dfu_write(&delta).unwrap();
        t.dfu_finish(None).unwrap();
        t.dfu_schedule().unwrap();
        t.apply_modem_update().unwrap();
        assert_eq!(t.dfu_take_outcome(), Ok(Some(UpdateOutcome::Applied(ImageType::ModemDelta))));
    }

    #[test]
    fn an_image_larger_than_the_slot_is_refused() {
        let mut t = DfuTarget::boot(MemArea::default()).unwrap().with_max_size(100);
        assert_eq!(t.dfu_start(ImageType::Application, Some(101)), Err(DfuError::TooLarge));
        t.dfu_start(ImageType::Application, None).unwrap();
        t.dfu_write(&test_app_image(60)).unwrap();
        assert_eq!(t.dfu_write(&[0; 41]), Err(DfuError::TooLarge));
    }
}
