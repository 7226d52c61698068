//! Shared by the real-mode download tests (`real.rs`, `https_download.rs`):
//! the HTTP/1.1 file responder with `Range: bytes=N-` support that their
//! test servers run over a plain or a TLS stream, and the poll loop that
//! runs a started download to its end.

use std::io::{BufRead, Write};
use std::task::Poll;

use carrier_os::download::{Download, DownloadError, DownloadProgress};
use carrier_os::time::{Clock, Duration};
use carrier_os::wait::Wait;
use carrier_os_std::real::RealPort;

/// Reads a request head; returns its `Range: bytes=N-` start (if any), or
/// `None` if the connection ended or failed before the blank line.
pub fn read_request_range(reader: &mut impl BufRead) -> Option<Option<usize>> {
    let mut range = None;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) if line == "\r\n" => return Some(range),
            Ok(_) => {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = v.trim().trim_end_matches('-').parse::<usize>().ok();
                }
            }
        }
    }
}

/// Answers with `file` from `range` (206 with `Content-Range`, or 200 for no
/// range). The head always announces the whole rest; with `cut`, only that
/// many body bytes are sent. Write errors are ignored (the client left).
pub fn respond_with_file(
    out: &mut impl Write,
    file: &[u8],
    range: Option<usize>,
    cut: Option<usize>,
) {
    let start = range.unwrap_or(0).min(file.len());
    let body = &file[start..];
    let head = match range {
        Some(s) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {s}-{}/{}\r\nConnection: close\r\n\r\n",
            body.len(),
            file.len().saturating_sub(1),
            file.len()
        ),
        None => format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
    };
    let _ = out.write_all(head.as_bytes());
    let send = cut.map_or(body.len(), |c| c.min(body.len()));
    let _ = out.write_all(&body[..send]);
    let _ = out.flush();
}

/// Polls a started download to its end (10 s limit), appending fragments
/// to `out`.
pub fn finish_download(p: &mut RealPort, out: &mut Vec<u8>) -> Result<(), DownloadError> {
    let mut buf = [0u8; 700];
    let deadline = p.now() + Duration::from_secs(10);
    loop {
        match p.poll_download(&mut buf) {
            Poll::Pending => {
                assert!(p.now() < deadline, "download stalled");
                p.wait_until(Some(deadline));
            }
            Poll::Ready(Ok(DownloadProgress::Fragment { len })) => {
                assert!((1..=buf.len()).contains(&len), "fragment of {len} bytes");
                out.extend_from_slice(&buf[..len]);
            }
            Poll::Ready(Ok(DownloadProgress::Done)) => return Ok(()),
            Poll::Ready(Err(e)) => return Err(e),
        }
    }
}
