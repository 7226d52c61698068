//! Firmware download by URI, resumable from an offset.
//!
//! Owns the [`Download`] trait: one download at a time, started with a URI
//! (`http`, `https`, `coap`, `coaps`) and an offset, then polled for
//! fragments. Mirrors the original's download service (`carrier-api.md` §5
//! "Download": get with security tags, PDN and resume offset; events
//! FRAGMENT, ERROR, DONE, CLOSED).

use core::task::Poll;

use thiserror::Error;

use crate::modem::{PdnId, SecTag};

/// A download request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DownloadRequest<'a> {
    /// The package URI.
    pub uri: &'a str,
    /// Security tag for `https`/`coaps`, if any.
    pub sec_tag: Option<SecTag>,
    /// PDN to download over.
    pub pdn: PdnId,
    /// Byte offset to resume from (0 for a fresh download).
    pub offset: u64,
}

/// What [`Download::poll_download`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DownloadProgress {
    /// `len` bytes of the file were written into the caller's buffer; they
    /// follow directly the bytes delivered before (or the start offset).
    Fragment {
        /// Bytes in the buffer.
        len: usize,
    },
    /// The whole file has been delivered.
    Done,
}

/// What the download could not do. Maps to FOTA_FAIL values: `UriTooLong` →
/// −E2BIG, `UnsupportedScheme`/`InvalidUri` → −EINVAL/−ENOTSUP, `NoRoute` →
/// −ENETUNREACH, `Disconnected` → −ENETDOWN (if resuming is impossible),
/// `TimedOut` → −ETIMEDOUT, `NoCredentials` → −ECONNREFUSED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DownloadError {
    /// The URI is malformed.
    #[error("invalid URI")]
    InvalidUri,
    /// The URI is longer than the port accepts.
    #[error("URI too long")]
    UriTooLong,
    /// The scheme is not supported by this port.
    #[error("unsupported URI scheme")]
    UnsupportedScheme,
    /// The host could not be resolved or reached.
    #[error("no route to host")]
    NoRoute,
    /// The connection dropped mid-transfer. The caller resumes with a new
    /// [`Download::start_download`] at the offset it has stored.
    #[error("connection lost")]
    Disconnected,
    /// The server did not answer in time.
    #[error("timed out")]
    TimedOut,
    /// The server refused the request or the resume offset (HTTP 4xx/5xx,
    /// CoAP 4.xx/5.xx, Range not satisfiable).
    #[error("server refused: status {status}")]
    Refused {
        /// HTTP status, or CoAP code as `class * 100 + detail`.
        status: u16,
    },
    /// TLS/DTLS with the security tag failed or it holds no credentials.
    #[error("secure connection refused")]
    NoCredentials,
    /// No download is in progress.
    #[error("no download in progress")]
    NotStarted,
    /// A download is already in progress.
    #[error("download already in progress")]
    Busy,
    /// Another failure.
    #[error("download I/O error")]
    Io,
}

/// The firmware downloader.
///
/// Readiness: data arriving MUST wake
/// [`Wait::wait_until`](crate::wait::Wait::wait_until).
pub trait Download {
    /// Starts downloading `req.uri` from byte `req.offset`. Returns at once.
    ///
    /// Contract: MUST NOT block on the network. Fails with
    /// [`DownloadError::Busy`] while another download runs.
    fn start_download(&mut self, req: &DownloadRequest<'_>) -> Result<(), DownloadError>;

    /// Takes the next fragment into `buf`.
    ///
    /// Contract: MUST return `Pending` at once if no data is ready;
    /// `Ready(Ok(Fragment { len }))` with `1..=buf.len()` bytes, contiguous
    /// with what came before; `Ready(Ok(Done))` once, after the last byte;
    /// `Ready(Err(_))` on failure. After `Done` or an error the download is
    /// over (a new one may start).
    fn poll_download(&mut self, buf: &mut [u8]) -> Poll<Result<DownloadProgress, DownloadError>>;

    /// Total size of the file, once known (from `Content-Range`/`Content-Length`
    /// or CoAP Size2).
    fn download_size(&mut self) -> Option<u64>;

    /// Stops the current download; idempotent.
    fn abort_download(&mut self);
}
