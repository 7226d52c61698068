//! The smallest firmware image on the nRF91 port: initialise the modem
//! library, read the identity through the typed AT layer, bring the LTE
//! link up and follow it. It exists to prove that `carrier-os-nrf` links
//! with the real `nrf-modem` binding and to measure the footprint of a real
//! image (`llvm-size` on the ELF).
//!
//! Build (from this directory): `cargo build --release`; the target and
//! linker script come from `.cargo/config.toml`.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use carrier_os::modem::{Identity, LinkRequest, Modem};
use carrier_os_nrf::device::{ModemAt, Notifications, NrfModemDelta};
use carrier_os_nrf::dfu::ModemDeltaDfu;
use carrier_os_nrf::modem::AtModem;
use carrier_os_nrf::port::NrfModem;
use cortex_m_rt::entry;
use nrf9160_pac::interrupt;
use panic_halt as _;
// libc functions (`strstr`, `vsnprintf`, …) the modem library calls.
use tinyrlibc as _;

/// The modem library's IPC interrupt.
#[interrupt]
fn IPC() {
    nrf_modem::ipc_irq_handler();
}

/// Unmasks the IPC interrupt at the highest priority.
///
/// Invariant for the `unsafe` block: unmasking can break critical sections
/// that rely on the interrupt being masked; nothing in this program masks
/// IPC for that purpose, and the handler only calls into `nrf_modem`, which
/// does its own locking.
#[allow(unsafe_code)]
fn enable_ipc_interrupt(mut nvic: cortex_m::peripheral::NVIC) {
    unsafe {
        nvic.set_priority(nrf9160_pac::Interrupt::IPC, 0);
        cortex_m::peripheral::NVIC::unmask(nrf9160_pac::Interrupt::IPC);
    }
}

/// Polls a future to completion. `nrf_modem`'s futures are woken from the
/// IPC interrupt; re-polling after each `wfe` is enough for start-up.
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

#[entry]
fn main() -> ! {
    let Some(core) = cortex_m::Peripherals::take() else { halt() };
    enable_ipc_interrupt(core.NVIC);
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
    // Registration and PDN notifications, polled by the port.
    let mut notifications = pin!(block_on(Notifications::new()));
    block_on(notifications.as_mut().register());
    let mut modem = NrfModem::new(AtModem::new(ModemAt::with_notifications(notifications)));
    if modem.init().is_err() {
        halt();
    }
    // A modem delta image interrupted before the reboot resumes here.
    let mut delta = NrfModemDelta::new(None);
    let _resume_at = delta.offset();
    let _imei = modem.identity(Identity::Imei);
    let _fw = modem.identity(Identity::FirmwareVersion);
    if modem.request_link(LinkRequest::Up).is_err() {
        halt();
    }
    loop {
        if modem.link_state().is_up() {
            let _ = modem.network_info();
        }
        cortex_m::asm::wfe();
    }
}

fn halt() -> ! {
    loop {
        cortex_m::asm::wfe();
    }
}
