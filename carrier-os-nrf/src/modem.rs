//! Modem control over an AT channel: the typed operations the port uses.
//!
//! Owns the sequencing rules that single AT commands do not express: a
//! credential is written or deleted only after `+CFUN?` shows the modem
//! offline (nRF91 AT reference §5.28: "The write and delete operations are
//! allowed only when the modem is not activated"), network time falls
//! back from `%CCLK?` to `+CCLK?`, a missing `%2DID` is "not offered"
//! rather than a failure, and SIM reads check the status words.
//!
//! Guarantee: no method panics on any modem output; every failure is a
//! typed [`AtError`] or [`CredentialError`].

use core::fmt::Write;

use heapless::String;

use crate::at::types::{
    self, ConnStats, CredentialType, FunctionalMode, Monitor, NetworkTime, PdnAddresses,
    PdnContext, PdnType, Registration, SimCommand,
};
use crate::at::{
    CeregReporting, Cme, Command, CommandError, CommandLine, Final, Response, ResponseError,
};
use crate::channel::{AtChannel, ChannelError};

/// Bytes reserved for one AT response. `%XMONITOR` is under 200 bytes; a
/// `%CMNG=1` list of 12 credentials is about 1 KiB.
pub const RESPONSE_CAPACITY: usize = 1024;

/// Why an AT operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AtError {
    /// The channel failed.
    #[error("AT channel: {0}")]
    Channel(#[from] ChannelError),
    /// The command could not be built.
    #[error("AT command: {0}")]
    Command(#[from] CommandError),
    /// The response could not be read.
    #[error("AT response: {0}")]
    Response(#[from] ResponseError),
    /// The modem answered with an error result code.
    #[error("modem answered {0}")]
    Rejected(Final),
    /// The SIM answered a `+CRSM` command with an error status word.
    #[error("SIM status {sw1:#04x} {sw2:#04x}")]
    SimStatus {
        /// Status word 1.
        sw1: u8,
        /// Status word 2.
        sw2: u8,
    },
}

impl AtError {
    /// The `+CME ERROR` code, if that is what the modem answered.
    pub fn cme(&self) -> Option<Cme> {
        match self {
            AtError::Rejected(Final::CmeError(n)) => Some(Cme::from(*n)),
            _ => None,
        }
    }
}

/// Why a credential operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CredentialError {
    /// The modem is activated (LTE link possibly up): keys can be written
    /// or deleted only in power-off or offline mode. Nothing was sent.
    #[error("credential storage is locked while the modem is active")]
    LinkActive,
    /// The key is longer than the port supports (64 bytes PSK, 128 bytes
    /// identity).
    #[error("credential is too long")]
    TooLong,
    /// `+CME ERROR: 513`: no such credential.
    #[error("credential not found")]
    NotFound,
    /// `+CME ERROR: 515`: the modem's credential storage is full.
    #[error("credential storage full")]
    MemoryFull,
    /// Any other failure.
    #[error("{0}")]
    At(#[from] AtError),
}

/// Longest PSK the port writes, in bytes.
pub const MAX_PSK_LEN: usize = 64;
/// Longest PSK identity the port writes, in bytes.
pub const MAX_PSK_IDENTITY_LEN: usize = 128;

/// The nRF91 modem, controlled through AT commands on `C`.
#[derive(Debug)]
pub struct AtModem<C> {
    channel: C,
    line: CommandLine,
    buf: [u8; RESPONSE_CAPACITY],
}

impl<C: AtChannel> AtModem<C> {
    /// Wraps a channel.
    pub fn new(channel: C) -> Self {
        Self { channel, line: CommandLine::new(), buf: [0; RESPONSE_CAPACITY] }
    }

    /// The channel (e.g. to check a transcript was played to its end).
    pub fn channel(&self) -> &C {
        &self.channel
    }

    /// The channel, mutably.
    pub fn channel_mut(&mut self) -> &mut C {
        &mut self.channel
    }

    /// Sends `cmd` and frames the response; a non-`OK` final code is an
    /// error.
    fn run(&mut self, cmd: Command<'_>) -> Result<Response<'_>, AtError> {
        cmd.emit(&mut self.line)?;
        let n = self.channel.exchange(&self.line, &mut self.buf)?;
        let bytes = self.buf.get(..n).ok_or(ChannelError::Overflow)?;
        let response = Response::parse(bytes)?;
        response.result().map_err(AtError::Rejected)?;
        Ok(response)
    }

    /// Sends a raw command line that this crate has no type for and
    /// returns the framed response (for diagnostics and shells).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn raw(&mut self, line: &str) -> Result<Response<'_>, AtError> {
        let n = self.channel.exchange(line, &mut self.buf)?;
        let bytes = self.buf.get(..n).ok_or(ChannelError::Overflow)?;
        Ok(Response::parse(bytes)?)
    }

    /// Takes the next pending notification (parse it with
    /// [`crate::at::Urc::parse`]).
    pub fn poll_notification<'b>(&mut self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let n = self.channel.poll_notification(buf)?;
        buf.get(..n)
    }

    // ------------------------------------------------------------ identity

    /// IMEI (`AT+CGSN=1`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn imei(&mut self) -> Result<String<15>, AtError> {
        Ok(types::parse_imei(&self.run(Command::Imei)?)?)
    }

    /// IMSI (`AT+CIMI`).
    ///
    /// # Errors
    /// [`AtError`] (`+CME ERROR: 10` without a SIM).
    pub fn imsi(&mut self) -> Result<String<15>, AtError> {
        Ok(types::parse_imsi(&self.run(Command::Imsi)?)?)
    }

    /// ICCID (`AT%XICCID`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn iccid(&mut self) -> Result<String<22>, AtError> {
        Ok(types::parse_iccid(&self.run(Command::Iccid)?)?)
    }

    /// MSISDN (`AT+CNUM`); `None` when the SIM holds no number.
    ///
    /// # Errors
    /// [`AtError`].
    pub fn msisdn(&mut self) -> Result<Option<String<20>>, AtError> {
        Ok(types::parse_msisdn(&self.run(Command::Msisdn)?)?)
    }

    /// Manufacturer (`AT+CGMI`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn manufacturer(&mut self) -> Result<String<64>, AtError> {
        Ok(types::parse_bare_text(&self.run(Command::Manufacturer)?)?)
    }

    /// Model (`AT+CGMM`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn model(&mut self) -> Result<String<64>, AtError> {
        Ok(types::parse_bare_text(&self.run(Command::Model)?)?)
    }

    /// Modem firmware version (`AT+CGMR`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn firmware_version(&mut self) -> Result<String<64>, AtError> {
        Ok(types::parse_bare_text(&self.run(Command::Revision)?)?)
    }

    /// Hardware version (`AT%HWVERSION`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn hardware_version(&mut self) -> Result<String<64>, AtError> {
        Ok(types::parse_hw_version(&self.run(Command::HardwareVersion)?)?)
    }

    /// SiP 2D identifier (`AT%2DID`); `None` when the modem firmware does not
    /// offer the command (it answers `ERROR`).
    ///
    /// # Errors
    /// [`AtError`] for anything but a plain `ERROR`.
    pub fn two_did(&mut self) -> Result<Option<String<32>>, AtError> {
        match self.run(Command::TwoDid) {
            Ok(r) => Ok(Some(types::parse_two_did(&r)?)),
            Err(AtError::Rejected(Final::Error)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    // ------------------------------------------------------------ CFUN, CEREG

    /// Current functional mode (`AT+CFUN?`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn functional_mode(&mut self) -> Result<FunctionalMode, AtError> {
        Ok(types::parse_cfun(&self.run(Command::ReadFunctionalMode)?)?)
    }

    /// Sets the functional mode (`AT+CFUN=<fun>`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn set_functional_mode(&mut self, mode: FunctionalMode) -> Result<(), AtError> {
        self.run(Command::SetFunctionalMode(mode)).map(drop)
    }

    /// Enables `+CEREG` notifications at `level`.
    ///
    /// # Errors
    /// [`AtError`].
    pub fn set_registration_reporting(&mut self, level: CeregReporting) -> Result<(), AtError> {
        self.run(Command::SetCereg(level)).map(drop)
    }

    /// Current registration (`AT+CEREG?`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn registration(&mut self) -> Result<Registration, AtError> {
        Ok(types::parse_cereg_read(&self.run(Command::ReadCereg)?)?)
    }

    // ------------------------------------------------------------ PDN

    /// Defines context `cid` (`AT+CGDCONT`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn define_pdn(&mut self, cid: u8, pdn_type: PdnType, apn: &str) -> Result<(), AtError> {
        self.run(Command::DefinePdn { cid, pdn_type, apn }).map(drop)
    }

    /// Activates or deactivates context `cid` (`AT+CGACT`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn activate_pdn(&mut self, cid: u8, active: bool) -> Result<(), AtError> {
        self.run(Command::ActivatePdn { cid, active }).map(drop)
    }

    /// The definition of context `cid`, if defined (`AT+CGDCONT?`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn pdn_context(&mut self, cid: u8) -> Result<Option<PdnContext>, AtError> {
        let r = self.run(Command::ReadPdnContexts)?;
        for ctx in types::pdn_contexts(&r) {
            let ctx = ctx?;
            if ctx.cid == cid {
                return Ok(Some(ctx));
            }
        }
        Ok(None)
    }

    /// Whether context `cid` is active (`AT+CGACT?`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn pdn_active(&mut self, cid: u8) -> Result<bool, AtError> {
        let r = self.run(Command::ReadPdnActivation)?;
        for entry in types::pdn_activation(&r) {
            let (c, active) = entry?;
            if c == cid {
                return Ok(active);
            }
        }
        Ok(false)
    }

    /// PDN ID of context `cid` (`AT%XGETPDNID`), for binding sockets.
    ///
    /// # Errors
    /// [`AtError`].
    pub fn pdn_id(&mut self, cid: u8) -> Result<u8, AtError> {
        Ok(types::parse_pdn_id(&self.run(Command::PdnId { cid })?)?)
    }

    /// Addresses of context `cid` (`AT+CGPADDR`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn pdn_addresses(&mut self, cid: u8) -> Result<PdnAddresses, AtError> {
        Ok(types::parse_pdn_addresses(&self.run(Command::PdnAddresses { cid })?)?)
    }

    /// Allocates a new context identifier (`AT%XNEWCID?`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn new_cid(&mut self) -> Result<u8, AtError> {
        Ok(types::parse_new_cid(&self.run(Command::NewCid)?)?)
    }

    // ------------------------------------------------------------ radio

    /// Registration, operator and serving cell (`AT%XMONITOR`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn monitor(&mut self) -> Result<Monitor, AtError> {
        Ok(types::parse_monitor(&self.run(Command::Monitor)?)?)
    }

    /// `(rsrq_index, rsrp_dbm)` from `AT+CESQ`.
    ///
    /// # Errors
    /// [`AtError`].
    pub fn signal_quality(&mut self) -> Result<(Option<u8>, Option<i16>), AtError> {
        Ok(types::parse_cesq(&self.run(Command::SignalQuality)?)?)
    }

    /// SNR in dB (`AT%XSNRSQ?`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn snr(&mut self) -> Result<Option<i8>, AtError> {
        Ok(types::parse_snr(&self.run(Command::Snr)?)?)
    }

    /// Current band (`AT%XCBAND`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn band(&mut self) -> Result<Option<u8>, AtError> {
        Ok(types::parse_band(&self.run(Command::Band)?)?)
    }

    /// Network time: `%CCLK?` (with daylight saving), falling back to
    /// `+CCLK?` on modem firmware without `%CCLK` (it answers `ERROR`).
    /// `Ok(None)` when the network has not provided time (both `ERROR`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn network_time(&mut self) -> Result<Option<NetworkTime>, AtError> {
        match self.run(Command::NetworkTime) {
            Ok(r) => return Ok(Some(types::parse_nordic_clock(&r)?)),
            Err(AtError::Rejected(Final::Error)) => {}
            Err(e) => return Err(e),
        }
        match self.run(Command::Clock) {
            Ok(r) => Ok(Some(types::parse_clock(&r)?)),
            Err(AtError::Rejected(Final::Error)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    // ------------------------------------------------------------ credentials

    fn require_offline(&mut self) -> Result<(), CredentialError> {
        if self.functional_mode()?.allows_credential_write() {
            Ok(())
        } else {
            Err(CredentialError::LinkActive)
        }
    }

    fn credential_result(r: Result<Response<'_>, AtError>) -> Result<(), CredentialError> {
        match r {
            Ok(_) => Ok(()),
            Err(e) => Err(match e.cme() {
                Some(Cme::NotAllowedInActiveState) => CredentialError::LinkActive,
                Some(Cme::NotFound) => CredentialError::NotFound,
                Some(Cme::MemoryFull) => CredentialError::MemoryFull,
                _ => CredentialError::At(e),
            }),
        }
    }

    /// Writes a PSK into security tag `tag` (`AT%CMNG=0,<tag>,3,"<hex>"`).
    ///
    /// Reads `+CFUN?` first and refuses with [`CredentialError::LinkActive`]
    /// unless the modem is powered off or offline; nothing is written then.
    ///
    /// # Errors
    /// [`CredentialError`].
    pub fn write_psk(&mut self, tag: u32, psk: &[u8]) -> Result<(), CredentialError> {
        if psk.is_empty() || psk.len() > MAX_PSK_LEN {
            return Err(CredentialError::TooLong);
        }
        self.require_offline()?;
        let mut hex: String<{ 2 * MAX_PSK_LEN }> = String::new();
        for b in psk {
            write!(hex, "{b:02X}").map_err(|_| CredentialError::TooLong)?;
        }
        let r =
            self.run(Command::CredentialWrite { tag, kind: CredentialType::Psk, content: &hex });
        Self::credential_result(r)
    }

    /// Writes a PSK identity into security tag `tag` (`AT%CMNG=0,<tag>,4,…`).
    /// Same offline rule as [`AtModem::write_psk`].
    ///
    /// # Errors
    /// [`CredentialError`].
    pub fn write_psk_identity(&mut self, tag: u32, identity: &str) -> Result<(), CredentialError> {
        if identity.is_empty() || identity.len() > MAX_PSK_IDENTITY_LEN {
            return Err(CredentialError::TooLong);
        }
        self.require_offline()?;
        let r = self.run(Command::CredentialWrite {
            tag,
            kind: CredentialType::PskIdentity,
            content: identity,
        });
        Self::credential_result(r)
    }

    /// Deletes one credential (`AT%CMNG=3`). Same offline rule as
    /// [`AtModem::write_psk`].
    ///
    /// # Errors
    /// [`CredentialError`] ([`CredentialError::NotFound`] if absent).
    pub fn delete_credential(
        &mut self,
        tag: u32,
        kind: CredentialType,
    ) -> Result<(), CredentialError> {
        self.require_offline()?;
        let r = self.run(Command::CredentialDelete { tag, kind });
        Self::credential_result(r)
    }

    /// Whether a credential exists (`AT%CMNG=1,<tag>,<type>`); listing is
    /// allowed in any mode.
    ///
    /// # Errors
    /// [`AtError`].
    pub fn credential_exists(&mut self, tag: u32, kind: CredentialType) -> Result<bool, AtError> {
        let r = self.run(Command::CredentialList { tag: Some(tag), kind: Some(kind) })?;
        for entry in types::credentials(&r) {
            let entry = entry?;
            if entry.tag == tag && entry.kind == kind {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Calls `f` for every stored credential (`AT%CMNG=1`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn list_credentials(
        &mut self,
        mut f: impl FnMut(types::CredentialEntry),
    ) -> Result<(), AtError> {
        let r = self.run(Command::CredentialList { tag: None, kind: None })?;
        for entry in types::credentials(&r) {
            f(entry?);
        }
        Ok(())
    }

    // ------------------------------------------------------------ SIM

    /// Reads `len` bytes at `offset` of a transparent elementary file
    /// (`AT+CRSM=176,…`) into `out`; `path` is the hex path from MF or empty.
    ///
    /// # Errors
    /// [`AtError::SimStatus`] when the SIM refuses (e.g. `6A 82`: file not
    /// found), other [`AtError`]s as usual.
    pub fn sim_read_binary(
        &mut self,
        file_id: u16,
        path: &str,
        offset: u16,
        len: u8,
        out: &mut [u8],
    ) -> Result<usize, AtError> {
        let [p1, p2] = offset.to_be_bytes();
        let cmd = Command::Crsm { command: SimCommand::ReadBinary, file_id, p1, p2, p3: len, path };
        Self::sim_data(self.run(cmd)?, out)
    }

    /// Reads record `record` (1-based) of a linear-fixed elementary file
    /// (`AT+CRSM=178,…`, P2 = 4: absolute mode).
    ///
    /// # Errors
    /// As [`AtModem::sim_read_binary`].
    pub fn sim_read_record(
        &mut self,
        file_id: u16,
        path: &str,
        record: u8,
        len: u8,
        out: &mut [u8],
    ) -> Result<usize, AtError> {
        let cmd = Command::Crsm {
            command: SimCommand::ReadRecord,
            file_id,
            p1: record,
            p2: 4,
            p3: len,
            path,
        };
        Self::sim_data(self.run(cmd)?, out)
    }

    fn sim_data(r: Response<'_>, out: &mut [u8]) -> Result<usize, AtError> {
        let sim = types::parse_crsm(&r)?;
        if !sim.is_success() {
            return Err(AtError::SimStatus { sw1: sim.sw1, sw2: sim.sw2 });
        }
        Ok(sim.decode(out)?)
    }

    // ------------------------------------------------------------ statistics, SMS

    /// Starts or stops connection statistics (`AT%XCONNSTAT=<1|0>`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn set_conn_stats(&mut self, start: bool) -> Result<(), AtError> {
        self.run(Command::ConnStat { start }).map(drop)
    }

    /// Connection statistics (`AT%XCONNSTAT?`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn conn_stats(&mut self) -> Result<ConnStats, AtError> {
        Ok(types::parse_conn_stats(&self.run(Command::ReadConnStat)?)?)
    }

    /// Routes incoming SMS to `+CMT` notifications (`AT+CNMI=3,2,0,1`).
    ///
    /// # Errors
    /// [`AtError`].
    pub fn enable_sms(&mut self) -> Result<(), AtError> {
        self.run(Command::SmsNotify).map(drop)
    }

    /// Sends an SMS-SUBMIT PDU; returns the message reference.
    ///
    /// # Errors
    /// [`AtError`] (`+CMS ERROR` from the network side).
    pub fn send_sms(&mut self, tpdu_len: u8, pdu_hex: &str) -> Result<u8, AtError> {
        Ok(types::parse_sms_sent(&self.run(Command::SmsSend { tpdu_len, pdu_hex })?)?)
    }
}
