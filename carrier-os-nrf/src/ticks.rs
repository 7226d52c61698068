//! Tick arithmetic of the nRF91's RTC at 32.768 kHz, kept apart from the
//! register access (`device::clock`) so that it is tested on the host.
//!
//! Owns the extension of the 24-bit counter to 64 bits ([`Ticks24`]) and
//! the exact conversions between ticks and milliseconds.
//!
//! Guarantee: the extended count is monotonic as long as it is sampled at
//! least once per wrap period (512 s), which `device::clock` ensures by
//! never sleeping longer than [`MAX_SLEEP_MS`]; conversions never
//! overflow for any count reachable in 17 000 years.

/// Ticks per second (PRESCALER = 0).
pub const HZ: u64 = 32_768;
/// The counter is 24 bits wide: it wraps every 512 s.
pub const WRAP: u64 = 1 << 24;
/// Longest single sleep: half a wrap period, so no wrap is missed.
pub const MAX_SLEEP_MS: u64 = 256_000;

/// The 24-bit counter extended by counting wraps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ticks24 {
    wraps: u64,
    last: u32,
}

impl Ticks24 {
    /// The extended count for a new reading of the counter (its low 24
    /// bits are used). A reading below the previous one is a wrap.
    pub fn extend(&mut self, counter: u32) -> u64 {
        let c = counter & 0x00ff_ffff;
        if c < self.last {
            self.wraps = self.wraps.saturating_add(1);
        }
        self.last = c;
        self.wraps.saturating_mul(WRAP).saturating_add(u64::from(c))
    }
}

/// Ticks to whole milliseconds (rounded down), exactly.
pub const fn ticks_to_ms(t: u64) -> u64 {
    (t >> 15).saturating_mul(1000).saturating_add(((t & (HZ - 1)) * 1000) >> 15)
}

/// Milliseconds to ticks, rounded up (a timer armed with it never fires
/// early).
pub const fn ms_to_ticks(ms: u64) -> u64 {
    (ms / 1000).saturating_mul(HZ).saturating_add(((ms % 1000) * HZ).div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_second_is_32768_ticks_both_ways() {
        assert_eq!(ticks_to_ms(HZ), 1000);
        assert_eq!(ms_to_ticks(1000), HZ);
        assert_eq!(ticks_to_ms(WRAP), 512_000, "the counter wraps every 512 s");
    }

    #[test]
    fn conversions_round_so_deadlines_are_never_early() {
        // 1 ms = 32.768 ticks: 33 ticks, which is 1.007 ms → 1 ms.
        assert_eq!(ms_to_ticks(1), 33);
        assert_eq!(ticks_to_ms(32), 0);
        assert_eq!(ticks_to_ms(33), 1);
        for ms in [0, 1, 7, 999, 1001, 86_400_000, MAX_SLEEP_MS] {
            assert!(ticks_to_ms(ms_to_ticks(ms)) >= ms, "{ms}");
        }
    }

    #[test]
    fn wraps_are_counted_and_time_stays_monotonic() {
        let mut t = Ticks24::default();
        assert_eq!(t.extend(10), 10);
        assert_eq!(t.extend(0x00ff_fff0), 0x00ff_fff0);
        assert_eq!(t.extend(5), WRAP + 5, "a smaller reading is a wrap");
        assert_eq!(t.extend(5), WRAP + 5, "the same reading is not");
        assert_eq!(t.extend(0xff00_0007), WRAP + 7, "bits above 24 are ignored");
    }

    #[test]
    fn sampling_every_max_sleep_sees_every_wrap() {
        let mut t = Ticks24::default();
        let step = ms_to_ticks(MAX_SLEEP_MS);
        let mut true_ticks = 0u64;
        for _ in 0..10_000 {
            true_ticks += step;
            let counter = (true_ticks % WRAP) as u32;
            assert_eq!(t.extend(counter), true_ticks);
        }
    }

    #[test]
    fn far_future_counts_do_not_overflow() {
        assert_eq!(ticks_to_ms(u64::MAX / 2), ((u64::MAX / 2) >> 15) * 1000 + 999);
        assert_eq!(ms_to_ticks(u64::MAX), u64::MAX, "saturates");
    }
}
