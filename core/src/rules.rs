//! The rules every change to the blocklist follows: one function, [`check_change`], run by the
//! publisher before it cuts a release and by every client before it applies one, so the
//! publisher can never publish what phones would refuse.
//!
//! ## Two levels, one function
//! [`Rules::Apply`] is what a client enforces on every batch it stages and every snapshot
//! entry it installs: the changes that would be *dangerous* if applied.
//! - the key is well formed (a known kind tag, 1–254 printable ASCII bytes);
//! - the value fits its bit layout ([`EntryValue::unpack`] of its packed form gives it back);
//! - a prefix rule is a phone key, and never broader than the identifier module allows
//!   ([`check_prefix_breadth`]: `+86` or `+861` alone would flag every Chinese number or every
//!   mobile).
//!
//! [`Rules::Publish`] adds what the publisher must never send, though a client tolerates it:
//! - the key of an exact entry is the canonical form of its kind ([`normalize`] returns it
//!   unchanged): a non-canonical key never matches a lookup, it is an analyst's typo;
//! - a prefix rule is the canonical form [`normalize_phone_prefix`] gives it (which also
//!   checks allocated ranges and country codes);
//! - no protected number is listed, and no prefix rule covers one.
//!
//! Why the client is more tolerant: the canonical rules (allocated mobile ranges, country codes)
//! and the protected numbers evolve with each build. A phone running an older build than the
//! publisher must not refuse a whole release over a number it does not yet consider canonical,
//! and a protected number is answered "protected" at lookup whatever the list says, so
//! tolerating it costs nothing. Anything the publisher accepts passes the client's check by
//! construction: [`Rules::Publish`] runs every check of [`Rules::Apply`] first.
//!
//! Removals need only a well-formed key at both levels, so an entry published under older
//! rules can always be taken off the list.
//!
//! Errors say what was wrong, never the key.
//!
//! ```
//! use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
//! use fraudshield_core::key::Key;
//! use fraudshield_core::kind::Kind;
//! use fraudshield_core::rules::{ChangeError, Protected, Rules, check_change};
//!
//! let rule = EntryValue { category: Category::Other, risk: Risk::High,
//!                         reports: ReportBucket::default(), prefix: true };
//! let protected = Protected::builtin();
//! let publish = Rules::Publish { protected: &protected };
//! // A QQ "prefix rule" is refused by clients, so the publisher refuses it too.
//! let qq = Change::Upsert(Key::new(Kind::Qq, "12345"), rule);
//! assert_eq!(check_change(&qq, Rules::Apply), Err(ChangeError::PrefixNotPhone));
//! assert_eq!(check_change(&qq, publish), Err(ChangeError::PrefixNotPhone));
//! // A whole virtual-operator range is fine.
//! let range = Change::Upsert(Key::new(Kind::Phone, "+86170"), rule);
//! assert_eq!(check_change(&range, publish), Ok(()));
//! // The police line 110 is never listed by the publisher.
//! let police = Change::Upsert(Key::new(Kind::Phone, "110"), EntryValue { prefix: false, ..rule });
//! assert_eq!(check_change(&police, publish), Err(ChangeError::Protected));
//! ```

use crate::entry::{Change, EntryValue, ValueError};
use crate::identifier::phone::check_prefix_breadth;
use crate::identifier::{NormalizeError, normalize, normalize_phone_prefix};
use crate::key::{self, Key, KeyError};
use crate::kind::Kind;

/// How strictly [`check_change`] checks (see the [module docs](self)).
#[derive(Debug, Clone, Copy)]
pub enum Rules<'a> {
    /// What a client refuses when it applies a batch or installs a snapshot.
    Apply,
    /// What the publisher refuses: everything [`Rules::Apply`] refuses, non-canonical keys,
    /// and listing or covering any of `protected`.
    Publish {
        /// The numbers no release may list or cover with a prefix rule.
        protected: &'a Protected,
    },
}

/// Phone keys no release may list (see [`Rules::Publish`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// Key bytes, tag included.
    keys: Vec<Vec<u8>>,
}

impl Protected {
    /// The built-in protected numbers ([`crate::protected::BUILTIN_PROTECTED`]), in canonical form
    /// and in whatever form the normalizer gives them, as the store protects them.
    pub fn builtin() -> Protected {
        Protected::with(std::iter::empty())
    }

    /// The built-in protected numbers plus `extra` phone numbers (canonical forms, such as
    /// a bank's hotline the deployment protects too).
    pub fn with<'s>(extra: impl IntoIterator<Item = &'s str>) -> Protected {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let builtin = crate::protected::BUILTIN_PROTECTED.iter().copied();
        for c in builtin.chain(extra) {
            keys.push(Key::new(Kind::Phone, c).into_bytes());
            if let Ok(id) = normalize(Kind::Phone, c) {
                keys.push(id.key().into_bytes());
            }
        }
        keys.sort();
        keys.dedup();
        Protected { keys }
    }

    /// Whether `key` is protected.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.keys
            .binary_search_by(|k| k.as_slice().cmp(key))
            .is_ok()
    }

    /// Whether a prefix rule on `prefix` would cover a protected number.
    pub fn covered_by(&self, prefix: &[u8]) -> bool {
        self.keys.iter().any(|k| k.starts_with(prefix))
    }
}

/// Why a change breaks the rules. Never contains the key itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// The key bytes are not a valid key.
    #[error("malformed key: {0}")]
    Key(#[from] KeyError),
    /// The value does not fit its bit layout.
    #[error("value outside its bit layout: {0}")]
    Value(#[from] ValueError),
    /// A prefix rule on a bank, QQ or Alipay key: prefix rules exist only for phone numbers.
    #[error("prefix rules exist only for phone numbers")]
    PrefixNotPhone,
    /// A phone prefix rule the identifier module refuses: too broad (`+86`, `+861`), or, for
    /// the publisher, not a prefix of any number it could cover.
    #[error("not a legal phone prefix rule: {0}")]
    IllegalPrefix(NormalizeError),
    /// A phone prefix rule that is legal only in another form (the publisher must send the
    /// canonical one).
    #[error("phone prefix rule not in canonical form")]
    PrefixNotCanonical,
    /// The key of an exact entry is not a valid identifier of its kind.
    #[error("not a valid {kind} identifier: {reason}")]
    InvalidIdentifier {
        /// The key's kind.
        kind: Kind,
        /// What the normalizer refused.
        reason: NormalizeError,
    },
    /// The key of an exact entry is a valid identifier written in another form than the
    /// canonical one.
    #[error("{kind} key not in canonical form")]
    NotCanonical {
        /// The key's kind.
        kind: Kind,
    },
    /// The key is a protected number: no release may list it.
    #[error("a protected number cannot be listed")]
    Protected,
    /// The prefix rule covers a protected number.
    #[error("prefix rule covers a protected number")]
    CoversProtected,
}

/// Checks one change against `rules` (see the [module docs](self)).
pub fn check_change(change: &Change, rules: Rules<'_>) -> Result<(), ChangeError> {
    match change {
        Change::Remove(k) => Ok(key::validate(k.as_bytes())?),
        Change::Upsert(k, v) => check_entry(k, v, rules),
    }
}

/// Checks one entry (an upsert, or an entry of a snapshot) against `rules`.
pub fn check_entry(key: &Key, value: &EntryValue, rules: Rules<'_>) -> Result<(), ChangeError> {
    let bytes = key.as_bytes();
    key::validate(bytes)?;
    if EntryValue::unpack(value.pack())? != *value {
        // Unreachable through the typed constructors; kept so a future field cannot slip past.
        return Err(ChangeError::Value(ValueError::ReservedBits {
            value: value.pack(),
        }));
    }
    let canonical = key.canonical();
    if value.prefix {
        if key.kind() != Kind::Phone {
            return Err(ChangeError::PrefixNotPhone);
        }
        check_prefix_breadth(canonical).map_err(ChangeError::IllegalPrefix)?;
    }
    let Rules::Publish { protected } = rules else {
        return Ok(());
    };
    if value.prefix {
        let id = normalize_phone_prefix(canonical).map_err(ChangeError::IllegalPrefix)?;
        if id.canonical() != canonical {
            return Err(ChangeError::PrefixNotCanonical);
        }
    } else {
        let kind = key.kind();
        let id = normalize(kind, canonical)
            .map_err(|reason| ChangeError::InvalidIdentifier { kind, reason })?;
        if id.canonical() != canonical {
            return Err(ChangeError::NotCanonical { kind });
        }
    }
    if key.kind() == Kind::Phone {
        if protected.contains(bytes) {
            return Err(ChangeError::Protected);
        }
        if value.prefix && protected.covered_by(bytes) {
            return Err(ChangeError::CoversProtected);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Category, ReportBucket, Risk};

    fn value(prefix: bool) -> EntryValue {
        EntryValue {
            category: Category::Loan,
            risk: Risk::Medium,
            reports: ReportBucket::from_count(3),
            prefix,
        }
    }

    fn upsert(kind: Kind, c: &str, prefix: bool) -> Change {
        Change::Upsert(Key::new(kind, c), value(prefix))
    }

    #[test]
    fn the_publisher_refuses_what_clients_refuse_and_more() {
        let p = Protected::builtin();
        let publish = Rules::Publish { protected: &p };
        // (change, refused by clients, refused by the publisher)
        let cases: &[(Change, bool, bool)] = &[
            (upsert(Kind::Phone, "+8613800138000", false), false, false),
            (upsert(Kind::Phone, "+86170", true), false, false),
            (
                upsert(Kind::Bank, "6222021234567890123", false),
                false,
                false,
            ),
            (
                upsert(Kind::Alipay, "user@example.com", false),
                false,
                false,
            ),
            (upsert(Kind::Qq, "12345", true), true, true),
            (upsert(Kind::Phone, "+86", true), true, true),
            (upsert(Kind::Phone, "+861", true), true, true),
            (upsert(Kind::Phone, "+8", true), true, true),
            (upsert(Kind::Phone, "170", true), true, true),
            (upsert(Kind::Phone, "961", true), true, true),
            (upsert(Kind::Phone, "+86179", true), false, true),
            (upsert(Kind::Phone, "+860755", true), false, true),
            (upsert(Kind::Phone, "+86 138 0013 8000", false), true, true),
            (upsert(Kind::Phone, "008613800138000", false), false, true),
            (upsert(Kind::Phone, "+86170", false), false, true),
            (upsert(Kind::Alipay, "User@Example.com", false), false, true),
            (upsert(Kind::Qq, "012345", false), false, true),
            (upsert(Kind::Phone, "110", false), false, true),
            (upsert(Kind::Phone, "96110", false), false, true),
            (Change::Remove(Key::new(Kind::Phone, "110")), false, false),
            (
                Change::Remove(Key::new(Kind::Phone, "0086 138")),
                true,
                true,
            ),
        ];
        for (i, (change, apply, publish_refuses)) in cases.iter().enumerate() {
            assert_eq!(
                check_change(change, Rules::Apply).is_err(),
                *apply,
                "case {i} (apply)"
            );
            assert_eq!(
                check_change(change, publish).is_err(),
                *publish_refuses,
                "case {i} (publish)"
            );
        }
        assert_eq!(
            check_change(&upsert(Kind::Qq, "12345", true), Rules::Apply),
            Err(ChangeError::PrefixNotPhone)
        );
        assert!(matches!(
            check_change(&upsert(Kind::Phone, "170", true), Rules::Apply),
            Err(ChangeError::IllegalPrefix(_))
        ));
        assert_eq!(
            check_change(&upsert(Kind::Phone, "+860755", true), publish),
            Err(ChangeError::PrefixNotCanonical)
        );
        assert!(matches!(
            check_change(&upsert(Kind::Phone, "+861", true), Rules::Apply),
            Err(ChangeError::IllegalPrefix(_))
        ));
        assert_eq!(
            check_change(&upsert(Kind::Phone, "110", false), publish),
            Err(ChangeError::Protected)
        );
        assert_eq!(
            check_change(&upsert(Kind::Phone, "008613800138000", false), publish),
            Err(ChangeError::NotCanonical { kind: Kind::Phone })
        );
        // A malformed removal is refused at both levels.
        let bad = Change::Remove(Key::new(Kind::Qq, "0 x"));
        assert!(matches!(
            check_change(&bad, Rules::Apply),
            Err(ChangeError::Key(KeyError::NotAscii { .. }))
        ));
    }

    #[test]
    fn extra_protected_numbers_and_covering_rules() {
        let p = Protected::with(["+8613800000095"]);
        let publish = Rules::Publish { protected: &p };
        assert_eq!(
            check_change(&upsert(Kind::Phone, "+8613800000095", false), publish),
            Err(ChangeError::Protected)
        );
        assert_eq!(
            check_change(&upsert(Kind::Phone, "+86138", true), publish),
            Err(ChangeError::CoversProtected)
        );
        // The same digits as a QQ number are not a phone number.
        assert_eq!(
            check_change(&upsert(Kind::Phone, "+86139", true), publish),
            Ok(())
        );
    }

    #[test]
    fn errors_never_show_the_key() {
        let p = Protected::with(["+8613800000095"]);
        let publish = Rules::Publish { protected: &p };
        for c in [
            upsert(Kind::Phone, "+8613800000095", false),
            upsert(Kind::Phone, "+86 13800000095", false),
            upsert(Kind::Phone, "008613800000095", false),
            upsert(Kind::Qq, "1380000009", true),
        ] {
            let e = check_change(&c, publish).unwrap_err().to_string();
            assert!(!e.contains("138000"), "{e}");
        }
    }
}
