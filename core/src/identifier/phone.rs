//! Phone numbers: Chinese mobiles, landlines, 400/800 lines, short and service numbers, and
//! international numbers, each to one canonical form.
//!
//! # Canonical forms
//! | class ([`PhoneClass`]) | examples of input | canonical |
//! |---|---|---|
//! | mobile | `+86 138-0013-8000`, `0086…`, `86138…`, `17951 138…`, `0138…` | `+8613800138000` |
//! | landline | `010-88889999`, `(0755)12345678`, `+86 10 8888 9999`, `+86 (0)10…` | `+861088889999` |
//! | 400/800 | `400-123-4567`, `+86 800 123 4567` | `+864001234567` |
//! | short/service | `110`, `95588`, `96110`, `12315`, `10086`, `1069…`, `+86 95588` | bare digits `95588` |
//! | international | `+63 917 123 4567`, `0063…`, `17951 0063…` | `+639171234567` |
//!
//! Short and service numbers are dialable only inside China and have no E.164 form, so they
//! stay bare; every other canonical form starts with `+`, so the two never collide.
//!
//! # How a number is read
//! Separators (spaces, dashes, dots, brackets, invisible direction marks) are skipped and
//! full-width forms folded ([`super::fold_char`]). Then, on the digits:
//! 1. A leading `+`, or `00` (the international prefix dialled from China), starts an
//!    international number; a `0` right after the country code (`+44 (0)20 …`,
//!    `+44 020 …`) is the national trunk prefix, not dialled from abroad, and is dropped — except
//!    for the countries whose numbers keep it ([`KEEPS_LEADING_ZERO`]: Italy and others). If
//!    its country code is 86 the rest is read as a Chinese national
//!    number (a trunk `0` after it, as in `+86 (0)10 …`, is dropped; caller-ID strings such as
//!    `+86 95588` or `+86 10086` are short numbers). Any other country code must be assigned
//!    by the ITU, and the whole number has at most 15 digits (E.164) and at least 7.
//! 2. An IP-dial prefix ([`IP_DIAL_PREFIXES`]: `17951`, `17911`, `12593`, `17909`, `10193`,
//!    `17901`, dialled before a long-distance call to make it cheaper) followed by a mobile
//!    number or by a `0`-led number is dropped.
//! 3. A leading `0` is the trunk prefix: an area code follows — 2 digits (`10`, `20`–`29`)
//!    with an 8-digit local number, or 3 digits (`3xx`–`9xx`) with a 7- or 8-digit local number
//!    — or a mobile number (landline caller ID shows out-of-town mobiles as `0138…`).
//! 4. Otherwise the number is national and bare: a short or service number
//!    ([`is_short_number`]), `86` followed by a national number (12 digits or more in all, so
//!    `8695588` stays a local number), an 11-digit mobile (`1[3-9]…`), or a 10-digit 400/800
//!    number. A mobile number from a range that is not allocated ([`is_mobile_prefix`]:
//!    `143…`, `160…`, `194…`) is accepted as what it is, a well-formed number that cannot
//!    exist: lookups report it ([`PhoneNumber::is_unallocated_mobile`]) because a spoofed
//!    caller id often comes from such a range. Only `10`–`12` followed by 9 digits is refused
//!    ([`NormalizeError::UnknownMobilePrefix`]): no mobile range starts so. A bare 7–8 digit local number is
//!    rejected ([`NormalizeError::MissingAreaCode`]): it means a different line in every city.
//!    So is an area code written without its trunk `0` (`755 1234 5678`).
//!
//! Landline area codes are checked by shape (`10`, `2x`, `3xx`–`9xx`), not against the list of
//! allocated codes; mobile prefixes by their first three digits, not the finer blocks.
//!
//! One real ambiguity is settled by length: after `+86`, `10` followed by exactly 8 digits is
//! a Beijing landline (`+86 10 6912 3456`), whereas other lengths starting `106` are SMS ports.
//! A bare `1069123456` (no `0`, no `+86`) is an SMS port.
//!
//! # Why hand-written rules and not the `phonenumber` crate
//! We measured `phonenumber` 0.3.10 (libphonenumber metadata 9.0.33, parsing with region CN)
//! against these rules on the 236 phone cases of `core/testdata/identifiers.tsv`, in a scratch
//! crate (x86_64, release builds, shared 2-core machine):
//!
//! | | these rules | `phonenumber` |
//! |---|---|---|
//! | cases right | 236 / 236 (they are our own tests) | 172 / 236; 177 after our full-width folding |
//! | short and service numbers (110, 95588, 1069…, `+86 95588`) | 47 / 47 | 12 / 47: none of the 34 valid ones (it has no bare form for them) |
//! | size of a stripped `opt-level="z"` LTO binary | +11 KiB over an empty one (21 KiB with all four kinds and prefix rules) | +2.3 MiB more (regex engine and metadata) |
//! | time per number (parse, validate, E.164 string) | 0.2–0.4 µs | 6–12 µs (0.45–1 ms through its own E.164 formatter) |
//! | first call in a process | 2 µs | 160–335 ms (metadata load) |
//!
//! It does handle `0086`, `86` without `+`, `0`-led mobiles and most IP-dial prefixes (not
//! 10193), and it validates ranges more finely. But it also accepts what a blocklist must
//! refuse (`138-0013-800O` becomes `…8006` by vanity-letter mapping; `tel:`, `#`, `,`, `/`
//! are skipped; wrong-length landlines and local numbers starting with 0 pass), and its size
//! alone exceeds uniffi, SQLite, fst and ring together (1.5 MiB in the project's mobile
//! baseline). It also reads 950 and 1010 lines as `+86…` numbers where our contract keeps the
//! service-number family bare. International numbers here are checked
//! only for an assigned country code and the E.164 length, which is what a blocklist needs.
//!
//! ```
//! use fraudshield_core::identifier::phone::{self, PhoneClass};
//! let n = phone::normalize("０７５５－１２３４５６７８").unwrap();
//! assert_eq!(n.canonical, "+8675512345678");
//! assert_eq!(n.class, PhoneClass::Landline);
//! ```

use super::{NormalizeError, clean_digits};
use crate::kind::Kind;

/// The IP-dial prefixes of Chinese carriers, dialled before a long-distance number (a mobile,
/// or a `0`-led landline or international number). Normalization drops them.
///
/// 17951 (China Mobile), 17911 (China Unicom), 12593 (China Mobile), 17909 (China Telecom),
/// 10193 (China Unicom), 17901 (China Telecom).
pub const IP_DIAL_PREFIXES: [&str; 6] = ["17951", "17911", "12593", "17909", "10193", "17901"];

/// The emergency and special 3-digit numbers fraudshield recognises as short numbers:
/// 110 police, 112 emergency (GSM), 114 directory, 119 fire, 120 ambulance, 122 traffic police.
pub const THREE_DIGIT_NUMBERS: [&str; 6] = ["110", "112", "114", "119", "120", "122"];

/// The most digits in an E.164 number (country code included).
pub const E164_MAX_DIGITS: usize = 15;

/// The fewest digits fraudshield accepts for an international number (country code included):
/// the smallest numbering plans (Niue, Tokelau) have 4-digit numbers behind a 3-digit code.
pub const INTERNATIONAL_MIN_DIGITS: usize = 7;

/// What kind of phone number a canonical form is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneClass {
    /// A Chinese mobile number (`+86` + 11 digits starting `1`).
    Mobile,
    /// A Chinese landline (`+86` + area code + local number).
    Landline,
    /// A Chinese 400 or 800 number (`+86` + 10 digits).
    NonGeographic,
    /// A Chinese short or service number, stored bare (`110`, `95588`, `1069…`).
    Short,
    /// A number outside China (`+` + country code + number).
    International,
}

/// A normalized phone number and its class.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// The canonical form, as stored in keys.
    pub canonical: String,
    /// What kind of number it is.
    pub class: PhoneClass,
}

impl PhoneNumber {
    /// Whether this is a Chinese mobile number from a range the MIIT has not allocated
    /// (`+86 143…`, `160…`, `194…`; see [`is_mobile_prefix`]): a caller id that cannot exist,
    /// a classic sign of a spoofed fraud call. Such numbers are valid identifiers (their
    /// canonical form is unambiguous, and police lists hold them); the verdict of a lookup
    /// that finds nothing else says the range is unallocated.
    ///
    /// ```
    /// use fraudshield_core::identifier::phone::{normalize, PhoneClass};
    /// let n = normalize("143 1234 5678").unwrap();
    /// assert_eq!((n.canonical.as_str(), n.class), ("+8614312345678", PhoneClass::Mobile));
    /// assert!(n.is_unallocated_mobile());
    /// assert!(!normalize("138 0013 8000").unwrap().is_unallocated_mobile());
    /// ```
    pub fn is_unallocated_mobile(&self) -> bool {
        self.class == PhoneClass::Mobile && is_unallocated_mobile(&self.canonical)
    }
}

/// Whether a canonical phone form is a Chinese mobile number (`+86` and 11 digits starting
/// `1[3-9]`) from a range that is not allocated ([`is_mobile_prefix`] is false). Reads the
/// canonical form only, so a lookup can ask it of a key without normalizing again.
///
/// ```
/// use fraudshield_core::identifier::phone::is_unallocated_mobile;
/// assert!(is_unallocated_mobile("+8616012345678"));
/// assert!(!is_unallocated_mobile("+8613800138000")); // allocated
/// assert!(!is_unallocated_mobile("+861088889999"));  // a Beijing landline
/// assert!(!is_unallocated_mobile("12345"));          // a service number
/// ```
pub fn is_unallocated_mobile(canonical: &str) -> bool {
    canonical.len() == 14
        && canonical.strip_prefix("+86").is_some_and(|nsn| {
            nsn.bytes().all(|b| b.is_ascii_digit())
                && has_mobile_shape(nsn)
                && !is_mobile_prefix(nsn)
        })
}

/// `1[3-9]`: the shape of every Chinese mobile number, allocated or not. `10`–`12` never are
/// (Beijing's area code, carrier and service lines).
fn has_mobile_shape(nsn: &str) -> bool {
    matches!(nsn.as_bytes(), [b'1', b'3'..=b'9', ..])
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PhoneNumber({:?}, {} chars)",
            self.class,
            self.canonical.len()
        )
    }
}

/// Normalizes a phone number and tells what class of number it is.
///
/// [`super::normalize`] with [`Kind::Phone`] returns the same canonical form.
///
/// ```
/// use fraudshield_core::identifier::phone::{normalize, PhoneClass};
/// let n = normalize("+86 95588").unwrap(); // how phones show a bank's SMS sender
/// assert_eq!((n.canonical.as_str(), n.class), ("95588", PhoneClass::Short));
/// let n = normalize("17951-0755-1234 5678").unwrap();
/// assert_eq!((n.canonical.as_str(), n.class), ("+8675512345678", PhoneClass::Landline));
/// ```
pub fn normalize(raw: &str) -> Result<PhoneNumber, NormalizeError> {
    let (d, _) = clean_digits(Kind::Phone, raw, true, false)?;
    parse_digits(d.plus, &d.digits)
}

/// Reads a cleaned digit string (ASCII digits, `plus` if a `+` preceded them).
pub(crate) fn parse_digits(plus: bool, digits: &str) -> Result<PhoneNumber, NormalizeError> {
    let total = digits.len();
    if plus {
        return international(digits, 0, total);
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return international(rest, 2, total);
    }
    if let Some(rest) = strip_ip_dial_prefix(digits) {
        let offset = total - rest.len();
        if let Some(intl) = rest.strip_prefix("00") {
            return international(intl, offset + 2, total);
        }
        if let Some(national) = rest.strip_prefix('0') {
            return chinese(national, offset + 1, total, true);
        }
        return mobile(rest, offset, total);
    }
    if let Some(national) = digits.strip_prefix('0') {
        return chinese(national, 1, total, true);
    }
    bare(digits, total)
}

/// `rest` followed `+` or `00`: a country code, then the number.
fn international(rest: &str, offset: usize, total: usize) -> Result<PhoneNumber, NormalizeError> {
    if let Some(national) = rest.strip_prefix("86") {
        // `+86 0755…` and `+86 (0)10…`: people keep the trunk 0 after the country code.
        return match national.strip_prefix('0') {
            Some(n) if !n.starts_with('0') => chinese(n, offset + 3, total, true),
            _ => chinese(national, offset + 2, total, false),
        };
    }
    if rest.starts_with('0') {
        return Err(NormalizeError::InvalidCountryCode);
    }
    let Some(cc) = country_code_len(rest) else {
        return Err(if rest.len() < 3 {
            NormalizeError::TooShort {
                kind: Kind::Phone,
                min: offset + INTERNATIONAL_MIN_DIGITS,
                found: total,
            }
        } else {
            NormalizeError::InvalidCountryCode
        });
    };
    let (code, national) = rest.split_at(cc);
    let (national, offset) = match national.strip_prefix('0') {
        Some(n) if !KEEPS_LEADING_ZERO.contains(&code) => (n, offset + 1),
        _ => (national, offset),
    };
    if national.starts_with('0') && !KEEPS_LEADING_ZERO.contains(&code) {
        return Err(NormalizeError::DoubleTrunkZero);
    }
    let digits = cc + national.len();
    if digits < INTERNATIONAL_MIN_DIGITS {
        return Err(NormalizeError::TooShort {
            kind: Kind::Phone,
            min: offset + INTERNATIONAL_MIN_DIGITS,
            found: total,
        });
    }
    if digits > E164_MAX_DIGITS {
        return Err(NormalizeError::TooLong {
            kind: Kind::Phone,
            max: offset + E164_MAX_DIGITS,
            found: total,
        });
    }
    Ok(PhoneNumber {
        canonical: format!("+{code}{national}"),
        class: PhoneClass::International,
    })
}

/// Country codes whose E.164 numbers may start with `0` after the code, so a `0` there is kept:
/// Italy (39), the Vatican (379), San Marino (378), Côte d'Ivoire (225), Gabon (241) and the
/// Republic of the Congo (242). Everywhere else a `0` after the country code is the national
/// trunk prefix written by habit (`+44 (0)20 …`) and is dropped.
pub const KEEPS_LEADING_ZERO: [&str; 6] = ["39", "379", "378", "225", "241", "242"];

/// A Chinese national number (after `+86`, `0086`, `86` or the trunk `0`). `after_trunk`: the
/// number was dialled with a trunk `0`, so short numbers are excluded (nobody dials `095588`).
fn chinese(
    nsn: &str,
    offset: usize,
    total: usize,
    after_trunk: bool,
) -> Result<PhoneNumber, NormalizeError> {
    let Some(first) = nsn.bytes().next() else {
        return Err(NormalizeError::TooShort {
            kind: Kind::Phone,
            // After a trunk 0: a 3-digit area code and 7 digits at least; after +86: 110.
            min: offset + if after_trunk { 10 } else { 3 },
            found: total,
        });
    };
    match first {
        b'1' if nsn.starts_with("10") => {
            // Beijing's area code 10 shares its first digits with 100xx carrier lines and
            // 106 SMS ports: exactly 8 digits after `10` make a Beijing landline.
            if !after_trunk && nsn.len() != 10 && is_short_number(nsn) {
                return Ok(short(nsn));
            }
            landline(nsn, 2, offset, total)
        }
        b'1' => {
            if !after_trunk && is_short_number(nsn) {
                return Ok(short(nsn));
            }
            // No area code starts with 1 but Beijing's 10, so after a trunk 0 this is a
            // mobile: allocated, or a whole 11-digit number from an unallocated range.
            if after_trunk
                && nsn.len() >= 3
                && !is_mobile_prefix(nsn)
                && !(nsn.len() == 11 && has_mobile_shape(nsn))
            {
                return Err(NormalizeError::UnknownAreaCode);
            }
            mobile(nsn, offset, total)
        }
        b'0' => Err(NormalizeError::UnknownAreaCode),
        b'2' => landline(nsn, 2, offset, total),
        b'4' | b'8' if nsn.starts_with("400") || nsn.starts_with("800") => {
            non_geographic(nsn, offset, total)
        }
        b'9' if !after_trunk && is_short_number(nsn) => Ok(short(nsn)),
        // There is no area code 950: `+86 950…` is the service-line family, so `0950…` must
        // not become a landline whose canonical form would read back as a service line.
        b'9' if nsn.starts_with("950") => Err(NormalizeError::UnknownAreaCode),
        _ => landline(nsn, 3, offset, total),
    }
}

/// A national number without `+`, `00`, IP-dial prefix or trunk `0`.
fn bare(digits: &str, total: usize) -> Result<PhoneNumber, NormalizeError> {
    if is_short_number(digits) {
        return Ok(short(digits));
    }
    if total < 3 {
        return Err(NormalizeError::TooShort {
            kind: Kind::Phone,
            min: 3,
            found: total,
        });
    }
    if let Some(national) = digits.strip_prefix("86")
        && total >= 12
    {
        // `86` without `+`, as some caller-ID strings and contact lists write it.
        return chinese(national, 2, total, false);
    }
    if digits.starts_with('1') {
        return mobile(digits, 0, total);
    }
    if digits.starts_with("400") || digits.starts_with("800") {
        return non_geographic(digits, 0, total);
    }
    if (7..=8).contains(&total) {
        return Err(NormalizeError::MissingAreaCode { found: total });
    }
    Err(NormalizeError::UnrecognizedNumber { found: total })
}

fn short(digits: &str) -> PhoneNumber {
    PhoneNumber {
        canonical: digits.to_string(),
        class: PhoneClass::Short,
    }
}

/// An 11-digit mobile number starting at `nsn`: `1[3-9]`, allocated or not (see
/// [`PhoneNumber::is_unallocated_mobile`]).
fn mobile(nsn: &str, offset: usize, total: usize) -> Result<PhoneNumber, NormalizeError> {
    if nsn.len() >= 3 && !is_mobile_prefix(nsn) && !(nsn.len() == 11 && has_mobile_shape(nsn)) {
        return Err(if nsn.len() == 11 {
            NormalizeError::UnknownMobilePrefix
        } else {
            NormalizeError::UnrecognizedNumber { found: total }
        });
    }
    if nsn.len() < 11 {
        return Err(NormalizeError::TooShort {
            kind: Kind::Phone,
            min: offset + 11,
            found: total,
        });
    }
    if nsn.len() > 11 {
        return Err(NormalizeError::TooLong {
            kind: Kind::Phone,
            max: offset + 11,
            found: total,
        });
    }
    Ok(PhoneNumber {
        canonical: format!("+86{nsn}"),
        class: PhoneClass::Mobile,
    })
}

/// A 400 or 800 number: 10 digits.
fn non_geographic(nsn: &str, offset: usize, total: usize) -> Result<PhoneNumber, NormalizeError> {
    if nsn.len() < 10 {
        return Err(NormalizeError::TooShort {
            kind: Kind::Phone,
            min: offset + 10,
            found: total,
        });
    }
    if nsn.len() > 10 {
        return Err(NormalizeError::TooLong {
            kind: Kind::Phone,
            max: offset + 10,
            found: total,
        });
    }
    Ok(PhoneNumber {
        canonical: format!("+86{nsn}"),
        class: PhoneClass::NonGeographic,
    })
}

/// A landline: an area code of `area_len` digits, then the local number.
fn landline(
    nsn: &str,
    area_len: usize,
    offset: usize,
    total: usize,
) -> Result<PhoneNumber, NormalizeError> {
    // Two-digit areas (Beijing, Shanghai, Guangzhou…) have 8-digit local numbers; three-digit
    // areas have 7 or 8. Local service lines written with their area code (`0571-96345`) are
    // not accepted: after `+86` they would read as national service numbers (`+86 95…`).
    let min_local = if area_len == 2 { 8 } else { 7 };
    let local = nsn.get(area_len..).unwrap_or("");
    match local.bytes().next() {
        None => {
            return Err(NormalizeError::TooShort {
                kind: Kind::Phone,
                min: offset + area_len + min_local,
                found: total,
            });
        }
        Some(b'0') => return Err(NormalizeError::InvalidLocalNumber),
        Some(_) => {}
    }
    if local.len() < min_local {
        return Err(NormalizeError::TooShort {
            kind: Kind::Phone,
            min: offset + area_len + min_local,
            found: total,
        });
    }
    if local.len() > 8 {
        return Err(NormalizeError::TooLong {
            kind: Kind::Phone,
            max: offset + area_len + 8,
            found: total,
        });
    }
    Ok(PhoneNumber {
        canonical: format!("+86{nsn}"),
        class: PhoneClass::Landline,
    })
}

/// If `digits` starts with an IP-dial prefix followed by something that can follow one (a
/// `1`-led mobile or a `0`-led number), the part after the prefix.
fn strip_ip_dial_prefix(digits: &str) -> Option<&str> {
    IP_DIAL_PREFIXES.iter().find_map(|p| {
        digits
            .strip_prefix(p)
            .filter(|rest| rest.starts_with('0') || rest.starts_with('1'))
    })
}

/// Whether `digits` begins with a Chinese mobile prefix allocated by the MIIT (checked against
/// the allocations up to 2024):
///
/// `13x`, `145`–`149` (data cards), `150`–`153`, `155`–`159`, `162`, `165`–`167` (162, 165 and
/// 167 are virtual operators), `170`–`178` (170/171 virtual operators, 174 satellite), `18x`,
/// `190`–`193`, `195`–`199`. Not allocated: `10x`–`12x`, `140`–`144` (IoT, 13-digit), `154`,
/// `160`, `161`, `163`, `164`, `168`, `169`, `179` (IP-dial prefixes), `194`.
///
/// Only the first three digits are read; fewer than three never match.
///
/// Cross-check: libphonenumber's metadata (9.0.33) is narrower for numbers that can make
/// voice calls — `14[57]` only, and `1740[0-5]` instead of all of `174`. We keep the data-card
/// ranges `146`, `148`, `149` and all of `174` because such numbers still send SMS, sign in to
/// Alipay and show up in fraud reports, and a blocklist must be able to hold them.
///
/// ```
/// use fraudshield_core::identifier::phone::is_mobile_prefix;
/// assert!(is_mobile_prefix("170"));
/// assert!(is_mobile_prefix("19912345678"));
/// assert!(!is_mobile_prefix("154"));
/// assert!(!is_mobile_prefix("17"));
/// ```
pub fn is_mobile_prefix(digits: &str) -> bool {
    let b = digits.as_bytes();
    if b.len() < 3 || b[0] != b'1' || !b[2].is_ascii_digit() {
        return false;
    }
    let third = b[2];
    match b[1] {
        b'3' | b'8' => true,
        b'4' => matches!(third, b'5'..=b'9'),
        b'5' => third != b'4',
        b'6' => matches!(third, b'2' | b'5' | b'6' | b'7'),
        b'7' => third != b'9',
        b'9' => third != b'4',
        _ => false,
    }
}

/// Whether `digits` (ASCII digits only) is a complete Chinese mobile number: 11 digits with
/// an allocated prefix.
///
/// ```
/// use fraudshield_core::identifier::phone::is_chinese_mobile;
/// assert!(is_chinese_mobile("13800138000"));
/// assert!(!is_chinese_mobile("12345678901"));
/// ```
pub fn is_chinese_mobile(digits: &str) -> bool {
    digits.len() == 11 && digits.bytes().all(|b| b.is_ascii_digit()) && is_mobile_prefix(digits)
}

/// Whether `digits` (ASCII digits only) is a Chinese short or service number, which
/// fraudshield stores bare:
///
/// - the 3-digit numbers of [`THREE_DIGIT_NUMBERS`] (110, 112, 114, 119, 120, 122);
/// - `95` + 3–6 digits (national service lines: banks, insurers, airlines — 95588), and
///   `950` + 7–8 digits (enterprise call-centre lines, often the caller ID of outbound calls);
/// - `96` + 3–6 digits (local and public service lines — 96110, the anti-fraud line);
/// - `12` + 3 digits (government hotlines — 12315, 12345, 12306);
/// - `100` + 2 digits (carrier lines — 10086, 10010, 10000) and `1010` + 4 digits (national
///   customer-service lines);
/// - `106` + 2–17 digits (SMS ports used by companies to send messages).
///
/// ```
/// use fraudshield_core::identifier::phone::is_short_number;
/// for n in ["110", "95588", "96110", "12315", "10086", "10690123456789"] {
///     assert!(is_short_number(n), "{n}");
/// }
/// assert!(!is_short_number("13800138000"));
/// assert!(!is_short_number("123"));
/// ```
pub fn is_short_number(digits: &str) -> bool {
    let n = digits.len();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if n == 3 {
        return THREE_DIGIT_NUMBERS.contains(&digits);
    }
    if digits.starts_with("950") && (10..=11).contains(&n) {
        return true;
    }
    if digits.starts_with("95") || digits.starts_with("96") {
        return (5..=8).contains(&n);
    }
    if digits.starts_with("1010") {
        return n == 8;
    }
    if digits.starts_with("106") {
        return (5..=20).contains(&n);
    }
    if digits.starts_with("100") || digits.starts_with("12") {
        return n == 5;
    }
    false
}

/// What a string of ASCII digits is when dialled as written in China, or `None` if it is not a
/// valid number. A text scanner uses this to decide whether a digit run is a phone number.
///
/// ```
/// use fraudshield_core::identifier::phone::{classify, PhoneClass};
/// assert_eq!(classify("13800138000"), Some(PhoneClass::Mobile));
/// assert_eq!(classify("02112345678"), Some(PhoneClass::Landline));
/// assert_eq!(classify("4001234567"), Some(PhoneClass::NonGeographic));
/// assert_eq!(classify("96110"), Some(PhoneClass::Short));
/// assert_eq!(classify("12345678"), None); // no area code
/// ```
pub fn classify(digits: &str) -> Option<PhoneClass> {
    if digits.is_empty() || digits.len() > super::MAX_DIGITS {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    parse_digits(false, digits).ok().map(|n| n.class)
}

/// The length of the ITU country code that `digits` starts with, or `None` if it starts with
/// no assigned country code. `86` (China) is included.
///
/// ```
/// use fraudshield_core::identifier::phone::country_code_len;
/// assert_eq!(country_code_len("14155550100"), Some(1));
/// assert_eq!(country_code_len("639171234567"), Some(2));
/// assert_eq!(country_code_len("85291234567"), Some(3));
/// assert_eq!(country_code_len("2591234567"), None); // 259 is spare
/// ```
pub fn country_code_len(digits: &str) -> Option<usize> {
    let b = digits.as_bytes();
    if !b.iter().take(3).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |n: usize| -> Option<u16> {
        b.get(..n)
            .map(|s| s.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')))
    };
    if matches!(num(1), Some(1 | 7)) {
        return Some(1);
    }
    if let Some(cc) = num(2)
        && TWO_DIGIT_CODES.contains(&cc)
    {
        return Some(2);
    }
    if let Some(cc) = num(3)
        && THREE_DIGIT_CODES.contains(&cc)
    {
        return Some(3);
    }
    None
}

/// Two-digit ITU-T E.164 country codes.
const TWO_DIGIT_CODES: [u16; 44] = [
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

/// Three-digit ITU-T E.164 country codes (assigned, including the international freephone and
/// shared-cost codes 800 and 808 and the satellite codes 870 and 881–883).
const THREE_DIGIT_CODES: &[u16] = &[
    211, 212, 213, 216, 218, //
    220, 221, 222, 223, 224, 225, 226, 227, 228, 229, //
    230, 231, 232, 233, 234, 235, 236, 237, 238, 239, //
    240, 241, 242, 243, 244, 245, 246, 247, 248, 249, //
    250, 251, 252, 253, 254, 255, 256, 257, 258, //
    260, 261, 262, 263, 264, 265, 266, 267, 268, 269, //
    290, 291, 297, 298, 299, //
    350, 351, 352, 353, 354, 355, 356, 357, 358, 359, //
    370, 371, 372, 373, 374, 375, 376, 377, 378, 379, //
    380, 381, 382, 383, 385, 386, 387, 389, //
    420, 421, 423, //
    500, 501, 502, 503, 504, 505, 506, 507, 508, 509, //
    590, 591, 592, 593, 594, 595, 596, 597, 598, 599, //
    670, 672, 673, 674, 675, 676, 677, 678, 679, //
    680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, //
    800, 808, 850, 852, 853, 855, 856, 870, 880, 881, 882, 883, 886, 888, //
    960, 961, 962, 963, 964, 965, 966, 967, 968, //
    970, 971, 972, 973, 974, 975, 976, 977, //
    992, 993, 994, 995, 996, 998,
];

/// Checks that a canonical prefix rule is no broader than [`super::normalize_phone_prefix`]
/// ever makes one: `+` and at least 2 digits, at least 2 of them after `+86` (`+86` or `+861`
/// alone would flag every Chinese number or every mobile), or a bare `106…` SMS port range;
/// digits only. It reads no allocation table, so its answer never changes when ranges are
/// allocated: clients run it on every prefix rule they apply (see [`crate::rules`]).
///
/// ```
/// use fraudshield_core::identifier::phone::check_prefix_breadth;
/// assert!(check_prefix_breadth("+86170").is_ok());
/// assert!(check_prefix_breadth("+86179").is_ok()); // unallocated, but not too broad
/// assert!(check_prefix_breadth("10690").is_ok());
/// assert!(check_prefix_breadth("+861").is_err());
/// assert!(check_prefix_breadth("+8").is_err());
/// assert!(check_prefix_breadth("170").is_err()); // not canonical: +86170
/// ```
pub fn check_prefix_breadth(canonical: &str) -> Result<(), NormalizeError> {
    let (plus, digits) = match canonical.strip_prefix('+') {
        Some(d) => (true, d),
        None => (false, canonical),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NormalizeError::InvalidPrefix {
            reason: "a prefix rule is + and digits, or a bare 106 SMS port range",
        });
    }
    if !plus {
        return if digits.starts_with("106") {
            Ok(())
        } else {
            Err(NormalizeError::InvalidPrefix {
                reason: "the only bare prefix rules are 106 SMS port ranges",
            })
        };
    }
    if digits.len() < 2 {
        return Err(NormalizeError::InvalidPrefix {
            reason: "at least 2 digits are needed after +",
        });
    }
    if digits
        .strip_prefix("86")
        .is_some_and(|national| national.len() < 2)
    {
        return Err(NormalizeError::InvalidPrefix {
            reason: "a Chinese prefix needs at least 2 digits after +86",
        });
    }
    Ok(())
}

/// Normalizes a prefix rule; see [`super::normalize_phone_prefix`] for the accepted forms.
pub(crate) fn normalize_prefix(raw: &str) -> Result<String, NormalizeError> {
    let (d, _star) = clean_digits(Kind::Phone, raw, true, true)?;
    let s = d.digits.as_str();
    let international = if d.plus {
        Some(s)
    } else if let Some(rest) = s.strip_prefix("00") {
        Some(rest)
    } else if s.starts_with("86") && s.len() >= 5 {
        Some(s)
    } else {
        None
    };
    if let Some(rest) = international {
        return international_prefix(rest);
    }
    let too_long = |max: usize| NormalizeError::TooLong {
        kind: Kind::Phone,
        max,
        found: s.len(),
    };
    if s.starts_with("106") {
        return if s.len() > 20 {
            Err(too_long(20))
        } else {
            Ok(s.to_string())
        };
    }
    if let Some(national) = s.strip_prefix('0') {
        if national.len() < 2 {
            return Err(NormalizeError::InvalidPrefix {
                reason: "an area-code prefix needs at least 2 digits after the 0",
            });
        }
        if national.len() > 11 {
            return Err(too_long(12));
        }
        chinese_prefix_shape(national, true)?;
        return Ok(format!("+86{national}"));
    }
    if s.starts_with('1') {
        if s.len() < 3 {
            return Err(NormalizeError::InvalidPrefix {
                reason: "a bare mobile prefix needs at least 3 digits",
            });
        }
        if !is_mobile_prefix(s) {
            return Err(NormalizeError::UnknownMobilePrefix);
        }
        if s.len() > 11 {
            return Err(too_long(11));
        }
        return Ok(format!("+86{s}"));
    }
    if s.starts_with("400") || s.starts_with("800") {
        if s.len() > 10 {
            return Err(too_long(10));
        }
        return Ok(format!("+86{s}"));
    }
    Err(NormalizeError::InvalidPrefix {
        reason: "a bare prefix must be a mobile range (1xx), an area code with its 0, \
                 a 400/800 range or a 106 SMS port range",
    })
}

/// `rest` followed `+` or `00` in a prefix rule.
fn international_prefix(rest: &str) -> Result<String, NormalizeError> {
    if rest.len() < 2 {
        return Err(NormalizeError::InvalidPrefix {
            reason: "at least 2 digits are needed after +",
        });
    }
    if let Some(national) = rest.strip_prefix("86") {
        let (national, after_trunk) = match national.strip_prefix('0') {
            Some(n) => (n, true),
            None => (national, false),
        };
        if national.len() > 11 {
            return Err(NormalizeError::TooLong {
                kind: Kind::Phone,
                max: 13,
                found: national.len() + 2,
            });
        }
        chinese_prefix_shape(national, after_trunk)?;
        return Ok(format!("+86{national}"));
    }
    if rest.len() > E164_MAX_DIGITS {
        return Err(NormalizeError::TooLong {
            kind: Kind::Phone,
            max: E164_MAX_DIGITS,
            found: rest.len(),
        });
    }
    let Some(cc) = country_code_len(rest) else {
        let start_of_a_code = rest.len() == 2
            && THREE_DIGIT_CODES
                .iter()
                .any(|cc| cc.to_string().starts_with(rest));
        return if start_of_a_code {
            Ok(format!("+{rest}"))
        } else {
            Err(NormalizeError::InvalidCountryCode)
        };
    };
    // The same trunk-zero rule as for numbers, so `+44 020` covers `+44 20 …`.
    let (code, national) = rest.split_at(cc);
    if KEEPS_LEADING_ZERO.contains(&code) {
        return Ok(format!("+{rest}"));
    }
    let national = national.strip_prefix('0').unwrap_or(national);
    if national.starts_with('0') {
        return Err(NormalizeError::DoubleTrunkZero);
    }
    if code.len() + national.len() < 2 {
        // `+70`: the 0 is a trunk prefix, which leaves a single digit after `+`.
        return Err(NormalizeError::InvalidPrefix {
            reason: "at least 2 digits are needed after + (a trunk 0 does not count)",
        });
    }
    Ok(format!("+{code}{national}"))
}

/// Checks that a Chinese national prefix (after `+86` and any trunk `0`) can begin a number:
/// `1` must continue as Beijing (`10`) or an allocated mobile range, `0` cannot follow.
/// `after_trunk`: the prefix was written with a trunk `0`, so the user meant an area code.
fn chinese_prefix_shape(national: &str, after_trunk: bool) -> Result<(), NormalizeError> {
    let wrong_one = if after_trunk {
        NormalizeError::UnknownAreaCode
    } else {
        NormalizeError::UnknownMobilePrefix
    };
    match national.as_bytes() {
        // `+86` or `+861` alone would flag every Chinese number, or every mobile: one wrong
        // row in an analyst's import must not be able to do that.
        [] | [_] => Err(NormalizeError::InvalidPrefix {
            reason: "a Chinese prefix needs at least 2 digits after +86",
        }),
        [b'1', b'0', ..] | [b'1', b'3'..=b'9'] => Ok(()),
        [b'0', ..] => Err(NormalizeError::UnknownAreaCode),
        [b'1', ..] if !is_mobile_prefix(national) => Err(wrong_one),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(raw: &str) -> Result<String, NormalizeError> {
        normalize(raw).map(|n| n.canonical)
    }

    #[test]
    fn mobile_dressings_agree() {
        for raw in [
            "13800138000",
            "+86 138-0013-8000",
            "0086 138 0013 8000",
            "8613800138000",
            "17951 13800138000",
            "12593-138-0013-8000",
            "013800138000",
            "+86 (0)138 0013 8000",
            "\u{202A}+86 138 0013 8000\u{202C}",
        ] {
            assert_eq!(canon(raw).as_deref(), Ok("+8613800138000"), "{raw:?}");
        }
    }

    #[test]
    fn beijing_versus_sms_ports() {
        assert_eq!(canon("+86 10 6912 3456").unwrap(), "+861069123456");
        assert_eq!(canon("+86 10690 1234 5678").unwrap(), "1069012345678");
        assert_eq!(canon("+86 10086").unwrap(), "10086");
        assert_eq!(canon("1069123456").unwrap(), "1069123456");
    }

    #[test]
    fn mobile_prefix_table() {
        let allocated: Vec<u16> = (100..200)
            .filter(|p| is_mobile_prefix(&p.to_string()))
            .collect();
        let expected: Vec<u16> = (130..=139)
            .chain(145..=149)
            .chain([150, 151, 152, 153, 155, 156, 157, 158, 159])
            .chain([162, 165, 166, 167])
            .chain(170..=178)
            .chain(180..=189)
            .chain([190, 191, 192, 193, 195, 196, 197, 198, 199])
            .collect();
        assert_eq!(allocated, expected);
    }

    #[test]
    fn country_code_tables_are_sorted_and_distinct() {
        assert!(TWO_DIGIT_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(THREE_DIGIT_CODES.windows(2).all(|w| w[0] < w[1]));
        // No three-digit code may start with a shorter code, or it could never be read.
        for cc in THREE_DIGIT_CODES {
            assert!(!TWO_DIGIT_CODES.contains(&(cc / 10)), "{cc}");
            assert!(!matches!(cc / 100, 1 | 7), "{cc}");
        }
    }

    #[test]
    fn classify_rejects_non_digits() {
        assert_eq!(classify("1380013800a"), None);
        assert_eq!(classify(""), None);
        assert_eq!(classify("+8613800138000"), None);
    }
}
