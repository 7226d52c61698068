//! # carrier-sim — a deterministic fleet simulation of lwm2m-carrier
//!
//! Devices — each a `carrier_os_std::sim::SimPort` (modelled modem, SIM,
//! network and DTLS, storage that survives power cuts) running the carrier
//! runtime `lwm2m_carrier::Runtime` with its LwM2M engine
//! `Lwm2mSession`, and an application that follows the runtime's link
//! events — and ONE `lwm2m_server::Server` acting as Bootstrap-Server and
//! DM server, all on one `World` (virtual clock, seeded loss, duplication,
//! reordering, outages) in one thread. A simulated month takes seconds.
//!
//! ```no_run
//! use carrier_sim::{Scenario, run};
//! let outcome = run(&Scenario { devices: 100, ..Scenario::default() });
//! println!("{}", outcome.summary());
//! ```
//!
//! Guarantees:
//! - Deterministic: the same [`Scenario`] (seed included) gives the same
//!   [`Outcome`] except [`Outcome::wall_ms`]; another seed gives another
//!   trace (loss, delays, the devices' randomness).
//! - Time is virtual: nothing sleeps; wall time is measured only.
//! - Counting is from the wire (see [`wire`]): bytes are CoAP's; the
//!   modelled DTLS adds handshake time, not bytes.
//!
//! What it acts out (OMA-TS-LightweightM2M_Core 1.1 §6.1 bootstrap, §6.2
//! registration and Update, §6.3 Read/Write/Execute, §6.4 Observe, §E.6
//! firmware push; `carrier-api.md` §2 events and §2.1 deferrals).

#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core)]

mod device;
mod server;
pub mod wire;

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;

use carrier_os::time::{Duration, Instant};
pub use carrier_os_std::modem::Faults;
pub use carrier_os_std::sim::NetConfig;
use carrier_os_std::sim::{TapKind, World};
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder, PdnType};
use lwm2m_carrier::{Config, Event};
use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::path::Path;
use lwm2m_server::{BootstrapPlan, Request, ServerConfig, ServerError, ServerEvent};
use serde::Serialize;

use device::Device;
pub use device::{DeviceEvent, PSK, REBOOT_DELAY, SEC_TAG};
use server::{Purpose, SimServer};
use wire::{UpDown, Wire, WireCounters};

/// The Bootstrap-Server's address (`coaps://bs.sim:5784`).
pub const BS_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), 5784);
/// The DM server's address (`coaps://dm.sim:5684`, or `coap://…:5683`
/// as bootstrap provisions it).
pub const DM_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)), 5684);
/// The Bootstrap-Server URI the devices are configured with.
pub const BS_URI: &str = "coaps://bs.sim:5784";
/// The DM server URI: configured directly without bootstrap (PSK in
/// [`SEC_TAG`]), provisioned by bootstrap (NoSec) otherwise.
pub const DM_URI: &str = "coaps://dm.sim:5684";
/// What bootstrap provisions (`lwm2m_server::BootstrapPlan::single`
/// writes NoSec accounts).
pub const DM_URI_PROVISIONED: &str = "coap://192.0.2.11:5684";
/// The custom APN of [`Scenario::custom_apn`].
pub const CUSTOM_APN: &str = "iot.sim";

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Seed of the world (loss, delays) and of every device's randomness.
    pub seed: u64,
    /// Number of devices (ids 1..=devices).
    pub devices: u32,
    /// Virtual time to run.
    pub duration: Duration,
    /// Network behaviour.
    pub net: NetConfig,
    /// Generic mode with a Bootstrap-Server (`true`), or the DM server
    /// configured directly with its PSK (`false`).
    pub bootstrap: bool,
    /// Registration lifetime (s); the runtime sends an Update 30 s before
    /// it ends, so 3630 gives hourly Updates.
    pub lifetime_s: u32,
    /// Power-on times are spread evenly over this span.
    pub power_on_spread: Duration,
    /// From this time on, the server pushes a firmware image (block-wise
    /// Write of `/5/0/0`) to device 1 as soon as it hears from it (Register
    /// or Update: the device closes its socket after the session idle
    /// timeout, so it is reachable only then), then executes Update
    /// `/5/0/2`; the device reboots into the image.
    pub fota_at: Option<Duration>,
    /// Size of the pushed image (bytes).
    pub fota_size: usize,
    /// Once device 1 has registered: the server reads `/3/0` in each
    /// content format and `/3/0/0` in plain text, observes `/3/0/9`, and
    /// the application changes the battery level twice (two notifications).
    pub probe: bool,
    /// Every device loses power at this time and boots again
    /// [`REBOOT_DELAY`] later from its NVM.
    pub power_cut_at: Option<Duration>,
    /// At that reboot the server options changed (another security tag):
    /// the runtime factory-resets and bootstraps again.
    pub change_options_at_reboot: bool,
    /// Faults every device starts with.
    pub faults: Faults,
    /// The network drops everything in `[from, until)`.
    pub outage: Option<(Duration, Duration)>,
    /// The Bootstrap-Server's name (`bs.sim`) resolves only from this time
    /// on (before, opening its socket fails: no route).
    pub bootstrap_dns_from: Option<Duration>,
    /// Configure the custom APN [`CUSTOM_APN`] (PDN faults apply to it).
    pub custom_apn: bool,
    /// Keep the world's trace ([`Outcome::trace`]); off for big fleets.
    pub trace: bool,
    /// Sampling step of [`Outcome::series`].
    pub series_step: Duration,
}

impl Default for Scenario {
    /// One device, a clean network, bootstrap, 10 virtual minutes.
    fn default() -> Self {
        Scenario {
            seed: 1,
            devices: 1,
            duration: Duration::from_secs(600),
            net: NetConfig::default(),
            bootstrap: true,
            lifetime_s: 3630,
            power_on_spread: Duration::ZERO,
            fota_at: None,
            fota_size: 4096,
            probe: false,
            power_cut_at: None,
            change_options_at_reboot: false,
            faults: Faults::default(),
            outage: None,
            bootstrap_dns_from: None,
            custom_apn: false,
            trace: false,
            series_step: Duration::from_secs(10),
        }
    }
}

impl Scenario {
    /// `n` whole days.
    pub fn days(n: u64) -> Duration {
        Duration::from_secs(n * 86_400)
    }

    fn config(&self, sec_tag: u32) -> Config<'static> {
        let mut b = ConfigBuilder::new()
            .carriers(CarrierSet::GENERIC)
            .server_sec_tag(sec_tag)
            .server_lifetime_s(i32::try_from(self.lifetime_s).unwrap_or(i32::MAX));
        b = if self.bootstrap {
            b.server_uri(BS_URI).bootstrap_server(true)
        } else {
            b.server_uri(DM_URI).bootstrap_server(false)
        };
        if self.custom_apn {
            b = b.apn(CUSTOM_APN, PdnType::Ipv4v6);
        }
        b.build()
    }
}

/// One device's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceLog {
    /// Device id (1-based).
    pub id: u32,
    /// Endpoint client name, once the server saw it register.
    pub endpoint: Option<String>,
    /// Events with their virtual time (ms).
    pub events: Vec<(u64, DeviceEvent)>,
    /// Virtual time (ms) of the first REGISTERED.
    pub first_registered_ms: Option<u64>,
    /// Wire traffic from power-on to the first REGISTERED.
    pub to_registered: Option<UpDown>,
    /// Wire traffic from each power-on to the first REGISTERED after it
    /// (a power-on that never registered has no entry).
    pub boot_to_registered: Vec<UpDown>,
    /// Registered at the end.
    pub registered: bool,
}

impl DeviceLog {
    /// The carrier events alone, in order.
    pub fn carrier_events(&self) -> Vec<Event<'static>> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                DeviceEvent::Carrier(e) => Some(*e),
                _ => None,
            })
            .collect()
    }
}

/// One sample of [`Outcome::series`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// Virtual time (s).
    pub t_s: u64,
    /// Devices registered (their runtime says so).
    pub registered: u32,
    /// Registrations the server holds.
    pub server_registrations: u32,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Virtual time run (ms).
    pub virtual_ms: u64,
    /// Per device.
    pub devices: Vec<DeviceLog>,
    /// Devices registered at the end.
    pub registered: u32,
    /// Devices that registered at least once.
    pub ever_registered: u32,
    /// Wire counters.
    pub wire: WireCounters,
    /// Server events by kind.
    pub server_counts: BTreeMap<String, u64>,
    /// Server events (time ms, text) — only for runs of at most 16 devices.
    pub server_events: Vec<(u64, String)>,
    /// Server requests that ended in a CoAP timeout (the server core's view
    /// of a lost CON).
    pub server_timeouts: u64,
    /// Answers to the server's scripted requests: (time ms, request, answer).
    pub answers: Vec<(u64, String, String)>,
    /// Registrations over time.
    pub series: Vec<Sample>,
    /// Events the simulation stepped through (device polls + server pumps).
    pub steps: u64,
    /// Wall time of the run (ms); the only non-deterministic field.
    pub wall_ms: u64,
    /// The world's trace, when [`Scenario::trace`] is on.
    #[serde(skip)]
    pub trace: String,
}

impl Outcome {
    /// The figures worth a glance.
    pub fn summary(&self) -> Summary<'_> {
        Summary(self)
    }

    /// The outcome without the wall time (for determinism checks).
    pub fn deterministic(&self) -> Outcome {
        Outcome { wall_ms: 0, ..self.clone() }
    }
}

/// [`Outcome`] as a table ([`fmt::Display`]).
#[derive(Debug)]
pub struct Summary<'a>(&'a Outcome);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        let n = o.devices.len();
        let w = &o.wire;
        writeln!(f, "seed                 {}", o.seed)?;
        writeln!(f, "devices              {n}")?;
        writeln!(f, "virtual time         {:.1} h", o.virtual_ms as f64 / 3_600_000.0)?;
        writeln!(f, "wall time            {} ms", o.wall_ms)?;
        writeln!(f, "steps                {}", o.steps)?;
        writeln!(f, "registered at end    {} / {n}", o.registered)?;
        writeln!(f, "ever registered      {} / {n}", o.ever_registered)?;
        writeln!(
            f,
            "uplink               {} datagrams, {} bytes",
            w.total.up.datagrams, w.total.up.bytes
        )?;
        writeln!(
            f,
            "downlink             {} datagrams, {} bytes",
            w.total.down.datagrams, w.total.down.bytes
        )?;
        writeln!(f, "CONs sent            up {} / down {}", w.con_sent[0], w.con_sent[1])?;
        writeln!(f, "lost CONs            up {} / down {}", w.lost_con[0], w.lost_con[1])?;
        writeln!(f, "server timeouts      {}", o.server_timeouts)?;
        writeln!(f, "\n{:<4} {:<40} {:>10} {:>12}", "dir", "kind", "datagrams", "bytes")?;
        for k in &w.kinds {
            writeln!(
                f,
                "{:<4} {:<40} {:>10} {:>12}",
                k.dir, k.kind, k.count.datagrams, k.count.bytes
            )?;
        }
        Ok(())
    }
}

/// A scripted step of the server or the application for one device.
#[derive(Debug, Clone)]
enum Step {
    Request(Request),
    Battery(u8),
    Wait(Duration),
}

struct Script {
    device: usize,
    steps: VecDeque<Step>,
    /// Not before.
    at: Instant,
    /// Waiting for an answer.
    busy: bool,
    /// The request waiting for its answer.
    current: String,
}

fn probe_script() -> VecDeque<Step> {
    let dev = Path::instance(3, 0).unwrap_or(Path::ROOT);
    let mut s: VecDeque<Step> = [
        ContentFormat::Lwm2mTlv,
        ContentFormat::SenmlJson,
        ContentFormat::SenmlCbor,
        ContentFormat::Lwm2mCbor,
    ]
    .into_iter()
    .map(|f| Step::Request(Request::Read { path: dev, format: Some(f) }))
    .collect();
    let manufacturer = Path::resource(3, 0, 0).unwrap_or(Path::ROOT);
    let battery = Path::resource(3, 0, 9).unwrap_or(Path::ROOT);
    s.push_back(Step::Request(Request::Read {
        path: manufacturer,
        format: Some(ContentFormat::TextPlain),
    }));
    s.push_back(Step::Request(Request::Observe {
        path: battery,
        format: Some(ContentFormat::TextPlain),
    }));
    s.extend([
        Step::Wait(Duration::from_secs(10)),
        Step::Battery(57),
        Step::Wait(Duration::from_secs(30)),
        Step::Battery(56),
    ]);
    s
}

fn fota_script(size: usize) -> VecDeque<Step> {
    let image = carrier_os_std::dfu::test_app_image(size);
    [
        Step::Request(Request::WriteBlockwise {
            path: Path::resource(5, 0, 0).unwrap_or(Path::ROOT),
            format: ContentFormat::OctetStream,
            payload: image,
            block_size: 512,
        }),
        Step::Request(Request::Execute {
            path: Path::resource(5, 0, 2).unwrap_or(Path::ROOT),
            args: vec![],
        }),
    ]
    .into_iter()
    .collect()
}

fn server_kind(e: &ServerEvent) -> &'static str {
    match e {
        ServerEvent::BootstrapRequested { .. } => "bootstrap-requested",
        ServerEvent::BootstrapFinished { .. } => "bootstrap-finished",
        ServerEvent::Registered { .. } => "registered",
        ServerEvent::Updated { .. } => "updated",
        ServerEvent::Deregistered { .. } => "deregistered",
        ServerEvent::Expired { .. } => "expired",
        ServerEvent::Notification { .. } => "notification",
        ServerEvent::Sent { .. } => "sent",
        ServerEvent::Response { .. } => "response",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

fn request_text(r: &Request) -> String {
    match r {
        Request::Read { path, format } => {
            format!("read {path} {}", format.map(|f| f.raw()).unwrap_or(0))
        }
        Request::Observe { path, .. } => format!("observe {path}"),
        Request::WriteBlockwise { path, payload, .. } => {
            format!("write-blockwise {path} {} B", payload.len())
        }
        Request::Execute { path, .. } => format!("execute {path}"),
        other => format!("{other:?}"),
    }
}

/// Runs `scenario` to its end (see the crate doc).
pub fn run(scenario: &Scenario) -> Outcome {
    let wall = std::time::Instant::now();
    let world = World::new(scenario.seed, scenario.net);
    world.set_tracing(scenario.trace);
    if scenario.bootstrap_dns_from.is_none() {
        world.add_host("bs.sim", BS_ADDR.ip());
    }
    world.add_host("dm.sim", DM_ADDR.ip());
    if let Some((a, b)) = scenario.outage {
        world.add_outage(Instant::ZERO + a, Instant::ZERO + b);
    }
    let wire = Rc::new(RefCell::new(Wire::new(vec![BS_ADDR, DM_ADDR], vec![BS_ADDR])));
    {
        let wire = wire.clone();
        world.set_tap(move |t| {
            // The tap runs inside the world; the wire state is its own.
            if let Ok(mut w) = wire.try_borrow_mut() {
                match t.kind {
                    TapKind::Sent => w.sent(t.at, t.from, t.to, t.data),
                    TapKind::Delivered => w.delivered(t.from, t.to, t.data),
                }
            }
        });
    }
    let plan = BootstrapPlan::single(DM_URI_PROVISIONED, scenario.lifetime_s);
    let config = ServerConfig {
        default_plan: Some(plan),
        seed: (scenario.seed as u32) ^ 0x5eed,
        ..ServerConfig::default()
    };
    let mut server = SimServer::new(&world, BS_ADDR, DM_ADDR, config);

    let n = scenario.devices.max(1);
    let mut devices: Vec<Device> = (0..n)
        .map(|i| {
            let spread = scenario.power_on_spread.as_millis();
            let at = Instant::from_millis(spread * u64::from(i) / u64::from(n));
            let mut d = Device::new(i + 1, scenario.seed, scenario.config(SEC_TAG), at);
            d.faults = scenario.faults.clone();
            d
        })
        .collect();
    let by_ip: HashMap<IpAddr, usize> =
        devices.iter().enumerate().map(|(i, d)| (d.ip, i)).collect();
    let mut device_endpoint: Vec<Option<String>> = vec![None; devices.len()];
    let mut heap: BinaryHeap<Reverse<(Instant, usize)>> =
        devices.iter().enumerate().map(|(i, d)| Reverse((d.wake, i))).collect();

    let end = Instant::ZERO + scenario.duration;
    let mut scripts: Vec<Script> = Vec::new();
    let mut probe_pending = scenario.probe;
    let mut fota_pending = scenario.fota_at.map(|t| Instant::ZERO + t);
    let mut dns_pending = scenario.bootstrap_dns_from.map(|t| Instant::ZERO + t);
    let mut cut_pending = scenario.power_cut_at.map(|t| Instant::ZERO + t);
    let mut out_server = BTreeMap::<String, u64>::new();
    let mut server_events = Vec::new();
    let mut server_timeouts = 0u64;
    let mut answers = Vec::new();
    let mut series = Vec::new();
    let mut next_sample = Instant::ZERO;
    let mut next_prune = Instant::ZERO + Duration::from_secs(600);
    let mut steps = 0u64;
    let keep_events = devices.len() <= 16;

    loop {
        // Drop stale heap entries.
        while let Some(Reverse((t, i))) = heap.peek().copied() {
            if devices.get(i).is_some_and(|d| d.wake == t) {
                break;
            }
            heap.pop();
        }
        let script_due = scripts.iter().filter(|s| !s.busy).map(|s| s.at).min();
        let next = [
            heap.peek().map(|Reverse((t, _))| *t),
            world.next_delivery(),
            server.next_timeout(),
            script_due,
            cut_pending,
            dns_pending,
            Some(next_sample),
            Some(end),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(end);
        if next > end {
            break;
        }
        world.advance_to(next);
        let now = world.now();
        steps += 1;

        // Whoever got datagrams.
        let delivered = std::mem::take(&mut wire.borrow_mut().delivered);
        for to in delivered {
            if let Some(&i) = by_ip.get(&to.ip())
                && let Some(d) = devices.get_mut(i)
                && d.wake > now
            {
                d.wake = now;
                heap.push(Reverse((now, i)));
            }
        }

        if dns_pending.is_some_and(|t| t <= now) {
            dns_pending = None;
            world.add_host("bs.sim", BS_ADDR.ip());
        }

        // Power cut of the whole fleet.
        if cut_pending.is_some_and(|t| t <= now) {
            cut_pending = None;
            let tag = if scenario.change_options_at_reboot { SEC_TAG + 1 } else { SEC_TAG };
            for (i, d) in devices.iter_mut().enumerate() {
                d.power_cut(now, REBOOT_DELAY, scenario.config(tag));
                heap.push(Reverse((d.wake, i)));
            }
        }

        // Devices due.
        while let Some(Reverse((t, i))) = heap.peek().copied() {
            if t > now {
                break;
            }
            heap.pop();
            let Some(d) = devices.get_mut(i) else { continue };
            if d.wake != t {
                continue;
            }
            let traffic = wire.borrow().device(d.ip);
            d.step(&world, now, traffic);
            heap.push(Reverse((d.wake, i)));
        }

        // Scripts due.
        for k in 0..scripts.len() {
            let Some(s) = scripts.get_mut(k) else { continue };
            if s.busy || s.at > now {
                continue;
            }
            let Some(step) = s.steps.pop_front() else { continue };
            match step {
                Step::Wait(d) => s.at = now + d,
                Step::Battery(b) => {
                    if let Some(d) = devices.get_mut(s.device) {
                        d.battery = Some(b);
                        d.wake = now;
                        heap.push(Reverse((now, s.device)));
                    }
                }
                Step::Request(r) => {
                    let Some(ep) = device_endpoint.get(s.device).cloned().flatten() else {
                        s.steps.push_front(Step::Request(r));
                        s.at = now + Duration::from_secs(10);
                        continue;
                    };
                    s.busy = true;
                    s.current = request_text(&r);
                    server.request(now, &ep, r, Purpose::Script(k));
                }
            }
        }
        scripts.retain(|s| s.busy || !s.steps.is_empty());

        // The server.
        for (purpose, result) in server.pump(now) {
            let Purpose::Script(k) = purpose;
            if let Some(s) = scripts.get_mut(k) {
                s.busy = false;
                s.at = now;
                let text = match &result {
                    Ok(r) => format!("{r}"),
                    Err(e) => format!("{e}"),
                };
                answers.push((now.as_millis(), std::mem::take(&mut s.current), text));
            }
            if matches!(result, Err(ServerError::Timeout)) {
                server_timeouts += 1;
            }
        }
        while let Some(seen) = server.events.pop_front() {
            *out_server.entry(server_kind(&seen.event).into()).or_default() += 1;
            if let ServerEvent::Registered { registration, .. } = &seen.event
                && let Some(&i) = by_ip.get(&registration.addr.ip())
            {
                if let Some(slot) = device_endpoint.get_mut(i) {
                    *slot = Some(registration.endpoint.clone());
                }
                if probe_pending && i == 0 {
                    probe_pending = false;
                    scripts.push(Script {
                        device: 0,
                        steps: probe_script(),
                        at: now + Duration::from_secs(10),
                        busy: false,
                        current: String::new(),
                    });
                }
            }
            // The device is reachable right after its Register or Update
            // (its socket closes after the session idle timeout): the
            // firmware push goes then, once its time has come.
            let heard_from = match &seen.event {
                ServerEvent::Registered { registration, .. } => {
                    by_ip.get(&registration.addr.ip()).copied()
                }
                ServerEvent::Updated { endpoint, .. } => {
                    device_endpoint.iter().position(|e| e.as_deref() == Some(endpoint.as_str()))
                }
                _ => None,
            };
            if heard_from == Some(0) && fota_pending.is_some_and(|t| t <= now) {
                fota_pending = None;
                scripts.push(Script {
                    device: 0,
                    steps: fota_script(scenario.fota_size),
                    at: now,
                    busy: false,
                    current: String::new(),
                });
            }
            if keep_events {
                server_events.push((seen.at.as_millis(), format!("{}", seen.event)));
            }
        }
        if now >= next_sample {
            let registered = devices.iter().filter(|d| d.registered).count() as u32;
            let server_registrations = server.registrations() as u32;
            series.push(Sample { t_s: now.as_millis() / 1000, registered, server_registrations });
            next_sample = now + scenario.series_step;
        }
        if now >= next_prune {
            wire.borrow_mut().prune(now);
            next_prune = now + Duration::from_secs(600);
        }
        if now >= end {
            break;
        }
    }

    let now = world.now();
    let wire = wire.borrow_mut().finish(now);
    let devices: Vec<DeviceLog> = devices
        .into_iter()
        .zip(device_endpoint)
        .map(|(d, endpoint)| DeviceLog {
            id: d.id,
            endpoint,
            registered: d.registered,
            first_registered_ms: d.first_registered,
            to_registered: d.to_registered,
            boot_to_registered: d.boot_to_registered,
            events: d.events,
        })
        .collect();
    Outcome {
        seed: scenario.seed,
        virtual_ms: now.as_millis(),
        registered: devices.iter().filter(|d| d.registered).count() as u32,
        ever_registered: devices.iter().filter(|d| d.first_registered_ms.is_some()).count() as u32,
        devices,
        wire,
        server_counts: out_server,
        server_events,
        server_timeouts,
        answers,
        series,
        steps,
        wall_ms: u64::try_from(wall.elapsed().as_millis()).unwrap_or(u64::MAX),
        trace: world.trace(),
    }
}
