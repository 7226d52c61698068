//! Protocol stories for the LwM2M client endpoint, sans-IO: the client
//! against an in-test server made of a plain CoAP endpoint, time driven
//! through `now` (OMA-TS-LightweightM2M_Core 1.1 §6.1, §6.2, §6.4).

#![allow(clippy::std_instead_of_core)]
use lwm2m_core::client::{
    Account, Caller, Client, ConInterval, Config, Event, Failure, ObjectInfo, ObjectStore,
    RegistrationState, StoreError, WriteMode,
};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config as CoapConfig, Endpoint, Event as CoapEvent};
use lwm2m_core::coap::message::{MessageType, Repr};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::formats::{Decoder, Encoder, NoTypes};
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::{Duration, Instant};
use lwm2m_core::value::{DataType, Value};
use std::collections::BTreeMap;

const CLIENT: u8 = 1;
const SERVER: u8 = 2;
const BOOTSTRAP: u8 = 3;

/// Security 0 (bootstrap) + 1 (server 101), Server 0, Device 0 with a
/// battery level.
#[derive(Default)]
struct Store {
    ints: BTreeMap<Path, i64>,
    server_account: bool,
    executed: Vec<Path>,
    deleted: Vec<Path>,
    queue_mode: bool,
    second_server: bool,
    /// Instances of object 3303 (to make the Register payload large).
    many_instances: Vec<u16>,
}

impl Store {
    fn new(with_server: bool) -> Store {
        let mut ints = BTreeMap::new();
        ints.insert(Path::resource(3, 0, 9).unwrap(), 80);
        ints.insert(Path::resource(3, 0, 10).unwrap(), 15);
        Store { ints, server_account: with_server, ..Store::default() }
    }
}

impl ObjectStore for Store {
    fn objects(&self, visit: &mut dyn FnMut(ObjectInfo<'_>)) {
        visit(ObjectInfo { id: 0, version: "1.1", instances: &[0, 1] });
        if self.server_account {
            visit(ObjectInfo { id: 1, version: "1.1", instances: &[0] });
        }
        visit(ObjectInfo { id: 3, version: "1.1", instances: &[0] });
        visit(ObjectInfo { id: 5, version: "1.0", instances: &[] });
        if !self.many_instances.is_empty() {
            visit(ObjectInfo { id: 3303, version: "1.0", instances: &self.many_instances });
        }
    }
    fn accounts(&self, visit: &mut dyn FnMut(Account<'_>)) {
        let base = Account {
            security_instance: 0,
            server_uri: "coap://bs",
            bootstrap: true,
            ssid: None,
            lifetime_s: 0,
            binding: "U",
            queue_mode: false,
        };
        visit(base);
        if self.server_account {
            visit(Account {
                security_instance: 1,
                server_uri: "coap://dm",
                bootstrap: false,
                ssid: Some(101),
                lifetime_s: self
                    .ints
                    .get(&Path::resource(1, 0, 1).unwrap())
                    .map_or(300, |&v| v as u32),
                queue_mode: self.queue_mode,
                ..base
            });
        }
        if self.second_server {
            visit(Account {
                security_instance: 2,
                server_uri: "coap://dm2",
                bootstrap: false,
                ssid: Some(102),
                lifetime_s: 600,
                ..base
            });
        }
    }
    fn data_type(&self, path: &Path) -> Option<DataType> {
        let lifetime = *path == Path::resource(1, 0, 1).unwrap();
        (lifetime || self.ints.contains_key(path)).then_some(DataType::Integer)
    }
    fn read(&self, _: Caller, path: &Path, out: &mut dyn Encoder) -> Result<(), StoreError> {
        let mut any = false;
        for (p, v) in &self.ints {
            if path.contains(p) {
                any = true;
                out.write(p, &Value::Integer(*v)).map_err(|_| StoreError::BadValue)?;
            }
        }
        if any { Ok(()) } else { Err(StoreError::NotFound) }
    }
    fn write<'a>(
        &mut self,
        _: Caller,
        _: &Path,
        _: WriteMode,
        values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<(), StoreError> {
        for (p, v) in values {
            match v {
                Value::Integer(i) => {
                    self.ints.insert(p, i);
                }
                _ => return Err(StoreError::BadValue),
            }
        }
        Ok(())
    }
    fn execute(&mut self, _: Caller, path: &Path, _: &[u8]) -> Result<(), StoreError> {
        self.executed.push(*path);
        Ok(())
    }
    fn create<'a>(
        &mut self,
        _: Caller,
        _: u16,
        _: Option<u16>,
        _: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<u16, StoreError> {
        Err(StoreError::MethodNotAllowed)
    }
    fn delete(&mut self, _: Caller, path: &Path) -> Result<(), StoreError> {
        self.deleted.push(*path);
        Ok(())
    }
    fn discover(
        &self,
        _: Caller,
        path: &Path,
        visit: &mut dyn FnMut(&Path, Option<u16>),
    ) -> Result<(), StoreError> {
        for p in self.ints.keys().filter(|p| path.contains(p)) {
            visit(p, None);
        }
        Ok(())
    }
}

struct Pair {
    client: Client<u8, XorShiftRng, Store>,
    server: Endpoint<u8, XorShiftRng>,
    now: Instant,
    events: Vec<Event>,
}

/// A request the in-test server received, owned.
#[derive(Debug)]
struct Seen {
    id: lwm2m_core::coap::endpoint::RequestId,
    code: Code,
    path: Vec<String>,
    queries: Vec<String>,
    payload: Vec<u8>,
}

impl Pair {
    fn new(with_server: bool) -> Pair {
        Pair {
            client: Client::new(
                Config::new("urn:imei:1"),
                XorShiftRng::new(7),
                Store::new(with_server),
            ),
            server: Endpoint::new(CoapConfig::default(), XorShiftRng::new(9)),
            now: Instant::from_secs(1),
            events: vec![],
        }
    }

    /// Move datagrams both ways until quiet; return the server-side CoAP
    /// events as owned summaries (requests) and response codes.
    fn exchange(&mut self) -> (Vec<Seen>, Vec<(Code, Vec<u8>)>) {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let mut requests = vec![];
        let mut responses = vec![];
        for _ in 0..50 {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
                moved = true;
                let remote = t.remote;
                self.server.handle_datagram(self.now, CLIENT, &buf[..t.len]);
                let _ = remote;
                while let Some(ev) = self.server.poll_event() {
                    match ev {
                        CoapEvent::Request { id, request, .. } => requests.push(Seen {
                            id,
                            code: request.code,
                            path: request
                                .options
                                .get_all(OptionNumber::UriPath)
                                .map(|o| o.value_str().unwrap().to_owned())
                                .collect(),
                            queries: request
                                .options
                                .get_all(OptionNumber::UriQuery)
                                .map(|o| o.value_str().unwrap().to_owned())
                                .collect(),
                            payload: request.payload.to_vec(),
                        }),
                        CoapEvent::Response { response, .. } => {
                            responses.push((response.code, response.payload.to_vec()))
                        }
                        _ => {}
                    }
                }
            }
            while let Some(t) = self.server.poll_transmit(self.now, &mut buf) {
                moved = true;
                self.client.handle_datagram(self.now, SERVER, &buf[..t.len]);
            }
            while let Some(ev) = self.client.poll_event() {
                self.events.push(ev);
            }
            if !moved {
                break;
            }
        }
        (requests, responses)
    }

    fn advance_to(&mut self, t: Instant) {
        self.now = t;
        self.client.handle_timeout(t);
        self.server.handle_timeout(t);
    }

    fn register(&mut self) -> String {
        let sent =
            self.client.register(self.now, |uri| (uri == "coap://dm").then_some(SERVER)).unwrap();
        assert_eq!(sent, 1);
        let (reqs, _) = self.exchange();
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        self.server
            .respond(r.id, Code::Created, |w| {
                w.add_option(OptionNumber::LocationPath, b"rd")?;
                w.add_option(OptionNumber::LocationPath, b"a1")
            })
            .unwrap();
        self.exchange();
        String::from_utf8(r.payload.clone()).unwrap()
    }
}

#[test]
fn register_sends_endpoint_lifetime_version_binding_and_object_links() {
    let mut p = Pair::new(true);
    p.client.register(p.now, |_| Some(SERVER)).unwrap();
    let (reqs, _) = p.exchange();
    let r = &reqs[0];
    assert_eq!(r.code, Code::Post);
    assert_eq!(r.path, ["rd"]);
    assert_eq!(r.queries, ["ep=urn:imei:1", "lt=300", "lwm2m=1.1", "b=U"]);
    // TS §6.2.1: no Security object, `ver` where not 1.0, objects without
    // instances as `</5>`.
    assert_eq!(
        std::str::from_utf8(&r.payload).unwrap(),
        "</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</5>"
    );
    assert_eq!(p.client.registration(101), Some(RegistrationState::AwaitingRegisterResponse));
}

#[test]
fn created_with_location_registers_and_update_goes_to_location_before_lifetime() {
    let mut p = Pair::new(true);
    p.register();
    assert_eq!(p.events, [Event::Registered { ssid: 101 }]);
    assert_eq!(p.client.location(101), Some("/rd/a1"));
    // Lifetime 300 s, margin 30 s: nothing at 269 s, the Update at 270 s.
    p.advance_to(Instant::from_secs(1 + 269));
    assert!(p.exchange().0.is_empty());
    p.advance_to(Instant::from_secs(1 + 270));
    let (reqs, _) = p.exchange();
    assert_eq!(reqs.len(), 1);
    assert_eq!((reqs[0].code, reqs[0].path.clone()), (Code::Post, vec!["rd".into(), "a1".into()]));
    assert!(reqs[0].queries.is_empty() && reqs[0].payload.is_empty());
    p.server.respond(reqs[0].id, Code::Changed, |_| Ok(())).unwrap();
    p.exchange();
    assert_eq!(p.events.last(), Some(&Event::Updated { ssid: 101 }));
}

#[test]
fn deregister_deletes_the_location() {
    let mut p = Pair::new(true);
    p.register();
    p.client.deregister(p.now, 101).unwrap();
    let (reqs, _) = p.exchange();
    assert_eq!(
        (reqs[0].code, reqs[0].path.clone()),
        (Code::Delete, vec!["rd".into(), "a1".into()])
    );
    p.server.respond(reqs[0].id, Code::Deleted, |_| Ok(())).unwrap();
    p.exchange();
    assert_eq!(p.events.last(), Some(&Event::Deregistered { ssid: 101, failure: None }));
    assert_eq!(p.client.registration(101), Some(RegistrationState::Unregistered));
}

#[test]
fn register_4xx_5xx_and_timeout_are_distinct_failures() {
    for (code, expected) in [
        (Some(Code::Forbidden), Failure::Rejected(Code::Forbidden)),
        (Some(Code::ServiceUnavailable), Failure::ServerError(Code::ServiceUnavailable)),
        (None, Failure::Timeout),
    ] {
        let mut p = Pair::new(true);
        p.client.register(p.now, |_| Some(SERVER)).unwrap();
        let (reqs, _) = p.exchange();
        match code {
            Some(code) => {
                p.server.respond(reqs[0].id, code, |_| Ok(())).unwrap();
                p.exchange();
            }
            None => {
                // The server ACKs nothing: the client's CON goes unanswered
                // (we drop every further datagram) until MAX_RETRANSMIT.
                let mut buf = [0u8; MAX_MESSAGE_LEN];
                let mut t = p.now;
                for _ in 0..10 {
                    t += Duration::from_secs(100);
                    p.client.handle_timeout(t);
                    while p.client.poll_transmit(t, &mut buf).is_some() {}
                    while let Some(ev) = p.client.poll_event() {
                        p.events.push(ev);
                    }
                }
            }
        }
        assert_eq!(p.events, [Event::RegisterFailed { ssid: 101, failure: expected }]);
    }
}

#[test]
fn server_reads_device_instance_in_tlv() {
    let mut p = Pair::new(true);
    p.register();
    p.server
        .request(p.now, CLIENT, true, Code::Get, |w| {
            w.add_path(OptionNumber::UriPath, "3/0")?;
            w.add_content_format_accept()
        })
        .unwrap();
    let (_, responses) = p.exchange();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].0, Code::Content);
    // 3/0/9 = 80 and 3/0/10 = 15 as TLV resources (TS §7.4.3).
    assert_eq!(responses[0].1, [0xC1, 0x09, 80, 0xC1, 0x0A, 15]);
}

trait AcceptTlv {
    fn add_content_format_accept(&mut self) -> Result<(), lwm2m_core::coap::Error>;
}
impl AcceptTlv for lwm2m_core::coap::writer::MessageWriter<'_> {
    fn add_content_format_accept(&mut self) -> Result<(), lwm2m_core::coap::Error> {
        self.add_uint(OptionNumber::Accept, u32::from(ContentFormat::Lwm2mTlv.raw()))
    }
}

#[test]
fn observed_battery_notifies_after_pmin_and_at_pmax() {
    let mut p = Pair::new(true);
    p.register();
    p.server
        .request(p.now, CLIENT, true, Code::Put, |w| {
            w.add_path(OptionNumber::UriPath, "3/0/9")?;
            w.add_uri_query("pmin=2")?;
            w.add_uri_query("pmax=10")
        })
        .unwrap();
    let (_, r) = p.exchange();
    assert_eq!(r[0].0, Code::Changed);
    p.server
        .request(p.now, CLIENT, true, Code::Get, |w| {
            w.add_uint(OptionNumber::Observe, 0)?;
            w.add_path(OptionNumber::UriPath, "3/0/9")
        })
        .unwrap();
    let (_, r) = p.exchange();
    assert_eq!(r, [(Code::Content, b"80".to_vec())]);
    let t0 = p.now;
    // The application changes the level at +1 s: not before pmin (+2 s).
    p.now = t0 + Duration::from_secs(1);
    p.client.store_mut().ints.insert(Path::resource(3, 0, 9).unwrap(), 70);
    p.client.value_changed(p.now, &Path::resource(3, 0, 9).unwrap());
    assert!(p.exchange().1.is_empty());
    assert_eq!(p.client.poll_timeout().map(|t| t <= t0 + Duration::from_secs(2)), Some(true));
    p.advance_to(t0 + Duration::from_secs(2));
    let (_, r) = p.exchange();
    assert_eq!(r, [(Code::Content, b"70".to_vec())]);
    // No change: the next one at pmax after the last.
    p.advance_to(t0 + Duration::from_secs(11));
    assert!(p.exchange().1.is_empty());
    p.advance_to(t0 + Duration::from_secs(12));
    assert_eq!(p.exchange().1, [(Code::Content, b"70".to_vec())]);
}

#[test]
fn execute_reaches_the_store() {
    let mut p = Pair::new(true);
    p.register();
    p.server
        .request(p.now, CLIENT, true, Code::Post, |w| w.add_path(OptionNumber::UriPath, "3/0/4"))
        .unwrap();
    assert_eq!(p.exchange().1[0].0, Code::Changed);
    assert_eq!(p.client.store().executed, [Path::resource(3, 0, 4).unwrap()]);
}

#[test]
fn unknown_peer_gets_unauthorized() {
    let mut p = Pair::new(true);
    p.register();
    p.server
        .request(p.now, CLIENT, true, Code::Get, |w| w.add_path(OptionNumber::UriPath, "3/0"))
        .unwrap();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let t = p.server.poll_transmit(p.now, &mut buf).unwrap();
    p.client.handle_datagram(p.now, 99, &buf[..t.len]);
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    assert_eq!(t.remote, 99);
    assert_eq!(
        lwm2m_core::coap::message::Repr::decode(&buf[..t.len]).unwrap().code,
        Code::Unauthorized
    );
}

#[test]
fn bootstrap_request_then_finish_without_server_account_is_4_06() {
    let mut p = Pair::new(false);
    p.client.bootstrap(p.now, BOOTSTRAP).unwrap();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    let req = lwm2m_core::coap::message::Repr::decode(&buf[..t.len]).unwrap();
    let q: Vec<_> =
        req.options.get_all(OptionNumber::UriQuery).map(|o| o.value_str().unwrap()).collect();
    assert_eq!(q, ["ep=urn:imei:1", "pct=112"]);
    let mut bs = Endpoint::<u8, _>::new(CoapConfig::default(), XorShiftRng::new(3));
    bs.handle_datagram(p.now, CLIENT, &buf[..t.len]);
    let Some(CoapEvent::Request { id, .. }) = bs.poll_event() else { panic!() };
    bs.respond(id, Code::Changed, |_| Ok(())).unwrap();
    let t = bs.poll_transmit(p.now, &mut buf).unwrap();
    p.client.handle_datagram(p.now, BOOTSTRAP, &buf[..t.len]);
    bs.request(p.now, CLIENT, true, Code::Post, |w| w.add_uri_path("bs")).unwrap();
    let t = bs.poll_transmit(p.now, &mut buf).unwrap();
    p.client.handle_datagram(p.now, BOOTSTRAP, &buf[..t.len]);
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    let rsp = lwm2m_core::coap::message::Repr::decode(&buf[..t.len]).unwrap();
    assert_eq!(rsp.code, Code::NotAcceptable);
    // Then the bootstrap timeout ends it.
    p.client.handle_timeout(p.now + Duration::from_secs(61));
    let evs: Vec<_> = std::iter::from_fn(|| p.client.poll_event()).collect();
    assert_eq!(evs, [Event::BootstrapFailed(Failure::Timeout)]);
}

#[test]
fn write_tlv_updates_the_store() {
    let mut p = Pair::new(true);
    p.register();
    p.server
        .request(p.now, CLIENT, true, Code::Post, |w| {
            w.add_path(OptionNumber::UriPath, "3/0")?;
            w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::Lwm2mTlv.raw()))?;
            w.set_payload(&[0xC1, 0x0A, 42])
        })
        .unwrap();
    assert_eq!(p.exchange().1[0].0, Code::Changed);
    assert_eq!(p.client.store().ints[&Path::resource(3, 0, 10).unwrap()], 42);
    // A malformed TLV never reaches the store.
    p.server
        .request(p.now, CLIENT, true, Code::Post, |w| {
            w.add_path(OptionNumber::UriPath, "3/0")?;
            w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::Lwm2mTlv.raw()))?;
            w.set_payload(&[0xC1, 0x0A])
        })
        .unwrap();
    assert_eq!(p.exchange().1[0].0, Code::BadRequest);
    let _ = Decoder::new(ContentFormat::Lwm2mTlv, &Path::ROOT, &[], &mut [], NoTypes);
}

#[test]
fn block1_write_out_of_sequence_is_4_08_and_store_refusal_maps_to_its_code() {
    let mut p = Pair::new(true);
    p.register();
    // Block 1 (offset 16) without block 0 first: 4.08 (RFC 7959 §2.9.2).
    p.server
        .request(p.now, CLIENT, true, Code::Put, |w| {
            w.add_path(OptionNumber::UriPath, "5/0/0")?;
            w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::OctetStream.raw()))?;
            w.add_uint(OptionNumber::Block1, (1 << 4) | 0x8)?;
            w.set_payload(&[0u8; 16])
        })
        .unwrap();
    assert_eq!(p.exchange().1[0].0, Code::RequestEntityIncomplete);
    // Block 0: the test store does not take block-wise writes (default
    // `write_block`): 4.05.
    p.server
        .request(p.now, CLIENT, true, Code::Put, |w| {
            w.add_path(OptionNumber::UriPath, "5/0/0")?;
            w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::OctetStream.raw()))?;
            w.add_uint(OptionNumber::Block1, 0x8)?;
            w.set_payload(&[0u8; 16])
        })
        .unwrap();
    assert_eq!(p.exchange().1[0].0, Code::MethodNotAllowed);
}

fn observe_battery(p: &mut Pair, attrs: &[&str]) {
    p.server
        .request(p.now, CLIENT, true, Code::Put, |w| {
            w.add_path(OptionNumber::UriPath, "3/0/9")?;
            for a in attrs {
                w.add_uri_query(a)?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(p.exchange().1[0].0, Code::Changed);
    p.server
        .request(p.now, CLIENT, true, Code::Get, |w| {
            w.add_uint(OptionNumber::Observe, 0)?;
            w.add_path(OptionNumber::UriPath, "3/0/9")
        })
        .unwrap();
    assert_eq!(p.exchange().1[0].0, Code::Content);
}

/// The message type of the next datagram the client sends, without delivering it.
fn next_type(p: &mut Pair) -> Option<MessageType> {
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let t = p.client.poll_transmit(p.now, &mut buf)?;
    Some(Repr::decode(&buf[..t.len]).unwrap().msg_type)
}

fn change_battery(p: &mut Pair, v: i64) {
    p.client.store_mut().ints.insert(Path::resource(3, 0, 9).unwrap(), v);
    p.client.value_changed(p.now, &Path::resource(3, 0, 9).unwrap());
}

#[test]
fn notifications_are_non_by_default_and_con_when_con_interval_is_always() {
    let mut p = Pair::new(true);
    p.register();
    observe_battery(&mut p, &[]);
    change_battery(&mut p, 50);
    assert_eq!(next_type(&mut p), Some(MessageType::Non));

    let mut config = Config::new("urn:imei:1");
    config.con_interval = ConInterval::Always;
    let mut p = Pair::new(true);
    p.client = Client::new(config, XorShiftRng::new(7), Store::new(true));
    p.register();
    observe_battery(&mut p, &[]);
    change_battery(&mut p, 50);
    assert_eq!(next_type(&mut p), Some(MessageType::Con));
}

#[test]
fn queue_mode_registers_with_q_sleeps_holds_notifications_and_sends_them_after_the_update() {
    let mut p = Pair::new(true);
    p.client.store_mut().queue_mode = true;
    p.client.register(p.now, |_| Some(SERVER)).unwrap();
    let (reqs, _) = p.exchange();
    assert_eq!(reqs[0].queries.last().map(String::as_str), Some("Q"));
    p.server
        .respond(reqs[0].id, Code::Created, |w| w.add_option(OptionNumber::LocationPath, b"rd"))
        .unwrap();
    p.exchange();
    observe_battery(&mut p, &[]);
    // 93 s (MAX_TRANSMIT_WAIT) after the last exchange the client sleeps.
    let t0 = p.now;
    p.advance_to(t0 + Duration::from_secs(92));
    p.exchange();
    assert!(!p.events.contains(&Event::Sleeping { ssid: 101 }));
    p.advance_to(t0 + Duration::from_secs(93));
    p.exchange();
    assert!(p.events.contains(&Event::Sleeping { ssid: 101 }));
    // A change while asleep sends nothing...
    change_battery(&mut p, 33);
    assert_eq!(p.exchange().1, []);
    // ...until the wake-up Update is acknowledged.
    p.client.wake(p.now, 101).unwrap();
    let (reqs, responses) = p.exchange();
    assert_eq!((reqs.len(), responses.len()), (1, 0));
    p.server.respond(reqs[0].id, Code::Changed, |_| Ok(())).unwrap();
    let (_, responses) = p.exchange();
    assert_eq!(responses, [(Code::Content, b"33".to_vec())]);
}

#[test]
fn each_server_account_gets_its_own_registration() {
    let mut p = Pair::new(true);
    p.client.store_mut().second_server = true;
    let sent = p
        .client
        .register(p.now, |uri| match uri {
            "coap://dm" => Some(SERVER),
            "coap://dm2" => Some(4),
            _ => None,
        })
        .unwrap();
    assert_eq!(sent, 2);
    assert_eq!(p.client.registration(101), Some(RegistrationState::AwaitingRegisterResponse));
    assert_eq!(p.client.registration(102), Some(RegistrationState::AwaitingRegisterResponse));
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let mut lifetimes = vec![];
    while let Some(t) = p.client.poll_transmit(p.now, &mut buf) {
        let r = Repr::decode(&buf[..t.len]).unwrap();
        let lt = r
            .options
            .get_all(OptionNumber::UriQuery)
            .find_map(|q| q.value_str().unwrap().strip_prefix("lt=").map(str::to_owned));
        lifetimes.push((t.remote, lt.unwrap()));
        // NSTART = 1 per peer: both peers get their Register at once.
    }
    lifetimes.sort();
    assert_eq!(lifetimes, [(SERVER, "300".into()), (4, "600".into())]);
}

#[test]
fn bootstrap_delete_of_root_keeps_bootstrap_security_and_device() {
    let mut p = Pair::new(true);
    p.client.bootstrap(p.now, BOOTSTRAP).unwrap();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let _ = p.client.poll_transmit(p.now, &mut buf).unwrap();
    let mut bs = Endpoint::<u8, _>::new(CoapConfig::default(), XorShiftRng::new(3));
    bs.request(p.now, CLIENT, true, Code::Delete, |_| Ok(())).unwrap();
    let t = bs.poll_transmit(p.now, &mut buf).unwrap();
    p.client.handle_datagram(p.now, BOOTSTRAP, &buf[..t.len]);
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    assert_eq!(Repr::decode(&buf[..t.len]).unwrap().code, Code::Deleted);
    // TS 1.1 §5.2.7.5: all instances but the Bootstrap-Server's Security
    // instance (0/0) and the Device instance (3/0).
    assert_eq!(
        p.client.store().deleted,
        [Path::instance(0, 1).unwrap(), Path::instance(1, 0).unwrap()]
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic_the_client(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let mut p = Pair::new(true);
        p.register();
        p.client.handle_datagram(p.now, SERVER, &bytes);
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        while p.client.poll_transmit(p.now, &mut buf).is_some() {}
        while p.client.poll_event().is_some() {}
    }
}

#[test]
fn server_writing_its_lifetime_triggers_an_update_with_lt() {
    let mut p = Pair::new(true);
    p.register();
    p.server
        .request(p.now, CLIENT, true, Code::Put, |w| {
            w.add_path(OptionNumber::UriPath, "1/0/1")?;
            w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::TextPlain.raw()))?;
            w.set_payload(b"120")
        })
        .unwrap();
    let (reqs, responses) = p.exchange();
    assert_eq!(responses[0].0, Code::Changed);
    // TS §6.2.2: the Update carries the new lifetime, nothing else.
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, ["rd", "a1"]);
    assert_eq!(reqs[0].queries, ["lt=120"]);
    assert!(reqs[0].payload.is_empty());
}

#[test]
fn epmax_samples_a_change_the_application_did_not_signal() {
    let mut p = Pair::new(true);
    p.register();
    observe_battery(&mut p, &["epmax=5"]);
    let t0 = p.now;
    // The value moves, but nobody calls value_changed.
    p.client.store_mut().ints.insert(Path::resource(3, 0, 9).unwrap(), 61);
    p.advance_to(t0 + Duration::from_secs(4));
    assert!(p.exchange().1.is_empty());
    p.advance_to(t0 + Duration::from_secs(5));
    assert_eq!(p.exchange().1, [(Code::Content, b"61".to_vec())]);
    // An evaluation that finds the same value sends nothing.
    p.advance_to(t0 + Duration::from_secs(10));
    assert!(p.exchange().1.is_empty());
}

#[test]
fn read_answers_block2_requests_block_by_block_with_size2_first() {
    let mut p = Pair::new(true);
    for r in 100..130 {
        p.client.store_mut().ints.insert(Path::resource(3, 0, r).unwrap(), 1000 + i64::from(r));
    }
    p.register();
    let accept = u32::from(ContentFormat::Lwm2mTlv.raw());
    p.server
        .request(p.now, CLIENT, true, Code::Get, |w| {
            w.add_path(OptionNumber::UriPath, "3/0")?;
            w.add_uint(OptionNumber::Accept, accept)
        })
        .unwrap();
    let whole = p.exchange().1.remove(0).1;
    assert!(whole.len() > 64, "{}", whole.len());
    // Now block by block, 16 bytes (SZX 0), as RFC 7959 §2.4 late
    // negotiation asks.
    let mut body = vec![];
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    for num in 0u32.. {
        p.server
            .request(p.now, CLIENT, true, Code::Get, |w| {
                w.add_path(OptionNumber::UriPath, "3/0")?;
                w.add_uint(OptionNumber::Accept, accept)?;
                w.add_uint(OptionNumber::Block2, num << 4)
            })
            .unwrap();
        let t = p.server.poll_transmit(p.now, &mut buf).unwrap();
        p.client.handle_datagram(p.now, SERVER, &buf[..t.len]);
        let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
        let rsp = Repr::decode(&buf[..t.len]).unwrap();
        let block = rsp.options.get_uint(OptionNumber::Block2).unwrap();
        assert_eq!((block >> 4, block & 7), (num, 0));
        let size2 = rsp.options.get_uint(OptionNumber::Size2);
        assert_eq!(size2, (num == 0).then_some(whole.len() as u32));
        body.extend_from_slice(rsp.payload);
        p.server.handle_datagram(p.now, CLIENT, &buf[..t.len]);
        while p.server.poll_event().is_some() {}
        if block & 0x8 == 0 {
            break;
        }
        assert_eq!(rsp.payload.len(), 16);
    }
    assert_eq!(body, whole);
}

#[test]
fn discover_lists_resources_with_their_attributes() {
    let mut p = Pair::new(true);
    p.register();
    observe_battery(&mut p, &["pmin=10", "gt=50"]);
    p.server
        .request(p.now, CLIENT, true, Code::Get, |w| {
            w.add_path(OptionNumber::UriPath, "3/0")?;
            w.add_uint(OptionNumber::Accept, u32::from(ContentFormat::LinkFormat.raw()))
        })
        .unwrap();
    let (_, r) = p.exchange();
    assert_eq!(r[0].0, Code::Content);
    // TS §5.4.2: the attributes attached to a resource appear on its link.
    assert_eq!(String::from_utf8(r[0].1.clone()).unwrap(), "</3/0/9>;pmin=10;gt=50,</3/0/10>");
}

#[test]
fn write_attributes_refuses_pmax_below_pmin_and_thresholds_on_an_instance() {
    let mut p = Pair::new(true);
    p.register();
    for (path, queries) in [("3/0/9", &["pmin=10", "pmax=5"][..]), ("3/0", &["gt=5"][..])] {
        p.server
            .request(p.now, CLIENT, true, Code::Put, |w| {
                w.add_path(OptionNumber::UriPath, path)?;
                for q in queries {
                    w.add_uri_query(q)?;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(p.exchange().1[0].0, Code::BadRequest, "{path} {queries:?}");
    }
}

/// A request crafted by the test (known token), fed straight to the
/// client; the client's answers come back decoded as (code, observe, payload).
fn raw_request(
    p: &mut Pair,
    mid: u16,
    token: &[u8],
    build: impl FnOnce(
        &mut lwm2m_core::coap::writer::MessageWriter<'_>,
    ) -> Result<(), lwm2m_core::coap::Error>,
) -> Vec<(Code, Option<u32>, Vec<u8>)> {
    use lwm2m_core::coap::message::Token;
    use lwm2m_core::coap::writer::MessageWriter;
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let mut w = MessageWriter::new(
        &mut buf,
        MessageType::Con,
        Code::Fetch,
        mid,
        Token::new(token).unwrap(),
    )
    .unwrap();
    build(&mut w).unwrap();
    let len = w.len();
    p.client.handle_datagram(p.now, SERVER, &buf[..len]);
    drain_client(p)
}

/// Every datagram the client sends now, decoded.
fn drain_client(p: &mut Pair) -> Vec<(Code, Option<u32>, Vec<u8>)> {
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let mut out = vec![];
    while let Some(t) = p.client.poll_transmit(p.now, &mut buf) {
        let r = Repr::decode(&buf[..t.len]).unwrap();
        out.push((r.code, r.options.get_uint(OptionNumber::Observe), r.payload.to_vec()));
    }
    while let Some(ev) = p.client.poll_event() {
        p.events.push(ev);
    }
    out
}

/// The (path, integer) records of a SenML JSON document.
fn senml_ints(payload: &[u8]) -> Vec<(String, i64)> {
    let mut scratch = [0u8; 256];
    Decoder::new(ContentFormat::SenmlJson, &Path::ROOT, payload, &mut scratch, |_: &Path| {
        Some(DataType::Integer)
    })
    .unwrap()
    .map(|r| {
        let (p, v) = r.unwrap();
        match v {
            Value::Integer(i) => (p.to_string(), i),
            other => panic!("not an integer: {other:?}"),
        }
    })
    .collect()
}

const COMPOSITE_LIST: &[u8] = br#"[{"n":"/3/0/9"},{"n":"/3/0/10"}]"#;

fn observe_composite(
    p: &mut Pair,
    token: &[u8],
    observe: u32,
) -> Vec<(Code, Option<u32>, Vec<u8>)> {
    raw_request(p, 0x7000 + observe as u16, token, |w| {
        w.add_uint(OptionNumber::Observe, observe)?;
        w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::SenmlJson.raw()))?;
        w.add_uint(OptionNumber::Accept, u32::from(ContentFormat::SenmlJson.raw()))?;
        w.set_payload(COMPOSITE_LIST)
    })
}

#[test]
fn observe_composite_answers_all_listed_paths_then_notifies_them_together_until_cancelled() {
    let mut p = Pair::new(true);
    p.register();
    let first = observe_composite(&mut p, b"oc", 0);
    assert_eq!(first.len(), 1);
    let (code, observe, payload) = &first[0];
    assert_eq!((*code, observe.is_some()), (Code::Content, true));
    let both = |battery| vec![("/3/0/9".to_owned(), battery), ("/3/0/10".to_owned(), 15)];
    assert_eq!(senml_ints(payload), both(80));
    assert!(p.events.contains(&Event::ObservationStarted { ssid: 101, path: Path::ROOT }));
    // A change of one listed path notifies with every listed path.
    change_battery(&mut p, 42);
    let n = drain_client(&mut p);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].0, Code::Content);
    assert!(n[0].1.unwrap() > observe.unwrap());
    assert_eq!(senml_ints(&n[0].2), both(42));
    // A change outside the list does not.
    p.client.store_mut().ints.insert(Path::resource(3, 0, 11).unwrap(), 1);
    p.client.value_changed(p.now, &Path::resource(3, 0, 11).unwrap());
    assert_eq!(drain_client(&mut p), []);
    // Cancel-Observation-Composite: FETCH with Observe 1 and the same
    // token is answered as a Read-Composite, and nothing follows.
    let cancel = observe_composite(&mut p, b"oc", 1);
    assert_eq!(cancel.len(), 1);
    assert_eq!((cancel[0].0, cancel[0].1), (Code::Content, None));
    assert!(p.events.contains(&Event::ObservationEnded { ssid: 101, path: Path::ROOT }));
    change_battery(&mut p, 41);
    assert_eq!(drain_client(&mut p), []);
}

#[test]
fn observe_composite_honours_the_smallest_pmax_and_largest_pmin_of_its_paths() {
    let mut p = Pair::new(true);
    p.register();
    for (path, query) in [("3/0/9", "pmin=4"), ("3/0/9", "pmax=30"), ("3/0/10", "pmax=20")] {
        p.server
            .request(p.now, CLIENT, true, Code::Put, |w| {
                w.add_path(OptionNumber::UriPath, path)?;
                w.add_uri_query(query)
            })
            .unwrap();
        assert_eq!(p.exchange().1[0].0, Code::Changed);
    }
    let t0 = p.now;
    assert_eq!(observe_composite(&mut p, b"oc", 0)[0].0, Code::Content);
    // A change of 3/0/10 at +1 s waits for the composite pmin (4 s, from 3/0/9).
    p.now = t0 + Duration::from_secs(1);
    p.client.store_mut().ints.insert(Path::resource(3, 0, 10).unwrap(), 16);
    p.client.value_changed(p.now, &Path::resource(3, 0, 10).unwrap());
    assert_eq!(drain_client(&mut p), []);
    p.now = t0 + Duration::from_secs(4);
    p.client.handle_timeout(p.now);
    let n = drain_client(&mut p);
    assert_eq!(senml_ints(&n[0].2), [("/3/0/9".to_owned(), 80), ("/3/0/10".to_owned(), 16)]);
    // Then nothing until pmax = 20 s (the smaller of 30 and 20) after it.
    p.now = t0 + Duration::from_secs(23);
    p.client.handle_timeout(p.now);
    assert_eq!(drain_client(&mut p), []);
    p.now = t0 + Duration::from_secs(24);
    p.client.handle_timeout(p.now);
    assert_eq!(drain_client(&mut p).len(), 1);
}

#[test]
fn observe_composite_of_paths_that_do_not_exist_is_4_04_and_needs_senml() {
    let mut p = Pair::new(true);
    p.register();
    let r = raw_request(&mut p, 0x7100, b"x", |w| {
        w.add_uint(OptionNumber::Observe, 0)?;
        w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::SenmlJson.raw()))?;
        w.set_payload(br#"[{"n":"/9/9/9"}]"#)
    });
    assert_eq!(r[0].0, Code::NotFound);
    let r = raw_request(&mut p, 0x7101, b"y", |w| {
        w.add_uint(OptionNumber::Observe, 0)?;
        w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::TextPlain.raw()))?;
        w.set_payload(b"/3/0/9")
    });
    assert_eq!(r[0].0, Code::UnsupportedContentFormat);
}

#[test]
fn server_default_pmax_from_the_server_object_drives_notifications_without_write_attributes() {
    let mut p = Pair::new(true);
    // What a bootstrap plan wrote: 1/0/0 SSID 101, 1/0/2 pmin 1, 1/0/3 pmax 60.
    for (r, v) in [(0, 101), (2, 1), (3, 60)] {
        p.client.store_mut().ints.insert(Path::resource(1, 0, r).unwrap(), v);
    }
    p.register();
    p.server
        .request(p.now, CLIENT, true, Code::Get, |w| {
            w.add_uint(OptionNumber::Observe, 0)?;
            w.add_path(OptionNumber::UriPath, "3/0/9")
        })
        .unwrap();
    assert_eq!(p.exchange().1, [(Code::Content, b"80".to_vec())]);
    let t0 = p.now;
    p.advance_to(t0 + Duration::from_secs(59));
    assert!(p.exchange().1.is_empty());
    p.advance_to(t0 + Duration::from_secs(60));
    assert_eq!(p.exchange().1, [(Code::Content, b"80".to_vec())]);
    // The default pmin (1 s) holds a change back, too.
    let t1 = p.now;
    p.now = t1 + Duration::from_millis(500);
    change_battery(&mut p, 79);
    assert!(p.exchange().1.is_empty());
    p.advance_to(t1 + Duration::from_secs(1));
    assert_eq!(p.exchange().1, [(Code::Content, b"79".to_vec())]);
}

#[test]
fn without_server_defaults_or_attributes_an_observation_has_no_pmax() {
    let mut p = Pair::new(true);
    p.register();
    observe_battery(&mut p, &[]);
    let t0 = p.now;
    p.advance_to(t0 + Duration::from_secs(3600));
    assert!(p.exchange().1.is_empty());
}

/// What a block-wise request looked like at the server.
struct Block1Run {
    body: Vec<u8>,
    blocks: u32,
    size1: Option<u32>,
    /// Uri-Path and Uri-Query of every block.
    options: Vec<(Vec<String>, Vec<String>)>,
}

/// Play the server of a block-wise (Block1) request from the client:
/// 2.31 Continue echoing each block, `last` (with `location`) to the last.
fn answer_block1(p: &mut Pair, last: Code, location: &[&[u8]]) -> Block1Run {
    let mut run = Block1Run { body: vec![], blocks: 0, size1: None, options: vec![] };
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    loop {
        let t = p.client.poll_transmit(p.now, &mut buf).expect("a block");
        let r = Repr::decode(&buf[..t.len]).unwrap();
        assert_eq!(r.code, Code::Post);
        let strings = |n| r.options.get_all(n).map(|o| o.value_str().unwrap().to_owned()).collect();
        run.options.push((strings(OptionNumber::UriPath), strings(OptionNumber::UriQuery)));
        let b = lwm2m_core::coap::block::BlockValue::parse(
            r.options.get(OptionNumber::Block1).expect("Block1").value,
        )
        .unwrap();
        assert_eq!(b.num, run.blocks);
        if b.num == 0 {
            run.size1 = r.options.get_uint(OptionNumber::Size1);
        }
        run.body.extend_from_slice(r.payload);
        run.blocks += 1;
        let mut out = [0u8; 64];
        let code = if b.more { Code::Continue } else { last };
        let mut w = lwm2m_core::coap::writer::MessageWriter::new(
            &mut out,
            MessageType::Ack,
            code,
            r.message_id,
            r.token,
        )
        .unwrap();
        if !b.more {
            for seg in location {
                w.add_option(OptionNumber::LocationPath, seg).unwrap();
            }
        }
        w.add_uint(OptionNumber::Block1, b.to_uint()).unwrap();
        let len = w.len();
        p.client.handle_datagram(p.now, SERVER, &out[..len]);
        if !b.more {
            break;
        }
    }
    let events = drain_events(p);
    p.events.extend(events);
    run
}

#[test]
fn register_too_large_for_one_datagram_goes_block1_and_the_blocks_rebuild_the_list() {
    let mut p = Pair::new(true);
    p.client.store_mut().many_instances = (0..200).collect();
    let sent = p.client.register(p.now, |_| Some(SERVER)).unwrap();
    assert_eq!(sent, 1);
    let run = answer_block1(&mut p, Code::Created, &[b"rd", b"big"]);
    assert!(run.blocks > 1);
    // RFC 7959 §2.5: every block carries the request's options.
    for (path, queries) in &run.options {
        assert_eq!(path, &["rd"]);
        assert_eq!(queries, &["ep=urn:imei:1", "lt=300", "lwm2m=1.1", "b=U"]);
    }
    assert_eq!(run.size1, Some(run.body.len() as u32));
    let text = String::from_utf8(run.body).unwrap();
    assert!(text.starts_with("</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</5>,</3303/0>,"), "{text}");
    assert!(text.ends_with(",</3303/199>"));
    assert!(p.events.contains(&Event::Registered { ssid: 101 }));
    assert_eq!(p.client.location(101), Some("/rd/big"));
}

#[test]
fn update_with_an_object_list_too_large_for_one_datagram_goes_block1() {
    let mut p = Pair::new(true);
    p.register();
    p.client.store_mut().many_instances = (0..200).collect();
    p.client.objects_changed(p.now);
    let run = answer_block1(&mut p, Code::Changed, &[]);
    assert!(run.blocks > 1);
    for (path, queries) in &run.options {
        assert_eq!(path, &["rd", "a1"]);
        assert!(queries.is_empty());
    }
    let text = String::from_utf8(run.body).unwrap();
    assert!(text.ends_with(",</3303/198>,</3303/199>"), "{text}");
    assert!(p.events.contains(&Event::Updated { ssid: 101 }));
    assert_eq!(p.client.registration(101), Some(RegistrationState::Registered));
}

#[test]
fn register_block1_follows_a_smaller_block_size_the_server_asks_for() {
    let mut p = Pair::new(true);
    p.client.store_mut().many_instances = (0..200).collect();
    p.client.register(p.now, |_| Some(SERVER)).unwrap();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    let r = Repr::decode(&buf[..t.len]).unwrap();
    let first = lwm2m_core::coap::block::BlockValue::parse(
        r.options.get(OptionNumber::Block1).unwrap().value,
    )
    .unwrap();
    assert_eq!(first.szx, lwm2m_core::coap::block::Szx::S1024);
    // RFC 7959 §2.5 (late negotiation): the server answers 2.31 with 0/1/256.
    let small =
        lwm2m_core::coap::block::BlockValue::new(0, true, lwm2m_core::coap::block::Szx::S256)
            .unwrap();
    let mut out = [0u8; 64];
    let mut w = lwm2m_core::coap::writer::MessageWriter::new(
        &mut out,
        MessageType::Ack,
        Code::Continue,
        r.message_id,
        r.token,
    )
    .unwrap();
    w.add_uint(OptionNumber::Block1, small.to_uint()).unwrap();
    let len = w.len();
    p.client.handle_datagram(p.now, SERVER, &out[..len]);
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    let r = Repr::decode(&buf[..t.len]).unwrap();
    let next = lwm2m_core::coap::block::BlockValue::parse(
        r.options.get(OptionNumber::Block1).unwrap().value,
    )
    .unwrap();
    // 1024 bytes went; the next block is 1024 / 256 = 4, of 256 bytes.
    assert_eq!((next.num, next.szx.size(), r.payload.len()), (4, 256, 256));
}

#[test]
fn register_payload_and_update_sizes_in_bytes() {
    let mut p = Pair::new(true);
    p.client.register(p.now, |_| Some(SERVER)).unwrap();
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    let register = Repr::decode(&buf[..t.len]).unwrap();
    assert_eq!(register.payload, b"</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</5>");
    println!(
        "Register (Server, Device, Firmware objects): {} bytes datagram, {} bytes link-format payload",
        t.len,
        register.payload.len()
    );
    p.client.handle_datagram(p.now, SERVER, &{
        let mut out = [0u8; 32];
        let mut w = lwm2m_core::coap::writer::MessageWriter::new(
            &mut out,
            MessageType::Ack,
            Code::Created,
            register.message_id,
            register.token,
        )
        .unwrap();
        w.add_option(OptionNumber::LocationPath, b"rd").unwrap();
        w.add_option(OptionNumber::LocationPath, b"a1").unwrap();
        let len = w.len();
        out[..len].to_vec()
    });
    assert!(drain_events(&mut p).contains(&Event::Registered { ssid: 101 }));
    p.client.update(p.now, 101, false).unwrap();
    let t = p.client.poll_transmit(p.now, &mut buf).unwrap();
    let update = Repr::decode(&buf[..t.len]).unwrap();
    // TS §6.2.2: an Update with nothing changed is the location alone.
    assert!(update.payload.is_empty());
    assert_eq!(update.options.get_all(OptionNumber::UriQuery).count(), 0);
    println!("Update (nothing changed): {} bytes datagram", t.len);
}

fn drain_events(p: &mut Pair) -> Vec<Event> {
    let mut out = vec![];
    while let Some(ev) = p.client.poll_event() {
        out.push(ev);
    }
    out
}

proptest::proptest! {
    #[test]
    fn arbitrary_observe_composite_payloads_never_panic_and_are_answered(
        payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        cbor in proptest::prelude::any::<bool>(),
        observe in 0u32..2,
    ) {
        let mut p = Pair::new(true);
        p.register();
        let cf = if cbor { ContentFormat::SenmlCbor } else { ContentFormat::SenmlJson };
        let out = raw_request(&mut p, 0x7200, b"pp", |w| {
            w.add_uint(OptionNumber::Observe, observe)?;
            w.add_uint(OptionNumber::ContentFormat, u32::from(cf.raw()))?;
            w.set_payload(&payload)
        });
        // Exactly one answer to the FETCH, whatever the payload.
        proptest::prop_assert_eq!(out.len(), 1);
        change_battery(&mut p, 1);
        drain_client(&mut p);
    }
}
