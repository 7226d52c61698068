//! One implementation of `Modem` and `Dfu` for both ports.
//!
//! The real and the simulated port answer modem and DFU calls the same way,
//! from their [`ModemModel`](crate::modem::ModemModel) and
//! [`DfuTarget`](crate::dfu::DfuTarget); only the clock, the power state and
//! what a modem restart does to sockets differ. [`modelled_modem_and_dfu!`]
//! writes the two trait impls once; a port provides the fields `modem` and
//! `dfu` and these inherent methods:
//!
//! - `model_now(&mut self) -> Instant` — the port's time (and any bookkeeping
//!   of modem state changes it does for its wait);
//! - `powered(&self) -> bool` — false after a simulated power cut;
//! - `on_link_request(&mut self, req: LinkRequest)` — e.g. tracing;
//! - `close_all_sockets(&mut self)` — a modem restart drops every socket.

/// Implements `carrier_os::Modem` and `carrier_os::Dfu` for a port (see the
/// module doc).
macro_rules! modelled_modem_and_dfu {
    ($port:ty) => {
        impl carrier_os::modem::Modem for $port {
            fn identity(
                &mut self,
                item: carrier_os::modem::Identity,
            ) -> Result<carrier_os::modem::IdentityString, carrier_os::modem::ModemError> {
                let now = self.model_now();
                self.modem.identity(now, item)
            }
            fn request_link(
                &mut self,
                req: carrier_os::modem::LinkRequest,
            ) -> Result<(), carrier_os::modem::ModemError> {
                if !self.powered() {
                    return Err(carrier_os::modem::ModemError::Failure);
                }
                self.on_link_request(req);
                let now = self.model_now();
                self.modem.request_link(now, req)
            }
            fn link_state(&mut self) -> carrier_os::modem::LinkState {
                let now = self.model_now();
                if self.powered() {
                    self.modem.link_state(now)
                } else {
                    carrier_os::modem::LinkState::Down
                }
            }
            fn pdn_activate(
                &mut self,
                config: &carrier_os::modem::PdnConfig<'_>,
            ) -> Result<carrier_os::modem::PdnId, carrier_os::modem::ModemError> {
                let now = self.model_now();
                self.modem.pdn_activate(now, config)
            }
            fn pdn_state(&mut self, pdn: carrier_os::modem::PdnId) -> carrier_os::modem::PdnState {
                let now = self.model_now();
                self.modem.pdn_state(now, pdn)
            }
            fn pdn_deactivate(
                &mut self,
                pdn: carrier_os::modem::PdnId,
            ) -> Result<(), carrier_os::modem::ModemError> {
                self.modem.pdn_deactivate(pdn)
            }
            fn network_info(
                &mut self,
            ) -> Result<carrier_os::modem::NetworkInfo, carrier_os::modem::ModemError> {
                let now = self.model_now();
                self.modem.network_info(now)
            }
            fn counters(
                &mut self,
            ) -> Result<carrier_os::modem::Counters, carrier_os::modem::ModemError> {
                Ok(self.modem.counters())
            }
            fn reset_counters(&mut self) -> Result<(), carrier_os::modem::ModemError> {
                self.modem.reset_counters();
                Ok(())
            }
            fn network_time(
                &mut self,
            ) -> Result<carrier_os::modem::NetworkTime, carrier_os::modem::ModemError> {
                let now = self.model_now();
                self.modem.network_time(now)
            }
            fn operator_id(&mut self) -> Result<u8, carrier_os::modem::ModemError> {
                self.modem.operator_id()
            }
            fn sim_read(
                &mut self,
                file: &carrier_os::modem::SimFile<'_>,
                buf: &mut [u8],
            ) -> Result<usize, carrier_os::modem::ModemError> {
                self.modem.sim_read(file, buf)
            }
            fn psk_store(
                &mut self,
                tag: carrier_os::modem::SecTag,
                identity: Option<&[u8]>,
                psk: &carrier_os::modem::Psk,
            ) -> Result<(), carrier_os::modem::ModemError> {
                let now = self.model_now();
                self.modem.psk_store(now, tag, identity, psk)
            }
            fn psk_exists(
                &mut self,
                tag: carrier_os::modem::SecTag,
            ) -> Result<bool, carrier_os::modem::ModemError> {
                Ok(self.modem.psk_exists(tag))
            }
            fn psk_delete(
                &mut self,
                tag: carrier_os::modem::SecTag,
            ) -> Result<(), carrier_os::modem::ModemError> {
                let now = self.model_now();
                self.modem.psk_delete(now, tag)
            }
            fn sms_receive(
                &mut self,
                buf: &mut [u8],
            ) -> Result<Option<carrier_os::modem::SmsInfo>, carrier_os::modem::ModemError> {
                self.modem.sms_receive(buf)
            }
            fn restart(&mut self) -> Result<(), carrier_os::modem::ModemError> {
                self.close_all_sockets();
                self.modem.restart();
                self.dfu.apply_modem_update().map_err(|_| carrier_os::modem::ModemError::Failure)
            }
        }

        impl carrier_os::dfu::Dfu for $port {
            const DETECT_LEN: usize = 8;
            fn dfu_detect(&self, first_bytes: &[u8]) -> Option<carrier_os::dfu::ImageType> {
                self.dfu.dfu_detect(first_bytes)
            }
            fn dfu_start(
                &mut self,
                image: carrier_os::dfu::ImageType,
                size: Option<u64>,
            ) -> Result<u64, carrier_os::dfu::DfuError> {
                self.dfu.dfu_start(image, size)
            }
            fn dfu_write(&mut self, data: &[u8]) -> Result<(), carrier_os::dfu::DfuError> {
                if !self.powered() {
                    return Err(carrier_os::dfu::DfuError::Io);
                }
                self.dfu.dfu_write(data)
            }
            fn dfu_offset(&mut self) -> u64 {
                self.dfu.dfu_offset()
            }
            fn dfu_finish(&mut self, crc32: Option<u32>) -> Result<(), carrier_os::dfu::DfuError> {
                self.dfu.dfu_finish(crc32)
            }
            fn dfu_schedule(&mut self) -> Result<(), carrier_os::dfu::DfuError> {
                self.dfu.dfu_schedule()
            }
            fn dfu_reset(&mut self) -> Result<(), carrier_os::dfu::DfuError> {
                self.dfu.dfu_reset()
            }
            fn dfu_take_outcome(
                &mut self,
            ) -> Result<Option<carrier_os::dfu::UpdateOutcome>, carrier_os::dfu::DfuError> {
                self.dfu.dfu_take_outcome()
            }
        }
    };
}

pub(crate) use modelled_modem_and_dfu;
