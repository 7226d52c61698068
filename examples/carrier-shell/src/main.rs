//! `carrier-shell`: an interactive shell with the original LwM2M carrier
//! library's `carrier_config` and `carrier_api` command groups
//! (carrier-api.md §6, app-integration.txt "LwM2M carrier shell").
//!
//! Settings persist in `--state-dir` and are applied when the library starts,
//! which, as in the original, waits until `carrier_config auto_startup y`.
//! Line editing and history (kept in the state directory) when stdin is a
//! terminal; plain line reading otherwise, so scripts can pipe commands in.
#![forbid(unsafe_code)]

mod api_cmd;
mod settings;
mod shell;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::shell::{Flow, Shell};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(version, about = "The LwM2M carrier shell: carrier_config and carrier_api commands")]
struct Args {
    /// Directory where the settings (and the line history) are kept.
    #[arg(long, default_value = ".carrier-shell")]
    state_dir: PathBuf,
}

const PROMPT: &str = "uart:~$ ";

fn emit(out: &mut String) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    out.clear();
}

fn main() -> ExitCode {
    let args = Args::parse();
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
    let mut out = String::new();
    shell.boot(&mut out);
    emit(&mut out);

    if std::io::stdin().is_terminal() {
        interactive(&mut shell, &args.state_dir)
    } else {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let flow = shell.execute(&line, &mut out);
            emit(&mut out);
            if flow == Flow::Exit {
                break;
            }
        }
        ExitCode::SUCCESS
    }
}

fn interactive(shell: &mut Shell, state_dir: &std::path::Path) -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("carrier-shell: no line editor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let history = state_dir.join("history");
    let _ = editor.load_history(&history);
    let mut out = String::new();
    loop {
        match editor.readline(PROMPT) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let flow = shell.execute(&line, &mut out);
                emit(&mut out);
                if flow == Flow::Exit {
                    break;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => {}
            Err(_) => break,
        }
    }
    let _ = editor.save_history(&history);
    ExitCode::SUCCESS
}
