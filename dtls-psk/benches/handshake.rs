//! CPU cost of a full in-memory PSK handshake (client + server, no loss) and
//! of one application-data record each way. `cargo bench -p dtls-psk`.

use std::net::SocketAddr;

use dtls_psk::{Client, Config, Event, Instant, Psk, Server};

const KEY: [u8; 16] = [0x11; 16];

fn main() {
    divan::main();
}

fn peer() -> SocketAddr {
    "192.0.2.1:5684".parse().unwrap()
}

fn pair() -> (Client, Server) {
    let client = Client::new(b"bench", Psk::new(&KEY).unwrap(), Config::default()).unwrap();
    let server = Server::new(|_: &[u8]| Some(Psk::new(&KEY).unwrap()), Config::default()).unwrap();
    (client, server)
}

/// Moves datagrams until both sides are quiet; true once the client is connected.
fn pump(client: &mut Client, server: &mut Server, now: Instant) -> bool {
    let mut connected = false;
    loop {
        let mut moved = false;
        while let Some(d) = client.poll_transmit() {
            server.handle_datagram(now, peer(), &d);
            moved = true;
        }
        while let Some((_, d)) = server.poll_transmit() {
            client.handle_datagram(now, &d);
            moved = true;
        }
        while let Some(e) = client.poll_event() {
            connected |= e == Event::Connected;
        }
        while server.poll_event().is_some() {}
        if !moved {
            return connected;
        }
    }
}

#[divan::bench]
fn full_handshake() {
    let (mut client, mut server) = pair();
    let now = Instant::from_millis(0);
    client.connect(now).unwrap();
    assert!(pump(&mut client, &mut server, now));
}

#[divan::bench(args = [16, 256, 1024])]
fn record_round_trip(bencher: divan::Bencher, size: usize) {
    let (mut client, mut server) = pair();
    let now = Instant::from_millis(0);
    client.connect(now).unwrap();
    assert!(pump(&mut client, &mut server, now));
    let data = vec![0xa5; size];
    bencher.bench_local(|| {
        client.send(now, &data).unwrap();
        let d = client.poll_transmit().unwrap();
        server.handle_datagram(now, peer(), &d);
        let (from, plain) = server.recv().unwrap();
        server.send(now, from, &plain).unwrap();
        let (_, back) = server.poll_transmit().unwrap();
        client.handle_datagram(now, &back);
        client.recv().unwrap()
    });
}
