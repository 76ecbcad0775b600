//! A call that cannot reach the server says where it was going and why, in one line, with
//! both clients and their built-in transports: a refused port, a name that cannot be resolved,
//! TLS spoken to a plain-HTTP port. Only loopback is contacted (the unresolvable name has a
//! label too long for DNS, so the resolver refuses it without a query).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use telphin_records::{
    ClientBuilder, ClientId, Credentials, Period, RetryPolicy, Scope, TransportErrorKind,
};
use telphin_records_tests::{Env, runtime};

/// A loopback port nothing listens on.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The messages of one stats call to `base_url`, from the blocking and the async client.
fn failures(base_url: &str) -> [(TransportErrorKind, String); 2] {
    failures_with(base_url, || Credentials::access_token("token"))
}

/// The same with `credentials`.
fn failures_with(
    base_url: &str,
    credentials: impl Fn() -> Credentials,
) -> [(TransportErrorKind, String); 2] {
    let builder = || {
        ClientBuilder::new(credentials())
            .base_url(base_url)
            .allow_insecure_http(true)
            .retry_policy(RetryPolicy::never())
    };
    let scope = Scope::client(ClientId::Me);
    let period = Period::month(2024, 3).unwrap();
    let kind = |error: &telphin_records::Error| match error {
        telphin_records::Error::Transport(transport) => transport.kind(),
        other => panic!("not a transport error: {other}"),
    };
    let blocking = builder()
        .build_blocking()
        .unwrap()
        .stats(scope, period)
        .unwrap_err();
    let async_error = runtime().block_on(async {
        builder()
            .build_async()
            .unwrap()
            .stats(scope, period)
            .await
            .unwrap_err()
    });
    [
        (kind(&blocking), blocking.to_string()),
        (kind(&async_error), async_error.to_string()),
    ]
}

#[test]
fn a_refused_port_names_the_host_and_says_refused() {
    let port = refused_port();
    for (kind, message) in failures(&format!("http://127.0.0.1:{port}")) {
        assert_eq!(kind, TransportErrorKind::Connect, "{message}");
        assert_eq!(
            message,
            format!(
                "transport error: could not connect to 127.0.0.1:{port}: connection refused \
                 (the request was not sent)"
            )
        );
    }
}

/// The token request's failure, handed to every caller that waited for it, keeps its host and
/// cause too.
#[test]
fn a_token_request_that_cannot_connect_names_the_host() {
    let port = refused_port();
    let base = format!("http://127.0.0.1:{port}");
    let credentials = || Credentials::client_credentials("app", "app-secret");
    for (kind, message) in failures_with(&base, credentials) {
        assert_eq!(kind, TransportErrorKind::Connect, "{message}");
        assert!(
            message.contains(&format!(
                "could not connect to 127.0.0.1:{port}: connection refused"
            )),
            "{message}"
        );
        assert!(!message.contains("app-secret"), "{message}");
    }
}

#[test]
fn a_name_that_cannot_be_resolved_is_named_with_the_resolvers_answer() {
    let host = format!("{}.invalid", "x".repeat(64));
    for (kind, message) in failures(&format!("http://{host}:8080")) {
        assert_eq!(kind, TransportErrorKind::Connect, "{message}");
        assert!(
            message.starts_with(&format!(
                "transport error: could not connect to {host}:8080: "
            )),
            "{message}"
        );
        let cause = message.rsplit_once(": ").unwrap().1.to_lowercase();
        assert!(
            cause.contains("not known") || cause.contains("lookup") || cause.contains("dns"),
            "{message}"
        );
        assert!(!message.contains('\n'), "one line: {message}");
    }
}

#[test]
fn tls_to_a_plain_http_port_says_so() {
    let env = Env::start();
    let plain = env.sim.base_url();
    let tls = plain.replacen("http://", "https://", 1);
    let port = plain.rsplit(':').next().unwrap().trim_end_matches('/');
    for (kind, message) in failures(&tls) {
        assert_eq!(kind, TransportErrorKind::Connect, "{message}");
        assert!(
            message.contains(&format!("could not connect to 127.0.0.1:{port}: ")),
            "{message}"
        );
        assert!(
            message.contains("does this port speak plain HTTP?"),
            "{message}"
        );
    }
}
