//! The built-in transport (feature `http`) against a small HTTP/1.1 server on loopback: the
//! request goes out exactly as given, every status is an answer, and the size and time limits
//! of the `Transport` contract hold.
#![cfg(feature = "http")]

use fraudshield_core::sync::transport::{HttpMethod, HttpRequest, Transport, TransportError};
use fraudshield_ffi::builtin_http_transport;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// What the server saw: the request line, the headers (lower-cased names) and the body.
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Serves one connection: reads a request, sends it to the test, answers with `response`
/// (raw bytes) unless `hang` (then holds the connection open until the client gives up).
fn serve_once(response: Vec<u8>, hang: bool) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let seen = read_request(&stream);
        let _ = tx.send(seen);
        let mut stream = stream;
        if hang {
            // Bounded: the client's timeout (well below this) ends the exchange first.
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            let _ = stream.read(&mut [0u8; 1]);
        } else {
            let _ = stream.write_all(&response);
        }
    });
    (url, rx)
}

fn read_request(stream: &TcpStream) -> Seen {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let _ = reader.read_line(&mut line);
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = h.trim_end().split_once(':') {
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    Seen {
        line: line.trim_end().to_owned(),
        headers,
        body,
    }
}

fn transport() -> std::sync::Arc<dyn Transport> {
    builtin_http_transport().expect("transport")
}

#[test]
fn a_get_carries_its_headers_and_any_status_is_an_answer() {
    let (url, seen) = serve_once(
        b"HTTP/1.1 304 Not Modified\r\nETag: \"r7\"\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
        false,
    );
    let response = transport()
        .send(
            HttpRequest::get(&format!("{url}v1/manifest"), 1024, 10_000)
                .with_header("If-None-Match", "\"r6\""),
        )
        .expect("an answer");
    assert_eq!(response.status, 304);
    assert_eq!(response.header("etag"), Some("\"r7\""));
    assert_eq!(response.retry_after_secs(), Some(30));
    let seen = seen
        .recv_timeout(Duration::from_secs(10))
        .expect("request seen");
    assert_eq!(seen.line, "GET /v1/manifest HTTP/1.1");
    assert!(
        seen.headers
            .contains(&("if-none-match".into(), "\"r6\"".into()))
    );
}

#[test]
fn a_post_sends_its_body_and_reads_the_answer() {
    let (url, seen) = serve_once(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy".to_vec(),
        false,
    );
    let request = HttpRequest {
        method: HttpMethod::Post,
        body: br#"{"kind":"phone"}"#.to_vec(),
        ..HttpRequest::get(&format!("{url}v1/reports"), 1024, 10_000)
    }
    .with_header("Content-Type", "application/json");
    let response = transport().send(request).expect("an answer");
    assert_eq!(
        (response.status, response.body.as_slice()),
        (503, &b"busy"[..])
    );
    let seen = seen
        .recv_timeout(Duration::from_secs(10))
        .expect("request seen");
    assert_eq!(seen.line, "POST /v1/reports HTTP/1.1");
    assert_eq!(seen.body, br#"{"kind":"phone"}"#);
}

#[test]
fn bodies_over_the_limit_are_refused_by_length_or_while_reading() {
    let (url, _seen) = serve_once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
            .iter()
            .chain(&[b'x'; 100])
            .copied()
            .collect(),
        false,
    );
    let result = transport().send(HttpRequest::get(&url, 10, 10_000));
    assert_eq!(result, Err(TransportError::TooLarge));

    // No length announced: counted while reading.
    let (url, _seen) = serve_once(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
            .iter()
            .chain(&[b'x'; 100])
            .copied()
            .collect(),
        false,
    );
    let result = transport().send(HttpRequest::get(&url, 10, 10_000));
    assert_eq!(result, Err(TransportError::TooLarge));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let (url, _seen) = serve_once(Vec::new(), true);
    let result = transport().send(HttpRequest::get(&url, 1024, 300));
    assert_eq!(result, Err(TransportError::Timeout));
}

#[test]
fn connection_errors_name_no_url() {
    // A port nothing listens on (bound, then closed).
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}/v1/artifacts/secret-name");
    match transport().send(HttpRequest::get(&url, 1024, 10_000)) {
        Err(TransportError::Connection { reason }) => {
            assert!(
                !reason.contains("secret-name") && !reason.contains("127.0.0.1"),
                "{reason}"
            )
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}
