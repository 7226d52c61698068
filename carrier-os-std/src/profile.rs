//! The device-profile file (TOML) that describes the simulated modem and SIM,
//! and the key-store file that holds the modem's security tags.
//!
//! A profile gives what a real modem would answer: IMEI, IMSI (its MCC+MNC
//! decide the operator the runtime detects), ICCID, MSISDN (optionally only
//! readable some time after the first attach, as on a fresh Verizon SIM),
//! manufacturer, model, versions, the serving network and signal, and SIM
//! files for smartcard bootstrap. Nothing here panics on a bad file: loading
//! returns a [`ProfileError`].
//!
//! PSKs are never printed: [`KeyStore`] and its entries have a redacting
//! `Debug`, and nothing in this crate logs a key.
//!
//! A security tag may also hold a CA certificate chain (PEM), as an nRF91
//! sec tag does (`AT%CMNG` type 0): HTTPS firmware downloads with that tag
//! trust exactly those certificates. Key files written before CA support
//! (only `[[tag]]` entries) load unchanged; CA chains are `[[ca]]` entries.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use carrier_os::modem::{Bearer, Psk, SecTag};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a profile or key store could not be loaded or saved.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file (or `<string>`).
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A field has a value outside its rules (e.g. an IMEI that is not 15 digits).
    #[error("invalid field `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// The rule broken.
        reason: &'static str,
    },
}

/// The serving network and radio conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkProfile {
    /// Mobile country code.
    pub mcc: u16,
    /// Mobile network code.
    pub mnc: u16,
    /// Cell identity.
    #[serde(default)]
    pub cell_id: u32,
    /// Tracking area code.
    #[serde(default)]
    pub tac: u16,
    /// LTE band.
    #[serde(default)]
    pub band: Option<u16>,
    /// `"lte-m"` or `"nb-iot"`.
    #[serde(default = "default_bearer")]
    pub bearer: String,
    /// RSRP in dBm.
    #[serde(default)]
    pub rsrp_dbm: Option<i16>,
    /// SNR in dB.
    #[serde(default)]
    pub snr_db: Option<i16>,
    /// IPv4 address of the default PDN.
    #[serde(default)]
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address of the default PDN.
    #[serde(default)]
    pub ipv6: Option<Ipv6Addr>,
    /// Registered as roaming.
    #[serde(default)]
    pub roaming: bool,
    /// Local time offset announced by the network, minutes.
    #[serde(default)]
    pub utc_offset_min: i16,
    /// Network time at boot (Unix seconds); absent: the host's clock (real
    /// mode) or the simulation's start time.
    #[serde(default)]
    pub time_unix_s: Option<i64>,
}

fn default_bearer() -> String {
    "lte-m".into()
}

impl NetworkProfile {
    /// The bearer as a value; unknown text is refused at load time.
    pub fn bearer(&self) -> Bearer {
        if self.bearer == "nb-iot" { Bearer::NbIot } else { Bearer::LteM }
    }
}

/// One SIM elementary file (for smartcard bootstrap reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimFileProfile {
    /// File ids from MF to EF.
    pub path: Vec<u16>,
    /// Records (linear fixed file), hex each; empty for a transparent file.
    #[serde(default)]
    pub records: Vec<String>,
    /// Content of a transparent file, hex.
    #[serde(default)]
    pub binary: Option<String>,
}

/// A device profile: the simulated modem and SIM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfile {
    /// IMEI, 15 digits.
    pub imei: String,
    /// IMSI; `None`: no SIM inserted.
    #[serde(default)]
    pub imsi: Option<String>,
    /// ICCID.
    #[serde(default)]
    pub iccid: Option<String>,
    /// MSISDN; `None`: never issued.
    #[serde(default)]
    pub msisdn: Option<String>,
    /// MSISDN becomes readable only this many seconds after the first link up.
    #[serde(default)]
    pub msisdn_after_s: u64,
    /// Manufacturer.
    #[serde(default = "default_manufacturer")]
    pub manufacturer: String,
    /// Model.
    #[serde(default = "default_model")]
    pub model: String,
    /// Modem firmware version.
    #[serde(default = "default_fw")]
    pub firmware_version: String,
    /// Hardware version.
    #[serde(default = "default_hw")]
    pub hardware_version: String,
    /// 2DID serial number.
    #[serde(default)]
    pub serial_2did: Option<String>,
    /// How long attaching takes after a link-up request, ms.
    #[serde(default = "default_attach_ms")]
    pub attach_ms: u64,
    /// How long PDN activation takes, ms.
    #[serde(default = "default_pdn_ms")]
    pub pdn_ms: u64,
    /// The serving network.
    pub network: NetworkProfile,
    /// SIM files.
    #[serde(default)]
    pub sim_files: Vec<SimFileProfile>,
}

fn default_manufacturer() -> String {
    "Nordic Semiconductor ASA".into()
}
fn default_model() -> String {
    "nRF9160-SICA".into()
}
fn default_fw() -> String {
    "mfw_nrf9160_1.3.6".into()
}
fn default_hw() -> String {
    "nRF9160 SICA B1A".into()
}
fn default_attach_ms() -> u64 {
    2000
}
fn default_pdn_ms() -> u64 {
    500
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl DeviceProfile {
    /// A generic profile (test IMSI `001 01`, a valid IMEI) for `index`.
    pub fn generic(index: u32) -> Self {
        DeviceProfile {
            imei: format!("35000000{:07}", index % 10_000_000),
            imsi: Some(format!("00101{:010}", index)),
            iccid: Some(format!("89010100000{:08}", index % 100_000_000)),
            msisdn: Some(format!("1555{:07}", index % 10_000_000)),
            msisdn_after_s: 0,
            manufacturer: default_manufacturer(),
            model: default_model(),
            firmware_version: default_fw(),
            hardware_version: default_hw(),
            serial_2did: None,
            attach_ms: default_attach_ms(),
            pdn_ms: default_pdn_ms(),
            network: NetworkProfile {
                mcc: 1,
                mnc: 1,
                cell_id: 0x0123_4567,
                tac: 0x1234,
                band: Some(20),
                bearer: default_bearer(),
                rsrp_dbm: Some(-95),
                snr_db: Some(10),
                ipv4: Some(Ipv4Addr::new(10, 0, (index >> 8) as u8, index as u8)),
                ipv6: None,
                roaming: false,
                utc_offset_min: 0,
                time_unix_s: None,
            },
            sim_files: Vec::new(),
        }
    }

    /// Parses and checks a profile from TOML text.
    ///
    /// # Errors
    /// [`ProfileError::Parse`] or [`ProfileError::Invalid`].
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let p: DeviceProfile = toml::from_str(text)
            .map_err(|e| ProfileError::Parse { path: "<string>".into(), message: e.to_string() })?;
        p.check()?;
        Ok(p)
    }

    /// Loads a profile file.
    ///
    /// # Errors
    /// I/O, parse or validation failure.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ProfileError::Io { path: path.into(), source })?;
        Self::from_toml(&text).map_err(|e| match e {
            ProfileError::Parse { message, .. } => {
                ProfileError::Parse { path: path.into(), message }
            }
            e => e,
        })
    }

    fn check(&self) -> Result<(), ProfileError> {
        let invalid = |field, reason| Err(ProfileError::Invalid { field, reason });
        if self.imei.len() != 15 || !digits(&self.imei) {
            return invalid("imei", "must be 15 digits");
        }
        if let Some(imsi) = &self.imsi
            && (!(6..=15).contains(&imsi.len()) || !digits(imsi))
        {
            return invalid("imsi", "must be 6 to 15 digits");
        }
        if let Some(m) = &self.msisdn
            && !digits(m.trim_start_matches('+'))
        {
            return invalid("msisdn", "must be digits with an optional leading +");
        }
        if self.network.bearer != "lte-m" && self.network.bearer != "nb-iot" {
            return invalid("network.bearer", "must be \"lte-m\" or \"nb-iot\"");
        }
        for f in &self.sim_files {
            for h in f.records.iter().chain(f.binary.iter()) {
                if decode_hex(h).is_none() {
                    return invalid("sim_files", "contents must be hex");
                }
            }
        }
        Ok(())
    }
}

/// Decodes hex (either case, no separators).
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| std::str::from_utf8(p).ok().and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

fn encode_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One security tag's credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// PSK identity, if stored.
    pub identity: Option<Vec<u8>>,
    /// The key.
    pub psk: Psk,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("identity", &self.identity.as_deref().map(String::from_utf8_lossy))
            .field("psk", &self.psk)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(default)]
    tag: Vec<KeyEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ca: Vec<CaEntry>,
}

/// A security tag's CA certificate chain.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaEntry {
    sec_tag: u32,
    pem: String,
}

/// The PEM label every CA entry must contain at least once.
const PEM_CERT: &str = "-----BEGIN CERTIFICATE-----";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    sec_tag: u32,
    #[serde(default)]
    identity_hex: Option<String>,
    psk_hex: String,
}

/// The modem's security tags, optionally persisted in a TOML key-store file
/// (written atomically on every change).
#[derive(Clone, Default)]
pub struct KeyStore {
    path: Option<PathBuf>,
    tags: BTreeMap<u32, Credential>,
    /// CA certificate chains (PEM) by security tag; public data.
    cas: BTreeMap<u32, String>,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("path", &self.path)
            .field("tags", &self.tags)
            .field("ca_tags", &self.cas.keys())
            .finish()
    }
}

impl KeyStore {
    /// An in-memory key store.
    pub fn in_memory() -> Self {
        KeyStore::default()
    }

    /// Loads `path` (absent file: empty store) and persists changes there.
    ///
    /// # Errors
    /// I/O or parse failure, or a key that is not hex or too long.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, ProfileError> {
        let path = path.into();
        let mut tags = BTreeMap::new();
        let mut cas = BTreeMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                // The parser's message could quote the offending line (a key):
                // report only the position-free kind of error.
                let file: KeyFile = toml::from_str(&text).map_err(|_| ProfileError::Parse {
                    path: path.clone(),
                    message: "not a valid key-store file (contents not shown)".into(),
                })?;
                for e in file.tag {
                    let invalid = ProfileError::Invalid {
                        field: "psk_hex",
                        reason: "must be 1 to 64 bytes of hex",
                    };
                    let psk = decode_hex(&e.psk_hex).and_then(|k| Psk::new(&k)).ok_or(invalid)?;
                    let identity = match e.identity_hex {
                        None => None,
                        Some(h) => Some(decode_hex(&h).ok_or(ProfileError::Invalid {
                            field: "identity_hex",
                            reason: "must be hex",
                        })?),
                    };
                    tags.insert(e.sec_tag, Credential { identity, psk });
                }
                for c in file.ca {
                    check_ca_pem(&c.pem)?;
                    cas.insert(c.sec_tag, c.pem);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ProfileError::Io { path, source }),
        }
        Ok(KeyStore { path: Some(path), tags, cas })
    }

    /// The credentials of `tag`.
    pub fn get(&self, tag: SecTag) -> Option<&Credential> {
        self.tags.get(&tag.0)
    }

    /// Stores credentials for `tag` (and saves the file).
    ///
    /// # Errors
    /// Saving failed; the in-memory store is then unchanged.
    pub fn insert(&mut self, tag: SecTag, cred: Credential) -> Result<(), ProfileError> {
        let old = self.tags.insert(tag.0, cred);
        self.save().inspect_err(|_| {
            match old {
                Some(o) => self.tags.insert(tag.0, o),
                None => self.tags.remove(&tag.0),
            };
        })
    }

    /// The CA certificate chain (PEM) stored for `tag`, if any.
    pub fn ca_pem(&self, tag: SecTag) -> Option<&str> {
        self.cas.get(&tag.0).map(String::as_str)
    }

    /// Stores (`Some`) or deletes (`None`) the CA certificate chain of `tag`
    /// (and saves the file). The PSK of the tag, if any, is left alone.
    ///
    /// # Errors
    /// [`ProfileError::Invalid`] if `pem` holds no `CERTIFICATE` block;
    /// saving failed. The in-memory store is then unchanged.
    pub fn set_ca_pem(&mut self, tag: SecTag, pem: Option<&str>) -> Result<(), ProfileError> {
        let old = match pem {
            Some(p) => {
                check_ca_pem(p)?;
                self.cas.insert(tag.0, p.to_owned())
            }
            None => self.cas.remove(&tag.0),
        };
        self.save().inspect_err(|_| {
            match old {
                Some(o) => self.cas.insert(tag.0, o),
                None => self.cas.remove(&tag.0),
            };
        })
    }

    /// Removes `tag` (and saves the file).
    ///
    /// # Errors
    /// Saving failed.
    pub fn remove(&mut self, tag: SecTag) -> Result<(), ProfileError> {
        if self.tags.remove(&tag.0).is_some() {
            self.save()?;
        }
        Ok(())
    }

    fn save(&self) -> Result<(), ProfileError> {
        let Some(path) = &self.path else { return Ok(()) };
        let file = KeyFile {
            tag: self
                .tags
                .iter()
                .map(|(t, c)| KeyEntry {
                    sec_tag: *t,
                    identity_hex: c.identity.as_deref().map(encode_hex),
                    psk_hex: encode_hex(c.psk.secret_bytes()),
                })
                .collect(),
            ca: self.cas.iter().map(|(t, pem)| CaEntry { sec_tag: *t, pem: pem.clone() }).collect(),
        };
        let text = toml::to_string(&file)
            .map_err(|e| ProfileError::Parse { path: path.clone(), message: e.to_string() })?;
        crate::storage::write_file_atomically(path, text.as_bytes())
            .map_err(|source| ProfileError::Io { path: path.clone(), source })
    }
}

/// A CA entry must hold at least one PEM certificate (its contents are
/// checked when a TLS connection uses it).
fn check_ca_pem(pem: &str) -> Result<(), ProfileError> {
    if pem.contains(PEM_CERT) {
        Ok(())
    } else {
        Err(ProfileError::Invalid { field: "pem", reason: "must hold a PEM CERTIFICATE block" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    const PROFILE: &str = r#"
imei = "352656100123456"
imsi = "311480123456789"
iccid = "89148000001234567890"
msisdn = "+15555550100"
msisdn_after_s = 30
model = "nRF9151-LACA"
[network]
mcc = 311
mnc = 480
cell_id = 21234567
tac = 4660
band = 13
rsrp_dbm = -97
ipv6 = "2001:db8::7"
[[sim_files]]
path = [0x3F00, 0x7FFF, 0x6FA0]
records = ["a0a1a2", "b0b1"]
"#;

    proptest::proptest! {
        #[test]
        fn arbitrary_profile_or_key_text_is_an_error_not_a_panic(text in ".{0,200}") {
            let _ = DeviceProfile::from_toml(&text);
            let dir = TestDir::new("keys-prop");
            let path = dir.path().join("keys.toml");
            std::fs::write(&path, &text).unwrap();
            let _ = KeyStore::open(&path);
        }

        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            proptest::prop_assert_eq!(decode_hex(&encode_hex(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn a_profile_file_gives_the_modem_its_identity_and_network() {
        let p = DeviceProfile::from_toml(PROFILE).unwrap();
        assert_eq!(p.imsi.as_deref(), Some("311480123456789"));
        assert_eq!(p.msisdn_after_s, 30);
        assert_eq!(p.model, "nRF9151-LACA");
        assert_eq!(p.manufacturer, "Nordic Semiconductor ASA", "defaults fill what is left out");
        assert_eq!(p.network.ipv6, Some("2001:db8::7".parse().unwrap()));
        assert_eq!(p.sim_files[0].path, [0x3F00, 0x7FFF, 0x6FA0]);
    }

    #[test]
    fn a_bad_profile_is_an_error_naming_the_field() {
        let bad_imei = PROFILE.replace("352656100123456", "35265610012345x");
        assert!(matches!(
            DeviceProfile::from_toml(&bad_imei),
            Err(ProfileError::Invalid { field: "imei", .. })
        ));
        let unknown = format!("{PROFILE}\nbogus = 1\n");
        assert!(matches!(DeviceProfile::from_toml(&unknown), Err(ProfileError::Parse { .. })));
        assert!(matches!(DeviceProfile::from_toml("imei = 3"), Err(ProfileError::Parse { .. })));
    }

    #[test]
    fn psks_are_never_printed_and_survive_a_reload() {
        let dir = TestDir::new("keys");
        let path = dir.path().join("keys.toml");
        let mut ks = KeyStore::open(&path).unwrap();
        let secret = b"\xde\xad\xbe\xef-top-secret-psk";
        let cred =
            Credential { identity: Some(b"device-1".to_vec()), psk: Psk::new(secret).unwrap() };
        ks.insert(SecTag(42), cred.clone()).unwrap();
        for shown in [format!("{ks:?}"), format!("{cred:?}"), format!("{:#?}", ks.get(SecTag(42)))]
        {
            assert!(!shown.contains("top-secret"), "{shown}");
            assert!(!shown.to_lowercase().contains("deadbeef"), "{shown}");
            assert!(!shown.contains("222, 173"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        let again = KeyStore::open(&path).unwrap();
        assert_eq!(again.get(SecTag(42)), Some(&cred));
        // A broken key file's error does not quote its contents.
        std::fs::write(
            &path,
            "[[tag]]\nsec_tag = 1\npsk_hex = \"deadbeef\"\nextra = \"deadbeef\"\n",
        )
        .unwrap();
        let err = KeyStore::open(&path).unwrap_err().to_string();
        assert!(!err.contains("deadbeef"), "{err}");
    }

    #[test]
    fn a_key_file_without_ca_entries_still_loads_and_ca_chains_survive_a_reload() {
        let dir = TestDir::new("keys-ca");
        let path = dir.path().join("keys.toml");
        // A key file as written before CA support.
        std::fs::write(&path, "[[tag]]\nsec_tag = 7\npsk_hex = \"0102\"\n").unwrap();
        let mut ks = KeyStore::open(&path).unwrap();
        assert_eq!(ks.get(SecTag(7)).unwrap().psk.secret_bytes(), [1, 2]);
        assert_eq!(ks.ca_pem(SecTag(7)), None);
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        ks.set_ca_pem(SecTag(7), Some(pem)).unwrap();
        ks.set_ca_pem(SecTag(9), Some(pem)).unwrap();
        let again = KeyStore::open(&path).unwrap();
        assert_eq!(again.ca_pem(SecTag(7)), Some(pem));
        assert_eq!(again.ca_pem(SecTag(9)), Some(pem));
        assert_eq!(again.get(SecTag(7)).unwrap().psk.secret_bytes(), [1, 2], "PSK kept");
        assert_eq!(again.get(SecTag(9)), None, "a CA-only tag has no PSK");
        ks.set_ca_pem(SecTag(9), None).unwrap();
        assert_eq!(KeyStore::open(&path).unwrap().ca_pem(SecTag(9)), None);
        assert!(matches!(
            ks.set_ca_pem(SecTag(1), Some("not a certificate")),
            Err(ProfileError::Invalid { field: "pem", .. })
        ));
        assert_eq!(ks.ca_pem(SecTag(1)), None);
    }
}
