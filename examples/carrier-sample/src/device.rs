//! The device: the carrier runtime with the LwM2M session on the std port
//! (`carrier_os_std::real::RealPort`: real UDP/DTLS sockets, a simulated
//! modem and SIM, storage in a directory), run on its own thread.
//!
//! It follows the application-integration rules the original's sample
//! follows (app-integration.txt "Events"): the LTE link goes down and up
//! when the library asks, and on `REBOOT` the device restarts — a new
//! runtime over the same storage and DFU directory, as after a real reset —
//! so a stored registration is used without bootstrap and an applied image
//! is validated by the library.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant as StdInstant;

use carrier_os::modem::{LinkRequest, Modem};
use carrier_os::time::{Clock, Duration};
use carrier_os::wait::Wait;
use carrier_os_std::profile::DeviceProfile;
use carrier_os_std::real::RealPort;
use lwm2m_carrier::api::{ModemInitResult, Request as AppRequest};
use lwm2m_carrier::config::{CarrierSet, ConfigBuilder, LgUplusOptions};
use lwm2m_carrier::session::lwm2m::Lwm2mSession;
use lwm2m_carrier::{Event, Phase, Runtime};
use lwm2m_core::rng::XorShiftRng;
use lwm2m_objects::StaticDeviceInfo;

/// Restarts one run may do (REBOOT events) before the sample calls it a loop.
const MAX_BOOTS: u32 = 4;

/// What the device is and where it connects.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Storage, DFU area and `keys.toml` (the modem's security tags).
    pub dir: PathBuf,
    /// The simulated modem and SIM.
    pub profile: DeviceProfile,
    /// The server URI of the configuration (`coap://` or `coaps://`).
    pub server_uri: String,
    /// Whether `server_uri` is a Bootstrap-Server.
    pub bootstrap: bool,
    /// Security tag with the PSK for `server_uri` (`coaps://` only).
    pub sec_tag: Option<u32>,
    /// Registration lifetime (ignored by the library with a bootstrap server).
    pub lifetime_s: Option<u32>,
    /// Operators the library may detect.
    pub carriers: CarrierSet,
    /// Seed of the session's tokens and message IDs.
    pub seed: u32,
    /// Give up at this time (None: run until told to stop).
    pub deadline: Option<StdInstant>,
}

/// What the application asks of the device thread.
#[derive(Debug)]
pub enum Command {
    /// Set the battery level (%).
    Battery(u8),
    /// De-register and stop.
    Deregister,
}

/// What the device thread reports.
#[derive(Debug)]
pub enum Report {
    /// A line for the log.
    Event(String),
    /// LWM2M_CARRIER_EVENT_REGISTERED.
    Registered,
    /// The device restarts (after REBOOT).
    Rebooting,
    /// LWM2M_CARRIER_EVENT_FOTA_SUCCESS.
    FotaSuccess,
    /// LWM2M_CARRIER_EVENT_DEREGISTERED: the thread ends.
    Deregistered,
    /// The device stopped without de-registering (why): the thread ends.
    Stopped(String),
}

/// The original's event name (`LWM2M_CARRIER_EVENT_<NAME>`) and its details.
fn describe(e: &Event<'_>) -> String {
    match e {
        Event::LteLinkUp => "LTE_LINK_UP".into(),
        Event::LteLinkDown => "LTE_LINK_DOWN".into(),
        Event::LtePowerOff => "LTE_POWER_OFF".into(),
        Event::Bootstrapped => "BOOTSTRAPPED".into(),
        Event::Registered => "REGISTERED".into(),
        Event::Deregistered => "DEREGISTERED".into(),
        Event::FotaStart { .. } => "FOTA_START (firmware update begins)".into(),
        Event::FotaSuccess => "FOTA_SUCCESS".into(),
        Event::Reboot => "REBOOT".into(),
        other => format!("{} {other}", other.name_upper()),
    }
}

/// `Event` names in the original's upper-case style.
trait UpperName {
    fn name_upper(&self) -> String;
}

impl UpperName for Event<'_> {
    fn name_upper(&self) -> String {
        match self {
            Event::Deferred { .. } => "DEFERRED",
            Event::ModemDomain(_) => "MODEM_DOMAIN",
            Event::AppData { .. } => "APP_DATA",
            Event::ModemInit => "MODEM_INIT",
            Event::ModemShutdown => "MODEM_SHUTDOWN",
            Event::ErrorCodeReset => "ERROR_CODE_RESET",
            Event::Error { .. } => "ERROR",
            _ => "EVENT",
        }
        .into()
    }
}

/// Asks the library to de-register. Operators whose library refuses the
/// request (EPERM: only generic and SoftBank allow it, carrier-api.md §5)
/// keep their registration: the device then just stops, and that is
/// reported as [`Report::Stopped`]. Returns whether the device stopped.
fn leave<S: lwm2m_carrier::Session>(
    rt: &mut Runtime<'_, S>,
    port: &RealPort,
    rep: &mpsc::Sender<Report>,
) -> bool {
    match rt.request(port.now(), AppRequest::Deregister) {
        Ok(()) => false,
        Err(e) => {
            let _ = rep.send(Report::Stopped(format!(
                "the library refuses to de-register for this operator ({e:?}): the device stops, still registered"
            )));
            true
        }
    }
}

/// Runs the device until it de-registers, the commands channel closes,
/// `stop` is set (then it de-registers first) or the deadline passes.
///
/// # Errors
/// A line saying what went wrong (port, configuration, time).
pub fn run(
    setup: &Setup,
    cmd: &mpsc::Receiver<Command>,
    rep: &mpsc::Sender<Report>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let say = |s: String| {
        let _ = rep.send(Report::Event(s));
    };
    let profile = &setup.profile;
    // The Device object's modem-owned resources, from the simulated modem
    // (leaked once: the session wants 'static strings).
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let info = StaticDeviceInfo {
        manufacturer: leak(&profile.manufacturer),
        model_number: leak(&profile.model),
        serial_number: leak(&profile.imei),
        firmware_version: leak(&profile.firmware_version),
        hardware_version: leak(&profile.hardware_version),
        ..StaticDeviceInfo::default()
    };
    let mut builder = ConfigBuilder::new()
        .carriers(setup.carriers)
        .server_uri(&setup.server_uri)
        .bootstrap_server(setup.bootstrap)
        // LG U+ needs a service code (carrier-api.md §1); ignored elsewhere.
        .lg_uplus(LgUplusOptions { service_code: "LGU01", ..LgUplusOptions::default() });
    if let Some(tag) = setup.sec_tag {
        builder = builder.server_sec_tag(tag);
    }
    if let Some(s) = setup.lifetime_s {
        builder = builder.server_lifetime_s(i32::try_from(s).unwrap_or(i32::MAX));
    }
    let config = builder.build();
    let mut battery_ready = false;
    let mut leaving = false;
    for boot in 0..MAX_BOOTS {
        let mut port =
            RealPort::open(&setup.dir, profile.clone()).map_err(|e| format!("device port: {e}"))?;
        let seed = setup.seed.wrapping_add(boot.wrapping_mul(0x9e37_79b9)) | 1;
        let session = Lwm2mSession::with_info(XorShiftRng::new(seed), info.clone());
        let mut rt = Runtime::new(config, session);
        rt.on_modem_init(Ok(ModemInitResult::Success));
        port.request_link(LinkRequest::Up).map_err(|e| format!("link: {e:?}"))?;
        let mut reboot = false;
        let mut register_asked = false;
        loop {
            if setup.deadline.is_some_and(|d| StdInstant::now() >= d) {
                return Err("the device ran out of time".into());
            }
            let next = rt.poll(&mut port);
            if rt.phase() == Phase::WaitRegisterRequest && !leaving && !register_asked {
                // Auto-register off (SoftBank): the application asks.
                register_asked = true;
                say("auto-register is off for this operator: the application requests REGISTER"
                    .into());
                rt.request(port.now(), AppRequest::Register).map_err(|e| format!("{e:?}"))?;
                continue;
            }
            while let Some(e) = rt.poll_event() {
                match e {
                    Event::LteLinkDown => {
                        say("LTE_LINK_DOWN (the library writes keys with the link down)".into());
                        let _ = port.request_link(LinkRequest::Down);
                    }
                    Event::LteLinkUp => {
                        say("LTE_LINK_UP".into());
                        let _ = port.request_link(LinkRequest::Up);
                    }
                    Event::Registered => {
                        let _ = rep.send(Report::Registered);
                    }
                    Event::FotaSuccess => {
                        let _ = rep.send(Report::FotaSuccess);
                    }
                    Event::Reboot => {
                        say("REBOOT (the device restarts: new runtime, same storage)".into());
                        reboot = true;
                    }
                    Event::Deregistered => {
                        let _ = rep.send(Report::Deregistered);
                        return Ok(());
                    }
                    other => say(describe(&other)),
                }
            }
            if reboot {
                let _ = rep.send(Report::Rebooting);
                break;
            }
            if stop.load(Ordering::Relaxed) && !leaving {
                leaving = true;
                if leave(&mut rt, &port, rep) {
                    return Ok(());
                }
                continue;
            }
            match cmd.try_recv() {
                Ok(Command::Battery(level)) => {
                    if !battery_ready {
                        // DC and an internal battery (/3/0/6), so /3/0/9 applies.
                        rt.api().set_power_sources(&[0, 1]).map_err(|e| format!("{e:?}"))?;
                        battery_ready = true;
                    }
                    rt.api().set_battery_level(level).map_err(|e| format!("battery: {e:?}"))?;
                    continue;
                }
                Ok(Command::Deregister) => {
                    leaving = true;
                    if leave(&mut rt, &port, rep) {
                        return Ok(());
                    }
                    continue;
                }
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => return Ok(()),
            }
            let cap = port.now().checked_add(Duration::from_millis(20));
            let until = match (next, cap) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            port.wait_until(until);
        }
    }
    Err(format!("the device rebooted {MAX_BOOTS} times in one run"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_the_original_names() {
        assert_eq!(describe(&Event::Bootstrapped), "BOOTSTRAPPED");
        assert_eq!(describe(&Event::FotaSuccess), "FOTA_SUCCESS");
        assert_eq!(describe(&Event::ModemInit), "MODEM_INIT Modem init");
    }
}
