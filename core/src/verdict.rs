//! Verdicts: what the phone should do about a call, an account or a message, and why.
//!
//! A lookup finds *where* an answer comes from (a [`Source`], in the precedence order of
//! DESIGN.md: protected > user allow > user block > exact entry > prefix rule > unallocated
//! range > none) and, for a
//! blocklist hit, the entry's category, risk and report bucket. A [`Policy`] then maps
//! `(source, risk, direction)` to an [`Action`]. The policy is a plain table the app may change
//! (e.g. a "strict" mode that blocks medium risk), within two limits no configuration can lift:
//!
//! - a **protected** number ([`crate::protected::BUILTIN_PROTECTED`]: emergency lines, 96110,
//!   the government hotlines such as 12345; and the ones the app adds) and a
//!   number on the user's **allow list** are always [`Action::Allow`];
//! - an **outgoing** call is never [`Action::Block`]ed: at most the app warns and asks the user
//!   before connecting (a silently dropped outgoing call could be a call for help).
//!
//! ## Default policy
//!
//! | source | risk | incoming | outgoing |
//! |---|---|---|---|
//! | protected, user allow | – | allow | allow |
//! | user block | – | block | warn |
//! | exact entry | high | block | warn |
//! | exact entry | medium | warn | warn |
//! | exact entry | low | warn | warn |
//! | prefix rule | high | warn | warn |
//! | prefix rule | medium | warn | warn |
//! | prefix rule | low | allow | allow |
//! | unallocated range | – | warn | allow |
//! | none | – | allow | allow |
//! | list unavailable (damaged list) | – | allow, reported as `list_unavailable` | allow |
//!
//! Low-risk exact entries warn rather than allow: an unconfirmed report is still worth a
//! warning, and a warning costs the user one glance. Prefix rules are **one risk level softer**
//! than exact entries (a high-risk prefix acts like a medium exact entry, and so on), because a
//! prefix covers many numbers of which only some are fraud: a prefix alone never blocks by
//! default.
//!
//! An **unallocated range** is a Chinese mobile number that is on no list but comes from a
//! range the MIIT has not allocated ([`crate::identifier::phone::is_unallocated_mobile`]):
//! such a caller id cannot be real, which is a classic sign of a spoofed fraud call, so an
//! incoming one warns by default ([`Policy::unallocated_incoming`]). Dialling one is allowed
//! by default ([`Policy::unallocated_outgoing`]): the call cannot connect, and nothing is
//! gained by asking the user first. An entry on any list decides before this.

use crate::entry::{Category, ReportBucket, Risk};
use std::fmt;

/// What the app should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Source {
    /// An emergency line, the police anti-fraud line, a government hotline
    /// ([`crate::protected::BUILTIN_PROTECTED`]) or a number the app protects: never blocked,
    /// whatever an update or the user's block list says.
    Protected,
    /// The user's own allow list.
    UserAllow,
    /// The user's own block list.
    UserBlock,
    /// An exact blocklist entry.
    Exact,
    /// A blocklist prefix rule (the longest one that matched).
    Prefix,
    /// No list matched, but the number is a Chinese mobile number from a range that is not
    /// allocated: a caller id that cannot exist, likely spoofed.
    UnallocatedRange,
    /// Nothing matched.
    None,
    /// The blocklist is unavailable (its files were found damaged, see `Status::degraded`):
    /// nothing was looked up in it, so this is **not** "clean". Protected numbers and the user's
    /// own lists still answer as usual; the app should tell the user that fraud protection is
    /// off until the list is repaired (a sync installs a full snapshot).
    ListUnavailable,
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
            Source::UnallocatedRange => "unallocated_range",
            Source::None => "none",
            Source::ListUnavailable => "list_unavailable",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to a lookup: what to do and why.
///
/// `category`, `risk` and `reports` are set exactly when `source` is [`Source::Exact`] or
/// [`Source::Prefix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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

impl Verdict {
    /// A verdict with no blocklist entry behind it (protected, user lists, or nothing matched).
    pub fn without_entry(action: Action, source: Source, list_version: u64) -> Verdict {
        Verdict {
            action,
            source,
            category: None,
            risk: None,
            reports: None,
            list_version,
        }
    }

    /// The verdict for "nothing matched": allow.
    pub fn none(list_version: u64) -> Verdict {
        Verdict::without_entry(Action::Allow, Source::None, list_version)
    }

    /// The verdict while the blocklist is unavailable (damaged): allow, with
    /// [`Source::ListUnavailable`] saying that nothing was looked up.
    pub fn list_unavailable(list_version: u64) -> Verdict {
        Verdict::without_entry(Action::Allow, Source::ListUnavailable, list_version)
    }
}

/// The actions for the three risk levels of one (source, direction) cell of a [`Policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RiskActions {
    /// Action for [`Risk::Low`].
    pub low: Action,
    /// Action for [`Risk::Medium`].
    pub medium: Action,
    /// Action for [`Risk::High`].
    pub high: Action,
}

impl RiskActions {
    /// The action for `risk`.
    pub const fn get(&self, risk: Risk) -> Action {
        match risk {
            Risk::Low => self.low,
            Risk::Medium => self.medium,
            Risk::High => self.high,
        }
    }
}

/// The configurable table from (source, risk, direction) to [`Action`]; see the
/// [module docs](self) for the defaults and the two rules no policy can override.
///
/// ```
/// use fraudshield_core::entry::Risk;
/// use fraudshield_core::verdict::{Action, Direction, Policy, Source};
///
/// let policy = Policy::default();
/// assert_eq!(policy.action(Source::Exact, Some(Risk::High), Direction::Incoming), Action::Block);
/// assert_eq!(policy.action(Source::Exact, Some(Risk::High), Direction::Outgoing), Action::Warn);
/// assert_eq!(policy.action(Source::Prefix, Some(Risk::High), Direction::Incoming), Action::Warn);
///
/// // A stricter policy; protected numbers still cannot be blocked.
/// let mut strict = Policy::default();
/// strict.exact_incoming.medium = Action::Block;
/// assert_eq!(strict.action(Source::Exact, Some(Risk::Medium), Direction::Incoming), Action::Block);
/// assert_eq!(strict.action(Source::Protected, None, Direction::Incoming), Action::Allow);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Policy {
    /// Exact blocklist entries, incoming calls and messages.
    pub exact_incoming: RiskActions,
    /// Exact blocklist entries, outgoing calls ([`Action::Block`] is read as [`Action::Warn`]).
    pub exact_outgoing: RiskActions,
    /// Prefix rules, incoming.
    pub prefix_incoming: RiskActions,
    /// Prefix rules, outgoing ([`Action::Block`] is read as [`Action::Warn`]).
    pub prefix_outgoing: RiskActions,
    /// The user's own block list, incoming.
    pub user_block_incoming: Action,
    /// The user's own block list, outgoing ([`Action::Block`] is read as [`Action::Warn`]).
    pub user_block_outgoing: Action,
    /// A number from an unallocated mobile range that no list holds, incoming (default:
    /// warn, a likely spoofed caller id).
    #[cfg_attr(feature = "serde", serde(default = "default_unallocated_incoming"))]
    pub unallocated_incoming: Action,
    /// A number from an unallocated mobile range, outgoing (default: allow, the call cannot
    /// connect; [`Action::Block`] is read as [`Action::Warn`]).
    #[cfg_attr(feature = "serde", serde(default = "default_unallocated_outgoing"))]
    pub unallocated_outgoing: Action,
}

#[cfg(feature = "serde")]
fn default_unallocated_incoming() -> Action {
    Policy::default().unallocated_incoming
}

#[cfg(feature = "serde")]
fn default_unallocated_outgoing() -> Action {
    Policy::default().unallocated_outgoing
}

impl Default for Policy {
    fn default() -> Self {
        use Action::{Allow, Block, Warn};
        Policy {
            exact_incoming: RiskActions {
                low: Warn,
                medium: Warn,
                high: Block,
            },
            exact_outgoing: RiskActions {
                low: Warn,
                medium: Warn,
                high: Warn,
            },
            prefix_incoming: RiskActions {
                low: Allow,
                medium: Warn,
                high: Warn,
            },
            prefix_outgoing: RiskActions {
                low: Allow,
                medium: Warn,
                high: Warn,
            },
            user_block_incoming: Block,
            user_block_outgoing: Warn,
            unallocated_incoming: Warn,
            unallocated_outgoing: Allow,
        }
    }
}

impl Policy {
    /// The action for a lookup that found `source` (with the entry's `risk` for
    /// [`Source::Exact`] and [`Source::Prefix`]; a missing risk reads as [`Risk::High`]).
    pub fn action(&self, source: Source, risk: Option<Risk>, direction: Direction) -> Action {
        let risk = risk.unwrap_or(Risk::High);
        let action = match (source, direction) {
            (Source::Protected | Source::UserAllow | Source::None, _) => return Action::Allow,
            // Nothing is known about the number: it is let through, and the verdict's source
            // tells the app to say that the list is unavailable.
            (Source::ListUnavailable, _) => return Action::Allow,
            (Source::UserBlock, Direction::Incoming) => self.user_block_incoming,
            (Source::UserBlock, Direction::Outgoing) => self.user_block_outgoing,
            (Source::Exact, Direction::Incoming) => self.exact_incoming.get(risk),
            (Source::Exact, Direction::Outgoing) => self.exact_outgoing.get(risk),
            (Source::Prefix, Direction::Incoming) => self.prefix_incoming.get(risk),
            (Source::Prefix, Direction::Outgoing) => self.prefix_outgoing.get(risk),
            (Source::UnallocatedRange, Direction::Incoming) => self.unallocated_incoming,
            (Source::UnallocatedRange, Direction::Outgoing) => self.unallocated_outgoing,
        };
        match (direction, action) {
            // An outgoing call is never silently dropped.
            (Direction::Outgoing, Action::Block) => Action::Warn,
            _ => action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_is_never_blocked_whatever_the_policy() {
        let all_block = RiskActions {
            low: Action::Block,
            medium: Action::Block,
            high: Action::Block,
        };
        let p = Policy {
            exact_incoming: all_block,
            exact_outgoing: all_block,
            prefix_incoming: all_block,
            prefix_outgoing: all_block,
            user_block_incoming: Action::Block,
            user_block_outgoing: Action::Block,
            unallocated_incoming: Action::Block,
            unallocated_outgoing: Action::Block,
        };
        for source in [
            Source::UserBlock,
            Source::Exact,
            Source::Prefix,
            Source::UnallocatedRange,
        ] {
            for risk in Risk::ALL {
                assert_eq!(
                    p.action(source, Some(risk), Direction::Outgoing),
                    Action::Warn
                );
                assert_eq!(
                    p.action(source, Some(risk), Direction::Incoming),
                    Action::Block
                );
            }
        }
        for d in [Direction::Incoming, Direction::Outgoing] {
            assert_eq!(
                p.action(Source::Protected, Some(Risk::High), d),
                Action::Allow
            );
            assert_eq!(
                p.action(Source::UserAllow, Some(Risk::High), d),
                Action::Allow
            );
            assert_eq!(p.action(Source::None, None, d), Action::Allow);
        }
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let p = Policy::default();
        let inc = Direction::Incoming;
        let out = Direction::Outgoing;
        assert_eq!(
            p.action(Source::Exact, Some(Risk::High), inc),
            Action::Block
        );
        assert_eq!(
            p.action(Source::Exact, Some(Risk::Medium), inc),
            Action::Warn
        );
        assert_eq!(p.action(Source::Exact, Some(Risk::Low), inc), Action::Warn);
        assert_eq!(
            p.action(Source::Prefix, Some(Risk::High), inc),
            Action::Warn
        );
        assert_eq!(
            p.action(Source::Prefix, Some(Risk::Medium), inc),
            Action::Warn
        );
        assert_eq!(
            p.action(Source::Prefix, Some(Risk::Low), inc),
            Action::Allow
        );
        assert_eq!(p.action(Source::UserBlock, None, inc), Action::Block);
        assert_eq!(p.action(Source::UserBlock, None, out), Action::Warn);
        assert_eq!(p.action(Source::UnallocatedRange, None, inc), Action::Warn);
        assert_eq!(p.action(Source::UnallocatedRange, None, out), Action::Allow);
        for r in Risk::ALL {
            assert_eq!(p.action(Source::Exact, Some(r), out), Action::Warn);
        }
        // Prefix rules are one risk level softer than exact entries.
        assert_eq!(p.prefix_incoming.high, p.exact_incoming.medium,);
        assert_eq!(p.prefix_incoming.medium, p.exact_incoming.low);
    }
}
