//! SIM files for smartcard bootstrap tests (OMA-TS-LightweightM2M_Core 1.1
//! Appendix G, ISO/IEC 7816-15): EF(ODF) → EF(DODF) → EF(LwM2M_Bootstrap)
//! under DF(PKCS#15) 3F00/5015, holding Security and Server instances in TLV.
#![allow(dead_code)]

use lwm2m_core::path::Path;
use lwm2m_core::value::Value;
use lwm2m_server::encode_tlv;

/// EF(DODF) of the test SIM (relative to DF(PKCS#15)).
pub const EF_DODF: u16 = 0x4401;
/// EF(LwM2M_Bootstrap) of the test SIM.
pub const EF_BOOTSTRAP: u16 = 0x4402;

/// One account on the SIM: Security instance `id` (and, for a DM server,
/// Server instance 0 with the lifetime).
pub struct SimAccount<'a> {
    pub uri: &'a str,
    pub bootstrap: bool,
    pub ssid: u16,
    pub lifetime_s: u32,
    pub psk: Option<(&'a [u8], &'a [u8])>,
}

/// `resources` (TLV) wrapped in an Object Instance TLV with 8-bit ID
/// (OMA TS 1.1 §7.4.3.1: type bits 00, length in 8 or 16 bits).
fn instance_tlv(id: u8, resources: &[u8]) -> Vec<u8> {
    let mut out = match u8::try_from(resources.len()) {
        Ok(len) => vec![0x08, id, len],
        Err(_) => {
            let [hi, lo] = (resources.len() as u16).to_be_bytes();
            vec![0x10, id, hi, lo]
        }
    };
    out.extend_from_slice(resources);
    out
}

/// The three files: (path, content), for a port's SIM.
pub fn files(account: &SimAccount<'_>) -> Vec<(Vec<u16>, Vec<u8>)> {
    // EF(ODF): dataObjects [7] { path SEQUENCE { OCTET STRING 44 01 } }.
    let [d0, d1] = EF_DODF.to_be_bytes();
    let odf = vec![0xA7, 0x06, 0x30, 0x04, 0x04, 0x02, d0, d1, 0xFF, 0xFF];
    // EF(DODF): oidDO [1] { common, class, [1] { SEQUENCE { OID 2.23.43.9.1, path } } }.
    let [b0, b1] = EF_BOOTSTRAP.to_be_bytes();
    let oid_do = [0x06, 0x04, 0x67, 0x2B, 0x09, 0x01, 0x30, 0x04, 0x04, 0x02, b0, b1];
    let mut type_attributes = vec![0x30, oid_do.len() as u8];
    type_attributes.extend_from_slice(&oid_do);
    let mut object = vec![0x30, 0x00, 0x30, 0x00, 0xA1, type_attributes.len() as u8];
    object.extend_from_slice(&type_attributes);
    let mut dodf = vec![0xA1, object.len() as u8];
    dodf.extend_from_slice(&object);
    dodf.extend_from_slice(&[0xFF; 4]);

    let security = Path::instance(0, 1).unwrap();
    let mut sec = vec![
        (0u16, Value::String(account.uri)),
        (1, Value::Boolean(account.bootstrap)),
        (2, Value::Integer(if account.psk.is_some() { 0 } else { 3 })),
    ];
    if let Some((identity, key)) = account.psk {
        sec.push((3, Value::Opaque(identity)));
        sec.push((5, Value::Opaque(key)));
    }
    if !account.bootstrap {
        sec.push((10, Value::Integer(i64::from(account.ssid))));
    }
    let mut objects = vec![(0u16, instance_tlv(1, &encode_tlv(&security, &sec)))];
    if !account.bootstrap {
        let server = Path::instance(1, 0).unwrap();
        let srv = [
            (0u16, Value::Integer(i64::from(account.ssid))),
            (1, Value::Integer(i64::from(account.lifetime_s))),
            (6, Value::Boolean(false)),
            (7, Value::String("U")),
        ];
        objects.push((1, instance_tlv(0, &encode_tlv(&server, &srv))));
    }
    let mut body = Vec::new();
    for (oid, tlv) in &objects {
        body.extend_from_slice(&oid.to_be_bytes());
        body.push(0); // version 0: no minor
        body.extend_from_slice(&(tlv.len() as u16).to_be_bytes());
        body.extend_from_slice(tlv);
    }
    let mut ef = (objects.len() as u16).to_be_bytes().to_vec();
    ef.extend_from_slice(&(body.len() as u16).to_be_bytes());
    ef.extend_from_slice(&body);
    ef.extend_from_slice(&[0xFF; 8]);

    vec![
        (vec![0x3F00, 0x5015, 0x5031], odf),
        (vec![0x3F00, 0x5015, EF_DODF], dodf),
        (vec![0x3F00, 0x5015, EF_BOOTSTRAP], ef),
    ]
}
