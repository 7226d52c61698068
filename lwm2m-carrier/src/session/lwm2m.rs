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
use lwm2m_core::client::{Client, ClientError, Config, Event, Failure};
use lwm2m_core::path::Path;
use lwm2m_core::rng::Rng;
use lwm2m_core::time::Instant as CoreInstant;
use lwm2m_objects::client_store::ClientStore;
use lwm2m_objects::objects::SecurityMode;
use lwm2m_objects::{DeviceInfo, ObjectStore, StaticDeviceInfo};

use crate::errno::Errno;
use crate::session::{DmAccount, RegisterParams, Session, SessionOutcome};

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
pub struct Lwm2mSession<R: Rng, I: DeviceInfo = StaticDeviceInfo> {
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

impl<R: Rng> Lwm2mSession<R, StaticDeviceInfo> {
    /// A session with `rng` for tokens and message IDs and fixed platform
    /// information.
    pub fn new(rng: R) -> Self {
        Self::with_info(rng, StaticDeviceInfo::default())
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
            let mut client = Client::new((self.config)(endpoint), rng, store);
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
fn dm_account(objects: &ObjectStore) -> Option<DmAccount> {
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
            _ => continue,
        };
        let _ = outcomes.push_back(outcome);
    }
}

impl<R: Rng, I: DeviceInfo> Session for Lwm2mSession<R, I> {
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
        _params: &RegisterParams,
        objects: &mut ObjectStore,
    ) {
        self.ensure_client(endpoint);
        self.peer = Peer::Server;
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

    fn deadline(&self) -> Option<Instant> {
        if self.kick || !self.outcomes.is_empty() {
            return Some(Instant::ZERO);
        }
        self.client.as_ref()?.poll_timeout().map(|t| Instant::from_millis(t.as_millis()))
    }
}
