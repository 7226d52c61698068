//! Typed AT requests and their exact text.
//!
//! Owns the request syntax of the nRF91 AT Commands reference (identity §4,
//! `+CFUN` §5.1, `+CRSM` §5.9, `%XCBAND` §5.14, `%XCONNSTAT` §5.22,
//! `%CMNG` §5.28, `+CCLK`/`%CCLK` §5.31–5.32, packet-domain `+CEREG`,
//! `+CGDCONT`, `+CGACT`, `+CGPADDR`, `%XGETPDNID`, `%XNEWCID`, network
//! `%XMONITOR`, `+CESQ`, `%XSNRSQ`, SMS `+CNMI`/`+CMGS`).
//!
//! Guarantee: [`Command::emit`] never panics; it refuses arguments that
//! would change the meaning of the line (a `"` or control character inside
//! a string parameter, a non-hex PSK) with [`CommandError::InvalidArgument`]
//! and a line longer than [`COMMAND_CAPACITY`] with
//! [`CommandError::TooLong`].
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use core::fmt::Write;

use heapless::String;

use super::types::{CredentialType, FunctionalMode, PdnType, SimCommand};

/// Longest command line we build, in bytes. Large enough for a 64-byte PSK
/// (128 hex characters) or a 128-character PSK identity plus framing, and
/// for an SMS-SUBMIT PDU of 140 octets of user data.
pub const COMMAND_CAPACITY: usize = 512;

/// An AT command line ready to send.
pub type CommandLine = String<COMMAND_CAPACITY>;

/// Why a command could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CommandError {
    /// The command line would exceed [`COMMAND_CAPACITY`].
    #[error("command line exceeds its capacity")]
    TooLong,
    /// A parameter contains characters the command cannot carry.
    #[error("command parameter is not valid")]
    InvalidArgument,
}

/// `+CEREG` reporting level (3GPP TS 27.007 §10.1.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CeregReporting {
    /// 0: no notifications.
    Off,
    /// 2: status, TAC, cell ID and access technology.
    Location,
    /// 5: as 2, plus reject cause and PSM timers.
    LocationCausePsm,
}

/// One AT request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `AT+CGSN=1`: IMEI.
    Imei,
    /// `AT+CIMI`: IMSI.
    Imsi,
    /// `AT%XICCID`: ICCID of the UICC.
    Iccid,
    /// `AT+CNUM`: subscriber number (MSISDN).
    Msisdn,
    /// `AT+CGMI`: manufacturer.
    Manufacturer,
    /// `AT+CGMM`: model.
    Model,
    /// `AT+CGMR`: modem firmware revision.
    Revision,
    /// `AT%HWVERSION`: hardware version.
    HardwareVersion,
    /// `AT%2DID`: the SiP 2D identifier (serial printed on the package),
    /// offered by newer modem firmware only.
    TwoDid,
    /// `AT+CFUN=<fun>`.
    SetFunctionalMode(FunctionalMode),
    /// `AT+CFUN?`.
    ReadFunctionalMode,
    /// `AT+CEREG=<n>`.
    SetCereg(CeregReporting),
    /// `AT+CEREG?`.
    ReadCereg,
    /// `AT+CGDCONT=<cid>,"<type>","<apn>"`.
    DefinePdn {
        /// Context identifier (0 is the default bearer).
        cid: u8,
        /// PDN type.
        pdn_type: PdnType,
        /// Access point name; empty lets the network choose.
        apn: &'a str,
    },
    /// `AT+CGDCONT?`.
    ReadPdnContexts,
    /// `AT+CGACT=<state>,<cid>`.
    ActivatePdn {
        /// Context identifier.
        cid: u8,
        /// `true` activates, `false` deactivates.
        active: bool,
    },
    /// `AT+CGACT?`.
    ReadPdnActivation,
    /// `AT%XGETPDNID=<cid>`: the PDN ID sockets bind to.
    PdnId {
        /// Context identifier.
        cid: u8,
    },
    /// `AT+CGPADDR=<cid>`.
    PdnAddresses {
        /// Context identifier.
        cid: u8,
    },
    /// `AT%XNEWCID?`: allocate a new context identifier.
    NewCid,
    /// `AT%XMONITOR`: registration, operator and serving-cell snapshot.
    Monitor,
    /// `AT+CESQ`: RSRP/RSRQ.
    SignalQuality,
    /// `AT%XSNRSQ?`: SNR.
    Snr,
    /// `AT%XCBAND`: current band.
    Band,
    /// `AT%CCLK?`: network time with daylight-saving adjustment.
    NetworkTime,
    /// `AT+CCLK?`: network time (3GPP form).
    Clock,
    /// `AT%CMNG=0,<tag>,<type>,"<content>"`: write a credential.
    /// Allowed only while the modem is not activated.
    CredentialWrite {
        /// Security tag.
        tag: u32,
        /// Credential type (PSK content is hex, two characters per octet).
        kind: CredentialType,
        /// Content as it goes on the line.
        content: &'a str,
    },
    /// `AT%CMNG=1[,<tag>[,<type>]]`: list credentials.
    CredentialList {
        /// Restrict to one security tag.
        tag: Option<u32>,
        /// Restrict to one type (needs `tag`).
        kind: Option<CredentialType>,
    },
    /// `AT%CMNG=3,<tag>,<type>`: delete a credential.
    CredentialDelete {
        /// Security tag.
        tag: u32,
        /// Credential type.
        kind: CredentialType,
    },
    /// `AT+CRSM=<cmd>,<fileid>,<P1>,<P2>,<P3>[,,"<path>"]`: restricted SIM
    /// access.
    Crsm {
        /// SIM command.
        command: SimCommand,
        /// Elementary file identifier.
        file_id: u16,
        /// P1.
        p1: u8,
        /// P2.
        p2: u8,
        /// P3 (length to read).
        p3: u8,
        /// Path from MF in hex (`"3F007FFF"`), empty for none.
        path: &'a str,
    },
    /// `AT%XCONNSTAT=<1|0>`: start or stop collecting statistics.
    ConnStat {
        /// `true` starts, `false` stops.
        start: bool,
    },
    /// `AT%XCONNSTAT?`.
    ReadConnStat,
    /// `AT+CNMI=3,2,0,1`: deliver incoming SMS as `+CMT` notifications.
    SmsNotify,
    /// `AT+CMGS=<len><CR><pdu><Ctrl-Z>`: send an SMS-SUBMIT PDU (hex).
    SmsSend {
        /// TPDU length in octets (excluding the SMSC part).
        tpdu_len: u8,
        /// The PDU in hex, SMSC part first.
        pdu_hex: &'a str,
    },
}

impl Command<'_> {
    /// The information-line prefix the response carries, if any.
    pub fn response_prefix(&self) -> Option<&'static str> {
        Some(match self {
            Command::Imei => "+CGSN:",
            Command::Iccid => "%XICCID:",
            Command::Msisdn => "+CNUM:",
            Command::HardwareVersion => "%HWVERSION:",
            Command::TwoDid => "%2DID:",
            Command::ReadFunctionalMode => "+CFUN:",
            Command::ReadCereg => "+CEREG:",
            Command::ReadPdnContexts => "+CGDCONT:",
            Command::ReadPdnActivation => "+CGACT:",
            Command::PdnId { .. } => "%XGETPDNID:",
            Command::PdnAddresses { .. } => "+CGPADDR:",
            Command::NewCid => "%XNEWCID:",
            Command::Monitor => "%XMONITOR:",
            Command::SignalQuality => "+CESQ:",
            Command::Snr => "%XSNRSQ:",
            Command::Band => "%XCBAND:",
            Command::NetworkTime => "%CCLK:",
            Command::Clock => "+CCLK:",
            Command::CredentialList { .. } => "%CMNG:",
            Command::Crsm { .. } => "+CRSM:",
            Command::ReadConnStat => "%XCONNSTAT:",
            Command::SmsSend { .. } => "+CMGS:",
            _ => return None,
        })
    }

    /// Writes the command line into `out` (cleared first).
    ///
    /// # Errors
    /// [`CommandError::InvalidArgument`] for parameters the line cannot
    /// carry, [`CommandError::TooLong`] when it would not fit.
    pub fn emit(&self, out: &mut CommandLine) -> Result<(), CommandError> {
        out.clear();
        let r = match *self {
            Command::Imei => out.write_str("AT+CGSN=1"),
            Command::Imsi => out.write_str("AT+CIMI"),
            Command::Iccid => out.write_str("AT%XICCID"),
            Command::Msisdn => out.write_str("AT+CNUM"),
            Command::Manufacturer => out.write_str("AT+CGMI"),
            Command::Model => out.write_str("AT+CGMM"),
            Command::Revision => out.write_str("AT+CGMR"),
            Command::HardwareVersion => out.write_str("AT%HWVERSION"),
            Command::TwoDid => out.write_str("AT%2DID"),
            Command::SetFunctionalMode(mode) => write!(out, "AT+CFUN={}", u8::from(mode)),
            Command::ReadFunctionalMode => out.write_str("AT+CFUN?"),
            Command::SetCereg(n) => write!(
                out,
                "AT+CEREG={}",
                match n {
                    CeregReporting::Off => 0,
                    CeregReporting::Location => 2,
                    CeregReporting::LocationCausePsm => 5,
                }
            ),
            Command::ReadCereg => out.write_str("AT+CEREG?"),
            Command::DefinePdn { cid, pdn_type, apn } => {
                check_string(apn)?;
                if apn.len() > 100 {
                    return Err(CommandError::InvalidArgument);
                }
                write!(out, "AT+CGDCONT={cid},\"{}\",\"{apn}\"", pdn_type.as_str())
            }
            Command::ReadPdnContexts => out.write_str("AT+CGDCONT?"),
            Command::ActivatePdn { cid, active } => {
                write!(out, "AT+CGACT={},{cid}", u8::from(active))
            }
            Command::ReadPdnActivation => out.write_str("AT+CGACT?"),
            Command::PdnId { cid } => write!(out, "AT%XGETPDNID={cid}"),
            Command::PdnAddresses { cid } => write!(out, "AT+CGPADDR={cid}"),
            Command::NewCid => out.write_str("AT%XNEWCID?"),
            Command::Monitor => out.write_str("AT%XMONITOR"),
            Command::SignalQuality => out.write_str("AT+CESQ"),
            Command::Snr => out.write_str("AT%XSNRSQ?"),
            Command::Band => out.write_str("AT%XCBAND"),
            Command::NetworkTime => out.write_str("AT%CCLK?"),
            Command::Clock => out.write_str("AT+CCLK?"),
            Command::CredentialWrite { tag, kind, content } => {
                check_string(content)?;
                if content.is_empty() {
                    return Err(CommandError::InvalidArgument);
                }
                if kind == CredentialType::Psk
                    && (!content.len().is_multiple_of(2)
                        || !content.bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    return Err(CommandError::InvalidArgument);
                }
                write!(out, "AT%CMNG=0,{tag},{},\"{content}\"", u8::from(kind))
            }
            Command::CredentialList { tag, kind } => match (tag, kind) {
                (None, None) => out.write_str("AT%CMNG=1"),
                (Some(tag), None) => write!(out, "AT%CMNG=1,{tag}"),
                (Some(tag), Some(kind)) => write!(out, "AT%CMNG=1,{tag},{}", u8::from(kind)),
                (None, Some(_)) => return Err(CommandError::InvalidArgument),
            },
            Command::CredentialDelete { tag, kind } => {
                write!(out, "AT%CMNG=3,{tag},{}", u8::from(kind))
            }
            Command::Crsm { command, file_id, p1, p2, p3, path } => {
                if !path.bytes().all(|b| b.is_ascii_hexdigit()) || !path.len().is_multiple_of(4) {
                    return Err(CommandError::InvalidArgument);
                }
                let r = write!(out, "AT+CRSM={},{file_id},{p1},{p2},{p3}", u8::from(command));
                if path.is_empty() { r } else { r.and_then(|()| write!(out, ",,\"{path}\"")) }
            }
            Command::ConnStat { start } => write!(out, "AT%XCONNSTAT={}", u8::from(start)),
            Command::ReadConnStat => out.write_str("AT%XCONNSTAT?"),
            Command::SmsNotify => out.write_str("AT+CNMI=3,2,0,1"),
            Command::SmsSend { tpdu_len, pdu_hex } => {
                if !pdu_hex.len().is_multiple_of(2)
                    || !pdu_hex.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(CommandError::InvalidArgument);
                }
                write!(out, "AT+CMGS={tpdu_len}\r{pdu_hex}\x1a")
            }
        };
        r.map_err(|_| CommandError::TooLong)
    }
}

/// A string parameter must not end its quotes early or carry line controls.
fn check_string(s: &str) -> Result<(), CommandError> {
    if s.bytes().any(|b| b == b'"' || b.is_ascii_control()) {
        Err(CommandError::InvalidArgument)
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn line(c: Command<'_>) -> CommandLine {
        let mut out = CommandLine::new();
        c.emit(&mut out).unwrap();
        out
    }

    #[test]
    fn commands_have_the_reference_syntax() {
        assert_eq!(line(Command::Imei), "AT+CGSN=1");
        assert_eq!(line(Command::SetFunctionalMode(FunctionalMode::Offline)), "AT+CFUN=4");
        assert_eq!(
            line(Command::DefinePdn { cid: 0, pdn_type: PdnType::Ipv4v6, apn: "internet" }),
            "AT+CGDCONT=0,\"IPV4V6\",\"internet\""
        );
        assert_eq!(line(Command::ActivatePdn { cid: 1, active: true }), "AT+CGACT=1,1");
        // nRF91 AT reference §5.9 example.
        assert_eq!(
            line(Command::Crsm {
                command: SimCommand::ReadBinary,
                file_id: 28539,
                p1: 0,
                p2: 0,
                p3: 12,
                path: ""
            }),
            "AT+CRSM=176,28539,0,0,12"
        );
        assert_eq!(
            line(Command::CredentialDelete { tag: 123, kind: CredentialType::ClientCertificate }),
            "AT%CMNG=3,123,1"
        );
        assert_eq!(
            line(Command::CredentialWrite {
                tag: 25,
                kind: CredentialType::Psk,
                content: "0102ABCD"
            }),
            "AT%CMNG=0,25,3,\"0102ABCD\""
        );
    }

    #[test]
    fn quote_in_apn_is_refused() {
        let mut out = CommandLine::new();
        let c = Command::DefinePdn { cid: 0, pdn_type: PdnType::Ipv4, apn: "a\",\"b" };
        assert_eq!(c.emit(&mut out), Err(CommandError::InvalidArgument));
    }

    #[test]
    fn non_hex_psk_is_refused() {
        let mut out = CommandLine::new();
        let c = Command::CredentialWrite { tag: 1, kind: CredentialType::Psk, content: "xyz1" };
        assert_eq!(c.emit(&mut out), Err(CommandError::InvalidArgument));
    }

    #[test]
    fn overlong_identity_is_too_long_not_truncated() {
        let long = "a".repeat(600);
        let mut out = CommandLine::new();
        let c =
            Command::CredentialWrite { tag: 1, kind: CredentialType::PskIdentity, content: &long };
        assert_eq!(c.emit(&mut out), Err(CommandError::TooLong));
    }
}
