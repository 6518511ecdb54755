//! Bank accounts and cards: 12–30 digits.
//!
//! Card numbers (16–19 digits, UnionPay cards start with `62`) and corporate or savings account
//! numbers (12–30 digits, some starting with `0`) share one canonical form: the digits alone.
//! Spaces, dashes and full-width digits are accepted as for phone numbers.
//!
//! The Luhn check digit ([`luhn_valid`]) is a *signal*, not a gate: account numbers do not carry
//! one, and a fraud list must still hold a mistyped card number exactly as reported. The text
//! scanner uses it (with [`is_plausible_card`]) to tell a card number from an order number.
//!
//! ```
//! use fraudshield_core::identifier::bank;
//! assert_eq!(bank::normalize("6222 0212 3456 7890 128").unwrap(), "6222021234567890128");
//! assert!(bank::luhn_valid("6222021234567890128"));
//! ```

use super::{NormalizeError, clean_digits};
use crate::kind::Kind;

/// The fewest digits of a bank account number.
pub const MIN_DIGITS: usize = 12;
/// The most digits of a bank account number.
pub const MAX_DIGITS: usize = 30;

/// Normalizes a bank account or card number to its digits.
///
/// ```
/// use fraudshield_core::identifier::{bank, NormalizeError};
/// use fraudshield_core::kind::Kind;
/// assert_eq!(bank::normalize("0200-0012-0902-4567-890").unwrap(), "0200001209024567890");
/// assert_eq!(
///     bank::normalize("6222 0212"),
///     Err(NormalizeError::TooShort { kind: Kind::Bank, min: 12, found: 8 })
/// );
/// ```
pub fn normalize(raw: &str) -> Result<String, NormalizeError> {
    let (d, _) = clean_digits(Kind::Bank, raw, false, false)?;
    let found = d.digits.len();
    if found < MIN_DIGITS {
        return Err(NormalizeError::TooShort {
            kind: Kind::Bank,
            min: MIN_DIGITS,
            found,
        });
    }
    if found > MAX_DIGITS {
        return Err(NormalizeError::TooLong {
            kind: Kind::Bank,
            max: MAX_DIGITS,
            found,
        });
    }
    Ok(d.digits)
}

/// Whether `digits` passes the Luhn (mod 10) check used by card numbers. `false` for an empty
/// string, a single digit, or anything that is not all ASCII digits.
///
/// ```
/// use fraudshield_core::identifier::bank::luhn_valid;
/// assert!(luhn_valid("4111111111111111"));
/// assert!(!luhn_valid("4111111111111112"));
/// assert!(!luhn_valid("4111 1111 1111 1111")); // digits only
/// ```
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `digits` looks like a payment card number: 16–19 ASCII digits, a first digit used by
/// card networks (`3` JCB/Amex, `4` Visa, `5` Mastercard, `6` UnionPay/Discover), and a valid
/// Luhn check digit. Account numbers that are not cards fail this and may still be real.
///
/// ```
/// use fraudshield_core::identifier::bank::is_plausible_card;
/// assert!(is_plausible_card("6222021234567890128"));
/// assert!(!is_plausible_card("6222021234567890123")); // check digit wrong
/// assert!(!is_plausible_card("2024112212345678"));    // an order number, not a card
/// ```
pub fn is_plausible_card(digits: &str) -> bool {
    (16..=19).contains(&digits.len())
        && matches!(digits.as_bytes().first(), Some(b'3'..=b'6'))
        && luhn_valid(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_values() {
        // Test card numbers published by the card networks.
        for n in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
        ] {
            assert!(luhn_valid(n), "{n}");
        }
        assert!(luhn_valid("18"));
        assert!(!luhn_valid("1"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("81"));
    }

    #[test]
    fn every_single_digit_change_breaks_luhn() {
        let good = "6222021234567890128";
        for i in 0..good.len() {
            for d in b'0'..=b'9' {
                let mut bytes = good.as_bytes().to_vec();
                if bytes[i] == d {
                    continue;
                }
                bytes[i] = d;
                let changed = String::from_utf8(bytes).unwrap();
                assert!(!luhn_valid(&changed), "{changed}");
            }
        }
    }
}
