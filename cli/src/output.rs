//! Printing results as text or JSON, and the one-line failure every command returns.

use serde::Serialize;
use std::fmt;

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
            println!("{line}");
        } else {
            println!("{}", text());
        }
        Ok(())
    }
}

/// A command's failure: one line for stderr, never containing the identifier looked up.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    /// A failure with this reason.
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure(reason.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source error looked like.
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::new(e.to_string())
    }
}
