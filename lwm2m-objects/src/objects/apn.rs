//! APN Connection Profile (object 11, OMA LwM2M APN Connection Profile 1.1):
//! the APNs a server may configure. The secret (PAP/CHAP password) never
//! appears in `Debug` output.

use super::{Instance, Instances, to_bool, to_int, to_string};
use crate::config::{APN_LEN, APN_PROFILES, SHORT_STRING_LEN};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, apn_connection_profile as r};
use core::fmt;
use heapless::String;
use lwm2m_core::value::Value;

/// One APN Connection Profile instance.
#[derive(Clone, PartialEq, Eq)]
pub struct ApnProfile {
    /// Instance ID.
    pub id: u16,
    /// `/11/i/0` Profile name.
    pub profile_name: String<SHORT_STRING_LEN>,
    /// `/11/i/1` APN.
    pub apn: String<APN_LEN>,
    /// `/11/i/3` Enable status.
    pub enabled: bool,
    /// `/11/i/4` Authentication Type: 0 PAP, 1 CHAP, 2 PAP or CHAP, 3 none.
    pub auth_type: u8,
    /// `/11/i/5` User Name.
    pub user_name: String<SHORT_STRING_LEN>,
    /// `/11/i/6` Secret (redacted from `Debug`).
    pub secret: String<SHORT_STRING_LEN>,
    /// `/11/i/24` PDN Type: 0 Non-IP, 1 IPv4, 2 IPv6, 3 IPv4v6.
    pub pdn_type: u8,
}

impl fmt::Debug for ApnProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApnProfile")
            .field("id", &self.id)
            .field("profile_name", &self.profile_name)
            .field("apn", &self.apn)
            .field("enabled", &self.enabled)
            .field("auth_type", &self.auth_type)
            .field("user_name", &self.user_name)
            .field("secret", &"<redacted>")
            .field("pdn_type", &self.pdn_type)
            .finish()
    }
}

impl ApnProfile {
    /// An enabled profile with no APN (network default), no authentication, IPv4v6.
    pub fn new(id: u16) -> Self {
        ApnProfile {
            id,
            profile_name: String::new(),
            apn: String::new(),
            enabled: true,
            auth_type: 3,
            user_name: String::new(),
            secret: String::new(),
            pdn_type: 3,
        }
    }
}

impl Instance for ApnProfile {
    fn id(&self) -> u16 {
        self.id
    }
}

/// The APN Connection Profile object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApnProfiles {
    pub(crate) instances: Instances<ApnProfile, APN_PROFILES>,
}

impl ApnProfiles {
    /// Every profile, ascending.
    pub fn instances(&self) -> &[ApnProfile] {
        self.instances.as_slice()
    }
    /// Profile `id`.
    pub fn get(&self, id: u16) -> Option<&ApnProfile> {
        self.instances.get(id)
    }
    /// Inserts or replaces a profile.
    ///
    /// # Errors
    /// [`ObjectError::Full`] when all [`APN_PROFILES`] are used.
    pub fn put(&mut self, p: ApnProfile) -> Result<(), ObjectError> {
        self.instances.put(p)
    }
}

const SUPPORTED: &[u16] = &[
    r::PROFILE_NAME,
    r::APN,
    r::ENABLE_STATUS,
    r::AUTHENTICATION_TYPE,
    r::USER_NAME,
    r::SECRET,
    r::PDN_TYPE,
];

fn small(v: Value<'_>, max: u8) -> Result<u8, ObjectError> {
    u8::try_from(to_int(v)?).ok().filter(|n| *n <= max).ok_or(ObjectError::BadValue)
}

impl Object for ApnProfiles {
    fn def(&self) -> &'static ObjectDef {
        &registry::APN_CONNECTION_PROFILE
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
            r::PROFILE_NAME => out(None, Value::String(&p.profile_name)),
            r::APN => out(None, Value::String(&p.apn)),
            r::ENABLE_STATUS => out(None, Value::Boolean(p.enabled)),
            r::AUTHENTICATION_TYPE => out(None, Value::Integer(i64::from(p.auth_type))),
            r::USER_NAME => out(None, Value::String(&p.user_name)),
            r::SECRET => out(None, Value::String(&p.secret)),
            r::PDN_TYPE => out(None, Value::Integer(i64::from(p.pdn_type))),
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
        let p = self.instances.get_mut(iid)?;
        match rid {
            r::PROFILE_NAME => p.profile_name = to_string(v)?,
            r::APN => p.apn = to_string(v)?,
            r::ENABLE_STATUS => p.enabled = to_bool(v)?,
            r::AUTHENTICATION_TYPE => p.auth_type = small(v, 3)?,
            r::USER_NAME => p.user_name = to_string(v)?,
            r::SECRET => p.secret = to_string(v)?,
            r::PDN_TYPE => p.pdn_type = small(v, 3)?,
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        cx.emit(ObjectEvent::ApnProfilesChanged);
        Ok(())
    }
    fn reset_instance(&mut self, iid: u16) {
        if let Ok(p) = self.instances.get_mut(iid) {
            *p = ApnProfile::new(iid);
        }
    }
    fn create(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.create_with(iid, ApnProfile::new)
    }
    fn delete(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.remove(iid)
    }
}
