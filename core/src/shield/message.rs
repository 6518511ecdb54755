//! Message checks with spans in UTF-16 code units, the unit Kotlin (`String`, `CharSequence`)
//! and Swift (`String.utf16`, `NSRange`) index text in.
//!
//! The scanner works in UTF-8 byte offsets; a Chinese character is 3 bytes and 1 UTF-16 unit,
//! an emoji 4 bytes and 2 units (a surrogate pair), so byte offsets would highlight the wrong
//! characters on a phone. The conversion is one pass over the text up to the last span.

use crate::kind::Kind;
use crate::scan::Reason;
use crate::verdict::Verdict;

/// One identifier found in a message, with its verdict.
///
/// `start_utf16..end_utf16` is the half-open range of the raw match in the message, in UTF-16
/// code units: in Kotlin `text.substring(start, end)`, in Swift
/// `NSRange(location: start, length: end - start)`.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct MessageFinding {
    /// What was found.
    pub kind: Kind,
    /// Its canonical form (e.g. `+8613800138000`), for reporting or the user's lists.
    pub canonical: String,
    /// Start of the match, in UTF-16 code units from the start of the message.
    pub start_utf16: u32,
    /// End of the match (exclusive), in UTF-16 code units.
    pub end_utf16: u32,
    /// Why the scanner read it as this kind.
    pub reason: Reason,
    /// The verdict (checked as incoming, all findings against the same list state).
    pub verdict: Verdict,
}

impl std::fmt::Debug for MessageFinding {
    /// Without the canonical form (personal data).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageFinding")
            .field("kind", &self.kind)
            .field("start_utf16", &self.start_utf16)
            .field("end_utf16", &self.end_utf16)
            .field("reason", &self.reason)
            .field("verdict", &self.verdict)
            .finish_non_exhaustive()
    }
}

/// Converts byte offsets into `text` to UTF-16 offsets. Linear in the text when the offsets are
/// ascending (the scanner's spans are in text order); any order is answered correctly. An offset
/// inside a character or past the end counts up to the next character boundary or the end.
pub(crate) struct Utf16Offsets<'t> {
    text: &'t str,
    byte: usize,
    units: usize,
}

impl<'t> Utf16Offsets<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Utf16Offsets {
            text,
            byte: 0,
            units: 0,
        }
    }

    pub(crate) fn at(&mut self, byte: usize) -> u32 {
        if byte < self.byte {
            self.byte = 0;
            self.units = 0;
        }
        let target = byte.min(self.text.len());
        while self.byte < target {
            let Some(c) = self.text.get(self.byte..).and_then(|s| s.chars().next()) else {
                break;
            };
            self.units += c.len_utf16();
            self.byte += c.len_utf8();
        }
        u32::try_from(self.units).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str, byte: usize) -> u32 {
        text[..byte].encode_utf16().count() as u32
    }

    #[test]
    fn matches_encode_utf16_at_every_boundary_in_any_order() {
        let text = "a😀中b𝄞c，１３８\u{200d}";
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let mut conv = Utf16Offsets::new(text);
        for &b in &bounds {
            assert_eq!(conv.at(b), reference(text, b), "at byte {b}");
        }
        for &b in bounds.iter().rev() {
            assert_eq!(conv.at(b), reference(text, b), "at byte {b} going back");
        }
    }
}
