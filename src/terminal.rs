//! What `flow run` writes for people: model and tool text made safe to print
//! (no escape sequences reach the terminal), colour on a terminal (with the
//! same `NO_COLOR` and pipe rules as `flow check`), and whether stdout and
//! stderr are one terminal.

use std::io::IsTerminal;

/// Text from a model, a tool or a template with its control characters made
/// visible, so that it cannot move the cursor, clear the screen or retitle the
/// window: newlines and tabs are kept (a `\r` before a newline is dropped),
/// other control characters are written as `\x1b` (C0 and DEL) or `\u{9b}`
/// (C1 controls and the bidirectional overrides). Applied to stdout and stderr
/// whether or not they are a terminal, since a log is often printed later;
/// `--events` keeps the exact text.
pub fn escape(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            c if !needs_escape(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        c if c.is_control() => true,
        // Bidirectional embeddings, overrides and isolates reorder what is shown.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// Colours of the run's lines; all empty when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    on: bool,
}

/// What a line is, for its colour.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// An agent's message (stdout).
    Agent,
    /// The prompt before the user types (stderr).
    User,
    /// A `--trace` line (stderr).
    Trace,
    /// A pause notice and how to continue (stderr).
    Pause,
    /// A failure (stderr).
    Error,
}

impl Palette {
    /// Colour for a stream that is (or is not) a terminal, unless `NO_COLOR` is
    /// set: the rule of `flow check`.
    pub fn for_stream(on_terminal: bool) -> Palette {
        Palette {
            on: on_terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// For stdout.
    pub fn stdout() -> Palette {
        Palette::for_stream(std::io::stdout().is_terminal())
    }

    /// For stderr.
    pub fn stderr() -> Palette {
        Palette::for_stream(std::io::stderr().is_terminal())
    }

    /// `text` in the colour of `role` (as it is when colour is off).
    pub fn paint(self, role: Role, text: &str) -> String {
        if !self.on {
            return text.to_string();
        }
        let code = match role {
            Role::Agent => "36",
            Role::User => "1;32",
            Role::Trace => "2",
            Role::Pause => "33",
            Role::Error => "1;31",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Whether stdout and stderr are the same terminal (then `--trace` leaves out
/// the agent lines stdout already shows).
pub fn same_terminal() -> bool {
    if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let device = |fd: std::os::fd::BorrowedFd<'_>| {
            fd.try_clone_to_owned()
                .ok()
                .map(std::fs::File::from)
                .and_then(|f| f.metadata().ok())
                .map(|m| (m.dev(), m.rdev()))
        };
        match (device(std::io::stdout().as_fd()), device(std::io::stderr().as_fd())) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
    #[cfg(not(unix))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_sequences_keeps_lines() {
        assert_eq!(escape("\x1b]0;owned\x07hi"), "\\x1b]0;owned\\x07hi");
        assert_eq!(escape("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("one\r\ntwo\tthree\n"), "one\ntwo\tthree\n");
        assert_eq!(escape("bare\rcr"), "bare\\x0dcr");
        assert_eq!(escape("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(escape("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(escape("plain é ✓"), "plain é ✓");
        assert_eq!(escape("del\x7f"), "del\\x7f");
    }

    #[test]
    fn paint_only_when_on() {
        assert_eq!(Palette { on: false }.paint(Role::Agent, "x"), "x");
        assert_eq!(Palette { on: true }.paint(Role::Agent, "x"), "\x1b[36mx\x1b[0m");
    }
}
