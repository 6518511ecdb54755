//! Protected numbers: the emergency and anti-fraud lines (and any the operator adds) that no
//! release may list. A hard veto at proposal and again at publish; a prefix rule that would
//! cover one is vetoed too.

use fraudshield_core::identifier::{self, Identifier};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::rules::Protected;
use fraudshield_core::store::BUILTIN_PROTECTED;

/// The protected phone numbers, as canonical keys, and the same list as core's publishing
/// rules take it ([`ProtectedList::rules`]).
#[derive(Debug, Clone)]
pub struct ProtectedList {
    keys: Vec<Key>,
    rules: Protected,
}

/// A configured protected number does not normalize.
#[derive(Debug, thiserror::Error)]
#[error("protected number #{index} is not a valid phone number: {reason}")]
pub struct ProtectedError {
    /// One-based position in the `protected` list.
    pub index: usize,
    /// Why (never the value).
    pub reason: identifier::NormalizeError,
}

impl ProtectedList {
    /// The built-in lines plus `extra` (any usual spelling).
    pub fn from_config(extra: &[String]) -> Result<ProtectedList, ProtectedError> {
        let mut keys: Vec<Key> = BUILTIN_PROTECTED
            .iter()
            .filter_map(|n| identifier::normalize(Kind::Phone, n).ok())
            .map(|id| id.key())
            .collect();
        for (i, raw) in extra.iter().enumerate() {
            let id = identifier::normalize(Kind::Phone, raw).map_err(|reason| ProtectedError {
                index: i + 1,
                reason,
            })?;
            keys.push(id.key());
        }
        keys.sort();
        keys.dedup();
        let rules = Protected::with(extra.iter().map(String::as_str));
        Ok(ProtectedList { keys, rules })
    }

    /// The list for core's [`Rules::Publish`](fraudshield_core::rules::Rules::Publish): what
    /// the publisher refuses and what imports are checked against.
    pub fn rules(&self) -> &Protected {
        &self.rules
    }

    /// Whether listing `key` (a prefix rule when `prefix`) would flag a protected number.
    pub fn vetoes(&self, key: &Key, prefix: bool) -> bool {
        self.keys
            .iter()
            .any(|p| p == key || (prefix && p.as_bytes().starts_with(key.as_bytes())))
    }

    /// Whether `id` is itself protected.
    pub fn contains(&self, id: &Identifier) -> bool {
        self.vetoes(&id.key(), false)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn builtin_and_configured_numbers_and_covering_prefixes_are_vetoed() {
        let p = ProtectedList::from_config(&["+86 138 0013 8000".into()]).unwrap();
        let key = |raw| identifier::normalize(Kind::Phone, raw).unwrap().key();
        assert!(p.vetoes(&key("110"), false));
        assert!(p.vetoes(&key("96110"), false));
        assert!(p.vetoes(&key("13800138000"), false));
        assert!(!p.vetoes(&key("13800138001"), false));
        let prefix = identifier::normalize_phone_prefix("+86 138").unwrap().key();
        assert!(p.vetoes(&prefix, true));
        let other = identifier::normalize_phone_prefix("+86 139").unwrap().key();
        assert!(!p.vetoes(&other, true));
    }
}
