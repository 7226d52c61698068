//! The one place that talks to tinydtls: an [`Engine`] owns one
//! `dtls_context_t` and the Rust state its callbacks write into.
//!
//! Guarantees, and the argument for each (the crate doc repeats them):
//!
//! * **No unwinding across FFI.** Every `extern "C"` callback runs its body in
//!   `catch_unwind` and returns `-1` (tinydtls's error value) on a panic.
//! * **Pinned callback state.** The state a context's `app` pointer refers to
//!   and the `dtls_handler_t` its `h` pointer refers to are heap allocations
//!   made with `Box::into_raw` before the context is created and released
//!   with `Box::from_raw` only after `dtls_free_context` returned, so they
//!   never move or dangle while tinydtls can call back. While tinydtls runs,
//!   no Rust reference to that state is alive outside the callbacks.
//! * **One caller at a time.** tinydtls has process-wide mutable state (a
//!   static cipher context in `crypto.c`, the log buffer, and the clock
//!   offset this module rewrites). Every call into tinydtls holds
//!   [`TINYDTLS`], a global mutex, so contexts can live on different threads;
//!   that is why [`Engine`] is `Send`.
//! * **Caller-driven clock.** tinydtls 0.8.6 stamps its retransmission queue
//!   with `dtls_ticks()`, which reads `gettimeofday` minus the global
//!   `dtls_clock_offset` (whole seconds). Before each call the engine sets that
//!   offset so tinydtls sees a per-context clock that only moves when
//!   [`Engine::fire_timers`] moves it; the engine turns tinydtls's next
//!   deadline into an [`Instant`] on the caller's clock. Retransmission thus
//!   follows the caller's `now` (a simulation's virtual clock works) with one
//!   caveat: the sub-second part of tinydtls's clock is still the real one,
//!   so flights queued in the same second may be resent together.

#![allow(unsafe_code)]

use core::ffi::{c_int, c_uchar, c_ushort, c_void};
use core::ptr::{self, NonNull};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, MutexGuard, Once};

use tinydtls_sys as sys;

use crate::psk::{Psk, PskStore};
use crate::time::{Duration, Instant};

unsafe extern "C" {
    /// Seconds subtracted from `gettimeofday` by `dtls_ticks` (dtls_time.c,
    /// `WITH_POSIX` branch). Exported by the static library but not by the
    /// bindings.
    static mut dtls_clock_offset: libc::time_t;
    /// `void dtls_set_log_level(log_t level)` (dtls_debug.h); `log_t` is a C
    /// enum, passed as `int`.
    fn dtls_set_log_level(level: c_int);
}

/// `DTLS_EVENT_CONNECTED` (alert.h): handshake finished.
const EVENT_CONNECTED: c_ushort = 0x01DE;
/// `DTLS_LOG_EMERG` (dtls_debug.h): tinydtls logs nothing below it.
const LOG_EMERG: c_int = 0;

/// Serialises every call into tinydtls (see the module doc).
static TINYDTLS: Mutex<()> = Mutex::new(());
static INIT: Once = Once::new();

/// Something a callback reported, in the order tinydtls reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawEvent {
    /// `DTLS_EVENT_CONNECTED`.
    Connected,
    /// An alert the peer sent, or tinydtls's own close_notify timing out.
    Alert { level: u8, description: u8 },
}

/// Which key material the callbacks hand to tinydtls.
pub(crate) enum Credentials {
    /// Our identity and key.
    Client { identity: Vec<u8>, psk: Psk },
    /// A lookup by the identity the client presents.
    Server { store: Box<dyn PskStore> },
}

/// The state the callbacks write into; owned by [`Engine`] through a raw
/// pointer (see the module doc).
pub(crate) struct Shared {
    credentials: Credentials,
    /// Datagrams tinydtls asked to send, with their destination.
    pub(crate) transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Bumped before every call into tinydtls; records written during one
    /// call to one peer share a datagram (see `cb_write`).
    call: u64,
    /// `call` when the last queued transmit was written.
    last_write_call: u64,
    /// Whether records of one call share a datagram.
    coalesce: bool,
    /// Decrypted application data, with its origin.
    pub(crate) received: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Connection events, with the peer concerned.
    pub(crate) events: VecDeque<(SocketAddr, RawEvent)>,
    /// The identity each peer presented (server role).
    pub(crate) identities: HashMap<SocketAddr, Vec<u8>>,
}

/// Largest datagram records are packed into: tinydtls's own record buffer
/// size, below the 1500-byte Ethernet MTU minus IPv6 and UDP headers.
const MAX_DATAGRAM: usize = 1400;

impl Shared {
    /// Queues one record tinydtls wrote. Records for the same peer written
    /// during the same call (one flight, e.g. ServerHello + ServerHelloDone
    /// or ChangeCipherSpec + Finished) go into one datagram, as RFC 6347
    /// §4.1.1 allows: a flight is then lost or delivered whole, so a peer
    /// never sees a Finished without the ChangeCipherSpec before it, and
    /// fewer datagrams cross a lossy link. Only the server does this: GnuTLS
    /// (libcoap 4.3.1) ignores a client's retransmitted final flight when it
    /// comes as one datagram starting with an epoch-0 record, so the client
    /// keeps one record per datagram.
    fn queue_record(&mut self, peer: SocketAddr, record: &[u8]) {
        if self.coalesce
            && self.last_write_call == self.call
            && let Some((to, datagram)) = self.transmits.back_mut()
            && *to == peer
            && datagram.len() + record.len() <= MAX_DATAGRAM
        {
            datagram.extend_from_slice(record);
            return;
        }
        self.last_write_call = self.call;
        self.transmits.push_back((peer, record.to_vec()));
    }
}

/// Why an [`Engine`] could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContextAllocFailed;

/// One tinydtls context plus its callback state and timer.
pub(crate) struct Engine {
    ctx: NonNull<sys::dtls_context_t>,
    shared: NonNull<Shared>,
    handler: NonNull<sys::dtls_handler_t>,
    /// The clock tinydtls sees for this context, in ms, a multiple of 1000.
    dtls_clock_ms: u64,
    /// tinydtls's earliest queued deadline (its ticks), if any.
    next_tick: Option<u32>,
    /// That deadline on the caller's clock.
    retransmit_at: Option<Instant>,
}

// SAFETY: the raw pointers are owned exclusively by this Engine (created in
// `new`, freed in `drop`, never handed out). tinydtls's process-wide state is
// only touched with the `TINYDTLS` mutex held, and the callbacks run on the
// calling thread inside those locked calls. `Shared` holds only `Send` data
// (`Box<dyn PskStore>` requires `Send`). Moving the Engine to another thread
// therefore moves sole ownership of everything it points to.
unsafe impl Send for Engine {}

fn lock() -> MutexGuard<'static, ()> {
    let guard = TINYDTLS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    INIT.call_once(|| {
        // SAFETY: dtls_init only initialises tinydtls's globals (clock offset,
        // crypto, netq, peer storage); it runs once, with the lock held.
        unsafe { sys::dtls_init() };
        // SAFETY: plain setter of a static log level, lock held.
        unsafe { dtls_set_log_level(LOG_EMERG) };
    });
    guard
}

impl Engine {
    /// A new context whose callbacks use `credentials`; with `coalesce`,
    /// records written in one call to one peer share a datagram.
    pub(crate) fn new(
        credentials: Credentials,
        coalesce: bool,
    ) -> Result<Self, ContextAllocFailed> {
        let _guard = lock();
        let shared = NonNull::from(Box::leak(Box::new(Shared {
            credentials,
            transmits: VecDeque::new(),
            call: 0,
            last_write_call: u64::MAX,
            coalesce,
            received: VecDeque::new(),
            events: VecDeque::new(),
            identities: HashMap::new(),
        })));
        let handler = NonNull::from(Box::leak(Box::new(sys::dtls_handler_t {
            write: Some(cb_write),
            read: Some(cb_read),
            event: Some(event_callback()),
            get_user_parameters: Some(cb_user_parameters),
            get_psk_info: Some(psk_info_callback()),
            get_ecdsa_key: None,
            verify_ecdsa_key: None,
        })));
        // SAFETY: dtls_new_context only stores `app` and allocates; the
        // pointer stays valid until `drop` frees the context first.
        let ctx = unsafe { sys::dtls_new_context(shared.as_ptr().cast::<c_void>()) };
        let Some(ctx) = NonNull::new(ctx) else {
            // SAFETY: both came from Box::leak above and were never shared.
            unsafe {
                drop(Box::from_raw(shared.as_ptr()));
                drop(Box::from_raw(handler.as_ptr()));
            }
            return Err(ContextAllocFailed);
        };
        // SAFETY: ctx is a live context; the handler outlives it (freed after
        // dtls_free_context in drop). tinydtls never writes through `h`.
        unsafe { sys::dtls_set_handler(ctx.as_ptr(), handler.as_ptr()) };
        Ok(Engine {
            ctx,
            shared,
            handler,
            dtls_clock_ms: 1_000_000,
            next_tick: None,
            retransmit_at: None,
        })
    }

    /// The callback state. Only called while no tinydtls call is running
    /// (all callers take `&mut self`, and tinydtls calls happen inside
    /// `&mut self` methods that do not hold this borrow).
    pub(crate) fn shared(&mut self) -> &mut Shared {
        // SAFETY: `shared` is a live Box allocation owned by self (see the
        // module doc); `&mut self` guarantees no other reference exists.
        unsafe { self.shared.as_mut() }
    }

    /// When tinydtls next wants to retransmit, on the caller's clock.
    pub(crate) fn retransmit_at(&self) -> Option<Instant> {
        self.retransmit_at
    }

    /// Starts a handshake with `peer`, first dropping any session tinydtls
    /// still holds for it (which sends a close_notify unless one was
    /// already exchanged). Returns false if tinydtls refused.
    pub(crate) fn connect(&mut self, now: Instant, peer: SocketAddr) -> bool {
        let session = session_for(peer);
        let guard = self.enter();
        // SAFETY: live context (lock held by `guard`); `session` is a valid
        // session_t that tinydtls copies before returning. The existing peer
        // must be removed first: tinydtls 0.8.6's dtls_connect on a known
        // peer hands that peer to dtls_connect_peer, which destroys the
        // "previous" peer -- the same object -- and then uses it (a
        // use-after-free, seen here as a double free).
        let rc = unsafe {
            let old = sys::dtls_get_peer(self.ctx.as_ptr(), &session);
            if !old.is_null() {
                sys::dtls_reset_peer(self.ctx.as_ptr(), old);
            }
            sys::dtls_connect(self.ctx.as_ptr(), &session)
        };
        self.refresh_timer(now, &guard);
        rc >= 0
    }

    /// Feeds one datagram from `peer`. Returns tinydtls's result: `0`, or a
    /// negative alert code when it answered with a fatal alert.
    pub(crate) fn handle_message(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        datagram: &[u8],
    ) -> c_int {
        let Ok(len) = c_int::try_from(datagram.len()) else {
            return 0;
        };
        // tinydtls decrypts in place, so it gets its own copy.
        let mut buf = datagram.to_vec();
        let mut session = session_for(peer);
        let guard = self.enter();
        // SAFETY: live context, lock held; `buf` is valid for `len` bytes and
        // writable; `session` is valid and outlives the call.
        let rc = unsafe {
            sys::dtls_handle_message(self.ctx.as_ptr(), &mut session, buf.as_mut_ptr(), len)
        };
        self.refresh_timer(now, &guard);
        rc
    }

    /// Encrypts `data` to `peer`. Returns false if tinydtls did not send it.
    /// The caller must know the session is connected: tinydtls would start a
    /// handshake for an unknown peer.
    pub(crate) fn write(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) -> bool {
        let mut session = session_for(peer);
        let mut copy = data.to_vec();
        let guard = self.enter();
        // SAFETY: live context, lock held; `copy` valid for its length;
        // `session` valid for the call.
        let rc = unsafe {
            sys::dtls_write(self.ctx.as_ptr(), &mut session, copy.as_mut_ptr(), copy.len())
        };
        self.refresh_timer(now, &guard);
        rc > 0
    }

    /// Sends close_notify to `peer`. tinydtls then waits up to 2 s (its
    /// clock) for the peer's close_notify before dropping the session.
    pub(crate) fn close(&mut self, now: Instant, peer: SocketAddr) -> bool {
        let session = session_for(peer);
        let guard = self.enter();
        // SAFETY: live context, lock held, valid session.
        let rc = unsafe { sys::dtls_close(self.ctx.as_ptr(), &session) };
        self.refresh_timer(now, &guard);
        rc >= 0
    }

    /// Drops any tinydtls state for `peer` (tinydtls sends a close_notify if
    /// the session was open).
    pub(crate) fn reset(&mut self, now: Instant, peer: SocketAddr) {
        let session = session_for(peer);
        let guard = self.enter();
        // SAFETY: live context, lock held, valid session; a non-null result
        // is a peer owned by this context.
        unsafe {
            let p = sys::dtls_get_peer(self.ctx.as_ptr(), &session);
            if !p.is_null() {
                sys::dtls_reset_peer(self.ctx.as_ptr(), p);
            }
        }
        self.refresh_timer(now, &guard);
    }

    /// Whether tinydtls holds a session (any state) for `peer`.
    pub(crate) fn has_peer(&mut self, peer: SocketAddr) -> bool {
        let session = session_for(peer);
        let _guard = self.enter();
        // SAFETY: live context, lock held, valid session; only compared.
        !unsafe { sys::dtls_get_peer(self.ctx.as_ptr(), &session) }.is_null()
    }

    /// Whether tinydtls's session with `peer` is in a handshake state (as
    /// opposed to connected, closing, closed or absent).
    pub(crate) fn peer_handshaking(&mut self, peer: SocketAddr) -> bool {
        /// `DTLS_STATE_CONNECTED`, `_CLOSING`, `_CLOSED` (state.h).
        const SETTLED: [u32; 3] = [12, 13, 14];
        let session = session_for(peer);
        let _guard = self.enter();
        // SAFETY: live context, lock held, valid session. A non-null result
        // is a live peer of this context; its `state` field is a C enum read
        // as the u32 it is (repr(u32)), without making a reference.
        let state = unsafe {
            let p = sys::dtls_get_peer(self.ctx.as_ptr(), &session);
            if p.is_null() {
                return false;
            }
            ptr::addr_of!((*p).state).cast::<u32>().read()
        };
        !SETTLED.contains(&state)
    }

    /// Retransmits what tinydtls queued if the deadline reported through
    /// [`Self::retransmit_at`] has come. Early or repeated calls do nothing.
    pub(crate) fn fire_timers(&mut self, now: Instant) {
        let (Some(at), Some(next)) = (self.retransmit_at, self.next_tick) else {
            return;
        };
        if now < at {
            return;
        }
        // Move this context's tinydtls clock forward to (at least) its
        // deadline, in whole seconds because the offset is in seconds.
        let ahead_ms = next.wrapping_sub(self.dtls_clock_ms as u32) as i32;
        if ahead_ms > 0 {
            self.dtls_clock_ms =
                self.dtls_clock_ms.saturating_add((ahead_ms as u64).div_ceil(1000) * 1000);
        }
        self.next_tick = None;
        let guard = self.enter();
        self.refresh_timer(now, &guard);
    }

    /// Takes the lock and points tinydtls's clock at this context's clock.
    fn enter(&mut self) -> MutexGuard<'static, ()> {
        let guard = lock();
        let shared = self.shared();
        shared.call = shared.call.wrapping_add(1);
        let wall_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let offset = i64::try_from(wall_s)
            .unwrap_or(0)
            .wrapping_sub(i64::try_from(self.dtls_clock_ms / 1000).unwrap_or(0));
        // SAFETY: the lock is held, so no other thread reads or writes the
        // offset; a raw write avoids creating a reference to a `static mut`.
        unsafe { ptr::addr_of_mut!(dtls_clock_offset).write(offset as libc::time_t) };
        guard
    }

    /// Lets tinydtls resend whatever is due on its clock and records its next
    /// deadline on the caller's clock. Takes the guard as proof of the lock.
    fn refresh_timer(&mut self, now: Instant, _guard: &MutexGuard<'static, ()>) {
        let mut next: sys::clock_time_t = 0;
        let mut tick: sys::dtls_tick_t = 0;
        // SAFETY: live context, lock held (guard); both out-pointers are
        // valid locals.
        unsafe {
            sys::dtls_check_retransmit(self.ctx.as_ptr(), &mut next);
            sys::dtls_ticks(&mut tick);
        }
        if next == 0 {
            self.next_tick = None;
            self.retransmit_at = None;
        } else if self.next_tick != Some(next) {
            let delay = next.wrapping_sub(tick) as i32;
            self.next_tick = Some(next);
            self.retransmit_at =
                Some(now + Duration::from_millis(u64::try_from(delay).unwrap_or(0)));
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        {
            let _guard = self.enter();
            // SAFETY: live context, lock held. Freeing it may still call
            // `write` (close_notify to open peers), so `shared` and `handler`
            // are released only afterwards.
            unsafe { sys::dtls_free_context(self.ctx.as_ptr()) };
        }
        // SAFETY: both were made by Box::leak in `new`, are not referenced by
        // anything since the context is gone, and are freed exactly once.
        unsafe {
            drop(Box::from_raw(self.shared.as_ptr()));
            drop(Box::from_raw(self.handler.as_ptr()));
        }
    }
}

/// A session_t for `addr` (tinydtls compares sessions by size, port and
/// address bytes, so the zeroed tail matters).
fn session_for(addr: SocketAddr) -> sys::session_t {
    // SAFETY: session_t is plain data (an integer, a union of sockaddr
    // structs, an int); all-zero is a valid value of every field.
    let mut session: sys::session_t = unsafe { core::mem::zeroed() };
    let addr_ptr = ptr::addr_of_mut!(session.addr);
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            // SAFETY: the union is 128 bytes, 8-aligned, and has a sockaddr_in
            // member at offset 0, so the write is in bounds and aligned.
            unsafe { addr_ptr.cast::<libc::sockaddr_in>().write(sin) };
            session.size = core::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for the sockaddr_in6 member.
            unsafe { addr_ptr.cast::<libc::sockaddr_in6>().write(sin6) };
            session.size = core::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        }
    }
    session
}

/// The address in a session tinydtls hands to a callback; the unspecified
/// address for a family we never create.
///
/// # Safety
/// `session` must be null or point to a valid `session_t`.
unsafe fn addr_of_session(session: *const sys::session_t) -> SocketAddr {
    let unspecified = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
    if session.is_null() {
        return unspecified;
    }
    // SAFETY: caller promises a valid session; the union starts with a
    // sockaddr whose family says which member is meaningful; all members are
    // plain data, so reading them (even if unused) is defined.
    unsafe {
        let addr = ptr::addr_of!((*session).addr);
        let family = addr.cast::<libc::sockaddr>().read_unaligned().sa_family;
        match i32::from(family) {
            libc::AF_INET => {
                let sin = addr.cast::<libc::sockaddr_in>().read_unaligned();
                SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes())),
                    u16::from_be(sin.sin_port),
                )
            }
            libc::AF_INET6 => {
                let sin6 = addr.cast::<libc::sockaddr_in6>().read_unaligned();
                SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                ))
            }
            _ => unspecified,
        }
    }
}

/// The callback state behind a context.
///
/// # Safety
/// `ctx` must be a context made by [`Engine::new`] that is inside a call
/// from its Engine (so `app` points to a live `Shared` nobody else borrows).
unsafe fn shared_of<'a>(ctx: *mut sys::dtls_context_t) -> Option<&'a mut Shared> {
    // SAFETY: per the function contract.
    unsafe { ctx.as_ref().and_then(|c| c.app.cast::<Shared>().as_mut()) }
}

/// Runs a callback body, turning a panic into tinydtls's error value.
fn guarded(body: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(-1)
}

/// `dtls_alert_fatal_create(desc)`: the negative value tinydtls understands
/// as "send this fatal alert".
fn fatal_alert(description: u8) -> c_int {
    -((2 << 8) | c_int::from(description))
}

const ALERT_DECRYPT_ERROR: u8 = 51;
const ALERT_INTERNAL_ERROR: u8 = 80;

unsafe extern "C" fn cb_write(
    ctx: *mut sys::dtls_context_t,
    session: *mut sys::session_t,
    buf: *mut sys::uint8,
    len: usize,
) -> c_int {
    guarded(|| {
        // SAFETY: tinydtls calls this with our context, a valid session and
        // `len` readable bytes at `buf` (dtls.h, dtls_handler_t::write).
        let (shared, peer, data) = unsafe {
            let Some(shared) = shared_of(ctx) else { return -1 };
            if buf.is_null() {
                return -1;
            }
            (shared, addr_of_session(session), core::slice::from_raw_parts(buf, len))
        };
        shared.queue_record(peer, data);
        c_int::try_from(len).unwrap_or(c_int::MAX)
    })
}

unsafe extern "C" fn cb_read(
    ctx: *mut sys::dtls_context_t,
    session: *mut sys::session_t,
    buf: *mut sys::uint8,
    len: usize,
) -> c_int {
    guarded(|| {
        // SAFETY: as in cb_write; `buf` holds `len` decrypted bytes.
        let (shared, peer, data) = unsafe {
            let Some(shared) = shared_of(ctx) else { return -1 };
            if buf.is_null() {
                return -1;
            }
            (shared, addr_of_session(session), core::slice::from_raw_parts(buf, len))
        };
        shared.received.push_back((peer, data.to_vec()));
        0
    })
}

type EventFn = unsafe extern "C" fn(
    *mut sys::dtls_context_t,
    *mut sys::session_t,
    sys::dtls_alert_level_t,
    c_ushort,
) -> c_int;
type RawEventFn =
    unsafe extern "C" fn(*mut sys::dtls_context_t, *mut sys::session_t, u32, c_ushort) -> c_int;
type PskInfoFn = unsafe extern "C" fn(
    *mut sys::dtls_context_t,
    *const sys::session_t,
    sys::dtls_credentials_type_t,
    *const c_uchar,
    usize,
    *mut c_uchar,
    usize,
) -> c_int;
type RawPskInfoFn = unsafe extern "C" fn(
    *mut sys::dtls_context_t,
    *const sys::session_t,
    u32,
    *const c_uchar,
    usize,
    *mut c_uchar,
    usize,
) -> c_int;

/// `cb_event` typed as the bindings want it. tinydtls passes level `0` for
/// non-alert events, which is no variant of the bindgen enum, so receiving
/// it as that enum would be undefined behaviour; `cb_event` takes the
/// integer instead.
fn event_callback() -> EventFn {
    // SAFETY: `dtls_alert_level_t` is `#[repr(u32)]`, so both signatures have
    // the same C ABI; only the Rust-side type of one argument differs.
    unsafe { core::mem::transmute::<RawEventFn, EventFn>(cb_event) }
}

/// `cb_psk_info` typed as the bindings want it (same reason as
/// [`event_callback`]: the credential kind is read as an integer).
fn psk_info_callback() -> PskInfoFn {
    // SAFETY: `dtls_credentials_type_t` is `#[repr(u32)]`; same C ABI.
    unsafe { core::mem::transmute::<RawPskInfoFn, PskInfoFn>(cb_psk_info) }
}

unsafe extern "C" fn cb_event(
    ctx: *mut sys::dtls_context_t,
    session: *mut sys::session_t,
    level_raw: u32,
    code: c_ushort,
) -> c_int {
    guarded(|| {
        // SAFETY: as in cb_write.
        let (shared, peer) = unsafe {
            let Some(shared) = shared_of(ctx) else { return -1 };
            (shared, addr_of_session(session))
        };
        let event = if level_raw == 0 {
            if code != EVENT_CONNECTED {
                return 0; // DTLS_EVENT_CONNECT / RENEGOTIATE: nothing to report
            }
            RawEvent::Connected
        } else {
            RawEvent::Alert {
                level: u8::try_from(level_raw).unwrap_or(u8::MAX),
                description: u8::try_from(code).unwrap_or(u8::MAX),
            }
        };
        shared.events.push_back((peer, event));
        0
    })
}

unsafe extern "C" fn cb_user_parameters(
    _ctx: *mut sys::dtls_context_t,
    _session: *mut sys::session_t,
    parameters: *mut sys::dtls_user_parameters_t,
) {
    let _ = guarded(|| {
        if parameters.is_null() {
            return -1;
        }
        // RFC 7925 §4.2: TLS_PSK_WITH_AES_128_CCM_8 only; the list ends with
        // TLS_NULL_WITH_NULL_NULL.
        let mut suites = [sys::dtls_cipher_t::TLS_NULL_WITH_NULL_NULL; 5];
        suites[0] = sys::dtls_cipher_t::TLS_PSK_WITH_AES_128_CCM_8;
        // SAFETY: tinydtls passes a valid parameter block; writing the field
        // through a raw pointer creates no reference to its other fields.
        unsafe { ptr::addr_of_mut!((*parameters).cipher_suites).write(suites) };
        0
    });
}

unsafe extern "C" fn cb_psk_info(
    ctx: *mut sys::dtls_context_t,
    session: *const sys::session_t,
    kind_raw: u32,
    desc: *const c_uchar,
    desc_len: usize,
    result: *mut c_uchar,
    result_length: usize,
) -> c_int {
    guarded(|| {
        // SAFETY: tinydtls passes our context, `desc_len` readable bytes at
        // `desc` (or null/0) and `result_length` writable bytes at `result`.
        let (shared, peer, desc, out) = unsafe {
            let Some(shared) = shared_of(ctx) else { return fatal_alert(ALERT_INTERNAL_ERROR) };
            if result.is_null() {
                return fatal_alert(ALERT_INTERNAL_ERROR);
            }
            let desc: &[u8] =
                if desc.is_null() { &[] } else { core::slice::from_raw_parts(desc, desc_len) };
            (
                shared,
                addr_of_session(session),
                desc,
                core::slice::from_raw_parts_mut(result, result_length),
            )
        };
        let hint = sys::dtls_credentials_type_t::DTLS_PSK_HINT as u32;
        let identity_kind = sys::dtls_credentials_type_t::DTLS_PSK_IDENTITY as u32;
        let key_kind = sys::dtls_credentials_type_t::DTLS_PSK_KEY as u32;
        let copy = |out: &mut [u8], bytes: &[u8]| -> c_int {
            match out.get_mut(..bytes.len()) {
                Some(dst) => {
                    dst.copy_from_slice(bytes);
                    c_int::try_from(bytes.len()).unwrap_or(fatal_alert(ALERT_INTERNAL_ERROR))
                }
                None => fatal_alert(ALERT_INTERNAL_ERROR),
            }
        };
        match &shared.credentials {
            Credentials::Client { identity, psk } => {
                if kind_raw == identity_kind {
                    copy(out, identity)
                } else if kind_raw == key_kind {
                    copy(out, psk.secret())
                } else {
                    0
                }
            }
            Credentials::Server { store } => {
                if kind_raw == hint {
                    0 // RFC 7925 §4.2: no identity hint
                } else if kind_raw == key_kind {
                    let key = catch_unwind(AssertUnwindSafe(|| store.psk_for(desc))).ok().flatten();
                    match key {
                        Some(key) => {
                            shared.identities.insert(peer, desc.to_vec());
                            copy(out, key.secret())
                        }
                        None => fatal_alert(ALERT_DECRYPT_ERROR),
                    }
                } else {
                    0
                }
            }
        }
    })
}
