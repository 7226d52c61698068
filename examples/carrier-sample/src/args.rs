//! The command line (clap derive) and the checks clap cannot express.
//!
//! Guarantee: a malformed server URI, a PSK that is not an even number of
//! hex digits, an unknown carrier or an endpoint the library cannot use is
//! refused before anything starts, with clap's one-line `error:` and the
//! usage, exit status 2.

use std::path::PathBuf;

use carrier_profiles::Carrier;
use clap::{Parser, ValueEnum};

/// An LwM2M carrier device on the desktop port, and (unless `--server` is
/// given) an embedded LwM2M server on loopback for it to talk to.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    after_help = "Example: carrier-sample --carrier verizon --state-dir /tmp/dev1"
)]
pub struct Args {
    /// Use this LwM2M 1.1 server instead of the embedded one.
    #[arg(long, value_name = "coap://HOST:PORT|coaps://HOST:PORT", value_parser = server_uri)]
    pub server: Option<ServerUri>,
    /// PSK identity for a `coaps://` server (default: the endpoint name).
    #[arg(long, value_name = "IDENTITY")]
    pub psk_identity: Option<String>,
    /// PSK for a `coaps://` server, in hex (or set CARRIER_SAMPLE_PSK, which stays out of shell history).
    #[arg(long, value_name = "HEX", env = "CARRIER_SAMPLE_PSK", hide_env_values = true, value_parser = psk_hex)]
    pub psk: Option<Psk>,
    /// `--server` is a Bootstrap-Server.
    #[arg(long, requires = "server")]
    pub bootstrap: bool,
    /// Endpoint name: `urn:imei:` and the device's 15-digit IMEI (the library derives it from the IMEI).
    #[arg(long, value_name = "urn:imei:IMEI", value_parser = endpoint)]
    pub endpoint: Option<String>,
    /// Registration lifetime in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    pub lifetime: Option<u32>,
    /// The operator of the simulated SIM (its IMSI and network).
    #[arg(long, value_enum, default_value_t = CarrierArg::Generic)]
    pub carrier: CarrierArg,
    /// Where the device keeps its storage [default: $XDG_STATE_HOME/carrier-sample or ~/.local/state/carrier-sample].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Stay registered and answer the server; de-register on Ctrl-C.
    #[arg(long)]
    pub forever: bool,
    /// Run a deterministic simulation instead (virtual time, simulated network).
    #[arg(long, conflicts_with_all = ["server", "forever"])]
    pub simulate: bool,
    /// Simulated days.
    #[arg(long, requires = "simulate", default_value_t = 1)]
    pub days: u32,
    /// Simulated devices.
    #[arg(long, requires = "simulate", default_value_t = 10)]
    pub devices: u32,
    /// Datagram loss in percent.
    #[arg(long, requires = "simulate", default_value_t = 0.0, value_parser = percent)]
    pub loss: f64,
    /// Seed of the simulation.
    #[arg(long, requires = "simulate", default_value_t = 1)]
    pub seed: u64,
    /// Run the CoAP-layer demo instead.
    #[arg(long, conflicts_with_all = ["server", "simulate", "forever"])]
    pub coap_demo: bool,
}

/// A `--server` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUri {
    /// The URI as given.
    pub uri: String,
    /// `coaps://`.
    pub secure: bool,
}

/// A PSK from `--psk` / `CARRIER_SAMPLE_PSK` (not printed by `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct Psk(pub Vec<u8>);

impl core::fmt::Debug for Psk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Psk({} bytes)", self.0.len())
    }
}

/// `--carrier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CarrierArg {
    /// Verizon (US).
    Verizon,
    /// T-Mobile (US).
    #[value(name = "t-mobile")]
    TMobile,
    /// SoftBank (Japan).
    Softbank,
    /// LG U+ (Korea).
    #[value(name = "lg-uplus")]
    LgUplus,
    /// Bell Canada.
    Bell,
    /// Any other operator (test network 001-01).
    Generic,
}

impl CarrierArg {
    /// The operator whose bootstrap the embedded server acts out.
    pub fn operator(self) -> lwm2m_server::operators::Operator {
        use lwm2m_server::operators::Operator;
        match self {
            CarrierArg::Verizon => Operator::Verizon,
            CarrierArg::TMobile => Operator::TMobile,
            CarrierArg::Softbank => Operator::SoftBank,
            CarrierArg::LgUplus => Operator::LgUplus,
            CarrierArg::Bell => Operator::BellCanada,
            CarrierArg::Generic => Operator::Generic,
        }
    }

    /// The library's name for it.
    pub fn carrier(self) -> Carrier {
        match self {
            CarrierArg::Verizon => Carrier::Verizon,
            CarrierArg::TMobile => Carrier::TMobile,
            CarrierArg::Softbank => Carrier::SoftBank,
            CarrierArg::LgUplus => Carrier::LgUplus,
            CarrierArg::Bell => Carrier::BellCanada,
            CarrierArg::Generic => Carrier::Generic,
        }
    }
}

/// `coap://host:port` or `coaps://host:port` (port optional), host non-empty.
fn server_uri(s: &str) -> Result<ServerUri, String> {
    let (secure, rest) = if let Some(r) = s.strip_prefix("coaps://") {
        (true, r)
    } else if let Some(r) = s.strip_prefix("coap://") {
        (false, r)
    } else {
        return Err("the URI must start with coap:// or coaps://".into());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let host_ok =
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:_".contains(&b));
    if !host_ok {
        return Err(format!("no usable host in {s:?}"));
    }
    if let Some(p) = port
        && p.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("bad port {p:?} (1-65535)"));
    }
    Ok(ServerUri { uri: s.to_string(), secure })
}

/// An even number of hex digits, 1 to 64 bytes.
fn psk_hex(s: &str) -> Result<Psk, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", s.len()));
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    match bytes {
        None => Err("not hex".into()),
        Some(b) if b.is_empty() || b.len() > 64 => Err("a PSK has 1 to 64 bytes".into()),
        Some(b) => Ok(Psk(b)),
    }
}

/// `urn:imei:` + 15 digits, or the 15 digits alone; the IMEI is returned.
fn endpoint(s: &str) -> Result<String, String> {
    let imei = s.strip_prefix("urn:imei:").unwrap_or(s);
    if imei.len() == 15 && imei.bytes().all(|b| b.is_ascii_digit()) {
        Ok(imei.to_string())
    } else {
        Err("the library names the endpoint after the IMEI: give urn:imei: and 15 digits".into())
    }
}

fn percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err("a percentage from 0 to 100".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_uris_need_a_coap_scheme_a_host_and_a_valid_port() {
        assert_eq!(server_uri("coaps://10.0.0.1:5684").map(|u| u.secure), Ok(true));
        assert_eq!(server_uri("coap://lwm2m.example.com").map(|u| u.secure), Ok(false));
        assert!(server_uri("coap://[::1]:5683").is_ok());
        assert!(server_uri("http://host:80").is_err());
        assert!(server_uri("coap://:5683").is_err());
        assert!(server_uri("coap://host:99999").is_err());
        assert!(server_uri("coap://host:0").is_err());
        assert!(server_uri("coap://ho st").is_err());
    }

    #[test]
    fn psk_is_an_even_number_of_hex_digits() {
        assert_eq!(psk_hex("00ff10"), Ok(Psk(vec![0, 0xff, 0x10])));
        assert!(psk_hex("abc").is_err());
        assert!(psk_hex("zz").is_err());
        assert!(psk_hex("").is_err());
    }

    #[test]
    fn endpoint_is_an_imei_urn() {
        assert_eq!(endpoint("urn:imei:352656100123456").as_deref(), Ok("352656100123456"));
        assert_eq!(endpoint("352656100123456").as_deref(), Ok("352656100123456"));
        assert!(endpoint("urn:imei:12").is_err());
        assert!(endpoint("my-device").is_err());
    }
}
