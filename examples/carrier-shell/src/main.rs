//! `carrier-shell`: an interactive shell with the original LwM2M carrier
//! library's `carrier_config` and `carrier_api` command groups
//! (carrier-api.md §6, app-integration.txt "LwM2M carrier shell").
//!
//! Settings persist in `--state-dir` and are applied when the library starts,
//! which, as in the original, waits until `carrier_config auto_startup y`.
//! Line editing and history (kept in the state directory) when stdin is a
//! terminal; plain line reading otherwise, so scripts can pipe commands in.
//!
//! Once started, the library drives a real device on the std port
//! (`device.rs`), polled between command lines (lines are read on another
//! thread). Without `--server` and without a configured server URI, the
//! device bootstraps from an embedded Bootstrap-Server (DTLS-PSK) and
//! registers with the embedded DM server; `server read PATH` shows what
//! that server reads from the device.
#![forbid(unsafe_code)]
#![allow(clippy::std_instead_of_core)]

mod api_cmd;
mod device;
mod settings;
mod shell;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::shell::{Flow, Shell, Target};
use std::sync::mpsc;
use std::time::Duration;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(version, about = "The LwM2M carrier shell: carrier_config and carrier_api commands")]
struct Args {
    /// Directory where the settings (and the line history) are kept.
    #[arg(long, default_value = ".carrier-shell")]
    state_dir: PathBuf,
    /// Connect the device to this server instead of the embedded one
    /// (used when `carrier_config server uri` is empty).
    #[arg(long, value_name = "coap://HOST:PORT|coaps://HOST:PORT", value_parser = server_uri)]
    server: Option<String>,
    /// `--server` is a Bootstrap-Server.
    #[arg(long, requires = "server")]
    bootstrap: bool,
    /// Security tag holding the PSK for a `coaps://` `--server`.
    #[arg(long, requires = "server")]
    sec_tag: Option<u32>,
}

fn server_uri(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("coaps://")
        .or_else(|| s.strip_prefix("coap://"))
        .ok_or("the URI must start with coap:// or coaps://")?;
    if rest.is_empty() || rest.starts_with(':') || rest.starts_with('/') {
        return Err("no host".into());
    }
    Ok(s.to_string())
}

/// A bad option: clap's one-line error, then the usage; exit 2.
fn refuse(e: &clap::Error) -> ! {
    use clap::CommandFactory;
    use clap::error::ErrorKind;
    if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        e.exit();
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    Args::command().error(e.kind(), first.trim_start_matches("error: ")).exit()
}

const PROMPT: &str = "uart:~$ ";

fn emit(out: &mut String) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    out.clear();
}

fn main() -> ExitCode {
    let args = Args::try_parse().unwrap_or_else(|e| refuse(&e));
    let color = std::io::stdout().is_terminal();
    let mut shell = match Shell::open(&args.state_dir, color) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "carrier-shell: cannot open state directory {}: {e}",
                args.state_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(uri) = &args.server {
        shell.set_target(Target::External {
            uri: uri.clone(),
            bootstrap: args.bootstrap,
            sec_tag: args.sec_tag,
        });
    }
    let mut out = String::new();
    shell.boot(&mut out);
    emit(&mut out);

    // Lines come from a reader thread, so the device runs while the user types.
    let (tx, lines) = mpsc::channel::<String>();
    let history = args.state_dir.join("history");
    std::thread::spawn(move || {
        if std::io::stdin().is_terminal() {
            interactive(&tx, &history);
        } else {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        }
    });
    loop {
        let line = if shell.poll(&mut out, Duration::from_millis(20)) {
            emit(&mut out);
            match lines.try_recv() {
                Ok(l) => l,
                Err(mpsc::TryRecvError::Empty) => continue,
                Err(mpsc::TryRecvError::Disconnected) => break,
            }
        } else {
            match lines.recv() {
                Ok(l) => l,
                Err(_) => break,
            }
        };
        let flow = shell.execute(&line, &mut out);
        emit(&mut out);
        if flow == Flow::Exit {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// Reads lines with editing and history until end of input or `exit`.
fn interactive(tx: &mpsc::Sender<String>, history: &std::path::Path) {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("carrier-shell: no line editor: {e}");
            return;
        }
    };
    let _ = editor.load_history(history);
    loop {
        match editor.readline(PROMPT) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let _ = editor.save_history(history);
                let exit = matches!(line.trim(), "exit" | "quit");
                if tx.send(line).is_err() || exit {
                    break;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => {}
            Err(_) => break,
        }
    }
}
