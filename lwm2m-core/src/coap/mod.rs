//! CoAP (RFC 7252) with block-wise transfer (RFC 7959) and Observe (RFC 7641):
//! message encode/decode, the reliability layer, and the sans-IO endpoint.
pub mod block;
pub mod numbers;
pub mod observe;
