//! The shape rules: what a run of digits is by its own form, without any context word.
//!
//! Every function here takes the folded ASCII digits of a candidate (separators removed) and
//! answers a yes/no question. None of them allocates or panics.

use crate::identifier::{bank, phone};

/// IP-dial prefixes that Chinese carriers put before a number for cheap long-distance calls.
const IP_DIAL_PREFIXES: [&[u8]; 6] = [b"17951", b"17911", b"12593", b"17909", b"10193", b"17901"];

/// An 11-digit Chinese mobile number from an allocated range ([`phone::is_mobile_prefix`]).
///
/// The normalizer accepts numbers from unallocated ranges too (a spoofed caller id, checked
/// with `check`), but in a message an 11-digit run such as `16012345678` that no phone can
/// have is far more likely an order or tracking number: the scanner does not take it for one.
pub(crate) fn is_mobile(d: &[u8]) -> bool {
    std::str::from_utf8(d).is_ok_and(phone::is_chinese_mobile)
}

/// A Chinese mobile number with a country code (`86…`) or an IP-dial prefix (`17951…`)
/// written without a `+`.
pub(crate) fn is_dressed_mobile(d: &[u8]) -> bool {
    (d.len() == 13 && d.starts_with(b"86") && is_mobile(&d[2..]))
        || (d.len() == 16
            && IP_DIAL_PREFIXES.iter().any(|p| d.starts_with(p))
            && is_mobile(&d[5..]))
}

/// A national 400/800 service line: `400` or `800` and seven more digits.
pub(crate) fn is_service_line(d: &[u8]) -> bool {
    d.len() == 10 && (d.starts_with(b"400") || d.starts_with(b"800"))
}

/// A landline with its trunk `0`: `010`/`02x` and 8 digits, or a 3-digit area code
/// (`0755`) and 7–8 digits.
pub(crate) fn is_landline(d: &[u8]) -> bool {
    if d.len() < 2 || d[0] != b'0' || d[1] == b'0' {
        return false;
    }
    match d[1] {
        b'1' | b'2' => d.len() == 11,
        _ => (11..=12).contains(&d.len()),
    }
}

/// A number written in international form: after `+`, or after the `00` international
/// prefix. Whether the country code exists is the normalizer's question.
pub(crate) fn is_international(d: &[u8], plus: bool) -> bool {
    if plus {
        (7..=15).contains(&d.len())
    } else {
        d.starts_with(b"00") && d.len() > 2 && d[2] != b'0' && (9..=17).contains(&d.len())
    }
}

/// A short or service number that only means "phone" when a phone word comes before it:
/// emergency lines, 95xxx/96xxx service lines and 950 call-centre lines, 12xxx government
/// lines, carrier 100xx/1010xxxx lines and 106 SMS ports — the normalizer's own list
/// ([`phone::is_short_number`]). Bare, such digits are as likely a price or a code.
pub(crate) fn is_short_number(d: &[u8]) -> bool {
    std::str::from_utf8(d).is_ok_and(phone::is_short_number)
}

/// A bank card recognisable without any context: 16–19 digits, issuer prefix `62`
/// (UnionPay), `4` (Visa) or `5` (Mastercard), and a valid Luhn checksum. An 18-digit run that
/// reads as a resident ID number is never taken for a card.
pub(crate) fn is_likely_card(d: &[u8]) -> bool {
    (16..=19).contains(&d.len())
        && (d.starts_with(b"62") || d[0] == b'4' || d[0] == b'5')
        && std::str::from_utf8(d).is_ok_and(bank::luhn_valid)
        && !is_id_card_like(d)
}

/// An Alipay user id: `2088` and twelve more digits.
pub(crate) fn is_alipay_user_id(d: &[u8]) -> bool {
    d.len() == 16 && d.starts_with(b"2088")
}

/// A QQ number: 5–12 digits, no leading zero.
pub(crate) fn is_qq(d: &[u8]) -> bool {
    (5..=12).contains(&d.len()) && d[0] != b'0'
}

/// A bank account length: 12–30 digits.
pub(crate) fn is_bank_length(d: &[u8]) -> bool {
    (12..=30).contains(&d.len())
}

/// An 18-digit mainland resident ID number (its last character may be `X`, which the scanner
/// never includes in a digit run, so 17 digits followed by `X` never get here): a plausible
/// birth date at positions 7–14 and a valid ISO 7064 MOD 11-2 check digit.
pub(crate) fn is_id_card_like(d: &[u8]) -> bool {
    if d.len() != 18 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        d[r].iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
    };
    let year = num(6..10);
    let month = num(10..12);
    let day = num(12..14);
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = d[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(&b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    CHECK[(sum % 11) as usize] == d[17]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_need_a_valid_check_digit() {
        assert!(is_likely_card(b"4111111111111111"));
        assert!(!is_likely_card(b"4111111111111112"));
        assert!(is_likely_card(b"6222021234567890128"));
        assert!(!is_likely_card(b"6222021234567890123"));
    }

    #[test]
    fn id_card_check_digit() {
        // A made-up number with a correct check digit (born 1990-01-01).
        assert!(is_id_card_like(b"110101199001011237"));
        assert!(!is_id_card_like(b"110101199001011238"));
        assert!(!is_id_card_like(b"110101199013011237")); // month 13
    }

    #[test]
    fn phone_shapes() {
        assert!(is_mobile(b"13800138000"));
        assert!(!is_mobile(b"12800138000"));
        assert!(!is_mobile(b"16012345678")); // unallocated: not a phone in a message
        assert!(!is_mobile(b"1380013800a"));
        assert!(is_dressed_mobile(b"8613800138000"));
        assert!(is_dressed_mobile(b"1795113800138000"));
        assert!(is_service_line(b"4001234567"));
        assert!(is_landline(b"01088889999"));
        assert!(is_landline(b"075512345678"));
        assert!(!is_landline(b"0108888999"));
        assert!(!is_landline(b"00861088889999"));
        assert!(is_international(b"639171234567", true));
        assert!(is_international(b"00639171234567", false));
        assert!(is_short_number(b"95588"));
        assert!(is_short_number(b"110"));
        assert!(is_short_number(b"95013123456"));
        assert!(!is_short_number(b"111"));
    }
}
