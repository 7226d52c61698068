//! The one LwM2M server of a simulation: `lwm2m_server::Server` (the
//! sans-IO core) on two sockets of the simulated world — the
//! Bootstrap-Server's and the DM server's address — driven with the
//! world's virtual `now`.
//!
//! The core answers to addresses, not sockets; the adapter sends each
//! datagram from the socket its peer last talked to (a device's bootstrap
//! and DM sockets are different local ports, so the two never mix), and
//! from the DM socket to a peer it has not heard from.
//!
//! Guarantee: nothing here panics on what the core or the network does.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use carrier_os::time::Instant;
use carrier_os_std::sim::{SimSocket, World};
use lwm2m_core::time::Instant as CoreInstant;
use lwm2m_server::{Request, Server, ServerConfig, ServerError, ServerEvent, Ticket};

/// Why a server request was made (what to do with its answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A step of a device's script: start the next one.
    Script(usize),
}

/// A server event, stamped and reduced to what the outcome keeps.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) at: Instant,
    pub(crate) event: ServerEvent,
}

/// The server on the world (module doc).
pub(crate) struct SimServer {
    core: Server,
    bs: SimSocket,
    dm: SimSocket,
    /// Peer → the last socket it talked to (true: DM).
    route: HashMap<SocketAddr, bool>,
    buf: Vec<u8>,
    pending: HashMap<u64, Purpose>,
    pub(crate) events: VecDeque<Seen>,
    /// `Server::poll_timeout` as of the last call that could change it
    /// (it walks every registration: asking once per change, not once per
    /// simulation step, keeps a 10 000-device fleet linear).
    timeout: Option<Instant>,
}

fn core_now(now: Instant) -> CoreInstant {
    CoreInstant::from_millis(now.as_millis())
}

impl SimServer {
    pub(crate) fn new(
        world: &World,
        bs: SocketAddr,
        dm: SocketAddr,
        config: ServerConfig,
    ) -> SimServer {
        SimServer {
            core: Server::new(config),
            bs: world.bind(bs),
            dm: world.bind(dm),
            route: HashMap::new(),
            buf: vec![0; 2048],
            pending: HashMap::new(),
            events: VecDeque::new(),
            timeout: None,
        }
    }

    /// When the core next needs [`SimServer::pump`] without new datagrams.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.timeout
    }

    fn refresh_timeout(&mut self) {
        self.timeout = self.core.poll_timeout().map(|t| Instant::from_millis(t.as_millis()));
    }

    /// Registrations the server holds.
    pub(crate) fn registrations(&self) -> usize {
        self.core.registrations().count()
    }

    /// Sends `request` to `endpoint`.
    pub(crate) fn request(
        &mut self,
        now: Instant,
        endpoint: &str,
        request: Request,
        purpose: Purpose,
    ) {
        let Ticket(t) = self.core.request(core_now(now), endpoint, request);
        self.pending.insert(t, purpose);
        self.refresh_timeout();
    }

    /// Takes every received datagram, runs due timers, sends what the core
    /// has to send, and collects its events; returns the answers to
    /// requests made with [`SimServer::request`].
    pub(crate) fn pump(
        &mut self,
        now: Instant,
    ) -> Vec<(Purpose, Result<lwm2m_server::Response, ServerError>)> {
        let at = core_now(now);
        let mut touched = false;
        for (dm, sock) in [(false, &self.bs), (true, &self.dm)] {
            while let Some((from, data)) = sock.recv_from() {
                self.route.insert(from, dm);
                self.core.handle_datagram(at, from, &data);
                touched = true;
            }
        }
        // A datagram only sets timers after `now`: the cached deadline
        // still tells whether one is due (it is refreshed below).
        if self.timeout.is_some_and(|t| t <= now) {
            self.core.handle_timeout(at);
            touched = true;
        }
        // Transmitting arms retransmission timers.
        while let Some((to, n)) = self.core.poll_transmit(at, &mut self.buf) {
            touched = true;
            let data = self.buf.get(..n).unwrap_or(&[]);
            match self.route.get(&to) {
                Some(false) => self.bs.send_to(to, data),
                _ => self.dm.send_to(to, data),
            }
        }
        if touched {
            self.refresh_timeout();
        }
        let mut answers = Vec::new();
        while let Some(event) = self.core.poll_event() {
            if let ServerEvent::Response { ticket: Ticket(t), result } = &event
                && let Some(p) = self.pending.remove(t)
            {
                answers.push((p, result.clone()));
            }
            self.events.push_back(Seen { at: now, event });
        }
        answers
    }
}
