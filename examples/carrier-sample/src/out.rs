//! What the sample prints, and how: one line per happening, stamped with the
//! seconds since start and the speaker (`server`, `device`, `app`).
//!
//! Guarantees: colour codes only when stdout is a terminal (and `NO_COLOR`
//! is unset), never into a pipe or a file; a closed stdout (`carrier-sample
//! | head`) is not a panic but [`Stop::Closed`], which the caller turns
//! into a quiet, successful exit. The firmware push gets a bar redrawn in
//! place on a terminal and a plain line per quarter otherwise.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// Why the sample stops before the end of its script.
#[derive(Debug)]
pub enum Stop {
    /// stdout was closed (the reader went away): stop quietly.
    Closed,
    /// Something did not happen as it must: print it, exit non-zero.
    Failed(String),
}

impl From<String> for Stop {
    fn from(s: String) -> Stop {
        Stop::Failed(s)
    }
}

impl From<&str> for Stop {
    fn from(s: &str) -> Stop {
        Stop::Failed(s.to_string())
    }
}

/// Who a line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// An embedded server (or what the sample saw of an external one).
    Server,
    /// The device: the carrier library's events.
    Device,
    /// The application on the device.
    App,
    /// The sample itself.
    Sample,
}

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Server => "server",
            Who::Device => "device",
            Who::App => "app",
            Who::Sample => "",
        }
    }

    /// ANSI colour of the label.
    fn color(self) -> &'static str {
        match self {
            Who::Server => "\x1b[36m",   // cyan
            Who::Device => "\x1b[32m",   // green
            Who::App => "\x1b[33m",      // yellow
            Who::Sample => "\x1b[1;32m", // bold green
        }
    }
}

const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";
const BAR_WIDTH: usize = 32;

/// The sample's stdout.
#[derive(Debug)]
pub struct Out {
    start: Instant,
    tty: bool,
    color: bool,
    /// Quarters of the firmware push already reported as plain lines.
    quarters: AtomicUsize,
    /// A progress bar is drawn on the current (unfinished) line.
    bar: AtomicBool,
}

impl Out {
    /// Output to stdout, coloured when it is a terminal and `NO_COLOR` is unset.
    pub fn stdout() -> Out {
        let tty = std::io::stdout().is_terminal();
        let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Out {
            start: Instant::now(),
            tty,
            color,
            quarters: AtomicUsize::new(0),
            bar: AtomicBool::new(false),
        }
    }

    /// Seconds since start, `  1.234`.
    fn stamp(&self) -> String {
        let ms = self.start.elapsed().as_millis();
        format!("{:>3}.{:03}", ms / 1000, ms % 1000)
    }

    /// One line: time, who, text. Event names (all-caps words such as
    /// `REGISTERED`) are bold on a terminal.
    ///
    /// # Errors
    /// [`Stop::Closed`] when stdout cannot be written any more.
    pub fn line(&self, who: Who, text: impl Display) -> Result<(), Stop> {
        let text = text.to_string();
        let stamp = self.stamp();
        let mut lock = std::io::stdout().lock();
        if self.bar.swap(false, Ordering::Relaxed) {
            // Clear the progress bar's line; the next progress call redraws it.
            write!(lock, "\r\x1b[K").map_err(|_| Stop::Closed)?;
        }
        let written = if self.color {
            let text = embolden(&text);
            writeln!(lock, "{DIM}{stamp}{RESET}  {}{:<6}{RESET}  {text}", who.color(), who.label())
        } else {
            writeln!(lock, "{stamp}  {:<6}  {text}", who.label())
        };
        written.and_then(|()| lock.flush()).map_err(|_| Stop::Closed)
    }

    /// The firmware push has `done` of `total` bytes on the device.
    ///
    /// # Errors
    /// [`Stop::Closed`] when stdout cannot be written any more.
    pub fn progress(&self, done: usize, total: usize, block: usize) -> Result<(), Stop> {
        let total = total.max(1);
        let done = done.min(total);
        let blocks = format!("{}/{} blocks", done.div_ceil(block), total.div_ceil(block));
        if self.tty {
            let filled = done * BAR_WIDTH / total;
            let bar = "#".repeat(filled) + &"-".repeat(BAR_WIDTH - filled);
            let mut lock = std::io::stdout().lock();
            let (on, off) = if self.color { ("\x1b[32m", RESET) } else { ("", "") };
            write!(
                lock,
                "\r{}  {:<6}  {on}[{bar}]{off} {done:>6}/{total} B  {blocks}\x1b[K",
                self.stamp(),
                "push"
            )
            .and_then(|()| {
                self.bar.store(done < total, Ordering::Relaxed);
                if done == total { writeln!(lock) } else { Ok(()) }
            })
            .and_then(|()| lock.flush())
            .map_err(|_| Stop::Closed)
        } else {
            let quarter = done * 4 / total;
            if quarter > self.quarters.load(Ordering::Relaxed) {
                self.quarters.store(quarter, Ordering::Relaxed);
                self.line(
                    Who::Server,
                    format!("push {:>3} %  {done}/{total} B  {blocks}", quarter * 25),
                )
            } else {
                Ok(())
            }
        }
    }

    /// Text as it is (a table): no stamp, no colour.
    ///
    /// # Errors
    /// [`Stop::Closed`] when stdout cannot be written any more.
    pub fn raw(&self, text: &str) -> Result<(), Stop> {
        let mut lock = std::io::stdout().lock();
        lock.write_all(text.as_bytes()).and_then(|()| lock.flush()).map_err(|_| Stop::Closed)
    }

    /// A line saying the whole script ran.
    ///
    /// # Errors
    /// [`Stop::Closed`] when stdout cannot be written any more.
    pub fn done(&self, text: &str) -> Result<(), Stop> {
        self.line(Who::Sample, text)
    }
}

/// Bold every word of two or more capitals and underscores (`LTE_LINK_UP`).
fn embolden(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let name = word.len() >= 2
            && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            && word.bytes().any(|b| b.is_ascii_uppercase());
        if name {
            out.push_str(BOLD);
            out.push_str(word);
            out.push_str(RESET);
        } else {
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::embolden;

    #[test]
    fn event_names_are_bold_and_other_words_are_not() {
        assert_eq!(embolden("LTE_LINK_UP now"), "\x1b[1mLTE_LINK_UP\x1b[0m now");
        assert_eq!(embolden("READ /3/0 -> A"), "\x1b[1mREAD\x1b[0m /3/0 -> A");
    }
}
