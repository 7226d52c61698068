//! The real object model behind the LwM2M client endpoint
//! (`lwm2m_objects::client_store::ClientStore` as
//! `lwm2m_core::client::ObjectStore`): a `Client` registered with an
//! in-test CoAP server answers the Device Management interface
//! (OMA-TS-LightweightM2M_Core 1.1 §6.3) from the generic objects, with the
//! object model's access control (§7.3.1) deciding.

#![allow(clippy::std_instead_of_core)]
use lwm2m_core::client::{Client, Config};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config as CoapConfig, Endpoint, Event as CoapEvent, RequestId};
use lwm2m_core::coap::numbers::{Code, ContentFormat, OptionNumber};
use lwm2m_core::coap::writer::MessageWriter;
use lwm2m_core::formats::Decoder;
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::Instant;
use lwm2m_objects::client_store::ClientStore;
use lwm2m_objects::objects::{PowerSource, SecurityInstance, ServerInstance};
use lwm2m_objects::{ObjectEvent, ObjectStore};

const CLIENT: u8 = 1;
const SERVER: u8 = 2;
const SSID: u16 = 101;

struct Pair {
    client: Client<u8, XorShiftRng, ClientStore>,
    server: Endpoint<u8, XorShiftRng>,
    now: Instant,
}

/// The generic objects with one DM server account (`coap://dm`, SSID 101).
fn objects() -> ObjectStore {
    let mut store = ObjectStore::new();
    let mut sec = SecurityInstance::new(1);
    sec.uri = "coap://dm".try_into().unwrap();
    sec.ssid = Some(SSID);
    store.security_mut().put(sec).unwrap();
    store.server_mut().put(ServerInstance::new(0, SSID)).unwrap();
    store
        .update_device(|d| {
            d.set_power_sources(&[PowerSource::Dc, PowerSource::InternalBattery])?;
            d.set_battery_level(87)
        })
        .unwrap();
    store
}

impl Pair {
    fn registered() -> Pair {
        let mut p = Pair {
            client: Client::new(
                Config::new("urn:imei:1"),
                XorShiftRng::new(7),
                ClientStore::new(objects()),
            ),
            server: Endpoint::new(CoapConfig::default(), XorShiftRng::new(9)),
            now: Instant::from_secs(1),
        };
        let sent = p.client.register(p.now, |uri| (uri == "coap://dm").then_some(SERVER)).unwrap();
        assert_eq!(sent, 1, "one usable account: the DM server");
        let (reqs, _) = p.exchange();
        let (id, payload) = reqs.into_iter().next().expect("a Register");
        let links = String::from_utf8(payload).unwrap();
        // The object list never names the Security object (TS §6.2.1).
        assert!(links.contains("</3/0>") && !links.contains("</0"), "{links}");
        p.server
            .respond(id, Code::Created, |w| {
                w.add_option(OptionNumber::LocationPath, b"rd")?;
                w.add_option(OptionNumber::LocationPath, b"a1")
            })
            .unwrap();
        p.exchange();
        p
    }

    /// Moves datagrams both ways until quiet: the server's requests seen
    /// (id, payload) and responses (code, payload).
    #[allow(clippy::type_complexity)]
    fn exchange(&mut self) -> (Vec<(RequestId, Vec<u8>)>, Vec<(Code, Vec<u8>)>) {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let (mut requests, mut responses) = (vec![], vec![]);
        for _ in 0..50 {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
                moved = true;
                self.server.handle_datagram(self.now, CLIENT, &buf[..t.len]);
                while let Some(ev) = self.server.poll_event() {
                    match ev {
                        CoapEvent::Request { id, request, .. } => {
                            requests.push((id, request.payload.to_vec()))
                        }
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
            while self.client.poll_event().is_some() {}
            if !moved {
                break;
            }
        }
        (requests, responses)
    }

    /// One request from the server; its single response.
    fn ask(
        &mut self,
        code: Code,
        path: &str,
        extra: impl FnOnce(&mut MessageWriter<'_>) -> Result<(), lwm2m_core::coap::Error>,
    ) -> (Code, Vec<u8>) {
        self.server
            .request(self.now, CLIENT, true, code, |w| {
                w.add_path(OptionNumber::UriPath, path)?;
                extra(w)
            })
            .unwrap();
        let (_, mut responses) = self.exchange();
        assert_eq!(responses.len(), 1, "one answer to {code} {path}");
        responses.remove(0)
    }
}

fn p(ids: &[u16]) -> Path {
    Path::new(ids).unwrap()
}

#[test]
fn dm_read_of_device_instance_in_tlv_carries_the_model_values() {
    let mut pair = Pair::registered();
    let (code, body) = pair.ask(Code::Get, "3/0", |w| {
        w.add_uint(OptionNumber::Accept, u32::from(ContentFormat::Lwm2mTlv.raw()))
    });
    assert_eq!(code, Code::Content);
    let types = &pair.client.store().objects;
    let mut scratch = [0u8; 64];
    let values: Vec<(Path, String)> =
        Decoder::new(ContentFormat::Lwm2mTlv, &p(&[3, 0]), &body, &mut scratch, types)
            .unwrap()
            .map(|r| r.map(|(path, v)| (path, v.to_string())))
            .collect::<Result<_, _>>()
            .unwrap();
    let get = |ids: &[u16]| values.iter().find(|(k, _)| *k == p(ids)).map(|(_, v)| v.as_str());
    // Manufacturer from the platform info, battery as the application set it,
    // the generic device type (app-integration "Resources").
    assert_eq!(get(&[3, 0, 0]), Some("Nordic Semiconductor ASA"));
    assert_eq!(get(&[3, 0, 9]), Some("87"));
    assert_eq!(get(&[3, 0, 17]), Some("Module"));
    // Executable resources are never in a Read (TS §6.3.1).
    assert_eq!(get(&[3, 0, 4]), None);
}

#[test]
fn dm_write_of_server_lifetime_changes_the_model_and_asks_for_an_update() {
    let mut pair = Pair::registered();
    let (code, _) = pair.ask(Code::Put, "1/0/1", |w| {
        w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::TextPlain.raw()))?;
        w.set_payload(b"120")
    });
    assert_eq!(code, Code::Changed);
    let objects = &mut pair.client.store_mut().objects;
    assert_eq!(objects.server().by_ssid(SSID).map(|s| s.lifetime_s), Some(120));
    let events: Vec<ObjectEvent> = std::iter::from_fn(|| objects.poll_event()).collect();
    assert!(events.contains(&ObjectEvent::ServerSettingsChanged { ssid: SSID }), "{events:?}");
}

#[test]
fn dm_write_of_a_read_only_resource_is_405_and_changes_nothing() {
    let mut pair = Pair::registered();
    let (code, _) = pair.ask(Code::Put, "3/0/9", |w| {
        w.add_uint(OptionNumber::ContentFormat, u32::from(ContentFormat::TextPlain.raw()))?;
        w.set_payload(b"5")
    });
    assert_eq!(code, Code::MethodNotAllowed);
    assert_eq!(pair.client.store().objects.device().battery_level(), 87);
}

#[test]
fn dm_execute_of_reboot_becomes_a_typed_object_event() {
    let mut pair = Pair::registered();
    let (code, _) = pair.ask(Code::Post, "3/0/4", |_| Ok(()));
    assert_eq!(code, Code::Changed);
    assert_eq!(pair.client.store_mut().objects.poll_event(), Some(ObjectEvent::Reboot));
}

#[test]
fn dm_discover_lists_the_instance_and_its_resources_with_dim() {
    let mut pair = Pair::registered();
    let (code, body) = pair.ask(Code::Get, "3/0", |w| {
        w.add_uint(OptionNumber::Accept, u32::from(ContentFormat::LinkFormat.raw()))
    });
    assert_eq!(code, Code::Content);
    let links = String::from_utf8(body).unwrap();
    assert!(links.starts_with("</3/0>"), "{links}");
    assert!(links.contains("</3/0/9>"), "{links}");
    assert!(links.contains("</3/0/4>"), "executables are discoverable: {links}");
    // Available Power Sources (3/0/6) is multiple: DC and the battery.
    assert!(links.contains("</3/0/6>;dim=2"), "{links}");
}

#[test]
fn security_object_is_refused_to_a_dm_server() {
    let mut pair = Pair::registered();
    for path in ["0", "0/1", "0/1/0"] {
        let (code, body) = pair.ask(Code::Get, path, |_| Ok(()));
        assert_eq!(code, Code::Unauthorized, "GET /{path}");
        assert!(body.is_empty());
    }
    let (code, _) = pair.ask(Code::Delete, "0/1", |_| Ok(()));
    assert_eq!(code, Code::Unauthorized);
    assert!(pair.client.store().objects.security().get(1).is_some());
}

#[test]
fn an_unknown_object_is_404() {
    let mut pair = Pair::registered();
    assert_eq!(pair.ask(Code::Get, "3303/0", |_| Ok(())).0, Code::NotFound);
}

#[test]
fn block1_push_of_the_package_starts_the_update_and_hands_the_bytes_over_in_order() {
    use lwm2m_core::client::{Caller as CoreCaller, ObjectStore as _, StoreError};
    let mut store = ClientStore::new(objects());
    let dm = CoreCaller::Server(SSID);
    let package = p(&[5, 0, 0]);
    store.write_block(dm, &package, 0, &[1, 2, 3, 4], false).unwrap();
    // The first block moves the Firmware Update object and tells the runtime.
    assert_eq!(store.objects.poll_event(), Some(ObjectEvent::FirmwarePackage));
    store.write_block(dm, &package, 4, &[5, 6], true).unwrap();
    let mut out = [0u8; 4];
    assert_eq!(store.take_pushed(&mut out), Some((4, false)), "as much as fits, not the end yet");
    assert_eq!(out, [1, 2, 3, 4]);
    assert_eq!(store.take_pushed(&mut out), Some((2, true)), "the rest ends the package");
    assert_eq!(out[..2], [5, 6]);
    assert_eq!(store.take_pushed(&mut out), None);
    // Only the package is written block-wise; anything else is 4.05.
    assert_eq!(
        store.write_block(dm, &p(&[3, 0, 14]), 0, b"+01", true),
        Err(StoreError::MethodNotAllowed)
    );
    assert_eq!(
        store.write_block(dm, &p(&[0, 1, 0]), 0, b"x", true),
        Err(StoreError::MethodNotAllowed)
    );
}
