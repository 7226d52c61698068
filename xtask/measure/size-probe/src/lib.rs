//! Size probe for `cargo xtask report`: each `SIZEOF_*` static is a byte
//! array exactly `size_of::<T>()` long, so the symbol size that `llvm-nm -S`
//! prints for it, in the rlib built for the device target, is the size of
//! `T` on that target. Nothing here runs; the statics only carry lengths.
#![no_std]
#![forbid(unsafe_code)]

use core::net::SocketAddr;
use lwm2m_core::coap::endpoint::{Config, Endpoint};
use lwm2m_core::rng::XorShiftRng;
use lwm2m_objects::{ObjectStore, StaticDeviceInfo};

/// `Endpoint<SocketAddr, XorShiftRng>`.
#[used]
pub static SIZEOF_ENDPOINT_SOCKETADDR: [u8; size_of::<Endpoint<SocketAddr, XorShiftRng>>()] =
    [0; size_of::<Endpoint<SocketAddr, XorShiftRng>>()];
/// `Endpoint<u32, XorShiftRng>`.
#[used]
pub static SIZEOF_ENDPOINT_U32: [u8; size_of::<Endpoint<u32, XorShiftRng>>()] =
    [0; size_of::<Endpoint<u32, XorShiftRng>>()];
/// `Config`.
#[used]
pub static SIZEOF_CONFIG: [u8; size_of::<Config>()] = [0; size_of::<Config>()];
/// `ObjectStore`.
#[used]
pub static SIZEOF_OBJECTSTORE: [u8; size_of::<ObjectStore>()] = [0; size_of::<ObjectStore>()];
/// `StaticDeviceInfo`.
#[used]
pub static SIZEOF_STATICDEVICEINFO: [u8; size_of::<StaticDeviceInfo>()] =
    [0; size_of::<StaticDeviceInfo>()];

type Runtime = lwm2m_carrier::Runtime<'static, lwm2m_carrier::session::lwm2m::Lwm2mSession<XorShiftRng>>;

/// `lwm2m_carrier::Runtime<Lwm2mSession<XorShiftRng>>`: one whole client.
#[used]
pub static SIZEOF_RUNTIME: [u8; size_of::<Runtime>()] = [0; size_of::<Runtime>()];
/// `Lwm2mSession<XorShiftRng>`.
#[used]
pub static SIZEOF_SESSION: [u8; size_of::<lwm2m_carrier::session::lwm2m::Lwm2mSession<XorShiftRng>>()] =
    [0; size_of::<lwm2m_carrier::session::lwm2m::Lwm2mSession<XorShiftRng>>()];
/// `lwm2m_carrier::Config`.
#[used]
pub static SIZEOF_CARRIER_CONFIG: [u8; size_of::<lwm2m_carrier::Config<'static>>()] =
    [0; size_of::<lwm2m_carrier::Config<'static>>()];
