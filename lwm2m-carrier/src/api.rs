//! The application API: the setters and reads of `carrier-api.md` §4.2–§4.6
//! (Device, time, Location, Portfolio, app data, event log) and the hooks
//! of §4.1 / §1.2 through which the port reports the modem's state.
//!
//! [`AppApi`] holds the object store once the carrier is known; before that
//! (or for an object the carrier does not use) every setter answers
//! [`Errno::NoEnt`], "not initialised", as the original does. Each setter
//! checks its input in the spec's order and returns exactly the spec's errno;
//! a successful change goes through the object store, which marks the
//! resources changed for observers.
//!
//! Inputs are the original's raw numbers (`u8` power source, status, error
//! code) so that a value the enum cannot hold still gets its `-EINVAL`.

use heapless::String;
use lwm2m_objects::ObjectError;
use lwm2m_objects::ObjectStore;
use lwm2m_objects::objects::PowerSource;

use crate::config::Carrier;
use crate::errno::Errno;
use carrier_os::time::Instant;

/// Most power sources `avail_power_sources_set` accepts (the spec's cap is
/// **unconfirmed**; 8 is the value it suggests).
pub const MAX_POWER_SOURCES: usize = 8;
/// Longest Device string (`/3/0/0`, `/3/0/1`, `/3/0/17`, `/3/0/18`, app part of `/3/0/19`).
pub const DEVICE_STRING_MAX: usize = 32;
/// Longest IANA time-zone name kept for `/3/0/15`.
pub const TIMEZONE_MAX: usize = 48;
/// Portfolio identity types `/16/x/0/y`: ID 0 … SW_VERSION 3.
pub const PORTFOLIO_IDENTITY_TYPES: u16 = 4;
/// The Portfolio instance of the Primary Host, which the application may not write
/// (**unconfirmed** which id; instance 0 chosen).
pub const PORTFOLIO_PRIMARY_HOST: u16 = 0;

/// The object a change went to, for the "not initialised" rule.
const OBJ_APP_DATA: u16 = 19;
const OBJ_EVENT_LOG: u16 = 20;
const OBJ_LOCATION: u16 = 6;
const OBJ_PORTFOLIO: u16 = 16;
/// App Data Container (LG U+).
const OBJ_APP_DATA_CONTAINER: u16 = 10_250;
/// Bytes kept for `/10250/0/1` (LG U+ uplink data).
pub const APP_DATA_CONTAINER_LEN: usize = 256;

/// `on_modem_init` result (`carrier-api.md` §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ModemInitResult {
    /// 0 — initialised.
    Success,
    /// 1 — initialised, and a modem firmware update was applied.
    Updated,
    /// 2 — initialised, and applying a modem firmware update failed.
    UpdateFailed,
}

impl ModemInitResult {
    /// The glue's mapping (§1.2): a modem-DFU result recorded earlier in this
    /// boot wins (`Some(true)` → UPDATED, `Some(false)` → UPDATE_FAILED);
    /// otherwise success → SUCCESS and any failure → `Err(EIO)`.
    pub fn from_modem_lib(init_ok: bool, recorded_dfu: Option<bool>) -> Result<Self, Errno> {
        match recorded_dfu {
            Some(true) => Ok(ModemInitResult::Updated),
            Some(false) => Ok(ModemInitResult::UpdateFailed),
            None if init_ok => Ok(ModemInitResult::Success),
            None => Err(Errno::Io),
        }
    }
    /// The C value.
    pub const fn number(self) -> u32 {
        self as u32
    }
}

/// `on_modem_cfun` mode (`carrier-api.md` §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CfunMode {
    /// 0 — radio powered off.
    PowerOff,
    /// 1 — LTE activated.
    LteActivated,
    /// 2 — LTE deactivated.
    LteDeactivated,
}

impl CfunMode {
    /// The glue's mapping of an `AT+CFUN` mode (§1.2): 1 and 21 → LTE_ACTIVATED;
    /// 2, 4, 20 and 44 → LTE_DEACTIVATED; everything else → POWER_OFF.
    pub const fn from_at_cfun(mode: i32) -> Self {
        match mode {
            1 | 21 => CfunMode::LteActivated,
            2 | 4 | 20 | 44 => CfunMode::LteDeactivated,
            _ => CfunMode::PowerOff,
        }
    }
    /// The C value.
    pub const fn number(self) -> u32 {
        match self {
            CfunMode::PowerOff => 0,
            CfunMode::LteActivated => 1,
            CfunMode::LteDeactivated => 2,
        }
    }
}

/// `lwm2m_carrier_request` kinds (`carrier-api.md` §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Request {
    /// 0 — ask for a system reboot.
    Reboot,
    /// 1 — the application is going online; answered with LTE_LINK_UP.
    LinkUp,
    /// 2 — the application is going offline; answered with LTE_LINK_DOWN.
    LinkDown,
    /// 3 — register (or update) with every server; generic and SoftBank only.
    Register,
    /// 4 — de-register; generic and SoftBank only.
    Deregister,
}

impl Request {
    /// From the C value; an unknown value is `-EINVAL`.
    pub const fn from_raw(raw: u32) -> Result<Self, Errno> {
        Ok(match raw {
            0 => Request::Reboot,
            1 => Request::LinkUp,
            2 => Request::LinkDown,
            3 => Request::Register,
            4 => Request::Deregister,
            _ => return Err(Errno::Inval),
        })
    }
}

/// `/3/0/13`–`/3/0/15`: the device's notion of time (§4.2). The default
/// implementation of the original reads the modem clock; here the runtime
/// feeds the network time in and the application may overwrite it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceTime {
    /// `(unix seconds, at this instant)`.
    base: Option<(i64, Instant)>,
    utc_offset_min: i32,
    timezone: String<TIMEZONE_MAX>,
}

impl DeviceTime {
    /// The UTC time at `now` (seconds since the epoch; 0 when never set).
    pub fn utc_time(&self, now: Instant) -> i64 {
        match self.base {
            Some((unix, at)) => {
                let elapsed = now.saturating_since(at).as_secs();
                unix.saturating_add(i64::try_from(elapsed).unwrap_or(i64::MAX))
            }
            None => 0,
        }
    }
    /// The UTC offset in minutes.
    pub fn utc_offset_min(&self) -> i32 {
        self.utc_offset_min
    }
    /// The IANA time zone.
    pub fn timezone(&self) -> &str {
        &self.timezone
    }
}

/// The application API over the object store of the running carrier.
#[derive(Debug, Default)]
pub struct AppApi {
    objects: Option<ObjectStore>,
    carrier: Option<Carrier>,
    time: DeviceTime,
    app_data_container: heapless::Vec<u8, APP_DATA_CONTAINER_LEN>,
}

/// Errno of an object-layer failure of an application write: capacity → ENOMEM,
/// absent → ENOENT, anything else → EINVAL.
fn object_errno(e: ObjectError) -> Errno {
    match e {
        ObjectError::Full => Errno::NoMem,
        ObjectError::NotFound => Errno::NoEnt,
        _ => Errno::Inval,
    }
}

fn device_string(s: &str) -> Result<(), Errno> {
    if s.len() > DEVICE_STRING_MAX {
        return Err(Errno::TooBig);
    }
    Ok(())
}

impl AppApi {
    /// No carrier yet: every setter answers `-ENOENT`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The carrier is known: the objects exist from now on, and exactly the
    /// objects the carrier's profile lists are enabled.
    pub fn attach(&mut self, carrier: Carrier, mut objects: ObjectStore) {
        let enabled = carrier_profiles::profile(carrier).objects;
        for oid in [0u16, 1, 2, 3, 4, 5, 6, 7, 10, 11, 16, 19, 20] {
            objects.set_enabled(oid, enabled.contains(&oid));
        }
        self.carrier = Some(carrier);
        self.objects = Some(objects);
    }

    /// The object store, once the carrier is known.
    pub fn objects(&self) -> Option<&ObjectStore> {
        self.objects.as_ref()
    }

    /// The object store, mutably (the runtime's protocol side).
    pub fn objects_mut(&mut self) -> Option<&mut ObjectStore> {
        self.objects.as_mut()
    }

    /// The carrier the objects belong to.
    pub fn carrier(&self) -> Option<Carrier> {
        self.carrier
    }

    fn store(&mut self) -> Result<&mut ObjectStore, Errno> {
        self.objects.as_mut().ok_or(Errno::NoEnt)
    }

    fn store_with(&mut self, oid: u16) -> Result<&mut ObjectStore, Errno> {
        let s = self.store()?;
        if s.is_enabled(oid) { Ok(s) } else { Err(Errno::NoEnt) }
    }

    // ------------------------------------------------------------------
    // Device object (§4.3)
    // ------------------------------------------------------------------

    /// `avail_power_sources_set` → `/3/0/6`. Resets voltages, currents, battery
    /// level and status. `-E2BIG` more than [`MAX_POWER_SOURCES`]; `-EINVAL` an
    /// unsupported id (3 or above 7) or an empty list; `-ENOENT` not initialised.
    pub fn set_power_sources(&mut self, sources: &[u8]) -> Result<(), Errno> {
        if sources.len() > MAX_POWER_SOURCES {
            return Err(Errno::TooBig);
        }
        let mut list: heapless::Vec<PowerSource, MAX_POWER_SOURCES> = heapless::Vec::new();
        for &s in sources {
            let s = PowerSource::from_u8(s).ok_or(Errno::Inval)?;
            list.push(s).map_err(|_| Errno::TooBig)?;
        }
        let store = self.store()?;
        store.update_device(|d| d.set_power_sources(&list)).map_err(|e| match e {
            ObjectError::Full => Errno::TooBig,
            _ => Errno::Inval,
        })
    }

    /// `power_source_voltage_set` → `/3/0/7`. `-EINVAL` unsupported source id;
    /// `-ENODEV` source not listed in `/3/0/6`.
    pub fn set_voltage(&mut self, source: u8, mv: i32) -> Result<(), Errno> {
        let src = PowerSource::from_u8(source).ok_or(Errno::Inval)?;
        let store = self.store()?;
        store.update_device(|d| d.set_voltage(src, i64::from(mv))).map_err(|_| Errno::NoDev)
    }

    /// `power_source_current_set` → `/3/0/8`. Errors as [`AppApi::set_voltage`].
    pub fn set_current(&mut self, source: u8, ma: i32) -> Result<(), Errno> {
        let src = PowerSource::from_u8(source).ok_or(Errno::Inval)?;
        let store = self.store()?;
        store.update_device(|d| d.set_current(src, i64::from(ma))).map_err(|_| Errno::NoDev)
    }

    /// `battery_level_set` → `/3/0/9`. `-EINVAL` above 100; `-ENODEV` no
    /// internal battery listed.
    pub fn set_battery_level(&mut self, pct: u8) -> Result<(), Errno> {
        if pct > 100 {
            return Err(Errno::Inval);
        }
        let store = self.store()?;
        store.update_device(|d| d.set_battery_level(pct)).map_err(|_| Errno::NoDev)
    }

    /// `battery_status_set` → `/3/0/20` (NORMAL 0 … UNKNOWN 6). `-EINVAL`; `-ENODEV`.
    pub fn set_battery_status(&mut self, status: u8) -> Result<(), Errno> {
        if status > 6 {
            return Err(Errno::Inval);
        }
        let store = self.store()?;
        store.update_device(|d| d.set_battery_status(status)).map_err(|_| Errno::NoDev)
    }

    /// `error_code_add` → `/3/0/11` (0 clears the list; duplicates are no-ops).
    /// `-EINVAL` above 8; `-ENOENT` not initialised.
    pub fn add_error_code(&mut self, code: u8) -> Result<(), Errno> {
        if code > 8 {
            return Err(Errno::Inval);
        }
        let store = self.store()?;
        store.update_device(|d| d.add_error_code(code)).map_err(object_errno)
    }

    /// `error_code_remove` → `/3/0/11`. `-EINVAL` 0 or above 8; `-ENOENT`
    /// code not present (or not initialised).
    pub fn remove_error_code(&mut self, code: u8) -> Result<(), Errno> {
        if code == 0 || code > 8 {
            return Err(Errno::Inval);
        }
        let store = self.store()?;
        store.update_device(|d| d.remove_error_code(code)).map_err(|_| Errno::NoEnt)
    }

    /// `memory_total_set` → `/3/0/21` (kB). `-EINVAL` above `i32::MAX`.
    pub fn set_memory_total(&mut self, kb: u32) -> Result<(), Errno> {
        if i32::try_from(kb).is_err() {
            return Err(Errno::Inval);
        }
        let store = self.store()?;
        store.update_device(|d| d.set_memory_total(kb)).map_err(|_| Errno::Inval)
    }

    /// `/3/0/17` Device Type. `-E2BIG` longer than 32; `-EINVAL` empty;
    /// `-EPERM` on SoftBank (always the IMEI there).
    pub fn set_device_type(&mut self, s: &str) -> Result<(), Errno> {
        device_string(s)?;
        if s.is_empty() {
            return Err(Errno::Inval);
        }
        if self.carrier == Some(Carrier::SoftBank) {
            return Err(Errno::Perm);
        }
        let store = self.store()?;
        store.update_device(|d| d.set_device_type(s)).map_err(|_| Errno::TooBig)
    }

    /// `/3/0/0` Manufacturer override (`None` restores the modem's). `-E2BIG`;
    /// `-EPERM` except in LG U+ and generic operation.
    pub fn set_manufacturer(&mut self, s: Option<&str>) -> Result<(), Errno> {
        s.map(device_string).transpose()?;
        self.require_override_carrier()?;
        let store = self.store()?;
        store.update_device(|d| d.set_manufacturer(s)).map_err(|_| Errno::TooBig)
    }

    /// `/3/0/1` Model Number override. Errors as [`AppApi::set_manufacturer`].
    pub fn set_model_number(&mut self, s: Option<&str>) -> Result<(), Errno> {
        s.map(device_string).transpose()?;
        self.require_override_carrier()?;
        let store = self.store()?;
        store.update_device(|d| d.set_model_number(s)).map_err(|_| Errno::TooBig)
    }

    /// `/3/0/18` Hardware Version override. `-E2BIG`.
    pub fn set_hardware_version(&mut self, s: Option<&str>) -> Result<(), Errno> {
        s.map(device_string).transpose()?;
        let store = self.store()?;
        store.update_device(|d| d.set_hardware_version(s)).map_err(|_| Errno::TooBig)
    }

    /// `/3/0/19` Software Version: the library version, the operator's
    /// separator (newline; `:` on SoftBank) and `app` (≤ 32). `-E2BIG`.
    pub fn set_software_version(&mut self, app: &str) -> Result<(), Errno> {
        device_string(app)?;
        let separator = if self.carrier == Some(Carrier::SoftBank) { ':' } else { '\n' };
        let mut full: String<80> = String::new();
        let base = lwm2m_objects::objects::SOFTWARE_VERSION;
        full.push_str(base).map_err(|_| Errno::TooBig)?;
        if !app.is_empty() {
            full.push(separator).map_err(|_| Errno::TooBig)?;
            full.push_str(app).map_err(|_| Errno::TooBig)?;
        }
        let store = self.store()?;
        store.update_device(|d| d.set_software_version(&full)).map_err(|_| Errno::TooBig)
    }

    fn require_override_carrier(&self) -> Result<(), Errno> {
        match self.carrier {
            Some(Carrier::LgUplus | Carrier::Generic) | None => Ok(()),
            Some(_) => Err(Errno::Perm),
        }
    }

    // ------------------------------------------------------------------
    // Time (§4.2)
    // ------------------------------------------------------------------

    /// The time resources.
    pub fn time(&self) -> &DeviceTime {
        &self.time
    }

    /// `utc_time_write` → `/3/0/13`: the UTC time is `unix_s` at `now`.
    /// `-EINVAL` for a negative time.
    pub fn set_utc_time(&mut self, now: Instant, unix_s: i32) -> Result<(), Errno> {
        if unix_s < 0 {
            return Err(Errno::Inval);
        }
        self.time.base = Some((i64::from(unix_s), now));
        Ok(())
    }

    /// `utc_offset_write` → `/3/0/14` (minutes). `-EINVAL` beyond ±14 h.
    pub fn set_utc_offset(&mut self, minutes: i32) -> Result<(), Errno> {
        if !(-14 * 60..=14 * 60).contains(&minutes) {
            return Err(Errno::Inval);
        }
        self.time.utc_offset_min = minutes;
        Ok(())
    }

    /// `timezone_write` → `/3/0/15` (IANA name). `-EINVAL` empty or too long.
    pub fn set_timezone(&mut self, tz: &str) -> Result<(), Errno> {
        if tz.is_empty() {
            return Err(Errno::Inval);
        }
        self.time.timezone = String::try_from(tz).map_err(|_| Errno::Inval)?;
        Ok(())
    }

    // ------------------------------------------------------------------
    // Location (§4.5)
    // ------------------------------------------------------------------

    /// `location_set` → `/6/0/0..5`. `-EINVAL` latitude outside −90..90,
    /// longitude outside −180..180, a non-finite value, a negative radius or a
    /// timestamp going backwards; `-ENOENT` object not used.
    pub fn set_location(
        &mut self,
        latitude: f64,
        longitude: f64,
        altitude: f32,
        timestamp: u32,
        uncertainty: f32,
    ) -> Result<(), Errno> {
        let store = self.store_with(OBJ_LOCATION)?;
        store
            .update_location(|l| {
                l.set_position(
                    latitude,
                    longitude,
                    f64::from(altitude),
                    i64::from(timestamp),
                    f64::from(uncertainty),
                )
            })
            .map_err(|_| Errno::Inval)
    }

    /// `velocity_set` → `/6/0/4` (3GPP TS 23.032 §8 velocity) and `/6/0/6`
    /// Speed. Speeds in m/s, encoded in km/h as TS 23.032 does (the
    /// original's input unit is **unconfirmed**). `speed_v` positive is up;
    /// NaN marks an optional value as absent. `-EINVAL` heading above 359, a
    /// negative or non-finite horizontal speed or uncertainty.
    pub fn set_velocity(
        &mut self,
        heading: u16,
        speed_h: f32,
        speed_v: f32,
        uncertainty_h: f32,
        uncertainty_v: f32,
    ) -> Result<(), Errno> {
        let encoded = encode_velocity(heading, speed_h, speed_v, uncertainty_h, uncertainty_v)?;
        let speed = {
            let v = if speed_v.is_nan() { 0.0 } else { f64::from(speed_v) };
            let h = f64::from(speed_h);
            libm_hypot(h, v)
        };
        let store = self.store_with(OBJ_LOCATION)?;
        store.update_location(|l| {
            l.velocity = encoded;
            l.speed = speed;
        });
        Ok(())
    }

    // ------------------------------------------------------------------
    // App data and event log (§4.6)
    // ------------------------------------------------------------------

    /// `app_data_set`: `path` = `[19, instance, 0|1, resource instance]`
    /// (Binary App Data Container; `None` deletes the entry) or
    /// `[10250, 0, 0|1]` (App Data Container, LG U+). `-EINVAL` bad path;
    /// `-ENOENT` object not used or instance missing; `-ENOMEM` too large.
    pub fn set_app_data(&mut self, path: &[u16], data: Option<&[u8]>) -> Result<(), Errno> {
        match *path {
            [OBJ_APP_DATA, iid, 0 | 1, ri] => {
                let store = self.store_with(OBJ_APP_DATA)?;
                if store.app_data().get(iid).is_none() {
                    return Err(Errno::NoEnt);
                }
                store.set_app_data(iid, ri, data).map_err(object_errno)
            }
            [OBJ_APP_DATA_CONTAINER, 0, 0 | 1] => {
                if self.carrier != Some(Carrier::LgUplus) {
                    return Err(Errno::NoEnt);
                }
                let bytes = data.unwrap_or_default();
                self.app_data_container =
                    heapless::Vec::from_slice(bytes).map_err(|_| Errno::NoMem)?;
                Ok(())
            }
            _ => Err(Errno::Inval),
        }
    }

    /// `/10250/0/1` as last set (LG U+).
    pub fn app_data_container(&self) -> &[u8] {
        &self.app_data_container
    }

    /// `log_data_set` → `/20/0/4014`. `-EINVAL` no buffer; `-ENOENT` object not
    /// used; `-ENOMEM` too large.
    pub fn set_log_data(&mut self, data: Option<&[u8]>) -> Result<(), Errno> {
        let data = data.ok_or(Errno::Inval)?;
        let store = self.store_with(OBJ_EVENT_LOG)?;
        store.set_event_log_data(0, data).map_err(object_errno)
    }

    // ------------------------------------------------------------------
    // Portfolio (§4.4)
    // ------------------------------------------------------------------

    /// `portfolio_instance_create`. `-ENOENT` object not used; `-ENOMEM` no
    /// free instance; `-EINVAL` id in use.
    pub fn create_portfolio(&mut self, iid: u16) -> Result<(), Errno> {
        let store = self.store_with(OBJ_PORTFOLIO)?;
        store.create_portfolio(iid).map_err(|e| match e {
            ObjectError::AlreadyExists => Errno::Inval,
            ObjectError::Full => Errno::NoMem,
            _ => Errno::NoEnt,
        })
    }

    /// `identity_read` of `/16/iid/0/ty` into `buf` (NUL-terminated). Returns
    /// the full length including the NUL; with no buffer only that length.
    /// `-ENOENT` no instance; `-EINVAL` bad type; `-ENOMEM` buffer too small.
    pub fn read_portfolio_identity(
        &self,
        iid: u16,
        ty: u16,
        buf: Option<&mut [u8]>,
    ) -> Result<usize, Errno> {
        let store = self.objects.as_ref().ok_or(Errno::NoEnt)?;
        if !store.is_enabled(OBJ_PORTFOLIO) {
            return Err(Errno::NoEnt);
        }
        let inst = store.portfolio().get(iid).ok_or(Errno::NoEnt)?;
        if ty >= PORTFOLIO_IDENTITY_TYPES {
            return Err(Errno::Inval);
        }
        let text = inst.identity.iter().find(|(ri, _)| *ri == ty).map_or("", |(_, t)| t.as_str());
        let len = text.len() + 1;
        if let Some(buf) = buf {
            let out = buf.get_mut(..len).ok_or(Errno::NoMem)?;
            let (body, nul) = out.split_at_mut(text.len());
            body.copy_from_slice(text.as_bytes());
            nul.fill(0);
        }
        Ok(len)
    }

    /// `identity_write` of `/16/iid/0/ty`. `-EPERM` the Primary Host instance;
    /// `-EINVAL` empty value or bad type; `-ENOENT` no instance; `-E2BIG` too long.
    pub fn write_portfolio_identity(
        &mut self,
        iid: u16,
        ty: u16,
        value: &str,
    ) -> Result<(), Errno> {
        let store = self.store_with(OBJ_PORTFOLIO)?;
        if store.portfolio().get(iid).is_none() {
            return Err(Errno::NoEnt);
        }
        if iid == PORTFOLIO_PRIMARY_HOST {
            return Err(Errno::Perm);
        }
        if value.is_empty() || ty >= PORTFOLIO_IDENTITY_TYPES {
            return Err(Errno::Inval);
        }
        if value.len() > lwm2m_objects::config::PORTFOLIO_IDENTITY_LEN {
            return Err(Errno::TooBig);
        }
        store.set_portfolio_identity(iid, ty, value).map_err(object_errno)
    }
}

/// `sqrt(a² + b²)` without `std` (Newton's method on f64; inputs are speeds).
fn libm_hypot(a: f64, b: f64) -> f64 {
    let s = a * a + b * b;
    if s <= 0.0 || !s.is_finite() {
        return 0.0;
    }
    let mut x = if s > 1.0 { s } else { 1.0 };
    for _ in 0..64 {
        let next = 0.5 * (x + s / x);
        if (next - x).abs() <= f64::EPSILON * next {
            return next;
        }
        x = next;
    }
    x
}

/// km/h, rounded, from m/s, saturating at `max`.
fn kmh(ms: f32, max: u32) -> u32 {
    let v = f64::from(ms) * 3.6 + 0.5;
    if v >= f64::from(max) {
        max
    } else if v > 0.0 {
        // In range 0..max: the cast only drops the fraction.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = v as u32;
        k
    } else {
        0
    }
}

fn optional_non_negative(v: f32) -> Result<Option<f32>, Errno> {
    if v.is_nan() {
        Ok(None)
    } else if v.is_finite() && v >= 0.0 {
        Ok(Some(v))
    } else {
        Err(Errno::Inval)
    }
}

/// The TS 23.032 §8.12–8.15 velocity: type in the high nibble of octet 1
/// (0 horizontal, 1 + vertical, 2 + uncertainty, 3 both), bearing (9 bits),
/// horizontal speed (16 bits, km/h), then vertical speed (8 bits, direction
/// bit 0x02 of octet 1 set for downward) and uncertainties (8 bits, km/h).
fn encode_velocity(
    heading: u16,
    speed_h: f32,
    speed_v: f32,
    unc_h: f32,
    unc_v: f32,
) -> Result<heapless::Vec<u8, 8>, Errno> {
    if heading > 359 || !speed_h.is_finite() || speed_h < 0.0 {
        return Err(Errno::Inval);
    }
    if speed_v.is_infinite() {
        return Err(Errno::Inval);
    }
    let vertical = (!speed_v.is_nan()).then_some(speed_v);
    let unc_h = optional_non_negative(unc_h)?;
    let unc_v = optional_non_negative(unc_v)?;
    let h = kmh(speed_h, u32::from(u16::MAX));
    let [h_hi, h_lo] = u16::try_from(h).unwrap_or(u16::MAX).to_be_bytes();
    let [b_hi, b_lo] = heading.to_be_bytes();
    let bearing_msb = b_hi & 0x01;
    let mut out = heapless::Vec::new();
    let push = |out: &mut heapless::Vec<u8, 8>, b: u8| out.push(b).map_err(|_| Errno::NoMem);
    let byte = |v: f32| u8::try_from(kmh(v.abs(), 255)).unwrap_or(u8::MAX);
    match (vertical, unc_h) {
        (None, None) => {
            for b in [bearing_msb, b_lo, h_hi, h_lo] {
                push(&mut out, b)?;
            }
        }
        (Some(v), None) => {
            let down = if v < 0.0 { 0x02 } else { 0 };
            for b in [0x10 | down | bearing_msb, b_lo, h_hi, h_lo, byte(v)] {
                push(&mut out, b)?;
            }
        }
        (None, Some(u)) => {
            for b in [0x20 | bearing_msb, b_lo, h_hi, h_lo, byte(u)] {
                push(&mut out, b)?;
            }
        }
        (Some(v), Some(u)) => {
            let down = if v < 0.0 { 0x02 } else { 0 };
            let uv = unc_v.map_or(0, byte);
            for b in [0x30 | down | bearing_msb, b_lo, h_hi, h_lo, byte(v), byte(u), uv] {
                push(&mut out, b)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
