//! Device ↔ server protocol stories in virtual time (the sans-IO client
//! and the sans-IO `Server` on an in-memory link): queue mode (TS §6.5),
//! server default periods (TS §E.2), bootstrap plans a certified product
//! meets (TS §5.2.7, §E.1, §E.3), block-wise Register (RFC 7959 §2.5).
#![allow(clippy::std_instead_of_core)]

#[path = "common/bench.rs"]
mod bench;

use bench::{Bench, EP, SERVER};
use lwm2m_core::client::Event;
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::path::Path;
use lwm2m_core::time::Duration;
use lwm2m_server::memstore::{MemoryStore, Owned};
use lwm2m_server::{
    BootstrapPlan, Request, Response, ServerAccount, ServerConfig, ServerEvent, Ticket,
};

fn server_uri() -> String {
    format!("coap://{SERVER}")
}

fn device() -> MemoryStore {
    MemoryStore::device(&server_uri(), 80)
}

fn config(plan: BootstrapPlan) -> ServerConfig {
    ServerConfig { default_plan: Some(plan), ..ServerConfig::default() }
}

fn answer<S>(b: &Bench<S>, ticket: Ticket) -> Option<Response> {
    b.server_events.iter().find_map(|e| match e {
        ServerEvent::Response { ticket: t, result } if *t == ticket => {
            Some(result.clone().expect("answered"))
        }
        _ => None,
    })
}

fn battery() -> Path {
    Path::resource(3, 0, 9).unwrap()
}

/// The test device bootstrapped with a queue-mode account and registered.
fn registered_in_queue_mode() -> Bench {
    let mut account = ServerAccount::new(&server_uri(), 101, 600);
    account.queue_mode = true;
    let plan = BootstrapPlan { accounts: vec![account], extra: vec![] };
    let mut b = Bench::new(config(plan), device());
    b.bootstrap_and_register();
    b
}

#[test]
fn request_for_a_sleeping_queue_mode_client_waits_for_its_update_then_goes_out() {
    let mut b = registered_in_queue_mode();
    assert!(b.server.registration(EP).unwrap().queue_mode, "registered with Q");

    // Awake (heard from within 93 s): a request goes out at once.
    b.advance(Duration::from_secs(10));
    let t = b.server.request(b.now, EP, Request::Read { path: battery(), format: None });
    b.settle();
    assert_eq!(answer(&b, t).unwrap().payload, b"80");

    // 93 s (MAX_TRANSMIT_WAIT) after its last datagram the device sleeps
    // and stops listening.
    b.advance(Duration::from_secs(93));
    assert!(b.client_events.contains(&Event::Sleeping { ssid: 101 }));
    assert!(b.server.is_asleep(b.now, EP));
    b.device_listening = false;

    // A request now is held: nothing leaves the server.
    let mark = b.log.len();
    let t = b.server.request(b.now, EP, Request::Read { path: battery(), format: None });
    b.advance(Duration::from_secs(30));
    assert!(b.server_sent_since(mark).is_empty(), "sent to a sleeping client");
    assert_eq!(b.server.held_requests(EP), 1);
    assert!(answer(&b, t).is_none());

    // The device wakes and sends its Update: the held request follows the
    // 2.04 and is answered.
    b.device_listening = true;
    b.client.wake(b.now, 101).unwrap();
    b.settle();
    let sent = b.server_sent_since(mark);
    assert_eq!(sent.len(), 2, "the 2.04 to the Update, then the held Read");
    assert_eq!(sent[0].repr().code, Code::Changed);
    let read = sent[1].repr();
    assert_eq!(read.code, Code::Get);
    let uri: Vec<&str> =
        read.options.get_all(OptionNumber::UriPath).map(|o| o.value_str().unwrap()).collect();
    assert_eq!(uri, ["3", "0", "9"]);
    assert_eq!(answer(&b, t).unwrap().payload, b"80");
    assert_eq!(b.server.held_requests(EP), 0);
}

#[test]
fn held_requests_fail_when_the_sleeping_client_deregisters() {
    let mut b = registered_in_queue_mode();
    b.advance(Duration::from_secs(100));
    let t = b.server.request(b.now, EP, Request::Read { path: battery(), format: None });
    b.client.deregister(b.now, 101).unwrap();
    b.settle();
    let result = b.server_events.iter().find_map(|e| match e {
        ServerEvent::Response { ticket, result } if *ticket == t => Some(result.clone()),
        _ => None,
    });
    assert!(matches!(result, Some(Err(lwm2m_server::ServerError::UnknownEndpoint(_)))));
}

/// Bootstrap with Default Maximum Period 30 s, observe the battery level
/// without Write-Attributes: a notification every 30 s, none before.
fn notifies_at_the_default_pmax<S: lwm2m_core::client::ObjectStore>(store: S) {
    let mut account = ServerAccount::new(&server_uri(), 101, 600);
    account.default_pmax_s = Some(30);
    let plan = BootstrapPlan { accounts: vec![account], extra: vec![] };
    let mut b = Bench::new(config(plan), store);
    b.bootstrap_and_register();
    let t = b.server.request(b.now, EP, Request::Observe { path: battery(), format: None });
    b.settle();
    assert_eq!(answer(&b, t).unwrap().payload, b"80");
    let t0 = b.now;
    let notifications = |b: &Bench<S>| {
        b.server_events.iter().filter(|e| matches!(e, ServerEvent::Notification { .. })).count()
    };
    b.run_until(t0 + Duration::from_millis(29_999));
    assert_eq!(notifications(&b), 0);
    b.run_until(t0 + Duration::from_secs(30));
    assert_eq!(notifications(&b), 1);
    b.run_until(t0 + Duration::from_secs(60));
    assert_eq!(notifications(&b), 2);
}

#[test]
fn client_notifies_at_the_default_pmax_the_bootstrap_wrote_without_write_attributes() {
    notifies_at_the_default_pmax(device());
}

#[test]
fn the_object_model_client_notifies_at_the_default_pmax_the_bootstrap_wrote() {
    let mut store = real_objects();
    use lwm2m_objects::objects::PowerSource;
    store
        .objects
        .update_device(|d| {
            d.set_power_sources(&[PowerSource::Dc, PowerSource::InternalBattery])?;
            d.set_battery_level(80)
        })
        .unwrap();
    notifies_at_the_default_pmax(store);
}

#[test]
fn psk_plan_writes_mode_identity_key_acl_and_extra_writes() {
    let mut plan = BootstrapPlan::single_psk(
        "coaps://127.0.0.1:5684",
        3600,
        b"urn:imei:490154203237511",
        &[0x00, 0x11, 0x22, 0x33],
    );
    plan.extra.push((
        Path::resource(3, 0, 1).unwrap(),
        ContentFormat::TextPlain,
        b"op-model".to_vec(),
    ));
    let mut b = Bench::new(config(plan), device());
    b.auto_register = false;
    b.client.bootstrap(b.now, SERVER).unwrap();
    b.advance(Duration::from_secs(5));
    assert!(b.client_events.contains(&Event::Bootstrapped), "{:?}", b.client_events);
    assert!(
        b.server_events
            .contains(&ServerEvent::BootstrapFinished { endpoint: EP.into(), code: Code::Changed })
    );
    let v = |ids: &[u16]| b.client.store().values.get(&Path::new(ids).unwrap()).cloned();
    // Security instance 1 (TS §E.1): URI, not bootstrap, mode 0 = PSK,
    // identity (3), secret key (5), SSID (10).
    assert_eq!(v(&[0, 1, 0]), Some(Owned::Str("coaps://127.0.0.1:5684".into())));
    assert_eq!(v(&[0, 1, 1]), Some(Owned::Bool(false)));
    assert_eq!(v(&[0, 1, 2]), Some(Owned::Int(0)));
    assert_eq!(v(&[0, 1, 3]), Some(Owned::Bytes(b"urn:imei:490154203237511".to_vec())));
    assert_eq!(v(&[0, 1, 5]), Some(Owned::Bytes(vec![0x00, 0x11, 0x22, 0x33])));
    assert_eq!(v(&[0, 1, 10]), Some(Owned::Int(101)));
    // The Bootstrap-Server's own Security instance survived the Delete of /0.
    assert_eq!(v(&[0, 0, 1]), Some(Owned::Bool(true)));
    // Server instance 0.
    assert_eq!(v(&[1, 0, 0]), Some(Owned::Int(101)));
    assert_eq!(v(&[1, 0, 1]), Some(Owned::Int(3600)));
    // Access Control (TS §E.3): one instance per managed object instance,
    // owner 101 (2/x/3), rights R|W|E|D = 15 for SSID 101 (2/x/2/101).
    for (acl, (object, instance)) in [(0, (1, 0)), (1, (3, 0))] {
        assert_eq!(v(&[2, acl, 0]), Some(Owned::Int(object)));
        assert_eq!(v(&[2, acl, 1]), Some(Owned::Int(instance)));
        assert_eq!(v(&[2, acl, 2, 101]), Some(Owned::Int(15)));
        assert_eq!(v(&[2, acl, 3]), Some(Owned::Int(101)));
    }
    // The operator's extra write.
    assert_eq!(v(&[3, 0, 1]), Some(Owned::Str("op-model".into())));
}

#[test]
fn nosec_plan_writes_security_mode_3_and_no_credentials() {
    let mut b = Bench::new(config(BootstrapPlan::single(&server_uri(), 60)), device());
    b.bootstrap_and_register();
    let v = |ids: &[u16]| b.client.store().values.get(&Path::new(ids).unwrap()).cloned();
    assert_eq!(v(&[0, 1, 2]), Some(Owned::Int(3)));
    assert_eq!(v(&[0, 1, 3]), None);
    assert_eq!(v(&[0, 1, 5]), None);
}

#[test]
fn register_of_many_instances_goes_block1_and_the_server_reassembles_it() {
    let mut store = device();
    store.objects.insert(3303, "1.1");
    for i in 0..150 {
        store.instances.insert((3303, i));
    }
    let mut b = Bench::new(config(BootstrapPlan::single(&server_uri(), 60)), store);
    b.bootstrap_and_register();
    let (registration, request_len, payload_len) = b
        .server_events
        .iter()
        .find_map(|e| match e {
            ServerEvent::Registered { registration, request_len, payload_len } => {
                Some((registration.clone(), *request_len, *payload_len))
            }
            _ => None,
        })
        .unwrap();
    let blocks: Vec<_> = b
        .log
        .iter()
        .filter(|c| c.from == bench::DEVICE)
        .filter(|c| c.repr().options.get(OptionNumber::Block1).is_some())
        .collect();
    assert!(blocks.len() >= 2, "{} blocks", blocks.len());
    assert!(payload_len > 1024);
    assert!(registration.objects.starts_with("</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,"));
    assert!(registration.objects.ends_with(",</3303/148>,</3303/149>"));
    assert_eq!(registration.objects.matches("</3303/").count(), 150);
    println!(
        "block-wise Register of 150 extra instances: {payload_len} B payload in {} blocks, last datagram {request_len} B",
        blocks.len()
    );
}

/// Bootstrap, register, send an Update with nothing changed: the
/// Register datagram and payload sizes, the objects, the Update size.
fn register_and_update_sizes<S: lwm2m_core::client::ObjectStore>(
    store: S,
) -> (usize, usize, String, usize) {
    let mut b = Bench::new(config(BootstrapPlan::single(&server_uri(), 60)), store);
    b.bootstrap_and_register();
    let (objects, request_len, payload_len) = b
        .server_events
        .iter()
        .find_map(|e| match e {
            ServerEvent::Registered { registration, request_len, payload_len } => {
                Some((registration.objects.clone(), *request_len, *payload_len))
            }
            _ => None,
        })
        .unwrap();
    b.client.update(b.now, 101, false).unwrap();
    b.settle();
    let update_len = b
        .server_events
        .iter()
        .find_map(|e| match e {
            ServerEvent::Updated { request_len, .. } => Some(*request_len),
            _ => None,
        })
        .unwrap();
    println!(
        "Register: {request_len} B datagram, {payload_len} B payload ({objects}); Update: {update_len} B"
    );
    (request_len, payload_len, objects, update_len)
}

#[test]
fn register_payload_and_update_sizes_of_the_test_device() {
    let (_, payload_len, objects, update_len) = register_and_update_sizes(device());
    assert_eq!(objects, "</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</5/0>");
    assert_eq!(payload_len, objects.len());
    // Header 4 + token 4 + Uri-Path "rd" (3) + "1" (2): nothing else changed.
    assert_eq!(update_len, 13);
}

#[test]
fn register_payload_and_update_sizes_of_the_object_model() {
    let (request_len, payload_len, objects, update_len) = register_and_update_sizes(real_objects());
    // TS §6.2.1: no Security object, the Server and Device instances listed.
    assert!(!objects.contains("</0"), "{objects}");
    assert!(objects.contains("</1/0>") && objects.contains("</3/0>"), "{objects}");
    assert_eq!(payload_len, objects.len());
    assert!(request_len > payload_len);
    assert_eq!(update_len, 13);
}

#[test]
fn register_block_out_of_sequence_is_4_08_and_the_last_block_is_answered_with_its_block1() {
    use lwm2m_core::coap::block::{BlockValue, Szx};
    use lwm2m_core::coap::endpoint::{Config, Endpoint, Event as CoapEvent};
    use lwm2m_core::rng::XorShiftRng;
    let mut server = lwm2m_server::Server::new(ServerConfig::default());
    let mut client = Endpoint::new(Config::default(), XorShiftRng::new(5));
    let now = lwm2m_core::time::Instant::from_secs(1);
    let mut send_block = |client: &mut Endpoint<_, _>, num: u32, more: bool, body: &[u8]| {
        let b = BlockValue::new(num, more, Szx::S16).unwrap();
        client
            .request(now, SERVER, true, Code::Post, |w| {
                w.add_uri_path("rd")?;
                w.add_content_format(ContentFormat::LinkFormat)?;
                w.add_uri_query("ep=blocks")?;
                w.add_uint(OptionNumber::Block1, b.to_uint())?;
                w.set_payload(body)
            })
            .unwrap();
        let mut buf = [0u8; 1152];
        let t = client.poll_transmit(now, &mut buf).unwrap();
        server.handle_datagram(now, bench::DEVICE, &buf[..t.len]);
        let (_, len) = server.poll_transmit(now, &mut buf).unwrap();
        client.handle_datagram(now, SERVER, &buf[..len]);
        let mut answer = None;
        while let Some(ev) = client.poll_event() {
            if let CoapEvent::Response { response, .. } = ev {
                let block1 = response.options.get_uint(OptionNumber::Block1);
                answer = Some((response.code, block1));
            }
        }
        answer.unwrap()
    };
    // Block 1 before block 0: a gap (RFC 7959 §2.9.2).
    assert_eq!(
        send_block(&mut client, 1, true, b"</3303/1>,</3303"),
        (Code::RequestEntityIncomplete, None)
    );
    let b0 = BlockValue::new(0, true, Szx::S16).unwrap().to_uint();
    assert_eq!(send_block(&mut client, 0, true, b"</3/0>,</3303/0>"), (Code::Continue, Some(b0)));
    let b1 = BlockValue::new(1, false, Szx::S16).unwrap().to_uint();
    assert_eq!(send_block(&mut client, 1, false, b",</3303/1>"), (Code::Created, Some(b1)));
    let objects = std::iter::from_fn(|| server.poll_event()).find_map(|e| match e {
        ServerEvent::Registered { registration, .. } => Some(registration.objects),
        _ => None,
    });
    assert_eq!(objects.as_deref(), Some("</3/0>,</3303/0>,</3303/1>"));
}

/// `lwm2m-objects`' model with only the factory Bootstrap-Server account.
fn real_objects() -> lwm2m_objects::client_store::ClientStore {
    let mut objects = lwm2m_objects::ObjectStore::new();
    let mut bs = lwm2m_objects::objects::SecurityInstance::new(0);
    bs.uri = server_uri().as_str().try_into().unwrap();
    bs.bootstrap = true;
    objects.security_mut().put(bs).unwrap();
    lwm2m_objects::client_store::ClientStore::new(objects)
}

#[test]
fn the_object_model_accepts_every_write_of_a_psk_plan_with_acl_and_default_periods() {
    use lwm2m_objects::model::AccessRights;
    use lwm2m_objects::objects::SecurityMode;
    let mut account = ServerAccount::new("coaps://127.0.0.1:5684", 101, 86400)
        .with_psk(b"urn:imei:490154203237511", &[0xa5; 16]);
    account.default_pmin_s = Some(5);
    account.default_pmax_s = Some(3600);
    account.managed.push((5, 0));
    let plan = BootstrapPlan { accounts: vec![account], extra: vec![] };
    let mut b = Bench::new(config(plan), real_objects());
    b.auto_register = false;
    b.client.bootstrap(b.now, SERVER).unwrap();
    b.advance(Duration::from_secs(5));
    // Every Bootstrap-Delete and -Write was accepted (2.02 / 2.04).
    let refused: Vec<_> = b
        .log
        .iter()
        .filter(|c| c.from == bench::DEVICE)
        .map(|c| c.repr().code)
        .filter(|c| c.class() != 2 && *c != Code::Post)
        .collect();
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert!(b.client_events.contains(&Event::Bootstrapped));
    let objects = &b.client.store().objects;
    let sec = objects.security().instances().iter().find(|s| !s.bootstrap).unwrap();
    assert_eq!(sec.mode, SecurityMode::Psk);
    assert_eq!(sec.identity.as_slice(), b"urn:imei:490154203237511");
    assert_eq!(sec.secret_key.expose(), &[0xa5; 16]);
    assert_eq!(sec.ssid, Some(101));
    let srv = objects.server().by_ssid(101).unwrap();
    assert_eq!((srv.lifetime_s, srv.pmin_s, srv.pmax_s), (86400, Some(5), Some(3600)));
    for (object, instance) in [(1, 0), (3, 0), (5, 0)] {
        let acl = objects.access_control().find(object, instance).expect("ACL instance");
        assert_eq!(acl.owner, 101);
        assert_eq!(acl.rights_of(101), AccessRights::OWNER);
    }
}

#[test]
fn an_extra_write_too_large_for_a_datagram_is_left_out_and_the_plan_still_finishes() {
    let mut plan = BootstrapPlan::single(&server_uri(), 60);
    let model = Path::resource(3, 0, 1).unwrap();
    plan.extra.push((model, ContentFormat::TextPlain, vec![b'x'; 2000]));
    plan.extra.push((model, ContentFormat::TextPlain, b"after".to_vec()));
    let mut b = Bench::new(config(plan), device());
    b.bootstrap_and_register();
    assert!(
        b.server_events
            .contains(&ServerEvent::BootstrapFinished { endpoint: EP.into(), code: Code::Changed })
    );
    assert_eq!(b.client.store().values.get(&model), Some(&Owned::Str("after".into())));
}
