//! The errors of the object layer and the CoAP response each one becomes
//! (OMA-TS-LightweightM2M_Core 1.1 §6.3 / §6.4, the response-code tables of
//! the Device Management and Bootstrap interfaces).
//!
//! Every peer mistake maps to its CoAP code in the one `From` impl below —
//! handlers never pick codes themselves.

use core::fmt;
use lwm2m_core::coap::numbers::Code;
use lwm2m_core::value::ValueError;

/// Why an operation on the object store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ObjectError {
    /// The object, instance, resource or resource instance does not exist
    /// (or is not enabled). 4.04.
    NotFound,
    /// The operation is not defined for this target (Write to a read-only
    /// resource, Execute of a readable one, Delete of a mandatory object…). 4.05.
    MethodNotAllowed,
    /// The access-control check refused the caller. 4.01.
    Unauthorized,
    /// A written value has the wrong type, is out of range, or the payload
    /// does not fit the target. 4.00.
    BadValue,
    /// A fixed capacity is exhausted (instances, resource instances, bytes). 4.13.
    Full,
    /// The target instance already exists (Create). 4.00.
    AlreadyExists,
    /// The read sink could not take more output. 5.00.
    SinkFull,
    /// A state that the code assumed impossible; tests assert it never appears. 5.00.
    Internal(&'static str),
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectError::NotFound => f.write_str("no such object, instance or resource"),
            ObjectError::MethodNotAllowed => f.write_str("operation not allowed on this target"),
            ObjectError::Unauthorized => f.write_str("access control refused the operation"),
            ObjectError::BadValue => f.write_str("bad value for this resource"),
            ObjectError::Full => f.write_str("capacity exhausted"),
            ObjectError::AlreadyExists => f.write_str("object instance already exists"),
            ObjectError::SinkFull => f.write_str("output sink full"),
            ObjectError::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

impl core::error::Error for ObjectError {}

impl From<ValueError> for ObjectError {
    fn from(_: ValueError) -> Self {
        ObjectError::BadValue
    }
}

impl From<ObjectError> for Code {
    fn from(e: ObjectError) -> Code {
        match e {
            ObjectError::NotFound => Code::NotFound,
            ObjectError::MethodNotAllowed => Code::MethodNotAllowed,
            ObjectError::Unauthorized => Code::Unauthorized,
            ObjectError::BadValue | ObjectError::AlreadyExists => Code::BadRequest,
            ObjectError::Full => Code::RequestEntityTooLarge,
            ObjectError::SinkFull | ObjectError::Internal(_) => Code::InternalServerError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_coap_code() {
        assert_eq!(Code::from(ObjectError::NotFound).raw(), 0x84); // 4.04
        assert_eq!(Code::from(ObjectError::MethodNotAllowed).raw(), 0x85); // 4.05
        assert_eq!(Code::from(ObjectError::Unauthorized).raw(), 0x81); // 4.01
        assert_eq!(Code::from(ObjectError::BadValue).raw(), 0x80); // 4.00
        assert_eq!(Code::from(ObjectError::AlreadyExists).raw(), 0x80);
        assert_eq!(Code::from(ObjectError::Full).raw(), 0x8d); // 4.13
        assert_eq!(Code::from(ObjectError::Internal("x")).raw(), 0xa0); // 5.00
    }
}
