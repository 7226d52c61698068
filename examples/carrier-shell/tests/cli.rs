//! Drives the `carrier-shell` binary through stdin and checks its output
//! against the strings of carrier-api.md §6 (one test per command).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Run the shell on `input` with its state in `dir`; stdout as text.
fn run_in(dir: &Path, input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carrier-shell"))
        .arg("--state-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "shell failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Run in a fresh state directory.
fn run(input: &str) -> String {
    let dir = tempdir();
    run_in(dir.path(), input)
}

/// Run after `auto_startup y` (the library started, generic operation).
fn run_started(input: &str) -> String {
    run(&format!("carrier_config auto_startup y\n{input}"))
}

struct TempDir(std::path::PathBuf);
impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn tempdir() -> TempDir {
    use core::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let p = std::env::temp_dir().join(format!(
        "carrier-shell-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&p);
    TempDir(p)
}

/// The output lines after the start-up lines, in order.
#[track_caller]
fn assert_lines(out: &str, expected: &[&str]) {
    let lines: Vec<&str> = out.lines().collect();
    let mut at = 0;
    for e in expected {
        match lines.iter().skip(at).position(|l| l == e) {
            Some(i) => at += i + 1,
            None => panic!("missing line {e:?} (in order) in output:\n{out}"),
        }
    }
}

#[track_caller]
fn assert_no_line(out: &str, line: &str) {
    assert!(!out.lines().any(|l| l == line), "unexpected line {line:?} in:\n{out}");
}

// ---------------------------------------------------------------- startup

#[test]
fn waits_for_auto_startup_when_it_is_off() {
    let out = run("");
    assert_eq!(out.lines().next(), Some("Waiting for automatic startup to be enabled"));
}

#[test]
fn auto_startup_y_sets_and_starts_the_library() {
    let out = run("carrier_config auto_startup y\n");
    assert_lines(
        &out,
        &[
            "Waiting for automatic startup to be enabled",
            "Set auto startup: Yes",
            "LwM2M carrier library started (Generic operation)",
        ],
    );
}

#[test]
fn auto_startup_accepts_first_character_and_rejects_others() {
    let out = run(
        "carrier_config auto_startup No\ncarrier_config auto_startup 1\ncarrier_config auto_startup x\ncarrier_config auto_startup\n",
    );
    assert_lines(
        &out,
        &[
            "Set auto startup: No",
            "Set auto startup: Yes",
            "Invalid input: <y|n>",
            "auto_startup <y|n>",
        ],
    );
}

#[test]
fn api_before_startup_reports_object_not_initialized() {
    let out = run("carrier_api device error_code_add 1\ncarrier_api location position 1 2\n");
    assert_lines(&out, &["Object not initialized", "Location object not initialized"]);
}

// ---------------------------------------------------------------- carrier_config

#[test]
fn config_enable_and_disable() {
    let out = run("carrier_config disable\ncarrier_config enable\n");
    assert_lines(&out, &["Disabled custom config", "Enabled custom config"]);
}

#[test]
fn config_auto_register_and_queue_mode() {
    let out = run(
        "carrier_config auto_register n\ncarrier_config queue_mode n\ncarrier_config queue_mode q\n",
    );
    assert_lines(&out, &["Set auto register: No", "Set queue mode: No", "Invalid input: <y|n>"]);
}

#[test]
fn config_carriers_all_list_and_illegal_index() {
    let out = run(
        "carrier_config carriers all\ncarrier_config carriers 0 2 7\ncarrier_config carriers 9\n",
    );
    assert_lines(
        &out,
        &[
            "Set carriers enabled: All",
            "Illegal operator: 7",
            "Set carriers enabled: Generic (0), LG U+ (2)",
            "Illegal operator: 9",
            "Set carriers enabled: None",
        ],
    );
}

#[test]
fn config_apn_limit_and_empty_string() {
    let long = "a".repeat(64);
    let out = run(&format!(
        "carrier_config apn iot.test\ncarrier_config apn {long}\ncarrier_config apn \"\"\ncarrier_config apn\n"
    ));
    assert_lines(
        &out,
        &[
            "Set APN: iot.test",
            "String is too long. Max size is 63",
            "Insufficient memory",
            "Set APN: ",
            "apn <APN>",
        ],
    );
}

#[test]
fn config_pdn_type_range_and_list() {
    let out =
        run("carrier_config pdn_type 3\ncarrier_config pdn_type 4\ncarrier_config pdn_type\n");
    assert_lines(
        &out,
        &[
            "Set pdn_type: Non-IP (3)",
            "invalid value, must be between 0 and 3",
            "pdn_type <pdn_type>",
            "  0 = IPv4v6",
            "  3 = Non-IP",
        ],
    );
}

#[test]
fn config_session_idle_timeout_range() {
    let out = run(
        "carrier_config session_idle_timeout -1\ncarrier_config session_idle_timeout 86401\ncarrier_config session_idle_timeout -2\n",
    );
    assert_lines(
        &out,
        &[
            "Set session idle timeout: -1 seconds",
            "invalid value, must be -1 or between 0 and 86400 (24 hours)",
            "invalid value, must be -1 or between 0 and 86400 (24 hours)",
        ],
    );
}

#[test]
fn config_coap_confirmable_interval_range() {
    let out = run(
        "carrier_config coap_confirmable_interval 600\ncarrier_config coap_confirmable_interval 90000\n",
    );
    assert_lines(
        &out,
        &[
            "Set CoAP confirmable interval: 600 seconds",
            "invalid value, must be -1 or between 0 and 86400 (24 hours)",
        ],
    );
}

#[test]
fn config_firmware_download_timeout_range() {
    let out = run(
        "carrier_config firmware_download_timeout 65535\ncarrier_config firmware_download_timeout 65536\n",
    );
    assert_lines(
        &out,
        &["Set firmware download timeout: 65535 min", "invalid value, must be between 0 and 65535"],
    );
}

#[test]
fn config_service_code_limit() {
    let out = run("carrier_config service_code 12345\ncarrier_config service_code 123456\n");
    assert_lines(
        &out,
        &["Set service code: 12345", "String is too long. Max size is 5", "Insufficient memory"],
    );
}

#[test]
fn config_device_serial_no_type() {
    let out = run(
        "carrier_config device_serial_no_type 1\ncarrier_config device_serial_no_type 2\ncarrier_config device_serial_no_type\n",
    );
    assert_lines(
        &out,
        &[
            "LG U+ Device Serial Number type set successfully",
            "Invalid input",
            " 0 = IMEI",
            " 1 = 2DID",
        ],
    );
}

#[test]
fn config_server_uri_and_limit() {
    let long = format!("coap://{}", "h".repeat(250));
    let out = run(&format!(
        "carrier_config server uri coaps://dm.example:5684\ncarrier_config server uri {long}\n"
    ));
    assert_lines(
        &out,
        &[
            "Set server URI: coaps://dm.example:5684",
            "String is too long. Max size is 255",
            "Insufficient memory",
        ],
    );
}

#[test]
fn config_server_is_bootstrap_server() {
    let out = run(
        "carrier_config server is_bootstrap_server y\ncarrier_config server is_bootstrap_server n\n",
    );
    assert_lines(&out, &["Set is bootstrap server: Yes", "Set is bootstrap server: No"]);
}

#[test]
fn config_server_lifetime_range() {
    let out = run("carrier_config server lifetime 86400\ncarrier_config server lifetime -1\n");
    assert_lines(
        &out,
        &[
            "Set server lifetime: 86400 seconds",
            "invalid value, must be between 0 and 86400 (24 hours)",
        ],
    );
}

#[test]
fn config_server_binding_letters() {
    let out = run(
        "carrier_config server binding UN\ncarrier_config server binding N\ncarrier_config server binding UQ\n",
    );
    assert_lines(
        &out,
        &["Set server binding: UN", "Set server binding: N", "invalid value, must be 'U' or 'N'"],
    );
}

#[test]
fn config_server_sec_tag_warns_without_psk() {
    let out = run("carrier_config server sec_tag 0\ncarrier_config server sec_tag 42\n");
    assert_lines(
        &out,
        &[
            "Set security tag: 0",
            "Set security tag: 42",
            "Warning: a PSK does not exist in sec_tag 42",
            "This can be written using AT%CMNG=0,42,3,\"PSK\"",
        ],
    );
    assert_no_line(&out, "Warning: a PSK does not exist in sec_tag 0");
}

/// A PSK in the std port's key store (`<state-dir>/keys.toml`) silences the warning.
#[test]
fn config_server_sec_tag_with_psk_gives_no_warning() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join("keys.toml"), "[[tag]]\nsec_tag = 42\npsk_hex = \"000102\"\n")
        .unwrap();
    let out =
        run_in(dir.path(), "carrier_config server sec_tag 42\ncarrier_config server sec_tag 43\n");
    assert_lines(
        &out,
        &[
            "Set security tag: 42",
            "Set security tag: 43",
            "Warning: a PSK does not exist in sec_tag 43",
        ],
    );
    assert_no_line(&out, "Warning: a PSK does not exist in sec_tag 42");
}

#[test]
fn config_device_subcommands() {
    let long = "x".repeat(33);
    let out = run(&format!(
        "carrier_config device enable\ncarrier_config device disable\n\
         carrier_config device manufacturer ACME\ncarrier_config device model_number M1\n\
         carrier_config device device_type Tracker\ncarrier_config device hardware_version 1.0\n\
         carrier_config device software_version 2.0\ncarrier_config device manufacturer {long}\n"
    ));
    assert_lines(
        &out,
        &[
            "Enabled custom device config",
            "Disabled custom device config",
            "Set manufacturer: ACME",
            "Set model number: M1",
            "Set device type: Tracker",
            "Set hardware version: 1.0",
            "Set software version: 2.0",
            "String is too long. Max size is 32",
            "Insufficient memory",
        ],
    );
}

/// The default settings in the §6.2 layout: 33-character label column,
/// indentation 2/4/6, qualifiers; no colour because stdout is a pipe.
#[test]
fn config_print_default_layout() {
    let out = run("carrier_config print\n");
    let expected = [
        "Waiting for automatic startup to be enabled",
        "Automatic startup                No",
        "",
        "Custom carrier settings          Yes",
        "  Carriers enabled               All",
        "  Server settings                (apply to generic)",
        "    Server URI                   (required for U binding)",
        // Default Yes: the library's build-time default (Kconfig IS_BOOTSTRAP_SERVER y).
        "      Is bootstrap server        Yes  (Not used without server URI)",
        "    PSK security tag             0",
        "    Server lifetime              0",
        "    Server binding               Not set",
        "  Auto register                  Yes",
        "  Queue mode                     Yes",
        "  Session idle timeout           60",
        "  CoAP confirmable interval      86400",
        "  APN                            ",
        "  PDN type                       IPv4v6",
        "  Service code                   ",
        "  Device Serial Number type      0",
        "  Firmware download timeout      0 (disabled)",
        "",
        "Custom carrier device settings   No",
        "  Manufacturer                   ",
        "  Model number                   ",
        "  Device type                    ",
        "  Hardware version               ",
        "  Software version               ",
    ]
    .join("\n")
        + "\n";
    assert_eq!(out, expected);
    assert!(!out.contains('\x1b'), "no colour when stdout is not a terminal");
}

#[test]
fn config_print_qualifiers_follow_the_settings() {
    let out = run("carrier_config carriers 1\ncarrier_config server uri coaps://bs.example\n\
         carrier_config server is_bootstrap_server y\ncarrier_config server binding U\n\
         carrier_config firmware_download_timeout 30\ncarrier_config print\n");
    assert_lines(
        &out,
        &[
            "  Carriers enabled               Verizon (1)",
            "  Server settings                ",
            "    Server URI                   coaps://bs.example",
            "      Is bootstrap server        Yes",
            "    Server lifetime              0  (Not used for bootstrap server)",
            "    Server binding               U  (Not used for bootstrap server)",
            "  Firmware download timeout      30 min",
        ],
    );
    let out = run("carrier_config carriers 9\ncarrier_config print\n");
    assert_lines(
        &out,
        &[
            "  Carriers enabled               None",
            "  Server settings                (do not apply, no carriers enabled)",
        ],
    );
    let out = run("carrier_config carriers 1 3\ncarrier_config print\n");
    assert_lines(
        &out,
        &["  Server settings                (do not apply, more than one carrier enabled)"],
    );
}

#[test]
fn settings_persist_across_runs_and_auto_startup_starts_at_once() {
    let dir = tempdir();
    run_in(
        dir.path(),
        "carrier_config apn iot.test\ncarrier_config server lifetime 600\ncarrier_config device enable\n\
         carrier_config device manufacturer ACME\ncarrier_config auto_startup y\n",
    );
    let out = run_in(dir.path(), "carrier_config print\n");
    assert_eq!(out.lines().next(), Some("LwM2M carrier library started (Generic operation)"));
    assert_lines(
        &out,
        &[
            "Automatic startup                Yes",
            "    Server lifetime              600",
            "  APN                            iot.test",
            "Custom carrier device settings   Yes",
            "  Manufacturer                   ACME",
        ],
    );
    // An empty string deletes the key: back to the default at the next start.
    run_in(dir.path(), "carrier_config apn \"\"\n");
    let out = run_in(dir.path(), "carrier_config print\n");
    assert_lines(&out, &["  APN                            "]);
}

// ---------------------------------------------------------------- carrier_api

#[test]
fn api_app_data_set() {
    let out = run_started(
        "carrier_api app_data set 0 0 hello\ncarrier_api app_data set 0 0\ncarrier_api app_data set 7 0 x\n\
         carrier_api app_data set lg\ncarrier_api app_data set\n",
    );
    assert_lines(
        &out,
        &[
            "Wrote app data successfully",
            "Wrote app data successfully",
            "Object not initialized or invalid instance",
            "Object not initialized or invalid instance",
            "set <data>",
            "set <obj_inst> <res_inst> [data]",
        ],
    );
}

/// LG U+ operation: `set <data>` goes to the App Data Container (10250/0/0).
#[test]
fn api_app_data_set_container_in_lg_uplus_operation() {
    let big = "d".repeat(300);
    let out = run(&format!(
        "carrier_config carriers 2\ncarrier_config service_code LGU01\ncarrier_config auto_startup y\n\
         carrier_api app_data set hello\ncarrier_api app_data set {big}\ncarrier_api app_data set 0 0 x\n"
    ));
    assert_lines(
        &out,
        &[
            "LwM2M carrier library started (LG U+ operation)",
            "Wrote app data successfully",
            "Not enough memory",
            "Object not initialized or invalid instance",
        ],
    );
}

#[test]
fn api_event_log_set() {
    let out = run_started("carrier_api event_log set boot\ncarrier_api event_log set\n");
    assert_lines(&out, &["Wrote log data successfully", "set <data>"]);
    let out = run("carrier_api event_log set boot\n");
    assert_lines(&out, &["Event Log not initialized"]);
}

#[test]
fn api_device_battery_level() {
    let out = run_started(
        "carrier_api device battery_level 20\ncarrier_api device power_sources 1\n\
         carrier_api device battery_level 20\ncarrier_api device battery_level 101\ncarrier_api device battery_level\n",
    );
    assert_lines(
        &out,
        &[
            "No internal battery detected",
            "Battery level updated successfully",
            "Invalid value: 101",
            "battery_level <battery level %>",
        ],
    );
}

#[test]
fn api_device_battery_status() {
    let out = run_started(
        "carrier_api device battery_status 1\ncarrier_api device power_sources 0 1\n\
         carrier_api device battery_status 1\ncarrier_api device battery_status 7\ncarrier_api device battery_status\n",
    );
    assert_lines(
        &out,
        &[
            "No internal battery detected",
            "Battery status updated successfully",
            "Unsupported battery status",
            " 0 = Normal",
            " 6 = Unknown",
        ],
    );
}

#[test]
fn api_device_current_and_voltage() {
    let out = run_started(
        "carrier_api device current 0 120\ncarrier_api device voltage 0 3700\ncarrier_api device current 5 1\n\
         carrier_api device voltage 3 1\ncarrier_api device current 0\n",
    );
    assert_lines(
        &out,
        &[
            "Current measurements updated successfully",
            "Voltage measurement updated successfully",
            "Power source not detected",
            "Unsupported power source type",
            "current <power source identifier> <current in mA>",
        ],
    );
}

#[test]
fn api_device_error_codes() {
    let out = run_started(
        "carrier_api device error_code_add 4\ncarrier_api device error_code_add 9\ncarrier_api device error_code_add\n\
         carrier_api device error_code_remove 4\ncarrier_api device error_code_remove 4\n\
         carrier_api device error_code_remove 0\ncarrier_api device error_code_remove 9\n",
    );
    assert_lines(
        &out,
        &[
            "Error code added successfully",
            "Unsupported error code",
            " 0 = No error",
            " 8 = Peripheral malfunction",
            "Error code removed successfully",
            "Error code not found",
            "Cannot remove error code no error",
            "Unsupported error code",
        ],
    );
}

#[test]
fn api_device_memory() {
    let out = run_started(
        "carrier_api device memory_total 1024\ncarrier_api device memory_total 2147483648\n\
         carrier_api device memory_total -1\ncarrier_api device memory_free_write 512\n\
         carrier_api device memory_free_read\ncarrier_api device memory_free_write 2147483648\n",
    );
    assert_lines(
        &out,
        &[
            "Total amount of storage space set successfully",
            "Reported value is negative or bigger than INT32_MAX",
            "Reported value is negative or bigger than INT32_MAX",
            "Estimated amount of storage space updated successfully",
            "Free memory: 512",
            "Reported value is negative or bigger than INT32_MAX",
        ],
    );
}

#[test]
fn api_device_power_sources() {
    let out = run_started(
        "carrier_api device power_sources 0 1\ncarrier_api device power_sources 3\n\
         carrier_api device power_sources 0 1 2 4 5 6 7 0 1\ncarrier_api device power_sources\n",
    );
    assert_lines(
        &out,
        &[
            "Available power sources set successfully",
            "Internal battery level set to 100 (normal)",
            "Unsupported power source",
            "Unsupported number of power sources",
            " 0 = DC",
            " 7 = Solar",
        ],
    );
    let out = run("carrier_api device power_sources 0\n");
    assert_lines(&out, &["Object not initialized"]);
}

#[test]
fn api_device_time_reads_and_writes() {
    let out = run_started(
        "carrier_api device utc_time_write 1700000000\ncarrier_api device utc_offset_write 60\n\
         carrier_api device timezone_write Europe/Oslo\ncarrier_api device utc_offset_read\n\
         carrier_api device timezone_read\ncarrier_api device time_read\ncarrier_api device time_read x\n\
         carrier_api device utc_time_write -5\ncarrier_api device utc_offset_write 100000\n",
    );
    assert_lines(
        &out,
        &[
            "UTC time successfully set",
            "offset successfully set",
            "Timezone successfully set",
            "UTC offset is: 60",
            "Timezone is: Europe/Oslo",
            "UTC offset is: 60",
            "Timezone is: Europe/Oslo",
            "time_read does not accept arguments",
            "Unable to set time to: -5",
            "Unable to set offset to: 100000",
        ],
    );
    assert!(out.lines().any(|l| l.starts_with("UTC time is: 170000000")), "{out}");
}

#[test]
fn api_location_position_and_velocity() {
    let out = run_started(
        "carrier_api location position 63.4 10.4 12 5\ncarrier_api location position 91 0\n\
         carrier_api location velocity 90 3 - 1\ncarrier_api location velocity 360 3\ncarrier_api location position 1\n",
    );
    assert_lines(
        &out,
        &[
            "Location successfully set",
            "Unknown error -22",
            "Velocity successfully set",
            "Unknown error -22",
            "position <lat> <lon> [alt] [radius]",
        ],
    );
}

#[test]
fn api_portfolio_on_a_carrier_without_portfolio() {
    let out = run_started("carrier_api portfolio create 1\ncarrier_api portfolio create\n");
    assert_lines(&out, &["Portfolio object not initialized", "create <object instance>"]);
}

/// No carrier profile of `carrier-profiles` lists the Portfolio object (16),
/// so the library answers "not initialised" for every instance.
#[test]
fn api_portfolio_read_and_write_without_the_object() {
    let out = run("carrier_config carriers 1\ncarrier_config auto_startup y\n\
         carrier_api portfolio create 1\ncarrier_api portfolio read 1 1\n\
         carrier_api portfolio write 1 1 ACME\ncarrier_api portfolio read 1\ncarrier_api portfolio write 1 1\n");
    assert_lines(
        &out,
        &[
            "LwM2M carrier library started (Verizon operation)",
            "Portfolio object not initialized",
            "Object instance 1 does not exist",
            "Object instance 1 does not exist",
            "read <object instance> <identity type>",
            "write <object instance> <identity type> <value>",
        ],
    );
}

#[test]
fn api_request_link_and_reboot() {
    let out = run_started(
        "carrier_api request link_up\ncarrier_api request link_down\ncarrier_api request reboot\n",
    );
    assert_lines(
        &out,
        &[
            "Requested link up successfully",
            "Requested link down successfully",
            "Requested reboot successfully",
        ],
    );
}

#[test]
fn api_request_register_and_deregister() {
    // Just started, the device is on its way to register (auto_register on):
    // a register request is already scheduled, and nothing is registered yet
    // that a de-register could end.
    let out = run_started("carrier_api request register\ncarrier_api request deregister\n");
    assert_lines(
        &out,
        &["A registration has already been scheduled", "No deregistrations were scheduled"],
    );
    let out = run(
        "carrier_config carriers 1\ncarrier_config auto_startup y\ncarrier_api request register\ncarrier_api request deregister\n",
    );
    assert_lines(
        &out,
        &["Action is not supported for this carrier", "Action is not supported for this carrier"],
    );
}

#[test]
fn api_request_send() {
    let out = run("carrier_api request send 19 0 0\n");
    assert_lines(&out, &["Resource at /19/0/0 does not exist"]);
    let out = run_started("carrier_api request send 19 0 0 1\ncarrier_api request send 19\n");
    assert_lines(&out, &["Server is not registered", "send <obj> <inst> <res> [<res_inst>]"]);
}

// ---------------------------------------------------------------- help and bad input

#[test]
fn help_lists_groups_and_group_help_lists_subcommands() {
    let out = run(
        "help\ncarrier_config help\ncarrier_api help\ncarrier_api device help\ncarrier_config server help\n",
    );
    assert_lines(
        &out,
        &[
            "Available commands - subcommands:",
            "carrier_config - subcommands:",
            "carrier_api - subcommands:",
            "device - subcommands:",
            "server - subcommands:",
        ],
    );
    assert!(out.contains("  auto_startup"), "{out}");
    assert!(out.contains("  battery_level"), "{out}");
    assert!(out.contains("  sec_tag"), "{out}");
}

#[test]
fn bad_arguments_print_usage_and_error_and_the_shell_goes_on() {
    let out = run("carrier_config session_idle_timeout abc\ncarrier_config server lifetime 1e3\n\
         carrier_api device battery_level ten\nfoo bar\ncarrier_config frobnicate\n\
         carrier_config auto_startup y\n");
    assert_lines(
        &out,
        &[
            "session_idle_timeout <seconds>",
            "Invalid argument: abc",
            "lifetime <seconds>",
            "Invalid argument: 1e3",
            "battery_level <battery level %>",
            "Invalid argument: ten",
            "foo: command not found",
            "carrier_config: unknown parameter: frobnicate",
            "Set auto startup: Yes",
        ],
    );
}

#[test]
fn exit_ends_the_shell() {
    let out = run("exit\ncarrier_config auto_startup y\n");
    assert_no_line(&out, "Set auto startup: Yes");
}

// ---------------------------------------------------------------- the device

/// LG U+ needs a service code (carrier-api.md §1: missing in LG U+ operation →
/// configuration error EFAULT); the library then does not run.
#[test]
fn lg_uplus_without_service_code_is_a_configuration_error() {
    let out = run(
        "carrier_config carriers 2\ncarrier_config auto_startup y\ncarrier_api app_data set x\n",
    );
    assert!(
        out.lines().any(|l| l.starts_with("Event: Error") && l.contains("-14 (EFAULT)")),
        "{out}"
    );
    assert_lines(&out, &["Object not initialized or invalid instance"]);
}

/// Like the original, nothing starts before `auto_startup`: no server, no
/// device events; then the device bootstraps and registers.
#[test]
fn the_device_starts_only_after_auto_startup() {
    let dir = tempdir();
    let out = run_in(dir.path(), "carrier_api device error_code_add 1\nserver read /3/0/9\n");
    assert!(!out.contains("Event:") && !out.contains("Embedded LwM2M servers"), "{out}");
    assert_lines(
        &out,
        &[
            "Object not initialized",
            "No embedded server (the library is not started, or --server is used)",
        ],
    );
    let out = run_in(dir.path(), "carrier_config auto_startup y\nserver read /3/0\n");
    assert_lines(
        &out,
        &[
            "LwM2M carrier library started (Generic operation)",
            "Event: Bootstrapped",
            "Event: Registered",
        ],
    );
}

/// `carrier_api` changes the device and the embedded server sees it: a Read
/// of /3/0/9 answers the level the application set.
#[test]
fn server_reads_the_battery_level_the_app_set() {
    let out = run_started(
        "carrier_api device power_sources 0 1\ncarrier_api device battery_level 20\n\
         server read /3/0/9\ncarrier_api device battery_level 35\nserver read /3/0/9\n",
    );
    assert_lines(
        &out,
        &[
            "Battery level updated successfully",
            "Event: Registered",
            "Server: READ /3/0/9 -> 2.05 [text/plain; charset=utf-8] 2 B",
            "  /3/0/9 = \"20\"",
            "Battery level updated successfully",
            "  /3/0/9 = \"35\"",
        ],
    );
}

#[test]
fn server_read_with_a_bad_path_prints_the_usage() {
    let out = run_started("server read /x\nserver write /3/0/9 1\nserver\n");
    assert_lines(
        &out,
        &["server read <path>", "Invalid argument: /x", "server read <path>", "server read <path>"],
    );
}

#[test]
fn a_bad_server_option_prints_an_error_and_the_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_carrier-shell"))
        .args(["--server", "http://127.0.0.1:5683"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error:") && err.contains("coap://"), "{err}");
    assert!(err.contains("Usage: carrier-shell"), "{err}");
}

/// With Verizon alone enabled, the device's SIM is Verizon's and the embedded
/// Bootstrap-Server acts out Verizon's plan: the endpoint is `urn:imei-msisdn:`
/// (carriers.md §4) and the server reads back the admin APN the plan wrote.
#[test]
fn verizon_operation_bootstraps_from_verizons_plan() {
    let out =
        run("carrier_config carriers 1\ncarrier_config auto_startup y\nserver read /11/0/1\n");
    assert_lines(
        &out,
        &[
            "LwM2M carrier library started (Verizon operation)",
            "Event: Registered",
            "Server: READ /11/0/1 -> 2.05 [text/plain; charset=utf-8] 8 B",
            "  /11/0/1 = \"VZWADMIN\"",
        ],
    );
    assert!(out.contains("registered ep=urn:imei-msisdn:350000000000001-"), "{out}");
}

/// `--server`: the device registers with a server the shell did not start
/// (here an `lwm2m-server` in this test process, plain CoAP, no bootstrap),
/// and that server reads the battery level the shell's command set.
#[test]
fn server_option_registers_with_another_server_that_reads_the_device() {
    use core::time::Duration;
    use lwm2m_core::coap::numbers::{Code, ContentFormat};
    use lwm2m_core::path::Path as LwPath;
    use lwm2m_server::transport::{Transport, UdpTransport};
    use lwm2m_server::{Request, ServerConfig, ServerEvent};

    let transport = UdpTransport::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let uri = format!("coap://{}", transport.local_addr().unwrap());
    let server = lwm2m_server::spawn(transport, ServerConfig::default()).unwrap();
    let dir = tempdir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_carrier-shell"))
        .arg("--state-dir")
        .arg(dir.path())
        .args(["--server", &uri])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            b"carrier_config auto_startup y\ncarrier_api device power_sources 0 1\n\
              carrier_api device battery_level 20\n",
        )
        .unwrap();
    stdin.flush().unwrap();
    // The shell keeps running (and its device answering) while stdin is open.
    let endpoint = server
        .wait_for(Duration::from_secs(20), |e| match e {
            ServerEvent::Registered { registration, .. } => Some(registration.endpoint.clone()),
            _ => None,
        })
        .expect("the device registered with the --server");
    let path = LwPath::resource(3, 0, 9).unwrap();
    let format = Some(ContentFormat::TextPlain);
    // The battery command may still be on its way: read until it shows.
    let mut value = Vec::new();
    for _ in 0..50 {
        let r = server
            .request(&endpoint, Request::Read { path, format }, Duration::from_secs(10))
            .expect("the device answers the server's Read");
        if r.code == Code::Content && r.payload == b"20" {
            value = r.payload;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(value, b"20", "the server read the level the shell set\n{text}");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("Embedded LwM2M servers"), "no embedded server with --server: {text}");
    assert!(text.contains("Battery level updated successfully"), "{text}");
    server.stop();
}
