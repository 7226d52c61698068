//! Every capacity of the object store, in one place (STYLE §6). Changing a
//! number here changes `size_of::<ObjectStore>()` and the largest persisted
//! record; both are printed by `tests/footprint.rs`.

/// Security object instances: one Bootstrap-Server account plus DM servers.
pub const SECURITY_INSTANCES: usize = 4;
/// Server object instances (device-management servers).
pub const SERVER_INSTANCES: usize = 3;
/// Access Control object instances.
pub const ACL_INSTANCES: usize = 16;
/// ACL resource instances (per-server entries, including the default 0) per ACL instance.
pub const ACL_ENTRIES: usize = 4;
/// APN Connection Profile instances.
pub const APN_PROFILES: usize = 4;
/// Binary App Data Container instances.
pub const APP_DATA_INSTANCES: usize = 2;
/// Data resource instances (`/19/i/0/ri`) per Binary App Data Container instance.
pub const APP_DATA_ENTRIES: usize = 4;
/// Bytes of one Binary App Data Container data entry (4 × 240 keeps one
/// instance within `persist::MAX_RECORD_LEN`).
pub const APP_DATA_LEN: usize = 240;
/// Event Log instances.
pub const EVENT_LOG_INSTANCES: usize = 1;
/// Bytes of Event Log LogData (`/20/i/4014`).
pub const EVENT_LOG_LEN: usize = 512;
/// Portfolio instances.
pub const PORTFOLIO_INSTANCES: usize = 4;
/// Identity resource instances per Portfolio instance (ID, manufacturer, model, software version).
pub const PORTFOLIO_IDENTITIES: usize = 4;
/// Bytes of a Portfolio identity string.
pub const PORTFOLIO_IDENTITY_LEN: usize = 64;

/// Bytes of a server URI (Security `/0/i/0`) or package URI (`/5/0/1`); the registry range is 0..255.
pub const URI_LEN: usize = 255;
/// Bytes of a PSK identity (Security `/0/i/3`, RFC 4279 allows up to 128).
pub const PSK_IDENTITY_LEN: usize = 128;
/// Bytes of a pre-shared key or server public key (Security `/0/i/4`, `/0/i/5`).
pub const KEY_LEN: usize = 64;
/// Bytes of an APN (3GPP TS 23.003: at most 100; the carrier API limits it to 63).
pub const APN_LEN: usize = 63;
/// Bytes of the short strings: binding, profile names, user names, device strings.
pub const SHORT_STRING_LEN: usize = 32;
/// Device power sources (`/3/0/6`), the carrier API's cap.
pub const POWER_SOURCES: usize = 8;
/// Device error codes (`/3/0/11`): the nine codes 0..8.
pub const ERROR_CODES: usize = 9;
/// Connectivity Monitoring IP addresses and APNs (`/4/0/4`, `/4/0/7`).
pub const CONN_ADDRESSES: usize = 2;
/// Bytes of one textual IP address (an IPv6 address is at most 45).
pub const IP_ADDRESS_LEN: usize = 45;
/// Connectivity Monitoring available bearers (`/4/0/1`).
pub const BEARERS: usize = 4;
/// Firmware Update protocols (`/5/0/8`).
pub const FW_PROTOCOLS: usize = 6;
/// Observable changes remembered before the set collapses into "everything changed".
pub const CHANGED_PATHS: usize = 32;
/// Events buffered for the runtime.
pub const EVENTS: usize = 16;
