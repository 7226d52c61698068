//! Firmware Update (object 5, Core TS §E.6): package URI, the state machine
//! (Idle → Downloading → Downloaded → Updating) and the update result.
//!
//! The store moves the state on server writes and executes and reports
//! [`ObjectEvent`]s; the runtime, which owns the download and the DFU target,
//! reports progress back with [`FirmwareUpdate::set_state`] and
//! [`FirmwareUpdate::set_result`] (through
//! [`crate::ObjectStore::update_firmware`], so observers see the change).

use super::to_string;
use crate::config::{FW_PROTOCOLS, SHORT_STRING_LEN, URI_LEN};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, firmware_update as r};
use heapless::{String, Vec};
use lwm2m_core::value::Value;

/// `/5/0/3` State.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FirmwareState {
    /// 0 Idle.
    #[default]
    Idle,
    /// 1 Downloading.
    Downloading,
    /// 2 Downloaded.
    Downloaded,
    /// 3 Updating.
    Updating,
}

impl FirmwareState {
    /// The resource value.
    pub fn as_u8(self) -> u8 {
        match self {
            FirmwareState::Idle => 0,
            FirmwareState::Downloading => 1,
            FirmwareState::Downloaded => 2,
            FirmwareState::Updating => 3,
        }
    }
    /// From the resource value.
    pub fn from_u8(n: u8) -> Option<Self> {
        Some(match n {
            0 => FirmwareState::Idle,
            1 => FirmwareState::Downloading,
            2 => FirmwareState::Downloaded,
            3 => FirmwareState::Updating,
            _ => return None,
        })
    }
}

/// `/5/0/5` Update Result (0 Initial … 9 Unsupported protocol; 10, 11 in object 1.1+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UpdateResult(pub u8);

impl UpdateResult {
    /// 0: initial value.
    pub const INITIAL: UpdateResult = UpdateResult(0);
    /// 1: firmware updated successfully.
    pub const SUCCESS: UpdateResult = UpdateResult(1);
    /// 2: not enough flash memory.
    pub const NOT_ENOUGH_FLASH: UpdateResult = UpdateResult(2);
    /// 3: out of RAM during download.
    pub const OUT_OF_RAM: UpdateResult = UpdateResult(3);
    /// 4: connection lost during download.
    pub const CONNECTION_LOST: UpdateResult = UpdateResult(4);
    /// 5: integrity check failure.
    pub const INTEGRITY_FAILURE: UpdateResult = UpdateResult(5);
    /// 6: unsupported package type.
    pub const UNSUPPORTED_PACKAGE: UpdateResult = UpdateResult(6);
    /// 7: invalid URI.
    pub const INVALID_URI: UpdateResult = UpdateResult(7);
    /// 8: firmware update failed.
    pub const UPDATE_FAILED: UpdateResult = UpdateResult(8);
    /// 9: unsupported protocol.
    pub const UNSUPPORTED_PROTOCOL: UpdateResult = UpdateResult(9);
}

/// The Firmware Update object (single instance 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareUpdate {
    pub(crate) state: FirmwareState,
    pub(crate) result: UpdateResult,
    pub(crate) package_uri: String<URI_LEN>,
    /// `/5/0/6` PkgName.
    pub package_name: String<SHORT_STRING_LEN>,
    /// `/5/0/7` PkgVersion.
    pub package_version: String<SHORT_STRING_LEN>,
    /// `/5/0/8` Firmware Update Protocol Support (0 CoAP, 1 CoAPS, 2 HTTP, 3 HTTPS …).
    pub protocols: Vec<u8, FW_PROTOCOLS>,
    /// `/5/0/9` Firmware Update Delivery Method (0 pull, 1 push, 2 both).
    pub delivery_method: u8,
}

impl Default for FirmwareUpdate {
    fn default() -> Self {
        FirmwareUpdate {
            state: FirmwareState::Idle,
            result: UpdateResult::INITIAL,
            package_uri: String::new(),
            package_name: String::new(),
            package_version: String::new(),
            protocols: Vec::from_slice(&[0, 1, 2, 3]).unwrap_or_default(),
            delivery_method: 2,
        }
    }
}

impl FirmwareUpdate {
    /// `/5/0/3`.
    pub fn state(&self) -> FirmwareState {
        self.state
    }
    /// `/5/0/5`.
    pub fn result(&self) -> UpdateResult {
        self.result
    }
    /// `/5/0/1`.
    pub fn package_uri(&self) -> &str {
        &self.package_uri
    }
    /// The runtime reports a state change (download finished → Downloaded …).
    pub fn set_state(&mut self, state: FirmwareState) {
        self.state = state;
    }
    /// The runtime reports a result; a failure returns the state machine to Idle (Core TS §E.6).
    pub fn set_result(&mut self, result: UpdateResult) {
        self.result = result;
        if result != UpdateResult::INITIAL {
            self.state = FirmwareState::Idle;
        }
    }
    fn reset(&mut self) {
        self.state = FirmwareState::Idle;
        self.result = UpdateResult::INITIAL;
        self.package_uri.clear();
    }
}

const SUPPORTED: &[u16] = &[
    r::PACKAGE,
    r::PACKAGE_URI,
    r::UPDATE,
    r::STATE,
    r::UPDATE_RESULT,
    r::PKG_NAME,
    r::PKG_VERSION,
    r::FIRMWARE_UPDATE_PROTOCOL_SUPPORT,
    r::FIRMWARE_UPDATE_DELIVERY_METHOD,
];

impl Object for FirmwareUpdate {
    fn def(&self) -> &'static ObjectDef {
        &registry::FIRMWARE_UPDATE
    }
    fn supported(&self) -> &'static [u16] {
        SUPPORTED
    }
    fn read(
        &self,
        _iid: u16,
        rid: u16,
        _info: &dyn DeviceInfo,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ObjectError> {
        match rid {
            r::PACKAGE_URI => out(None, Value::String(&self.package_uri)),
            r::STATE => out(None, Value::Integer(i64::from(self.state.as_u8()))),
            r::UPDATE_RESULT => out(None, Value::Integer(i64::from(self.result.0))),
            r::PKG_NAME => out(None, Value::String(&self.package_name)),
            r::PKG_VERSION => out(None, Value::String(&self.package_version)),
            r::FIRMWARE_UPDATE_PROTOCOL_SUPPORT => (0u16..)
                .zip(&self.protocols)
                .try_for_each(|(i, p)| out(Some(i), Value::Integer(i64::from(*p)))),
            r::FIRMWARE_UPDATE_DELIVERY_METHOD => {
                out(None, Value::Integer(i64::from(self.delivery_method)))
            }
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
        let empty = match v {
            Value::Opaque(b) => b.is_empty(),
            Value::String(s) => s.is_empty(),
            _ => return Err(ObjectError::BadValue),
        };
        if empty {
            // §E.6: writing an empty Package or Package URI resets the state machine.
            self.reset();
            cx.emit(ObjectEvent::FirmwareCancel);
            return Ok(());
        }
        if self.state != FirmwareState::Idle {
            return Err(ObjectError::BadValue);
        }
        match rid {
            r::PACKAGE => {
                self.result = UpdateResult::INITIAL;
                self.state = FirmwareState::Downloading;
                cx.emit(ObjectEvent::FirmwarePackage);
            }
            r::PACKAGE_URI => {
                self.package_uri = to_string(v)?;
                self.result = UpdateResult::INITIAL;
                self.state = FirmwareState::Downloading;
                cx.emit(ObjectEvent::FirmwareDownload);
            }
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
        if rid != r::UPDATE {
            return Err(ObjectError::MethodNotAllowed);
        }
        // §E.6: Update "is only executable when the value of the State Resource is Downloaded".
        if self.state != FirmwareState::Downloaded {
            return Err(ObjectError::MethodNotAllowed);
        }
        self.state = FirmwareState::Updating;
        cx.emit(ObjectEvent::FirmwareUpdate);
        Ok(())
    }
}
