//! The object model: who is asking ([`Caller`]), what they ask
//! ([`Operation`]), where results go ([`ReadSink`], [`DiscoverSink`]), what
//! the runtime must act on ([`ObjectEvent`]), and what the store needs from
//! the platform ([`DeviceInfo`]). Implements the operation set of
//! OMA-TS-LightweightM2M_Core 1.1 §6.3 (Device Management and Service
//! Enablement interface) and §6.1.7 (Bootstrap interface) on `/O/I/R/RI`.
//!
//! [`AccessChecked`] is the capability every store operation takes: only the
//! access-control check ([`crate::ObjectStore::authorize`]) can make one, so
//! an operation that skipped the check does not compile.

use crate::error::ObjectError;
use lwm2m_core::path::Path;
use lwm2m_core::value::Value;

/// Who sends an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Caller {
    /// The LwM2M Bootstrap-Server, over the Bootstrap interface: not subject
    /// to access control; may write the Security object.
    Bootstrap,
    /// A LwM2M (device-management) server, by Short Server ID.
    Server(u16),
}

/// A device-management or bootstrap operation (Core TS §6.3, §6.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operation {
    /// Read (GET).
    Read,
    /// Observe (GET with Observe 0): a Read that keeps being answered.
    Observe,
    /// Discover (GET with `application/link-format`).
    Discover,
    /// Write-Attributes (PUT without payload, with query).
    WriteAttributes,
    /// Write: Replace (PUT) or Partial Update (POST).
    Write(WriteMode),
    /// Execute (POST on an executable resource).
    Execute,
    /// Create (POST on an object).
    Create,
    /// Delete (DELETE).
    Delete,
}

/// The two Write flavours (Core TS §6.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteMode {
    /// PUT: the target is replaced; unlisted optional resources of an
    /// instance return to their defaults, a multiple resource loses the
    /// instances not written.
    Replace,
    /// POST: only the listed resources (or resource instances) change.
    PartialUpdate,
}

/// Access rights of the Access Control object's ACL resource (Core TS
/// §E.3, object 2 resource 2): bit 0 Read/Observe/Discover/Write-Attributes,
/// bit 1 Write, bit 2 Execute, bit 3 Delete, bit 4 Create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AccessRights(pub u8);

impl AccessRights {
    /// No right.
    pub const NONE: AccessRights = AccessRights(0);
    /// Read, Observe, Discover, Write-Attributes.
    pub const READ: AccessRights = AccessRights(1);
    /// Write.
    pub const WRITE: AccessRights = AccessRights(2);
    /// Execute.
    pub const EXECUTE: AccessRights = AccessRights(4);
    /// Delete.
    pub const DELETE: AccessRights = AccessRights(8);
    /// Create.
    pub const CREATE: AccessRights = AccessRights(16);
    /// Everything an instance owner gets: R, W, E, D (Create is an object-level right).
    pub const OWNER: AccessRights = AccessRights(1 | 2 | 4 | 8);
    /// All five bits.
    pub const ALL: AccessRights = AccessRights(31);

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: AccessRights) -> bool {
        self.0 & other.0 == other.0
    }

    /// The right an operation needs.
    pub const fn needed_for(op: Operation) -> AccessRights {
        match op {
            Operation::Read
            | Operation::Observe
            | Operation::Discover
            | Operation::WriteAttributes => AccessRights::READ,
            Operation::Write(_) => AccessRights::WRITE,
            Operation::Execute => AccessRights::EXECUTE,
            Operation::Delete => AccessRights::DELETE,
            Operation::Create => AccessRights::CREATE,
        }
    }
}

/// Proof that the access-control check allowed `caller` to perform
/// `operation` on `path`. Only [`crate::ObjectStore::authorize`] creates one
/// (the fields are private and there is no other constructor); every store
/// operation takes one and refuses one made for another operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "an access check is only useful when the operation follows"]
pub struct AccessChecked {
    pub(crate) caller: Caller,
    pub(crate) operation: Operation,
    pub(crate) path: Path,
}

impl AccessChecked {
    /// Who was checked.
    pub fn caller(&self) -> Caller {
        self.caller
    }
    /// For which operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }
    /// On which path.
    pub fn path(&self) -> Path {
        self.path
    }
}

/// Where a Read, Observe or Read-for-Send puts its values: one call per
/// resource (single) or resource instance (multiple), in path order, so a
/// content-format encoder can stream them straight into a buffer.
pub trait ReadSink {
    /// Takes one value.
    ///
    /// # Errors
    /// Whatever the sink cannot take (usually [`ObjectError::SinkFull`]);
    /// the read stops and returns that error.
    fn value(&mut self, path: Path, value: Value<'_>) -> Result<(), ObjectError>;
}

impl<F> ReadSink for F
where
    F: FnMut(Path, Value<'_>) -> Result<(), ObjectError>,
{
    fn value(&mut self, path: Path, value: Value<'_>) -> Result<(), ObjectError> {
        self(path, value)
    }
}

/// One entry of a Discover answer or of the Register/Update object list
/// (Core TS §6.2.1, §6.3.4, §5.2.7.6): the path and the attributes the
/// object layer knows. Notification attributes (pmin, gt, …) are the
/// endpoint's to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    /// `/O`, `/O/I`, `/O/I/R`.
    pub path: Path,
    /// `ver=`: the object version, on object links, when it is not 1.0.
    pub version: Option<&'static str>,
    /// `dim=`: the number of instances of a multiple resource.
    pub dim: Option<u16>,
    /// `ssid=`: on Security and Server instances in a Bootstrap-Discover.
    pub ssid: Option<u16>,
    /// `uri=`: on Security instances in a Bootstrap-Discover.
    pub uri: Option<&'a str>,
}

impl Link<'_> {
    pub(crate) fn at(path: Path) -> Self {
        Link { path, version: None, dim: None, ssid: None, uri: None }
    }
}

/// Where Discover and the registration object list put their links.
pub trait DiscoverSink {
    /// Takes one link.
    ///
    /// # Errors
    /// Whatever the sink cannot take; the listing stops with that error.
    fn link(&mut self, link: Link<'_>) -> Result<(), ObjectError>;
}

impl<F> DiscoverSink for F
where
    F: FnMut(Link<'_>) -> Result<(), ObjectError>,
{
    fn link(&mut self, link: Link<'_>) -> Result<(), ObjectError> {
        self(link)
    }
}

/// Something the runtime must act on, produced by a server's operation
/// (drained with [`crate::ObjectStore::poll_event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ObjectEvent {
    /// `/3/0/4` Reboot executed.
    Reboot,
    /// `/3/0/5` Factory Reset executed.
    FactoryReset,
    /// `/3/0/12` Reset Error Code executed; the error codes are cleared.
    ErrorCodesReset,
    /// `/5/0/2` Update executed with a downloaded package: apply it.
    FirmwareUpdate,
    /// `/5/0/1` Package URI written with a non-empty URI: download it
    /// (read the URI with [`crate::objects::FirmwareUpdate::package_uri`]).
    FirmwareDownload,
    /// `/5/0/0` or `/5/0/1` written empty: cancel and reset the update.
    FirmwareCancel,
    /// `/5/0/0` Package written: the endpoint hands the bytes to the DFU
    /// target itself; the store only moves the state machine.
    FirmwarePackage,
    /// `/1/x/4` Disable executed by server `ssid`.
    ServerDisable {
        /// Short Server ID of the instance.
        ssid: u16,
    },
    /// `/1/x/8` Registration Update Trigger executed.
    RegistrationUpdateTrigger {
        /// Short Server ID of the instance.
        ssid: u16,
    },
    /// `/1/x/9` Bootstrap-Request Trigger executed.
    BootstrapRequestTrigger {
        /// Short Server ID of the instance.
        ssid: u16,
    },
    /// A Server resource that the registration depends on (lifetime,
    /// binding) changed: send an Update.
    ServerSettingsChanged {
        /// Short Server ID of the instance.
        ssid: u16,
    },
    /// `/7/0/6` Start executed: reset and start the statistics counters.
    StatisticsStart,
    /// `/7/0/7` Stop executed.
    StatisticsStop,
    /// A writable Cellular Connectivity resource (PSM, active timer, eDRX,
    /// disable radio period) was written: apply the new settings.
    CellularSettingsChanged,
    /// An APN Connection Profile was created, written or deleted.
    ApnProfilesChanged,
    /// A server wrote Binary App Data Container data `/19/i/0/ri`.
    AppDataWritten {
        /// Instance.
        instance: u16,
        /// Resource instance.
        resource_instance: u16,
    },
    /// Object instances were created or deleted: the object list of the
    /// next Update differs (Core TS §6.2.1).
    InstancesChanged,
    /// `/20/i/4011` LogStart executed.
    EventLogStart {
        /// Instance.
        instance: u16,
    },
    /// `/20/i/4012` LogStop executed.
    EventLogStop {
        /// Instance.
        instance: u16,
    },
}

/// Device information that the platform (modem) provides, and the time
/// resources it owns (Device object `/3/0`, app-integration "Resources":
/// manufacturer, model, hardware version, UTC offset, time zone and current
/// time "are read from the modem by default"). The application may override
/// the strings in the store ([`crate::objects::Device`]); the store asks this
/// trait only for what is not overridden.
///
/// Implementations MUST NOT block: return cached values.
pub trait DeviceInfo {
    /// `/3/0/0`, e.g. "Nordic Semiconductor ASA".
    fn manufacturer(&self) -> &str;
    /// `/3/0/1`, e.g. "nRF9160".
    fn model_number(&self) -> &str;
    /// `/3/0/2`: the IMEI.
    fn serial_number(&self) -> &str;
    /// `/3/0/3`: the modem firmware version.
    fn firmware_version(&self) -> &str;
    /// `/3/0/18`, e.g. "nRF9161 LACA ADA".
    fn hardware_version(&self) -> &str;
    /// `/3/0/10` in kB (app-integration: supplied by the application; 0 by default).
    fn memory_free_kb(&self) -> i64 {
        0
    }
    /// `/3/0/13`: seconds since the Unix epoch.
    fn current_time(&self) -> i64;
    /// `/3/0/14`, ISO 8601 offset such as "+01:00".
    fn utc_offset(&self) -> &str;
    /// `/3/0/15`, IANA name such as "Europe/Oslo".
    fn timezone(&self) -> &str;
    /// A server wrote `/3/0/13`.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] if the platform refuses the time.
    fn set_current_time(&mut self, unix_s: i64) -> Result<(), ObjectError>;
    /// A server wrote `/3/0/14`.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] if the platform refuses the offset.
    fn set_utc_offset(&mut self, offset: &str) -> Result<(), ObjectError>;
    /// A server wrote `/3/0/15`.
    ///
    /// # Errors
    /// [`ObjectError::BadValue`] if the platform refuses the time zone.
    fn set_timezone(&mut self, tz: &str) -> Result<(), ObjectError>;
}

/// A [`DeviceInfo`] with fixed answers, for tests and hosts without a modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticDeviceInfo {
    /// `/3/0/0`.
    pub manufacturer: &'static str,
    /// `/3/0/1`.
    pub model_number: &'static str,
    /// `/3/0/2`.
    pub serial_number: &'static str,
    /// `/3/0/3`.
    pub firmware_version: &'static str,
    /// `/3/0/18`.
    pub hardware_version: &'static str,
    /// `/3/0/13`, seconds.
    pub time: i64,
    /// `/3/0/14`.
    pub utc_offset: heapless::String<8>,
    /// `/3/0/15`.
    pub timezone: heapless::String<32>,
}

impl Default for StaticDeviceInfo {
    fn default() -> Self {
        StaticDeviceInfo {
            manufacturer: "Nordic Semiconductor ASA",
            model_number: "nRF9160",
            serial_number: "000000000000000",
            firmware_version: "mfw_nrf9160_0.0.0",
            hardware_version: "nRF9160 SICA B1A",
            time: 0,
            utc_offset: heapless::String::new(),
            timezone: heapless::String::new(),
        }
    }
}

impl DeviceInfo for StaticDeviceInfo {
    fn manufacturer(&self) -> &str {
        self.manufacturer
    }
    fn model_number(&self) -> &str {
        self.model_number
    }
    fn serial_number(&self) -> &str {
        self.serial_number
    }
    fn firmware_version(&self) -> &str {
        self.firmware_version
    }
    fn hardware_version(&self) -> &str {
        self.hardware_version
    }
    fn current_time(&self) -> i64 {
        self.time
    }
    fn utc_offset(&self) -> &str {
        &self.utc_offset
    }
    fn timezone(&self) -> &str {
        &self.timezone
    }
    fn set_current_time(&mut self, unix_s: i64) -> Result<(), ObjectError> {
        self.time = unix_s;
        Ok(())
    }
    fn set_utc_offset(&mut self, offset: &str) -> Result<(), ObjectError> {
        self.utc_offset = offset.try_into().map_err(|_| ObjectError::BadValue)?;
        Ok(())
    }
    fn set_timezone(&mut self, tz: &str) -> Result<(), ObjectError> {
        self.timezone = tz.try_into().map_err(|_| ObjectError::BadValue)?;
        Ok(())
    }
}

/// Where an object's read puts `(resource instance, value)` pairs.
pub(crate) type ValueOut<'a> = dyn FnMut(Option<u16>, Value<'_>) -> Result<(), ObjectError> + 'a;

/// What an object gives the store's generic dispatcher: per-resource reads
/// and writes; paths, metadata, validation and access control live in the
/// store. Resource IDs reaching these methods are in [`Object::supported`]
/// and the instance exists (the store checked).
pub(crate) trait Object {
    /// The registry definition.
    fn def(&self) -> &'static crate::registry::ObjectDef;
    /// The resources this implementation supports, ascending.
    fn supported(&self) -> &'static [u16];
    /// Calls `f` with every instance ID, ascending (default: the single instance 0).
    fn for_each_instance(&self, f: &mut dyn FnMut(u16)) {
        f(0);
    }
    /// Whether instance `iid` exists (default: the single instance 0).
    fn has_instance(&self, iid: u16) -> bool {
        iid == 0
    }
    /// Reads resource `rid` of instance `iid`: `out(None, v)` for a single
    /// resource, `out(Some(ri), v)` per instance of a multiple one. A
    /// resource with no value yet produces nothing.
    fn read(
        &self,
        iid: u16,
        rid: u16,
        info: &dyn DeviceInfo,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ObjectError>;
    /// Writes one already type-checked value. `ri` is `Some` for an
    /// instance of a multiple resource.
    fn write(
        &mut self,
        _iid: u16,
        _rid: u16,
        _ri: Option<u16>,
        _value: Value<'_>,
        _cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
    /// Empties multiple resource `rid` before a Replace.
    fn clear_multiple(&mut self, _iid: u16, _rid: u16) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
    /// Returns the writable resources of `iid` to their defaults before a
    /// Replace of the whole instance.
    fn reset_instance(&mut self, _iid: u16) {}
    /// Executes resource `rid`.
    fn execute(
        &mut self,
        _iid: u16,
        _rid: u16,
        _cx: &mut WriteContext<'_>,
    ) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
    /// Creates instance `iid` with default values.
    fn create(&mut self, _iid: u16) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
    /// Deletes instance `iid`.
    fn delete(&mut self, _iid: u16) -> Result<(), ObjectError> {
        Err(ObjectError::MethodNotAllowed)
    }
}

/// What a write or execute may touch besides the object itself.
pub(crate) struct WriteContext<'a> {
    pub info: &'a mut dyn DeviceInfo,
    pub events: &'a mut crate::store::Events,
}

impl WriteContext<'_> {
    pub(crate) fn emit(&mut self, e: ObjectEvent) {
        self.events.push(e);
    }
}
