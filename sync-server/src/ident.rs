//! Identifiers as the API shows and takes them.

use crate::error::{AppError, AppResult};
use fraudshield_core::identifier;
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use serde::{Deserialize, Serialize};

/// An identifier in a request: kind and value as typed, optionally a phone prefix rule.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct IdentifierInput {
    /// `phone`, `bank`, `qq` or `alipay`.
    #[schema(value_type = String, example = "phone")]
    pub kind: Kind,
    /// The value in any usual spelling.
    pub value: String,
    /// A phone prefix rule (`+86 170*`): flags every number starting with it.
    #[serde(default)]
    pub prefix: bool,
}

impl IdentifierInput {
    /// Normalizes to a key. Errors say what was wrong, never the value.
    pub fn key(&self) -> AppResult<Key> {
        normalize(self.kind, &self.value, self.prefix)
    }
}

/// Normalizes `value` of `kind` (a prefix rule when `prefix`) to its key.
pub fn normalize(kind: Kind, value: &str, prefix: bool) -> AppResult<Key> {
    let id = if prefix {
        if kind != Kind::Phone {
            return Err(AppError::unprocessable(
                "invalid_identifier",
                "prefix rules exist for phone numbers only",
            ));
        }
        identifier::normalize_phone_prefix(value)
    } else {
        identifier::normalize(kind, value)
    };
    id.map(|id| id.key())
        .map_err(|e| AppError::unprocessable("invalid_identifier", format!("invalid {kind}: {e}")))
}

/// An identifier in a response: kind and canonical form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct IdentifierView {
    /// The kind.
    #[schema(value_type = String, example = "phone")]
    pub kind: Kind,
    /// The canonical form.
    pub value: String,
    /// Whether this is a prefix rule (set on entries and proposals).
    pub prefix: bool,
}

impl IdentifierView {
    /// The view of a key.
    pub fn of(key: &Key, prefix: bool) -> IdentifierView {
        IdentifierView {
            kind: key.kind(),
            value: key.canonical().to_owned(),
            prefix,
        }
    }
}

/// Reads a key stored in the database.
pub fn key_from_db(bytes: &[u8]) -> rusqlite::Result<Key> {
    Key::from_bytes(bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e))
    })
}
