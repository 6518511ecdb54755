//! Text scanning against realistic messages (`testdata/messages/messages.txt`) and arbitrary
//! strings.
#![allow(clippy::unwrap_used)]

use fraudshield_core::identifier::normalize;
use fraudshield_core::kind::Kind;
use fraudshield_core::scan::{Reason, Shape, scan_text};
use proptest::prelude::*;
use std::fmt::Write as _;

/// One message block of the data file.
struct Sample {
    category: String,
    /// Line number (1-based) of the first `>` line.
    line: usize,
    text: String,
    /// `(kind, canonical)`, in text order; empty for `none`.
    expected: Vec<(String, String)>,
}

fn load() -> Vec<Sample> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/messages/messages.txt"
    );
    let data = std::fs::read_to_string(path).unwrap();
    let mut samples: Vec<Sample> = Vec::new();
    for (i, line) in data.lines().enumerate() {
        let n = i + 1;
        if line.starts_with("##") || line.trim().is_empty() {
            continue;
        }
        if let Some(category) = line.strip_prefix("# ") {
            samples.push(Sample {
                category: category.trim().to_string(),
                line: 0,
                text: String::new(),
                expected: Vec::new(),
            });
            continue;
        }
        let sample = samples
            .last_mut()
            .unwrap_or_else(|| panic!("line {n}: content before the first `# category`"));
        if let Some(text) = line.strip_prefix("> ") {
            if sample.line == 0 {
                sample.line = n;
            } else {
                sample.text.push('\n');
            }
            sample.text.push_str(text);
        } else if line.trim() == "none" {
            assert!(
                sample.expected.is_empty(),
                "line {n}: `none` after findings"
            );
        } else {
            let (kind, canonical) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("line {n}: expected `<kind> <canonical>`"));
            assert!(
                kind.parse::<Kind>().is_ok(),
                "line {n}: unknown kind {kind}"
            );
            sample
                .expected
                .push((kind.to_string(), canonical.trim().to_string()));
        }
    }
    for s in &samples {
        assert!(s.line > 0, "block `{}` has no `>` text line", s.category);
    }
    samples
}

#[test]
fn messages_yield_exactly_their_identifiers() {
    let samples = load();
    let clean = samples
        .iter()
        .filter(|s| s.category.starts_with("clean"))
        .count();
    let service = samples.iter().filter(|s| s.category == "service").count();
    let fraud = samples.len() - clean - service;
    assert!(fraud >= 40, "only {fraud} fraud samples");
    assert!(clean >= 15, "only {clean} clean samples");

    let mut failures = String::new();
    for s in &samples {
        if s.category.starts_with("clean") {
            assert!(
                s.expected.is_empty(),
                "line {}: a clean message expects findings",
                s.line
            );
        } else {
            assert!(
                !s.expected.is_empty(),
                "line {}: write `none` only for clean messages",
                s.line
            );
        }
        let found = scan_text(&s.text);
        let got: Vec<(String, String)> = found
            .iter()
            .map(|f| {
                (
                    f.identifier.kind().to_string(),
                    f.identifier.canonical().to_string(),
                )
            })
            .collect();
        if got != s.expected {
            let detail: Vec<String> = found
                .iter()
                .map(|f| {
                    format!(
                        "{} {} from {:?} ({})",
                        f.identifier.kind(),
                        f.identifier.canonical(),
                        &s.text[f.span.clone()],
                        f.reason
                    )
                })
                .collect();
            writeln!(
                failures,
                "line {} [{}]: expected {:?}\n    got {:?}",
                s.line, s.category, s.expected, detail
            )
            .unwrap();
        }
    }
    println!("{fraud} fraud, {clean} clean, {service} service messages");
    assert!(failures.is_empty(), "failing samples:\n{failures}");
}

#[test]
fn spans_cover_the_raw_numbers_with_their_separators() {
    let text = "卡号：６２２２ ０２１２ ３４５６ ７８９０ １２３，电话+86 138-0013-8000。";
    let found = scan_text(text);
    let raws: Vec<&str> = found.iter().map(|f| &text[f.span.clone()]).collect();
    assert_eq!(
        raws,
        [
            "６２２２ ０２１２ ３４５６ ７８９０ １２３",
            "+86 138-0013-8000"
        ]
    );
    assert_eq!(
        found[0].reason,
        Reason::Context {
            word: "卡号".to_string()
        }
    );
    assert_eq!(
        found[1].reason,
        Reason::Shape {
            shape: Shape::Mobile
        }
    );
}

#[test]
fn context_decides_ambiguous_digits() {
    let kinds =
        |t: &str| -> Vec<Kind> { scan_text(t).iter().map(|f| f.identifier.kind()).collect() };
    // The same ten digits: QQ after a QQ word, nothing without one.
    assert_eq!(kinds("加扣扣 1234567890"), [Kind::Qq]);
    assert_eq!(kinds("编号 1234567890"), []);
    assert_eq!(kinds("1234567890"), []);
    // Twelve-plus digits: an account after 账号, nothing bare (no card prefix, no Luhn).
    assert_eq!(kinds("汇款账号 123456789012"), [Kind::Bank]);
    assert_eq!(kinds("123456789012 到了"), []);
    // A Luhn-valid UnionPay card needs no context; the same digits after 订单号 are not one.
    assert_eq!(kinds("6217000012345670"), [Kind::Bank]);
    assert_eq!(kinds("订单号 6217000012345670"), []);
    // A verification code never makes an identifier, but a mobile after it still is a phone.
    assert_eq!(kinds("验证码 8842"), []);
    assert_eq!(kinds("验证码已发送至 13800138000"), [Kind::Phone]);
    // Service numbers only after a phone word.
    assert_eq!(kinds("请致电 95588"), [Kind::Phone]);
    assert_eq!(kinds("共 95588 人"), []);
    // An 18-digit resident ID number is not a card, even with a valid Luhn digit.
    assert_eq!(kinds("440301198503152016"), []);
    // Alipay: a 2088 user id alone, a mobile after 支付宝.
    assert_eq!(kinds("2088102030405060"), [Kind::Alipay]);
    assert_eq!(kinds("支付宝 13800138000"), [Kind::Alipay]);
}

#[test]
fn urls_and_emails() {
    assert!(scan_text("https://example.cn/a/13800138000?q=6217000012345670").is_empty());
    assert!(scan_text("www.example.com/13800138000").is_empty());
    let found = scan_text("邮箱 12345678@qq.com，支付宝 Pay.Me@Example.com。");
    let got: Vec<(Kind, &str)> = found
        .iter()
        .map(|f| (f.identifier.kind(), f.identifier.canonical()))
        .collect();
    assert_eq!(
        got,
        [(Kind::Qq, "12345678"), (Kind::Alipay, "pay.me@example.com")]
    );
}

#[test]
fn nothing_in_empty_or_digitless_text() {
    assert!(scan_text("").is_empty());
    assert!(scan_text("您好，请问明天有空吗？").is_empty());
}

/// Strings made of the characters that matter to the scanner, so the properties exercise the
/// interesting paths (a uniformly random string rarely contains a digit run).
fn messy_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "0",
        "1",
        "3",
        "6",
        "8",
        "9",
        "13800138000",
        "6217000012345670",
        "2088",
        "400",
        "０",
        "８",
        " ",
        "\u{3000}",
        "-",
        ".",
        "+",
        "＋",
        "(",
        ")",
        "（",
        "）",
        ",",
        ":",
        "/",
        "@",
        "qq.com",
        "a",
        "Q",
        "QQ",
        "ＱＱ",
        "http://",
        "www.",
        "卡号",
        "扣扣",
        "支付宝",
        "电话",
        "验证码",
        "订单号",
        "元",
        "¥",
        "号",
        "，",
        "。",
        "\n",
        "é",
        "😀",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

fn check_invariants(text: &str) -> Result<(), TestCaseError> {
    let found = scan_text(text);
    let mut last_end = 0;
    for f in &found {
        let span = f.span.clone();
        prop_assert!(span.start < span.end, "empty span {span:?}");
        prop_assert!(span.start >= last_end, "spans overlap or are out of order");
        prop_assert!(span.end <= text.len());
        prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        let again = normalize(f.identifier.kind(), &text[span.clone()]);
        prop_assert_eq!(again.as_ref().ok(), Some(&f.identifier));
        last_end = span.end;
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic_and_spans_are_sound(text in any::<String>()) {
        check_invariants(&text)?;
    }

    #[test]
    fn messy_messages_never_panic_and_spans_are_sound(text in messy_text()) {
        check_invariants(&text)?;
    }
}
