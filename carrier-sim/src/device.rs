//! One simulated device: a [`SimPort`] (modelled modem, network, DTLS,
//! storage that survives power cuts), the carrier runtime with the LwM2M
//! session on it, and the application around them as
//! `app-integration.txt` describes it: it follows LTE_LINK_UP/DOWN and
//! LTE_POWER_OFF, reboots on REBOOT (a power cut keeping the NVM), and sets
//! values through the application API.
//!
//! Guarantee: the driving code never panics on what the runtime does; an
//! event it does not know is logged and otherwise ignored.

use std::net::IpAddr;

use carrier_os::modem::{LinkRequest, Modem, Psk, SecTag};
use carrier_os::time::{Duration, Instant};
use carrier_os_std::modem::Faults;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::sim::{DeviceNvm, SimPort, World};
use lwm2m_carrier::api::ModemInitResult;
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Config, Event, Runtime};
use lwm2m_core::rng::XorShiftRng;
use serde::{Serialize, Serializer};

use crate::wire::UpDown;

/// The security tag the bootstrap (or DM) PSK is provisioned into.
pub const SEC_TAG: u32 = 7;
/// The PSK every simulated device holds in [`SEC_TAG`].
pub const PSK: &[u8] = b"sim-bootstrap-key";
/// How long a device stays off after a power cut or a reboot.
pub const REBOOT_DELAY: Duration = Duration::from_secs(2);

/// Something that happened to a device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeviceEvent {
    /// Power on (first boot, or after a power cut).
    Boot,
    /// Power cut (RAM lost, NVM kept).
    PowerCut,
    /// An event of the carrier runtime (borrowed data dropped: a FOTA_START
    /// URI and App Data bytes are not kept).
    Carrier(Event<'static>),
}

impl Serialize for DeviceEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DeviceEvent::Carrier(e) => s.collect_str(&format_args!("{e:?}")),
            other => s.collect_str(&format_args!("{other:?}")),
        }
    }
}

/// Copies what an event says, without its borrowed data.
fn owned(e: &Event<'_>) -> Option<Event<'static>> {
    Some(match *e {
        Event::LteLinkUp => Event::LteLinkUp,
        Event::LteLinkDown => Event::LteLinkDown,
        Event::LtePowerOff => Event::LtePowerOff,
        Event::Bootstrapped => Event::Bootstrapped,
        Event::Registered => Event::Registered,
        Event::Deregistered => Event::Deregistered,
        Event::Deferred { reason, timeout } => Event::Deferred { reason, timeout },
        Event::FotaStart { .. } => Event::FotaStart { uri: None },
        Event::FotaSuccess => Event::FotaSuccess,
        Event::Reboot => Event::Reboot,
        Event::ModemDomain(d) => Event::ModemDomain(d),
        Event::ModemInit => Event::ModemInit,
        Event::ModemShutdown => Event::ModemShutdown,
        Event::ErrorCodeReset => Event::ErrorCodeReset,
        Event::Error { kind, value } => Event::Error { kind, value },
        _ => return None,
    })
}

type Rt = Runtime<'static, Lwm2mSession<XorShiftRng>>;

/// A device in the fleet (module doc).
pub(crate) struct Device {
    pub(crate) id: u32,
    pub(crate) ip: IpAddr,
    seed: u64,
    config: Config<'static>,
    /// Powered: the port and the runtime on it.
    on: Option<(SimPort, Rt)>,
    /// Off: what survives, and when it powers on.
    off: Option<(DeviceNvm, Instant)>,
    pub(crate) events: Vec<(u64, DeviceEvent)>,
    /// When the driver must poll it next.
    pub(crate) wake: Instant,
    /// Faults injected at the next boot.
    pub(crate) faults: Faults,
    /// Wire traffic at the first REGISTERED, counted from power-on.
    pub(crate) to_registered: Option<UpDown>,
    pub(crate) first_registered: Option<u64>,
    pub(crate) registered: bool,
    /// Wire traffic from each power-on to the first REGISTERED after it.
    pub(crate) boot_to_registered: Vec<UpDown>,
    /// Traffic at the last power-on, and whether it registered since.
    boot_traffic: Option<UpDown>,
    /// Battery level the application reports next (changes trigger notifications).
    pub(crate) battery: Option<u8>,
    /// The application set its platform values since the last boot.
    app_ready: bool,
}

impl Device {
    pub(crate) fn new(id: u32, seed: u64, config: Config<'static>, boot_at: Instant) -> Self {
        let profile = DeviceProfile::generic(id);
        let ip =
            profile.network.ipv4.map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), IpAddr::V4);
        Device {
            id,
            ip,
            seed,
            config,
            on: None,
            off: Some((DeviceNvm::default(), boot_at)),
            events: Vec::new(),
            wake: boot_at,
            faults: Faults::default(),
            to_registered: None,
            first_registered: None,
            registered: false,
            battery: None,
            boot_to_registered: Vec::new(),
            boot_traffic: None,
            app_ready: false,
        }
    }

    /// Cuts the power now and powers on again after `off_for` with `config`.
    pub(crate) fn power_cut(&mut self, now: Instant, off_for: Duration, config: Config<'static>) {
        self.config = config;
        if let Some((port, rt)) = self.on.take() {
            drop(rt);
            let nvm = port.power_cut();
            self.off = Some((nvm, now + off_for));
            self.events.push((now.as_millis(), DeviceEvent::PowerCut));
            self.registered = false;
        }
        self.wake = now + off_for;
    }

    fn boot(&mut self, world: &World, nvm: DeviceNvm) {
        let mut port = SimPort::boot(world, self.id, DeviceProfile::generic(self.id), nvm);
        *port.faults_mut() = core::mem::take(&mut self.faults);
        // The application provisioned the PSK at the factory, into the
        // configured tag and the next one (a changed-options reboot uses it).
        for tag in [SEC_TAG, SEC_TAG + 1] {
            if !port.psk_exists(SecTag(tag)).unwrap_or(false)
                && let Some(psk) = Psk::new(PSK)
            {
                let identity = format!("urn:imei:{}", DeviceProfile::generic(self.id).imei);
                let _ = port.psk_store(SecTag(tag), Some(identity.as_bytes()), &psk);
            }
        }
        let _ = port.request_link(LinkRequest::Up);
        let rng = XorShiftRng::new((self.seed as u32) ^ self.id.wrapping_mul(0x9E37_79B9) ^ 1);
        let mut rt = Runtime::new(self.config, Lwm2mSession::new(rng));
        rt.on_modem_init(Ok(ModemInitResult::Success));
        self.events.push((world.now().as_millis(), DeviceEvent::Boot));
        self.app_ready = false;
        self.on = Some((port, rt));
    }

    /// Runs the device at `now` until it has nothing more to do; sets
    /// [`Device::wake`]. `traffic` is the device's wire traffic so far.
    pub(crate) fn step(&mut self, world: &World, now: Instant, traffic: UpDown) {
        if let Some((_, at)) = &self.off {
            if now < *at {
                self.wake = *at;
                return;
            }
            if let Some((nvm, _)) = self.off.take() {
                self.boot(world, nvm);
                self.boot_traffic = Some(traffic);
            }
        }
        let Some((port, rt)) = self.on.as_mut() else { return };
        if let Some(b) = self.battery.take() {
            let _ = rt.api().set_battery_level(b);
        }
        let mut reboot = false;
        if !self.app_ready {
            // The application's platform values, once the objects exist:
            // DC power and an internal battery at 60 %.
            let _ = rt.poll(port);
            self.app_ready = rt.api().set_power_sources(&[0, 1]).is_ok()
                && rt.api().set_battery_level(60).is_ok();
        }
        // Bounded: a runtime that keeps asking for an immediate poll is
        // polled again one millisecond later.
        for _ in 0..64 {
            let next = rt.poll(port);
            let mut any = false;
            while let Some(e) = rt.poll_event() {
                any = true;
                let Some(e) = owned(&e) else { continue };
                self.events.push((now.as_millis(), DeviceEvent::Carrier(e)));
                match e {
                    Event::LteLinkDown => {
                        let _ = port.request_link(LinkRequest::Down);
                    }
                    Event::LteLinkUp => {
                        let _ = port.request_link(LinkRequest::Up);
                    }
                    Event::LtePowerOff => {
                        let _ = port.request_link(LinkRequest::PowerOff);
                    }
                    Event::Registered => {
                        self.registered = true;
                        if let Some(at_boot) = self.boot_traffic.take() {
                            self.boot_to_registered.push(traffic - at_boot);
                        }
                        if self.first_registered.is_none() {
                            self.first_registered = Some(now.as_millis());
                            self.to_registered = Some(traffic);
                        }
                    }
                    Event::Deregistered | Event::Deferred { .. } => self.registered = false,
                    Event::Reboot => reboot = true,
                    _ => {}
                }
            }
            if reboot {
                break;
            }
            if !any && !port.io_ready() {
                let own = port.next_internal_event();
                self.wake = [next, own].into_iter().flatten().min().unwrap_or(Instant::MAX);
                if self.wake <= now {
                    self.wake = now + Duration::from_millis(1);
                }
                return;
            }
        }
        if reboot {
            let config = self.config;
            return self.power_cut(now, REBOOT_DELAY, config);
        }
        self.wake = now + Duration::from_millis(1);
    }
}
