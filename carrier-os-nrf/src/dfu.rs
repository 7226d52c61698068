//! `carrier_os::Dfu` for the nRF91: MCUboot application images into the
//! secondary slot on flash, modem delta images through the modem's own
//! delta-DFU service.
//!
//! Owns image detection, the resumable progress log and the scheduling
//! rules. Detection reads the first 8 bytes: an MCUboot image starts with
//! `IMAGE_MAGIC` 0x96f3b83d (little-endian, MCUboot `image.h`); a modem
//! delta image carries 0x7544656d at bytes 4..8 (Nordic's
//! `dfu_target_modem_delta` header). Application progress survives a
//! reboot in a log page on flash: 16-byte entries (kind, image type, tail
//! length, persisted offset, the sub-word tail, CRC-32 of the entry), so a
//! torn entry is ignored and the previous one counts. The modem keeps the
//! offset of a delta image itself.
//!
//! Guarantee: nothing here panics on flash contents or image bytes; every
//! failure is a `DfuError`.

use carrier_os::crc32;
use carrier_os::dfu::{Dfu, DfuError, ImageType, UpdateOutcome};
use core::ops::Range;
use embedded_storage::nor_flash::NorFlash;

/// MCUboot `IMAGE_MAGIC`.
pub const MCUBOOT_MAGIC: u32 = 0x96f3_b83d;
/// Nordic modem delta image magic (bytes 4..8).
pub const MODEM_DELTA_MAGIC: u32 = 0x7544_656d;
/// MCUboot trailer magic (`boot_img_magic`), written at the end of the
/// secondary slot to request a test swap.
pub const MCUBOOT_TRAILER_MAGIC: [u8; 16] = [
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
];
/// Bytes at the end of the slot kept free for the MCUboot trailer.
pub const TRAILER_RESERVE: u32 = 4096;

/// The modem's delta-DFU service (`nrf_modem_delta_dfu_*` on a device).
pub trait ModemDeltaDfu {
    /// Bytes of an interrupted delta image the modem keeps (0: none).
    fn offset(&mut self) -> Result<u64, DfuError>;
    /// Largest delta image the modem's scratch area holds.
    fn area_size(&mut self) -> Result<u64, DfuError>;
    /// Erases the scratch area (discarding any image).
    fn erase(&mut self) -> Result<(), DfuError>;
    /// Starts or resumes writing at [`offset`](ModemDeltaDfu::offset).
    fn begin(&mut self) -> Result<(), DfuError>;
    /// Appends bytes.
    fn write(&mut self, data: &[u8]) -> Result<(), DfuError>;
    /// Ends writing (the modem validates the image).
    fn end(&mut self) -> Result<(), DfuError>;
    /// Applies the image at the next modem restart.
    fn schedule(&mut self) -> Result<(), DfuError>;
    /// The result of a delta applied at the last modem start, once.
    fn take_result(&mut self) -> Option<bool>;
}

/// The boot loader's view of the running application image.
pub trait BootControl {
    /// Confirms the running image. `Some(true)` if it was a test image that
    /// is now confirmed, `Some(false)` if the boot loader reverted the
    /// scheduled image, `None` if no swap happened.
    fn confirm_running_image(&mut self) -> Result<Option<bool>, DfuError>;
}

const ENTRY_LEN: usize = 16;
const KIND_PROGRESS: u8 = 1;
const KIND_FINISHED: u8 = 2;
const KIND_SCHEDULED: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    kind: u8,
    image: u8,
    tail_len: u8,
    offset: u32,
    tail: [u8; 4],
}

impl Entry {
    fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut out = [0u8; ENTRY_LEN];
        let [a, b, c, d] = [self.kind, self.image, self.tail_len, 0];
        let o = self.offset.to_le_bytes();
        let t = self.tail;
        let head = [a, b, c, d, o[0], o[1], o[2], o[3], t[0], t[1], t[2], t[3]];
        let crc = crc32(0, &head).to_le_bytes();
        for (dst, src) in out.iter_mut().zip(head.iter().chain(crc.iter())) {
            *dst = *src;
        }
        out
    }

    fn decode(raw: &[u8; ENTRY_LEN]) -> Option<Entry> {
        let (head, crc) = raw.split_at_checked(12)?;
        let crc: [u8; 4] = crc.try_into().ok()?;
        if crc32(0, head) != u32::from_le_bytes(crc) {
            return None;
        }
        let [kind, image, tail_len, _, o0, o1, o2, o3, t0, t1, t2, t3] =
            <[u8; 12]>::try_from(head).ok()?;
        (tail_len <= 4).then_some(Entry {
            kind,
            image,
            tail_len,
            offset: u32::from_le_bytes([o0, o1, o2, o3]),
            tail: [t0, t1, t2, t3],
        })
    }

    fn image_type(&self) -> Option<ImageType> {
        match self.image {
            1 => Some(ImageType::Application),
            2 => Some(ImageType::ModemDelta),
            _ => None,
        }
    }
}

fn image_code(t: ImageType) -> u8 {
    match t {
        ImageType::Application => 1,
        ImageType::ModemDelta => 2,
        _ => 0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Writing { image: ImageType, offset: u32, tail: [u8; 4], tail_len: u8 },
    Finished { image: ImageType, len: u32 },
}

/// The nRF91 DFU target.
#[derive(Debug)]
pub struct NrfDfu<F, M, B> {
    flash: F,
    slot: Range<u32>,
    log: Range<u32>,
    modem: M,
    boot: B,
    state: State,
    next_entry: u32,
}

impl<F: NorFlash, M: ModemDeltaDfu, B: BootControl> NrfDfu<F, M, B> {
    /// A DFU target writing application images to `slot` (MCUboot's
    /// secondary slot) and its progress log to `log` (one erase page
    /// outside the slot), modem deltas to `modem`.
    ///
    /// # Errors
    /// [`DfuError::Io`] if the ranges are not page aligned, overlap, or the
    /// flash's write size exceeds 4 bytes.
    pub fn new(
        flash: F,
        slot: Range<u32>,
        log: Range<u32>,
        modem: M,
        boot: B,
    ) -> Result<Self, DfuError> {
        let page = u32::try_from(F::ERASE_SIZE).map_err(|_| DfuError::Io)?;
        let aligned = |r: &Range<u32>| {
            r.start.is_multiple_of(page) && r.end.is_multiple_of(page) && r.start < r.end
        };
        let disjoint = slot.end <= log.start || log.end <= slot.start;
        if !aligned(&slot)
            || !aligned(&log)
            || !disjoint
            || F::WRITE_SIZE > 4
            || slot.end - slot.start <= TRAILER_RESERVE
        {
            return Err(DfuError::Io);
        }
        let mut dfu = Self { flash, slot, log, modem, boot, state: State::Idle, next_entry: 0 };
        dfu.state = match dfu.scan_log()? {
            Some(e) if e.kind == KIND_PROGRESS => match e.image_type() {
                Some(image) => {
                    State::Writing { image, offset: e.offset, tail: e.tail, tail_len: e.tail_len }
                }
                None => State::Idle,
            },
            Some(e) if e.kind == KIND_FINISHED => match e.image_type() {
                Some(image) => State::Finished { image, len: e.offset },
                None => State::Idle,
            },
            _ => State::Idle,
        };
        Ok(dfu)
    }

    /// The parts back (to reopen after a simulated reboot).
    pub fn into_parts(self) -> (F, M, B) {
        (self.flash, self.modem, self.boot)
    }

    /// The last valid log entry; sets `next_entry`.
    fn scan_log(&mut self) -> Result<Option<Entry>, DfuError> {
        let mut last = None;
        let mut addr = self.log.start;
        self.next_entry = addr;
        while addr.checked_add(ENTRY_LEN as u32).is_some_and(|end| end <= self.log.end) {
            let mut raw = [0u8; ENTRY_LEN];
            self.flash.read(addr, &mut raw).map_err(|_| DfuError::Io)?;
            if raw.iter().all(|&b| b == 0xff) {
                break;
            }
            if let Some(e) = Entry::decode(&raw) {
                last = Some(e);
            }
            addr += ENTRY_LEN as u32;
            self.next_entry = addr;
        }
        Ok(last)
    }

    fn clear_log(&mut self) -> Result<(), DfuError> {
        self.flash.erase(self.log.start, self.log.end).map_err(|_| DfuError::Io)?;
        self.next_entry = self.log.start;
        Ok(())
    }

    fn append(&mut self, e: Entry) -> Result<(), DfuError> {
        if self.next_entry + ENTRY_LEN as u32 > self.log.end {
            // Log full: start over with only the latest entry. A power cut
            // in this window loses the progress (the download restarts).
            self.clear_log()?;
        }
        self.flash.write(self.next_entry, &e.encode()).map_err(|_| DfuError::Io)?;
        self.next_entry += ENTRY_LEN as u32;
        Ok(())
    }

    fn capacity(&self) -> u32 {
        self.slot.end - self.slot.start - TRAILER_RESERVE
    }

    fn write_app(&mut self, data: &[u8]) -> Result<(), DfuError> {
        let State::Writing { image, mut offset, mut tail, mut tail_len } = self.state else {
            return Err(DfuError::NotStarted);
        };
        let total = u64::from(offset) + u64::from(tail_len) + data.len() as u64;
        if total > u64::from(self.capacity()) {
            return Err(DfuError::TooLarge);
        }
        let word = F::WRITE_SIZE.max(1);
        let mut rest = data;
        // Complete the pending word first.
        while usize::from(tail_len) < word {
            let Some((&b, more)) = rest.split_first() else { break };
            if let Some(slot) = tail.get_mut(usize::from(tail_len)) {
                *slot = b;
            }
            tail_len += 1;
            rest = more;
        }
        if usize::from(tail_len) == word {
            let w = tail.get(..word).ok_or(DfuError::Io)?;
            self.flash.write(self.slot.start + offset, w).map_err(|_| DfuError::Io)?;
            offset += word as u32;
            let whole = rest.len() - rest.len() % word;
            let (body, left) = rest.split_at_checked(whole).ok_or(DfuError::Io)?;
            if !body.is_empty() {
                self.flash.write(self.slot.start + offset, body).map_err(|_| DfuError::Io)?;
                offset += u32::try_from(body.len()).map_err(|_| DfuError::TooLarge)?;
            }
            tail = [0xff; 4];
            for (d, s) in tail.iter_mut().zip(left) {
                *d = *s;
            }
            tail_len = u8::try_from(left.len()).map_err(|_| DfuError::Io)?;
        }
        self.state = State::Writing { image, offset, tail, tail_len };
        self.append(Entry { kind: KIND_PROGRESS, image: image_code(image), tail_len, offset, tail })
    }

    fn finish_app(&mut self, crc: Option<u32>) -> Result<(), DfuError> {
        let State::Writing { image, offset, tail, tail_len } = self.state else {
            return Err(DfuError::NotStarted);
        };
        let len = offset + u32::from(tail_len);
        if tail_len > 0 {
            // The tail is padded with 0xFF (erased) bytes beyond the image.
            let word = F::WRITE_SIZE.max(1);
            let padded = tail.get(..word).ok_or(DfuError::Io)?;
            self.flash.write(self.slot.start + offset, padded).map_err(|_| DfuError::Io)?;
        }
        let mut sum = 0;
        let mut header = [0u8; 4];
        let mut at = 0;
        let mut chunk = [0u8; 256];
        while at < len {
            let n = (len - at).min(chunk.len() as u32) as usize;
            let part = chunk.get_mut(..n).ok_or(DfuError::Io)?;
            self.flash.read(self.slot.start + at, part).map_err(|_| DfuError::Io)?;
            if at == 0 {
                for (h, b) in header.iter_mut().zip(part.iter()) {
                    *h = *b;
                }
            }
            sum = crc32(sum, part);
            at += n as u32;
        }
        let bad_crc = crc.is_some_and(|c| c != sum);
        if bad_crc || u32::from_le_bytes(header) != MCUBOOT_MAGIC {
            self.clear_log()?;
            self.state = State::Idle;
            return Err(DfuError::Integrity);
        }
        self.state = State::Finished { image, len };
        self.append(Entry {
            kind: KIND_FINISHED,
            image: image_code(image),
            tail_len: 0,
            offset: len,
            tail: [0xff; 4],
        })
    }
}

impl<F: NorFlash, M: ModemDeltaDfu, B: BootControl> Dfu for NrfDfu<F, M, B> {
    const DETECT_LEN: usize = 8;

    fn dfu_detect(&self, first: &[u8]) -> Option<ImageType> {
        let head: &[u8; 8] = first.first_chunk()?;
        let [a, b, c, d, e, f, g, h] = *head;
        if u32::from_le_bytes([a, b, c, d]) == MCUBOOT_MAGIC {
            Some(ImageType::Application)
        } else if u32::from_le_bytes([e, f, g, h]) == MODEM_DELTA_MAGIC {
            Some(ImageType::ModemDelta)
        } else {
            None
        }
    }

    fn dfu_start(&mut self, image: ImageType, size: Option<u64>) -> Result<u64, DfuError> {
        match image {
            ImageType::Application => {
                if size.is_some_and(|s| s > u64::from(self.capacity())) {
                    return Err(DfuError::TooLarge);
                }
                if let State::Writing { image: ImageType::Application, offset, tail_len, .. } =
                    self.state
                {
                    return Ok(u64::from(offset) + u64::from(tail_len));
                }
                self.flash.erase(self.slot.start, self.slot.end).map_err(|_| DfuError::Io)?;
                self.clear_log()?;
                self.state = State::Writing { image, offset: 0, tail: [0xff; 4], tail_len: 0 };
                self.append(Entry {
                    kind: KIND_PROGRESS,
                    image: image_code(image),
                    tail_len: 0,
                    offset: 0,
                    tail: [0xff; 4],
                })?;
                Ok(0)
            }
            ImageType::ModemDelta => {
                if size.is_some_and(|s| self.modem.area_size().is_ok_and(|max| s > max)) {
                    return Err(DfuError::TooLarge);
                }
                let resume = self.modem.offset()?;
                if resume == 0 {
                    self.modem.erase()?;
                }
                self.modem.begin()?;
                let offset = u32::try_from(resume).map_err(|_| DfuError::TooLarge)?;
                self.state = State::Writing { image, offset, tail: [0xff; 4], tail_len: 0 };
                Ok(resume)
            }
            _ => Err(DfuError::UnknownImage),
        }
    }

    fn dfu_write(&mut self, data: &[u8]) -> Result<(), DfuError> {
        match self.state {
            State::Writing { image: ImageType::Application, .. } => self.write_app(data),
            State::Writing { image: ImageType::ModemDelta, offset, tail, tail_len } => {
                self.modem.write(data)?;
                let n = u32::try_from(data.len()).map_err(|_| DfuError::TooLarge)?;
                let offset = offset.checked_add(n).ok_or(DfuError::TooLarge)?;
                self.state =
                    State::Writing { image: ImageType::ModemDelta, offset, tail, tail_len };
                Ok(())
            }
            _ => Err(DfuError::NotStarted),
        }
    }

    fn dfu_offset(&mut self) -> u64 {
        match self.state {
            State::Writing { offset, tail_len, .. } => u64::from(offset) + u64::from(tail_len),
            State::Finished { len, .. } => u64::from(len),
            State::Idle => 0,
        }
    }

    fn dfu_finish(&mut self, crc: Option<u32>) -> Result<(), DfuError> {
        match self.state {
            State::Writing { image: ImageType::Application, .. } => self.finish_app(crc),
            State::Writing { image: ImageType::ModemDelta, offset, .. } => {
                // The modem validates its image itself; a CRC over the
                // stream is not available without buffering it.
                self.modem.end()?;
                self.state = State::Finished { image: ImageType::ModemDelta, len: offset };
                Ok(())
            }
            _ => Err(DfuError::NotStarted),
        }
    }

    fn dfu_schedule(&mut self) -> Result<(), DfuError> {
        let State::Finished { image, len } = self.state else { return Err(DfuError::Incomplete) };
        match image {
            ImageType::Application => {
                let at = self.slot.end - MCUBOOT_TRAILER_MAGIC.len() as u32;
                self.flash.write(at, &MCUBOOT_TRAILER_MAGIC).map_err(|_| DfuError::Io)?;
                self.append(Entry {
                    kind: KIND_SCHEDULED,
                    image: image_code(image),
                    tail_len: 0,
                    offset: len,
                    tail: [0xff; 4],
                })?;
            }
            _ => self.modem.schedule()?,
        }
        self.state = State::Idle;
        Ok(())
    }

    fn dfu_reset(&mut self) -> Result<(), DfuError> {
        if let State::Writing { image: ImageType::ModemDelta, .. }
        | State::Finished { image: ImageType::ModemDelta, .. } = self.state
        {
            self.modem.erase()?;
        }
        self.clear_log()?;
        self.state = State::Idle;
        Ok(())
    }

    fn dfu_take_outcome(&mut self) -> Result<Option<UpdateOutcome>, DfuError> {
        if let Some(ok) = self.modem.take_result() {
            let image = ImageType::ModemDelta;
            return Ok(Some(if ok {
                UpdateOutcome::Applied(image)
            } else {
                UpdateOutcome::Failed(image)
            }));
        }
        let scheduled = matches!(self.scan_log()?, Some(e) if e.kind == KIND_SCHEDULED);
        let swap = self.boot.confirm_running_image()?;
        if !scheduled {
            return Ok(None);
        }
        self.clear_log()?;
        let image = ImageType::Application;
        Ok(Some(match swap {
            Some(true) => UpdateOutcome::Applied(image),
            _ => UpdateOutcome::Failed(image),
        }))
    }
}

/// [`BootControl`] over MCUboot's image trailer in the primary slot
/// (MCUboot `bootutil` trailer layout with `BOOT_MAX_ALIGN` = 8, as the
/// nRF Connect SDK builds it): magic in the last 16 bytes, `image_ok` in
/// the 8 bytes before it. After a test swap the primary slot carries the
/// magic with `image_ok` unset (0xFF); confirming writes 0x01 to
/// `image_ok` (MCUboot's `boot_write_image_ok`), so the next boot keeps the
/// image instead of reverting it.
#[derive(Debug)]
pub struct McubootControl<F> {
    flash: F,
    primary: Range<u32>,
}

impl<F: NorFlash> McubootControl<F> {
    /// MCUboot's primary slot on `flash`.
    pub fn new(flash: F, primary: Range<u32>) -> Self {
        Self { flash, primary }
    }

    /// The flash back.
    pub fn into_flash(self) -> F {
        self.flash
    }
}

impl<F: NorFlash> BootControl for McubootControl<F> {
    fn confirm_running_image(&mut self) -> Result<Option<bool>, DfuError> {
        let magic_at = self.primary.end.checked_sub(16).ok_or(DfuError::Io)?;
        let ok_at = magic_at.checked_sub(8).ok_or(DfuError::Io)?;
        let mut magic = [0u8; 16];
        self.flash.read(magic_at, &mut magic).map_err(|_| DfuError::Io)?;
        if magic != MCUBOOT_TRAILER_MAGIC {
            // No trailer: the image was not swapped in as a test image.
            return Ok(None);
        }
        let mut image_ok = [0u8; 8];
        self.flash.read(ok_at, &mut image_ok).map_err(|_| DfuError::Io)?;
        match image_ok.first() {
            Some(0xff) => {
                let mut word = [0xffu8; 8];
                if let Some(first) = word.first_mut() {
                    *first = 0x01;
                }
                let w = word.get(..F::WRITE_SIZE.clamp(1, 8)).ok_or(DfuError::Io)?;
                self.flash.write(ok_at, w).map_err(|_| DfuError::Io)?;
                Ok(Some(true))
            }
            // Already confirmed on an earlier boot: nothing new happened.
            _ => Ok(None),
        }
    }
}

/// Host stand-ins for the modem's delta DFU and the boot loader.
pub mod host {
    use super::{BootControl, DfuError, ModemDeltaDfu};

    /// A modem delta-DFU area in RAM.
    #[derive(Debug, Default)]
    pub struct RamModemDelta {
        /// Bytes written so far (kept across `begin`, like the modem).
        pub written: u64,
        /// Area size.
        pub area: u64,
        /// Set by `schedule`.
        pub scheduled: bool,
        /// Result to report once.
        pub result: Option<bool>,
    }

    impl ModemDeltaDfu for RamModemDelta {
        fn offset(&mut self) -> Result<u64, DfuError> {
            Ok(self.written)
        }
        fn area_size(&mut self) -> Result<u64, DfuError> {
            Ok(self.area)
        }
        fn erase(&mut self) -> Result<(), DfuError> {
            self.written = 0;
            Ok(())
        }
        fn begin(&mut self) -> Result<(), DfuError> {
            Ok(())
        }
        fn write(&mut self, data: &[u8]) -> Result<(), DfuError> {
            self.written += data.len() as u64;
            if self.written > self.area { Err(DfuError::TooLarge) } else { Ok(()) }
        }
        fn end(&mut self) -> Result<(), DfuError> {
            Ok(())
        }
        fn schedule(&mut self) -> Result<(), DfuError> {
            self.scheduled = true;
            Ok(())
        }
        fn take_result(&mut self) -> Option<bool> {
            self.result.take()
        }
    }

    /// A boot loader that reports a fixed swap result once.
    #[derive(Debug, Default)]
    pub struct FixedBoot(pub Option<bool>);

    impl BootControl for FixedBoot {
        fn confirm_running_image(&mut self) -> Result<Option<bool>, DfuError> {
            Ok(self.0.take())
        }
    }
}
