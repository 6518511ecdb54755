//! No panic text crosses the FFI.
//!
//! uniffi catches a Rust panic and hands the app an exception (Kotlin `InternalException`,
//! Swift `InternalError`) whose message is the panic's payload. A payload is whatever the
//! panicking code formatted, and that could be a phone number or a report's text. So every
//! exported method runs its body through [`guarded`], which catches the panic first and
//! re-raises it with one fixed message ([`PANIC_MESSAGE`]); uniffi then passes only that on.
//!
//! The standard panic hook would still print the original payload to stderr (on iOS that can
//! reach the device console). The hook installed here replaces it for panics on a thread that
//! is inside an SDK call: it prints the source location only, and [`guarded`] then logs that
//! location through the app's logger. Panics elsewhere in the process (the app's own Rust code)
//! go to the hook that was there before.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// The message of the exception an app receives when the SDK panicked (a bug in the SDK).
pub(crate) const PANIC_MESSAGE: &str =
    "fraudshield: internal error (a bug in the SDK; details withheld to protect personal data)";

thread_local! {
    /// How many SDK calls this thread is inside (a logger callback can re-enter).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Where the last contained panic on this thread happened (file and line only).
    static LOCATION: Cell<Option<(String, u32)>> = const { Cell::new(None) };
}

/// Runs `body`, one exported method's delegation. If it panics, the panic goes on with
/// [`PANIC_MESSAGE`] as its payload instead of the original text, and its source location is
/// logged (at `Error`).
pub(crate) fn guarded<T>(body: impl FnOnce() -> T) -> T {
    match contained(body) {
        Ok(value) => value,
        Err(location) => fail(location),
    }
}

/// Runs `body` as part of an SDK call and catches a panic: `Err` carries where it happened.
/// The payload is dropped unread.
pub(crate) fn contained<T>(body: impl FnOnce() -> T) -> Result<T, Option<(String, u32)>> {
    enter();
    // Unwind safety: after a panic the SDK call fails as a whole; the core's shared state is
    // behind locks and atomically swapped values that a panic cannot leave half-written, which
    // is also what uniffi's own `catch_unwind` around every call assumes.
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    leave();
    outcome.map_err(caught)
}

// Only the catching itself is generic (one copy per exported method); the rest is out of line.

#[inline(never)]
fn enter() {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
}

#[inline(never)]
fn leave() {
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
}

#[cold]
#[inline(never)]
fn caught(payload: Box<dyn Any + Send>) -> Option<(String, u32)> {
    drop(payload);
    LOCATION.with(Cell::take)
}

#[cold]
#[inline(never)]
fn fail(location: Option<(String, u32)>) -> ! {
    if let Some((file, line)) = location {
        log::error!("internal error at {file}:{line}; the call failed");
    }
    panic::resume_unwind(Box::new(PANIC_MESSAGE))
}

/// Installs the panic hook once per process (see the module docs).
pub(crate) fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) == 0 {
                return previous(info);
            }
            match info.location() {
                Some(at) => eprintln!("fraudshield: internal error at {}:{}", at.file(), at.line()),
                None => eprintln!("fraudshield: internal error"),
            }
            LOCATION.with(|l| l.set(info.location().map(|at| (at.file().to_owned(), at.line()))));
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_replaced_and_the_location_kept() {
        let caught = panic::catch_unwind(|| guarded(|| panic!("number +8613800138000")));
        let payload = caught.expect_err("it panicked");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&PANIC_MESSAGE));

        let location = contained(|| panic!("13800138000")).expect_err("it panicked");
        let (file, line) = location.expect("the hook recorded where");
        assert!(file.ends_with("panics.rs"), "{file}");
        assert!(line > 0);
    }

    #[test]
    fn values_pass_through() {
        assert_eq!(guarded(|| 7), 7);
        assert_eq!(contained(|| "ok"), Ok("ok"));
    }
}
