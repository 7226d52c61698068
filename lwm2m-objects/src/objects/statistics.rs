//! Connectivity Statistics (object 7, Core TS §E.8): counters the runtime
//! fills from the modem while collection runs; Start and Stop go to the
//! runtime as events.

use super::security::non_negative;
use crate::error::ObjectError;
use crate::model::{DeviceInfo, Object, ObjectEvent, ValueOut, WriteContext};
use crate::registry::{self, ObjectDef, connectivity_statistics as r};
use lwm2m_core::value::Value;

/// The Connectivity Statistics object (single instance 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectivityStatistics {
    /// `/7/0/0` SMS Tx Counter.
    pub sms_tx: i64,
    /// `/7/0/1` SMS Rx Counter.
    pub sms_rx: i64,
    /// `/7/0/2` Tx Data, kB.
    pub tx_kb: i64,
    /// `/7/0/3` Rx Data, kB.
    pub rx_kb: i64,
    /// `/7/0/4` Max Message Size, B.
    pub max_message_size: i64,
    /// `/7/0/5` Average Message Size, B.
    pub average_message_size: i64,
    /// `/7/0/8` Collection Period, s (0: until Stop).
    pub collection_period_s: i64,
    /// Whether collection runs (between Start and Stop).
    pub collecting: bool,
}

const SUPPORTED: &[u16] = &[
    r::SMS_TX_COUNTER,
    r::SMS_RX_COUNTER,
    r::TX_DATA,
    r::RX_DATA,
    r::MAX_MESSAGE_SIZE,
    r::AVERAGE_MESSAGE_SIZE,
    r::START,
    r::STOP,
    r::COLLECTION_PERIOD,
];

impl Object for ConnectivityStatistics {
    fn def(&self) -> &'static ObjectDef {
        &registry::CONNECTIVITY_STATISTICS
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
        let v = match rid {
            r::SMS_TX_COUNTER => self.sms_tx,
            r::SMS_RX_COUNTER => self.sms_rx,
            r::TX_DATA => self.tx_kb,
            r::RX_DATA => self.rx_kb,
            r::MAX_MESSAGE_SIZE => self.max_message_size,
            r::AVERAGE_MESSAGE_SIZE => self.average_message_size,
            r::COLLECTION_PERIOD => self.collection_period_s,
            _ => return Err(ObjectError::NotFound),
        };
        out(None, Value::Integer(v))
    }
    fn write(
        &mut self,
        _iid: u16,
        rid: u16,
        _ri: Option<u16>,
        v: Value<'_>,
        _cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        match rid {
            r::COLLECTION_PERIOD => self.collection_period_s = non_negative(v)?,
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        Ok(())
    }
    fn reset_instance(&mut self, _iid: u16) {
        self.collection_period_s = 0;
    }
    fn execute(
        &mut self,
        _iid: u16,
        rid: u16,
        cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        match rid {
            r::START => {
                // §E.8: Start "reset[s] resources 0-5" and starts collecting.
                let period = self.collection_period_s;
                *self = ConnectivityStatistics {
                    collection_period_s: period,
                    collecting: true,
                    ..Default::default()
                };
                cx.emit(ObjectEvent::StatisticsStart);
            }
            r::STOP => {
                self.collecting = false;
                cx.emit(ObjectEvent::StatisticsStop);
            }
            _ => return Err(ObjectError::MethodNotAllowed),
        }
        Ok(())
    }
}
