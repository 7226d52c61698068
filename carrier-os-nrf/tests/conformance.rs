//! The carrier-os conformance suite (from `carrier_os::conformance`, shared
//! with `carrier-os-std`) against the nRF91 port built for the host: the
//! port's `Modem` runs over a modem transcript, time is virtual.

use carrier_os::conformance;
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::wait::{Wait, Wake};
use carrier_os_nrf::assembly::NrfPort;
use carrier_os_nrf::modem::AtModem;
use carrier_os_nrf::port::NrfModem;
use carrier_os_nrf::transcript::Transcript;

/// Virtual time for the suites (they need `Clock + Wait`): each wait
/// advances `step_ms` and reports I/O (the fakes have their answers queued
/// already), or the deadline once it is reached.
struct VirtualClock {
    now_ms: u64,
    step_ms: u64,
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        Instant::from_millis(self.now_ms)
    }
}

impl Wait for VirtualClock {
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
        self.now_ms += self.step_ms;
        match deadline {
            Some(d) if self.now_ms >= d.as_millis() => Wake::Deadline,
            _ => Wake::Io,
        }
    }
}

/// `NrfPort` with a virtual clock, `modem` and `transport`; the other
/// parts are absent (`()`), which the suites here do not need.
type Harness<M, T> = NrfPort<VirtualClock, (), (), (), M, T, (), ()>;

fn harness<M, T>(modem: M, transport: T, step_ms: u64) -> Harness<M, T> {
    NrfPort {
        clock: VirtualClock { now_ms: 0, step_ms },
        storage: (),
        random: (),
        log: (),
        modem,
        transport,
        download: (),
        dfu: (),
    }
}

#[test]
fn modem_suite_passes_on_the_nrf_port_over_a_transcript() {
    let script = include_str!("transcripts/conformance_modem.txt");
    let mut h = harness(NrfModem::new(AtModem::new(Transcript::new(script))), (), 100);
    h.modem.init().unwrap();
    conformance::modem_suite(&mut h, Duration::from_secs(60));
    let transcript = h.modem.at().channel();
    transcript.finish().expect("the suite drove every scripted command");
    assert_eq!(transcript.dropped_notifications(), 0, "no notification was lost");
}

const FLASH_LEN: usize = 8 * 4096;

#[test]
fn storage_suite_passes_on_flash_storage_over_ram_nor_flash() {
    use carrier_os_nrf::storage::{BlockingFlash, FlashStorage, RamFlash};
    let flash = BlockingFlash(RamFlash::<FLASH_LEN>::default());
    let storage = FlashStorage::new(flash, 0..FLASH_LEN as u32).unwrap();
    conformance::storage_suite(storage, |s| {
        // A reboot: the same flash contents, a fresh map over them.
        FlashStorage::new(s.into_flash(), 0..FLASH_LEN as u32).unwrap()
    });
}

#[test]
fn flash_storage_survives_many_rewrites_by_garbage_collecting_pages() {
    use carrier_os::storage::{Key, Storage};
    use carrier_os_nrf::storage::{BlockingFlash, FlashStorage, RamFlash};
    let flash = BlockingFlash(RamFlash::<FLASH_LEN>::default());
    let mut s = FlashStorage::new(flash, 0..FLASH_LEN as u32).unwrap();
    let mut buf = [0u8; 600];
    // 200 rewrites of 500 bytes = 100 KB through 32 KiB of flash.
    for i in 0..200u32 {
        let value = [i as u8; 500];
        s.set(Key(0xCA01), &value).unwrap();
        s.set(Key(0xCA02), &i.to_be_bytes()).unwrap();
        assert_eq!(s.get(Key(0xCA01), &mut buf), Ok(Some(500)));
        assert_eq!(buf[..500], value);
    }
    assert_eq!(s.get(Key(0xCA02), &mut buf), Ok(Some(4)));
    assert_eq!(buf[..4], 199u32.to_be_bytes());
}

mod dfu {
    use super::conformance;
    use carrier_os::dfu::{Dfu, DfuError, ImageType, UpdateOutcome};
    use carrier_os_nrf::dfu::NrfDfu;
    use carrier_os_nrf::dfu::host::{FixedBoot, RamModemDelta};
    use carrier_os_nrf::storage::RamFlash;

    const PAGE: u32 = 4096;
    type Target = NrfDfu<RamFlash<{ 8 * 4096 }>, RamModemDelta, FixedBoot>;

    fn target(flash: RamFlash<{ 8 * 4096 }>, modem: RamModemDelta, boot: FixedBoot) -> Target {
        NrfDfu::new(flash, 0..6 * PAGE, 7 * PAGE..8 * PAGE, modem, boot).unwrap()
    }

    /// An MCUboot-style image: IMAGE_MAGIC, then 995 bytes (odd length, so
    /// the last flash word is partial).
    fn app_image() -> Vec<u8> {
        let mut img = 0x96f3_b83du32.to_le_bytes().to_vec();
        img.extend((0..995u32).map(|i| (i * 31 + 7) as u8));
        img
    }

    fn reopen(t: Target) -> Target {
        let (flash, modem, boot) = t.into_parts();
        target(flash, modem, boot)
    }

    #[test]
    fn dfu_suite_passes_on_the_nrf_dfu_target() {
        let t = target(RamFlash::default(), RamModemDelta::default(), FixedBoot(None));
        conformance::dfu_suite(t, &app_image(), reopen);
    }

    #[test]
    fn modem_delta_is_detected_by_its_magic_and_resumes_from_the_modem_offset() {
        let mut t = target(
            RamFlash::default(),
            RamModemDelta { area: 1000, ..Default::default() },
            FixedBoot(None),
        );
        let delta = [0, 0, 0, 0, 0x6d, 0x65, 0x44, 0x75, 1, 2, 3];
        assert_eq!(t.dfu_detect(&delta), Some(ImageType::ModemDelta));
        assert_eq!(t.dfu_start(ImageType::ModemDelta, Some(2000)), Err(DfuError::TooLarge));
        assert_eq!(t.dfu_start(ImageType::ModemDelta, Some(11)), Ok(0));
        t.dfu_write(&delta[..5]).unwrap();
        let mut t = reopen(t);
        assert_eq!(t.dfu_start(ImageType::ModemDelta, Some(11)), Ok(5), "the modem kept 5 bytes");
        t.dfu_write(&delta[5..]).unwrap();
        t.dfu_finish(None).unwrap();
        t.dfu_schedule().unwrap();
        let (_, modem, _) = t.into_parts();
        assert!(modem.scheduled);
    }

    #[test]
    fn scheduled_application_reports_its_outcome_once_after_reboot() {
        let mut t = target(RamFlash::default(), RamModemDelta::default(), FixedBoot(None));
        let img = app_image();
        t.dfu_start(ImageType::Application, Some(img.len() as u64)).unwrap();
        t.dfu_write(&img).unwrap();
        t.dfu_finish(Some(carrier_os::crc32(0, &img))).unwrap();
        t.dfu_schedule().unwrap();
        // Reboot: MCUboot swapped and the new image runs as a test image.
        let (flash, modem, _) = t.into_parts();
        let mut t = target(flash, modem, FixedBoot(Some(true)));
        assert_eq!(t.dfu_take_outcome(), Ok(Some(UpdateOutcome::Applied(ImageType::Application))));
        assert_eq!(t.dfu_take_outcome(), Ok(None), "exactly once");
    }

    #[test]
    fn image_without_mcuboot_header_fails_integrity() {
        let mut t = target(RamFlash::default(), RamModemDelta::default(), FixedBoot(None));
        t.dfu_start(ImageType::Application, None).unwrap();
        t.dfu_write(&[0u8; 100]).unwrap();
        assert_eq!(t.dfu_finish(None), Err(DfuError::Integrity));
        assert_eq!(t.dfu_schedule(), Err(DfuError::Incomplete));
    }
}

mod transport {
    use super::conformance;
    use carrier_os::modem::{PdnId, SecTag};
    use carrier_os::time::Duration;
    use carrier_os::transport::{Endpoint, Family, Security, SocketId, Transport, TransportError};
    use carrier_os_nrf::transport::NrfTransport;
    use carrier_os_nrf::transport::host::EchoSockets;
    use core::task::Poll;

    fn endpoint(security: Security) -> Endpoint {
        Endpoint {
            host: "192.0.2.1".try_into().unwrap(),
            port: 5684,
            pdn: PdnId::DEFAULT,
            family: Family::Any,
            security,
        }
    }

    #[test]
    fn transport_suite_passes_on_the_nrf_transport_over_echo_sockets() {
        let mut sockets = EchoSockets::default();
        sockets.known_tags.push(25).unwrap();
        let mut h = super::harness((), NrfTransport::new(sockets), 10);
        let dtls = Security::DtlsPsk { sec_tag: SecTag(25), connection_id: false };
        conformance::transport_suite(&mut h, &endpoint(dtls), Duration::from_secs(10));
    }

    #[test]
    fn dtls_without_credentials_is_refused_at_open() {
        let mut t = NrfTransport::new(EchoSockets::default());
        let dtls = Security::DtlsPsk { sec_tag: SecTag(99), connection_id: true };
        assert_eq!(t.open(&endpoint(dtls)), Err(TransportError::NoCredentials));
        assert_eq!(t.poll_open(SocketId(200)), Poll::Ready(Err(TransportError::InvalidSocket)));
    }

    #[test]
    fn non_ip_opens_without_host_or_port_and_carries_datagrams() {
        let mut t = NrfTransport::new(EchoSockets::default());
        let non_ip = Endpoint {
            host: heapless::String::new(),
            port: 0,
            pdn: PdnId(1),
            family: Family::NonIp,
            security: Security::None,
        };
        let s = t.open(&non_ip).unwrap();
        while t.poll_open(s).is_pending() {}
        assert_eq!(t.send(s, b"nidd"), Poll::Ready(Ok(())));
        let mut buf = [0u8; 8];
        assert_eq!(t.recv(s, &mut buf), Poll::Ready(Ok(4)));
        assert_eq!(&buf[..4], b"nidd");
        let mut ip_without_host = endpoint(Security::None);
        ip_without_host.host = heapless::String::new();
        assert_eq!(t.open(&ip_without_host), Err(TransportError::InvalidEndpoint));
    }

    #[test]
    fn socket_table_is_bounded() {
        let mut t = NrfTransport::new(EchoSockets::default());
        for _ in 0..carrier_os_nrf::transport::MAX_SOCKETS {
            t.open(&endpoint(Security::None)).unwrap();
        }
        assert_eq!(t.open(&endpoint(Security::None)), Err(TransportError::NoSocket));
        t.close(SocketId(0));
        assert_eq!(t.open(&endpoint(Security::None)), Ok(SocketId(0)), "a closed slot is reused");
    }
}

mod mcuboot {
    use carrier_os_nrf::dfu::{BootControl, MCUBOOT_TRAILER_MAGIC, McubootControl};
    use carrier_os_nrf::storage::RamFlash;
    use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};

    #[test]
    fn test_swapped_image_is_confirmed_once() {
        let mut flash = RamFlash::<{ 4 * 4096 }>::default();
        let end = 2 * 4096;
        flash.write(end - 16, &MCUBOOT_TRAILER_MAGIC).unwrap();
        let mut boot = McubootControl::new(flash, 0..end);
        assert_eq!(boot.confirm_running_image(), Ok(Some(true)));
        assert_eq!(
            boot.confirm_running_image(),
            Ok(None),
            "confirmed images are not reported again"
        );
        let mut flash = boot.into_flash();
        let mut ok = [0u8; 1];
        flash.read(end - 24, &mut ok).unwrap();
        assert_eq!(ok, [0x01], "image_ok written where MCUboot reads it");
    }

    #[test]
    fn no_trailer_means_no_swap() {
        let mut boot = McubootControl::new(RamFlash::<{ 2 * 4096 }>::default(), 0..8192);
        assert_eq!(boot.confirm_running_image(), Ok(None));
    }
}
