//! Connectivity Monitoring (object 4, Core TS §E.5): the radio link as the
//! modem reports it. The runtime fills the public fields through
//! [`crate::ObjectStore::update_connectivity_monitoring`], which marks the
//! resources that changed for observers.

use crate::config::{APN_LEN, BEARERS, CONN_ADDRESSES, IP_ADDRESS_LEN};
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ValueOut};
use crate::registry::{self, ObjectDef, connectivity_monitoring as r};
use heapless::{String, Vec};
use lwm2m_core::value::Value;

/// The Connectivity Monitoring object (single instance 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectivityMonitoring {
    /// `/4/0/0` Network Bearer (6 LTE-FDD, 7 LTE-TDD, 9 NB-IoT …).
    pub network_bearer: u8,
    /// `/4/0/1` Available Network Bearer.
    pub available_bearers: Vec<u8, BEARERS>,
    /// `/4/0/2` Radio Signal Strength, dBm.
    pub radio_signal_strength: i64,
    /// `/4/0/3` Link Quality.
    pub link_quality: i64,
    /// `/4/0/4` IP Addresses.
    pub ip_addresses: Vec<String<IP_ADDRESS_LEN>, CONN_ADDRESSES>,
    /// `/4/0/7` APN.
    pub apn: Vec<String<APN_LEN>, CONN_ADDRESSES>,
    /// `/4/0/8` Cell ID.
    pub cell_id: i64,
    /// `/4/0/9` SMNC.
    pub smnc: i64,
    /// `/4/0/10` SMCC.
    pub smcc: i64,
    /// `/4/0/11` SignalSNR, dB.
    pub signal_snr: i64,
    /// `/4/0/12` LAC (tracking area code on LTE).
    pub lac: i64,
}

const SUPPORTED: &[u16] = &[
    r::NETWORK_BEARER,
    r::AVAILABLE_NETWORK_BEARER,
    r::RADIO_SIGNAL_STRENGTH,
    r::LINK_QUALITY,
    r::IP_ADDRESSES,
    r::APN,
    r::CELL_ID,
    r::SMNC,
    r::SMCC,
    r::SIGNAL_SNR,
    r::LAC,
];

impl Object for ConnectivityMonitoring {
    fn def(&self) -> &'static ObjectDef {
        &registry::CONNECTIVITY_MONITORING
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
        let int = |n: i64| Value::Integer(n);
        match rid {
            r::NETWORK_BEARER => out(None, int(i64::from(self.network_bearer))),
            r::AVAILABLE_NETWORK_BEARER => (0u16..)
                .zip(&self.available_bearers)
                .try_for_each(|(i, b)| out(Some(i), int(i64::from(*b)))),
            r::RADIO_SIGNAL_STRENGTH => out(None, int(self.radio_signal_strength)),
            r::LINK_QUALITY => out(None, int(self.link_quality)),
            r::IP_ADDRESSES => (0u16..)
                .zip(&self.ip_addresses)
                .try_for_each(|(i, a)| out(Some(i), Value::String(a))),
            r::APN => (0u16..).zip(&self.apn).try_for_each(|(i, a)| out(Some(i), Value::String(a))),
            r::CELL_ID => out(None, int(self.cell_id)),
            r::SMNC => out(None, int(self.smnc)),
            r::SMCC => out(None, int(self.smcc)),
            r::SIGNAL_SNR => out(None, int(self.signal_snr)),
            r::LAC => out(None, int(self.lac)),
            _ => Err(ObjectError::NotFound),
        }
    }
}
