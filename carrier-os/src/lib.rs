//! # carrier-os — the port traits
//!
//! What an operating system must provide to run the carrier client: time and
//! deadlines ([`time`], [`wait`]), key-value storage with atomic replace
//! ([`storage`]), randomness ([`random`]), logging ([`log`]), the modem
//! ([`modem`]: identity, LTE link, PDN, radio information, counters, network
//! time, SIM reads, security-tag credentials, SMS), datagram transport
//! ([`transport`]: UDP, DTLS-PSK by security tag with optional Connection ID,
//! non-IP), firmware download ([`download`], resumable by offset) and the DFU
//! target ([`dfu`]). The grouping follows the original library's OS
//! abstraction (`carrier-api.md` §5). A port implements these traits and
//! nothing else; `carrier-os-std` (desktop, real and simulated) and
//! `carrier-os-nrf` (nRF91) are the two in this workspace.
//!
//! Layering: depends on nothing of this workspace and knows nothing of LwM2M.
//! `#![no_std]`, no allocation, no `unsafe`. Time is [`time::Instant`] /
//! [`time::Duration`] in milliseconds (`u64`), the same unit as
//! `lwm2m_core::time`, so the runtime converts without loss.
//!
//! A port implements every trait on one value; the blanket trait [`Port`]
//! names the set, and the runtime takes `&mut impl Port`. Methods have
//! distinct names across the traits so that calls never need qualifying.
//!
//! # Design notes
//!
//! **Choice: sans-IO traits plus one wait call.** Every method of every trait
//! returns at once: queries answer in bounded time (one AT round trip, one
//! flash write), operations that take network time are *started* by one call
//! (`request_link`, `pdn_activate`, `open`, `start_download`) and *observed*
//! by another (`link_state`, `pdn_state`, `poll_open`, `recv`,
//! `poll_download`), which returns [`core::task::Poll::Pending`] (or an
//! in-progress state) instead of waiting. The single call that waits is
//! [`wait::Wait::wait_until`] (blocking) or
//! [`wait::AsyncWait::wait_until_async`] (async), and only the outermost
//! loop calls it, with the runtime's next
//! deadline:
//!
//! ```text
//! loop {
//!     let next = runtime.poll(&mut port);        // all logic, never blocks
//!     port.wait_until(next);                     // or `.await` on an executor
//! }
//! ```
//!
//! Reasons:
//! - *One copy of the logic.* The runtime is plain synchronous code that
//!   never waits, so the same code runs under a blocking loop on a thread, a
//!   tokio task, an embassy task, or a simulation that advances a virtual
//!   clock. Only the ~5-line outer loop differs. The alternatives were
//!   worse: async traits (`async fn send`) force an executor on every user,
//!   and a blocking adapter (`block_on`) on a device; blocking traits force
//!   a thread per wait and cannot be simulated deterministically; two trait
//!   families (blocking and async) would mean two runtimes.
//! - *Determinism.* Nothing reads a clock or sleeps behind the runtime's
//!   back; the simulation port decides what "now" is inside `wait_until`,
//!   so a seeded run is byte-for-byte repeatable.
//! - *It matches the hardware.* The nRF91 modem library is itself
//!   non-blocking underneath (sockets with `MSG_DONTWAIT`, AT notifications
//!   as callbacks, DTLS offloaded to the modem); an embassy port keeps its
//!   async tasks or interrupt handlers filling queues and signals one waker
//!   that `wait_until` awaits.
//! - *Timers are the runtime's.* The original's timer/work-queue/semaphore
//!   OS calls disappear: the runtime keeps its deadlines in a table and
//!   hands the earliest to `wait_until`. Ports implement no timers at all.
//!
//! Costs, accepted: readiness is level-triggered and coarse — after
//! [`wait::Wake::Io`] the runtime polls every open operation (a handful of
//! sockets, one download), which is cheap at these sizes; and a port whose
//! platform only offers blocking calls needs a background thread per
//! operation to turn them into polls (the std port does so for HTTP).
//!
//! **Errors say what failed** so the runtime can choose the deferred reason
//! and error value of the spec (`carrier-api.md` §2.1, §3):
//! [`transport::TransportError`] separates DNS failure, no route, link down,
//! DTLS handshake refused and handshake timed out; [`modem::PdnState`]
//! carries the ESM cause of a PDN rejection; [`modem::ModemError::NotAvailable`]
//! on [`modem::Identity::Msisdn`] is the "waiting for SIM MSISDN" case;
//! [`download::DownloadError`] and [`dfu::DfuError`] map one-to-one onto
//! the FOTA_FAIL values (documented on each type).
//!
//! **Reboot is not a trait method.** The runtime asks its caller to reboot;
//! only the outermost code owns all state (on a device it calls the SoC reset,
//! on the desktop it drops the runtime and starts a new one from storage).
//!
//! # A minimal port
//!
//! A port needs the traits of [`Port`] plus a [`wait::Wait`] or
//! [`wait::AsyncWait`]. The smallest useful pieces — clock, RAM storage,
//! random and wait — look like this; the `carrier-os-std` crate has complete
//! ones.
//!
//! ```
//! use carrier_os::storage::{Key, Storage, StorageError};
//! use carrier_os::time::{Clock, Instant};
//! use carrier_os::wait::{Wait, Wake};
//! use carrier_os::random::Random;
//! use core::cell::Cell;
//!
//! struct Tiny {
//!     now_ms: Cell<u64>,
//!     records: heapless::Vec<(Key, heapless::Vec<u8, 1024>), 8>,
//!     seed: u32,
//! }
//!
//! impl Clock for Tiny {
//!     fn now(&self) -> Instant { Instant::from_millis(self.now_ms.get()) }
//! }
//!
//! impl Wait for Tiny {
//!     // A virtual clock: nothing can arrive, so jump to the deadline.
//!     fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
//!         if let Some(d) = deadline {
//!             self.now_ms.set(self.now_ms.get().max(d.as_millis()));
//!         }
//!         Wake::Deadline
//!     }
//! }
//!
//! impl Random for Tiny {
//!     fn random_u32(&mut self) -> u32 { // xorshift32
//!         self.seed ^= self.seed << 13; self.seed ^= self.seed >> 17; self.seed ^= self.seed << 5;
//!         self.seed
//!     }
//! }
//!
//! impl Storage for Tiny {
//!     const MAX_VALUE_LEN: usize = 1024;
//!     fn get(&mut self, key: Key, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
//!         let Some((_, v)) = self.records.iter().find(|(k, _)| *k == key) else { return Ok(None) };
//!         let out = buf.get_mut(..v.len()).ok_or(StorageError::BufferTooSmall { len: v.len() })?;
//!         out.copy_from_slice(v);
//!         Ok(Some(v.len()))
//!     }
//!     fn set(&mut self, key: Key, value: &[u8]) -> Result<(), StorageError> {
//!         let v = heapless::Vec::from_slice(value)
//!             .map_err(|_| StorageError::TooLarge { len: value.len(), max: Self::MAX_VALUE_LEN })?;
//!         if let Some(slot) = self.records.iter_mut().find(|(k, _)| *k == key) {
//!             slot.1 = v; // RAM: a single assignment is atomic enough
//!             return Ok(());
//!         }
//!         self.records.push((key, v)).map_err(|_| StorageError::Full)
//!     }
//!     fn delete(&mut self, key: Key) -> Result<(), StorageError> {
//!         self.records.retain(|(k, _)| *k != key);
//!         Ok(())
//!     }
//! }
//!
//! let mut port = Tiny { now_ms: Cell::new(0), records: heapless::Vec::new(), seed: 7 };
//! port.set(Key(0xCA00), b"registered").unwrap();
//! let mut buf = [0u8; 32];
//! assert_eq!(port.get(Key(0xCA00), &mut buf), Ok(Some(10)));
//! // The outer loop: wait for the runtime's next deadline.
//! assert_eq!(port.wait_until(Some(Instant::from_millis(30_000))), Wake::Deadline);
//! assert_eq!(port.now(), Instant::from_millis(30_000));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod dfu;
pub mod download;
pub mod log;
pub mod modem;
pub mod random;
pub mod storage;
pub mod time;
pub mod transport;
pub mod wait;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use dfu::{Dfu, DfuError, ImageType, UpdateOutcome};
pub use download::{Download, DownloadError, DownloadProgress, DownloadRequest};
pub use log::{Level, Log};
pub use modem::{Modem, ModemError};
pub use random::Random;
pub use storage::{Key, Storage, StorageError};
pub use time::{Clock, Duration, Instant};
pub use transport::{Endpoint, SocketId, Transport, TransportError};
pub use wait::{AsyncWait, Wait, Wake};

/// Everything the runtime needs from a platform, on one value.
///
/// Implemented automatically for any type that implements all the traits;
/// add [`Wait`] or [`AsyncWait`] for the outer loop.
pub trait Port: Clock + Storage + Random + Log + Modem + Transport + Download + Dfu {}

impl<T> Port for T where T: Clock + Storage + Random + Log + Modem + Transport + Download + Dfu {}

/// IEEE CRC-32 (the polynomial of Ethernet/zlib, reflected, init and final
/// XOR `0xFFFF_FFFF`), as the DFU calls use it. Incremental: pass the
/// previous result as `crc` (start with 0).
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            let mask = (c & 1).wrapping_neg();
            c = (c >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC catalogue's check value for CRC-32/ISO-HDLC over "123456789".
        assert_eq!(crc32(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(crc32(0, b"12345"), b"6789"), 0xCBF4_3926);
        assert_eq!(crc32(0, b""), 0);
    }

    #[test]
    fn psk_debug_never_shows_the_key() {
        let psk = modem::Psk::new(b"\x01\x02secretkey").unwrap();
        let shown = alloc_free_format(&psk);
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("redacted 11 bytes"), "{shown}");
    }

    fn alloc_free_format(psk: &modem::Psk) -> heapless::String<64> {
        use core::fmt::Write;
        let mut s = heapless::String::new();
        write!(s, "{psk:?}").unwrap();
        s
    }
}
