//! Observe-Composite end to end over real loopback UDP (TS 1.1 §6.4.2):
//! the server observes two resources of the device (lwm2m-core `Client` +
//! `MemoryStore` on its own thread) with one FETCH, a change of one
//! notifies both in SenML CBOR, and after the cancel the device's next
//! notification is refused with RST, which ends the observation there.
#![allow(clippy::std_instead_of_core)]

use lwm2m_core::client::Event;
use lwm2m_core::coap::numbers::{Code, ContentFormat};
use lwm2m_core::path::Path;
use lwm2m_server::transport::{Transport, UdpTransport};
use lwm2m_server::{BootstrapPlan, Request, ServerConfig, ServerEvent, spawn};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{DeviceCmd, EP, coap_config, run_device};

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn observe_composite_notifies_every_listed_path_in_senml_cbor_until_cancelled() {
    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = transport.local_addr().unwrap();
    let config = ServerConfig {
        coap: coap_config(),
        default_plan: Some(BootstrapPlan::single(&format!("coap://{addr}"), 60)),
        ..ServerConfig::default()
    };
    let server = spawn(transport, config).unwrap();
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (ev_tx, ev_rx) = mpsc::channel();
    let deadline = Instant::now() + Duration::from_secs(60);
    let device = std::thread::spawn(move || run_device(addr, cmd_rx, ev_tx, deadline));
    let device_event = |want: &dyn Fn(&Event) -> bool| {
        let end = Instant::now() + WAIT;
        loop {
            let left = end.checked_duration_since(Instant::now()).expect("device event deadline");
            let ev = ev_rx.recv_timeout(left).expect("device event");
            if want(&ev) {
                return;
            }
        }
    };
    server
        .wait_for(WAIT, |e| matches!(e, ServerEvent::Registered { .. }).then_some(()))
        .expect("registered");
    device_event(&|e| *e == Event::Registered { ssid: 101 });

    let battery = Path::resource(3, 0, 9).unwrap();
    let voltage = Path::resource(3, 0, 10).unwrap();
    let paths = vec![battery, voltage];
    let values = |r: &lwm2m_server::Response| r.values(&Path::ROOT);
    let first = server
        .request(
            EP,
            Request::ObserveComposite { paths: paths.clone(), format: ContentFormat::SenmlCbor },
            WAIT,
        )
        .expect("observe-composite answer");
    assert_eq!(first.code, Code::Content);
    assert_eq!(first.content_format, Some(ContentFormat::SenmlCbor));
    assert_eq!(values(&first), [(battery, "80".to_owned()), (voltage, "15".to_owned())]);
    device_event(&|e| *e == Event::ObservationStarted { ssid: 101, path: Path::ROOT });

    // One listed resource changes: the notification carries both.
    cmd_tx.send(DeviceCmd::SetBattery(42)).unwrap();
    let n = server
        .wait_for(WAIT, |e| match e {
            ServerEvent::Notification { path, response, .. } if path.is_root() => {
                Some(response.clone())
            }
            _ => None,
        })
        .expect("composite notification");
    assert_eq!(n.content_format, Some(ContentFormat::SenmlCbor));
    assert_eq!(values(&n), [(battery, "42".to_owned()), (voltage, "15".to_owned())]);

    // Cancel: the next notification is answered with RST and the device
    // ends the observation (RFC 7641 §3.6).
    let cancel = server
        .request(EP, Request::CancelObserveComposite { paths: paths.clone() }, WAIT)
        .expect("cancel answer");
    assert_eq!(cancel.code, Code::Deleted);
    let again = server
        .request(EP, Request::CancelObserveComposite { paths }, WAIT)
        .expect("second cancel answer");
    assert_eq!(again.code, Code::NotFound);
    cmd_tx.send(DeviceCmd::SetBattery(41)).unwrap();
    device_event(&|e| *e == Event::ObservationEnded { ssid: 101, path: Path::ROOT });
    // The server refused that notification before the device heard the
    // RST, so no Notification event for it can still be on its way.
    let late = server.wait_for(Duration::from_millis(100), |e| {
        matches!(e, ServerEvent::Notification { .. }).then_some(())
    });
    assert!(late.is_none(), "a notification after the cancel was taken");

    cmd_tx.send(DeviceCmd::Stop).unwrap();
    device.join().unwrap();
    server.stop();
}
