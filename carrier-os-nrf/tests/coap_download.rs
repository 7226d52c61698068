//! The nRF port's CoAP block-wise download (RFC 7959 Block2 over RFC 7252
//! CON exchanges) against a scripted server behind a fake `Transport`,
//! with virtual time.

use core::cell::Cell;
use core::task::Poll;
use std::collections::VecDeque;

use carrier_os::download::{DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::modem::{PdnId, SecTag};
use carrier_os::time::{Clock, Instant};
use carrier_os::transport::{Endpoint, Security, SocketId, Transport, TransportError};
use carrier_os_nrf::download::{CoapDownload, PortDownload};
use lwm2m_core::coap::block::{BlockValue, Szx};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::coap::{MessageType, MessageWriter, Repr, Token};

struct TestClock(Cell<u64>);
impl Clock for TestClock {
    fn now(&self) -> Instant {
        Instant::from_millis(self.0.get())
    }
}
impl carrier_os::wait::Wait for TestClock {
    // Virtual time: datagrams are already queued, so report I/O after a
    // 100 ms step (or the deadline, if nearer).
    fn wait_until(&mut self, deadline: Option<Instant>) -> carrier_os::wait::Wake {
        let step = self.0.get() + 100;
        match deadline {
            Some(d) if d.as_millis() <= step => {
                self.0.set(self.0.get().max(d.as_millis()));
                carrier_os::wait::Wake::Deadline
            }
            _ => {
                self.0.set(step);
                carrier_os::wait::Wake::Io
            }
        }
    }
}

/// One GET the server saw.
#[derive(Debug, Clone)]
struct Seen {
    mid: u16,
    block: Option<BlockValue>,
    path: Vec<String>,
    host: Option<String>,
}

#[derive(Default)]
struct Server {
    file: Vec<u8>,
    endpoint: Option<Endpoint>,
    closed: bool,
    to_client: VecDeque<Vec<u8>>,
    seen: Vec<Seen>,
    acks_from_client: Vec<u16>,
    rsts_from_client: Vec<u16>,
    /// Requests to ignore (lost) before answering.
    drop: usize,
    /// Answer with this block size instead.
    szx: Option<Szx>,
    /// Answer with this code instead of content.
    code: Option<Code>,
    /// Empty ACK first, then the response as a separate CON.
    separate: bool,
    /// Stop answering after this many responses.
    answer_limit: Option<usize>,
    answered: usize,
    /// Fuzzing: answer with a valid header (ACK, this code byte, the
    /// request's MID and token) followed by these raw bytes.
    raw_tail: Option<(u8, Vec<u8>)>,
}

impl Server {
    fn with_file(len: usize) -> Self {
        Server { file: (0..len).map(|i| (i * 7 + i / 256) as u8).collect(), ..Default::default() }
    }

    fn respond(&mut self, req: &Repr<'_>) {
        let block =
            req.options.get(OptionNumber::Block2).map(|o| BlockValue::parse(o.value).unwrap());
        let token = Token::new(req.token.as_bytes()).unwrap();
        let mut buf = [0u8; 1400];
        let (ty, mid) = if self.separate {
            let ack = Repr::empty(MessageType::Ack, req.message_id);
            let mut b = [0u8; 4];
            let n = ack.encode_into(&mut b).unwrap();
            self.to_client.push_back(b[..n].to_vec());
            (MessageType::Con, 0x7000 + self.answered as u16)
        } else {
            (MessageType::Ack, req.message_id)
        };
        let code = self.code.unwrap_or(Code::Content);
        let mut w = MessageWriter::new(&mut buf, ty, code, mid, token).unwrap();
        if code == Code::Content {
            let asked = block.unwrap_or(BlockValue::new(0, false, Szx::S1024).unwrap());
            let szx = self.szx.unwrap_or(asked.szx).min(asked.szx);
            let size = szx.size();
            // The block holding the asked position, in the (smaller) size.
            let num = (asked.offset() / size) as u32;
            let start = num as usize * size;
            let end = (start + size).min(self.file.len());
            let more = end < self.file.len();
            let b = BlockValue::new(num, more, szx).unwrap();
            w.add_uint(OptionNumber::Block2, b.to_uint()).unwrap();
            w.add_uint(OptionNumber::Size2, self.file.len() as u32).unwrap();
            w.set_payload(&self.file[start.min(end)..end]).unwrap();
        }
        let n = w.len();
        self.to_client.push_back(buf[..n].to_vec());
        self.answered += 1;
    }
}

impl Transport for Server {
    fn open(&mut self, endpoint: &Endpoint) -> Result<SocketId, TransportError> {
        self.endpoint = Some(endpoint.clone());
        self.closed = false;
        Ok(SocketId(3))
    }
    fn poll_open(&mut self, _s: SocketId) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }
    fn send(&mut self, _s: SocketId, d: &[u8]) -> Poll<Result<(), TransportError>> {
        let req = Repr::decode(d).expect("the client sends valid CoAP");
        if req.msg_type == MessageType::Ack {
            self.acks_from_client.push(req.message_id);
            return Poll::Ready(Ok(()));
        }
        if req.msg_type == MessageType::Rst {
            self.rsts_from_client.push(req.message_id);
            return Poll::Ready(Ok(()));
        }
        assert_eq!(req.msg_type, MessageType::Con, "requests are confirmable");
        assert_eq!(req.code, Code::Get);
        self.seen.push(Seen {
            mid: req.message_id,
            block: req
                .options
                .get(OptionNumber::Block2)
                .map(|o| BlockValue::parse(o.value).unwrap()),
            path: req
                .options
                .iter()
                .filter(|o| o.number == OptionNumber::UriPath)
                .map(|o| String::from_utf8(o.value.to_vec()).unwrap())
                .collect(),
            host: req
                .options
                .get(OptionNumber::UriHost)
                .map(|o| String::from_utf8(o.value.to_vec()).unwrap()),
        });
        if let Some((code, tail)) = &self.raw_tail {
            let tkl = req.token.len();
            let mut d = vec![0x60 | tkl as u8, *code];
            d.extend_from_slice(&req.message_id.to_be_bytes());
            d.extend_from_slice(req.token.as_bytes());
            d.extend_from_slice(tail);
            self.to_client.push_back(d);
        } else if self.drop > 0 {
            self.drop -= 1;
        } else if self.answer_limit.is_none_or(|l| self.answered < l) {
            self.respond(&req);
        }
        Poll::Ready(Ok(()))
    }
    fn recv(&mut self, _s: SocketId, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        match self.to_client.pop_front() {
            Some(d) => {
                let n = d.len().min(buf.len()); // datagram semantics: truncate
                buf[..n].copy_from_slice(&d[..n]);
                Poll::Ready(Ok(n))
            }
            None => Poll::Pending,
        }
    }
    fn close(&mut self, _s: SocketId) {
        self.closed = true;
    }
}

fn request(uri: &str, offset: u64) -> DownloadRequest<'_> {
    DownloadRequest { uri, sec_tag: None, pdn: PdnId(0), offset }
}

/// Polls until `Done` or an error, advancing time 100 ms per pending poll;
/// returns the bytes and the outcome.
fn run(
    dl: &mut CoapDownload,
    server: &mut Server,
    clock: &TestClock,
    buf_len: usize,
) -> (Vec<u8>, Result<(), DownloadError>) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; buf_len];
    for _ in 0..100_000 {
        match dl.poll(server, clock, &mut buf) {
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                assert!((1..=buf_len).contains(&len));
                out.extend_from_slice(&buf[..len]);
            }
            Poll::Ready(Ok(DownloadProgress::Done)) => return (out, Ok(())),
            Poll::Ready(Err(e)) => return (out, Err(e)),
            Poll::Pending => clock.0.set(clock.0.get() + 100),
        }
    }
    panic!("download did not end");
}

#[test]
fn whole_file_arrives_in_1024_byte_blocks_with_its_size() {
    let mut server = Server::with_file(2500);
    let clock = TestClock(Cell::new(0));
    let mut dl = CoapDownload::new(7);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/fw/app.bin", 0)).unwrap();
    let (got, end) = run(&mut dl, &mut server, &clock, 4096);
    assert_eq!(end, Ok(()));
    assert_eq!(got, server.file);
    assert_eq!(PortDownload::<Server, TestClock>::size(&dl), Some(2500));
    let nums: Vec<_> = server.seen.iter().map(|s| s.block.unwrap()).collect();
    assert_eq!(
        nums.iter().map(|b| (b.num, b.szx, b.more)).collect::<Vec<_>>(),
        [(0, Szx::S1024, false), (1, Szx::S1024, false), (2, Szx::S1024, false)]
    );
    assert_eq!(server.seen[0].path, ["fw", "app.bin"]);
    assert_eq!(server.seen[0].host, None, "no Uri-Host for an IP literal (RFC 7252 §6.4)");
    assert_eq!(server.endpoint.as_ref().unwrap().port, 5683);
    assert!(server.closed, "the socket is closed after Done");
}

#[test]
fn resume_asks_for_the_block_holding_the_offset_and_skips_what_the_caller_has() {
    let mut server = Server::with_file(3000);
    let clock = TestClock(Cell::new(0));
    let mut dl = CoapDownload::new(9);
    dl.start(&mut server, &clock, &request("coap://fw.example.net:5700/f", 1500)).unwrap();
    let (got, end) = run(&mut dl, &mut server, &clock, 4096);
    assert_eq!(end, Ok(()));
    assert_eq!(got, server.file[1500..]);
    assert_eq!(server.seen[0].block.unwrap().num, 1, "1500 / 1024 = block 1");
    assert_eq!(server.seen[0].host.as_deref(), Some("fw.example.net"));
    assert_eq!(server.endpoint.as_ref().unwrap().port, 5700);
}

#[test]
fn a_small_caller_buffer_gets_every_byte_in_order() {
    let mut server = Server::with_file(2100);
    let clock = TestClock(Cell::new(0));
    let mut dl = CoapDownload::new(1);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
    let (got, end) = run(&mut dl, &mut server, &clock, 100);
    assert_eq!(end, Ok(()));
    assert_eq!(got, server.file);
}

#[test]
fn a_smaller_block_size_from_the_server_is_followed() {
    let mut server = Server::with_file(1000);
    server.szx = Some(Szx::S256);
    let clock = TestClock(Cell::new(0));
    let mut dl = CoapDownload::new(3);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 300)).unwrap();
    let (got, end) = run(&mut dl, &mut server, &clock, 4096);
    assert_eq!(end, Ok(()));
    assert_eq!(got, server.file[300..]);
    let asked: Vec<_> =
        server.seen.iter().map(|s| (s.block.unwrap().num, s.block.unwrap().szx)).collect();
    assert_eq!(asked, [(0, Szx::S1024), (1, Szx::S256), (2, Szx::S256), (3, Szx::S256)]);
}

#[test]
fn con_retransmits_with_the_same_message_id_and_doubling_timeout() {
    let mut server = Server::with_file(10);
    server.drop = 2;
    let clock = TestClock(Cell::new(0));
    let mut dl = CoapDownload::new(11);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
    let mut buf = [0u8; 64];
    let mut sent_at = Vec::new();
    let mut got = Vec::new();
    for _ in 0..2000 {
        let before = server.seen.len();
        let p = dl.poll(&mut server, &clock, &mut buf);
        if server.seen.len() > before {
            sent_at.push(clock.0.get());
        }
        match p {
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                got.extend_from_slice(&buf[..len])
            }
            Poll::Ready(Ok(DownloadProgress::Done)) => break,
            Poll::Ready(Err(e)) => panic!("{e:?}"),
            Poll::Pending => clock.0.set(clock.0.get() + 10),
        }
    }
    assert_eq!(got, server.file);
    assert_eq!(sent_at.len(), 3);
    assert!(
        server.seen.iter().all(|s| s.mid == server.seen[0].mid),
        "retransmissions reuse the MID"
    );
    let first = sent_at[1] - sent_at[0];
    let second = sent_at[2] - sent_at[1];
    assert!((2000..=3010).contains(&first), "ACK_TIMEOUT..ACK_TIMEOUT*1.5, got {first}");
    assert!(second.abs_diff(2 * first) <= 20, "the timeout doubles: {first} then {second}");
}

#[test]
fn no_answer_times_out_before_any_block_and_disconnects_after_one() {
    let clock = TestClock(Cell::new(0));
    let mut server = Server::with_file(10);
    server.drop = usize::MAX;
    let mut dl = CoapDownload::new(5);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
    let (_, end) = run(&mut dl, &mut server, &clock, 64);
    assert_eq!(end, Err(DownloadError::TimedOut));
    assert_eq!(server.seen.len(), 1 + 4, "the request and MAX_RETRANSMIT retransmissions");
    assert!(clock.0.get() >= 2000 * (1 + 2 + 4 + 8 + 16), "waited the whole back-off");

    let mut server = Server::with_file(3000);
    server.answer_limit = Some(1);
    let mut dl = CoapDownload::new(5);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
    let (got, end) = run(&mut dl, &mut server, &clock, 4096);
    assert_eq!(got.len(), 1024);
    assert_eq!(end, Err(DownloadError::Disconnected), "resumable once a block arrived");
}

#[test]
fn error_codes_are_refused_with_the_coap_code_as_status() {
    let clock = TestClock(Cell::new(0));
    let mut server = Server::with_file(10);
    server.code = Some(Code::NotFound);
    let mut dl = CoapDownload::new(5);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
    assert_eq!(
        run(&mut dl, &mut server, &clock, 64).1,
        Err(DownloadError::Refused { status: 404 })
    );
}

#[test]
fn a_separate_response_is_acknowledged_and_delivered() {
    let clock = TestClock(Cell::new(0));
    let mut server = Server::with_file(1500);
    server.separate = true;
    let mut dl = CoapDownload::new(5);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
    let (got, end) = run(&mut dl, &mut server, &clock, 4096);
    assert_eq!(end, Ok(()));
    assert_eq!(got, server.file);
    assert_eq!(
        server.acks_from_client,
        [0x7000, 0x7001],
        "each CON response is ACKed with its MID"
    );
    assert_eq!(server.seen.len(), 2, "no retransmission after the empty ACK");
}

#[test]
fn an_unknown_confirmable_message_is_rejected_with_rst_and_the_download_goes_on() {
    let clock = TestClock(Cell::new(0));
    let mut server = Server::with_file(100);
    // A stray CON (another token) waiting before the first response.
    let mut buf = [0u8; 32];
    let stray = MessageWriter::new(
        &mut buf,
        MessageType::Con,
        Code::Content,
        0x4242,
        Token::new(&[9, 9, 9, 9, 9, 9]).unwrap(),
    )
    .unwrap();
    let n = stray.len();
    server.to_client.push_back(buf[..n].to_vec());
    let mut dl = CoapDownload::new(5);
    dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
    let (got, end) = run(&mut dl, &mut server, &clock, 4096);
    assert_eq!(end, Ok(()));
    assert_eq!(got, server.file);
    assert_eq!(server.rsts_from_client, [0x4242]);
}

#[test]
fn start_refuses_bad_requests_and_a_second_download() {
    let clock = TestClock(Cell::new(0));
    let mut server = Server::with_file(10);
    let mut dl = CoapDownload::new(5);
    let coaps = request("coaps://192.0.2.1/f", 0);
    assert_eq!(dl.start(&mut server, &clock, &coaps), Err(DownloadError::NoCredentials));
    let http = request("http://192.0.2.1/f", 0);
    assert_eq!(dl.start(&mut server, &clock, &http), Err(DownloadError::UnsupportedScheme));
    let far = request("coap://192.0.2.1/f", 1 << 40);
    assert_eq!(dl.start(&mut server, &clock, &far), Err(DownloadError::Refused { status: 416 }));
    let mut with_tag = request("coaps://192.0.2.1/f", 0);
    with_tag.sec_tag = Some(SecTag(42));
    dl.start(&mut server, &clock, &with_tag).unwrap();
    assert_eq!(
        server.endpoint.as_ref().unwrap().security,
        Security::DtlsPsk { sec_tag: SecTag(42), connection_id: false }
    );
    assert_eq!(server.endpoint.as_ref().unwrap().port, 5684);
    assert_eq!(dl.start(&mut server, &clock, &with_tag), Err(DownloadError::Busy));
    PortDownload::<Server, TestClock>::abort(&mut dl, &mut server);
    assert!(server.closed);
    let mut buf = [0u8; 8];
    assert_eq!(dl.poll(&mut server, &clock, &mut buf), Poll::Ready(Err(DownloadError::NotStarted)));
}

#[test]
fn download_conformance_suite_passes_on_the_nrf_port_assembly() {
    // The shared carrier-os suite (also run on carrier-os-std), on
    // `NrfPort` with only the parts `Download` needs.
    let server = Server::with_file(3000);
    let expected = server.file.clone();
    let mut port = carrier_os_nrf::assembly::NrfPort {
        clock: TestClock(Cell::new(0)),
        storage: (),
        random: (),
        log: (),
        modem: (),
        transport: server,
        download: CoapDownload::new(77),
        dfu: (),
    };
    carrier_os::conformance::download_suite(
        &mut port,
        "coap://192.0.2.1/fw",
        &expected,
        carrier_os::time::Duration::from_secs(60),
    );
}

/// A virtual clock that jumps to the deadline (nothing arrives by itself).
struct JumpClock(Cell<u64>);
impl Clock for JumpClock {
    fn now(&self) -> Instant {
        Instant::from_millis(self.0.get())
    }
}
impl carrier_os::wait::Wait for JumpClock {
    fn wait_until(&mut self, deadline: Option<Instant>) -> carrier_os::wait::Wake {
        let d = deadline.expect("the test never waits forever");
        self.0.set(self.0.get().max(d.as_millis()));
        carrier_os::wait::Wake::Deadline
    }
}

#[test]
fn the_port_wakes_for_a_retransmission_the_runtime_does_not_know_of() {
    use carrier_os::download::Download;
    use carrier_os::wait::{Wait, Wake};
    let mut server = Server::with_file(10);
    server.drop = 1;
    let mut port = carrier_os_nrf::assembly::NrfPort {
        clock: JumpClock(Cell::new(0)),
        storage: (),
        random: (),
        log: (),
        modem: (),
        transport: server,
        download: CoapDownload::new(21),
        dfu: (),
    };
    port.start_download(&request("coap://192.0.2.1/f", 0)).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(port.poll_download(&mut buf), Poll::Pending);
    assert_eq!(port.transport.seen.len(), 1);
    // A runtime deadline before the retransmission is honoured as such.
    assert_eq!(port.wait_until(Some(Instant::from_millis(500))), Wake::Deadline);
    // No runtime deadline: the port still wakes, at ACK_TIMEOUT..×1.5, as I/O.
    assert_eq!(port.wait_until(None), Wake::Io);
    let woke_at = port.clock.0.get();
    assert!((2000..=3000).contains(&woke_at), "woke at {woke_at} ms");
    assert_eq!(
        port.poll_download(&mut buf),
        Poll::Ready(Ok(DownloadProgress::Fragment { len: 10 }))
    );
    assert_eq!(port.transport.seen.len(), 2, "the request was retransmitted");
    assert_eq!(port.transport.seen[0].mid, port.transport.seen[1].mid);
}

proptest::proptest! {
    #[test]
    fn arbitrary_datagrams_from_the_server_never_panic(
        datagrams in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..1300), 1..6)
    ) {
        let clock = TestClock(Cell::new(0));
        let mut server = Server::with_file(10);
        server.drop = usize::MAX;
        server.to_client = datagrams.into_iter().collect();
        let mut dl = CoapDownload::new(5);
        dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", 0)).unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..20 {
            if let Poll::Ready(Err(_) | Ok(DownloadProgress::Done)) = dl.poll(&mut server, &clock, &mut buf) {
                break;
            }
        }
    }

    #[test]
    fn arbitrary_options_and_payload_in_a_matching_response_never_panic(
        code in proptest::num::u8::ANY,
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..1300),
        offset in 0u64..5000,
    ) {
        let clock = TestClock(Cell::new(0));
        let mut server = Server::with_file(10);
        server.raw_tail = Some((code, tail));
        let mut dl = CoapDownload::new(5);
        dl.start(&mut server, &clock, &request("coap://192.0.2.1/f", offset)).unwrap();
        let mut buf = [0u8; 300];
        for _ in 0..50 {
            match dl.poll(&mut server, &clock, &mut buf) {
                Poll::Ready(Err(_) | Ok(DownloadProgress::Done)) => break,
                Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                    proptest::prop_assert!((1..=300).contains(&len));
                }
                Poll::Pending => clock.0.set(clock.0.get() + 1000),
            }
        }
    }
}
