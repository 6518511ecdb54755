//! Two error layers: the rich internal [`Error`] (each component's own error, with the detail a
//! developer needs) and the small public [`ShieldError`] an app acts on. [`ShieldError::from`]
//! is the **one** mapping between them: it decides the public variant and what gets logged, so
//! the ffi crate maps nothing itself.
//!
//! No message of either layer contains an identifier, a report's text or contact, or a token:
//! the component errors are written that way (they say *what* was wrong, never the value), and
//! the facade adds none.

use crate::identifier::NormalizeError;
use crate::outbox::OutboxError;
use crate::release::keys::KeyFileError;
use crate::store::StoreError;
use crate::sync::SyncError;

/// What went wrong, in terms an app can act on. Every message is safe to log and to show: it
/// never contains an identifier, a report's text or a token.
///
/// | variant | what the app does |
/// |---|---|
/// | `InvalidInput` | tell the user what to fix (the reason says what was wrong) |
/// | `Storage` | the device storage failed: retry later, report if it persists |
/// | `VerificationFailed` | an update was refused (tampered, replayed, expired): keep the current list, retry at the next poll |
/// | `Network` | retry at the next poll |
/// | `Backoff` | the server asked to wait: schedule the next sync after `seconds` |
/// | `Degraded` | the local list is damaged or missing: lookups answer "list unavailable"; sync (a full snapshot repairs it) |
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
pub enum ShieldError {
    /// The input is not valid (a malformed number, an unknown kind, an empty report).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong (never the value).
        reason: String,
    },
    /// Reading or writing the state directory failed.
    #[error("storage error: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// An update from the server was refused: bad signature, rollback, wrong hash, expired
    /// manifest… The current list keeps serving.
    #[error("update refused: {reason}")]
    VerificationFailed {
        /// Why it was refused.
        reason: String,
    },
    /// The network failed or the server answered unexpectedly.
    #[error("network error: {reason}")]
    Network {
        /// What failed.
        reason: String,
    },
    /// The server asked the app to wait this many seconds before the next request.
    #[error("server asked to wait {seconds} s")]
    Backoff {
        /// Seconds to wait.
        seconds: u64,
    },
    /// The local blocklist is damaged or missing; lookups answer "list unavailable" until a
    /// sync installs a full snapshot.
    #[error("list unavailable: {reason}")]
    Degraded {
        /// What was found damaged.
        reason: String,
    },
}

/// The internal errors the facade meets, kept whole until [`ShieldError::from`] maps them.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The on-device store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The list sync.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// An identifier did not normalize.
    #[error(transparent)]
    Normalize(#[from] NormalizeError),
    /// The citizen report outbox.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The configured trusted keys.
    #[error("trusted keys: {0}")]
    TrustedKeys(#[from] KeyFileError),
    /// A configuration value or an argument is not valid.
    #[error("{0}")]
    Invalid(String),
}

impl From<Error> for ShieldError {
    /// The one mapping from internal to public errors. Storage failures are logged (at `warn`,
    /// with the internal detail, which never holds personal data); input errors are not (the app
    /// shows them to the user).
    fn from(e: Error) -> ShieldError {
        let public = match &e {
            Error::Normalize(n) => ShieldError::InvalidInput {
                reason: n.to_string(),
            },
            Error::Invalid(reason) => ShieldError::InvalidInput {
                reason: reason.clone(),
            },
            Error::TrustedKeys(k) => ShieldError::InvalidInput {
                reason: format!("trusted keys: {k}"),
            },
            Error::Store(s) => store_error(s),
            Error::Sync(s) => sync_error(s),
            Error::Outbox(o) => match o {
                OutboxError::Invalid(reason) => ShieldError::InvalidInput {
                    reason: reason.clone(),
                },
                other => ShieldError::Storage {
                    reason: other.to_string(),
                },
            },
        };
        match &public {
            ShieldError::Storage { .. } | ShieldError::Degraded { .. } => {
                log::warn!("fraudshield: {e}");
            }
            ShieldError::VerificationFailed { .. } | ShieldError::Network { .. } => {
                log::info!("fraudshield: {e}");
            }
            ShieldError::InvalidInput { .. } | ShieldError::Backoff { .. } => {}
        }
        public
    }
}

fn store_error(s: &StoreError) -> ShieldError {
    match s {
        StoreError::Corrupt(_) | StoreError::Snapshot(_) | StoreError::DigestMismatch { .. } => {
            ShieldError::Degraded {
                reason: s.to_string(),
            }
        }
        StoreError::InvalidChange { .. } | StoreError::BuiltinProtected => {
            ShieldError::InvalidInput {
                reason: s.to_string(),
            }
        }
        _ => ShieldError::Storage {
            reason: s.to_string(),
        },
    }
}

fn sync_error(s: &SyncError) -> ShieldError {
    match s {
        SyncError::Network(reason) => ShieldError::Network {
            reason: reason.clone(),
        },
        SyncError::Backoff { seconds } => ShieldError::Backoff { seconds: *seconds },
        SyncError::InvalidUpdate(r) => ShieldError::VerificationFailed {
            reason: r.to_string(),
        },
        SyncError::Stale { .. } => ShieldError::VerificationFailed {
            reason: "the newest list the server offers has expired".to_string(),
        },
        SyncError::Storage(reason) => ShieldError::Storage {
            reason: reason.clone(),
        },
    }
}

macro_rules! via_internal {
    ($($t:ty),*) => {$(
        impl From<$t> for ShieldError {
            /// Through [`Error`], so the mapping stays in one place.
            fn from(e: $t) -> ShieldError {
                ShieldError::from(Error::from(e))
            }
        }
    )*};
}
via_internal!(
    StoreError,
    SyncError,
    NormalizeError,
    OutboxError,
    KeyFileError
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Rejection;

    type Expect = fn(&ShieldError) -> bool;

    #[test]
    fn each_internal_error_maps_to_the_variant_an_app_acts_on() {
        let cases: Vec<(Error, Expect)> = vec![
            (Error::Normalize(NormalizeError::Empty), |e| {
                matches!(e, ShieldError::InvalidInput { .. })
            }),
            (Error::Store(StoreError::Corrupt("x".into())), |e| {
                matches!(e, ShieldError::Degraded { .. })
            }),
            (Error::Store(StoreError::Locked), |e| {
                matches!(e, ShieldError::Storage { .. })
            }),
            (Error::Store(StoreError::BuiltinProtected), |e| {
                matches!(e, ShieldError::InvalidInput { .. })
            }),
            (Error::Sync(SyncError::Backoff { seconds: 7 }), |e| {
                *e == ShieldError::Backoff { seconds: 7 }
            }),
            (Error::Sync(SyncError::Network("reset".into())), |e| {
                matches!(e, ShieldError::Network { .. })
            }),
            (
                Error::Sync(SyncError::InvalidUpdate(Rejection::BadSignature)),
                |e| matches!(e, ShieldError::VerificationFailed { .. }),
            ),
            (Error::Sync(SyncError::Stale { since: 5 }), |e| {
                matches!(e, ShieldError::VerificationFailed { .. })
            }),
            (Error::TrustedKeys(KeyFileError::Empty), |e| {
                matches!(e, ShieldError::InvalidInput { .. })
            }),
        ];
        for (internal, expected) in cases {
            let text = internal.to_string();
            let public = ShieldError::from(internal);
            assert!(expected(&public), "{text} mapped to {public:?}");
        }
    }
}
