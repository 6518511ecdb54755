//! Verdicts: what the phone should do about a call, an account or a message, and why.
//!
//! PROVISIONAL: the vocabulary (`Action`, `Direction`, `Source`) is the contract; `Verdict`'s
//! fields and the configurable `Policy` are completed with the on-device store.

use crate::entry::{Category, ReportBucket, Risk};
use std::fmt;

/// What the app should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Action {
    /// Let it through silently.
    Allow,
    /// Let it through with a warning. For an outgoing call this means: ask the user before
    /// connecting.
    Warn,
    /// Intercept it (reject an incoming call, hide a message).
    Block,
}

impl Action {
    /// `allow`, `warn` or `block`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Warn => "warn",
            Action::Block => "block",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Direction {
    /// Someone is calling the user (or sent a message).
    #[default]
    Incoming,
    /// The user is dialling. A flagged outgoing call is never silently dropped.
    Outgoing,
}

/// Where a verdict came from, in precedence order (first wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Source {
    /// An emergency or police line (110, 119, 120, 122, 112, 96110) or one the app protects:
    /// never blocked, whatever an update says.
    Protected,
    /// The user's own allow list.
    UserAllow,
    /// The user's own block list.
    UserBlock,
    /// An exact blocklist entry.
    Exact,
    /// A blocklist prefix rule (the longest one that matched).
    Prefix,
    /// Nothing matched.
    None,
}

impl Source {
    /// The snake_case name used in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Protected => "protected",
            Source::UserAllow => "user_allow",
            Source::UserBlock => "user_block",
            Source::Exact => "exact",
            Source::Prefix => "prefix",
            Source::None => "none",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to a lookup: what to do and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Verdict {
    /// What the app should do.
    pub action: Action,
    /// Where the decision came from.
    pub source: Source,
    /// The fraud category, when a blocklist entry matched.
    pub category: Option<Category>,
    /// The risk level, when a blocklist entry matched.
    pub risk: Option<Risk>,
    /// How many citizens reported it, when a blocklist entry matched.
    pub reports: Option<ReportBucket>,
    /// The blocklist release the answer was read from.
    pub list_version: u64,
}
