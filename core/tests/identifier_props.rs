//! Property tests for normalization: no input panics, every success is a fixpoint
//! (idempotence) with a valid key, and generated real-world dressings of valid numbers all
//! reach the expected canonical form.
#![allow(clippy::unwrap_used)]

use fraudshield_core::identifier::{
    Identifier, NormalizeError, bank, fold_char, normalize, normalize_phone_prefix, phone,
};
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use proptest::prelude::*;

/// Checks what must hold for every successful normalization, whatever the input.
fn assert_fixpoint(kind: Kind, id: &Identifier) -> Result<(), TestCaseError> {
    prop_assert_eq!(id.kind(), kind);
    let again = normalize(kind, id.canonical());
    prop_assert!(again.is_ok(), "canonical form rejected: {:?}", again);
    prop_assert_eq!(again.unwrap().into_canonical(), id.canonical());
    prop_assert!(Key::from_bytes(id.key().as_bytes()).is_ok());
    Ok(())
}

/// Checks that an error message does not repeat the digits of the input.
fn assert_message_hides(raw: &str, err: &NormalizeError) -> Result<(), TestCaseError> {
    let digits: String = raw
        .chars()
        .map(fold_char)
        .filter(char::is_ascii_digit)
        .collect();
    if digits.len() >= 5 {
        let message = err.to_string();
        prop_assert!(!message.contains(&digits), "{message}");
    }
    Ok(())
}

/// Characters that make normalization take its interesting paths.
fn phone_like() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '8', '6', '+', ' ', '-', '.',
        '(', ')', '*', 'x', '@', 'a', '０', '１', '８', '６', '＋', '\u{3000}', '\u{202A}', '转',
    ]);
    prop::collection::vec(chars, 0..24).prop_map(|v| v.into_iter().collect())
}

/// Puts a random separator (or none) between the characters of `s`, and writes a random
/// subset of its digits in full width.
fn dress(s: &str, seps: &[u8], widths: &[bool]) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        let c = if widths.get(i).copied().unwrap_or(false) && c.is_ascii_digit() {
            char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()
        } else {
            c
        };
        out.push(c);
        match seps.get(i).copied().unwrap_or(0) % 8 {
            1 => out.push(' '),
            2 => out.push('-'),
            3 => out.push('\u{3000}'),
            _ => {}
        }
    }
    out
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, n)
        .prop_map(|v| v.into_iter().map(|d| (b'0' + d) as char).collect())
}

/// An allocated Chinese mobile number.
fn mobile() -> impl Strategy<Value = String> {
    (
        (130u16..200).prop_filter("allocated", |p| phone::is_mobile_prefix(&p.to_string())),
        digits(8),
    )
        .prop_map(|(p, rest)| format!("{p}{rest}"))
}

/// A Chinese landline's national number (area code + local number, no trunk 0).
fn landline_national() -> impl Strategy<Value = String> {
    let two = (
        prop::sample::select(vec![
            "10", "20", "21", "22", "23", "24", "25", "27", "28", "29",
        ]),
        2u8..10,
        digits(7),
    )
        .prop_map(|(a, first, rest)| format!("{a}{first}{rest}"));
    let three = (
        3u16..10,
        0u16..100,
        2u8..10,
        prop_oneof![digits(6), digits(7)],
    )
        .prop_filter("not 400/800/950", |(a, b, _, _)| {
            !matches!(a * 100 + b, 400 | 800 | 950)
        })
        .prop_map(|(a, b, first, rest)| format!("{}{first}{rest}", a * 100 + b));
    prop_oneof![two, three]
}

/// Every string of up to 5 characters over a small alphabet that reaches the short-input
/// corners (`+`, `00`, trunk `0`, `86`, wildcards, brackets): successes must be fixpoints.
#[test]
fn every_short_string_over_a_tricky_alphabet_is_handled() {
    const ALPHABET: [char; 9] = ['+', '0', '1', '7', '8', '6', '*', '(', ' '];
    let mut strings = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..5 {
        frontier = frontier
            .iter()
            .flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}")))
            .collect();
        strings.extend(frontier.iter().cloned());
    }
    for raw in &strings {
        for kind in Kind::ALL {
            if let Ok(id) = normalize(kind, raw) {
                let again = normalize(kind, id.canonical()).map(Identifier::into_canonical);
                assert_eq!(again.as_deref(), Ok(id.canonical()), "{kind} {raw:?}");
            }
        }
        if let Ok(p) = normalize_phone_prefix(raw) {
            let again = normalize_phone_prefix(p.canonical()).map(Identifier::into_canonical);
            assert_eq!(again.as_deref(), Ok(p.canonical()), "prefix {raw:?}");
            assert_eq!(
                phone::check_prefix_breadth(p.canonical()),
                Ok(()),
                "{raw:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_never_panics_and_successes_are_fixpoints(raw in any::<String>()) {
        for kind in Kind::ALL {
            match normalize(kind, &raw) {
                Ok(id) => assert_fixpoint(kind, &id)?,
                Err(e) => assert_message_hides(&raw, &e)?,
            }
        }
        if let Ok(p) = normalize_phone_prefix(&raw) {
            let again = normalize_phone_prefix(p.canonical()).unwrap();
            prop_assert_eq!(again.canonical(), p.canonical());
        }
    }

    #[test]
    fn phone_like_strings_never_panic_and_successes_are_fixpoints(raw in phone_like()) {
        for kind in Kind::ALL {
            match normalize(kind, &raw) {
                Ok(id) => assert_fixpoint(kind, &id)?,
                Err(e) => assert_message_hides(&raw, &e)?,
            }
        }
        if let Ok(p) = normalize_phone_prefix(&raw) {
            let again = normalize_phone_prefix(p.canonical());
            prop_assert!(again.is_ok(), "prefix canonical form rejected: {:?}", again);
            prop_assert_eq!(again.unwrap().into_canonical(), p.canonical());
            prop_assert!(Key::from_bytes(p.key().as_bytes()).is_ok());
            // Every rule the publisher may send passes the clients' breadth check.
            let breadth = phone::check_prefix_breadth(p.canonical());
            prop_assert!(breadth.is_ok(), "{:?}", breadth);
        }
    }

    #[test]
    fn every_dressing_of_a_mobile_reaches_one_form(
        m in mobile(),
        lead in prop::sample::select(vec!["", "+86", "0086", "86", "0", "+86 (0)", "17951", "12593", "10193", "＋８６"]),
        seps in prop::collection::vec(any::<u8>(), 20),
        widths in prop::collection::vec(any::<bool>(), 20),
    ) {
        let raw = format!("{lead} {}", dress(&m, &seps, &widths));
        let id = normalize(Kind::Phone, &raw).unwrap();
        let expected = format!("+86{m}");
        prop_assert_eq!(id.canonical(), expected.as_str());
        assert_fixpoint(Kind::Phone, &id)?;
        // A mobile is also an Alipay login, in the same form.
        prop_assert_eq!(normalize(Kind::Alipay, &raw).unwrap().into_canonical(), expected);
    }

    #[test]
    fn every_dressing_of_a_landline_reaches_one_form(
        n in landline_national(),
        lead in prop::sample::select(vec!["0", "+86", "+86 0", "0086", "0086 0", "17951 0", "17909 0"]),
        seps in prop::collection::vec(any::<u8>(), 20),
    ) {
        let raw = format!("{lead}{}", dress(&n, &seps, &[]));
        let id = normalize(Kind::Phone, &raw).unwrap();
        let expected = format!("+86{n}");
        prop_assert_eq!(id.canonical(), expected.as_str());
        assert_fixpoint(Kind::Phone, &id)?;
        prop_assert_eq!(phone::classify(&format!("0{n}")), Some(phone::PhoneClass::Landline));
    }

    #[test]
    fn short_numbers_stay_bare(
        n in prop_oneof![
            (prop::sample::select(vec!["95", "96"]), prop_oneof![digits(3), digits(4), digits(6)]).prop_map(|(p, d)| format!("{p}{d}")),
            digits(3).prop_map(|d| format!("12{d}")),
            digits(2).prop_map(|d| format!("100{d}")),
            (2usize..=17).prop_flat_map(digits).prop_map(|d| format!("106{d}")),
        ],
        plus in any::<bool>(),
    ) {
        let raw = if plus { format!("+86 {n}") } else { n.clone() };
        let id = normalize(Kind::Phone, &raw).unwrap();
        // After +86, `10` + 8 digits is a Beijing landline; every other short number stays bare.
        let beijing = plus && n.len() == 10 && n.starts_with("10");
        let expected = if beijing { format!("+86{n}") } else { n.clone() };
        prop_assert_eq!(id.canonical(), expected.as_str());
        assert_fixpoint(Kind::Phone, &id)?;
    }

    #[test]
    fn international_numbers_keep_their_country_code(
        cc in prop::sample::select(vec!["1", "7", "44", "63", "60", "66", "84", "95", "852", "853", "855", "856", "886", "971"]),
        first in 1u8..10,
        rest in (5usize..=11).prop_flat_map(digits),
        zeros in any::<bool>(),
        trunk in prop::sample::select(vec!["", "0", "(0)", " (0) "]),
    ) {
        prop_assume!(cc.len() + 1 + rest.len() <= 15);
        let raw = format!("{}{cc}{trunk} {first}{rest}", if zeros { "00" } else { "+" });
        let id = normalize(Kind::Phone, &raw).unwrap();
        // A trunk 0 after the country code is not part of the E.164 number.
        let expected = format!("+{cc}{first}{rest}");
        prop_assert_eq!(id.canonical(), expected.as_str());
        assert_fixpoint(Kind::Phone, &id)?;
    }

    #[test]
    fn italian_numbers_keep_their_zero(rest in (6usize..=10).prop_flat_map(digits)) {
        let id = normalize(Kind::Phone, &format!("+39 0{rest}")).unwrap();
        let expected = format!("+390{rest}");
        prop_assert_eq!(id.canonical(), expected.as_str());
        assert_fixpoint(Kind::Phone, &id)?;
    }

    #[test]
    fn bank_numbers_keep_their_digits(
        n in (12usize..=30).prop_flat_map(digits),
        seps in prop::collection::vec(any::<u8>(), 30),
        widths in prop::collection::vec(any::<bool>(), 30),
    ) {
        let id = normalize(Kind::Bank, &dress(&n, &seps, &widths)).unwrap();
        prop_assert_eq!(id.canonical(), n.as_str());
        assert_fixpoint(Kind::Bank, &id)?;
    }

    #[test]
    fn luhn_accepts_exactly_one_check_digit(body in (11usize..=18).prop_flat_map(digits)) {
        let valid: Vec<u8> = (0..10)
            .filter(|d| bank::luhn_valid(&format!("{body}{d}")))
            .collect();
        prop_assert_eq!(valid.len(), 1);
    }

    #[test]
    fn qq_numbers_keep_their_digits(first in 1u8..10, rest in (4usize..=11).prop_flat_map(digits)) {
        let n = format!("{first}{rest}");
        let id = normalize(Kind::Qq, &n).unwrap();
        prop_assert_eq!(id.canonical(), n.as_str());
        assert_fixpoint(Kind::Qq, &id)?;
    }

    #[test]
    fn alipay_ids_and_emails_normalize(
        id_digits in digits(12),
        local in "[A-Za-z0-9]([._+-]?[A-Za-z0-9]){0,12}",
        domain in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,2}\\.[a-z]{2,6}",
    ) {
        let user_id = format!("2088{id_digits}");
        let got = normalize(Kind::Alipay, &user_id).unwrap();
        prop_assert_eq!(got.canonical(), user_id.as_str());
        assert_fixpoint(Kind::Alipay, &got)?;

        let email = format!("{local}@{}", domain.to_uppercase());
        let got = normalize(Kind::Alipay, &email).unwrap();
        prop_assert_eq!(got.canonical(), email.to_ascii_lowercase());
        assert_fixpoint(Kind::Alipay, &got)?;
    }

    #[test]
    fn prefixes_of_a_mobile_are_prefixes_of_its_key(m in mobile(), len in 3usize..=11) {
        let number = normalize(Kind::Phone, &m).unwrap();
        let rule = normalize_phone_prefix(&format!("{}*", &m[..len])).unwrap();
        prop_assert!(number.canonical().starts_with(rule.canonical()));
        let rule = normalize_phone_prefix(&format!("+86 {}", &m[..len])).unwrap();
        prop_assert!(number.canonical().starts_with(rule.canonical()));
    }
}
