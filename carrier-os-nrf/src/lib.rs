//! # carrier-os-nrf — the nRF91 port
//!
//! `carrier-os` implemented over the nRF91 modem: AT commands as typed
//! requests and response parsers (no allocation), modem sockets with DTLS
//! offloaded by security tag, modem-delta and application DFU, and storage
//! on flash. The binding to the modem library (`nrf-modem`) is compiled only
//! for the device target (`cfg(target_os = "none")` plus a chip feature);
//! on the host the same code runs over a transcript-driven fake modem, RAM
//! NOR flash and echo sockets, and passes the `carrier-os` conformance
//! suites (`tests/conformance.rs`).
//!
//! Layering: depends on `carrier-os` alone, so it is interchangeable with
//! `carrier-os-std` behind the same traits.
//!
//! | module | what | `carrier-os` trait |
//! |---|---|---|
//! | [`at`] | typed AT commands, response framing, parsers, notifications | — |
//! | [`channel`] | the [`channel::AtChannel`] contract | — |
//! | [`transcript`] | the scripted AT channel of the host build | — |
//! | [`modem`] | [`modem::AtModem`]: typed modem operations over a channel | — |
//! | [`port`] | [`port::NrfModem`] | `Modem` |
//! | [`storage`] | [`storage::FlashStorage`] (sequential-storage on NOR flash) | `Storage` |
//! | [`transport`] | [`transport::NrfTransport`] over [`transport::ModemSockets`] (UDP, DTLS, non-IP) | `Transport` |
//! | [`download`] | [`download::CoapDownload`] (Block2), [`download::HttpDownload`] (`Range`), [`download::AnyDownload`] | `Download` (through [`assembly::NrfPort`]) |
//! | [`dfu`] | [`dfu::NrfDfu`]: MCUboot slot + modem delta | `Dfu` |
//! | [`random`] | [`random::SeededRandom`] (xoshiro128++ seeded from timing jitter) | `Random` |
//! | [`log`] | [`log::NoLog`], `DefmtLog` (feature `defmt`) | `Log` |
//! | [`ticks`] | RTC tick arithmetic (24-bit extension, ms conversion) of the device clock | — |
//! | [`assembly`] | [`assembly::NrfPort`]: the parts on one value | `Port` (+ `Wait`) |
//! | `device` | `nrf-modem` binding: AT channel, notifications, sockets (UDP/DTLS/non-IP/TCP/TLS), modem delta DFU, random seed, RTC1 `Clock` + `Wait`, NVMC `NorFlash` (device target only) | — |
//!
//! The small "modem library" interface the port runs on is
//! [`channel::AtChannel`] (AT commands and notifications),
//! [`transport::ModemSockets`] (datagram sockets, DTLS by security tag),
//! [`download::StreamSockets`] (TCP and TLS streams for HTTP(S)),
//! [`dfu::ModemDeltaDfu`] and [`dfu::BootControl`] (firmware update) and
//! `embedded-storage` NOR flash.
//!
//! Device build: `cargo build -p carrier-os-nrf --no-default-features
//! --features nrf9160 --target thumbv8m.main-none-eabihf` (or `nrf9161`,
//! `nrf9151`, with `nrf9120-pac` for the registers; each implies
//! `nrf-modem`, which needs `rustup component add llvm-tools`).
//!
//! A whole firmware image on this port — the lwm2m-carrier `Runtime` with
//! the `Lwm2mSession` engine — is `examples/nrf91-firmware`: 251 524 bytes
//! of flash (text incl. rodata and vectors) and 5 680 bytes of static RAM
//! (data + bss) by `llvm-size`, against 34 972 and 5 380 for the image that
//! only brought the link up; the library's state lives on `main`'s stack
//! (85 504-byte frame), which `llvm-size` does not count.
//!
//! Guarantees: no heap, no panic on anything the modem, SIM, flash or
//! network sends, and no `unsafe` outside the device binding (device
//! target only): `device::delta_dfu` (libmodem's delta-DFU calls, which
//! `nrf-modem` does not wrap), `device::flash` (NVMC word writes and flash
//! reads) and `device::sockets` (pinning the open futures in their slots),
//! each block with its SAFETY argument.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

// Unit tests run on the host with std; the library itself never sees it.
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod assembly;
pub mod at;
pub mod channel;
pub mod dfu;
pub mod download;
pub mod log;
pub mod modem;
pub mod port;
pub mod random;
pub mod storage;
pub mod ticks;
pub mod transcript;
pub mod transport;

#[cfg(all(target_os = "none", feature = "nrf-modem"))]
pub mod device;
