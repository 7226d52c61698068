//! The client holding the answers to a block-wise Write (RFC 7959 §2.5)
//! until the application reports what became of each block
//! (`Client::hold_block_answers` / `Client::answer_block`): a firmware
//! package block is acknowledged only once the DFU target has it, and a
//! refusal is that block's answer. Sans-IO, against an in-test server made
//! of a plain CoAP endpoint.

use lwm2m_core::client::{Account, Caller, Client, Config, ObjectInfo, ObjectStore, StoreError};
use lwm2m_core::client::{Event, WriteMode};
use lwm2m_core::coap::block::{BlockValue, Szx};
use lwm2m_core::coap::endpoint::config::MAX_MESSAGE_LEN;
use lwm2m_core::coap::endpoint::{Config as CoapConfig, Endpoint, Event as CoapEvent};
use lwm2m_core::coap::numbers::{Code, OptionNumber};
use lwm2m_core::formats::Encoder;
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_core::time::Instant;
use lwm2m_core::value::{DataType, Value};

const CLIENT: u8 = 1;
const SERVER: u8 = 2;

/// One DM server account (SSID 101) and the Firmware object; block-wise
/// writes are recorded as (offset, length, last).
#[derive(Default)]
struct Store {
    blocks: Vec<(usize, usize, bool)>,
}

impl ObjectStore for Store {
    fn objects(&self, visit: &mut dyn FnMut(ObjectInfo<'_>)) {
        visit(ObjectInfo { id: 5, version: "1.0", instances: &[0] });
    }
    fn accounts(&self, visit: &mut dyn FnMut(Account<'_>)) {
        visit(Account {
            security_instance: 1,
            server_uri: "coap://dm",
            bootstrap: false,
            ssid: Some(101),
            lifetime_s: 300,
            binding: "U",
            queue_mode: false,
        });
    }
    fn data_type(&self, _: &Path) -> Option<DataType> {
        None
    }
    fn read(&self, _: Caller, _: &Path, _: &mut dyn Encoder) -> Result<(), StoreError> {
        Err(StoreError::NotFound)
    }
    fn write<'a>(
        &mut self,
        _: Caller,
        _: &Path,
        _: WriteMode,
        _: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<(), StoreError> {
        Err(StoreError::MethodNotAllowed)
    }
    fn execute(&mut self, _: Caller, _: &Path, _: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::MethodNotAllowed)
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
    fn delete(&mut self, _: Caller, _: &Path) -> Result<(), StoreError> {
        Err(StoreError::MethodNotAllowed)
    }
    fn write_block(
        &mut self,
        _: Caller,
        _: &Path,
        offset: usize,
        bytes: &[u8],
        last: bool,
    ) -> Result<(), StoreError> {
        self.blocks.push((offset, bytes.len(), last));
        Ok(())
    }
    fn discover(
        &self,
        _: Caller,
        _: &Path,
        _: &mut dyn FnMut(&Path, Option<u16>),
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

struct Pair {
    client: Client<u8, XorShiftRng, Store>,
    server: Endpoint<u8, XorShiftRng>,
    now: Instant,
}

impl Pair {
    /// A client registered with the in-test server, holding the answers
    /// to blocks of `/5/0/0`.
    fn registered() -> Pair {
        let client = Client::new(Config::new("urn:imei:1"), XorShiftRng::new(3), Store::default());
        let server = Endpoint::new(CoapConfig::default(), XorShiftRng::new(5));
        let mut p = Pair { client, server, now: Instant::from_secs(1) };
        p.client.hold_block_answers(Some(package()));
        p.client.register(p.now, |_| Some(SERVER)).unwrap();
        let (requests, _) = p.exchange();
        let id = requests[0];
        p.server
            .respond(id, Code::Created, |w| w.add_option(OptionNumber::LocationPath, b"rd"))
            .unwrap();
        p.exchange();
        assert!(p.client.poll_event().is_some_and(|e| matches!(e, Event::Registered { .. })));
        p
    }

    /// Datagrams both ways until quiet: the server's received requests and
    /// the (code, Block1) of the responses it received.
    fn exchange(
        &mut self,
    ) -> (Vec<lwm2m_core::coap::endpoint::RequestId>, Vec<(Code, Option<BlockValue>)>) {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let (mut requests, mut responses) = (vec![], vec![]);
        for _ in 0..20 {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
                moved = true;
                self.server.handle_datagram(self.now, CLIENT, &buf[..t.len]);
                while let Some(ev) = self.server.poll_event() {
                    match ev {
                        CoapEvent::Request { id, .. } => requests.push(id),
                        CoapEvent::Response { response, .. } => {
                            let block = response.options.get(OptionNumber::Block1);
                            let block = block.map(|o| BlockValue::parse(o.value).unwrap());
                            responses.push((response.code, block));
                        }
                        _ => {}
                    }
                }
            }
            while let Some(t) = self.server.poll_transmit(self.now, &mut buf) {
                moved = true;
                self.client.handle_datagram(self.now, SERVER, &buf[..t.len]);
            }
            if !moved {
                break;
            }
        }
        (requests, responses)
    }

    /// The server PUTs block `num` (16 bytes) of `/5/0/0`.
    fn put_block(&mut self, num: u32, more: bool) -> Vec<(Code, Option<BlockValue>)> {
        let block = BlockValue::new(num, more, Szx::S16).unwrap();
        self.server
            .request(self.now, CLIENT, true, Code::Put, |w| {
                w.add_path(OptionNumber::UriPath, "5/0/0")?;
                w.add_uint(OptionNumber::ContentFormat, 42)?;
                w.add_uint(OptionNumber::Block1, block.to_uint())?;
                w.set_payload(&[num as u8; 16])
            })
            .unwrap();
        self.exchange().1
    }
}

fn package() -> Path {
    Path::resource(5, 0, 0).unwrap()
}

#[test]
fn a_held_block_is_answered_only_when_the_application_says_so() {
    let mut p = Pair::registered();
    assert_eq!(p.put_block(0, true), [], "no answer before the block is stored");
    assert_eq!(p.client.store().blocks, [(0, 16, false)], "the store has the block");
    assert!(p.client.answer_block(Ok(())));
    let continue_0 = BlockValue::new(0, true, Szx::S16);
    assert_eq!(p.exchange().1, [(Code::Continue, continue_0)], "2.31 with Block1 echoed");
    assert_eq!(p.put_block(1, false), []);
    assert!(p.client.answer_block(Ok(())));
    let last = BlockValue::new(1, false, Szx::S16);
    assert_eq!(p.exchange().1, [(Code::Changed, last)], "2.04 on the last block");
    assert!(
        core::iter::from_fn(|| p.client.poll_event())
            .any(|e| matches!(e, Event::Written { path, .. } if path == package())),
        "Written once the last block is answered"
    );
    assert!(!p.client.answer_block(Ok(())), "nothing held any more");
}

#[test]
fn a_refused_block_gets_the_refusal_and_ends_the_transfer() {
    let mut p = Pair::registered();
    assert_eq!(p.put_block(0, true), []);
    assert!(p.client.answer_block(Err(Code::RequestEntityTooLarge)));
    assert_eq!(p.exchange().1, [(Code::RequestEntityTooLarge, None)], "4.13, no Block1");
    // The transfer is over: the next block is out of sequence (RFC 7959 §2.9.2).
    assert_eq!(p.put_block(1, true), [(Code::RequestEntityIncomplete, None)]);
}

#[test]
fn blocks_of_other_paths_are_answered_at_once() {
    let mut p = Pair::registered();
    p.client.hold_block_answers(None);
    let continue_0 = BlockValue::new(0, true, Szx::S16);
    assert_eq!(p.put_block(0, true), [(Code::Continue, continue_0)]);
    assert!(!p.client.answer_block(Ok(())), "nothing was held");
}
