//! The default run: two embedded `lwm2m-server`s on loopback, both behind
//! DTLS 1.2 PSK — the Bootstrap-Server, and the DM server whose `coaps://`
//! account and PSK its plan writes into the device — and the script the server and the application play
//! against the device: read `/3/0`, observe the battery level while the
//! application changes it, push a firmware image block-wise to `/5/0/0`
//! (with a progress bar), execute the update, let the device reboot into it,
//! then de-register (or, with `--forever`, stay until Ctrl-C).
//!
//! The servers listen on the ports of the previous run when they are free
//! (remembered in `<state-dir>/servers.txt`), so a device that kept its
//! registration data registers again without bootstrap. When a port is
//! taken, the device's stored accounts would point nowhere: the sample
//! then clears the device's storage (a factory reset) and says so.
//!
//! With `--carrier`, the SIM is that operator's, that operator alone is
//! enabled with the embedded Bootstrap-Server as custom server (the
//! certification set-up, carriers.md §1.4), and the Bootstrap-Server acts
//! out the operator's plan (`lwm2m_server::operators::plan_for`).

use std::net::SocketAddr;
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration as StdDuration, Instant as StdInstant};

use carrier_profiles::CarrierSet;
use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::path::Path;
use lwm2m_server::operators::plan_for;
use lwm2m_server::transport::{DtlsTransport, Transport};
use lwm2m_server::{Request, ServerConfig, ServerEvent, ServerHandle};

use crate::args::{Args, CarrierArg};
use crate::device::{self, Command, Report, Setup};
use crate::out::{Out, Stop, Who};

/// The whole default run must end within this.
const DEADLINE: StdDuration = StdDuration::from_secs(30);
/// The security tag holding the bootstrap PSK.
const BS_SEC_TAG: u32 = 7;
/// The bootstrap PSK (a demo key, not a secret; tinydtls takes up to 16 bytes).
const BS_PSK: &[u8] = b"sample-bs-key-16";
/// The DM server's PSK, which the bootstrap writes into the device (a demo key).
const DM_PSK: &[u8] = b"sample-dm-key-16";
/// Size of the pushed firmware image and of its blocks.
const IMAGE_LEN: usize = 8 * 1024;
const BLOCK: usize = 512;

/// The ports of the previous run, if recorded.
fn last_ports(dir: &FsPath) -> (u16, u16) {
    let text = std::fs::read_to_string(dir.join("servers.txt")).unwrap_or_default();
    let port = |key: &str| {
        text.lines().find_map(|l| l.strip_prefix(key)?.trim().parse::<u16>().ok()).unwrap_or(0)
    };
    (port("bootstrap "), port("dm "))
}

/// A DTLS-PSK server socket on 127.0.0.1:`port` if it is free, else on
/// any free port, accepting the one client `identity` with `key`.
fn bind_dtls(port: u16, identity: &[u8], key: &[u8]) -> Result<DtlsTransport, String> {
    let (id, k) = (identity.to_vec(), key.to_vec());
    let keys =
        move |got: &[u8]| (got == id.as_slice()).then(|| dtls_psk::Psk::new(&k).ok()).flatten();
    let at = |p| SocketAddr::from(([127, 0, 0, 1], p));
    DtlsTransport::bind(at(port), keys.clone())
        .or_else(|_| DtlsTransport::bind(at(0), keys))
        .map_err(|e| format!("server socket: {e}"))
}

/// Runs the default scenario.
///
/// # Errors
/// [`Stop::Failed`] naming the step that did not happen; [`Stop::Closed`]
/// when stdout went away.
pub fn run(args: &Args, out: &Out, stop: &AtomicBool) -> Result<(), Stop> {
    let started = StdInstant::now();
    // An operator's bootstrap may hold off first (Verizon: 10 s).
    let limit = if args.carrier == CarrierArg::Generic { DEADLINE } else { DEADLINE * 2 };
    let deadline = (!args.forever).then(|| started + limit);
    let dir = crate::state_dir(args);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (bs_port, dm_port) = last_ports(&dir);

    let profile = crate::device_profile(args);
    let endpoint = format!("urn:imei:{}", profile.imei);

    // The DM server, behind DTLS-PSK: the bootstrap writes its key into the device.
    let transport = bind_dtls(dm_port, endpoint.as_bytes(), DM_PSK)?;
    let addr = transport.local_addr().map_err(|e| format!("server socket: {e}"))?;
    let uri = format!("coaps://{addr}");
    let server = lwm2m_server::spawn(transport, ServerConfig::default())
        .map_err(|e| format!("server: {e}"))?;
    out.line(Who::Server, format!("device management on {uri} (DTLS-PSK, identity {endpoint})"))?;

    // The Bootstrap-Server, behind DTLS-PSK, its key in the device's security tag.
    let identity = args.psk_identity.clone().unwrap_or_else(|| endpoint.clone());
    let key = args.psk.as_ref().map_or(BS_PSK.to_vec(), |p| p.0.clone());
    let bs_transport = bind_dtls(bs_port, identity.as_bytes(), &key)?;
    let bs_addr = bs_transport.local_addr().map_err(|e| format!("bootstrap socket: {e}"))?;
    let bs_uri = format!("coaps://{bs_addr}");
    // The Bootstrap-Server acts out the operator's own plan (SSID, lifetime,
    // binding, extra writes such as Verizon's admin APN), with the DM PSK.
    let mut plan = plan_for(args.carrier.operator(), &uri, Some((endpoint.as_bytes(), DM_PSK)));
    for account in &mut plan.accounts {
        account.lifetime_s = args.lifetime.unwrap_or(match args.carrier {
            CarrierArg::Generic => 300,
            _ => account.lifetime_s,
        });
    }
    let bs = lwm2m_server::spawn(
        bs_transport,
        ServerConfig { default_plan: Some(plan), ..Default::default() },
    )
    .map_err(|e| format!("bootstrap server: {e}"))?;
    out.line(Who::Server, format!("bootstrap on {bs_uri} (DTLS-PSK, identity {identity})"))?;

    if dm_port != 0 && addr.port() != dm_port {
        // The stored DM account names a port this run could not have.
        let _ = std::fs::remove_dir_all(dir.join("storage"));
        out.line(Who::Sample, format!("port {dm_port} of the last run is taken: the device's storage is cleared (factory reset)"))?;
    }
    std::fs::write(
        dir.join("servers.txt"),
        format!("bootstrap {}\ndm {}\n", bs_addr.port(), addr.port()),
    )
    .map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::provision_key(&dir, BS_SEC_TAG, identity.as_bytes(), &key)?;
    out.line(Who::Device, format!("state in {}", dir.display()))?;
    if args.carrier != CarrierArg::Generic {
        out.line(
            Who::Device,
            format!(
                "SIM of {} (IMSI {}); the embedded Bootstrap-Server acts out that operator's plan",
                args.carrier.carrier().name(),
                profile.imsi.as_deref().unwrap_or("-")
            ),
        )?;
    }

    let setup = Setup {
        dir: dir.clone(),
        profile,
        server_uri: bs_uri,
        bootstrap: true,
        sec_tag: Some(BS_SEC_TAG),
        lifetime_s: None,
        carriers: CarrierSet::only(args.carrier.carrier()),
        seed: std::process::id() | 1,
        deadline,
    };
    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>();
    let (rep_tx, rep_rx) = mpsc::channel::<Report>();
    let result = std::thread::scope(|scope| {
        let setup = &setup;
        let device = scope.spawn(move || device::run(setup, &cmd_rx, &rep_tx, stop));
        let scene = Scene {
            out,
            server: &server,
            bs: &bs,
            rep: &rep_rx,
            cmd: &cmd_tx,
            started,
            deadline,
            dir: &dir,
        };
        let result = scene.play(args.forever);
        drop(cmd_tx);
        let device_result = device.join().map_err(|_| Stop::from("the device thread panicked"))?;
        result.and(device_result.map_err(Stop::Failed))
    });
    server.stop();
    bs.stop();
    result
}

/// The servers' and the application's side of the run.
struct Scene<'a> {
    out: &'a Out,
    server: &'a ServerHandle,
    bs: &'a ServerHandle,
    rep: &'a mpsc::Receiver<Report>,
    cmd: &'a mpsc::Sender<Command>,
    started: StdInstant,
    deadline: Option<StdInstant>,
    dir: &'a FsPath,
}

impl Scene<'_> {
    /// Time left before the deadline (a minute at a time with `--forever`).
    fn left(&self) -> StdDuration {
        match self.deadline {
            Some(d) => d.saturating_duration_since(StdInstant::now()),
            None => StdDuration::from_secs(60),
        }
    }

    fn late(&self) -> bool {
        self.left() == StdDuration::ZERO
    }

    /// Prints what both servers saw so far.
    fn servers(&self) -> Result<(), Stop> {
        while let Some(ev) = self.bs.next_event(StdDuration::ZERO) {
            self.out.line(Who::Server, ev)?;
        }
        while let Some(ev) = self.server.next_event(StdDuration::ZERO) {
            self.out.line(Who::Server, ev)?;
        }
        Ok(())
    }

    /// Prints everything until the device reports what `want` picks.
    fn until(&self, what: &str, want: impl Fn(&Report) -> bool) -> Result<(), Stop> {
        loop {
            self.servers()?;
            match self.rep.recv_timeout(StdDuration::from_millis(50)) {
                Ok(r) if want(&r) => return self.device_line(&r),
                Ok(r) => self.device_line(&r)?,
                Err(mpsc::RecvTimeoutError::Timeout) if !self.late() => {}
                Err(_) => return Err(format!("the device did not report {what} in time").into()),
            }
        }
    }

    /// Prints the device's lines that arrive within `wait`.
    fn drain(&self, wait: StdDuration) -> Result<(), Stop> {
        while let Ok(r) = self.rep.recv_timeout(wait) {
            self.device_line(&r)?;
        }
        self.servers()
    }

    fn device_line(&self, r: &Report) -> Result<(), Stop> {
        match r {
            Report::Event(line) => self.out.line(Who::Device, line),
            Report::Registered => self.out.line(Who::Device, "REGISTERED"),
            Report::Rebooting => self.out.line(Who::Device, "restarting from its storage"),
            Report::FotaSuccess => self.out.line(Who::Device, "FOTA_SUCCESS"),
            Report::Deregistered => self.out.line(Who::Device, "DEREGISTERED"),
            Report::Stopped(why) => self.out.line(Who::Device, why),
        }
    }

    fn request(
        &self,
        ep: &str,
        what: &str,
        request: Request,
    ) -> Result<lwm2m_server::Response, Stop> {
        self.server
            .request(ep, request, self.left())
            .map_err(|e| Stop::Failed(format!("{what}: {e}")))
    }

    fn play(&self, forever: bool) -> Result<(), Stop> {
        let out = self.out;
        // 1. Until the device says REGISTERED, print both sides.
        self.until("REGISTERED", |r| matches!(r, Report::Registered))?;
        std::thread::sleep(StdDuration::from_millis(50));
        self.servers()?;
        let reg = self
            .server
            .registrations()
            .into_iter()
            .next()
            .ok_or("no registration on the server")?;
        let ep = reg.endpoint;

        // 2. Read /3/0.
        let device_path = Path::instance(3, 0).map_err(|e| format!("{e:?}"))?;
        let r = self.request(
            &ep,
            "read /3/0",
            Request::Read { path: device_path, format: Some(ContentFormat::SenmlJson) },
        )?;
        out.line(Who::Server, format!("READ /3/0 -> {r}"))?;
        for (p, v) in r.values(&device_path) {
            out.line(Who::Server, format!("  {p:<12} = {v}"))?;
        }

        // 3. Observe the battery level while the application changes it.
        let battery = Path::resource(3, 0, 9).map_err(|e| format!("{e:?}"))?;
        let r = self.request(
            &ep,
            "observe /3/0/9",
            Request::Observe { path: battery, format: Some(ContentFormat::TextPlain) },
        )?;
        let first = r.values(&battery).into_iter().next().map(|(_, v)| v).unwrap_or_default();
        out.line(
            Who::Server,
            format!("OBSERVE /3/0/9 -> {r}, battery {} %", first.trim_matches('"')),
        )?;
        for level in [80u8, 65, 50] {
            out.line(Who::App, format!("battery level set to {level} %"))?;
            self.cmd.send(Command::Battery(level)).map_err(|_| "device gone")?;
            let seen = self.server.wait_for(self.left(), |ev| match ev {
                ServerEvent::Notification { path, response, .. } if *path == battery => {
                    let v = response.values(path).into_iter().next().map(|(_, v)| v)?;
                    Some(v.trim_matches('"').to_string())
                }
                _ => None,
            });
            let Some(seen) = seen else {
                return Err(format!("no notification for battery level {level}").into());
            };
            out.line(Who::Server, format!("NOTIFY /3/0/9 battery {seen} %"))?;
            if seen != level.to_string() {
                return Err(format!("notified {seen}, expected {level}").into());
            }
        }
        self.drain(StdDuration::from_millis(100))?;
        self.request(&ep, "cancel observe /3/0/9", Request::CancelObserve { path: battery })?;
        out.line(Who::Server, "forgets the observation of /3/0/9 (a later notification gets RST)")?;

        // 4. Firmware update pushed block-wise, then executed.
        self.push_firmware(&ep)?;
        let state = Path::resource(5, 0, 3).map_err(|e| format!("{e:?}"))?;
        let r = self.request(
            &ep,
            "read /5/0/3",
            Request::Read { path: state, format: Some(ContentFormat::TextPlain) },
        )?;
        let value = String::from_utf8_lossy(&r.payload).into_owned();
        out.line(Who::Server, format!("READ /5/0/3 (State) -> {r}: {value} (2 = Downloaded)"))?;
        if value != "2" {
            return Err(format!("firmware state {value}, expected 2 (Downloaded)").into());
        }
        let update = Path::resource(5, 0, 2).map_err(|e| format!("{e:?}"))?;
        let r =
            self.request(&ep, "execute /5/0/2", Request::Execute { path: update, args: vec![] })?;
        out.line(Who::Server, format!("EXECUTE /5/0/2 (Update) -> {r}"))?;

        // 5. Reboot into the image: the device restarts from its storage and registers again.
        self.until("REBOOT", |r| matches!(r, Report::Rebooting))?;
        self.until("REGISTERED after the reboot", |r| matches!(r, Report::Registered))?;
        self.drain(StdDuration::from_millis(200))?;
        let result = Path::resource(5, 0, 5).map_err(|e| format!("{e:?}"))?;
        match self.server.request(
            &ep,
            Request::Read { path: result, format: Some(ContentFormat::TextPlain) },
            self.left(),
        ) {
            Ok(r) => out.line(
                Who::Server,
                format!(
                    "READ /5/0/5 (Update Result) -> {r}: {} (1 = success)",
                    String::from_utf8_lossy(&r.payload)
                ),
            )?,
            Err(e) => out.line(Who::Server, format!("READ /5/0/5 (Update Result): {e}"))?,
        }

        // 6. Stay (--forever) or leave.
        if forever {
            out.line(Who::Sample, "registered; press Ctrl-C to de-register and quit")?;
            // The device de-registers by itself once Ctrl-C sets `stop`.
        } else {
            out.line(Who::App, "de-register")?;
            self.cmd.send(Command::Deregister).map_err(|_| "device gone")?;
        }
        let stopped = std::cell::Cell::new(false);
        self.until("DEREGISTERED", |r| {
            stopped.set(matches!(r, Report::Stopped(_)));
            matches!(r, Report::Deregistered | Report::Stopped(_))
        })?;
        if stopped.get() {
            return out.done(&format!("done in {:.1} s", self.started.elapsed().as_secs_f32()));
        }
        if let Some(ev) = self.server.wait_for(StdDuration::from_secs(2), |ev| {
            matches!(ev, ServerEvent::Deregistered { .. }).then(|| ev.clone())
        }) {
            out.line(Who::Server, ev)?;
        }
        out.done(&format!("done in {:.1} s", self.started.elapsed().as_secs_f32()))
    }

    /// Pushes the image in a second thread while drawing how much of it
    /// reached the device's DFU area (`<state>/dfu/image.bin`).
    fn push_firmware(&self, ep: &str) -> Result<(), Stop> {
        let out = self.out;
        let image = carrier_os_std::dfu::test_app_image(IMAGE_LEN);
        out.line(
            Who::Server,
            format!(
                "WRITE /5/0/0: pushing a {} B application image in {BLOCK} B blocks",
                image.len()
            ),
        )?;
        let package = Path::resource(5, 0, 0).map_err(|e| format!("{e:?}"))?;
        let total = image.len();
        let request = Request::WriteBlockwise {
            path: package,
            format: ContentFormat::OctetStream,
            payload: image,
            block_size: BLOCK,
        };
        let dfu_file = self.dir.join("dfu").join("image.bin");
        let pushed = AtomicBool::new(false);
        let r = std::thread::scope(|scope| {
            let watcher = scope.spawn(|| -> Result<(), Stop> {
                let mut shown = 0;
                while !pushed.load(Ordering::Relaxed) {
                    let now = std::fs::metadata(&dfu_file)
                        .map_or(0, |m| usize::try_from(m.len()).unwrap_or(0));
                    if now != shown && now < total {
                        shown = now;
                        out.progress(now, total, BLOCK)?;
                    }
                    std::thread::sleep(StdDuration::from_millis(20));
                }
                Ok(())
            });
            let r = self.server.request(ep, request, self.left());
            pushed.store(true, Ordering::Relaxed);
            watcher.join().map_err(|_| Stop::from("the progress thread panicked"))??;
            Ok::<_, Stop>(r)
        })?
        .map_err(|e| format!("firmware push: {e}"))?;
        out.progress(total, total, BLOCK)?;
        out.line(Who::Server, format!("WRITE /5/0/0 -> {r} ({} blocks)", total.div_ceil(BLOCK)))
    }
}
