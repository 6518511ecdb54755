//! Finding identifiers inside an SMS or chat message.
//!
//! PROVISIONAL: `Finding` and `scan_text` are the contract; the context-word rules are being
//! written.

use crate::identifier::Identifier;
use std::ops::Range;

/// One identifier found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The normalized identifier.
    pub identifier: Identifier,
    /// Byte span of the raw match in the scanned text.
    pub span: Range<usize>,
}

/// Every phone number, bank account, QQ number and Alipay account in `text`, in text order.
pub fn scan_text(text: &str) -> Vec<Finding> {
    let _ = text;
    Vec::new()
}
