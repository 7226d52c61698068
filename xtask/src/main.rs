//! Project automation, run as `cargo xtask <command>`.
//!
//! - `cargo xtask test` — everything CI checks, in order: system packages
//!   (installed when missing and running as root, otherwise a loud failure
//!   naming them), `cargo fmt --check`, clippy with `-D warnings`, the
//!   workspace tests (nextest when installed, else `cargo test`) including the
//!   interoperability tests against libcoap, the no_std builds (host and
//!   `thumbv8m.main-none-eabihf`) with a check that no `std` is linked, and a
//!   short fuzz run per target when a nightly toolchain with cargo-fuzz is
//!   present.
//! - `cargo xtask nostd` — only the no_std builds.
//!
//! Every step prints what it runs; the first failing step ends the run with a
//! non-zero exit code. Nothing is ever skipped silently: a step that cannot
//! run says why and fails.
#![forbid(unsafe_code)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod report;

/// The crates that must build without `std` (DESIGN.md, "no_std first").
const NO_STD_CRATES: &[&str] = &[
    "lwm2m-core",
    "lwm2m-objects",
    "carrier-profiles",
    "carrier-os",
    "lwm2m-carrier",
    "carrier-os-nrf",
];

/// The device target: nRF91 (Cortex-M33), where `std` does not exist at all.
const DEVICE_TARGET: &str = "thumbv8m.main-none-eabihf";

/// Debian packages the tests need, with a program (or file) that shows each
/// is installed. libcoap's binaries are the interop peers; the autotools and
/// clang build the vendored tinydtls behind `dtls-psk`.
const SYSTEM_PACKAGES: &[(&str, Probe)] = &[
    ("libcoap3-bin", Probe::Program("coap-server-openssl")),
    ("autoconf", Probe::Program("autoconf")),
    ("automake", Probe::Program("automake")),
    ("libtool", Probe::Program("libtoolize")),
    ("clang", Probe::Program("clang")),
    ("libclang-dev", Probe::LibClang),
    // llvm-ar archives the C part of the nRF firmware example (tinyrlibc).
    ("llvm", Probe::Program("llvm-ar")),
];

/// no_std crates with a `defmt` feature: built with it for the device, so a
/// `defmt::Format` impl that does not compile cannot hide behind the default.
const DEFMT_CRATES: &[&str] =
    &["lwm2m-core", "lwm2m-objects", "carrier-profiles", "carrier-os", "lwm2m-carrier"];

/// The nRF91 port with the real modem binding (`nrf-modem`), for one chip.
const NRF_CHIP_FEATURE: &str = "nrf9160";

#[derive(Clone, Copy)]
enum Probe {
    Program(&'static str),
    LibClang,
}

type StepResult = Result<(), String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("test") => run_all(&root),
        Some("nostd") => step("no_std builds", || nostd(&root)),
        Some("deps") => step("system packages", ensure_system_packages)
            .and_then(|()| step("python packages", ensure_python_packages)),
        Some("fuzz") => step("fuzz (short)", || fuzz_short(&root)),
        Some("report") => step("report", || report::run(&root, args.get(1..).unwrap_or(&[]))),
        _ => {
            eprintln!("usage: cargo xtask <test|nostd|deps|fuzz|report>");
            eprintln!("  test   everything CI checks (fmt, clippy, tests, interop, no_std, fuzz)");
            eprintln!("  nostd  the no_std builds only (host and {DEVICE_TARGET})");
            eprintln!("  deps   install the Debian packages the tests need (as root)");
            eprintln!("  fuzz   the short fuzz run only (nightly)");
            eprintln!("  report measure, write docs/REPORT.md [--no-bench] [--fuzz SECS]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_all(root: &Path) -> StepResult {
    let started = Instant::now();
    step("system packages", ensure_system_packages)?;
    step("python packages", ensure_python_packages)?;
    step("device target", ensure_device_target)?;
    step("cargo fmt --check", || cargo(root, &["fmt", "--all", "--", "--check"]))?;
    step("clippy -D warnings", || {
        cargo(root, &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
    })?;
    step("workspace tests (with interop)", || tests(root))?;
    step("no_std builds", || nostd(root))?;
    step("fuzz (short)", || fuzz_short(root))?;
    println!("\nxtask: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> StepResult) -> StepResult {
    println!("\n==> {name}");
    let t = Instant::now();
    let r = f();
    match &r {
        Ok(()) => println!("<== {name}: ok ({:.1?})", t.elapsed()),
        Err(e) => println!("<== {name}: FAILED ({:.1?}): {e}", t.elapsed()),
    }
    r.map_err(|e| format!("{name}: {e}"))
}

fn workspace_root() -> PathBuf {
    let manifest = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    Path::new(&manifest).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn cargo_bin() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo(root: &Path, args: &[&str]) -> StepResult {
    run(Command::new(cargo_bin()).args(args).current_dir(root))
}

fn run(cmd: &mut Command) -> StepResult {
    println!("$ {}", describe(cmd));
    let status = cmd.status().map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    if status.success() { Ok(()) } else { Err(format!("`{}` exited with {status}", describe(cmd))) }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .map(|paths| env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

fn libclang_present() -> bool {
    if let Ok(p) = env::var("LIBCLANG_PATH")
        && Path::new(&p).exists()
    {
        return true;
    }
    let Ok(dirs) = std::fs::read_dir("/usr/lib") else { return false };
    dirs.flatten().any(|d| {
        let name = d.file_name().to_string_lossy().into_owned();
        name.starts_with("llvm-")
            && std::fs::read_dir(d.path().join("lib"))
                .map(|libs| {
                    libs.flatten().any(|l| l.file_name().to_string_lossy().starts_with("libclang"))
                })
                .unwrap_or(false)
    })
}

fn probe(p: Probe) -> bool {
    match p {
        Probe::Program(name) => on_path(name),
        Probe::LibClang => libclang_present(),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn ensure_system_packages() -> StepResult {
    let missing: Vec<&str> =
        SYSTEM_PACKAGES.iter().filter(|(_, p)| !probe(*p)).map(|(pkg, _)| *pkg).collect();
    if missing.is_empty() {
        println!(
            "all present: {}",
            SYSTEM_PACKAGES.iter().map(|p| p.0).collect::<Vec<_>>().join(" ")
        );
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing Debian packages: {m}. Install them with `sudo apt-get install -y {m}` \
             (the interop tests and the DTLS build need them; they are never skipped)",
            m = missing.join(" ")
        ));
    }
    println!("installing missing Debian packages: {}", missing.join(" "));
    run(Command::new("apt-get").arg("update").env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    let still: Vec<&str> =
        SYSTEM_PACKAGES.iter().filter(|(_, p)| !probe(*p)).map(|(pkg, _)| *pkg).collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("still missing after install: {}", still.join(" ")))
    }
}

/// The Python peer of the interop tests: aiocoap from PyPI, pinned.
const PYTHON_PACKAGES: &[(&str, &str)] = &[("aiocoap==0.4.17", "aiocoap")];

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ensure_python_packages() -> StepResult {
    if !on_path("python3") {
        return Err("python3 is missing: install Debian `python3 python3-pip` \
                    (the aiocoap interop test needs it; it is never skipped)"
            .into());
    }
    let missing: Vec<&str> =
        PYTHON_PACKAGES.iter().filter(|(_, m)| !python_has(m)).map(|(pkg, _)| *pkg).collect();
    if missing.is_empty() {
        println!(
            "all present: {}",
            PYTHON_PACKAGES.iter().map(|p| p.0).collect::<Vec<_>>().join(" ")
        );
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing Python packages: {m}. Install them with `python3 -m pip install {m}` \
             (the aiocoap interop test needs them; it is never skipped)",
            m = missing.join(" ")
        ));
    }
    println!("installing missing Python packages: {}", missing.join(" "));
    run(Command::new("python3").args(["-m", "pip", "install", "-q"]).args(&missing))?;
    match PYTHON_PACKAGES.iter().find(|(_, m)| !python_has(m)) {
        None => Ok(()),
        Some((pkg, _)) => Err(format!("still missing after install: {pkg}")),
    }
}

fn ensure_device_target() -> StepResult {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == DEVICE_TARGET))
        .unwrap_or(false);
    if installed {
        println!("{DEVICE_TARGET} installed");
        Ok(())
    } else {
        run(Command::new("rustup").args(["target", "add", DEVICE_TARGET]))
    }
}

fn tests(root: &Path) -> StepResult {
    if on_path("cargo-nextest") {
        cargo(root, &["nextest", "run", "--workspace", "--no-fail-fast"])?;
        // nextest does not run doctests.
        cargo(root, &["test", "--workspace", "--doc"])
    } else {
        println!("cargo-nextest not installed: using cargo test");
        cargo(root, &["test", "--workspace", "--no-fail-fast"])
    }
}

fn nostd(root: &Path) -> StepResult {
    for krate in NO_STD_CRATES {
        let lib = root.join(krate).join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
        if !text.lines().any(|l| l.trim() == "#![no_std]") {
            return Err(format!("{krate}: src/lib.rs lacks an unconditional #![no_std]"));
        }
        cargo(root, &["build", "-p", krate, "--no-default-features"])?;
        // The device target has no `std` at all: if anything in the crate or
        // its dependency tree (with default features off) pulls `std` in, this
        // build fails. That is the check that no `std` sneaks in.
        cargo(root, &["build", "-p", krate, "--no-default-features", "--target", DEVICE_TARGET])?;
    }
    for krate in DEFMT_CRATES {
        let args = ["build", "-p", krate, "--no-default-features", "--features", "defmt"];
        cargo(root, &[&args[..], &["--target", DEVICE_TARGET]].concat())?;
    }
    // The port over the real modem library, and a firmware image that links.
    cargo(
        root,
        &[
            "build",
            "-p",
            "carrier-os-nrf",
            "--no-default-features",
            "--features",
            NRF_CHIP_FEATURE,
            "--target",
            DEVICE_TARGET,
        ],
    )?;
    let firmware = root.join("examples/nrf91-firmware");
    run(Command::new(cargo_bin()).args(["build", "--release"]).current_dir(&firmware))?;
    Ok(())
}

/// `cargo` on the nightly toolchain. `$CARGO` is the stable toolchain's own
/// binary, which does not understand `+nightly`; rustup's `run` does.
fn nightly_cargo() -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", "nightly", "cargo"]);
    cmd
}

/// The cargo-fuzz crates: the protocol decoders and the nRF AT parsers.
const FUZZ_DIRS: &[&str] = &["fuzz", "fuzz-nrf"];

/// Seconds each fuzz target runs in `cargo xtask test` (longer runs are
/// recorded in docs/fuzzing.md).
const FUZZ_SECONDS_PER_TARGET: u32 = 5;

/// A short run of every fuzz target. Fuzzing needs a nightly toolchain; when
/// there is none the step says so (it is reported, not hidden) and the run goes
/// on, as the issue allows. cargo-fuzz is installed when missing.
fn fuzz_short(root: &Path) -> StepResult {
    let dirs: Vec<&str> =
        FUZZ_DIRS.iter().copied().filter(|d| root.join(d).join("Cargo.toml").is_file()).collect();
    if dirs.is_empty() {
        println!("no fuzz crates yet: nothing to fuzz");
        return Ok(());
    }
    let nightly = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("nightly"))
        .unwrap_or(false);
    if !nightly {
        println!("NOT RUN: fuzzing needs a nightly toolchain (`rustup toolchain install nightly`)");
        return Ok(());
    }
    if !on_path("cargo-fuzz") {
        run(Command::new(cargo_bin()).args(["install", "--locked", "cargo-fuzz"]))?;
    }
    for dir in dirs {
        let out = nightly_cargo()
            .args(["fuzz", "list", "--fuzz-dir", dir])
            .current_dir(root)
            .output()
            .map_err(|e| format!("cargo fuzz list: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo fuzz list --fuzz-dir {dir} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let targets = String::from_utf8_lossy(&out.stdout).into_owned();
        run(nightly_cargo().args(["fuzz", "build", "-O", "--fuzz-dir", dir]).current_dir(root))?;
        for t in targets.lines().map(str::trim).filter(|t| !t.is_empty()) {
            let max_time = format!("-max_total_time={FUZZ_SECONDS_PER_TARGET}");
            run(nightly_cargo()
                .args(["fuzz", "run", "-O", "--fuzz-dir", dir, t, "--"])
                .args([max_time.as_str(), "-rss_limit_mb=2048"])
                .current_dir(root))?;
        }
    }
    Ok(())
}
