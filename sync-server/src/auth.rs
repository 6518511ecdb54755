//! API tokens and roles.
//!
//! A token is `fs1.<id>.<secret>`: a 12-hex-digit public id (shown in lists and the audit log)
//! and 32 random bytes (base64url). It is shown once, when it is created; the database keeps
//! only its SHA-256 (a fast hash is right for a 256-bit random secret: there is nothing to
//! guess). Tokens carry one [`Role`], a holder name, an optional expiry and a revocation time.
//!
//! Every endpoint declares the roles that may call it ([`crate::app::endpoints`]); a request
//! without a valid token gets 401, a valid token of another role 403.
//!
//! The four-eyes rule compares both the token id and the holder name: one person holding two
//! analyst tokens under the same name still cannot approve their own proposal.

use crate::error::{AppError, AppResult};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fraudshield_core::hex::encode as hex;
use fraudshield_core::release::keys::sha256;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An app's key: uploads citizens' tips.
    Reporter,
    /// Reviews tips, proposes and approves changes, answers tipsters, reads the audit log.
    Analyst,
    /// Cuts releases.
    Publisher,
    /// Reads the audit log; manages tokens (with the admin commands).
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Reporter, Role::Analyst, Role::Publisher, Role::Admin];

    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Reporter => "reporter",
            Role::Analyst => "analyst",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the four.
#[derive(Debug, thiserror::Error)]
#[error("unknown role (expected reporter, analyst, publisher or admin)")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownRole)
    }
}

/// Who is calling: the token that authenticated the request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's public id.
    pub token_id: String,
    /// The holder's name.
    pub name: String,
    /// The token's role.
    pub role: Role,
    /// The request id (`x-request-id`), for the audit log.
    pub request_id: Option<String>,
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// Public id.
    pub id: String,
    /// Role.
    pub role: Role,
    /// Holder name.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, if it expires.
    pub expires_at: Option<i64>,
    /// Unix seconds, if revoked.
    pub revoked_at: Option<i64>,
}

/// Fills `buf` with random bytes from the system's generator.
pub fn random_bytes(buf: &mut [u8]) -> AppResult<()> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| AppError::internal("the system random generator failed"))
}

/// Creates a token; returns its id and the full token text (show it once).
pub fn create(
    conn: &Connection,
    role: Role,
    name: &str,
    expires_at: Option<i64>,
    now: i64,
) -> AppResult<(String, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_name",
            "token holder name must be 1-64 printable characters",
        ));
    }
    let mut id = [0u8; 6];
    random_bytes(&mut id)?;
    let mut secret = [0u8; 32];
    random_bytes(&mut secret)?;
    let id = hex(&id);
    let token = format!("fs1.{id}.{}", URL_SAFE_NO_PAD.encode(secret));
    conn.execute(
        "INSERT INTO tokens(id, hash, role, name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, sha256(token.as_bytes()).to_vec(), role.as_str(), name, now, expires_at],
    )?;
    Ok((id, token))
}

/// The caller a presented token stands for, if it is valid at `now`.
pub fn authenticate(conn: &Connection, token: &str, now: i64) -> AppResult<Option<Caller>> {
    if token.len() > 200 {
        return Ok(None);
    }
    caller_where(conn, "hash = ?1", &sha256(token.as_bytes()).to_vec(), now)
}

/// The caller a token id stands for, if that token is still valid at `now` (not revoked, not
/// expired): the console's sessions re-check their token with it on every request.
pub fn caller_by_id(conn: &Connection, id: &str, now: i64) -> AppResult<Option<Caller>> {
    caller_where(conn, "id = ?1", &id, now)
}

/// One validity rule for both lookups: the row exists, is not revoked and has not expired.
fn caller_where(
    conn: &Connection,
    condition: &str,
    arg: &dyn rusqlite::ToSql,
    now: i64,
) -> AppResult<Option<Caller>> {
    let row = conn
        .query_row(
            &format!("SELECT id, role, name, expires_at, revoked_at FROM tokens WHERE {condition}"),
            params![arg],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((id, role, name, expires, revoked)) = row else {
        return Ok(None);
    };
    if revoked.is_some() || expires.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let role = role
        .parse()
        .map_err(|_| AppError::internal("token row has an unknown role"))?;
    Ok(Some(Caller {
        token_id: id,
        name,
        role,
        request_id: None,
    }))
}

/// Every token, newest first.
pub fn list(conn: &Connection) -> AppResult<Vec<TokenInfo>> {
    let mut st = conn.prepare(
        "SELECT id, role, name, created_at, expires_at, revoked_at FROM tokens ORDER BY created_at DESC, id",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<i64>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, role, name, created_at, expires_at, revoked_at) = row?;
        out.push(TokenInfo {
            id,
            role: role
                .parse()
                .map_err(|_| AppError::internal("token row has an unknown role"))?,
            name,
            created_at,
            expires_at,
            revoked_at,
        });
    }
    Ok(out)
}

/// Revokes a token by id; false if there is no such token (or it was already revoked).
pub fn revoke(conn: &Connection, id: &str, now: i64) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )?;
    Ok(n == 1)
}

/// Parses `30d`, `12h`, `90m` or a number of seconds into seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let n: i64 = num.parse().ok().filter(|n| *n > 0)?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut c).unwrap();
        c
    }

    #[test]
    fn a_token_authenticates_until_it_expires_or_is_revoked() {
        let c = db();
        let (id, token) = create(&c, Role::Analyst, "alice", Some(1000), 10).unwrap();
        assert!(token.starts_with(&format!("fs1.{id}.")));
        let who = authenticate(&c, &token, 999).unwrap().unwrap();
        assert_eq!((who.role, who.name.as_str()), (Role::Analyst, "alice"));
        assert!(authenticate(&c, &token, 1000).unwrap().is_none());
        let (id2, t2) = create(&c, Role::Publisher, "bob", None, 10).unwrap();
        assert!(authenticate(&c, &t2, 5000).unwrap().is_some());
        assert!(revoke(&c, &id2, 20).unwrap());
        assert!(!revoke(&c, &id2, 21).unwrap());
        assert!(authenticate(&c, &t2, 30).unwrap().is_none());
        assert!(authenticate(&c, "fs1.nope.nope", 30).unwrap().is_none());
        // Only hashes are stored.
        let stored: Vec<u8> = c
            .query_row("SELECT hash FROM tokens WHERE id = ?1", [&id], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, token.as_bytes());
        assert_eq!(list(&c).unwrap().len(), 2);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d"), Some(30 * 86_400));
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("0d"), None);
        assert_eq!(parse_duration("x"), None);
    }
}
