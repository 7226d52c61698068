//! LwM2M Security (object 0, Core TS §E.1): server URIs and credentials.
//!
//! Guarantee: the secret key (PSK) never leaves through `Debug`, and the
//! object's read path never produces resource 5 at all — the store refuses
//! every device-management access to `/0` in the first place, this is the
//! second wall. Only the Bootstrap interface (or the runtime, through the
//! typed accessors) writes it.

use super::{Instance, Instances, to_bool, to_bytes, to_int, to_string, to_u16};
use crate::config::{KEY_LEN, PSK_IDENTITY_LEN, SECURITY_INSTANCES, URI_LEN};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, security as r};
use core::fmt;
use heapless::{String, Vec};
use lwm2m_core::value::Value;

/// `/0/i/2` Security Mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SecurityMode {
    /// 0: Pre-Shared Key.
    Psk,
    /// 1: Raw Public Key.
    RawPublicKey,
    /// 2: Certificate.
    Certificate,
    /// 3: No security.
    NoSec,
    /// 4: Certificate with EST.
    CertificateEst,
}

impl SecurityMode {
    /// From the resource value.
    pub fn from_i64(n: i64) -> Option<Self> {
        Some(match n {
            0 => SecurityMode::Psk,
            1 => SecurityMode::RawPublicKey,
            2 => SecurityMode::Certificate,
            3 => SecurityMode::NoSec,
            4 => SecurityMode::CertificateEst,
            _ => return None,
        })
    }
    /// The resource value.
    pub fn as_i64(self) -> i64 {
        match self {
            SecurityMode::Psk => 0,
            SecurityMode::RawPublicKey => 1,
            SecurityMode::Certificate => 2,
            SecurityMode::NoSec => 3,
            SecurityMode::CertificateEst => 4,
        }
    }
}

/// A secret key (`/0/i/5`): bytes that no `Debug` output shows.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretKey(Vec<u8, KEY_LEN>);

impl SecretKey {
    /// A key from bytes.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] if longer than [`KEY_LEN`].
    pub fn new(bytes: &[u8]) -> Result<Self, ObjectError> {
        Vec::from_slice(bytes).map(SecretKey).map_err(|_| ObjectError::BadValue)
    }
    /// The key bytes, for the DTLS layer or key provisioning.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SecretKey {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "SecretKey(<{} bytes redacted>)", self.0.len())
    }
}

/// One Security instance: a server account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityInstance {
    /// Instance ID.
    pub id: u16,
    /// `/0/i/0` LwM2M Server URI.
    pub uri: String<URI_LEN>,
    /// `/0/i/1` Bootstrap-Server.
    pub bootstrap: bool,
    /// `/0/i/2` Security Mode.
    pub mode: SecurityMode,
    /// `/0/i/3` Public Key or Identity (PSK identity in PSK mode).
    pub identity: Vec<u8, PSK_IDENTITY_LEN>,
    /// `/0/i/4` Server Public Key.
    pub server_public_key: Vec<u8, KEY_LEN>,
    /// `/0/i/5` Secret Key (the PSK in PSK mode).
    pub secret_key: SecretKey,
    /// `/0/i/10` Short Server ID (absent for the Bootstrap-Server).
    pub ssid: Option<u16>,
    /// `/0/i/11` Client Hold Off Time, seconds.
    pub client_hold_off_s: i64,
    /// `/0/i/12` Bootstrap-Server Account Timeout, seconds.
    pub bootstrap_account_timeout_s: i64,
}

impl SecurityInstance {
    /// An empty account with instance ID `id` (NoSec, no URI).
    pub fn new(id: u16) -> Self {
        SecurityInstance {
            id,
            uri: String::new(),
            bootstrap: false,
            mode: SecurityMode::NoSec,
            identity: Vec::new(),
            server_public_key: Vec::new(),
            secret_key: SecretKey::default(),
            ssid: None,
            client_hold_off_s: 0,
            bootstrap_account_timeout_s: 0,
        }
    }
}

impl Instance for SecurityInstance {
    fn id(&self) -> u16 {
        self.id
    }
}

/// The Security object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Security {
    pub(crate) instances: Instances<SecurityInstance, SECURITY_INSTANCES>,
}

impl Security {
    /// Every account, by ascending instance ID.
    pub fn instances(&self) -> &[SecurityInstance] {
        self.instances.as_slice()
    }
    /// The account of instance `id`.
    pub fn get(&self, id: u16) -> Option<&SecurityInstance> {
        self.instances.get(id)
    }
    /// The Bootstrap-Server account, if any.
    pub fn bootstrap_account(&self) -> Option<&SecurityInstance> {
        self.instances().iter().find(|s| s.bootstrap)
    }
    /// The account of the DM server `ssid`.
    pub fn server_account(&self, ssid: u16) -> Option<&SecurityInstance> {
        self.instances().iter().find(|s| !s.bootstrap && s.ssid == Some(ssid))
    }
    /// Inserts or replaces an account (factory configuration by the runtime).
    ///
    /// # Errors
    /// [`ObjectError::Full`] when all [`SECURITY_INSTANCES`] are used.
    pub fn put(&mut self, inst: SecurityInstance) -> Result<(), ObjectError> {
        self.instances.put(inst)
    }
}

const SUPPORTED: &[u16] = &[
    r::LWM2M_SERVER_URI,
    r::BOOTSTRAP_SERVER,
    r::SECURITY_MODE,
    r::PUBLIC_KEY_OR_IDENTITY,
    r::SERVER_PUBLIC_KEY,
    r::SECRET_KEY,
    r::SHORT_SERVER_ID,
    r::CLIENT_HOLD_OFF_TIME,
    r::BOOTSTRAP_SERVER_ACCOUNT_TIMEOUT,
];

impl Object for Security {
    fn def(&self) -> &'static ObjectDef {
        &registry::SECURITY
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
            r::LWM2M_SERVER_URI => out(None, Value::String(&s.uri)),
            r::BOOTSTRAP_SERVER => out(None, Value::Boolean(s.bootstrap)),
            r::SECURITY_MODE => out(None, Value::Integer(s.mode.as_i64())),
            r::PUBLIC_KEY_OR_IDENTITY => out(None, Value::Opaque(&s.identity)),
            r::SERVER_PUBLIC_KEY => out(None, Value::Opaque(&s.server_public_key)),
            // Never produced: see the module doc.
            r::SECRET_KEY => Ok(()),
            r::SHORT_SERVER_ID => {
                s.ssid.map_or(Ok(()), |v| out(None, Value::Integer(i64::from(v))))
            }
            r::CLIENT_HOLD_OFF_TIME => out(None, Value::Integer(s.client_hold_off_s)),
            r::BOOTSTRAP_SERVER_ACCOUNT_TIMEOUT => {
                out(None, Value::Integer(s.bootstrap_account_timeout_s))
            }
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
        let s = self.instances.get_mut(iid)?;
        match rid {
            r::LWM2M_SERVER_URI => s.uri = to_string(v)?,
            r::BOOTSTRAP_SERVER => s.bootstrap = to_bool(v)?,
            r::SECURITY_MODE => {
                s.mode = SecurityMode::from_i64(to_int(v)?).ok_or(ObjectError::BadValue)?
            }
            r::PUBLIC_KEY_OR_IDENTITY => s.identity = to_bytes(v)?,
            r::SERVER_PUBLIC_KEY => s.server_public_key = to_bytes(v)?,
            r::SECRET_KEY => s.secret_key = SecretKey(to_bytes(v)?),
            r::SHORT_SERVER_ID => s.ssid = Some(to_u16(v)?),
            r::CLIENT_HOLD_OFF_TIME => s.client_hold_off_s = non_negative(v)?,
            r::BOOTSTRAP_SERVER_ACCOUNT_TIMEOUT => s.bootstrap_account_timeout_s = non_negative(v)?,
            _ => return Err(ObjectError::NotFound),
        }
        Ok(())
    }
    fn reset_instance(&mut self, iid: u16) {
        if let Ok(s) = self.instances.get_mut(iid) {
            *s = SecurityInstance::new(iid);
        }
    }
    fn create(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.create_with(iid, SecurityInstance::new)
    }
    fn delete(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.remove(iid)
    }
}

pub(crate) fn non_negative(v: Value<'_>) -> Result<i64, ObjectError> {
    let n = to_int(v)?;
    if n < 0 { Err(ObjectError::BadValue) } else { Ok(n) }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn debug_output_never_contains_the_psk() {
        let mut s = SecurityInstance::new(0);
        s.secret_key = SecretKey::new(b"\x73\x65\x63\x72\x65\x74\x50\x53\x4b").unwrap(); // "secretPSK"
        let text = format!("{s:?} {:?} {:#?}", s.secret_key, s);
        assert!(!text.contains("secretPSK"), "{text}");
        assert!(!text.contains("115, 101, 99"), "{text}"); // the bytes as a list
        assert!(!text.contains("[115"), "{text}");
        assert!(text.contains("<9 bytes redacted>"), "{text}");
    }
}
