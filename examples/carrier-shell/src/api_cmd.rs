//! `carrier_api` (carrier-api.md §6.1): each subcommand calls the library's
//! application API ([`lwm2m_carrier::api::AppApi`]) and maps the returned
//! errno to the original shell's message.
//!
//! Guarantee: every errno the API can return prints a message (the spec's for
//! the cases it lists, `Error: -N` / `Unknown error -N` otherwise), and a
//! malformed argument prints the usage, never a panic.
//!
//! Requests and `data_send` belong to the runtime, which this shell does not
//! run yet: `link_up`, `link_down` and `reboot` are accepted, `register` and
//! `deregister` follow the carrier rule (generic and SoftBank only) and then
//! find nothing to schedule, and `send` finds no registered server.

use lwm2m_carrier::Errno;
use lwm2m_carrier::api::Request;

use crate::shell::{
    API, API_APP_DATA, API_DEVICE, API_EVENT_LOG, API_LOCATION, API_PORTFOLIO, API_REQUEST, Shell,
    bad_arg, help, int, say, unknown,
};
use carrier_profiles::Carrier;

const POWER_SOURCES: &[&str] = &[
    " 0 = DC",
    " 1 = Internal battery",
    " 2 = External battery",
    " 4 = Ethernet",
    " 5 = USB",
    " 6 = AC",
    " 7 = Solar",
];
const BATTERY_STATUS: &[&str] = &[
    " 0 = Normal",
    " 1 = Charging",
    " 2 = Charge complete",
    " 3 = Damaged",
    " 4 = Low battery",
    " 5 = Not installed",
    " 6 = Unknown",
];
const ERROR_CODES: &[&str] = &[
    " 0 = No error",
    " 1 = Low charge",
    " 2 = External supply off",
    " 3 = GPS failure",
    " 4 = Low signal",
    " 5 = Out of memory",
    " 6 = SMS failure",
    " 7 = IP connectivity failure",
    " 8 = Peripheral malfunction",
];

fn lines(out: &mut String, list: &[&str]) {
    for l in list {
        say(out, l);
    }
}

fn neg(e: Errno) -> i32 {
    -e.code()
}

/// A raw u8 argument; values outside u8 are given to the API as an unsupported
/// value (255), so they get the API's `-EINVAL`.
fn raw_u8(v: i64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// An optional float argument; `-` leaves it unspecified (NaN).
fn opt_f32(arg: Option<&&str>) -> Result<f32, String> {
    match arg {
        None | Some(&"-") => Ok(f32::NAN),
        Some(a) => a.parse().map_err(|_| (*a).to_owned()),
    }
}

impl Shell {
    pub(crate) fn api_cmd(&mut self, args: &[&str], out: &mut String) {
        match args {
            [] | ["help", ..] => help(out, "carrier_api", API),
            ["app_data", rest @ ..] => match rest {
                ["set", a @ ..] => self.app_data_set(a, out),
                [] | ["help", ..] => help(out, "app_data", API_APP_DATA),
                [o, ..] => unknown(out, "app_data", API_APP_DATA, Some(o)),
            },
            ["event_log", rest @ ..] => match rest {
                ["set", a @ ..] => self.event_log_set(a, out),
                [] | ["help", ..] => help(out, "event_log", API_EVENT_LOG),
                [o, ..] => unknown(out, "event_log", API_EVENT_LOG, Some(o)),
            },
            ["device", rest @ ..] => self.api_device(rest, out),
            ["location", rest @ ..] => match rest {
                ["position", a @ ..] => self.position(a, out),
                ["velocity", a @ ..] => self.velocity(a, out),
                [] | ["help", ..] => help(out, "location", API_LOCATION),
                [o, ..] => unknown(out, "location", API_LOCATION, Some(o)),
            },
            ["portfolio", rest @ ..] => self.portfolio(rest, out),
            ["request", rest @ ..] => self.request(rest, out),
            [o, ..] => unknown(out, "carrier_api", API, Some(o)),
        }
    }

    fn app_data_set(&mut self, args: &[&str], out: &mut String) {
        const USAGE: [&str; 2] = ["set <data>", "set <obj_inst> <res_inst> [data]"];
        let result = match args {
            [data] => self.api().set_app_data(&[10250, 0, 0], Some(data.as_bytes())),
            [inst, res, data @ ..] if data.len() <= 1 => {
                let path = int(inst)
                    .and_then(|i| u16::try_from(i).ok())
                    .zip(int(res).and_then(|r| u16::try_from(r).ok()));
                let Some((inst, res)) = path else {
                    lines(out, &USAGE);
                    say(out, "Invalid argument");
                    return;
                };
                self.api().set_app_data(&[19, inst, 0, res], data.first().map(|d| d.as_bytes()))
            }
            _ => {
                lines(out, &USAGE);
                return;
            }
        };
        match result {
            Ok(()) => say(out, "Wrote app data successfully"),
            Err(Errno::NoEnt) => say(out, "Object not initialized or invalid instance"),
            Err(Errno::Inval) => say(out, "Invalid resource instance"),
            Err(Errno::NoMem) => say(out, "Not enough memory"),
            Err(e) => say(out, format!("Unknown error: {}", neg(e))),
        }
    }

    fn event_log_set(&mut self, args: &[&str], out: &mut String) {
        let [data] = args else {
            say(out, "set <data>");
            return;
        };
        match self.api().set_log_data(Some(data.as_bytes())) {
            Ok(()) => say(out, "Wrote log data successfully"),
            Err(Errno::NoEnt) => say(out, "Event Log not initialized"),
            Err(Errno::Inval) => say(out, "Invalid argument"),
            Err(Errno::NoMem) => say(out, "Not enough memory"),
            Err(e) => say(out, format!("Unknown error: {}", neg(e))),
        }
    }

    fn api_device(&mut self, args: &[&str], out: &mut String) {
        let Some((&cmd, rest)) = args.split_first() else {
            help(out, "device", API_DEVICE);
            return;
        };
        match cmd {
            "help" => help(out, "device", API_DEVICE),
            "battery_level" => {
                const USAGE: &str = "battery_level <battery level %>";
                let [arg] = rest else { return say(out, USAGE) };
                let Some(v) = int(arg) else { return bad_arg(out, USAGE, arg) };
                match self.api().set_battery_level(raw_u8(v)) {
                    Ok(()) => say(out, "Battery level updated successfully"),
                    Err(Errno::Inval) => say(out, format!("Invalid value: {v}")),
                    Err(Errno::NoDev) => say(out, "No internal battery detected"),
                    Err(e) => say(out, format!("Error: {}", neg(e))),
                }
            }
            "battery_status" => {
                let [arg] = rest else { return lines(out, BATTERY_STATUS) };
                let Some(v) = int(arg) else {
                    return bad_arg(out, "battery_status <0..6>", arg);
                };
                match self.api().set_battery_status(raw_u8(v)) {
                    Ok(()) => say(out, "Battery status updated successfully"),
                    Err(Errno::NoDev) => say(out, "No internal battery detected"),
                    Err(Errno::Inval) => say(out, "Unsupported battery status"),
                    Err(e) => say(out, format!("Error: {}", neg(e))),
                }
            }
            "current" | "voltage" => {
                let usage = if cmd == "current" {
                    "current <power source identifier> <current in mA>"
                } else {
                    "voltage <power source identifier> <voltage in mV>"
                };
                let [src, val] = rest else { return say(out, usage) };
                let Some(src) = int(src) else { return bad_arg(out, usage, src) };
                let Some(v) = int(val).and_then(|v| i32::try_from(v).ok()) else {
                    return bad_arg(out, usage, val);
                };
                let (result, ok) = if cmd == "current" {
                    (
                        self.api().set_current(raw_u8(src), v),
                        "Current measurements updated successfully",
                    )
                } else {
                    (
                        self.api().set_voltage(raw_u8(src), v),
                        "Voltage measurement updated successfully",
                    )
                };
                match result {
                    Ok(()) => say(out, ok),
                    Err(Errno::NoDev) => say(out, "Power source not detected"),
                    Err(Errno::Inval) => say(out, "Unsupported power source type"),
                    Err(e) => say(out, format!("Error: {}", neg(e))),
                }
            }
            "error_code_add" => {
                let [arg] = rest else { return lines(out, ERROR_CODES) };
                let Some(v) = int(arg) else {
                    return bad_arg(out, "error_code_add <0..8>", arg);
                };
                match self.api().add_error_code(raw_u8(v)) {
                    Ok(()) => say(out, "Error code added successfully"),
                    Err(Errno::Inval) => say(out, "Unsupported error code"),
                    Err(Errno::NoEnt) => say(out, "Object not initialized"),
                    Err(e) => say(out, format!("Error: {}", neg(e))),
                }
            }
            "error_code_remove" => {
                let [arg] = rest else { return lines(out, ERROR_CODES) };
                let Some(v) = int(arg) else {
                    return bad_arg(out, "error_code_remove <1..8>", arg);
                };
                if v == 0 {
                    return say(out, "Cannot remove error code no error");
                }
                match self.api().remove_error_code(raw_u8(v)) {
                    Ok(()) => say(out, "Error code removed successfully"),
                    Err(Errno::NoEnt) => say(out, "Error code not found"),
                    Err(Errno::Inval) => say(out, "Unsupported error code"),
                    Err(e) => say(out, format!("Error: {}", neg(e))),
                }
            }
            "memory_total" | "memory_free_write" => {
                let usage = if cmd == "memory_total" {
                    "memory_total <total memory in kB>"
                } else {
                    "memory_free_write <free memory in kB>"
                };
                let [arg] = rest else { return say(out, usage) };
                let Some(v) = int(arg) else { return bad_arg(out, usage, arg) };
                let Ok(kb) = i32::try_from(v) else {
                    return say(out, "Reported value is negative or bigger than INT32_MAX");
                };
                let Ok(kb) = u32::try_from(kb) else {
                    return say(out, "Reported value is negative or bigger than INT32_MAX");
                };
                if cmd == "memory_free_write" {
                    self.memory_free_kb = i32::try_from(kb).unwrap_or(i32::MAX);
                    return say(out, "Estimated amount of storage space updated successfully");
                }
                match self.api().set_memory_total(kb) {
                    Ok(()) => say(out, "Total amount of storage space set successfully"),
                    Err(Errno::Inval) => {
                        say(out, "Reported value is negative or bigger than INT32_MAX")
                    }
                    Err(e) => say(out, format!("Error: {}", neg(e))),
                }
            }
            "memory_free_read" => say(out, format!("Free memory: {}", self.memory_free_kb)),
            "power_sources" => {
                if rest.is_empty() {
                    return lines(out, POWER_SOURCES);
                }
                let mut list = Vec::with_capacity(rest.len());
                for arg in rest {
                    let Some(v) = int(arg) else {
                        return bad_arg(out, "power_sources <id>...", arg);
                    };
                    list.push(raw_u8(v));
                }
                match self.api().set_power_sources(&list) {
                    Ok(()) => {
                        say(out, "Available power sources set successfully");
                        if list.contains(&1) {
                            let _ = self.api().set_battery_level(100);
                            let _ = self.api().set_battery_status(0);
                            say(out, "Internal battery level set to 100 (normal)");
                        }
                    }
                    Err(Errno::Inval) => say(out, "Unsupported power source"),
                    Err(Errno::TooBig) => say(out, "Unsupported number of power sources"),
                    Err(Errno::NoEnt) => say(out, "Object not initialized"),
                    Err(e) => say(out, format!("Error: {}", neg(e))),
                }
            }
            "time_read" | "utc_time_read" | "utc_offset_read" | "timezone_read" => {
                if !rest.is_empty() {
                    return say(out, format!("{cmd} does not accept arguments"));
                }
                let now = self.now();
                let t = self.api().time();
                if matches!(cmd, "time_read" | "utc_time_read") {
                    say(out, format!("UTC time is: {}", t.utc_time(now)));
                }
                if matches!(cmd, "time_read" | "utc_offset_read") {
                    say(out, format!("UTC offset is: {}", t.utc_offset_min()));
                }
                if matches!(cmd, "time_read" | "timezone_read") {
                    say(out, format!("Timezone is: {}", t.timezone()));
                }
            }
            "utc_time_write" => {
                const USAGE: &str = "utc_time_write <time in seconds since epoch>";
                let [arg] = rest else { return say(out, USAGE) };
                let Some(v) = int(arg) else { return bad_arg(out, USAGE, arg) };
                let now = self.now();
                let result = i32::try_from(v).map_err(|_| Errno::Inval);
                match result.and_then(|v| self.api().set_utc_time(now, v)) {
                    Ok(()) => say(out, "UTC time successfully set"),
                    Err(_) => say(out, format!("Unable to set time to: {v}")),
                }
            }
            "utc_offset_write" => {
                const USAGE: &str = "utc_offset_write <offset in minutes>";
                let [arg] = rest else { return say(out, USAGE) };
                let Some(v) = int(arg) else { return bad_arg(out, USAGE, arg) };
                let result = i32::try_from(v).map_err(|_| Errno::Inval);
                match result.and_then(|v| self.api().set_utc_offset(v)) {
                    Ok(()) => say(out, "offset successfully set"),
                    Err(_) => say(out, format!("Unable to set offset to: {v}")),
                }
            }
            "timezone_write" => {
                let [arg] = rest else { return say(out, "timezone_write <timezone>") };
                match self.api().set_timezone(arg) {
                    Ok(()) => say(out, "Timezone successfully set"),
                    Err(_) => say(out, format!("Unable to set timezone to: {arg}")),
                }
            }
            other => unknown(out, "device", API_DEVICE, Some(other)),
        }
    }

    fn position(&mut self, args: &[&str], out: &mut String) {
        const USAGE: [&str; 6] = [
            "position <lat> <lon> [alt] [radius]",
            " arguments:",
            "   lat (deg)  - latitude, between -90.0 and 90.0",
            "   lon (deg)  - longitude, between -180.0 and 180.0",
            "   alt (m)    - altitude over sea level",
            "   radius (m) - uncertainty, non-negative",
        ];
        if !(2..=4).contains(&args.len()) {
            return lines(out, &USAGE);
        }
        let parsed = (|| {
            let lat: f64 = args.first()?.parse().ok()?;
            let lon: f64 = args.get(1)?.parse().ok()?;
            let alt: f32 = args.get(2).map_or(Some(0.0), |a| a.parse().ok())?;
            let radius: f32 = args.get(3).map_or(Some(0.0), |a| a.parse().ok())?;
            Some((lat, lon, alt, radius))
        })();
        let Some((lat, lon, alt, radius)) = parsed else {
            lines(out, &USAGE);
            return say(out, "Invalid argument");
        };
        let now = self.now();
        let timestamp = u32::try_from(self.api().time().utc_time(now)).unwrap_or(0);
        match self.api().set_location(lat, lon, alt, timestamp, radius) {
            Ok(()) => say(out, "Location successfully set"),
            Err(Errno::NoEnt) => say(out, "Location object not initialized"),
            Err(e) => say(out, format!("Unknown error {}", neg(e))),
        }
    }

    fn velocity(&mut self, args: &[&str], out: &mut String) {
        const USAGE: [&str; 7] = [
            "velocity <heading> <speed_h> [speed_v] [uncertainty_h] [uncertainty_v]",
            " optional arguments can be set to \"-\" to be left unspecified",
            "   heading (deg)       - horizontal direction, integer 0-359",
            "   speed_h (m/s)       - horizontal speed, non-negative",
            "   speed_v (m/s)       - vertical speed, negative only if downward",
            "   uncertainty_h (m/s) - horizontal uncertainty speed, non-negative",
            "   uncertainty_v (m/s) - vertical uncertainty speed, non-negative",
        ];
        if !(2..=5).contains(&args.len()) {
            return lines(out, &USAGE);
        }
        let heading = args.first().and_then(|a| int(a));
        let floats = (|| {
            Ok::<_, String>((
                opt_f32(args.get(1))?,
                opt_f32(args.get(2))?,
                opt_f32(args.get(3))?,
                opt_f32(args.get(4))?,
            ))
        })();
        let (Some(heading), Ok((sh, sv, uh, uv))) = (heading, floats) else {
            lines(out, &USAGE);
            return say(out, "Invalid argument");
        };
        let heading = u16::try_from(heading).unwrap_or(u16::MAX);
        match self.api().set_velocity(heading, sh, sv, uh, uv) {
            Ok(()) => say(out, "Velocity successfully set"),
            Err(Errno::NoEnt) => say(out, "Location object not initialized"),
            Err(e) => say(out, format!("Unknown error {}", neg(e))),
        }
    }

    fn portfolio(&mut self, args: &[&str], out: &mut String) {
        let u16_arg = |a: &str| int(a).and_then(|v| u16::try_from(v).ok());
        match args {
            [] | ["help", ..] => help(out, "portfolio", API_PORTFOLIO),
            ["create", rest @ ..] => {
                const USAGE: &str = "create <object instance>";
                let [arg] = rest else { return say(out, USAGE) };
                let Some(iid) = u16_arg(arg) else { return bad_arg(out, USAGE, arg) };
                match self.api().create_portfolio(iid) {
                    Ok(()) => say(out, format!("Wrote /16/{iid}")),
                    Err(Errno::NoEnt) => say(out, "Portfolio object not initialized"),
                    Err(Errno::NoMem) => say(out, "No slots available"),
                    Err(Errno::Inval | Errno::BadR) => {
                        say(out, format!("Instance {iid} already in use"))
                    }
                    Err(e) => say(out, format!("Unknown error {}", neg(e))),
                }
            }
            ["read", rest @ ..] => {
                const USAGE: &str = "read <object instance> <identity type>";
                let [i, t] = rest else { return say(out, USAGE) };
                let Some(iid) = u16_arg(i) else { return bad_arg(out, USAGE, i) };
                let Some(ty) = u16_arg(t) else { return bad_arg(out, USAGE, t) };
                let mut buf = [0u8; 200];
                match self.api().read_portfolio_identity(iid, ty, Some(&mut buf)) {
                    Ok(len) => {
                        let text = buf.get(..len.saturating_sub(1)).unwrap_or_default();
                        say(out, String::from_utf8_lossy(text));
                    }
                    Err(Errno::NoMem) => say(out, "Insufficient memory"),
                    Err(Errno::NoEnt) => say(out, format!("Object instance {iid} does not exist")),
                    Err(Errno::Inval) => say(out, format!("Invalid Identity type {ty}")),
                    Err(e) => say(out, format!("Unknown error {}", neg(e))),
                }
            }
            ["write", rest @ ..] => {
                const USAGE: &str = "write <object instance> <identity type> <value>";
                let [i, t, value] = rest else { return say(out, USAGE) };
                let Some(iid) = u16_arg(i) else { return bad_arg(out, USAGE, i) };
                let Some(ty) = u16_arg(t) else { return bad_arg(out, USAGE, t) };
                match self.api().write_portfolio_identity(iid, ty, value) {
                    Ok(()) => say(out, format!("Wrote /16/{iid}/0/{ty}")),
                    Err(Errno::NoEnt) => say(out, format!("Object instance {iid} does not exist")),
                    Err(Errno::NoMem) => say(out, "Insufficient memory"),
                    Err(Errno::Inval) => {
                        say(out, format!("String is NULL or empty, or invalid Identity type {ty}"))
                    }
                    Err(Errno::TooBig) => say(out, "String is too long"),
                    Err(Errno::Perm) => say(out, format!("Cannot write to instance {iid}")),
                    Err(e) => say(out, format!("Unknown error {}", neg(e))),
                }
            }
            [o, ..] => unknown(out, "portfolio", API_PORTFOLIO, Some(o)),
        }
    }

    /// The library's `request`: the device's runtime answers once started.
    fn request_kind(&mut self, kind: Request) -> Result<(), Errno> {
        if let Some(d) = &mut self.device {
            return d.request(kind);
        }
        match kind {
            Request::Reboot | Request::LinkUp | Request::LinkDown => Ok(()),
            Request::Register | Request::Deregister => {
                if !matches!(self.api().carrier(), Some(Carrier::Generic | Carrier::SoftBank)) {
                    return Err(Errno::Perm);
                }
                // No runtime: no server connection to (de)register.
                Err(Errno::BadR)
            }
        }
    }

    fn request(&mut self, args: &[&str], out: &mut String) {
        let Some((&cmd, rest)) = args.split_first() else {
            return help(out, "request", API_REQUEST);
        };
        let kind = match cmd {
            "help" => return help(out, "request", API_REQUEST),
            "send" => return self.send(rest, out),
            "link_up" => (Request::LinkUp, "Requested link up successfully"),
            "link_down" => (Request::LinkDown, "Requested link down successfully"),
            "reboot" => (Request::Reboot, "Requested reboot successfully"),
            "register" => (Request::Register, "Requested register successfully"),
            "deregister" => (Request::Deregister, "Requested deregister successfully"),
            other => return unknown(out, "request", API_REQUEST, Some(other)),
        };
        if !rest.is_empty() {
            return say(out, format!("{cmd} does not accept arguments"));
        }
        let (kind, ok) = kind;
        let what = if kind == Request::Deregister { "deregistrations" } else { "registrations" };
        match self.request_kind(kind) {
            Ok(()) => say(out, ok),
            Err(Errno::Perm) => say(out, "Action is not supported for this carrier"),
            Err(Errno::BadR) => say(out, format!("No {what} were scheduled")),
            Err(Errno::Already) => say(out, "A registration has already been scheduled"),
            Err(e) => say(out, format!("Unknown error: {}", neg(e))),
        }
    }

    fn send(&mut self, args: &[&str], out: &mut String) {
        const USAGE: &str = "send <obj> <inst> <res> [<res_inst>]";
        if !(3..=4).contains(&args.len()) {
            return say(out, USAGE);
        }
        let mut path = Vec::with_capacity(4);
        for a in args {
            let Some(v) = int(a).and_then(|v| u16::try_from(v).ok()) else {
                return bad_arg(out, USAGE, a);
            };
            path.push(v);
        }
        let text = path.iter().map(u16::to_string).collect::<Vec<_>>().join("/");
        // The object store decides whether the path exists; without the runtime
        // no server is registered to send to.
        let attached = self.api().objects().is_some();
        let result = match (&mut self.device, attached) {
            (Some(d), true) => d.send(&path),
            (_, false) => Err(Errno::NoEnt),
            (None, true) => Err(Errno::BadR),
        };
        match result {
            Ok(()) if path.len() == 3 => {
                say(out, format!("Sent data in resource /{text} successfully"))
            }
            Ok(()) => say(out, format!("Sent data in resource instance /{text} successfully")),
            Err(Errno::Perm) => say(out, format!("Resource at /{text} is not readable")),
            Err(Errno::Inval) => say(out, format!("Send operation not supported for /{text}")),
            Err(Errno::NoEnt) => say(out, format!("Resource at /{text} does not exist")),
            Err(Errno::InProgress) => say(out, "Send operation already in progress"),
            Err(Errno::Canceled) => say(out, "Send is muted for the target server"),
            Err(Errno::BadR) => say(out, "Server is not registered"),
            Err(e) => say(out, format!("Unknown error {}", neg(e))),
        }
    }
}
