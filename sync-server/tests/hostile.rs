//! Hostile bodies on `POST /v1/reports`: oversized, truncated (in the JSON and in the
//! transfer), wrong content type, invalid UTF-8, deeply nested JSON, look-alike Unicode digits.
//! Each gets a clear 4xx with the one JSON error envelope, never repeats the submitted value,
//! and stores nothing (the tip and contact tables are counted after each). Fullwidth digits,
//! which phones' keyboards produce, are normalized and accepted.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode};
use serde_json::json;
use support::{Reply, TestServer};

const SECRET: &str = "13800138000";

fn counts(s: &TestServer) -> (i64, i64) {
    s.state
        .db
        .blocking(|c| {
            Ok(c.query_row(
                "SELECT (SELECT COUNT(*) FROM tips), (SELECT COUNT(*) FROM tip_contacts)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap()
}

async fn raw(s: &TestServer, body: Body, content_type: Option<&str>) -> Reply {
    s.request(
        Method::POST,
        "/v1/reports",
        Some(&s.tokens.reporter),
        Some(body),
        content_type,
        &[],
    )
    .await
}

/// A clear 4xx: the status class, the envelope with a code and a message, no echo of the value.
fn assert_clear_4xx(r: &Reply, what: &str) {
    assert!(r.status.is_client_error(), "{what}: {}", r.status);
    let v = r.json();
    let code = v["error"]["code"].as_str().unwrap_or("");
    let message = v["error"]["message"].as_str().unwrap_or("");
    assert!(
        !code.is_empty() && !message.is_empty(),
        "{what}: not the envelope: {}",
        String::from_utf8_lossy(&r.body)
    );
    let text = String::from_utf8_lossy(&r.body);
    assert!(!text.contains(SECRET), "{what}: the value is repeated");
}

fn tip_body(value: &str) -> String {
    json!({"kind": "phone", "value": value, "category": "refund",
           "text": "asked for a fee to refund an order", "contact": "call me",
           "client_id": "hostile"})
    .to_string()
}

#[tokio::test]
async fn look_alike_digits_are_refused_and_fullwidth_digits_normalized() {
    let s = TestServer::new();
    let look_alikes = [
        ("Arabic-Indic", "١٣٨٠٠١٣٨٠٠٠"),
        ("Extended Arabic-Indic", "۱۳۸۰۰۱۳۸۰۰۰"),
        ("Devanagari", "१३८००१३८०००"),
        ("Mathematical bold", "𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎"),
        ("Mathematical double-struck", "𝟙𝟛𝟠𝟘𝟘𝟙𝟛𝟠𝟘𝟘𝟘"),
        ("Mathematical monospace", "𝟷𝟹𝟾𝟶𝟶𝟷𝟹𝟾𝟶𝟶𝟶"),
        ("superscript", "¹³⁸⁰⁰¹³⁸⁰⁰⁰"),
        ("circled", "①③⑧⓪⓪①③⑧⓪⓪⓪"),
        ("one look-alike among ASCII", "1380013800𝟎"),
        ("Latin O for zero", "13800138OOO"),
    ];
    for kind in ["phone", "qq", "bank", "alipay"] {
        for (name, value) in look_alikes {
            let body = json!({"kind": kind, "value": value, "category": "refund", "text": ""});
            let r = s.post("/v1/reports", Some(&s.tokens.reporter), body).await;
            assert_clear_4xx(&r, name);
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{kind} {name}");
            assert_eq!(r.code(), "invalid_identifier", "{kind} {name}");
            assert!(
                !String::from_utf8_lossy(&r.body).contains(value),
                "{kind} {name}: the value is repeated"
            );
        }
    }
    assert_eq!(counts(&s), (0, 0));

    // Fullwidth digits (what CJK keyboards type) are the same number as ASCII ones.
    let ascii = s.report(SECRET, "fw").await;
    assert_eq!(ascii.status, StatusCode::CREATED);
    let full = s.report("１３８００１３８０００", "fw").await;
    assert_eq!(
        full.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&full.body)
    );
    assert_eq!(full.json()["tracking_id"], ascii.json()["tracking_id"]);
    assert_eq!(full.json()["merged"], true);
    assert_eq!(counts(&s).0, 1);
}

#[tokio::test]
async fn malformed_transfers_and_json_get_a_clear_4xx_and_store_nothing() {
    let s = TestServer::new();
    let valid = tip_body(SECRET);

    // Wrong or missing content type, even with a valid body.
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonx"),
        Some("json"),
    ] {
        let r = raw(&s, Body::from(valid.clone()), ct).await;
        assert_clear_4xx(&r, &format!("{ct:?}"));
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
    }

    // Every truncation of a valid body.
    for cut in 0..valid.len() {
        let r = raw(
            &s,
            Body::from(valid.as_bytes()[..cut].to_vec()),
            Some("application/json"),
        )
        .await;
        assert_clear_4xx(&r, &format!("cut at {cut}"));
    }

    // A transfer that breaks off half-way (the client vanished).
    let (mut tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(2);
    tx.send_data(Bytes::copy_from_slice(&valid.as_bytes()[..20]))
        .await
        .unwrap();
    tx.abort(std::io::Error::other("connection reset"));
    let r = raw(&s, Body::new(body), Some("application/json")).await;
    assert_clear_4xx(&r, "aborted transfer");
    assert_eq!(r.code(), "unreadable_body");

    // Invalid UTF-8: in a value, in a key, overlong, a lone surrogate escape, a BOM.
    let bad_utf8: [(&str, Vec<u8>); 6] = [
        (
            "value",
            br#"{"kind":"phone","value":"1380013800"#.iter().copied().chain(*b"\xff\"}").collect(),
        ),
        ("key", b"{\"ki\xc3\x28nd\":\"phone\"}".to_vec()),
        ("overlong", b"{\"kind\":\"\xc0\xaf\"}".to_vec()),
        ("truncated sequence", b"{\"kind\":\"\xe6\x88\"}".to_vec()),
        (
            "lone surrogate",
            br#"{"kind":"phone","value":"\ud800","category":"refund","text":""}"#.to_vec(),
        ),
        ("byte order mark", {
            let mut b = vec![0xef, 0xbb, 0xbf];
            b.extend_from_slice(valid.as_bytes());
            b
        }),
    ];
    for (name, body) in bad_utf8 {
        let r = raw(&s, Body::from(body), Some("application/json")).await;
        assert_clear_4xx(&r, name);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}");
    }

    // Deeply nested JSON: as the body, and inside a field.
    let nests = [
        ("arrays", "[".repeat(100_000)),
        ("objects", "{\"a\":".repeat(20_000) + &"}".repeat(20_000)),
        (
            "inside a field",
            format!(
                "{{\"kind\":\"phone\",\"value\":\"{SECRET}\",\"category\":\"refund\",\"text\":{}{}}}",
                "[".repeat(10_000),
                "]".repeat(10_000)
            ),
        ),
        (
            "objects inside a field",
            format!(
                "{{\"kind\":\"phone\",\"value\":\"{SECRET}\",\"category\":\"refund\",\"text\":\"\",\"contact\":{}1{}}}",
                "{\"a\":".repeat(10_000),
                "}".repeat(10_000)
            ),
        ),
    ];
    for (name, body) in nests {
        let r = raw(&s, Body::from(body), Some("application/json")).await;
        assert_clear_4xx(&r, name);
    }

    // Oversized: one byte over the limit, and a huge body.
    let limit = s.state.config.body_limit_bytes;
    for size in [limit + 1, 4 * 1024 * 1024] {
        let padding = size - valid.len() + "call me".len();
        let body = valid.replacen("\"call me\"", &format!("\"{}\"", "x".repeat(padding)), 1);
        assert!(body.len() > limit);
        let r = raw(&s, Body::from(body), Some("application/json")).await;
        assert_clear_4xx(&r, &format!("{size} bytes"));
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.code(), "body_too_large");
    }

    // Empty body, JSON of the wrong shape.
    for (name, body) in [
        ("empty", ""),
        ("null", "null"),
        ("array", "[]"),
        ("string", "\"x\""),
        ("number", "13800138000"),
    ] {
        let r = raw(&s, Body::from(body), Some("application/json")).await;
        assert_clear_4xx(&r, name);
    }

    assert_eq!(counts(&s), (0, 0), "nothing may be stored");
    // The same body, well-formed, is taken: the refusals above were about the form.
    let r = raw(&s, Body::from(valid), Some("application/json")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(counts(&s), (1, 1));
}
