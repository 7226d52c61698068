//! The device side shared by the end-to-end tests: a std loop around the
//! sans-IO `lwm2m_core::client::Client` with a `MemoryStore`.
#![allow(clippy::std_instead_of_core, dead_code)]

use lwm2m_core::client::{Client, ConInterval, Config, Event};
use lwm2m_core::coap::endpoint::Config as CoapConfig;
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration as CoreDuration, Instant as CoreInstant};
use lwm2m_server::memstore::{MemoryStore, Owned};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

/// The endpoint name of the test device.
pub const EP: &str = "urn:imei:490154203237511";

/// What the test asks the device loop to do.
pub enum DeviceCmd {
    SetBattery(i64),
    Update,
    Deregister,
    /// Send (`POST /dp`) the battery level and the manufacturer.
    Send,
    /// Set a resource value in the store (the application).
    Set(Path, Owned),
    Stop,
}

/// Short CoAP timers for loopback tests.
pub fn coap_config() -> CoapConfig {
    // Short timers keep the lossy run quick; more retransmissions keep a
    // CON from being given up at 20 % loss each way.
    CoapConfig {
        ack_timeout: CoreDuration::from_millis(300),
        max_retransmit: 8,
        ..CoapConfig::default()
    }
}

/// The device: a std loop around the sans-IO client.
/// How the device loop moves datagrams: plain UDP or a DTLS-PSK session.
pub trait Link {
    /// Send one CoAP datagram to `to`.
    fn send(&mut self, to: SocketAddr, bytes: &[u8]);
    /// Wait up to `timeout` for one CoAP datagram.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Option<(usize, SocketAddr)>;
}

/// Plain UDP.
pub struct UdpLink(pub UdpSocket);

impl Link for UdpLink {
    fn send(&mut self, to: SocketAddr, bytes: &[u8]) {
        self.0.send_to(bytes, to).unwrap();
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Option<(usize, SocketAddr)> {
        self.0.set_read_timeout(Some(timeout)).unwrap();
        self.0.recv_from(buf).ok()
    }
}

/// The device loop over plain UDP.
pub fn run_device(
    bootstrap: SocketAddr,
    commands: Receiver<DeviceCmd>,
    events: Sender<Event>,
    deadline: Instant,
) -> MemoryStore {
    let link = UdpLink(UdpSocket::bind("127.0.0.1:0").unwrap());
    run_device_over(link, &format!("coap://{bootstrap}"), bootstrap, commands, events, deadline)
}

/// The device loop: bootstrap, register on `Bootstrapped`, obey commands until `Stop` or `deadline`.
pub fn run_device_over(
    mut link: impl Link,
    bootstrap_uri: &str,
    bootstrap: SocketAddr,
    commands: Receiver<DeviceCmd>,
    events: Sender<Event>,
    deadline: Instant,
) -> MemoryStore {
    let start = Instant::now();
    let now = || CoreInstant::from_millis(start.elapsed().as_millis() as u64);
    let mut config = Config::new(EP);
    config.coap = coap_config();
    config.con_interval = ConInterval::Always;
    let store = MemoryStore::device(bootstrap_uri, 80);
    let mut client = Client::new(config, XorShiftRng::new(42), store);
    client.bootstrap(now(), bootstrap).unwrap();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let mut rx = [0u8; 2048];
    let battery = Path::resource(3, 0, 9).unwrap();
    // Commands taken from the channel early (see below), oldest first.
    let mut inbox: std::collections::VecDeque<DeviceCmd> = Default::default();
    while Instant::now() < deadline {
        while let Some(t) = client.poll_transmit(now(), &mut buf) {
            link.send(t.remote, &buf[..t.len]);
        }
        while let Some(ev) = client.poll_event() {
            if ev == Event::Bootstrapped {
                client
                    .register(now(), |uri| {
                        let addr = uri.strip_prefix("coap://").or(uri.strip_prefix("coaps://"));
                        addr.and_then(|a| a.parse().ok())
                    })
                    .unwrap();
            }
            if std::env::var_os("E2E_TRACE").is_some() {
                eprintln!("device: {ev:?}");
            }
            let _ = events.send(ev);
        }
        let command = inbox.pop_front().map(Ok).unwrap_or_else(|| commands.try_recv());
        match command {
            Ok(DeviceCmd::SetBattery(v)) => {
                client.store_mut().values.insert(battery, Owned::Int(v));
                client.value_changed(now(), &battery);
                continue;
            }
            Ok(DeviceCmd::Update) => {
                client.update(now(), 101, false).unwrap();
                continue;
            }
            Ok(DeviceCmd::Set(path, value)) => {
                client.store_mut().values.insert(path, value);
                client.value_changed(now(), &path);
                continue;
            }
            Ok(DeviceCmd::Send) => {
                let paths = [battery, Path::resource(3, 0, 0).unwrap()];
                client.send(now(), 101, &paths).unwrap();
                continue;
            }
            Ok(DeviceCmd::Deregister) => {
                client.deregister(now(), 101).unwrap();
                continue;
            }
            Ok(DeviceCmd::Stop) | Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        let wait = client
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now()).as_millis())
            .unwrap_or(10)
            .clamp(1, 10);
        match link.recv(&mut rx, Duration::from_millis(wait)) {
            Some((n, from)) => {
                // A value the test set before asking the server must be in
                // the store before the server's request is handled.
                inbox.extend(commands.try_iter());
                inbox.retain(|c| match c {
                    DeviceCmd::Set(path, value) => {
                        client.store_mut().values.insert(*path, value.clone());
                        client.value_changed(now(), path);
                        false
                    }
                    _ => true,
                });
                client.handle_datagram(now(), from, &rx[..n]);
            }
            None => client.handle_timeout(now()),
        }
    }
    client.store().clone()
}
