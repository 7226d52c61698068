//! Event Log (object 20, OMA 20 v2.1): a bounded log buffer LogData
//! (`/20/i/4014`) the application fills (carrier API `log_data_set`), with
//! LogClass, LogStart/LogStop, LogStatus and LogDataFormat. Data beyond
//! [`EVENT_LOG_LEN`] bytes is refused with [`ObjectError::Full`].

use super::{Instance, Instances};
use crate::config::{EVENT_LOG_INSTANCES, EVENT_LOG_LEN};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, event_log as r};
use heapless::Vec;
use lwm2m_core::value::Value;

/// One Event Log instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLogInstance {
    /// Instance ID.
    pub id: u16,
    /// `/20/i/4010` LogClass (0..255).
    pub class: u8,
    /// `/20/i/4013` LogStatus: bit 0 = running.
    pub status: u8,
    /// `/20/i/4014` LogData.
    pub data: Vec<u8, EVENT_LOG_LEN>,
    /// `/20/i/4015` LogDataFormat (0..255; 0 = opaque).
    pub format: u8,
}

impl EventLogInstance {
    /// An empty, stopped log.
    pub fn new(id: u16) -> Self {
        EventLogInstance { id, class: 0, status: 0, data: Vec::new(), format: 0 }
    }
    /// Replaces LogData.
    ///
    /// # Errors
    /// [`ObjectError::Full`] beyond [`EVENT_LOG_LEN`] bytes (the old data stays).
    pub fn set_data(&mut self, bytes: &[u8]) -> Result<(), ObjectError> {
        self.data = Vec::from_slice(bytes).map_err(|_| ObjectError::Full)?;
        Ok(())
    }
}

impl Instance for EventLogInstance {
    fn id(&self) -> u16 {
        self.id
    }
}

/// The Event Log object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog {
    pub(crate) instances: Instances<EventLogInstance, EVENT_LOG_INSTANCES>,
}

impl Default for EventLog {
    fn default() -> Self {
        let mut instances = Instances::default();
        let _ = instances.put(EventLogInstance::new(0));
        EventLog { instances }
    }
}

impl EventLog {
    /// Every instance, ascending.
    pub fn instances(&self) -> &[EventLogInstance] {
        self.instances.as_slice()
    }
    /// Instance `id`.
    pub fn get(&self, id: u16) -> Option<&EventLogInstance> {
        self.instances.get(id)
    }
    pub(crate) fn get_mut(&mut self, id: u16) -> Result<&mut EventLogInstance, ObjectError> {
        self.instances.get_mut(id)
    }
}

const SUPPORTED: &[u16] =
    &[r::LOG_CLASS, r::LOG_START, r::LOG_STOP, r::LOG_STATUS, r::LOG_DATA, r::LOG_DATA_FORMAT];

impl Object for EventLog {
    fn def(&self) -> &'static ObjectDef {
        &registry::EVENT_LOG
    }
    fn supported(&self) -> &'static [u16] {
        SUPPORTED
    }
    multi_instance!();
    fn read(
        &self,
        iid: u16,
        rid: u16,
        _info: &dyn DeviceInfo,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ObjectError> {
        let p = self.get(iid).ok_or(ObjectError::NotFound)?;
        match rid {
            r::LOG_CLASS => out(None, Value::Integer(i64::from(p.class))),
            r::LOG_STATUS => out(None, Value::Integer(i64::from(p.status))),
            r::LOG_DATA => out(None, Value::Opaque(&p.data)),
            r::LOG_DATA_FORMAT => out(None, Value::Integer(i64::from(p.format))),
            _ => Err(ObjectError::NotFound),
        }
    }
    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        _ri: Option<u16>,
        v: Value<'_>,
        _cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        let n = match v {
            Value::Integer(n) => u8::try_from(n).map_err(|_| ObjectError::BadValue)?,
            _ => return Err(ObjectError::BadValue),
        };
        let p = self.get_mut(iid)?;
        match rid {
            r::LOG_CLASS => p.class = n,
            r::LOG_DATA_FORMAT => p.format = n,
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        Ok(())
    }
    fn reset_instance(&mut self, iid: u16) {
        if let Ok(p) = self.get_mut(iid) {
            p.class = 0;
            p.format = 0;
        }
    }
    fn execute(
        &mut self,
        iid: u16,
        rid: u16,
        cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        let p = self.get_mut(iid)?;
        match rid {
            r::LOG_START => {
                p.status |= 1;
                cx.emit(ObjectEvent::EventLogStart { instance: iid });
            }
            r::LOG_STOP => {
                p.status &= !1;
                cx.emit(ObjectEvent::EventLogStop { instance: iid });
            }
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        Ok(())
    }
}
