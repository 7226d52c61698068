//! Bootstrap from smartcard: the LwM2M Bootstrap Information the SIM holds
//! (OMA-TS-LightweightM2M_Core 1.1 §6.1.3.2 and Appendix G; app-integration
//! `CONFIG_LWM2M_CARRIER_BOOTSTRAP_SMARTCARD`: when the SIM holds it, it wins
//! over every other setting, the custom server URI included).
//!
//! The data is found through the SIM's PKCS#15 application (ISO/IEC 7816-15):
//! EF(ODF) points at the data-object directory EF(DODF); its OID data
//! object `2.23.43.9.1` ("lwm2m_bootstrap") points at EF(LwM2M_Bootstrap),
//! which holds `[object count u16][size u16]` and per object
//! `[object id u16][version major u8 (minor u8 if major > 0)][length u16]`
//! followed by that object's instances in LwM2M TLV — written into the
//! objects like a Bootstrap-Write of `/0` and `/1`.
//!
//! The port reads files by path (`Modem::sim_read`, `AT+CRSM`): the PKCS#15
//! application is taken at its ISO/IEC 7816-15 default location
//! [`PKCS15_DF`]; paths in the directory files that do not start at the MF
//! are relative to it.
//!
//! Guarantee: any bytes the SIM returns give a typed error, never a panic.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use carrier_os::modem::{Modem, ModemError, SimFile, SimRead};
use heapless::Vec;
use lwm2m_core::coap::numbers::ContentFormat;
use lwm2m_core::formats::Decoder;
use lwm2m_core::path::Path;
use lwm2m_objects::client_store::MAX_WRITE_ITEMS;
use lwm2m_objects::{Caller, DeviceInfo, ObjectStore, Operation, WriteMode};

/// DF(PKCS#15) at its ISO/IEC 7816-15 default path (MF / 5015).
pub const PKCS15_DF: [u16; 2] = [0x3F00, 0x5015];
/// EF(ODF), the PKCS#15 object directory, in [`PKCS15_DF`].
pub const EF_ODF: u16 = 0x5031;
/// The OID `2.23.43.9.1` ("lwm2m_bootstrap"), DER content octets.
const LWM2M_BOOTSTRAP_OID: [u8; 4] = [0x67, 0x2B, 0x09, 0x01];
/// Deepest file path kept (MF, DFs, EF).
pub const MAX_PATH: usize = 6;
/// A SIM file path, MF first.
pub type FilePath = Vec<u16, MAX_PATH>;

/// Why the smartcard holds no usable bootstrap data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SmartcardError {
    /// The SIM has no PKCS#15 application or no LwM2M bootstrap object
    /// (the usual case: not an error for the runtime).
    #[error("no LwM2M bootstrap data on the SIM")]
    NotFound,
    /// A directory or the bootstrap file does not parse.
    #[error("malformed bootstrap data")]
    Malformed,
    /// The data does not fit the buffer.
    #[error("bootstrap data too large")]
    TooLarge,
    /// The objects refused the data (unknown object, bad value).
    #[error("bootstrap data refused by the objects")]
    Refused,
    /// The SIM read failed for another reason than a missing file.
    #[error("SIM read failed")]
    Sim(ModemError),
}

/// Reads EF(LwM2M_Bootstrap) through the PKCS#15 directories into `buf`;
/// the bytes read.
///
/// # Errors
/// [`SmartcardError::NotFound`] when a file is missing (status word `6A xx`)
/// or no bootstrap object is listed; the other variants otherwise.
pub fn read<M: Modem + ?Sized>(modem: &mut M, buf: &mut [u8]) -> Result<usize, SmartcardError> {
    let mut odf_path = FilePath::new();
    odf_path.extend_from_slice(&PKCS15_DF).map_err(|_| SmartcardError::TooLarge)?;
    odf_path.push(EF_ODF).map_err(|_| SmartcardError::TooLarge)?;
    let n = read_file(modem, &odf_path, buf)?;
    let dodf = dodf_path(buf.get(..n).ok_or(SmartcardError::Malformed)?)?;
    let n = read_file(modem, &dodf, buf)?;
    let ef = bootstrap_path(buf.get(..n).ok_or(SmartcardError::Malformed)?)?;
    let n = read_file(modem, &ef, buf)?;
    // The file may be longer than its content (padding): keep the content.
    let len = content_len(buf.get(..n).ok_or(SmartcardError::Malformed)?)?;
    Ok(len)
}

fn read_file<M: Modem + ?Sized>(
    modem: &mut M,
    path: &[u16],
    buf: &mut [u8],
) -> Result<usize, SmartcardError> {
    let mut total = 0usize;
    // READ BINARY in chunks until the SIM answers with less than asked
    // (or the end of the file, 6B 00), bounded by the buffer.
    loop {
        let offset = u16::try_from(total).map_err(|_| SmartcardError::TooLarge)?;
        let rest = buf.get_mut(total..).ok_or(SmartcardError::TooLarge)?;
        if rest.is_empty() {
            return Err(SmartcardError::TooLarge);
        }
        let file = SimFile { path, read: SimRead::Binary { offset } };
        match modem.sim_read(&file, rest) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                total = total.checked_add(n).ok_or(SmartcardError::TooLarge)?;
                // One read answers up to 256 bytes.
                if n < 256 {
                    return Ok(total);
                }
            }
            Err(ModemError::SimStatus { sw1: 0x6B, .. }) if total > 0 => return Ok(total),
            Err(ModemError::SimStatus { sw1: 0x6A, .. } | ModemError::NotSupported) => {
                return Err(SmartcardError::NotFound);
            }
            Err(e) => return Err(SmartcardError::Sim(e)),
        }
    }
}

// ----------------------------------------------------------------------
// DER (ISO/IEC 7816-15 directory files)
// ----------------------------------------------------------------------

/// A DER element: tag, content, and the bytes after it.
type Element<'a> = (u8, &'a [u8], &'a [u8]);

/// One DER element: tag and content.
fn der_next(bytes: &[u8]) -> Result<Option<Element<'_>>, SmartcardError> {
    let Some((&tag, rest)) = bytes.split_first() else { return Ok(None) };
    // Padding of an unused record or file tail.
    if tag == 0xFF || tag == 0x00 {
        return Ok(None);
    }
    let (&first, rest) = rest.split_first().ok_or(SmartcardError::Malformed)?;
    let (len, rest) = match first {
        0..=0x7F => (usize::from(first), rest),
        0x81 => {
            let (&l, rest) = rest.split_first().ok_or(SmartcardError::Malformed)?;
            (usize::from(l), rest)
        }
        0x82 => {
            let (l, rest) = rest.split_at_checked(2).ok_or(SmartcardError::Malformed)?;
            let l: [u8; 2] = l.try_into().map_err(|_| SmartcardError::Malformed)?;
            (usize::from(u16::from_be_bytes(l)), rest)
        }
        _ => return Err(SmartcardError::Malformed),
    };
    let (content, rest) = rest.split_at_checked(len).ok_or(SmartcardError::Malformed)?;
    Ok(Some((tag, content, rest)))
}

/// The content of the first element tagged `tag` in `bytes`.
fn der_find(mut bytes: &[u8], tag: u8) -> Result<Option<&[u8]>, SmartcardError> {
    while let Some((t, content, rest)) = der_next(bytes)? {
        if t == tag {
            return Ok(Some(content));
        }
        bytes = rest;
    }
    Ok(None)
}

/// PKCS15Path ::= SEQUENCE { path OCTET STRING, … }: file ids, relative
/// ones under [`PKCS15_DF`].
fn path_of(path_seq: &[u8]) -> Result<FilePath, SmartcardError> {
    let octets = der_find(path_seq, 0x04)?.ok_or(SmartcardError::Malformed)?;
    let mut ids = FilePath::new();
    let (pairs, odd) = octets.as_chunks::<2>();
    if !odd.is_empty() || pairs.is_empty() {
        return Err(SmartcardError::Malformed);
    }
    if pairs.first().map(|p| u16::from_be_bytes(*p)) != Some(0x3F00) {
        ids.extend_from_slice(&PKCS15_DF).map_err(|_| SmartcardError::TooLarge)?;
    }
    for p in pairs {
        ids.push(u16::from_be_bytes(*p)).map_err(|_| SmartcardError::TooLarge)?;
    }
    Ok(ids)
}

/// EF(ODF): `dataObjects [7] PKCS15PathOrObjects` → its `path` → EF(DODF).
///
/// # Errors
/// [`SmartcardError::NotFound`] without a data-object directory.
pub fn dodf_path(odf: &[u8]) -> Result<FilePath, SmartcardError> {
    let data_objects = der_find(odf, 0xA7)?.ok_or(SmartcardError::NotFound)?;
    let path = der_find(data_objects, 0x30)?.ok_or(SmartcardError::Malformed)?;
    path_of(path)
}

/// EF(DODF): the `oidDO [1]` object whose OID is `2.23.43.9.1` → its path
/// → EF(LwM2M_Bootstrap).
///
/// # Errors
/// [`SmartcardError::NotFound`] without that object.
pub fn bootstrap_path(dodf: &[u8]) -> Result<FilePath, SmartcardError> {
    let mut bytes = dodf;
    while let Some((tag, object, rest)) = der_next(bytes)? {
        bytes = rest;
        if tag != 0xA1 {
            continue;
        }
        // PKCS15Object: common attributes, class attributes, [1] type attributes.
        let Some(type_attributes) = der_find(object, 0xA1)? else { continue };
        let Some(oid_do) = der_find(type_attributes, 0x30)? else { continue };
        let oid = der_find(oid_do, 0x06)?;
        // A published example wraps the OID twice (06 04 67 2B 09 01 inside the content).
        let matches = oid.is_some_and(|o| {
            o == LWM2M_BOOTSTRAP_OID || o.get(2..) == Some(&LWM2M_BOOTSTRAP_OID[..])
        });
        if !matches {
            continue;
        }
        let path = der_find(oid_do, 0x30)?.ok_or(SmartcardError::Malformed)?;
        return path_of(path);
    }
    Err(SmartcardError::NotFound)
}

// ----------------------------------------------------------------------
// EF(LwM2M_Bootstrap)
// ----------------------------------------------------------------------

/// Header length: object count and size.
const HEADER: usize = 4;

fn be16(b: &[u8]) -> Result<(u16, &[u8]), SmartcardError> {
    let (v, rest) = b.split_at_checked(2).ok_or(SmartcardError::Malformed)?;
    let v: [u8; 2] = v.try_into().map_err(|_| SmartcardError::Malformed)?;
    Ok((u16::from_be_bytes(v), rest))
}

/// The length of the content (header and objects) of an EF(LwM2M_Bootstrap).
fn content_len(file: &[u8]) -> Result<usize, SmartcardError> {
    let (_, rest) = be16(file)?;
    let (size, _) = be16(rest)?;
    let len = HEADER.checked_add(usize::from(size)).ok_or(SmartcardError::Malformed)?;
    if len > file.len() {
        return Err(SmartcardError::Malformed);
    }
    Ok(len)
}

/// The objects of an EF(LwM2M_Bootstrap): (object id, its TLV).
///
/// # Errors
/// [`SmartcardError::Malformed`] when a length runs past the data.
pub fn objects(file: &[u8]) -> Result<Vec<(u16, &[u8]), 4>, SmartcardError> {
    let (count, rest) = be16(file)?;
    let (_, mut rest) = be16(rest)?;
    let mut out = Vec::new();
    for _ in 0..count {
        let (oid, r) = be16(rest)?;
        let (&major, r) = r.split_first().ok_or(SmartcardError::Malformed)?;
        let r = if major > 0 { r.get(1..).ok_or(SmartcardError::Malformed)? } else { r };
        let (len, r) = be16(r)?;
        let (tlv, r) = r.split_at_checked(usize::from(len)).ok_or(SmartcardError::Malformed)?;
        out.push((oid, tlv)).map_err(|_| SmartcardError::TooLarge)?;
        rest = r;
    }
    Ok(out)
}

/// Writes the SIM's bootstrap objects into `store` as the Bootstrap-Server
/// would (`Caller::Bootstrap`, Replace of each object).
///
/// # Errors
/// [`SmartcardError::Malformed`] (framing or TLV), [`SmartcardError::Refused`]
/// (the store refused a value), [`SmartcardError::TooLarge`].
pub fn apply(
    store: &mut ObjectStore,
    info: &mut dyn DeviceInfo,
    file: &[u8],
) -> Result<(), SmartcardError> {
    for (oid, tlv) in objects(file)? {
        let base = Path::object(oid).map_err(|_| SmartcardError::Malformed)?;
        let mut items: Vec<(Path, lwm2m_core::value::Value<'_>), MAX_WRITE_ITEMS> = Vec::new();
        let decoder = Decoder::new(ContentFormat::Lwm2mTlv, &base, tlv, &mut [], &*store)
            .map_err(|_| SmartcardError::Malformed)?;
        for item in decoder {
            let item = item.map_err(|_| SmartcardError::Malformed)?;
            items.push(item).map_err(|_| SmartcardError::TooLarge)?;
        }
        let access = store
            .authorize(Caller::Bootstrap, Operation::Write(WriteMode::Replace), base)
            .map_err(|_| SmartcardError::Refused)?;
        store.write(&access, info, &items).map_err(|_| SmartcardError::Refused)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use lwm2m_objects::StaticDeviceInfo;

    /// EF(LwM2M_Bootstrap) with one object (Security) holding one
    /// Bootstrap-Server account `coap://bs.example:5783`, NoSec, then padding.
    fn bootstrap_file() -> std::vec::Vec<u8> {
        let uri = b"coap://bs.example:5783";
        let mut instance = std::vec![0xC8, 0x00, uri.len() as u8];
        instance.extend_from_slice(uri);
        instance.extend_from_slice(&[0xC1, 0x01, 0x01, 0xC1, 0x02, 0x03]);
        let mut tlv = std::vec![0x08, 0x00, instance.len() as u8];
        tlv.extend_from_slice(&instance);
        let mut object = std::vec![0x00, 0x00, 0x00, 0x00, tlv.len() as u8];
        object.extend_from_slice(&tlv);
        let mut file = std::vec![0x00, 0x01, 0x00, object.len() as u8];
        file.extend_from_slice(&object);
        file.extend_from_slice(&[0xFF, 0xFF]);
        file
    }

    #[test]
    fn the_odf_points_at_the_dodf_relative_to_the_pkcs15_df() {
        // [7] { SEQUENCE { OCTET STRING 44 01 } }, then padding.
        let odf = [0xA7, 0x06, 0x30, 0x04, 0x04, 0x02, 0x44, 0x01, 0xFF, 0xFF];
        assert_eq!(dodf_path(&odf).unwrap(), [0x3F00, 0x5015, 0x4401]);
        // An absolute path stays as it is.
        let odf = [0xA7, 0x08, 0x30, 0x06, 0x04, 0x04, 0x3F, 0x00, 0x44, 0x01];
        assert_eq!(dodf_path(&odf).unwrap(), [0x3F00, 0x4401]);
        // Only private keys [0]: no data objects.
        assert_eq!(dodf_path(&[0xA0, 0x00]), Err(SmartcardError::NotFound));
    }

    #[test]
    fn the_dodf_oid_data_object_2_23_43_9_1_points_at_the_bootstrap_file() {
        let oid_do = |oid: &[u8]| {
            let mut seq = std::vec![0x06, oid.len() as u8];
            seq.extend_from_slice(oid);
            seq.extend_from_slice(&[0x30, 0x04, 0x04, 0x02, 0x44, 0x02]);
            let mut type_attr = std::vec![0x30, seq.len() as u8];
            type_attr.extend_from_slice(&seq);
            // common attributes, class attributes, [1] type attributes.
            let mut object = std::vec![0x30, 0x00, 0x30, 0x00, 0xA1, type_attr.len() as u8];
            object.extend_from_slice(&type_attr);
            let mut out = std::vec![0xA1, object.len() as u8];
            out.extend_from_slice(&object);
            out
        };
        // Another OID first, then the LwM2M one.
        let mut dodf = oid_do(&[0x2A, 0x03]);
        dodf.extend(oid_do(&[0x67, 0x2B, 0x09, 0x01]));
        assert_eq!(bootstrap_path(&dodf).unwrap(), [0x3F00, 0x5015, 0x4402]);
        assert_eq!(bootstrap_path(&oid_do(&[0x2A, 0x03])), Err(SmartcardError::NotFound));
    }

    #[test]
    fn the_bootstrap_file_writes_a_bootstrap_server_account() {
        let file = bootstrap_file();
        assert_eq!(content_len(&file), Ok(file.len() - 2), "padding is not content");
        let mut store = ObjectStore::new();
        apply(&mut store, &mut StaticDeviceInfo::default(), &file).unwrap();
        let sec = store.security().instances().first().unwrap().clone();
        assert_eq!((sec.uri.as_str(), sec.bootstrap), ("coap://bs.example:5783", true));
    }

    #[test]
    fn truncated_or_garbage_sim_data_is_an_error_never_a_panic() {
        let file = bootstrap_file();
        for cut in 0..file.len() - 2 {
            let r = apply(&mut ObjectStore::new(), &mut StaticDeviceInfo::default(), &file[..cut]);
            assert!(r.is_err(), "cut at {cut}");
        }
        for bytes in [&[0x30, 0x85][..], &[0xA7, 0x7F], &[0xA1, 0x02, 0xA1, 0x05]] {
            assert!(dodf_path(bytes).is_err());
            assert!(bootstrap_path(bytes).is_err());
        }
    }
}
