//! Printing results as text or JSON, and the one-line failure every command returns.

use serde::Serialize;
use std::fmt;
use std::io::Write;

/// Where a command writes its results: text for people, JSON for programs.
pub struct Output {
    json: bool,
}

impl Output {
    /// `json`: print JSON instead of text.
    pub fn new(json: bool) -> Output {
        Output { json }
    }

    /// Whether JSON was asked for.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints `value` as one line of JSON, or `text()` when JSON was not asked for.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> Result<(), Failure> {
        if self.json {
            let line = serde_json::to_string(value)
                .map_err(|e| Failure::new(format!("cannot encode JSON: {e}")))?;
            write_line(format_args!("{line}"))
        } else {
            write_line(format_args!("{}", text()))
        }
    }
}

/// Writes one line to stdout.
///
/// A reader that went away (`fraudshield demo | head -3`) ends the command quietly instead of
/// panicking as `println!` would: see [`Failure::is_closed_pipe`].
pub fn write_line(line: fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure {
                reason: String::new(),
                closed_pipe: true,
            }
        } else {
            Failure::new(format!("cannot write to standard output: {e}"))
        }
    })
}

/// `say!("format", args…)`: [`write_line`] with `format!` syntax, returning early on failure.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))?
    };
}
pub(crate) use say;

/// A command's failure: one line for stderr, never containing the identifier looked up.
#[derive(Debug)]
pub struct Failure {
    reason: String,
    closed_pipe: bool,
}

impl Failure {
    /// A failure with this reason.
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            closed_pipe: false,
        }
    }

    /// Standard output was closed by its reader: not an error worth a message.
    pub fn is_closed_pipe(&self) -> bool {
        self.closed_pipe
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source error looked like.
        f.write_str(&self.reason.replace('\n', " "))
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::new(e.to_string())
    }
}
