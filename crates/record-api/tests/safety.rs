//! Regression tests: what must never be retried, fetched, quoted or printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use record_api::{
    BaseUrl, Decision, Error, RetryPolicy, TransportError, TransportErrorKind, error_for_status,
    http, storage_link_request,
};
use record_model::StorageLink;

fn link(url: &str) -> StorageLink {
    serde_json::from_value(serde_json::json!({ "record_url": url })).unwrap()
}

#[test]
fn plain_http_links_reach_loopback_hosts_only() {
    // Defect: a string-prefix check let these look like loopback.
    for url in [
        "http://localhost.evil.example/key",
        "http://127.evil.example/key",
        "http://127.0.0.1.nip.io/key",
        "http://[::1].evil.example/key",
        "http://[::1]evil.example/key",
        "http://[::2]/key",
        "ftp://127.0.0.1/key",
        "not a url",
    ] {
        let error = storage_link_request(&link(url), None, false).unwrap_err();
        assert!(!error.to_string().contains("key"), "{url}: {error}");
    }
    for url in [
        "http://127.0.0.1:8080/key",
        "http://127.1.2.3/key",
        "http://LOCALHOST:1/key",
        "http://[::1]:9/key",
        "https://storage.example.org/key",
    ] {
        let request = storage_link_request(&link(url), None, false).unwrap();
        assert!(request.headers().get(http::header::AUTHORIZATION).is_none());
    }
    assert!(storage_link_request(&link("http://10.0.0.5/key"), None, true).is_ok());
}

#[test]
fn base_urls_use_the_same_host_check() {
    assert!(
        BaseUrl::parse("http://127.0.0.1:8080")
            .unwrap()
            .is_loopback()
    );
    assert!(
        !BaseUrl::parse("http://localhost.evil.example")
            .unwrap()
            .is_loopback()
    );
    assert!(
        !BaseUrl::parse("http://127.0.0.1.nip.io")
            .unwrap()
            .is_loopback()
    );
}

#[test]
fn a_password_in_a_base_url_is_never_quoted() {
    for text in [
        "https://user:hunter2-pass@api.example.org",
        "https://user:hunter2-pass@api.example.org/ prefix with space",
        "ftp://user:hunter2-pass@api.example.org",
        "https://user:hunter2-pass@",
    ] {
        let error = BaseUrl::parse(text).unwrap_err();
        assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
    }
}

#[test]
fn errors_that_cannot_succeed_are_final() {
    let policy = RetryPolicy::default();
    for kind in [
        TransportErrorKind::Request,
        TransportErrorKind::BodyTooLarge,
    ] {
        let error = Error::Transport(TransportError::new(kind, false));
        assert_eq!(
            policy.decide(1, &error, true, 0.5),
            Decision::Stop,
            "{kind:?}"
        );
    }
    let io = Error::Transport(TransportError::new(TransportErrorKind::Io, true));
    assert!(matches!(
        policy.decide(1, &io, true, 0.5),
        Decision::Retry { .. }
    ));
}

#[test]
fn echoed_secrets_are_redacted_and_messages_bounded() {
    let body =
        br#"{"status": "bad tok3n-abcdef", "message": "tok3n-abcdef for client s3cret-value"}"#;
    let error = error_for_status(http::StatusCode::BAD_REQUEST, &http::HeaderMap::new(), body)
        .unwrap()
        .redact(&["tok3n-abcdef", "s3cret-value", ""]);
    let shown = format!("{error} {error:?}");
    assert!(
        !shown.contains("tok3n") && !shown.contains("s3cret"),
        "{shown}"
    );
    assert!(shown.contains("[redacted]"));

    let huge = format!(r#"{{"message": "{}"}}"#, "x".repeat(10_000_000));
    let error = error_for_status(
        http::StatusCode::INTERNAL_SERVER_ERROR,
        &http::HeaderMap::new(),
        huge.as_bytes(),
    )
    .unwrap();
    assert!(error.to_string().len() < 600, "{}", error.to_string().len());
}

#[test]
fn base_urls_are_written_in_one_form() {
    let cases = [
        ("HTTPS://API.Example.ORG:443/", "https://api.example.org"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://[::1]:9/x//y/", "http://[::1]:9/x/y"),
        (
            "https://pbx.example.org/a b",
            "https://pbx.example.org/a%20b",
        ),
        (
            "https://pbx.example.org:8443",
            "https://pbx.example.org:8443",
        ),
    ];
    for (text, written) in cases {
        assert_eq!(BaseUrl::parse(text).unwrap().as_str(), written, "{text}");
    }
    assert!(BaseUrl::parse("http://[::1]:9").unwrap().is_loopback());
    // The resolver reads 127.1 as 127.0.0.1: one rule, shared with the transport's proxy rule.
    assert!(BaseUrl::parse("http://127.1:9").unwrap().is_loopback());
    let idn = BaseUrl::parse("https://пример.рф").unwrap_err();
    assert!(idn.to_string().contains("xn--"), "{idn}");
    for bad in [
        "https://",
        "https:///path",
        "example.org",
        "https://h?x=1",
        "https://h#f",
    ] {
        assert!(BaseUrl::parse(bad).is_err(), "{bad}");
    }
}
