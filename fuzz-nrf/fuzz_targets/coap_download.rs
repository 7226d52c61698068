//! Arbitrary datagrams from a CoAP server — some with the request's
//! message ID and token spliced in, so they reach the Block2 logic —
//! against the block-wise downloader: never a panic, never a fragment
//! longer than the caller's buffer.
#![no_main]

use core::cell::Cell;
use core::task::Poll;

use carrier_os::download::{DownloadProgress, DownloadRequest};
use carrier_os::modem::PdnId;
use carrier_os::time::{Clock, Instant};
use carrier_os::transport::{Endpoint, SocketId, Transport, TransportError};
use carrier_os_nrf::download::{CoapDownload, PortDownload};
use libfuzzer_sys::fuzz_target;

struct Net<'a> {
    replies: Vec<&'a [u8]>,
    next: usize,
    last_request: Vec<u8>,
    inbox: Option<Vec<u8>>,
}

impl Transport for Net<'_> {
    fn open(&mut self, _e: &Endpoint) -> Result<SocketId, TransportError> {
        Ok(SocketId(0))
    }
    fn poll_open(&mut self, _s: SocketId) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }
    fn send(&mut self, _s: SocketId, d: &[u8]) -> Poll<Result<(), TransportError>> {
        self.last_request = d.to_vec();
        if let Some(r) = self.replies.get(self.next) {
            self.next += 1;
            let mut out = r.to_vec();
            // Odd-length replies take the request's header and token
            // (MID and token match), then the fuzzer's bytes after them.
            if r.len() % 2 == 1 && self.last_request.len() >= 8 {
                let keep = 4 + usize::from(self.last_request[0] & 0x0f);
                out = self.last_request[..keep.min(self.last_request.len())].to_vec();
                out[0] = (out[0] & 0xcf) | 0x20; // ACK
                out[1] = r.first().copied().unwrap_or(0x45);
                out.extend_from_slice(r.get(1..).unwrap_or(&[]));
            }
            self.inbox = Some(out);
        }
        Poll::Ready(Ok(()))
    }
    fn recv(&mut self, _s: SocketId, buf: &mut [u8]) -> Poll<Result<usize, TransportError>> {
        match self.inbox.take() {
            Some(d) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                Poll::Ready(Ok(n))
            }
            None => Poll::Pending,
        }
    }
    fn close(&mut self, _s: SocketId) {}
}

struct T(Cell<u64>);
impl Clock for T {
    fn now(&self) -> Instant {
        Instant::from_millis(self.0.get())
    }
}

fuzz_target!(|input: (u16, u16, Vec<&[u8]>)| {
    let (offset, buf_len, replies) = input;
    let buf_len = usize::from(buf_len % 1500) + 1;
    let clock = T(Cell::new(0));
    let mut net = Net { replies, next: 0, last_request: Vec::new(), inbox: None };
    let mut dl = CoapDownload::new(0x1234_5678);
    let req = DownloadRequest { uri: "coap://192.0.2.1/f", sec_tag: None, pdn: PdnId(0), offset: u64::from(offset) };
    if dl.start(&mut net, &clock, &req).is_err() {
        return;
    }
    let mut buf = vec![0u8; buf_len];
    for _ in 0..2_000 {
        match dl.poll(&mut net, &clock, &mut buf) {
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => assert!(len >= 1 && len <= buf_len),
            Poll::Ready(_) => return,
            Poll::Pending => clock.0.set(clock.0.get() + 1_000),
        }
    }
});
