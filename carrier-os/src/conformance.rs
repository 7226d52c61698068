//! The trait-conformance suite: checks that a port keeps the MUST contracts
//! written on each trait.
//!
//! Any port runs these from its own tests (enable the `conformance` feature
//! in `dev-dependencies`). Each function takes a port instance and panics
//! with a message naming the broken contract. The suites use keys in
//! [`TEST_KEYS`] and security tag [`TEST_SEC_TAG`]; run them on a scratch
//! device or directory.
//!
//! Functions that wait take a `timeout` on the port's own clock and call
//! [`Wait::wait_until`], so the same suite runs on real time and on a
//! simulated clock.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use core::task::Poll;

use crate::dfu::{Dfu, DfuError, ImageType};
use crate::download::{Download, DownloadProgress, DownloadRequest};
use crate::modem::{
    Identity, LinkRequest, LinkState, Modem, ModemError, PdnId, PdnState, Psk, SecTag,
};
use crate::random::Random;
use crate::storage::{Key, Storage, StorageError};
use crate::time::{Clock, Duration, Instant};
use crate::transport::{Endpoint, Transport, TransportError};
use crate::wait::Wait;

/// Keys the storage suite writes and deletes.
pub const TEST_KEYS: core::ops::RangeInclusive<u16> = 0xCAF0..=0xCAF3;

/// Security tag the modem suite writes and deletes.
pub const TEST_SEC_TAG: SecTag = SecTag(0x00CA_0FFE);

/// Waits on `port` until `done` returns `Some`, failing after `timeout`.
fn wait_for<P: Wait + Clock + ?Sized, T>(
    port: &mut P,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&mut P) -> Option<T>,
) -> T {
    let deadline = port.now() + timeout;
    loop {
        if let Some(t) = done(port) {
            return t;
        }
        let now = port.now();
        assert!(now < deadline, "timed out after {timeout} waiting for {what}");
        port.wait_until(Some(deadline));
    }
}

/// [`Clock`]: `now` is monotonic; [`Wait`]: a deadline wake-up happens no
/// earlier than the deadline, and a past deadline returns at once.
pub fn clock_suite<P: Clock + Wait + ?Sized>(port: &mut P) {
    let mut last = port.now();
    for _ in 0..1000 {
        let t = port.now();
        assert!(t >= last, "Clock::now went backwards: {last} then {t}");
        last = t;
    }
    let deadline = port.now() + Duration::from_millis(20);
    loop {
        let wake = port.wait_until(Some(deadline));
        if wake == crate::wait::Wake::Deadline {
            assert!(
                port.now() >= deadline,
                "Wake::Deadline at {} before the deadline {deadline}",
                port.now()
            );
            break;
        }
    }
    let before = port.now();
    let past = Instant::from_millis(before.as_millis().saturating_sub(1));
    port.wait_until(Some(past));
    assert!(
        port.now() - before < Duration::from_secs(1),
        "wait_until with a past deadline did not return at once"
    );
}

/// [`Random`]: values vary.
pub fn random_suite<P: Random + ?Sized>(port: &mut P) {
    let first = port.random_u32();
    let varied = (0..64).any(|_| port.random_u32() != first);
    assert!(varied, "Random::random_u32 returned {first:#x} 65 times");
}

/// [`Storage`]: absent vs empty, replace, delete, size limit, short buffer,
/// independence of records, durability across `reopen`.
///
/// `reopen` turns the port into a fresh instance over the same medium (a
/// reboot); pass `|s| s` if the port cannot be reopened.
pub fn storage_suite<S: Storage>(mut port: S, reopen: impl FnOnce(S) -> S) {
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| Key(TEST_KEYS.start() + i));
    for k in [a, b, c, d] {
        port.delete(k).expect("delete of an absent or present record");
    }
    let mut buf = [0u8; 64];
    assert_eq!(port.get(a, &mut buf), Ok(None), "a deleted record MUST read as absent");
    port.delete(a).expect("deleting an absent record MUST succeed");

    port.set(a, b"first").unwrap();
    assert_eq!(port.get(a, &mut buf), Ok(Some(5)));
    assert_eq!(&buf[..5], b"first");
    port.set(a, b"second value").unwrap();
    assert_eq!(port.get(a, &mut buf), Ok(Some(12)), "set MUST replace the record");
    assert_eq!(&buf[..12], b"second value");

    port.set(b, b"").unwrap();
    assert_eq!(
        port.get(b, &mut buf),
        Ok(Some(0)),
        "an empty record MUST exist, distinct from absent"
    );

    assert!(S::MAX_VALUE_LEN >= crate::storage::MIN_VALUE_LEN, "MAX_VALUE_LEN below MIN_VALUE_LEN");
    let mut big = [0u8; crate::storage::MIN_VALUE_LEN];
    for (i, x) in big.iter_mut().enumerate() {
        *x = (i * 7 + 3) as u8;
    }
    port.set(c, &big).expect("a record of MIN_VALUE_LEN bytes MUST be stored");
    let mut big_back = [0u8; crate::storage::MIN_VALUE_LEN];
    assert_eq!(port.get(c, &mut big_back), Ok(Some(big.len())));
    assert_eq!(big_back, big);
    assert_eq!(
        port.get(c, &mut buf),
        Err(StorageError::BufferTooSmall { len: big.len() }),
        "a short buffer MUST give BufferTooSmall with the record length"
    );

    if S::MAX_VALUE_LEN < 8192 {
        let huge = [0x5au8; 8192];
        let too_big = &huge[..S::MAX_VALUE_LEN + 1];
        assert_eq!(
            port.set(a, too_big),
            Err(StorageError::TooLarge { len: too_big.len(), max: S::MAX_VALUE_LEN }),
        );
        assert_eq!(port.get(a, &mut buf), Ok(Some(12)), "a refused set MUST leave the old value");
    }

    port.set(d, b"gone").unwrap();
    port.delete(d).unwrap();
    assert_eq!(port.get(d, &mut buf), Ok(None));
    assert_eq!(port.get(a, &mut buf), Ok(Some(12)), "delete MUST NOT touch other records");

    let mut port = reopen(port);
    assert_eq!(port.get(a, &mut buf), Ok(Some(12)), "records MUST survive a reopen");
    assert_eq!(&buf[..12], b"second value");
    assert_eq!(port.get(b, &mut buf), Ok(Some(0)));
    assert_eq!(port.get(d, &mut buf), Ok(None), "deletes MUST survive a reopen");
    for k in [a, b, c, d] {
        port.delete(k).unwrap();
    }
}

/// [`Modem`]: identity formats, link up/down, PSK writes refused while the
/// link is up, PDN and network information follow the link.
///
/// The port must be able to bring the link up within `timeout`.
pub fn modem_suite<P: Modem + Wait + Clock + ?Sized>(port: &mut P, timeout: Duration) {
    let imei = port.identity(Identity::Imei).expect("IMEI MUST be readable");
    assert!(
        imei.len() == 15 && imei.bytes().all(|b| b.is_ascii_digit()),
        "IMEI {imei:?} is not 15 digits"
    );
    match port.identity(Identity::Imsi) {
        Ok(imsi) => assert!(
            (6..=15).contains(&imsi.len()) && imsi.bytes().all(|b| b.is_ascii_digit()),
            "IMSI {imsi:?} is not 6..=15 digits"
        ),
        Err(e) => {
            assert_eq!(e, ModemError::NoSim, "IMSI unreadable for another reason than no SIM")
        }
    }
    match port.identity(Identity::Msisdn) {
        Ok(m) => assert!(
            !m.is_empty() && m.trim_start_matches('+').bytes().all(|b| b.is_ascii_digit()),
            "MSISDN {m:?} is not digits"
        ),
        Err(e) => {
            assert!(matches!(e, ModemError::NotAvailable | ModemError::NoSim), "MSISDN error {e:?}")
        }
    }

    port.request_link(LinkRequest::Down).unwrap();
    assert_eq!(
        port.link_state(),
        LinkState::Down,
        "link MUST read Down right after request_link(Down)"
    );
    assert_eq!(
        port.pdn_state(PdnId::DEFAULT),
        PdnState::Inactive,
        "PDNs MUST be inactive with the link down"
    );
    assert_eq!(port.network_info(), Err(ModemError::LinkDown));

    let psk = Psk::new(&[0x11; 16]).unwrap();
    port.psk_store(TEST_SEC_TAG, Some(b"conformance"), &psk)
        .expect("psk_store MUST work with the link down");
    assert_eq!(port.psk_exists(TEST_SEC_TAG), Ok(true));

    port.request_link(LinkRequest::Up).unwrap();
    wait_for(port, timeout, "link up", |p| p.link_state().is_up().then_some(()));
    assert_eq!(
        port.psk_store(TEST_SEC_TAG, None, &psk),
        Err(ModemError::LinkUp),
        "psk_store MUST be refused while the link is up"
    );
    assert_eq!(
        port.psk_delete(TEST_SEC_TAG),
        Err(ModemError::LinkUp),
        "psk_delete MUST be refused while up"
    );
    assert_eq!(port.psk_exists(TEST_SEC_TAG), Ok(true), "a refused write MUST leave the tag");
    port.network_info().expect("network_info MUST work with the link up");
    assert_eq!(
        port.pdn_activate(&crate::modem::PdnConfig {
            apn: None,
            pdn_type: crate::modem::PdnType::Ipv4v6
        }),
        Ok(PdnId::DEFAULT),
        "apn None MUST give the default PDN"
    );
    wait_for(port, timeout, "default PDN", |p| {
        matches!(p.pdn_state(PdnId::DEFAULT), PdnState::Active(_)).then_some(())
    });
    assert_eq!(port.pdn_state(PdnId(200)), PdnState::Inactive, "an unknown PDN MUST read Inactive");

    let c1 = port.counters().unwrap();
    let c2 = port.counters().unwrap();
    assert!(c2.tx_bytes >= c1.tx_bytes && c2.rx_bytes >= c1.rx_bytes, "counters MUST be monotonic");

    port.request_link(LinkRequest::Down).unwrap();
    assert_eq!(port.link_state(), LinkState::Down);
    assert_eq!(port.pdn_state(PdnId::DEFAULT), PdnState::Inactive);
    port.psk_delete(TEST_SEC_TAG).unwrap();
    assert_eq!(port.psk_exists(TEST_SEC_TAG), Ok(false));
    port.psk_delete(TEST_SEC_TAG).expect("psk_delete MUST be idempotent");
}

/// [`Transport`]: open completes, a datagram goes out and its echo comes
/// back, `recv` does not block, a closed handle is invalid.
///
/// `echo` is an endpoint (reachable by the port, link already up) that sends
/// every datagram back to its sender.
pub fn transport_suite<P: Transport + Wait + Clock + ?Sized>(
    port: &mut P,
    echo: &Endpoint,
    timeout: Duration,
) {
    let s = port.open(echo).expect("open");
    wait_for(port, timeout, "open", |p| match p.poll_open(s) {
        Poll::Pending => None,
        Poll::Ready(r) => {
            r.expect("open MUST succeed towards the echo peer");
            Some(())
        }
    });
    assert_eq!(port.poll_open(s), Poll::Ready(Ok(())), "poll_open MUST stay Ready once open");
    let mut buf = [0u8; 64];
    assert_eq!(
        port.recv(s, &mut buf),
        Poll::Pending,
        "recv MUST return Pending when nothing waits"
    );

    let msg: &[u8] = b"carrier-os conformance datagram";
    // Datagrams may be lost on a real network: retry a few times.
    let mut got = None;
    for _ in 0..5 {
        wait_for(port, timeout, "send", |p| match p.send(s, msg) {
            Poll::Pending => None,
            Poll::Ready(r) => {
                r.expect("send");
                Some(())
            }
        });
        let deadline = port.now() + timeout / 5;
        while port.now() < deadline {
            if let Poll::Ready(r) = port.recv(s, &mut buf) {
                got = Some(r.expect("recv"));
                break;
            }
            port.wait_until(Some(deadline));
        }
        if got.is_some() {
            break;
        }
    }
    let n = got.expect("no echo came back");
    assert_eq!(&buf[..n], msg, "the echo MUST be the datagram sent, whole");

    // Truncation: a datagram longer than the buffer is cut, not an error.
    wait_for(port, timeout, "send", |p| match p.send(s, msg) {
        Poll::Pending => None,
        Poll::Ready(r) => {
            r.expect("send");
            Some(())
        }
    });
    let mut small = [0u8; 7];
    let n = wait_for(port, timeout, "echo", |p| match p.recv(s, &mut small) {
        Poll::Pending => None,
        Poll::Ready(r) => Some(r.expect("recv into a short buffer MUST truncate, not fail")),
    });
    assert_eq!(&small[..n], &msg[..7]);

    port.close(s);
    port.close(s);
    assert!(
        matches!(port.send(s, msg), Poll::Ready(Err(TransportError::InvalidSocket))),
        "send on a closed handle MUST fail with InvalidSocket"
    );
}

/// [`Download`]: a whole file arrives in order; a download started at an
/// offset delivers exactly the tail. `uri` must serve `expected`.
pub fn download_suite<P: Download + Wait + Clock + ?Sized>(
    port: &mut P,
    uri: &str,
    expected: &[u8],
    timeout: Duration,
) {
    fn fetch<P: Download + Wait + Clock + ?Sized>(
        port: &mut P,
        uri: &str,
        offset: u64,
        expected: &[u8],
        timeout: Duration,
    ) {
        let req = DownloadRequest { uri, sec_tag: None, pdn: PdnId::DEFAULT, offset };
        port.start_download(&req).expect("start_download");
        assert_eq!(
            port.start_download(&req),
            Err(crate::download::DownloadError::Busy),
            "a second start MUST be refused while one runs"
        );
        let mut pos = offset as usize;
        let mut buf = [0u8; 512];
        wait_for(port, timeout, "download", |p| {
            loop {
                match p.poll_download(&mut buf) {
                    Poll::Pending => return None,
                    Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                        assert!(
                            len >= 1 && len <= buf.len(),
                            "fragment length {len} out of 1..=buf.len()"
                        );
                        assert_eq!(
                            &buf[..len],
                            &expected[pos..pos + len],
                            "fragment at {pos} differs"
                        );
                        pos += len;
                    }
                    Poll::Ready(Ok(DownloadProgress::Done)) => return Some(()),
                    Poll::Ready(Err(e)) => panic!("download failed: {e}"),
                }
            }
        });
        assert_eq!(pos, expected.len(), "Done before the whole file arrived");
        if let Some(size) = port.download_size() {
            assert_eq!(size, expected.len() as u64, "download_size MUST be the whole file's size");
        }
    }
    fetch(port, uri, 0, expected, timeout);
    fetch(port, uri, (expected.len() / 3) as u64, expected, timeout);
    port.abort_download();
}

/// [`Dfu`]: detection, resume offset, integrity, schedule only after finish.
///
/// `image` must be an application image of at least 64 bytes that the
/// port's `dfu_detect` recognises; `reopen` simulates a reboot (pass `|p|
/// p` if the port cannot).
pub fn dfu_suite<P: Dfu>(mut port: P, image: &[u8], reopen: impl FnOnce(P) -> P) {
    assert_eq!(
        port.dfu_detect(&image[..P::DETECT_LEN.saturating_sub(1)]),
        None,
        "too few bytes MUST give None"
    );
    assert_eq!(port.dfu_detect(&[0xFF; 64]), None, "garbage MUST give None");
    assert_eq!(port.dfu_detect(image), Some(ImageType::Application));

    port.dfu_reset().unwrap();
    assert_eq!(port.dfu_write(b"x"), Err(DfuError::NotStarted), "write before start MUST fail");
    assert_eq!(port.dfu_schedule(), Err(DfuError::Incomplete), "schedule with no image MUST fail");

    assert_eq!(
        port.dfu_start(ImageType::Application, Some(image.len() as u64)),
        Ok(0),
        "fresh start MUST be 0"
    );
    let half = image.len() / 2;
    port.dfu_write(&image[..half]).unwrap();
    assert_eq!(port.dfu_offset(), half as u64);

    let mut port = reopen(port);
    assert_eq!(
        port.dfu_start(ImageType::Application, Some(image.len() as u64)),
        Ok(half as u64),
        "a restart MUST resume at the bytes already written"
    );
    port.dfu_write(&image[half..]).unwrap();
    assert_eq!(port.dfu_schedule(), Err(DfuError::Incomplete), "schedule before finish MUST fail");
    let crc = crate::crc32(0, image);
    assert_eq!(
        port.dfu_finish(Some(crc ^ 1)),
        Err(DfuError::Integrity),
        "a wrong CRC MUST be refused"
    );

    assert_eq!(
        port.dfu_start(ImageType::Application, None),
        Ok(0),
        "a refused image MUST be discarded"
    );
    port.dfu_write(image).unwrap();
    port.dfu_finish(Some(crc)).unwrap();
    port.dfu_schedule().unwrap();
    port.dfu_reset().unwrap();
    assert_eq!(port.dfu_schedule(), Err(DfuError::Incomplete), "reset MUST discard the image");
}
