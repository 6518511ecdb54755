//! The analyst console in-process: sessions, CSRF, roles and four eyes through the same router
//! the server serves (the browser test in `tests/console/` drives the real binary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use fraudshield_server::auth;
use support::{Reply, T0, TestServer};

const FORM: &str = "application/x-www-form-urlencoded";

fn set_cookies(r: &Reply) -> Vec<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(r: &Reply, name: &str) -> Option<String> {
    set_cookies(r).into_iter().find_map(|c| {
        c.split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    })
}

/// The first hidden `csrf` field of a page.
fn csrf_of(r: &Reply) -> String {
    let html = String::from_utf8_lossy(&r.body);
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

fn location(r: &Reply) -> &str {
    r.headers
        .get(header::LOCATION)
        .map_or("", |v| v.to_str().unwrap())
}

async fn page(s: &TestServer, path: &str, cookie: &str) -> Reply {
    let c = format!("fs_console={cookie}");
    s.request(Method::GET, path, None, None, None, &[("cookie", &c)])
        .await
}

async fn post_form(s: &TestServer, path: &str, cookie: &str, body: &str) -> Reply {
    s.request(
        Method::POST,
        path,
        None,
        Some(Body::from(body.to_owned())),
        Some(FORM),
        &[("cookie", cookie)],
    )
    .await
}

fn enc(v: &str) -> String {
    serde_urlencoded::to_string([("v", v)]).unwrap()[2..].to_owned()
}

/// Signs in; returns the session cookie value and the session's CSRF token.
async fn sign_in(s: &TestServer, token: &str) -> (String, String) {
    let form = s.get("/console/login", None).await;
    let nonce = cookie_value(&form, "fs_console_login").unwrap();
    let r = post_form(
        s,
        "/console/login",
        &format!("fs_console_login={nonce}"),
        &format!("csrf={}&token={}", csrf_of(&form), enc(token)),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let cookie = cookie_value(&r, "fs_console").unwrap();
    let dash = page(s, "/console/", &cookie).await;
    assert_eq!(dash.status, StatusCode::OK);
    (cookie, csrf_of(&dash))
}

#[tokio::test]
async fn pages_without_a_session_send_the_browser_to_sign_in() {
    let s = TestServer::new();
    for path in [
        "/console/",
        "/console/queue",
        "/console/proposals",
        "/console/publish",
        "/console/audit",
        "/console/identifier?kind=phone&value=13800138000",
    ] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&r), "/console/login", "{path}");
        let r = page(&s, path, "forged-session-id").await;
        assert_eq!(location(&r), "/console/login", "{path}");
    }
    let css = s.get("/console/static/console.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_checks_the_token_like_the_api_and_sets_a_strict_cookie() {
    let s = TestServer::new();
    let form = s.get("/console/login", None).await;
    let csp = form.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"));
    let nonce = cookie_value(&form, "fs_console_login").unwrap();
    let login = |token: String, csrf: String| {
        let s = &s;
        let nonce = nonce.clone();
        async move {
            post_form(
                s,
                "/console/login",
                &format!("fs_console_login={nonce}"),
                &format!("csrf={csrf}&token={}", enc(&token)),
            )
            .await
        }
    };
    let good_csrf = csrf_of(&form);
    // The sign-in form's own double-submit token.
    assert_eq!(
        login(s.tokens.alice.clone(), "wrong".into()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        login("fs1.000000000000.nope".into(), good_csrf.clone())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(s.tokens.reporter.clone(), good_csrf.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let ok = login(s.tokens.alice.clone(), good_csrf.clone()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookie = set_cookies(&ok)
        .into_iter()
        .find(|c| c.starts_with("fs_console="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Path=/console") && !cookie.contains("Secure"));
    assert!(!location(&ok).contains("fs1."), "no token in a URL");

    // Behind a TLS-terminating proxy the cookie is Secure.
    let r = s
        .request(
            Method::POST,
            "/console/login",
            None,
            Some(Body::from(format!(
                "csrf={good_csrf}&token={}",
                enc(&s.tokens.bob)
            ))),
            Some(FORM),
            &[
                ("cookie", &format!("fs_console_login={nonce}")),
                ("x-forwarded-proto", "https"),
            ],
        )
        .await;
    assert!(
        set_cookies(&r)
            .iter()
            .any(|c| c.starts_with("fs_console=") && c.ends_with("; Secure"))
    );
}

#[tokio::test]
async fn every_form_needs_this_sessions_csrf_token() {
    let s = TestServer::new();
    let tip = s.report("13800138000", "c1").await.json()["tracking_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (alice, alice_csrf) = sign_in(&s, &s.tokens.alice).await;
    let (_, bob_csrf) = sign_in(&s, &s.tokens.bob).await;
    assert_ne!(alice_csrf, bob_csrf);
    let jar = format!("fs_console={alice}");
    let forms = [
        ("/console/propose".to_owned(), "kind=phone&value=13800138000&action=add&category=police_impersonation&risk=high&reason=x".to_owned()),
        ("/console/proposals/1/approve".to_owned(), String::new()),
        ("/console/proposals/1/reject".to_owned(), "reason=x".to_owned()),
        (format!("/console/tips/{tip}/answer"), "kind=phone&value=13800138000&outcome=approved&message=x".to_owned()),
        ("/console/publish".to_owned(), String::new()),
        ("/console/logout".to_owned(), String::new()),
    ];
    for (path, body) in &forms {
        for csrf in [None, Some(bob_csrf.as_str()), Some("")] {
            let body = match csrf {
                Some(c) => format!("{body}&csrf={c}"),
                None => body.clone(),
            };
            let r = post_form(&s, path, &jar, &body).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} {csrf:?}");
            assert!(String::from_utf8_lossy(&r.body).contains("Form refused"));
        }
    }
    // Nothing happened: no proposal, the tip unanswered, the session alive.
    let n: i64 = s
        .state
        .db
        .blocking(|c| Ok(c.query_row("SELECT COUNT(*) FROM proposals", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(n, 0);
    let r = s.get(&format!("/v1/reports/{tip}"), None).await;
    assert_eq!(r.json()["status"], "received");
    assert_eq!(
        page(&s, "/console/queue", &alice).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn pages_and_actions_have_the_roles_of_their_api_endpoints() {
    let s = TestServer::new();
    let (publisher, _) = sign_in(&s, &s.tokens.publisher).await;
    let (admin, _) = sign_in(&s, &s.tokens.admin).await;
    let (alice, alice_csrf) = sign_in(&s, &s.tokens.alice).await;
    assert_eq!(
        page(&s, "/console/queue", &publisher).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        page(&s, "/console/publish", &publisher).await.status,
        StatusCode::OK
    );
    assert_eq!(
        page(&s, "/console/audit", &publisher).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        page(&s, "/console/audit", &admin).await.status,
        StatusCode::OK
    );
    assert_eq!(
        page(&s, "/console/queue", &admin).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(page(&s, "/console/", &admin).await.status, StatusCode::OK);
    // An analyst sees the preview but may not publish.
    let preview = page(&s, "/console/publish", &alice).await;
    assert!(!String::from_utf8_lossy(&preview.body).contains("Publish release"));
    let r = post_form(
        &s,
        "/console/publish",
        &format!("fs_console={alice}"),
        &format!("csrf={alice_csrf}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn four_eyes_hold_in_the_console_and_a_revoked_token_ends_its_sessions() {
    let s = TestServer::new();
    s.report("13800138000", "c1").await;
    let (alice, alice_csrf) = sign_in(&s, &s.tokens.alice).await;
    let (bob, bob_csrf) = sign_in(&s, &s.tokens.bob).await;
    let r = post_form(
        &s,
        "/console/propose",
        &format!("fs_console={alice}"),
        &format!("csrf={alice_csrf}&kind=phone&value=13800138000&action=add&category=police_impersonation&risk=high&reason={}", enc("冒充公安")),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(location(&r).starts_with("/console/identifier?kind=phone&value=%2B8613800138000"));

    let own = post_form(
        &s,
        "/console/proposals/1/approve",
        &format!("fs_console={alice}"),
        &format!("csrf={alice_csrf}"),
    )
    .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&own.body).contains("four eyes"));

    let ok = post_form(
        &s,
        "/console/proposals/1/approve",
        &format!("fs_console={bob}"),
        &format!("csrf={bob_csrf}"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let p = s.get("/v1/proposals/1", Some(&s.tokens.bob)).await.json();
    assert_eq!(p["status"], "approved");
    assert_eq!(p["reviewer"], "bob");

    let alice_id = s.tokens.alice.split('.').nth(1).unwrap().to_owned();
    s.state
        .db
        .blocking(|c| auth::revoke(c, &alice_id, T0 + 1))
        .unwrap();
    let r = page(&s, "/console/queue", &alice).await;
    assert_eq!(location(&r), "/console/login");
}

#[tokio::test]
async fn an_analyst_reads_a_tipsters_contact_only_by_asking_and_each_read_is_audited() {
    let s = TestServer::new();
    let r = s
        .post(
            "/v1/reports",
            Some(&s.tokens.reporter),
            serde_json::json!({
                "kind": "phone", "value": "13800138000", "category": "police_impersonation",
                "text": "自称公安", "contact": "wechat: li_lei_2026", "client_id": "install-9"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let tip = r.json()["tracking_id"].as_str().unwrap().to_owned();
    let (alice, csrf) = sign_in(&s, &s.tokens.alice).await;
    let jar = format!("fs_console={alice}");
    let path = "/console/identifier?kind=phone&value=%2B8613800138000";
    // The page offers the action but does not show the contact.
    let html = String::from_utf8(page(&s, path, &alice).await.body).unwrap();
    assert!(html.contains("Show contact"), "{html}");
    assert!(!html.contains("li_lei_2026"));
    let reads = |s: &TestServer| {
        s.state
            .db
            .blocking(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM audit WHERE action = 'read_contact'",
                    [],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .unwrap()
    };
    assert_eq!(reads(&s), 0);
    // Without the CSRF token: refused, nothing read.
    let action = format!("/console/tips/{tip}/contact");
    let r = post_form(&s, &action, &jar, "kind=phone&value=13800138000").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(reads(&s), 0);
    // "Show contact": the contact under its tip, one audit row, nothing cached.
    let r = post_form(
        &s,
        &action,
        &jar,
        &format!("kind=phone&value=13800138000&csrf={csrf}"),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let html = String::from_utf8(r.body.clone()).unwrap();
    assert!(html.contains("wechat: li_lei_2026"), "{html}");
    assert!(html.contains(&format!("id=\"contact-{tip}\"")));
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reads(&s), 1);
    // A publisher may not read it (the API's roles), and is not offered the action.
    let (pat, pat_csrf) = sign_in(&s, &s.tokens.publisher).await;
    let r = post_form(
        &s,
        &action,
        &format!("fs_console={pat}"),
        &format!("kind=phone&value=13800138000&csrf={pat_csrf}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!String::from_utf8_lossy(&r.body).contains("li_lei_2026"));
    assert_eq!(reads(&s), 1);
}

#[tokio::test]
async fn times_are_labelled_china_standard_time() {
    let s = TestServer::new();
    let (cookie, _) = sign_in(&s, &s.tokens.publisher).await;
    let html = String::from_utf8(page(&s, "/console/", &cookie).await.body).unwrap();
    // Release 1 was cut at T0; the history shows it at UTC+8, labelled.
    let expected = fraudshield_server::console::format_local(8, T0);
    assert!(expected.ends_with(" CST"), "{expected}");
    assert!(html.contains(&format!("<td>{expected}</td>")), "{html}");
    assert!(html.contains("China Standard Time"), "{html}");
    let utc = time::OffsetDateTime::from_unix_timestamp(T0).unwrap();
    let local = utc.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    assert!(expected.contains(&format!("{:02}:{:02} CST", local.hour(), local.minute())));
}
