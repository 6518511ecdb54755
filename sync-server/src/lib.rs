//! The fraudshield sync service.
//!
//! Not built yet: the server issue fills this crate (axum, tips, review, publishing). The
//! publisher half of the update protocol lives in `fraudshield-core` so both sides share one
//! definition.

pub use fraudshield_core as core;
