//! The log sink: the app receives the SDK's log lines through a [`Logger`] it implements (Logcat,
//! os_log, its crash reporter), at a level it chooses.
//!
//! `fraudshield-core` logs through the `log` facade; this module is the `log` backend of the
//! SDK and forwards each record at or above the chosen level to the app's [`Logger`]. The core
//! writes no identifier, report text, contact, token or URL query into a log line (its errors
//! name what was wrong, never the value), so nothing here needs filtering.

use std::sync::{Arc, Once, RwLock};

/// How important a log line is. A logger receives the lines at its level and above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum LogLevel {
    /// Details of each step (for debugging an integration).
    Debug,
    /// Store opened, sync finished, reports uploaded.
    Info,
    /// Degraded store, refused updates, network and storage failures.
    Warn,
    /// Failures the app should look at.
    Error,
}

impl LogLevel {
    fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Error => log::LevelFilter::Error,
        }
    }

    fn of(level: log::Level) -> LogLevel {
        match level {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug | log::Level::Trace => LogLevel::Debug,
        }
    }
}

/// Receives the SDK's log lines. Implemented by the app.
///
/// Thread-safety: `log` is called on whichever thread ran the SDK method that logs, possibly
/// several at once; it must be quick and must not call back into the SDK. An exception it
/// throws is swallowed (the line is lost; the SDK call goes on).
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One log line. `message` never contains personal data (identifiers, report text, tokens).
    fn log(&self, level: LogLevel, message: String);
}

/// Installs `logger` for the whole process, receiving lines at `level` and above; replaces the
/// previous logger. Pass `None` to stop logging.
///
/// Thread-safety: safe from any thread. Touches neither disk nor network: fine on the main
/// thread.
#[uniffi::export]
pub fn set_logger(logger: Option<Arc<dyn Logger>>, level: LogLevel) {
    crate::panics::install_hook();
    static INSTALL: Once = Once::new();
    // Another `log` backend in the same process (an app embedding two Rust libraries) keeps
    // its place; then this SDK's lines go there instead.
    INSTALL.call_once(|| {
        let _ = log::set_logger(&FORWARDER);
    });
    let mut target = FORWARDER
        .target
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    log::set_max_level(match logger {
        Some(_) => level.filter(),
        None => log::LevelFilter::Off,
    });
    *target = logger;
}

/// The `log` backend: forwards to the app's logger, if any.
struct Forwarder {
    target: RwLock<Option<Arc<dyn Logger>>>,
}

static FORWARDER: Forwarder = Forwarder {
    target: RwLock::new(None),
};

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let target = self
            .target
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(logger) = target.as_ref() {
            let message = record.args().to_string();
            // A logger that throws (or panics) must not fail the SDK call that logged, nor let
            // its text through as a panic message: the line is dropped.
            let _ = crate::panics::contained(|| logger.log(LogLevel::of(record.level()), message));
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Lines(Mutex<Vec<(LogLevel, String)>>);
    impl Logger for Lines {
        fn log(&self, level: LogLevel, message: String) {
            self.0.lock().unwrap().push((level, message));
        }
    }

    #[test]
    fn lines_below_the_chosen_level_are_dropped_and_none_stops_logging() {
        let lines = Arc::new(Lines::default());
        set_logger(Some(lines.clone()), LogLevel::Info);
        log::debug!("debug");
        log::warn!("warn {}", 1);
        set_logger(None, LogLevel::Debug);
        log::error!("after");
        assert_eq!(
            *lines.0.lock().unwrap(),
            vec![(LogLevel::Warn, "warn 1".to_string())]
        );
    }
}
