//! The command interpreter: `help`, `carrier_config` (carrier-api.md §6.2)
//! and `carrier_api` (§6.1, in [`crate::api_cmd`]), with the original shell's
//! output strings.
//!
//! Guarantee: every command line, however malformed, produces text and leaves
//! the shell running; only `exit` ends it. A wrong argument count prints the
//! command's usage; an argument that is not a number where one is expected
//! prints the usage and an `Invalid argument` error.

use core::fmt::Write as _;
use std::path::{Path, PathBuf};

use carrier_os::modem::SecTag;
use carrier_os_std::profile::KeyStore;

use carrier_os::time::Instant;
use carrier_profiles::{Binding, PdnType};
use carrier_profiles::{Carrier, CarrierSet};
use lwm2m_carrier::api::AppApi;
use lwm2m_objects::store::ObjectStore;

use crate::device::{Device, Servers};
use crate::settings::{CARRIERS_ALL, Flag, Number, Settings, Text};

/// Where the device connects when the configuration names no server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded Bootstrap-Server (DTLS-PSK) and DM server, in generic operation.
    Embedded,
    /// `--server`.
    External {
        /// `coap://` or `coaps://` URI.
        uri: String,
        /// It is a Bootstrap-Server.
        bootstrap: bool,
        /// Security tag holding its PSK.
        sec_tag: Option<u32>,
    },
}

/// A string that lives as long as the runtime that borrows it.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// What the caller does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next line.
    Continue,
    /// `exit`: end the shell.
    Exit,
}

/// Width of the label column of `carrier_config print`.
pub const LABEL_WIDTH: usize = 33;

const GREEN: &str = "\x1b[0;32m";
const RED: &str = "\x1b[0;31m";
const NORMAL: &str = "\x1b[0m";

/// The shell's state: the persistent settings and the library's application API.
pub struct Shell {
    pub(crate) settings: Settings,
    pub(crate) color: bool,
    /// The application API before the library started (answers "not initialized").
    idle_api: AppApi,
    pub(crate) started: bool,
    /// The running device, once started.
    pub(crate) device: Option<Device>,
    /// Where the device connects when no server URI is configured.
    target: Target,
    /// The embedded servers (no `--server`).
    servers: Option<Servers>,
    pub(crate) epoch: std::time::Instant,
    /// `memory_free_read` is supplied by the application; this is its value.
    pub(crate) memory_free_kb: i32,
    /// Where `keys.toml` (the std port's modem security tags) lives.
    state_dir: Option<PathBuf>,
}

/// One output line.
pub(crate) fn say(out: &mut String, line: impl AsRef<str>) {
    out.push_str(line.as_ref());
    out.push('\n');
}

/// Usage and an error for an argument that does not parse.
pub(crate) fn bad_arg(out: &mut String, usage: &str, arg: &str) {
    say(out, usage);
    say(out, format!("Invalid argument: {arg}"));
}

/// A whole decimal number (optional sign), as the shell's numeric arguments.
pub(crate) fn int(arg: &str) -> Option<i64> {
    arg.parse::<i64>().ok()
}

/// The original's y/n parsing: first character y/Y/1 or n/N/0.
fn yes_no(arg: &str) -> Option<bool> {
    match arg.chars().next() {
        Some('y' | 'Y' | '1') => Some(true),
        Some('n' | 'N' | '0') => Some(false),
        _ => None,
    }
}

/// Split a command line into words; `"…"` groups words (and `""` is an empty word).
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(core::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// (name, help) of a command group.
type Table = &'static [(&'static str, &'static str)];

const TOP: Table = &[
    ("carrier_api", "LwM2M carrier API"),
    ("carrier_config", "LwM2M carrier configuration"),
    ("help", "Print help; '<group> help' for a group's subcommands"),
    ("server", "The embedded server: 'server read <path>' reads the device"),
    ("exit", "Leave the shell"),
];

const CONFIG: Table = &[
    ("apn", "APN"),
    ("auto_register", "Automatic registration"),
    ("auto_startup", "Automatic startup"),
    ("carriers", "Carriers enabled"),
    ("coap_confirmable_interval", "CoAP confirmable interval"),
    ("device", "Device configuration"),
    ("device_serial_no_type", "Device Serial Number type"),
    ("disable", "Disable custom settings"),
    ("enable", "Enable custom settings"),
    ("firmware_download_timeout", "Firmware download timeout"),
    ("pdn_type", "PDN type"),
    ("print", "Print custom settings"),
    ("queue_mode", "Queue mode"),
    ("server", "Server configuration"),
    ("service_code", "Service code"),
    ("session_idle_timeout", "Session idle timeout"),
];

const CONFIG_SERVER: Table = &[
    ("binding", "Server binding"),
    ("is_bootstrap_server", "Is bootstrap server"),
    ("lifetime", "Server lifetime"),
    ("sec_tag", "Security tag"),
    ("uri", "Server URI"),
];

const CONFIG_DEVICE: Table = &[
    ("device_type", "Device type"),
    ("disable", "Disable custom device settings"),
    ("enable", "Enable custom device settings"),
    ("hardware_version", "Hardware version"),
    ("manufacturer", "Manufacturer"),
    ("model_number", "Model number"),
    ("software_version", "Software version"),
];

pub(crate) const API: Table = &[
    ("app_data", "App data container operations"),
    ("device", "Update or retrieve device information"),
    ("event_log", "Event log operations"),
    ("location", "Location object operations"),
    ("portfolio", "Portfolio object operations"),
    ("request", "Request an action"),
];

pub(crate) const API_APP_DATA: Table = &[("set", "Set app data")];
pub(crate) const API_EVENT_LOG: Table = &[("set", "Set event log data")];
pub(crate) const API_DEVICE: Table = &[
    ("battery_level", "Set battery level"),
    ("battery_status", "Set battery status"),
    ("current", "Set current measurement on a power source"),
    ("error_code_add", "Add individual error code"),
    ("error_code_remove", "Remove individual error code"),
    ("memory_free_read", "Read amount of free memory space"),
    ("memory_free_write", "Set amount of free memory space"),
    ("memory_total", "Set total amount of storage space"),
    ("power_sources", "Set available device power sources"),
    ("time_read", "Read all time values"),
    ("timezone_read", "Read timezone"),
    ("timezone_write", "Write timezone"),
    ("utc_offset_read", "Read UTC offset"),
    ("utc_offset_write", "Write UTC offset"),
    ("utc_time_read", "Read UTC time"),
    ("utc_time_write", "Write UTC time"),
    ("voltage", "Set voltage measurement on a power source"),
];
pub(crate) const API_LOCATION: Table =
    &[("position", "Set position information"), ("velocity", "Set velocity information")];
pub(crate) const API_PORTFOLIO: Table = &[
    ("create", "Create an instance of the Portfolio object"),
    ("read", "Read the Identity resource of a Portfolio object instance"),
    ("write", "Write into an instance of the Identity resource"),
];
pub(crate) const API_REQUEST: Table = &[
    ("deregister", "Deregister"),
    ("link_down", "Link down"),
    ("link_up", "Link up"),
    ("reboot", "Reboot"),
    ("register", "Register"),
    ("send", "Send data in a resource"),
];

/// Print a group's subcommands.
pub(crate) fn help(out: &mut String, group: &str, table: Table) {
    say(out, format!("{group} - subcommands:"));
    for (name, text) in table {
        say(out, format!("  {name:<27}: {text}"));
    }
}

/// A missing or unknown subcommand: say which, then the group's help.
pub(crate) fn unknown(out: &mut String, group: &str, table: Table, sub: Option<&str>) {
    if let Some(sub) = sub {
        say(out, format!("{group}: unknown parameter: {sub}"));
    }
    help(out, group, table);
}

impl Shell {
    /// A shell over the settings in `state_dir`.
    ///
    /// # Errors
    /// The state directory cannot be created or read.
    pub fn open(state_dir: &Path, color: bool) -> std::io::Result<Self> {
        let mut shell = Self::with_settings(Settings::open(state_dir)?, color);
        shell.state_dir = Some(state_dir.to_owned());
        Ok(shell)
    }

    /// A shell over the given settings.
    pub fn with_settings(settings: Settings, color: bool) -> Self {
        Shell {
            settings,
            color,
            idle_api: AppApi::new(),
            started: false,
            device: None,
            target: Target::Embedded,
            servers: None,
            epoch: std::time::Instant::now(),
            memory_free_kb: 0,
            state_dir: None,
        }
    }

    /// Where the device connects (default: the embedded servers).
    pub fn set_target(&mut self, target: Target) {
        self.target = target;
    }

    /// The library's application API: the running device's, or the idle one.
    pub(crate) fn api(&mut self) -> &mut AppApi {
        match &mut self.device {
            Some(d) => d.api(),
            None => &mut self.idle_api,
        }
    }

    /// The library's monotonic time.
    pub(crate) fn now(&self) -> Instant {
        if let Some(d) = &self.device {
            return d.now();
        }
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        Instant::from_millis(ms)
    }

    /// Lets the device run for up to `wait` and prints what it and the
    /// servers did. Returns false (without waiting) when nothing runs.
    pub fn poll(&mut self, out: &mut String, wait: std::time::Duration) -> bool {
        let Some(d) = &mut self.device else { return false };
        d.poll(out, wait);
        if let Some(s) = &mut self.servers {
            s.events(out);
        }
        true
    }

    fn yes_no_text(&self, on: bool) -> String {
        match (self.color, on) {
            (true, true) => format!("{GREEN}Yes{NORMAL}"),
            (true, false) => format!("{RED}No{NORMAL}"),
            (false, true) => "Yes".into(),
            (false, false) => "No".into(),
        }
    }

    /// What the shell prints when it starts: the original's custom_init either
    /// waits for `auto_startup` or starts the library at once.
    pub fn boot(&mut self, out: &mut String) {
        if self.settings.get_flag(Flag::AutoStartup) {
            self.start(out);
        } else {
            say(out, "Waiting for automatic startup to be enabled");
        }
    }

    /// custom_init finished: apply the configuration and start the library.
    fn start(&mut self, out: &mut String) {
        if self.started {
            return;
        }
        self.started = true;
        // The runtime keeps its configuration for its whole life: a copy of
        // the settings taken now, as the original applies them at start.
        let settings: &'static Settings = Box::leak(Box::new(self.settings.clone()));
        let mut config = settings.user_config();
        let set = config.carriers_enabled.normalized();
        let carrier = set.single().unwrap_or(Carrier::Generic);
        let device = config.device;
        say(out, format!("LwM2M carrier library started ({} operation)", carrier.name()));
        // Without a state directory (in-memory settings) there is nowhere to
        // keep a device: the library's state only, no device, no server.
        let Some(dir) = self.state_dir.clone() else {
            self.idle_api.attach(carrier, ObjectStore::new());
            return;
        };
        if config.server_uri.is_empty() {
            match &self.target {
                Target::External { uri, bootstrap, sec_tag } => {
                    config.server_uri = leak(uri);
                    config.is_bootstrap_server = *bootstrap;
                    config.server_sec_tag = sec_tag.unwrap_or(0);
                }
                Target::Embedded => match Servers::spawn(&dir, carrier) {
                    Ok(servers) => {
                        say(out, servers.describe());
                        config.server_uri = leak(&servers.bs_uri);
                        config.is_bootstrap_server = true;
                        config.server_sec_tag = crate::device::BS_SEC_TAG;
                        self.servers = Some(servers);
                    }
                    Err(e) => say(out, format!("No embedded server: {e}")),
                },
            }
        }
        match Device::start(&dir, config, carrier) {
            Ok(d) => self.device = Some(d),
            Err(e) => {
                say(out, format!("The device did not start: {e}"));
                self.idle_api.attach(carrier, ObjectStore::new());
            }
        }
        // The library knows its carrier (and has its objects) once the
        // modem reported the SIM: wait for that, briefly.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while self.api().objects().is_none() && std::time::Instant::now() < until {
            self.poll(out, std::time::Duration::from_millis(10));
        }
        // The device overrides the configuration carries (ignored where the
        // carrier does not allow them, as the library does).
        if !device.manufacturer.is_empty() {
            let _ = self.api().set_manufacturer(Some(device.manufacturer));
        }
        if !device.model_number.is_empty() {
            let _ = self.api().set_model_number(Some(device.model_number));
        }
        if !device.device_type.is_empty() {
            let _ = self.api().set_device_type(device.device_type);
        }
        if !device.hardware_version.is_empty() {
            let _ = self.api().set_hardware_version(Some(device.hardware_version));
        }
        if !device.software_version.is_empty() {
            let _ = self.api().set_software_version(device.software_version);
        }
    }

    /// `server read PATH`: the embedded DM server reads the device.
    fn server_cmd(&mut self, args: &[&str], out: &mut String) {
        const USAGE: &str = "server read <path>";
        let [verb, path] = args else { return say(out, USAGE) };
        if *verb != "read" {
            return say(out, USAGE);
        }
        let Ok(path) = lwm2m_core::path::Path::parse(path) else {
            return bad_arg(out, USAGE, path);
        };
        let Some(servers) = &mut self.servers else {
            return say(
                out,
                "No embedded server (the library is not started, or --server is used)",
            );
        };
        servers.read(path, self.device.as_mut(), out);
    }

    /// Run one command line; its output is appended to `out`.
    pub fn execute(&mut self, line: &str, out: &mut String) -> Flow {
        let words = split_words(line);
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        match args.as_slice() {
            [] => {}
            ["exit" | "quit"] => return Flow::Exit,
            ["help", ..] => help(out, "Available commands", TOP),
            ["carrier_config", rest @ ..] => self.config(rest, out),
            ["carrier_api", rest @ ..] => self.api_cmd(rest, out),
            ["server", rest @ ..] => self.server_cmd(rest, out),
            [other, ..] => {
                say(out, format!("{other}: command not found"));
                say(out, "Type 'help' for the list of commands");
            }
        }
        Flow::Continue
    }

    fn config(&mut self, args: &[&str], out: &mut String) {
        let result = match args {
            [] | ["help", ..] => {
                help(out, "carrier_config", CONFIG);
                Ok(())
            }
            ["enable", ..] => self.switch(Flag::CustomConfig, true, "Enabled custom config", out),
            ["disable", ..] => {
                self.switch(Flag::CustomConfig, false, "Disabled custom config", out)
            }
            ["auto_startup", rest @ ..] => self.auto_startup(rest, out),
            ["auto_register", rest @ ..] => self.yes_no_setting(
                rest,
                "auto_register",
                Flag::AutoRegister,
                "Set auto register",
                out,
            ),
            ["queue_mode", rest @ ..] => {
                self.yes_no_setting(rest, "queue_mode", Flag::QueueMode, "Set queue mode", out)
            }
            ["carriers", rest @ ..] => self.carriers(rest, out),
            ["apn", rest @ ..] => self.text(rest, "apn <APN>", Text::Apn, "Set APN", out),
            ["pdn_type", rest @ ..] => self.pdn_type(rest, out),
            ["session_idle_timeout", rest @ ..] => self.timer(
                rest,
                "session_idle_timeout <seconds>",
                Number::SessionIdleTimeout,
                "Set session idle timeout",
                out,
            ),
            ["coap_confirmable_interval", rest @ ..] => self.timer(
                rest,
                "coap_confirmable_interval <seconds>",
                Number::CoapConInterval,
                "Set CoAP confirmable interval",
                out,
            ),
            ["firmware_download_timeout", rest @ ..] => self.fw_timeout(rest, out),
            ["service_code", rest @ ..] => {
                self.text(rest, "service_code <value>", Text::ServiceCode, "Set service code", out)
            }
            ["device_serial_no_type", rest @ ..] => self.serial_no_type(rest, out),
            ["server", rest @ ..] => self.server(rest, out),
            ["device", rest @ ..] => self.device(rest, out),
            ["print", ..] => {
                self.print(out);
                Ok(())
            }
            [other, ..] => {
                unknown(out, "carrier_config", CONFIG, Some(other));
                Ok(())
            }
        };
        if let Err(e) = result {
            say(out, format!("Failed to store the setting: {e}"));
        }
    }

    fn switch(&mut self, flag: Flag, on: bool, msg: &str, out: &mut String) -> std::io::Result<()> {
        self.settings.set_flag(flag, on)?;
        say(out, msg);
        Ok(())
    }

    fn auto_startup(&mut self, args: &[&str], out: &mut String) -> std::io::Result<()> {
        let [arg] = args else {
            say(out, "auto_startup <y|n>");
            return Ok(());
        };
        let Some(on) = yes_no(arg) else {
            say(out, "Invalid input: <y|n>");
            return Ok(());
        };
        self.settings.set_flag(Flag::AutoStartup, on)?;
        say(out, format!("Set auto startup: {}", self.yes_no_text(on)));
        if on {
            self.start(out);
        }
        Ok(())
    }

    fn yes_no_setting(
        &mut self,
        args: &[&str],
        name: &str,
        flag: Flag,
        msg: &str,
        out: &mut String,
    ) -> std::io::Result<()> {
        let [arg] = args else {
            say(out, format!("{name} <y|n>"));
            return Ok(());
        };
        let Some(on) = yes_no(arg) else {
            say(out, "Invalid input: <y|n>");
            return Ok(());
        };
        self.settings.set_flag(flag, on)?;
        say(out, format!("{msg}: {}", if on { "Yes" } else { "No" }));
        Ok(())
    }

    fn carriers(&mut self, args: &[&str], out: &mut String) -> std::io::Result<()> {
        const USAGE: &str = "carriers all|<0..5>...";
        if args.is_empty() {
            say(out, USAGE);
            for (i, c) in Carrier::ALL.iter().enumerate() {
                say(out, format!("  {i} = {}", c.name()));
            }
            return Ok(());
        }
        let mut bits = 0u32;
        if args == ["all"] {
            bits = CARRIERS_ALL;
        } else {
            for arg in args {
                let carrier = int(arg)
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| Carrier::ALL.get(i).copied());
                match carrier {
                    Some(c) => bits |= c.bit(),
                    None => say(out, format!("Illegal operator: {arg}")),
                }
            }
        }
        self.settings.set_number(Number::CarriersEnabled, i64::from(bits))?;
        say(out, format!("Set carriers enabled: {}", carriers_text(bits)));
        Ok(())
    }

    fn text(
        &mut self,
        args: &[&str],
        usage: &str,
        key: Text,
        msg: &str,
        out: &mut String,
    ) -> std::io::Result<()> {
        let [value] = args else {
            say(out, usage);
            return Ok(());
        };
        match self.settings.set_text(key, value)? {
            Ok(()) => say(out, format!("{msg}: {value}")),
            Err(e) => {
                say(out, format!("String is too long. Max size is {}", e.max));
                say(out, "Insufficient memory");
            }
        }
        Ok(())
    }

    fn pdn_type(&mut self, args: &[&str], out: &mut String) -> std::io::Result<()> {
        const USAGE: &str = "pdn_type <pdn_type>";
        let [arg] = args else {
            say(out, USAGE);
            for raw in 0..=3u8 {
                if let Ok(p) = PdnType::from_raw(raw) {
                    say(out, format!("  {raw} = {}", p.name()));
                }
            }
            return Ok(());
        };
        let Some(raw) = int(arg) else {
            bad_arg(out, USAGE, arg);
            return Ok(());
        };
        match u8::try_from(raw).ok().and_then(|r| PdnType::from_raw(r).ok()) {
            Some(p) => {
                self.settings.set_number(Number::PdnType, raw)?;
                say(out, format!("Set pdn_type: {} ({raw})", p.name()));
            }
            None => say(out, "invalid value, must be between 0 and 3"),
        }
        Ok(())
    }

    fn timer(
        &mut self,
        args: &[&str],
        usage: &str,
        key: Number,
        msg: &str,
        out: &mut String,
    ) -> std::io::Result<()> {
        let [arg] = args else {
            say(out, usage);
            return Ok(());
        };
        let Some(v) = int(arg) else {
            bad_arg(out, usage, arg);
            return Ok(());
        };
        if !(-1..=86_400).contains(&v) {
            say(out, "invalid value, must be -1 or between 0 and 86400 (24 hours)");
            return Ok(());
        }
        self.settings.set_number(key, v)?;
        say(out, format!("{msg}: {v} seconds"));
        Ok(())
    }

    fn fw_timeout(&mut self, args: &[&str], out: &mut String) -> std::io::Result<()> {
        const USAGE: &str = "firmware_download_timeout <minutes>";
        let [arg] = args else {
            say(out, USAGE);
            return Ok(());
        };
        let Some(v) = int(arg) else {
            bad_arg(out, USAGE, arg);
            return Ok(());
        };
        if u16::try_from(v).is_err() {
            say(out, "invalid value, must be between 0 and 65535");
            return Ok(());
        }
        self.settings.set_number(Number::FirmwareDownloadTimeout, v)?;
        say(out, format!("Set firmware download timeout: {v} min"));
        Ok(())
    }

    fn serial_no_type(&mut self, args: &[&str], out: &mut String) -> std::io::Result<()> {
        let [arg] = args else {
            say(out, " 0 = IMEI");
            say(out, " 1 = 2DID");
            return Ok(());
        };
        match int(arg) {
            Some(v @ (0 | 1)) => {
                self.settings.set_number(Number::DeviceSerialNoType, v)?;
                say(out, "LG U+ Device Serial Number type set successfully");
            }
            _ => say(out, "Invalid input"),
        }
        Ok(())
    }

    fn server(&mut self, args: &[&str], out: &mut String) -> std::io::Result<()> {
        match args {
            [] | ["help", ..] => help(out, "server", CONFIG_SERVER),
            ["uri", rest @ ..] => {
                return self.text(rest, "uri <URI>", Text::ServerUri, "Set server URI", out);
            }
            ["is_bootstrap_server", rest @ ..] => {
                return self.yes_no_setting(
                    rest,
                    "is_bootstrap_server",
                    Flag::IsBootstrapServer,
                    "Set is bootstrap server",
                    out,
                );
            }
            ["lifetime", rest @ ..] => {
                const USAGE: &str = "lifetime <seconds>";
                let [arg] = rest else {
                    say(out, USAGE);
                    return Ok(());
                };
                let Some(v) = int(arg) else {
                    bad_arg(out, USAGE, arg);
                    return Ok(());
                };
                if !(0..=86_400).contains(&v) {
                    say(out, "invalid value, must be between 0 and 86400 (24 hours)");
                    return Ok(());
                }
                self.settings.set_number(Number::ServerLifetime, v)?;
                say(out, format!("Set server lifetime: {v} seconds"));
            }
            ["binding", rest @ ..] => {
                let [arg] = rest else {
                    say(out, "binding <U|N|UN>");
                    return Ok(());
                };
                let mut bits = 0u8;
                for c in arg.chars() {
                    match c {
                        'U' | 'u' => bits |= Binding::UDP.0,
                        'N' | 'n' => bits |= Binding::NON_IP.0,
                        _ => {
                            say(out, "invalid value, must be 'U' or 'N'");
                            return Ok(());
                        }
                    }
                }
                self.settings.set_number(Number::ServerBinding, i64::from(bits))?;
                say(out, format!("Set server binding: {}", binding_text(Binding(bits))));
            }
            ["sec_tag", rest @ ..] => {
                const USAGE: &str = "sec_tag <security tag>";
                let [arg] = rest else {
                    say(out, USAGE);
                    return Ok(());
                };
                let Some(tag) = int(arg).and_then(|v| u32::try_from(v).ok()) else {
                    bad_arg(out, USAGE, arg);
                    return Ok(());
                };
                self.settings.set_number(Number::ServerSecTag, i64::from(tag))?;
                say(out, format!("Set security tag: {tag}"));
                if tag != 0 && !self.psk_exists(tag) {
                    say(out, format!("Warning: a PSK does not exist in sec_tag {tag}"));
                    say(out, format!("This can be written using AT%CMNG=0,{tag},3,\"PSK\""));
                }
            }
            [other, ..] => unknown(out, "server", CONFIG_SERVER, Some(other)),
        }
        Ok(())
    }

    fn device(&mut self, args: &[&str], out: &mut String) -> std::io::Result<()> {
        match args {
            [] | ["help", ..] => help(out, "device", CONFIG_DEVICE),
            ["enable", ..] => {
                return self.switch(Flag::CustomDevice, true, "Enabled custom device config", out);
            }
            ["disable", ..] => {
                return self.switch(
                    Flag::CustomDevice,
                    false,
                    "Disabled custom device config",
                    out,
                );
            }
            [name, rest @ ..] => {
                let (key, msg) = match *name {
                    "manufacturer" => (Text::Manufacturer, "Set manufacturer"),
                    "model_number" => (Text::ModelNumber, "Set model number"),
                    "device_type" => (Text::DeviceType, "Set device type"),
                    "hardware_version" => (Text::HardwareVersion, "Set hardware version"),
                    "software_version" => (Text::SoftwareVersion, "Set software version"),
                    other => {
                        unknown(out, "device", CONFIG_DEVICE, Some(other));
                        return Ok(());
                    }
                };
                return self.text(rest, &format!("{name} <value>"), key, msg, out);
            }
        }
        Ok(())
    }

    /// Whether the std port's modem key store (`<state-dir>/keys.toml`, the
    /// file `carrier_os_std::real::RealPort` reads) holds a PSK in `tag`.
    fn psk_exists(&self, tag: u32) -> bool {
        let Some(dir) = &self.state_dir else { return false };
        KeyStore::open(dir.join("keys.toml")).is_ok_and(|k| k.get(SecTag(tag)).is_some())
    }

    /// `carrier_config print` (layout of carrier-api.md §6.2).
    fn print(&self, out: &mut String) {
        let s = &self.settings;
        let row = |out: &mut String, indent: usize, label: &str, value: &str, note: &str| {
            let label = format!("{:indent$}{label}", "");
            let mut line = format!("{label:<LABEL_WIDTH$}{value}");
            if !note.is_empty() {
                if !value.is_empty() {
                    line.push_str("  ");
                }
                line.push_str(note);
            }
            say(out, line);
        };
        let yn = |on: bool| if on { "Yes" } else { "No" };
        let uri = s.text(Text::ServerUri);
        let binding = s.server_binding();
        let bits = s.carriers_enabled();
        let generic = s.carrier_enabled(Carrier::Generic);
        let count = if bits == CARRIERS_ALL { 6 } else { CarrierSet(bits).normalized().count() };
        let bootstrap_uri = s.get_flag(Flag::IsBootstrapServer) && !uri.is_empty();

        row(out, 0, "Automatic startup", &self.yes_no_text(s.get_flag(Flag::AutoStartup)), "");
        say(out, "");
        row(
            out,
            0,
            "Custom carrier settings",
            &self.yes_no_text(s.get_flag(Flag::CustomConfig)),
            "",
        );
        row(out, 2, "Carriers enabled", &carriers_text(bits), "");
        let server_note = if generic {
            "(apply to generic)"
        } else if bits == 0 {
            "(do not apply, no carriers enabled)"
        } else if count == 1 {
            ""
        } else {
            "(do not apply, more than one carrier enabled)"
        };
        row(out, 2, "Server settings", "", server_note);
        let uri_note =
            if uri.is_empty() && generic && (binding.has_udp() || binding == Binding::FACTORY) {
                "(required for U binding)"
            } else {
                ""
            };
        row(out, 4, "Server URI", uri, uri_note);
        let bs_note = if uri.is_empty() { "(Not used without server URI)" } else { "" };
        row(out, 6, "Is bootstrap server", yn(s.get_flag(Flag::IsBootstrapServer)), bs_note);
        row(out, 4, "PSK security tag", &s.server_sec_tag().to_string(), "");
        let bs_only = if bootstrap_uri { "(Not used for bootstrap server)" } else { "" };
        row(out, 4, "Server lifetime", &s.server_lifetime().to_string(), bs_only);
        row(out, 4, "Server binding", binding_text(binding), bs_only);
        row(out, 2, "Auto register", yn(s.get_flag(Flag::AutoRegister)), "");
        row(out, 2, "Queue mode", yn(s.get_flag(Flag::QueueMode)), "");
        row(out, 2, "Session idle timeout", &s.session_idle_timeout().to_string(), "");
        row(out, 2, "CoAP confirmable interval", &s.coap_con_interval().to_string(), "");
        row(out, 2, "APN", s.text(Text::Apn), "");
        row(out, 2, "PDN type", s.pdn_type().name(), "");
        row(out, 2, "Service code", s.text(Text::ServiceCode), "");
        row(out, 2, "Device Serial Number type", &s.device_serial_no_type().to_string(), "");
        let fw = match s.firmware_download_timeout() {
            0 => "0 (disabled)".to_owned(),
            n => format!("{n} min"),
        };
        row(out, 2, "Firmware download timeout", &fw, "");
        say(out, "");
        row(
            out,
            0,
            "Custom carrier device settings",
            &self.yes_no_text(s.get_flag(Flag::CustomDevice)),
            "",
        );
        row(out, 2, "Manufacturer", s.text(Text::Manufacturer), "");
        row(out, 2, "Model number", s.text(Text::ModelNumber), "");
        row(out, 2, "Device type", s.text(Text::DeviceType), "");
        row(out, 2, "Hardware version", s.text(Text::HardwareVersion), "");
        row(out, 2, "Software version", s.text(Text::SoftwareVersion), "");
    }
}

/// `All`, `None`, or `Generic (0), Verizon (1)`… (shell indexes).
fn carriers_text(bits: u32) -> String {
    if bits == CARRIERS_ALL {
        return "All".into();
    }
    let mut text = String::new();
    for (i, c) in Carrier::ALL.iter().enumerate() {
        if bits & c.bit() != 0 {
            if !text.is_empty() {
                text.push_str(", ");
            }
            let _ = write!(text, "{} ({i})", c.name());
        }
    }
    if text.is_empty() { "None".into() } else { text }
}

fn binding_text(b: Binding) -> &'static str {
    if b.as_str().is_empty() { "Not set" } else { b.as_str() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_whitespace_and_quotes_group() {
        assert_eq!(split_words("  a  b\tc "), ["a", "b", "c"]);
        assert_eq!(split_words(r#"apn "my apn" """#), ["apn", "my apn", ""]);
    }

    #[test]
    fn yes_no_is_green_or_red_only_with_colour() {
        let mut on = Shell::with_settings(Settings::in_memory(), true);
        let mut out = String::new();
        on.print(&mut out);
        assert!(out.starts_with("Automatic startup                \x1b[0;31mNo\x1b[0m\n"), "{out}");
        assert!(out.contains("Custom carrier settings          \x1b[0;32mYes\x1b[0m\n"));
        assert!(out.contains("Custom carrier device settings   \x1b[0;31mNo\x1b[0m\n"));
        // Only the three top-level switches are coloured.
        assert!(out.contains("  Auto register                  Yes\n"));
        out.clear();
        on.execute("carrier_config auto_startup y", &mut out);
        assert!(out.starts_with("Set auto startup: \x1b[0;32mYes\x1b[0m\n"), "{out}");
        let plain = Shell::with_settings(Settings::in_memory(), false);
        out.clear();
        plain.print(&mut out);
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn carriers_text_uses_shell_indexes() {
        assert_eq!(
            carriers_text(0x02 | 0x10 | 0x20 | 0x40),
            "Verizon (1), T-Mobile (3), SoftBank (4), Bell Canada (5)"
        );
        assert_eq!(carriers_text(0), "None");
        assert_eq!(carriers_text(CARRIERS_ALL), "All");
    }
}
