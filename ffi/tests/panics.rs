//! A panic inside an exported method reaches the app through uniffi's call wrapper (the code
//! every generated `extern "C"` function runs) as an "unexpected error" whose message is one
//! fixed text: never the panic's own message, which here holds a phone number.

use fraudshield_core::release::keys::{KeySet, SigningKey};
use fraudshield_core::sync::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use fraudshield_ffi::{Shield, UniFfiTag, shield_config};
use std::mem::ManuallyDrop;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use uniffi::{Lift, RustCallStatus, RustCallStatusCode};

const NUMBER: &str = "13800138000";

/// A transport with a bug: it panics, and its panic message names a phone number.
struct PanickingTransport;
impl Transport for PanickingTransport {
    fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
        panic!("no route for +86{NUMBER}");
    }
}

/// Runs `call` the way the generated scaffolding does; returns the status code and the message
/// the app would see.
fn through_uniffi(call: impl FnOnce()) -> (RustCallStatusCode, String) {
    let mut status = RustCallStatus::default();
    uniffi::rust_call(
        &mut status,
        AssertUnwindSafe(|| {
            call();
            Ok(())
        }),
    );
    let message = <String as Lift<UniFfiTag>>::try_lift(ManuallyDrop::into_inner(status.error_buf))
        .expect("a message string");
    (status.code, message)
}

fn shield(dir: &std::path::Path) -> Arc<Shield> {
    let key = SigningKey::generate().expect("key");
    let trust = KeySet::new(vec![key.public()], 1).expect("key set");
    let config = shield_config("https://lists.invalid/cn/", &trust.to_trust_file());
    Shield::open(&dir.to_string_lossy(), config).expect("open")
}

#[test]
fn a_panic_in_an_exported_method_reaches_the_app_without_its_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shield = shield(dir.path());

    let (code, message) = through_uniffi(|| {
        let _ = shield.sync(Arc::new(PanickingTransport));
    });
    assert_eq!(code, RustCallStatusCode::UnexpectedError);
    assert!(
        !message.contains(NUMBER),
        "the panic text crossed: {message}"
    );
    assert!(
        message.starts_with("fraudshield: internal error"),
        "{message}"
    );

    // The shield still answers after the failed call.
    assert!(
        shield
            .check_call(
                "+86 138 0013 8000",
                fraudshield_core::verdict::Direction::Incoming
            )
            .is_ok()
    );
}

#[test]
fn without_the_guard_uniffi_would_pass_the_text_on() {
    // The control: the same panic, not through an exported method, arrives verbatim. This is
    // what the guard in every exported method prevents (and shows the check above can fail).
    let (code, message) = through_uniffi(|| {
        let _ = PanickingTransport.send(HttpRequest::get("https://lists.invalid/", 1, 1));
    });
    assert_eq!(code, RustCallStatusCode::UnexpectedError);
    assert!(message.contains(NUMBER), "{message}");
}
