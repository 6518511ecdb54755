//! QQ numbers: 5–12 digits, never starting with `0`.
//!
//! The oldest QQ numbers have 5 digits (10001 is Tencent's own); new ones have 10 or 11.
//!
//! ```
//! use fraudshield_core::identifier::qq;
//! assert_eq!(qq::normalize("8765 4321").unwrap(), "87654321");
//! ```

use super::{NormalizeError, clean_digits};
use crate::kind::Kind;

/// The fewest digits of a QQ number.
pub const MIN_DIGITS: usize = 5;
/// The most digits of a QQ number.
pub const MAX_DIGITS: usize = 12;

/// Normalizes a QQ number to its digits.
///
/// ```
/// use fraudshield_core::identifier::{qq, NormalizeError};
/// use fraudshield_core::kind::Kind;
/// assert_eq!(qq::normalize("０１２３４５"), Err(NormalizeError::LeadingZero { kind: Kind::Qq }));
/// ```
pub fn normalize(raw: &str) -> Result<String, NormalizeError> {
    let (d, _) = clean_digits(Kind::Qq, raw, false, false)?;
    let found = d.digits.len();
    if d.digits.starts_with('0') {
        return Err(NormalizeError::LeadingZero { kind: Kind::Qq });
    }
    if found < MIN_DIGITS {
        return Err(NormalizeError::TooShort {
            kind: Kind::Qq,
            min: MIN_DIGITS,
            found,
        });
    }
    if found > MAX_DIGITS {
        return Err(NormalizeError::TooLong {
            kind: Kind::Qq,
            max: MAX_DIGITS,
            found,
        });
    }
    Ok(d.digits)
}

/// Whether `digits` (ASCII digits only, no separators) is a well-formed QQ number.
///
/// ```
/// use fraudshield_core::identifier::qq::is_plausible;
/// assert!(is_plausible("10001"));
/// assert!(!is_plausible("01234"));
/// assert!(!is_plausible("1234"));
/// ```
pub fn is_plausible(digits: &str) -> bool {
    (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
}
