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
//! without URI at the first block; the protocol engine hands each block to
//! [`Runtime::firmware_block`] and answers the block with the DFU target's
//! verdict ([`Session::firmware_written`]: acknowledged only once written,
//! 4.13 / 5.00 when refused); `firmware_download_timeout` bounds it.
//!
//! ## Power cuts
//! The FOTA progress is a small record under [`FOTA_KEY`], written at each
//! state change (not per fragment: the downloaded bytes are counted by the
//! DFU target, which keeps them across a reboot). On the next start:
//! - a pull being downloaded resumes once registered: FOTA_START again with
//!   the record's URI (the application closes its TLS sockets; `/5/0/1`
//!   itself is not persisted and reads empty), then the port downloads from
//!   the offset `dfu_start` returns (Block2 num / HTTP Range);
//! - a push being downloaded cannot resume (the server restarts it):
//!   FOTA_FAIL −ENETDOWN, Update Result 4;
//! - a downloaded image stays Downloaded (the server may execute Update);
//! - an applied update reports its outcome: the application image is
//!   checked by the validation hook ([`Runtime::set_image_validator`], by
//!   default accepting what the port's DFU confirmed) → FOTA_SUCCESS and
//!   Update Result 1, or FOTA_FAIL −EBADF (the image could not be applied,
//!   app-integration.txt) and Update Result 8. A modem delta's outcome
//!   comes through `on_modem_init`.
//!
//! SoftBank divided FOTA: an application image in parts, each with a
//! 42-byte header (format chosen here, see [`Part`]), assembled in the DFU
//! target as one application image.
//!
//! Not here yet: per-fragment CRC (the port's `dfu_finish` takes a
//! whole-image CRC, none is sent), `/5/0/1` kept across a reboot.

use carrier_os::Port;
use carrier_os::dfu::{DfuError, ImageType, UpdateOutcome};
use carrier_os::download::{DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::modem::{PdnId, SecTag};
use carrier_os::storage::Key;
use carrier_os::time::{Duration, Instant};
use core::task::Poll;
use heapless::{String, Vec};
use lwm2m_objects::objects::{FirmwareState, UpdateResult};

use super::{Phase, Queued, Runtime};
use crate::errno::Errno;
use crate::event::{ErrorKind, Event};
use crate::session::Session;

/// Storage key of the FOTA record (see the module doc).
pub const FOTA_KEY: Key = Key(0xCA11);
/// Longest Package URI kept for a resume.
pub const PACKAGE_URI_LEN: usize = 255;
const FOTA_RECORD_VERSION: u8 = 1;
const FOTA_RECORD_LEN: usize = 5 + PACKAGE_URI_LEN + PART_RECORD_LEN;

/// FOTA_FAIL value and Update Result.
type Failure = (Errno, UpdateResult);
const INTEGRITY: Failure = (Errno::Inval, UpdateResult::INTEGRITY_FAILURE);

/// Length of a SoftBank divided part's header.
pub const PART_HEADER_LEN: usize = 42;
const PART_MAGIC: u32 = 0x424a_d2dc;
const PART_RECORD_LEN: usize = 6 + 32;

/// The header of one part of a SoftBank divided application image
/// (carriers.md §SoftBank "divided FOTA", `carrier-api.md` §7). The format
/// is unconfirmed; this is the one chosen here, little-endian, 42 bytes:
///
/// | bytes | field |
/// |---|---|
/// | 0..4 | magic 0x424ad2dc (what the DFU detects as `ApplicationFile`) |
/// | 4 | part number, from 1 |
/// | 5 | 1 on the last part, else 0 |
/// | 6..10 | offset of this part's payload in the application image |
/// | 10..42 | version string, the same in every part |
///
/// The payloads, in order, make one MCUboot application image (part 1
/// starts with its header); each part is one download (push or pull),
/// FOTA_START each; a part other than the last ends with State back to
/// Idle, the last with Downloaded. A whole image (not a part) ends a
/// divided sequence. A cut part resumes (link drop or power cut) at its
/// own byte offset. Parts are accepted whatever the operator (the original
/// enables them with a build option meant for SoftBank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Part number, from 1.
    pub number: u8,
    /// The last part.
    pub last: bool,
    /// Where the payload goes in the image.
    pub offset: u32,
    /// Version string (bytes).
    pub version: [u8; 32],
}

impl Part {
    /// Parses a part header from the first [`PART_HEADER_LEN`] bytes.
    pub fn parse(b: &[u8]) -> Option<Part> {
        let (h, _) = b.split_at_checked(PART_HEADER_LEN)?;
        let (magic, h) = h.split_at_checked(4)?;
        if u32::from_le_bytes(magic.try_into().ok()?) != PART_MAGIC {
            return None;
        }
        let (&[number, last], h) = h.split_first_chunk::<2>()?;
        let (offset, version) = h.split_first_chunk::<4>()?;
        Some(Part {
            number,
            last: match last {
                0 => false,
                1 => true,
                _ => return None,
            },
            offset: u32::from_le_bytes(*offset),
            version: version.try_into().ok()?,
        })
    }

    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; PART_HEADER_LEN] {
        let mut out = [0u8; PART_HEADER_LEN];
        let fields = PART_MAGIC
            .to_le_bytes()
            .into_iter()
            .chain([self.number, u8::from(self.last)])
            .chain(self.offset.to_le_bytes())
            .chain(self.version);
        for (o, b) in out.iter_mut().zip(fields) {
            *o = b;
        }
        out
    }
}

/// Byte of a part's file where a download resumes, the DFU target holding
/// `kept` bytes of the image.
fn part_offset(p: &Part, kept: u64) -> u64 {
    kept.saturating_sub(u64::from(p.offset)).saturating_add(PART_HEADER_LEN as u64)
}

/// Decides, on the first start of a new application image, whether it
/// works (the original's `lwm2m_os_dfu_application_update_validate`);
/// `false` reports FOTA_FAIL −EBADF.
pub type ImageValidator = fn(ImageType) -> bool;

/// The default [`ImageValidator`]: the port's DFU confirmed the image when
/// it reported it applied (`Dfu::dfu_take_outcome`), so accept it.
pub fn accept_image(_: ImageType) -> bool {
    true
}

/// FOTA bookkeeping next to the state: the URI to resume, the validation
/// hook, and whether the record must be written.
#[derive(Debug, Clone)]
pub(super) struct Control {
    uri: String<PACKAGE_URI_LEN>,
    validate: ImageValidator,
    dirty: bool,
    /// A modem update restarted the modem: its sockets are gone, so the
    /// session is reopened (and an Update sent) once it is back.
    reconnect: bool,
    /// The SoftBank divided part being downloaded, or the last one done.
    divided: Option<Part>,
    /// Security tag for `https://` and `coaps://` package URIs.
    sec_tag: Option<SecTag>,
    /// The FOTA last started is a pull (FOTA_START carries its URI).
    pulling: bool,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            uri: String::new(),
            validate: accept_image,
            dirty: false,
            reconnect: false,
            divided: None,
            sec_tag: None,
            pulling: false,
        }
    }
}

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
    /// A pull cut by a reboot, resumed once registered (`image` if the DFU
    /// target already holds the start of one).
    Resume(Option<ImageType>),
}

fn image_code(t: Option<ImageType>) -> u8 {
    match t {
        None => 0,
        Some(ImageType::Application) => 1,
        Some(ImageType::ModemDelta) => 2,
        Some(ImageType::ApplicationFile) => 3,
    }
}

fn image_from(code: u8) -> Option<Option<ImageType>> {
    Some(match code {
        0 => None,
        1 => Some(ImageType::Application),
        2 => Some(ImageType::ModemDelta),
        3 => Some(ImageType::ApplicationFile),
        _ => return None,
    })
}

/// The stored FOTA record: version, state (0 idle, 1 downloading, 2
/// downloaded, 3 applying), pull flag, image type, URI (len + bytes), and
/// the divided part (its header without the magic), if any.
fn encode_record(
    fota: &Fota,
    uri: &str,
    part: Option<&Part>,
    out: &mut Vec<u8, FOTA_RECORD_LEN>,
) -> bool {
    let (state, pull, image) = match fota {
        Fota::Idle => (0, false, None),
        Fota::Downloading { pull, image, .. } => (1, *pull, *image),
        Fota::Resume(image) => (1, true, *image),
        Fota::Downloaded(t) => (2, false, Some(*t)),
        Fota::Applying(t) => (3, false, Some(*t)),
    };
    let uri = if pull { uri } else { "" };
    let Ok(len) = u8::try_from(uri.len()) else { return false };
    let ok = out
        .extend_from_slice(&[FOTA_RECORD_VERSION, state, u8::from(pull), image_code(image), len])
        .is_ok()
        && out.extend_from_slice(uri.as_bytes()).is_ok();
    match part {
        Some(p) => ok && out.extend_from_slice(p.to_bytes().get(4..).unwrap_or_default()).is_ok(),
        None => ok,
    }
}

/// The record back: the state to resume in (a download as [`Fota::Resume`]
/// for a pull, `Downloading { pull: false }` for a push) and the URI.
fn decode_record(bytes: &[u8]) -> Option<(Fota, String<PACKAGE_URI_LEN>, Option<Part>)> {
    let (head, rest) = bytes.split_at_checked(5)?;
    let [version, state, pull, image, len] = <[u8; 5]>::try_from(head).ok()?;
    let (uri, tail) = rest.split_at_checked(usize::from(len))?;
    if version != FOTA_RECORD_VERSION {
        return None;
    }
    let part = match tail.len() {
        0 => None,
        PART_RECORD_LEN => {
            let mut header = [0u8; PART_HEADER_LEN];
            header.get_mut(..4)?.copy_from_slice(&PART_MAGIC.to_le_bytes());
            header.get_mut(4..)?.copy_from_slice(tail);
            Some(Part::parse(&header)?)
        }
        _ => return None,
    };
    let image = image_from(image)?;
    let uri = String::try_from(core::str::from_utf8(uri).ok()?).ok()?;
    let fota = match (state, pull, image) {
        (0, _, _) => Fota::Idle,
        (1, 1, image) => Fota::Resume(image),
        (1, 0, image) => Fota::Downloading { pull: false, image, head: Vec::new() },
        (2, _, Some(t)) => Fota::Downloaded(t),
        (3, _, Some(t)) => Fota::Applying(t),
        _ => return None,
    };
    Some((fota, uri, part))
}

/// CoAP code (`class << 5 | detail`) answering a pushed block the DFU
/// target refused: 4.13 Request Entity Too Large for an image too large,
/// 5.00 Internal Server Error otherwise.
pub(super) fn refusal_code(e: Errno) -> u8 {
    match e {
        Errno::FBig => (4 << 5) | 13,
        _ => 5 << 5,
    }
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
        let uri = self.api.objects().map(|o| o.firmware().package_uri()).unwrap_or_default();
        let Ok(uri) = String::try_from(uri) else {
            return self.fota_fail(port, download_failure(DownloadError::UriTooLong));
        };
        self.fota_ctl.uri = uri;
        self.fota_ctl.pulling = true;
        match self.start_pull(port, 0) {
            Ok(()) => {
                let state = Fota::Downloading { pull: true, image: None, head: Vec::new() };
                self.fota_set(port, state);
            }
            Err(e) => self.fota_fail(port, download_failure(e)),
        }
    }

    /// Asks the port for the Package URI from byte `offset`.
    fn start_pull<P: Port>(&mut self, port: &mut P, offset: u64) -> Result<(), DownloadError> {
        let pdn = self.pdn.unwrap_or(PdnId::DEFAULT);
        let (uri, sec_tag) = (self.fota_ctl.uri.as_str(), self.fota_ctl.sec_tag);
        port.start_download(&DownloadRequest { uri, sec_tag, pdn, offset })
    }

    /// A pull cut by a reboot, once registered: FOTA_START, then the
    /// download from the offset the DFU target kept.
    fn fota_resume<P: Port>(&mut self, port: &mut P) {
        let Fota::Resume(image) = self.fota else { return };
        if self.phase != Phase::Registered {
            return;
        }
        self.queue(Queued::FotaStart);
        self.fota_ctl.pulling = true;
        let kept = match image {
            Some(t) => port.dfu_start(t, None).map(|n| (n > 0).then_some((t, n))),
            None => Ok(None),
        };
        let (image, offset) = match kept {
            Ok(Some((t, n))) => (Some(t), self.fota_ctl.divided.map_or(n, |p| part_offset(&p, n))),
            Ok(None) => (None, 0),
            Err(e) => return self.fota_fail(port, dfu_failure(e)),
        };
        if let Some(o) = self.api.objects_mut() {
            o.update_firmware(|f| f.set_state(FirmwareState::Downloading));
        }
        match self.start_pull(port, offset) {
            Ok(()) => {
                self.fota_set(port, Fota::Downloading { pull: true, image, head: Vec::new() })
            }
            Err(e) => self.fota_fail(port, download_failure(e)),
        }
    }

    /// After a modem update restarted the modem (its sockets are gone): once
    /// registered with the link up, a new socket to the DM server and an
    /// Update on it, so the server knows where the device is now; a socket
    /// that fails to open sends the runtime to register again.
    fn fota_reconnect<P: Port>(&mut self, port: &mut P, now: Instant) {
        use super::Conn;
        if !self.fota_ctl.reconnect
            || matches!(self.fota, Fota::Applying(_))
            || self.phase != Phase::Registered
            || !port.link_state().is_up()
        {
            return;
        }
        match self.conn {
            Conn::Opening(sock) => match port.poll_open(sock) {
                Poll::Pending => {}
                Poll::Ready(Ok(())) => {
                    self.fota_ctl.reconnect = false;
                    self.conn = Conn::Open(sock);
                    self.last_activity = now;
                    if let Some(o) = self.api.objects_mut() {
                        self.session.start_update(now, o);
                    }
                }
                Poll::Ready(Err(_)) => {
                    self.fota_ctl.reconnect = false;
                    port.close(sock);
                    self.conn = Conn::Closed;
                    self.phase = Phase::Registering;
                }
            },
            Conn::Open(_) | Conn::Closed => {
                if let Conn::Open(sock) = self.conn {
                    port.close(sock);
                }
                self.conn = Conn::Closed;
                match self.endpoint(false).map(|e| port.open(&e)) {
                    Some(Ok(sock)) => self.conn = Conn::Opening(sock),
                    _ => {
                        self.fota_ctl.reconnect = false;
                        self.phase = Phase::Registering;
                    }
                }
            }
        }
    }

    /// Whether the FOTA needs the runtime polled every `LINK_POLL`
    /// (a pull downloading or waiting to resume, a reconnection pending).
    pub(super) fn fota_busy(&self) -> bool {
        self.fota_ctl.reconnect || matches!(self.fota, Fota::Downloading { pull: true, .. })
    }

    /// The URI FOTA_START carries: the package URI of a pull (kept across a
    /// reboot), none for a push.
    pub(super) fn fota_start_uri(&self) -> Option<&str> {
        let uri = self.fota_ctl.uri.as_str();
        (self.fota_ctl.pulling && !uri.is_empty()).then_some(uri)
    }

    /// Moves to `state` and stores the record.
    fn fota_set<P: Port>(&mut self, port: &mut P, state: Fota) {
        self.fota = state;
        self.fota_ctl.dirty = false;
        let mut out = Vec::new();
        if encode_record(&self.fota, &self.fota_ctl.uri, self.fota_ctl.divided.as_ref(), &mut out) {
            let _ = port.set(FOTA_KEY, &out);
        }
    }

    /// The security tag whose credentials (CA certificates for `https://`,
    /// a PSK for `coaps://`) secure a pulled package's download. Without
    /// one a secure URI fails: FOTA_FAIL −ECONNREFUSED, Update Result 4.
    pub fn set_download_sec_tag(&mut self, tag: Option<SecTag>) {
        self.fota_ctl.sec_tag = tag;
    }

    /// Replaces the validation hook run on the first start of a new
    /// application image (default [`accept_image`]).
    pub fn set_image_validator(&mut self, validate: ImageValidator) {
        self.fota_ctl.validate = validate;
    }

    /// Moves the download on: fragments into the DFU target.
    pub(super) fn fota_step<P: Port>(&mut self, port: &mut P, now: Instant) {
        if self.fota_ctl.dirty {
            self.fota_set(port, self.fota.clone());
        }
        self.fota_resume(port);
        self.fota_reconnect(port, now);
        let mut buf = [0u8; 512];
        for _ in 0..64 {
            if self.fota_ctl.dirty {
                // The image type became known: the record says which to resume.
                self.fota_set(port, self.fota.clone());
            }
            if !matches!(self.fota, Fota::Downloading { pull: true, .. }) {
                return;
            }
            match port.poll_download(&mut buf) {
                Poll::Pending => return,
                Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                    let data = buf.get(..len).unwrap_or_default();
                    if let Err(e) = self.fota_bytes(port, data) {
                        return self.fota_fail(port, e);
                    }
                }
                Poll::Ready(Ok(DownloadProgress::Done)) => self.fota_done(port),
                Poll::Ready(Err(DownloadError::Disconnected)) => {
                    // Resume where the DFU target stands (after a link drop).
                    let offset = self.resume_offset(port);
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
        if let Some(part) = self.fota_ctl.divided {
            if !part.last {
                // A divided part, not the last: the image waits for the next
                // part (State back to Idle, the server sends it).
                self.push_deadline = None;
                self.fota_set(port, Fota::Idle);
                if let Some(o) = self.api.objects_mut() {
                    o.update_firmware(|f| f.set_state(FirmwareState::Idle));
                }
                return;
            }
            self.fota_ctl.divided = None;
        }
        if let Err(e) = port.dfu_finish(None) {
            return self.fota_fail(port, dfu_failure(e));
        }
        self.fota_set(port, Fota::Downloaded(image));
        self.push_deadline = None;
        if let Some(o) = self.api.objects_mut() {
            o.update_firmware(|f| f.set_state(FirmwareState::Downloaded));
        }
    }

    /// `/5/0/0` written (push): FOTA_START without URI; the blocks follow
    /// through [`Runtime::firmware_block`], bounded by the push download
    /// timeout (`firmware_download_timeout`, SoftBank 30 min).
    pub(super) fn fota_push<P: Port>(&mut self, port: &mut P, now: Instant) {
        self.queue(Queued::FotaStart);
        self.fota_ctl.pulling = false;
        self.fota_set(port, Fota::Downloading { pull: false, image: None, head: Vec::new() });
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
    /// target refuses; `-EBADR` when no push is being downloaded. The engine
    /// answers the block with 4.13 (too large) or 5.00.
    pub fn firmware_block<P: Port>(
        &mut self,
        port: &mut P,
        data: &[u8],
        last: bool,
    ) -> Result<(), Errno> {
        if !matches!(self.fota, Fota::Downloading { pull: false, .. }) {
            return Err(Errno::BadR);
        }
        if let Err(failure) = self.fota_bytes(port, data) {
            self.fota_fail(port, failure);
            return Err(failure.0);
        }
        if last {
            self.fota_done(port);
        }
        Ok(())
    }

    /// Bytes of the package into the DFU target; the first ones pick the
    /// image type (and, for a SoftBank divided part, carry its header).
    fn fota_bytes<P: Port>(&mut self, port: &mut P, data: &[u8]) -> Result<(), Failure> {
        let Fota::Downloading { image, head, .. } = &mut self.fota else { return Ok(()) };
        if image.is_some() {
            return port.dfu_write(data).map_err(dfu_failure);
        }
        let room = HEAD_LEN.saturating_sub(head.len());
        let (first, rest) = data.split_at_checked(room.min(data.len())).unwrap_or((data, &[]));
        head.extend_from_slice(first).map_err(|_| dfu_failure(DfuError::Io))?;
        if head.len() < P::DETECT_LEN.min(HEAD_LEN) {
            return Ok(());
        }
        let detected = port.dfu_detect(head).ok_or(dfu_failure(DfuError::UnknownImage))?;
        let full = head.len() == HEAD_LEN;
        if detected == ImageType::ApplicationFile
            && head.len() < PART_HEADER_LEN.saturating_add(P::DETECT_LEN)
            && !full
        {
            // The part header and the start of its payload first.
            return Ok(());
        }
        let head = head.clone();
        let (t, first) = if detected == ImageType::ApplicationFile {
            let h = Part::parse(&head).ok_or(INTEGRITY)?;
            let payload = head.get(PART_HEADER_LEN..).unwrap_or_default();
            self.fota_part(port, &h, payload)?;
            (ImageType::Application, payload)
        } else {
            // A whole image ends a divided sequence.
            self.fota_ctl.divided = None;
            let size = port.download_size();
            if port.dfu_start(detected, size).map_err(dfu_failure)? > 0 {
                // Bytes of an older attempt: this download starts at 0, so start the image afresh.
                port.dfu_reset().map_err(dfu_failure)?;
                port.dfu_start(detected, size).map_err(dfu_failure)?;
            }
            (detected, head.as_slice())
        };
        port.dfu_write(first).map_err(dfu_failure)?;
        if let Fota::Downloading { image, .. } = &mut self.fota {
            *image = Some(t);
        }
        self.fota_ctl.dirty = true;
        if !rest.is_empty() {
            port.dfu_write(rest).map_err(dfu_failure)?;
        }
        Ok(())
    }

    /// A SoftBank divided part's header (see [`Part`]): part 1 starts a new
    /// application image (its payload MUST begin with one); part `n + 1`
    /// continues part `n` at the offset the DFU target holds, with the same
    /// version. A wrong version is −EBADF, a part out of order −EINVAL.
    fn fota_part<P: Port>(
        &mut self,
        port: &mut P,
        h: &Part,
        payload: &[u8],
    ) -> Result<(), Failure> {
        let app = ImageType::Application;
        if h.number == 1 {
            if h.offset != 0 {
                return Err(INTEGRITY);
            }
            if port.dfu_detect(payload) != Some(app) {
                return Err(dfu_failure(DfuError::UnknownImage));
            }
            if port.dfu_start(app, None).map_err(dfu_failure)? > 0 {
                port.dfu_reset().map_err(dfu_failure)?;
                port.dfu_start(app, None).map_err(dfu_failure)?;
            }
        } else {
            let prev = self.fota_ctl.divided.ok_or(INTEGRITY)?;
            if prev.version != h.version {
                return Err((Errno::BadF, UpdateResult::UNSUPPORTED_PACKAGE));
            }
            if Some(h.number) != prev.number.checked_add(1) || prev.last {
                return Err(INTEGRITY);
            }
            if port.dfu_start(app, None).map_err(dfu_failure)? != u64::from(h.offset) {
                return Err(INTEGRITY);
            }
        }
        self.fota_ctl.divided = Some(*h);
        Ok(())
    }

    /// Where a cut download resumes in the package: the DFU target's
    /// offset, mapped into the part for a divided part; 0 before the image
    /// type is known (the bytes kept then are an older attempt's).
    fn resume_offset<P: Port>(&mut self, port: &mut P) -> u64 {
        let kept = port.dfu_offset();
        match (&self.fota, self.fota_ctl.divided) {
            (Fota::Downloading { image: None, .. }, _) => 0,
            (_, Some(p)) => part_offset(&p, kept),
            _ => kept,
        }
    }

    /// The pushed bytes the engine holds: into the DFU target, then the
    /// verdict back to the engine, which answers the block with it.
    pub(super) fn fota_pushed<P: Port>(&mut self, port: &mut P, now: Instant) {
        let mut block = [0u8; super::PUSH_BLOCK];
        let mut verdict: Option<Result<(), u8>> = None;
        // Bounded: the engine holds one block until it has the verdict.
        while let Some((n, last)) = self.session.poll_firmware(&mut block) {
            let data = block.get(..n).unwrap_or_default();
            // A refusal is FOTA_FAIL (and Update Result) inside.
            let r = self.firmware_block(port, data, last).map_err(refusal_code);
            verdict = Some(verdict.unwrap_or(Ok(())).and(r));
            if n == 0 {
                break;
            }
        }
        if let Some(v) = verdict {
            self.session.firmware_written(now, v);
        }
    }

    /// `/5/0/2` executed: apply.
    pub(super) fn fota_update<P: Port>(&mut self, port: &mut P, now: Instant) {
        let Fota::Downloaded(image) = self.fota else { return };
        if let Err(e) = port.dfu_schedule() {
            return self.fota_fail(port, dfu_failure(e));
        }
        self.fota_set(port, Fota::Applying(image));
        if let Some(o) = self.api.objects_mut() {
            o.update_firmware(|f| f.set_state(FirmwareState::Updating));
        }
        match image {
            ImageType::ModemDelta => {
                // 3.3.0+: LTE_POWER_OFF → MODEM_SHUTDOWN → MODEM_INIT; the
                // integration reports the result through `on_modem_init`.
                self.fota_ctl.reconnect = true;
                self.emit(Event::LtePowerOff);
                self.emit(Event::ModemShutdown);
                self.emit(Event::ModemInit);
            }
            _ => {
                // Application image: reboot into the bootloader (postponable),
                // once the answer to the Execute has had its chance.
                self.schedule_reboot(now);
            }
        }
    }

    /// The result of an applied update: Update Result and FOTA_SUCCESS or
    /// FOTA_FAIL −EBADF (the image could not be applied, app-integration.txt).
    pub(super) fn fota_outcome(&mut self, applied: bool) {
        self.fota = Fota::Idle;
        self.fota_ctl.dirty = true;
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

    /// At start: what the record says was going on before the reboot (see
    /// the module doc), with the outcome of an update applied since.
    pub(super) fn fota_boot<P: Port>(&mut self, port: &mut P) {
        let mut buf = [0u8; FOTA_RECORD_LEN];
        let record = match port.get(FOTA_KEY, &mut buf) {
            Ok(Some(n)) => buf.get(..n).and_then(decode_record),
            _ => None,
        };
        // Taken in any case, so that an outcome never outlives its start.
        let outcome = port.dfu_take_outcome().ok().flatten();
        let Some((fota, uri, part)) = record else { return };
        self.fota_ctl.uri = uri;
        self.fota_ctl.divided = part;
        match (fota, outcome) {
            (Fota::Applying(t), Some(UpdateOutcome::Applied(u))) if t == u => {
                let works = t == ImageType::ModemDelta || (self.fota_ctl.validate)(t);
                self.fota_outcome(works);
            }
            (Fota::Applying(_), Some(UpdateOutcome::Failed(_))) => self.fota_outcome(false),
            (Fota::Applying(ImageType::ModemDelta), _) => {
                // The modem applies its delta when initialised: `on_modem_init` tells.
                self.fota = Fota::Applying(ImageType::ModemDelta);
                if let Some(o) = self.api.objects_mut() {
                    o.update_firmware(|f| f.set_state(FirmwareState::Updating));
                }
            }
            // An application image that did not come up.
            (Fota::Applying(_), _) => self.fota_outcome(false),
            (Fota::Downloaded(t), _) => {
                self.fota = Fota::Downloaded(t);
                if let Some(o) = self.api.objects_mut() {
                    o.update_firmware(|f| f.set_state(FirmwareState::Downloaded));
                }
            }
            (Fota::Resume(image), _) => self.fota = Fota::Resume(image),
            (Fota::Downloading { .. }, _) => {
                // A push cannot resume: the server sends it again.
                self.fota_fail(port, (Errno::NetDown, UpdateResult::CONNECTION_LOST));
            }
            (Fota::Idle, _) => {}
        }
        if self.fota_ctl.dirty {
            self.fota_set(port, self.fota.clone());
        }
    }

    fn fota_fail<P: Port>(&mut self, port: &mut P, (value, result): Failure) {
        port.abort_download();
        self.fota_ctl.divided = None;
        self.push_deadline = None;
        let _ = port.dfu_reset();
        self.fota_set(port, Fota::Idle);
        if let Some(o) = self.api.objects_mut() {
            o.update_firmware(|f| f.set_result(result));
        }
        self.emit(Event::Error { kind: ErrorKind::FotaFail, value });
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;

    fn round_trip(fota: &Fota, uri: &str) -> Option<(Fota, String<PACKAGE_URI_LEN>)> {
        let mut out = Vec::new();
        assert!(encode_record(fota, uri, None, &mut out));
        decode_record(&out).map(|(f, u, _)| (f, u))
    }

    #[test]
    fn the_record_brings_back_what_a_new_start_needs() {
        let uri = "coaps://fw.example/app.bin";
        let downloading =
            Fota::Downloading { pull: true, image: Some(ImageType::ModemDelta), head: Vec::new() };
        let back = round_trip(&downloading, uri).unwrap();
        assert_eq!(back.0, Fota::Resume(Some(ImageType::ModemDelta)), "a pull resumes");
        assert_eq!(back.1.as_str(), uri);
        let push = Fota::Downloading { pull: false, image: None, head: Vec::new() };
        assert_eq!(round_trip(&push, uri).unwrap(), (push, String::new()), "no URI for a push");
        for state in [
            Fota::Idle,
            Fota::Downloaded(ImageType::Application),
            Fota::Applying(ImageType::ApplicationFile),
            Fota::Resume(None),
        ] {
            assert_eq!(round_trip(&state, "").unwrap().0, state);
        }
    }

    #[test]
    fn a_record_of_another_version_or_length_is_ignored() {
        let mut out = Vec::new();
        assert!(encode_record(&Fota::Downloaded(ImageType::Application), "", None, &mut out));
        let mut other = out.clone();
        other[0] = FOTA_RECORD_VERSION + 1;
        assert_eq!(decode_record(&other), None);
        assert_eq!(decode_record(&out[..out.len() - 1]), None);
        let _ = out.push(b'x');
        assert_eq!(decode_record(&out), None, "trailing bytes");
    }

    #[test]
    fn a_divided_part_header_round_trips_and_the_record_keeps_it() {
        let part = Part { number: 2, last: true, offset: 12_000, version: [b'v'; 32] };
        let bytes = part.to_bytes();
        assert_eq!(bytes[..4], [0xdc, 0xd2, 0x4a, 0x42], "magic 0x424ad2dc little-endian");
        assert_eq!(bytes[4..10], [2, 1, 0xe0, 0x2e, 0, 0]);
        assert_eq!(Part::parse(&bytes), Some(part));
        let mut bad = bytes;
        bad[5] = 2;
        assert_eq!(Part::parse(&bad), None, "is_last is 0 or 1");
        assert_eq!(Part::parse(&bytes[..41]), None, "42 bytes");
        let mut out = Vec::new();
        let fota = Fota::Downloading { pull: true, image: None, head: Vec::new() };
        assert!(encode_record(&fota, "coap://x/p2", Some(&part), &mut out));
        let (_, uri, back) = decode_record(&out).unwrap();
        assert_eq!((uri.as_str(), back), ("coap://x/p2", Some(part)));
        assert_eq!(part_offset(&part, 12_500), 542, "500 payload bytes kept, after the header");
    }

    #[test]
    fn a_refused_block_is_4_13_when_too_large_and_5_00_otherwise() {
        assert_eq!(refusal_code(Errno::FBig), 0x8D);
        assert_eq!(refusal_code(Errno::NotSup), 0xA0);
        assert_eq!(refusal_code(Errno::BadR), 0xA0);
    }

    proptest! {
        #[test]
        fn arbitrary_stored_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_record(&bytes);
        }
    }
}
