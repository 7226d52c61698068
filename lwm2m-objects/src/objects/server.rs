//! LwM2M Server (object 1, Core TS §E.2): one instance per
//! device-management server — registration lifetime, binding, default
//! notification periods and the triggers (Disable, Registration Update,
//! Bootstrap-Request).

use super::security::non_negative;
use super::{Instance, Instances, to_bool, to_string, to_u16};
use crate::config::SERVER_INSTANCES;
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, server as r};
use heapless::String;
use lwm2m_core::value::Value;

/// One Server instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInstance {
    /// Instance ID.
    pub id: u16,
    /// `/1/i/0` Short Server ID, 1..65534.
    pub ssid: u16,
    /// `/1/i/1` Lifetime, seconds.
    pub lifetime_s: i64,
    /// `/1/i/2` Default Minimum Period, seconds.
    pub pmin_s: Option<i64>,
    /// `/1/i/3` Default Maximum Period, seconds.
    pub pmax_s: Option<i64>,
    /// `/1/i/5` Disable Timeout, seconds (default 86400, Core TS §E.2).
    pub disable_timeout_s: i64,
    /// `/1/i/6` Notification Storing When Disabled or Offline.
    pub notification_storing: bool,
    /// `/1/i/7` Binding, e.g. `"U"`.
    pub binding: String<4>,
    /// `/1/i/23` Mute Send.
    pub mute_send: bool,
}

impl ServerInstance {
    /// A server account with the generic defaults (lifetime 3600 s, binding U).
    pub fn new(id: u16, ssid: u16) -> Self {
        let mut binding = String::new();
        let _ = binding.push('U');
        ServerInstance {
            id,
            ssid,
            lifetime_s: 3600,
            pmin_s: None,
            pmax_s: None,
            disable_timeout_s: 86400,
            notification_storing: true,
            binding,
            mute_send: false,
        }
    }
}

impl Instance for ServerInstance {
    fn id(&self) -> u16 {
        self.id
    }
}

/// The Server object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Server {
    pub(crate) instances: Instances<ServerInstance, SERVER_INSTANCES>,
}

impl Server {
    /// Every server account, by ascending instance ID.
    pub fn instances(&self) -> &[ServerInstance] {
        self.instances.as_slice()
    }
    /// The instance of server `ssid`.
    pub fn by_ssid(&self, ssid: u16) -> Option<&ServerInstance> {
        self.instances.iter().find(|s| s.ssid == ssid)
    }
    /// Instance `id`.
    pub fn get(&self, id: u16) -> Option<&ServerInstance> {
        self.instances.get(id)
    }
    /// Inserts or replaces an instance (factory configuration by the runtime).
    ///
    /// # Errors
    /// [`ObjectError::Full`] when all [`SERVER_INSTANCES`] are used.
    pub fn put(&mut self, inst: ServerInstance) -> Result<(), ObjectError> {
        self.instances.put(inst)
    }
}

const SUPPORTED: &[u16] = &[
    r::SHORT_SERVER_ID,
    r::LIFETIME,
    r::DEFAULT_MINIMUM_PERIOD,
    r::DEFAULT_MAXIMUM_PERIOD,
    r::DISABLE,
    r::DISABLE_TIMEOUT,
    r::NOTIFICATION_STORING_WHEN_DISABLED_OR_OFFLINE,
    r::BINDING,
    r::REGISTRATION_UPDATE_TRIGGER,
    r::BOOTSTRAP_REQUEST_TRIGGER,
    r::MUTE_SEND,
];

/// Binding letters of LwM2M 1.1 (§5.2.1.1), plus the 1.0 queue flag `Q`.
fn valid_binding(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'U' | b'T' | b'S' | b'N' | b'Q'))
}

impl Object for Server {
    fn def(&self) -> &'static ObjectDef {
        &registry::SERVER
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
        let s = self.get(iid).ok_or(ObjectError::NotFound)?;
        match rid {
            r::SHORT_SERVER_ID => out(None, Value::Integer(i64::from(s.ssid))),
            r::LIFETIME => out(None, Value::Integer(s.lifetime_s)),
            r::DEFAULT_MINIMUM_PERIOD => s.pmin_s.map_or(Ok(()), |v| out(None, Value::Integer(v))),
            r::DEFAULT_MAXIMUM_PERIOD => s.pmax_s.map_or(Ok(()), |v| out(None, Value::Integer(v))),
            r::DISABLE_TIMEOUT => out(None, Value::Integer(s.disable_timeout_s)),
            r::NOTIFICATION_STORING_WHEN_DISABLED_OR_OFFLINE => {
                out(None, Value::Boolean(s.notification_storing))
            }
            r::BINDING => out(None, Value::String(&s.binding)),
            r::MUTE_SEND => out(None, Value::Boolean(s.mute_send)),
            _ => Err(ObjectError::NotFound),
        }
    }
    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        _ri: Option<u16>,
        v: Value<'_>,
        cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        let s = self.instances.get_mut(iid)?;
        let mut registration_changed = false;
        match rid {
            r::SHORT_SERVER_ID => s.ssid = to_u16(v)?,
            r::LIFETIME => {
                let n = non_negative(v)?;
                registration_changed = n != s.lifetime_s;
                s.lifetime_s = n;
            }
            r::DEFAULT_MINIMUM_PERIOD => s.pmin_s = Some(non_negative(v)?),
            r::DEFAULT_MAXIMUM_PERIOD => s.pmax_s = Some(non_negative(v)?),
            r::DISABLE_TIMEOUT => s.disable_timeout_s = non_negative(v)?,
            r::NOTIFICATION_STORING_WHEN_DISABLED_OR_OFFLINE => {
                s.notification_storing = to_bool(v)?
            }
            r::BINDING => {
                let b: String<4> = to_string(v)?;
                if !valid_binding(&b) {
                    return Err(ObjectError::BadValue);
                }
                registration_changed = b != s.binding;
                s.binding = b;
            }
            r::MUTE_SEND => s.mute_send = to_bool(v)?,
            _ => return Err(ObjectError::NotFound),
        }
        if registration_changed {
            let ssid = s.ssid;
            cx.emit(ObjectEvent::ServerSettingsChanged { ssid });
        }
        Ok(())
    }
    fn reset_instance(&mut self, iid: u16) {
        if let Ok(s) = self.instances.get_mut(iid) {
            // A Replace keeps the identity; every optional resource returns to its default.
            let ssid = s.ssid;
            let lifetime = s.lifetime_s;
            let binding = s.binding.clone();
            *s = ServerInstance::new(iid, ssid);
            s.lifetime_s = lifetime;
            s.binding = binding;
        }
    }
    fn execute(
        &mut self,
        iid: u16,
        rid: u16,
        cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        let ssid = self.get(iid).ok_or(ObjectError::NotFound)?.ssid;
        cx.emit(match rid {
            r::DISABLE => ObjectEvent::ServerDisable { ssid },
            r::REGISTRATION_UPDATE_TRIGGER => ObjectEvent::RegistrationUpdateTrigger { ssid },
            r::BOOTSTRAP_REQUEST_TRIGGER => ObjectEvent::BootstrapRequestTrigger { ssid },
            _ => return Err(ObjectError::MethodNotAllowed),
        });
        Ok(())
    }
    fn create(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.create_with(iid, |i| ServerInstance::new(i, 0))
    }
    fn delete(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.remove(iid)
    }
}
