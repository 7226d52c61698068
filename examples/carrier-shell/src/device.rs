//! The device the shell drives once the library has started: the carrier
//! runtime with the LwM2M session on the std port (`RealPort`: real UDP and
//! DTLS sockets, a simulated modem and SIM, storage in the state
//! directory), polled by the shell between command lines.
//!
//! It follows the original's application rules (app-integration.txt
//! "Events"): the LTE link goes down and up when the library asks, and on
//! REBOOT the device restarts from its storage. Every event is printed as
//! `Event: <the original's text>`.
//!
//! The embedded servers (`--server` absent) live here too: a
//! Bootstrap-Server behind DTLS-PSK and the DM server it provisions, as in
//! `carrier-sample`; `server read PATH` asks the DM server to read the
//! device, so what a `carrier_api` command changed is seen from the server.

use core::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::sync::mpsc;
use std::time::Duration as StdDuration;

use carrier_os::modem::{LinkRequest, Modem, Psk, SecTag};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::wait::Wait;
use carrier_os_std::profile::{Credential, DeviceProfile, KeyStore};
use carrier_os_std::real::RealPort;
use carrier_profiles::Carrier;
use lwm2m_carrier::api::{AppApi, ModemInitResult, Request};
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Config, Errno, Event, Runtime};
use lwm2m_core::path::Path;
use lwm2m_core::rng::XorShiftRng;
use lwm2m_server::operators::{Operator, plan_for};
use lwm2m_server::transport::{DtlsTransport, Transport};
use lwm2m_server::{ServerConfig, ServerEvent, ServerHandle};

use crate::shell::say;

/// The security tag with the embedded Bootstrap-Server's PSK.
pub const BS_SEC_TAG: u32 = 7;
/// The device's PSK identity towards the embedded Bootstrap-Server.
const BS_IDENTITY: &[u8] = b"carrier-shell";
/// The embedded Bootstrap-Server's PSK (a demo key, not a secret).
const BS_PSK: &[u8] = b"carrier-shell-16";
/// The DM server's PSK identity and key, written into the device by the bootstrap.
const DM_IDENTITY: &[u8] = b"carrier-shell-dm";
const DM_PSK: &[u8] = b"carrier-shell-dm";
/// How long `server read` waits for the device to register.
const REGISTER_WAIT: StdDuration = StdDuration::from_secs(20);

type Rt = Runtime<'static, Lwm2mSession<XorShiftRng>>;

/// The started device.
pub struct Device {
    rt: Rt,
    port: RealPort,
    config: Config<'static>,
    dir: PathBuf,
    profile: DeviceProfile,
    boots: u32,
}

impl Device {
    /// Opens the std port in `dir` with a SIM of `carrier` and starts the
    /// runtime with `config`.
    ///
    /// # Errors
    /// The port cannot be opened (state directory, profile).
    pub fn start(dir: &FsPath, config: Config<'static>, carrier: Carrier) -> Result<Self, String> {
        let mut profile = DeviceProfile::generic(1);
        // The operator's SIM: its home network as the IMSI prefix.
        if let Some(plmn) = carrier_profiles::profile(carrier).detection.home_plmns.first() {
            let msin = "0000000001";
            profile.imsi =
                Some(format!("{plmn}{}", msin.get(plmn.len().saturating_sub(5)..).unwrap_or(msin)));
            if let (Some(mcc), Some(mnc)) = (plmn.get(..3), plmn.get(3..)) {
                profile.network.mcc = mcc.parse().unwrap_or(profile.network.mcc);
                profile.network.mnc = mnc.parse().unwrap_or(profile.network.mnc);
            }
        }
        // A shell wants answers now: attach and PDN without the modem's delays.
        profile.attach_ms = 10;
        profile.pdn_ms = 10;
        let (rt, port) = boot(dir, config, &profile, 0)?;
        Ok(Device { rt, port, config, dir: dir.to_owned(), profile, boots: 0 })
    }

    /// The library's application API.
    pub fn api(&mut self) -> &mut AppApi {
        self.rt.api()
    }

    /// The port's clock.
    pub fn now(&self) -> Instant {
        self.port.now()
    }

    /// `lwm2m_carrier_request()`.
    ///
    /// # Errors
    /// The library's errno.
    pub fn request(&mut self, req: Request) -> Result<(), Errno> {
        let now = self.port.now();
        self.rt.request(now, req)
    }

    /// `lwm2m_carrier_data_send()` of one path.
    ///
    /// # Errors
    /// The library's errno.
    pub fn send(&mut self, path: &[u16]) -> Result<(), Errno> {
        let now = self.port.now();
        self.rt.data_send(now, path)
    }

    /// Runs the runtime until nothing is due, waiting at most `wait` for
    /// datagrams; events go to `out`.
    pub fn poll(&mut self, out: &mut String, wait: StdDuration) {
        let next = self.rt.poll(&mut self.port);
        let mut reboot = false;
        while let Some(e) = self.rt.poll_event() {
            say(out, format!("Event: {e}"));
            match e {
                Event::LteLinkDown => {
                    let _ = self.port.request_link(LinkRequest::Down);
                }
                Event::LteLinkUp => {
                    let _ = self.port.request_link(LinkRequest::Up);
                }
                Event::Reboot => reboot = true,
                _ => {}
            }
        }
        if reboot && self.boots < 8 {
            self.boots += 1;
            say(out, "Rebooting: the device restarts from its storage");
            match boot(&self.dir, self.config, &self.profile, self.boots) {
                Ok((rt, port)) => {
                    self.rt = rt;
                    self.port = port;
                }
                Err(e) => say(out, format!("Reboot failed: {e}")),
            }
            return;
        }
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let cap = self.port.now().checked_add(Duration::from_millis(ms));
        let until = match (next, cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.port.wait_until(until);
    }
}

/// A new runtime over the port in `dir`: a (re)boot.
fn boot(
    dir: &FsPath,
    config: Config<'static>,
    profile: &DeviceProfile,
    boot: u32,
) -> Result<(Rt, RealPort), String> {
    let mut port = RealPort::open(dir, profile.clone()).map_err(|e| format!("device port: {e}"))?;
    let seed = (std::process::id() ^ boot.wrapping_mul(0x9e37_79b9)) | 1;
    let mut rt = Runtime::new(config, Lwm2mSession::new(XorShiftRng::new(seed)));
    rt.on_modem_init(Ok(ModemInitResult::Success));
    port.request_link(LinkRequest::Up).map_err(|e| format!("link: {e:?}"))?;
    Ok((rt, port))
}

/// The embedded Bootstrap-Server and DM server.
pub struct Servers {
    bs: ServerHandle,
    /// Lent to a helper thread while a request is running.
    dm: Option<ServerHandle>,
    /// `coaps://127.0.0.1:port` of the Bootstrap-Server.
    pub bs_uri: String,
    dm_uri: String,
}

impl Servers {
    /// Starts both on free loopback ports, the Bootstrap-Server acting out
    /// `carrier`'s plan (`lwm2m_server::operators`), and stores the bootstrap PSK in
    /// security tag [`BS_SEC_TAG`] of the modem (`dir/keys.toml`).
    ///
    /// # Errors
    /// A socket cannot be bound, the key cannot be stored.
    pub fn spawn(dir: &FsPath, carrier: Carrier) -> Result<Self, String> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let dm_keys =
            |id: &[u8]| (id == DM_IDENTITY).then(|| dtls_psk::Psk::new(DM_PSK).ok()).flatten();
        let dm_t = DtlsTransport::bind(any, dm_keys).map_err(|e| format!("server socket: {e}"))?;
        let dm_addr = dm_t.local_addr().map_err(|e| format!("server socket: {e}"))?;
        let dm_uri = format!("coaps://{dm_addr}");
        let dm = lwm2m_server::spawn(dm_t, ServerConfig::default())
            .map_err(|e| format!("server: {e}"))?;
        let keys =
            |id: &[u8]| (id == BS_IDENTITY).then(|| dtls_psk::Psk::new(BS_PSK).ok()).flatten();
        let bs_t = DtlsTransport::bind(any, keys).map_err(|e| format!("bootstrap socket: {e}"))?;
        let bs_addr = bs_t.local_addr().map_err(|e| format!("bootstrap socket: {e}"))?;
        // The operator's own plan (SSID, lifetime, binding, extra writes).
        let operator = match carrier {
            Carrier::Verizon => Operator::Verizon,
            Carrier::TMobile => Operator::TMobile,
            Carrier::SoftBank => Operator::SoftBank,
            Carrier::LgUplus => Operator::LgUplus,
            Carrier::BellCanada => Operator::BellCanada,
            _ => Operator::Generic,
        };
        let plan = plan_for(operator, &dm_uri, Some((DM_IDENTITY, DM_PSK)));
        let bs = lwm2m_server::spawn(
            bs_t,
            ServerConfig { default_plan: Some(plan), ..Default::default() },
        )
        .map_err(|e| format!("bootstrap server: {e}"))?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut store = KeyStore::open(dir.join("keys.toml")).map_err(|e| format!("keys: {e}"))?;
        let psk = Psk::new(BS_PSK).ok_or("bootstrap PSK")?;
        store
            .insert(SecTag(BS_SEC_TAG), Credential { identity: Some(BS_IDENTITY.to_vec()), psk })
            .map_err(|e| format!("keys: {e}"))?;
        Ok(Servers { bs, dm: Some(dm), bs_uri: format!("coaps://{bs_addr}"), dm_uri })
    }

    /// One line saying where the servers are.
    pub fn describe(&self) -> String {
        format!(
            "Embedded LwM2M servers: bootstrap {} and device management {} (DTLS-PSK)",
            self.bs_uri, self.dm_uri
        )
    }

    /// Prints what the servers saw since the last call.
    pub fn events(&mut self, out: &mut String) {
        while let Some(ev) = self.bs.next_event(StdDuration::ZERO) {
            say(out, format!("Server: {ev}"));
        }
        if let Some(dm) = &self.dm {
            while let Some(ev) = dm.next_event(StdDuration::ZERO) {
                say(out, format!("Server: {ev}"));
            }
        }
    }

    /// `server read PATH`: the DM server reads the device (waiting for it to
    /// register first), while `device` keeps being polled.
    pub fn read(&mut self, path: Path, device: Option<&mut Device>, out: &mut String) {
        let Some(dm) = self.dm.take() else {
            return say(out, "The server is busy");
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // The Registered event this wait takes is printed by the shell below.
            let seen = if dm.registrations().is_empty() {
                dm.wait_for(REGISTER_WAIT, |ev| {
                    matches!(ev, ServerEvent::Registered { .. }).then(|| ev.clone())
                })
            } else {
                None
            };
            let registered = seen.is_some() || !dm.registrations().is_empty();
            let result = match dm.registrations().into_iter().next() {
                Some(reg) if registered => dm
                    .request(
                        &reg.endpoint,
                        lwm2m_server::Request::Read { path, format: None },
                        StdDuration::from_secs(10),
                    )
                    .map_err(|e| e.to_string()),
                _ => Err("no device registered".to_string()),
            };
            let _ = tx.send((dm, seen, result));
        });
        let mut device = device;
        let (dm, seen, result) = loop {
            if let Some(d) = device.as_deref_mut() {
                d.poll(out, StdDuration::from_millis(10));
            }
            match rx.recv_timeout(StdDuration::from_millis(if device.is_some() { 0 } else { 20 })) {
                Ok(done) => break done,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return say(out, "Server: the request thread ended");
                }
            }
        };
        self.dm = Some(dm);
        if let Some(ev) = seen {
            say(out, format!("Server: {ev}"));
        }
        match result {
            Ok(r) => {
                let mut line = format!("Server: READ {path} -> {r}");
                for (p, v) in r.values(&path) {
                    let _ = write!(line, "\n  {p} = {v}");
                }
                say(out, line);
            }
            Err(e) => say(out, format!("Server: READ {path} failed: {e}")),
        }
    }
}
