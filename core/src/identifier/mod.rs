//! Identifiers and their normalization to one canonical form per kind.
//!
//! Everything fraudshield stores or looks up is first turned into an [`Identifier`]: a
//! [`Kind`] and one canonical ASCII string, so that `+86 138-0013-8000`, `0086 13800138000`
//! and `17951 13800138000` are the same entry. The canonical forms are a contract shared by the
//! store, the wire format, the server and the text scanner:
//!
//! | kind | canonical form | rules |
//! |---|---|---|
//! | phone | `+8613800138000`, `+861088889999`, `+864001234567`, `+639171234567` | E.164 with `+`; see [`phone`] |
//! | phone (short and service numbers) | `110`, `95588`, `96110`, `12315`, `10086`, `1069…` | bare digits: they have no E.164 form |
//! | phone prefix rule | `+86170`, `+86755`, `1069` | [`normalize_phone_prefix`] |
//! | bank | `6222021234567890123` | 12–30 digits; see [`bank`] |
//! | qq | `123456789` | 5–12 digits, no leading zero; see [`qq`] |
//! | alipay | `2088123412341234`, `+8613800138000`, `user@example.com` | see [`alipay`] |
//!
//! Normalization accepts what people and phones really write: spaces (also the ideographic
//! space `U+3000`), dashes, dots and brackets as separators, full-width forms (`１３８`, `＋`,
//! `（`, `＠`, typed by Chinese input methods), and the invisible direction marks Android puts
//! around formatted numbers. Everything else is rejected with a [`NormalizeError`] that says
//! what was wrong and where, never what the value was.
//!
//! Three promises, each checked by property tests:
//! - no input panics;
//! - normalizing a canonical form returns it unchanged (idempotence);
//! - every canonical form is a valid [`Key`] (`Key::from_bytes` accepts it).
//!
//! ```
//! use fraudshield_core::identifier::{normalize, NormalizeError};
//! use fraudshield_core::kind::Kind;
//!
//! let id = normalize(Kind::Phone, "(0755) 1234-5678").unwrap();
//! assert_eq!(id.canonical(), "+8675512345678");
//! assert_eq!(id.key().as_bytes(), b"\x01+8675512345678");
//!
//! // Errors say what was wrong, not the value.
//! let err = normalize(Kind::Qq, "012345").unwrap_err();
//! assert_eq!(err, NormalizeError::LeadingZero { kind: Kind::Qq });
//! ```

pub mod alipay;
pub mod bank;
pub mod phone;
pub mod qq;

use crate::key::Key;
use crate::kind::Kind;

/// The longest input, in characters, that normalization reads. Longer input is rejected with
/// [`NormalizeError::InputTooLong`] after reading at most this many characters, so hostile
/// input cannot cost more than a few hundred character steps.
pub const MAX_INPUT_CHARS: usize = 320;

/// A normalized identifier: a kind and its canonical ASCII form.
///
/// The only way to get one is through normalization, so holding an `Identifier` proves the
/// value is canonical. Its `Debug` output hides the canonical form (identifiers are personal
/// data).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier {
    kind: Kind,
    canonical: String,
}

impl Identifier {
    /// Wraps a canonical form produced by one of the normalizers of this module.
    fn new(kind: Kind, canonical: String) -> Identifier {
        debug_assert!(crate::key::validate(Key::new(kind, &canonical).as_bytes()).is_ok());
        Identifier { kind, canonical }
    }

    /// The kind of this identifier.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The canonical form, e.g. `+8613800138000`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The blocklist key of this identifier (kind tag + canonical form).
    ///
    /// ```
    /// use fraudshield_core::{identifier::normalize, kind::Kind};
    /// let id = normalize(Kind::Qq, "10001").unwrap();
    /// assert_eq!(id.key().as_bytes(), b"\x0310001");
    /// ```
    pub fn key(&self) -> Key {
        Key::new(self.kind, &self.canonical)
    }

    /// Consumes the identifier and returns its canonical form.
    pub fn into_canonical(self) -> String {
        self.canonical
    }
}

impl std::fmt::Debug for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Identifier({}, {} chars)",
            self.kind,
            self.canonical.len()
        )
    }
}

/// What is wrong with an e-mail address given as an Alipay login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailProblem {
    /// No `@`, or more than one.
    AtSign,
    /// Nothing before the `@`, more than 64 characters, or a misplaced dot.
    LocalPart,
    /// The domain is not a dotted name of letters, digits and inner hyphens ending in a
    /// top-level domain of at least two characters that is not all digits.
    Domain,
    /// More than 254 characters in all.
    TooLong,
}

impl std::fmt::Display for EmailProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EmailProblem::AtSign => "it needs exactly one '@'",
            EmailProblem::LocalPart => {
                "the part before '@' is empty, too long or has a misplaced dot"
            }
            EmailProblem::Domain => "the domain is not a valid host name",
            EmailProblem::TooLong => "longer than 254 characters",
        })
    }
}

/// Why a string is not a valid identifier of the requested kind.
///
/// Messages never contain the input itself (it is personal data): they name the problem and,
/// where it helps, a position or a count. Positions count Unicode characters from zero.
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
    /// A `+` that is not the first non-separator character.
    #[error("'+' is only allowed at the start (found at position {position})")]
    MisplacedPlus {
        /// Zero-based character position in the input.
        position: usize,
    },
    /// Too few digits.
    #[error("too short for a {kind} identifier: {found} digits, at least {min} expected")]
    TooShort {
        /// The requested kind.
        kind: Kind,
        /// The minimum for the format recognised so far.
        min: usize,
        /// How many digits the input has.
        found: usize,
    },
    /// Too many digits.
    #[error("too long for a {kind} identifier: {found} digits, at most {max} expected")]
    TooLong {
        /// The requested kind.
        kind: Kind,
        /// The maximum for the format recognised so far.
        max: usize,
        /// How many digits were found (on very long input, counting stops at 41: more
        /// digits than any identifier has).
        found: usize,
    },
    /// The input has more than [`MAX_INPUT_CHARS`] characters: no identifier is that long,
    /// even with separators.
    #[error("input longer than {max_chars} characters")]
    InputTooLong {
        /// The limit, [`MAX_INPUT_CHARS`].
        max_chars: usize,
    },
    /// A QQ number (or other kind that forbids it) starting with `0`.
    #[error("a {kind} identifier cannot start with 0")]
    LeadingZero {
        /// The requested kind.
        kind: Kind,
    },
    /// Eleven digits starting with `10`, `11` or `12`, which no Chinese mobile range does; a
    /// prefix rule over a mobile range that is not allocated (see
    /// [`phone::is_mobile_prefix`]); or an Alipay login from such a range. A whole phone
    /// number from an unallocated `1[3-9]` range is *not* an error: see
    /// [`phone::PhoneNumber::is_unallocated_mobile`].
    #[error("not an allocated Chinese mobile number prefix")]
    UnknownMobilePrefix,
    /// After the trunk `0` (or `+86`), the digits do not start with a Chinese area code.
    #[error("not a Chinese area code")]
    UnknownAreaCode,
    /// A landline whose local number starts with `0`.
    #[error("a local landline number cannot start with 0")]
    InvalidLocalNumber,
    /// A bare 7–8 digit local landline number: without its area code it names a different line
    /// in every city, so it cannot be stored or looked up.
    #[error("local number without area code: {found} digits, add the area code with its 0")]
    MissingAreaCode {
        /// How many digits the input has.
        found: usize,
    },
    /// An international number with two zeros after its country code: one trunk `0` is
    /// dropped, but no national number starts with another.
    #[error("the number after the country code starts with 00")]
    DoubleTrunkZero,
    /// An international number whose country code is not assigned by the ITU.
    #[error("not an assigned international country code")]
    InvalidCountryCode,
    /// Digits that fit no Chinese format (mobile, landline with trunk 0, 400/800, short or
    /// service number) and carry no international prefix.
    #[error(
        "not a Chinese mobile, landline, 400/800, service or short number ({found} digits); \
         international numbers need + or 00"
    )]
    UnrecognizedNumber {
        /// How many digits the input has.
        found: usize,
    },
    /// An Alipay login given as a phone number that is not a mobile number (Alipay logins are
    /// mobile numbers, `2088…` user ids or e-mail addresses).
    #[error("an alipay account is a mobile number, a 2088… user id or an e-mail address")]
    NotAnAlipayAccount,
    /// An e-mail address that is not well formed.
    #[error("invalid e-mail address: {problem}")]
    InvalidEmail {
        /// What is wrong with it.
        problem: EmailProblem,
    },
    /// A prefix rule that is too vague to be safe (for example a bare `1`) or whose form is
    /// not one of those [`normalize_phone_prefix`] accepts.
    #[error("not a phone prefix rule: {reason}")]
    InvalidPrefix {
        /// What was wrong.
        reason: &'static str,
    },
}

/// Normalizes `raw` as an identifier of `kind`.
///
/// See the [module docs](self) for the canonical forms and the submodules for each kind's
/// rules.
///
/// ```
/// use fraudshield_core::identifier::normalize;
/// use fraudshield_core::kind::Kind;
///
/// let phone = |raw| normalize(Kind::Phone, raw).map(|id| id.into_canonical());
/// assert_eq!(phone("+86 138-0013-8000").unwrap(), "+8613800138000");
/// assert_eq!(phone("17951 138 0013 8000").unwrap(), "+8613800138000");
/// assert_eq!(phone("０１０－８８８８９９９９").unwrap(), "+861088889999");
/// assert_eq!(phone("400-123-4567").unwrap(), "+864001234567");
/// assert_eq!(phone("95588").unwrap(), "95588");
/// assert_eq!(phone("0063 917 123 4567").unwrap(), "+639171234567");
///
/// let bank = normalize(Kind::Bank, "6222 0212 3456 7890 123").unwrap();
/// assert_eq!(bank.canonical(), "6222021234567890123");
///
/// let alipay = normalize(Kind::Alipay, " User@Example.COM ").unwrap();
/// assert_eq!(alipay.canonical(), "user@example.com");
///
/// assert!(normalize(Kind::Phone, "88889999").is_err()); // no area code
/// ```
pub fn normalize(kind: Kind, raw: &str) -> Result<Identifier, NormalizeError> {
    let canonical = match kind {
        Kind::Phone => phone::normalize(raw)?.canonical,
        Kind::Bank => bank::normalize(raw)?,
        Kind::Qq => qq::normalize(raw)?,
        Kind::Alipay => alipay::normalize(raw)?,
    };
    Ok(Identifier::new(kind, canonical))
}

/// Normalizes a phone-number prefix rule such as `+86 170*` (a whole virtual-operator range).
///
/// The result is stored with `EntryValue.prefix = true`: it flags every phone key that starts
/// with it. Accepted forms (a trailing run of wildcards — `*`, `x`, `X`, as in `170*` or
/// `170xxxxxxxx` — is allowed and dropped; separators and full-width forms as for numbers):
///
/// | input | canonical | meaning |
/// |---|---|---|
/// | `+86 170`, `+86170*`, `0086 170`, `86170` | `+86170` | international form; at least 2 digits after `+` |
/// | `+86 0755` | `+86755` | a trunk `0` after `+86` is dropped |
/// | `170`, `1700` | `+86170`, `+861700` | bare Chinese mobile prefix: 3+ digits, allocated range |
/// | `0755`, `010 6` | `+86755`, `+86106` | bare area code with its trunk `0` (3+ digits with the `0`) |
/// | `400`, `4001` | `+86400`, `+864001` | 400/800 ranges (3+ digits) |
/// | `106`, `1069 0` | `106`, `10690` | SMS port ranges stay bare like the ports themselves |
/// | `+63 917`, `+44 (0)20` | `+63917`, `+4420` | international: an assigned country code; a trunk `0` after it is dropped as for numbers |
///
/// Rejected: fewer than 2 digits after `+`, and fewer than 2 after `+86` (`+86` or `+861`
/// alone would flag every Chinese number or every mobile), bare prefixes of other short numbers, bare local
/// number prefixes without area code, IP-dial prefixes, and anything longer than a full number.
///
/// ```
/// use fraudshield_core::identifier::normalize_phone_prefix;
/// let p = |raw| normalize_phone_prefix(raw).map(|id| id.into_canonical());
/// assert_eq!(p("+86 170*").unwrap(), "+86170");
/// assert_eq!(p("0086170").unwrap(), "+86170");
/// assert_eq!(p("170").unwrap(), "+86170");
/// assert_eq!(p("0755").unwrap(), "+86755");
/// assert!(p("+8").is_err());
/// ```
pub fn normalize_phone_prefix(raw: &str) -> Result<Identifier, NormalizeError> {
    Ok(Identifier::new(Kind::Phone, phone::normalize_prefix(raw)?))
}

/// Folds one character to the ASCII character it stands for in an identifier, if any.
///
/// Full-width forms (`U+FF01..=U+FF5E`, as typed by Chinese input methods) become their ASCII
/// counterparts and the ideographic space becomes a space; other characters are returned
/// unchanged. The text scanner uses this so it sees `１３８` like `138`.
///
/// ```
/// use fraudshield_core::identifier::fold_char;
/// assert_eq!(fold_char('８'), '8');
/// assert_eq!(fold_char('＋'), '+');
/// assert_eq!(fold_char('\u{3000}'), ' ');
/// assert_eq!(fold_char('号'), '号');
/// ```
pub fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Whether `c` (after [`fold_char`]) is a separator that normalization skips inside numbers:
/// spaces, dashes, dots, round and square brackets, and invisible formatting marks.
///
/// ```
/// use fraudshield_core::identifier::{fold_char, is_separator};
/// assert!(is_separator(fold_char('（')));
/// assert!(is_separator('-'));
/// assert!(is_separator('\u{202A}')); // left-to-right embedding, added by Android
/// assert!(!is_separator('/'));
/// ```
pub fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\u{00A0}'
            | '\u{2000}'..='\u{200F}'
            | '\u{202A}'..='\u{202F}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '-'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '.'
            | '\u{00B7}'
            | '('
            | ')'
            | '['
            | ']'
    )
}

/// The digits of a numeric identifier, with an optional leading `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digits {
    /// A `+` came before the first digit.
    pub plus: bool,
    /// ASCII digits only, at most [`MAX_DIGITS`].
    pub digits: String,
}

/// More digits than any identifier has; inputs with more are rejected while cleaning.
pub(crate) const MAX_DIGITS: usize = 40;

/// The most digits any accepted identifier of `kind` has, for errors on very long input.
fn most_digits(kind: Kind) -> usize {
    match kind {
        // An IP-dial prefix, `00` and a 15-digit E.164 number; 106 SMS ports have at most 20.
        Kind::Phone => 5 + 2 + phone::E164_MAX_DIGITS,
        Kind::Bank => bank::MAX_DIGITS,
        Kind::Qq => qq::MAX_DIGITS,
        Kind::Alipay => alipay::USER_ID_DIGITS,
    }
}

/// Strips separators and folds full-width forms; keeps digits and (if `allow_plus`) one
/// leading `+`. `allow_trailing_star`: a run of wildcards (`*`, `x`, `X`) may end the input
/// (prefix rules such as `+86 170*` or `170xxxxxxxx`); whether one was seen is returned.
pub(crate) fn clean_digits(
    kind: Kind,
    raw: &str,
    allow_plus: bool,
    allow_trailing_star: bool,
) -> Result<(Digits, bool), NormalizeError> {
    let mut digits = String::new();
    let mut plus = false;
    let mut star = false;
    let mut seen_any = false;
    for (position, c) in raw.chars().enumerate() {
        if position >= MAX_INPUT_CHARS {
            return Err(NormalizeError::InputTooLong {
                max_chars: MAX_INPUT_CHARS,
            });
        }
        let c = fold_char(c);
        if is_separator(c) {
            continue;
        }
        let wildcard = matches!(c, '*' | 'x' | 'X');
        if star && !wildcard {
            // Only wildcards and separators may follow the first wildcard of a prefix rule.
            return Err(NormalizeError::InvalidCharacter { position });
        }
        match c {
            '0'..='9' => {
                if digits.len() >= MAX_DIGITS {
                    return Err(NormalizeError::TooLong {
                        kind,
                        max: most_digits(kind),
                        found: digits.len() + 1,
                    });
                }
                digits.push(c);
            }
            '+' if allow_plus && !seen_any => plus = true,
            '+' if allow_plus => return Err(NormalizeError::MisplacedPlus { position }),
            '*' | 'x' | 'X' if allow_trailing_star && !digits.is_empty() => star = true,
            _ => return Err(NormalizeError::InvalidCharacter { position }),
        }
        seen_any = true;
    }
    if digits.is_empty() {
        return Err(if plus || star {
            NormalizeError::TooShort {
                kind,
                min: 1,
                found: 0,
            }
        } else {
            NormalizeError::Empty
        });
    }
    Ok((Digits { plus, digits }, star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_digits_folds_and_skips_separators() {
        let (d, star) = clean_digits(Kind::Phone, "＋８６ (138)-0013.8000", true, false).unwrap();
        assert!(d.plus);
        assert!(!star);
        assert_eq!(d.digits, "8613800138000");
    }

    #[test]
    fn clean_digits_reports_positions() {
        assert_eq!(
            clean_digits(Kind::Bank, "12a4", false, false),
            Err(NormalizeError::InvalidCharacter { position: 2 })
        );
        assert_eq!(
            clean_digits(Kind::Phone, "12+4", true, false),
            Err(NormalizeError::MisplacedPlus { position: 2 })
        );
        assert_eq!(
            clean_digits(Kind::Bank, "+124", false, false),
            Err(NormalizeError::InvalidCharacter { position: 0 })
        );
        assert_eq!(
            clean_digits(Kind::Phone, " - ", true, false),
            Err(NormalizeError::Empty)
        );
        assert_eq!(
            clean_digits(Kind::Phone, "17*0", true, true),
            Err(NormalizeError::InvalidCharacter { position: 3 })
        );
        assert_eq!(
            clean_digits(Kind::Phone, "17x", true, false),
            Err(NormalizeError::InvalidCharacter { position: 2 })
        );
        let (d, star) = clean_digits(Kind::Phone, "170 x*X", true, true).unwrap();
        assert_eq!((d.digits.as_str(), star), ("170", true));
    }

    #[test]
    fn clean_digits_bounds_work_on_long_input() {
        let long = "1".repeat(300);
        assert_eq!(
            clean_digits(Kind::Bank, &long, false, false),
            Err(NormalizeError::TooLong {
                kind: Kind::Bank,
                max: bank::MAX_DIGITS,
                found: MAX_DIGITS + 1
            })
        );
        assert_eq!(
            normalize(Kind::Phone, &"1".repeat(10_000)),
            Err(NormalizeError::TooLong {
                kind: Kind::Phone,
                max: 22,
                found: 41
            })
        );
        let spaces = " ".repeat(10_000);
        assert_eq!(
            clean_digits(Kind::Bank, &spaces, false, false),
            Err(NormalizeError::InputTooLong {
                max_chars: MAX_INPUT_CHARS
            })
        );
    }

    #[test]
    fn errors_never_contain_the_input() {
        let raw = "13800138000x";
        let e = normalize(Kind::Phone, raw).unwrap_err();
        assert!(!e.to_string().contains("138"), "{e}");
    }

    #[test]
    fn debug_hides_the_identifier() {
        let id = normalize(Kind::Phone, "13800138000").unwrap();
        assert!(!format!("{id:?}").contains("138"));
    }
}
