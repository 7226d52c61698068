//! A device (the sans-IO `lwm2m_core::client::Client` over a `MemoryStore`)
//! and the sans-IO `lwm2m_server::Server`, joined by an in-memory link on
//! a virtual clock: protocol stories that need minutes of device time run
//! in milliseconds, and every datagram is seen.
#![allow(clippy::std_instead_of_core, dead_code)]

use lwm2m_core::client::{Client, Config, Event, ObjectStore};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::message::Repr;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration, Instant};
use lwm2m_server::memstore::MemoryStore;
use lwm2m_server::{Server, ServerConfig, ServerEvent};
use std::net::SocketAddr;

/// Where the (bootstrap and DM) server listens.
pub const SERVER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5683);
/// The device.
pub const DEVICE: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 56830);
/// The device's endpoint name.
pub const EP: &str = "urn:imei:490154203237511";

/// One datagram that crossed the link.
#[derive(Debug, Clone)]
pub struct Crossed {
    /// When.
    pub at: Instant,
    /// Sender.
    pub from: SocketAddr,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Crossed {
    /// The datagram decoded.
    pub fn repr(&self) -> Repr<'_> {
        Repr::decode(&self.bytes).unwrap()
    }
}

/// The two sans-IO peers and the link between them; the device's object
/// store is `S` (the test `MemoryStore`, or `lwm2m-objects`' model).
pub struct Bench<S = MemoryStore> {
    /// The server.
    pub server: Server,
    /// The device.
    pub client: Client<SocketAddr, XorShiftRng, S>,
    /// Virtual now.
    pub now: Instant,
    /// Every server event so far.
    pub server_events: Vec<ServerEvent>,
    /// Every device event so far.
    pub client_events: Vec<Event>,
    /// Every datagram that crossed, in order.
    pub log: Vec<Crossed>,
    /// Queue mode: while false, datagrams to the device are lost (its
    /// radio is off).
    pub device_listening: bool,
    /// Register as soon as the device is bootstrapped.
    pub auto_register: bool,
}

impl<S: ObjectStore> Bench<S> {
    /// A server with `config` and a device with `store`; the device
    /// bootstraps from the server (which must have a plan for it).
    pub fn new(config: ServerConfig, store: S) -> Bench<S> {
        let mut client_config = Config::new(EP);
        client_config.con_interval = lwm2m_core::client::ConInterval::Always;
        Bench {
            server: Server::new(config),
            client: Client::new(client_config, XorShiftRng::new(42), store),
            now: Instant::from_secs(1),
            server_events: vec![],
            client_events: vec![],
            log: vec![],
            device_listening: true,
            auto_register: true,
        }
    }

    /// Move every datagram both ways until both sides are quiet (bounded:
    /// a livelock fails the test).
    pub fn settle(&mut self) {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
                moved = true;
                assert_eq!(t.remote, SERVER);
                let bytes = buf[..t.len].to_vec();
                self.log.push(Crossed { at: self.now, from: DEVICE, bytes: bytes.clone() });
                self.server.handle_datagram(self.now, DEVICE, &bytes);
            }
            while let Some((to, len)) = self.server.poll_transmit(self.now, &mut buf) {
                moved = true;
                assert_eq!(to, DEVICE);
                let bytes = buf[..len].to_vec();
                self.log.push(Crossed { at: self.now, from: SERVER, bytes: bytes.clone() });
                if self.device_listening {
                    self.client.handle_datagram(self.now, SERVER, &bytes);
                }
            }
            while let Some(ev) = self.client.poll_event() {
                if ev == Event::Bootstrapped && self.auto_register {
                    self.client
                        .register(self.now, |uri| {
                            uri.strip_prefix("coap://")
                                .or(uri.strip_prefix("coaps://"))
                                .and_then(|a| a.parse().ok())
                        })
                        .unwrap();
                    moved = true;
                }
                self.client_events.push(ev);
            }
            while let Some(ev) = self.server.poll_event() {
                self.server_events.push(ev);
            }
            if !moved {
                return;
            }
        }
        panic!("the link never went quiet (livelock)");
    }

    /// Let virtual time run to `until`, waking each side at its deadlines.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            self.settle();
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .filter(|t| *t <= until)
                .min();
            let Some(next) = next else { break };
            self.now = next.max(self.now);
            self.client.handle_timeout(self.now);
            self.server.handle_timeout(self.now);
        }
        self.now = until.max(self.now);
        self.settle();
    }

    /// Let `d` of virtual time pass.
    pub fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Client-initiated bootstrap from the server, then registration.
    pub fn bootstrap_and_register(&mut self) {
        self.client.bootstrap(self.now, SERVER).unwrap();
        for _ in 0..100 {
            self.advance(Duration::from_millis(100));
            if self.client_events.iter().any(|e| matches!(e, Event::Registered { .. })) {
                return;
            }
        }
        panic!("not registered: {:?} / {:?}", self.client_events, self.server_events);
    }

    /// Datagrams the server sent since log index `from`.
    pub fn server_sent_since(&self, from: usize) -> Vec<&Crossed> {
        self.log[from..].iter().filter(|c| c.from == SERVER).collect()
    }
}
