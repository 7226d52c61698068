//! The carrier-os conformance suite (from `carrier_os::conformance`, shared
//! with `carrier-os-std`) against the nRF91 port built for the host: the
//! port's `Modem` runs over a modem transcript, time is virtual.

use carrier_os::conformance;
use carrier_os::modem::{
    Counters, Identity, IdentityString, LinkRequest, LinkState, Modem, ModemError, NetworkInfo,
    NetworkTime, PdnConfig, PdnId, PdnState, Psk, SecTag,
};
use carrier_os::time::{Clock, Duration, Instant};
use carrier_os::wait::{Wait, Wake};
use carrier_os_nrf::modem::AtModem;
use carrier_os_nrf::port::NrfModem;
use carrier_os_nrf::transcript::Transcript;

/// The port's modem plus a virtual clock (the suite needs `Clock + Wait`).
struct Harness {
    modem: NrfModem<Transcript<'static>>,
    now_ms: u64,
}

impl Clock for Harness {
    fn now(&self) -> Instant {
        Instant::from_millis(self.now_ms)
    }
}

impl Wait for Harness {
    fn wait_until(&mut self, deadline: Option<Instant>) -> Wake {
        // Notifications are already queued in the transcript: report I/O
        // after advancing virtual time a little, as a modem would.
        self.now_ms += 100;
        if let Some(d) = deadline
            && self.now_ms >= d.as_millis()
        {
            return Wake::Deadline;
        }
        Wake::Io
    }
}

impl Modem for Harness {
    fn identity(&mut self, item: Identity) -> Result<IdentityString, ModemError> {
        self.modem.identity(item)
    }
    fn request_link(&mut self, req: LinkRequest) -> Result<(), ModemError> {
        self.modem.request_link(req)
    }
    fn link_state(&mut self) -> LinkState {
        self.modem.link_state()
    }
    fn pdn_activate(&mut self, config: &PdnConfig<'_>) -> Result<PdnId, ModemError> {
        self.modem.pdn_activate(config)
    }
    fn pdn_state(&mut self, pdn: PdnId) -> PdnState {
        self.modem.pdn_state(pdn)
    }
    fn pdn_deactivate(&mut self, pdn: PdnId) -> Result<(), ModemError> {
        self.modem.pdn_deactivate(pdn)
    }
    fn network_info(&mut self) -> Result<NetworkInfo, ModemError> {
        self.modem.network_info()
    }
    fn counters(&mut self) -> Result<Counters, ModemError> {
        self.modem.counters()
    }
    fn reset_counters(&mut self) -> Result<(), ModemError> {
        self.modem.reset_counters()
    }
    fn network_time(&mut self) -> Result<NetworkTime, ModemError> {
        self.modem.network_time()
    }
    fn psk_store(
        &mut self,
        tag: SecTag,
        identity: Option<&[u8]>,
        psk: &Psk,
    ) -> Result<(), ModemError> {
        self.modem.psk_store(tag, identity, psk)
    }
    fn psk_exists(&mut self, tag: SecTag) -> Result<bool, ModemError> {
        self.modem.psk_exists(tag)
    }
    fn psk_delete(&mut self, tag: SecTag) -> Result<(), ModemError> {
        self.modem.psk_delete(tag)
    }
    fn restart(&mut self) -> Result<(), ModemError> {
        self.modem.restart()
    }
}

#[test]
fn modem_suite_passes_on_the_nrf_port_over_a_transcript() {
    let script = include_str!("transcripts/conformance_modem.txt");
    let mut h = Harness { modem: NrfModem::new(AtModem::new(Transcript::new(script))), now_ms: 0 };
    h.modem.init().unwrap();
    conformance::modem_suite(&mut h, Duration::from_secs(60));
    let transcript = h.modem.at().channel();
    transcript.finish().expect("the suite drove every scripted command");
    assert_eq!(transcript.dropped_notifications(), 0, "no notification was lost");
}
