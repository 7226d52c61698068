//! `Clock` and `Wait` on the nRF91 (nRF9160, nRF9161, nRF9151): RTC1 (non-secure) counting the
//! 32.768 kHz low-frequency clock, `wfe` until the deadline or an event.
//!
//! Owns RTC1 and the low-frequency clock start. Time is the 24-bit RTC
//! counter extended in software: every reading compares the counter with
//! the previous one and counts a wrap (one per 512 s); [`RtcClock`] never
//! sleeps longer than [`MAX_SLEEP_MS`] in one stretch, so no wrap is
//! missed even while the runtime waits for hours.
//!
//! Waking: COMPARE0 raises RTC1's interrupt line, which stays masked in the
//! NVIC; with `SCR.SEVONPEND` set, its becoming pending wakes `wfe`.
//! Readiness of the modem comes from the IPC interrupt: the application's
//! IPC handler calls `nrf_modem::ipc_irq_handler()` and then
//! [`signal_io`], which sets a flag and executes `sev`, so an event that
//! arrives between the runtime's last poll and the `wfe` is not lost
//! (`wfe` returns at once on the latched event).
//!
//! Guarantee: `now` is monotonic; `wait_until` returns `Deadline` no
//! earlier than the deadline by `now`.

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::pac::{CLOCK_NS, Interrupt, RTC1_NS};
use carrier_os::time::{Clock, Instant};
use carrier_os::wait::{Wait, Wake};
use cortex_m::peripheral::{NVIC, SCB};

pub use crate::ticks::MAX_SLEEP_MS;
use crate::ticks::{Ticks24, WRAP, ms_to_ticks, ticks_to_ms};

static IO: AtomicBool = AtomicBool::new(false);

/// Tells [`RtcClock::wait_until`] that something may be ready. Call it from
/// the IPC interrupt handler after `nrf_modem::ipc_irq_handler()` (and from
/// any other source of events the runtime polls).
pub fn signal_io() {
    IO.store(true, Ordering::Release);
    cortex_m::asm::sev();
}

/// Source of the 32.768 kHz clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LfClock {
    /// The internal RC oscillator (±500 ppm after calibration; no crystal).
    Rc,
    /// The crystal oscillator (the nRF91 SiPs carry the crystal).
    Xtal,
}

/// Milliseconds since start-up from RTC1.
pub struct RtcClock {
    rtc: RTC1_NS,
    ticks: Cell<Ticks24>,
}

impl core::fmt::Debug for RtcClock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RtcClock").field("now", &self.now()).finish()
    }
}

impl RtcClock {
    /// Starts the low-frequency clock from `source`, waits for it (a few
    /// hundred ms for the crystal, once at start-up) and starts RTC1 at
    /// 32.768 kHz. Sets `SCR.SEVONPEND` so that a pending, masked RTC1
    /// interrupt wakes `wfe`.
    pub fn new(rtc: RTC1_NS, clock: &CLOCK_NS, scb: &mut SCB, source: LfClock) -> Self {
        clock.lfclksrc.write(|w| match source {
            LfClock::Rc => w.src().lfrc(),
            LfClock::Xtal => w.src().lfxo(),
        });
        clock.events_lfclkstarted.reset();
        clock.tasks_lfclkstart.write(|w| w.tasks_lfclkstart().trigger());
        while clock.events_lfclkstarted.read().events_lfclkstarted().bit_is_clear() {}
        clock.events_lfclkstarted.reset();

        rtc.tasks_stop.write(|w| w.tasks_stop().trigger());
        rtc.prescaler.write(|w| w.prescaler().variant(0));
        rtc.tasks_clear.write(|w| w.tasks_clear().trigger());
        rtc.events_compare[0].reset();
        rtc.intenset.write(|w| w.compare0().set());
        rtc.tasks_start.write(|w| w.tasks_start().trigger());
        scb.set_sevonpend();
        Self { rtc, ticks: Cell::new(Ticks24::default()) }
    }

    /// The extended tick count.
    fn ticks(&self) -> u64 {
        let mut t = self.ticks.get();
        let now = t.extend(self.rtc.counter.read().counter().bits());
        self.ticks.set(t);
        now
    }

    /// Arms COMPARE0 `ms` from now (at least two ticks ahead, as the RTC
    /// requires) and clears the pending interrupt so its next edge wakes.
    fn arm(&self, ms: u64) {
        let ticks = ms_to_ticks(ms).max(2);
        let target = self.ticks().saturating_add(ticks) % WRAP;
        self.rtc.events_compare[0].reset();
        NVIC::unpend(Interrupt::RTC1);
        // `target` < 2^24, the CC register's width.
        #[allow(clippy::cast_possible_truncation)]
        self.rtc.cc[0].write(|w| w.compare().variant(target as u32));
    }
}

impl Clock for RtcClock {
    fn now(&self) -> Instant {
        Instant::from_millis(ticks_to_ms(self.ticks()))
    }
}

impl Wait for RtcClock {
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
        loop {
            if IO.swap(false, Ordering::AcqRel) {
                return Wake::Io;
            }
            let now = self.now();
            let remaining = match deadline {
                Some(d) if d <= now => return Wake::Deadline,
                Some(d) => d.saturating_since(now).as_millis(),
                None => MAX_SLEEP_MS,
            };
            self.arm(remaining.min(MAX_SLEEP_MS));
            cortex_m::asm::wfe();
            let compare = self.rtc.events_compare[0].read().events_compare().bit_is_set();
            if IO.load(Ordering::Acquire) {
                continue; // reported at the top of the loop
            }
            if !compare {
                // Woken by something else (an interrupt, a latched event):
                // a spurious `Io` is allowed and never loses an event.
                if deadline.is_some_and(|d| d <= self.now()) {
                    return Wake::Deadline;
                }
                return Wake::Io;
            }
            // The compare fired: either the deadline or a MAX_SLEEP step.
        }
    }
}
