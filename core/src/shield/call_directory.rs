//! What the iOS Call Directory extension loads: flagged phone numbers in ascending order, in
//! batches, and the changes since the list version of its last load.
//!
//! A Call Directory extension must add entries in strictly ascending number order and has
//! little memory, so the full export is a cursor the extension drains in batches
//! ([`CallDirectoryCursor::next_batch`]); after the first full load it asks only for
//! [`Shield::call_directory_changes`](super::Shield::call_directory_changes) since the version
//! it loaded. Edits of the user's own lists are not in the change log: after one, the app
//! reloads its Call Directory in full.

use crate::store::PhoneNumbers;
use crate::verdict::Verdict;
use std::sync::Mutex;

/// One number for the Call Directory.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CallDirectoryEntry {
    /// The E.164 number as an integer without `+` (`8613800138000`), the form
    /// `CXCallDirectoryPhoneNumber` takes.
    pub phone_number: u64,
    /// Its incoming verdict: block it (`Action::Block`) or label it (`Action::Warn`, with the
    /// category for the label).
    pub verdict: Verdict,
}

impl std::fmt::Debug for CallDirectoryEntry {
    /// Without the number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallDirectoryEntry")
            .field("verdict", &self.verdict)
            .finish_non_exhaustive()
    }
}

/// One change for an incremental Call Directory load.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CallDirectoryChange {
    /// The E.164 number as an integer without `+`.
    pub phone_number: u64,
    /// The new verdict (add or replace the entry), or `None` (remove it).
    pub verdict: Option<Verdict>,
}

impl std::fmt::Debug for CallDirectoryChange {
    /// Without the number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallDirectoryChange")
            .field("verdict", &self.verdict)
            .finish_non_exhaustive()
    }
}

/// What the Call Directory should do since the version it loaded.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CallDirectoryUpdate {
    /// Apply these changes (ascending by number), then remember `list_version`.
    Incremental {
        /// The list version to remember for the next incremental load.
        list_version: u64,
        /// The changes, ascending by number.
        changes: Vec<CallDirectoryChange>,
    },
    /// The change log does not reach back that far: remove everything and load all entries
    /// from a new cursor.
    Reload {
        /// The current list version.
        list_version: u64,
    },
}

impl std::fmt::Debug for CallDirectoryUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallDirectoryUpdate::Incremental {
                list_version,
                changes,
            } => write!(f, "Incremental(v{list_version}, {} changes)", changes.len()),
            CallDirectoryUpdate::Reload { list_version } => write!(f, "Reload(v{list_version})"),
        }
    }
}

/// The flagged phone numbers of one list state, ascending, handed out in batches. `Send + Sync`
/// (an app may hand it to another thread); the state it reads from is pinned when it is created,
/// so a sync meanwhile does not change what it lists.
pub struct CallDirectoryCursor {
    numbers: Mutex<PhoneNumbers>,
    list_version: u64,
}

impl CallDirectoryCursor {
    pub(crate) fn new(numbers: PhoneNumbers, list_version: u64) -> Self {
        CallDirectoryCursor {
            numbers: Mutex::new(numbers),
            list_version,
        }
    }

    /// The next at most `max` entries (at least one is asked for); empty when the export is
    /// done. No disk writes; reads pages of the list file.
    pub fn next_batch(&self, max: u32) -> Vec<CallDirectoryEntry> {
        self.numbers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_ref()
            .take(max.max(1) as usize)
            .map(|(phone_number, verdict)| CallDirectoryEntry {
                phone_number,
                verdict,
            })
            .collect()
    }

    /// The list version to remember once the export is loaded, for the next
    /// [`Shield::call_directory_changes`](super::Shield::call_directory_changes). Never newer
    /// than the state listed (at worst older: the next incremental load then repeats a few
    /// changes, which is harmless).
    pub fn list_version(&self) -> u64 {
        self.list_version
    }
}
