//! The device's random seed: AT round trips to the modem timed with the
//! Cortex-M33 cycle counter (`DWT.CYCCNT`, 64 MHz). The reasoning and the
//! strength claimed are in [`crate::random`].
//!
//! Owns nothing after the call; it enables the cycle counter (`DCB.DEMCR.
//! TRCENA`, `DWT.CTRL.CYCCNTENA`), which stays on.

use cortex_m::peripheral::{DCB, DWT};

use crate::random::SeededRandom;

/// A generator seeded from [`JITTER_SAMPLES`](crate::random::JITTER_SAMPLES)
/// timed `AT` round trips (each ~0.1–1 ms; the seeding takes some tens of
/// milliseconds, once at start-up). Call after `nrf_modem::init`.
pub fn modem_jitter_random(dwt: &mut DWT, dcb: &mut DCB) -> SeededRandom {
    dcb.enable_trace();
    dwt.enable_cycle_counter();
    SeededRandom::from_jitter(|| {
        let t0 = DWT::cycle_count();
        // The answer does not matter, only how long it took.
        let _ = nrf_modem::send_at_blocking::<16>("AT");
        DWT::cycle_count().wrapping_sub(t0)
    })
}
