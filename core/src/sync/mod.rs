//! Client sync: fetch → verify → stage → swap.
#[cfg(feature = "http")]
pub mod http;
pub mod transport;
