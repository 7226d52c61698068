//! The DFU target: where firmware images are written and how they are
//! applied.
//!
//! Owns the [`Dfu`] trait. Mirrors the original's DFU calls (`carrier-api.md`
//! §5 "DFU" and §7): image type detection from the first bytes, start with a
//! resume offset, fragment writes, done, schedule, reset, and validation of
//! an application image on the first boot after an update.

use thiserror::Error;

/// The kind of image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ImageType {
    /// An application image (MCUboot on a device).
    Application,
    /// A modem firmware delta patch.
    ModemDelta,
    /// An application image split in files with a header (SoftBank divided
    /// FOTA).
    ApplicationFile,
}

/// The result of an update, reported on the first start after it was
/// applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UpdateOutcome {
    /// The image is now running (and, for an application, confirmed).
    Applied(ImageType),
    /// Applying the image failed; the old firmware runs.
    Failed(ImageType),
}

/// What the DFU target could not do. Maps to FOTA_FAIL values:
/// `UnknownImage` → −ENOTSUP, `TooLarge` → −EFBIG, `Integrity` → −EINVAL,
/// `NotStarted` → −EACCES, `Incomplete` → −EINVAL, `Io` → −EIO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DfuError {
    /// The first bytes match no supported image type.
    #[error("unknown image type")]
    UnknownImage,
    /// The image does not fit the target.
    #[error("image too large")]
    TooLarge,
    /// A CRC or image integrity check failed.
    #[error("integrity check failed")]
    Integrity,
    /// No image is being written.
    #[error("DFU not started")]
    NotStarted,
    /// Scheduling an image that was not finished successfully.
    #[error("image incomplete")]
    Incomplete,
    /// The target is busy (an update is scheduled).
    #[error("DFU busy")]
    Busy,
    /// Storage failure.
    #[error("DFU I/O error")]
    Io,
}

/// The DFU target.
///
/// All calls are synchronous and bounded (a flash write of one fragment);
/// erasing a large area MAY take longer in [`dfu_start`](Dfu::dfu_start).
pub trait Dfu {
    /// How many leading bytes [`dfu_detect`](Dfu::dfu_detect) needs.
    const DETECT_LEN: usize;

    /// Classifies an image from its first bytes.
    ///
    /// Contract: MUST return `None` for an unknown image or fewer than
    /// [`DETECT_LEN`](Dfu::DETECT_LEN) bytes; MUST NOT change any state.
    fn dfu_detect(&self, first_bytes: &[u8]) -> Option<ImageType>;

    /// Prepares to receive an image of type `image`, of at most `size` bytes
    /// if known, and returns the resume offset.
    ///
    /// Contract: MUST return `Ok(n)` with `n > 0` if `n` bytes of an earlier,
    /// interrupted image of the same type are kept (survives a reboot), the
    /// caller continuing at byte `n`; `Ok(0)` for a fresh start. MUST fail
    /// with [`DfuError::TooLarge`] if `size` exceeds the target.
    fn dfu_start(&mut self, image: ImageType, size: Option<u64>) -> Result<u64, DfuError>;

    /// Appends `data` to the image.
    ///
    /// Contract: MUST fail with [`DfuError::NotStarted`] without a prior
    /// `dfu_start`, and [`DfuError::TooLarge`] past the target's size. When
    /// it returns `Ok`, the bytes MUST count in a later resume offset.
    fn dfu_write(&mut self, data: &[u8]) -> Result<(), DfuError>;

    /// Bytes of the current image stored so far (the original's "pause").
    fn dfu_offset(&mut self) -> u64;

    /// Ends the image. `crc32` (IEEE) of the whole image, if given, MUST be
    /// checked ([`DfuError::Integrity`] on mismatch, image discarded).
    fn dfu_finish(&mut self, crc32: Option<u32>) -> Result<(), DfuError>;

    /// Marks the finished image to be applied: an application image at the
    /// next reboot, a modem delta at the next
    /// [`Modem::restart`](crate::modem::Modem::restart).
    ///
    /// Contract: MUST fail with [`DfuError::Incomplete`] unless
    /// [`dfu_finish`](Dfu::dfu_finish) succeeded for the current image.
    fn dfu_schedule(&mut self) -> Result<(), DfuError>;

    /// Discards the current image (written or partial); idempotent.
    fn dfu_reset(&mut self) -> Result<(), DfuError>;

    /// On start-up: the outcome of an update applied since the last call.
    ///
    /// Contract: MUST return `Some` exactly once per applied (or failed)
    /// update, and confirm a freshly booted application image in the same
    /// call (the original's `application_update_validate`). MUST return
    /// `None` on every later call.
    fn dfu_take_outcome(&mut self) -> Result<Option<UpdateOutcome>, DfuError>;
}
