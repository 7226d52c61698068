//! Cellular Connectivity (object 10, OMA LwM2M Cellular Connectivity 1.1):
//! power-saving settings a server may tune (PSM and active timers, eDRX,
//! disable radio period) and the activated APN profiles. A write produces
//! [`ObjectEvent::CellularSettingsChanged`] for the runtime to apply.

use super::security::non_negative;
use super::to_bytes;
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, cellular_connectivity as r};
use heapless::Vec;
use lwm2m_core::value::Value;

/// The Cellular Connectivity object (single instance 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellularConnectivity {
    /// `/10/0/1` Disable radio period, minutes (0..65535).
    pub disable_radio_period_min: i64,
    /// `/10/0/4` PSM Timer, s.
    pub psm_timer_s: i64,
    /// `/10/0/5` Active Timer, s.
    pub active_timer_s: i64,
    /// `/10/0/8` eDRX parameters for WB-S1 mode (one byte, 3GPP TS 24.008).
    pub edrx_wb_s1: Vec<u8, 1>,
    /// `/10/0/9` eDRX parameters for NB-S1 mode.
    pub edrx_nb_s1: Vec<u8, 1>,
    /// `/10/0/11` Activated Profile Names: APN Connection Profile instance IDs.
    pub activated_profiles: Vec<u16, { crate::config::APN_PROFILES }>,
}

const SUPPORTED: &[u16] = &[
    r::DISABLE_RADIO_PERIOD,
    r::PSM_TIMER,
    r::ACTIVE_TIMER,
    r::E_DRX_PARAMETERS_FOR_WB_S1_MODE,
    r::E_DRX_PARAMETERS_FOR_NB_S1_MODE,
    r::ACTIVATED_PROFILE_NAMES,
];

impl Object for CellularConnectivity {
    fn def(&self) -> &'static ObjectDef {
        &registry::CELLULAR_CONNECTIVITY
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
            r::DISABLE_RADIO_PERIOD => out(None, Value::Integer(self.disable_radio_period_min)),
            r::PSM_TIMER => out(None, Value::Integer(self.psm_timer_s)),
            r::ACTIVE_TIMER => out(None, Value::Integer(self.active_timer_s)),
            r::E_DRX_PARAMETERS_FOR_WB_S1_MODE => out(None, Value::Opaque(&self.edrx_wb_s1)),
            r::E_DRX_PARAMETERS_FOR_NB_S1_MODE => out(None, Value::Opaque(&self.edrx_nb_s1)),
            r::ACTIVATED_PROFILE_NAMES => {
                (0u16..).zip(&self.activated_profiles).try_for_each(|(i, p)| {
                    out(Some(i), Value::Objlnk(registry::APN_CONNECTION_PROFILE.id, *p))
                })
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
        match rid {
            r::DISABLE_RADIO_PERIOD => self.disable_radio_period_min = non_negative(v)?,
            r::PSM_TIMER => self.psm_timer_s = non_negative(v)?,
            r::ACTIVE_TIMER => self.active_timer_s = non_negative(v)?,
            r::E_DRX_PARAMETERS_FOR_WB_S1_MODE => self.edrx_wb_s1 = to_bytes(v)?,
            r::E_DRX_PARAMETERS_FOR_NB_S1_MODE => self.edrx_nb_s1 = to_bytes(v)?,
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        cx.emit(ObjectEvent::CellularSettingsChanged);
        Ok(())
    }
}
