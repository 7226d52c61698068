//! Arbitrary bytes as an HTTP server's whole reply, cut into arbitrary
//! reads, against the ranged downloader: never a panic, never a fragment
//! longer than the caller's buffer, never more bytes than the server sent.
#![no_main]

use core::task::Poll;

use carrier_os::download::{DownloadProgress, DownloadRequest};
use carrier_os::modem::PdnId;
use carrier_os::transport::TransportError;
use carrier_os_nrf::download::{HttpDownload, StreamSockets, StreamSpec, Uri};
use libfuzzer_sys::fuzz_target;

struct Server<'a> {
    reply: &'a [u8],
    cuts: &'a [u8],
    at: usize,
    read: usize,
}

impl StreamSockets for Server<'_> {
    type Stream = u8;
    fn stream_connect(&mut self, _spec: &StreamSpec<'_>) -> Result<u8, TransportError> {
        Ok(0)
    }
    fn stream_poll_connect(&mut self, _s: u8) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }
    fn stream_write(&mut self, _s: u8, data: &[u8]) -> Poll<Result<usize, TransportError>> {
        Poll::Ready(Ok(data.len()))
    }
    fn stream_read(&mut self, _s: u8, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        let cut = self.cuts.get(self.read % self.cuts.len().max(1)).copied().unwrap_or(255);
        self.read += 1;
        if cut == 0 {
            return Poll::Pending;
        }
        let rest = &self.reply[self.at..];
        let n = rest.len().min(usize::from(cut)).min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Poll::Ready(Ok(n))
    }
    fn stream_close(&mut self, _s: u8) {}
}

fuzz_target!(|input: (u16, u16, &[u8], &[u8])| {
    let (offset, buf_len, cuts, reply) = input;
    let buf_len = usize::from(buf_len % 2048) + 1;
    let uri = "http://h/f";
    let req = DownloadRequest { uri, sec_tag: None, pdn: PdnId(0), offset: u64::from(offset) };
    let mut server = Server { reply, cuts, at: 0, read: 0 };
    let mut dl = HttpDownload::default();
    let Ok(parsed) = Uri::parse(uri) else { return };
    if dl.start(&mut server, &parsed, &req).is_err() {
        return;
    }
    let mut buf = vec![0u8; buf_len];
    let mut total = 0usize;
    for _ in 0..10_000 {
        match dl.poll(&mut server, &mut buf) {
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                assert!(len >= 1 && len <= buf_len);
                total += len;
                assert!(total <= reply.len());
            }
            Poll::Ready(_) => return,
            Poll::Pending => {}
        }
    }
});
