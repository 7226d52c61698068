//! The nRF port's HTTP(S) ranged download against a scripted server behind
//! a fake `StreamSockets` (the device binding is the modem's TCP/TLS).

use core::task::Poll;

use carrier_os::download::{DownloadError, DownloadProgress, DownloadRequest};
use carrier_os::modem::{PdnId, SecTag};
use carrier_os::transport::TransportError;
use carrier_os_nrf::download::{HttpDownload, StreamSockets, StreamSpec, Uri};

/// A server that answers the whole request with `reply(request)`, handed
/// out `chunk` bytes per read, then ends the stream.
type Reply = Box<dyn Fn(&str) -> Vec<u8>>;

struct Server {
    reply: Reply,
    chunk: usize,
    spec: Option<(String, u16, Option<u32>)>,
    request: Vec<u8>,
    out: Option<Vec<u8>>,
    read_at: usize,
    closed: bool,
}

impl Server {
    fn new(chunk: usize, reply: impl Fn(&str) -> Vec<u8> + 'static) -> Self {
        Server {
            reply: Box::new(reply),
            chunk,
            spec: None,
            request: Vec::new(),
            out: None,
            read_at: 0,
            closed: false,
        }
    }
    fn request_text(&self) -> String {
        String::from_utf8(self.request.clone()).unwrap()
    }
}

impl StreamSockets for Server {
    type Stream = u8;
    fn stream_connect(&mut self, spec: &StreamSpec<'_>) -> Result<u8, TransportError> {
        self.spec = Some((spec.host.to_owned(), spec.port, spec.tls));
        Ok(1)
    }
    fn stream_poll_connect(&mut self, _s: u8) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }
    fn stream_write(&mut self, _s: u8, data: &[u8]) -> Poll<Result<usize, TransportError>> {
        // Accept at most 10 bytes per write, to exercise partial writes.
        let n = data.len().min(10);
        self.request.extend_from_slice(&data[..n]);
        Poll::Ready(Ok(n))
    }
    fn stream_read(&mut self, _s: u8, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        if self.out.is_none() {
            let text = self.request_text();
            if !text.ends_with("\r\n\r\n") {
                return Poll::Pending;
            }
            self.out = Some((self.reply)(&text));
        }
        let out = self.out.as_ref().unwrap();
        let n = (out.len() - self.read_at).min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&out[self.read_at..self.read_at + n]);
        self.read_at += n;
        Poll::Ready(Ok(n))
    }
    fn stream_close(&mut self, _s: u8) {
        self.closed = true;
    }
}

fn file() -> Vec<u8> {
    (0..5000u32).map(|i| (i * 13 + i / 97) as u8).collect()
}

/// Answers a `Range: bytes=N-` with 206 and the rest, else 200 and all.
fn ranged(req: &str) -> Vec<u8> {
    let f = file();
    let from = req
        .lines()
        .find_map(|l| l.strip_prefix("Range: bytes="))
        .map(|r| r.trim_end_matches('-').parse::<usize>().unwrap());
    let mut out = match from {
        Some(n) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {n}-{}/{}\r\nContent-Length: {}\r\n\r\n",
            f.len() - 1,
            f.len(),
            f.len() - n
        )
        .into_bytes(),
        None => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", f.len()).into_bytes(),
    };
    out.extend_from_slice(&f[from.unwrap_or(0)..]);
    out
}

fn start(
    dl: &mut HttpDownload<u8>,
    server: &mut Server,
    uri: &str,
    offset: u64,
    tag: Option<u32>,
) -> Result<(), DownloadError> {
    let req = DownloadRequest { uri, sec_tag: tag.map(SecTag), pdn: PdnId(0), offset };
    dl.start(server, &Uri::parse(uri)?, &req)
}

fn run(
    dl: &mut HttpDownload<u8>,
    server: &mut Server,
    buf_len: usize,
) -> (Vec<u8>, Result<(), DownloadError>) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; buf_len];
    for _ in 0..100_000 {
        match dl.poll(server, &mut buf) {
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                assert!((1..=buf_len).contains(&len));
                out.extend_from_slice(&buf[..len]);
            }
            Poll::Ready(Ok(DownloadProgress::Done)) => return (out, Ok(())),
            Poll::Ready(Err(e)) => return (out, Err(e)),
            Poll::Pending => {}
        }
    }
    panic!("download did not end");
}

#[test]
fn a_resume_sends_range_and_delivers_from_the_offset() {
    let mut server = Server::new(333, ranged);
    let mut dl = HttpDownload::default();
    start(&mut dl, &mut server, "http://fw.example.com/img/app.bin?v=2", 1200, None).unwrap();
    let (got, end) = run(&mut dl, &mut server, 700);
    assert_eq!(end, Ok(()));
    assert_eq!(got, file()[1200..]);
    assert_eq!(dl.size(), Some(5000));
    let req = server.request_text();
    assert!(req.starts_with("GET /img/app.bin?v=2 HTTP/1.1\r\n"), "{req}");
    assert!(req.contains("\r\nHost: fw.example.com\r\n"), "{req}");
    assert!(req.contains("\r\nRange: bytes=1200-\r\n"), "{req}");
    assert_eq!(server.spec, Some(("fw.example.com".to_owned(), 80, None)));
    assert!(server.closed);
}

#[test]
fn a_fresh_download_sends_no_range_and_gets_every_byte() {
    let mut server = Server::new(1000, ranged);
    let mut dl = HttpDownload::default();
    start(&mut dl, &mut server, "http://192.0.2.7:8080/f", 0, None).unwrap();
    let (got, end) = run(&mut dl, &mut server, 64);
    assert_eq!(end, Ok(()));
    assert_eq!(got, file());
    let req = server.request_text();
    assert!(!req.contains("Range"), "{req}");
    assert!(req.contains("\r\nHost: 192.0.2.7:8080\r\n"), "non-default port in Host: {req}");
}

#[test]
fn a_server_that_ignores_range_has_the_offset_skipped() {
    let mut server = Server::new(100, |_| {
        let f = file();
        let mut out =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", f.len()).into_bytes();
        out.extend_from_slice(&f);
        out
    });
    let mut dl = HttpDownload::default();
    start(&mut dl, &mut server, "http://h/f", 1234, None).unwrap();
    let (got, end) = run(&mut dl, &mut server, 512);
    assert_eq!(end, Ok(()));
    assert_eq!(got, file()[1234..]);
}

#[test]
fn a_range_that_does_not_start_at_the_offset_is_refused() {
    let mut server = Server::new(100, |_| {
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/10\r\nContent-Length: 10\r\n\r\n0123456789"
            .to_vec()
    });
    let mut dl = HttpDownload::default();
    start(&mut dl, &mut server, "http://h/f", 5, None).unwrap();
    let (got, end) = run(&mut dl, &mut server, 512);
    assert!(got.is_empty());
    assert_eq!(end, Err(DownloadError::Io));
}

#[test]
fn error_statuses_are_refused_with_their_code() {
    for (status, head) in [
        (404, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
        (416, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */10\r\n\r\n"),
        (302, "HTTP/1.1 302 Found\r\nLocation: http://x/\r\n\r\n"),
    ] {
        let mut server = Server::new(100, move |_| head.as_bytes().to_vec());
        let mut dl = HttpDownload::default();
        start(&mut dl, &mut server, "http://h/f", 20, None).unwrap();
        assert_eq!(run(&mut dl, &mut server, 64).1, Err(DownloadError::Refused { status }));
    }
}

#[test]
fn a_connection_that_ends_early_is_resumable_and_chunked_is_refused() {
    let mut server = Server::new(100, |_| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly-twenty-bytes...".to_vec()
    });
    let mut dl = HttpDownload::default();
    start(&mut dl, &mut server, "http://h/f", 0, None).unwrap();
    let (got, end) = run(&mut dl, &mut server, 64);
    assert_eq!(got, b"only-twenty-bytes...");
    assert_eq!(end, Err(DownloadError::Disconnected));

    let mut server = Server::new(100, |_| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_vec()
    });
    let mut dl = HttpDownload::default();
    start(&mut dl, &mut server, "http://h/f", 0, None).unwrap();
    assert_eq!(run(&mut dl, &mut server, 64).1, Err(DownloadError::Io));
}

#[test]
fn without_content_length_the_end_of_the_stream_ends_the_file() {
    let mut server = Server::new(7, |_| b"HTTP/1.0 200 OK\r\n\r\nabcdefghijklmnop".to_vec());
    let mut dl = HttpDownload::default();
    start(&mut dl, &mut server, "http://h/f", 3, None).unwrap();
    let (got, end) = run(&mut dl, &mut server, 4);
    assert_eq!(end, Ok(()));
    assert_eq!(got, b"defghijklmnop");
}

#[test]
fn https_needs_a_security_tag_and_passes_it_to_the_socket() {
    let mut server = Server::new(100, ranged);
    let mut dl = HttpDownload::default();
    assert_eq!(
        start(&mut dl, &mut server, "https://h/f", 0, None),
        Err(DownloadError::NoCredentials)
    );
    start(&mut dl, &mut server, "https://[2001:db8::2]/f", 0, Some(44)).unwrap();
    assert_eq!(server.spec, Some(("2001:db8::2".to_owned(), 443, Some(44))));
    assert_eq!(start(&mut dl, &mut server, "https://h/f", 0, Some(44)), Err(DownloadError::Busy));
    let (_, end) = run(&mut dl, &mut server, 4096);
    assert_eq!(end, Ok(()));
    assert!(server.request_text().contains("\r\nHost: [2001:db8::2]\r\n"));
}

proptest::proptest! {
    #[test]
    fn arbitrary_server_bytes_never_panic(
        reply in proptest::collection::vec(proptest::num::u8::ANY, 0..3000),
        chunk in 1usize..400,
        offset in 0u64..4000,
        buf_len in 1usize..600,
    ) {
        let mut server = Server::new(chunk, move |_| reply.clone());
        let mut dl = HttpDownload::default();
        start(&mut dl, &mut server, "http://h/f", offset, None).unwrap();
        let _ = run(&mut dl, &mut server, buf_len);
    }

    #[test]
    fn a_valid_ranged_reply_delivers_the_exact_tail_in_any_chunking(
        chunk in 1usize..700,
        offset in 0u64..5000,
        buf_len in 1usize..900,
    ) {
        let mut server = Server::new(chunk, ranged);
        let mut dl = HttpDownload::default();
        start(&mut dl, &mut server, "http://h/f", offset, None).unwrap();
        let (got, end) = run(&mut dl, &mut server, buf_len);
        proptest::prop_assert_eq!(end, Ok(()));
        proptest::prop_assert_eq!(&got[..], &file()[offset as usize..]);
    }
}

mod any {
    use super::*;
    use carrier_os::time::{Clock, Instant};
    use carrier_os::transport::{Endpoint, SocketId, Transport};
    use carrier_os_nrf::download::{AnyDownload, PortDownload};

    /// Streams from the scripted HTTP server; datagram opens are counted
    /// and refused (no CoAP server here).
    struct Both {
        http: Server,
        coap_opens: Vec<String>,
    }

    impl Transport for Both {
        fn open(&mut self, e: &Endpoint) -> Result<SocketId, TransportError> {
            self.coap_opens.push(e.host.to_string());
            Err(TransportError::NoRoute)
        }
        fn poll_open(&mut self, _s: SocketId) -> Poll<Result<(), TransportError>> {
            Poll::Ready(Err(TransportError::InvalidSocket))
        }
        fn send(&mut self, _s: SocketId, _d: &[u8]) -> Poll<Result<(), TransportError>> {
            Poll::Ready(Err(TransportError::InvalidSocket))
        }
        fn recv(&mut self, _s: SocketId, _b: &mut [u8]) -> Poll<Result<usize, TransportError>> {
            Poll::Ready(Err(TransportError::InvalidSocket))
        }
        fn close(&mut self, _s: SocketId) {}
    }

    impl StreamSockets for Both {
        type Stream = u8;
        fn stream_connect(&mut self, spec: &StreamSpec<'_>) -> Result<u8, TransportError> {
            self.http.stream_connect(spec)
        }
        fn stream_poll_connect(&mut self, s: u8) -> Poll<Result<(), TransportError>> {
            self.http.stream_poll_connect(s)
        }
        fn stream_write(&mut self, s: u8, d: &[u8]) -> Poll<Result<usize, TransportError>> {
            self.http.stream_write(s, d)
        }
        fn stream_read(&mut self, s: u8, b: &mut [u8]) -> Poll<Result<usize, TransportError>> {
            self.http.stream_read(s, b)
        }
        fn stream_close(&mut self, s: u8) {
            self.http.stream_close(s)
        }
    }

    struct Zero;
    impl Clock for Zero {
        fn now(&self) -> Instant {
            Instant::from_millis(0)
        }
    }

    fn req(uri: &str) -> DownloadRequest<'_> {
        DownloadRequest { uri, sec_tag: None, pdn: PdnId(0), offset: 0 }
    }

    #[test]
    fn the_scheme_picks_the_protocol_and_one_download_runs_at_a_time() {
        let mut net = Both { http: Server::new(500, ranged), coap_opens: Vec::new() };
        let mut dl = AnyDownload::<u8>::new(1);
        assert_eq!(
            dl.start(&mut net, &Zero, &req("ftp://h/f")),
            Err(DownloadError::UnsupportedScheme)
        );
        assert_eq!(
            dl.start(&mut net, &Zero, &req("coap://cs.example/f")),
            Err(DownloadError::NoRoute),
            "coap goes to the datagram transport"
        );
        assert_eq!(net.coap_opens, ["cs.example"]);
        dl.start(&mut net, &Zero, &req("http://hs.example/f")).unwrap();
        assert_eq!(
            dl.start(&mut net, &Zero, &req("coap://cs.example/f")),
            Err(DownloadError::Busy)
        );
        let mut got = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            match dl.poll(&mut net, &Zero, &mut buf) {
                Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                    got.extend_from_slice(&buf[..len])
                }
                Poll::Ready(Ok(DownloadProgress::Done)) => break,
                Poll::Ready(Err(e)) => panic!("{e:?}"),
                Poll::Pending => {}
            }
        }
        assert_eq!(got, file());
        assert_eq!(PortDownload::<Both, Zero>::size(&dl), Some(5000));
        assert_eq!(net.coap_opens.len(), 1, "the http download opened no datagram socket");
    }
}
