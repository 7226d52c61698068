//! Our client against our server, in memory: no sockets, time driven only
//! through the `now` arguments (a virtual clock), datagram loss from a
//! seeded generator so every run drops the same datagrams.

use std::net::SocketAddr;

use dtls_psk::{
    AlertDescription, Client, Config, Duration, Event, Instant, Psk, Server, SessionState,
};

const IDENTITY: &[u8] = b"urn:imei:490154203237518";
const KEY: [u8; 16] = *b"0123456789abcdef";

fn client_addr() -> SocketAddr {
    "192.0.2.7:40000".parse().unwrap()
}

fn server_for(identity: &'static [u8], key: [u8; 16]) -> Server {
    Server::new(
        move |id: &[u8]| (id == identity).then(|| Psk::new(&key).unwrap()),
        Config::default(),
    )
    .unwrap()
}

/// xorshift64: a seeded, deterministic datagram dropper.
struct Dropper {
    state: u64,
    percent: u64,
}

impl Dropper {
    fn drops(&mut self) -> bool {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state % 100 < self.percent
    }
}

/// Client + server + virtual clock + lossy links.
struct Pair {
    client: Client,
    server: Server,
    now: Instant,
    loss: Dropper,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    /// Datagrams delivered client→server and server→client.
    c2s: Vec<usize>,
    s2c: Vec<usize>,
    /// Direction changes among delivered datagrams ("flights").
    flights: Vec<char>,
    dropped: usize,
    lossy: bool,
}

impl Pair {
    fn new(client: Client, server: Server, seed: u64, percent: u64) -> Self {
        Pair {
            client,
            server,
            now: Instant::from_millis(1_000),
            loss: Dropper { state: seed, percent },
            client_events: Vec::new(),
            server_events: Vec::new(),
            c2s: Vec::new(),
            s2c: Vec::new(),
            flights: Vec::new(),
            dropped: 0,
            lossy: true,
        }
    }

    fn note_flight(&mut self, dir: char) {
        if self.flights.last() != Some(&dir) {
            self.flights.push(dir);
        }
    }

    /// Moves every pending datagram once; returns whether anything moved.
    fn step(&mut self) -> bool {
        let mut moved = false;
        while let Some(d) = self.client.poll_transmit() {
            moved = true;
            if self.lossy && self.loss.drops() {
                self.dropped += 1;
                continue;
            }
            self.c2s.push(d.len());
            self.note_flight('>');
            self.server.handle_datagram(self.now, client_addr(), &d);
        }
        while let Some((to, d)) = self.server.poll_transmit() {
            assert_eq!(to, client_addr());
            moved = true;
            if self.lossy && self.loss.drops() {
                self.dropped += 1;
                continue;
            }
            self.s2c.push(d.len());
            self.note_flight('<');
            self.client.handle_datagram(self.now, &d);
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        while let Some((peer, e)) = self.server.poll_event() {
            assert_eq!(peer, client_addr());
            self.server_events.push(e);
        }
        moved
    }

    /// Steps, advancing the virtual clock to the next deadline whenever the
    /// links are quiet, until `done` or `limit` of virtual time passed.
    fn drive_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..10_000 {
            while self.step() {}
            if done(self) {
                return true;
            }
            let next = match (self.client.poll_timeout(), self.server.poll_timeout()) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => return done(self),
                },
            };
            if next > end {
                return done(self);
            }
            self.now = self.now.max(next);
            self.client.handle_timeout(self.now);
            self.server.handle_timeout(self.now);
        }
        panic!("livelock: 10000 iterations without reaching the goal");
    }

    fn connected(&self) -> bool {
        self.client_events.contains(&Event::Connected)
            && self.server_events.contains(&Event::Connected)
    }
}

fn client(key: [u8; 16]) -> Client {
    Client::new(IDENTITY, Psk::new(&key).unwrap(), Config::default()).unwrap()
}

#[test]
fn handshake_completes_and_application_data_flows_both_ways() {
    let mut pair = Pair::new(client(KEY), server_for(IDENTITY, KEY), 1, 0);
    pair.client.connect(pair.now).unwrap();
    assert!(
        pair.drive_until(Duration::from_secs(1), Pair::connected),
        "events: {:?} / {:?}",
        pair.client_events,
        pair.server_events
    );
    assert_eq!(pair.client.state(), SessionState::Connected);
    assert_eq!(pair.server.peer_identity(client_addr()).as_deref(), Some(IDENTITY));

    pair.client.send(pair.now, b"\x40\x01\x12\x34\xbb.well-known\x04core").unwrap();
    pair.step();
    assert_eq!(
        pair.server.recv(),
        Some((client_addr(), b"\x40\x01\x12\x34\xbb.well-known\x04core".to_vec()))
    );
    pair.server.send(pair.now, client_addr(), b"\x60\x45\x12\x34").unwrap();
    pair.step();
    assert_eq!(pair.client.recv(), Some(b"\x60\x45\x12\x34".to_vec()));
    // No retransmission or give-up timer is left once data has flowed.
    assert_eq!(pair.client.poll_timeout(), None);
}
