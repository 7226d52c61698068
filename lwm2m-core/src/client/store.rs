//! The object store the client endpoint dispatches to: the boundary between
//! the protocol (`lwm2m-core::client`) and the object model
//! (`lwm2m-objects` implements [`ObjectStore`]).
//!
//! Every operation names its [`Caller`] — the Bootstrap-Server or a
//! device-management server by Short Server ID — so the store can enforce
//! access control (OMA-TS-LightweightM2M_Core 1.1 §7.3.1); the protocol
//! layer never decides access rights itself. Values flow as
//! `(Path, Value)` pairs: reads stream into a format
//! [`Encoder`](crate::formats::Encoder), writes come from an already
//! validated decoder.
//!
//! Nothing here allocates; an implementation must not panic on any path
//! or value the client passes (they come from the network).

use crate::coap::numbers::Code;
use crate::formats::Encoder;
use crate::path::Path;
use crate::value::{DataType, Value};
use core::fmt;

/// Who performs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Caller {
    /// The LwM2M Bootstrap-Server (TS §6.1): may touch Security (0) and
    /// bypasses access control.
    Bootstrap,
    /// A device-management server, by its Short Server ID (object 1 resource 0).
    Server(u16),
}

/// Write mode (TS §6.3.3): PUT replaces, POST updates partially.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteMode {
    /// Replace the target (PUT).
    Replace,
    /// Update only the given resources (POST).
    Partial,
}

/// One object for the Register/Update payload (TS §6.2.1): its ID, its
/// version ("1.0" is not announced) and its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo<'a> {
    /// Object ID.
    pub id: u16,
    /// Object version, `"1.0"` when the object has no other.
    pub version: &'a str,
    /// Instance IDs, ascending.
    pub instances: &'a [u16],
}

/// One server account, joined from a Security (0) instance and, for a
/// device-management server, its Server (1) instance (TS §E.1, §E.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account<'a> {
    /// The Security object instance.
    pub security_instance: u16,
    /// `coap://host:port` or `coaps://…` (resource 0/x/0).
    pub server_uri: &'a str,
    /// Resource 0/x/1: this is the Bootstrap-Server account.
    pub bootstrap: bool,
    /// Short Server ID (resource 0/x/10 and 1/y/0); `None` for the
    /// Bootstrap-Server.
    pub ssid: Option<u16>,
    /// Registration lifetime in seconds (1/y/1).
    pub lifetime_s: u32,
    /// Binding (1/y/7), e.g. `"U"`.
    pub binding: &'a str,
    /// Queue mode requested (1/y/23 in LwM2M 1.1, or a `Q` in the binding).
    pub queue_mode: bool,
}

impl Account<'_> {
    /// The account is a device-management server the client can register
    /// with: not the Bootstrap-Server, with an SSID, a URI and a Server
    /// object instance (lifetime > 0).
    pub fn is_usable_server(&self) -> bool {
        !self.bootstrap && self.ssid.is_some() && !self.server_uri.is_empty() && self.lifetime_s > 0
    }
}

/// What the store refused, mapped to the CoAP response in one place
/// (`From<StoreError> for Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StoreError {
    /// No such object, instance or resource: 4.04.
    NotFound,
    /// The operation is not allowed on this target (read of an executable,
    /// write of a read-only resource): 4.05.
    MethodNotAllowed,
    /// The access-control list denies the caller: 4.01.
    Unauthorized,
    /// A value or argument the target cannot take: 4.00.
    BadValue,
    /// A fixed capacity is exhausted (instances, string length): 4.13.
    Full,
    /// The store failed on its own account (storage): 5.00.
    Internal,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreError::NotFound => "not found",
            StoreError::MethodNotAllowed => "method not allowed",
            StoreError::Unauthorized => "unauthorized",
            StoreError::BadValue => "bad value",
            StoreError::Full => "capacity exhausted",
            StoreError::Internal => "internal store error",
        })
    }
}

impl core::error::Error for StoreError {}

impl From<StoreError> for Code {
    fn from(e: StoreError) -> Code {
        match e {
            StoreError::NotFound => Code::NotFound,
            StoreError::MethodNotAllowed => Code::MethodNotAllowed,
            StoreError::Unauthorized => Code::Unauthorized,
            StoreError::BadValue => Code::BadRequest,
            StoreError::Full => Code::RequestEntityTooLarge,
            StoreError::Internal => Code::InternalServerError,
        }
    }
}

/// The object model as the client endpoint sees it.
///
/// Contract for implementations:
/// - every method MUST return an error (never panic) for any path, value
///   or caller, since they come from the network;
/// - `read` MUST write values in path order, and the same values when
///   called twice without a change in between (encoders walk twice);
/// - access control (TS §7.3) is the store's: a `Caller::Server` denied by
///   the ACL gets [`StoreError::Unauthorized`], and the Security object (0)
///   is [`StoreError::NotFound`] to every caller but
///   [`Caller::Bootstrap`].
pub trait ObjectStore {
    /// Visit every object the client announces in Register (TS §6.2.1),
    /// Security (0) and OSCORE (21) included (the client filters them).
    fn objects(&self, visit: &mut dyn FnMut(ObjectInfo<'_>));

    /// Visit every server account (Security instances joined with their
    /// Server instances).
    fn accounts(&self, visit: &mut dyn FnMut(Account<'_>));

    /// The declared type of a resource (for decoding TLV and text).
    fn data_type(&self, path: &Path) -> Option<DataType>;

    /// Read `path` (object, instance, resource or resource instance) into `out`.
    ///
    /// # Errors
    /// [`StoreError`]; an encoder error is reported as [`StoreError::BadValue`]
    /// by implementations that cannot carry it otherwise.
    fn read(&self, caller: Caller, path: &Path, out: &mut dyn Encoder) -> Result<(), StoreError>;

    /// Write `values` (all at or below `path`, already decoded and checked)
    /// with `mode`.
    ///
    /// # Errors
    /// [`StoreError`]; a failed write should leave the target unchanged.
    fn write<'a>(
        &mut self,
        caller: Caller,
        path: &Path,
        mode: WriteMode,
        values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<(), StoreError>;

    /// Execute resource `path` with the plain-text `args` (TS §5.4.5).
    ///
    /// # Errors
    /// [`StoreError`].
    fn execute(&mut self, caller: Caller, path: &Path, args: &[u8]) -> Result<(), StoreError>;

    /// Create an instance of `object` (with ID `instance` if given) holding
    /// `values`; returns the new instance ID.
    ///
    /// # Errors
    /// [`StoreError`].
    fn create<'a>(
        &mut self,
        caller: Caller,
        object: u16,
        instance: Option<u16>,
        values: &mut dyn Iterator<Item = (Path, Value<'a>)>,
    ) -> Result<u16, StoreError>;

    /// Delete an object instance (or, for the Bootstrap-Server, an object's
    /// instances; the client itself expands `/`).
    ///
    /// # Errors
    /// [`StoreError`].
    fn delete(&mut self, caller: Caller, path: &Path) -> Result<(), StoreError>;

    /// Write one block of a resource written block-wise (RFC 7959 Block1;
    /// the Firmware Update Package, 5/0/0, is the case that matters):
    /// `bytes` go at `offset` of the whole body, and `last` marks the final
    /// block. Blocks arrive in order; a transfer restarts at offset 0.
    ///
    /// # Errors
    /// [`StoreError`]; the default refuses with
    /// [`StoreError::MethodNotAllowed`].
    fn write_block(
        &mut self,
        caller: Caller,
        path: &Path,
        offset: usize,
        bytes: &[u8],
        last: bool,
    ) -> Result<(), StoreError> {
        let _ = (caller, path, offset, bytes, last);
        Err(StoreError::MethodNotAllowed)
    }

    /// Visit the paths Discover reports at and below `path` (TS §5.4.2):
    /// for an object its instances and their resources, for an instance its
    /// resources; `dim` for a multiple resource.
    ///
    /// # Errors
    /// [`StoreError`].
    fn discover(
        &self,
        caller: Caller,
        path: &Path,
        visit: &mut dyn FnMut(&Path, Option<u16>),
    ) -> Result<(), StoreError>;
}
