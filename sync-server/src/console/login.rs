//! Signing in with an API token and signing out (see [`super::session`]).

use super::session::{self, CsrfForm, LOGIN_COOKIE, Session};
use super::{PageError, PageResult, render};
use crate::app::AppState;
use crate::auth::{self, Role};
use crate::error::AppError;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<&'static str>,
}

fn form_response(
    status: StatusCode,
    error: Option<&'static str>,
    secure: bool,
) -> PageResult<Response> {
    let nonce = session::random_token()?;
    let page = LoginPage {
        csrf: nonce.clone(),
        error,
    };
    let mut resp = (status, render(&page)).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(LOGIN_COOKIE, &nonce, session::LOGIN_FORM_SECS, secure),
    );
    Ok(resp)
}

/// `GET /console/login`: the sign-in form (or the dashboard when already signed in).
pub async fn form(State(state): State<AppState>, req: Request) -> PageResult<Response> {
    let (mut parts, _) = req.into_parts();
    if Session::from_request_parts(&mut parts, &state)
        .await
        .is_ok()
    {
        return Ok(Redirect::to("/console/").into_response());
    }
    form_response(StatusCode::OK, None, session::over_tls(&parts))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/login`: checks the token as the API does and starts a session. Only
/// analyst, publisher and admin tokens may sign in (reporter tokens belong to apps).
pub async fn submit(State(state): State<AppState>, req: Request) -> PageResult<Response> {
    let (parts, body) = req.into_parts();
    let secure = session::over_tls(&parts);
    let login_cookie = session::read_cookie(&parts.headers, LOGIN_COOKIE).map(str::to_owned);
    let bytes = Bytes::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|_| AppError::bad_request("unreadable_body", "the form could not be read"))?;
    let form: LoginForm = serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| AppError::bad_request("invalid_form", "the sign-in form could not be read"))?;
    let Some(expected) = login_cookie else {
        return Err(PageError::Csrf);
    };
    if !session::csrf_matches(&expected, Some(&form.csrf)) {
        return Err(PageError::Csrf);
    }
    let now = state.clock.now();
    let token = form.token.trim().to_owned();
    let caller = state
        .db
        .call(move |c| auth::authenticate(c, &token, now))
        .await?;
    let Some(caller) = caller else {
        return form_response(
            StatusCode::UNAUTHORIZED,
            Some("That token was not accepted: it is unknown, expired or revoked."),
            secure,
        );
    };
    if caller.role == Role::Reporter {
        return form_response(
            StatusCode::FORBIDDEN,
            Some("Reporter tokens belong to apps and cannot sign in to the console."),
            secure,
        );
    }
    let token_id = caller.token_id.clone();
    let id = state
        .db
        .call(move |c| session::create(c, &token_id, now))
        .await?;
    tracing::info!(token_id = %caller.token_id, role = %caller.role, "console sign-in");
    let mut resp = Redirect::to("/console/").into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        session::set_cookie(session::COOKIE, &id, session::LIFETIME_SECS, secure),
    );
    h.append(
        header::SET_COOKIE,
        session::set_cookie(LOGIN_COOKIE, "", 0, secure),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct Nothing {}

/// `POST /console/logout`: ends the session (CSRF-protected like every form).
pub async fn logout(State(state): State<AppState>, req: Request) -> PageResult<Response> {
    let (parts, body) = req.into_parts();
    let secure = session::over_tls(&parts);
    let cookie = session::read_cookie(&parts.headers, session::COOKIE).map(str::to_owned);
    let CsrfForm::<Nothing> { session, .. } =
        CsrfForm::from_request(Request::from_parts(parts, body), &state).await?;
    if let Some(cookie) = cookie {
        state.db.call(move |c| session::end(c, &cookie)).await?;
    }
    tracing::info!(token_id = %session.caller.token_id, "console sign-out");
    let mut resp = Redirect::to("/console/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(session::COOKIE, "", 0, secure),
    );
    Ok(resp)
}
