//! CoAP (RFC 7252) with block-wise transfer (RFC 7959) and Observe (RFC 7641):
//! message encode/decode, the reliability layer, and the sans-IO endpoint.
pub mod error;
pub mod message;
pub mod numbers;
pub mod option;
pub mod reader;
pub mod writer;
pub use error::Error;
pub use message::{HEADER_LEN, MAX_TOKEN_LEN, Message, MessageType, Repr, Token};
pub use option::{Options, OptionsIter, RawOption, UintValue};
pub use reader::Reader;
pub use writer::MessageWriter;
pub mod block;
pub mod endpoint;
pub mod observe;
