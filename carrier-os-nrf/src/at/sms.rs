//! SMS-DELIVER PDUs as the modem hands them over in `+CMT` (PDU mode).
//!
//! Owns the decoding of 3GPP TS 23.040 §9.2.2.1 (SMS-DELIVER) preceded by
//! the SMSC address of 3GPP TS 27.005 §3.4.1: originating address (BCD
//! digits, or a note that it is alphanumeric), the user-data header's
//! application port (IEI 0x05 16-bit, 0x04 8-bit; §9.2.3.24.3–4), and the
//! user data — 8-bit data copied as is, the GSM 7-bit default alphabet
//! unpacked to one septet per byte (no GSM→Unicode table: LwM2M over SMS
//! uses 8-bit data), UCS2 copied as is.
//!
//! Guarantee: nothing here panics on any input; every field is read
//! through a bounds-checked cursor.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use heapless::String;

/// Longest originating address kept (digits, with a leading `+`).
pub const ADDRESS_LEN: usize = 24;

/// Why a PDU could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SmsError {
    /// The PDU ends inside a field.
    #[error("SMS PDU truncated")]
    Truncated,
    /// Not an SMS-DELIVER (TP-MTI is not 0).
    #[error("not an SMS-DELIVER")]
    NotDeliver,
    /// A field holds an impossible value.
    #[error("malformed SMS PDU")]
    Malformed,
    /// The payload does not fit the caller's buffer.
    #[error("SMS payload does not fit the buffer")]
    BufferTooSmall,
}

/// Alphabet of the user data (TP-DCS, 3GPP TS 23.038 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Alphabet {
    /// GSM 7-bit default alphabet (unpacked: one septet per byte).
    Gsm7,
    /// 8-bit data.
    Data8,
    /// UCS2 (big-endian 16-bit units).
    Ucs2,
}

/// The header of a decoded SMS-DELIVER; the payload is in the caller's
/// buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliver {
    /// Originating address: digits with `+` when international; empty for
    /// an alphanumeric originator.
    pub originator: String<ADDRESS_LEN>,
    /// Destination application port from the user-data header.
    pub app_port: Option<u16>,
    /// Alphabet of the payload.
    pub alphabet: Alphabet,
    /// Payload length in the caller's buffer.
    pub len: usize,
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, SmsError> {
        let (&b, rest) = self.rest.split_first().ok_or(SmsError::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SmsError> {
        let (head, rest) = self.rest.split_at_checked(n).ok_or(SmsError::Truncated)?;
        self.rest = rest;
        Ok(head)
    }
}

/// Decodes `pdu` (SMSC address first, as in `+CMT`) and writes the payload
/// into `out`.
///
/// # Errors
/// [`SmsError`].
pub fn parse_deliver(pdu: &[u8], out: &mut [u8]) -> Result<Deliver, SmsError> {
    let mut r = Reader { rest: pdu };
    let smsc_len = r.u8()?;
    r.take(usize::from(smsc_len))?;
    let first = r.u8()?;
    if first & 0b11 != 0 {
        return Err(SmsError::NotDeliver);
    }
    let udhi = first & 0x40 != 0;
    let digits = r.u8()?;
    if digits > 20 {
        return Err(SmsError::Malformed);
    }
    let toa = r.u8()?;
    let addr = r.take(usize::from(digits).div_ceil(2))?;
    let mut originator = String::new();
    if (toa >> 4) & 0x07 != 0x05 {
        if (toa >> 4) & 0x07 == 0x01 {
            originator.push('+').map_err(|_| SmsError::Malformed)?;
        }
        for i in 0..usize::from(digits) {
            let byte = addr.get(i / 2).copied().ok_or(SmsError::Truncated)?;
            let nibble = if i % 2 == 0 { byte & 0x0f } else { byte >> 4 };
            let c = char::from_digit(u32::from(nibble), 10).ok_or(SmsError::Malformed)?;
            originator.push(c).map_err(|_| SmsError::Malformed)?;
        }
    }
    let _pid = r.u8()?;
    let dcs = r.u8()?;
    let alphabet = match dcs >> 4 {
        0x0..=0x3 => match (dcs >> 2) & 0x03 {
            0 => Alphabet::Gsm7,
            1 => Alphabet::Data8,
            2 => Alphabet::Ucs2,
            _ => return Err(SmsError::Malformed),
        },
        0xf => {
            if dcs & 0x04 != 0 {
                Alphabet::Data8
            } else {
                Alphabet::Gsm7
            }
        }
        _ => return Err(SmsError::Malformed),
    };
    let _scts = r.take(7)?;
    let udl = usize::from(r.u8()?);
    // UDL counts septets for GSM 7-bit, octets otherwise.
    let ud_octets = match alphabet {
        Alphabet::Gsm7 => (udl * 7).div_ceil(8),
        _ => udl,
    };
    let ud = r.take(ud_octets)?;
    let mut app_port = None;
    let mut header_octets = 0;
    if udhi {
        let (&udhl, rest) = ud.split_first().ok_or(SmsError::Truncated)?;
        let mut h = Reader { rest: rest.get(..usize::from(udhl)).ok_or(SmsError::Truncated)? };
        header_octets = usize::from(udhl) + 1;
        while !h.rest.is_empty() {
            let iei = h.u8()?;
            let len = h.u8()?;
            let data = h.take(usize::from(len))?;
            match (iei, data) {
                (0x05, [d0, d1, _, _]) => app_port = Some(u16::from_be_bytes([*d0, *d1])),
                (0x04, [d, _]) => app_port = Some(u16::from(*d)),
                _ => {}
            }
        }
    }
    let len = match alphabet {
        Alphabet::Gsm7 => {
            // Septets after the header start on a septet boundary.
            let skip = (header_octets * 8).div_ceil(7);
            let count = udl.checked_sub(skip).ok_or(SmsError::Malformed)?;
            let dst = out.get_mut(..count).ok_or(SmsError::BufferTooSmall)?;
            for (i, d) in dst.iter_mut().enumerate() {
                let bit = (skip + i) * 7;
                let lo = ud.get(bit / 8).copied().ok_or(SmsError::Truncated)?;
                let hi = ud.get(bit / 8 + 1).copied().unwrap_or(0);
                let pair = u16::from_le_bytes([lo, hi]);
                *d = ((pair >> (bit % 8)) & 0x7f) as u8;
            }
            count
        }
        _ => {
            let body = ud.get(header_octets..).ok_or(SmsError::Malformed)?;
            let dst = out.get_mut(..body.len()).ok_or(SmsError::BufferTooSmall)?;
            dst.copy_from_slice(body);
            body.len()
        }
    };
    Ok(Deliver { originator, app_port, alphabet, len })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn hex(s: &str) -> std::vec::Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn gsm7_hello_from_an_international_number() {
        // SMSC +79037011111, originator +79032143658 (BCD digit pairs
        // swapped), DCS 0, 5 septets "Hello".
        let pdu = hex("07919730071111F1040B919730123456F800002150905084052305C8329BFD06");
        let mut out = [0u8; 16];
        let d = parse_deliver(&pdu, &mut out).unwrap();
        assert_eq!(d.originator, "+79032143658");
        assert_eq!(d.alphabet, Alphabet::Gsm7);
        assert_eq!(&out[..d.len], b"Hello");
        assert_eq!(d.app_port, None);
    }

    #[test]
    fn eight_bit_data_to_a_16_bit_application_port() {
        // No SMSC, UDHI set, originator 12345 (national), DCS 0x04,
        // UDH 06 05 04 0B84 23F0 (dest port 2948, WAP push), then 3 bytes.
        let pdu = hex("0040058121 43F500042150905084052 30A0605040B8423F0010203"
            .replace(" ", "")
            .as_str());
        let mut out = [0u8; 8];
        let d = parse_deliver(&pdu, &mut out).unwrap();
        assert_eq!(d.originator, "12345");
        assert_eq!(d.app_port, Some(2948));
        assert_eq!(d.alphabet, Alphabet::Data8);
        assert_eq!(&out[..d.len], &[1, 2, 3]);
    }

    #[test]
    fn truncated_and_non_deliver_pdus_are_errors() {
        let pdu = hex("07919730071111F1040B919730123456F800002150905084052305C8329B");
        assert_eq!(parse_deliver(&pdu, &mut [0; 16]), Err(SmsError::Truncated));
        assert_eq!(parse_deliver(&hex("0001"), &mut [0; 16]), Err(SmsError::NotDeliver));
        assert_eq!(parse_deliver(&[], &mut [0; 16]), Err(SmsError::Truncated));
    }
}
