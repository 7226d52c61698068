//! Firmware update, pull delivery (`carrier-api.md` §7, carriers.md §12.2):
//! the server writes Package URI `/5/0/1` → FOTA_START with the URI → the
//! port downloads, the first bytes pick the image type, the fragments go to
//! the DFU target (a dropped connection resumes at the DFU's offset) →
//! Downloaded → the server executes Update `/5/0/2` → a modem delta is
//! applied through LTE_POWER_OFF → MODEM_SHUTDOWN → MODEM_INIT (and
//! `on_modem_init(UPDATED)` → FOTA_SUCCESS → LTE_LINK_UP), an application
//! image through REBOOT and the outcome on the next start. Every failure is
//! ERROR FOTA_FAIL with its errno, and the Update Result the server reads.
//!
//! Push delivery: the server's block-wise Write of `/5/0/0` gives FOTA_START
//! without URI; the protocol engine hands each block to
//! [`Runtime::firmware_block`]; `firmware_download_timeout` bounds it.
//!
//! Not here yet: SoftBank divided images, per-fragment CRC.

use carrier_os::Port;
use carrier_os::dfu::{DfuError, ImageType, UpdateOutcome};
use carrier_os::download::{DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::modem::PdnId;
use carrier_os::time::{Duration, Instant};
use core::task::Poll;
use heapless::Vec;
use lwm2m_objects::objects::{FirmwareState, UpdateResult};

use super::{Queued, Runtime};
use crate::errno::Errno;
use crate::event::{ErrorKind, Event};
use crate::session::Session;

/// Bytes kept until the image type is known.
pub(super) const HEAD_LEN: usize = 64;

/// Firmware update progress.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) enum Fota {
    /// Nothing in progress.
    #[default]
    Idle,
    /// Downloading (pulled by the port, or pushed by the server); `image`
    /// once the first bytes said which.
    Downloading { pull: bool, image: Option<ImageType>, head: Vec<u8, HEAD_LEN> },
    /// Downloaded and finished in the DFU target.
    Downloaded(ImageType),
    /// Update executed; waiting for the reboot or the modem re-initialisation.
    Applying(ImageType),
}

/// FOTA_FAIL value and Update Result of a download failure (documented on
/// `DownloadError`).
pub(super) fn download_failure(e: DownloadError) -> (Errno, UpdateResult) {
    match e {
        DownloadError::UriTooLong => (Errno::TooBig, UpdateResult::INVALID_URI),
        DownloadError::InvalidUri => (Errno::Inval, UpdateResult::INVALID_URI),
        DownloadError::UnsupportedScheme => (Errno::NotSup, UpdateResult::UNSUPPORTED_PROTOCOL),
        DownloadError::NoRoute => (Errno::NetUnreach, UpdateResult::CONNECTION_LOST),
        DownloadError::Disconnected => (Errno::NetDown, UpdateResult::CONNECTION_LOST),
        DownloadError::TimedOut => (Errno::TimedOut, UpdateResult::CONNECTION_LOST),
        DownloadError::NoCredentials => (Errno::ConnRefused, UpdateResult::CONNECTION_LOST),
        _ => (Errno::Io, UpdateResult::UPDATE_FAILED),
    }
}

/// FOTA_FAIL value and Update Result of a DFU failure (documented on `DfuError`).
pub(super) fn dfu_failure(e: DfuError) -> (Errno, UpdateResult) {
    match e {
        DfuError::UnknownImage => (Errno::NotSup, UpdateResult::UNSUPPORTED_PACKAGE),
        DfuError::TooLarge => (Errno::FBig, UpdateResult::NOT_ENOUGH_FLASH),
        DfuError::Integrity | DfuError::Incomplete => {
            (Errno::Inval, UpdateResult::INTEGRITY_FAILURE)
        }
        DfuError::NotStarted => (Errno::Acces, UpdateResult::UPDATE_FAILED),
        _ => (Errno::Io, UpdateResult::UPDATE_FAILED),
    }
}

impl<S: Session> Runtime<'_, S> {
    /// `/5/0/1` written: FOTA_START (the application closes its TLS sockets), then download.
    pub(super) fn fota_pull<P: Port>(&mut self, port: &mut P) {
        self.queue(Queued::FotaStart);
        match self.start_pull(port, 0) {
            Ok(()) => self.fota = Fota::Downloading { pull: true, image: None, head: Vec::new() },
            Err(e) => self.fota_fail(port, download_failure(e)),
        }
    }

    /// Asks the port for the Package URI `/5/0/1` from byte `offset`.
    fn start_pull<P: Port>(&mut self, port: &mut P, offset: u64) -> Result<(), DownloadError> {
        let pdn = self.pdn.unwrap_or(PdnId::DEFAULT);
        let objects = self.api.objects().ok_or(DownloadError::InvalidUri)?;
        let uri = objects.firmware().package_uri();
        port.start_download(&DownloadRequest { uri, sec_tag: None, pdn, offset })
    }

    /// Moves the download on: fragments into the DFU target.
    pub(super) fn fota_step<P: Port>(&mut self, port: &mut P) {
        let mut buf = [0u8; 512];
        for _ in 0..64 {
            if !matches!(self.fota, Fota::Downloading { pull: true, .. }) {
                return;
            }
            match port.poll_download(&mut buf) {
                Poll::Pending => return,
                Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                    let data = buf.get(..len).unwrap_or_default();
                    if let Err(e) = self.fota_bytes(port, data) {
                        return self.fota_fail(port, dfu_failure(e));
                    }
                }
                Poll::Ready(Ok(DownloadProgress::Done)) => self.fota_done(port),
                Poll::Ready(Err(DownloadError::Disconnected)) => {
                    // Resume where the DFU target stands (after a link drop).
                    let offset = port.dfu_offset();
                    if self.start_pull(port, offset).is_err() {
                        return self.fota_fail(port, download_failure(DownloadError::Disconnected));
                    }
                }
                Poll::Ready(Err(e)) => return self.fota_fail(port, download_failure(e)),
            }
        }
    }

    /// The whole image arrived: finish it in the DFU target → Downloaded.
    fn fota_done<P: Port>(&mut self, port: &mut P) {
        let image = match &self.fota {
            Fota::Downloading { image: Some(t), .. } => *t,
            _ => return self.fota_fail(port, dfu_failure(DfuError::UnknownImage)),
        };
        if let Err(e) = port.dfu_finish(None) {
            return self.fota_fail(port, dfu_failure(e));
        }
        self.fota = Fota::Downloaded(image);
        self.push_deadline = None;
        if let Some(o) = self.api.objects_mut() {
            o.update_firmware(|f| f.set_state(FirmwareState::Downloaded));
        }
    }

    /// `/5/0/0` written (push): FOTA_START without URI; the blocks follow
    /// through [`Runtime::firmware_block`], bounded by the push download
    /// timeout (`firmware_download_timeout`, SoftBank 30 min).
    pub(super) fn fota_push(&mut self, now: Instant) {
        self.queue(Queued::FotaStart);
        self.fota = Fota::Downloading { pull: false, image: None, head: Vec::new() };
        let minutes = self.plan.as_ref().and_then(|p| p.firmware_download_timeout_min);
        self.push_deadline = minutes
            .filter(|m| *m > 0)
            .and_then(|m| now.checked_add(Duration::from_secs(u64::from(m) * 60)));
    }

    /// The push download timer ran out: FOTA_FAIL −ETIMEDOUT.
    pub(super) fn fota_push_timeout<P: Port>(&mut self, port: &mut P, now: Instant) {
        if self.push_deadline.is_some_and(|t| now >= t) {
            self.push_deadline = None;
            self.fota_fail(port, (Errno::TimedOut, UpdateResult::CONNECTION_LOST));
        }
    }

    /// One block of a pushed package (`/5/0/0`, RFC 7959 Block1), handed over
    /// by the protocol engine in order; `last` ends the package.
    ///
    /// # Errors
    /// The FOTA_FAIL value (also emitted as the ERROR event) when the DFU
    /// target refuses: the engine answers the block with 4.00 (unsupported
    /// image, since 3.6.0) or 4.13 (too large).
    pub fn firmware_block<P: Port>(
        &mut self,
        port: &mut P,
        data: &[u8],
        last: bool,
    ) -> Result<(), Errno> {
        if !matches!(self.fota, Fota::Downloading { pull: false, .. }) {
            return Err(Errno::BadR);
        }
        if let Err(e) = self.fota_bytes(port, data) {
            let failure = dfu_failure(e);
            self.fota_fail(port, failure);
            return Err(failure.0);
        }
        if last {
            self.fota_done(port);
        }
        Ok(())
    }

    fn fota_bytes<P: Port>(&mut self, port: &mut P, data: &[u8]) -> Result<(), DfuError> {
        let Fota::Downloading { image, head, .. } = &mut self.fota else { return Ok(()) };
        if image.is_some() {
            return port.dfu_write(data);
        }
        let room = HEAD_LEN.saturating_sub(head.len());
        let (first, rest) = data.split_at_checked(room.min(data.len())).unwrap_or((data, &[]));
        head.extend_from_slice(first).map_err(|_| DfuError::Io)?;
        if head.len() < P::DETECT_LEN.min(HEAD_LEN) {
            return Ok(());
        }
        let t = port.dfu_detect(head).ok_or(DfuError::UnknownImage)?;
        let size = port.download_size();
        if port.dfu_start(t, size)? > 0 {
            // Bytes of an older attempt: this download starts at 0, so start the image afresh.
            port.dfu_reset()?;
            port.dfu_start(t, size)?;
        }
        port.dfu_write(head)?;
        *image = Some(t);
        if !rest.is_empty() {
            port.dfu_write(rest)?;
        }
        Ok(())
    }

    /// `/5/0/2` executed: apply.
    pub(super) fn fota_update<P: Port>(&mut self, port: &mut P) {
        let Fota::Downloaded(image) = self.fota else { return };
        if let Err(e) = port.dfu_schedule() {
            return self.fota_fail(port, dfu_failure(e));
        }
        self.fota = Fota::Applying(image);
        match image {
            ImageType::ModemDelta => {
                // 3.3.0+: LTE_POWER_OFF → MODEM_SHUTDOWN → MODEM_INIT; the
                // integration reports the result through `on_modem_init`.
                self.emit(Event::LtePowerOff);
                self.emit(Event::ModemShutdown);
                self.emit(Event::ModemInit);
            }
            _ => {
                // Application image: reboot into the bootloader (postponable).
                self.emit(Event::LtePowerOff);
                self.emit(Event::Reboot);
            }
        }
    }

    /// The result of an applied update: Update Result and FOTA_SUCCESS or
    /// FOTA_FAIL −EBADF (the image could not be applied, app-integration.txt).
    pub(super) fn fota_outcome(&mut self, applied: bool) {
        self.fota = Fota::Idle;
        let result = if applied { UpdateResult::SUCCESS } else { UpdateResult::UPDATE_FAILED };
        if let Some(o) = self.api.objects_mut() {
            o.update_firmware(|f| f.set_result(result));
        }
        if applied {
            self.emit(Event::FotaSuccess);
        } else {
            self.emit(Event::Error { kind: ErrorKind::FotaFail, value: Errno::BadF });
        }
    }

    /// At start: an update applied before the reboot.
    pub(super) fn fota_boot<P: Port>(&mut self, port: &mut P) {
        match port.dfu_take_outcome() {
            Ok(Some(UpdateOutcome::Applied(_))) => self.fota_outcome(true),
            Ok(Some(UpdateOutcome::Failed(_))) => self.fota_outcome(false),
            Ok(None) | Err(_) => {}
        }
    }

    fn fota_fail<P: Port>(&mut self, port: &mut P, (value, result): (Errno, UpdateResult)) {
        port.abort_download();
        self.push_deadline = None;
        let _ = port.dfu_reset();
        self.fota = Fota::Idle;
        if let Some(o) = self.api.objects_mut() {
            o.update_firmware(|f| f.set_result(result));
        }
        self.emit(Event::Error { kind: ErrorKind::FotaFail, value });
    }
}
