//! Console sessions and CSRF protection.
//!
//! ## Signing in
//! An analyst, publisher or admin pastes their API token into the sign-in form (a POST body,
//! never a URL). The token is checked with [`auth::authenticate`] — the same check the JSON API
//! makes — and is then forgotten: the browser gets a **session id** instead, 32 random bytes
//! (base64url) in the cookie `fs_console`:
//! `HttpOnly; SameSite=Strict; Path=/console; Max-Age=…`, plus `Secure` when the request came
//! over TLS (an `https` URI, or `X-Forwarded-Proto: https` from the proxy that terminates TLS).
//!
//! The server keeps only the SHA-256 of the session id (table `console_sessions`), the token
//! id it stands for, the session's CSRF token and its expiry ([`LIFETIME_SECS`]). Every request
//! re-checks the token with [`auth::caller_by_id`]: revoking or expiring the token ends its
//! sessions at once, and the role is always the token's current one.
//!
//! ## CSRF
//! Each session has its own random CSRF token (synchronizer token pattern). Every form the
//! console renders carries it in a hidden `csrf` field, and every POST handler takes its body
//! through [`CsrfForm`], which refuses the request with 403 before anything else happens when
//! the field is missing or differs. `SameSite=Strict` already keeps other sites' forms from
//! sending the cookie; the token also covers same-site attackers and old browsers.
//!
//! The sign-in form itself has no session yet: it is protected by a double-submit token, a
//! random value in a short-lived `fs_console_login` cookie that the form must repeat.
//!
//! Nothing here logs a session id, a CSRF token or an API token.

use crate::app::AppState;
use crate::auth::{self, Caller, random_bytes};
use crate::error::{AppError, AppResult};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fraudshield_core::release::keys::sha256;
use rusqlite::{Connection, OptionalExtension, params};
use serde::de::DeserializeOwned;

use super::PageError;

/// The session cookie.
pub const COOKIE: &str = "fs_console";
/// The sign-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "fs_console_login";
/// How long a session lasts after signing in (8 hours: one shift).
pub const LIFETIME_SECS: i64 = 8 * 3600;
/// How long a sign-in form stays valid.
pub const LOGIN_FORM_SECS: i64 = 1800;
/// The name of the hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in analyst, publisher or admin.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who, as the domain functions want it (with this request's id for the audit log).
    pub caller: Caller,
    /// The session's CSRF token, rendered into every form.
    pub csrf: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// 32 random bytes, base64url without padding (43 characters).
pub fn random_token() -> AppResult<String> {
    let mut b = [0u8; 32];
    random_bytes(&mut b)?;
    Ok(URL_SAFE_NO_PAD.encode(b))
}

/// Starts a session for `token_id`; returns the cookie value (shown to the browser only).
/// Expired sessions are swept on the way.
pub fn create(conn: &Connection, token_id: &str, now: i64) -> AppResult<String> {
    let id = random_token()?;
    let csrf = random_token()?;
    conn.execute(
        "DELETE FROM console_sessions WHERE expires_at <= ?1",
        params![now],
    )?;
    conn.execute(
        "INSERT INTO console_sessions(id_hash, token_id, csrf, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            sha256(id.as_bytes()).to_vec(),
            token_id,
            csrf,
            now,
            now + LIFETIME_SECS
        ],
    )?;
    Ok(id)
}

/// The session a cookie value stands for, if it and its token are still valid at `now`.
pub fn lookup(conn: &Connection, cookie: &str, now: i64) -> AppResult<Option<Session>> {
    if cookie.len() > 100 {
        return Ok(None);
    }
    let row: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT token_id, csrf, expires_at FROM console_sessions
             WHERE id_hash = ?1 AND expires_at > ?2",
            params![sha256(cookie.as_bytes()).to_vec(), now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((token_id, csrf, expires_at)) = row else {
        return Ok(None);
    };
    Ok(
        auth::caller_by_id(conn, &token_id, now)?.map(|caller| Session {
            caller,
            csrf,
            expires_at,
        }),
    )
}

/// Ends the session a cookie value stands for (signing out).
pub fn end(conn: &Connection, cookie: &str) -> AppResult<()> {
    conn.execute(
        "DELETE FROM console_sessions WHERE id_hash = ?1",
        params![sha256(cookie.as_bytes()).to_vec()],
    )?;
    Ok(())
}

/// Whether a submitted CSRF token equals the expected one. Both are hashed first, so the
/// comparison's timing tells nothing about the token.
pub fn csrf_matches(expected: &str, given: Option<&str>) -> bool {
    match given {
        Some(g) if !expected.is_empty() => sha256(expected.as_bytes()) == sha256(g.as_bytes()),
        _ => false,
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn read_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// Whether the browser reached us over TLS (directly or through a TLS-terminating proxy).
pub fn over_tls(parts: &Parts) -> bool {
    parts.uri.scheme_str() == Some("https")
        || parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for the console's cookies (`max_age` 0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={max_age}{secure}"
    );
    // Names and values are ours: base64url and fixed names, always valid header text.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let Some(cookie) = read_cookie(&parts.headers, COOKIE).map(str::to_owned) else {
            return Err(PageError::SignIn);
        };
        let now = state.clock.now();
        let found = state
            .db
            .call(move |c| lookup(c, &cookie, now))
            .await
            .map_err(PageError::App)?;
        let mut session = found.ok_or(PageError::SignIn)?;
        session.caller.request_id = request_id(parts);
        Ok(session)
    }
}

/// A POST form body from a signed-in user whose CSRF token checked out, parsed into `T`.
///
/// The order is fixed: session (else back to sign-in), then the CSRF token (else 403), then the
/// form's own fields (else 400). A handler that takes a `CsrfForm` cannot forget the check.
#[derive(Debug)]
pub struct CsrfForm<T> {
    /// Who posted it.
    pub session: Session,
    /// The form's fields.
    pub form: T,
}

/// The CSRF token of a urlencoded body, if it has one.
fn csrf_field(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v)
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            PageError::App(if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::too_large()
            } else {
                AppError::bad_request("unreadable_body", "the form could not be read")
            })
        })?;
        if !csrf_matches(&session.csrf, csrf_field(&bytes).as_deref()) {
            return Err(PageError::Csrf);
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| {
            PageError::App(AppError::bad_request(
                "invalid_form",
                "a form field is missing or has an unknown value",
            ))
        })?;
        Ok(CsrfForm { session, form })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::auth::Role;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut c).unwrap();
        c
    }

    #[test]
    fn a_session_lives_until_it_expires_is_ended_or_its_token_is_revoked() {
        let c = db();
        let (id, _) = auth::create(&c, Role::Analyst, "alice", None, 10).unwrap();
        let cookie = create(&c, &id, 100).unwrap();
        assert_eq!(cookie.len(), 43);
        let s = lookup(&c, &cookie, 101).unwrap().unwrap();
        assert_eq!(
            (s.caller.name.as_str(), s.caller.role),
            ("alice", Role::Analyst)
        );
        assert_eq!(s.expires_at, 100 + LIFETIME_SECS);
        assert!(lookup(&c, &cookie, 100 + LIFETIME_SECS).unwrap().is_none());
        assert!(lookup(&c, "not-a-session", 101).unwrap().is_none());
        // Only the hash is stored.
        let stored: Vec<u8> = c
            .query_row("SELECT id_hash FROM console_sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, cookie.as_bytes());

        let cookie2 = create(&c, &id, 200).unwrap();
        assert_ne!(cookie, cookie2);
        end(&c, &cookie2).unwrap();
        assert!(lookup(&c, &cookie2, 201).unwrap().is_none());

        let cookie3 = create(&c, &id, 300).unwrap();
        assert!(auth::revoke(&c, &id, 301).unwrap());
        assert!(lookup(&c, &cookie3, 302).unwrap().is_none());
    }

    #[test]
    fn sessions_have_their_own_csrf_tokens() {
        let c = db();
        let (id, _) = auth::create(&c, Role::Analyst, "alice", None, 10).unwrap();
        let a = lookup(&c, &create(&c, &id, 100).unwrap(), 101)
            .unwrap()
            .unwrap();
        let b = lookup(&c, &create(&c, &id, 100).unwrap(), 101)
            .unwrap()
            .unwrap();
        assert_ne!(a.csrf, b.csrf);
        assert!(csrf_matches(&a.csrf, Some(&a.csrf)));
        assert!(!csrf_matches(&a.csrf, Some(&b.csrf)));
        assert!(!csrf_matches(&a.csrf, None));
        assert!(!csrf_matches(&a.csrf, Some("")));
        assert!(!csrf_matches("", Some("")));
    }

    #[test]
    fn cookies_are_read_and_written_strictly() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; fs_console=abc"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("fs_console_login=xyz"),
        );
        assert_eq!(read_cookie(&h, COOKIE), Some("abc"));
        assert_eq!(read_cookie(&h, LOGIN_COOKIE), Some("xyz"));
        assert_eq!(read_cookie(&h, "b"), None);
        let v = set_cookie(COOKIE, "abc", 60, false);
        let v = v.to_str().unwrap();
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Strict") && !v.contains("Secure"));
        assert!(
            set_cookie(COOKIE, "abc", 60, true)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn the_csrf_field_is_found_in_a_form_body() {
        assert_eq!(
            csrf_field(b"a=1&csrf=tok%2Den&b=2").as_deref(),
            Some("tok-en")
        );
        assert_eq!(csrf_field(b"a=1&b=2"), None);
    }
}
