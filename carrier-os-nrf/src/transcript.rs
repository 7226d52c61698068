//! A scripted AT channel: the host stand-in for the nRF91 modem.
//!
//! Owns the transcript format the tests and the host build of the port run
//! on. A transcript is plain text, one line per event:
//!
//! ```text
//! # a comment
//! > AT+CGSN=1                      the command the port must send next
//! < +CGSN: "352656100367872"       a response line the modem returns
//! < OK
//! ~ +CEREG: 1,"002F","0012BEEF",7  a notification, pending after the exchange
//! ~~ 0791…                         continuation line of the notification above
//! ```
//!
//! In `>`, `<`, `~` and `~~` lines `\xNN` stands for one raw byte (for
//! garbage that is not UTF-8 and for `<Ctrl-Z>`), `\r` for a carriage
//! return and `\\` for a backslash. Response lines are returned joined with
//! `<CR><LF>`, as the modem does.
//!
//! Guarantee: a command that differs from the script is an error
//! ([`ChannelError::Unexpected`]) naming the step, never a panic; a test
//! proves it sent every scripted command with [`Transcript::finish`].
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::channel::{AtChannel, ChannelError};

/// A transcript-driven AT channel over a script in memory.
#[derive(Debug, Clone)]
pub struct Transcript<'s> {
    rest: &'s str,
    step: u16,
    dropped: u16,
}

/// Bytes of one escaped transcript line.
struct Unescape<'a> {
    bytes: &'a [u8],
}

impl Iterator for Unescape<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        if b != b'\\' {
            return Some(b);
        }
        match rest {
            [b'x', h, l, tail @ ..] => {
                let hex = [*h, *l];
                let v =
                    core::str::from_utf8(&hex).ok().and_then(|s| u8::from_str_radix(s, 16).ok());
                match v {
                    Some(v) => {
                        self.bytes = tail;
                        Some(v)
                    }
                    None => Some(b'\\'),
                }
            }
            [b'r', tail @ ..] => {
                self.bytes = tail;
                Some(b'\r')
            }
            [b'\\', tail @ ..] => {
                self.bytes = tail;
                Some(b'\\')
            }
            _ => Some(b'\\'),
        }
    }
}

fn unescape(s: &str) -> Unescape<'_> {
    Unescape { bytes: s.as_bytes() }
}

/// Appends `src` to `out` at `*len`.
fn put(out: &mut [u8], len: &mut usize, src: impl Iterator<Item = u8>) -> Result<(), ChannelError> {
    for b in src {
        let slot = out.get_mut(*len).ok_or(ChannelError::Overflow)?;
        *slot = b;
        *len = len.checked_add(1).ok_or(ChannelError::Overflow)?;
    }
    Ok(())
}

impl<'s> Transcript<'s> {
    /// A channel that plays `script`.
    pub const fn new(script: &'s str) -> Self {
        Self { rest: script, step: 0, dropped: 0 }
    }

    /// The next meaningful line (kind, text) without consuming it.
    fn peek(&self) -> Option<(&'s str, &'s str, &'s str)> {
        let mut rest = self.rest;
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
            let line = line.trim_end_matches('\r');
            rest = tail;
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (kind, text) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
            return Some((kind, text, tail));
        }
    }

    /// Exchanges performed so far.
    pub fn steps(&self) -> u16 {
        self.step
    }

    /// Notifications skipped because a command was sent before they were
    /// polled.
    pub fn dropped_notifications(&self) -> u16 {
        self.dropped
    }

    /// Succeeds when every scripted event has been consumed.
    ///
    /// # Errors
    /// [`ChannelError::Unexpected`] naming the first step not performed.
    pub fn finish(&self) -> Result<(), ChannelError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(ChannelError::Unexpected { step: self.step }),
        }
    }
}

impl AtChannel for Transcript<'_> {
    fn exchange(&mut self, command: &str, response: &mut [u8]) -> Result<usize, ChannelError> {
        // Notifications not polled before a command are dropped (and counted).
        while let Some(("~" | "~~", _, tail)) = self.peek() {
            self.rest = tail;
            self.dropped = self.dropped.saturating_add(1);
        }
        let step = self.step;
        let Some((kind, expected, tail)) = self.peek() else {
            return Err(ChannelError::Exhausted);
        };
        if kind != ">" || !unescape(expected).eq(command.bytes()) {
            return Err(ChannelError::Unexpected { step });
        }
        self.rest = tail;
        self.step = self.step.saturating_add(1);
        let mut len = 0;
        while let Some(("<", text, tail)) = self.peek() {
            put(response, &mut len, unescape(text))?;
            put(response, &mut len, b"\r\n".iter().copied())?;
            self.rest = tail;
        }
        Ok(len)
    }

    fn poll_notification(&mut self, buf: &mut [u8]) -> Option<usize> {
        let Some(("~", text, tail)) = self.peek() else { return None };
        self.rest = tail;
        let mut len = 0;
        let mut ok = put(buf, &mut len, unescape(text)).is_ok();
        while let Some(("~~", more, tail)) = self.peek() {
            ok &= put(buf, &mut len, b"\r\n".iter().copied()).is_ok();
            ok &= put(buf, &mut len, unescape(more)).is_ok();
            self.rest = tail;
        }
        // A notification larger than the buffer is dropped, as the modem
        // library drops what it cannot deliver.
        if ok {
            Some(len)
        } else {
            self.dropped = self.dropped.saturating_add(1);
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn plays_exchange_and_notification() {
        let mut t = Transcript::new("> AT+CFUN?\n< +CFUN: 1\n< OK\n~ +CEREG: 2\n");
        let mut buf = [0u8; 64];
        let n = t.exchange("AT+CFUN?", &mut buf).unwrap();
        assert_eq!(&buf[..n], b"+CFUN: 1\r\nOK\r\n");
        let n = t.poll_notification(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"+CEREG: 2");
        assert_eq!(t.finish(), Ok(()));
    }

    #[test]
    fn wrong_command_names_the_step() {
        let mut t = Transcript::new("> AT+CFUN?\n< OK\n> AT+CGSN=1\n< OK\n");
        let mut buf = [0u8; 64];
        t.exchange("AT+CFUN?", &mut buf).unwrap();
        assert_eq!(t.exchange("AT+CIMI", &mut buf), Err(ChannelError::Unexpected { step: 1 }));
        assert_eq!(t.finish(), Err(ChannelError::Unexpected { step: 1 }));
    }

    #[test]
    fn escapes_produce_raw_bytes() {
        let mut t = Transcript::new("> AT\n< \\xff\\xfe\n< OK\n");
        let mut buf = [0u8; 16];
        let n = t.exchange("AT", &mut buf).unwrap();
        assert_eq!(&buf[..n], b"\xff\xfe\r\nOK\r\n");
    }

    #[test]
    fn response_larger_than_buffer_overflows() {
        let mut t = Transcript::new("> AT\n< 0123456789\n< OK\n");
        let mut buf = [0u8; 8];
        assert_eq!(t.exchange("AT", &mut buf), Err(ChannelError::Overflow));
    }
}
