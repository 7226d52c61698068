//! Device (object 3, Core TS §E.4): identity strings, power sources,
//! battery, memory, error codes, time, and the Reboot / Factory Reset /
//! Reset Error Code triggers. Defaults follow app-integration.txt
//! ("Resources") and carrier-api.md §4.3.

use super::{to_int, to_string};
use crate::config::{ERROR_CODES, POWER_SOURCES, SHORT_STRING_LEN};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, device as r};
use heapless::{String, Vec};
use lwm2m_core::value::Value;

/// `/3/0/19` default: "LwM2M_carrier_" and this crate's version.
pub const SOFTWARE_VERSION: &str = concat!("LwM2M_carrier_", env!("CARGO_PKG_VERSION"));

/// `/3/0/6` Available Power Sources values (carrier API §4.3; 3 is unassigned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum PowerSource {
    /// 0 DC power.
    Dc = 0,
    /// 1 Internal battery.
    InternalBattery = 1,
    /// 2 External battery.
    ExternalBattery = 2,
    /// 4 Ethernet.
    Ethernet = 4,
    /// 5 USB.
    Usb = 5,
    /// 6 AC (mains).
    Ac = 6,
    /// 7 Solar.
    Solar = 7,
}

impl PowerSource {
    /// From the resource value.
    pub fn from_u8(n: u8) -> Option<Self> {
        Some(match n {
            0 => PowerSource::Dc,
            1 => PowerSource::InternalBattery,
            2 => PowerSource::ExternalBattery,
            4 => PowerSource::Ethernet,
            5 => PowerSource::Usb,
            6 => PowerSource::Ac,
            7 => PowerSource::Solar,
            _ => return None,
        })
    }
}

/// Battery status 6, "Unknown".
const BATTERY_UNKNOWN: u8 = 6;
/// Battery status 5, "Not installed": the default.
const BATTERY_NOT_INSTALLED: u8 = 5;

type Text = String<SHORT_STRING_LEN>;

/// The Device object (single instance 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    manufacturer: Option<Text>,
    model_number: Option<Text>,
    hardware_version: Option<Text>,
    device_type: Text,
    software_version: String<64>,
    supported_binding: String<8>,
    /// `(source, voltage mV, current mA)` in `/3/0/6` order.
    power: Vec<(PowerSource, i64, i64), POWER_SOURCES>,
    battery_level: u8,
    battery_status: u8,
    memory_total_kb: i64,
    error_codes: Vec<u8, ERROR_CODES>,
}

impl Default for Device {
    fn default() -> Self {
        let mut power = Vec::new();
        let _ = power.push((PowerSource::Dc, 0, 0));
        Device {
            manufacturer: None,
            model_number: None,
            hardware_version: None,
            device_type: Text::try_from("Module").unwrap_or_default(),
            software_version: String::try_from(SOFTWARE_VERSION).unwrap_or_default(),
            supported_binding: String::try_from("U").unwrap_or_default(),
            power,
            battery_level: 0,
            battery_status: BATTERY_NOT_INSTALLED,
            memory_total_kb: 0,
            error_codes: Vec::new(),
        }
    }
}

fn text(s: &str) -> Result<Text, ObjectError> {
    Text::try_from(s).map_err(|_| ObjectError::BadValue)
}

impl Device {
    /// `/3/0/6`: sets the power sources; resets voltages and currents to 0,
    /// battery level to 0 and battery status to Unknown (carrier API §4.3).
    ///
    /// # Errors
    /// [`ObjectError::Full`] for more than [`POWER_SOURCES`]; [`ObjectError::BadValue`] for an empty list.
    pub fn set_power_sources(&mut self, sources: &[PowerSource]) -> Result<(), ObjectError> {
        if sources.is_empty() {
            return Err(ObjectError::BadValue);
        }
        if sources.len() > POWER_SOURCES {
            return Err(ObjectError::Full);
        }
        self.power.clear();
        for s in sources {
            self.power.push((*s, 0, 0)).map_err(|_| ObjectError::Full)?;
        }
        self.battery_level = 0;
        self.battery_status = BATTERY_UNKNOWN;
        Ok(())
    }
    fn source(&mut self, src: PowerSource) -> Result<&mut (PowerSource, i64, i64), ObjectError> {
        self.power.iter_mut().find(|p| p.0 == src).ok_or(ObjectError::NotFound)
    }
    /// `/3/0/7`: voltage of a listed source, mV.
    ///
    /// # Errors
    /// [`ObjectError::NotFound`] if `src` is not listed (carrier API −ENODEV).
    pub fn set_voltage(&mut self, src: PowerSource, mv: i64) -> Result<(), ObjectError> {
        let p = self.source(src)?;
        p.1 = mv;
        Ok(())
    }
    /// `/3/0/8`: current of a listed source, mA.
    ///
    /// # Errors
    /// [`ObjectError::NotFound`] if `src` is not listed.
    pub fn set_current(&mut self, src: PowerSource, ma: i64) -> Result<(), ObjectError> {
        let p = self.source(src)?;
        p.2 = ma;
        Ok(())
    }
    fn has_battery(&self) -> bool {
        self.power.iter().any(|p| p.0 == PowerSource::InternalBattery)
    }
    /// `/3/0/9`: battery level, 0..=100 %.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] out of range; [`ObjectError::NotFound`]
    /// without an internal battery in `/3/0/6`.
    pub fn set_battery_level(&mut self, pct: u8) -> Result<(), ObjectError> {
        if pct > 100 {
            return Err(ObjectError::BadValue);
        }
        if !self.has_battery() {
            return Err(ObjectError::NotFound);
        }
        self.battery_level = pct;
        Ok(())
    }
    /// `/3/0/20`: battery status 0..=6 (Normal … Unknown).
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] out of range; [`ObjectError::NotFound`] without an internal battery.
    pub fn set_battery_status(&mut self, status: u8) -> Result<(), ObjectError> {
        if status > 6 {
            return Err(ObjectError::BadValue);
        }
        if !self.has_battery() {
            return Err(ObjectError::NotFound);
        }
        self.battery_status = status;
        Ok(())
    }
    /// `/3/0/21`: total memory, kB, at most `i32::MAX`.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] above `i32::MAX`.
    pub fn set_memory_total(&mut self, kb: u32) -> Result<(), ObjectError> {
        if kb > i32::MAX as u32 {
            return Err(ObjectError::BadValue);
        }
        self.memory_total_kb = i64::from(kb);
        Ok(())
    }
    /// `/3/0/11`: adds an error code 0..=8; 0 clears the list; a duplicate is a no-op.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] above 8.
    pub fn add_error_code(&mut self, code: u8) -> Result<(), ObjectError> {
        if code > 8 {
            return Err(ObjectError::BadValue);
        }
        if code == 0 {
            self.error_codes.clear();
            return Ok(());
        }
        if !self.error_codes.contains(&code) {
            self.error_codes.push(code).map_err(|_| ObjectError::Full)?;
        }
        Ok(())
    }
    /// `/3/0/11`: removes error code 1..=8.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] for 0 or above 8; [`ObjectError::NotFound`] if absent.
    pub fn remove_error_code(&mut self, code: u8) -> Result<(), ObjectError> {
        if code == 0 || code > 8 {
            return Err(ObjectError::BadValue);
        }
        let pos = self.error_codes.iter().position(|c| *c == code).ok_or(ObjectError::NotFound)?;
        self.error_codes.remove(pos);
        Ok(())
    }
    /// The error codes as `/3/0/11` reads them (an empty list reads as `[0]`).
    pub fn error_codes(&self) -> &[u8] {
        if self.error_codes.is_empty() { &[0] } else { &self.error_codes }
    }
    /// `/3/0/9`.
    pub fn battery_level(&self) -> u8 {
        self.battery_level
    }
    /// `/3/0/20`.
    pub fn battery_status(&self) -> u8 {
        self.battery_status
    }
    /// `/3/0/17` (default "Module").
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] longer than 32 bytes.
    pub fn set_device_type(&mut self, s: &str) -> Result<(), ObjectError> {
        let t = text(s)?;
        self.device_type = t;
        Ok(())
    }
    /// `/3/0/19` (default [`SOFTWARE_VERSION`]); the runtime composes the
    /// operator-specific form (library version, separator, application string).
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] longer than 64 bytes.
    pub fn set_software_version(&mut self, s: &str) -> Result<(), ObjectError> {
        let t = String::try_from(s).map_err(|_| ObjectError::BadValue)?;
        self.software_version = t;
        Ok(())
    }
    /// `/3/0/0` override (otherwise [`DeviceInfo::manufacturer`]); `None` restores the modem's.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] longer than 32 bytes.
    pub fn set_manufacturer(&mut self, s: Option<&str>) -> Result<(), ObjectError> {
        let t = s.map(text).transpose()?;
        self.manufacturer = t;
        Ok(())
    }
    /// `/3/0/1` override.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] longer than 32 bytes.
    pub fn set_model_number(&mut self, s: Option<&str>) -> Result<(), ObjectError> {
        let t = s.map(text).transpose()?;
        self.model_number = t;
        Ok(())
    }
    /// `/3/0/18` override.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] longer than 32 bytes.
    pub fn set_hardware_version(&mut self, s: Option<&str>) -> Result<(), ObjectError> {
        let t = s.map(text).transpose()?;
        self.hardware_version = t;
        Ok(())
    }
    /// `/3/0/16` Supported Binding and Modes (default "U").
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] longer than 8 bytes.
    pub fn set_supported_binding(&mut self, s: &str) -> Result<(), ObjectError> {
        let t = String::try_from(s).map_err(|_| ObjectError::BadValue)?;
        self.supported_binding = t;
        Ok(())
    }
}

const SUPPORTED: &[u16] = &[
    r::MANUFACTURER,
    r::MODEL_NUMBER,
    r::SERIAL_NUMBER,
    r::FIRMWARE_VERSION,
    r::REBOOT,
    r::FACTORY_RESET,
    r::AVAILABLE_POWER_SOURCES,
    r::POWER_SOURCE_VOLTAGE,
    r::POWER_SOURCE_CURRENT,
    r::BATTERY_LEVEL,
    r::MEMORY_FREE,
    r::ERROR_CODE,
    r::RESET_ERROR_CODE,
    r::CURRENT_TIME,
    r::UTC_OFFSET,
    r::TIMEZONE,
    r::SUPPORTED_BINDING_AND_MODES,
    r::DEVICE_TYPE,
    r::HARDWARE_VERSION,
    r::SOFTWARE_VERSION,
    r::BATTERY_STATUS,
    r::MEMORY_TOTAL,
];

impl Object for Device {
    fn def(&self) -> &'static ObjectDef {
        &registry::DEVICE
    }
    fn supported(&self) -> &'static [u16] {
        SUPPORTED
    }
    fn read(
        &self,
        _iid: u16,
        rid: u16,
        info: &dyn DeviceInfo,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ObjectError> {
        let each = |out: &mut ValueOut<'_>, f: &dyn Fn(&(PowerSource, i64, i64)) -> i64| {
            (0u16..)
                .zip(self.power.iter())
                .try_for_each(|(i, p)| out(Some(i), Value::Integer(f(p))))
        };
        match rid {
            r::MANUFACTURER => {
                out(None, s(self.manufacturer.as_deref().unwrap_or(info.manufacturer())))
            }
            r::MODEL_NUMBER => {
                out(None, s(self.model_number.as_deref().unwrap_or(info.model_number())))
            }
            r::SERIAL_NUMBER => out(None, s(info.serial_number())),
            r::FIRMWARE_VERSION => out(None, s(info.firmware_version())),
            r::AVAILABLE_POWER_SOURCES => each(out, &|p| p.0 as i64),
            r::POWER_SOURCE_VOLTAGE => each(out, &|p| p.1),
            r::POWER_SOURCE_CURRENT => each(out, &|p| p.2),
            r::BATTERY_LEVEL => out(None, Value::Integer(i64::from(self.battery_level))),
            r::MEMORY_FREE => out(None, Value::Integer(info.memory_free_kb())),
            r::ERROR_CODE => (0u16..)
                .zip(self.error_codes())
                .try_for_each(|(i, c)| out(Some(i), Value::Integer(i64::from(*c)))),
            r::CURRENT_TIME => out(None, Value::Time(info.current_time())),
            r::UTC_OFFSET => out(None, s(info.utc_offset())),
            r::TIMEZONE => out(None, s(info.timezone())),
            r::SUPPORTED_BINDING_AND_MODES => out(None, s(&self.supported_binding)),
            r::DEVICE_TYPE => out(None, s(&self.device_type)),
            r::HARDWARE_VERSION => {
                out(None, s(self.hardware_version.as_deref().unwrap_or(info.hardware_version())))
            }
            r::SOFTWARE_VERSION => out(None, s(&self.software_version)),
            r::BATTERY_STATUS => out(None, Value::Integer(i64::from(self.battery_status))),
            r::MEMORY_TOTAL => out(None, Value::Integer(self.memory_total_kb)),
            _ => Err(ObjectError::NotFound),
        }
    }
    fn write(
        &mut self,
        _iid: u16,
        rid: u16,
        _ri: Option<u16>,
        v: Value<'_>,
        cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        match rid {
            r::CURRENT_TIME => cx.info.set_current_time(to_int(v)?)?,
            r::UTC_OFFSET => cx.info.set_utc_offset(&to_string::<16>(v)?)?,
            r::TIMEZONE => cx.info.set_timezone(&to_string::<64>(v)?)?,
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        Ok(())
    }
    fn execute(
        &mut self,
        _iid: u16,
        rid: u16,
        cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        match rid {
            r::REBOOT => cx.emit(ObjectEvent::Reboot),
            r::FACTORY_RESET => cx.emit(ObjectEvent::FactoryReset),
            r::RESET_ERROR_CODE => {
                self.add_error_code(0)?;
                cx.emit(ObjectEvent::ErrorCodesReset);
            }
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        Ok(())
    }
}

fn s(v: &str) -> Value<'_> {
    Value::String(v)
}
