//! [`Lwm2mSession`]: the runtime's [`Session`] over the LwM2M client
//! endpoint `lwm2m_core::client::Client` (OMA-TS-LightweightM2M_Core 1.1
//! §6.1 bootstrap, §6.2 registration, §6.3 device management, §6.4
//! information reporting), with the object model
//! ([`lwm2m_objects::client_store::ClientStore`]) as its store.
//!
//! ## Who owns the objects
//! The runtime does: its [`AppApi`](crate::api::AppApi) keeps the
//! [`ObjectStore`] and the application's setters write it between calls.
//! The client endpoint wants to own its store, so the session *lends* the
//! runtime's objects to it for the length of each call that takes
//! `objects` (swapped in, swapped back before the call returns) and holds a
//! factory-state placeholder otherwise. This was the least invasive choice:
//! the application API, the runtime's event handling and every existing
//! test keep working on `AppApi`'s store, and the only change to the
//! [`Session`] seam is that the calls which read the objects receive them.
//! The price is two moves of the store per call (a few kB, no allocation).
//!
//! ## Guarantees
//! - The socket is the runtime's and connected to one peer at a time; the
//!   client tells the two apart as [`Peer::Bootstrap`] and [`Peer::Server`],
//!   so message-ID deduplication and exchanges never mix the
//!   Bootstrap-Server's traffic with the DM server's. A datagram the client
//!   addresses to the peer whose socket is closed is dropped.
//! - Every client event that ends an exchange becomes exactly one
//!   [`SessionOutcome`]; values the application changed
//!   (`ObjectStore::poll_changed`) reach the client's observations in
//!   [`Session::poll_outcome`].
//! - Nothing here panics on any datagram.
//!
//! Firmware push: the blocks of `/5/0/0` wait in the store and reach the
//! runtime through [`Session::poll_firmware`]; the client holds each
//! block's answer (`Client::hold_block_answers`) until the runtime reports
//! the DFU target's verdict through [`Session::firmware_written`]: 2.31 /
//! 2.04 once the block is written, or the refusal's code (4.13, 5.00), so a
//! server never sees a block acknowledged that the device does not have.

use carrier_os::modem::Psk;
use carrier_os::time::Instant;
use heapless::{Deque, String, Vec};
use lwm2m_core::client::{Client, ClientError, ConInterval, Config, Event, Failure};
use lwm2m_core::path::Path;
use lwm2m_core::rng::Rng;
use lwm2m_core::time::Instant as CoreInstant;
use lwm2m_objects::client_store::ClientStore;
use lwm2m_objects::objects::SecurityMode;
use lwm2m_objects::{DeviceInfo, ObjectError, ObjectStore, StaticDeviceInfo};

use crate::errno::Errno;
use crate::session::{DmAccount, ModemValues, RegisterParams, Session, SessionOutcome};

/// Longest modem identity string kept (the port's `IDENTITY_LEN`).
const INFO_LEN: usize = carrier_os::modem::IDENTITY_LEN;

/// The platform information the client reads the Device object's
/// modem-owned resources from, filled from the port's modem by the runtime
/// ([`Session::set_modem_values`]); empty until then.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModemInfo {
    manufacturer: String<INFO_LEN>,
    model: String<INFO_LEN>,
    serial_number: String<INFO_LEN>,
    firmware_version: String<INFO_LEN>,
    hardware_version: String<INFO_LEN>,
    /// Time, UTC offset and time zone, kept as the fixed platform keeps them.
    clock: StaticDeviceInfo,
}

/// A [`DeviceInfo`] the runtime can fill from the modem.
pub trait ModemDeviceInfo: DeviceInfo {
    /// Takes the values the runtime read from the modem.
    fn set_modem_values(&mut self, values: &ModemValues<'_>);
}

impl ModemDeviceInfo for ModemInfo {
    fn set_modem_values(&mut self, v: &ModemValues<'_>) {
        // Identity strings are at most INFO_LEN long (the port's bound); a
        // longer one is not a valid answer and stays unset.
        let set = |dst: &mut String<INFO_LEN>, src: &str| {
            *dst = String::try_from(src).unwrap_or_default();
        };
        set(&mut self.manufacturer, v.device.manufacturer);
        set(&mut self.model, v.device.model_number);
        set(&mut self.serial_number, v.device.serial_number);
        set(&mut self.firmware_version, v.firmware_version);
        set(&mut self.hardware_version, v.device.hardware_version);
    }
}

/// Fixed answers: the modem's values are not taken.
impl ModemDeviceInfo for StaticDeviceInfo {
    fn set_modem_values(&mut self, _: &ModemValues<'_>) {}
}

impl DeviceInfo for ModemInfo {
    fn manufacturer(&self) -> &str {
        &self.manufacturer
    }
    fn model_number(&self) -> &str {
        &self.model
    }
    fn serial_number(&self) -> &str {
        &self.serial_number
    }
    fn firmware_version(&self) -> &str {
        &self.firmware_version
    }
    fn hardware_version(&self) -> &str {
        &self.hardware_version
    }
    fn current_time(&self) -> i64 {
        self.clock.current_time()
    }
    fn utc_offset(&self) -> &str {
        self.clock.utc_offset()
    }
    fn timezone(&self) -> &str {
        self.clock.timezone()
    }
    fn set_current_time(&mut self, unix_s: i64) -> Result<(), ObjectError> {
        self.clock.set_current_time(unix_s)
    }
    fn set_utc_offset(&mut self, offset: &str) -> Result<(), ObjectError> {
        self.clock.set_utc_offset(offset)
    }
    fn set_timezone(&mut self, tz: &str) -> Result<(), ObjectError> {
        self.clock.set_timezone(tz)
    }
}

/// The peer behind the runtime's socket, as the client endpoint's remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The LwM2M Bootstrap-Server (while bootstrapping).
    Bootstrap,
    /// The device-management server.
    Server,
}

/// Outcomes waiting for [`Session::poll_outcome`].
const OUTCOMES: usize = 8;

fn core_now(now: Instant) -> CoreInstant {
    CoreInstant::from_millis(now.as_millis())
}

/// The LwM2M protocol engine of the runtime; see the module doc.
pub struct Lwm2mSession<R: Rng, I: DeviceInfo = ModemInfo> {
    /// Created at the first start, when the endpoint name is known.
    client: Option<Client<Peer, R, ClientStore<I>>>,
    /// Until then, what the client is made of.
    parts: Option<(R, I)>,
    /// Who the runtime's socket is connected to now.
    peer: Peer,
    /// Builds the client's settings from the endpoint name.
    config: fn(&str) -> Config,
    /// The server the session is registered with.
    ssid: Option<u16>,
    outcomes: Deque<SessionOutcome, OUTCOMES>,
    /// The client may have a datagram to send that nothing asked for yet
    /// (a notification after a value change): poll again at once.
    kick: bool,
    /// The carrier's CON interval, applied when the client is created.
    con_interval: Option<carrier_profiles::ConInterval>,
}

impl<R: Rng, I: DeviceInfo> core::fmt::Debug for Lwm2mSession<R, I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lwm2mSession")
            .field("started", &self.client.is_some())
            .field("ssid", &self.ssid)
            .field("outcomes", &self.outcomes.len())
            .finish()
    }
}

impl<R: Rng> Lwm2mSession<R, ModemInfo> {
    /// A session with `rng` for tokens and message IDs; the Device object's
    /// modem-owned resources come from the port's modem.
    pub fn new(rng: R) -> Self {
        Self::with_info(rng, ModemInfo::default())
    }
}

impl<R: Rng, I: DeviceInfo> Lwm2mSession<R, I> {
    /// A session reading the modem-owned Device resources from `info`.
    pub fn with_info(rng: R, info: I) -> Self {
        Lwm2mSession {
            client: None,
            parts: Some((rng, info)),
            config: Config::new,
            peer: Peer::Bootstrap,
            ssid: None,
            outcomes: Deque::new(),
            kick: false,
            con_interval: None,
        }
    }

    /// Replaces how the client's settings are made from the endpoint name
    /// (CoAP timing, formats, CON interval); the default is [`Config::new`].
    pub fn with_config(mut self, config: fn(&str) -> Config) -> Self {
        self.config = config;
        self
    }

    /// The client endpoint, once started (tests, diagnostics).
    pub fn client(&self) -> Option<&Client<Peer, R, ClientStore<I>>> {
        self.client.as_ref()
    }

    /// The Short Server ID of the registration, while registered.
    pub fn ssid(&self) -> Option<u16> {
        self.ssid
    }

    fn ensure_client(&mut self, endpoint: &str) {
        if self.client.is_none()
            && let Some((rng, info)) = self.parts.take()
        {
            let store = ClientStore::with_info(ObjectStore::new(), info);
            let mut config = (self.config)(endpoint);
            // One owner of the registration Updates: the runtime sends them
            // `UPDATE_MARGIN_S` before the lifetime ends (reopening an
            // idle-closed DTLS session first). The client's own Update timer
            // is pushed to the very end of the lifetime, so it never fires
            // while the runtime's Updates go out and re-arm it; it only backs
            // up a runtime that could not send one.
            config.update_margin = lwm2m_core::time::Duration::ZERO;
            // The carrier's CON interval (`coap_con_interval`, RFC 7641 §4.5).
            config.con_interval = match self.con_interval {
                Some(carrier_profiles::ConInterval::Always) => ConInterval::Always,
                Some(carrier_profiles::ConInterval::Every(s)) => {
                    ConInterval::Every(lwm2m_core::time::Duration::from_secs(u64::from(s)))
                }
                None => config.con_interval,
            };
            let mut client = Client::new(config, rng, store);
            client.hold_block_answers(Path::resource(5, 0, 0).ok());
            self.client = Some(client);
        }
    }

    /// Runs `f` on the client with the runtime's `objects` lent to it.
    fn lend<T>(
        &mut self,
        objects: &mut ObjectStore,
        f: impl FnOnce(&mut Client<Peer, R, ClientStore<I>>) -> T,
    ) -> Option<T> {
        let client = self.client.as_mut()?;
        core::mem::swap(&mut client.store_mut().objects, objects);
        let r = f(client);
        drain_events(client, &mut self.outcomes, &mut self.ssid);
        core::mem::swap(&mut client.store_mut().objects, objects);
        Some(r)
    }

    fn push(&mut self, o: SessionOutcome) {
        let _ = self.outcomes.push_back(o);
    }
}

/// The DM account bootstrap left in the objects (Security joined with Server).
pub(crate) fn dm_account(objects: &ObjectStore) -> Option<DmAccount> {
    objects.security().instances().iter().filter(|s| !s.bootstrap).find_map(|sec| {
        let ssid = sec.ssid?;
        let server = objects.server().by_ssid(ssid)?;
        let psk = match sec.mode {
            SecurityMode::Psk if !sec.secret_key.is_empty() => Psk::new(sec.secret_key.expose()),
            _ => None,
        };
        let identity =
            if psk.is_some() { Vec::from_slice(&sec.identity).ok()? } else { Vec::new() };
        Some(DmAccount {
            uri: String::try_from(sec.uri.as_str()).ok()?,
            ssid,
            lifetime_s: u32::try_from(server.lifetime_s).ok()?,
            psk_identity: identity,
            psk,
        })
    })
}

/// Queue mode (`disable_queue_mode` off, the default) is announced as the
/// binding's `Q` (`carrier-api.md` §1: "binding UQ/NQ"): each DM account's
/// binding gets `Q` after its transport letter (`U` → `UQ`, `US` → `UQS`),
/// or loses it when queue mode is off. The client registers with what the
/// Server object says.
fn apply_queue_mode(objects: &mut ObjectStore, queue_mode: bool) {
    let ids: Vec<u16, { lwm2m_objects::config::SERVER_INSTANCES }> =
        objects.server().instances().iter().map(|s| s.id).collect();
    for id in ids {
        let Some(mut server) = objects.server().get(id).cloned() else { continue };
        if server.binding.contains('Q') == queue_mode {
            continue;
        }
        let mut letters = server.binding.chars().filter(|&c| c != 'Q');
        let mut binding: String<4> = String::new();
        let mut ok = letters.next().is_some_and(|first| binding.push(first).is_ok());
        if queue_mode {
            ok = ok && binding.push('Q').is_ok();
        }
        for c in letters {
            ok = ok && binding.push(c).is_ok();
        }
        if ok {
            server.binding = binding;
            // A replacement of an existing instance cannot run out of room.
            let _ = objects.server_mut().put(server);
        }
    }
}

/// Application data the APP_DATA event reports: `/19/x/0[/y]` (Binary App
/// Data Container, Data) and `/10250/0/1` (App Data Container, Data).
fn is_app_data(path: &Path) -> bool {
    let ids = (path.object_id(), path.instance_id(), path.resource_id());
    matches!(ids, (Some(19), Some(_), Some(0)) | (Some(10250), Some(0), Some(1)))
}

fn drain_events<R: Rng, I: DeviceInfo>(
    client: &mut Client<Peer, R, ClientStore<I>>,
    outcomes: &mut Deque<SessionOutcome, OUTCOMES>,
    registered: &mut Option<u16>,
) {
    while let Some(e) = client.poll_event() {
        let outcome = match e {
            Event::Bootstrapped => match dm_account(&client.store().objects) {
                Some(dm) => SessionOutcome::Bootstrapped(dm),
                None => SessionOutcome::BootstrapIncomplete,
            },
            Event::BootstrapFailed(_) => SessionOutcome::BootstrapIncomplete,
            Event::Registered { ssid } => {
                *registered = Some(ssid);
                SessionOutcome::Registered
            }
            Event::RegisterFailed { failure, .. } => match failure {
                Failure::Rejected(code)
                | Failure::ServerError(code)
                | Failure::Unexpected(code) => {
                    SessionOutcome::RegistrationRejected { code: code.raw() }
                }
                Failure::Timeout | Failure::Reset => SessionOutcome::RegistrationTimedOut,
            },
            Event::Updated { .. } => SessionOutcome::Updated,
            Event::UpdateFailed { .. } => SessionOutcome::UpdateFailed,
            Event::Deregistered { .. } => {
                *registered = None;
                SessionOutcome::Deregistered
            }
            Event::ObservationStarted { path, .. } if is_app_data(&path) => {
                SessionOutcome::AppDataObserved { path, started: true }
            }
            Event::ObservationEnded { path, .. } if is_app_data(&path) => {
                SessionOutcome::AppDataObserved { path, started: false }
            }
            _ => continue,
        };
        let _ = outcomes.push_back(outcome);
    }
}

impl<R: Rng, I: ModemDeviceInfo> Session for Lwm2mSession<R, I> {
    fn start_bootstrap(&mut self, now: Instant, endpoint: &str) {
        self.ensure_client(endpoint);
        self.peer = Peer::Bootstrap;
        let started = self.client.as_mut().map(|c| c.bootstrap(core_now(now), Peer::Bootstrap));
        if !matches!(started, Some(Ok(()))) {
            self.push(SessionOutcome::BootstrapIncomplete);
        }
    }

    fn start_register(
        &mut self,
        now: Instant,
        endpoint: &str,
        params: &RegisterParams,
        objects: &mut ObjectStore,
    ) {
        self.ensure_client(endpoint);
        self.peer = Peer::Server;
        apply_queue_mode(objects, params.queue_mode);
        let now = core_now(now);
        let sent = self.lend(objects, |c| c.register(now, |_| Some(Peer::Server)));
        match sent {
            Some(Ok(n)) if n > 0 => {}
            // Already registered with every account: nothing to wait for.
            Some(Ok(_)) if self.ssid.is_some() => self.push(SessionOutcome::Registered),
            // No usable account, or nothing could be sent: the runtime defers
            // as for an unanswered Register.
            _ => self.push(SessionOutcome::RegistrationTimedOut),
        }
    }

    fn start_update(&mut self, now: Instant, objects: &mut ObjectStore) {
        let Some(ssid) = self.ssid else {
            return self.push(SessionOutcome::UpdateFailed);
        };
        let now = core_now(now);
        let r = self.lend(objects, |c| c.update(now, ssid, false));
        if !matches!(r, Some(Ok(()))) {
            self.push(SessionOutcome::UpdateFailed);
        }
    }

    fn start_deregister(&mut self, now: Instant) {
        let (Some(ssid), Some(client)) = (self.ssid, self.client.as_mut()) else {
            return self.push(SessionOutcome::Deregistered);
        };
        // De-register reads no object: no lending needed.
        if client.deregister(core_now(now), ssid).is_err() {
            self.ssid = None;
            self.push(SessionOutcome::Deregistered);
        }
    }

    fn start_send(
        &mut self,
        now: Instant,
        path: &Path,
        objects: &mut ObjectStore,
    ) -> Result<(), Errno> {
        let ssid = self.ssid.ok_or(Errno::BadR)?;
        if objects.server().by_ssid(ssid).is_some_and(|s| s.mute_send) {
            return Err(Errno::Canceled);
        }
        let now = core_now(now);
        let r = self.lend(objects, |c| c.send(now, ssid, core::slice::from_ref(path)));
        match r {
            Some(Ok(())) => Ok(()),
            Some(Err(ClientError::Busy)) => Err(Errno::InProgress),
            Some(Err(ClientError::NotRegistered)) | None => Err(Errno::BadR),
            Some(Err(_)) => Err(Errno::Inval),
        }
    }

    fn handle_datagram(&mut self, now: Instant, datagram: &[u8], objects: &mut ObjectStore) {
        let now = core_now(now);
        let peer = self.peer;
        self.lend(objects, |c| c.handle_datagram(now, peer, datagram));
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let client = self.client.as_mut()?;
        // Bounded: every call takes one datagram out of the client's queue.
        loop {
            let Some(t) = client.poll_transmit(core_now(now), buf) else {
                self.kick = false;
                return None;
            };
            if t.remote == self.peer {
                return Some(t.len);
            }
        }
    }

    fn poll_outcome(&mut self, now: Instant, objects: &mut ObjectStore) -> Option<SessionOutcome> {
        let at = core_now(now);
        let acted = self.lend(objects, |c| {
            let mut acted = false;
            if c.poll_timeout().is_some_and(|t| t <= at) {
                c.handle_timeout(at);
                acted = true;
            }
            // Bounded by the store's change queue.
            while let Some(p) = c.store_mut().objects.poll_changed() {
                c.value_changed(at, &p);
                acted = true;
            }
            acted
        });
        if acted == Some(true) {
            self.kick = true;
        }
        self.outcomes.pop_front()
    }

    fn poll_firmware(&mut self, buf: &mut [u8]) -> Option<(usize, bool)> {
        self.client.as_mut()?.store_mut().take_pushed(buf)
    }

    fn firmware_written(&mut self, _now: Instant, result: Result<(), u8>) {
        let Some(client) = self.client.as_mut() else { return };
        if client.answer_block(result.map_err(lwm2m_core::coap::numbers::Code::from)) {
            // The answer waits in the client: have the runtime poll at once.
            self.kick = true;
        }
    }

    fn wants_transmit(&self) -> bool {
        self.kick
    }

    fn configure(&mut self, params: &RegisterParams) {
        self.con_interval = Some(params.con_interval);
    }

    fn set_modem_values(&mut self, values: &ModemValues<'_>) {
        if let Some(client) = self.client.as_mut() {
            client.store_mut().info.set_modem_values(values);
        } else if let Some((_, info)) = self.parts.as_mut() {
            info.set_modem_values(values);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        if self.kick || !self.outcomes.is_empty() {
            return Some(Instant::ZERO);
        }
        self.client.as_ref()?.poll_timeout().map(|t| Instant::from_millis(t.as_millis()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwm2m_core::rng::XorShiftRng;

    fn params(con_interval: carrier_profiles::ConInterval) -> RegisterParams {
        RegisterParams { lifetime_s: 3600, queue_mode: true, con_interval }
    }

    #[test]
    fn the_carriers_con_interval_and_modem_values_reach_the_client() {
        let mut s = Lwm2mSession::new(XorShiftRng::new(1));
        s.configure(&params(carrier_profiles::ConInterval::Always));
        let device = carrier_profiles::DeviceInfo {
            manufacturer: "Nordic Semiconductor ASA",
            model_number: "nRF9161",
            serial_number: "352656100000001",
            device_type: "Module",
            hardware_version: "nRF9161 LACA ADA",
            software_version: "",
            software_version_separator: '\n',
        };
        s.set_modem_values(&ModemValues { device: &device, firmware_version: "mfw_2.0.2" });
        s.start_bootstrap(Instant::ZERO, "urn:imei:352656100000001");
        let client = s.client().unwrap();
        assert_eq!(client.config().con_interval, ConInterval::Always);
        assert_eq!(client.config().update_margin, lwm2m_core::time::Duration::ZERO);
        let info = &client.store().info;
        assert_eq!(info.serial_number(), "352656100000001");
        assert_eq!((info.model_number(), info.firmware_version()), ("nRF9161", "mfw_2.0.2"));

        let mut s = Lwm2mSession::new(XorShiftRng::new(1));
        s.configure(&params(carrier_profiles::ConInterval::Every(600)));
        s.start_bootstrap(Instant::ZERO, "urn:imei:352656100000001");
        let every = ConInterval::Every(lwm2m_core::time::Duration::from_secs(600));
        assert_eq!(s.client().unwrap().config().con_interval, every);
    }

    #[test]
    fn queue_mode_is_the_bindings_q_after_the_transport_letter() {
        use lwm2m_objects::objects::ServerInstance;
        let with = |binding: &str, queue_mode: bool| {
            let mut objects = ObjectStore::new();
            let mut server = ServerInstance::new(0, 101);
            server.binding = String::try_from(binding).unwrap();
            objects.server_mut().put(server).unwrap();
            apply_queue_mode(&mut objects, queue_mode);
            objects.server().get(0).unwrap().binding.clone()
        };
        assert_eq!(with("U", true), "UQ");
        assert_eq!(with("US", true), "UQS");
        assert_eq!(with("N", true), "NQ");
        assert_eq!(with("UQ", true), "UQ");
        assert_eq!(with("UQS", false), "US");
        assert_eq!(with("U", false), "U");
    }

    #[test]
    fn only_application_data_observations_are_app_data_events() {
        let p = |ids: &[u16]| Path::new(ids).unwrap();
        assert!(is_app_data(&p(&[19, 0, 0])));
        assert!(is_app_data(&p(&[19, 3, 0, 1])));
        assert!(is_app_data(&p(&[10250, 0, 1])));
        assert!(!is_app_data(&p(&[19, 0, 1])), "19/x/1 is the data priority, not data");
        assert!(!is_app_data(&p(&[3, 0, 9])));
        assert!(!is_app_data(&p(&[19])));
    }
}
