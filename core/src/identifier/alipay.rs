//! Alipay accounts: a `2088…` user id, a mobile-number login or an e-mail login.
//!
//! | input | canonical |
//! |---|---|
//! | `2088 1234 1234 1234` (user id: `2088` + 12 digits) | `2088123412341234` |
//! | `138-0013-8000`, `+86 138…`, `+63 917…` (mobile login) | the phone canonical form, `+8613800138000` |
//! | ` User@Example.COM ` (e-mail login) | `user@example.com` |
//!
//! A phone-like login must be a mobile number (Chinese or international): landlines, 400/800
//! and short numbers cannot sign in to Alipay ([`NormalizeError::NotAnAlipayAccount`]).
//! E-mail addresses are checked for shape only (one `@`, a sane local part, a dotted host name)
//! and lower-cased, as Alipay treats logins case-insensitively. Only ASCII addresses are
//! accepted; full-width forms (`＠`, `．`) are folded first.
//!
//! ```
//! use fraudshield_core::identifier::alipay;
//! assert_eq!(alipay::normalize("2088 1234 1234 1234").unwrap(), "2088123412341234");
//! assert_eq!(alipay::normalize("138 0013 8000").unwrap(), "+8613800138000");
//! assert_eq!(alipay::normalize("Fraud.Desk@Example.COM").unwrap(), "fraud.desk@example.com");
//! ```

use super::phone::{self, PhoneClass};
use super::{EmailProblem, MAX_INPUT_CHARS, NormalizeError, clean_digits, fold_char, is_separator};
use crate::key::MAX_CANONICAL_LEN;
use crate::kind::Kind;

/// The digits every Alipay user id starts with.
pub const USER_ID_PREFIX: &str = "2088";
/// The number of digits in an Alipay user id.
pub const USER_ID_DIGITS: usize = 16;

/// Normalizes an Alipay account.
///
/// ```
/// use fraudshield_core::identifier::{alipay, NormalizeError};
/// assert_eq!(alipay::normalize("010-88889999"), Err(NormalizeError::NotAnAlipayAccount));
/// ```
pub fn normalize(raw: &str) -> Result<String, NormalizeError> {
    if raw
        .chars()
        .take(MAX_INPUT_CHARS)
        .any(|c| fold_char(c) == '@')
    {
        return normalize_email(raw);
    }
    let (d, _) = clean_digits(Kind::Alipay, raw, true, false)?;
    if !d.plus && d.digits.starts_with(USER_ID_PREFIX) {
        let found = d.digits.len();
        if found < USER_ID_DIGITS {
            return Err(NormalizeError::TooShort {
                kind: Kind::Alipay,
                min: USER_ID_DIGITS,
                found,
            });
        }
        if found > USER_ID_DIGITS {
            return Err(NormalizeError::TooLong {
                kind: Kind::Alipay,
                max: USER_ID_DIGITS,
                found,
            });
        }
        return Ok(d.digits);
    }
    let number = phone::parse_digits(d.plus, &d.digits)?;
    // A login is confirmed by SMS, so its number is always from an allocated range: an
    // unallocated one is a typo, not an account.
    if number.is_unallocated_mobile() {
        return Err(NormalizeError::UnknownMobilePrefix);
    }
    match number.class {
        PhoneClass::Mobile | PhoneClass::International => Ok(number.canonical),
        PhoneClass::Landline | PhoneClass::NonGeographic | PhoneClass::Short => {
            Err(NormalizeError::NotAnAlipayAccount)
        }
    }
}

/// Whether `digits` is an Alipay user id: `2088` followed by 12 ASCII digits.
///
/// ```
/// use fraudshield_core::identifier::alipay::is_user_id;
/// assert!(is_user_id("2088123412341234"));
/// assert!(!is_user_id("2089123412341234"));
/// ```
pub fn is_user_id(digits: &str) -> bool {
    digits.len() == USER_ID_DIGITS
        && digits.starts_with(USER_ID_PREFIX)
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Normalizes an e-mail address: surrounding blanks dropped, full-width forms folded,
/// lower-cased, shape checked.
///
/// ```
/// use fraudshield_core::identifier::{alipay, EmailProblem, NormalizeError};
/// assert_eq!(alipay::normalize_email("ａｂｃ＠ｑｑ．ｃｏｍ").unwrap(), "abc@qq.com");
/// assert_eq!(
///     alipay::normalize_email("abc@qq"),
///     Err(NormalizeError::InvalidEmail { problem: EmailProblem::Domain })
/// );
/// ```
pub fn normalize_email(raw: &str) -> Result<String, NormalizeError> {
    // Spaces and the invisible marks copied along with text; not dots or dashes, which are
    // part of addresses.
    let blank = |c: char| c.is_whitespace() || (is_separator(c) && !c.is_ascii_punctuation());
    let mut out = String::new();
    let mut pending_blank: Option<usize> = None;
    for (position, c) in raw.chars().enumerate() {
        if position >= MAX_INPUT_CHARS {
            return Err(NormalizeError::InputTooLong {
                max_chars: MAX_INPUT_CHARS,
            });
        }
        if blank(c) {
            // Blanks are allowed only around the address, not inside it.
            if !out.is_empty() && pending_blank.is_none() {
                pending_blank = Some(position);
            }
            continue;
        }
        if let Some(p) = pending_blank {
            return Err(NormalizeError::InvalidCharacter { position: p });
        }
        let c = fold_char(c);
        if !c.is_ascii_graphic() {
            return Err(NormalizeError::InvalidCharacter { position });
        }
        out.push(c.to_ascii_lowercase());
    }
    if out.is_empty() {
        return Err(NormalizeError::Empty);
    }
    if out.len() > MAX_CANONICAL_LEN {
        return Err(NormalizeError::InvalidEmail {
            problem: EmailProblem::TooLong,
        });
    }
    let mut parts = out.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NormalizeError::InvalidEmail {
            problem: EmailProblem::AtSign,
        });
    };
    if !local_part_ok(local) {
        return Err(NormalizeError::InvalidEmail {
            problem: EmailProblem::LocalPart,
        });
    }
    if !domain_ok(domain) {
        return Err(NormalizeError::InvalidEmail {
            problem: EmailProblem::Domain,
        });
    }
    Ok(out)
}

fn local_part_ok(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
}

fn domain_ok(domain: &str) -> bool {
    if domain.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.len() >= 2 && !t.bytes().all(|b| b.is_ascii_digit()));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_inside_an_address_are_rejected() {
        assert_eq!(
            normalize_email("ab c@qq.com"),
            Err(NormalizeError::InvalidCharacter { position: 2 })
        );
        assert_eq!(normalize_email("\u{3000}ab@qq.com ").unwrap(), "ab@qq.com");
    }

    #[test]
    fn phone_logins_must_be_mobiles() {
        assert_eq!(normalize("+63 917 123 4567").unwrap(), "+639171234567");
        assert_eq!(normalize("95588"), Err(NormalizeError::NotAnAlipayAccount));
        assert_eq!(
            normalize("400 123 4567"),
            Err(NormalizeError::NotAnAlipayAccount)
        );
    }
}
