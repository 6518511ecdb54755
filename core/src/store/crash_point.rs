//! Named points inside the store's base writes (compaction, full snapshots, commits written as a
//! base), where a crash test can stop the process and kill it at an exact step instead of after
//! a guessed delay.
//!
//! Without the `crash-points` feature every point compiles to nothing. With it, a test installs
//! one process-wide hook with [`set_hook`]; the store calls it with the point's name as it passes
//! each point, on the writing thread, so a hook that blocks there (until the parent test kills
//! the process) freezes the write at that step. Never enable the feature in a shipped build.
//!
//! The points, in the order a compaction passes them: [`COMPACTION_DUE`], [`ENTRIES`] (once
//! every [`ENTRIES_EVERY`] entries written), [`TEMP_WRITTEN`], [`TEMP_CHECKED`], [`RENAMED`],
//! [`RECORDED`], [`OLD_REMOVED`].

/// A compaction recorded that it is due (before it writes anything else).
pub const COMPACTION_DUE: &str = "compaction due recorded";
/// Another [`ENTRIES_EVERY`] entries went into the new base's temp file.
pub const ENTRIES: &str = "base entries written";
/// How many entries [`ENTRIES`] stands for.
pub const ENTRIES_EVERY: u64 = 1024;
/// The new base's temp file is complete and fsynced.
pub const TEMP_WRITTEN: &str = "base temp file written";
/// The temp file was read back and fully checked.
pub const TEMP_CHECKED: &str = "base temp file checked";
/// The temp file was renamed to its base name and the directory fsynced (not yet live).
pub const RENAMED: &str = "base renamed";
/// The SQLite transaction naming the new base live committed.
pub const RECORDED: &str = "base recorded live";
/// The old base file was removed (the write is complete).
pub const OLD_REMOVED: &str = "old base removed";

#[cfg(feature = "crash-points")]
static HOOK: std::sync::OnceLock<fn(&'static str)> = std::sync::OnceLock::new();

/// Installs the process-wide hook called at every point. Only the first call installs one;
/// returns whether this call did.
#[cfg(feature = "crash-points")]
pub fn set_hook(hook: fn(&'static str)) -> bool {
    HOOK.set(hook).is_ok()
}

/// Passes the point `name`.
#[inline]
pub(crate) fn reached(name: &'static str) {
    #[cfg(feature = "crash-points")]
    if let Some(hook) = HOOK.get() {
        hook(name);
    }
    #[cfg(not(feature = "crash-points"))]
    let _ = name;
}
