//! The seam between the runtime and the LwM2M protocol engine.
//!
//! The runtime owns the sockets, the retries, the link and the PDN; the
//! protocol engine (`lwm2m_core::client::Client` behind an adapter, or a
//! scripted engine in tests) owns the CoAP exchanges of bootstrap
//! (`POST /bs`, Bootstrap-Write/Delete/Finish) and registration
//! (`POST /rd`, Update, De-register), OMA-TS-LightweightM2M_Core 1.1 §6.1–§6.2.
//! The runtime hands it datagrams and `now`, takes datagrams to send, and
//! acts on its [`SessionOutcome`]s; it maps each outcome to the deferred
//! reason of `carrier-api.md` §2.1.
//!
//! [`lwm2m::Lwm2mSession`] is the engine over `lwm2m_core::client::Client`.

use carrier_os::modem::Psk;
use carrier_os::time::Instant;
use heapless::{String, Vec};
use lwm2m_core::path::Path;
use lwm2m_objects::ObjectStore;

use crate::errno::Errno;

pub mod lwm2m;

/// Longest DM server URI the runtime keeps.
pub const DM_URI_LEN: usize = 96;
/// Longest PSK identity.
pub const PSK_IDENTITY_LEN: usize = 128;

/// The device-management server account bootstrap provisioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmAccount {
    /// `coap://` or `coaps://` URI.
    pub uri: String<DM_URI_LEN>,
    /// Short Server ID.
    pub ssid: u16,
    /// Registration lifetime (s).
    pub lifetime_s: u32,
    /// PSK identity (empty for NoSec).
    pub psk_identity: Vec<u8, PSK_IDENTITY_LEN>,
    /// The PSK; the runtime writes it into its security tag with the link down.
    pub psk: Option<Psk>,
}

/// What a protocol exchange ended with.
// No heap to box into: an outcome is moved once per exchange, its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOutcome {
    /// Bootstrap-Finish received and accepted.
    Bootstrapped(DmAccount),
    /// The bootstrap server did not complete the sequence (no answer to the
    /// request, or no Bootstrap-Finish in time): DEFERRED BOOTSTRAP_SEQUENCE.
    BootstrapIncomplete,
    /// Registration (or a request for it) succeeded.
    Registered,
    /// The server answered the Register with an error code (`class << 5 | detail`,
    /// 0x83 = 4.03): 5.03 → DEFERRED SERVICE_UNAVAILABLE, others SERVER_REGISTRATION.
    RegistrationRejected {
        /// The CoAP response code.
        code: u8,
    },
    /// No answer to the Register: DEFERRED SERVER_REGISTRATION.
    RegistrationTimedOut,
    /// An Update succeeded.
    Updated,
    /// An Update failed: the runtime registers again.
    UpdateFailed,
    /// De-register finished.
    Deregistered,
    /// The server started (`started`) or stopped observing application data
    /// (`/19/x/0[/y]` or `/10250/0/1`): APP_DATA OBSERVE_START / OBSERVE_STOP
    /// (`carrier-api.md` §2, event 12).
    AppDataObserved {
        /// The observed resource (instance).
        path: Path,
        /// Observe started (true) or ended (false).
        started: bool,
    },
}

/// The Device object values the modem owns (`/3/0/0`, `/3/0/1`, `/3/0/2`,
/// `/3/0/3`, `/3/0/18`; app-integration.txt "Device object": read from the
/// modem by default, overridable by the application): the values the
/// operator profile resolved from the modem's identities (the serial number
/// is the IMEI, or the 2DID on LG U+ when configured), and the modem
/// firmware version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModemValues<'a> {
    /// Manufacturer, model number, serial number, hardware version.
    pub device: &'a carrier_profiles::DeviceInfo<'a>,
    /// `AT+CGMR`.
    pub firmware_version: &'a str,
}

/// What a registration announces and how the engine behaves while registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterParams {
    /// Registration lifetime (s).
    pub lifetime_s: u32,
    /// Queue mode (binding `UQ`), unless `disable_queue_mode`.
    pub queue_mode: bool,
    /// Notifications: Confirmable at least this often (RFC 7641 §4.5), or always.
    pub con_interval: carrier_profiles::ConInterval,
}

/// CoAP 5.03 Service Unavailable as a raw code.
pub const CODE_SERVICE_UNAVAILABLE: u8 = (5 << 5) | 3;

/// The protocol engine the runtime drives.
///
/// The runtime owns the objects (its [`AppApi`](crate::api::AppApi) keeps
/// them, the application writes them between calls); every call that may
/// read or change them lends them to the engine as `objects`. That keeps
/// the application API and the runtime unchanged whatever the engine is,
/// and an engine keeps no reference between calls.
pub trait Session {
    /// Starts client-initiated bootstrap as `endpoint` on the freshly opened socket.
    fn start_bootstrap(&mut self, now: Instant, endpoint: &str);
    /// Starts registration as `endpoint`.
    fn start_register(
        &mut self,
        now: Instant,
        endpoint: &str,
        params: &RegisterParams,
        objects: &mut ObjectStore,
    );
    /// Starts a registration Update.
    fn start_update(&mut self, now: Instant, objects: &mut ObjectStore);
    /// Starts De-register.
    fn start_deregister(&mut self, now: Instant);
    /// Starts an LwM2M Send of the resource (instance) at `path` to the
    /// registered server (the runtime has checked that it exists, is readable
    /// and Opaque).
    ///
    /// # Errors
    /// `-EINPROGRESS` a Send is still running; `-ECANCELED` the server has
    /// Mute Send set (`carrier-api.md` §4.1 `data_send`).
    fn start_send(
        &mut self,
        now: Instant,
        path: &Path,
        objects: &mut ObjectStore,
    ) -> Result<(), Errno>;
    /// A datagram arrived from the peer.
    fn handle_datagram(&mut self, now: Instant, datagram: &[u8], objects: &mut ObjectStore);
    /// A datagram to send, written into `buf`; its length.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;
    /// The next outcome; also where the engine acts on its due timers and on
    /// the values the application changed (`objects.poll_changed()`).
    fn poll_outcome(&mut self, now: Instant, objects: &mut ObjectStore) -> Option<SessionOutcome>;
    /// Bytes of a firmware package pushed block-wise to `/5/0/0` (RFC 7959
    /// Block1) since the last call, copied into `buf`, and whether they end
    /// the package; the runtime hands them to the DFU target. Default: none.
    fn poll_firmware(&mut self, buf: &mut [u8]) -> Option<(usize, bool)> {
        let _ = buf;
        None
    }
    /// The DFU target's answer to the pushed bytes the runtime took with
    /// [`Session::poll_firmware`]: `Ok` → the engine acknowledges the block
    /// (2.31 Continue, 2.04 on the last); `Err(code)` → it answers with that
    /// CoAP code (`class << 5 | detail`: 4.13 image too large, 5.00 refused),
    /// ending the transfer. An engine that acknowledges blocks as they come
    /// ignores it (the default).
    fn firmware_written(&mut self, now: Instant, result: Result<(), u8>) {
        let _ = (now, result);
    }
    /// The modem's Device values, read by the runtime before the first
    /// exchange; the engine answers `/3/0/0`… from them. Default: ignored
    /// (an engine with fixed values).
    fn set_modem_values(&mut self, values: &ModemValues<'_>) {
        let _ = values;
    }
    /// The carrier's settings for the exchanges to come (CON interval, queue
    /// mode, lifetime), known once the operator is detected and before the
    /// first exchange. Default: ignored (the engine takes them per
    /// [`Session::start_register`]).
    fn configure(&mut self, params: &RegisterParams) {
        let _ = params;
    }
    /// The engine holds a datagram for the peer that it could not hand out
    /// (the session was closed, e.g. by the idle timeout): the runtime
    /// reopens the session for it. Default: never.
    fn wants_transmit(&self) -> bool {
        false
    }
    /// When the engine next needs [`Session::poll_outcome`] / transmit (retransmissions).
    fn deadline(&self) -> Option<Instant>;
}
