//! Identifiers and their normalization to one canonical form per kind.
//!
//! PROVISIONAL: this module is the contract other modules build on (`Identifier`, `normalize`,
//! `normalize_phone_prefix`, `NormalizeError`); the full rules are being written.

use crate::key::Key;
use crate::kind::Kind;

/// A normalized identifier: a kind and its canonical ASCII form.
///
/// The only way to get one is through normalization, so holding an `Identifier` proves the
/// value is canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier {
    kind: Kind,
    canonical: String,
}

impl Identifier {
    /// The kind of this identifier.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The canonical form, e.g. `+8613800138000`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The blocklist key of this identifier (kind tag + canonical form).
    pub fn key(&self) -> Key {
        Key::new(self.kind, &self.canonical)
    }
}

/// Why a string is not a valid identifier of the requested kind.
///
/// Messages never contain the input itself (it is personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// The input was empty or held only separators.
    #[error("empty input")]
    Empty,
    /// A character that has no place in this kind of identifier.
    #[error("unexpected character at position {position}")]
    InvalidCharacter {
        /// Zero-based character position in the input.
        position: usize,
    },
    /// Too few digits.
    #[error("too short for a {kind} identifier: {found} digits, at least {min} expected")]
    TooShort {
        /// The requested kind.
        kind: Kind,
        /// The minimum.
        min: usize,
        /// What was found.
        found: usize,
    },
    /// Too many digits.
    #[error("too long for a {kind} identifier: {found} digits, at most {max} expected")]
    TooLong {
        /// The requested kind.
        kind: Kind,
        /// The maximum.
        max: usize,
        /// What was found.
        found: usize,
    },
}

/// Normalizes `raw` as an identifier of `kind`.
pub fn normalize(kind: Kind, raw: &str) -> Result<Identifier, NormalizeError> {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return Err(NormalizeError::Empty);
    }
    let canonical = match kind {
        Kind::Phone if digits.len() == 11 && digits.starts_with('1') => format!("+86{digits}"),
        Kind::Phone => format!("+{digits}"),
        _ => digits,
    };
    Ok(Identifier { kind, canonical })
}

/// Normalizes a phone-number prefix rule such as `+86 170` (a whole virtual-operator range).
pub fn normalize_phone_prefix(raw: &str) -> Result<Identifier, NormalizeError> {
    normalize(Kind::Phone, raw.trim_end_matches('*'))
}
