//! # carrier-os-std — the desktop port
//!
//! `carrier-os` for desktops, in two modes that share one modem/SIM model,
//! one DFU target and one set of storage semantics:
//!
//! - **Real mode** — [`real::RealPort`]: UDP over std sockets (IPv4 and
//!   IPv6), DTLS-PSK through `dtls-psk` (feature `dtls`, default on),
//!   non-IP as an in-process datagram pipe ([`real::NiddPeer`]), storage in a
//!   directory with crash-safe replace ([`storage::DirStorage`]), the modem
//!   and SIM from a device-profile TOML file ([`profile::DeviceProfile`]) with
//!   security tags in a key-store file ([`profile::KeyStore`]), firmware
//!   download over HTTP with `Range` resume and over CoAP(S) with Block2
//!   resume, DFU into files
//!   ([`dfu::DirArea`]); a "reboot" is dropping the port and opening the same
//!   directory again.
//! - **Simulation mode** — [`sim::World`] and [`sim::SimPort`]: a virtual
//!   clock, an in-process network with seeded loss, duplication, reordering,
//!   delay and outages, modelled DTLS (handshake failures and time-outs
//!   injectable), injectable LTE link and PDN failures and MSISDN delays
//!   ([`modem::Faults`]), power cuts at any chosen point (RAM dropped,
//!   [`sim::DeviceNvm`] kept as of its last completed write), many devices
//!   and servers in one single-threaded process, and a trace that is
//!   byte-identical for the same seed.
//!
//! Both ports implement every trait of [`carrier_os::Port`] plus
//! [`carrier_os::Wait`] and [`carrier_os::AsyncWait`], and both pass
//! `carrier_os::conformance` (see `tests/`).
//!
//! HTTPS firmware download (rustls) trusts only the CA certificates stored
//! for the request's security tag ([`profile::KeyStore::ca_pem`]).
//!
//! **Not supported yet:** DTLS Connection ID (tinydtls lacks it).
//!
//! Layering: depends on `carrier-os`, `dtls-psk` and the CoAP message layer
//! of `lwm2m-core` (CoAP sits below LwM2M: used for block-wise firmware
//! download only); knows nothing of LwM2M.
//!
//! ```
//! use carrier_os::modem::{LinkRequest, Modem};
//! use carrier_os::storage::{Key, Storage};
//! use carrier_os::wait::{Wait, Wake};
//! use carrier_os::Clock;
//! use carrier_os_std::profile::DeviceProfile;
//! use carrier_os_std::sim::{DeviceNvm, NetConfig, SimPort, World};
//!
//! let world = World::new(7, NetConfig::default());
//! let mut dev = SimPort::boot(&world, 1, DeviceProfile::generic(1), DeviceNvm::default());
//! dev.request_link(LinkRequest::Up).unwrap();
//! // Virtual time: waiting for the attach takes no real time.
//! assert_eq!(dev.wait_until(None), Wake::Io);
//! assert!(dev.link_state().is_up());
//! dev.set(Key(0xCA00), b"bootstrapped").unwrap();
//!
//! // Power cut: RAM state is gone, storage survives.
//! let nvm = dev.power_cut();
//! let mut dev = SimPort::boot(&world, 1, DeviceProfile::generic(1), nvm);
//! assert!(!dev.link_state().is_up());
//! let mut buf = [0u8; 16];
//! assert_eq!(dev.get(Key(0xCA00), &mut buf), Ok(Some(12)));
//! assert!(world.trace().contains("dev1 power-cut"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::std_instead_of_core)]

mod delegate;
pub mod dfu;
pub mod modem;
pub mod profile;
pub mod real;
pub mod sim;
pub mod storage;
pub mod testdir;
