//! The lwm2m-carrier library on the nRF91 port, as a firmware image: the
//! `Runtime` with the `Lwm2mSession` engine (generic mode, configuration
//! from the constants below) over `carrier-os-nrf`'s device port, driven by
//! the outer loop of the `lwm2m-carrier` crate docs. It exists to prove that
//! the whole library links for the device with the real modem library and
//! to measure the footprint of a real image (`llvm-size` on the ELF; the
//! figures are in README.md).
//!
//! The port, part by part (`carrier_os_nrf::assembly::NrfPort`):
//! clock and wait on RTC1 (`device::clock`), storage in the last 32 KiB of
//! flash through the NVMC (`device::flash` + `storage::FlashStorage`),
//! random from timed modem round trips (`device::entropy`), no logging
//! (`log::NoLog`; `DefmtLog` with a `defmt` logger), the modem over AT
//! (`port::NrfModem`), sockets through `nrf-modem` (`device::sockets`),
//! CoAP(S) block-wise and HTTP(S) ranged download (`download::AnyDownload`) and the MCUboot
//! slot plus modem delta DFU (`dfu::NrfDfu`).
//!
//! Build (from this directory): `cargo build --release`; the target and
//! linker script come from `.cargo/config.toml`.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use carrier_os::modem::{LinkRequest, Modem};
use carrier_os::random::Random;
use carrier_os::wait::Wait;
use carrier_os_nrf::assembly::NrfPort;
use carrier_os_nrf::device::clock::{LfClock, RtcClock, signal_io};
use carrier_os_nrf::device::flash::Nvmc;
use carrier_os_nrf::device::{ModemAt, Notifications, NrfModemDelta, entropy, sockets};
use carrier_os_nrf::dfu::{McubootControl, NrfDfu};
use carrier_os_nrf::download::AnyDownload;
use carrier_os_nrf::log::NoLog;
use carrier_os_nrf::modem::AtModem;
use carrier_os_nrf::port::NrfModem;
use carrier_os_nrf::random::SeededRandom;
use carrier_os_nrf::storage::{BlockingFlash, FlashStorage};
use carrier_os_nrf::transport::NrfTransport;
use cortex_m_rt::entry;
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder};
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Event, Runtime};
use nrf9160_pac::interrupt;
use panic_halt as _;
// libc functions (`strstr`, `vsnprintf`, …) the modem library calls.
use tinyrlibc as _;

/// The bootstrap server (generic mode: the application's own server).
const SERVER_URI: &str = "coaps://bootstrap.example.net:5784";
/// The security tag holding the bootstrap PSK and identity.
const SERVER_SEC_TAG: u32 = 0x00c0_ffee;

/// Flash map (absolute addresses; nRF9160, 1 MiB). The secure firmware
/// owns 0x0000_0000..0x0005_0000; the image runs from MCUboot's primary
/// slot; the rest must match the partition layout MCUboot was built with.
const PRIMARY_SLOT: core::ops::Range<u32> = 0x0005_0000..0x000a_0000;
/// MCUboot's secondary slot, where application images are written.
const SECONDARY_SLOT: core::ops::Range<u32> = 0x000a_0000..0x000f_0000;
/// One page for the DFU progress log, right after the secondary slot.
const DFU_LOG: core::ops::Range<u32> = 0x000f_0000..0x000f_1000;
/// Key-value storage: the last eight pages.
const STORAGE: core::ops::Range<u32> = 0x000f_8000..0x0010_0000;

/// The modem library's IPC interrupt: also tells the port's wait that
/// something may be ready.
#[interrupt]
fn IPC() {
    nrf_modem::ipc_irq_handler();
    signal_io();
}

/// Unmasks the IPC interrupt at the highest priority.
///
/// Invariant for the `unsafe` block: unmasking can break critical sections
/// that rely on the interrupt being masked; nothing in this program masks
/// IPC for that purpose, and the handler only calls into `nrf_modem`, which
/// does its own locking, and sets an atomic flag.
#[allow(unsafe_code)]
fn enable_ipc_interrupt(nvic: &mut cortex_m::peripheral::NVIC) {
    unsafe {
        nvic.set_priority(nrf9160_pac::Interrupt::IPC, 0);
        cortex_m::peripheral::NVIC::unmask(nrf9160_pac::Interrupt::IPC);
    }
}

/// Polls a start-up future to completion. `nrf_modem`'s futures are woken
/// from the IPC interrupt; re-polling after each `wfe` is enough.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        cortex_m::asm::wfe();
    }
}

/// An `lwm2m_core` generator fed by the port's random source.
struct PortRng<R>(R);

impl<R: Random> lwm2m_core::rng::Rng for PortRng<R> {
    fn next_u32(&mut self) -> u32 {
        self.0.random_u32()
    }
}

#[entry]
fn main() -> ! {
    let Some(mut core) = cortex_m::Peripherals::take() else { halt() };
    let Some(p) = nrf9160_pac::Peripherals::take() else { halt() };
    enable_ipc_interrupt(&mut core.NVIC);
    let clock = RtcClock::new(p.RTC1_NS, &p.CLOCK_NS, &mut core.SCB, LfClock::Xtal);
    let mode = nrf_modem::SystemMode {
        lte_support: true,
        lte_psm_support: true,
        nbiot_support: true,
        gnss_support: false,
        preference: nrf_modem::ConnectionPreference::None,
    };
    if block_on(nrf_modem::init(mode)).is_err() {
        halt();
    }
    let mut random = entropy::modem_jitter_random(&mut core.DWT, &mut core.DCB);
    // The engine's own generator (tokens, message IDs), seeded from the port's.
    let mut seed = [0u8; 16];
    random.fill_random(&mut seed);
    let session_rng = PortRng(SeededRandom::from_seed(seed));
    let download_seed = random.random_u32();

    // Registration and PDN notifications, polled by the port.
    let mut notifications = pin!(block_on(Notifications::new()));
    block_on(notifications.as_mut().register());
    let mut modem = NrfModem::new(AtModem::new(ModemAt::with_notifications(notifications)));
    if modem.init().is_err() {
        halt();
    }
    // Keeps nrf-modem from switching the modem off when the last socket
    // closes (see `device::sockets`).
    let Ok(link) = block_on(nrf_modem::LteLink::new()) else { halt() };
    let mut sockets = pin!(sockets::sockets(link));

    let storage_flash = Nvmc::new(&p.NVMC_NS, STORAGE);
    let dfu_flash = Nvmc::new(&p.NVMC_NS, SECONDARY_SLOT.start..DFU_LOG.end);
    let boot_flash = Nvmc::new(&p.NVMC_NS, PRIMARY_SLOT);
    let (Some(storage_flash), Some(dfu_flash), Some(boot_flash)) =
        (storage_flash, dfu_flash, boot_flash)
    else {
        halt()
    };
    let Ok(storage) = FlashStorage::new(BlockingFlash(storage_flash), 0..STORAGE.end - STORAGE.start)
    else {
        halt()
    };
    let slot_len = SECONDARY_SLOT.end - SECONDARY_SLOT.start;
    let log = slot_len..slot_len + (DFU_LOG.end - DFU_LOG.start);
    let boot = McubootControl::new(boot_flash, 0..PRIMARY_SLOT.end - PRIMARY_SLOT.start);
    let delta = NrfModemDelta::new(None);
    let Ok(dfu) = NrfDfu::new(dfu_flash, 0..slot_len, log, delta, boot) else { halt() };

    let mut port = NrfPort {
        clock,
        storage,
        random,
        log: NoLog,
        modem,
        transport: NrfTransport::new(sockets.as_mut()),
        download: AnyDownload::new(download_seed),
        dfu,
    };

    let config = ConfigBuilder::new()
        .carriers(CarrierSet::GENERIC)
        .server_uri(SERVER_URI)
        .bootstrap_server(true)
        .server_sec_tag(SERVER_SEC_TAG)
        .build();
    let mut rt = Runtime::new(config, Lwm2mSession::new(session_rng));
    rt.on_modem_init(Ok(ModemInitResult::Success));
    loop {
        let next = rt.poll(&mut port);
        while let Some(event) = rt.poll_event() {
            let request = match event {
                Event::LteLinkUp => Some(LinkRequest::Up),
                Event::LteLinkDown => Some(LinkRequest::Down),
                Event::LtePowerOff => Some(LinkRequest::PowerOff),
                Event::Reboot => cortex_m::peripheral::SCB::sys_reset(),
                _ => None,
            };
            if let Some(request) = request {
                let _ = port.modem.request_link(request);
            }
        }
        port.wait_until(next);
    }
}

fn halt() -> ! {
    loop {
        cortex_m::asm::wfe();
    }
}
