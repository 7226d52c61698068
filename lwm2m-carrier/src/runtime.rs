//! The runtime: start-up, operator detection (`%XOPERID` through
//! `Modem::operator_id`, then the IMSI), factory reset on changed server
//! options, PDN activation, bootstrap (from the network or the smartcard),
//! DM key provisioning with the link down, registration and its Updates
//! (the runtime is their only scheduler), the session idle timeout and the
//! re-handshake on the next activity, and the deferred retries of each
//! operator's back-off schedule (`carrier-api.md` §1.2, §2, §3;
//! carriers.md §1, §10–§12; app-integration.txt "Events").
//!
//! Sans-IO over `carrier-os`: [`Runtime::poll`] does all the work that is due
//! at the port's `now`, never blocks, and returns the next deadline for the
//! outer loop's `wait_until`; [`Runtime::poll_event`] hands out the events in
//! order. The LwM2M exchanges go through the [`Session`] seam.
//!
//! Guarantees: nothing here panics on what the port, the storage or the
//! server report; a corrupt stored record reads as "first boot".

use carrier_os::modem::{Identity, ModemError, PdnConfig, PdnId, PdnState, Psk, SecTag};
use carrier_os::time::{Duration, Instant};
use carrier_os::transport::{Endpoint, Family, Security, SocketId, TransportError};
use carrier_os::{Key, Port};
use carrier_profiles::{
    Apn, Carrier, ConfigError, Credentials, Detected, EndpointError, EndpointName,
    FactoryResetReason, Failure, IdleTimeout, PSK_PROVISIONING_RETRY_S, RetryPolicy, ServerSource,
    StartRecord, factory_reset_reason, parse_server_uri, resolve,
};
use core::task::Poll;
use heapless::{Deque, String};
use lwm2m_core::path::Path;
use lwm2m_core::value::DataType;
use lwm2m_objects::{ObjectEvent, ObjectStore};

mod fota;
pub use fota::{FOTA_KEY, ImageValidator, PACKAGE_URI_LEN, PART_HEADER_LEN, Part, accept_image};

use crate::api::{AppApi, CfunMode, ModemInitResult, Request};
use crate::config::{Config, config_error_event};
use crate::errno::Errno;
use crate::event::{AppDataKind, ErrorKind, Event};
use crate::session::{
    CODE_SERVICE_UNAVAILABLE, DM_URI_LEN, DmAccount, ModemValues, PSK_IDENTITY_LEN, RegisterParams,
    Session, SessionOutcome,
};
use crate::smartcard;

/// Storage key of the start record (carrier, server-options fingerprint,
/// MSISDN, bootstrap state and DM account).
pub const STATE_KEY: Key = Key(0xCA10);
/// The security tag the runtime writes the bootstrapped DM server's PSK into.
pub const DM_SEC_TAG: SecTag = SecTag(0x00CA_0001);
/// The security tag the runtime writes the PSK of a Bootstrap-Server read
/// from the SIM (smartcard bootstrap) into.
pub const SMARTCARD_SEC_TAG: SecTag = SecTag(0x00CA_0002);
/// Largest EF(LwM2M_Bootstrap) the runtime reads from the SIM.
pub const SMARTCARD_DATA_LEN: usize = 512;
/// Events kept for the application; more are dropped and counted.
pub const EVENT_QUEUE_LEN: usize = 16;
/// How often the runtime re-checks the link while it waits for the application.
pub const LINK_POLL: Duration = Duration::from_secs(1);
/// How long the runtime waits for the application to take the link down
/// before it writes keys anyway (the modem then refuses: ERROR BOOTSTRAP −EACCES).
pub const LINK_DOWN_WAIT: Duration = Duration::from_secs(10);
/// Short Server ID of the account made for a configured DM server that is
/// not a Bootstrap-Server (`is_bootstrap_server = n`). The spec gives no
/// value; 101 is the usual first DM server SSID (Leshan's and the OMA
/// examples'), and it only has to differ from the Bootstrap-Server's.
pub const DIRECT_SSID: u16 = 101;
/// How long after a server's Execute of Reboot (`/3/0/4`) or Update
/// (`/5/0/2`, application image) the runtime emits REBOOT: the 2.04 has
/// gone out in the ACK, and a retransmission of the Execute (the server's
/// first comes within ACK_TIMEOUT × ACK_RANDOM_FACTOR = 3 s, RFC 7252 §4.8)
/// is still answered from the deduplication cache instead of meeting a
/// rebooting device. The spec gives no figure; a longer wait only delays
/// the update.
pub const REBOOT_GRACE: Duration = Duration::from_secs(3);
/// Send the registration Update this long before the lifetime ends.
pub const UPDATE_MARGIN_S: u64 = 30;

const RECORD_VERSION: u8 = 1;
/// Binary App Data Container.
const OBJ_APP_DATA: u16 = 19;
const MSISDN_LEN: usize = 16;
const URI_LEN: usize = 256;
const IDENT_LEN: usize = 64;

/// Where the runtime is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Phase {
    /// Waiting for `auto_startup` (the settings layer's custom-init step).
    WaitAutoStartup,
    /// Waiting for `on_modem_init`.
    WaitModemInit,
    /// Waiting for the application to bring the LTE link up.
    WaitLink,
    /// ICCID or MSISDN could not be read (ERROR BOOTSTRAP −EFAULT): waiting
    /// for the next network connection (the link going down and up again)
    /// to read them again (app-integration.txt "Errors", BOOTSTRAP).
    WaitReconnect,
    /// Activating the PDN.
    ActivatingPdn,
    /// Connecting to and bootstrapping from the bootstrap server.
    Bootstrapping,
    /// Writing the DM server keys with the link down.
    ProvisioningKeys,
    /// Waiting for the application's REGISTER request (auto-register off).
    WaitRegisterRequest,
    /// Connecting to and registering with the DM server.
    Registering,
    /// Registered.
    Registered,
    /// Waiting for a deferred retry.
    Deferred,
    /// Stopped: configuration error, or every attempt exhausted (until restart).
    Stopped,
}

/// The step a deferred retry resumes at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    Detect,
    Pdn,
    Connect,
    Keys,
}

/// Per-connection progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    Closed,
    Opening(SocketId),
    Open(SocketId),
}

/// Key provisioning progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    WaitDown,
    WaitUp,
}

/// An event waiting for the application; app data is read from the object
/// store when the event is handed out, so the queue holds no payloads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Queued {
    Plain(Event<'static>),
    AppData {
        instance: u16,
        resource_instance: u16,
    },
    /// FOTA_START with the Package URI read from `/5/0/1`.
    FotaStart,
}

/// What the resolved configuration says, owned (the `Effective` of
/// carrier-profiles borrows the identities read at start).
#[derive(Debug, Clone)]
struct Plan {
    carrier: Carrier,
    server_uri: String<URI_LEN>,
    is_bootstrap: bool,
    sec_tag: Option<u32>,
    lifetime_s: u32,
    apn: [Option<(Option<String<64>>, carrier_os::modem::PdnType)>; 2],
    idle_timeout_s: Option<u32>,
    hold_off_s: u32,
    firmware_download_timeout_min: Option<u16>,
    con_interval: carrier_profiles::ConInterval,
    queue_mode: bool,
    auto_register: bool,
    retry: &'static RetryPolicy,
    endpoint: EndpointName,
}

/// What survives a reboot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Stored {
    carrier_bit: u32,
    fingerprint: u64,
    msisdn: String<MSISDN_LEN>,
    dm: Option<(String<DM_URI_LEN>, u16, u32)>,
}

/// The carrier library runtime, generic over the protocol engine.
#[derive(Debug)]
pub struct Runtime<'c, S: Session> {
    config: Config<'c>,
    session: S,
    api: AppApi,
    phase: Phase,
    events: Deque<Queued, EVENT_QUEUE_LEN>,
    events_lost: u32,
    modem_ready: bool,
    /// In [`Phase::WaitReconnect`]: the link has gone down since.
    link_went_down: bool,
    /// The old DM key must go: the modem refused the delete with the link
    /// up, so it is deleted at the next key step (link down).
    delete_dm_key: bool,
    plan: Option<Plan>,
    stored: Stored,
    pdn: Option<PdnId>,
    apn_index: usize,
    conn: Conn,
    last_activity: Instant,
    next_update: Option<Instant>,
    /// An Update fell due while the session was closed: sent once reopened.
    update_after_reopen: bool,
    /// A datagram the engine handed out while the session was closed, kept
    /// in `buf` until it is reopened (its length).
    held: Option<usize>,
    retry_at: Option<Instant>,
    resume: Resume,
    attempts: [u32; 3],
    keys: Keys,
    keys_deadline: Option<Instant>,
    connection_id: bool,
    hold_until: Option<Instant>,
    pending_dm: Option<DmAccount>,
    /// The SIM's Bootstrap-Server PSK, for [`SMARTCARD_SEC_TAG`].
    pending_bs_key: Option<(heapless::Vec<u8, PSK_IDENTITY_LEN>, Psk)>,
    registered_once: bool,
    register_requested: bool,
    deregistering: bool,
    fota: fota::Fota,
    fota_ctl: fota::Control,
    push_deadline: Option<Instant>,
    /// A server's Execute asked for a reboot: REBOOT goes out at this time.
    reboot_at: Option<Instant>,
    buf: [u8; carrier_os::transport::MAX_DATAGRAM],
}

fn millis(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

fn event_duration(d: Duration) -> lwm2m_core::time::Duration {
    lwm2m_core::time::Duration::from_millis(d.as_millis())
}

fn to_os_pdn(p: carrier_profiles::PdnType) -> carrier_os::modem::PdnType {
    use carrier_os::modem::PdnType as Os;
    match p {
        carrier_profiles::PdnType::Ipv4v6 => Os::Ipv4v6,
        carrier_profiles::PdnType::Ipv4 => Os::Ipv4,
        carrier_profiles::PdnType::Ipv6 => Os::Ipv6,
        carrier_profiles::PdnType::NonIp => Os::NonIp,
    }
}

fn apn_choice(a: Apn<'_>) -> (Option<String<64>>, carrier_os::modem::PdnType) {
    use carrier_os::modem::PdnType as Os;
    match a {
        Apn::NetworkDefault => (None, Os::Ipv4v6),
        Apn::Carrier(name) => (String::try_from(name).ok(), Os::Ipv4v6),
        Apn::Custom { name, pdn_type } => (String::try_from(name).ok(), to_os_pdn(pdn_type)),
    }
}

fn schedule_index(f: Failure) -> usize {
    match f {
        Failure::PdnActivation | Failure::MsisdnUnavailable => 0,
        Failure::BootstrapNoRoute | Failure::BootstrapConnect | Failure::BootstrapSequence => 1,
        _ => 2,
    }
}

impl<'c, S: Session> Runtime<'c, S> {
    /// A runtime that starts at once (the original without the settings layer).
    pub fn new(config: Config<'c>, session: S) -> Self {
        Runtime {
            config,
            session,
            api: AppApi::new(),
            phase: Phase::WaitModemInit,
            events: Deque::new(),
            events_lost: 0,
            modem_ready: false,
            link_went_down: false,
            delete_dm_key: false,
            plan: None,
            stored: Stored::default(),
            pdn: None,
            apn_index: 0,
            conn: Conn::Closed,
            last_activity: Instant::from_millis(0),
            next_update: None,
            update_after_reopen: false,
            held: None,
            retry_at: None,
            resume: Resume::Detect,
            attempts: [0; 3],
            keys: Keys::WaitDown,
            keys_deadline: None,
            connection_id: false,
            hold_until: None,
            pending_dm: None,
            pending_bs_key: None,
            registered_once: false,
            register_requested: false,
            deregistering: false,
            fota: fota::Fota::Idle,
            fota_ctl: fota::Control::default(),
            push_deadline: None,
            reboot_at: None,
            buf: [0; carrier_os::transport::MAX_DATAGRAM],
        }
    }

    /// A runtime behind the settings layer's custom-init step: it waits until
    /// [`Runtime::set_auto_startup`] (or a configuration with `auto_startup`).
    pub fn with_custom_init(config: Config<'c>, session: S) -> Self {
        let mut rt = Self::new(config, session);
        if !config.auto_startup {
            rt.phase = Phase::WaitAutoStartup;
        }
        rt
    }

    /// `carrier_config auto_startup y`: leave the custom-init wait.
    pub fn set_auto_startup(&mut self) {
        self.config.auto_startup = true;
        if self.phase == Phase::WaitAutoStartup {
            self.phase = Phase::WaitModemInit;
        }
    }

    /// Where the runtime is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The application API (setters of `carrier-api.md` §4.2–§4.6).
    pub fn api(&mut self) -> &mut AppApi {
        &mut self.api
    }

    /// The protocol engine (tests, adapters).
    pub fn session_mut(&mut self) -> &mut S {
        &mut self.session
    }

    /// Events dropped because the application did not take them in time.
    pub fn events_lost(&self) -> u32 {
        self.events_lost
    }

    /// The next event for the application. An [`Event::AppData`] borrows the
    /// written bytes from the object store until the next call.
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        loop {
            match self.events.pop_front()? {
                Queued::Plain(e) => return Some(e),
                Queued::AppData { instance, resource_instance: ri } => {
                    let Ok(path) = Path::resource_instance(OBJ_APP_DATA, instance, 0, ri) else {
                        continue;
                    };
                    let data = self
                        .api
                        .objects()
                        .and_then(|o| o.app_data().get(instance))
                        .and_then(|i| i.get(ri))
                        .unwrap_or_default();
                    return Some(Event::AppData { path, kind: AppDataKind::DataWrite, data });
                }
                Queued::FotaStart => return Some(Event::FotaStart { uri: self.fota_start_uri() }),
            }
        }
    }

    fn emit(&mut self, e: Event<'static>) {
        self.queue(Queued::Plain(e));
    }

    fn queue(&mut self, q: Queued) {
        if self.events.push_back(q).is_err() {
            self.events_lost = self.events_lost.saturating_add(1);
        }
    }

    // ------------------------------------------------------------------
    // Hooks (carrier-api.md §4.1, §1.2)
    // ------------------------------------------------------------------

    /// `on_modem_init`: the modem library is initialised. A modem firmware
    /// update reported here ends the modem FOTA: FOTA_SUCCESS (UPDATED) or
    /// ERROR FOTA_FAIL −EBADF (UPDATE_FAILED: "the firmware could not be
    /// applied", app-integration.txt), then LTE_LINK_UP.
    pub fn on_modem_init(&mut self, result: Result<ModemInitResult, Errno>) {
        match result {
            Ok(ModemInitResult::Success) => {}
            Ok(ModemInitResult::Updated) => {
                self.fota_outcome(true);
                self.emit(Event::LteLinkUp);
            }
            Ok(ModemInitResult::UpdateFailed) => {
                self.fota_outcome(false);
                self.emit(Event::LteLinkUp);
            }
            Err(value) => {
                self.emit(Event::Error { kind: ErrorKind::Init, value });
                self.phase = Phase::Stopped;
                return;
            }
        }
        self.modem_ready = true;
    }

    /// `on_modem_cfun`: the functional mode changed. The runtime reads the
    /// link state from the port; a power-off closes the connection.
    pub fn on_modem_cfun(&mut self, mode: CfunMode) {
        if mode != CfunMode::LteActivated {
            self.conn = Conn::Closed;
        }
    }

    /// `on_modem_shutdown`: the modem library is shut down; nothing runs until
    /// the next `on_modem_init`.
    pub fn on_modem_shutdown(&mut self) {
        self.modem_ready = false;
        self.conn = Conn::Closed;
    }

    /// `lwm2m_carrier_request` (`carrier-api.md` §4.1).
    ///
    /// # Errors
    /// `-EPERM` REGISTER/DEREGISTER outside generic and SoftBank operation;
    /// `-EALREADY` a registration is already scheduled; `-EBADR` nothing to
    /// de-register.
    pub fn request(&mut self, now: Instant, req: Request) -> Result<(), Errno> {
        let carrier = self.plan.as_ref().map(|p| p.carrier);
        let app_registration = matches!(carrier, Some(Carrier::Generic | Carrier::SoftBank));
        match req {
            Request::Reboot => {
                self.emit(Event::LtePowerOff);
                self.emit(Event::Reboot);
            }
            Request::LinkUp => self.emit(Event::LteLinkUp),
            Request::LinkDown => {
                self.emit(Event::LteLinkDown);
                if matches!(carrier, Some(Carrier::LgUplus | Carrier::SoftBank))
                    && self.phase == Phase::Registered
                {
                    self.deregistering = true;
                    self.session.start_deregister(now);
                }
            }
            Request::Register => {
                if !app_registration {
                    return Err(Errno::Perm);
                }
                match self.phase {
                    Phase::Registered => {
                        if let Some(o) = self.api.objects_mut() {
                            self.session.start_update(now, o);
                        }
                    }
                    Phase::WaitRegisterRequest => {
                        self.register_requested = true;
                        self.registered_once = false;
                        self.phase = Phase::Registering;
                        self.conn = Conn::Closed;
                    }
                    _ => return Err(Errno::Already),
                }
            }
            Request::Deregister => {
                if !app_registration {
                    return Err(Errno::Perm);
                }
                if self.phase != Phase::Registered || self.deregistering {
                    return Err(Errno::BadR);
                }
                self.deregistering = true;
                self.session.start_deregister(now);
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------
    // The loop
    // ------------------------------------------------------------------

    /// Does everything due at `port.now()`; returns the next deadline for the
    /// outer loop's `wait_until` (`None`: nothing scheduled, wait for I/O or a call).
    pub fn poll<P: Port>(&mut self, port: &mut P) -> Option<Instant> {
        let now = port.now();
        // A few rounds so that one poll carries a chain of immediate steps.
        for _ in 0..16 {
            let before = (self.phase, self.conn, self.keys);
            self.step(port, now);
            self.pump(port, now);
            if (self.phase, self.conn, self.keys) == before {
                break;
            }
        }
        self.deadline(now)
    }

    fn deadline(&self, now: Instant) -> Option<Instant> {
        let link_poll = now.checked_add(LINK_POLL);
        let earliest = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(a), Some(b)) => Some(if a < b { a } else { b }),
            (a, None) => a,
            (None, b) => b,
        };
        // With the session closed, an engine holding a datagram for the peer
        // would ask to be polled at once: the reopening (below) paces the
        // loop instead of a spin.
        let open = matches!(self.conn, Conn::Open(_));
        let mut d = self.session.deadline().filter(|_| open || !self.session.wants_transmit());
        if self.fota_busy() {
            d = earliest(d, link_poll);
        }
        d = earliest(d, self.push_deadline);
        d = earliest(d, self.reboot_at);
        match self.phase {
            Phase::WaitAutoStartup | Phase::WaitModemInit | Phase::Stopped => {}
            Phase::WaitRegisterRequest => {}
            Phase::WaitLink | Phase::WaitReconnect | Phase::ActivatingPdn => {
                d = earliest(d, link_poll);
            }
            Phase::ProvisioningKeys => d = earliest(earliest(d, link_poll), self.keys_deadline),
            Phase::Deferred => d = earliest(d, self.retry_at),
            Phase::Bootstrapping | Phase::Registering => {
                if matches!(self.conn, Conn::Opening(_) | Conn::Closed) {
                    d = earliest(d, link_poll);
                }
                d = earliest(d, self.hold_until);
            }
            Phase::Registered => {
                d = earliest(d, self.next_update);
                if matches!(self.conn, Conn::Opening(_)) {
                    d = earliest(d, link_poll);
                }
                let idle = self.idle_timeout().filter(|_| !self.connection_id);
                if let (Some(t), Conn::Open(_)) = (idle, self.conn) {
                    d = earliest(d, self.last_activity.checked_add(t));
                }
            }
        }
        d
    }

    fn idle_timeout(&self) -> Option<Duration> {
        self.plan.as_ref().and_then(|p| p.idle_timeout_s).map(millis)
    }

    fn step<P: Port>(&mut self, port: &mut P, now: Instant) {
        self.fota_step(port, now);
        self.fota_push_timeout(port, now);
        if self.reboot_at.is_some_and(|t| now >= t) {
            self.reboot_at = None;
            self.emit(Event::LtePowerOff);
            self.emit(Event::Reboot);
        }
        match self.phase {
            Phase::WaitAutoStartup | Phase::Stopped | Phase::WaitRegisterRequest => {}
            Phase::WaitModemInit => {
                if self.modem_ready {
                    self.phase = Phase::WaitLink;
                }
            }
            Phase::WaitLink => {
                if port.link_state().is_up() {
                    self.detect(port, now);
                }
            }
            Phase::WaitReconnect => {
                if !port.link_state().is_up() {
                    self.link_went_down = true;
                } else if self.link_went_down {
                    self.link_went_down = false;
                    self.detect(port, now);
                }
            }
            Phase::Deferred => {
                if self.retry_at.is_some_and(|t| now >= t) {
                    self.retry_at = None;
                    self.phase = match self.resume {
                        Resume::Detect => Phase::WaitLink,
                        Resume::Pdn => Phase::ActivatingPdn,
                        Resume::Connect => self.connect_phase(),
                        Resume::Keys => {
                            self.keys = Keys::WaitDown;
                            self.emit(Event::LteLinkDown);
                            Phase::ProvisioningKeys
                        }
                    };
                }
            }
            Phase::ActivatingPdn => self.activate_pdn(port, now),
            Phase::Bootstrapping | Phase::Registering => self.connect(port, now),
            Phase::ProvisioningKeys => self.provision_keys(port, now),
            Phase::Registered => {
                if let (Some(t), Conn::Open(sock)) = (self.idle_timeout(), self.conn) {
                    let cid = port.connection_id_in_use(sock);
                    self.connection_id = cid;
                    if !cid && now >= self.last_activity.checked_add(t).unwrap_or(now) {
                        // Session idle timeout: close the DTLS session; the next
                        // activity opens a new one.
                        port.close(sock);
                        self.conn = Conn::Closed;
                    }
                }
                if self.next_update.is_some_and(|t| now >= t) {
                    self.next_update = None;
                    if let Conn::Open(_) = self.conn {
                        if let Some(o) = self.api.objects_mut() {
                            self.session.start_update(now, o);
                        }
                    } else {
                        self.update_after_reopen = true;
                    }
                }
                self.reopen(port, now);
            }
        }
    }

    fn connect_phase(&self) -> Phase {
        if self.needs_bootstrap() { Phase::Bootstrapping } else { Phase::Registering }
    }

    fn needs_bootstrap(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| p.is_bootstrap) && self.stored.dm.is_none()
    }

    /// Step 4–5 of carriers.md §12.1: identities, carrier, factory reset check,
    /// endpoint name.
    fn detect<P: Port>(&mut self, port: &mut P, now: Instant) {
        let read = |port: &mut P, id| -> Option<String<IDENT_LEN>> {
            port.identity(id).ok().and_then(|s| String::try_from(s.as_str()).ok())
        };
        let imei = read(port, Identity::Imei).unwrap_or_default();
        let imsi = read(port, Identity::Imsi);
        // The ICCID comes from the SIM; without it bootstrap cannot proceed:
        // ERROR BOOTSTRAP -EFAULT, read again at the next network connection.
        let Some(iccid) = read(port, Identity::Iccid) else {
            return self.identity_unreadable();
        };
        let (msisdn, msisdn_error) = match port.identity(Identity::Msisdn) {
            Ok(s) => (String::<IDENT_LEN>::try_from(s.as_str()).ok(), None),
            Err(e) => (None, Some(e)),
        };
        let manufacturer = read(port, Identity::Manufacturer).unwrap_or_default();
        let model = read(port, Identity::Model).unwrap_or_default();
        let hw = read(port, Identity::HardwareVersion).unwrap_or_default();
        let firmware = read(port, Identity::FirmwareVersion).unwrap_or_default();
        // The SiP's 2DID: LG U+'s Device Serial Number when configured.
        let two_did = read(port, Identity::Serial2Did);
        // Bootstrap data on the SIM wins over every other setting
        // (app-integration.txt, BOOTSTRAP_SMARTCARD).
        let mut sim_data = [0u8; SMARTCARD_DATA_LEN];
        let sim_len = if self.config.bootstrap_from_smartcard {
            smartcard::read(port, &mut sim_data).ok()
        } else {
            None
        };
        // carriers.md §1.2: the modem's operator classification first
        // (`%XOPERID`); 0 or a port without it falls back to the IMSI.
        let detected = Detected {
            operator_id: port.operator_id().ok(),
            imsi: imsi.as_deref(),
            iccid: Some(iccid.as_str()),
            msisdn: msisdn.as_deref(),
            imei: &imei,
            smartcard_bootstrap: sim_len.is_some(),
            manufacturer: &manufacturer,
            model_number: &model,
            hardware_version: &hw,
            sip_2did: two_did.as_deref(),
        };
        let eff = match resolve(&self.config, &detected) {
            Ok(eff) => eff,
            Err(e) => return self.config_error(&e),
        };
        // The Device object's modem-owned values as the profile resolved
        // them (the serial number is the IMEI, or the 2DID on LG U+).
        self.session
            .set_modem_values(&ModemValues { device: &eff.device, firmware_version: &firmware });
        let endpoint = match eff.endpoint_name(&detected) {
            Ok(ep) => ep,
            // The MSISDN read failed for another reason than "not issued
            // yet": ERROR BOOTSTRAP -EFAULT, read again at the next connection.
            Err(EndpointError::MsisdnUnavailable)
                if !matches!(msisdn_error, None | Some(ModemError::NotAvailable)) =>
            {
                return self.identity_unreadable();
            }
            Err(EndpointError::MsisdnUnavailable) => {
                // Not issued yet (a fresh SIM): DEFERRED SIM_MSISDN on the
                // carrier's schedule (library 0.22.0 and later).
                return self.defer_with(
                    now,
                    eff.retry(),
                    Failure::MsisdnUnavailable,
                    Resume::Detect,
                );
            }
            Err(_) => return self.config_error(&ConfigError::TwoDidUnavailable),
        };
        let sec_tag = match eff.server.credentials {
            Credentials::SecTag(t) => Some(t),
            // The carrier's own credentials, in the factory server's tag.
            Credentials::Automatic(_) => eff.profile.servers.first().map(|s| s.sec_tag),
            _ => None,
        };
        let from_smartcard = eff.server.source == ServerSource::Smartcard;
        let mut plan = Plan {
            carrier: eff.carrier,
            server_uri: eff.server.uri.and_then(|u| String::try_from(u).ok()).unwrap_or_default(),
            is_bootstrap: eff.server.is_bootstrap,
            sec_tag,
            lifetime_s: eff.server.lifetime_s.unwrap_or(3600),
            apn: [Some(apn_choice(eff.apn.primary)), eff.apn.fallback.map(apn_choice)],
            idle_timeout_s: match eff.session_idle_timeout {
                IdleTimeout::After(s) => Some(s),
                IdleTimeout::Disabled => None,
            },
            hold_off_s: eff.server.hold_off_s,
            firmware_download_timeout_min: eff.firmware_download_timeout_min,
            con_interval: eff.coap_con_interval,
            queue_mode: eff.queue_mode,
            auto_register: eff.auto_register,
            retry: eff.retry(),
            endpoint,
        };
        // Factory reset when the server options, the carrier or (Verizon) the
        // MSISDN changed since the last start (carriers.md §11).
        let fingerprint = self.config.server_options_fingerprint();
        let stored = load(port);
        let current = StartRecord {
            carrier: eff.carrier,
            server_options_fingerprint: fingerprint,
            msisdn: msisdn.as_deref(),
        };
        let previous = stored.as_ref().and_then(|s| {
            Some(StartRecord {
                carrier: Carrier::from_bit(s.carrier_bit)?,
                server_options_fingerprint: s.fingerprint,
                msisdn: (!s.msisdn.is_empty()).then_some(s.msisdn.as_str()),
            })
        });
        let reset: Option<FactoryResetReason> =
            factory_reset_reason(previous.as_ref(), &current, eff.profile);
        let mut state = match (stored, reset) {
            (Some(s), None) => s,
            _ => Stored::default(),
        };
        if eff.profile.bootstrap_every_start {
            // LG U+ bootstraps at every start (carrier-api.md §2, BOOTSTRAPPED).
            state.dm = None;
        }
        if reset.is_some() {
            self.forget_dm_key(port);
        }
        state.carrier_bit = eff.carrier.bit();
        state.fingerprint = fingerprint;
        state.msisdn = msisdn.as_deref().and_then(|m| String::try_from(m).ok()).unwrap_or_default();
        save(port, &state);
        self.stored = state;
        // The objects live as long as the carrier: a new detection after a
        // lost link keeps what the application and the servers set.
        if self.api.carrier() != Some(eff.carrier) {
            // Without a Bootstrap-Server the configured URI is the DM server
            // itself: its account is made here, as bootstrap would have
            // written it (its keys stay in the configured security tag).
            let direct = (!plan.is_bootstrap)
                .then(|| String::try_from(plan.server_uri.as_str()).ok())
                .flatten()
                .filter(|u| !u.is_empty())
                .map(|u| (u, DIRECT_SSID, plan.lifetime_s));
            let account = self.stored.dm.as_ref().or(direct.as_ref());
            self.api.attach(eff.carrier, restored_objects(account));
            self.fota_boot(port);
        }
        self.apn_index = 0;
        self.phase = Phase::ActivatingPdn;
        if from_smartcard && self.stored.dm.is_none() {
            let data = sim_len.and_then(|n| sim_data.get(..n)).unwrap_or_default();
            self.bootstrap_from_smartcard(&mut plan, data);
        }
        self.session.configure(&RegisterParams {
            lifetime_s: plan.lifetime_s,
            queue_mode: plan.queue_mode,
            con_interval: plan.con_interval,
        });
        self.plan = Some(plan);
    }

    /// Smartcard bootstrap (OMA TS 1.1 §6.1.3.2): the SIM's objects as a
    /// Bootstrap-Write. A DM account there is used at once (its PSK written
    /// with the link down, then BOOTSTRAPPED); a Bootstrap-Server account
    /// replaces the configured server (its PSK into [`SMARTCARD_SEC_TAG`]
    /// with the link down first). Data the objects refuse: ERROR BOOTSTRAP
    /// −EFAULT, and the runtime waits for the next connection.
    fn bootstrap_from_smartcard(&mut self, plan: &mut Plan, data: &[u8]) {
        let Some(objects) = self.api.objects_mut() else { return };
        let mut info = lwm2m_objects::StaticDeviceInfo::default();
        if smartcard::apply(objects, &mut info, data).is_err() {
            return self.identity_unreadable();
        }
        if let Some(dm) = crate::session::lwm2m::dm_account(objects) {
            self.pending_dm = Some(dm);
            self.keys = Keys::WaitDown;
            self.emit(Event::LteLinkDown);
            self.phase = Phase::ProvisioningKeys;
            return;
        }
        let Some(bs) = objects.security().instances().iter().find(|s| s.bootstrap) else {
            return self.identity_unreadable();
        };
        plan.server_uri = String::try_from(bs.uri.as_str()).unwrap_or_default();
        plan.is_bootstrap = true;
        plan.sec_tag = None;
        let psk = match bs.mode {
            lwm2m_objects::objects::SecurityMode::Psk => Psk::new(bs.secret_key.expose()),
            _ => None,
        };
        if let Some(psk) = psk {
            let identity = heapless::Vec::from_slice(&bs.identity).unwrap_or_default();
            plan.sec_tag = Some(SMARTCARD_SEC_TAG.0);
            self.pending_bs_key = Some((identity, psk));
            self.keys = Keys::WaitDown;
            self.emit(Event::LteLinkDown);
            self.phase = Phase::ProvisioningKeys;
        }
    }

    /// The DM account is gone (factory reset): its key too. Key writes need
    /// the link down; if the modem refuses now, the next key step deletes it.
    fn forget_dm_key<P: Port>(&mut self, port: &mut P) {
        self.delete_dm_key = port.psk_delete(DM_SEC_TAG).is_err();
    }

    /// ICCID or MSISDN unreadable: ERROR BOOTSTRAP −EFAULT; the runtime reads
    /// them again when the link next comes up after going down.
    fn identity_unreadable(&mut self) {
        self.emit(Event::Error { kind: ErrorKind::Bootstrap, value: Errno::Fault });
        self.link_went_down = false;
        self.phase = Phase::WaitReconnect;
    }

    fn config_error(&mut self, e: &ConfigError) {
        self.emit(config_error_event(e));
        self.phase = Phase::Stopped;
    }

    /// Step 7: the PDN with the APN, then the fallback APN.
    fn activate_pdn<P: Port>(&mut self, port: &mut P, now: Instant) {
        if !port.link_state().is_up() {
            self.phase = Phase::WaitLink;
            return;
        }
        let Some(plan) = self.plan.as_ref() else { return };
        let choice = plan.apn.get(self.apn_index).cloned().flatten();
        let Some((apn, pdn_type)) = choice else {
            return self.fail(now, Failure::PdnActivation, Resume::Pdn);
        };
        let pdn = match self.pdn {
            Some(p) => p,
            None => match port.pdn_activate(&PdnConfig { apn: apn.as_deref(), pdn_type }) {
                Ok(p) => {
                    self.pdn = Some(p);
                    p
                }
                Err(_) => return self.pdn_failed(now),
            },
        };
        match port.pdn_state(pdn) {
            PdnState::Active(_) => {
                self.attempts[0] = 0;
                self.phase = self.connect_phase();
                self.conn = Conn::Closed;
                if self.phase == Phase::Bootstrapping {
                    // The bootstrap server's client hold-off (10 s on Verizon).
                    let hold = self.plan.as_ref().map_or(0, |p| p.hold_off_s);
                    self.hold_until = (hold > 0).then(|| now.checked_add(millis(hold))).flatten();
                }
            }
            PdnState::Activating => {}
            PdnState::Inactive | PdnState::Rejected { .. } => {
                let _ = port.pdn_deactivate(pdn);
                self.pdn = None;
                self.pdn_failed(now);
            }
        }
    }

    fn pdn_failed(&mut self, now: Instant) {
        self.apn_index += 1;
        let has_fallback = self
            .plan
            .as_ref()
            .is_some_and(|p| p.apn.get(self.apn_index).is_some_and(Option::is_some));
        if !has_fallback {
            self.apn_index = 0;
            self.fail(now, Failure::PdnActivation, Resume::Pdn);
        }
    }

    /// Step 8–9: open the socket to the bootstrap or DM server and run the exchange.
    fn connect<P: Port>(&mut self, port: &mut P, now: Instant) {
        let bootstrap = self.phase == Phase::Bootstrapping;
        let (no_route, handshake) = if bootstrap {
            (Failure::BootstrapNoRoute, Failure::BootstrapConnect)
        } else {
            (Failure::ServerNoRoute, Failure::ServerConnect)
        };
        match self.conn {
            Conn::Closed => {
                if !bootstrap && !self.auto_register_allowed() {
                    self.phase = Phase::WaitRegisterRequest;
                    return;
                }
                if bootstrap && self.hold_until.is_some_and(|t| now < t) {
                    return;
                }
                self.hold_until = None;
                let Some(endpoint) = self.endpoint(bootstrap) else {
                    return self.fail(now, no_route, Resume::Connect);
                };
                match port.open(&endpoint) {
                    Ok(sock) => self.conn = Conn::Opening(sock),
                    Err(e) => self.transport_failed(now, e, no_route, handshake),
                }
            }
            Conn::Opening(sock) => match port.poll_open(sock) {
                Poll::Pending => {}
                Poll::Ready(Err(e)) => {
                    port.close(sock);
                    self.conn = Conn::Closed;
                    self.transport_failed(now, e, no_route, handshake);
                }
                Poll::Ready(Ok(())) => {
                    self.conn = Conn::Open(sock);
                    self.last_activity = now;
                    let Some(plan) = self.plan.as_ref() else { return };
                    if bootstrap {
                        self.session.start_bootstrap(now, &plan.endpoint);
                    } else {
                        let params = RegisterParams {
                            lifetime_s: self.lifetime_s(),
                            queue_mode: plan.queue_mode,
                            con_interval: plan.con_interval,
                        };
                        if let Some(o) = self.api.objects_mut() {
                            self.session.start_register(now, &plan.endpoint, &params, o);
                        }
                    }
                }
            },
            Conn::Open(_) => {}
        }
    }

    fn auto_register_allowed(&self) -> bool {
        self.register_requested || self.plan.as_ref().is_some_and(|p| p.auto_register)
    }

    fn lifetime_s(&self) -> u32 {
        match (&self.stored.dm, &self.plan) {
            (Some((_, _, l)), _) => *l,
            (None, Some(p)) => p.lifetime_s,
            (None, None) => 3600,
        }
    }

    fn endpoint(&self, bootstrap: bool) -> Option<Endpoint> {
        let plan = self.plan.as_ref()?;
        let (uri, tag) = match (&self.stored.dm, bootstrap) {
            (Some((uri, _, _)), false) => (uri.as_str(), Some(DM_SEC_TAG.0)),
            _ => (plan.server_uri.as_str(), plan.sec_tag),
        };
        let parsed = parse_server_uri(uri).ok()?;
        let security = match (parsed.secure, tag) {
            (true, Some(t)) => Security::DtlsPsk { sec_tag: SecTag(t), connection_id: false },
            (true, None) => Security::DtlsPsk { sec_tag: SecTag(0), connection_id: false },
            (false, _) => Security::None,
        };
        Some(Endpoint {
            host: String::try_from(parsed.host).ok()?,
            port: parsed.port,
            pdn: self.pdn.unwrap_or(PdnId::DEFAULT),
            family: Family::Any,
            security,
        })
    }

    fn transport_failed(
        &mut self,
        now: Instant,
        e: TransportError,
        no_route: Failure,
        hs: Failure,
    ) {
        let failure = match e {
            TransportError::HandshakeFailed
            | TransportError::HandshakeTimedOut
            | TransportError::NoCredentials => hs,
            _ => no_route,
        };
        self.fail(now, failure, Resume::Connect);
    }

    /// After the session idle timeout closed the DTLS session: the next
    /// activity (an Update falling due, or a datagram the engine holds for
    /// the server, e.g. a notification) opens a new one, and the handshake
    /// runs asynchronously; then the Update goes out and the held datagrams
    /// follow (`carrier-api.md` §1 `session_idle_timeout`: "re-handshake on
    /// next activity"). A session that cannot be restored: register again,
    /// through the deferral logic.
    fn reopen<P: Port>(&mut self, port: &mut P, now: Instant) {
        match self.conn {
            Conn::Open(_) => {}
            Conn::Closed => {
                if !self.update_after_reopen && self.held.is_none() {
                    // Only a datagram really waiting is worth a handshake.
                    if !self.session.wants_transmit() {
                        return;
                    }
                    let Some(n) = self.session.poll_transmit(now, &mut self.buf) else { return };
                    self.held = Some(n);
                }
                match self.endpoint(false).map(|e| port.open(&e)) {
                    Some(Ok(sock)) => self.conn = Conn::Opening(sock),
                    _ => self.reregister(),
                }
            }
            Conn::Opening(sock) => match port.poll_open(sock) {
                Poll::Pending => {}
                Poll::Ready(Ok(())) => {
                    self.conn = Conn::Open(sock);
                    self.last_activity = now;
                    if core::mem::take(&mut self.update_after_reopen)
                        && let Some(o) = self.api.objects_mut()
                    {
                        self.session.start_update(now, o);
                    }
                }
                Poll::Ready(Err(_)) => {
                    port.close(sock);
                    self.conn = Conn::Closed;
                    self.reregister();
                }
            },
        }
    }

    fn reregister(&mut self) {
        self.update_after_reopen = false;
        self.held = None;
        self.conn = Conn::Closed;
        self.phase = Phase::Registering;
    }

    /// After bootstrap: the DM server's PSK into [`DM_SEC_TAG`] with the link
    /// down (LTE_LINK_DOWN … BOOTSTRAPPED, LTE_LINK_UP).
    fn provision_keys<P: Port>(&mut self, port: &mut P, now: Instant) {
        match self.keys {
            Keys::WaitDown => {
                let deadline = *self
                    .keys_deadline
                    .get_or_insert(now.checked_add(LINK_DOWN_WAIT).unwrap_or(now));
                if port.link_state().is_up() && now < deadline {
                    return;
                }
                self.keys_deadline = None;
                if self.delete_dm_key {
                    self.delete_dm_key = port.psk_delete(DM_SEC_TAG).is_err();
                }
                if let Some((identity, psk)) = self.pending_bs_key.as_ref() {
                    let identity = identity.get(..).filter(|id| !id.is_empty());
                    if port.psk_store(SMARTCARD_SEC_TAG, identity, psk).is_err() {
                        self.emit(Event::Error { kind: ErrorKind::Bootstrap, value: Errno::Acces });
                        return self.defer_fixed(now, PSK_PROVISIONING_RETRY_S, Resume::Keys);
                    }
                    self.pending_bs_key = None;
                }
                if let Some(dm) = self.pending_dm.as_ref()
                    && let Some(psk) = dm.psk.as_ref()
                {
                    let identity = dm.psk_identity.get(..).filter(|id| !id.is_empty());
                    // The link was up while the keys were written (the modem
                    // refuses %CMNG then) or the modem refused them otherwise:
                    // ERROR BOOTSTRAP -EACCES, retried after 24 h.
                    if port.psk_store(DM_SEC_TAG, identity, psk).is_err() {
                        self.emit(Event::Error { kind: ErrorKind::Bootstrap, value: Errno::Acces });
                        return self.defer_fixed(now, PSK_PROVISIONING_RETRY_S, Resume::Keys);
                    }
                }
                if let Some(dm) = self.pending_dm.take() {
                    self.stored.dm = Some((dm.uri, dm.ssid, dm.lifetime_s));
                    save(port, &self.stored);
                    self.emit(Event::Bootstrapped);
                }
                self.emit(Event::LteLinkUp);
                self.keys = Keys::WaitUp;
                self.pdn = None;
            }
            Keys::WaitUp => {
                if port.link_state().is_up() {
                    self.conn = Conn::Closed;
                    self.phase = Phase::ActivatingPdn;
                }
            }
        }
    }

    /// Datagrams in and out of the open socket, and the session's outcomes.
    fn pump<P: Port>(&mut self, port: &mut P, now: Instant) {
        let Conn::Open(sock) = self.conn else {
            // Outcomes that need no socket (e.g. a timed-out exchange).
            self.drain_outcomes(port, now);
            return;
        };
        // A datagram held while the session was closed goes first (`buf`
        // is reused for receiving).
        if let Some(n) = self.held.take() {
            self.last_activity = now;
            let _ = port.send(sock, self.buf.get(..n).unwrap_or_default());
        }
        while let Poll::Ready(Ok(n)) = port.recv(sock, &mut self.buf) {
            self.last_activity = now;
            let data = self.buf.get(..n).unwrap_or_default();
            if let Some(objects) = self.api.objects_mut() {
                self.session.handle_datagram(now, data, objects);
            }
        }
        while let Some(n) = self.session.poll_transmit(now, &mut self.buf) {
            self.last_activity = now;
            let data = self.buf.get(..n).unwrap_or_default();
            let _ = port.send(sock, data);
        }
        self.drain_outcomes(port, now);
    }

    fn drain_outcomes<P: Port>(&mut self, port: &mut P, now: Instant) {
        while let Some(outcome) =
            self.api.objects_mut().and_then(|o| self.session.poll_outcome(now, o))
        {
            self.on_outcome(port, now, outcome);
        }
        while let Some(e) = self.api.objects_mut().and_then(ObjectStore::poll_event) {
            self.on_object_event(port, now, e);
        }
        // Pushed firmware bytes, after FirmwarePackage started the download.
        self.fota_pushed(port, now);
    }

    /// Effects of server operations on the objects (`carrier-api.md` §2).
    fn on_object_event<P: Port>(&mut self, port: &mut P, now: Instant, e: ObjectEvent) {
        match e {
            // /3/0/4: the library wants to reboot (the handler may postpone it).
            ObjectEvent::Reboot => self.schedule_reboot(now),
            // /3/0/12: the application re-adds the error codes that still apply.
            ObjectEvent::ErrorCodesReset => self.emit(Event::ErrorCodeReset),
            ObjectEvent::FirmwareDownload => self.fota_pull(port),
            ObjectEvent::FirmwarePackage => self.fota_push(port, now),
            ObjectEvent::FirmwareUpdate => self.fota_update(port, now),
            // A server wrote /19/i/0/ri: APP_DATA with the bytes.
            ObjectEvent::AppDataWritten { instance, resource_instance } => {
                self.queue(Queued::AppData { instance, resource_instance });
            }
            // /3/0/5 factory reset and /1/x/9 Bootstrap-Request Trigger: bootstrap
            // again; REGISTERED follows the new registration.
            ObjectEvent::FactoryReset | ObjectEvent::BootstrapRequestTrigger { .. } => {
                self.stored.dm = None;
                save(port, &self.stored);
                self.forget_dm_key(port);
                self.close(port);
                self.registered_once = false;
                self.next_update = None;
                self.phase = Phase::ActivatingPdn;
            }
            ObjectEvent::RegistrationUpdateTrigger { .. }
            | ObjectEvent::ServerSettingsChanged { .. }
                if self.phase == Phase::Registered =>
            {
                self.next_update = Some(Instant::from_millis(0));
            }
            _ => {}
        }
    }

    /// `lwm2m_carrier_data_send`: an LwM2M Send of one Opaque resource
    /// (`path` of 3 or 4 ids).
    ///
    /// # Errors
    /// `-EINVAL` bad path or a resource that is not Opaque; `-EBADR` not
    /// registered; `-ENOENT` path not initialised; `-EPERM` not readable;
    /// `-EINPROGRESS` / `-ECANCELED` from the session.
    pub fn data_send(&mut self, now: Instant, path: &[u16]) -> Result<(), Errno> {
        let p = match *path {
            [o, i, r] => Path::resource(o, i, r),
            [o, i, r, ri] => Path::resource_instance(o, i, r, ri),
            _ => return Err(Errno::Inval),
        }
        .map_err(|_| Errno::Inval)?;
        if self.phase != Phase::Registered {
            return Err(Errno::BadR);
        }
        let objects = self.api.objects().ok_or(Errno::NoEnt)?;
        let def = objects.resource_def(&p).ok_or(Errno::NoEnt)?;
        if !def.operations.readable() {
            return Err(Errno::Perm);
        }
        if def.data_type != DataType::Opaque {
            return Err(Errno::Inval);
        }
        let objects = self.api.objects_mut().ok_or(Errno::NoEnt)?;
        self.session.start_send(now, &p, objects)
    }

    fn on_outcome<P: Port>(&mut self, port: &mut P, now: Instant, outcome: SessionOutcome) {
        match outcome {
            SessionOutcome::Bootstrapped(dm) => {
                self.attempts[1] = 0;
                self.close(port);
                self.pending_dm = Some(dm);
                self.keys = Keys::WaitDown;
                self.emit(Event::LteLinkDown);
                self.phase = Phase::ProvisioningKeys;
            }
            SessionOutcome::BootstrapIncomplete => {
                self.close(port);
                self.fail(now, Failure::BootstrapSequence, Resume::Connect);
            }
            SessionOutcome::Registered => {
                self.attempts[2] = 0;
                self.phase = Phase::Registered;
                self.schedule_update(now);
                if !self.registered_once {
                    self.registered_once = true;
                    self.emit(Event::Registered);
                }
            }
            SessionOutcome::RegistrationRejected { code } => {
                self.close(port);
                let f = if code == CODE_SERVICE_UNAVAILABLE {
                    Failure::ServiceUnavailable
                } else {
                    Failure::ServerRegistration
                };
                self.fail(now, f, Resume::Connect);
            }
            SessionOutcome::RegistrationTimedOut => {
                self.close(port);
                self.fail(now, Failure::ServerRegistration, Resume::Connect);
            }
            SessionOutcome::Updated => self.schedule_update(now),
            SessionOutcome::UpdateFailed => {
                self.close(port);
                self.phase = Phase::Registering;
            }
            SessionOutcome::AppDataObserved { path, started } => {
                let kind =
                    if started { AppDataKind::ObserveStart } else { AppDataKind::ObserveStop };
                self.emit(Event::AppData { path, kind, data: &[] });
            }
            SessionOutcome::Deregistered => {
                self.deregistering = false;
                self.registered_once = false;
                self.register_requested = false;
                self.close(port);
                self.next_update = None;
                self.phase = Phase::WaitRegisterRequest;
                self.emit(Event::Deregistered);
            }
        }
    }

    /// REBOOT (after LTE_POWER_OFF) once [`REBOOT_GRACE`] has passed.
    fn schedule_reboot(&mut self, now: Instant) {
        if self.reboot_at.is_none() {
            self.reboot_at = now.checked_add(REBOOT_GRACE).or(Some(now));
        }
    }

    fn schedule_update(&mut self, now: Instant) {
        let lifetime = u64::from(self.lifetime_s());
        let margin = UPDATE_MARGIN_S.min(lifetime / 2);
        self.next_update = now.checked_add(Duration::from_secs(lifetime - margin));
    }

    fn close<P: Port>(&mut self, port: &mut P) {
        self.held = None;
        if let Conn::Open(s) | Conn::Opening(s) = self.conn {
            port.close(s);
        }
        self.conn = Conn::Closed;
    }

    /// A failed attempt: DEFERRED with the operator's schedule, or the
    /// give-up error (bootstrap: ERROR BOOTSTRAP −ETIMEDOUT until the next
    /// reboot; server: ERROR CONNECT −EHOSTUNREACH until restart).
    fn fail(&mut self, now: Instant, failure: Failure, resume: Resume) {
        let Some(retry) = self.plan.as_ref().map(|p| p.retry) else {
            // Before the carrier is known: the generic schedule.
            let policy = &carrier_profiles::operators::DEFAULT_RETRY;
            return self.defer_with(now, policy, failure, resume);
        };
        self.defer_with(now, retry, failure, resume);
    }

    fn defer_with(&mut self, now: Instant, policy: &RetryPolicy, f: Failure, resume: Resume) {
        let i = schedule_index(f);
        let attempt = self.attempts.get(i).copied().unwrap_or(0);
        match policy.step(f, attempt) {
            Some(step) => {
                if let Some(a) = self.attempts.get_mut(i) {
                    *a = a.saturating_add(1);
                }
                let timeout = millis(step.delay_s);
                self.emit(Event::Deferred {
                    reason: step.reason,
                    timeout: event_duration(timeout),
                });
                self.retry_at = now.checked_add(timeout);
                self.resume = resume;
                self.phase = Phase::Deferred;
            }
            None => {
                let (kind, value) = if f.is_bootstrap() {
                    (ErrorKind::Bootstrap, Errno::TimedOut)
                } else {
                    (ErrorKind::Connect, Errno::HostUnreach)
                };
                self.emit(Event::Error { kind, value });
                self.phase = Phase::Stopped;
            }
        }
    }

    fn defer_fixed(&mut self, now: Instant, delay_s: u32, resume: Resume) {
        self.retry_at = now.checked_add(millis(delay_s));
        self.resume = resume;
        self.phase = Phase::Deferred;
    }
}

// ----------------------------------------------------------------------
/// The largest Block1 block (RFC 7959 §2.2, SZX 6).
const PUSH_BLOCK: usize = 1024;

/// The objects at start-up: factory state, plus — after a reboot with a
/// stored DM account — that account as Security instance 1 and Server
/// instance 0, so the protocol engine registers from stored state without
/// bootstrapping again (app-integration "Bootstrap": only the first boot
/// bootstraps). The PSK itself stays in [`DM_SEC_TAG`].
fn restored_objects(dm: Option<&(String<DM_URI_LEN>, u16, u32)>) -> ObjectStore {
    use lwm2m_objects::objects::{SecurityInstance, SecurityMode, ServerInstance};
    let mut objects = ObjectStore::new();
    let Some((uri, ssid, lifetime_s)) = dm else { return objects };
    let mut sec = SecurityInstance::new(1);
    let Ok(u) = uri.as_str().try_into() else { return objects };
    sec.uri = u;
    sec.ssid = Some(*ssid);
    sec.mode = if uri.starts_with("coaps") { SecurityMode::Psk } else { SecurityMode::NoSec };
    let mut server = ServerInstance::new(0, *ssid);
    server.lifetime_s = i64::from(*lifetime_s);
    // Both or neither: an account without its Server instance is unusable.
    if objects.security_mut().put(sec).is_ok() && objects.server_mut().put(server).is_err() {
        return ObjectStore::new();
    }
    objects
}

// The stored record: version, carrier bit (u32 LE), fingerprint (u64 LE),
// MSISDN (len + bytes), DM account flag, then ssid (u16), lifetime (u32),
// URI (len + bytes).
// ----------------------------------------------------------------------

fn save<P: Port>(port: &mut P, s: &Stored) {
    let mut out: heapless::Vec<u8, 160> = heapless::Vec::new();
    if encode(s, &mut out) {
        let _ = port.set(STATE_KEY, &out);
    }
}

fn encode(s: &Stored, out: &mut heapless::Vec<u8, 160>) -> bool {
    let mut put = |b: &[u8]| out.extend_from_slice(b).is_ok();
    let msisdn_len = u8::try_from(s.msisdn.len()).unwrap_or(0);
    let mut ok = put(&[RECORD_VERSION])
        && put(&s.carrier_bit.to_le_bytes())
        && put(&s.fingerprint.to_le_bytes())
        && put(&[msisdn_len])
        && put(s.msisdn.as_bytes());
    match &s.dm {
        Some((uri, ssid, lifetime)) => {
            let uri_len = u8::try_from(uri.len()).unwrap_or(0);
            ok = ok
                && put(&[1])
                && put(&ssid.to_le_bytes())
                && put(&lifetime.to_le_bytes())
                && put(&[uri_len])
                && put(uri.as_bytes());
        }
        None => ok = ok && put(&[0]),
    }
    ok
}

/// A byte cursor that never panics.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn str<const N: usize>(&mut self) -> Option<String<N>> {
        let [len] = self.array::<1>()?;
        let bytes = self.take(usize::from(len))?;
        String::try_from(core::str::from_utf8(bytes).ok()?).ok()
    }
}

fn load<P: Port>(port: &mut P) -> Option<Stored> {
    let mut buf = [0u8; 160];
    let n = port.get(STATE_KEY, &mut buf).ok()??;
    decode(buf.get(..n)?)
}

fn decode(bytes: &[u8]) -> Option<Stored> {
    let mut r = Reader(bytes);
    if r.array::<1>()? != [RECORD_VERSION] {
        return None;
    }
    let carrier_bit = u32::from_le_bytes(r.array()?);
    let fingerprint = u64::from_le_bytes(r.array()?);
    let msisdn = r.str()?;
    let dm = match r.array::<1>()? {
        [0] => None,
        [1] => {
            let ssid = u16::from_le_bytes(r.array()?);
            let lifetime = u32::from_le_bytes(r.array()?);
            Some((r.str()?, ssid, lifetime))
        }
        _ => return None,
    };
    r.0.is_empty().then_some(Stored { carrier_bit, fingerprint, msisdn, dm })
}

#[cfg(test)]
mod tests {
    use super::*;
    use carrier_profiles::{AfterLast, DeferredReason, RetrySchedule};

    struct Null;
    impl Session for Null {
        fn start_bootstrap(&mut self, _: Instant, _: &str) {}
        fn start_register(&mut self, _: Instant, _: &str, _: &RegisterParams, _: &mut ObjectStore) {
        }
        fn start_update(&mut self, _: Instant, _: &mut ObjectStore) {}
        fn start_deregister(&mut self, _: Instant) {}
        fn start_send(&mut self, _: Instant, _: &Path, _: &mut ObjectStore) -> Result<(), Errno> {
            Ok(())
        }
        fn handle_datagram(&mut self, _: Instant, _: &[u8], _: &mut ObjectStore) {}
        fn poll_transmit(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
            None
        }
        fn poll_outcome(&mut self, _: Instant, _: &mut ObjectStore) -> Option<SessionOutcome> {
            None
        }
        fn deadline(&self) -> Option<Instant> {
            None
        }
    }

    #[test]
    fn exhausted_server_attempts_are_error_connect_ehostunreach_and_stop() {
        const STOP: RetrySchedule =
            RetrySchedule { delays_s: &[120, 240], after_last: AfterLast::Stop };
        let policy = RetryPolicy { pdn: STOP, bootstrap: STOP, server: STOP };
        let mut rt = Runtime::new(Config::default(), Null);
        let now = Instant::from_millis(0);
        for _ in 0..3 {
            rt.defer_with(now, &policy, Failure::ServerConnect, Resume::Connect);
        }
        let timeout = |s| lwm2m_core::time::Duration::from_secs(s);
        let mut events: heapless::Vec<Event<'static>, 4> = heapless::Vec::new();
        while let Some(Queued::Plain(e)) = rt.events.pop_front() {
            events.push(e).unwrap();
        }
        assert_eq!(
            events,
            [
                Event::Deferred { reason: DeferredReason::ServerConnect, timeout: timeout(120) },
                Event::Deferred { reason: DeferredReason::ServerConnect, timeout: timeout(240) },
                Event::Error { kind: ErrorKind::Connect, value: Errno::HostUnreach },
            ]
        );
        assert_eq!(rt.phase(), Phase::Stopped);
    }

    #[test]
    fn the_stored_record_round_trips_and_garbage_reads_as_first_boot() {
        let s = Stored {
            carrier_bit: 0x01,
            fingerprint: 0x0123_4567_89AB_CDEF,
            msisdn: String::try_from("15551234567").unwrap(),
            dm: Some((String::try_from("coaps://dm.example").unwrap(), 101, 600)),
        };
        let mut out: heapless::Vec<u8, 160> = heapless::Vec::new();
        encode(&s, &mut out);
        assert_eq!(decode(&out), Some(s.clone()));
        for cut in 0..out.len() {
            assert_eq!(decode(out.get(..cut).unwrap()), None, "truncated at {cut}");
        }
        let mut wrong_version = out.clone();
        wrong_version[0] = 9;
        assert_eq!(decode(&wrong_version), None);
    }
}
