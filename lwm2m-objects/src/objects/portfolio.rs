//! Portfolio (object 16, OMA 16 v1.0): identities of the host and other
//! software components, `/16/i/0/ri` with ri 0 ID, 1 manufacturer, 2 model,
//! 3 software version (carrier API §4.4).

use super::{Instance, Instances, upsert_by};
use crate::config::{PORTFOLIO_IDENTITIES, PORTFOLIO_IDENTITY_LEN, PORTFOLIO_INSTANCES};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, portfolio as r};
use heapless::{String, Vec};
use lwm2m_core::value::Value;

/// One Portfolio instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioInstance {
    /// Instance ID.
    pub id: u16,
    /// `/16/i/0/ri` identities, `(ri, text)`, ascending.
    pub identity: Vec<(u16, String<PORTFOLIO_IDENTITY_LEN>), PORTFOLIO_IDENTITIES>,
}

impl PortfolioInstance {
    /// An instance with no identities.
    pub fn new(id: u16) -> Self {
        PortfolioInstance { id, identity: Vec::new() }
    }
    /// Sets identity `ri`.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] for an empty or too long text; [`ObjectError::Full`] beyond capacity.
    pub fn set(&mut self, ri: u16, text: &str) -> Result<(), ObjectError> {
        if text.is_empty() {
            return Err(ObjectError::BadValue);
        }
        let s = String::try_from(text).map_err(|_| ObjectError::BadValue)?;
        upsert_by(&mut self.identity, (ri, s), |e| e.0)
    }
}

impl Instance for PortfolioInstance {
    fn id(&self) -> u16 {
        self.id
    }
}

/// The Portfolio object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Portfolio {
    pub(crate) instances: Instances<PortfolioInstance, PORTFOLIO_INSTANCES>,
}

impl Portfolio {
    /// Every instance, ascending.
    pub fn instances(&self) -> &[PortfolioInstance] {
        self.instances.as_slice()
    }
    /// Instance `id`.
    pub fn get(&self, id: u16) -> Option<&PortfolioInstance> {
        self.instances.get(id)
    }
    pub(crate) fn get_mut(&mut self, id: u16) -> Result<&mut PortfolioInstance, ObjectError> {
        self.instances.get_mut(id)
    }
}

const SUPPORTED: &[u16] = &[r::IDENTITY];

impl Object for Portfolio {
    fn def(&self) -> &'static ObjectDef {
        &registry::PORTFOLIO
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
            r::IDENTITY => {
                p.identity.iter().try_for_each(|(ri, s)| out(Some(*ri), Value::String(s)))
            }
            _ => Err(ObjectError::NotFound),
        }
    }
    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        ri: Option<u16>,
        v: Value<'_>,
        _cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        let (r::IDENTITY, Some(ri), Value::String(s)) = (rid, ri, v) else {
            return Err(ObjectError::BadValue);
        };
        self.get_mut(iid)?.set(ri, s)
    }
    fn clear_multiple(&mut self, iid: u16, _rid: u16) -> Result<(), ObjectError> {
        self.get_mut(iid)?.identity.clear();
        Ok(())
    }
    fn reset_instance(&mut self, iid: u16) {
        if let Ok(p) = self.get_mut(iid) {
            p.identity.clear();
        }
    }
    fn create(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.create_with(iid, PortfolioInstance::new)
    }
    fn delete(&mut self, iid: u16) -> Result<(), ObjectError> {
        self.instances.remove(iid)
    }
}
